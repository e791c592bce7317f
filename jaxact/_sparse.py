"""Sparse normalizers: sparsemax, 1.5-entmax and α-entmax.

α-entmax maps scores to probabilities like softmax, but with exact zeros:
p_i = [(α-1) x_i - τ]_+^(1/(α-1)), with τ chosen so that the slice sums to 1 (α = 2:
sparsemax, the Euclidean projection onto the simplex; α → 1: softmax). τ depends only
on the support, which Newton's method on τ finds exactly for α = 2 and 1.5 (no sort)
and bisection for any α (``_entmax``, which shares this module's Newton step and rule).
A small p_i is sensitive to τ's last bits, so τ is then
refined by one Newton step whose residual Σ p - 1 is summed well beyond float32
precision, from scores shifted by their maximum with the shift's rounding error
carried along. All share one derivative rule
with s = p^(2-α) (the support indicator for sparsemax, √p for 1.5-entmax), and s is
the one full-size residual: ``dp = s (t - Σ s t / Σ s)``.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
from jax import Array
from jax.typing import ArrayLike

from jaxact import _core, _dword
from jaxact._normalizers import Axis, mask_array, prepare
from jaxact._registry import Entry, Param, register


def _to_last(x: Array, axes: tuple[int, ...]) -> tuple[Array, Callable[[Array], Array]]:
    """``x`` with ``axes`` moved to the end and merged into one, and the inverse map."""
    rest = tuple(a for a in range(x.ndim) if a not in axes)
    perm = rest + axes
    y = jnp.transpose(x, perm)
    flat = y.reshape(*y.shape[: len(rest)], math.prod(y.shape[len(rest):]))
    return flat, lambda z: jnp.transpose(z.reshape(y.shape), tuple(np.argsort(perm)))


def _on_last(core: Callable[..., Array]) -> Callable[..., Array]:
    """A kernel normalising over ``axis`` from a ``core(x, mask, ...)`` over the last axis."""

    def kernel(x: Array, where: Array | None, *params: Array, axis: tuple[int, ...],
               **static: Any) -> Array:
        flat, back = _to_last(x, axis)
        moved = [_to_last(jnp.broadcast_to(p, _kept(x.shape, axis)), axis)[0] for p in params]
        return back(core(flat, _to_last(mask_array(x, where), axis)[0], *moved, **static))

    return kernel


def _kept(shape: tuple[int, ...], axes: tuple[int, ...]) -> tuple[int, ...]:
    return tuple(1 if a in axes else n for a, n in enumerate(shape))


def _shift(x: Array, mask: Array) -> tuple[Array, Array]:
    """``(x - max, its rounding error)`` on the mask, -inf off it; +inf or NaN: NaN row."""
    m = jnp.max(x, -1, where=mask, initial=-jnp.inf, keepdims=True)
    m = jnp.where(m == -jnp.inf, 0.0, m)  # all -inf or all masked: avoid -inf - -inf
    d, err = _core.two_sum(x, -m)
    return jnp.where(mask, d, -jnp.inf), jnp.where(mask & jnp.isfinite(err), err, 0.0)


def _threshold(z: Array, mask: Array, squares: bool) -> tuple[Array, Array]:
    """``(τ, n)``: the root of Σ [z - τ]_+^β = 1 for β = 1, or 2 with ``squares``, and
    the size of its support (0: no finite entry, or a NaN).

    Newton's method on the convex, decreasing f(τ) = Σ [z - τ]_+^β - 1 from τ = -1
    (f(-1) >= 0: ``z``'s maximum is 0) stays at or below the root, and each step drops
    the entries it passes. A row stops when the root of f's piece for its current
    support lies at or below the smallest entry kept (the support is then exact:
    entries at the root have p = 0 either way), when its step rounds to nothing, or
    when it has none. For β = 1 the step lands on that root (Michelot's algorithm).
    Every pass is one fused row reduction: a handful of passes on typical rows,
    against a sort (which took ~95% of the time at 4096x1024 on a CPU). At most
    ``n + 64`` passes, so no row stops short. τ is the last piece's root, to a few
    ulp (it is refined by ``_power_threshold``).
    """

    def sums(tau: Array) -> tuple[Array, ...]:
        y = z - tau
        pos = mask & (y > 0)
        kept = jnp.where(pos, y, 0.0)
        terms = (pos.astype(z.dtype), kept, jnp.where(pos, y, jnp.inf))
        if squares:
            terms += (kept * kept,)
        # one variadic reduction: XLA's CPU backend runs separate sums of one input as a
        # multi-output fusion several times slower (4 sums at 4096x1024: 17 ms vs 4.7)
        init = tuple(np.array(v, z.dtype) for v in (0.0, 0.0, np.inf, 0.0)[: len(terms)])
        out = jax.lax.reduce(terms, init, _count_sum_min, (z.ndim - 1,))
        return tuple(o[..., None] for o in out)

    def step(state: tuple[Array, ...]) -> tuple[Array, ...]:
        i, tau, *_ = state
        k, a, low, *b = sums(tau)
        if squares:  # the smaller root of Σ (y - δ)^2 = 1 (no cancellation), and
            # Newton's step
            root = (b[0] - 1.0) / (a + jnp.sqrt(a * a - k * (b[0] - 1.0)))
            newton = (b[0] - 1.0) / (2.0 * a)
        else:
            root = newton = (a - 1.0) / k
        new = tau + jnp.maximum(newton, 0.0)
        done = (root <= low) | (k == 0) | (new == tau)  # a NaN root: not done
        return i + 1, jnp.where(done, tau, new), tau + root, k, jnp.any(~done)

    limit = z.shape[-1] + 64
    row = jnp.full((*z.shape[:-1], 1), -1.0, z.dtype)
    start = (jnp.array(0), row, row, row, jnp.array(True))
    _, _, tau, k, _ = jax.lax.while_loop(lambda s: s[4] & (s[0] < limit), step, start)
    return tau, k


def _count_sum_min(p: tuple[Array, ...], q: tuple[Array, ...]) -> tuple[Array, ...]:
    """The combiner of ``_threshold``'s pass: (count, sum, min, [sum of squares])."""
    return (p[0] + q[0], p[1] + q[1], jnp.minimum(p[2], q[2]),
            *(a + b for a, b in zip(p[3:], q[3:], strict=True)))


def _simplex_jvp(s: Array, t: Array) -> Array:
    """d p = s (t - Σ s t / Σ s): the entmax Jacobian, s = p^(2-α) (Peters et al., Prop. 1)."""
    total = jnp.sum(s, -1, keepdims=True)  # 0 only where p is NaN throughout
    # the select (same values as the bare division) keeps XLA's CPU backend from
    # fusing both sums and the product into one reduction, which it runs ~2x slower
    mean = jnp.where(total > 0, jnp.sum(s * t, -1, keepdims=True) / total, jnp.nan)
    return s * (t - mean)


def _nan_if_empty(p: Array, empty: Array, mask: Array) -> Array:
    # all -inf (0/0, as softmax) or a NaN in the slice: NaN; masked-out entries stay 0
    return jnp.where(mask & empty, jnp.nan, p)


def _residual(q: Array, lo: Array, slope: Array) -> tuple[Array, Array, Array]:
    """``(hi, rest, Σ slope)`` with ``hi + rest = Σ (q + lo)`` over the last axis
    (keepdims), for ``0 <= q <= 1`` summing to about 1 and ``|lo| << 2^-21``.

    ``q`` is split at a grid of 2^-20: the heads' partial sums are multiples of it
    below 4, so their float32 sum is exact; the tails (<= 2^-21) go in a plain sum,
    off by at most k^2 2^-45 for k entries (~sqrt(k) 2^-45 in practice), where a plain
    sum of q would be off by ~k 2^-24. One variadic reduction with additions only:
    XLA's CPU backend runs that far faster than a compensated (two_sum) combiner
    (4096x1024 on one core, with the slope's sum: 4.7 ms against 27).
    """
    big = _core.opaque(12.0, q)  # 1.5 2^3: adding it rounds q to a multiple of 2^-20
    head = (q + big) - big
    terms = (head, (q - head) + lo, slope)
    zero = np.zeros((), q.dtype)
    add = lambda u, v: tuple(a + b for a, b in zip(u, v, strict=True))
    hi, rest, total = jax.lax.reduce(terms, (zero,) * 3, add, (q.ndim - 1,))
    return hi[..., None], rest[..., None], total[..., None]


def _pow(u: Array, b: Array | float) -> Array:
    """``u^b`` for ``u >= 0``, ``b > 0`` as ``exp(b log u)`` (0 at u = 0): XLA's CPU pow
    took 19 ms at 4096x1024 on one core, against 4 for the log and the exp."""
    return jnp.exp(b * jnp.log(u))


def _power_threshold(zh: Array, zl: Array, tau: Array, beta: Array | float | None,
                     mask: Array, beta_lo: Array | float = 0.0) -> Array:
    """``[z - τ]_+^β`` for ``z = zh + zl``, with ``τ`` refined by one Newton step.

    A small p_i has relative error β δτ / (z_i - τ) for an error δτ in τ, far above its
    own conditioning, so τ must be known beyond working precision: the residual Σ p - 1
    is summed with only its small tails rounded (``_residual``) from ``u = z - τ``
    carried as a pair. For
    ``beta=None`` (β = 2, 1.5-entmax) the squares are exact (``two_prod``), for β = 1
    (sparsemax) nothing is rounded; otherwise ``uh^β`` is a double-word pair
    (``jaxact._dword``, ~2^-28 relative; β = ``beta + beta_lo``), as float32 ``pow``'s
    rounding errors would move τ by up to n/2 ulp, and β's by |log u| β ulp.
    """
    uh, err = _core.two_sum(zh, -tau)
    ul = jnp.where(jnp.isfinite(err), err + zl, 0.0)
    pos = mask & (uh > 0)
    safe = jnp.where(pos, uh, 1.0)
    exact = isinstance(beta, float) and beta == 1.0  # sparsemax: u itself
    if beta is None:
        q, ql = _core.two_prod(safe, safe)
        lo = ql + 2.0 * safe * ul
        grad = 2.0 * uh
    else:
        q, ql = (safe, jnp.zeros_like(safe)) if exact else _dword.pow_pair(safe, beta, beta_lo)
        lo = ql + q * beta * (ul / safe)
        grad = beta * (q / safe)
    fh, fl, slope = _residual(*(jnp.where(pos, v, 0.0) for v in (q, lo, grad)))
    w = ul - ((fh - 1.0) + fl) / slope  # τ moves up by the Newton step: u = uh + w
    if beta is None:
        q, ql = _core.two_prod(uh, uh)
        p = jnp.where(uh + w > 0, q + (ql + w * (2.0 * uh + w)), 0.0)
    else:
        r = jnp.where(pos, w / safe, 0.0)
        # (1 + r)^β to second order, exact to float32 while |β r| <= 2^-8; elsewhere u
        # is within ~2^8 β ulp(τ) of 0, where p is ill-conditioned anyway
        near = pos & (jnp.abs(beta * r) <= 2.0**-8)
        far = jnp.maximum(jnp.where(near, 1.0, uh + w), 0.0)
        p = jnp.where(near, q + (ql + q * (beta * r) * (1.0 + 0.5 * (beta - 1.0) * r)),
                      far if exact else _pow(far, beta))
    return jnp.where(mask, p, 0.0)


@jax.custom_jvp
def _sparsemax_last(x: Array, mask: Array) -> Array:
    d, err = _shift(x, mask)
    tau, size = _threshold(d, mask, squares=False)
    return _nan_if_empty(_power_threshold(d, err, tau, 1.0, mask), size == 0, mask)


@_sparsemax_last.defjvp
def _sparsemax_jvp(primals, tangents):
    (x, mask), (t, _) = primals, tangents
    p = _sparsemax_last(x, mask)
    return p, _simplex_jvp((p > 0).astype(p.dtype), jnp.where(mask, t, 0.0))


@jax.custom_jvp
def _entmax15_last(x: Array, mask: Array) -> Array:
    d, err = _shift(x, mask)
    z, e = 0.5 * d, 0.5 * err  # p = [(α-1) x - τ]^2 with α - 1 = 1/2
    tau, size = _threshold(z, mask, squares=True)
    return _nan_if_empty(_power_threshold(z, e, tau, None, mask), size == 0, mask)


def _sqrt0(p: Array) -> Array:
    pos = p > 0  # double where: sqrt' is infinite at 0, where s = 0 anyway
    return jnp.where(pos, jnp.sqrt(jnp.where(pos, p, 1.0)), 0.0)


@_entmax15_last.defjvp
def _entmax15_jvp(primals, tangents):
    (x, mask), (t, _) = primals, tangents
    p = _entmax15_last(x, mask)
    return p, _simplex_jvp(_sqrt0(p), jnp.where(mask, t, 0.0))


_sparsemax_kernel = _on_last(_sparsemax_last)
_entmax15_kernel = _on_last(_entmax15_last)


def sparsemax(x: ArrayLike, axis: Axis = -1, where: ArrayLike | None = None) -> Array:
    r"""Sparsemax: the Euclidean projection of ``x`` onto the probability simplex.

    .. math::
        \mathrm{sparsemax}(x)_i = [x_i - \tau(x)]_+, \quad \textstyle\sum_i [x_i - \tau]_+ = 1,
        \qquad \frac{\partial\,\mathrm{sparsemax}_i}{\partial x_j}
        = s_i\,(\delta_{ij} - s_j / |S|)

    with :math:`S` the support and :math:`s` its indicator. Entries at or below the
    threshold are exactly 0. At a support change (an entry exactly at τ) the
    derivative is taken on the support :math:`p > 0`.

    Args:
      x: input array.
      axis: axis or axes to normalise over (``None``: all), default -1.
      where: optional boolean mask; masked-out entries are excluded and give 0.

    Returns:
      Same shape and dtype as ``x``; slices are non-negative and sum to 1. A NaN or
      ``+inf`` entry or an all ``-inf`` slice gives NaN (masked-out entries stay 0).

    Examples:
      >>> ja.sparsemax(jnp.array([1.0, 0.8, -1.0]))
      Array([0.6, 0.4, 0. ], dtype=float32)

    References:
      Martins & Astudillo, From Softmax to Sparsemax: A Sparse Model of Attention and
      Multi-Label Classification, arXiv:1602.02068.
    """
    arr, axes, where = prepare("sparsemax", x, axis, where)
    return _core.apply(_sparsemax_kernel, arr, where, axis=axes)


register(Entry("sparsemax", sparsemax, "normalizer", r"[x_i-\tau(x)]_+",
               r"s_i(\delta_{ij}-s_j/|S|)",
               params=(Param("axis", -1, "axis or axes"), Param("where", None, "mask")),
               range=(0.0, 1.0), monotonic=False, smooth=False,
               reference="Martins & Astudillo 2016, arXiv:1602.02068", source="paper"))


def entmax15(x: ArrayLike, axis: Axis = -1, where: ArrayLike | None = None) -> Array:
    r"""1.5-entmax: sparse like sparsemax, smooth like softmax on its support (exact, no sort).

    .. math::
        \mathrm{entmax15}(x)_i = [x_i / 2 - \tau(x)]_+^2, \quad \textstyle\sum_i p_i = 1,
        \qquad \frac{\partial p_i}{\partial x_j}
        = s_i\,(\delta_{ij} - s_j / \textstyle\sum_k s_k),\ s = \sqrt{p}

    The derivative is continuous (it vanishes as an entry leaves the support).

    Args:
      x: input array.
      axis: axis or axes to normalise over (``None``: all), default -1.
      where: optional boolean mask; masked-out entries are excluded and give 0.

    Returns:
      Same shape and dtype as ``x``; slices are non-negative and sum to 1. A NaN or
      ``+inf`` entry or an all ``-inf`` slice gives NaN (masked-out entries stay 0).

    Examples:
      >>> ja.entmax15(jnp.array([1.0, 0.8, -1.0]))
      Array([0.5705337 , 0.42946634, 0.        ], dtype=float32)

    References:
      Peters, Niculae & Martins, Sparse Sequence-to-Sequence Models, arXiv:1905.05702.
    """
    arr, axes, where = prepare("entmax15", x, axis, where)
    return _core.apply(_entmax15_kernel, arr, where, axis=axes)


register(Entry("entmax15", entmax15, "normalizer", r"[x_i/2-\tau(x)]_+^2",
               r"s_i(\delta_{ij}-s_j/\textstyle\sum_k s_k),\ s=\sqrt{p}",
               params=(Param("axis", -1, "axis or axes"), Param("where", None, "mask")),
               range=(0.0, 1.0), monotonic=False, smooth=False,
               reference="Peters et al. 2019, arXiv:1905.05702", source="paper"))
