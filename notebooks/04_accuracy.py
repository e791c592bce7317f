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
# # Numerical accuracy: jaxact vs jax.nn
#
# Values and derivatives of a few activations in float32, compared with mpmath at 40
# significant digits, over magnitudes from 1e-3 to 1e4 of both signs. The error is in
# units in the last place (ulp) of the true float32 result (a subnormal true result
# returned as a subnormal or 0 counts as exact, as in jaxact's accuracy bar); the floor
# of each plot is 0.01 ulp so that exact results stay visible on the log scale. At the
# end we list where jax.nn's derivative is exactly zero although the true derivative is
# a normal float32 number (the gradient vanishes although it should not).

# %%
import os

import jax
import jax.numpy as jnp
import matplotlib.pyplot as plt
import mpmath as mp
import numpy as np

import jaxact as ja

QUICK = os.environ.get("JAXACT_NB_QUICK") == "1"
N = 60 if QUICK else 600  # points per sign
FIGURES = os.environ.get("JAXACT_NB_FIGURES")
mp.mp.dps = 40
TINY = np.finfo(np.float32).tiny  # smallest normal float32, 2**-126

C = mp.sqrt(2 / mp.pi)
REFERENCES = {  # name: mpmath function of one mpf
    "sigmoid": lambda x: 1 / (1 + mp.exp(-x)),
    "tanh": mp.tanh,
    "softplus": lambda x: mp.log1p(mp.exp(x)),
    "silu": lambda x: x / (1 + mp.exp(-x)),
    "elu": lambda x: x if x > 0 else mp.expm1(x),
    # tanh approximation; x/2·(1 + tanh z) written as x/(1 + e^{-2z}), which does not
    # cancel to 0 at 40 digits for large negative x
    "gelu": lambda x: x / (1 + mp.exp(-2 * C * (x + mp.mpf("0.044715") * x**3))),
}

mags = np.logspace(-3, 4, N, dtype=np.float32)
x = np.concatenate([-mags[::-1], mags]).astype(np.float32)


def ulp(v: np.ndarray) -> np.ndarray:
    return np.spacing(np.abs(v).astype(np.float32)).astype(np.float64)


def reference(name: str) -> tuple[np.ndarray, np.ndarray]:
    f = REFERENCES[name]
    vals = [f(mp.mpf(float(xi))) for xi in x]
    ders = [mp.diff(f, mp.mpf(float(xi))) if xi != 0 else mp.diff(f, 0) for xi in x]
    # rounded to float32 once, so that "ulp of the true value" is well defined
    to32 = lambda vs: np.array([float(v) for v in vs]).astype(np.float32).astype(np.float64)
    return to32(vals), to32(ders)


def errors(fn, true_v, true_d):
    xs = jnp.asarray(x)
    v = np.asarray(fn(xs), np.float64)
    d = np.asarray(jax.vmap(jax.grad(fn))(xs), np.float64)
    with np.errstate(invalid="ignore"):
        ev = np.abs(v - true_v) / ulp(true_v)
        ed = np.abs(d - true_d) / ulp(true_d)
    # NaN or inf where the truth is finite counts as an infinite error
    ev[~np.isfinite(v)] = np.inf
    ed[~np.isfinite(d)] = np.inf
    # the accuracy bar lets a subnormal true result come back as any subnormal or 0
    ev[(np.abs(true_v) < TINY) & (np.abs(v) < TINY)] = 0
    ed[(np.abs(true_d) < TINY) & (np.abs(d) < TINY)] = 0
    return ev, ed, d


results = {}
for name in REFERENCES:
    tv, td = reference(name)
    results[name] = {
        "jaxact": errors(ja.get(name), tv, td),
        "jax.nn": errors(getattr(jax.nn, name), tv, td),
        "true_d": td,
    }

# %%
fig, axes = plt.subplots(2, len(REFERENCES), figsize=(3.1 * len(REFERENCES), 5.2), sharex=True)
for col, name in enumerate(REFERENCES):
    for row, what in enumerate(["value", "derivative"]):
        ax = axes[row, col]
        for lib, style in [("jax.nn", dict(color="C3")), ("jaxact", dict(color="C0"))]:
            err = np.clip(results[name][lib][row], 1e-2, 1e9)
            ax.plot(x, err, ".", ms=2, label=lib, **style)
        ax.set_xscale("symlog", linthresh=1e-3)
        ax.set_xticks([-1e4, -1e2, -1, 0, 1, 1e2, 1e4], ["-1e4", "", "-1", "0", "1", "", "1e4"])
        ax.set_yscale("log")
        ax.set_ylim(5e-3, 2e9)
        ax.set_title(f"{name}: {what}", fontsize=9)
        ax.tick_params(labelsize=7)
axes[0, 0].set_ylabel("error (ulp)")
axes[1, 0].set_ylabel("error (ulp)")
axes[0, 0].legend(fontsize=7, markerscale=4)
fig.suptitle("float32 error vs mpmath, clipped to [1e-2, 1e9] ulp (NaN or inf: at the top)")
fig.tight_layout()
if FIGURES:
    fig.savefig(os.path.join(FIGURES, "accuracy.png"), dpi=60)

# %% [markdown]
# Worst error (ulp) over the grid, and the inputs where a derivative comes back as
# exactly 0 although the true float32 derivative is a normal number (≥ 2⁻¹²⁶). Near a
# zero of a derivative (located with mpmath below) an ulp of the true value is tiny, so a
# large ulp count there says little; jaxact's accuracy suite (`tests/test_accuracy.py`)
# measures those points in units of the conditioning instead.

# %%
for name, r in results.items():  # sign changes of the true derivative on the grid
    for i in np.flatnonzero(np.sign(r["true_d"][:-1]) * np.sign(r["true_d"][1:]) < 0):
        slope = lambda t, f=REFERENCES[name]: mp.diff(f, t)
        zero = mp.findroot(slope, (x[i], x[i + 1]), "anderson")
        print(f"{name}'(x) = 0 at x = {float(zero):.4f}")
print()
print(f"{'function':<9} {'value ja':>9} {'value nn':>9} {'deriv ja':>9} {'deriv nn':>9}")
for name, r in results.items():
    worst = [np.max(r[lib][i]) for i in (0, 1) for lib in ("jaxact", "jax.nn")]
    print(f"{name:<9} " + " ".join(f"{w:>9.3g}" for w in (worst[0], worst[1], worst[2], worst[3])))

print()
for name, r in results.items():
    for lib in ("jax.nn", "jaxact"):
        vanished = (r[lib][2] == 0) & (np.abs(r["true_d"]) >= TINY)
        if vanished.any():
            xs = x[vanished]
            print(
                f"{lib} {name}'(x) = 0 at {vanished.sum()} of {len(x)} points, "
                f"|x| from {np.abs(xs).min():.3g} (true derivative there: "
                f"{r['true_d'][vanished][np.argmin(np.abs(xs))]:.3g})"
            )
        else:
            print(f"{lib} {name}: no vanished derivative")
