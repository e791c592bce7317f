# ---
# jupyter:
#   jupytext:
#     formats: py:percent
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # Gallery: every activation in the registry
#
# Each panel shows a registry entry `f` (solid) and its derivative `f'` (dashed), both
# computed by jaxact: the derivative is `jax.grad` of the function, i.e. its hand-written
# `custom_jvp` rule. The list is read from `ja.names()`, so a newly registered function
# appears here without editing the notebook. Entries that are not elementwise are drawn
# as a function of one input coordinate:
#
# - *gated* (`glu`, `swiglu`, ...): the input is `[x, x]`, so the curve is `x · gate(x)`;
# - *normalizer* (`softmax`, `logsumexp`, ...): the input is `[x, 0]` and the first output
#   is plotted (for `logsumexp`, the scalar);
# - *concatenated* (`crelu`): the first of the two outputs of `[x]`.
#
# Parametric entries use the sample parameters stored in their registry entry.

# %%
import os

import jax
import jax.numpy as jnp
import matplotlib.pyplot as plt
import numpy as np

import jaxact as ja

QUICK = os.environ.get("JAXACT_NB_QUICK") == "1"
N_POINTS = 61 if QUICK else 401
FIGURES = os.environ.get("JAXACT_NB_FIGURES")  # a folder: save the figures there too


# %%
def scalar_fn(entry: ja.Entry):
    """x ↦ f(x) as a scalar function, whatever the entry's kind."""
    fn, kw = entry.fn, dict(entry.sample)
    if entry.kind == "elementwise":
        return lambda x: fn(x, **kw)
    if entry.kind == "gated":
        return lambda x: fn(jnp.stack([x, x]), **kw)[0]
    if entry.kind == "normalizer":
        return lambda x: jnp.ravel(fn(jnp.stack([x, jnp.zeros_like(x)]), **kw))[0]
    if entry.kind == "concatenated":
        return lambda x: fn(x[None], **kw)[0]
    raise ValueError(f"{entry.name}: no plotting rule for kind {entry.kind!r}")


def curves(entry: ja.Entry) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    lo, hi = max(entry.domain[0], -5.0), min(entry.domain[1], 5.0)
    if lo == entry.domain[0]:  # open domain boundary (log1mexp at 0): start just inside
        lo = lo + (hi - lo) / (N_POINTS - 1)
    x = jnp.linspace(lo, hi, N_POINTS, dtype=jnp.float32)
    y, dy = jax.vmap(jax.value_and_grad(scalar_fn(entry)))(x)
    return np.asarray(x), np.asarray(y), np.asarray(dy)


names = ja.names()
# Op by op: compiling ~80 tiny programs (one per entry and derivative) takes longer than
# running their few dozen points eagerly; the custom_jvp rules are used either way.
with jax.disable_jit():
    data = {name: curves(ja.entry(name)) for name in names}
print(f"{len(names)} registry entries plotted")

# %%
cols = 8
rows = -(-len(names) // cols)
fig, axes = plt.subplots(rows, cols, figsize=(2.2 * cols, 1.9 * rows), sharex=False)
for ax, name in zip(axes.flat, names, strict=False):
    x, y, dy = data[name]
    ax.plot(x, y, lw=1.4, label="f")
    ax.plot(x, dy, lw=1.0, ls="--", label="f'")
    ax.axhline(0, color="0.8", lw=0.5)
    ax.axvline(0, color="0.8", lw=0.5)
    ax.set_title(f"{name} ({ja.entry(name).kind[:4]})", fontsize=8)
    ax.tick_params(labelsize=6)
    lim = np.nanmax(np.abs(np.concatenate([y, dy])[np.isfinite(np.concatenate([y, dy]))]))
    ax.set_ylim(-min(lim, 6) * 1.1, min(lim, 6) * 1.1)
for ax in axes.flat[len(names) :]:
    ax.axis("off")
axes.flat[0].legend(fontsize=6)
fig.tight_layout()
if FIGURES:
    fig.savefig(os.path.join(FIGURES, "gallery.png"), dpi=40)

# %% [markdown]
# ## Properties table
#
# Read from the registry entries; `kinks` lists the points where the derivative jumps
# and the gradient jaxact returns there.


# %%
def fmt_range(r: tuple[float, float]) -> str:
    return f"({r[0]:.3g}, {r[1]:.3g})"


rows_ = []
for name in names:
    e = ja.entry(name)
    kinks = ", ".join(f"f'({k.at:g})={k.grad:g}" for k in e.kinks) or "—"
    rows_.append(
        [name, e.kind, fmt_range(e.range), str(e.monotonic), str(e.smooth), kinks, e.source]
    )
header = ["name", "kind", "range", "monotonic", "smooth", "kinks", "source"]
widths = [max(len(r[i]) for r in [header, *rows_]) for i in range(len(header))]
for r in [header, ["-" * w for w in widths], *rows_]:
    print("  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)))

# %% [markdown]
# Entries whose value or derivative is not finite somewhere on the plotted grid:

# %%
bad = [n for n, (_, y, dy) in data.items() if not (np.isfinite(y).all() and np.isfinite(dy).all())]
print("entries with a non-finite value or derivative on [-5, 5]:", bad or "none")
