"""Parameter gradients of the layers at their edge cases, against closed forms and mpmath."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import mpmath
import numpy as np
import pytest
from flax import nnx

import jaxact.nnx as jnnx

X = jnp.array([-1e3, -2.0, -0.5, 0.0, 0.5, 2.0, 1e3], jnp.float32)
SMALL_X = X[1:-1]


def _param_grad(layer: nnx.Module, name: str, x: jax.Array) -> np.ndarray:
    """d layer(x_i) / d param, for each x_i separately (scalar parameter)."""
    graphdef, params = nnx.split(layer, nnx.Param)

    def f(value: jax.Array, xi: jax.Array) -> jax.Array:
        return nnx.merge(graphdef, nnx.to_pure_dict(params) | {name: value})(xi)

    value = getattr(layer, name)[...]
    return np.asarray(jax.vmap(jax.grad(f), (None, 0))(value, x))


def test_prelu_slope_gradient_at_zero() -> None:
    layer = jnnx.PReLU(rngs=nnx.Rngs(0))
    # d/dα = min(x, 0): exactly 0 at x = 0, where d/dx takes the right-hand slope 1
    np.testing.assert_array_equal(_param_grad(layer, "alpha", X), np.minimum(X, 0))
    dx = jax.vmap(jax.grad(layer))(X)
    np.testing.assert_array_equal(dx, np.where(X >= 0, 1.0, 0.25))


def _soft_exponential(alpha: mpmath.mpf, x: mpmath.mpf) -> mpmath.mpf:
    if alpha < 0:
        return -mpmath.log(1 - alpha * (x + alpha)) / alpha
    if alpha > 0:
        return (mpmath.exp(alpha * x) - 1) / alpha + alpha
    return x


@pytest.mark.parametrize("alpha", [0.0, 1e-3, -1e-3])
def test_soft_exponential_alpha_gradient_near_zero(alpha: float) -> None:
    layer = jnnx.SoftExponential(
        param_init={"alpha": nnx.initializers.constant(alpha)}, rngs=nnx.Rngs(0)
    )
    got = _param_grad(layer, "alpha", SMALL_X)
    if alpha == 0.0:  # series on both sides: x + α (1 + x²/2) + O(α²)
        want = 1 + np.asarray(SMALL_X, np.float64) ** 2 / 2
    else:
        with mpmath.workdps(40):
            a = mpmath.mpf(float(np.float32(alpha)))
            xs = [mpmath.mpf(float(v)) for v in SMALL_X]
            want = [float(mpmath.diff(lambda t, xi=xi: _soft_exponential(t, xi), a)) for xi in xs]
    np.testing.assert_allclose(got, want, rtol=1e-5)


@pytest.mark.parametrize("a", [0.0, 1e-30, 1e-8, 1e-3, 0.5])
def test_snake_frequency_gradient_as_a_goes_to_zero(a: float) -> None:
    layer = jnnx.Snake(param_init={"a": nnx.initializers.constant(a)}, rngs=nnx.Rngs(0))
    got = _param_grad(layer, "a", SMALL_X)
    with mpmath.workdps(60):
        av = mpmath.mpf(float(np.float32(a)))
        # d/da [x + sin²(ax)/a] = (a x sin(2ax) - sin²(ax)) / a², limit x² at a = 0
        want = [
            float(xi) ** 2
            if a == 0.0
            else float((av * xi * mpmath.sin(2 * av * xi) - mpmath.sin(av * xi) ** 2) / av**2)
            for xi in (mpmath.mpf(float(v)) for v in SMALL_X)
        ]
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("name", sorted(set(jnnx.LEARNABLE) - {"pau"}))  # pau = rational
def test_parameter_gradients_are_finite(name: str) -> None:
    layer = jnnx.LEARNABLE[name](rngs=nnx.Rngs(0))
    graphdef, params = nnx.split(layer, nnx.Param)

    def loss(p: nnx.State, x: jax.Array) -> jax.Array:
        return jnp.sum(nnx.merge(graphdef, p)(x))

    # the input shape of tests/test_layers.py, so the jitted functions are compiled once
    extra = jnp.array([-1e4, -100.0, -30.0, -1e-6, -1e-30, 1e-30, 1e-6, 30.0, 100.0, 1e4])
    x = jnp.concatenate([X, extra, X[1:-1] * 3 + 0.1, jnp.array([7.0, -7.0])])  # 24 values
    grads = jax.grad(loss)(params, x.reshape(2, 3, 4))
    for leaf in jax.tree.leaves(grads):
        assert bool(jnp.all(jnp.isfinite(leaf))), (name, leaf)
