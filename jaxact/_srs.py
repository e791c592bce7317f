"""Soft-root-sign, x / (x/alpha + e^{-x/beta}): bounded, non-monotonic, with a pole where
beta = e alpha.

Its own exponential (``_expm1``'s reduction with the low part of x/beta kept exact),
the value as alpha U / V with V an exact sum and a compensated division, and near the
pole (beta > e alpha / 2, -2 beta <= x <= -beta/2) the cancelling sum written as
(e alpha - beta) + beta G(d), both terms >= 0, beta G(d) in double-float. That form
costs ~25%: with traced parameters a ``lax.cond`` picks it only when some beta needs it.
"""

from __future__ import annotations

import functools
import math

import jax.numpy as jnp
import numpy as np
from jax import Array, lax
from jax.typing import ArrayLike

from jaxact import _core, _expm1, _math
from jaxact._registry import Entry, Param, register

# ---- soft-root-sign ----------------------------------------------------------------------


# e = _E_HI + _E_LO; G(d) = 1 - (1 + d) e^{-d} = d^2 Q(-d), Q on [-1, 0.5] to 0.09 ulp
# (tests/reference/fit_srs_gap.py)
_E_HI, _E_LO = 2.7182817459106445, 8.254840366817007e-08
_SRS_Q = (0.5, 0.3333333432674408, 0.12499994784593582, 0.03333316370844841, 0.006945106200873852,
          0.0011919840471819043, 0.0001723549939924851, 1.7801739886635914e-05)


def _srs_exp(z: Array, z_lo: Array, lim: float) -> tuple[Array, Array, Array, Array]:
    """``(p, hh, k1, k2)``: e^{z + z_lo} = p (1 + hh) k1 k2 for -lim <= z <= 0 (0 below), p
    normal, a power of 2 in float32 (k1 k2 = 2^-125 below z = -86.5, applied last)."""
    if z.dtype == jnp.float64:  # XLA's exp, scaled as by exp_split
        m, k = _math.exp_split(z)
        return jnp.where(z < -lim, 0.0, m), z_lo, k, jnp.ones_like(z)
    zc = jnp.maximum(z, -lim)
    deep = zc < -86.5
    # e^z = 2^n e^{s + s_lo}: s = z - n log 2 exact (15-bit log 2), s_lo = z_lo - n (log 2)_lo
    # up to 3.6e-4 is added as s_lo e^s; expm1(s) from _expm1's polynomial in s/2
    k, n = _expm1.rounded(zc * (1.0 / math.log(2.0)), _expm1._SHIFTER)
    s, s_lo = zc - n * (2.0 * _expm1._HALF_LN2_HI), z_lo - n * (2.0 * _expm1._HALF_LN2_LO)
    h = 0.5 * s
    e = (s * h) * (1.0 + h * _math.polyval(_expm1._H_P, h))
    p = _expm1.pow2(lax.bitcast_convert_type(k, jnp.int32) + jnp.where(deep, 125, 0), 0)
    return (jnp.where(z < -lim, 0.0, p), s + (e + s_lo * (1.0 + (s + e))),
            jnp.where(deep, 2.0**-62, 1.0), jnp.where(deep, 2.0**-63, 1.0))


def _head8(a: Array) -> Array:
    """``a`` to its top 8 significant bits (a product of three is exact in float32)."""
    bits = lax.bitcast_convert_type(a, jnp.uint32) & np.uint32(0xFFFF0000)
    return lax.bitcast_convert_type(bits, jnp.float32)


def _window_sum(v: Array, lin: Array, q: Array, q_lo: Array, beta: Array, win: Array
                ) -> tuple[Array, Array]:
    """``beta G(d) = (v l) Q(l)`` in the window as ``gam + g_lo``, 0 outside.

    Near the pole V is little more than beta G, and its relative error passes into y
    and, doubled, into the derivatives (l's rounding, v l's and Q's last step were ~2.5
    ulp of V). The head is a product of 8-bit heads, exact, so that an FMA formed from
    it cannot change the pair's sum.
    """
    lw = jnp.clip(lin, -1.0, 0.5)
    lw_lo = jnp.where(win, q_lo - (lin - (1.0 + q)), 0.0)  # 1 + q is exact in the window
    vw = jnp.clip(v, -beta, 0.5 * beta)
    lr = lw * _math.polyval(_SRS_Q[1:], lw)
    half = _core.opaque(_SRS_Q[0], lw)
    qh = half + lr  # Q = 1/2 + l R(l), |l R| < 1/2
    v8, l8, q8 = _head8(vw), _head8(lw), _head8(qh)
    vl8 = v8 * l8
    g_lo = (((vw - v8) * lw + v8 * (lw - l8)) + vw * lw_lo) * qh + vl8 * (
        (qh - q8) + (lr - (qh - half)))
    return jnp.where(win, vl8 * q8, 0.0), jnp.where(win, g_lo, 0.0)


def _srs_parts(x: Array, alpha: Array, beta: Array, near: bool = True) -> tuple[Array, ...]:
    # y = alpha U/V: x >= 0: U = x, V = x + alpha E, E = e^{-x/beta}; x < 0 (divided through
    # by E): U = u = x w, V = alpha + u, w = e^{x/beta} = p (1 + hh), so that V is an exact
    # sum (x p is exact) and U/V a compensated division. V cancels by up to beta/(e alpha -
    # beta) near u's minimum -beta/e at x = -beta: for beta > e alpha/2 (near) and -2 beta <=
    # x <= -beta/2, e (alpha + u) = (e alpha - beta) + beta G(d), d = -1 - x/beta, both >= 0.
    wide = x.dtype == jnp.float64
    lim, tiny, low = (800.0, 2.0**-60, 2.0**-900) if wide else (173.0, 2.0**-30, 2.0**-90)
    pos = x >= 0
    xc = jnp.clip(x, jnp.maximum(-lim * beta, -jnp.finfo(x.dtype).max), 1e30)
    xm = jnp.minimum(xc, _math.far(x) * beta)  # E = 0 beyond: keeps q and 1 + q finite
    ib = 1.0 / beta
    q = xm * ib
    (qh, ql), (bh, bl) = _core.split(q), _core.split(beta)
    # x - q beta exactly (qh bh is exact and within 2^-11 of x): e^q turns q's rounding
    # error into |q|/2 ulp
    q_lo = ((((xm - qh * bh) - qh * bl) - ql * bh) - ql * bl) * ib
    lin = (1.0 + q) + q_lo  # 1 + x/beta, 1 + q exact near the minimum at x = -beta
    sg = jnp.where(pos, -1.0, 1.0)
    p, hh, k1, k2 = _srs_exp(q * sg, q_lo * sg, lim)
    scale = k1 * k2
    # u/k (alpha E/k for x >= 0) = s2 (1 + hh) = su + sl, s2 = x p exact, su - s2 exact;
    # products that feed sums are exact or used once (XLA's CPU backend forms FMAs)
    s2 = jnp.where(pos, alpha, xc) * p
    su = s2 * (1.0 + hh)
    sl = s2 * hh - (su - s2)
    pa, pa_lo = _core.two_prod(alpha, jnp.full_like(alpha, _E_HI))
    gap, gap_lo = _core.two_sum(pa, -beta)  # e alpha - beta, exact head near the pole
    gap, gap_lo = _core.two_sum(gap, gap_lo + (pa_lo + alpha * _E_LO))
    v = beta + xc  # exact in the window, where beta G = v l Q(l), l = 1 + x/beta = -d
    win = (v >= -beta) & (v <= 0.5 * beta) & (gap < beta) & (near and not wide)
    if near and not wide:
        gam, g_lo = _window_sum(v, lin, q, q_lo, beta, win)
    else:
        gam = g_lo = jnp.zeros_like(xc)
    uh = jnp.where(win, gam - beta, su)  # U = e u = beta G - beta there
    ul = jnp.where(win, (gam - (uh + beta)) + g_lo, sl)
    xv = jnp.minimum(xc, 2.0**126 * alpha)  # keeps V 2^-j finite (y = alpha, 1/D ~ 0 there)
    vh, vl = _core.two_sum(jnp.where(win, gap, jnp.where(pos, xv, alpha)),
                           jnp.where(win, gam, uh * scale))
    vl = vl + jnp.where(win, gap_lo + g_lo, ul * scale)
    if near and not wide:  # g_lo reaches 2^-7 V, beyond what the one-step divisions correct
        vh, vl = vh + vl, vl - ((vh + vl) - vh)  # Fast2Sum, |vl| <= |vh|
    uh, ul = jnp.where(pos, xv, uh), jnp.where(pos, 0.0, ul)
    # V 2^-j, alpha = c 2^j: U/V ~ y/c is never subnormal where y is normal
    _, j = jnp.frexp(alpha)
    sc = jnp.ldexp(jnp.ones_like(alpha), -jnp.minimum(j, 126))
    c, vh, vl = alpha * sc, vh * sc, vl * sc
    inv = 1.0 / vh
    y0 = uh * inv
    pq, pq_lo = _core.two_prod(y0, vh)
    # U/V (below 2^-90 the residual's products are subnormal: y0 itself, 1 ulp)
    qf = jnp.where(jnp.abs(y0) < low, y0, y0 + (((uh - pq) - pq_lo) + (ul - y0 * vl)) * inv)
    ys = jnp.where(pos, 1.0, scale)
    ya = (qf * sc) * ys  # y/alpha
    # where the pair's low parts may be subnormal: y = u for |u| < 2^-30 alpha, and y = x
    # (to half an ulp, so y(2^-126) stays normal) for 0 <= x < 2^-30 min(alpha, beta)
    tail = jnp.where(pos, xc < tiny * jnp.minimum(alpha, beta), jnp.abs(s2 * scale) < tiny * alpha)
    y = jnp.where(tail, jnp.where(pos, xc, (su * k1) * k2), (c * qf) * ys)
    # 1/D = alpha/V, or 1 - y/alpha for x < 0 near the pole (>= 1: no cancellation); f' =
    # w (1 + x/beta)/D^2 (E for x >= 0), d/dbeta = -(x/beta)^2 w/D^2, d/dalpha = (y/alpha)^2,
    # the scale in halves: normal where p (...)/D is, whatever 1/D
    r = c * (inv - inv * (vl * inv))
    r = jnp.where(pos, r, 1.0 - ya) if near else r
    q2 = q * (q + 2.0 * q_lo)
    dy = (((p * (lin + lin * hh)) * r) * (r * k2)) * k1
    dbeta = -(((p * (q2 + q2 * hh)) * r) * (r * k2)) * k1
    return y, dy, ya * ya, dbeta


def _srs_either(x: Array, alpha: Array, beta: Array) -> tuple[Array, ...]:
    # traced parameters: the near-pole form (~25% slower) only if some beta needs it
    near = jnp.any(2.0 * beta > math.e * alpha)
    return lax.cond(near, _srs_parts, functools.partial(_srs_parts, near=False), x, alpha, beta)


_srs = _math.elementwise(_srs_either)
# beta <= e alpha/2: V cancels at most 2-fold, 1/D = alpha/V suffices
_srs_far = _math.elementwise(functools.partial(_srs_parts, near=False))


def srs(x: ArrayLike, *, alpha: ArrayLike = 5.0, beta: ArrayLike = 3.0) -> Array:
    r"""Soft-root-sign, a bounded non-monotonic activation with a learnable shape.

    .. math::
        \mathrm{srs}(x) = \frac{x}{x/\alpha + e^{-x/\beta}},
        \qquad \mathrm{srs}'(x) = \frac{(1 + x/\beta)\,e^{-x/\beta}}
        {\left(x/\alpha + e^{-x/\beta}\right)^2}

    Its minimum is :math:`-\beta/(e - \beta/\alpha)` at :math:`x = -\beta`, and it tends to
    :math:`\alpha` as :math:`x \to \infty` and to 0 as :math:`x \to -\infty`. For
    :math:`x < 0` it is computed as :math:`u/(1 + u/\alpha)`, :math:`u = x e^{x/\beta}`,
    which neither overflows nor flushes early; :math:`u` is carried in double-float and,
    where :math:`1 + u/\alpha` cancels (:math:`\beta` near :math:`e\alpha`, :math:`x` near
    :math:`-\beta`), that sum is formed from a series without cancellation.

    Args:
      x: input array.
      alpha: :math:`\alpha > 0`, the upper limit (default 5); differentiable.
      beta: :math:`\beta > 0`, the width of the negative dip (default 3); must be below
        :math:`e\,\alpha`, otherwise the denominator vanishes for some :math:`x < 0`;
        differentiable.

    Returns:
      Same shape and dtype as ``x``.

    Raises:
      ValueError: if ``alpha`` or ``beta`` is not positive, or ``beta >= e * alpha``.

    Examples:
      >>> ja.srs(jnp.array([-3.0, 0.0, 1.0, 1e6]))
      Array([-1.4162421,  0.       ,  1.0910702,  5.       ], dtype=float32)

    References:
      Zhou et al., Soft-Root-Sign Activation Function, arXiv:2003.00547.
    """
    arr = _core.as_array(x, "srs")
    _core.as_param(alpha, "srs", "alpha")
    _core.as_param(beta, "srs", "beta")
    _core.check(lambda a: a > 0, "srs", "alpha", "positive", alpha)
    _core.check(lambda b: b > 0, "srs", "beta", "positive", beta)
    _core.check(lambda a, b: b < math.e * a, "srs", "beta", "below e * alpha", alpha, beta)
    a_known, b_known = _core.concrete(alpha), _core.concrete(beta)  # None where traced
    far = (a_known is not None and b_known is not None
           and bool(np.all(2 * b_known <= math.e * a_known)))
    return _core.apply(_srs_far if far else _srs, arr, alpha, beta)


register(Entry("srs", srs, "elementwise", r"\frac{x}{x/\alpha+e^{-x/\beta}}",
               r"\frac{(1+x/\beta)e^{-x/\beta}}{(x/\alpha+e^{-x/\beta})^2}",
               params=(Param("alpha", 5.0, "upper limit, > 0"),
                       Param("beta", 3.0, "width of the dip, 0 < beta < e alpha")),
               range=(-1.4162421447869216, 5.0), monotonic=False, source="paper",
               reference="Zhou et al. 2020, arXiv:2003.00547"))

