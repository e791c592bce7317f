"""Parameter values at the edge of their families: degenerate (0, equal or opposite
parameters) and extreme ones, where the mpmath tables of test_accuracy.py (a few
parameter sets each) do not look.

Each case here was once wrong: found by a random-parameter sweep against jaxact in
float64, confirmed with mpmath.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import mpmath as mp
import numpy as np
import pytest
from casekit import _p
from test_accuracy import ulp, ulp_error

import jaxact as ja


def _grad(f, x):
    return np.asarray(jax.vmap(jax.grad(f))(jnp.asarray(x, jnp.float32)))


def test_squareplus_with_b0_is_relu_for_tiny_x():
    # x^2 underflows below |x| = 2^-63: where XLA flushed it (some compilations, e.g.
    # under vmap) the derivative was 1/2 for x > 0 and NaN (0 * inf) for x < 0.
    x = np.array([1e-20, 3e-30, 1e-36, -1e-20, -3e-30, -1e-36], np.float32)
    relu = lambda v: ja.squareplus(v, b=0.0)
    np.testing.assert_array_equal(jax.jit(relu)(x), np.maximum(x, 0))
    np.testing.assert_array_equal(_grad(relu, x), (x > 0).astype(np.float32))
    assert float(jax.grad(relu)(0.0)) == 0.5  # the documented convention at the kink


def test_pelu_forms_the_slope_before_the_product():
    # x/b first overflowed for b < 1 (pelu(2e38, a=b=0.5) was inf) and underflowed for
    # a large b (a = b = 1e10 flushed x below 1e-28)
    assert float(ja.pelu(jnp.float32(2e38), a=0.5, b=0.5)) == pytest.approx(2e38, rel=1e-7)
    assert float(ja.pelu(jnp.float32(1.58e-30), a=1e10, b=1e10)) == pytest.approx(1.58e-30,
                                                                                rel=1e-7)


@pytest.mark.parametrize(("name", "params"), [("erfact", {"alpha": 0.0, "beta": 0.0}),
                                              ("pserf", {"gamma": 0.0, "delta": 0.0})])
def test_a_zero_gate_keeps_nan(name, params):
    # z = 0 makes f = 0 (x = +-inf included), but a NaN input must stay NaN
    out = np.asarray(ja.get(name)(jnp.array([np.nan, np.inf, -np.inf, 2.0]), **params))
    assert np.isnan(out[0]) and np.all(out[1:] == 0)


def test_erfact_with_alpha0_has_a_finite_derivative():
    # alpha = 0: z = 0 for every x, but 2^k (k up to 144) met z1 = 0 in z^2: NaN beyond
    # x = 88.7 / beta
    x = np.array([1.0, 88.0, 89.0, 200.0, 1e30], np.float32)
    np.testing.assert_array_equal(_grad(lambda v: ja.erfact(v, alpha=0.0, beta=0.75), x), 0.0)


def _ulps(got, ref) -> np.ndarray:
    """test_accuracy's error in ulps of the mpmath values ``ref``."""
    ref = np.array([float(r) for r in ref])
    return ulp_error(got, ref, ulp(ref))


@pytest.mark.parametrize(("beta", "x"), [(1e-20, [-5e21, -1e22, -1.2e22, -1.24e22]),
                                         (1e-6, [-8.87e7, -9.84e7]), (0.0743, [-1182.57])])
def test_softplus_small_beta_divides_before_the_tail_underflows(beta, x):
    # e^{beta x} was flushed before the division by beta: 0 where the value is normal
    with mp.workprec(200):
        ref = [mp.log1p(mp.exp(_p(beta) * _p(v))) / _p(beta) for v in x]
    assert _ulps(ja.softplus(jnp.array(x, jnp.float32), beta=beta), ref).max() <= 4


@pytest.mark.parametrize(("alpha", "x"), [(-1e-20, [3.226545e-21, -4.2e-19, 1e-19, 3e-10]),
                                          (-1e-35, [-9.998869e34, -9.99e34, 1e-30])])
def test_soft_exponential_tiny_negative_alpha(alpha, x):
    # alpha (x + alpha) underflowed: f was 0 where it is x + alpha; a product with
    # alpha < 2^-114 lost its low part (300 ulp near the edge of the domain, x = 1/alpha)
    with mp.workprec(200):
        a = _p(alpha)
        ref = [-mp.log1p(-a * (_p(v) + a)) / a for v in x]
        dref = [1 / (1 - a * (_p(v) + a)) for v in x]
    f = lambda v: ja.soft_exponential(v, alpha=alpha)
    assert _ulps(f(jnp.array(x, jnp.float32)), ref).max() <= 4
    assert _ulps(_grad(f, x), dref).max() <= 8


def test_isru_tiny_alpha_keeps_a_finite_derivative():
    # |t|^3 / (q s) with q s = alpha^(3/2): 0 for alpha < 1e-28, f' inf or NaN at |x| > 1e18
    x = [1e18, 4e18, -1e20, 1e30, 3e38]
    with mp.workprec(200):
        ref = [(1 + _p(1e-30) * _p(v) ** 2) ** -1.5 for v in x]
    df = _grad(lambda v: ja.isru(v, alpha=1e-30), x)
    assert _ulps(df, ref).max() <= 8
    assert float(jax.grad(lambda v: ja.isru(v, alpha=1e-30))(jnp.float32(np.inf))) == 0


def test_isru_huge_alpha_near_zero():
    # x^2 underflowed below |x| = 1e-19 before alpha = 3e38 multiplied it: f was x
    x = [1e-19, -3e-20, 1e-25]
    with mp.workprec(200):
        ref = [_p(v) / mp.sqrt(1 + _p(3e38) * _p(v) ** 2) for v in x]
    assert _ulps(ja.isru(jnp.array(x, jnp.float32), alpha=3e38), ref).max() <= 4


@pytest.mark.parametrize(("name", "params"), [("elu", {"alpha": 3e38}),
                                              ("pelu", {"a": 3e38, "b": 1.0})])
def test_a_huge_scale_keeps_the_tail_slope(name, params):
    # alpha e^x is normal down to x = -174 for alpha = 3e38; e^x was normal only to -148
    x = [-150.0, -160.0, -170.0, -174.0]
    with mp.workprec(200):
        ref = [_p(3e38) * mp.exp(_p(v)) for v in x]
    assert _ulps(_grad(lambda v: ja.get(name)(v, **params), x), ref).max() <= 8


def test_erfact_second_derivative_where_the_gate_overflows():
    # alpha e^{beta x} overflowed for alpha = 10 at beta x = 87-88 (z = inf, far past
    # erf's saturation): inf - inf in its exact products made f'' NaN, where it is 0
    x = np.array([87.0, 87.5, 88.0], np.float32)
    f = lambda v: ja.erfact(v, alpha=10.0, beta=1.0)
    np.testing.assert_array_equal(np.asarray(jax.vmap(jax.hessian(f))(jnp.asarray(x))), 0.0)
    np.testing.assert_array_equal(_grad(f, x), 1.0)


@pytest.mark.parametrize(("a", "b", "x"), [(1e10, 1e10, [-1.6e-30, -1e-35, -3e-38]),
                                           (4.0, 2.0, [-(2.0**-126), -3e-38]),
                                           (2.0, 3e38, [-3.4e38, -1e30, 3e38]),
                                           (3e38, 1e-30, [0.0, 1.17549435e-38, -1e-36])])
def test_pelu_tiny_negative_x_is_linear(a, b, x):
    # x/b underflowed for x < 0 too (a = b = 1e10 gave 0 at x = -1.6e-30); there
    # a expm1(x/b) = x (a/b) to 2^-26. a/b itself was flushed (b = 3e38) or inf (NaN at 0).
    with mp.workprec(200):
        ref = [_p(a) * (mp.expm1(_p(v) / _p(b)) if v < 0 else _p(v) / _p(b)) for v in x]
    assert _ulps(ja.pelu(jnp.array(x, jnp.float32), a=a, b=b), ref).max() <= 4


def test_star_relu_slope_at_the_top_of_the_range():
    # 2 x overflowed before s multiplied it: f' = 2 s x is finite up to x = 3.4e38 for s < 1/2
    # (s per element, as per-channel parameters broadcast: for a scalar s XLA forms 2 s)
    x = np.array([3.4e38, 2e38, 0.5, 1e-30], np.float32)
    slope = jax.vmap(jax.grad(lambda v, s: ja.star_relu(v, s=s, b=22.76014)))
    got = np.asarray(slope(jnp.asarray(x), jnp.full(x.shape, 0.1230636, jnp.float32)))
    want = 2.0 * np.float64(np.float32(0.1230636)) * x.astype(np.float64)
    assert np.all(np.abs(got - want) <= 2 * np.spacing(np.abs(want).astype(np.float32)))


def test_squareplus_with_an_array_b0_is_relu_for_tiny_x():
    # b as an array (a per-channel parameter): XLA gathered b's two scale factors 2^64
    # into 2^128 = inf, and 0 * inf made every |x| < 2^-63 NaN
    x = np.array([1e-30, 1e-20, -1e-20, 0.0, 1.0], np.float32)
    b = jnp.zeros(x.shape, jnp.float32)
    f = jax.jit(lambda v, bb: ja.squareplus(v, b=bb))
    np.testing.assert_array_equal(f(jnp.asarray(x), b), np.maximum(x, 0))
    slope = jax.jit(jax.vmap(jax.grad(lambda v, bb: ja.squareplus(v, b=bb))))
    np.testing.assert_array_equal(slope(jnp.asarray(x), b), [1.0, 1.0, 0.0, 0.5, 1.0])


def test_apl_hinges_that_cancel_far_out():
    # Slopes summing to 0: f = sum a_s b_s, a constant ~1e-7, while each hinge term is
    # ~1e7 at x = -3.5e7. The hinge sums' compensation kept one level of error terms,
    # themselves ~ulp(1e7) and cancelling: 4.2e6 ulp
    a, b = (0.25, -0.25, 0.25, -0.25), (1.0, 1.0000001, 2.0, 2.0000002)
    x = [-3.5381e7, -1e30, -123.25, -3.0, 0.5]
    with mp.workprec(200):
        ref = [sum(_p(s) * max(_p(t) - _p(v), 0) for s, t in zip(a, b, strict=True))
               + max(_p(v), 0) for v in x]
    assert _ulps(ja.apl(jnp.array(x, jnp.float32), a=a, b=b), ref).max() <= 1
