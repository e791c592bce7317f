"""PELU, the parametric ELU: a pure function of ``x`` and its parameters ``a`` and ``b``,
differentiable in each with a ``custom_jvp`` rule that stays accurate over the whole
float32 range (see jaxact/_learnable.py for the shared double-float helpers).
"""

from __future__ import annotations

import math

import jax.numpy as jnp
import numpy as np
from jax import Array
from jax.typing import ArrayLike

from jaxact import _core, _math
from jaxact._learnable import _tp, opaque
from jaxact._registry import Entry, Param, register

_E126 = np.ldexp(np.exp(-np.arange(90.0)), 126)  # 2^126 e^-n, n = 0..89


def _pelu_parts(x: Array, a: Array, b: Array) -> tuple[Array, ...]:
    # (n of f' below, from the parameters before the barrier: 0, folded, for Python numbers)
    n = jnp.where(jnp.isinf(a / b), jnp.clip(jnp.ceil(jnp.log(a) - jnp.log(b) - 88.72), 1.0, 89.0),
                  0.0)
    a, b = opaque(a, b)
    # t = x/b as t + tl: exp(t) amplifies an error of t by |t| (80 ulp at t = -80).
    t = x / b
    tb, tbe = _tp(t, b)
    tl = ((x - tb) - tbe) / b
    tl = jnp.where(jnp.isfinite(tl), tl, 0.0)
    pos = x >= 0
    tn = jnp.where(pos, 0.0, t)  # the x < 0 branch sees no overflowing exp
    tln = jnp.where(pos, 0.0, tl)
    # e^t = m k (1 + tl), for the value (f' below has its own split)
    m, k1, k2 = _math.exp_split_deep(tn)
    k = k1 * k2  # only where a moderate factor meets it: it may flush
    m = m * (1.0 + tln)
    em1 = _math.expm1(tn) + tln * (m * k)
    r = a / b
    # x >= 0: x (a/b), not a (x/b): x/b overflows for b < 1 (pelu(2e38, a=b=0.5) was
    # inf) and underflows for large b (a = b = 1e10 flushed |x| < 1e-28). So does x < 0
    # where |t| < 2^-25: there a expm1(t) = x (a/b) (1 + t/2) is x (a/b) to 2^-26. Where
    # a/b is beyond 2^+-100 (b = 3e38 flushed it) it is formed as a/b 2^-+126 from a and
    # b scaled by 2^-+63 and 2^+-63, and x is scaled by 2^+-63 before and after it.
    big, small = jnp.abs(a) > jnp.abs(b) * 2.0**100, jnp.abs(a) * 2.0**100 < jnp.abs(b)
    up = jnp.where(big, 2.0**63, jnp.where(small, 2.0**-63, 1.0))
    r_up = (a * (1.0 / up)) / (b * up)
    lin = ((x * up) * r_up) * up
    y = jnp.where(pos | (jnp.abs(t) < 2.0**-25), lin, a * em1)
    # f' = (a/b) e^t and -(a/b) t e^t for x < 0. Where a/b overflows (inf * 0 was NaN
    # for a = 3e38, b = 1e-30) they are q e^{t + n}, q = (a/b) e^-n <= 2^128 for a whole
    # n: exp_split_deep's levels and shifts move by n (scalar operands of its selects), so
    # e^{t + n} is normal to t + n = -203 and f' to t = -263. t + n is exact for t <= -n/2,
    # and n <= 2 ln(a/b 2^-128) makes f' overflow above; n = 1 errs by 2^-25 at most.
    q = jnp.where(n > 0, r_up * jnp.asarray(_E126, x.dtype)[n.astype(jnp.int32)], r)
    md, kd1, kd2 = _math.exp_split_deep(tn, n)
    md = md * (1.0 + tln)
    dx = jnp.where(pos, r, ((q * md) * kd1) * kd2)
    da = jnp.where(pos, t + tl, em1)
    # (x >= 0: -(a/b)(x/b), or -x (a/b) / b where x/b or a/b overflows and the product
    # may not)
    db = jnp.where(pos, -jnp.where(jnp.isinf(t) | jnp.isinf(r), lin / b, r * t),
                   jnp.where(jnp.isinf(tn), 0.0, -((q * (tn * md)) * kd1) * kd2))
    return y, dx, da, db


_pelu = _math.elementwise(_pelu_parts)


def pelu(x: ArrayLike, *, a: ArrayLike = 1.0, b: ArrayLike = 1.0) -> Array:
    r"""Parametric ELU: an ELU whose scale and decay are learnt, kept differentiable.

    .. math::
        \mathrm{pelu}(x) = \begin{cases} \tfrac{a}{b}\,x & x \ge 0 \\
          a\,(e^{x/b} - 1) & x < 0 \end{cases},
        \qquad \mathrm{pelu}'(x) = \begin{cases} \tfrac{a}{b} & x \ge 0 \\
          \tfrac{a}{b}\,e^{x/b} & x < 0 \end{cases}

    with :math:`\partial_a = x/b` or :math:`e^{x/b} - 1` and :math:`\partial_b = -a x/b^2`
    or :math:`-a x e^{x/b}/b^2`. The slopes meet at 0 (the derivative is continuous,
    :math:`a/b`), so there is no kink. :math:`a = b = 1` is the ELU.

    Args:
      x: input array.
      a: :math:`a > 0` (scalar or array broadcastable to ``x``); differentiable.
      b: :math:`b > 0` (scalar or array broadcastable to ``x``); differentiable.

    Returns:
      Same shape and dtype as ``x``, above :math:`-a`.

    Raises:
      ValueError: if ``a`` or ``b`` is not positive (checked when concrete).

    Examples:
      >>> ja.pelu(jnp.array([-1.0, 0.0, 1.0]), a=2.0, b=0.5)
      Array([-1.7293295,  0.       ,  4.       ], dtype=float32)

    References:
      Trottier, Giguère & Chaib-draa, Parametric Exponential Linear Unit for Deep
      Convolutional Neural Networks, arXiv:1605.09332.
    """
    arr = _core.as_array(x, "pelu")
    _core.as_param(a, "pelu", "a")
    _core.as_param(b, "pelu", "b")
    _core.check(lambda v: v > 0, "pelu", "a", "positive", a)
    _core.check(lambda v: v > 0, "pelu", "b", "positive", b)
    return _core.apply(_pelu, arr, a, b)


register(Entry("pelu", pelu, "elementwise",
               r"\begin{cases}\frac{a}{b}x&x\ge0\\ a(e^{x/b}-1)&x<0\end{cases}",
               r"\begin{cases}\frac{a}{b}&x\ge0\\ \frac{a}{b}e^{x/b}&x<0\end{cases}",
               params=(Param("a", 1.0, "scale, > 0; differentiable"),
                       Param("b", 1.0, "decay, > 0; differentiable")),
               range=(-1.0, math.inf), smooth=False, source="paper",
               reference="Trottier et al. 2016, arXiv:1605.09332"))
