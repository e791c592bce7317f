"""ACON-C, the learnable smooth maximum of two lines (PELU is in _pelu.py).

Pure functions whose parameters are arguments (scalars or arrays broadcastable to
``x``), differentiable in ``x`` and in every parameter with ``custom_jvp`` rules that
stay accurate over the whole float32 range (see jaxact/_learnable.py for the shared
double-float helpers). In the exponential tails the small factor is kept as ``m * k``
(``_math.exp_split``) so products such as ``x e^u`` stay normal where ``e^u`` is not.
"""

from __future__ import annotations

import math
from typing import Any

import jax.numpy as jnp
from jax import Array, lax
from jax.typing import ArrayLike

from jaxact import _core, _expm1, _math
from jaxact._learnable import _tp, _ts, opaque
from jaxact._rational import _pow2, _times_pow2
from jaxact._registry import Entry, Param, register

_LN2_CW = (0.693359375, -2.12194440e-4)  # ln 2 = hi + lo, hi with 9 bits (Cody-Waite)


def _dd(hi: Array, lo: Array) -> tuple[Array, Array]:
    """Renormalises ``hi + lo`` so that ``|lo| <= ulp(hi)/2``."""
    s, e = _ts(hi, lo)
    return s, e


def _low(u: Array, ul: Array) -> Array:
    """e^{-|u + ul|} / e^{-|u|} to first order in ``ul``, the low part of u (large only
    where e^{-|u|} is 0 anyway, hence the clip)."""
    return 1.0 - jnp.sign(u) * jnp.clip(ul, -0.5, 0.5)


def _exp_tail(u: Array, ul: Array, general: bool) -> tuple[Any, ...]:
    """``e^{-|u + ul|}`` as ``(m * k) * k2``, ``r = 1/(1 + e)``, the mask ``u >= 0``, and
    the mask ``|u| > 140`` where ``k2 = e^-58`` (else 1); ``ul`` (the low part of u) is
    folded in to first order. ``m`` is normal to |u| = 206 (``_math.exp_split``'s, with
    a second shift past 140, where its own is subnormal from 148 on; not ``general``:
    ``_math.exp_split``'s alone, normal to 148, and k2 = 1). Not ``exp_split_deep``:
    its first scale, e^-58 in float32, is 0.40 ulp off (e^-61: 0.05), and it would
    apply from |u| = 64 on, in the tails that matter."""
    if not general:
        m, k = _math.exp_split(-jnp.abs(u))
        m = m * _low(u, ul)
        return m, k, 1.0 / (1.0 + m * k), u >= 0, False, 1.0
    far = jnp.abs(u) > 140.0
    m = jnp.exp(jnp.where(far, 119.0 - jnp.abs(u), -jnp.abs(u) + jnp.where(
        jnp.abs(u) > 61.0, 61.0, 0.0))) * _low(u, ul)
    k = _math.tail_scale(-jnp.abs(u))
    return m, k, 1.0 / (1.0 + m * k), u >= 0, far, jnp.where(far, _math._E58, 1.0)


# f' = p2 + d silu'(u) around silu''s minimum c* at u* (tests/reference/fit_silu_slope.py)
_U0 = (-2.399357318878174, 3.83627067890302e-08)  # argmin of silu', hi + lo
_C0 = (-0.09983932226896286, 2.1400958782891166e-09)  # silu'(u0)
_Q0 = (0.04576525837182999, 0.025431953370571136, 0.005621816497296095,
       -0.000367315806215629, -0.0006438139243982732, -0.00019530051213223487,
       -1.4371330507856328e-05, 1.096028063329868e-05, 4.748686023958726e-06,
       5.177768116482184e-07, -1.3893667016873223e-07)


def _slope_near_extremum(u: Array, ul: Array, p1: Array, p2: Array, d: Array, dl: Array
                         ) -> Array:
    """ACON-C's f' = p2 + d silu'(u) for |u| within 1 of |u*|: (b + s d c*) + s d w^2 Q(w).

    silu' has its minimum c* at u* and its maximum 1 - c* at -u*, so there f' = b + s d
    silu'(v) with (b, s, v) = (p2, 1, u), or (p1, -1, -u) for u > 0, and silu'(v) = c* +
    w^2 Q(w), w = v - u*. When b + s d c* is small (p2 ~ 0.0998 d), f' has a near-double
    zero whose terms cancel by orders of magnitude: the constant part is an exact
    double-float and the rest is small, so f' keeps its relative accuracy.
    """
    neg = u <= 0
    sgn = jnp.where(neg, 1.0, -1.0)
    # exact first step (Sterbenz); opaque: XLA would fold the two constants into one
    w = ((jnp.where(neg, u, -u) - _core.opaque(_U0[0], u)) - _U0[1]) + sgn * ul
    c, ce = _tp(d, jnp.asarray(_C0[0], u.dtype))
    b0, b0e = _ts(jnp.where(neg, p2, p1), sgn * c)
    tail = (sgn * d) * ((w * w) * _math.polyval(_Q0, w))
    rest = b0e + sgn * (ce + (d * _C0[1] + dl * _C0[0])) + tail
    return b0 + rest


def _scaled(x: Array, t: Array, k: Array) -> Array:
    """``x t k`` for a scale ``0 < k <= 1`` and any ``x``, ``t``: the first product has no
    overflow (``x k`` for |x| > 1) and no early flush (``x t`` for |x| <= 1, then below
    the normal range anyway)."""
    return jnp.where(jnp.abs(x) > 1.0, (x * k) * t, (x * t) * k)


def _exp_expm1(v: Array) -> tuple[Array, Array]:
    """``(e^v, expm1(v))`` for ``v <= 0``; float32: from one hand-reduced exponential, with
    ``e^v`` down to v = -80 and ``expm1(v)`` above v = -0.34 only (garbage elsewhere)."""
    if v.dtype == jnp.float64:
        return jnp.exp(v), jnp.expm1(v)
    scale, h = _expm1.exp2_parts(0.5 * jnp.maximum(v, -80.0))
    return scale * (1.0 + 2.0 * h), 2.0 * h  # n = 0 above -0.34: scale = 1


# --- ACON-C ------------------------------------------------------------------------------


def _acon_c_parts(x: Array, p1: Array, p2: Array, beta: Array) -> tuple[Array, ...]:
    if x.dtype == jnp.float64:
        return _acon_c_body(x, p1, p2, beta, True)
    # Ordinary scalar parameters need none of the general form's guards (against overflow
    # and flushing in u and in the tails, all at huge or tiny beta (p1 - p2) or slopes):
    # f and f' from a lax.cond (XLA folds it for Python numbers) take the cheaper form,
    # the parameter partials the general one: the cheaper form's tail has no second shift,
    # which d/dbeta needs past |u| = 140 (1.3e7 units at p1 = 1e6, p2 = 0, beta = 9.6e-13,
    # x = -1.6e8). One core, 4096x1024, defaults: forward 69.7 -> 52.7 ms, x step 89.8 -> 68.5.
    ordinary = ((jnp.maximum(jnp.abs(p1), jnp.abs(p2)) <= 2.0**20) & (jnp.abs(beta) <= 2.0**20)
                & (jnp.abs(beta * (p1 - p2)) >= 2.0**-20))
    if jnp.ndim(ordinary):
        return _acon_c_body(x, p1, p2, beta, True)
    f, dx = lax.cond(ordinary, lambda a, b, c, d: _acon_c_body(a, b, c, d, False)[:2],
                     lambda a, b, c, d: _acon_c_body(a, b, c, d, True)[:2], x, p1, p2, beta)
    return (f, dx, *_acon_c_body(x, p1, p2, beta, True)[2:])


def _acon_c_body(x: Array, p1: Array, p2: Array, beta: Array, general: bool
                 ) -> tuple[Array, ...]:
    # Slopes beyond 2^118 are taken at 2^-9 (exactly), so that p1 - p2, p1 + p2 and u (p1 -
    # p2) up to |u| = 200 stay finite (p1 = -p2 = 3e38 or p1 = p2 = 3e38 gave NaN; p1 =
    # 3e38, p2 = 0 a NaN f' at u = -196, inf * 0); f and f' are scaled back by inv_s (the
    # tail of f with k), df/dbeta by inv_s^2. The scales come from the parameters before
    # the barrier: for Python-number parameters XLA folds them, and the products by 1 go.
    pmax = jnp.maximum(jnp.abs(p1), jnp.abs(p2))
    hugep, bigp = pmax > 2.0**118, pmax > 2.0**80
    s, inv_s = jnp.where(hugep, 2.0**-9, 1.0), jnp.where(hugep, 2.0**9, 1.0)
    # Products with these scales sit behind the barrier as well, each under a where on
    # hugep (or bigp): XLA would gather a constant scale into a neighbouring factor (p1 s
    # 2^9, x 2^3 into bd: inf; k e^-61 e^-58: 0). For Python numbers the where folds.
    bm, eb = jnp.frexp(beta)
    eb = eb + jnp.where(hugep, 9, 0)  # u from the slopes at 2^-9
    p1, p2, bm, eb, inv_s, e58s = opaque(p1 * s, p2 * s, bm, eb, inv_s, _math._E58 * inv_s)
    # u = beta (p1 - p2) x in double-float (the tails are ~ x e^u, whose relative error is
    # |u| times that of u), from significands and exponents: beta (p1 - p2) overflows
    # (6e38 with beta = 1, or beta = 3e38 with p1 - p2 = 3), and where it is tiny its low
    # half is subnormal (flushed: u off by 2^-24 relative, 300 ulp in df/dbeta at |u| =
    # 259 for beta = 1e-37, p1 - p2 = 10). A subnormal x is 0, as XLA's arithmetic takes it.
    d, dl = _ts(p1, -p2)
    dsig, e_d = jnp.frexp(d)
    q, qe = _tp(bm, dsig)
    q, ql = _dd(q, qe + bm * _times_pow2(dl, -e_d))
    xm, ex = _core.frexp(x)
    if general:
        um, ume = _tp(q, xm)
        e_u = (eb + e_d) + ex
        # (um in [1/8, 1): one power of 2, at most 2^127, is enough: |u| >= 2^124 acts
        # as any |u| beyond 600, and 2^-127 = 0 where u is flushed anyway; finite, so
        # that no derivative meets inf * 0)
        scale = _pow2(e_u, x.dtype, finite=True)
        u, ul = um * scale, (ume + ql * xm) * scale
        # 2^64 u: where u is below the normal range (f' = (p1 + p2)/2 + d u/2 is not)
        u64 = um * _pow2(e_u + 64, x.dtype, finite=True)
    else:  # 2^-20 <= |beta (p1 - p2)| <= 2^41: its halves and x's product are normal
        bd = _pow2(eb + e_d, x.dtype)
        bd, bdl = q * bd, ql * bd
        u, ue = _tp(bd, x)
        ul = ue + bdl * x
        small_x = jnp.abs(x) < 2.0**-60  # (elsewhere any |u64| >= 16; finite, no inf * 0)
        u64 = jnp.where(small_x, bd * (jnp.where(small_x, x, 0.0) * 2.0**64), 2.0**100)
    zero = q == 0  # beta = 0 or p1 = p2: u = 0 for every x, including +-inf
    u = jnp.where(zero, 0.0, jnp.where(jnp.isinf(x), x * q, u))  # (inf 2^-300 = NaN)
    ul = jnp.where(zero | ~jnp.isfinite(ul), 0.0, ul)
    m, k, r, pos, far_u, e58 = _exp_tail(u, ul, general)
    scaled = _scaled if general else lambda v, t, kk: (v * t) * kk
    # sigmoid(u) and sigmoid(-u): the large one is r, the small one (m r) k; D = their
    # product = (m r r) k. Beyond |u| = far the small side is 0: zero x there, so that
    # x * 0 is not inf * 0 = nan at x = +-inf.
    inside = jnp.abs(u) < _math.far(x)
    xs, us = jnp.where(inside, x, 0.0), jnp.where(inside, u, 0.0)
    mr = m * r
    dm = mr * r
    # Past |u| = 140 the small sides take e58 last: with m k alone they were flushed past
    # |u| = 148 where x p_small e^-|u| is normal (1.6e-38 at x = -1.5e-3 for p1 = 1e30,
    # p2 = 0, beta = 1e-25; 5.5e-25 in df/dp1 at x = -1.49e38 for beta (p1 - p2) = 1e-36).
    # (m k next to 1 or p_small, in r, the bracket and zeta below, is e^58 too large
    # there, and still negligible.)
    p_big, p_small = jnp.where(pos, p1, p2), jnp.where(pos, p2, p1)
    # f = x (p_big + p_small e) / (1 + e), e = e^-|u|. Where p_big and p_small e cancel
    # (a zero of the gate, not of f) only the error of exp(-|u|) is amplified (by the
    # gate's own condition number): numerator, denominator and quotient are carried in
    # double-float. Near u = 0 the gate is (p1 + p2) + p_small (e - 1), from e - 1 itself:
    # with p2 = -p1 (an even ACON-C, f ~ x^2 at 0) p1 + p_small e would cancel to ~u,
    # all of it rounding error. In the far tails (k < 1) the small side is scaled by k last.
    e0, em1 = _exp_expm1(-jnp.abs(u))
    ed = e0 * (-jnp.sign(u) * ul)  # e = e0 + ed
    near = jnp.abs(u) < 0.34  # em1 is accurate there (and unused elsewhere)
    s0, s0e = _ts(p1, p2)
    q1, q1e = _tp(p_small, jnp.where(near, em1, e0))
    n, ne = _ts(jnp.where(near, s0, p_big), q1)
    n_lo = ne + (jnp.where(near, s0e, 0.0) + (q1e + p_small * ed))
    one = opaque(jnp.ones((), x.dtype))[0]
    den, dene = _ts(one, e0)
    den_lo = dene + ed
    # inv_s = 2^8 on x, 2 on the quotient: x n 2^-1 is finite where f = x n / (1 + e) is
    # (p1 = p2 = 3e38 at x = 0.6), and normal where f is (but in its lowest binade): with
    # p1 = -p2 the gate n ~ p1 u is small near 0, and so is f (x n s was subnormal).
    # x/2 where x n is beyond 2^126 (and 2 on the quotient): x n overflowed where
    # x n / (1 + e) is finite (p1 = -p2 = 4.2, beta = 1.2e-38 at x = 8.105e37).
    xbig = (jnp.abs(x * n) > 2.0**126) if general else False
    xi = jnp.where(hugep, x * (inv_s * 0.5), jnp.where(xbig, x * 0.5, x))
    xn, xne = _tp(xi, n)
    xn_lo = xne + xi * n_lo
    y = xn / den
    yd, yde = _tp(y, den)
    y = jnp.where(jnp.isfinite(yd), y + (((xn - yd) - yde) + (xn_lo - y * den_lo)) / den, y)
    # (inv_s before k: the tail is normal where its part at the scale s is not)
    p_big_1, ks = jnp.where(hugep, p_big * inv_s, p_big), jnp.where(hugep, k * inv_s, k)
    # x 2^24 below |x| = 2^-100 (and 2^-24 last): with slopes beyond 2^80 the small side
    # can be subnormal where x p_big is not (3 % of f, lost, for p1 = 3e38, p2 = 1 at
    # x = -3e-37)
    tiny = jnp.abs(x) < 2.0**-100
    x_up = x * jnp.where(tiny, 2.0**24, 1.0)
    xs_up = jnp.where(inside, x_up, 0.0)
    down = jnp.where(tiny, 2.0**-24, 1.0)
    small_f = p_small * mr
    tail = jnp.where(bigp, (jnp.where(p_big == 0, 0.0, (x_up * p_big_1) * r)
                            + scaled(xs_up, small_f, ks) * e58) * down,
                     jnp.where(p_big == 0, 0.0, (x * p_big) * r) + scaled(xs, small_f, k) * e58)
    y = jnp.where(k == 1.0, y * jnp.where(hugep, inv_s * 2.0**-8, jnp.where(xbig, 2.0, 1.0)),
                  tail)
    # The small side p_small sigmoid(-|u|) + d u sigmoid'(u) = m r^2 k (p_small (1 + e)
    # + d u): its terms cancel near the gate's stationary point (u ~ -1.28 for p2 = 0),
    # where the two rounded products of the sum cost 10-12 ulp; one bracket costs ~3.
    # The bracket p_small (1 + e) + u d cancels by ~2x where f' has a minimum (x ~ -0.44
    # for p1 = 0.25, p2 = 2, beta = 3): u d exactly, with u's low part
    ud, ude = _tp(us, d)
    b0, b0e = _ts(p_small, ud)
    bracket = b0 + (b0e + (p_small * (m * k) + (ude + jnp.where(inside, ul, 0.0) * d)))
    dx = p_big * r + (((m * bracket) * (r * r)) * k) * e58
    # f' = (N + d u e r) r with the accurate gate N = n + n_lo: near u = 0 the form
    # above cancels as N does (f' ~ x for p2 = -p1).
    dx = jnp.where(near, (n + (n_lo + (d * us) * (m * r))) * r, dx)
    # Where u is below the normal range (flushed to 0) f' = (p1 + p2)/2 + d u/2 still
    # need not be: d (2^64 u) 2^-65 (p1 = -p2 = 5, beta = 1e-37: 0 for 4.7e-38 at 0.0094)
    dx = jnp.where(jnp.abs(u64) < 2.0**4, (s0 + (s0e + (d * u64) * 2.0**-64)) * 0.5, dx)
    around = jnp.abs(jnp.abs(u) + _U0[0]) < 1.0  # |u| within 1 of |u*| = 2.4
    # (u and ul replaced outside: no inf in the untaken branch's derivatives)
    dx = jnp.where(around, _slope_near_extremum(jnp.where(around, u, _U0[0]),
                                                jnp.where(around, ul, 0.0), p1, p2, d, dl), dx)
    # With slopes beyond 2^80 the tail u (p1 - p2) e^-|u| is normal past |u| = 148, where
    # m is not (to 182 for 3e38): there it takes e^{119 - |u|}, and e^-58 inv_s last
    # (p2 = 0, p1 = 3e38 gave 0 at x = -5e-37). For Python-number slopes this folds away.
    deep = bigp & far_u
    tail_deep = p_big_1 * r + (((m * bracket) * (r * r)) * k) * e58s
    dx = jnp.where(deep, tail_deep, jnp.where(hugep, dx * inv_s, dx))
    # df/dp1 = x (S + u D), df/dp2 = x (Sn - u D), df/dbeta = x^2 d^2 D. On the small side
    # (u < 0 for p1, u > 0 for p2) that is x m r^2 k (1 + e - |u|), which vanishes at
    # |u| = 1.28: as x m r k (1 + u r) the rounded u r and r cost up to 12 ulp around
    # |u| = 1.6. 1 - |u| is exact there (Sterbenz) and u's low part goes in; r, squared,
    # gets one Newton step on the double-float 1 + e.
    # The big side ~ x r is formed at x 2^24 (see f's tail): x r flushed to 0 for
    # x = 1.2e-38 where x (r + u D) is normal (u ~ 3 there for beta (p1 - p2) = 3e38).
    # (x u D k in an order that neither overflows nor flushes early: x u overflowed at
    # x = 1.3e38, beta (p1 - p2) = 2e-38, where x (r + u D) is finite)
    udm = (us * dm) * e58
    big_side = (x_up * r + _scaled(xs_up, udm, k)) * down
    zeta = ((1.0 - jnp.abs(us)) + m * k) - jnp.sign(us) * jnp.where(inside, ul, 0.0)
    rd, rde = _tp(r, den)
    rc = r + r * (((1.0 - rd) - rde) - r * den_lo)
    # x last: at u = 0, x m r^2 = x/4 flushes to 0 where the partial x/2 is normal
    small = _scaled(xs, ((m * rc) * rc) * zeta, k) * e58
    d_p1 = jnp.where(pos, big_side, small)
    d_p2 = jnp.where(pos, small, (x_up * r - _scaled(xs_up, udm, k)) * down)
    # df/dbeta = x^2 d^2 D from significands and exponents: x d overflows for beta < 8e-37
    # where the whole is normal, and so does its square where D brings it back (p1 = -p2 =
    # 3e38, beta = 2e-38: inf at x = -12.4 for 2e15); D = e^-|u| r^2 is subnormal past
    # |u| = 87 (m k past 148) where x^2 d^2 lifts it, normal to |u| ~ 260 for beta ~ 1e-38.
    # Past |u| = 140, e^-|u| = 2^-n e^-t (Cody-Waite, ln 2 in 9 + 24 bits: n ln2_hi exact).
    au = jnp.clip(jnp.abs(u), 140.0, 600.0)
    n = jnp.round(au * (1.0 / math.log(2.0)))
    t = (au - n * _LN2_CW[0]) - n * _LN2_CW[1]
    d_far = (jnp.exp(-t) * _low(u, ul)) * (r * r)
    dd = jnp.where(far_u, d_far, dm) * jnp.where(hugep, inv_s * inv_s, 1.0)
    # beyond |u| = 600 x^2 d^2 D underflows (and x = inf gives 0, not inf * 0)
    xdm = jnp.where(jnp.abs(u) >= 600.0, 0.0, xm) * dsig
    (md, ed), (mk, ek) = _core.frexp(dd), _core.frexp(jnp.where(far_u, 1.0, k))
    # (capped: past 2^254 the product (>= 2^-6 2^scale) overflows anyway, and x = 0 must
    # give 0, not 0 * inf)
    scale = 2 * (ex + e_d) + ed + ek - jnp.where(far_u, n, 0.0).astype(ex.dtype)
    d_beta = _times_pow2(((xdm * xdm) * md) * mk, jnp.minimum(scale, 254))
    return y, dx, d_p1, d_p2, d_beta


_acon_c = _math.elementwise(_acon_c_parts)


def acon_c(x: ArrayLike, *, p1: ArrayLike = 1.0, p2: ArrayLike = 0.0,
           beta: ArrayLike = 1.0) -> Array:
    r"""ACON-C, the learnable smooth maximum of two lines :math:`p_1 x` and :math:`p_2 x`.

    .. math::
        \mathrm{acon\_c}(x) = (p_1 - p_2)\,x\,\sigma(u) + p_2 x
          = x\,\bigl(p_1 \sigma(u) + p_2 \sigma(-u)\bigr),
        \quad u = \beta (p_1 - p_2) x,
        \qquad \mathrm{acon\_c}'(x) = p_1\sigma(u) + p_2\sigma(-u)
          + u\,(p_1 - p_2)\,\sigma(u)\sigma(-u)

    with :math:`\partial_{p_1} = x(\sigma(u) + u\,\sigma(u)\sigma(-u))`,
    :math:`\partial_{p_2} = x(\sigma(-u) - u\,\sigma(u)\sigma(-u))` and
    :math:`\partial_\beta = x^2 (p_1 - p_2)^2 \sigma(u)\sigma(-u)`. The defaults give
    SiLU; :math:`\beta \to \infty` gives :math:`\max(p_1 x, p_2 x)`. In the paper
    :math:`p_1, p_2` are per channel and :math:`\beta` is per channel or computed from the
    input (meta-ACON); here all three are arguments.

    Args:
      x: input array.
      p1: slope :math:`p_1` (scalar or array broadcastable to ``x``); differentiable.
      p2: slope :math:`p_2`; differentiable.
      beta: switching factor :math:`\beta`; differentiable.

    Returns:
      Same shape and dtype as ``x``.

    Examples:
      >>> ja.acon_c(jnp.array([-1.0, 0.0, 1.0]))
      Array([-0.26894143,  0.        ,  0.7310586 ], dtype=float32)
      >>> ja.acon_c(jnp.array([-1.0, 1.0]), p1=1.0, p2=0.25, beta=10.0)
      Array([-0.25041458,  0.9995854 ], dtype=float32)

    References:
      Ma et al., Activate or Not: Learning Customized Activation, arXiv:2009.04759.
    """
    arr = _core.as_array(x, "acon_c")
    for name, v in (("p1", p1), ("p2", p2), ("beta", beta)):
        _core.as_param(v, "acon_c", name)
    return _core.apply(_acon_c, arr, p1, p2, beta)


register(Entry("acon_c", acon_c, "elementwise", r"(p_1-p_2)\,x\,\sigma(\beta(p_1-p_2)x)+p_2x",
               r"p_1\sigma(u)+p_2\sigma(-u)+u(p_1-p_2)\sigma(u)\sigma(-u)",
               params=(Param("p1", 1.0, "slope of the upper line; differentiable"),
                       Param("p2", 0.0, "slope of the lower line; differentiable"),
                       Param("beta", 1.0, "switching factor; differentiable")),
               range=(-0.2784645427610738, math.inf), monotonic=False, source="paper",
               reference="Ma et al. 2021, arXiv:2009.04759"))
