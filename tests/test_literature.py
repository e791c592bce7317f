"""Specifics of the literature activations (jaxact/_smooth.py, _aptx.py, _log_gated.py,
_bounded.py, _shapes.py) that the generic table cannot check: identities with other
functions, limits, exact values, parameter validation and parameter gradients.

Reference values are float64 NumPy evaluations of the defining formulas at moderate
inputs (where float64 has digits to spare), or exact by construction.
"""

from __future__ import annotations

import math

import jax
import jax.numpy as jnp
import mpmath as mp
import numpy as np
import pytest

import jaxact as ja

X = np.linspace(-6.0, 6.0, 241, dtype=np.float32)


def _sig(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-x))


def _close(got: jax.Array, want: np.ndarray, ulps: float = 4.0) -> None:
    """``got`` (float32) within ``ulps`` float32 ulps of ``want`` (float64)."""
    got64 = np.asarray(got, np.float64)
    unit = np.spacing(np.abs(want).astype(np.float32)).astype(np.float64)
    np.testing.assert_array_less(np.abs(got64 - want), ulps * unit + 1e-45)


# --- identities and exact constants --------------------------------------------------


def test_aptx_defaults_are_silu_of_2x() -> None:
    np.testing.assert_allclose(ja.aptx(X), ja.silu(X, beta=2.0), rtol=3e-7, atol=1e-37)


def test_e_swish_is_scaled_silu() -> None:
    np.testing.assert_allclose(ja.e_swish(X, beta=1.0), ja.silu(X), rtol=3e-7, atol=1e-37)
    np.testing.assert_allclose(ja.e_swish(X), 1.25 * np.asarray(ja.silu(X)), rtol=3e-7)


def test_quick_gelu_uses_exactly_1702() -> None:
    # In the tail, sigmoid(1.702 x) amplifies the float32 rounding of 1.702 by |1.702 x|.
    x = np.array([-50.0, -40.0, -10.0, -1.0, 2.0], np.float32)
    x64 = x.astype(np.float64)
    _close(ja.quick_gelu(x), x64 * _sig(1.702 * x64))
    off = np.abs(np.asarray(ja.silu(x, beta=1.702), np.float64) / (x64 * _sig(1.702 * x64)) - 1)
    assert off[0] > 8e-7  # the float32 slope is ~15 ulp away at x = -50


def test_isrlu_is_the_identity_above_zero_and_isru_below() -> None:
    pos = X[X >= 0]
    np.testing.assert_array_equal(ja.isrlu(pos), pos)
    neg = X[X < 0]
    np.testing.assert_array_equal(ja.isrlu(neg, alpha=3.0), ja.isru(neg, alpha=3.0))


@pytest.mark.parametrize("alpha", [0.25, 1.0, 4.0])
def test_isru_saturates_without_overflow(alpha: float) -> None:
    x = jnp.array([-jnp.inf, -3e38, -1e20, 1e20, 3e38, jnp.inf])
    want = np.sign(np.asarray(x)) / math.sqrt(alpha)
    np.testing.assert_allclose(ja.isru(x, alpha=alpha), want, rtol=1e-7)
    assert np.all(np.asarray(jax.vmap(jax.grad(lambda v: ja.isru(v, alpha=alpha)))(x)) == 0)


def test_srs_limits_and_minimum() -> None:
    alpha, beta = 5.0, 3.0
    y = ja.srs(jnp.array([-jnp.inf, -1e30, 1e30, jnp.inf]))
    np.testing.assert_array_equal(np.asarray(y), [0.0, 0.0, alpha, alpha])
    assert abs(float(jax.grad(ja.srs)(-beta))) < 1e-7
    assert float(ja.srs(-beta)) == pytest.approx(-beta / (math.e - beta / alpha), rel=2e-7)


def test_sinc_exact_points_and_numpy_agreement() -> None:
    whole = jnp.array([1.0, -2.0, 7.0, 2.0**23 + 1, 2.0**24, 3e38])
    assert np.all(np.asarray(ja.sinc(whole)) == 0.0)
    assert float(ja.sinc(0.0)) == 1.0
    np.testing.assert_array_equal(ja.sinc(jnp.array([-jnp.inf, jnp.inf])), [0.0, 0.0])
    x = np.concatenate([X, np.float32([1e3 + 0.25, -12345.5, 4e6 + 0.5])])
    want = [float(mp.sinpi(v) / (mp.pi * v)) if v else 1.0 for v in map(float, x)]
    _close(ja.sinc(x), np.array(want), ulps=3)
    # (-1)^n / x at the integers, where cos(pi x) = +-1
    g = jax.vmap(jax.grad(ja.sinc))(jnp.array([1.0, 2.0, 2.0**23 + 1]))
    np.testing.assert_allclose(g, [-1.0, 0.5, -1 / (2.0**23 + 1)], rtol=1e-7)


def test_gcu_has_no_limit_at_infinity() -> None:
    assert np.all(np.isnan(np.asarray(ja.gcu(jnp.array([-jnp.inf, jnp.inf])))))
    x = np.float32([1e3, -2e4, 3.25])
    _close(ja.gcu(x), x.astype(np.float64) * np.cos(x.astype(np.float64)))


def test_limits_at_infinity() -> None:
    inf = jnp.array([-jnp.inf, jnp.inf])
    np.testing.assert_array_equal(ja.gaussian(inf), [0.0, 0.0])
    np.testing.assert_array_equal(ja.elliott(inf), [0.0, 1.0])
    np.testing.assert_array_equal(ja.bent_identity(inf), [-np.inf, np.inf])
    np.testing.assert_array_equal(jax.vmap(jax.grad(ja.bent_identity))(inf), [0.5, 1.5])
    np.testing.assert_allclose(ja.shifted_softplus(inf), [-math.log(2.0), np.inf])
    np.testing.assert_allclose(ja.smish(inf), [0.0, np.inf])
    np.testing.assert_allclose(jax.vmap(jax.grad(ja.smish))(inf), [0.0, 0.6], rtol=1e-7)
    np.testing.assert_allclose(jax.vmap(jax.grad(ja.logish))(inf), [0.0, math.log(2.0)],
                               rtol=1e-7)


def test_shifted_softplus_does_not_cancel_at_zero() -> None:
    assert float(ja.shifted_softplus(0.0)) == 0.0
    x = np.float32([1e-30, -1e-8, 1e-4, -0.5])
    x64 = x.astype(np.float64)
    _close(ja.shifted_softplus(x), np.log1p(np.expm1(x64) / 2), ulps=2)


def test_bent_identity_negative_side_does_not_cancel() -> None:
    x = np.float32([-1e-3, -1.0, -1e3, -1e15])
    x64 = x.astype(np.float64)
    _close(ja.bent_identity(x), x64 * x64 / (2 * (np.sqrt(x64 * x64 + 1) + 1)) + x64, ulps=2)


@pytest.mark.parametrize(("name", "ref"), [
    ("tanhexp", lambda x: x * np.tanh(np.exp(x))),
    ("smish", lambda x: x * np.tanh(np.log1p(_sig(x)))),
    ("logish", lambda x: x * np.log1p(_sig(x))),
    ("e_swish", lambda x: 1.25 * x * _sig(x)),
])
def test_negative_tail_stays_normal(name: str, ref) -> None:
    # x e^x is normal down to x = -92 although e^x alone is flushed below -87.3.
    x = np.float32([-86.0, -88.0, -90.0])
    got = ja.get(name)(x)
    assert np.all(np.asarray(got) != 0)
    _close(got, ref(x.astype(np.float64)))


def test_serf_tail() -> None:
    x = np.float32([-88.0, -90.0])
    _close(ja.serf(x), 2 / math.sqrt(math.pi) * x.astype(np.float64) * np.exp(x.astype(np.float64)))


# --- hyper-parameters ---------------------------------------------------------------------


@pytest.mark.parametrize(("call", "match"), [
    (lambda: ja.isru(1.0, alpha=0.0), "alpha must be positive"),
    (lambda: ja.isrlu(1.0, alpha=-1.0), "alpha must be positive"),
    (lambda: ja.srs(1.0, alpha=0.0), "alpha must be positive"),
    (lambda: ja.srs(1.0, beta=-3.0), "beta must be positive"),
    (lambda: ja.srs(1.0, alpha=1.0, beta=3.0), "beta must be below e"),
])
def test_invalid_hyperparameters(call, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        call()


@pytest.mark.parametrize("call", [
    lambda: ja.e_swish(1.0, beta=1j),
    lambda: ja.aptx(1.0, gamma="a"),
    lambda: ja.srs(1.0, alpha=None),
    lambda: ja.isru(1.0, alpha=[1.0]),
])
def test_invalid_hyperparameter_types(call) -> None:
    with pytest.raises(TypeError):
        call()


def test_traced_parameters_and_broadcasting() -> None:
    x = jnp.linspace(-4.0, 4.0, 9)
    a = jax.jit(lambda alpha: ja.srs(x, alpha=alpha, beta=3.0))(5.0)
    np.testing.assert_array_equal(a, ja.srs(x))
    per = jnp.array([0.5, 1.0, 2.0])[:, None]  # one alpha per row
    y = ja.isru(jnp.broadcast_to(x, (3, 9)), alpha=per)
    np.testing.assert_allclose(y[1], ja.isru(x), rtol=1e-7)


def _aptx64(x, alpha, beta, gamma):
    return gamma * x * (alpha + jnp.tanh(beta * x))


def _srs64(x, alpha, beta):
    return x / (x / alpha + jnp.exp(-x / beta))


@pytest.mark.parametrize(("name", "params", "naive"), [
    ("aptx", {"alpha": 1.0, "beta": 1.0, "gamma": 0.5}, _aptx64),
    ("aptx", {"alpha": 0.5, "beta": 0.75, "gamma": 2.0}, _aptx64),
    ("e_swish", {"beta": 1.5}, lambda x, beta: beta * x * jax.nn.sigmoid(x)),
    ("isru", {"alpha": 0.3}, lambda x, alpha: x / jnp.sqrt(1 + alpha * x * x)),
    ("isrlu", {"alpha": 2.0},
     lambda x, alpha: jnp.where(x >= 0, x, x / jnp.sqrt(1 + alpha * x * x))),
    ("srs", {"alpha": 5.0, "beta": 3.0}, _srs64),
    ("srs", {"alpha": 2.0, "beta": 0.7}, _srs64),
])
def test_parameter_gradients_match_float64_autodiff(name: str, params: dict, naive) -> None:
    """d/dp of the sum over a grid, for every parameter, against float64 autodiff."""
    x = np.linspace(-5.0, 4.0, 91)  # not symmetric: odd terms do not cancel in the sum
    keys = list(params)
    fn = ja.get(name)

    def loss32(*ps):
        return jnp.sum(fn(jnp.asarray(x, jnp.float32), **dict(zip(keys, ps, strict=True))))

    got = jax.grad(loss32, argnums=tuple(range(len(keys))))(
        *(jnp.float32(params[k]) for k in keys))
    with jax.enable_x64(True):
        def loss64(*ps):
            return jnp.sum(naive(jnp.asarray(x, jnp.float64), *ps))

        want = jax.grad(loss64, argnums=tuple(range(len(keys))))(
            *(jnp.float64(np.float32(params[k])) for k in keys))
        want = [float(w) for w in want]
    np.testing.assert_allclose([float(g) for g in got], want, rtol=2e-6)


def test_registry_metadata() -> None:
    for name in ("e_swish", "quick_gelu", "aptx", "lisht", "tanhexp", "smish", "logish", "serf",
                 "isru", "isrlu", "elliott", "srs", "gaussian", "sinc", "hard_mish",
                 "squared_relu", "elish", "hard_elish", "shifted_softplus", "bent_identity",
                 "gcu"):
        e = ja.entry(name)
        assert e.kind == "elementwise" and e.reference
        assert e.source in ("paper", "timm")
    assert ja.entry("srs").bounded and ja.entry("isru").bounded and not ja.entry("serf").bounded
    assert ja.entry("relu_squared") is ja.entry("squared_relu")
    assert [k.at for k in ja.entry("hard_elish").kinks] == [-1.0, 1.0]
