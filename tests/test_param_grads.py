"""Derivatives in the parameters where a parameter-gradient sweep found them wrong.

Three kinds: partials that cancelled or lost their rounding (celu's, isru's, acon_c's,
soft_exponential's with alpha < 0), partials flushed to 0 where their true value is
normal (softplus's beyond |beta x| = 87, rational's near 2^-126), and partials that said
0 at a NaN input instead of NaN. Each is checked in forward (``jax.jvp``) and reverse
(``jax.grad``) mode, which take different paths through the rules.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import mpmath as mp
import numpy as np
import pytest
from casekit import _p

import jaxact as ja


def _partial(fn, params, name, x, index=None, mode="reverse"):
    """d fn(x) / d params[name] (entry ``index`` of a coefficient array) at scalar x."""
    params = {k: jnp.asarray(v, jnp.float32) for k, v in params.items()}
    x = jnp.float32(x)

    def f(p):
        return fn(x, **{**params, name: p})

    if mode == "reverse":
        g = jax.grad(f)(params[name])
        return float(g if index is None else g[index])
    t = jnp.zeros_like(params[name])
    t = jnp.ones_like(t) if index is None else t.at[index].set(1.0)
    return float(jax.jvp(f, (params[name],), (t,))[1])


# The definitions, at the float32 parameters and inputs; the references are mpmath's
# derivatives of them in the parameter (200 bits).
def _celu(x, alpha):  # x <= 0 only
    return alpha * mp.expm1(x / alpha)


def _softplus(x, beta):
    return mp.log1p(mp.exp(beta * x)) / beta


def _isru(x, alpha):
    return x / mp.sqrt(1 + alpha * x * x)


def _acon_c(x, p1, p2, beta):
    d = p1 - p2
    return d * x / (1 + mp.exp(-beta * d * x)) + p2 * x


def _soft_exponential(x, alpha):  # alpha < 0 only
    return -mp.log(1 - alpha * (x + alpha)) / alpha


def _erfact(x, alpha, beta):
    return x * mp.erf(alpha * mp.exp(beta * x))


def _pserf(x, gamma, delta):
    return x * mp.erf(gamma * mp.log1p(mp.exp(delta * x)))


def _pelu(x, a, b):  # x >= 0 only
    return a / b * x


def _srs(x, alpha, beta):
    return x / (x / alpha + mp.exp(-x / beta))


# (function, its definition, parameters, the parameter, points), each row once wrong:
PARTIALS = [
    # expm1(u) - u e^u ~ -u^2/2 (u = x/alpha) cancelled to nothing near 0 (1.4e7 units);
    # NaN where x/alpha overflows
    (ja.celu, _celu, {"alpha": 1.0}, "alpha", [-4.2e-8, -1e-3, -0.01, -0.5, -3.0, -3.4e38]),
    (ja.celu, _celu, {"alpha": 0.1}, "alpha", [-1e-3, -0.05, -3.4e38]),
    # flushed beyond |beta x| = 87, where it is normal
    (ja.softplus, _softplus, {"beta": 1.0}, "beta", [-88.369, 88.369, -90.18]),
    (ja.softplus, _softplus, {"beta": 0.5}, "beta", [-185.16, 176.7]),
    # -y^3/2 tripled y's rounding: 8.4 ulp
    (ja.isru, _isru, {"alpha": 1e-6}, "alpha", [-19.5701981, 15.9399796]),
    (ja.isru, _isru, {"alpha": 100.0}, "alpha", [0.568702817, -0.64830327]),
    # the rounded bracket 1 + u r around u = -1.6 and -4.7: up to 11.6 ulp
    (ja.acon_c, _acon_c, {"p1": -1.5, "p2": 0.3, "beta": 0.05}, "p1",
     [17.7763882, 17.8121891, 17.7777882]),
    (ja.acon_c, _acon_c, {"p1": -1.5, "p2": 0.3, "beta": 0.05}, "p2", [-17.7763882]),
    (ja.acon_c, _acon_c, {"p1": 0.8, "p2": -0.5, "beta": 2.0}, "p1", [-1.82030904, -2.25191116]),
    (ja.acon_c, _acon_c, {"p1": 0.8, "p2": -0.5, "beta": 2.0}, "p2", [1.82030904]),
    (ja.acon_c, _acon_c, {"p1": 1.0, "p2": 0.25, "beta": 1.0}, "p1", [-2.14111066]),
    (ja.acon_c, _acon_c, {"p1": 1.0, "p2": 0.25, "beta": 1.0}, "p2", [2.14111066]),
    # s = w/(2 + w), d/(2 + w) and 1 + s rounded near s = -0.55: up to 12.5 ulp
    (ja.soft_exponential, _soft_exponential, {"alpha": -0.1}, "alpha",
     [-7.03853512, -6.94193459, -7.03173494]),
    # 0 where the gate is 0 (alpha = 0, gamma = 0), though x's factor is not: a learnt
    # alpha would stay at 0
    (ja.erfact, _erfact, {"alpha": 0.0, "beta": 0.75}, "alpha", [1.0, -1.0, 10.0, 100.0]),
    (ja.pserf, _pserf, {"gamma": 0.0, "delta": 1.25}, "gamma", [1.0, -1.0, 10.0]),
    # C x, x^2 or x/b overflowed before a factor below 1 (x = 3.4e38, 2.6e19)
    (ja.erfact, _erfact, {"alpha": 0.75, "beta": 0.0}, "alpha", [3.4e38, 2.0, 4.7e-38]),
    (ja.erfact, _erfact, {"alpha": 0.75, "beta": 0.0}, "beta", [2.62323793e19]),
    (ja.pserf, _pserf, {"gamma": 1.25, "delta": 0.0}, "gamma", [3.4e38]),
    (ja.pelu, _pelu, {"a": 0.01231721, "b": 0.1270555}, "b", [3.4e38]),
    # within 1% of the pole (beta = 0.99 e alpha, 0.999 e alpha) V = (e alpha - beta) +
    # beta G rounded beta G by ~2.5 ulp, which the partial squares: 8.2 and 8.6 ulp
    (ja.srs, _srs, {"alpha": 1.0, "beta": 2.691098928451538}, "beta", [-1.8979439735412598]),
    (ja.srs, _srs, {"alpha": 1.0, "beta": 2.7155635356903076}, "beta", [-1.8590929508209229]),
]


def _reference(definition, params, name, x):
    with mp.workprec(200):
        fixed = {k: _p(v) for k, v in params.items()}
        at = _p(x)
        return float(mp.diff(lambda p: definition(at, **{**fixed, name: p}), fixed[name]))


@pytest.mark.parametrize("mode", ["reverse", "forward"])
@pytest.mark.parametrize(("fn", "definition", "params", "name", "xs"), PARTIALS,
                         ids=[f"{c[0].__name__}-{c[3]}-{c[2][c[3]]}" for c in PARTIALS])
def test_parameter_partial_within_8_ulp(fn, definition, params, name, xs, mode):
    for x in xs:
        want = _reference(definition, params, name, x)
        got = _partial(fn, params, name, x, mode=mode)
        assert abs(got - want) <= 8 * np.spacing(np.float32(abs(want))), (x, got, want)


def test_soft_exponential_alpha_partial_overflows_to_inf_not_nan():
    # d/dalpha ~ (x - b)^2/2 = 5e59 here: past float32 it is +inf, and the low part of
    # the double-float square, which overflows with either sign, must not make it NaN
    g = jax.grad(lambda a: ja.soft_exponential(jnp.float32(1e30), alpha=a))(jnp.float32(-1e-35))
    assert float(g) == np.inf


# (numerator, denominator, x, k, d rational / d b_k) with d/db_k = -sign(B) x^k P / Q^2,
# computed by mpmath at 200 bits from the float32 coefficients and x. Each value is a
# normal float32 that came back as 0: s fm y^k r, fm in [0.5, 1), went subnormal before
# 2^fe was applied.
RATIONAL_TINY = [
    ((1.0, -2.0, 1.0), (-2.0, 1.0), 1.0858652e-19, 2, 1.17910321793e-38),
    ((1.0, -2.0, 1.0), (-2.0, 1.0), 2.0**-126, 1, 1.17549435082e-38),
    ((1.0, -2.0, 1.0), (-2.0, 1.0), -(2.0**-126), 1, 1.17549435082e-38),
    ((2.0, -3.0, 1.0), (-1.0, 1.0), 7.6872699e-20, 2, 1.18188236981e-38),
    ((1.0, 1.0), (-1.0, 1e-3), 1.0858652e-19, 2, 1.17910321793e-38),
    ((1.0, 3.0, 3.0, 1.0), (3.0, 3.0, 1.0), -2.85717196e-13, 3, -2.33243279959e-38),
    ((4.0, 1.0), (-1.0, 1.0), 7.666467e-20, 2, 2.35098862117e-38),  # f = 4: fe = 2
]


@pytest.mark.parametrize("mode", ["reverse", "forward"])
@pytest.mark.parametrize(("num", "den", "x", "k", "want"), RATIONAL_TINY)
def test_rational_denominator_partial_is_not_flushed(num, den, x, k, want, mode):
    got = _partial(ja.rational, {"numerator": num, "denominator": den}, "denominator", x,
                   k - 1, mode)
    assert abs(got - want) <= 8 * np.spacing(np.float32(abs(want)))


NAN_CASES = [
    (ja.hard_shrink, {"lambd": 0.5}, "lambd", None),
    (ja.soft_shrink, {"lambd": 0.5}, "lambd", None),
    (ja.hard_tanh, {"min_val": -1.0, "max_val": 1.0}, "min_val", None),
    (ja.hard_tanh, {"min_val": -1.0, "max_val": 1.0}, "max_val", None),
    (ja.apl, {"a": (0.2, -0.3), "b": (-1.0, 1.0)}, "a", 0),
    (ja.apl, {"a": (0.2, -0.3), "b": (-1.0, 1.0)}, "b", 1),
    (ja.rational, {"numerator": (0.0, 1.0, 0.5), "denominator": (0.0, 0.25)}, "numerator", 1),
    (ja.rational, {"numerator": (0.0, 1.0, 0.5), "denominator": (0.0, 0.25)}, "denominator", 1),
    *((ja.srelu, {"t_left": 0.0, "a_left": 0.2, "t_right": 1.0, "a_right": 1.0}, k, None)
      for k in ("t_left", "a_left", "t_right", "a_right")),
    (ja.star_relu, {"s": 0.8944, "b": -0.4472}, "b", None),
]


@pytest.mark.parametrize("mode", ["reverse", "forward"])
@pytest.mark.parametrize(("fn", "params", "name", "index"), NAN_CASES,
                         ids=[f"{c[0].__name__}-{c[2]}" for c in NAN_CASES])
def test_parameter_partials_are_nan_at_nan(fn, params, name, index, mode):
    # NaN only where x is: at numbers, infinities included, hard_shrink's is still 0.
    assert np.isnan(_partial(fn, params, name, np.nan, index, mode))
    assert not np.isnan(_partial(fn, params, name, 0.25, index, mode))
    if fn is not ja.rational:  # its partials at +-inf are NaN by design (0 * inf)
        assert not np.isnan(_partial(fn, params, name, np.inf, index, mode))
