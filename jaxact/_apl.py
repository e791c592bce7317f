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


def _apl_value_dx(x: Array, a: Array, b: Array) -> tuple[Array, Array]:
    # relu(x) + sum_s a_s max(0, b_s - x), summed with two_sum (the hinges may cancel),
    # each b_s - x and product exact. Convention at every kink: the derivative of a hinge
    # is taken on its flat side (0 at x = 0 for relu, as jax.nn; b_s excluded at x = b_s).
    a, b = opaque(a, b)
    y, err = jnp.maximum(x, 0.0), jnp.zeros_like(x)
    dx, dxe = jnp.where(x > 0, 1.0, 0.0), jnp.zeros_like(x)
    for s in range(a.shape[-1]):
        on = x < b[..., s]
        d, dl = _ts(b[..., s], -x)
        p, pe = _tp(a[..., s], d)
        p = jnp.where(on, p, 0.0)
        lo = jnp.where(on & jnp.isfinite(p), pe + a[..., s] * dl, 0.0)
        y, t = _ts(y, p)
        err = err + (t + lo)
        dx, t = _ts(dx, jnp.where(on, -a[..., s], 0.0))
        dxe = dxe + t
    y = jnp.where(jnp.isfinite(y), y + err, y)
    # |x| >= 2^100: the hinge terms would overflow before they cancel; there f is
    # -x sum_on a_s (exactly summed) + sum_on a_s b_s, and at x = -inf its limit.
    far = jnp.abs(x) >= 2.0**100
    sa, sae = jnp.zeros_like(y), jnp.zeros_like(y)
    ab = jnp.zeros_like(y)
    for s in range(a.shape[-1]):
        on = x < b[..., s]
        sa, t = _ts(sa, jnp.where(on, a[..., s], 0.0))
        sae = sae + t
        ab = ab + jnp.where(on, a[..., s] * b[..., s], 0.0)
    sa = sa + sae
    y_far = jnp.maximum(x, 0.0) - jnp.where(sa == 0, 0.0, x * sa) + ab
    y = jnp.where(far, y_far, y)
    return jnp.where(jnp.isnan(x), x, y), dx + dxe


def _apl_param_tangent(x: Array, a: Array, b: Array, ta: Array | None,
                       tb: Array | None) -> Array:
    # sum_s [x < b_s] (ta_s (b_s - x) + tb_s a_s). At x = -inf every df/da_s is +inf: the
    # a-tangents enter once, as -x sum_s ta_s, so one hinge's tangent gives +inf, not
    # 0 * inf from the others; x is replaced by 0 in the finite branch (double where).
    # NaN x is on every hinge (not x >= b_s), so the NaN factor below passes the selects.
    inf = jnp.isinf(x)
    xf = jnp.where(inf, 0.0, x)
    shape = jnp.broadcast_shapes(x.shape, a.shape[:-1], b.shape[:-1])
    out = total = jnp.zeros(shape, x.dtype)
    for s in range(a.shape[-1]):
        on = ~(x >= b[..., s])
        if ta is not None:
            out = out + jnp.where(on, ta[..., s] * (b[..., s] - xf), 0.0)
            total = total + jnp.where(on, ta[..., s], 0.0)
        if tb is not None:
            out = out + jnp.where(on, tb[..., s] * a[..., s], 0.0)
    out = out * jnp.where(jnp.isnan(x), jnp.nan, 1.0)
    return out - jnp.where(x == -jnp.inf, x, 0.0) * total if ta is not None else out


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
    value and the derivatives in :math:`a` and :math:`b` are NaN.

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
