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
# # Learnable activations on Fashion-MNIST
#
# jaxact's classic CNN (`jaxact.training.make_model("cnn", ...)`: three 3×3 convolutions
# and a dense layer, each followed by its own activation layer) is trained on
# Fashion-MNIST three times with `jaxact.training.train`, once with each of three
# learnable activation layers from `jaxact.nnx`:
#
# - **`PReLU`**: `ja.prelu(x, alpha)`, the slope α of the negative side is learned;
# - **`Swish`** (Swish-β): `ja.silu(x, beta=β)` = x·σ(βx), β is learned;
# - **`Rational`** (PAU): `ja.rational(x, numerator=p, denominator=q)`, a ratio of
#   polynomials whose coefficients are all learned, initialised with a fit to leaky ReLU.
#
# The layers are thin shells: they own the parameters and call the pure function. So the
# learned shapes below are drawn by calling the pure functions with the parameters the
# training run reports for each layer. Data: `jaxact.datasets.load("fashion_mnist")`.

# %%
import os
import types

import jax.numpy as jnp
import matplotlib.pyplot as plt
import numpy as np
from flax import nnx

import jaxact as ja
import jaxact.nnx as jnnx
from jaxact import datasets, training

QUICK = os.environ.get("JAXACT_NB_QUICK") == "1"
# A small budget: jaxact.rational's parameter gradients make the PAU run the slowest.
N_TRAIN = 256 if QUICK else 12800
N_TEST = 256 if QUICK else 2000
CONFIG = training.Config(
    model="cnn",
    epochs=1 if QUICK else 2,
    batch_size=32 if QUICK else 128,
    eval_batch=256 if QUICK else 1000,
    diag_batch=32 if QUICK else 256,
)
FIGURES = os.environ.get("JAXACT_NB_FIGURES")

full = datasets.load("fashion_mnist")
data = types.SimpleNamespace(
    train_images=full.train_images[:N_TRAIN],
    train_labels=full.train_labels[:N_TRAIN],
    test_images=full.test_images[:N_TEST],
    test_labels=full.test_labels[:N_TEST],
)
steps = CONFIG.epochs * (len(data.train_images) // CONFIG.batch_size)
print(
    f"{full.name} from {full.source}: training on {len(data.train_images)} images "
    f"for {CONFIG.epochs} epoch(s), {steps} steps of batch {CONFIG.batch_size}; "
    f"testing on {len(data.test_images)}"
)

# %% [markdown]
# Each layer class, the registry function it calls, and the initial parameters of a
# fresh layer (what every activation site of the CNN starts from). The last column checks
# that the layer and the pure function with the layer's parameters agree.

# %%
LAYERS = {  # title: (layer class, the registry function it wraps)
    "PReLU": (jnnx.PReLU, "prelu"),
    "Swish-β": (jnnx.Swish, "silu"),
    "Rational (PAU)": (jnnx.Rational, "rational"),
}
grid = jnp.linspace(-4, 4, 201)


def params_of(layer: nnx.Module) -> dict[str, np.ndarray]:
    """The layer's parameters by name: the pure function's keyword arguments."""
    return {k: np.asarray(v) for k, v in nnx.to_pure_dict(nnx.state(layer, nnx.Param)).items()}


def shape(fn_name: str, params: dict) -> np.ndarray:
    """The activation drawn from its parameters with the pure registry function."""
    return np.asarray(ja.get(fn_name)(grid, **{k: jnp.asarray(v) for k, v in params.items()}))


initial = {}
for title, (cls, fn_name) in LAYERS.items():
    layer = cls(rngs=nnx.Rngs(0))
    initial[title] = params_of(layer)
    gap = np.max(np.abs(np.asarray(layer(grid)) - shape(fn_name, initial[title])))
    rounded = {k: np.round(v.astype(np.float64), 4).tolist() for k, v in initial[title].items()}
    print(f"{cls.__module__}.{cls.__name__} -> ja.{fn_name}  {rounded}  |layer - fn| = {gap:g}")

fit_error = np.max(np.abs(shape("rational", initial["Rational (PAU)"]) - ja.leaky_relu(grid)))
print(f"initial rational vs leaky_relu on [-4, 4]: max |difference| {fit_error:.3g}")

# %% [markdown]
# Training: `jaxact.training.train` takes the layer class, builds the CNN with one layer
# instance per activation site (`act1` … `act4`), trains it with the default recipe
# (AdamW, warm-up then cosine decay, label smoothing, flips and shifts) and reports each
# epoch's test accuracy and the parameters of every activation layer.

# %%
runs = {}
for title, (cls, _) in LAYERS.items():
    history = training.train(data, cls, CONFIG, log=print)
    runs[title] = history["epochs"][-1]

# %%
fig, axes = plt.subplots(1, len(LAYERS), figsize=(4 * len(LAYERS), 3.4))
for ax, (title, (_, fn_name)) in zip(axes, LAYERS.items(), strict=True):
    last = runs[title]
    ax.plot(grid, shape(fn_name, initial[title]), "k--", lw=1, label="initial")
    for site, params in last["learnable"].items():
        ax.plot(grid, shape(fn_name, params), lw=1.2, label=f"learned, {site}")
    ax.set_title(f"{title}: test accuracy {last['test_acc']:.3f}", fontsize=10)
    ax.axhline(0, color="0.8", lw=0.5)
    ax.axvline(0, color="0.8", lw=0.5)
    ax.set_ylim(-2, 4.5)
axes[0].legend(fontsize=8)
fig.suptitle(f"Learned activation shapes after {steps} steps (batch {CONFIG.batch_size})")
fig.tight_layout()
if FIGURES:
    fig.savefig(os.path.join(FIGURES, "learnable.png"), dpi=70)

# %% [markdown]
# The learned parameters of each activation site, how far the learned shape moved from
# the initial one on [-4, 4], and the test accuracy of each run:

# %%
for title, (_, fn_name) in LAYERS.items():
    last = runs[title]
    print(f"{title}: test accuracy {last['test_acc']:.4f}")
    for site, params in last["learnable"].items():
        moved = np.max(np.abs(shape(fn_name, params) - shape(fn_name, initial[title])))
        rounded = {k: np.round(v, 3).tolist() for k, v in params.items()}
        print(f"    {site}: {rounded}  max |learned - initial| = {moved:.3g}")
