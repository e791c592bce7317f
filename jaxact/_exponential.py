"""The ELU family (elu, selu, celu) and log1mexp: functions built on e^x - 1.

``jax.nn`` differentiates ``expm1`` through its output (``y + 1``), which rounds to
0 below x = -17; here the derivative is ``alpha * exp(x)`` computed from ``x``.
"""

from __future__ import annotations

import fractions
import math

import jax
import jax.numpy as jnp
from jax import Array
from jax.typing import ArrayLike

from jaxact import _core, _math
from jaxact._registry import Entry, Kink, Param, register

_SELU_LAMBDA = 1.0507009873554804934193349852946
_SELU_ALPHA = 1.6732632423543772848170429916717


def _elu_parts(x: Array, alpha: Array) -> tuple[Array, Array, Array]:
    pos = x > 0
    neg = jnp.where(pos, 0.0, x)  # expm1 of the untaken positive branch could overflow
    em1 = _math.expm1(neg)
    # alpha e^x stays normal where e^x alone is flushed, to x = -174 for alpha = 3e38
    m, k1, k2 = _math.exp_split_deep(neg)
    return jnp.where(pos, x, alpha * em1), jnp.where(pos, 1.0, ((alpha * m) * k1) * k2), em1


_elu = _math.elementwise(_elu_parts)


def elu(x: ArrayLike, alpha: ArrayLike = 1.0) -> Array:
    r"""Exponential linear unit.

    .. math::
        \mathrm{elu}(x) = \begin{cases} x & x > 0 \\ \alpha (e^x - 1) & x \le 0 \end{cases},
        \qquad \mathrm{elu}'(x) = \begin{cases} 1 & x > 0 \\ \alpha e^x & x \le 0 \end{cases}

    Convention: the derivative at 0 is :math:`\alpha` (the :math:`x \le 0` piece, as
    ``jax.nn`` and torch); for :math:`\alpha = 1` the function is :math:`C^1`.

    Args:
      x: input array.
      alpha: scale of the negative part (scalar or array, default 1); differentiable.

    Returns:
      Same shape and dtype as ``x``.

    Examples:
      >>> ja.elu(jnp.array([-1.0, 0.0, 1.0]))
      Array([-0.63212055,  0.        ,  1.        ], dtype=float32)
      >>> float(jax.grad(ja.elu)(-20.0))  # jax.nn gives 0.0
      2.06115369216775e-09

    References:
      Clevert et al., Fast and Accurate Deep Network Learning by Exponential Linear
      Units (ELUs), arXiv:1511.07289.
    """
    arr = _core.as_array(x, "elu")
    _core.as_param(alpha, "elu", "alpha")
    return _core.apply(_elu, arr, alpha)


register(Entry("elu", elu, "elementwise", r"\begin{cases}x&x>0\\ \alpha(e^x-1)&x\le0\end{cases}",
               r"\begin{cases}1&x>0\\ \alpha e^x&x\le0\end{cases}",
               params=(Param("alpha", 1.0, "scale of the negative part"),),
               range=(-1.0, float("inf")),
               smooth=False, kinks=(Kink(0.0, 1.0, "alpha, the x <= 0 piece (C^1 for alpha=1)"),),
               reference="Clevert et al. 2015, arXiv:1511.07289"))


def _selu_parts(x: Array) -> tuple[Array, Array]:
    pos = x > 0
    neg = jnp.where(pos, 0.0, x)
    scale = _SELU_LAMBDA * _SELU_ALPHA  # one rounding, not two
    m, k = _math.exp_split(neg)
    return (
        jnp.where(pos, _SELU_LAMBDA * x, scale * _math.expm1(neg)),
        jnp.where(pos, _SELU_LAMBDA, (scale * m) * k),
    )


_selu = _math.elementwise(_selu_parts)


def selu(x: ArrayLike) -> Array:
    r"""Scaled exponential linear unit.

    .. math::
        \mathrm{selu}(x) = \lambda \begin{cases} x & x > 0 \\ \alpha (e^x - 1) & x \le 0
        \end{cases}

    with :math:`\lambda = 1.0507009873554804934193349852946` and
    :math:`\alpha = 1.6732632423543772848170429916717`. Convention: the derivative at
    0 is :math:`\lambda\alpha` (the :math:`x \le 0` piece, as ``jax.nn``).

    Args:
      x: input array.

    Returns:
      Same shape and dtype as ``x``.

    Examples:
      >>> ja.selu(jnp.array([-1.0, 0.0, 1.0]))
      Array([-1.1113307,  0.       ,  1.050701 ], dtype=float32)

    References:
      Klambauer et al., Self-Normalizing Neural Networks, arXiv:1706.02515.
    """
    return _core.apply(_selu, _core.as_array(x, "selu"))


register(Entry("selu", selu, "elementwise",
               r"\lambda\begin{cases}x&x>0\\ \alpha(e^x-1)&x\le0\end{cases}",
               r"\lambda\begin{cases}1&x>0\\ \alpha e^x&x\le0\end{cases}",
               range=(-_SELU_LAMBDA * _SELU_ALPHA, float("inf")), smooth=False,
               kinks=(Kink(0.0, _SELU_LAMBDA * _SELU_ALPHA, "lambda*alpha, the x <= 0 piece"),),
               reference="Klambauer et al. 2017, arXiv:1706.02515"))


# B(u) = sum_{k >= 2} (k - 1) u^{k-2} / k! for -1 <= u <= 0: to 2^-26 relative with the
# first 12 terms (float32), 2^-55 with all 20 (float64)
_CELU_B = tuple(float(fractions.Fraction(k - 1, math.factorial(k))) for k in range(2, 22))


def _celu_parts(x: Array, alpha: Array) -> tuple[Array, Array, Array]:
    pos = x > 0
    neg = jnp.where(pos, 0.0, x)
    u = neg / alpha
    # exp(x/alpha) amplifies the rounding of x/alpha by |x/alpha| (up to ~100):
    # the exact remainder x - u*alpha restores it.
    p, err = _core.two_prod(u, alpha)
    eu = jnp.exp(u) * (1.0 + jnp.where(jnp.isfinite(err), ((neg - p) - err) / alpha, 0.0))
    em1 = _math.expm1(u)
    # d/dalpha = expm1(u) - u e^u ~ -u^2/2 cancels for |u| < 1 (every digit by |u| = 1e-8):
    # there its series -u^2 B(u); beyond, u = -inf (x/alpha overflowed) gives -1, not NaN
    small = u > -1.0
    us = jnp.where(small, u, 0.0)
    series = _CELU_B if x.dtype == jnp.float64 else _CELU_B[:12]
    dalpha = jnp.where(small, -(us * us) * _math.polyval(series, us),
                       em1 - jnp.maximum(u, -200.0) * eu)
    # u may be subnormal (flushed) while x is not: there alpha * expm1(u) == x.
    return (
        jnp.where(pos, x, jnp.where(jnp.abs(u) < 2.0**-25, neg, alpha * em1)),
        jnp.where(pos, 1.0, eu),
        jnp.where(pos, 0.0, dalpha),
    )


_celu = _math.elementwise(_celu_parts)


def celu(x: ArrayLike, alpha: ArrayLike = 1.0) -> Array:
    r"""Continuously differentiable exponential linear unit.

    .. math::
        \mathrm{celu}(x) = \max(0, x) + \min\left(0, \alpha\left(e^{x/\alpha} - 1\right)\right),
        \qquad \mathrm{celu}'(x) = \begin{cases} 1 & x > 0 \\ e^{x/\alpha} & x \le 0 \end{cases}

    :math:`C^1` for every :math:`\alpha`: the derivative at 0 is 1 from both sides.

    Args:
      x: input array.
      alpha: :math:`\alpha > 0` (default 1), as in the paper; differentiable. (With
        :math:`\alpha < 0` the formula grows as :math:`\alpha e^{x/\alpha}` for
        :math:`x < 0`, which this kernel does not carry accurately; a traced
        ``alpha`` is not checked.)

    Returns:
      Same shape and dtype as ``x``.

    Raises:
      ValueError: if ``alpha`` is not positive.

    Examples:
      >>> ja.celu(jnp.array([-1.0, 0.0, 1.0]), alpha=2.0)
      Array([-0.7869387,  0.       ,  1.       ], dtype=float32)

    References:
      Barron, Continuously Differentiable Exponential Linear Units, arXiv:1704.07483.
    """
    arr = _core.as_array(x, "celu")
    _core.as_param(alpha, "celu", "alpha")
    _core.check(lambda a: a > 0, "celu", "alpha", "positive", alpha)
    return _core.apply(_celu, arr, alpha)


register(Entry("celu", celu, "elementwise", r"\max(0,x)+\min(0,\alpha(e^{x/\alpha}-1))",
               r"\begin{cases}1&x>0\\ e^{x/\alpha}&x\le0\end{cases}",
               params=(Param("alpha", 1.0, "positive scale"),), range=(-1.0, float("inf")),
               smooth=False, reference="Barron 2017, arXiv:1704.07483"))


def _log1mexp_parts(x: Array) -> tuple[Array, Array]:
    # Maechler's switch at log 2: each side keeps its argument away from 1.
    near = x < jnp.log(2.0)
    y = jnp.where(near, jnp.log(-_math.expm1(-x)), jnp.log1p(-jnp.exp(-x)))
    # Undefined below 0; negative subnormals count as negative although XLA compares
    # them as 0, so the sign bit decides.
    below = jnp.signbit(x) & ((x != 0) | _core.is_subnormal(x))
    return y, jnp.where(below, jnp.nan, jnp.where(x == 0, jnp.inf, _inv_expm1(x)))


@jax.custom_jvp
def _inv_expm1(x: Array) -> Array:
    """1 / (e^x - 1), log1mexp's derivative."""
    return 1.0 / _math.expm1(x)


@_inv_expm1.defjvp
def _inv_expm1_jvp(primals: tuple[Array], tangents: tuple[Array]) -> tuple[Array, Array]:
    # d' = -d (1 + d), written in d: autodiff of the formula divides an overflowed
    # e^x by its square from x = 89 on (inf / inf: NaN in jax.hessian).
    (x,), (dx,) = primals, tangents
    d = _inv_expm1(x)
    return d, -(d * (1.0 + d)) * dx


_log1mexp = _math.elementwise(_log1mexp_parts)


def log1mexp(x: ArrayLike) -> Array:
    r"""Numerically stable :math:`\log(1 - e^{-x})` for :math:`x > 0`.

    .. math::
        \mathrm{log1mexp}(x) = \log\left(1 - e^{-x}\right),
        \qquad \mathrm{log1mexp}'(x) = \frac{1}{e^{x} - 1}

    :math:`-\infty` at 0 and NaN for :math:`x < 0`, where it is undefined.

    Args:
      x: input array.

    Returns:
      Same shape and dtype as ``x``.

    Examples:
      >>> ja.log1mexp(jnp.array([1e-3, 1.0, 20.0]))
      Array([-6.9082551e+00, -4.5867515e-01, -2.0611537e-09], dtype=float32)

    References:
      Maechler, Accurately Computing ``log(1 - exp(-|a|))``, Rmpfr vignette, 2012.
    """
    return _core.apply(_log1mexp, _core.as_array(x, "log1mexp"))


register(Entry("log1mexp", log1mexp, "elementwise", r"\log(1-e^{-x})", r"\frac{1}{e^x-1}",
               range=(-float("inf"), 0.0), domain=(0.0, float("inf")), reference="Maechler 2012"))
