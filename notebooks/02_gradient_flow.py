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
# # Vanishing and exploding gradients
#
# A deep, narrow MLP (LeCun-normal weights, zero biases) learns a fixed random teacher
# network's outputs. For each activation we measure the norm of the loss gradient with
# respect to every layer's weights, at initialisation and after some steps of Adam. The
# backward pass multiplies the gradient by the activation's derivative once per layer, so
# a derivative bounded well below 1 tends to shrink it layer by layer towards the input;
# the largest derivative of each activation is printed first, the measured per-layer
# ratios at the end.

# %%
import os

import jax
import jax.numpy as jnp
import matplotlib.pyplot as plt
import numpy as np
import optax

import jaxact as ja

QUICK = os.environ.get("JAXACT_NB_QUICK") == "1"
DEPTH, WIDTH = (12, 32) if QUICK else (30, 64)
STEPS = 30 if QUICK else 500
BATCH = 128
FIGURES = os.environ.get("JAXACT_NB_FIGURES")
ACTIVATIONS = ["sigmoid", "tanh", "relu", "gelu", "selu"]


# %%
def init(key: jax.Array, sizes: list[int]) -> list[dict[str, jax.Array]]:
    keys = jax.random.split(key, len(sizes) - 1)
    return [
        {"w": jax.random.normal(k, (m, n)) / np.sqrt(m), "b": jnp.zeros(n)}
        for k, m, n in zip(keys, sizes[:-1], sizes[1:], strict=True)
    ]


def mlp(params, x, act):
    for layer in params[:-1]:
        x = act(x @ layer["w"] + layer["b"])
    return x @ params[-1]["w"] + params[-1]["b"]


sizes = [WIDTH] * (DEPTH + 1) + [1]
k_data, k_teacher, k_student = jax.random.split(jax.random.key(0), 3)
x_train = jax.random.normal(k_data, (1024, WIDTH))
teacher = init(k_teacher, [WIDTH, 64, 1])
y_train = mlp(teacher, x_train, jnp.tanh)


def run(name: str):
    act = ja.get(name)
    loss = lambda p, x, y: jnp.mean((mlp(p, x, act) - y) ** 2)
    opt = optax.adam(1e-3)

    @jax.jit
    def step(p, s, i):
        idx = jax.random.randint(jax.random.fold_in(k_data, i), (BATCH,), 0, len(x_train))
        value, g = jax.value_and_grad(loss)(p, x_train[idx], y_train[idx])
        u, s = opt.update(g, s, p)
        return optax.apply_updates(p, u), s, value

    grad_norms = jax.jit(
        lambda p: [jnp.linalg.norm(g["w"]) for g in jax.grad(loss)(p, x_train, y_train)]
    )
    p = init(k_student, sizes)
    s = opt.init(p)
    at_init = np.array(grad_norms(p))
    for i in range(STEPS):
        p, s, _ = step(p, s, i)
    return at_init, np.array(grad_norms(p)), float(loss(p, x_train, y_train))


# the largest derivative of each activation (jaxact's own gradient) on a fine grid
grid = jnp.linspace(-10, 10, 20001)
for name in ACTIVATIONS:
    slope = jax.vmap(jax.grad(ja.get(name)))(grid)
    print(f"max {name}'(x) over [-10, 10]: {float(slope.max()):.4g}")

results = {name: run(name) for name in ACTIVATIONS}

# %%
fig, axes = plt.subplots(1, 2, figsize=(10, 3.8), sharey=True)
for name, (g0, g1, _) in results.items():
    axes[0].semilogy(np.arange(1, len(g0) + 1), g0, marker=".", label=name)
    axes[1].semilogy(np.arange(1, len(g1) + 1), g1, marker=".", label=name)
axes[0].set_title("at initialisation")
axes[1].set_title(f"after {STEPS} Adam steps")
for ax in axes:
    ax.set_xlabel("layer (1 = input side)")
axes[0].set_ylabel("‖∂loss/∂W‖")
axes[1].legend()
fig.suptitle(f"Per-layer gradient norms, {DEPTH}-hidden-layer MLP of width {WIDTH}")
fig.tight_layout()
if FIGURES:
    fig.savefig(os.path.join(FIGURES, "gradient_flow.png"), dpi=70)

# %% [markdown]
# The ratio of the first to the last hidden layer's gradient norm summarises the plot
# (≪ 1: vanishing towards the input, ≫ 1: exploding):

# %%
print(f"{'activation':<10} {'ratio at init':>14} {'ratio trained':>14} {'final loss':>11}")
for name, (g0, g1, final) in results.items():
    print(f"{name:<10} {g0[0] / g0[-2]:>14.3g} {g1[0] / g1[-2]:>14.3g} {final:>11.4f}")
