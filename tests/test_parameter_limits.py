"""Parameters within a few binades of float32's limits: star_relu's s and b, e_swish's
beta, aptx's gamma and beta, acon_c's slopes and beta, pelu's a/b, erfact's alpha, and
the exact product (``_learnable._tp``) beneath them.

Each case here was once wrong: found by sweeping the whole float32 x range against
jaxact in float64 (``tools/sweep_parameters.py``), confirmed with mpmath. Values and f'
are taken with the parameters as Python numbers (XLA folds them into constants), the
partials with them traced.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import mpmath as mp
import numpy as np
import pytest
from casekit import _p
from test_accuracy import ulp, ulp_error
from test_parameters import _grad, _ulps

import jaxact as ja
from jaxact import _core
from jaxact._learnable import _tp


@pytest.mark.parametrize("s", [3e38, -3e38])
def test_star_relu_slope_with_a_huge_scale(s):
    # XLA folded s (2 x) into (2 s) x, 2 s = inf: f' was NaN for x <= 0 (0 * inf) and
    # inf where 2 s x is finite
    x = [-1.0, 0.0, 1e-30, 0.25, 0.5]
    ref = [2 * _p(s) * max(_p(v), 0) for v in x]
    assert _ulps(_grad(lambda v: ja.star_relu(v, s=s, b=-0.4472), x), ref).max() <= 8


@pytest.mark.parametrize(("s", "b", "x"), [(3.4028235e38, 0.0, [1.3199585e-34, 1.2489593e-34]),
                                           (0.8944, -3e38, [2.055e19, 2.336e19, 2.491e19]),
                                           (1.0, 2.3509887e-38, [7.6e-20, 1e-19, 3e-20]),
                                           (-0.5, 4e-38, [2e-19, 1e-19, 3.2e-19])])
def test_star_relu_value_with_an_extreme_scale_or_bias(s, b, x):
    # s = 3.4e38: the low halves that the exact product splits off s x were subnormal and
    # lost (2700 ulp at x = 1.3e-34); b = -3e38: s x^2 overflowed where b brings the sum
    # back below the largest float32 (inf for 1.9e38); b = 2^-125: s x^2 was subnormal
    # (flushed) where s x^2 + b is not (2^21 ulp at x = 7.6e-20)
    with mp.workprec(200):
        ref = [_p(s) * _p(v) ** 2 + _p(b) for v in x]
    got = jax.jit(lambda v: ja.star_relu(v, s=s, b=b))(jnp.array(x, jnp.float32))
    assert _ulps(got, ref).max() <= 4


@pytest.mark.parametrize("beta", [3e38, -3e38])
def test_e_swish_huge_beta_in_the_tail(beta):
    # beta x overflowed before sigmoid(x) brought it back (-inf at x = -150), f' too (at
    # x = -62); sigmoid's tail held only to x = -141, where beta x e^x is normal to -175
    x = [-62.12, -100.0, -150.0, -160.0, -173.3, -0.5, 1e-30]
    with mp.workprec(200):
        b = _p(beta)
        sig = [1 / (1 + mp.exp(-_p(v))) for v in x]
        ref = [b * _p(v) * g for v, g in zip(x, sig, strict=True)]
        dref = [b * (g + _p(v) * g * (1 - g)) for v, g in zip(x, sig, strict=True)]
    f = lambda v: ja.e_swish(v, beta=beta)
    assert _ulps(jax.jit(f)(jnp.array(x, jnp.float32)), ref).max() <= 4
    assert _ulps(_grad(f, x), dref).max() <= 8


def _aptx_ref(x, alpha, beta, gamma):
    """aptx's value, f', d/dbeta and d/dgamma in mpmath (alpha + tanh cancels to e^-372)."""
    with mp.workprec(1200):
        out = []
        for v in x:
            a, b, g, t = _p(alpha), _p(beta), _p(gamma), _p(v)
            th, s2 = mp.tanh(b * t), mp.sech(b * t) ** 2
            out.append((g * t * (a + th), g * (a + th + b * t * s2), g * t * t * s2, t * (a + th)))
        return list(zip(*out, strict=True))


def _aptx_got(x, alpha, beta, gamma):
    f = lambda v, b: ja.aptx(v, alpha=alpha, beta=b, gamma=gamma)
    xs = jnp.array(x, jnp.float32)
    dx, dbeta = jax.vmap(jax.grad(f, argnums=(0, 1)), in_axes=(0, None))(xs, jnp.float32(beta))
    dgamma = jax.vmap(jax.grad(lambda v, g: ja.aptx(v, alpha=alpha, beta=beta, gamma=g),
                               argnums=1), in_axes=(0, None))(xs, jnp.float32(gamma))
    return jax.jit(lambda v: ja.aptx(v, alpha=alpha, beta=beta, gamma=gamma))(xs), dx, dbeta, dgamma


@pytest.mark.parametrize(("alpha", "beta", "gamma", "x"), [
    (1.0, 1.0, 3e38, [-66.23, -75.3, -80.29, -88.0, -30.0, -5.0]),
    (-1.0, 1.0, -3e38, [66.23, 75.3, 80.29, 88.0]),
    (1.0, 1e-36, 0.5, [-6.841e37, -7.778e37, -8.293e37]),
    (1.0, -1e-36, 3e38, [8.293e37, 9.428e37, 1.299e38]),
])
def test_aptx_tail_beyond_64_with_extreme_parameters(alpha, beta, gamma, x):
    # The gate's tail alpha -+ 1 -+ 2 sigmoid(-2|v|), v = beta x, was 0 beyond |v| = 64,
    # but gamma x e^{-2|v|} is normal to |v| = 91 for gamma = 3e38 (and x to 2^128 for a
    # tiny beta: to |v| = 186): value, f', d/dbeta and d/dgamma were 0 there
    ref = _aptx_ref(x, alpha, beta, gamma)
    for got, want, bar in zip(_aptx_got(x, alpha, beta, gamma), ref, (4, 8, 8, 8), strict=True):
        assert _ulps(got, want).max() <= bar


@pytest.mark.parametrize(("beta", "x"), [(1.0, [1.14e17, 30.0, 3.0, 0.0]),
                                         (1e20, [2.382e-19, 2.54e-19, -2.382e-19])])
def test_aptx_dbeta_with_a_huge_gamma(beta, x):
    # d/dbeta = gamma x^2 sech^2(beta x) began with the constant 4 gamma = inf at gamma =
    # 3e38: inf where it is finite, NaN where sech^2 = 0 (x = 1.1e17)
    got = _aptx_got(x, 1.0, beta, 3e38)[2]
    assert _ulps(got, _aptx_ref(x, 1.0, beta, 3e38)[2]).max() <= 8


@pytest.mark.parametrize(("alpha", "beta", "gamma", "x"), [
    (0.0, 1e-20, 1e30, [2.6e-24, 1.2e-20, -1e-30, 3e-37, 1e-16]),
    (0.0, 0.5, 1.0, [2.31e-38, 1.5e-38, -2e-38, 1e-37]),
    (1e-30, 1e-10, 1e20, [1e-21, -1e-20, 2.5e-33, -1e-36]),
    (-1e-30, 1e-25, 3e38, [1e-5, 2e-5, -3e-6, 1e-30]),
    (0.0, 1e-20, 1e-20, [50.0, 80.0, -60.0, 1e-5]),  # gamma beta subnormal: the general form
])
def test_aptx_subnormal_gate(alpha, beta, gamma, x):
    # At |alpha| < 2^-60 the gate alpha + tanh(beta x) may be subnormal, flushed to 0, while
    # gamma x gate or gamma (alpha + 2 beta x) is normal: f and f' were 0 there (f' for 2.3e-10
    # at x = 1.2e-20 with alpha = 0, beta = 1e-20, gamma = 1e30; for 2.3e-38 at x = 2.3e-38
    # with alpha = 0, beta = 0.5, gamma = 1)
    ref = _aptx_ref(x, alpha, beta, gamma)
    for got, want, bar in zip(_aptx_got(x, alpha, beta, gamma), ref, (4, 8, 8, 8), strict=True):
        assert _ulps(got, want).max() <= bar


def _aptx_hessian(x, alpha, beta, gamma, dtype):
    """The Hessians of aptx in (x, alpha, beta, gamma) at each x, as (n, 4, 4) float64."""
    f = lambda z: ja.aptx(z[0], alpha=z[1], beta=z[2], gamma=z[3])
    z = jnp.asarray([[v, alpha, beta, gamma] for v in np.atleast_1d(x)], dtype)
    return np.asarray(jax.vmap(jax.hessian(f))(z), np.float64)


@pytest.mark.parametrize(("alpha", "beta", "gamma"), [(1.0, 1.0, 0.5), (-1.0, 2.0, 3.0),
                                                      (1.0, 1.0, 1e30), (1.0, 1e-30, 0.5)])
@pytest.mark.parametrize("x64", [False, True])
def test_aptx_alpha_mixed_partials(alpha, beta, gamma, x64):
    # d2f/dx dalpha = gamma and d2f/dgamma dalpha = x exactly. Where alpha -+ 1 = 0 (the
    # tail) the gate is kept scaled by 1/k, and alpha's tangent was scaled with it: 2^-64
    # gamma beyond |beta x| = 30 (in float64 as well)
    v = np.array([-500.0, -70.0, -35.0, -1.2, -0.3, 0.3, 35.0, 70.0])
    with jax.enable_x64(x64):
        dtype = jnp.float64 if x64 else jnp.float32
        h = _aptx_hessian(v / beta, alpha, beta, gamma, dtype)
        x, gamma = (np.asarray(jnp.asarray(p, dtype), np.float64) for p in (v / beta, gamma))
    assert np.all(h[:, 0, 1] == gamma) and np.all(h[:, 1, 0] == gamma)
    assert np.all(h[:, 3, 1] == x) and np.all(h[:, 1, 3] == x)


@pytest.mark.parametrize(("alpha", "beta", "gamma", "x"), [
    (-1.0, 1.0, -3e37, [-35.0, -50.0, 35.0]), (1.0, 1.0, 1e30, [35.0, 50.0, 70.0, -35.0, -70.0]),
    (0.3, 1.0, 3e36, [-35.0, 35.0, 50.0]), (2.0, 0.25, 1e20, [140.0, -200.0, 280.0]),
])
def test_aptx_hessian_off_the_deep_tail(alpha, beta, gamma, x):
    # Off the tail beyond |beta x| = 30 (a huge gamma), e^{-2|v|} is below the gate's ulp
    # and was left out of f' and d/dgamma, but it is all of their derivatives in x and beta
    # (f'' was 0 for 3.2e10 at alpha = -1, gamma = -3e38, x = -35)
    got = _aptx_hessian(x, alpha, beta, gamma, jnp.float32)
    with jax.enable_x64(True):
        ref = _aptx_hessian(x, alpha, beta, gamma, jnp.float64)
    rel = np.abs(got - ref) / np.maximum(np.abs(ref), 1e-30)
    assert rel.max() <= 1e-5, (x, got, ref)


def test_aptx_tiny_beta_keeps_the_error_of_beta_x():
    # beta = 1.5e-38: the low half of beta in the exact product beta x was subnormal, so
    # the rounding of v = beta x went uncorrected into e^{-2|v|} (5.9 ulp at x = -2.8e38)
    x = [-2.805e38, -2.991e38, 2.805e38]
    ref = _aptx_ref(x, 1.0, 1.5e-38, 0.5)[0]
    assert _ulps(ja.aptx(jnp.array(x, jnp.float32), beta=1.5e-38), ref).max() <= 4


_C = 2 / mp.sqrt(mp.pi)


def _sig(u):
    return 1 / (1 + mp.exp(-u))


def _acon_c(x, p1, p2, beta):
    """f, f', df/dp1, df/dp2, df/dbeta."""
    d = p1 - p2
    u = beta * d * x
    s, sn = _sig(u), _sig(-u)
    dd = s * sn
    return [x * (p1 * s + p2 * sn), p1 * s + p2 * sn + u * d * dd, x * (s + u * dd),
            x * (sn - u * dd), x * x * d * d * dd]


def _pelu(x, a, b):
    """f, f', df/da, df/db."""
    if x >= 0:
        return [a / b * x, a / b, x / b, -a * x / b**2]
    e = mp.exp(x / b)
    return [a * (e - 1), a / b * e, e - 1, -a * x * e / b**2]


def _erfact(x, alpha, beta):
    """f, f', df/dalpha, df/dbeta."""
    ev = mp.exp(beta * x)
    z = alpha * ev
    g = mp.exp(-z * z)
    return [x * mp.erf(z), mp.erf(z) + _C * beta * x * z * g, _C * x * ev * g, _C * x * x * z * g]


_REF = {"acon_c": _acon_c, "pelu": _pelu, "erfact": _erfact}


def _errors(name: str, params: dict[str, float], x: list[float]) -> np.ndarray:
    """Errors in ulps (test_accuracy's) of f, f' and each df/dp: rows as in _REF."""
    fn, keys = ja.get(name), list(params)
    xs = jnp.asarray(np.asarray(x, np.float32))
    value = jax.jit(lambda v: fn(v, **params))(xs)
    slope = jax.vmap(jax.grad(lambda v: fn(v, **params)))(xs)
    partials = jax.grad(lambda v, *p: fn(v, **dict(zip(keys, p, strict=True))),
                        argnums=tuple(range(1, len(keys) + 1)))
    traced = (jnp.float32(params[k]) for k in keys)
    grads = jax.vmap(partials, in_axes=(0,) + (None,) * len(keys))(xs, *traced)
    got = [value, slope, *grads]
    with mp.workprec(200):
        ps = {k: _p(v) for k, v in params.items()}
        ref = np.array([[float(r) if abs(r) < mp.mpf(2) ** 128 else float(mp.sign(r)) * np.inf
                         for r in _REF[name](_p(v), **ps)] for v in x]).T
    return np.array([ulp_error(np.asarray(g), r, ulp(r)) for g, r in zip(got, ref, strict=True)])


def _check(name, params, x):
    err = _errors(name, params, x)
    assert err[0].max() <= 4, f"value: {err[0]}"
    assert err[1:].max() <= 8, f"derivatives: {err[1:]}"


@pytest.mark.parametrize("p", [3e38, -3e38])
def test_acon_c_opposite_huge_slopes(p):
    # p1 - p2 = 6e38 overflowed: NaN everywhere (u = inf * 0 at x = 0)
    _check("acon_c", {"p1": p, "p2": -p, "beta": 1.0},
           [0.0, 2e-38, 5e-38, -3e-38, 1e-37, 3e-36, 1.0, -30.0])


def test_acon_c_opposite_slopes_in_the_tail():
    # p1 = -p2 = 1e38: u (p1 - p2) overflowed from |u| = 170 (f' inf, then NaN past
    # u = -148, inf * 0); x r flushed to 0 in df/dp at x = 1.26e-38, where x (r + u D) is
    # normal
    _check("acon_c", {"p1": 1e38, "p2": -1e38, "beta": 1.0},
           [7.4e-37, -9e-37, 3e-38, 1.26e-38, -1.26e-38])


def test_acon_c_equal_huge_slopes():
    # p1 = p2 = 3e38: f = 3e38 x, but p1 + p2 overflowed (NaN at 0, inf at x = 0.6) and f'
    # came out as inf
    _check("acon_c", {"p1": 3e38, "p2": 3e38, "beta": 1.0},
           [0.0, 0.6, 1.0, -0.5, 2.0, 1e-30, -1e-3])


@pytest.mark.parametrize(("p1", "p2", "beta"), [(2.0, -1.0, 3e38), (1.0, 0.0, 3e38)])
def test_acon_c_huge_beta(p1, p2, beta):
    # beta (p1 - p2) = 9e38 overflowed: NaN at x = 0, inf at 1; for beta (p1 - p2) = 3e38
    # df/dp1 was 0 at x = 1.2e-38 (x r flushed, see above)
    _check("acon_c", {"p1": p1, "p2": p2, "beta": beta},
           [2e-38, 5e-38, -3e-38, 1.2e-38, 1.19e-38, -1.2e-38, 1.0, 0.0])


def test_acon_c_dbeta_with_opposite_huge_slopes_and_a_tiny_beta():
    # x^2 d^2 overflowed before D k brought it back: inf for 2.1e15 at x = -12.4 (beta
    # (p1 - p2) = 12, |u| = 148); past |u| = 200 (x = 16.7) it was 0 where it is normal
    # (7.5e-37 at |u| = 268)
    _check("acon_c", {"p1": 3e38, "p2": -3e38, "beta": 2e-38},
           [-12.3612003, 12.36, -5.0, 1.0, 0.0, 22.3307991, -21.9815998])


@pytest.mark.parametrize(("p1", "p2", "beta", "x"), [
    # x (p_big + p_small e) overflowed where x n / (1 + e) is finite (6.7e37), and the tail's
    # x p_small before e^-|u| gave inf - inf = NaN where f is inf (6.84e37); x u in df/dp
    # overflowed where x (r + u D) is finite (1.3e38, 1.5e38)
    (5.0, -5.0, 1e-37, [6.7e37, 6.83924e37, 1.48512e38, -1.48512e38, -6.7e37, 3.3e38]),
    (4.2, -4.2, 1.2e-38, [8.1045e37, 8.105e37, 8.106e37, -8.105e37]),
    (1.0, 0.0, 2e-38, [1.31277e38, -1.31277e38, 3.4e38, -3.4e38]),
    # beta (p1 - p2) = 1e-36 and a low half of it (subnormal) lost: u off by 2^-24
    # relative, e^-|u| by 300 ulp at |u| = 259 in df/dbeta
    (5.0, -5.0, 1e-37, [2.58731e38, -2.58731e38, 1.9e38]),
    # u = beta (p1 - p2) x subnormal (flushed) where f' = (p1 + p2)/2 + (p1 - p2) u/2 is
    # normal: f' 0 for 4.7e-38 at x = 0.0094
    (5.0, -5.0, 1e-37, [0.00936685, -0.00936685, 1e-3, 0.05]),
    (1e30, -1e30, 1e-37, [5e-32, -3e-32, 1e-33]),
    # the small side x p_small e^-|u| flushed past |u| = 148 where it is normal (1.6e-38 at
    # x = -1.496e-3; 1e-27 at x = -3e37, |u| = 150)
    (1e30, 0.0, 1e-25, [-1.48e-3, -1.49626e-3, -1.5e-3]),
    (5.0, 0.0, 1e-37, [-3e37, -3.2e37, -2.9e37, -1.5e38]),
])
def test_acon_c_tiny_beta_at_huge_x(p1, p2, beta, x):
    _check("acon_c", {"p1": p1, "p2": p2, "beta": beta}, x)


def test_pelu_slope_where_a_over_b_overflows():
    # a/b = 3e68: inf * 0 = NaN in f' and df/db where e^{x/b} underflows, inf where
    # (a/b) e^{x/b} is finite; that is normal down to x/b = -245
    _check("pelu", {"a": 3e38, "b": 1e-30}, [-30.0, -2e-28, -2.4e-28, -2.44e-28, -1e-28, -1e-31])


@pytest.mark.parametrize("alpha", [3e38, -3e38])
def test_erfact_huge_alpha(alpha):
    # alpha times the exponential pair's significand overflowed before its scale 2^k:
    # NaN f' from alpha = 1.7e38 (at x = 1 too, where z > 12), and alpha x x overflowed
    # in df/dbeta
    _check("erfact", {"alpha": alpha, "beta": 1.0},
           [-29.68, -60.0, -88.52, -100.0, -120.0, 1.0, 0.0])


def test_erfact_alpha_below_the_overflow():
    # alpha = 1.7e38: 2^k underflowed (k = -128 at x = -88.5) where z = 0.6 does not, so
    # z^2 was 0: f' 5e6 ulp off; df/dbeta overflowed
    _check("erfact", {"alpha": 1.7e38, "beta": 1.0}, [-88.5194092, -88.0, -89.0, -147.369629])


def test_erfact_huge_alpha_deep_in_the_tail():
    # alpha = 1e38, beta = 0.01: df/dbeta ~ alpha e^{v - z^2} is normal where e^{v - z^2}
    # (v - z^2 = -164) is not: 0 for 2.8e-26 (and inf, NaN from alpha x at x = -8780)
    _check("erfact", {"alpha": 1e38, "beta": 0.01}, [-8531.2041, -8600.0, -8780.93359])


def test_exact_product_keeps_its_low_halves_normal():
    # The split a = hi + lo has lo down to ulp(a) = |a| 2^-23: an operand below tiny 2^23
    # gave a flushed low half, and a pair off by up to 2^-12 relative (_tp(9.85e-35,
    # 1.17e36): 1.2e-4), which cost acon_c and erfact with huge parameters
    a = np.geomspace(2.0**-126, 2.0**-90, 997).astype(np.float32)
    b = np.geomspace(2.0**115, 2.0**127, 997).astype(np.float32)[::-1]
    p, e = jax.jit(_tp)(jnp.asarray(a), jnp.asarray(b))
    exact = a.astype(np.float64) * b.astype(np.float64)  # a float32 product is exact here
    rel = np.abs((np.asarray(p, np.float64) + np.asarray(e, np.float64)) - exact) / np.abs(exact)
    assert rel.max() <= 2.0**-24, (a[np.argmax(rel)], rel.max())


def test_frexp_of_the_exponent_bits():
    # acon_c's u and df/dbeta are built from these significands and exponents
    x = np.concatenate([np.geomspace(2.0**-126, 3.4e38, 1001), [0.75, 1.0, 2.0**-126]])
    x = np.concatenate([x, -x]).astype(np.float32)
    m, e = jax.jit(_core.frexp)(jnp.asarray(x))
    mn, en = np.frexp(x)
    np.testing.assert_array_equal(np.asarray(m), mn)
    np.testing.assert_array_equal(np.asarray(e), en)
    special = jnp.array([0.0, 1e-40, -1e-40, np.inf, -np.inf, np.nan], jnp.float32)
    m, e = jax.jit(_core.frexp)(special)
    np.testing.assert_array_equal(np.asarray(m), [0.0, 0.0, 0.0, np.inf, -np.inf, np.nan])
    np.testing.assert_array_equal(np.asarray(e), [0, 0, 0, 0, 0, 0])
