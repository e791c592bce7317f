"""GELU kernels, exact (erf) and tanh forms: value and derivative in one pass.

Both return ``(f(x), f'(x))`` for float32 or float64 ``x`` (jaxact computes other floats
in float32), and as mantissas with scales for products that stay normal where f itself
is flushed (the GLU gates). The float32 kernels meet jaxact's bar (value <= 4 ulp, derivative
<= 8 ulp against the exact function of the float32 input) on every finite input; the
float64 ones use plain formulas (lax.erfc, exp) and are accurate to ~1e-13 relative.

Why not the textbook formulas: in the negative tail the rounding errors of x/sqrt(2) and
x*x (or of the tanh argument u) are multiplied by ~x^2 (resp. ~|u|), XLA's float32 erfc is
off by ~60 ulp there and tanh by ~4 ulp, and Phi(x) + x phi(x) cancels near its zero at
x ~ -0.75. Here exp() only ever sees an argument carried in double-float (two_prod-style
error-free products), the error function is replaced by fitted polynomials of the scaled
erfcx (tests/reference/fit_erfcx.py), and each derivative is written as (x - x0) * poly
near its zero.

Second derivatives: every step is plain differentiable jnp code (no stop_gradient); the
error-free splits have zero derivative in their low parts, so jax.grad of the returned
derivative is the derivative of the approximation, accurate to ~1e-6 relative.

XLA's algebraic simplifier reassociates additions of constants ((c1 - a) + c2 becomes
(c1 + c2) - a, and (c + q) - c becomes q), which destroys compensated sums; constants that
take part in one go through ``_core.opaque`` (an optimization barrier the simplifier cannot see
through; it costs nothing at run time).
"""

from __future__ import annotations

import math
from collections.abc import Callable

import jax.numpy as jnp
from jax import Array, lax
from jax.typing import ArrayLike

from jaxact import _core, _expm1
from jaxact._math import polyval

# ---- constants: printed by tests/reference/fit_erfcx.py (run it to regenerate) -------
_A0 = (0.7517915368080139, -1.211444988769017e-08)  # zero of gelu' at x = -A0, hi + lo
_X0 = (-0.7524614334106445, 1.1339627903339533e-08)  # zero of the tanh form's derivative
_C1 = (1.5957691669464111, -4.534068054340423e-08)  # 2 sqrt(2/pi), hi + lo
_C3 = 0.07135481387376785  # 2 sqrt(2/pi) 0.044715
_C3_HEAD = 0.07135009765625  # 12-bit head of C3: _C3_HEAD * (12-bit number) is exact
_C3_TAIL = 4.718616310128709e-06  # C3 - _C3_HEAD
# Tail shifts: exp(-s) = exp(hi - s) exp(lo) 2^-80 per level; hi = k 2^-16 makes hi - s
# exact for the s in [64, 190] where a level applies.
_SHIFT80 = (55.45176696777344, 7.477022187253379e-06)  # 80 ln 2 = hi + lo
_SHIFT160 = (110.90354919433594, -3.047446879932429e-07)  # 160 ln 2
# h(a) = exp(a^2/2) Q(a) = erfcx(a/sqrt2)/2 on 0 <= a <= 2.5, in y = a - 1.25.
_H = (0.23076032102108002, -0.11049187928438187, 0.046322740614414215,
      -0.017529526725411415, 0.006102702580392361, -0.0019800022710114717,
      0.0006046002963557839, -0.00017540508997626603, 4.825310315936804e-05,
      -1.2230534593982156e-05, 3.172704055032227e-06, -1.0412760502731544e-06,
      2.3103937962787313e-07)
# (h(a) - a/sqrt(2 pi)) / (A0 - a) on 0 <= a <= 2.5, in y = a - 1.25.
_K = (0.5377618670463562, -0.056859180331230164, 0.021148689091205597,
      -0.007264405023306608, 0.002331556985154748, -0.0007054453599266708,
      0.0002029742463491857, -5.5618424084968865e-05, 1.4089741853240412e-05,
      -3.5512964586814633e-06, 1.1565282420633594e-06, -2.733578128299996e-07)
# a h(a) = a Q(a) exp(a^2/2) on 2.5 <= a <= 16, in w = 1/a^2 (-> 1/sqrt(2 pi) as w -> 0).
_N = (0.3989422619342804, -0.39893287420272827, 1.195412278175354, -5.8788604736328125,
      37.293556213378906, -244.75851440429688, 1359.84619140625, -5442.6015625,
      13324.001953125, -14704.73828125)
# tanh form: gelu_t'(x) / (x - X0) on -1.5 <= x <= -0.45, in u = x + 0.975.
_T = (0.3445856273174286, 0.37856921553611755, 0.053398627787828445,
      -0.09074070304632187, -0.033847276121377945, 0.010778781026601791,
      0.0075441999360919, -0.0005171975935809314, -0.0010265095625072718)
_A1, _Y0 = 2.5, 1.25  # exact GELU: polynomials in a below A1, in 1/a^2 above
_TA, _TB, _TC = -1.5, -0.45, -0.975  # tanh form: local derivative polynomial on [TA, TB]
_INV_SQRT_2PI = 1.0 / math.sqrt(2.0 * math.pi)


Scaled = tuple[Array, Array, ArrayLike, ArrayLike]


def gelu_erf_scaled(x: Array) -> Scaled:
    """``(v, d, k1, k2)``: ``x Phi(x) = (v k1) k2`` and ``Phi(x) + x phi(x) = (d k1) k2``.

    Phi is the standard normal CDF. In the negative tail (x < -11.3) the scales ``k``
    are 2^-80 or 1 and ``v``, ``d`` stay normal (and at most ~1e-3) down to x = -19,
    where the true values are far below float32's range: a factor such as the GEGLU
    value ``a`` multiplied into ``v`` before the scales keeps ``a x Phi(x)`` whenever it
    is normal. Elsewhere both scales are 1.
    """
    return _kernel(x, _gelu_erf_f32, _gelu_erf_f64, deep=True)


def gelu_tanh_scaled(x: Array) -> Scaled:
    """``(v, d, k1, k2)`` for ``(x s(w), s(w) + x w'(x) s(w) s(-w))`` as in
    :func:`gelu_erf_scaled` (scaled below x = -9.2, mantissas normal down to -13.25).

    ``w = 2 sqrt(2/pi) (x + 0.044715 x^3)`` and ``s`` is the logistic sigmoid:
    ``x s(w) = x/2 (1 + tanh(w/2))``, the usual tanh GELU.
    """
    return _kernel(x, _gelu_tanh_f32, _gelu_tanh_f64, deep=True)


def gelu_erf_parts(x: Array) -> tuple[Array, Array]:
    """``(x Phi(x), Phi(x) + x phi(x))`` (float32 or float64 ``x``)."""
    return _unscaled(*_kernel(x, _gelu_erf_f32, _gelu_erf_f64, deep=False))


def gelu_tanh_parts(x: Array) -> tuple[Array, Array]:
    """The tanh GELU and its derivative (float32 or float64 ``x``)."""
    return _unscaled(*_kernel(x, _gelu_tanh_f32, _gelu_tanh_f64, deep=False))


def mills(a: Array) -> Array:
    """``h(a) = exp(a^2/2) Q(a) = erfcx(a/sqrt2)/2`` for finite ``a >= 1``, Q = 1 - Phi.

    The kernels' own fits: the polynomial in ``a - 1.25`` below 2.5, ``N(1/a^2)/a`` above
    (used by erf-based gates elsewhere: erfc(z) = 2 e^{-z^2} h(z sqrt2)).
    """
    return jnp.where(a < _A1, polyval(_H, a - _Y0), polyval(_N, 1.0 / (a * a)) / a)


def _kernel(x: Array, f32: Callable[..., Scaled], f64: Callable[[Array], Scaled], *,
            deep: bool) -> Scaled:
    return f64(x) if x.dtype == jnp.float64 else f32(x, deep=deep)


def _unscaled(v: Array, d: Array, k1: ArrayLike, k2: ArrayLike) -> tuple[Array, Array]:
    return (v * k1) * k2, (d * k1) * k2


# ---- helpers ---------------------------------------------------------------------------


def _levels(s: Array, deep: bool) -> tuple[Array, ArrayLike, Array, Array]:
    """``(k1, k2, hi, lo)`` for ``exp(-s) = exp(hi - s) exp(lo) k1 k2`` in the tail.

    From s = 64 one scale 2^-80 (shift 80 ln 2): enough for f and f' themselves, which
    are flushed long before s = 143. ``deep`` adds a second from s = 120, for products
    with a large factor: the mantissa exp(hi - s) stays in [e^-77, e^-8.5] for s up to
    187 (no overflow when a factor of a few hundred multiplies it, no flush down to the
    last normal product). The plain kernels skip it (it costs ~15% of their time).
    """
    one = s >= 64.0
    if not deep:
        return (jnp.where(one, 2.0**-80, 1.0), 1.0, jnp.where(one, _SHIFT80[0], 0.0),
                jnp.where(one, _SHIFT80[1], 0.0))
    two = s >= 120.0
    hi = jnp.where(two, _SHIFT160[0], jnp.where(one, _SHIFT80[0], 0.0))
    lo = jnp.where(two, _SHIFT160[1], jnp.where(one, _SHIFT80[1], 0.0))
    return jnp.where(one, 2.0**-80, 1.0), jnp.where(two, 2.0**-80, 1.0), hi, lo


# ---- exact GELU --------------------------------------------------------------------------


def _gelu_erf_f32(x: Array, deep: bool = False) -> Scaled:
    # Beyond |x| = 19, x phi(x) < 2^-252: the outputs are at their limits even after
    # any float32 factor; clipping keeps the splits finite (x = +-inf, huge x).
    xc = jnp.clip(x, -19.0, 19.0)
    a = jnp.abs(xc)
    ah, al = _core.split(a)
    p = a * a
    e = ((ah * ah - p) + (ah + ah) * al) + al * al  # a^2 = p + e exactly
    # g = exp(-a^2/2) / (k1 k2) from the exact a^2: exp(-p/2) alone would be off by
    # |e|/2 ~ a^2 2^-25 relative (~100 ulp at a = 13). exp(-a^2/2) is subnormal (flushed
    # to 0 on CPU) beyond a = 13.2, where the derivative a phi(a), or a GEGLU product,
    # is not: from p/2 = 64 (and again from 120) the exponent is shifted by 80 ln 2 (hi
    # part exact against p/2, lo part folded into the correction), one scale 2^-80 each.
    k1, k2, hi, lo = _levels(0.5 * p, deep)
    ex = jnp.exp(hi - 0.5 * p)
    g = ex - ex * (0.5 * e - lo)
    near = a < _A1
    y = a - _Y0
    w = 1.0 / jnp.where(near, 1.0, p)  # 1/a^2; the untaken branch gets a safe 1
    n = polyval(_N, w)  # a h(a), |x| >= 2.5
    # t = |x| Q(|x|) = |x| (1 - Phi(|x|)), never formed as a difference:
    #   small |x|: |x| exp(-x^2/2) h(|x|);   large: exp(-x^2/2) N(1/x^2).
    t = jnp.where(near, (a * polyval(_H, y)) * g, g * n)  # true t = (t k1) k2
    # x Phi(x) = -t for x < 0 and x - t for x >= 0 (x = +inf: inf - 0). Below 2^-60,
    # where t would flush to 0 first and leave x, Phi = 1/2 to float32 precision.
    neg = x < 0
    value = jnp.where(a < 2.0**-60, 0.5 * x, jnp.where(neg, -t, x - (t * k1) * k2))
    # d = Phi(-|x|) - |x| phi(|x|) = exp(-x^2/2) (h - |x|/sqrt(2 pi)): gelu'(x) for
    # x < 0, 1 - gelu'(x) for x >= 0. Small |x|: (A0 - |x|) K(|x|) exp(-x^2/2) with
    # A0 - |x| exact (Sterbenz near A0); large |x|: |x| exp(-x^2/2) (c - N/x^2), no cancel.
    da = (_A0[0] - a) + _core.opaque(_A0[1], x)
    d_near = (g * da) * polyval(_K, y)
    d_far = -(a * g) * (_INV_SQRT_2PI - n * w)
    d = jnp.where(near, d_near, d_far)
    # x >= 0: x - t and 1 - d are ~x and ~1 wherever the scales are below 1.
    return (value, jnp.where(neg, d, 1.0 - (d * k1) * k2),
            jnp.where(neg, k1, 1.0), jnp.where(neg, k2, 1.0) if deep else 1.0)


def _gelu_erf_f64(x: Array) -> Scaled:
    # float64: lax.erfc is accurate enough here (relative error ~x^2 2^-53 in the tail).
    xc = jnp.clip(x, -40.0, 40.0)  # exp(-x^2/2) underflows beyond; keeps -inf from 0*inf
    cdf = 0.5 * lax.erfc(xc * -math.sqrt(0.5))
    pdf = jnp.exp(-0.5 * (xc * xc)) * _INV_SQRT_2PI
    return jnp.where(x > 40.0, x, xc * cdf), cdf + xc * pdf, 1.0, 1.0


# ---- tanh GELU ---------------------------------------------------------------------------


def _gelu_tanh_f32(x: Array, deep: bool = False) -> Scaled:
    # Beyond |x| = 13.25, |w| > 187: s(w) is exactly 1, or 0 even after any float32
    # factor. Clipping keeps x^3 and the splits finite for huge x (no inf - inf = nan).
    xc = jnp.clip(x, -13.25, 13.25)
    # w = x (c1 + c3 x^2) as W + Wl to ~2^-33 relative: exp(w) amplifies an absolute
    # error of w one for one, and w reaches -100 before x s(w) underflows.
    xh, xl = _core.split(xc)
    xh2 = xh * xh  # exact: 12-bit head
    v = _C3_HEAD * xh  # exact: 12-bit * 12-bit
    vh, vl = _core.split(v)
    big = vh * xh  # exact; _C3_HEAD xh^2 = big + vl xh
    # The rest of c3 x^2, all terms ~2^-11 of big, so float32 rounding is harmless:
    # vl xh, (c3 - _C3_HEAD) xh^2, and c3 (x^2 - xh^2) with x^2 - xh^2 = (xh + x) xl.
    rest = (vl * xh + _C3_TAIL * xh2) + _C3 * ((xh + xc) * xl)
    c1 = _core.opaque(_C1[0], x)
    mh = c1 + big  # m = c1 + c3 x^2 = mh + ml (two_sum)
    bb = mh - c1
    ml = ((c1 - (mh - bb)) + (big - bb)) + (rest + _C1[1])
    w = xc * mh  # w = x m = w + wl (two_prod) + x ml
    mhh, mhl = _core.split(mh)
    wl = (((xh * mhh - w) + xh * mhl + xl * mhh) + xl * mhl) + xc * ml
    big_w = w + wl  # renormalise: wl may reach 2^-11 |w|, too big for exp(W)(1 + Wl)
    w_lo = wl - (big_w - w)
    neg = big_w < 0
    # E = exp(-|w|) / (k1 k2). Where exp(w) is subnormal (flushed on CPU) but x s(w),
    # the derivative (up to ~600 exp(w)) or a GEGLU product are not, E is scaled: for a
    # GEGLU product (deep) the exponent is shifted by 80 ln 2 from |W| = 64 and again
    # from 120 (exact there); for gelu itself one power 2^12 below W = -64 is enough.
    if deep:
        k1, k2, hi, lo = _levels(jnp.where(neg, -big_w, 0.0), deep)
        ex = jnp.exp(hi - jnp.abs(big_w))
        e = ex + ex * (jnp.where(neg, w_lo, -w_lo) + lo)
    else:
        # 2^12 e^{-|w|} from the hand-reduced exponential, w's low part folded into the
        # reduced argument: normal to |W| = 95.6 (where the derivative, ~600 e^w, is), 0
        # from the clip at 96.3 on; the power 2^12 stays (as the scale k1) only below
        # W = -64, where e^w alone may be flushed (the local fit near X0 is unscaled).
        scale, h = _expm1.exp2_parts(-0.5 * jnp.minimum(jnp.abs(big_w), 96.3), shift=-12,
                                     lo=0.5 * jnp.where(neg, w_lo, -w_lo))
        e12 = scale * (1.0 + 2.0 * h)
        tail = big_w < -64.0
        e = jnp.where(tail, e12, e12 * 2.0**-12)
        k1, k2 = jnp.where(tail, 2.0**-12, 1.0), 1.0
    e_true = (e * k1) * k2
    # r = s(|w|) = 1/(1 + E) with the rounding of 1 + E compensated (Fast2Sum, E <= 1).
    one = _core.opaque(1.0, x)
    s = one + e_true
    s_lo = e_true - (s - one)
    r0 = 1.0 / s
    r = r0 - r0 * (s_lo * r0)
    # s(w) = num r and s(-w) = den r (times k1 k2, which are 1 wherever w >= 0).
    # (Selecting the numerators, rather than forming e*r next to r, also keeps XLA from
    # splitting the kernel in two fusions around the exp.)
    num = jnp.where(neg, e, 1.0)
    den = jnp.where(neg, 1.0, e)
    value = (jnp.where(x < 0, xc, x) * num) * r
    # derivative s(w) (1 + x w' s(-w)); x w' = w + 2 c3 x^3 (no cancellation for any x).
    # For w < 0, s(-w) = r = 1 - E r: 1 + xw - (xw E) r keeps the large part 1 + xw free
    # of r's rounding (the bracket cancels by up to ~3x there).
    xw = big_w + (xc * (big + rest)) * 2.0
    gate = jnp.where(neg, (1.0 + xw) - (xw * e_true) * r, 1.0 + xw * (den * r))
    deriv = (num * r) * gate
    # Near its zero X0 the bracket cancels: (x - X0) T(x) there, x - X0_hi exact (Sterbenz).
    local = (xc >= _TA) & (xc <= _TB)
    dx0 = (xc - _X0[0]) - _core.opaque(_X0[1], x)
    deriv = jnp.where(local, dx0 * polyval(_T, xc - _TC), deriv)
    return value, deriv, k1, k2


def _gelu_tanh_f64(x: Array) -> Scaled:
    xc = jnp.clip(x, -24.0, 24.0)  # |w| > 1000 beyond: s(w) is exactly 0 or 1
    c1 = 2.0 * math.sqrt(2.0 / math.pi)
    c3 = c1 * 0.044715
    y = xc * xc
    w = xc * (c1 + c3 * y)
    e = jnp.exp(-jnp.abs(w))
    r = 1.0 / (1.0 + e)
    neg = w < 0
    sig, sig_neg = jnp.where(neg, e, 1.0) * r, jnp.where(neg, 1.0, e) * r
    value = jnp.where(x < 0, xc, x) * sig
    return value, sig * (1.0 + (xc * (c1 + (3.0 * c3) * y)) * sig_neg), 1.0, 1.0
