"""Double-word (float32 pair) log and exp: ``u^β`` for entmax, e^x for ErfAct and Pserf.

α-entmax refines its threshold by a Newton step on Σ u_i^β - 1. XLA's ``pow`` is
correctly rounded, but its rounding error is unknown, and n of those errors in the
residual move every small p_i (see ``jaxact._sparse``). Here ``u^β = exp(β log u)`` is
carried in double-word arithmetic: ``log`` by the atanh series of a reduced argument
and ``exp`` by a Taylor series after an exact ln 2 reduction, both with their leading
terms as exact pairs and only small tails rounded, which leaves ~2^-28 relative error.
"""

from __future__ import annotations

import math

import jax.numpy as jnp
import numpy as np
from jax import Array
from jax.typing import ArrayLike

from jaxact._core import opaque, two_prod, two_sum
from jaxact._math import polyval
from jaxact._rational import _times_pow2  # exact 2^n from the exponent bits

# constants next to a value go through ``opaque``: XLA would fold (1 + r) - 1 to r
# ln 2 to 15 bits, so that k * _LN2_HI is exact for |k| < 2^9, plus the rest
_LN2_HI = float(np.float32(round(math.log(2.0) * 2.0**15) / 2.0**15))
_LN2_LO = float(np.float32(math.log(2.0) - _LN2_HI))
# ln 2 as 16 + 16 bits + rest: k * each 16-bit piece is exact for |k| < 2^8
_LN2_16 = (45426.0 / 65536.0, 1.4286197256296873e-06, -1.2905343460545282e-11)
# atanh tail: log m = 2s + 2s^3 (1/3 + s^2/5 + ...), |s| <= 0.172; exp tail: e^r = 1 + r
# + r^2/2 + r^3 (1/6 + r/24 + ...), |r| <= 0.35; each truncated below 2^-32 of the result.
_LOG_TAIL = tuple(1.0 / (2 * k + 3) for k in range(5))
_EXP_TAIL = tuple(1.0 / math.factorial(k + 3) for k in range(8))


def _log_pair(u: Array) -> tuple[Array, Array]:
    """``log u`` as a pair, for positive normal float32 ``u``."""
    m, e = jnp.frexp(u)  # u = m 2^e, m in [1/2, 1): move m to [1/sqrt 2, sqrt 2)
    low = m < math.sqrt(0.5)
    m = jnp.where(low, 2.0 * m, m)
    e = (e - low).astype(u.dtype)
    # s = (m - 1) / (m + 1) as a pair; m - 1 is exact (Sterbenz), m + 1 is a pair
    num = m - 1.0
    den, den_lo = two_sum(m, opaque(1.0, m))
    s = num / den
    p, p_lo = two_prod(s, den)
    s_lo = (((num - p) - p_lo) - s * den_lo) / den
    z = s * s
    tail = 2.0 * s * z * polyval(_LOG_TAIL, z)
    hi, lo = two_sum(2.0 * s, tail)
    lo = lo + 2.0 * s_lo
    # + e ln 2 (exact high part; |log m| <= 0.35 < ln 2, so no cancellation for e != 0)
    hi, lo2 = two_sum(e * _LN2_HI, hi)
    return hi, lo2 + (lo + e * _LN2_LO)


def _exp_pair(y: Array, y_lo: Array) -> tuple[Array, Array]:
    """``exp(y + y_lo)`` as a pair, for ``y`` below float32's overflow threshold."""
    hi, lo, n = exp_pair_parts(y, y_lo)
    return _times_pow2(hi, n), _times_pow2(lo, n)


def exp_pair_parts(y: Array, y_lo: Array) -> tuple[Array, Array, Array]:
    """``(hi, lo, n)`` with ``exp(y + y_lo) = (hi + lo) 2^n`` (int32 ``n``, |y| < 177).

    The pair before scaling: 2^n may underflow where a product with it does not.
    """
    k = jnp.round(y * (1.0 / math.log(2.0)))
    r, r_lo = two_sum(y, -k * _LN2_HI)
    r_lo = r_lo + (y_lo - k * _LN2_LO)
    r, r_lo = two_sum(r, r_lo)
    # 1 + r + r^2/2 as exact pairs (two_sum, two_prod); only the tail r^3/6 + ... rounds
    sq, sq_lo = two_prod(r, r)
    a, a_lo = two_sum(opaque(1.0, r), r)
    hi, b_lo = two_sum(a, 0.5 * sq)
    tail = r * sq * polyval(_EXP_TAIL, r) + r_lo * (1.0 + r)
    hi, lo2 = two_sum(hi, (a_lo + b_lo) + (0.5 * sq_lo + tail))
    return hi, lo2, k.astype(jnp.int32)


def exp_lite_parts(y: Array, y_lo: Array) -> tuple[Array, Array, Array]:
    """``(hi, lo, n)`` as :func:`exp_pair_parts` to about 2^-28 relative, |y| <= 148.

    Cheaper: with ln 2 in 16-bit pieces r = y - k ln 2 is one two_sum, and only 1 + r is
    summed exactly; the rest of e^r (< 0.07) is rounded once. Enough for a value (a tenth
    of a float32 ulp), not for an argument of a further exp such as z^2 ~ 100.
    """
    k = jnp.round(y * (1.0 / math.log(2.0)))
    r, r_lo = two_sum(y - k * _LN2_16[0], -(k * _LN2_16[1]))
    r_lo = (r_lo - k * _LN2_16[2]) + y_lo
    one = opaque(1.0, r)
    a = one + r
    rest = (r * r) * (0.5 + r * polyval(_EXP_TAIL, r))
    low = (r - (a - one)) + (rest + r_lo * (a + rest))  # r_lo: up to 4e-6 from y_lo
    hi = a + low
    return hi, low - (hi - a), k.astype(jnp.int32)


def pow_pair(u: Array, beta: ArrayLike, beta_lo: ArrayLike = 0.0) -> tuple[Array, Array]:
    """``u^(β + β_lo)`` as a pair ``(hi, lo)``, for positive normal float32 ``u``.

    ``hi + lo`` is within ~2^-28 relative while ``lo`` stays a normal float32 (results
    above ~1e-28); ``beta`` is a float32 scalar or array, ``beta_lo`` its low word.

    Examples:
      >>> hi, lo = pow_pair(jnp.float32(3.0), jnp.float32(0.5))
      >>> print(float(hi) + float(lo) - 3.0**0.5 < 1e-15)
      True
    """
    lh, ll = _log_pair(u)
    y, y_lo = two_prod(jnp.broadcast_to(beta, lh.shape).astype(u.dtype), lh)
    return _exp_pair(y, y_lo + (beta * ll + beta_lo * lh))
