"""α-entmax for any α >= 1, learnable: bisection on the threshold, then ``_sparse``'s
Newton step and derivative rule.

For α = 1, 1.5 and 2 given as numbers it calls the exact functions (softmax, entmax15,
sparsemax). The derivative in α is the closed form of Correia et al.
"""

from __future__ import annotations

import functools

import jax
import jax.numpy as jnp
import numpy as np
from jax import Array
from jax.custom_derivatives import SymbolicZero
from jax.typing import ArrayLike

from jaxact import _core
from jaxact._normalizers import Axis, prepare, softmax_core
from jaxact._registry import Entry, Param, register
from jaxact._sparse import (
    _entmax15_kernel,
    _kept,
    _nan_if_empty,
    _on_last,
    _pow,
    _power_threshold,
    _shift,
    _simplex_jvp,
    _sparsemax_kernel,
)


def _bisect_p(x: Array, alpha: Array, mask: Array, n_iter: int) -> Array:
    """α-entmax for α > 1 by bisection on τ (Blondel et al. 2019), then a Newton step."""
    d, err = _shift(x, mask)
    # opaque: for a Python alpha, XLA's simplifier would fold β's error term to 0
    a1 = jax.lax.optimization_barrier(alpha - 1.0)
    # z = (α-1)(x - max) as a pair: the maximum's entry is 0, so τ lies in [-1, 0)
    zh, zl = _core.two_prod(jnp.broadcast_to(a1, d.shape), d)
    zl = jnp.where(jnp.isfinite(zl), zl + a1 * err, 0.0)
    beta = 1.0 / a1
    bp, bp_lo = _core.two_prod(beta, a1)  # β's rounding error, carried as its low word
    beta_lo = ((1.0 - bp) - bp_lo) / a1
    n = jnp.sum(mask, -1, keepdims=True).astype(x.dtype)

    def halve(_: int, bracket: tuple[Array, Array]) -> tuple[Array, Array]:
        lo, hi = bracket
        mid = lo + 0.5 * (hi - lo)
        u = jnp.where(mask, jnp.maximum(zh - mid, 0.0), 0.0)
        above = jnp.sum(_pow(u, beta), -1, keepdims=True) >= 1.0  # Σ p falls as τ rises
        return jnp.where(above, mid, lo), jnp.where(above, hi, mid)

    # Σ p(-1) >= 1 (the maximum alone gives 1) and Σ p(-(1/n)^(α-1)) <= n (1/n) = 1
    lo, hi = jnp.full_like(n, -1.0), -(1.0 / jnp.maximum(n, 1.0)) ** a1
    lo, _ = jax.lax.fori_loop(0, n_iter, halve, (lo, hi))
    return _nan_if_empty(_power_threshold(zh, zl, lo, beta, mask, beta_lo),
                          ~jnp.any(zh > lo, -1, keepdims=True), mask)


@functools.partial(jax.custom_jvp, nondiff_argnums=(3,))
def _entmax_last(x: Array, mask: Array, alpha: Array, n_iter: int) -> Array:
    one = alpha == 1.0
    p = _bisect_p(x, jnp.where(one | ~(alpha > 1.0), 2.0, alpha), mask, n_iter)
    p = jnp.where(one, softmax_core(x, mask, (x.ndim - 1,)), p)
    return jnp.where(alpha >= 1.0, p, jnp.nan)  # alpha < 1 (or NaN): not a distribution


def _entmax_jvp(n_iter, primals, tangents):
    (x, mask, alpha), (t, _, ta) = primals, tangents
    p = _entmax_last(x, mask, alpha, n_iter)
    pos = p > 0
    safe = jnp.where(pos, p, 1.0)
    # (XLA's pow: s's own error reaches the gradient, exp(b log p)'s would be ~|b log p| ulp)
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

_entmax_kernel = _on_last(lambda x, mask, alpha, n_iter: _entmax_last(x, mask, alpha, n_iter))
_softmax_core_kernel = _on_last(lambda x, mask: softmax_core(x, mask, (x.ndim - 1,)))


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
    it cancels as :math:`\alpha \to 1` (in float32, relative error ~3e-4 at 1.01 and
    ~4e-2 at 1.001).

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
      Array([0.5500086 , 0.4329745 , 0.01701688], dtype=float32)

    References:
      Peters, Niculae & Martins, Sparse Sequence-to-Sequence Models, arXiv:1905.05702;
      Blondel, Martins & Niculae, Learning with Fenchel-Young Losses, arXiv:1901.02324;
      Correia, Niculae & Martins, Adaptively Sparse Transformers, arXiv:1909.00015.
    """
    arr, axes, where = prepare("entmax", x, axis, where)
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
        exact = {1.0: _softmax_core_kernel, 1.5: _entmax15_kernel, 2.0: _sparsemax_kernel}
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
