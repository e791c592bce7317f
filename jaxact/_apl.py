"""The adaptive piecewise linear unit (APL): a ReLU plus learnt hinges.

Its hinge coefficients are arrays whose last axis runs over the hinges; leading axes
broadcast against ``x`` (one set per channel). The ``custom_jvp`` rule is rational's
(``_rational._jvp_with_params``): the derivative in ``x`` from one saved array, the
derivatives in the coefficients through a rematerialised function of ``x``.
"""

from __future__ import annotations

import jax.numpy as jnp
import numpy as np
from jax import Array
from jax.typing import ArrayLike

from jaxact import _core
from jaxact._learnable import _tp, _ts, opaque
from jaxact._rational import _coefficient_array, _jvp_with_params
from jaxact._registry import Entry, Kink, register


def _suffix_sums(*terms: Array) -> list[tuple[Array, ...]]:
    """For each ``t`` in ``terms`` (hinges along the last axis), its
    suffix sums ``sum_{s >= k} t_s``, k = 0..S, as double-float ``(hi, lo)`` arrays of
    shape ``(..., S + 1)`` (the last, k = S, is 0)."""
    out = []
    for t in terms:
        hi, lo = [jnp.zeros_like(t[..., 0])], [jnp.zeros_like(t[..., 0])]
        for k in range(t.shape[-1] - 1, -1, -1):
            h, e = _ts(hi[0], t[..., k])
            hi.insert(0, h)
            lo.insert(0, lo[0] + e)
        out.append((jnp.stack(hi, -1), jnp.stack(lo, -1)))
    return out


def _on_hinges(x: Array, bs: Array, *tables: Array) -> list[Array]:
    """Each table's entry k for the x at hand, k the first sorted hinge with x < b_k (S
    where there is none). The hinges on at x, {s: x < b_s}, are k..S-1. A NaN x is on
    every hinge (k = 0), so that the NaN reaches every coefficient's derivative."""
    picked = [t[..., -1] for t in tables]
    for k in range(bs.shape[-1] - 1, -1, -1):
        on = ~(x >= bs[..., k])
        picked = [jnp.where(on, t[..., k], v) for t, v in zip(tables, picked, strict=True)]
    return picked


def _sorted(a: Array, b: Array) -> tuple[Array, Array, Array]:
    """``(order, a, b)``: the hinges sorted by ``b`` (a and b broadcast against each
    other, e.g. per-channel slopes with shared locations)."""
    a, b = jnp.broadcast_arrays(a, b)
    order = jnp.argsort(b, axis=-1)
    return order, jnp.take_along_axis(a, order, -1), jnp.take_along_axis(b, order, -1)


def _apl_value_dx(x: Array, a: Array, b: Array) -> tuple[Array, Array]:
    # With the hinges sorted by b_s, those on at x (x < b_s) are a suffix, so
    # f = relu(x) + T - x S with S = sum_on a_s and T = sum_on a_s b_s: suffix sums of the
    # (few) coefficients in double-float, picked per element, and x S an exact product.
    # The hinges may cancel (sum_on a_s = 0 and f = T however large |x|): the terms are
    # summed compensated, so f keeps full accuracy. Convention at every kink: the
    # derivative of a hinge is taken on its flat side (0 at x = 0 for relu, as jax.nn;
    # b_s excluded at x = b_s). At x = -inf with S = 0, f is its limit T.
    a, b = opaque(a, b)
    _, a_s, b_s = _sorted(a, b)
    ab, abe = _tp(a_s, b_s)
    (sh, sl), (th, tl), (te, _) = _suffix_sums(a_s, ab, abe)
    sh, sl, th, tl, te = _on_hinges(x, b_s, sh, sl, th, tl, te)
    xs = jnp.where(sh == 0, 0.0, x)  # no hinge on (or their slopes sum to 0): 0, not 0 * inf
    p, pe = _tp(xs, sh)
    r = jnp.maximum(x, 0.0)
    y, e1 = _ts(th, -p)
    y, e2 = _ts(y, r)
    y = jnp.where(jnp.isfinite(y), y + ((e1 + e2) + ((tl + te) - (pe + xs * sl))), y)
    d, de = _ts(jnp.where(x > 0, 1.0, 0.0), -sh)
    nan = jnp.isnan(x)
    return jnp.where(nan, x, y), jnp.where(nan, x, d + (de - sl))


def _apl_param_tangent(x: Array, a: Array, b: Array, ta: Array | None,
                       tb: Array | None) -> Array:
    # sum_on (ta_s (b_s - x) + tb_s a_s) = W - x U, U = sum_on ta_s, W = sum_on (ta_s b_s +
    # tb_s a_s), from the sorted hinges' suffix sums as in _apl_value_dx. At x = -inf every
    # df/da_s is +inf: -x U there, added apart (x is 0 in the finite term) so that one
    # hinge's tangent gives +inf, not 0 * inf from the others'. NaN x: NaN.
    order, a_s, b_s = _sorted(a, b)
    shape = jnp.broadcast_shapes(x.shape, a.shape[:-1], b.shape[:-1])
    zero = jnp.zeros_like(a_s)
    sort = lambda t: jnp.take_along_axis(jnp.broadcast_to(t, order.shape), order, -1)
    ua = zero if ta is None else sort(ta)
    w = ua * b_s + (zero if tb is None else sort(tb) * a_s)
    # linear in the tangents (no compensated sums, no tests on them): reverse mode
    # transposes it
    tail = lambda t: jnp.concatenate([jnp.cumsum(t[..., ::-1], -1)[..., ::-1],
                                      jnp.zeros_like(t[..., :1])], -1)
    u, w = _on_hinges(x, b_s, tail(ua), tail(w))
    out = jnp.broadcast_to(w - jnp.where(jnp.isinf(x), 0.0, x) * u, shape)
    if ta is not None:
        out = out - jnp.where(x == -jnp.inf, x, 0.0) * u
    return out * jnp.where(jnp.isnan(x), jnp.nan, 1.0)


_apl = _jvp_with_params(_apl_value_dx, _apl_param_tangent)


def apl(x: ArrayLike, *, a: ArrayLike, b: ArrayLike) -> Array:
    r"""Adaptive piecewise linear unit: a ReLU plus learnt hinges.

    .. math::
        \mathrm{apl}(x) = \max(0, x) + \sum_{s=1}^{S} a_s \max(0, b_s - x),
        \qquad \mathrm{apl}'(x) = [x > 0] - \sum_{s} a_s\,[x < b_s]

    with :math:`\partial_{a_s} = \max(0, b_s - x)` and :math:`\partial_{b_s} = a_s [x < b_s]`.
    Convention at the kinks: each hinge contributes its flat side, so the derivative at
    0 omits the ReLU (as ``jax.nn.relu``) and at :math:`b_s` omits hinge :math:`s`.
    The sum is compensated, so cancelling hinges keep full accuracy. At a NaN input the
    value and every derivative are NaN.

    Args:
      x: input array.
      a: hinge slopes :math:`a_s` along the last axis (``S`` entries); leading axes
        broadcast against ``x`` (e.g. ``(channels, S)``). Differentiable.
      b: hinge locations :math:`b_s`, same shape as ``a``. Differentiable.

    Returns:
      The broadcast shape of ``x`` and the parameters' leading axes, ``x``'s dtype.

    Raises:
      ValueError: if ``a`` and ``b`` differ in their last axis or have none.

    Examples:
      >>> ja.apl(jnp.array([-2.0, -0.5, 0.5, 2.0]), a=(0.2, -0.3), b=(-1.0, 1.0))
      Array([-0.70000005, -0.45000002,  0.35      ,  2.        ], dtype=float32)

    References:
      Agostinelli et al., Learning Activation Functions to Improve Deep Neural Networks,
      arXiv:1412.6830.
    """
    arr = _core.as_array(x, "apl")
    a = _coefficient_array(a, "apl", "a", 1)
    b = _coefficient_array(b, "apl", "b", 1)
    if np.shape(a)[-1] != np.shape(b)[-1]:
        raise ValueError(f"apl: a and b must have the same number of hinges (last axis), got "
                         f"shapes {np.shape(a)} and {np.shape(b)}")
    return _core.apply(_apl, arr, jnp.asarray(a), jnp.asarray(b))


register(Entry("apl", apl, "elementwise", r"\max(0,x)+\sum_s a_s\max(0,b_s-x)",
               r"[x>0]-\sum_s a_s[x<b_s]", monotonic=False, smooth=False,
               kinks=(Kink(-1.0, 0.3, "hinge b_1 excluded (sample a = (0.2, -0.3), b = (-1, 1))"),
                      Kink(0.0, 0.3, "relu excluded, as jax.nn"),
                      Kink(1.0, 1.0, "hinge b_2 excluded")),
               source="paper", reference="Agostinelli et al. 2014, arXiv:1412.6830",
               sample={"a": (0.2, -0.3), "b": (-1.0, 1.0)}))
