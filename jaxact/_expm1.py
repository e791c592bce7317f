"""e^{2a} as 2^n (1 + 2h): expm1 accurate near 0 for about the cost of one exp.

XLA's CPU float32 ``exp`` (1.7 ms at 4096x1024 on one core) costs more than its whole
``tanh`` (1.55 ms), so a tanh built on it runs at about twice jax.nn's time. Here the
argument is reduced by hand: ``n = round(2a / log 2)`` through the 1.5 * 2^23 shifter
(whose bits also give 2^n, one shift), ``s = a - n log(2)/2`` in two parts (the first of
15 bits, so that ``n * part`` is exact), and ``h = expm1(2s) / 2`` from a degree-6
polynomial on ``|s| <= log(2)/4`` (tests/reference/fit_expm1_half.py). The caller
bounds ``a``; there is no overflow or NaN handling beyond what the bound implies.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
from jax import Array, lax

from jaxact import _core, _math

# 1.5 * 2^23 + 127: adding it rounds to a whole number whose low mantissa bits are
# n + 127, the biased exponent of 2^n.
_SHIFTER = 12583039.0
_TWO_OVER_LN2 = 2.8853900817779268
_HALF_LN2_HI = 0.3465728759765625  # 15 significant bits
_HALF_LN2_LO = 7.143034101431130e-07
# expm1(2s)/2 = s + s^2 (1 + s P(s)) on |s| <= log(2)/4: 0.24 ulp (fit_expm1_half.py)
_H_P = (0.6666619181632996, 0.3333348035812378, 0.13385741412639618, 0.04447561502456665)
# tanh(x) rounds to +-1 in float32 beyond |x| = 9.011; clipping there keeps 2^n normal
_TANH_CLIP = 9.1
# n = 129: 2^(n-1) = inf, so 1 / (1 + e^{2a}) is exactly 0 (it is subnormal from 43.7)
_CLIP = 44.8


def rounded(t: Array, shifter: float) -> tuple[Array, Array]:
    """``(k, n)``: ``k = t + shifter`` (a shifter such as ``_SHIFTER``: its low bits hold
    ``n`` plus the bias) and ``n = round(t)``, a whole number with derivative 0."""
    k = t + shifter
    # opaque: XLA would fold (k + c) - c back to k. stop_gradient: traced as t, n took the
    # reduced argument t - n's derivative, and with it every second derivative through
    # the reduction, to 0 (gelu'' in float32 was off by 200%)
    return k, lax.stop_gradient(k - _core.opaque(shifter, k))


def _reduce(a: Array, shifter: float, lo: Array | None) -> tuple[Array, Array]:
    """``(k, h)``: ``k = 2a / log 2 + shifter`` (its low bits hold ``n`` plus the bias)
    and ``h = expm1(2s) / 2``, ``s = a - n log(2)/2`` reduced exactly (``lo`` added)."""
    k, n = rounded(a * _TWO_OVER_LN2, shifter)
    s = a - n * _HALF_LN2_HI
    s = (s if lo is None else s + lo) - n * _HALF_LN2_LO
    return k, (s * s) * (1.0 + s * _math.polyval(_H_P, s)) + s


def exp2_parts(a: Array, *, shift: int = 0, lo: Array | None = None) -> tuple[Array, Array]:
    """``(2^(n - shift), h)`` with ``e^{2a} = 2^n (1 + 2h)`` (float32).

    ``h`` is ``expm1(2s)/2`` of the reduced ``s`` with ``|s| <= log(2)/4``; at ``n = 0``
    (``|a| < 0.173``) it is expm1(2a)/2 itself, to 0.24 ulp plus one rounding. The
    power is normal for ``-126 <= n - shift <= 127``, ``inf`` at ``n - shift = 128`` and
    0 at -127; the caller bounds ``a`` to stay within those. ``lo``: a low part of
    ``a`` (``e^{2(a + lo)}``), added to the exactly reduced ``a - n log(2)/2``, so that
    it is not lost to the rounding of a large ``a``.
    """
    k, h = _reduce(a, _SHIFTER - shift, lo)
    return pow2(lax.bitcast_convert_type(k, jnp.int32), 0), h


def exp2_reduce(a: Array, *, lo: Array | None = None) -> tuple[Array, Array]:
    """``(bits, h)`` with ``e^{2(a + lo)} = 2^n (1 + 2h)`` (``exp2_parts``' h) and ``n``
    held in ``bits`` (int32) for :func:`pow2`: one reduction, several powers of 2."""
    k, h = _reduce(a, _SHIFTER, lo)
    return lax.bitcast_convert_type(k, jnp.int32), h


def exp2_bits(a: Array) -> tuple[Array, Array]:
    """``(bits, q)`` with ``e^{2a} = 2^n q``, ``q = 1 + 2h`` in [0.7, 1.42] (see
    :func:`exp2_reduce`)."""
    bits, h = exp2_reduce(a)
    return bits, 1.0 + 2.0 * h


def pow2(bits: Array, shift: int) -> Array:
    """``2^(n - shift)`` from ``exp2_bits``' bits, exact for ``-126 <= n - shift <= 127``
    (``inf`` at 128); outside, a meaningless number the caller must not select."""
    return lax.bitcast_convert_type((bits - shift) << 23, jnp.float32)


@jax.custom_jvp
def tanh_value(x: Array) -> Array:
    """tanh(x) = g / (g + 1) with g = expm1(2x)/2, to 2.52 ulp (float32, exhaustive).

    One rational step on the pieces of ``exp2_parts``: ``g = 2^n h + (2^n - 1)/2``
    (exact at ``n = 0``), then one division, whose conditioning falls as ``1/(g + 1)``
    where ``g`` itself carries the reduction's rounding. On x itself (not ``|x|``), so no
    sign is restored; only -0 needs a select (the ``+ 0`` of ``2^n - 1`` makes it +0).
    """
    if x.dtype == jnp.float64:  # the polynomial is float32's; XLA's float64 tanh is fine
        return jnp.tanh(x)
    two_n, h = exp2_parts(jnp.clip(x, -_TANH_CLIP, _TANH_CLIP))
    g = two_n * h + (0.5 * two_n - 0.5)
    return jnp.where(x == 0, x, g / (g + 1.0))


def _scaled_1p_exp(a: Array, shift: int) -> Array:
    """(1 + e^{2a}) / 2^shift = 2^(n - shift) (1 + 2h) + 2^-shift, inf where the power is.

    ``1 + 2h > 0``, so ``2^(n - shift) = inf`` gives inf (split as ``2^(n - shift) 2h +
    ...``, a negative h made it NaN). shift 1: inf from ``a = 44.53`` (``n = 129``).
    """
    scale, h = exp2_parts(a, shift=shift)
    return scale * (1.0 + 2.0 * h) + 2.0**-shift


@jax.custom_jvp
def sigmoid_value(x: Array) -> Array:
    """sigmoid(x) to 2.4 ulp; exactly 0 below x = -89.07 (subnormal there), 1 from 18 on.

    Against 1 / (1 + exp(-x)) it saves the exp's special cases (XLA's CPU exp alone
    costs as much as the whole function).
    """
    if x.dtype == jnp.float64:
        return _math.sigmoid_parts(x)[0]
    return 0.5 / _scaled_1p_exp(jnp.clip(-0.5 * x, -9.0, _CLIP), 1)


@jax.custom_jvp
def sigmoid_slope(x: Array) -> Array:
    """sigmoid'(x) = s (1 - s) with s = sigmoid(-|x|), to 2.8 ulp: neither factor cancels."""
    if x.dtype == jnp.float64:
        return _math.sigmoid_parts(x)[1]
    s = 0.5 / _scaled_1p_exp(jnp.minimum(0.5 * jnp.abs(x), _CLIP), 1)
    return s * (1.0 - s)


@jax.custom_jvp
def sech2(x: Array) -> Array:
    """sech^2(x) = r (1 - r/4) with r = 4 / (1 + e^{2|x|}), to 2.8 ulp; no 1 - tanh^2.

    Not 4 sigmoid'(2x): r stays normal until sech^2 itself turns subnormal, while
    sigmoid'(2x) is flushed a binade earlier (x = 44).
    """
    if x.dtype == jnp.float64:
        return _math.tanh_parts(x)[1]
    r = 2.0 / _scaled_1p_exp(jnp.minimum(jnp.abs(x), _CLIP), 1)
    return r * (1.0 - 0.25 * r)


tanh_value.defjvps(lambda dx, _, x: sech2(x) * dx)
sech2.defjvps(lambda dx, y, x: -2.0 * y * tanh_value(x) * dx)
sigmoid_value.defjvps(lambda dx, _, x: sigmoid_slope(x) * dx)
# sigmoid'' = sigmoid' (1 - 2 sigmoid) = -sigmoid' tanh(x/2)
sigmoid_slope.defjvps(lambda dx, y, x: -y * tanh_value(0.5 * x) * dx)


@jax.custom_jvp
def silu_value(x: Array) -> Array:
    """x sigmoid(x) = (x / 2^7) / ((1 + e^-x) / 2^7), to 2.4 ulp.

    The scale 2^-7 keeps ``2^(n-7)`` normal down to x = -93.2, past x = -92 where x e^x
    turns subnormal (e^-x / 2 alone overflows from -89); below, x = -inf included,
    ``2^(n-7) = inf`` (x is capped in the numerator, so no inf / inf). Below 2^-100 the
    scaled numerator would be subnormal: x/2 there.
    """
    if x.dtype == jnp.float64:
        return _math.silu_parts(x)[0]
    v = (jnp.maximum(x, -100.0) * 2.0**-7) / _scaled_1p_exp(jnp.clip(-0.5 * x, -9.0, 46.7), 7)
    return jnp.where(jnp.abs(x) < 2.0**-100, 0.5 * x, v)


@jax.custom_jvp
def silu_slope(x: Array) -> Array:
    """silu'(x) = sigmoid(x) (1 + x sigmoid(-x)), from t = sigmoid(-|x|), to 3.3 units.

    ``(1 - t)(1 + x t)`` for x >= 0; ``t (1 + x (1 - t))`` for x < 0, with t kept as
    ``2^-7 r``, ``r = 1 / ((1 + e^{|x|}) / 2^7)``, and the bracket multiplied in before
    ``r``: normal down to x = -92 like the value (near the zero at x = -1.28 the bracket
    cancels, within its conditioning). x is capped where it multiplies a 0 (+-inf).
    """
    if x.dtype == jnp.float64:
        return _math.silu_parts(x)[1]
    r = 1.0 / _scaled_1p_exp(jnp.minimum(0.5 * jnp.abs(x), 46.7), 7)  # 2^7 sigmoid(-|x|)
    t = 2.0**-7 * r
    xc = jnp.clip(x, -100.0, 100.0)
    return jnp.where(x >= 0, (1.0 - t) * (1.0 + xc * t), (2.0**-7 * (1.0 + xc * (1.0 - t))) * r)


silu_value.defjvps(lambda dx, _, x: silu_slope(x) * dx)
# silu'' = sigmoid'(x) (2 + x (1 - 2 sigmoid(x))) = sigmoid'(x) (2 - x tanh(x/2)); x is
# capped so that sigmoid' = 0 meets a finite bracket at +-inf
silu_slope.defjvps(lambda dx, _, x: sigmoid_slope(x) * (2.0 - jnp.clip(x, -200.0, 200.0)
                                                           * tanh_value(0.5 * x)) * dx)
