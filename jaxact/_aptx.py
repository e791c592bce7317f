"""APTx, "alpha plus tanh times", gamma x (alpha + tanh(beta x)), kept to full relative
precision where the gate alpha + tanh cancels and for parameters up to the float32 limits.

The cancelling sum is made exact (alpha + v below |v| = 0.55, alpha +- 1 beyond, as
two_sum pairs) and what is added to it carried to full relative precision; products with
gamma and x are ordered so that none overflows or underflows before the whole does.
"""

from __future__ import annotations

from collections.abc import Callable

import jax
import jax.numpy as jnp
from jax import Array, lax
from jax.typing import ArrayLike

from jaxact import _core, _expm1, _math
from jaxact._rational import _pow2, _times_pow2
from jaxact._registry import Entry, Param, register

_INF = float("inf")

_APTX_SMALL = 0.55  # |beta x| below which tanh is _math's polynomial (fitted to 0.55)
# tanh a + a sech^2 a peaks at a0 (a0 tanh a0 = 1), where it equals a0: on [0.8, 1.8]
# it is a0 + d^2 Q(d), d = a - a0 (Q: tests/reference/fit_aptx_peak.py, 2.5 units).
_APTX_PEAK = ((0.8, 1.8), (1.199678659439087, -1.918135308014613e-08), (
    -0.3661220669746399, 0.40691128373146057, -0.17989815771579742, -0.023509850725531578,
    0.08241052180528641, -0.04996275529265404, 0.007306066807359457, 0.01096135564148426,
    -0.009302417747676373, 0.002789653604850173))


def _sigmoid_m2(a: Array, lo: Array, deep: Array | bool
                ) -> tuple[Array, Array, Array, Array | None]:
    """``(r, e, k, bits)``: sigmoid(-2(a + lo)) = (r + e) k for 0 <= a <= 64, the pair
    within 1 ulp; k = 2^-64 beyond a = 30 (e^-61 beyond 30.5 in float64, to a = 381).
    Where ``deep`` (float32, a > 30, a <= 192): k = 0 and e^{-2(a + lo)} = (r + e) 2^-n,
    n from ``bits`` (``_expm1.exp2_reduce``'s), r + e = 1 / (1 + 2h) in [0.7, 1.42].

    At a zero of the gate alpha +- 1 cancels against 2 sigmoid, each ulp of which is then
    several of the gate (1 / (1 + e^{2a}) from XLA's exp, 2.4 ulp, left aptx(alpha=0.3,
    beta=-0.7) 6 units off). So e^{2a} = 2^n (1 + 2h) is hand-reduced (``_expm1``),
    (1 + e^{2a}) / 2^64 = (2^-64 + 2^(n-64)) + 2^(n-63) h is an exact pair d + l, and
    1 / (d + l) = 1/d - l/d^2 is kept as a pair.
    """
    if a.dtype == jnp.float64:  # the reduction is float32's; float64 has bits to spare
        q, k, _ = _math.sigmoid_pair(-2.0 * a, -2.0 * lo)
        return q, jnp.zeros_like(q), k, None
    bits, h = _expm1.exp2_reduce(a, lo=lo)
    # Beyond a = 30 (far), 1 + e^{2a} = 2^n (1 + 2h) to 2^-86: the pair is 1 / (1 + 2h)
    # times 2^(64 - n) (the far scale), not 1 / (2^(n - 64) (1 + 2h)): reverse mode takes
    # 1/d's derivative as ct / d^2, 2^-132 at a = 35 (f'' there was -1.5% of itself).
    far = a > 30.0
    p = jnp.where(far, 1.0, _expm1.pow2(bits, 64))
    c = jnp.where(far, 0.0, _core.opaque(2.0**-64, a))  # opaque: XLA would fold (p + c) - p to c
    d0, b = p + c, (p + p) * h  # (b exact)
    d = d0 + b  # |d0| > |b|: a fast two-sum
    dl = (b - (d - d0)) + (c - (d0 - p))
    # 2^(64 - n): bits holds n + 127 in its low 9 bits (see _expm1.pow2)
    scale = jnp.where(deep, 1.0, jnp.where(far, _expm1.pow2(-bits, -318), 2.0**-64))
    r = 1.0 / d
    k = jnp.where(deep, 0.0, jnp.where(far, 2.0**-64, 1.0))
    return r * scale, -((dl * r) * r) * scale, k, bits


def _frexp(v: Array) -> tuple[Array, Array]:
    """``(m, e)``: v = m 2^e with 1 <= |m| < 2 (v's sign) for a normal float32 v, m
    differentiable (second derivatives flow through it); ``(+-1, 128)`` for +-inf."""
    m, e = _core.frexp(v)
    inf = jnp.isinf(v)
    return jnp.where(inf, jnp.sign(v), m + m), jnp.where(inf, 128, e - 1)


def _wide(beta: Array, gamma: Array) -> Array:
    """Parameters whose tail needs the deep form (see ``_aptx_body``)."""
    return (jnp.abs(beta) < 2.0**-48) | (jnp.abs(gamma) > 2.0**42 * jnp.minimum(beta * beta, 1.0))


def _unswitched(x: Array, alpha: Array, beta: Array, gamma: Array) -> tuple[Array, ...] | None:
    """All of ``_aptx_body``'s outputs where no switch is taken (float64; array parameters,
    whose flags are per element), else None."""
    if x.dtype == jnp.float64:
        return _aptx_body(x, alpha, beta, gamma, False, 0)
    wide = _wide(beta, gamma)
    if jnp.ndim(wide) or jnp.ndim(alpha):
        return _aptx_body(x, alpha, beta, gamma, wide, 2)
    return None


def _form(k: int, x: Array, alpha: Array, beta: Array, gamma: Array) -> Array:
    """Output ``k`` of ``_aptx_body`` (f, f', d/dalpha, d/dbeta, d/dgamma). Scalar
    parameters take the deep tail and a small gate (|alpha| < 2^-60: ``_zero_alpha`` or
    ``_tiny_gate``) only where they need them, from a lax.switch (XLA folds it for Python
    numbers). At 4096x1024 on one core, the forward for alpha = 0 costs 5.2 ms with
    ``_zero_alpha`` (4.9 without a small gate, 8.4 with ``_tiny_gate``)."""
    c = gamma * beta
    simple = (alpha == 0.0) & (((jnp.abs(c) >= 2.0**-126) & (jnp.abs(c) < _INF))
                               | (gamma == 0.0) | (beta == 0.0))
    index = jnp.where(_wide(beta, gamma), 3,
                      jnp.where(simple, 1, jnp.where(jnp.abs(alpha) < 2.0**-60, 2, 0)))

    def form(wide: bool, small_gate: int) -> Callable[..., Array]:
        return lambda *a: _body_jit(*a, wide, small_gate)[k]

    return lax.switch(index, [form(False, 0), form(False, 1), form(False, 2), form(True, 2)],
                      x, alpha, beta, gamma)


def _aptx_value(x: Array, alpha: Array, beta: Array, gamma: Array) -> Array:
    parts = _unswitched(x, alpha, beta, gamma)
    return _form(0, x, alpha, beta, gamma) if parts is None else parts[0]


def _aptx_parts(x: Array, alpha: Array, beta: Array, gamma: Array) -> tuple[Array, ...]:
    parts = _unswitched(x, alpha, beta, gamma)
    if parts is not None:
        return parts
    # Each output from its own switch: one switch for all made the step in all four 2x
    # slower (4096x1024, one core: 66-68 ms), the partials outside the switches 30-31 (with
    # the small gate always in them, 35), one switch each 27.
    return tuple(gamma * x if k == 2 else _form(k, x, alpha, beta, gamma) for k in range(5))


def _aptx_body(x: Array, alpha: Array, beta: Array, gamma: Array,
               wide: Array | bool, small_gate: int) -> tuple[Array, ...]:
    # alpha + tanh(v), v = beta x, cancels wherever it nears 0: alpha = 1 for v -> -inf,
    # alpha = -1 for v -> +inf, alpha = 0 near v = 0, any alpha at a zero of the gate. So
    # the cancelling sum is made exact and what is added to it kept to full relative
    # precision: below |v| = 0.55 alpha + v (a two_sum pair) plus tanh(v) - v, a small
    # polynomial term; beyond, alpha +- 1 (a pair) -+ 2 sigmoid(-2|v|) (= 1 - tanh|v|).
    # Only the gate's zero then loses digits, within its conditioning; f' alike.
    f64 = x.dtype == jnp.float64
    top = 381.0 if f64 else 64.0  # |v| beyond which sigmoid(-2|v|) times x is 0 (see wide)
    # e^{-2|v|} turns the error of v = beta x into 2|v| err: kept, from beta x 2^64 and
    # x 2^-64 for |beta| < 2^-60 (beta's low half would be subnormal: 5.9 ulp at beta =
    # 1.5e-38, x = -2.8e38). Exact only while the halves of the split are normal.
    tiny = jnp.where(jnp.abs(beta) < 2.0**-60, 2.0**64, 1.0)
    bt, xt = beta * tiny, x * (1.0 / tiny)
    v, err = beta * x, _core.two_prod(bt, xt)[1]
    a = jnp.abs(v)
    ok = (jnp.abs(xt) > 2.0**-100) & (jnp.abs(bt) > 2.0**-100)
    # wide: parameters for which gamma x e^{-2|v|}, x e^{-2|v|}, gamma e^{-2|v|} or gamma
    # x^2 e^{-2|v|} can be normal beyond |v| = 64 (gamma = 3e38: to |v| = 91; up to 186
    # with a tiny beta and a huge x). There, beyond |v| = 30 (deep), the tail's mantissas
    # are formed with 2^-n, and x's and gamma's exponents, added up as integers (_times_pow2).
    deep = (a > 30.0) & wide
    reach = jnp.where(deep, 192.0, top)
    ac, err = jnp.minimum(a, reach), jnp.where(ok & (a < reach), err, 0.0)
    sgn = jnp.where(v >= 0, 1.0, -1.0)
    small = a < _APTX_SMALL
    vs = jnp.where(small, v, 0.0)  # the unused branch stays finite (0 * inf in reverse mode)
    z = vs * vs  # tanh(v) - v (the polynomial is float32's)
    tv = jnp.tanh(vs) - vs if f64 else vs * (z * _math.polyval(_math._TANH_P, z))
    t = vs + tv
    hi, lo = _core.two_sum(alpha, vs)
    gate_small = hi + (lo + (err + tv))
    hi, lo = _core.two_sum(alpha, vs + vs)  # tanh v + v sech^2 v = 2v + (tv - v t^2)
    slope_small = hi + (lo + (2.0 * err + (tv - vs * (t * t))))
    # sigmoid(-2|v|) = s k; at alpha = -+1 (hi = 0) the gate is -+2 s k itself, kept
    # scaled until the end: normal as long as the result is, and 0 beyond |v| = top.
    s, sl, k, bits = _sigmoid_m2(ac, sgn * err, deep)
    sn = 1.0 - (s + sl) * k  # sigmoid(2|v|)
    one = _core.opaque(1.0, x)  # (XLA would fold (alpha + 1) - alpha to 1)
    (hp, lp), (hm, lm) = _core.two_sum(alpha, one), _core.two_sum(alpha, -one)
    hi, lo = jnp.where(v >= 0, hp, hm), jnp.where(v >= 0, lp, lm)
    tail = hi == 0.0
    dt = deep & tail
    gone, kf = tail & (a > reach), jnp.where(tail, k, 1.0)
    ks = jnp.where(gone, 0.0, (sgn + sgn) * jnp.where(tail, 1.0, k))
    s2, s2l = ks * s, ks * sl
    # In the tail hi = alpha -+ 1 is 0, but its derivative in alpha is 1: not to be scaled
    # by 1/kf with the rest (d2f/dx dalpha was gamma kf, 2^-64 gamma beyond |v| = 30), so
    # it is carried by h0 (0, with hi's tangent) outside, and the gate takes hi - h0.
    h0 = jnp.where(tail & ~small, hi, 0.0)
    hg = hi - h0
    gate = jnp.where(small, gate_small, (hg - s2) + (lo - s2l))
    # gate + v sech^2 v = (alpha +- 1) +- 2 s (2|v| (1 - s) - 1)
    slope = jnp.where(small, slope_small, (hg + (s2 + s2l) * ((ac + ac) * sn - 1.0)) + lo)
    if not f64:  # at the peak f'' = 0 too, and at |alpha| ~ a0 the form above cancels
        # (945 units at alpha = -1.2, beta = 1): there alpha -+ a0 is exact, plus d^2 Q(d)
        (p_lo, p_hi), (head, low), q = _APTX_PEAK
        d = (jnp.clip(a, p_lo, p_hi) - head) + (sgn * err - _core.opaque(low, x))
        peak = ((alpha - h0) + sgn * head) + sgn * (low + (d * d) * _math.polyval(q, d))
        slope = jnp.where((a > p_lo) & (a < p_hi), peak, slope)
    xm = jnp.where(gone | dt, 0.0, x)  # x -> +-inf at a vanishing gate: 0, not inf * 0
    # gamma x gate, x first times the factor that keeps it in range (the smaller one for
    # |x| >= 1, the larger one below): neither overflows nor underflows alone
    g_first = (jnp.abs(gamma) <= jnp.abs(gate)) == (jnp.abs(x) >= 1.0)
    y = jnp.where(g_first, (gamma * xm) * gate, (xm * gate) * gamma) * kf
    # d/dbeta = gamma x^2 sech^2 v, sech^2 = 4 s (1 - s) <= 1: gamma x x first for |x| < 1,
    # else x sech^2 first, then times x for |gamma| > 1 (gamma x may overflow where the
    # whole does not), gamma x for |gamma| <= 1; 4 with gamma only there (XLA folds a
    # constant 4 gamma: inf for gamma = 3e38, and 0 * inf at x = 0)
    xd = jnp.where(a < top, x, 0.0)
    g1 = jnp.abs(gamma) > 1.0
    g4, w = gamma * jnp.where(g1, 1.0, 4.0), ((s + sl) * sn) * jnp.where(g1, 4.0, 1.0)
    dbeta = jnp.where(jnp.abs(xd) < 1.0, ((g4 * xd) * xd) * w,
                      jnp.where(g1, g4 * (xd * (xd * w)), (g4 * xd) * (xd * w))) * k
    dx, dgamma = (gamma * slope) * kf, (xm * gate) * kf
    # deep: e^{-2|v|} = 2^-n (s + sl), n from the reduction's bits (float32 only: no bits
    # in float64, which is never wide)
    if wide is not False and bits is not None:
        (gm, eg), (xf, ex) = _frexp(gamma), _frexp(x)
        gm, en = jnp.where(gamma == 0.0, 0.0, gm), ex - ((bits & 0x7FFFFF) - 0x40007F)
        y = jnp.where(dt, _times_pow2((gm * xf) * gate, eg + en), y)
        # Off the tail, e^{-2|v|} is below the gate's ulp (k = 0), but what it adds to f'
        # and d/dgamma, gamma 2 sgn e^{-2|v|} (2|v| - 1) and -2 sgn x e^{-2|v|}, is all of
        # their derivatives in x and beta and may be normal: added from 2^-n (f'' was 0 for
        # 3.2e10 at alpha = -1, beta = 1, gamma = -3e38, x = -35)
        e2 = (sgn + sgn) * (s + sl)
        far = _times_pow2(gm * (e2 * (ac + ac - 1.0)), eg + en - ex)
        dx = jnp.where(dt, _times_pow2(gm * slope, eg + en - ex),
                       jnp.where(deep, dx + far, dx))
        dgamma = jnp.where(dt, _times_pow2(xf * gate, en),
                           jnp.where(deep, dgamma - _times_pow2(xf * e2, en), dgamma))
        dbeta = jnp.where(deep, _times_pow2((gm * xf) * (xf * (4.0 * (s + sl))), eg + en + ex),
                          dbeta)
    near = small & (a < 2.0**-60)
    if small_gate == 1:  # (see _form)
        y, dx, dgamma = _zero_alpha(x, beta, gamma, near, (y, dx, dgamma))
    elif small_gate:
        y, dx, dgamma = _tiny_gate(x, alpha, beta, gamma, near, (y, dx, dgamma))
    # h0's terms, exact zeros with alpha's tangents, only where h0 is (selected: XLA would
    # factor them with the rest elsewhere too). Not in f, which is never differentiated
    # here (the rule's f' is dx).
    xz, on = jnp.where(jnp.isinf(x), 0.0, x), tail & ~small
    return (y, jnp.where(on, dx + gamma * h0, dx), gamma * x, dbeta,
            jnp.where(on, dgamma + xz * h0, dgamma))


def _zero_alpha(x: Array, beta: Array, gamma: Array, near: Array,
                parts: tuple[Array, Array, Array]) -> tuple[Array, ...]:
    """``_tiny_gate`` for alpha = 0 with c = gamma beta 0 or a normal float32: there f =
    (c x) x, f' = 2 c x and d/dgamma = (beta x) x. c x flushes only where |x| < 1 (so f
    is smaller still) and overflows nowhere (|x| < 1 where |c x| > |c|); likewise beta x.
    f' is (2c) x, or (c x) 2 for |c| >= 2^126 (c x alone may flush where 2 c x is normal)."""
    c = gamma * beta
    low = jnp.abs(c) < 2.0**126
    cx = c * x
    y, dx, dgamma = parts
    return (jnp.where(near, cx * x, y),
            jnp.where(near, (jnp.where(low, c + c, c) * x) * jnp.where(low, 1.0, 2.0), dx),
            jnp.where(near, (beta * x) * x, dgamma))


def _tiny_gate(x: Array, alpha: Array, beta: Array, gamma: Array, near: Array,
               parts: tuple[Array, Array, Array]) -> tuple[Array, ...]:
    """f, d/dx and d/dgamma where ``near`` (|beta x| < 2^-60) and |alpha| < 2^-60.

    There the gate alpha + tanh(beta x) = alpha + beta x (the cubic is 2^-120 of it) may be
    subnormal, flushed to 0, while gamma x gate or gamma (alpha + 2 beta x) is normal (alpha
    = 0, beta = 0.5 at x = 2e-38; beta = 1e-20, gamma = 1e30 below x = 1e-15). So the
    gate is formed as g 2^n, beta x = mb mx 2^(eb + ex) and alpha shifted to that
    exponent, and each product from the significands, with the exponents added as integers.
    """
    (ma, ea), (mb, eb), (mx, ex), (mg, eg) = (_core.frexp(p) for p in (alpha, beta, x, gamma))
    mv, ml = _core.two_prod(mb, mx)  # exact: alpha + beta x may cancel (alpha = 1e-30,
    n = jnp.where(mv == 0.0, ea, eb + ex)  # beta = 1e-10, x = -1e-20: gate 2e-38)
    d = ea - n  # alpha 2^-n: exact for d <= 40, 0 below d = -127 (where it is negligible)
    am = ma * _pow2(jnp.minimum(d, 40), x.dtype)
    use = near & (jnp.abs(alpha) < 2.0**-60) & ((alpha == 0.0) | (d <= 40))
    g, g2 = (am + mv) + ml, (am + (mv + mv)) + (ml + ml)  # gate, gate + v sech^2 v; 2^-n
    y, dx, dgamma = parts
    return (jnp.where(use, _times_pow2((mg * mx) * g, eg + ex + n), y),
            jnp.where(use, _times_pow2(mg * g2, eg + n), dx),
            jnp.where(use, _times_pow2(mx * g, ex + n), dgamma))


# The switches' branches call the body through a jit: traced once per form (not once per
# output and form, 1.6 s for the step in all four) and cached across calls (0.08 s).
_body_jit = jax.jit(_aptx_body, static_argnums=(4, 5))
_aptx = _math.elementwise(_aptx_parts, value=_aptx_value)


def aptx(x: ArrayLike, *, alpha: ArrayLike = 1.0, beta: ArrayLike = 1.0,
         gamma: ArrayLike = 0.5) -> Array:
    r"""APTx, "alpha plus tanh times": a cheap mish/swish look-alike.

    .. math::
        \mathrm{aptx}(x) = \gamma\,x\,(\alpha + \tanh(\beta x)),
        \qquad \mathrm{aptx}'(x) = \gamma\left(\alpha + \tanh(\beta x)
        + \beta x\,\mathrm{sech}^2(\beta x)\right)

    With the defaults it equals :math:`x\,\sigma(2x)`. The gate keeps full relative
    accuracy wherever it nears 0 (either tail at :math:`\alpha = \pm 1`, :math:`x \to 0` at
    :math:`\alpha = 0`): it is :math:`(\alpha \pm 1) \mp 2\sigma(-2|\beta x|)` for
    :math:`|\beta x| \ge 0.55`, and :math:`\alpha + \beta x` plus the small
    :math:`\tanh(\beta x) - \beta x` below.

    Args:
      x: input array.
      alpha: offset :math:`\alpha` (default 1); differentiable.
      beta: slope :math:`\beta` inside the tanh (default 1); differentiable.
      gamma: output scale :math:`\gamma` (default 0.5); differentiable.

    Returns:
      Same shape and dtype as ``x``.

    Examples:
      >>> ja.aptx(jnp.array([-1.0, 0.0, 1.0]))
      Array([-0.11920292,  0.        ,  0.8807971 ], dtype=float32)

    References:
      Kumar, APTx: Better Activation Function than MISH, SWISH, and ReLU's Variants used
      in Deep Learning, IJAIML 2(2), 2022, arXiv:2209.06119.
    """
    arr = _core.as_array(x, "aptx")
    for name, value in (("alpha", alpha), ("beta", beta), ("gamma", gamma)):
        _core.as_param(value, "aptx", name)
    return _core.apply(_aptx, arr, alpha, beta, gamma)


register(Entry("aptx", aptx, "elementwise", r"\gamma\,x\,(\alpha+\tanh(\beta x))",
               r"\gamma\left(\alpha+\tanh(\beta x)+\beta x\,\mathrm{sech}^2(\beta x)\right)",
               params=(Param("alpha", 1.0, "offset of the gate"),
                       Param("beta", 1.0, "slope inside the tanh"),
                       Param("gamma", 0.5, "output scale")),
               range=(-0.1392322713805369, _INF), monotonic=False, source="paper",
               reference="Kumar 2022, arXiv:2209.06119"))
