"""rational with degenerate coefficients: zero top coefficients (B = 0 makes it a
polynomial), a tiny top denominator coefficient, a derivative numerator that cancels
to a high power of x, and coefficient partials where the value overflows.

Found by ``tools/sweep_parameters.py rational``; references are mpmath at 200 bits from
the float32 coefficients and inputs, or exact identities.
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

GELU_NUM = (-0.00388997, 0.5, 0.421159, 0.127646, 0.0165527, 0.000777394)
RANDOM = ((0.1206806, 2.403455, 0.03991676, -0.1843487, 0.01763334, 2.462928),
          (2.357201, 3.518762, -20.42268, 0.1299725))  # the sweep's first random set


def _f(x, num, den):
    return ja.rational(x, numerator=num, denominator=den)


def _value_dx(num, den, x):
    num, den = jnp.asarray(num, jnp.float32), jnp.asarray(den, jnp.float32)
    v, g = jax.jit(jax.value_and_grad(_f))(jnp.float32(x), num, den)
    return float(v), float(g)


def _partials(num, den, x, mode):
    """(d/da, d/db) at scalar x, by jax.grad or by one-hot jax.jvp tangents."""
    num, den, x = jnp.asarray(num, jnp.float32), jnp.asarray(den, jnp.float32), jnp.float32(x)
    if mode == "reverse":
        return tuple(np.asarray(g) for g in jax.grad(_f, argnums=(1, 2))(x, num, den))
    da = [jax.jvp(lambda a: _f(x, a, den), (num,), (t,))[1] for t in jnp.eye(num.size)]
    db = [jax.jvp(lambda b: _f(x, num, b), (den,), (t,))[1] for t in jnp.eye(den.size)]
    return np.asarray(da), np.asarray(db)


def _reference(num, den, x):
    """(f, f', d/da_j, d/db_k) with f = P/(1 + |B|), d/db_k = -sign(B) x^k P / Q^2."""
    with mp.workprec(200):
        a, b, t = [_p(v) for v in num], [_p(v) for v in den], _p(x)
        p = sum(c * t**j for j, c in enumerate(a))
        dp = sum(j * c * t ** (j - 1) for j, c in enumerate(a) if j)
        bb = sum(c * t ** (k + 1) for k, c in enumerate(b))
        db = sum((k + 1) * c * t**k for k, c in enumerate(b))
        s, q = mp.sign(bb), 1 + abs(bb)
        return (p / q, (dp * q - p * s * db) / q**2, [t**j / q for j in range(len(a))],
                [-s * t ** (k + 1) * p / q**2 for k in range(len(b))])


def _units(got, want):
    """Errors in float32 ulps of the references (in float64: some are beyond float32)."""
    want = np.array([float(w) for w in want])
    return ulp_error(np.asarray(got, np.float32), want, ulp(want))


# The value is P(x), finite up to |x| ~ 2e8 here; the scaled denominator 2^{-4e}
# (x = y 2^e) made the scaled quotient overflow from |x| ~ 3e4 (inf), and was flushed
# from |x| = 2^32 (0/0 = NaN), d/dx likewise.
@pytest.mark.parametrize("x", [32286.2812, -1e6, 2e8])
def test_rational_with_zero_denominator_is_its_numerator(x):
    want = _reference(GELU_NUM, (0.0,) * 4, x)
    v, d = _value_dx(GELU_NUM, (0.0,) * 4, x)
    assert _units([v], [want[0]])[0] <= 4
    assert _units([d], [want[1]])[0] <= 8


# The numerator (0, 1, 0, 0, 0, 0) over B = 0 is the identity (a natural start for a
# learnt PAU): it was inf or NaN beyond |x| = 2^32, and all-zero coefficients (rational
# = 0) gave NaN there, value and derivatives.
@pytest.mark.parametrize("x", [1e10, 1e30, -3e38])
def test_rational_degenerate_sets_are_exact_identities(x):
    assert _value_dx((0.0, 1.0, 0.0, 0.0, 0.0, 0.0), (0.0,) * 4, x) == (np.float32(x), 1.0)
    assert _value_dx((0.0,) * 6, (0.0,) * 4, x) == (0.0, 0.0)


# Zero top numerator coefficients: the scale chosen for degree 5 flushed P = 2 + x
# (NaN from |x| ~ 1e17). A tiny top denominator coefficient: P's scaled quotient by
# Q 2^{-4e} ~ 1e-12 overflowed (inf from x ~ 6e9, true value 2e19).
@pytest.mark.parametrize(("num", "den", "x"), [
    ((2.0, 1.0, 0.0, 0.0, 0.0, 0.0), (0.5, 0.0, 0.0, 0.0), 1.79683839e17),
    ((2.0, 1.0, 0.0, 0.0, 0.0, 0.0), (0.5, 0.0, 0.0, 0.0), -6.57105752e18),
    ((0.1, 1.0, 0.5, 0.2, 0.1, 0.05), (0.3, 0.2, 0.1, 1e-12), 6.30375322e9),
    ((0.1, 1.0, 0.5, 0.2, 0.1, 0.05), (1.0, 0.0, 0.0, 1e-20), -10816036.0),
])
def test_rational_with_small_or_zero_top_coefficients(num, den, x):
    want = _reference(num, den, x)
    v, d = _value_dx(num, den, x)
    assert _units([v], [want[0]])[0] <= 4
    assert _units([d], [want[1]])[0] <= 8


# All coefficients +-1: P'Q - PQ' cancels to 5x^4 + ... (6.2e-34 here); P' and the
# rest were evaluated apart, each rounded near 1, and d/dx came back as 0.
@pytest.mark.parametrize(("num", "den", "x"), [
    ((1.0,) * 6, (1.0,) * 4, 3.33461792e-9),
    ((-1.0,) * 6, (-1.0,) * 4, 3.33461792e-9),
    ((1.0, -1.0, 1.0, -1.0, 1.0, -1.0), (1.0, -1.0, 1.0, -1.0), -3.33461792e-9),
])
def test_rational_derivative_numerator_that_cancels_near_zero(num, den, x):
    assert _units([_value_dx(num, den, x)[1]], [_reference(num, den, x)[1]])[0] <= 8


# f = 6.4e39 overflows at x = 3.4e38 but d/da_4 = 7.7 and d/db_3 = -146 do not: every
# coefficient partial was NaN wherever f was inf (and wherever f was inf through the
# overflows above).
@pytest.mark.parametrize("mode", ["reverse", "forward"])
@pytest.mark.parametrize(("num", "den", "x"), [
    (*RANDOM, 3.4028235e38),
    (*RANDOM, -3.4028235e38),
    (GELU_NUM, (0.0,) * 4, 1e8),
])
def test_rational_partials_where_the_value_overflows(num, den, x, mode):
    da, db = _partials(num, den, x, mode)
    _, _, wa, wb = _reference(num, den, x)
    assert np.all(_units(da, wa) <= 8) and np.all(_units(db, wb) <= 8), (da, db)
