"""Self-gated functions x * g(x): silu, gelu, mish, hard_silu (the GLU family is in _glu.py)."""

from __future__ import annotations

import jax.numpy as jnp
from jax import Array
from jax.typing import ArrayLike

from jaxact import _core, _expm1, _math, _smooth, _special
from jaxact._registry import Entry, Kink, Param, register


def _silu_parts(x: Array) -> tuple[Array, Array]:
    return _expm1.silu_value(x), _expm1.silu_slope(x)


_silu = _math.elementwise(_silu_parts)


def _silu_beta_parts(x: Array, beta: Array) -> tuple[Array, Array, Array]:
    y, dx, _, dbeta = _smooth._silu_lo_parts(x, beta, 0.0)
    return y, dx, dbeta


_silu_beta = _math.elementwise(_silu_beta_parts)


def silu(x: ArrayLike, *, beta: ArrayLike = 1.0) -> Array:
    r"""SiLU / swish, with an optional (learnable) :math:`\beta`.

    .. math::
        \mathrm{silu}(x) = x\,\sigma(\beta x),
        \qquad \mathrm{silu}'(x) = \sigma(\beta x) + \beta x\,\sigma(\beta x)\,\sigma(-\beta x)

    ``swish`` is an alias. :math:`\beta = 1.702` gives QuickGELU.

    Args:
      x: input array.
      beta: :math:`\beta` (scalar or array broadcastable to ``x``, default 1);
        differentiable.

    Returns:
      Same shape and dtype as ``x``.

    Examples:
      >>> ja.silu(jnp.array([-1.0, 0.0, 1.0]))
      Array([-0.26894143,  0.        ,  0.7310586 ], dtype=float32)
      >>> ja.swish(jnp.array([1.0]), beta=2.0)
      Array([0.8807971], dtype=float32)

    References:
      Hendrycks & Gimpel, arXiv:1606.08415; Elfwing et al., arXiv:1702.03118;
      Ramachandran et al., Searching for Activation Functions, arXiv:1710.05941.
    """
    arr = _core.as_array(x, "silu")
    _core.as_param(beta, "silu", "beta")
    if isinstance(beta, (int, float)) and beta == 1:
        return _core.apply(_silu, arr)
    return _core.apply(_silu_beta, arr, beta)


swish = silu

register(Entry("silu", silu, "elementwise", r"x\,\sigma(\beta x)",
               r"\sigma(\beta x)+\beta x\,\sigma(\beta x)\sigma(-\beta x)",
               params=(Param("beta", 1.0, "gate sharpness"),),
               range=(-0.2784645427610738, float("inf")),
               monotonic=False, aliases=("swish",),
               reference="Elfwing et al. 2017, arXiv:1702.03118; Ramachandran et al. 2017"))

_gelu_erf = _math.elementwise(_special.gelu_erf_parts)
_gelu_tanh = _math.elementwise(_special.gelu_tanh_parts)


def gelu(x: ArrayLike, approximate: bool = True) -> Array:
    r"""Gaussian error linear unit, exact or with the tanh approximation.

    .. math::
        \mathrm{gelu}(x) = x\,\Phi(x) = \frac{x}{2}\,\mathrm{erfc}\!\left(-\frac{x}{\sqrt2}\right),
        \qquad \mathrm{gelu}'(x) = \Phi(x) + x\,\varphi(x)

    and with ``approximate=True`` (the default, as ``jax.nn``)

    .. math::
        \mathrm{gelu}(x) = \frac{x}{2}\left(1 + \tanh u\right) = x\,\sigma(2u),
        \quad u = \sqrt{2/\pi}\,\left(x + 0.044715\,x^3\right)

    Both are accurate to a few ulp over the whole float32 range, including the
    negative tail where :math:`\Phi(x)` and :math:`\sigma(2u)` are tiny: :math:`x^2`
    and :math:`u` are carried in double-float, and the erfc form uses jaxact's own
    scaled complementary error function (XLA's float32 ``erfc`` is 60 ulp off there).
    One residual is saved for the backward pass (``jax.nn.gelu`` saves five).

    Args:
      x: input array.
      approximate: use the tanh approximation (static Python bool).

    Returns:
      Same shape and dtype as ``x``.

    Examples:
      >>> ja.gelu(jnp.array([-1.0, 0.0, 1.0]), approximate=False)
      Array([-0.15865526,  0.        ,  0.8413447 ], dtype=float32)
      >>> ja.gelu(jnp.array([-1.0, 0.0, 1.0]))
      Array([-0.15880802,  0.        ,  0.841192  ], dtype=float32)

    References:
      Hendrycks & Gimpel, Gaussian Error Linear Units (GELUs), arXiv:1606.08415.
    """
    if not isinstance(approximate, bool):
        raise TypeError(f"gelu: approximate must be a bool, got {type(approximate).__name__}")
    arr = _core.as_array(x, "gelu")
    return _core.apply(_gelu_tanh if approximate else _gelu_erf, arr)


register(Entry("gelu", gelu, "elementwise", r"x\,\Phi(x)", r"\Phi(x)+x\,\varphi(x)",
               params=(Param("approximate", True, "tanh approximation (static)"),),
               range=(-0.16997120747990377, float("inf")), monotonic=False,
               reference="Hendrycks & Gimpel 2016, arXiv:1606.08415"))


def _mish_parts(x: Array) -> tuple[Array, Array]:
    # With e = exp(-|x|), tanh(softplus(x)), sigmoid(x) and sech^2(softplus(x)) are
    # rational in e: no log, no tanh, no 1 - tanh^2 cancellation for large x. For x < 0
    # the outputs are ~ x e^x, so e is kept as m * k (exp_split), normal down to x = -92.
    m, k = _math.exp_split(-jnp.abs(x))
    e = m * k
    pos = x >= 0
    a = 1.0 + e
    # x >= 0: tanh(sp) = 1 - 2e^2 / (1 + 2e + 2e^2), sech^2(sp) = 4 (e a / (a^2 + e^2))^2.
    # (As (1 + 2e) / (1 + 2e + 2e^2), its derivative, -4e (1 + e) / D^2, came from a
    # difference of two terms ~2: mish'' was 12% off at x = 20, 0 at 35 in reverse mode.)
    t_pos = 1.0 - (2.0 * (e * e)) / (1.0 + 2.0 * e + 2.0 * (e * e))
    q = e * a / (a * a + e * e)
    inside = x < _math.far(x)  # beyond, sech^2 == 0 and x * 0 would be nan at inf
    d_pos = t_pos + jnp.where(inside, x, 0.0) / a * (4.0 * (q * q))
    # x < 0, with D = a^2 + 1: tanh(sp) = e (e + 2) / D = e (1 - e a / D), the rounded
    # part a correction below 1/2 (e (e + 2) / D itself rounds ~9 times: 5.2 ulp found by
    # bench/exhaustive.py), and the derivative in one fraction, e ((e + 2) D + 4 x a) / D^2,
    # which has fewer roundings near its zero.
    d = a * a + 1.0
    xn = jnp.where(jnp.abs(x) < _math.far(x), x, 0.0)  # (x >= far: the unused branch)
    t_neg = m - m * (e * a / d)
    d_neg = m * ((e + 2.0) * d + 4.0 * xn * a) / (d * d)
    y = jnp.where(pos, x * t_pos, (xn * t_neg) * k)
    return y, jnp.where(pos, d_pos, d_neg * k)


_mish = _math.elementwise(_mish_parts)


def mish(x: ArrayLike) -> Array:
    r"""Mish, a self-regularised non-monotonic activation.

    .. math::
        \mathrm{mish}(x) = x \tanh(\mathrm{softplus}(x)),
        \qquad \mathrm{mish}'(x) = \tanh(s) + x\,\sigma(x)\,\mathrm{sech}^2(s),
        \quad s = \mathrm{softplus}(x)

    Args:
      x: input array.

    Returns:
      Same shape and dtype as ``x``.

    Examples:
      >>> ja.mish(jnp.array([-1.0, 0.0, 1.0]))
      Array([-0.30340147,  0.        ,  0.86509836], dtype=float32)

    References:
      Misra, Mish: A Self Regularized Non-Monotonic Activation Function, arXiv:1908.08681.
    """
    return _core.apply(_mish, _core.as_array(x, "mish"))


register(Entry("mish", mish, "elementwise", r"x\tanh(\mathrm{softplus}(x))",
               r"\tanh(s)+x\sigma(x)\mathrm{sech}^2(s)", range=(-0.30883935587342724, float("inf")),
               monotonic=False, reference="Misra 2019, arXiv:1908.08681"))


def _hard_silu_parts(x: Array) -> tuple[Array, Array]:
    gate = jnp.clip(x + 3.0, 0.0, 6.0) / 6.0  # exactly 1 for x >= 3, so x * gate == x
    dy = jnp.where(x <= -3.0, 0.0, jnp.where(x >= 3.0, 1.0, (2.0 * x + 3.0) / 6.0))
    return jnp.where(x <= -3.0, 0.0, x * gate), dy  # x * 0 would be nan at -inf


_hard_silu = _math.elementwise(_hard_silu_parts)


def hard_silu(x: ArrayLike) -> Array:
    r"""Hard SiLU / hard swish (MobileNetV3).

    .. math::
        \mathrm{hard\_silu}(x) = x\,\frac{\mathrm{relu6}(x + 3)}{6},
        \qquad \mathrm{hard\_silu}'(x) = \begin{cases} 0 & x \le -3 \\
        (2x + 3)/6 & -3 < x < 3 \\ 1 & x \ge 3 \end{cases}

    Convention: the derivative is 0 at :math:`x = -3` and 1 at :math:`x = 3`, the
    outer pieces (as ``jax.nn``). ``hard_swish`` is an alias.

    Args:
      x: input array.

    Returns:
      Same shape and dtype as ``x``.

    Examples:
      >>> ja.hard_silu(jnp.array([-1.5, 0.0, 1.0, 4.0]))
      Array([-0.375    ,  0.       ,  0.6666667,  4.       ], dtype=float32)

    References:
      Howard et al., Searching for MobileNetV3, arXiv:1905.02244.
    """
    return _core.apply(_hard_silu, _core.as_array(x, "hard_silu"))


hard_swish = hard_silu

register(Entry("hard_silu", hard_silu, "elementwise", r"x\,\frac{\mathrm{relu6}(x+3)}{6}",
               r"\begin{cases}0&x\le-3\\ (2x+3)/6&|x|<3\\ 1&x\ge3\end{cases}",
               range=(-0.375, float("inf")), monotonic=False, smooth=False,
               kinks=(Kink(-3.0, 0.0, "outer piece, as jax.nn"),
                      Kink(3.0, 1.0, "outer piece, as jax.nn")),
               aliases=("hard_swish",), reference="Howard et al. 2019, arXiv:1905.02244"))
