"""logsumexp and logmeanexp: row reductions on the core of ``_normalizers``.

Without weights, logsumexp is ``m + log1p(rest)`` (the maximum's 1 is not summed, so
``1 + tiny`` keeps its ``tiny``), and logmeanexp is ``m + log1p(mean(expm1(x - m)))``
where the mean of ``exp(x - m)`` is above 1/2, which keeps a mean near 1 from losing its
small logarithm to ``- log n`` (``m + log(mean)`` elsewhere). The
producers of the sums use arithmetic only (see ``_normalizers``), so XLA fuses them.
"""

from __future__ import annotations

import functools
import math

import jax
import jax.numpy as jnp
from jax import Array
from jax.typing import ArrayLike

from jaxact import _core
from jaxact._normalizers import (
    Axis,
    masked,
    masked_max,
    prepare,
    rest_of,
    row_sum,
    shift,
    shifted_exp,
)
from jaxact._registry import Entry, Param, register


def _plain(a: Array, mask: Array | None, axis: tuple[int, ...], exact: bool):
    """``((lse, sign), e, s1)`` without weights, from e = exp(a - max) and s1 = sum(e) - 1
    (``exact``: see ``shifted_exp``; the JVP rule's value, which tests read, uses it)."""
    m, e = shifted_exp(a, mask, axis, exact)
    s1 = rest_of(e, axis)
    lse = jnp.where(jnp.isfinite(m), m + jnp.log1p(s1), m)  # +-inf, nan pass
    return (lse, jnp.where(jnp.isnan(lse), lse, 1.0)), e, s1


def _lse_value(a: Array, b: Array | None, mask: Array | None, axis: tuple[int, ...]):
    if b is None:
        return _plain(a, mask, axis, exact=False)[0]
    m_raw, m, d, err = shift(a, mask, axis)
    s = row_sum(masked(b * (jnp.exp(d) * (1.0 + err)), mask), axis)
    lse = jnp.where(m_raw == jnp.inf, jnp.inf, m + jnp.log(jnp.abs(s)))
    return lse, jnp.sign(s)


def _weights(a: Array, b: Array, mask: Array | None, axis: tuple[int, ...]) -> Array:
    """b e^a / sum(b e^a) (signed), from the exactly shifted exponents."""
    _, _, d, err = shift(a, mask, axis)
    e = masked(b * (jnp.exp(d) * (1.0 + err)), mask)
    s = row_sum(e, axis)
    return jnp.where(s != 0, e / jnp.where(s != 0, s, 1.0), 0.0)


@functools.partial(jax.custom_jvp, nondiff_argnums=(3,))
def _lse(a: Array, b: Array | None, mask: Array | None, axis: tuple[int, ...]):
    return _lse_value(a, b, mask, axis)


@_lse.defjvp
def _lse_jvp(axis, primals, tangents):
    (a, b, mask), (ta, tb, _) = primals, tangents
    # d lse = sum(w da) + sum(w / b db), w = b e^a / sum(b e^a): the softmax when b is
    # None, computed from the exactly shifted exponents, not as exp(a - lse).
    if b is None:  # the softmax weights e / (1 + s1) from the value's own sums: a
        # training step needs the value too (CPU, 4096x1024, value and gradient: 0.68x
        # the time of a separate softmax; the gradient alone 1.25x)
        out, e, s1 = _plain(a, mask, axis, exact=True)
        dot = row_sum(e * masked(ta, mask), axis) / (1.0 + s1)
        return out, (dot, jnp.zeros_like(out[1]))
    out = _lse(a, b, mask, axis)
    w = _weights(a, b, mask, axis)
    dot = row_sum(w * masked(ta, mask), axis)
    dot = dot + row_sum(_weights(a, jnp.ones_like(b), mask, axis) * masked(tb, mask),
                        axis) * _ratio(a, b, mask, axis)
    return out, (dot, jnp.zeros_like(out[1]))


def _ratio(a: Array, b: Array, mask: Array | None, axis: tuple[int, ...]) -> Array:
    """sum(e^a) / sum(b e^a), turning softmax weights into the weights of b."""
    _, _, d, _ = shift(a, mask, axis)
    e = masked(jnp.exp(d), mask)
    return row_sum(e, axis) / row_sum(b * e, axis)


def _logsumexp_kernel(a: Array, b: Array | None, where: Array | None, *,
                      axis: tuple[int, ...]) -> tuple[Array, Array]:
    return _lse(a, b, None if where is None else jnp.broadcast_to(where, a.shape), axis)


def _lme_value(x: Array, mask: Array | None, axis: tuple[int, ...], exact: bool
               ) -> tuple[Array, Array, Array]:
    """``(logmeanexp, e, sum(e))``, ``e = exp(x - max)`` (0 where masked; ``exact``:
    see ``shifted_exp``, for the rule, whose softmax weights are ``e / sum(e)``)."""
    xm, m = masked_max(x, mask, axis)
    _, e = shifted_exp(x, mask, axis, exact)  # the same maximum, computed once
    if mask is None:
        n = jnp.asarray(math.prod(x.shape[i] for i in axis), x.dtype)
    else:
        n = jnp.sum(mask, axis, keepdims=True).astype(x.dtype)
    total = row_sum(e, axis)
    mean = total / n
    near = mean > 0.5  # there log cancels: log1p(mean - 1), the difference summed directly
    # Typical rows (one entry well above the rest) have small means: the second sum runs
    # only when some row needs it (with it always, the forward took ~2.2x jax.nn's time
    # on a CPU, 4096x1024: two sums of one producer make a slow multi-output fusion).
    # x and m go in, not x - m: an operand of the cond is written out in full first
    # (forward 1.4x jax.nn's time with it). x - m is not carried exactly: a log of a
    # sum, as in shifted_exp.
    u = jax.lax.cond(jnp.any(near),
                     lambda xx, mm: row_sum(masked(jnp.expm1(xx - mm), mask), axis) / n,
                     lambda xx, mm: jnp.zeros_like(mean), xm, m)
    # m + log1p(u) is summed as (m + u) + (log1p(u) - u): m + u is exact when they
    # cancel, and log1p(u) - u comes from its series when small.
    series = -u * u * (0.5 - u * (1 / 3 - u * (0.25 - u * (0.2 - u / 6))))
    corr = jnp.where(jnp.abs(u) < 2.0**-6, series, jnp.log1p(u) - u)
    out = jnp.where(near, (m + u) + corr, m + jnp.log(mean))
    return jnp.where(jnp.isfinite(m), out, m), e, total


@functools.partial(jax.custom_jvp, nondiff_argnums=(2,))
def _lme(x: Array, mask: Array | None, axis: tuple[int, ...]) -> Array:
    return _lme_value(x, mask, axis, exact=False)[0]


@_lme.defjvp
def _lme_jvp(axis, primals, tangents):
    # The softmax weights from the value's own exponentials: a training step needs the
    # value too, and sharing them saves a max, an exp and a pass (CPU, 4096x1024, value
    # and gradient: 0.65x the time of a separate softmax; the gradient alone 1.5x).
    (x, mask), (t, _) = primals, tangents
    y, e, total = _lme_value(x, mask, axis, exact=True)
    return y, row_sum(e * masked(t, mask), axis) / total


def _logmeanexp_kernel(x: Array, where: Array | None, *, axis: tuple[int, ...]) -> Array:
    return _lme(x, None if where is None else jnp.broadcast_to(where, x.shape), axis)


def _finish(lse: Array, sign: Array, axes: tuple[int, ...], keepdims: bool,
            return_sign: bool, signed: bool) -> Array | tuple[Array, Array]:
    if not keepdims:
        lse, sign = jnp.squeeze(lse, axes), jnp.squeeze(sign, axes)
    if return_sign:
        return lse, sign
    # Without weights the sum is positive (sign 1, or NaN where lse is NaN): no select.
    # Besides saving it, this keeps XLA's CPU reduction fast: a select comparing with 0
    # shares the reduction's 0 init constant, which then reaches YNNPACK as a
    # parameter and sends the fused row sums down a ~5x slower path.
    return jnp.where(sign < 0, jnp.nan, lse) if signed else lse


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
    arr, axes, where = prepare("logsumexp", a, axis, where)
    if b is not None:
        b = _core.as_array(b, "logsumexp", "b")
        b = jnp.broadcast_to(b, jnp.broadcast_shapes(b.shape, arr.shape))
        arr = jnp.broadcast_to(arr, b.shape)
    lse, sign = _core.apply(_logsumexp_kernel, arr, b, where, axis=axes)
    return _finish(lse, sign, axes, keepdims, return_sign, b is not None)


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
    arr, axes, where = prepare("logmeanexp", x, axis, where)
    out = _core.apply(_logmeanexp_kernel, arr, where, axis=axes)
    return out if keepdims else jnp.squeeze(out, axes)


register(Entry("logmeanexp", logmeanexp, "normalizer", r"\log\frac1n\sum_i e^{x_i}",
               r"\mathrm{softmax}(x)_i",
               params=(Param("axis", None, "axis or axes"), Param("where", None, "mask"),
                       Param("keepdims", False, "keep reduced axes")),
               reference="jax.nn.logmeanexp"))
