"""Softmax, log-softmax, logsumexp and logmeanexp along one or more axes.

All of them shift by the maximum and keep log(1 + tiny): the maximum's own term
(exactly 1 after the shift) is left out of the sum and put back through ``log1p``,
so ``log_softmax([0, -30])[0]`` is ``-9.4e-14``, not the ``0`` that ``jax.nn``
returns. ``x - max`` is carried with its exact rounding error, which ``exp`` would
amplify for entries far below the maximum. The derivative rules are written in
terms of the softmax, the one full-size residual saved for the backward pass.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence

import jax
import jax.numpy as jnp
from jax import Array
from jax.typing import ArrayLike

from jaxact import _core
from jaxact._registry import Entry, Param, register

Axis = int | Sequence[int] | None


def _shifted(x: Array, mask: Array, axis: tuple[int, ...]) -> tuple[Array, ...]:
    """``(x - m, its rounding error, sum of exp(x - m) minus one, m)`` over ``mask``."""
    m = jnp.max(x, axis, where=mask, initial=-jnp.inf, keepdims=True)
    m = jnp.where(m == -jnp.inf, 0.0, m)  # all -inf or all masked: avoid -inf - -inf
    d, err = _core.two_sum(x, -m)
    err = jnp.where(jnp.isfinite(err), err, 0.0)
    top = (d == 0) & mask
    e = jnp.where(mask & ~top, jnp.exp(d) * (1.0 + err), 0.0)
    rest = jnp.sum(e, axis, keepdims=True) + (jnp.sum(top, axis, keepdims=True) - 1.0)
    return d, err, rest, m


def _mask(x: Array, where: Array | None) -> Array:
    return jnp.ones(x.shape, bool) if where is None else jnp.broadcast_to(where, x.shape)


@functools.partial(jax.custom_jvp, nondiff_argnums=(2,))
def _log_softmax_masked(x: Array, mask: Array, axis: tuple[int, ...]) -> Array:
    d, err, rest, _ = _shifted(x, mask, axis)
    return jnp.where(mask, (d - jnp.log1p(rest)) + err, -jnp.inf)


@_log_softmax_masked.defjvp
def _log_softmax_jvp(axis, primals, tangents):
    (x, mask), (t, _) = primals, tangents
    y = _log_softmax_masked(x, mask, axis)
    p = jnp.exp(y)  # the softmax: the one residual
    t = jnp.where(mask, t, 0.0)
    return y, jnp.where(mask, t - jnp.sum(p * t, axis, keepdims=True), 0.0)


def _log_softmax_kernel(x: Array, where: Array | None, *, axis: tuple[int, ...]) -> Array:
    return _log_softmax_masked(x, _mask(x, where), axis)


@functools.partial(jax.custom_jvp, nondiff_argnums=(2,))
def _softmax_masked(x: Array, mask: Array, axis: tuple[int, ...]) -> Array:
    d, err, rest, _ = _shifted(x, mask, axis)
    return jnp.where(mask, jnp.exp(d) * (1.0 + err), 0.0) / (1.0 + rest)


@_softmax_masked.defjvp
def _softmax_jvp(axis, primals, tangents):
    (x, mask), (t, _) = primals, tangents
    y = _softmax_masked(x, mask, axis)
    t = jnp.where(mask, t, 0.0)
    return y, y * (t - jnp.sum(y * t, axis, keepdims=True))


def _softmax_kernel(x: Array, where: Array | None, *, axis: tuple[int, ...]) -> Array:
    return _softmax_masked(x, _mask(x, where), axis)


def _prepare(fn: str, x: ArrayLike, axis: Axis, where: ArrayLike | None):
    arr = _core.as_array(x, fn)
    axes = _core.normalize_axis(axis, arr.ndim, fn)
    if where is not None:
        where = _core.as_array(where, fn, "where", keep_int=True)
        if where.dtype != jnp.bool_:
            raise TypeError(f"{fn}: where must be a boolean array, got dtype {where.dtype}")
        try:
            jnp.broadcast_shapes(where.shape, arr.shape)
        except ValueError as err:
            raise ValueError(f"{fn}: where of shape {where.shape} does not broadcast "
                             f"to x of shape {arr.shape}") from err
    return arr, axes, where


def log_softmax(x: ArrayLike, axis: Axis = -1, where: ArrayLike | None = None) -> Array:
    r"""Log-softmax, with full relative accuracy for the largest entries.

    .. math::
        \mathrm{log\_softmax}(x)_i = x_i - \log\sum_j e^{x_j},
        \qquad \frac{\partial\,\mathrm{log\_softmax}(x)_i}{\partial x_j}
        = \delta_{ij} - \mathrm{softmax}(x)_j

    Args:
      x: input array.
      axis: axis or axes to normalise over (``None``: all), default -1.
      where: optional boolean mask; masked-out entries are excluded and give
        :math:`-\infty` (with zero gradient).

    Returns:
      Same shape and dtype as ``x``. A ``+inf`` entry makes its slice NaN, as in
      ``jax.nn``.

    Examples:
      >>> ja.log_softmax(jnp.array([0.0, -30.0]))  # jax.nn gives [0., -30.]
      Array([-9.357623e-14, -3.000000e+01], dtype=float32)
    """
    arr, axes, where = _prepare("log_softmax", x, axis, where)
    return _core.apply(_log_softmax_kernel, arr, where, axis=axes)


register(Entry("log_softmax", log_softmax, "normalizer", r"x_i-\log\sum_j e^{x_j}",
               r"\delta_{ij}-\mathrm{softmax}(x)_j",
               params=(Param("axis", -1, "axis or axes"), Param("where", None, "mask")),
               range=(-float("inf"), 0.0), reference="textbook"))


def softmax(x: ArrayLike, axis: Axis = -1, where: ArrayLike | None = None) -> Array:
    r"""Softmax.

    .. math::
        \mathrm{softmax}(x)_i = \frac{e^{x_i}}{\sum_j e^{x_j}},
        \qquad \frac{\partial\,\mathrm{softmax}(x)_i}{\partial x_j}
        = \mathrm{softmax}(x)_i\,(\delta_{ij} - \mathrm{softmax}(x)_j)

    Args:
      x: input array.
      axis: axis or axes to normalise over (``None``: all), default -1.
      where: optional boolean mask; masked-out entries are excluded and give 0.

    Returns:
      Same shape and dtype as ``x``; slices sum to 1.

    Examples:
      >>> ja.softmax(jnp.array([1.0, 2.0, 3.0]))
      Array([0.09003057, 0.24472848, 0.6652409 ], dtype=float32)
    """
    arr, axes, where = _prepare("softmax", x, axis, where)
    return _core.apply(_softmax_kernel, arr, where, axis=axes)


register(Entry("softmax", softmax, "normalizer", r"\frac{e^{x_i}}{\sum_j e^{x_j}}",
               r"s_i(\delta_{ij}-s_j)",
               params=(Param("axis", -1, "axis or axes"), Param("where", None, "mask")),
               range=(0.0, 1.0), monotonic=False, reference="Bridle 1990"))


def _lse_value(a: Array, b: Array | None, mask: Array, axis: tuple[int, ...]):
    if b is None:
        _, _, rest, m = _shifted(a, mask, axis)
        top = jnp.max(a, axis, where=mask, initial=-jnp.inf, keepdims=True)
        lse = jnp.where(top == jnp.inf, jnp.inf, m + jnp.log1p(rest))
        return lse, jnp.where(jnp.isnan(lse), lse, 1.0)
    m = jnp.max(a, axis, where=mask, initial=-jnp.inf, keepdims=True)
    m = jnp.where(jnp.isfinite(m), m, 0.0)
    s = jnp.sum(jnp.where(mask, b * jnp.exp(a - m), 0.0), axis, keepdims=True)
    return m + jnp.log(jnp.abs(s)), jnp.sign(s)


@functools.partial(jax.custom_jvp, nondiff_argnums=(3,))
def _lse(a: Array, b: Array | None, mask: Array, axis: tuple[int, ...]):
    return _lse_value(a, b, mask, axis)


@_lse.defjvp
def _lse_jvp(axis, primals, tangents):
    (a, b, mask), (ta, tb, _) = primals, tangents
    lse, sign = _lse(a, b, mask, axis)
    # d lse = sum(w * (b da + db)) with w = sign * e^{a - lse}: the softmax when b is None.
    w = jnp.where(mask & (lse > -jnp.inf), jnp.exp(a - lse) * sign, 0.0)
    dot = jnp.sum(w * (ta if b is None else b * ta + tb), axis, keepdims=True)
    return (lse, sign), (dot, jnp.zeros_like(sign))


def _logsumexp_kernel(a: Array, b: Array | None, where: Array | None, *,
                      axis: tuple[int, ...]) -> tuple[Array, Array]:
    return _lse(a, b, _mask(a, where), axis)


def _finish(lse: Array, sign: Array, axes: tuple[int, ...], keepdims: bool,
            return_sign: bool) -> Array | tuple[Array, Array]:
    if not keepdims:
        lse, sign = jnp.squeeze(lse, axes), jnp.squeeze(sign, axes)
    if return_sign:
        return lse, sign
    return jnp.where(sign < 0, jnp.nan, lse)


def logsumexp(a: ArrayLike, axis: Axis = None, b: ArrayLike | None = None,
              keepdims: bool = False, return_sign: bool = False,
              where: ArrayLike | None = None) -> Array | tuple[Array, Array]:
    r"""Log of the sum of exponentials, optionally weighted and signed.

    .. math::
        \mathrm{logsumexp}(a) = \log \sum_i b_i e^{a_i},
        \qquad rac{\partial\,\mathrm{logsumexp}}{\partial a_i}
        = rac{b_i e^{a_i}}{\sum_j b_j e^{a_j}}

    Without ``b`` the maximum's term is kept out of the sum and added through
    ``log1p``, so a sum of ``1 + tiny`` keeps its ``tiny``.

    Args:
      a: input array.
      axis: axis or axes to reduce (default ``None``: all).
      b: optional weights broadcastable to ``a`` (may be negative: see
        ``return_sign``); differentiable.
      keepdims: keep the reduced axes with size 1.
      return_sign: return ``(log|sum|, sign(sum))``; otherwise a negative sum gives NaN.
      where: optional boolean mask of the entries to include.

    Returns:
      The reduced array (``a``'s dtype), or the pair when ``return_sign``.

    Examples:
      >>> ja.logsumexp(jnp.array([0.0, -30.0])) - 0.0  # jax.nn gives 0.0
      Array(9.357623e-14, dtype=float32)
      >>> ja.logsumexp(jnp.array([1.0, 1.0]), b=jnp.array([1.0, -2.0]), return_sign=True)
      (Array(1., dtype=float32), Array(-1., dtype=float32))
    """
    arr, axes, where = _prepare("logsumexp", a, axis, where)
    if b is not None:
        b = _core.as_array(b, "logsumexp", "b")
        b = jnp.broadcast_to(b, jnp.broadcast_shapes(b.shape, arr.shape))
        arr = jnp.broadcast_to(arr, b.shape)
    lse, sign = _core.apply(_logsumexp_kernel, arr, b, where, axis=axes)
    return _finish(lse, sign, axes, keepdims, return_sign)


register(Entry("logsumexp", logsumexp, "normalizer", r"\log\sum_i b_i e^{a_i}",
               r"rac{b_i e^{a_i}}{\sum_j b_j e^{a_j}}",
               params=(Param("axis", None, "axis or axes"), Param("b", None, "weights"),
                       Param("keepdims", False, "keep reduced axes"),
                       Param("return_sign", False, "also return the sign"),
                       Param("where", None, "mask")),
               monotonic=True, reference="textbook"))


def logmeanexp(x: ArrayLike, axis: Axis = None, where: ArrayLike | None = None,
               keepdims: bool = False) -> Array:
    r"""Log of the mean of exponentials.

    .. math::
        \mathrm{logmeanexp}(x) = \log rac{1}{n} \sum_{i=1}^n e^{x_i}
        = \mathrm{logsumexp}(x) - \log n,
        \qquad rac{\partial}{\partial x_i} = \mathrm{softmax}(x)_i

    Args:
      x: input array.
      axis: axis or axes to reduce (default ``None``: all).
      where: optional boolean mask; :math:`n` counts the included entries.
      keepdims: keep the reduced axes with size 1.

    Returns:
      The reduced array, ``x``'s dtype.

    Examples:
      >>> ja.logmeanexp(jnp.array([1.0, 1.0, 1.0]))
      Array(1., dtype=float32)
    """
    arr, axes, where = _prepare("logmeanexp", x, axis, where)
    lse, _ = _core.apply(_logsumexp_kernel, arr, None, where, axis=axes)
    count = jnp.sum(_mask(arr, where), axes, keepdims=True).astype(lse.dtype)
    out = lse - jnp.log(count)
    return out if keepdims else jnp.squeeze(out, axes)


register(Entry("logmeanexp", logmeanexp, "normalizer", r"\lograc1n\sum_i e^{x_i}",
               r"\mathrm{softmax}(x)_i",
               params=(Param("axis", None, "axis or axes"), Param("where", None, "mask"),
                       Param("keepdims", False, "keep reduced axes")),
               reference="jax.nn.logmeanexp"))
