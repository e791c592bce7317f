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
# # Dead units
#
# A ReLU unit whose pre-activation is negative for every input outputs 0 and gets a zero
# gradient: once there, SGD never brings it back. Large steps can throw units there. We
# train an MLP on a synthetic regression task with plain SGD at several learning rates
# and count the hidden units that are negative on every held-out input. For `leaky_relu`,
# PReLU (a learnable slope per layer, `ja.prelu(x, alpha)`) and `elu` the negative side
# still has a non-zero slope, so such units still pass a gradient and can recover; we
# count them with the same criterion and also report the fraction of units whose gradient
# is exactly zero (truly dead). The sizes are printed below.

# %%
import os

import jax
import jax.numpy as jnp
import matplotlib.pyplot as plt
import numpy as np
import optax

import jaxact as ja

QUICK = os.environ.get("JAXACT_NB_QUICK") == "1"
WIDTH, DEPTH = (64, 3) if QUICK else (256, 3)
STEPS = 100 if QUICK else 1000
BATCH = 64
LEARNING_RATES = [0.01, 0.3, 3.0] if QUICK else [0.01, 0.03, 0.1, 0.3, 1.0, 3.0]
FIGURES = os.environ.get("JAXACT_NB_FIGURES")

ACTIVATIONS = {
    "relu": lambda x, p: ja.relu(x),
    "leaky_relu": lambda x, p: ja.leaky_relu(x),
    "prelu": lambda x, p: ja.prelu(x, p["alpha"]),
    "elu": lambda x, p: ja.elu(x),
}

# %%
k_x, k_t, k_test, k_init = jax.random.split(jax.random.key(0), 4)
IN = 16
x_train = jax.random.normal(k_x, (4096, IN))
x_test = jax.random.normal(k_test, (1024, IN))
w_teacher = jax.random.normal(k_t, (IN,)) / np.sqrt(IN)
target = lambda x: jnp.sin(3 * x @ w_teacher)[:, None]
y_train = target(x_train)
print(
    f"{DEPTH} hidden layers of {WIDTH} units, {STEPS} SGD steps of batch {BATCH} on "
    f"{len(x_train)} examples; {len(x_test)} held-out inputs"
)


def init(key):
    sizes = [IN] + [WIDTH] * DEPTH + [1]
    keys = jax.random.split(key, len(sizes) - 1)
    layers = [
        {"w": jax.random.normal(k, (m, n)) * np.sqrt(2 / m), "b": jnp.zeros(n)}
        for k, m, n in zip(keys, sizes[:-1], sizes[1:], strict=True)
    ]
    return {"layers": layers, "alpha": jnp.full((DEPTH,), 0.25)}


def forward(params, x, act):
    """Output and the list of hidden pre-activations."""
    pre = []
    for i, layer in enumerate(params["layers"][:-1]):
        z = x @ layer["w"] + layer["b"]
        pre.append(z)
        x = act(z, {"alpha": params["alpha"][i]})
    last = params["layers"][-1]
    return x @ last["w"] + last["b"], pre


def train(name):
    """(negative fraction, zero-gradient fraction, test loss) per learning rate."""
    act = ACTIVATIONS[name]
    loss = lambda p, x, y: jnp.mean((forward(p, x, act)[0] - y) ** 2)

    # One compiled program for all learning rates (vmapped), rather than one per rate.
    @jax.jit
    @jax.vmap
    def run(lr):
        # clipped so that large rates knock units out rather than overflow to NaN
        opt = optax.chain(optax.clip_by_global_norm(1.0), optax.sgd(lr))
        p = init(k_init)

        def step(carry, i):
            p, s = carry
            idx = jax.random.randint(jax.random.fold_in(k_x, i), (BATCH,), 0, len(x_train))
            g = jax.grad(loss)(p, x_train[idx], y_train[idx])
            u, s = opt.update(g, s, p)
            return (optax.apply_updates(p, u), s), None

        (p, _), _ = jax.lax.scan(step, (p, opt.init(p)), jnp.arange(STEPS))
        _, pre = forward(p, x_test, act)
        negative_everywhere = jnp.concatenate([jnp.all(z < 0, axis=0) for z in pre])
        # zero gradient w.r.t. every incoming weight of the unit, over the test inputs
        g = jax.grad(loss)(p, x_test, target(x_test))
        no_grad = jnp.concatenate([jnp.all(lw["w"] == 0, axis=0) for lw in g["layers"][:-1]])
        return negative_everywhere.mean(), no_grad.mean(), loss(p, x_test, target(x_test))

    return np.stack(run(jnp.array(LEARNING_RATES)), axis=1)


results = {}
for name in ACTIVATIONS:
    for lr, row in zip(LEARNING_RATES, train(name), strict=True):
        results[name, lr] = row

# %%
fig, ax = plt.subplots(figsize=(6, 3.8))
for name in ACTIVATIONS:
    ax.plot(LEARNING_RATES, [results[name, lr][0] for lr in LEARNING_RATES], marker="o", label=name)
ax.set_xscale("log")
ax.set_xlabel("SGD learning rate")
ax.set_ylabel("fraction of hidden units\nnegative on all test inputs")
ax.set_title(f"Units switched off after {STEPS} steps")
ax.legend()
fig.tight_layout()
if FIGURES:
    fig.savefig(os.path.join(FIGURES, "dead_units.png"), dpi=70)

# %% [markdown]
# Measured fractions: "negative" is the criterion above; "zero grad" counts the units
# whose incoming weights get an exactly zero gradient on the test set (truly dead); the
# last column is the test loss (NaN: training diverged at that rate).

# %%
print(f"{'activation':<11} {'lr':>6} {'negative':>9} {'zero grad':>10} {'test loss':>10}")
for (name, lr), (neg, zero, test_loss) in results.items():
    print(f"{name:<11} {lr:>6g} {neg:>9.3f} {zero:>10.3f} {test_loss:>10.4g}")

# %% [markdown]
# In short, the largest fraction of units switched off at any learning rate, and the
# largest fraction with an exactly zero gradient:

# %%
for name in ACTIVATIONS:
    rows = [results[name, lr] for lr in LEARNING_RATES]
    worst_lr = LEARNING_RATES[int(np.argmax([r[0] for r in rows]))]
    print(
        f"{name:<11} negative on all inputs: up to {max(r[0] for r in rows):.3f} "
        f"(lr {worst_lr:g}); zero gradient: up to {max(r[1] for r in rows):.3f}"
    )
