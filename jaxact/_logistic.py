"""Sigmoid-shaped functions and their integrals: sigmoid, tanh, softplus and kin."""

from __future__ import annotations

import functools

import jax
import jax.numpy as jnp
from jax import Array, lax
from jax.typing import ArrayLike

from jaxact import _core, _expm1, _math
from jaxact._registry import Entry, Param, register


def _sigmoid_parts(x: Array) -> tuple[Array, Array]:
    return _expm1.sigmoid_value(x), _expm1.sigmoid_slope(x)


_sigmoid = _math.elementwise(_sigmoid_parts)


def sigmoid(x: ArrayLike) -> Array:
    r"""Logistic sigmoid.

    .. math::
        \sigma(x) = \frac{1}{1 + e^{-x}}, \qquad \sigma'(x) = \sigma(x)\,\sigma(-x)

    The derivative is computed as :math:`s(1 - s)` with :math:`s = \sigma(-|x|)`, never
    :math:`\sigma(1-\sigma)`, which cancels to 0 for :math:`x > 17` in float32
    (``jax.nn.sigmoid``'s gradient is already off by 100% there). Both come from one
    hand-reduced exponential (faster on CPU than XLA's ``exp``).

    Args:
      x: input array.

    Returns:
      :math:`\sigma(x)`, same shape and dtype as ``x``.

    Examples:
      >>> ja.sigmoid(jnp.array([-1.0, 0.0, 1.0]))
      Array([0.26894143, 0.5       , 0.7310586 ], dtype=float32)
      >>> float(jax.grad(ja.sigmoid)(30.0))  # jax.nn gives 0.0
      9.357623589846195e-14
    """
    return _core.apply(_sigmoid, _core.as_array(x, "sigmoid"))


register(Entry("sigmoid", sigmoid, "elementwise", r"\frac{1}{1+e^{-x}}",
               r"\sigma(x)\sigma(-x)", range=(0.0, 1.0), reference="textbook"))


def _log_sigmoid_parts(x: Array) -> tuple[Array, Array]:
    y, dy = _math.softplus_parts(-x)
    return -y, dy


_log_sigmoid = _math.elementwise(_log_sigmoid_parts, recompute=False)


def log_sigmoid(x: ArrayLike) -> Array:
    r"""Log of the logistic sigmoid.

    .. math::
        \log\sigma(x) = -\log(1 + e^{-x}) = -\mathrm{softplus}(-x),
        \qquad \frac{d}{dx}\log\sigma(x) = \sigma(-x)

    Args:
      x: input array.

    Returns:
      :math:`\log\sigma(x)`, same shape and dtype as ``x``.

    Examples:
      >>> ja.log_sigmoid(jnp.array([-100.0, 0.0, 20.0]))
      Array([-1.0000000e+02, -6.9314718e-01, -2.0611537e-09], dtype=float32)
    """
    return _core.apply(_log_sigmoid, _core.as_array(x, "log_sigmoid"))


register(Entry("log_sigmoid", log_sigmoid, "elementwise", r"-\log(1+e^{-x})",
               r"\sigma(-x)", range=(-float("inf"), 0.0), reference="textbook"))


def _tanh_parts(x: Array) -> tuple[Array, Array]:
    return _expm1.tanh_value(x), _expm1.sech2(x)


_tanh = _math.elementwise(_tanh_parts)


def tanh(x: ArrayLike) -> Array:
    r"""Hyperbolic tangent, accurate to 2.5 ulp with an accurate derivative.

    .. math::
        \tanh(x) = \frac{e^{x} - e^{-x}}{e^{x} + e^{-x}},
        \qquad \tanh'(x) = \mathrm{sech}^2(x)

    :math:`\mathrm{sech}^2` is computed as :math:`h\,(1 - h/4)` with
    :math:`h = 4/(1 + e^{2|x|})`, not as :math:`1 - \tanh^2`, which is 0 for
    :math:`|x| > 9` in float32. The value is :math:`g/(g + 1)` with
    :math:`g = \mathrm{expm1}(2x)/2` from one hand-reduced exponential (jax.nn's speed
    on CPU, where XLA's ``exp`` alone costs more than its ``tanh``).

    Args:
      x: input array.

    Returns:
      :math:`\tanh(x)`, same shape and dtype as ``x``.

    Examples:
      >>> ja.tanh(jnp.array([-1.0, 0.0, 0.5]))
      Array([-0.76159424,  0.        ,  0.46211714], dtype=float32)
      >>> float(jax.grad(ja.tanh)(20.0))  # jax.nn gives 0.0
      1.699341652455464e-17
    """
    return _core.apply(_tanh, _core.as_array(x, "tanh"))


register(Entry("tanh", tanh, "elementwise", r"\tanh(x)", r"\mathrm{sech}^2(x)",
               range=(-1.0, 1.0), reference="textbook"))

_softplus = _math.elementwise(_math.softplus_parts, recompute=False)
_softplus_beta = _math.elementwise(_math.softplus_beta_parts, recompute=False)


def _softplus_threshold_parts(x: Array, beta: Array, *, threshold: float) -> tuple[Array, ...]:
    y, dx, dbeta = _math.softplus_beta_parts(x, beta)
    linear = beta * x > threshold
    return jnp.where(linear, x, y), jnp.where(linear, 1.0, dx), jnp.where(linear, 0.0, dbeta)


@functools.cache
def _softplus_threshold(threshold: float) -> jax.custom_jvp:
    # One kernel per threshold value: jit's cache is keyed on the kernel object.
    return _math.elementwise(
        functools.partial(_softplus_threshold_parts, threshold=threshold), recompute=False
    )


def softplus(x: ArrayLike, *, beta: ArrayLike = 1.0, threshold: float | None = None) -> Array:
    r"""Softplus, optionally with torch's ``beta`` and ``threshold``.

    .. math::
        \mathrm{softplus}(x) = \frac{1}{\beta}\log\left(1 + e^{\beta x}\right),
        \qquad \mathrm{softplus}'(x) = \sigma(\beta x)

    Computed as :math:`\max(x, 0) + \log(1 + e^{-|\beta x|})/\beta`, so neither
    :math:`e^{\beta x}` nor :math:`\beta x` overflows and the tail keeps full
    relative accuracy.

    Args:
      x: input array.
      beta: sharpness :math:`\beta > 0` (scalar or array broadcastable to ``x``);
        ``beta=1`` is ``jax.nn.softplus``.
      threshold: if given, returns ``x`` itself (derivative 1) where
        :math:`\beta x >` ``threshold``, as ``torch.nn.Softplus`` does. ``None``
        (default) uses the exact formula everywhere, which needs no switch.

    Returns:
      Same shape and dtype as ``x``.

    Raises:
      ValueError: if ``beta`` is not positive.

    Examples:
      >>> ja.softplus(jnp.array([-20.0, 0.0, 20.0]))
      Array([2.0611537e-09, 6.9314718e-01, 2.0000000e+01], dtype=float32)
      >>> ja.softplus(jnp.array([1.0]), beta=2.0)
      Array([1.063464], dtype=float32)
    """
    arr = _core.as_array(x, "softplus")
    _core.as_param(beta, "softplus", "beta")
    _core.check(lambda b: b > 0, "softplus", "beta", "positive", beta)
    if threshold is not None:
        return _core.apply(_softplus_threshold(float(threshold)), arr, beta)
    if isinstance(beta, (int, float)) and beta == 1:
        return _core.apply(_softplus, arr)
    return _core.apply(_softplus_beta, arr, beta)


register(Entry("softplus", softplus, "elementwise", r"\frac{1}{\beta}\log(1+e^{\beta x})",
               r"\sigma(\beta x)", params=(Param("beta", 1.0, "sharpness, > 0"),
               Param("threshold", None, "linear above beta*x > threshold (torch)")),
               range=(0.0, float("inf")), reference="Dugas et al. 2001; torch.nn.Softplus"))


def _soft_sign_parts(x: Array) -> tuple[Array, Array]:
    r = 1.0 / (1.0 + jnp.abs(x))  # x * r would flush: r is subnormal for |x| > 8.5e37
    return jnp.where(jnp.isinf(x), jnp.sign(x), x / (1.0 + jnp.abs(x))), r * r


_soft_sign = _math.elementwise(_soft_sign_parts)


def soft_sign(x: ArrayLike) -> Array:
    r"""Soft-sign.

    .. math::
        \mathrm{soft\_sign}(x) = \frac{x}{1 + |x|},
        \qquad \mathrm{soft\_sign}'(x) = \frac{1}{(1 + |x|)^2}

    Args:
      x: input array.

    Returns:
      Same shape and dtype as ``x``; :math:`\pm 1` at :math:`\pm\infty`.

    Examples:
      >>> ja.soft_sign(jnp.array([-1.0, 0.0, 3.0, jnp.inf]))
      Array([-0.5 ,  0.  ,  0.75,  1.  ], dtype=float32)
    """
    return _core.apply(_soft_sign, _core.as_array(x, "soft_sign"))


register(Entry("soft_sign", soft_sign, "elementwise", r"\frac{x}{1+|x|}",
               r"\frac{1}{(1+|x|)^2}", range=(-1.0, 1.0), reference="Bergstra et al. 2009"))




def _squareplus_parts(x: Array, b: Array) -> tuple[Array, Array, Array]:
    a = jnp.abs(x)
    huge = a > 1e18  # x^2 would overflow; there sqrt(x^2 + b) == |x| in float32
    # x^2 underflows below |x| = 2^-63, which matters only where b is as tiny (b = 0:
    # relu, squareplus(1e-20) was 0 and its derivative NaN for x < 0): scaled by 2^64.
    tiny = (a < 2.0**-63) & (b < 2.0**-100)
    # b 2^128 from b's exponent bits (b < 2^-100 there; 0 stays 0): as a product XLA
    # gathers the two factors 2^64 into 2^128 = inf (0 * inf = NaN for b = 0), even
    # behind a barrier once b is an array (its scalar factors are multiplied first)
    wide = b.dtype == jnp.float64
    bits = lax.bitcast_convert_type(b, jnp.int64 if wide else jnp.int32)
    b128 = lax.bitcast_convert_type(bits + (128 << (52 if wide else 23)), b.dtype)
    safe = jnp.where(huge, 0.0, x) * jnp.where(tiny, 2.0**64, 1.0)
    root = jnp.sqrt(safe * safe + jnp.where(tiny, jnp.where(b > 0, b128, 0.0), b))
    s = jnp.where(huge, a, root * jnp.where(tiny, 2.0**-64, 1.0))
    # q = (s - |x|)/2 = (b/4) / ((s + |x|)/2) never cancels: squareplus is q for x < 0 and
    # s - q for x >= 0 (where x + s would overflow for huge x). h avoids overflow too.
    h = jnp.where(huge, a, 0.5 * (s + a))
    q = jnp.where(h == 0, 0.0, 0.25 * b / jnp.where(h == 0, 1.0, h))  # b = 0 at x = 0
    r = 1.0 / s
    ratio = jnp.where(huge, jnp.sign(x), jnp.where(s > 0, x * r, 0.0))  # x/s
    y = jnp.where(x >= 0, s - q, q)
    dx = jnp.where(x >= 0, 0.5 + 0.5 * ratio, q * r)  # x < 0: b / (4 s h) = q / s
    return y, dx, 0.25 * r


_squareplus = _math.elementwise(_squareplus_parts)


def squareplus(x: ArrayLike, b: ArrayLike = 4) -> Array:
    r"""Squareplus, a softplus made of a square root.

    .. math::
        \mathrm{squareplus}(x) = \frac{x + \sqrt{x^2 + b}}{2},
        \qquad \mathrm{squareplus}'(x) = \frac12\left(1 + \frac{x}{\sqrt{x^2 + b}}\right)

    Both are rewritten with :math:`q = \frac{b/4}{(\sqrt{x^2+b} + |x|)/2}`, which does
    not cancel: the value is :math:`q` for :math:`x < 0` and :math:`\sqrt{x^2+b} - q`
    otherwise, and
    :math:`x^2` is never formed where it would overflow (``jax.nn.squareplus``
    returns ``inf`` or ``nan`` for :math:`|x| > 10^{19}`). With :math:`b = 0` this is
    ``relu``, and the derivative at 0 is then :math:`1/2`.

    Args:
      x: input array.
      b: smoothness :math:`b \ge 0` (default 4, as ``jax.nn``).

    Returns:
      Same shape and dtype as ``x``.

    Raises:
      ValueError: if ``b`` is negative.

    Examples:
      >>> ja.squareplus(jnp.array([-1e20, -1.0, 0.0, 1.0]))  # jax.nn: 0 at -1e20
      Array([1.000000e-20, 6.180340e-01, 1.000000e+00, 1.618034e+00], dtype=float32)

    References:
      Barron, Squareplus: A Softplus-Like Algebraic Rectifier, arXiv:2112.11687.
    """
    arr = _core.as_array(x, "squareplus")
    _core.as_param(b, "squareplus", "b")
    _core.check(lambda v: v >= 0, "squareplus", "b", "non-negative", b)
    return _core.apply(_squareplus, arr, b)


register(Entry("squareplus", squareplus, "elementwise", r"\frac{x+\sqrt{x^2+b}}{2}",
               r"\frac12\left(1+\frac{x}{\sqrt{x^2+b}}\right)",
               params=(Param("b", 4.0, "smoothness, >= 0"),), range=(0.0, float("inf")),
               reference="Barron 2021, arXiv:2112.11687"))
