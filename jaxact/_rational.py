"""The rational (Padé) activation of PAU, with learnable coefficients.

Its coefficient arrays' last axis runs over the polynomial degree; leading axes
broadcast against ``x`` (one set per channel). The ``custom_jvp`` rule
(``_jvp_with_params``, shared with ``_apl``) gives the derivative in ``x`` from one saved
array, and the derivatives in the coefficients through a rematerialised function of
``x`` (``jax.checkpoint``), so a parameter gradient saves ``x`` rather than one array per
coefficient.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
from jax import Array, lax
from jax.custom_derivatives import SymbolicZero
from jax.typing import ArrayLike

from jaxact import _core
from jaxact._learnable import _td, _tp, _ts, opaque
from jaxact._registry import Entry, register


def _jvp_with_params(value_and_dx: Any, param_tangent: Any) -> Any:
    """A ``custom_jvp`` function of ``(x, *coefficients)``.

    ``value_and_dx(x, *c) -> (f, df/dx)``; ``param_tangent(x, *c, *tc)`` is the tangent
    from the coefficient tangents ``tc`` (linear in them; None for a coefficient that is
    not differentiated), evaluated under ``jax.checkpoint`` so that reverse mode saves
    its inputs, not its intermediates.
    """

    def primal(x: Array, *c: Array) -> Array:
        return value_and_dx(x, *c)[0]

    def rule(primals: tuple[Array, ...], tangents: tuple[Any, ...]) -> tuple[Array, Array]:
        x, *c = primals
        tx, *tc = tangents
        y, dx = value_and_dx(x, *c)
        out = jnp.zeros_like(y) if isinstance(tx, SymbolicZero) else dx * tx
        live = [not isinstance(t, SymbolicZero) for t in tc]
        if any(live):
            tangent = jax.checkpoint(functools.partial(_with_none, param_tangent, live))
            out = out + tangent(x, *c, *(t for t, on in zip(tc, live, strict=True) if on))
        return y, out

    fn = jax.custom_jvp(primal)
    fn.defjvp(rule, symbolic_zeros=True)
    return fn


def _with_none(param_tangent: Any, live: list[bool], x: Array, *args: Array) -> Array:
    """Calls ``param_tangent`` with None in place of the tangents that are symbolic zeros."""
    c, given = args[: len(live)], iter(args[len(live):])
    return param_tangent(x, *c, *(next(given) if on else None for on in live))


# --- rational (PAU) ------------------------------------------------------------------------
# f = P(x) / (1 + |B(x)|), P = sum_0^m a_j x^j, B = sum_1^n b_j x^j. For |x| >= 1 both are
# evaluated in y = x 2^-e (exact, 1 <= |y| < 2) with the coefficient of x^j scaled by
# 2^{(j - d) e} (exact, or flushed where that term is below the float32 range), d the
# degree of B (its highest nonzero b_d, per coefficient set; 0 for b = 0): P/x^d and
# Q/x^d, so nothing overflows before the ratio and x -> +-inf gives its limit. (Where
# 2^{(dp - d) e} would exceed 2^100, dp the degree of P, a further 2^-g keeps it there;
# it is restored after the ratio, in two exact steps.) Q/x^d, at least 2^{-d e} and
# about |b_d| for large |x|, is moved into [1, 2) by its binade before the ratios.
# Every polynomial is evaluated by compensated Horner (Graillat et al.), accurate to
# about an ulp whatever the cancellation between its terms.


def _pow2(n: Array, dtype: Any, finite: bool = False) -> Array:
    """2^n for integer arrays ``n``, exactly, from the exponent bits: 0 below the normal
    range, inf above (with ``finite``, the largest finite power of 2: a zero it scales
    stays 0). (``jnp.ldexp`` goes through ``pow``, which XLA's fused CPU code evaluates
    approximately.)"""
    if jnp.dtype(dtype) == jnp.float64:
        e = jnp.clip(jnp.asarray(n, jnp.int64), -1023, 1024 - finite) + 1023
        return lax.bitcast_convert_type(e << 52, jnp.float64)
    e = jnp.clip(jnp.asarray(n, jnp.int32), -127, 128 - finite) + 127
    return lax.bitcast_convert_type(e << 23, jnp.float32).astype(dtype)


def _scaled(x: Array) -> tuple[Array, Array]:
    """``(y, e)``: ``x = y 2^e`` with ``1 <= |y| < 2`` where ``|x| >= 1``, else ``(x, 0)``.

    ``x = +-inf`` becomes ``(+-1, 200)``: every scaled coefficient below the top degree is
    0 there, which gives the limit at infinity.
    """
    # e from the exponent bits (x is normal there): frexp's handling of subnormals and
    # of 0, inf, NaN was ~20 operations in every fusion that rescales (3% of the forward)
    if x.dtype == jnp.float64:
        ex = (lax.bitcast_convert_type(x, jnp.int64) >> 52 & 2047) - 1023
    else:
        ex = (lax.bitcast_convert_type(x, jnp.int32) >> 23 & 255) - 127
    e = jnp.where(jnp.isinf(x), 200, jnp.where(jnp.abs(x) >= 1.0, ex, 0))
    half = e >> 1  # floor(e / 2): a shift vectorises, integer division does not
    y = x * _pow2(-half, x.dtype) * _pow2(half - e, x.dtype)  # exact; differentiable in x
    return jnp.where(jnp.isinf(x), jnp.sign(x), y), e


def _times_pow2(v: Array, n: Array) -> Array:
    """``v 2^n`` in two exact steps (2^n alone may overflow while the product does not)."""
    half = n >> 1
    return v * _pow2(half, v.dtype) * _pow2(n - half, v.dtype)


def _horner(coeffs: list[tuple[Array, Array | None]], y: Array) -> tuple[Array, Array]:
    """Compensated Horner of double-float coefficients (lowest degree first; a low part
    None is 0, and costs nothing): ``(s, err)`` with ``sum c_j y^j = s + err`` to about
    2^-48 (times the condition number) relative."""
    s, err = coeffs[-1]
    for hi, lo in coeffs[-2::-1]:
        p, pe = _tp(s, y)
        s, se = _ts(p, hi)
        e = pe + se if lo is None else pe + se + lo
        err = e if err is None else err * y + e
    return s, jnp.zeros_like(s) if err is None else err


def _scale(coeffs: Sequence[tuple[Array, Array | None]], e: Array, base: Array
           ) -> list[tuple[Array, Array | None]]:
    """Coefficient ``j`` (of ``y^j``) times 2^{j e + base}, a finite power: only the zero
    coefficients above the degree reach beyond the float range, and stay 0."""
    out = []
    for j, (hi, lo) in enumerate(coeffs):
        scale = _pow2(j * e + base, hi.dtype, True)
        out.append((hi * scale, None if lo is None else lo * scale))
    return out


def _split(c: Array) -> list[tuple[Array, None]]:
    """The entries of ``c`` along its last axis as exact double-floats (low parts 0)."""
    return [(c[..., j], None) for j in range(c.shape[-1])]


def _derivative_coefficients(a: Array, b: Array) -> tuple[list, list]:
    """Double-float coefficients of P' and of W = P'B - PB' (degree m + n - 1).

    W_k = sum_{i + j = k + 1} (i - j) a_i b_j, each term exact (two_prod, then a small
    integer), summed with two_sum: the leading term (m - n) a_m b_n is exact, so the
    large-|x| cancellation between P'Q and PQ' never happens in rounded arithmetic.
    """
    m, n = a.shape[-1] - 1, b.shape[-1]
    dp = [_tp(a[..., j], jnp.asarray(float(j), a.dtype)) for j in range(1, m + 1)]
    w = []
    for k in range(m + n):
        hi = lo = jnp.zeros(jnp.broadcast_shapes(a.shape[:-1], b.shape[:-1]), a.dtype)
        for i in range(max(0, k + 1 - n), min(m, k) + 1):
            j = k + 1 - i
            if i == j:
                continue
            p, pe = _tp(a[..., i], b[..., j - 1])
            q, qe = _tp(p, jnp.asarray(float(i - j), a.dtype))
            hi, se = _ts(hi, q)
            lo = lo + (se + (qe + pe * (i - j)))
        w.append((hi, lo))
    return dp, w


def _numerator_coefficients(a: Array, b: Array) -> tuple[list, list]:
    """Double-float coefficients of P' + W and P' - W, f's numerator for s = +-1.

    Summed per degree, not after evaluating P' and W apart: where the numerator cancels
    to a high power of x (P = Q + x^5 for coefficients all 1: P'Q - PQ' = 5x^4 + ...),
    its low coefficients are exactly 0, while P' and W near 0 are each rounded (to
    about 2^-48 of 1) before they cancel: d/dx was 0 for 6e-34 at x = 3.3e-9.
    """
    dp, w = _derivative_coefficients(a, b)
    out = ([], [])
    for k, (wh, wl) in enumerate(w):
        for sums, sw, swl in ((out[0], wh, wl), (out[1], -wh, -wl)):
            if k < len(dp):
                hi, err = _ts(dp[k][0], sw)
                sums.append((hi, err + (dp[k][1] + swl)))
            else:
                sums.append((sw, swl))
    return out


def _ratio(nh: Array, nl: Array, dh: Array, dl: Array) -> Array:
    """``(nh + nl) / (dh + dl)`` to about half an ulp (q alone where q dh overflows)."""
    q, r = _td(nh, nl, dh, dl)
    return jnp.where(jnp.isfinite(q * dh), q + r, q)


_K = 64  # numerators carry an extra 2^K (undone after the ratio): Q/2^{de} may be << 1


def _degree(c: Array, first: int) -> Array | int:
    """The highest power with a nonzero coefficient (0 if none); ``c`` from x^first up."""
    if not c.shape[-1]:
        return 0
    powers = jnp.arange(first, first + c.shape[-1], dtype=jnp.int32)
    return jnp.max(jnp.where(c != 0, powers, 0), axis=-1)


def _binade(v: Array) -> tuple[Array, Array]:
    """``(t, 2^-t)`` with ``t = floor(log2 v)`` for a positive normal ``v``, from its
    exponent bits."""
    if v.dtype == jnp.float64:
        k = lax.bitcast_convert_type(v, jnp.int64) >> 52
        return k - 1023, lax.bitcast_convert_type((2046 - k) << 52, jnp.float64)
    k = lax.bitcast_convert_type(v, jnp.int32) >> 23
    return k - 127, lax.bitcast_convert_type((254 - k) << 23, jnp.float32)


def _rational_core(x: Array, a: Array, b: Array) -> tuple[Array, ...]:
    """``(f, f', Q_n hi, lo, sign(B), y, e, q_e, f_s, f_x)``: value, derivative, the
    denominator Q = Q_n 2^{q_e} (1 <= Q_n < 2), x = y 2^e, and f = f_s 2^{f_x} unrounded."""
    a, b = opaque(a, b)
    y, e = _scaled(x)
    # Scaled by the degrees the coefficients give, not the arrays' lengths m, n: with
    # b = 0, Q/x^n = 2^{-n e} gave inf from |x| = 3e4 (their ratio) and NaN from 2^32
    # (flushed); with zero top a_j, g below flushed all of P (0/0 from |x| ~ 1e17).
    dp, d = _degree(a, 0), _degree(b, 1)
    de = d * e
    g = jnp.maximum((dp - d) * e + _K - 100, 0)  # keeps the top scale below 2^100
    ph, pl = _horner(_scale(_split(a), e, _K - de - g), y)
    # B = y C(y) (scaled), its sign from C and y: B itself may underflow near x = 0.
    zero = (jnp.zeros((), x.dtype), jnp.zeros((), x.dtype))
    if b.shape[-1]:
        ch, cl = _horner(_scale(_split(b), e, e - de), y)
        bh, bl = _tp(ch, y)
        bl = bl + cl * y
        s = jnp.sign(ch) * jnp.sign(y)  # 0 at x = 0: the mean of the one-sided slopes
    else:
        (bh, bl), s = zero, jnp.zeros_like(y)
    qh, ql = _ts(_pow2(-de, x.dtype), jnp.abs(bh))  # Q / 2^{d e} = 2^{-d e} + |B_s|
    ql = ql + s * bl
    # Q_n = Q 2^{-d e - t}: P's scaled ratio to Q 2^{-d e} ~ b_d overflowed (b_4 = 1e-12: inf
    # from x = 6e9, value 2e19), and its square underflows.
    t, shift = _binade(qh)
    qh, ql = qh * shift, ql * shift
    fs, fx = _ratio(ph, pl, qh, ql), g - _K - t
    f = _times_pow2(fs, fx)
    # f' = (P' + s W) / Q^2, both over 2^{2 d e} (and 2^K, 2^-g2 as for f). P' + W and
    # P' - W are evaluated apart and picked by s (their mean where s = 0, the mean of the
    # one-sided slopes): neither waits for B's sign, which made one Horner in P' + s W
    # 10% slower in reverse mode (a longer chain of dependent operations per element).
    g2 = jnp.maximum((dp - d - 1) * e + _K - 100, 0)
    plus, minus = _numerator_coefficients(a, b)
    if plus:
        (uh, ul), (vh, vl) = (_horner(_scale(c, e, _K - 2 * de - g2), y) for c in (plus, minus))
        mh, ml = _ts(0.5 * uh, 0.5 * vh)
        ml = ml + 0.5 * (ul + vl)
        nh = jnp.where(s > 0, uh, jnp.where(s < 0, vh, mh))
        nl = jnp.where(s > 0, ul, jnp.where(s < 0, vl, ml))
    else:
        nh, nl = zero
    q2, q2e = _tp(qh, qh)
    df = _times_pow2(_ratio(nh, nl, q2, q2e + 2.0 * qh * ql), g2 - _K - 2 * t)
    return f, df, qh, ql, s, y, e, de + t, fs, fx


def _rational_value_dx(x: Array, a: Array, b: Array) -> tuple[Array, Array]:
    f, df, *_ = _rational_core(x, a, b)
    return f, df


def _rational_param_tangent(x: Array, a: Array, b: Array, ta: Array | None,
                            tb: Array | None) -> Array:
    # d f = sum_j ta_j x^j / Q - s f sum_k tb_k x^k / Q. The weights span far more than
    # the float32 range, so each is a primal factor w' near 1 times a power of 2 split
    # in two: 2^{h1} folded into w' (primal), 2^{h2} (|h2| <= 60) applied after the
    # tangent. Then no normal weight is flushed in either mode (forward multiplies
    # t w' 2^{h2}, reverse ct 2^{h2} w'), and an overflowing weight gives inf only for a
    # nonzero tangent, never 0 * inf = nan for the others (w' saturates at the largest
    # float: x^5 of a polynomial, d = 0, overflows w' itself).
    _, _, qh, ql, s, y, e, qe, fs, fx = _rational_core(x, a, b)
    m, n = a.shape[-1] - 1, b.shape[-1]
    # f = fm 2^fe exactly, from the ratio before its scale is applied (f itself may
    # overflow where its b weights do not); fm = f, fe = 0 where e = 0 (|x| < 2): there
    # the b weight is s f r y^k 2^{-qe} with r <= 1, qe >= 0, and s f r y^k (times y last)
    # goes subnormal only with the weight (fm < 1 flushed 1.2e-38).
    fs = jnp.where(jnp.isfinite(fs), fs, 1.0)
    fm, fe = jnp.frexp(fs)
    f = _times_pow2(fs, fx)
    fm, fe = jnp.where(e == 0, f, fm), jnp.where(e == 0, 0, fe + fx)
    big, top = jnp.finfo(x.dtype).max, 2 * jnp.finfo(x.dtype).maxexp - 2

    def term(t: Array, w: Array, total: Array) -> Array:
        # h1 capped so that each of its two powers is finite: a zero weight (s = 0) stays 0
        h2 = jnp.clip(total, -60, 60)
        w = jnp.clip(_times_pow2(w, jnp.minimum(total - h2, top)), -big, big)
        return (t * w) * _pow2(h2, w.dtype)

    # One reciprocal of the scaled denominator, not a quotient per power: w_j = y^j r with
    # r = 1/(qh + ql) to about an ulp and y^j rounded j - 1 times (a few ulp for the
    # degrees used; the bar for these derivatives is 8).
    r = 1.0 / qh
    r = r - r * (ql * r)
    # Each coefficient's gradient is a reduction of its own, and XLA's CPU backend copies
    # every cheap operation its weight depends on into that reduction's loop: f's and Q's
    # polynomials were evaluated in each (reverse mode at 2^20 elements: 75-87 ms, 59-65
    # ms with this). Divided by a one it cannot fold (it does not copy a division), r,
    # s fm, fe and qe are computed once and read.
    one = jnp.minimum(jnp.abs(x), 0.0) + 1.0  # NaN where x is, as f is there
    r, sfm = r / one, (s * fm) / one
    fe, qe = ((v.astype(x.dtype) / one).astype(v.dtype) for v in (fe, qe))
    out = jnp.zeros_like(y)
    yj, vj = jnp.ones_like(y), sfm * r
    for j in range(max(m, n) + 1):
        if ta is not None and j <= m:
            out = out + term(ta[..., j], yj * r, j * e - qe)
        if tb is not None and 1 <= j <= n:
            out = out - term(tb[..., j - 1], vj, j * e - qe + fe)
        yj, vj = yj * y, vj * y
    # At x = +-inf the coefficient derivatives have finite and infinite limits side by
    # side, which no linear map in IEEE arithmetic represents (0 * inf): NaN there.
    return out * jnp.where(jnp.isinf(x), jnp.nan, 1.0)


_rational = _jvp_with_params(_rational_value_dx, _rational_param_tangent)


def _coefficient_array(c: Any, fn: str, arg: str, least: int) -> Any:
    """A coefficient array (a tuple or list of numbers is accepted) with a last axis."""
    if isinstance(c, (tuple, list)):
        try:
            c = np.asarray(c, dtype=np.float64)
        except (TypeError, ValueError):
            raise TypeError(f"{fn}: argument {arg!r} must be an array of real numbers") from None
    _core.as_param(c, fn, arg)
    shape = np.shape(c)
    if len(shape) < 1 or shape[-1] < least:
        raise ValueError(f"{fn}: {arg} must be an array whose last axis (the {arg} "
                         f"coefficients) has at least {least} entries, got shape {shape}")
    return c


# PAU (5, 4) fitted by jaxact to GELU on [-8, 8] (max error 0.004 on [-4, 4]), with an
# even denominator 1 + b_2 x^2 + b_4 x^4, so the sample is smooth; f ~ x/2 at infinity.
GELU_INIT = ((-0.00388997, 0.5, 0.421159, 0.127646, 0.0165527, 0.000777394),
             (0.0, 0.255292, 0.0, 0.00155479))


def rational(x: ArrayLike, *, numerator: ArrayLike, denominator: ArrayLike) -> Array:
    r"""The rational activation of Padé activation units (PAU), "safe" version B.

    .. math::
        \mathrm{rational}(x) = \frac{P(x)}{Q(x)} = \frac{\sum_{j=0}^{m} a_j x^j}
          {1 + \left|\sum_{k=1}^{n} b_k x^k\right|},
        \qquad \mathrm{rational}'(x) = \frac{P'(x)\,Q(x) - P(x)\,Q'(x)}{Q(x)^2},
        \quad Q' = \mathrm{sign}(B)\,B'

    with :math:`\partial_{a_j} = x^j / Q` and :math:`\partial_{b_k} = -\mathrm{sign}(B)\,
    x^k P / Q^2`. The absolute value of the whole sum (version B of Molina et al.; version
    A would sum :math:`|b_k x^k|`) keeps :math:`Q \ge 1`: no poles. Where :math:`B` changes
    sign (always at :math:`x = 0` when :math:`b_1 \ne 0`) the derivative jumps; jaxact
    takes :math:`\mathrm{sign}(0) = 0` there, the mean of the one-sided slopes.

    Accurate for every float32 input: the polynomials are evaluated by compensated Horner,
    and for :math:`|x| \ge 1` in :math:`x 2^{-e}` with exactly rescaled coefficients, so
    :math:`x^m` never overflows and :math:`x \to \pm\infty` gives the limit of the ratio.
    The derivative's numerator :math:`P' + \mathrm{sign}(B)(P'B - PB')` is formed from
    exact coefficient products, without the cancellation of the two quotients.

    Args:
      x: input array.
      numerator: :math:`a_0, \dots, a_m` along the last axis (at least one); leading
        axes broadcast against ``x`` (e.g. ``(channels, m + 1)``). Differentiable.
      denominator: :math:`b_1, \dots, b_n` along the last axis (no constant term; may be
        empty); leading axes broadcast against ``x``. Differentiable.

    Returns:
      The broadcast shape of ``x`` and the coefficients' leading axes, ``x``'s dtype.

    Raises:
      ValueError: if ``numerator`` has no last axis or an empty one, or ``denominator``
        has no last axis.

    Examples:
      >>> num, den = (0.0, 1.0, 0.5), (0.0, 0.25)  # (x + x^2/2) / (1 + x^2/4) -> 2
      >>> ja.rational(jnp.array([-2.0, 0.0, 2.0, 1e30]), numerator=num, denominator=den)
      Array([0., 0., 2., 2.], dtype=float32)
      >>> num, den = ja.entry("rational").sample.values()  # a (5, 4) fit to GELU
      >>> ja.rational(jnp.array([-1.0, 0.0, 1.0]), numerator=num, denominator=den)
      Array([-0.15483324, -0.00388997,  0.84516674], dtype=float32)

    References:
      Molina, Schramowski & Kersting, Padé Activation Units: End-to-end Learning of
      Flexible Activation Functions in Deep Networks, arXiv:1907.06732.
    """
    arr = _core.as_array(x, "rational")
    a = _coefficient_array(numerator, "rational", "numerator", 1)
    b = _coefficient_array(denominator, "rational", "denominator", 0)
    return _core.apply(_rational, arr, jnp.asarray(a), jnp.asarray(b))


register(Entry("rational", rational, "elementwise",
               r"\frac{\sum_{j=0}^m a_j x^j}{1+|\sum_{k=1}^n b_k x^k|}",
               r"\frac{P'Q-P\,\mathrm{sign}(B)B'}{Q^2}", monotonic=False, source="paper",
               reference="Molina et al. 2019 (PAU, version B), arXiv:1907.06732",
               sample={"numerator": GELU_INIT[0], "denominator": GELU_INIT[1]}))
