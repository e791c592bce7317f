"""Shrinkage and threshold functions from torch: threshold, hard, soft and tanh shrink.

The piecewise derivatives are written out, so the convention named in each docstring
is the rule (autodiff of ``where`` would pick one by accident).
"""

from __future__ import annotations

import jax.numpy as jnp
from jax import Array
from jax.typing import ArrayLike

from jaxact import _core, _math
from jaxact._registry import Entry, Kink, Param, register
from jaxact._torchlike import whole


def _threshold_parts(x: Array, t: Array, v: Array) -> tuple[Array, ...]:
    low = x <= t  # torch's test: NaN is not <= t, so NaN passes through
    return (jnp.where(low, v, x), jnp.where(low, 0.0, 1.0), jnp.zeros_like(x),
            jnp.where(low, 1.0, 0.0))


_threshold = _math.elementwise(_threshold_parts)


def threshold(x: ArrayLike, *, threshold: ArrayLike, value: ArrayLike) -> Array:
    r"""Threshold (``torch.nn.Threshold``): ``x`` above the threshold, ``value`` elsewhere.

    .. math::
        f(x) = \begin{cases} x & x > t \\ v & x \le t \end{cases},
        \qquad f'(x) = [x > t], \qquad \partial_v f = [x \le t]

    Convention: :math:`f'(t) = 0` (the :math:`x \le t` piece, as torch). The jump at
    :math:`t` (when :math:`v \ne t`) contributes nothing to :math:`\partial_t f`.
    NaN passes through. Integer inputs stay integer when both parameters are whole.

    Args:
      x: input array.
      threshold: :math:`t`, scalar or array broadcastable to ``x`` (required).
      value: :math:`v`, the replacement (required); differentiable.

    Returns:
      Same shape and dtype as ``x``.

    Examples:
      >>> ja.threshold(jnp.array([-1.0, 0.5, 1.0, 2.0]), threshold=1.0, value=-3.0)
      Array([-3., -3., -3.,  2.], dtype=float32)
    """
    _core.as_param(threshold, "threshold", "threshold")
    _core.as_param(value, "threshold", "value")
    arr = _core.as_array(x, "threshold", keep_int=whole(threshold, value))
    return _core.apply(_threshold, arr, threshold, value)


register(Entry("threshold", threshold, "elementwise",
               r"\begin{cases}x&x>t\\ v&x\le t\end{cases}", r"[x>t]", smooth=False,
               kinks=(Kink(1.0, 0.0, "x <= t piece, as torch (sample t = 1)"),),
               keeps_int=True, source="torch", reference="torch.nn.Threshold",
               sample={"threshold": 1.0, "value": -2.0}))


def _hard_shrink_parts(x: Array, lambd: Array) -> tuple[Array, ...]:
    inside = jnp.abs(x) <= lambd  # NaN is not inside: it passes through
    # d/dlambd is 0 at every number x, NaN at NaN as for the other parameter partials.
    return (jnp.where(inside, 0.0, x), jnp.where(inside, 0.0, 1.0),
            jnp.where(jnp.isnan(x), x, 0.0))


_hard_shrink = _math.elementwise(_hard_shrink_parts)


def _check_lambd(lambd: ArrayLike, fn: str) -> None:
    _core.as_param(lambd, fn, "lambd")
    _core.check(lambda v: v >= 0, fn, "lambd", ">= 0", lambd)


def hard_shrink(x: ArrayLike, *, lambd: ArrayLike = 0.5) -> Array:
    r"""Hard shrinkage (``torch.nn.Hardshrink``, ``keras.activations.hard_shrink``).

    .. math::
        f(x) = \begin{cases} x & |x| > \lambda \\ 0 & |x| \le \lambda \end{cases},
        \qquad f'(x) = [|x| > \lambda]

    Convention: :math:`f'(\pm\lambda) = 0` (the closed dead zone, as torch). The jumps
    contribute nothing to the derivative in :math:`\lambda`: 0 at every number, NaN at
    a NaN input (as every parameter derivative), so NaN data shows in its gradient too.

    Args:
      x: input array.
      lambd: :math:`\lambda \ge 0`, half-width of the dead zone (default 0.5, torch's
        name; Keras calls it ``threshold``).

    Returns:
      Same shape and dtype as ``x``.

    Raises:
      ValueError: if ``lambd < 0``.

    Examples:
      >>> ja.hard_shrink(jnp.array([-1.0, -0.5, 0.2, 0.7]))
      Array([-1. ,  0. ,  0. ,  0.7], dtype=float32)
    """
    _check_lambd(lambd, "hard_shrink")
    return _core.apply(_hard_shrink, _core.as_array(x, "hard_shrink"), lambd)


register(Entry("hard_shrink", hard_shrink, "elementwise",
               r"x\,[|x|>\lambda]", r"[|x|>\lambda]",
               params=(Param("lambd", 0.5, "half-width of the dead zone, >= 0"),), smooth=False,
               kinks=(Kink(-0.5, 0.0, "closed dead zone, as torch"),
                      Kink(0.5, 0.0, "closed dead zone, as torch")),
               source="torch", reference="torch.nn.Hardshrink; keras.activations.hard_shrink"))


def _soft_shrink_parts(x: Array, lambd: Array) -> tuple[Array, ...]:
    up, down = x > lambd, x < -lambd
    # x - lambd is exact near the kink (Sterbenz); NaN is in neither piece: kept explicitly,
    # in the value and in d/dlambd.
    mid = jnp.where(jnp.isnan(x), x, 0.0)
    y = jnp.where(up, x - lambd, jnp.where(down, x + lambd, mid))
    return (y, jnp.where(up | down, 1.0, 0.0),
            jnp.where(up, -1.0, jnp.where(down, 1.0, mid)))


_soft_shrink = _math.elementwise(_soft_shrink_parts)


def soft_shrink(x: ArrayLike, *, lambd: ArrayLike = 0.5) -> Array:
    r"""Soft shrinkage, the proximal map of :math:`\lambda|x|` (``torch.nn.Softshrink``).

    .. math::
        f(x) = \mathrm{sign}(x)\max(|x| - \lambda, 0),
        \qquad f'(x) = [|x| > \lambda],
        \qquad \partial_\lambda f = -\mathrm{sign}(x)\,[|x| > \lambda]

    Convention: :math:`f'(\pm\lambda) = 0` (the closed dead zone, as torch). NaN in
    gives NaN out (torch returns 0), and a NaN :math:`\partial_\lambda f`.

    Args:
      x: input array.
      lambd: :math:`\lambda \ge 0` (default 0.5); differentiable.

    Returns:
      Same shape and dtype as ``x``.

    Raises:
      ValueError: if ``lambd < 0``.

    Examples:
      >>> ja.soft_shrink(jnp.array([-1.0, 0.2, 0.75]))
      Array([-0.5 ,  0.  ,  0.25], dtype=float32)
    """
    _check_lambd(lambd, "soft_shrink")
    return _core.apply(_soft_shrink, _core.as_array(x, "soft_shrink"), lambd)


register(Entry("soft_shrink", soft_shrink, "elementwise",
               r"\mathrm{sign}(x)\max(|x|-\lambda,0)", r"[|x|>\lambda]",
               params=(Param("lambd", 0.5, "half-width of the dead zone, >= 0"),), smooth=False,
               kinks=(Kink(-0.5, 0.0, "closed dead zone, as torch"),
                      Kink(0.5, 0.0, "closed dead zone, as torch")),
               source="torch", reference="Donoho 1995; torch.nn.Softshrink"))

_CF_ODD = tuple(range(17, 3, -2))  # Lambert's continued fraction of tanh, 8 levels


def _tanh_shrink_parts(x: Array) -> tuple[Array, Array]:
    # x - tanh x cancels for |x| < 2. There, tanh x = x / (1 + w) with Lambert's
    # w = z/(3 + z/(5 + ...)), z = x^2, so x - tanh x = x z / (3 + w' + z): positive
    # terms only, no cancellation (8 levels: 2^-38 at |x| = 2; under 3 ulp in float32).
    t, _ = _math.tanh_parts(x)
    near = jnp.abs(x) < 2.0
    xs = jnp.where(near, x, 0.0)  # the fraction only sees small finite values
    z = xs * xs
    w = jnp.zeros_like(z)
    for k in _CF_ODD:
        w = z / (k + w)
    y = jnp.where(near, (xs * z) / ((3.0 + w) + z), x - t)
    return y, t * t  # 1 - sech^2 = tanh^2: no cancellation


_tanh_shrink = _math.elementwise(_tanh_shrink_parts, recompute=False)


def tanh_shrink(x: ArrayLike) -> Array:
    r"""Tanh shrinkage (``torch.nn.Tanhshrink``).

    .. math::
        f(x) = x - \tanh x, \qquad f'(x) = \tanh^2 x

    Accurate near 0, where the textbook :math:`x - \tanh x` cancels (in float32 it is
    40% off at :math:`x = 10^{-3}` and 0 below :math:`3 \cdot 10^{-4}`): a continued
    fraction without subtractions is used for :math:`|x| < 2`, and :math:`\tanh^2`
    (not :math:`1 - \mathrm{sech}^2`) for the derivative.

    Args:
      x: input array.

    Returns:
      Same shape and dtype as ``x``.

    Examples:
      >>> ja.tanh_shrink(jnp.array([-2.0, 1e-3, 3.0]))
      Array([-1.0359724e+00,  3.3333328e-10,  2.0049453e+00], dtype=float32)
    """
    return _core.apply(_tanh_shrink, _core.as_array(x, "tanh_shrink"))


register(Entry("tanh_shrink", tanh_shrink, "elementwise", r"x-\tanh x", r"\tanh^2 x",
               source="torch", reference="torch.nn.Tanhshrink"))
