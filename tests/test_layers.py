"""Flax layers: linen, nnx and the pure function agree exactly; parameters learn; round-trips."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest
from flax import nnx, serialization

import jaxact as ja
import jaxact.linen as jlinen
import jaxact.nnx as jnnx
from jaxact import _layers

X = jnp.linspace(-3.0, 3.0, 24, dtype=jnp.float32).reshape(2, 3, 4)


@dataclass(frozen=True)
class Case:
    """A layer in both APIs and the pure function it must equal (params as nnx's pure dict)."""

    name: str
    make_nnx: Callable[[nnx.Rngs], nnx.Module]
    make_linen: Callable[[], nn.Module]
    pure: Callable[[jax.Array, dict[str, Any]], jax.Array]
    to_linen: Callable[[dict[str, Any]], dict[str, Any]] = lambda p: p


def _spec_pure(name: str) -> Callable[[jax.Array, dict[str, Any]], jax.Array]:
    fn = _layers.SPECS[name].fn
    if name == "prelu":  # alpha is positional
        return lambda x, p: fn(x, p["alpha"])
    return lambda x, p: fn(x, **p)


def _meta_acon(x: jax.Array, p: dict[str, Any]) -> jax.Array:
    pooled = jnp.mean(x, axis=1, keepdims=True)
    hidden = pooled @ p["fc1"]["kernel"] + p["fc1"]["bias"]
    beta = ja.sigmoid(hidden @ p["fc2"]["kernel"] + p["fc2"]["bias"])
    return ja.acon_c(x, p1=p["p1"], p2=p["p2"], beta=beta)


CASES = [
    Case(
        n,
        lambda r, n=n: jnnx.LEARNABLE[n](rngs=r),
        lambda n=n: jlinen.LEARNABLE[n](),
        _spec_pure(n),
    )
    for n in _layers.SPECS
] + [
    Case(
        "rational_gelu",
        lambda r: jnnx.Rational(approx="gelu", rngs=r),
        lambda: jlinen.Rational(approx="gelu"),
        lambda x, p: ja.rational(x, **p),
    ),
    Case(
        "prelu_axis1",
        lambda r: jnnx.PReLU(num_parameters=3, axis=1, rngs=r),
        lambda: jlinen.PReLU(num_parameters=3, axis=1),
        lambda x, p: ja.prelu(x, p["alpha"], axis=1),
    ),
    Case(
        "apl_channels",
        lambda r: jnnx.APL(num_parameters=4, rngs=r),
        lambda: jlinen.APL(num_parameters=4),
        lambda x, p: ja.apl(x, a=p["a"], b=p["b"]),
    ),
    Case(
        "prelu_shared",  # Keras: alpha per element of x.shape[1:], shared along axis 1
        lambda r: jnnx.PReLU(shared_axes=(1,), in_features=(3, 4), rngs=r),
        lambda: jlinen.PReLU(shared_axes=(1,)),
        lambda x, p: ja.prelu(x, p["alpha"]),
    ),
    Case(
        "prelu_elementwise",
        lambda r: jnnx.PReLU(shared_axes=(), in_features=(3, 4), rngs=r),
        lambda: jlinen.PReLU(shared_axes=()),
        lambda x, p: ja.prelu(x, p["alpha"]),
    ),
    Case(
        "apl_shared",  # trailing hinge axis after the per-element shape (3, 1)
        lambda r: jnnx.APL(shared_axes=-1, in_features=(3, 4), rngs=r),
        lambda: jlinen.APL(shared_axes=-1),
        lambda x, p: ja.apl(x, a=p["a"], b=p["b"]),
    ),
    Case(
        "meta_acon",
        lambda r: jnnx.MetaAcon(4, min_hidden=2, rngs=r),
        lambda: jlinen.MetaAcon(min_hidden=2),
        _meta_acon,
        lambda p: {"Dense_0": p["fc1"], "Dense_1": p["fc2"], "p1": p["p1"], "p2": p["p2"]},
    ),
    Case(
        "maxout",
        lambda r: jnnx.Maxout(4, 4, k=3, rngs=r),
        lambda: jlinen.Maxout(4, k=3),
        lambda x, p: _layers.maxout(x, p["kernel"], p["bias"]),
    ),
    Case(
        "activation_elu",
        lambda r: jnnx.Activation("elu", learnable=("alpha",), rngs=r),
        lambda: jlinen.Activation("elu", learnable=("alpha",)),
        lambda x, p: ja.elu(x, alpha=p["values"]["alpha"]),
        lambda p: p["values"],
    ),
]
IDS = [c.name for c in CASES]


def _perturbed(case: Case, seed: int = 1) -> tuple[nnx.Module, dict[str, Any]]:
    """An nnx layer whose parameters are moved off their initial values (fixed seed)."""
    layer = case.make_nnx(nnx.Rngs(0))
    state = nnx.to_pure_dict(nnx.state(layer, nnx.Param))
    leaves, tree = jax.tree.flatten(state)
    keys = jax.random.split(jax.random.key(seed), len(leaves))
    leaves = [
        v + 0.1 * jax.random.normal(k, v.shape, v.dtype) for v, k in zip(leaves, keys, strict=True)
    ]
    params = jax.tree.unflatten(tree, leaves)
    nnx.update(layer, params)
    return layer, params


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_linen_nnx_pure_agree_in_values_and_gradients(case: Case) -> None:
    layer, params = _perturbed(case)
    weight = jnp.cos(jnp.arange(X.size * 5 // 4, dtype=jnp.float32))  # any fixed cotangent
    module = case.make_linen()

    def via_nnx(x: jax.Array, p: dict[str, Any]) -> jax.Array:
        model = nnx.clone(layer)
        nnx.update(model, p)
        return model(x)

    def via_linen(x: jax.Array, p: dict[str, Any]) -> jax.Array:
        return module.apply({"params": case.to_linen(p)}, x)

    linen_params = module.init(jax.random.key(0), X)["params"]
    assert jax.tree.map(jnp.shape, linen_params) == jax.tree.map(jnp.shape, case.to_linen(params))
    results = []
    for f in (case.pure, via_nnx, via_linen):
        out, vjp = jax.vjp(f, X, params)
        results.append((out, vjp(weight[: out.size].reshape(out.shape))))
    for out, grads in results[1:]:
        np.testing.assert_array_equal(out, results[0][0])
        jax.tree.map(np.testing.assert_array_equal, grads, results[0][1])
    assert all(bool(jnp.any(g != 0)) for g in jax.tree.leaves(results[0][1][1]))


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_parameters_learn(case: Case) -> None:
    layer, _ = _perturbed(case, seed=2)
    graphdef, params = nnx.split(layer, nnx.Param)
    x = jax.random.normal(jax.random.key(3), (2, 3, 4))
    target = 0.8 * jnp.tanh(1.5 * x) + 0.3 * x  # no layer here represents it exactly
    optimizer = optax.adam(0.05)

    @jax.jit
    def step(params, opt_state):
        def loss_fn(p):
            return jnp.mean((nnx.merge(graphdef, p)(x) - target) ** 2)

        loss, grads = jax.value_and_grad(loss_fn)(params)
        updates, opt_state = optimizer.update(grads, opt_state, params)
        return optax.apply_updates(params, updates), opt_state, loss

    opt_state = optimizer.init(params)
    start = params
    losses = []
    for _ in range(15):
        params, opt_state, loss = step(params, opt_state)
        losses.append(float(loss))
    assert losses[-1] < 0.9 * losses[0], losses
    moved = jax.tree.map(lambda a, b: float(jnp.max(jnp.abs(a - b))), params, start)
    assert all(m > 1e-3 for m in jax.tree.leaves(moved)), moved


ROUND_TRIP = ["prelu", "swish", "pelu", "prelu_shared", "meta_acon", "maxout", "activation_elu"]


@pytest.mark.parametrize("case", [c for c in CASES if c.name in ROUND_TRIP], ids=ROUND_TRIP)
def test_serialisation_round_trip(case: Case) -> None:
    layer, _ = _perturbed(case)
    expected = layer(X)
    fresh = case.make_nnx(nnx.Rngs(7))
    nnx.update(fresh, nnx.state(layer))
    np.testing.assert_array_equal(fresh(X), expected)

    module = case.make_linen()
    variables = module.init(jax.random.key(5), X)
    trained = {"params": case.to_linen(nnx.to_pure_dict(nnx.state(layer, nnx.Param)))}
    restored = serialization.from_bytes(variables, serialization.to_bytes(trained))
    np.testing.assert_array_equal(module.apply(restored, X), expected)


def test_param_init_argument() -> None:
    layer = jnnx.PReLU(param_init={"alpha": nnx.initializers.zeros}, rngs=nnx.Rngs(0))
    np.testing.assert_array_equal(layer(X), ja.relu(X))
    variables = jlinen.PReLU(param_init={"alpha": nn.initializers.zeros}).init(jax.random.key(0), X)
    assert float(variables["params"]["alpha"]) == 0.0


def test_prelu_keras_layout() -> None:
    """``PReLU(shared_axes=(1, 2))`` on (N, H, W, C): Keras' alpha of shape (1, 1, C)."""
    x = jax.random.normal(jax.random.key(0), (4, 5, 6, 3))
    alpha = jnp.array([[[0.1, -0.2, 0.3]]])  # (1, 1, C): one slope per channel
    layer = jnnx.PReLU(
        shared_axes=(1, 2),
        in_features=x.shape[1:],
        param_init={"alpha": lambda key, shape, dtype: jnp.broadcast_to(alpha, shape)},
        rngs=nnx.Rngs(0),
    )
    module = jlinen.PReLU(shared_axes=(1, 2))
    variables = module.init(jax.random.key(0), x)
    assert layer.alpha.shape == variables["params"]["alpha"].shape == (1, 1, 3)
    variables = {"params": {"alpha": alpha}}
    expected = np.where(np.asarray(x) >= 0, x, np.asarray(alpha) * np.asarray(x))  # NumPy
    np.testing.assert_array_equal(layer(x), expected)
    np.testing.assert_array_equal(module.apply(variables, x), expected)
    np.testing.assert_array_equal(layer(x), ja.prelu(x, alpha))

    def loss(p: dict[str, Any]) -> jax.Array:
        return jnp.sum(module.apply(p, x) ** 2)

    grad = jax.grad(loss)(variables)["params"]["alpha"]
    assert grad.shape == (1, 1, 3)
    want = np.sum(2 * expected * np.minimum(np.asarray(x), 0), axis=(0, 1, 2))  # d/dα
    np.testing.assert_allclose(grad.reshape(3), want, rtol=1e-5)
    # another height and width: the shared axes take any size, the channels must match
    assert layer(x[:, :2, :1]).shape == (4, 2, 1, 3)


def test_docstrings_come_from_the_table() -> None:
    for name, spec in _layers.SPECS.items():
        for module in (jlinen, jnnx):
            cls = module.LEARNABLE[name]
            assert cls.__name__ == spec.cls_name and getattr(module, spec.cls_name) is cls
            assert cls.__doc__.startswith(spec.summary), (module.__name__, name)
            assert f"from {module.__name__} import {spec.cls_name}" in cls.__doc__
            assert spec.example_output in cls.__doc__
    for module in (jlinen, jnnx):  # every class documents its arguments and has an example
        for name in module.__all__:
            doc = getattr(module, name).__doc__ or ""
            assert ("Args:" in doc and ">>>" in doc) or name == "LEARNABLE", (module, name)


def _nnx_prelu(**kwargs: Any) -> nnx.Module:
    return jnnx.PReLU(**kwargs, rngs=nnx.Rngs(0))


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda: jnnx.PReLU(num_parameters=5, rngs=nnx.Rngs(0))(X), "channels"),
        (lambda: jnnx.PReLU(num_parameters=0, rngs=nnx.Rngs(0)), "num_parameters"),
        (lambda: jnnx.PReLU(param_init={"beta": None}, rngs=nnx.Rngs(0)), "unknown"),
        (lambda: jnnx.Rational(approx="mish", rngs=nnx.Rngs(0)), "no PAU fit"),
        (lambda: jnnx.MetaAcon(3, rngs=nnx.Rngs(0))(X), "MetaAcon"),
        (lambda: jnnx.Maxout(3, 2, rngs=nnx.Rngs(0))(X), "Maxout"),
        (lambda: jnnx.Activation("apl", learnable=("a",), rngs=nnx.Rngs(0)), "no value"),
        (lambda: jlinen.Snake(num_parameters=3).init(jax.random.key(0), X), "channels"),
        (lambda: _nnx_prelu(shared_axes=(1,), num_parameters=4, in_features=(3, 4)), "two"),
        (lambda: _nnx_prelu(shared_axes=(1,)), "needs in_features"),
        (lambda: _nnx_prelu(in_features=(3, 4)), "shared_axes=()"),
        (lambda: _nnx_prelu(shared_axes=(0,), in_features=(3, 4)), "non-batch"),
        (lambda: _nnx_prelu(shared_axes=(3,), in_features=(3, 4)), "non-batch"),
        (lambda: _nnx_prelu(shared_axes=(1, -2), in_features=(3, 4)), "twice"),
        (lambda: _nnx_prelu(shared_axes=(1,), in_features=(3, 5))(X), r"\(1, 4\)"),
        (
            lambda: _nnx_prelu(shared_axes=(1,), in_features=(3, 4))(X[0]),
            r"needs .* \(1,\); the layer has \(1, 4\)",
        ),
        (lambda: jlinen.PReLU(shared_axes=(1,)).init(jax.random.key(0), 1.0), "scalar"),
        (
            lambda: jlinen.PReLU(shared_axes=(2,), num_parameters=4).init(jax.random.key(0), X),
            "two",
        ),
    ],
)
def test_errors(make: Callable[[], object], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        make()
