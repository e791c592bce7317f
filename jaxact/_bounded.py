"""Saturating and bump-shaped activations: ISRU, ISRLU, Elliott, the Gaussian and the
normalized sinc (soft-root-sign is in ``_srs``).

None of them is built on XLA's transcendental functions alone: x^2 is never formed where
it overflows (ISRU), the tails are written so they do not cancel (Elliott), exp sees
its argument in double-float where it amplifies rounding (the Gaussian), and sinc
reduces its argument exactly (x - round(x)) before fitted polynomials.
"""

from __future__ import annotations

import math

import jax.numpy as jnp
from jax import Array
from jax.typing import ArrayLike

from jaxact import _core, _math
from jaxact._registry import Entry, Param, register

_INF = float("inf")

# ---- ISRU and ISRLU ----------------------------------------------------------------------


def _isru_parts(x: Array, alpha: Array) -> tuple[Array, Array, Array]:
    # |x| <= 1: q = 1 + alpha x^2; beyond, q = alpha + 1/x^2 (that over x^2), so x^2 is
    # never formed where it overflows: y = x / sqrt(q), or sign(x) / sqrt(q). alpha x
    # first: x^2 underflows below |x| = 1e-19, where alpha = 3e38 still counts.
    small = jnp.abs(x) <= 1.0
    xs = jnp.where(small, x, 1.0)
    t = 1.0 / jnp.where(small, 1.0, x)  # 0 at +-inf
    q = jnp.where(small, 1.0 + (alpha * xs) * xs, alpha + t * t)
    s = jnp.sqrt(q)
    y = jnp.where(small, x, jnp.sign(x)) / s
    # (1 + alpha x^2)^(-3/2) = 1/(v sqrt v), v formed directly (1/x rounded and cubed
    # would cost 1.5 ulp, and |t|^3/(q s) underflowed for alpha < 1e-28: f' was inf).
    # Beyond alpha x^2 = 2^84 f' is subnormal: 0, with x kept finite there for the
    # second derivative.
    flat = (alpha * x) * x > 2.0**84
    xf = jnp.where(flat, 0.0, x)
    v = 1.0 + (alpha * xf) * xf
    dy = jnp.where(flat, 0.0, 1.0 / (v * jnp.sqrt(v)))
    # d/dalpha = -y^3/2 would triple y's rounding (8.4 ulp): -x^3 f'/2, or beyond,
    # -sign(x)/(2 q s), divided one factor at a time (q s underflows for alpha < 3e-26)
    da = jnp.where(small, (-0.5 * (xs * (xs * xs))) * dy, ((-0.5 * jnp.sign(x)) / s) / q)
    return y, dy, da


_isru = _math.elementwise(_isru_parts)


def isru(x: ArrayLike, *, alpha: ArrayLike = 1.0) -> Array:
    r"""Inverse square root unit.

    .. math::
        \mathrm{isru}(x) = \frac{x}{\sqrt{1 + \alpha x^2}},
        \qquad \mathrm{isru}'(x) = \left(1 + \alpha x^2\right)^{-3/2}

    Saturates at :math:`\pm 1/\sqrt\alpha`. For :math:`|x| > 1` it is computed as
    :math:`\mathrm{sign}(x)/\sqrt{\alpha + x^{-2}}`, so :math:`x^2` never overflows.

    Args:
      x: input array.
      alpha: :math:`\alpha > 0` (default 1); differentiable.

    Returns:
      Same shape and dtype as ``x``.

    Raises:
      ValueError: if ``alpha`` is not positive.

    Examples:
      >>> ja.isru(jnp.array([-1e30, -1.0, 0.0, 2.0]))
      Array([-1.        , -0.70710677,  0.        ,  0.8944272 ], dtype=float32)

    References:
      Carlile et al., Improving Deep Learning by Inverse Square Root Linear Units
      (ISRLUs), arXiv:1710.09967.
    """
    arr = _core.as_array(x, "isru")
    _core.as_param(alpha, "isru", "alpha")
    _core.check(lambda a: a > 0, "isru", "alpha", "positive", alpha)
    return _core.apply(_isru, arr, alpha)


register(Entry("isru", isru, "elementwise", r"\frac{x}{\sqrt{1+\alpha x^2}}",
               r"(1+\alpha x^2)^{-3/2}", params=(Param("alpha", 1.0, "saturation, > 0"),),
               range=(-1.0, 1.0), source="paper",
               reference="Carlile et al. 2017, arXiv:1710.09967"))


def _isrlu_parts(x: Array, alpha: Array) -> tuple[Array, Array, Array]:
    y, dy, da = _isru_parts(jnp.minimum(x, 0.0), alpha)
    pos = x >= 0
    return jnp.where(pos, x, y), jnp.where(pos, 1.0, dy), jnp.where(pos, 0.0, da)


_isrlu = _math.elementwise(_isrlu_parts)


def isrlu(x: ArrayLike, *, alpha: ArrayLike = 1.0) -> Array:
    r"""Inverse square root linear unit: the identity for :math:`x \ge 0`, ISRU below.

    .. math::
        \mathrm{isrlu}(x) = \begin{cases} x & x \ge 0 \\ x/\sqrt{1 + \alpha x^2} & x < 0
        \end{cases}, \qquad \mathrm{isrlu}'(x) = \begin{cases} 1 & x \ge 0 \\
        (1 + \alpha x^2)^{-3/2} & x < 0 \end{cases}

    Twice continuously differentiable (the third derivative jumps at 0), so no kink
    convention is needed.

    Args:
      x: input array.
      alpha: :math:`\alpha > 0`; the negative part saturates at :math:`-1/\sqrt\alpha`
        (default 1); differentiable.

    Returns:
      Same shape and dtype as ``x``.

    Raises:
      ValueError: if ``alpha`` is not positive.

    Examples:
      >>> ja.isrlu(jnp.array([-1e30, -1.0, 0.0, 2.0]))
      Array([-1.        , -0.70710677,  0.        ,  2.        ], dtype=float32)

    References:
      Carlile et al., Improving Deep Learning by Inverse Square Root Linear Units
      (ISRLUs), arXiv:1710.09967.
    """
    arr = _core.as_array(x, "isrlu")
    _core.as_param(alpha, "isrlu", "alpha")
    _core.check(lambda a: a > 0, "isrlu", "alpha", "positive", alpha)
    return _core.apply(_isrlu, arr, alpha)


register(Entry("isrlu", isrlu, "elementwise",
               r"\begin{cases}x&x\ge0\\ x/\sqrt{1+\alpha x^2}&x<0\end{cases}",
               r"\begin{cases}1&x\ge0\\ (1+\alpha x^2)^{-3/2}&x<0\end{cases}",
               params=(Param("alpha", 1.0, "saturation of the negative part, > 0"),),
               range=(-1.0, _INF), smooth=False, source="paper",
               reference="Carlile et al. 2017, arXiv:1710.09967"))

# ---- Elliott -----------------------------------------------------------------------------


def _elliott_parts(x: Array) -> tuple[Array, Array]:
    # 0.5 x/(1 + |x|) + 0.5 cancels for x < 0: it is 0.5/(1 + |x|) there, 1 - that above.
    r = 1.0 / (1.0 + jnp.abs(x))
    half = 0.5 * r
    return jnp.where(x < 0, half, 1.0 - half), half * r


_elliott = _math.elementwise(_elliott_parts)


def elliott(x: ArrayLike) -> Array:
    r"""Elliott's sigmoid, a rational (exp-free) logistic look-alike.

    .. math::
        \mathrm{elliott}(x) = \frac{x}{2(1 + |x|)} + \frac12,
        \qquad \mathrm{elliott}'(x) = \frac{1}{2(1 + |x|)^2}

    The negative tail is computed as :math:`1/(2(1 + |x|))`, with full relative
    accuracy. Once differentiable at 0 (the second derivative jumps); no kink.

    Args:
      x: input array.

    Returns:
      Same shape and dtype as ``x``, in :math:`(0, 1)`.

    Examples:
      >>> ja.elliott(jnp.array([-1e6, -1.0, 0.0, 3.0]))
      Array([4.999995e-07, 2.500000e-01, 5.000000e-01, 8.750000e-01], dtype=float32)

    References:
      Elliott, A Better Activation Function for Artificial Neural Networks, ISR Technical
      Report TR 93-8, University of Maryland, 1993.
    """
    return _core.apply(_elliott, _core.as_array(x, "elliott"))


register(Entry("elliott", elliott, "elementwise", r"\frac{x}{2(1+|x|)}+\frac12",
               r"\frac{1}{2(1+|x|)^2}", range=(0.0, 1.0), smooth=False, source="paper",
               reference="Elliott 1993, ISR TR 93-8"))

# ---- Gaussian ----------------------------------------------------------------------------


def _gaussian_parts(x: Array) -> tuple[Array, Array]:
    # x^2 = p + e exactly (two_prod): e^{-p} alone is off by |e| ~ x^2 2^-25 relative,
    # 40 ulp at x = 9. exp_split keeps 2x e^{-x^2} normal where e^{-x^2} is flushed.
    lim = 30.0 if x.dtype == jnp.float64 else 20.0  # e^{-lim^2} = 0: keeps the split finite
    xc = jnp.clip(x, -lim, lim)
    p, err = _core.two_prod(xc, xc)
    m, k = _math.exp_split(-p)
    m = m - m * err
    return m * k, ((-2.0 * xc) * m) * k


_gaussian = _math.elementwise(_gaussian_parts)


def gaussian(x: ArrayLike) -> Array:
    r"""Gaussian bump.

    .. math::
        \mathrm{gaussian}(x) = e^{-x^2}, \qquad \mathrm{gaussian}'(x) = -2x\,e^{-x^2}

    :math:`x^2` is carried in double-float, so the tail keeps full relative accuracy
    (``jnp.exp(-x * x)`` is off by :math:`x^2 2^{-25}` relative, 40 ulp at
    :math:`x = 9`).

    Args:
      x: input array.

    Returns:
      Same shape and dtype as ``x``, in :math:`(0, 1]`.

    Examples:
      >>> ja.gaussian(jnp.array([0.0, 1.0, 9.0]))
      Array([1.0000000e+00, 3.6787945e-01, 6.6396777e-36], dtype=float32)

    References:
      Broomhead & Lowe, Multivariable Functional Interpolation and Adaptive Networks,
      Complex Systems 2, 1988 (Gaussian radial basis units).
    """
    return _core.apply(_gaussian, _core.as_array(x, "gaussian"))


register(Entry("gaussian", gaussian, "elementwise", r"e^{-x^2}", r"-2x\,e^{-x^2}",
               range=(0.0, 1.0), monotonic=False, source="paper",
               reference="Broomhead & Lowe 1988"))

# ---- sinc --------------------------------------------------------------------------------
# Polynomials in r^2 on |r| <= 1/2 (|r| <= 1/4 for cos), fitted by
# tests/reference/fit_literature.py: sin(pi r)/(pi r) = 1 + r^2 S (1.0 ulp),
# cos(pi r) = 1 + r^2 C (1.1 ulp), (cos(pi r) - sin(pi r)/(pi r))/r^2 = D (0.8 ulp).
_SINC = (-1.644934058189392, 0.8117424249649048, -0.1907518208026886, 0.02614784613251686,
         -0.002346060471609235, 0.00014832963643129915, -6.728441803716123e-06)
_COSPI = (-4.934802055358887, 4.058712005615234, -1.3352620601654053, 0.2353064864873886,
          -0.02545374073088169)
_DSINC = (-3.289868116378784, 3.246969699859619, -1.1445109844207764, 0.20918278396129608,
          -0.023460809141397476, 0.00178113067522645, -9.76000155787915e-05,
          3.9100418689486105e-06)
# float64: the Taylor series themselves, to 2^-60 on those intervals (k up to 14).
_SINC64 = tuple((-1) ** k * math.pi ** (2 * k) / math.factorial(2 * k + 1) for k in range(1, 15))
_COSPI64 = tuple((-1) ** k * math.pi ** (2 * k) / math.factorial(2 * k) for k in range(1, 11))
_DSINC64 = tuple((-1) ** k * math.pi ** (2 * k) * 2 * k / math.factorial(2 * k + 1)
                 for k in range(1, 15))


def _sinc_parts(x: Array) -> tuple[Array, Array]:
    # x = n + r exactly (|r| <= 1/2): sin(pi x) = (-1)^n sin(pi r), no loss at large x.
    xs = jnp.where(jnp.isinf(x), 0.0, x)
    n = jnp.round(xs)
    r = xs - n
    sign = 1.0 - 2.0 * jnp.abs(n - 2.0 * jnp.round(0.5 * n))  # (-1)^n
    wide = x.dtype == jnp.float64
    sinc_p, cos_p, d_p = (_SINC64, _COSPI64, _DSINC64) if wide else (_SINC, _COSPI, _DSINC)
    z = r * r
    s = 1.0 + z * _math.polyval(sinc_p, z)  # sin(pi r)/(pi r)
    # cos(pi r) = sin(pi h)/(pi h) * pi h with h = 1/2 - |r| (exact) for |r| > 1/4.
    h = 0.5 - jnp.abs(r)
    hh = h * h
    cos = jnp.where(jnp.abs(r) <= 0.25, 1.0 + z * _math.polyval(cos_p, z),
                    (math.pi * h) * (1.0 + hh * _math.polyval(sinc_p, hh)))
    central = n == 0
    xn = jnp.where(central, 1.0, xs)
    y = jnp.where(central, s, (sign * (s * r)) / xn)
    # sinc'(x) = (cos(pi x) - sinc(x))/x, or x D(x^2) where both terms are ~1.
    dy = jnp.where(central, xs * _math.polyval(d_p, z), (sign * cos - y) / xn)
    inf = jnp.isinf(x)
    return jnp.where(inf, 0.0, y), jnp.where(inf, 0.0, dy)


_sinc = _math.elementwise(_sinc_parts)


def sinc(x: ArrayLike) -> Array:
    r"""Normalized sinc (NumPy's convention).

    .. math::
        \mathrm{sinc}(x) = \frac{\sin(\pi x)}{\pi x}, \quad \mathrm{sinc}(0) = 1,
        \qquad \mathrm{sinc}'(x) = \frac{\cos(\pi x) - \mathrm{sinc}(x)}{x}

    The argument is reduced exactly, :math:`x = n + r` with :math:`|r| \le 1/2`, and
    :math:`\sin(\pi r)` and :math:`\cos(\pi r)` come from fitted polynomials, so the
    value is accurate for every float32 (exactly 0 at the integers, which are all float32
    at or above :math:`2^{23}`) and 0 at :math:`\pm\infty`.

    Args:
      x: input array.

    Returns:
      Same shape and dtype as ``x``.

    Examples:
      >>> ja.sinc(jnp.array([0.0, 0.5, 1.5, 2.5]))
      Array([ 1.        ,  0.6366198 , -0.2122066 ,  0.12732396], dtype=float32)

    References:
      ``numpy.sinc``; as an activation e.g. Parascandolo et al., Taming the Waves: Sine
      as Activation Function in Deep Neural Networks, 2016.
    """
    return _core.apply(_sinc, _core.as_array(x, "sinc"))


register(Entry("sinc", sinc, "elementwise", r"\frac{\sin(\pi x)}{\pi x}",
               r"\frac{\cos(\pi x)-\mathrm{sinc}(x)}{x}", range=(-0.21723362821122166, 1.0),
               monotonic=False, source="paper", reference="numpy.sinc (normalized)"))
