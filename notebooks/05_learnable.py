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
# A small CNN is trained on Fashion-MNIST three times, each with a different learnable
# activation, and we plot the shapes the activations learned (one per layer) against
# their initial shapes:
#
# - **PReLU** `ja.prelu(x, alpha)`, slope α of the negative side learned (init 0.25);
# - **Swish-β** `ja.silu(x, beta=β)` = x·σ(βx), β learned (init 1);
# - **rational (PAU)** `ja.rational(x, numerator=p, denominator=q)`, a ratio of
#   polynomials of degree 5/4 with all coefficients learned, initialised with the
#   registry's sample coefficients (which approximate a leaky ReLU-like curve).
#
# The layers here are thin `flax.nnx` modules that own the parameter and call jaxact's
# pure, differentiable functions. Data: `jaxact.datasets.load("fashion_mnist")`.

# %%
import os

import jax.numpy as jnp
import matplotlib.pyplot as plt
import numpy as np
import optax
from flax import nnx

import jaxact as ja
from jaxact import datasets

QUICK = os.environ.get("JAXACT_NB_QUICK") == "1"
STEPS = 25 if QUICK else 1500
N_TEST = 500 if QUICK else 10000
BATCH = 64 if QUICK else 128
FIGURES = os.environ.get("JAXACT_NB_FIGURES")

data = datasets.load("fashion_mnist")
x_train = (data.train_images[..., None] / 255.0).astype(np.float32)
y_train = data.train_labels.astype(np.int32)
x_test = (data.test_images[:N_TEST, ..., None] / 255.0).astype(np.float32)
y_test = data.test_labels[:N_TEST].astype(np.int32)
print(f"{data.name} from {data.source}: {len(x_train)} training images")


# %%
class PReLU(nnx.Module):
    def __init__(self):
        self.alpha = nnx.Param(jnp.array(0.25))

    def __call__(self, x):
        return ja.prelu(x, self.alpha[...])


class Swish(nnx.Module):
    def __init__(self):
        self.beta = nnx.Param(jnp.array(1.0))

    def __call__(self, x):
        return ja.silu(x, beta=self.beta[...])


class Rational(nnx.Module):
    def __init__(self):
        sample = ja.entry("rational").sample
        self.numerator = nnx.Param(jnp.array(sample["numerator"]))
        self.denominator = nnx.Param(jnp.array(sample["denominator"]))

    def __call__(self, x):
        return ja.rational(x, numerator=self.numerator[...], denominator=self.denominator[...])


LEARNABLE = {"PReLU": PReLU, "Swish-β": Swish, "rational (PAU)": Rational}


class CNN(nnx.Module):
    def __init__(self, act, rngs: nnx.Rngs):
        self.conv1 = nnx.Conv(1, 16, (3, 3), rngs=rngs)
        self.conv2 = nnx.Conv(16, 32, (3, 3), rngs=rngs)
        self.dense = nnx.Linear(7 * 7 * 32, 10, rngs=rngs)
        self.acts = nnx.List([act(), act()])

    def __call__(self, x):
        x = nnx.avg_pool(self.acts[0](self.conv1(x)), (2, 2), (2, 2))
        x = nnx.avg_pool(self.acts[1](self.conv2(x)), (2, 2), (2, 2))
        return self.dense(x.reshape(x.shape[0], -1))


def loss_fn(model, x, y):
    return optax.softmax_cross_entropy_with_integer_labels(model(x), y).mean()


@nnx.jit
def train_step(model, optimizer, x, y):
    loss, grads = nnx.value_and_grad(loss_fn)(model, x, y)
    optimizer.update(model, grads)
    return loss


@nnx.jit
def accuracy(model, x, y):
    return (model(x).argmax(-1) == y).mean()


# %%
grid = jnp.linspace(-4, 4, 201)
results = {}
for name, act in LEARNABLE.items():
    model = CNN(act, nnx.Rngs(0))
    initial = np.asarray(model.acts[0](grid))
    optimizer = nnx.Optimizer(model, optax.adam(2e-3), wrt=nnx.Param)
    rng = np.random.default_rng(0)
    for _ in range(STEPS):
        idx = rng.integers(0, len(x_train), BATCH)
        train_step(model, optimizer, x_train[idx], y_train[idx])
    results[name] = {
        "accuracy": float(accuracy(model, x_test, y_test)),
        "initial": initial,
        "learned": [np.asarray(a(grid)) for a in model.acts],
        "params": {
            f"layer {i + 1} {k}": np.asarray(v[...], np.float64).round(3).tolist()
            for i, a in enumerate(model.acts)
            for k, v in nnx.state(a, nnx.Param).items()
        },
    }

# %%
fig, axes = plt.subplots(1, len(results), figsize=(4 * len(results), 3.4))
for ax, (name, r) in zip(axes, results.items(), strict=True):
    ax.plot(grid, r["initial"], "k--", lw=1, label="initial")
    for i, curve in enumerate(r["learned"]):
        ax.plot(grid, curve, label=f"learned, layer {i + 1}")
    ax.set_title(f"{name}: test accuracy {r['accuracy']:.3f}", fontsize=10)
    ax.axhline(0, color="0.8", lw=0.5)
    ax.axvline(0, color="0.8", lw=0.5)
axes[0].legend(fontsize=8)
fig.suptitle(f"Learned activation shapes after {STEPS} steps (batch {BATCH})")
fig.tight_layout()
if FIGURES:
    fig.savefig(os.path.join(FIGURES, "learnable.png"), dpi=70)

# %% [markdown]
# The learned parameters and test accuracy (on the first `N_TEST` test images) of each run:

# %%
for name, r in results.items():
    print(f"{name}: test accuracy {r['accuracy']:.4f}")
    for k, v in r["params"].items():
        print(f"    {k}: {v}")
