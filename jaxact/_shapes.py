"""Other shapes from the literature: Hard-Mish, squared ReLU, ELiSH and hard ELiSH,
shifted softplus, the bent identity and the growing cosine unit.

Piecewise ones write their derivatives out (the convention at each kink is the rule, not
a tie rule of ``clip``); the smooth ones are rearranged so no two large terms cancel
(shifted softplus near 0, the bent identity for x < 0, ELiSH near its minimum).
"""

from __future__ import annotations

import math

import jax.numpy as jnp
from jax import Array
from jax.typing import ArrayLike

from jaxact import _core, _expm1, _math, _trig
from jaxact._registry import Entry, Kink, register

_INF = float("inf")

# ---- Hard-Mish and squared ReLU ----------------------------------------------------------


def _hard_mish_parts(x: Array) -> tuple[Array, Array]:
    inner = (x > -2.0) & (x < 0.0)
    xi = jnp.where(inner, x, 0.0)  # keeps x (x + 2) finite where unused
    # x ((x + 2)/2): 0.5 x first would flush to 0 for x ~ -1e-38, where y ~ x is normal.
    y = jnp.where(x >= 0, x, jnp.where(inner, xi * (0.5 * (xi + 2.0)), 0.0))
    dy = jnp.where(x >= 0, 1.0, jnp.where(inner, xi + 1.0, 0.0))  # x + 1 exact near -1
    return jnp.where(jnp.isnan(x), x, y), dy


_hard_mish = _math.elementwise(_hard_mish_parts)


def hard_mish(x: ArrayLike) -> Array:
    r"""Hard-Mish, a piecewise-quadratic mish.

    .. math::
        \mathrm{hard\_mish}(x) = \frac{x}{2}\min(2, \max(0, x + 2))
        = \begin{cases} 0 & x \le -2 \\ x(x+2)/2 & -2 < x < 0 \\ x & x \ge 0 \end{cases},
        \qquad \mathrm{hard\_mish}'(x) = \begin{cases} 0 & x \le -2 \\ x + 1 & -2 < x < 0 \\
        1 & x \ge 0 \end{cases}

    Convention: the derivative at the kink :math:`x = -2` is 0, the outer piece (as
    ``hard_silu``). At :math:`x = 0` both pieces have slope 1: no kink.

    Args:
      x: input array.

    Returns:
      Same shape and dtype as ``x`` (integers promote to float).

    Examples:
      >>> ja.hard_mish(jnp.array([-3.0, -1.0, -0.5, 2.0]))
      Array([ 0.   , -0.5  , -0.375,  2.   ], dtype=float32)

    References:
      Misra, H-Mish (2020), https://github.com/digantamisra98/H-Mish; as
      ``hard_mish`` in timm.
    """
    return _core.apply(_hard_mish, _core.as_array(x, "hard_mish"))


register(Entry("hard_mish", hard_mish, "elementwise", r"\frac{x}{2}\min(2,\max(0,x+2))",
               r"\begin{cases}0&x\le-2\\ x+1&-2<x<0\\ 1&x\ge0\end{cases}",
               range=(-0.5, _INF), monotonic=False, smooth=False,
               kinks=(Kink(-2.0, 0.0, "outer piece, as hard_silu"),), source="timm",
               reference="Misra 2020, github.com/digantamisra98/H-Mish"))


def _squared_relu_parts(x: Array) -> tuple[Array, Array]:
    r = jnp.maximum(x, 0.0)  # maximum propagates NaN
    return r * r, 2.0 * r


_squared_relu = _math.elementwise(_squared_relu_parts)


def squared_relu(x: ArrayLike) -> Array:
    r"""Squared ReLU (Primer).

    .. math::
        \mathrm{squared\_relu}(x) = \max(x, 0)^2, \qquad \mathrm{squared\_relu}'(x) = 2\max(x, 0)

    Continuously differentiable (the derivative is 0 on both sides of 0): no kink.

    Args:
      x: input array.

    Returns:
      Same shape and dtype as ``x`` (integers promote to float).

    Examples:
      >>> ja.squared_relu(jnp.array([-1.0, 0.5, 3.0]))
      Array([0.  , 0.25, 9.  ], dtype=float32)

    References:
      So et al., Primer: Searching for Efficient Transformers for Language Modeling,
      arXiv:2109.08668.
    """
    return _core.apply(_squared_relu, _core.as_array(x, "squared_relu"))


register(Entry("squared_relu", squared_relu, "elementwise", r"\max(x,0)^2", r"2\max(x,0)",
               range=(0.0, _INF), smooth=False, source="paper",
               reference="So et al. 2021, arXiv:2109.08668", aliases=("relu_squared",)))

# ---- ELiSH and hard ELiSH ----------------------------------------------------------------

_SQRT2M1 = (0.4142135679721832, -5.599088178737374e-09)  # sqrt(2) - 1, head + tail


def _elish_parts(x: Array) -> tuple[Array, Array]:
    xc = jnp.clip(x, -_math.far(x), _math.far(x))
    m, k = _math.exp_split(-jnp.abs(xc))
    e = m * k
    r = 1.0 / (1.0 + e)
    pos = x >= 0
    # x >= 0: silu, e = e^-x: x r and r (1 + x e r).
    y_pos = x * r
    d_pos = r * (1.0 + (xc * e) * r)
    # x < 0, e = e^x: (e^x - 1) sigmoid(x) = expm1(x) e r, and the derivative
    # sigmoid(x) ((1 + e)^2 - 2)/(1 + e) = e r^2 (e - (sqrt2 - 1)) (e + sqrt2 + 1):
    # its zero at e = sqrt2 - 1 is a difference of e and a double-float constant.
    em1 = _math.expm1(jnp.minimum(xc, 0.0))
    y_neg = (em1 * (m * r)) * k
    gap = (e - _SQRT2M1[0]) - _core.opaque(_SQRT2M1[1], x)
    d_neg = (((m * r) * r) * (gap * (e + (math.sqrt(2.0) + 1.0)))) * k
    return jnp.where(pos, y_pos, y_neg), jnp.where(pos, d_pos, d_neg)


_elish = _math.elementwise(_elish_parts)


def elish(x: ArrayLike) -> Array:
    r"""ELiSH, the exponential linear sigmoid squashing unit.

    .. math::
        \mathrm{elish}(x) = \begin{cases} x\,\sigma(x) & x \ge 0 \\
        (e^x - 1)\,\sigma(x) & x < 0 \end{cases}

    with derivative :math:`\sigma(x)(1 + x\sigma(-x))` for :math:`x \ge 0` and
    :math:`\sigma(x)\left((1 + e^x)^2 - 2\right)/(1 + e^x)` for :math:`x < 0`.
    Continuously differentiable at 0 (slope 1/2 on both sides; the second derivative
    jumps): no kink. The minimum, at :math:`x = \log(\sqrt2 - 1)`, is resolved without
    cancellation.

    Args:
      x: input array.

    Returns:
      Same shape and dtype as ``x``.

    Examples:
      >>> ja.elish(jnp.array([-1.0, 0.0, 1.0]))
      Array([-0.1700034,  0.       ,  0.7310586], dtype=float32)

    References:
      Basirat & Roth, The Quest for the Golden Activation Function, arXiv:1808.00783.
    """
    return _core.apply(_elish, _core.as_array(x, "elish"))


register(Entry("elish", elish, "elementwise",
               r"\begin{cases}x\sigma(x)&x\ge0\\ (e^x-1)\sigma(x)&x<0\end{cases}",
               r"\begin{cases}\sigma(x)(1+x\sigma(-x))&x\ge0\\"
               r" \sigma(x)\frac{(1+e^x)^2-2}{1+e^x}&x<0\end{cases}",
               range=(-0.17157287525381, _INF), monotonic=False, smooth=False, source="paper",
               reference="Basirat & Roth 2018, arXiv:1808.00783"))


def _hard_elish_parts(x: Array) -> tuple[Array, Array]:
    mid = (x > -1.0) & (x < 1.0)
    xm = jnp.where(mid, x, 0.0)
    em1 = _math.expm1(jnp.minimum(xm, 0.0))
    gate = 0.5 * (xm + 1.0)  # (x + 1)/2, exact near -1
    y_mid = jnp.where(xm < 0, em1, xm) * gate
    # (-1, 0): ((x + 2) e^x - 1)/2 = (expm1(x)(x + 2) + (x + 1))/2, no cancellation but
    # at its zero near x = -0.44.
    d_mid = jnp.where(xm < 0, 0.5 * (em1 * (xm + 2.0) + (xm + 1.0)), xm + 0.5)
    y = jnp.where(mid, y_mid, jnp.where(x >= 1.0, x, 0.0))
    return jnp.where(jnp.isnan(x), x, y), jnp.where(mid, d_mid, jnp.where(x >= 1.0, 1.0, 0.0))


_hard_elish = _math.elementwise(_hard_elish_parts)


def hard_elish(x: ArrayLike) -> Array:
    r"""Hard ELiSH: ELiSH with the sigmoid replaced by the hard sigmoid
    :math:`h(x) = \max(0, \min(1, (x + 1)/2))`.

    .. math::
        \mathrm{hard\_elish}(x) = \begin{cases} x\,h(x) & x \ge 0 \\
        (e^x - 1)\,h(x) & x < 0 \end{cases}
        = \begin{cases} 0 & x \le -1 \\ (e^x - 1)(x + 1)/2 & -1 < x < 0 \\
        x(x + 1)/2 & 0 \le x < 1 \\ x & x \ge 1 \end{cases}

    The derivative is :math:`((x + 2)e^x - 1)/2` on :math:`(-1, 0)` and
    :math:`x + 1/2` on :math:`[0, 1)`. Convention: at the kinks it is that of the outer
    piece, 0 at :math:`x = -1` and 1 at :math:`x = 1` (as ``hard_silu``); at 0 both
    pieces have slope 1/2.

    Args:
      x: input array.

    Returns:
      Same shape and dtype as ``x``.

    Examples:
      >>> ja.hard_elish(jnp.array([-2.0, -0.5, 0.5, 2.0]))
      Array([ 0.        , -0.09836733,  0.375     ,  2.        ], dtype=float32)

    References:
      Basirat & Roth, The Quest for the Golden Activation Function, arXiv:1808.00783.
    """
    return _core.apply(_hard_elish, _core.as_array(x, "hard_elish"))


register(Entry("hard_elish", hard_elish, "elementwise",
               r"\begin{cases}x\,h(x)&x\ge0\\ (e^x-1)\,h(x)&x<0\end{cases},"
               r"\ h(x)=\max(0,\min(1,\tfrac{x+1}{2}))",
               r"\begin{cases}0&x\le-1\\ ((x+2)e^x-1)/2&-1<x<0\\ x+\frac12&0\le x<1\\"
               r" 1&x\ge1\end{cases}",
               range=(-0.11215, _INF), monotonic=False, smooth=False, source="paper",
               kinks=(Kink(-1.0, 0.0, "outer piece, as hard_silu"),
                      Kink(1.0, 1.0, "outer piece, as hard_silu")),
               reference="Basirat & Roth 2018, arXiv:1808.00783"))

# ---- shifted softplus --------------------------------------------------------------------
# log cosh(u) = u^2 L(u^2) on |u| <= 3/2 (tests/reference/fit_literature.py, 1.8 ulp).
_LOGCOSH = (0.5, -0.0833333283662796, 0.022222161293029785, -0.006745504215359688,
            0.002184551674872637, -0.000732064712792635, 0.0002449855674058199,
            -7.690766506129876e-05, 2.060547012661118e-05, -4.180140876997029e-06,
            5.474345812217507e-07, -3.383533453416021e-08)
_LN2 = math.log(2.0)


def _shifted_softplus_parts(x: Array) -> tuple[Array, Array]:
    # softplus(x) - log 2 cancels at 0. There it is x/2 + log cosh(x/2) (x/2 exact);
    # beyond |x| = 3, x - log 2 + log1p(e^-x), or log1p(e^x) - log 2, neither cancels.
    mid = jnp.abs(x) < 3.0
    u = 0.5 * jnp.where(mid, x, 0.0)
    uu = u * u
    if x.dtype == jnp.float64:  # the fit is float32's: log cosh u = log1p(2 sinh(u/2)^2)
        near = u + jnp.log1p(2.0 * jnp.square(jnp.sinh(0.5 * u)))
    else:
        near = u + uu * _math.polyval(_LOGCOSH, uu)
    e = jnp.exp(-jnp.abs(x))
    tail = jnp.log1p(e)
    far = jnp.where(x > 0, (x - _LN2) + tail, tail - _LN2)
    return jnp.where(mid, near, far), _expm1.sigmoid_value(x)


_shifted_softplus = _math.elementwise(_shifted_softplus_parts)


def shifted_softplus(x: ArrayLike) -> Array:
    r"""Shifted softplus (SchNet): softplus moved down to pass through 0.

    .. math::
        \mathrm{shifted\_softplus}(x) = \log(1 + e^x) - \log 2,
        \qquad \mathrm{shifted\_softplus}'(x) = \sigma(x)

    Computed as :math:`x/2 + \log\cosh(x/2)` near 0, where the difference would cancel
    (``jax.nn.softplus(x) - log 2`` has no correct digit below :math:`|x| = 10^{-7}`).

    Args:
      x: input array.

    Returns:
      Same shape and dtype as ``x``, above :math:`-\log 2`.

    Examples:
      >>> ja.shifted_softplus(jnp.array([-20.0, 1e-8, 1.0]))
      Array([-6.931472e-01,  5.000000e-09,  6.201145e-01], dtype=float32)

    References:
      Schütt et al., SchNet: A continuous-filter convolutional neural network for
      modeling quantum interactions, arXiv:1706.08566.
    """
    return _core.apply(_shifted_softplus, _core.as_array(x, "shifted_softplus"))


register(Entry("shifted_softplus", shifted_softplus, "elementwise", r"\log(1+e^x)-\log2",
               r"\sigma(x)", range=(-_LN2, _INF), source="paper",
               reference="Schütt et al. 2017, arXiv:1706.08566"))

# ---- bent identity -----------------------------------------------------------------------


def _bent_identity_parts(x: Array) -> tuple[Array, Array]:
    # s = sqrt(x^2 + 1) as |x| sqrt(1 + x^-2) above |x| = 1 (no overflow), and
    # h = s - 1 = |x| (|x| / (s + 1)), which cancels neither near 0 nor far out. The
    # ratios are formed from |x| capped at 1e30 (they are 1 in float32 beyond): inf/inf.
    # Each sqrt and division has one user: XLA's CPU backend writes out an expensive
    # value read twice, and this ran as three loops (now one, forward and VJP alike).
    a = jnp.abs(x)
    ac = jnp.minimum(a, 1e30)
    big = a > 1.0
    t = 1.0 / jnp.where(big, ac, 1.0)
    s = jnp.sqrt(1.0 + jnp.where(big, t * t, a * a)) * jnp.where(big, ac, 1.0)
    # x >= 0: x + h/2. x < 0: (s - 1)/2 - |x| = -(|x| + (h + |x|)/(s + |x|))/2, a sum
    # of positive terms (from (s - |x|)(s + |x|) = 1).
    pos = x >= 0
    h = jnp.where(pos, a, ac) * (ac / (s + 1.0))
    y = jnp.where(pos, x + 0.5 * h, -0.5 * (a + (h + ac) / (s + ac)))
    return y, 1.0 + jnp.sign(x) * (0.5 * (ac / s))  # |x| / s


_bent_identity = _math.elementwise(_bent_identity_parts)


def bent_identity(x: ArrayLike) -> Array:
    r"""Bent identity.

    .. math::
        \mathrm{bent\_identity}(x) = \frac{\sqrt{x^2 + 1} - 1}{2} + x,
        \qquad \mathrm{bent\_identity}'(x) = \frac{x}{2\sqrt{x^2 + 1}} + 1

    Monotonic, with slope between 1/2 and 3/2. Neither the difference
    :math:`\sqrt{x^2+1} - 1` near 0 nor the sum with :math:`x < 0` cancels as computed,
    and :math:`x^2` is never formed where it would overflow.

    Args:
      x: input array.

    Returns:
      Same shape and dtype as ``x``.

    Examples:
      >>> ja.bent_identity(jnp.array([-1e20, -1.0, 0.0, 1.0]))
      Array([-5.0000001e+19, -7.9289317e-01,  0.0000000e+00,  1.2071068e+00],
            dtype=float32)

    References:
      A textbook smooth variant of the identity (e.g. the activation table of the
      Wikipedia article "Activation function").
    """
    return _core.apply(_bent_identity, _core.as_array(x, "bent_identity"))


register(Entry("bent_identity", bent_identity, "elementwise", r"\frac{\sqrt{x^2+1}-1}{2}+x",
               r"\frac{x}{2\sqrt{x^2+1}}+1", source="paper", reference="textbook"))

# ---- growing cosine unit -----------------------------------------------------------------


def _gcu_parts(sincos: _trig.SinCos, x: Array) -> tuple[Array, Array]:
    # sin and cos from jaxact._trig (<= 0.7 ulp; XLA's, correctly reduced at every
    # magnitude, where |x| > 4096); NaN at +-inf, where x cos x has no limit.
    sh, sl, ch, cl = sincos(x, jnp.zeros_like(x), small=True)
    c, s = ch + cl, sh + sl
    return x * c, c - x * s


_gcu = _math.elementwise(_trig.dispatch(_gcu_parts, lambda x: x))


def gcu(x: ArrayLike) -> Array:
    r"""Growing cosine unit, an oscillatory activation.

    .. math::
        \mathrm{gcu}(x) = x\cos x, \qquad \mathrm{gcu}'(x) = \cos x - x\sin x

    NaN at :math:`\pm\infty`, where it has no limit.

    Args:
      x: input array.

    Returns:
      Same shape and dtype as ``x``.

    Examples:
      >>> ja.gcu(jnp.array([-1.0, 0.0, 3.0]))
      Array([-0.5403023,  0.       , -2.9699774], dtype=float32)

    References:
      Noel et al., Growing Cosine Unit: A Novel Oscillatory Activation Function That Can
      Speedup Training and Reduce Parameters in Convolutional Neural Networks,
      arXiv:2108.12943.
    """
    return _core.apply(_gcu, _core.as_array(x, "gcu"))


register(Entry("gcu", gcu, "elementwise", r"x\cos x", r"\cos x-x\sin x", monotonic=False,
               source="paper", reference="Noel et al. 2021, arXiv:2108.12943"))
