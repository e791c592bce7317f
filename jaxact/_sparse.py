"""Sparse normalizers (sparsemax, entmax) and the Gumbel-softmax relaxation.

α-entmax maps scores to probabilities like softmax, but with exact zeros:
p_i = [(α-1) x_i - τ]_+^(1/(α-1)), with τ chosen so that the slice
sums to 1 (α = 2: sparsemax, the Euclidean projection onto the simplex; α → 1:
softmax). τ depends only on the support, which sorting finds exactly for α = 2 and
1.5 and bisection for any α. τ is then recomputed from the support alone with sums
that do not cancel: the scores are shifted by their maximum (its rounding error
carried along), and 1.5-entmax's variance is summed in two passes, not as
E[x²] - E[x]². All share one derivative rule with s = p^{2-α} (the support indicator
for sparsemax, √p for 1.5-entmax), and s is the one full-size residual:
``dp = s (t - Σ s t / Σ s)``.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
from jax import Array
from jax.custom_derivatives import SymbolicZero
from jax.typing import ArrayLike

from jaxact import _core
from jaxact._normalizers import Axis, _mask, _prepare, _softmax_masked
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
        return back(core(flat, _to_last(_mask(x, where), axis)[0], *moved, **static))

    return kernel


def _kept(shape: tuple[int, ...], axes: tuple[int, ...]) -> tuple[int, ...]:
    return tuple(1 if a in axes else n for a, n in enumerate(shape))


def _shift(x: Array, mask: Array) -> tuple[Array, Array]:
    """``(x - max, its rounding error)`` on the mask, -inf off it; +inf or NaN: NaN row."""
    m = jnp.max(x, -1, where=mask, initial=-jnp.inf, keepdims=True)
    m = jnp.where(m == -jnp.inf, 0.0, m)  # all -inf or all masked: avoid -inf - -inf
    d, err = _core.two_sum(x, -m)
    return jnp.where(mask, d, -jnp.inf), jnp.where(mask & jnp.isfinite(err), err, 0.0)


def _top(d: Array, ds: Array, keep: Array) -> Array:
    """The support: the entries of ``d`` at least its k-th largest, k = count of ``keep``
    over the descending ``ds`` (ties go in together, as the theory says)."""
    k = jnp.sum(keep, -1, keepdims=True)
    kth = jnp.take_along_axis(ds, jnp.maximum(k - 1, 0), -1)
    return (d >= kth) & (k > 0)


def _descending(d: Array) -> tuple[Array, Array]:
    return -jnp.sort(-d, axis=-1), jnp.arange(1, d.shape[-1] + 1, dtype=d.dtype)


def _simplex_jvp(s: Array, t: Array) -> Array:
    """d p = s (t - Σ s t / Σ s): the entmax Jacobian, s = p^(2-α) (Peters et al., Prop. 1)."""
    return s * (t - jnp.sum(s * t, -1, keepdims=True) / jnp.sum(s, -1, keepdims=True))


def _nan_if_empty(p: Array, support: Array) -> Array:
    # all -inf or all masked: 0/0, as softmax (and a NaN row stays NaN)
    return jnp.where(jnp.any(support, -1, keepdims=True), p, jnp.nan)


@jax.custom_jvp
def _sparsemax_last(x: Array, mask: Array) -> Array:
    d, err = _shift(x, mask)
    ds, k = _descending(d)
    # the support is the largest k with 1 + k d_(k) > sum_{j<=k} d_(j); -inf never enters
    s = _top(d, ds, 1.0 + k * ds > jnp.cumsum(ds, -1))
    size = jnp.sum(s, -1, keepdims=True).astype(d.dtype)
    total = jnp.sum(jnp.where(s, d, 0.0), -1, keepdims=True)
    tau = ((total - 1.0) + jnp.sum(jnp.where(s, err, 0.0), -1, keepdims=True)) / size
    return _nan_if_empty(jnp.where(s, jnp.maximum((d - tau) + err, 0.0), 0.0), s)


@_sparsemax_last.defjvp
def _sparsemax_jvp(primals, tangents):
    (x, mask), (t, _) = primals, tangents
    p = _sparsemax_last(x, mask)
    return p, _simplex_jvp((p > 0).astype(p.dtype), jnp.where(mask, t, 0.0))


@jax.custom_jvp
def _entmax15_last(x: Array, mask: Array) -> Array:
    d, err = _shift(x, mask)
    z, e = 0.5 * d, 0.5 * err  # p = [(α-1) x - τ]^2 with α - 1 = 1/2
    zs, k = _descending(z)
    # Peters et al., Algorithm 2: τ_k from the mean and variance of the top k, support
    # where τ_k <= z_(k). The one-pass variance here only decides the support.
    mean = jnp.cumsum(zs, -1) / k
    var = jnp.cumsum(zs * zs, -1) / k - mean * mean
    s = _top(z, zs, mean - jnp.sqrt(jnp.maximum(1.0 / k - var, 0.0)) <= zs)
    size = jnp.sum(s, -1, keepdims=True).astype(z.dtype)
    mean = (jnp.sum(jnp.where(s, z, 0.0), -1, keepdims=True)
            + jnp.sum(jnp.where(s, e, 0.0), -1, keepdims=True)) / size
    c = jnp.where(s, (z - mean) + e, 0.0)
    # z_i - τ = (z_i - mean) + sqrt((1 - Σ c²) / k): τ itself is never rounded
    r = jnp.sqrt(jnp.maximum((1.0 - jnp.sum(c * c, -1, keepdims=True)) / size, 0.0))
    return _nan_if_empty(jnp.where(s, jnp.square(jnp.maximum(c + r, 0.0)), 0.0), s)


def _sqrt0(p: Array) -> Array:
    pos = p > 0  # double where: sqrt' is infinite at 0, where s = 0 anyway
    return jnp.where(pos, jnp.sqrt(jnp.where(pos, p, 1.0)), 0.0)


@_entmax15_last.defjvp
def _entmax15_jvp(primals, tangents):
    (x, mask), (t, _) = primals, tangents
    p = _entmax15_last(x, mask)
    return p, _simplex_jvp(_sqrt0(p), jnp.where(mask, t, 0.0))


def _bisect_p(x: Array, alpha: Array, mask: Array, n_iter: int) -> Array:
    """α-entmax for α > 1 by bisection on τ (Blondel et al. 2019), then a Newton step."""
    d, err = _shift(x, mask)
    a1 = alpha - 1.0
    xs, xe = a1 * d, a1 * err  # (α-1)(x - max); the maximum's entry is 0, so τ in [-1, 0)
    beta = 1.0 / a1
    n = jnp.sum(mask, -1, keepdims=True).astype(x.dtype)

    def u_of(tau: Array) -> Array:
        return jnp.where(mask, jnp.maximum((xs - tau) + xe, 0.0), 0.0)

    def total(tau: Array) -> Array:
        return jnp.sum(u_of(tau) ** beta, -1, keepdims=True) - 1.0

    def halve(_: int, bracket: tuple[Array, Array]) -> tuple[Array, Array]:
        lo, hi = bracket
        mid = lo + 0.5 * (hi - lo)
        above = total(mid) >= 0.0  # the sum falls as τ rises: the root is above mid
        return jnp.where(above, mid, lo), jnp.where(above, hi, mid)

    # Σ p(-1) >= 1 (the maximum alone gives 1) and Σ p(-(1/n)^(α-1)) <= n (1/n) = 1
    lo, hi = jnp.full_like(n, -1.0), -(1.0 / jnp.maximum(n, 1.0)) ** a1
    lo, hi = jax.lax.fori_loop(0, n_iter, halve, (lo, hi))
    # Newton on the support found, kept inside the bracket: fixes τ's last bits
    u = u_of(lo)
    pos = u > 0  # double where: u^(β-1) is infinite at 0 for α > 2
    slope = beta * jnp.sum(jnp.where(pos, jnp.where(pos, u, 1.0) ** (beta - 1.0), 0.0), -1,
                           keepdims=True)
    tau = jnp.clip(lo + total(lo) / slope, lo, hi)
    return _nan_if_empty(u_of(tau) ** beta, u > 0)


@functools.partial(jax.custom_jvp, nondiff_argnums=(3,))
def _entmax_last(x: Array, mask: Array, alpha: Array, n_iter: int) -> Array:
    one = alpha == 1.0
    p = _bisect_p(x, jnp.where(one | ~(alpha > 1.0), 2.0, alpha), mask, n_iter)
    p = jnp.where(one, _softmax_masked(x, mask, (x.ndim - 1,)), p)
    return jnp.where(alpha >= 1.0, p, jnp.nan)  # alpha < 1 (or NaN): not a distribution


def _entmax_jvp(n_iter, primals, tangents):
    (x, mask, alpha), (t, _, ta) = primals, tangents
    p = _entmax_last(x, mask, alpha, n_iter)
    pos = p > 0
    safe = jnp.where(pos, p, 1.0)
    s = jnp.where(pos, safe ** (2.0 - alpha), 0.0)  # alpha = 1 gives softmax's s = p
    terms = []
    if not isinstance(t, SymbolicZero):
        terms.append(_simplex_jvp(s, jnp.where(mask, t, 0.0)))
    if not isinstance(ta, SymbolicZero):
        # d p / d α (Correia et al. 2019, the entmax package's backward), with its
        # α -> 1 limit -(p/2)(log² p - Σ p log² p) at α = 1 exactly.
        lp = jnp.where(pos, jnp.log(safe), 0.0)
        plogp = p * lp
        sk = s / jnp.sum(s, -1, keepdims=True)
        b = 1.0 / jnp.where(alpha == 1.0, 2.0, alpha - 1.0)
        dpa = b * b * (p - sk) - b * (plogp - sk * jnp.sum(plogp, -1, keepdims=True))
        limit = -0.5 * (plogp * lp - p * jnp.sum(plogp * lp, -1, keepdims=True))
        terms.append(jnp.where(alpha == 1.0, limit, dpa) * ta)
    return p, functools.reduce(jnp.add, terms) if terms else jnp.zeros_like(p)


_entmax_last.defjvp(_entmax_jvp, symbolic_zeros=True)

_sparsemax_kernel = _on_last(_sparsemax_last)
_entmax15_kernel = _on_last(_entmax15_last)
_entmax_kernel = _on_last(lambda x, mask, alpha, n_iter: _entmax_last(x, mask, alpha, n_iter))
_softmax_masked_kernel = _on_last(lambda x, mask: _softmax_masked(x, mask, (x.ndim - 1,)))


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
      Same shape and dtype as ``x``; slices are non-negative and sum to 1. A ``+inf``
      entry, an all ``-inf`` or all-masked slice gives NaN, as softmax.

    Examples:
      >>> ja.sparsemax(jnp.array([1.0, 0.8, -1.0]))
      Array([0.6, 0.4, 0. ], dtype=float32)

    References:
      Martins & Astudillo, From Softmax to Sparsemax: A Sparse Model of Attention and
      Multi-Label Classification, arXiv:1602.02068.
    """
    arr, axes, where = _prepare("sparsemax", x, axis, where)
    return _core.apply(_sparsemax_kernel, arr, where, axis=axes)


register(Entry("sparsemax", sparsemax, "normalizer", r"[x_i-\tau(x)]_+",
               r"s_i(\delta_{ij}-s_j/|S|)",
               params=(Param("axis", -1, "axis or axes"), Param("where", None, "mask")),
               range=(0.0, 1.0), monotonic=False, smooth=False,
               reference="Martins & Astudillo 2016, arXiv:1602.02068", source="paper"))


def entmax15(x: ArrayLike, axis: Axis = -1, where: ArrayLike | None = None) -> Array:
    r"""1.5-entmax: sparse like sparsemax, smooth like softmax on its support (exact, by sorting).

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
      Same shape and dtype as ``x``; slices are non-negative and sum to 1. A ``+inf``
      entry, an all ``-inf`` or all-masked slice gives NaN, as softmax.

    Examples:
      >>> ja.entmax15(jnp.array([1.0, 0.8, -1.0]))
      Array([0.5505102, 0.4494898, 0.       ], dtype=float32)

    References:
      Peters, Niculae & Martins, Sparse Sequence-to-Sequence Models, arXiv:1905.05702.
    """
    arr, axes, where = _prepare("entmax15", x, axis, where)
    return _core.apply(_entmax15_kernel, arr, where, axis=axes)


register(Entry("entmax15", entmax15, "normalizer", r"[x_i/2-\tau(x)]_+^2",
               r"s_i(\delta_{ij}-s_j/\textstyle\sum_k s_k),\ s=\sqrt{p}",
               params=(Param("axis", -1, "axis or axes"), Param("where", None, "mask")),
               range=(0.0, 1.0), monotonic=False, smooth=False,
               reference="Peters et al. 2019, arXiv:1905.05702", source="paper"))


def entmax(x: ArrayLike, alpha: ArrayLike = 1.5, axis: Axis = -1,
           where: ArrayLike | None = None, *, n_iter: int | None = None) -> Array:
    r"""α-entmax for any :math:`\alpha \ge 1` (learnable), by bisection on the threshold.

    .. math::
        \mathrm{entmax}_\alpha(x)_i = [(\alpha - 1) x_i - \tau(x)]_+^{1/(\alpha-1)},
        \quad \textstyle\sum_i p_i = 1,
        \qquad \frac{\partial p_i}{\partial x_j}
        = s_i\,(\delta_{ij} - s_j / \textstyle\sum_k s_k),\ s = p^{2-\alpha}

    :math:`\alpha = 1` is softmax, 1.5 :func:`entmax15`, 2 :func:`sparsemax`; for these
    concrete values the exact functions are called. The derivative with respect to
    :math:`\alpha` is the closed form of Correia et al. (at :math:`\alpha = 1` its limit);
    it cancels badly for :math:`\alpha` within ~1e-3 of 1.

    Args:
      x: input array.
      alpha: :math:`\alpha \ge 1`, a scalar or an array broadcastable to ``x`` that is
        constant along ``axis`` (one per slice); differentiable.
      axis: axis or axes to normalise over (``None``: all), default -1.
      where: optional boolean mask; masked-out entries are excluded and give 0.
      n_iter: bisection steps (default: enough to resolve τ in ``x``'s compute dtype,
        26 in float32, 55 in float64); a Newton step follows.

    Returns:
      Same shape and dtype as ``x``; slices are non-negative and sum to 1 (NaN where a
      traced ``alpha`` is below 1).

    Raises:
      ValueError: if a concrete ``alpha`` is below 1 or not finite, ``alpha`` varies
        along ``axis``, or ``n_iter`` is not a positive int.

    Examples:
      >>> ja.entmax(jnp.array([1.0, 0.8, -1.0]), alpha=1.25)
      Array([0.5260..., 0.4382..., 0.0357...], dtype=float32)

    References:
      Peters, Niculae & Martins, Sparse Sequence-to-Sequence Models, arXiv:1905.05702;
      Blondel, Martins & Niculae, Learning with Fenchel-Young Losses, arXiv:1901.02324;
      Correia, Niculae & Martins, Adaptively Sparse Transformers, arXiv:1909.00015.
    """
    arr, axes, where = _prepare("entmax", x, axis, where)
    _core.as_param(alpha, "entmax", "alpha")
    _core.check(lambda a: np.isfinite(a) & (a >= 1), "entmax", "alpha", ">= 1 and finite", alpha)
    kept = _kept(arr.shape, axes)
    try:
        fits = jnp.broadcast_shapes(jnp.shape(alpha), kept) == kept
    except ValueError:
        fits = False
    if not fits:
        raise ValueError(f"entmax: alpha of shape {jnp.shape(alpha)} must broadcast to "
                         f"{kept}, one value per slice along axis {axis}")
    if n_iter is not None and (not isinstance(n_iter, int) or isinstance(n_iter, bool)
                               or n_iter < 1):
        raise ValueError(f"entmax: n_iter must be a positive int, got {n_iter!r}")
    value = _core.concrete(alpha)
    if value is not None and value.size and np.all(value == value.flat[0]):
        exact = {1.0: _softmax_masked_kernel, 1.5: _entmax15_kernel, 2.0: _sparsemax_kernel}
        if float(value.flat[0]) in exact:
            return _core.apply(exact[float(value.flat[0])], arr, where, axis=axes)
    if n_iter is None:
        n_iter = jnp.finfo(_core.compute_dtype(arr.dtype)).nmant + 3
    return _core.apply(_entmax_kernel, arr, where, alpha, axis=axes, n_iter=n_iter)


register(Entry("entmax", entmax, "normalizer", r"[(\alpha-1)x_i-\tau(x)]_+^{1/(\alpha-1)}",
               r"s_i(\delta_{ij}-s_j/\textstyle\sum_k s_k),\ s=p^{2-\alpha}",
               params=(Param("alpha", 1.5, "entmax order, >= 1"),
                       Param("axis", -1, "axis or axes"), Param("where", None, "mask"),
                       Param("n_iter", None, "bisection steps")),
               range=(0.0, 1.0), monotonic=False, smooth=False,
               reference="Peters et al. 2019, arXiv:1905.05702; Blondel et al. 2019",
               source="paper"))


def _gumbel_kernel(x: Array, noise: Array, tau: Array, where: Array | None, *,
                   axis: tuple[int, ...], hard: bool) -> Array:
    mask = _mask(x, where)
    z = (x + noise) / tau
    soft = _softmax_masked(z, mask, axis)
    if not hard:
        return soft
    flat, back = _to_last(jnp.where(mask, z, -jnp.inf), axis)
    one_hot = back(jax.nn.one_hot(jnp.argmax(flat, -1), flat.shape[-1], dtype=soft.dtype))
    # straight-through: the forward value is exactly one-hot (soft - soft is 0), the
    # derivative is the soft sample's
    return one_hot + (soft - jax.lax.stop_gradient(soft))


def _check_key(key: Any) -> None:
    typed = isinstance(key, jax.Array) and jnp.issubdtype(key.dtype, jax.dtypes.prng_key)
    raw = (isinstance(key, (jax.Array, np.ndarray)) and key.dtype == np.uint32
           and key.shape == (2,))
    if not (typed and key.shape == () or raw):
        shown = f"{key.dtype}{list(key.shape)}" if hasattr(key, "shape") else type(key).__name__
        raise TypeError(f"gumbel_softmax: argument 'key' must be one PRNG key "
                        f"(jax.random.key(seed)), got {shown}")


def gumbel_softmax(x: ArrayLike, key: ArrayLike, *, tau: ArrayLike = 1.0, hard: bool = False,
                   axis: Axis = -1, where: ArrayLike | None = None) -> Array:
    r"""A differentiable sample from the categorical distribution ``softmax(x)``.

    .. math::
        y = \mathrm{softmax}\big((x + g) / \tau\big),\quad g_i \sim \mathrm{Gumbel}(0, 1),
        \qquad \frac{\partial y_i}{\partial x_j} = y_i\,(\delta_{ij} - y_j) / \tau

    ``argmax(x + g)`` is an exact sample of ``softmax(x)`` (the Gumbel-max trick, the
    same draw as ``jax.random.categorical(key, x)``); ``hard=True`` returns it as a
    one-hot vector whose derivative is the soft sample's (straight-through).

    Args:
      x: logits (unnormalised log-probabilities).
      key: a PRNG key (``jax.random.key``); the same key gives the same sample.
      tau: temperature > 0 (default 1); lower is closer to one-hot. Differentiable.
      hard: return the one-hot sample, with the straight-through derivative.
      axis: axis or axes of the categories (default -1).
      where: optional boolean mask; masked-out categories are never drawn.

    Returns:
      Same shape and dtype as ``x``; slices sum to 1.

    Raises:
      TypeError: if ``key`` is not one PRNG key.
      ValueError: if a concrete ``tau`` is not positive.

    Examples:
      >>> y = ja.gumbel_softmax(jnp.array([1.0, 2.0, 3.0]), jax.random.key(0), hard=True)
      >>> y.sum(), y.max()
      (Array(1., dtype=float32), Array(1., dtype=float32))

    References:
      Jang, Gu & Poole, Categorical Reparameterization with Gumbel-Softmax,
      arXiv:1611.01144; Maddison, Mnih & Teh, The Concrete Distribution, arXiv:1611.00712.
    """
    arr, axes, where = _prepare("gumbel_softmax", x, axis, where)
    _check_key(key)
    _core.as_param(tau, "gumbel_softmax", "tau")
    _core.check(lambda t: t > 0, "gumbel_softmax", "tau", "positive", tau)
    if not isinstance(hard, bool):
        raise TypeError(f"gumbel_softmax: hard must be a bool, got {type(hard).__name__}")
    noise = jax.random.gumbel(key, arr.shape, _core.compute_dtype(arr.dtype))
    return _core.apply(_gumbel_kernel, arr, noise, tau, where, axis=axes, hard=hard)


register(Entry("gumbel_softmax", gumbel_softmax, "normalizer",
               r"\mathrm{softmax}((x+g)/\tau),\ g\sim\mathrm{Gumbel}(0,1)",
               r"y_i(\delta_{ij}-y_j)/\tau",
               params=(Param("tau", 1.0, "temperature"), Param("hard", False, "one-hot sample"),
                       Param("axis", -1, "axis or axes"), Param("where", None, "mask")),
               range=(0.0, 1.0), monotonic=False,
               reference="Jang et al. 2016, arXiv:1611.01144; Maddison et al. 2016",
               source="torch", sample={"key": jax.random.key(0)}))
