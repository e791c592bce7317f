"""Soft exponential, the learnable activation that moves from log through x to exp.

One parameter alpha picks the piece (log for alpha < 0, the identity at 0, exp above),
and the value and its alpha-derivative are continuous across the three: near alpha = 0
they are series in alpha x, and elsewhere the pieces carry alpha x (and 1 + w, w =
-alpha (x + alpha)) in double-float with the helpers of jaxact/_learnable.py, so the
value and both partials stay accurate over the whole float32 range.
"""

from __future__ import annotations

import math

import jax.numpy as jnp
from jax import Array
from jax.typing import ArrayLike

from jaxact import _core, _math
from jaxact._learnable import _td, _tp, _ts, opaque
from jaxact._registry import Entry, Param, register

# The three pieces (alpha < 0, = 0, > 0) join continuously, with one derivative in alpha:
# near alpha = 0 (|alpha x| <= 2) the divided differences are series in u = alpha x.

_E1 = tuple(1.0 / math.factorial(k + 1) for k in range(18))  # expm1(u)/u
_H2 = tuple((k + 1) / math.factorial(k + 2) for k in range(18))  # (u e^u - expm1 u)/u^2
_ATANH3 = tuple(1.0 / (2 * k + 3) for k in range(18))  # (atanh(s) - s)/s^3, in s^2
# exp(u) = exp(u - K) 2^64 beyond u = 80, K = 64 ln 2 = K_HI + K_LO: K_HI is a multiple
# of 2^-16, so u - K_HI is exact for the u where it applies, and K_LO < 2^-17.
_K_HI = 2907270.0 / 65536.0
_K_LO = 64.0 * math.log(2.0) - _K_HI


def _exp_scaled(u: Array, ul: Array) -> tuple[Array, Array]:
    """``(E, scale)`` with ``e^{u + ul} = E * scale`` and ``E`` finite up to u = 132."""
    big = u > 80.0
    e = jnp.exp(u - jnp.where(big, _K_HI, 0.0))
    # The first-order correction; ul is only large where e^u overflows anyway.
    corr = jnp.clip(ul - jnp.where(big, _K_LO, 0.0), -0.5, 0.5)
    return e * (1.0 + corr), jnp.where(big, 2.0**64, 1.0)


def _soft_exp_pos(x: Array, a: Array) -> tuple[Array, Array, Array]:
    """alpha >= 0, finite x: (e^{a x} - 1)/a + a, e^{a x}, and the alpha-derivative."""
    u, ul = _tp(a, x)
    small = jnp.abs(u) <= 2.0
    # |u| <= 2: f = x E1(u) + a, df/da = x^2 H2(u) + 1 (both series; exact at a = 0).
    e1 = _math.polyval(_E1, u)
    p, pe = _tp(x, e1)
    y_small, ye = _ts(p, a)
    y_small = y_small + (ye + pe)
    da_small = x * (x * _math.polyval(_H2, u)) + 1.0
    # |u| > 2: e^u with its overflow scale; c = 1 - a^2 in double-float for u < -2,
    # where (e^u - c)/a must not cancel to 0 (a = 1: f = e^x).
    aa = jnp.where(a > 0, a, 1.0)
    e, scale = _exp_scaled(u, ul)
    sq, sqe = _tp(aa, aa)
    c, ce = _ts(opaque(jnp.ones((), x.dtype))[0], -sq)
    num, nume = _ts(e, -c)
    y_low = (num + (nume - (ce - sqe))) / aa
    y_high = ((e / aa) * scale + jnp.where(scale == 1.0, aa - 1.0 / aa, aa))
    y_big = jnp.where(u < 0, jnp.where(aa < 2.0, y_low, (e - 1.0) / aa + aa), y_high)
    # df/da = ((u - 1) e^u + 1)/a^2 + 1; for u > 2 as (x - 1/a)(e^u / a) + 1/a^2 + 1.
    inv = 1.0 / aa
    da_high = ((x - inv) * (e * inv)) * scale + (inv * inv + 1.0)
    da_low = (1.0 + jnp.where(e == 0, 0.0, ((u - 1.0) + ul) * e)) * (inv * inv) + 1.0
    da = jnp.where(small, da_small, jnp.where(u < 0, da_low, da_high))
    # Below u = -ln 2, e^u - c has the smaller cancellation: x E1(u) + a would lose up to
    # 5x at a = 1 (f = e^x), where f has no zero to excuse it.
    y = jnp.where(small & (u >= -math.log(2.0)), y_small, y_big)
    return y, e * scale, da


def _soft_exp_neg(x: Array, b: Array) -> tuple[Array, Array, Array]:
    """alpha = -b < 0: log(1 + w)/b with w = b (x - b), 1/(1 + w), and the alpha-derivative."""
    d, dl = _ts(x, -b)
    # b below 2^-100 is scaled by 2^64 for the product: the split in _tp would flush
    # its low half (alpha = -1e-35: 300 ulp near the edge of the domain)
    up = jnp.where(b < 2.0**-100, 2.0**64, 1.0)
    w, we = _tp(b * up, d)
    w, we = w * (1.0 / up), we * (1.0 / up)
    wl = we + b * dl
    one = opaque(jnp.ones((), x.dtype))[0]
    t, te = _ts(one, w)
    tt = t + (te + wl)  # 1 + w, rounded once
    tt_lo = (t - tt) + (te + wl)
    # log(1 + w): log1p where |w| < 1/2 (w is tiny near the zero of f at x = b), else log
    # of the double-float 1 + w (it goes to 0 at the edge of the domain).
    near = jnp.abs(w) < 0.5
    huge = w > 2.0**60  # log(1 + w) = log b + log(x - b), also where w overflows
    w_safe = jnp.where(near, w, 0.0)
    tt_safe = jnp.where(near | huge | (tt <= 0), 1.0, tt)
    log = jnp.where(near, jnp.log1p(w_safe) + wl / (1.0 + w_safe),
                    jnp.log(tt_safe) + tt_lo / tt_safe)
    log = jnp.where(huge, jnp.log(b) + jnp.log(jnp.where(huge, d, 1.0)), log)
    log = jnp.where(near | (tt > 0), log, jnp.where(tt == 0, -jnp.inf, jnp.nan))
    dx = jnp.where(tt < 0, jnp.nan, 1.0 / tt)
    # df/dalpha = 1/(1 + w) + (log1p(w) - w/(1 + w))/b^2 >= 0. The bracket is
    # 2 s^2 / (1 + s) + 2 s^3 A(s^2), s = w/(2 + w), and s/b = (x - b)/(2 + w): a series
    # without cancellation, exact as b -> 0; for |s| > 0.6 the bracket is used as is.
    # s/b = d/(2 + w) is a quotient of double-floats and 2/(1 + s) = (2 + w)/(1 + w) one
    # of their heads, with 2 + w = 1 + (1 + w), and (s/b)^2 is squared in double-float:
    # the rounded w/(2 + w), d/(2 + w) and 1 + s cost 12 ulp near s = -0.55 (1 + s = 0.45
    # amplifies s's error).
    s = w / (2.0 + w)
    ser = jnp.abs(s) <= 0.6
    t1, t1l = jnp.where(ser, tt, 1.0), jnp.where(ser, tt_lo, 0.0)
    q, qe = _ts(one, t1)
    ql = qe + t1l
    sb, sbl = _td(d, dl, q, ql)
    sq, sqe = _tp(sb, sb)
    ss = jnp.where(ser, b * sb, 0.0)
    bracket = q / t1 + 2.0 * ss * _math.polyval(_ATANH3, ss * ss)
    # (the low part only where sb^2 is finite: beyond, sb sbl overflows with either sign)
    g_ser = sq * bracket + jnp.where(jnp.isfinite(sq), (sqe + 2.0 * sb * sbl) * bracket, 0.0)
    g_dir = (log - jnp.where(huge, 1.0, (w + wl) / tt_safe)) / (b * b)
    da = jnp.where(tt == 0, jnp.inf, dx + jnp.where(ser, g_ser, g_dir))
    # |w| < 2^-20: log(1 + w)/b = (x - b)(1 - w/2), w^2/3 below float32's precision. w
    # underflows there for a tiny b (alpha = -1e-20: every |x| < 1e-18 gave 0).
    tiny = jnp.abs(w) < 2.0**-20
    return jnp.where(tiny, d + (dl - 0.5 * (d * w)), log / b), dx, da


def _soft_exp_parts(x: Array, alpha: Array) -> tuple[Array, Array, Array]:
    (alpha,) = opaque(alpha)
    neg = alpha < 0
    xf = jnp.where(jnp.isinf(x), 0.0, x)
    yp, dxp, dap = _soft_exp_pos(xf, jnp.where(neg, 0.0, alpha))
    yn, dxn, dan = _soft_exp_neg(xf, jnp.where(neg, -alpha, 1.0))
    y, dx, da = (jnp.where(neg, yn, yp), jnp.where(neg, dxn, dxp), jnp.where(neg, dan, dap))
    # +-inf: the limits. alpha > 0: f(-inf) = alpha - 1/alpha (f' = 0, df/dalpha = 1/alpha^2
    # + 1); alpha = 0: x; alpha < 0: +inf at +inf, and -inf is outside the domain.
    pos_a, zero_a = alpha > 0, alpha == 0
    up = x == jnp.inf
    inv = 1.0 / jnp.where(pos_a, alpha, 1.0)
    sq, sqe = _tp(alpha, alpha)
    y_inf = jnp.where(up | zero_a, x, jnp.where(pos_a, ((sq - 1.0) + sqe) * inv, jnp.nan))
    dx_inf = jnp.where(zero_a, 1.0, jnp.where(pos_a & up, jnp.inf, jnp.where(up | pos_a, 0.0,
                                                                               jnp.nan)))
    da_inf = jnp.where(up | zero_a, jnp.inf, jnp.where(pos_a, inv * inv + 1.0, jnp.nan))
    inf = jnp.isinf(x)
    return (jnp.where(inf, y_inf, y), jnp.where(inf, dx_inf, dx), jnp.where(inf, da_inf, da))


_soft_exp = _math.elementwise(_soft_exp_parts, recompute=False)


def soft_exponential(x: ArrayLike, *, alpha: ArrayLike = 0.0) -> Array:
    r"""Soft exponential: one parameter moves it from logarithmic through linear to exponential.

    .. math::
        f_\alpha(x) = \begin{cases}
          -\dfrac{\log(1 - \alpha (x + \alpha))}{\alpha} & \alpha < 0 \\
          x & \alpha = 0 \\
          \dfrac{e^{\alpha x} - 1}{\alpha} + \alpha & \alpha > 0 \end{cases},
        \qquad f_\alpha'(x) = \begin{cases} \dfrac{1}{1 - \alpha(x + \alpha)} & \alpha < 0 \\
          e^{\alpha x} & \alpha \ge 0 \end{cases}

    and :math:`\partial_\alpha f = 1/(1+w) + (\log(1+w) - w/(1+w))/\alpha^2` with
    :math:`w = -\alpha(x + \alpha)` for :math:`\alpha < 0`, :math:`((\alpha x - 1)e^{\alpha x}
    + 1)/\alpha^2 + 1` for :math:`\alpha > 0`. Both the function and
    :math:`\partial_\alpha f` are continuous in :math:`\alpha`, including at 0, where
    :math:`\partial_\alpha f = 1 + x^2/2`; near :math:`\alpha = 0` they are evaluated as
    series in :math:`\alpha x`, so no NaN and no cancellation. :math:`\partial^2_\alpha f`
    is not continuous there (one-sided limits :math:`2x + 2x^3/3` below 0, :math:`x^3/3`
    above); at :math:`\alpha = 0` it is the right-hand one. For :math:`\alpha < 0` the
    function is defined for :math:`x > 1/\alpha - \alpha` only: NaN below, :math:`-\infty`
    on the boundary.

    Args:
      x: input array.
      alpha: :math:`\alpha` (scalar or array broadcastable to ``x``, default 0, the
        identity); differentiable.

    Returns:
      Same shape and dtype as ``x``.

    Examples:
      >>> ja.soft_exponential(jnp.array([-1.0, 0.0, 2.0]), alpha=0.5)
      Array([-0.28693867,  0.5       ,  3.9365637 ], dtype=float32)
      >>> ja.soft_exponential(jnp.array([-1.0, 0.0, 2.0]), alpha=-0.5)
      Array([-2.7725887, -0.5753641,  1.1192316], dtype=float32)
      >>> jax.grad(lambda a: ja.soft_exponential(3.0, alpha=a))(0.0)  # 1 + x^2/2
      Array(5.5, dtype=float32, weak_type=True)

    References:
      Godfrey & Gashler, A continuum among logarithmic, linear, and exponential functions,
      and its potential to improve generalization in neural networks, arXiv:1602.01321.
    """
    arr = _core.as_array(x, "soft_exponential")
    _core.as_param(alpha, "soft_exponential", "alpha")
    return _core.apply(_soft_exp, arr, alpha)


register(Entry("soft_exponential", soft_exponential, "elementwise",
               r"\begin{cases}-\log(1-\alpha(x+\alpha))/\alpha&\alpha<0\\ x&\alpha=0\\"
               r" (e^{\alpha x}-1)/\alpha+\alpha&\alpha>0\end{cases}",
               r"\begin{cases}1/(1-\alpha(x+\alpha))&\alpha<0\\ e^{\alpha x}&\alpha\ge0\end{cases}",
               params=(Param("alpha", 0.0, "log (< 0), linear (0) or exp (> 0); differentiable"),),
               source="paper", reference="Godfrey & Gashler 2015, arXiv:1602.01321"))
