"""Softmax, softmin and log-softmax along one or more axes, and their shared core.

All of them shift by the maximum and keep log(1 + tiny): the maximum's own term
(exactly 1 after the shift) is left out of the sum and put back through ``log1p``,
so ``log_softmax([0, -30])[0]`` is ``-9.4e-14``, not the ``0`` that ``jax.nn``
returns. Where the weights ``exp(x - max)`` are themselves an output (the softmax,
and the derivative rules), ``x - max`` is carried with its exact rounding error,
which ``exp`` would amplify for entries far below the maximum; a log of a sum does
not need it (see ``shifted_exp``). The derivative rules are written in terms of the
softmax, the one full-size residual saved for the backward pass.

Speed: the row sums go through ``row_sum`` (a GEMV on CPU for arrays up to 2^20
elements, XLA's fused reduction above) and the derivative rules broadcast through
``spread``, whose transpose is again ``row_sum``. softmax needs no
separate maxima: 1 / (1 + rest) does not cancel, so it divides by the plain sum.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Sequence
from typing import Any

import jax
import jax.numpy as jnp
from jax import Array
from jax.typing import ArrayLike

from jaxact import _core
from jaxact._registry import Entry, Param, register

Axis = int | Sequence[int] | None


def _exact_diff(xm: Array, m: Array) -> tuple[Array, Array]:
    """``(d, err)`` with ``d + err == max(xm, m - gap) - m`` exactly, for ``xm <= m``.

    Entries more than ``gap`` below only need ``exp(d) == 0``; raising them keeps ``d``
    finite for finite ``m`` (no ``-inf - m``, no overflow).
    """
    info = jnp.finfo(xm.dtype)
    # exp(-gap) underflows to 0 (float32: 113, float64: 819); |m| 2^-22 > ulp(m).
    gap = jnp.maximum(1.1 * -math.log(float(info.smallest_subnormal)), jnp.abs(m) * 2.0**-22)
    return _core.two_sum(jnp.maximum(xm, m - gap), -m)


def masked_max(x: Array, mask: Array | None, axis: tuple[int, ...]) -> tuple[Array, Array]:
    """``(xm, max)``: x with masked entries at -inf, and its maximum over ``axis``."""
    xm = x if mask is None else jnp.where(mask, x, -jnp.inf)
    return xm, jnp.max(xm, axis, keepdims=True)


def shift(x: Array, mask: Array | None, axis: tuple[int, ...]) -> tuple[Array, ...]:
    """``(m_raw, m, d, err)`` for the weighted row sums.

    ``m_raw`` is the (masked) maximum, ``m`` the same clipped to the finite range (a
    slice of -inf keeps a finite ``d``: its weighted sum is 0, not NaN), and
    ``(d, err)`` from ``_exact_diff``.
    """
    xm, m_raw = masked_max(x, mask, axis)
    info = jnp.finfo(x.dtype)
    m = jnp.clip(m_raw, -info.max, info.max)
    return (m_raw, m, *_exact_diff(xm, m))


def shifted_exp(x: Array, mask: Array | None, axis: tuple[int, ...], exact: bool
                ) -> tuple[Array, Array]:
    """``(m, e)``: the (masked) maximum and ``e = exp(x - m)``, 0 where masked.

    ``e`` is exactly 1 at the maxima, and NaN throughout a slice whose maximum is not
    finite (+inf, NaN, or only -inf), by arithmetic alone: XLA's CPU backend then fuses
    the whole row computation, sums and all, into one pass (selects would split it).
    ``exact`` carries the rounding error of ``x - m`` into ``e`` (``exp`` amplifies it
    by ``|x - m|``: up to ~50 ulp): needed where ``e`` itself is used, as softmax
    weights. A log of the sum does not need it: it drops ``sum_i w_i err_i`` (softmax
    weights ``w``, ``|err_i| <= u |x_i - m|``, u the unit roundoff), and ``x_i - m`` is
    exact (Sterbenz) unless ``x_i < 2m`` (m < 0: then ``|x_i - m| < |x_i|``) or
    ``x_i < m/2`` (m > 0: ``|x_i - m| < |x_i| + m``, and the result is ``>= m``), so the
    loss stays within the result's ulp plus its conditioning, ``u sum_i w_i |x_i|``
    (tested on rows built for it: ``inexact64`` in tests/cases.py).
    """
    xm, m = masked_max(x, mask, axis)
    if not exact:
        return m, jnp.exp(xm - m)
    d, err = _exact_diff(xm, m)
    return m, jnp.exp(d) * (1.0 + err)


# Above this many elements the GEMV's operand (written out, then read back) no longer
# stays in cache and XLA's fused reduction is faster (measured on a 2-core EPYC: at 2^22
# logsumexp took 16 ms as a GEMV against 5 ms fused; at 2^20, 1.0 ms against 1.4 ms).
_GEMV_MAX = 2**20


def _trailing(shape: tuple[int, ...], axis: tuple[int, ...], limit: float = _GEMV_MAX
              ) -> int | None:
    """The size of the reduced slice when ``axis`` are the trailing axes and the whole
    array has at most ``limit`` elements (the GEMV form pays), else None."""
    k = len(shape) - len(axis)
    if tuple(sorted(axis)) != tuple(range(k, len(shape))) or not 0 < math.prod(shape) <= limit:
        return None
    return math.prod(shape[k:])


def _ones(like: Array, shape: tuple[int, ...]) -> Array:
    # opaque: XLA's simplifier rewrites a product with constant ones into a reduction
    return jnp.broadcast_to(_core.opaque(1.0, like), shape)


def row_sum(a: Array, axis: tuple[int, ...]) -> Array:
    """``jnp.sum(a, axis, keepdims=True)``; over trailing axes on CPU, up to ``_GEMV_MAX``
    elements, a matrix-vector product.

    XLA's CPU reductions (YNNPACK) run the elementwise producers fused into them several
    times slower than its plain loops do; a product with a vector of ones gets a plain
    loop for the producer and a GEMV for the sum (float32 accumulation either way, full
    precision requested).
    """
    n = _trailing(a.shape, axis)
    if n is None:
        return jnp.sum(a, axis, keepdims=True)
    product = lambda r: jnp.dot(r, _ones(r, (n,)), precision=jax.lax.Precision.HIGHEST)
    total = jax.lax.platform_dependent(a.reshape(-1, n), cpu=product,
                                       default=lambda r: jnp.sum(r, 1))
    return total.reshape(tuple(1 if i in axis else k for i, k in enumerate(a.shape)))


def spread(s: Array, shape: tuple[int, ...], axis: tuple[int, ...]) -> Array:
    """``s`` (kept axes) broadcast to ``shape``, written so that its transpose is ``row_sum``.

    Reverse mode turns a plain broadcast into a reduction (the slow kind on CPU, see
    ``row_sum``); an outer product with ones turns into a product with ones.
    """
    n = _trailing(shape, axis)
    if n is None:
        return jnp.broadcast_to(s, shape)
    outer = lambda c: jnp.dot(c, _ones(c, (1, n)), precision=jax.lax.Precision.HIGHEST)
    out = jax.lax.platform_dependent(s.reshape(-1, 1), cpu=outer,
                                     default=lambda c: jnp.broadcast_to(c, (c.shape[0], n)))
    return out.reshape(shape)


def rest_of(e: Array, axis: tuple[int, ...]) -> Array:
    """``sum(e) - 1`` for ``e = exp(x - max)``, its exact 1s counted, not summed.

    ``e <= 1`` is exactly 1 at the maxima (and where ``exp`` rounds to 1, which counts
    the same), so ``floor(e)`` is the tie mask (zero derivative, behind stop_gradient
    besides) and ``e - floor(e)`` the rest: ``1 + tiny`` keeps its ``tiny``.
    """
    top = jax.lax.stop_gradient(jnp.floor(e))
    return row_sum(e - top, axis) + (jnp.sum(top, axis, keepdims=True) - 1.0)


def _log_softmax_value(x: Array, mask: Array | None, axis: tuple[int, ...], exact: bool
                       ) -> Array:
    """The log-softmax, -inf where masked (``exact``: see ``shifted_exp``)."""
    m, e = shifted_exp(x, mask, axis, exact)
    s1 = rest_of(e, axis)  # NaN for a slice with +inf, NaN or only -inf: NaN, as jax.nn
    y = (x - m) - jnp.log1p(s1)  # x - m: exact near the max
    return y if mask is None else jnp.where(mask, y, -jnp.inf)


def softmax_value(x: Array, mask: Array | None, axis: tuple[int, ...]) -> Array:
    """The softmax over ``mask`` (None: all entries); masked entries are 0."""
    m, e = shifted_exp(x, mask, axis, exact=True)
    # Unlike log(1 + rest), 1 / (1 + rest) has no cancellation: the plain sum, maxima
    # included, is as accurate. e is already NaN in a slice without a finite maximum;
    # the select is for speed on a CPU only: it keeps XLA's CPU backend from fusing the
    # whole row into one reduction that runs its ~10 operations per element op by op
    # (softmax forward at 4096x1024: 2.7 ms with it, 3.5 ms without; jax.nn 1.9 ms). On
    # a GPU it does the opposite: it keeps XLA from its one-pass (Triton) softmax fusion
    # (H100, 65536x1024: forward 0.39 ms with it, 0.20 without, jax.nn 0.20; VJP 0.64,
    # 0.31, 0.29).
    inv = jax.lax.platform_dependent(
        m, 1.0 / row_sum(e, axis),
        cpu=lambda mm, i: jnp.where(jnp.isfinite(mm), i, jnp.nan), default=lambda mm, i: i)
    y = e * inv
    return y if mask is None else jnp.where(mask, y, 0.0)


def masked(t: Array, mask: Array | None) -> Array:
    return t if mask is None else jnp.where(mask, t, 0.0)


@functools.partial(jax.custom_jvp, nondiff_argnums=(2,))
def _log_softmax(x: Array, mask: Array | None, axis: tuple[int, ...]) -> Array:
    return _log_softmax_value(x, mask, axis, exact=False)


@_log_softmax.defjvp
def _log_softmax_jvp(axis, primals, tangents):
    (x, mask), (t, _) = primals, tangents
    # p, the softmax, is the one residual. Computed apart from y (not from y's sums):
    # a VJP never needs y, so XLA drops it, and p alone is softmax's computation (CPU,
    # 4096x1024, interleaved: VJP 10-15% faster than from the shared sums; on a GPU,
    # softmax's computation is one fusion, the shared sums were 6)
    y = _log_softmax_value(x, mask, axis, exact=True)
    p = softmax_core(x, mask, axis)
    t = masked(t, mask)
    return y, masked(t + spread(-row_sum(p * t, axis), t.shape, axis), mask)


def _log_softmax_kernel(x: Array, where: Array | None, *, axis: tuple[int, ...]) -> Array:
    return _log_softmax(x, _mask(x, where), axis)


@functools.partial(jax.custom_jvp, nondiff_argnums=(2,))
def softmax_core(x: Array, mask: Array | None, axis: tuple[int, ...]) -> Array:
    """``softmax_value`` with the derivative rule that saves only the output."""
    return softmax_value(x, mask, axis)


@softmax_core.defjvp
def _softmax_jvp(axis, primals, tangents):
    (x, mask), (t, _) = primals, tangents
    y = softmax_core(x, mask, axis)
    t = masked(t, mask)
    return y, y * (t + spread(-row_sum(y * t, axis), t.shape, axis))


def _softmax_kernel(x: Array, where: Array | None, *, axis: tuple[int, ...]) -> Array:
    return softmax_core(x, _mask(x, where), axis)


def _mask(x: Array, where: Array | None) -> Array | None:
    return None if where is None else jnp.broadcast_to(where, x.shape)


def prepare(fn: str, x: ArrayLike, axis: Axis, where: ArrayLike | None, dtype: Any = None):
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
    arr, axes, where = prepare("log_softmax", x, axis, where, dtype)
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
    arr, axes, where = prepare("softmax", x, axis, where, dtype)
    return _core.apply(_softmax_kernel, arr, where, axis=axes)


register(Entry("softmax", softmax, "normalizer", r"\frac{e^{x_i}}{\sum_j e^{x_j}}",
               r"s_i(\delta_{ij}-s_j)",
               params=(Param("axis", -1, "axis or axes"), Param("where", None, "mask"),
                       Param("dtype", None, "cast x to this dtype first")),
               range=(0.0, 1.0), monotonic=False, reference="Bridle 1990"))


def _softmin_kernel(x: Array, where: Array | None, *, axis: tuple[int, ...]) -> Array:
    return softmax_core(-x, _mask(x, where), axis)  # negation is exact: softmax's accuracy


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
      entry makes its slice NaN (the ``+inf`` of softmax), as in torch; masked-out
      entries are 0 even then.

    Examples:
      >>> ja.softmin(jnp.array([1.0, 2.0, 3.0]))
      Array([0.66524094, 0.24472848, 0.09003057], dtype=float32)

    References:
      ``torch.nn.Softmin``.
    """
    arr, axes, where = prepare("softmin", x, axis, where, dtype)
    return _core.apply(_softmin_kernel, arr, where, axis=axes)


register(Entry("softmin", softmin, "normalizer", r"\frac{e^{-x_i}}{\sum_j e^{-x_j}}",
               r"-s_i(\delta_{ij}-s_j)",
               params=(Param("axis", -1, "axis or axes"), Param("where", None, "mask"),
                       Param("dtype", None, "cast x to this dtype first")),
               range=(0.0, 1.0), monotonic=False, reference="torch.nn.Softmin",
               source="torch"))


def mask_array(x: Array, where: Array | None) -> Array:
    """``where`` broadcast to ``x``'s shape, all True when None (for the sparse family)."""
    return jnp.ones(x.shape, bool) if where is None else jnp.broadcast_to(where, x.shape)
