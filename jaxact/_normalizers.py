"""Softmax, softmin, log-softmax, logsumexp and logmeanexp along one or more axes.

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
from typing import Any

import jax
import jax.numpy as jnp
from jax import Array
from jax.typing import ArrayLike

from jaxact import _core, _math
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


def _prepare(fn: str, x: ArrayLike, axis: Axis, where: ArrayLike | None, dtype: Any = None):
    arr = _core.as_array(x, fn)
    if dtype is not None:  # torch's dtype=: cast first, e.g. bfloat16 logits to float32
        try:
            dt = jnp.dtype(dtype)
        except TypeError as err:
            raise TypeError(f"{fn}: dtype must be a floating-point dtype, got {dtype!r}") from err
        if not jnp.issubdtype(dt, jnp.floating):
            raise ValueError(f"{fn}: dtype must be a floating-point dtype, got {dt}")
        arr = arr.astype(dt)
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


def log_softmax(x: ArrayLike, axis: Axis = -1, where: ArrayLike | None = None, *,
                dtype: Any = None) -> Array:
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
      dtype: if given, ``x`` is cast to this floating dtype first and the result has
        it (torch's ``dtype``), e.g. ``jnp.float32`` for ``bfloat16`` logits.

    Returns:
      Same shape as ``x``, dtype ``dtype`` or ``x``'s. A ``+inf`` entry makes its
      slice NaN, as in ``jax.nn``.

    Examples:
      >>> ja.log_softmax(jnp.array([0.0, -30.0]))  # jax.nn gives [0., -30.]
      Array([-9.357623e-14, -3.000000e+01], dtype=float32)
    """
    arr, axes, where = _prepare("log_softmax", x, axis, where, dtype)
    return _core.apply(_log_softmax_kernel, arr, where, axis=axes)


register(Entry("log_softmax", log_softmax, "normalizer", r"x_i-\log\sum_j e^{x_j}",
               r"\delta_{ij}-\mathrm{softmax}(x)_j",
               params=(Param("axis", -1, "axis or axes"), Param("where", None, "mask"),
                       Param("dtype", None, "cast x to this dtype first")),
               range=(-float("inf"), 0.0), reference="textbook"))


def softmax(x: ArrayLike, axis: Axis = -1, where: ArrayLike | None = None, *,
            dtype: Any = None) -> Array:
    r"""Softmax.

    .. math::
        \mathrm{softmax}(x)_i = \frac{e^{x_i}}{\sum_j e^{x_j}},
        \qquad \frac{\partial\,\mathrm{softmax}(x)_i}{\partial x_j}
        = \mathrm{softmax}(x)_i\,(\delta_{ij} - \mathrm{softmax}(x)_j)

    Args:
      x: input array.
      axis: axis or axes to normalise over (``None``: all), default -1.
      where: optional boolean mask; masked-out entries are excluded and give 0.
      dtype: if given, ``x`` is cast to this floating dtype first and the result has
        it (torch's ``dtype``), e.g. ``jnp.float32`` for ``bfloat16`` logits.

    Returns:
      Same shape as ``x``, dtype ``dtype`` or ``x``'s; slices sum to 1.

    Examples:
      >>> ja.softmax(jnp.array([1.0, 2.0, 3.0]))
      Array([0.09003057, 0.24472848, 0.66524094], dtype=float32)
      >>> ja.softmax(jnp.array([1.0, 2.0], jnp.bfloat16), dtype=jnp.float32)
      Array([0.26894143, 0.7310586 ], dtype=float32)
    """
    arr, axes, where = _prepare("softmax", x, axis, where, dtype)
    return _core.apply(_softmax_kernel, arr, where, axis=axes)


register(Entry("softmax", softmax, "normalizer", r"\frac{e^{x_i}}{\sum_j e^{x_j}}",
               r"s_i(\delta_{ij}-s_j)",
               params=(Param("axis", -1, "axis or axes"), Param("where", None, "mask"),
                       Param("dtype", None, "cast x to this dtype first")),
               range=(0.0, 1.0), monotonic=False, reference="Bridle 1990"))


def _softmin_kernel(x: Array, where: Array | None, *, axis: tuple[int, ...]) -> Array:
    return _softmax_masked(-x, _mask(x, where), axis)  # negation is exact: softmax's accuracy


def softmin(x: ArrayLike, axis: Axis = -1, where: ArrayLike | None = None, *,
            dtype: Any = None) -> Array:
    r"""Softmin: the softmax of :math:`-x`, largest weight on the smallest entry.

    .. math::
        \mathrm{softmin}(x)_i = \frac{e^{-x_i}}{\sum_j e^{-x_j}},
        \qquad \frac{\partial\,\mathrm{softmin}(x)_i}{\partial x_j}
        = -\mathrm{softmin}(x)_i\,(\delta_{ij} - \mathrm{softmin}(x)_j)

    The same kernel as :func:`softmax` (negation is exact), so the same accuracy,
    masking and single saved residual.

    Args:
      x: input array.
      axis: axis or axes to normalise over (``None``: all), default -1.
      where: optional boolean mask; masked-out entries are excluded and give 0.
      dtype: if given, ``x`` is cast to this floating dtype first and the result has
        it (torch's ``dtype``).

    Returns:
      Same shape as ``x``, dtype ``dtype`` or ``x``'s; slices sum to 1. A ``-inf``
      entry makes its slice NaN (the ``+inf`` of softmax), as in torch.

    Examples:
      >>> ja.softmin(jnp.array([1.0, 2.0, 3.0]))
      Array([0.66524094, 0.24472848, 0.09003057], dtype=float32)

    References:
      ``torch.nn.Softmin``.
    """
    arr, axes, where = _prepare("softmin", x, axis, where, dtype)
    return _core.apply(_softmin_kernel, arr, where, axis=axes)


register(Entry("softmin", softmin, "normalizer", r"\frac{e^{-x_i}}{\sum_j e^{-x_j}}",
               r"-s_i(\delta_{ij}-s_j)",
               params=(Param("axis", -1, "axis or axes"), Param("where", None, "mask"),
                       Param("dtype", None, "cast x to this dtype first")),
               range=(0.0, 1.0), monotonic=False, reference="torch.nn.Softmin",
               source="torch"))


def _lse_value(a: Array, b: Array | None, mask: Array, axis: tuple[int, ...]):
    top = jnp.max(a, axis, where=mask, initial=-jnp.inf, keepdims=True)
    if b is None:
        _, _, rest, m = _shifted(a, mask, axis)
        lse = jnp.where(top == jnp.inf, jnp.inf, m + jnp.log1p(rest))
        return lse, jnp.where(jnp.isnan(lse), lse, 1.0)
    m = jnp.where(jnp.isfinite(top), top, 0.0)
    s = jnp.sum(jnp.where(mask, b * jnp.exp(a - m), 0.0), axis, keepdims=True)
    return m + jnp.log(jnp.abs(s)), jnp.sign(s)


def _weights(a: Array, b: Array | None, mask: Array, axis: tuple[int, ...]) -> Array:
    """d logsumexp / d a: the softmax of a (times b / sum, with signs, when weighted)."""
    if b is None:
        return _softmax_masked(a, mask, axis)
    top = jnp.max(a, axis, where=mask, initial=-jnp.inf, keepdims=True)
    d, err = _core.two_sum(a, -jnp.where(jnp.isfinite(top), top, 0.0))
    e = jnp.where(mask, b * (jnp.exp(d) * (1.0 + jnp.where(jnp.isfinite(err), err, 0.0))), 0.0)
    s = jnp.sum(e, axis, keepdims=True)
    return jnp.where(s != 0, e / jnp.where(s != 0, s, 1.0), 0.0)


@functools.partial(jax.custom_jvp, nondiff_argnums=(3,))
def _lse(a: Array, b: Array | None, mask: Array, axis: tuple[int, ...]):
    return _lse_value(a, b, mask, axis)


@_lse.defjvp
def _lse_jvp(axis, primals, tangents):
    (a, b, mask), (ta, tb, _) = primals, tangents
    out = _lse(a, b, mask, axis)
    # d lse = sum(w (da + db / b)) with w = b e^a / sum(b e^a): computed like softmax,
    # from the exactly shifted exponents, not as exp(a - lse) with lse rounded.
    w = _weights(a, b, mask, axis)
    dot = jnp.sum(w * ta, axis, keepdims=True)
    if b is not None:
        eb = _weights(a, jnp.ones_like(b), mask, axis)  # e^a / sum(e^a) ...
        dot = dot + jnp.sum(eb * tb, axis, keepdims=True) * _ratio(a, b, mask, axis)
    return out, (dot, jnp.zeros_like(out[1]))


def _ratio(a: Array, b: Array, mask: Array, axis: tuple[int, ...]) -> Array:
    """sum(e^a) / sum(b e^a), turning softmax weights into the weights of b."""
    top = jnp.max(a, axis, where=mask, initial=-jnp.inf, keepdims=True)
    e = jnp.where(mask, jnp.exp(a - jnp.where(jnp.isfinite(top), top, 0.0)), 0.0)
    return jnp.sum(e, axis, keepdims=True) / jnp.sum(b * e, axis, keepdims=True)


def _logsumexp_kernel(a: Array, b: Array | None, where: Array | None, *,
                      axis: tuple[int, ...]) -> tuple[Array, Array]:
    return _lse(a, b, _mask(a, where), axis)


@functools.partial(jax.custom_jvp, nondiff_argnums=(2,))
def _lme(x: Array, mask: Array, axis: tuple[int, ...]) -> Array:
    # log(mean e^x) = m + log1p(sum(expm1(x - m)) / n): no log n to subtract, so a
    # mean near 1 keeps its small logarithm.
    top = jnp.max(x, axis, where=mask, initial=-jnp.inf, keepdims=True)
    m = jnp.where(jnp.isfinite(top), top, 0.0)
    d, err = _core.two_sum(x, -m)
    err = jnp.where(jnp.isfinite(err), err, 0.0)
    e = jnp.exp(d)
    n = jnp.sum(mask, axis, keepdims=True).astype(x.dtype)
    below = jnp.sum(jnp.where(mask, _math.expm1(d) + err * e, 0.0), axis, keepdims=True) / n
    mean = jnp.sum(jnp.where(mask, e * (1.0 + err), 0.0), axis, keepdims=True) / n
    # mean - 1 = below: log1p(below) where the mean is near 1, log(mean) where it is not.
    # m + log1p(u) is summed as (m + u) + (log1p(u) - u): m + u is exact when they
    # cancel, and log1p(u) - u comes from its series when small.
    u = below
    series = -u * u * (0.5 - u * (1 / 3 - u * (0.25 - u * (0.2 - u / 6))))
    corr = jnp.where(jnp.abs(u) < 2.0**-6, series, jnp.log1p(u) - u)
    out = jnp.where(below > -0.5, (m + u) + corr, m + jnp.log(mean))
    return jnp.where(top == jnp.inf, jnp.inf, out)


@_lme.defjvp
def _lme_jvp(axis, primals, tangents):
    (x, mask), (t, _) = primals, tangents
    p = _softmax_masked(x, mask, axis)
    return _lme(x, mask, axis), jnp.sum(p * jnp.where(mask, t, 0.0), axis, keepdims=True)


def _logmeanexp_kernel(x: Array, where: Array | None, *, axis: tuple[int, ...]) -> Array:
    return _lme(x, _mask(x, where), axis)


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
        \qquad \frac{\partial\,\mathrm{logsumexp}}{\partial a_i}
        = \frac{b_i e^{a_i}}{\sum_j b_j e^{a_j}}

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
               r"\frac{b_i e^{a_i}}{\sum_j b_j e^{a_j}}",
               params=(Param("axis", None, "axis or axes"), Param("b", None, "weights"),
                       Param("keepdims", False, "keep reduced axes"),
                       Param("return_sign", False, "also return the sign"),
                       Param("where", None, "mask")),
               monotonic=True, reference="textbook"))


def logmeanexp(x: ArrayLike, axis: Axis = None, where: ArrayLike | None = None,
               keepdims: bool = False) -> Array:
    r"""Log of the mean of exponentials.

    .. math::
        \mathrm{logmeanexp}(x) = \log \frac{1}{n} \sum_{i=1}^n e^{x_i}
        = \mathrm{logsumexp}(x) - \log n,
        \qquad \frac{\partial}{\partial x_i} = \mathrm{softmax}(x)_i

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
    out = _core.apply(_logmeanexp_kernel, arr, where, axis=axes)
    return out if keepdims else jnp.squeeze(out, axes)


register(Entry("logmeanexp", logmeanexp, "normalizer", r"\log\frac1n\sum_i e^{x_i}",
               r"\mathrm{softmax}(x)_i",
               params=(Param("axis", None, "axis or axes"), Param("where", None, "mask"),
                       Param("keepdims", False, "keep reduced axes")),
               reference="jax.nn.logmeanexp"))
