"""ErfAct and Pserf: x erf(z) with a learnable gate argument z (Biswas et al. 2021).

XLA's float32 erf is 3 to 5 ulp off; here erf(z) is the series ``z P(z^2)`` below
z = 1 (relative accuracy for the tiny gates of the negative tail) and ``1 - erfc(z)``
above, with erfc from jaxact's scaled-erfc polynomials (jaxact/_special.py) and
``exp(-z^2)`` from the exact square. In the tail the gate ``z ~ e^{beta x}`` is kept as
``z_m * k`` (a double-float exp from ``_dword`` at an exact scale k), so ``x erf(z)``
stays normal where ``z`` is not.
"""

from __future__ import annotations

import math

import jax.numpy as jnp
from jax import Array
from jax.typing import ArrayLike

from jaxact import _core, _dword, _math, _special
from jaxact._learnable import _tp, _ts, opaque
from jaxact._rational import _pow2
from jaxact._registry import Entry, Param, register

_C = 2.0 / math.sqrt(math.pi)
# erf(z)/(C z) - 1 = z^2 P1(z^2), P1 = sum_{n>=1} (-1)^n z^{2n-2} / (n! (2n+1)), z < 1.
_P1 = tuple((-1) ** n / (math.factorial(n) * (2 * n + 1)) for n in range(1, 14))
_DEEP = 2.0**-88  # ~e^-61: the scale that keeps tails normal, exact
_LN2_64 = (44.361419677734375, -1.2189787519729715e-07)  # 64 ln 2 as float32 hi + lo


def _square(h: Array, lo: Array) -> tuple[Array, Array]:
    """``(h + lo)^2`` as a double-float."""
    s, se = _tp(h, h)
    return s, se + 2.0 * h * lo


def _erf(za: Array) -> tuple[Array, Array]:
    """For ``za >= 0`` (inf allowed): ``(erf(za)/za if za < 1 else erf(za), za < 1)``."""
    z = jnp.minimum(za, 12.0)  # erf(12) = 1 in float32
    small = z < 1.0
    zs = jnp.where(small, z, 0.0)
    over = _C + _C * ((zs * zs) * _math.polyval(_P1, zs * zs))
    p, pe = _tp(z, z)
    g = jnp.exp(-p) * (1.0 - pe)
    # erfc(z) = 2 h(a) e^{-z^2}, a = sqrt2 z: h = erfcx(a/sqrt2)/2 from _special's fits.
    a = jnp.where(small, _special._A1, z * math.sqrt(2.0))
    h = _special.mills(a)
    return jnp.where(small, over, 1.0 - 2.0 * (h * g)), small


def _gate(x: Array, zm: Array, k: Array, z2: tuple[Array, Array], xdz: Array,
          bracket: Array, zm_lo: Array | float = 0.0) -> tuple[Array, Array]:
    """``x erf(z)`` and its derivative for a gate ``z = zm * k`` (signed).

    ``z2`` is z^2 (double-float, for e^{-z^2}), ``xdz = x z' / k``, ``zm_lo`` an optional
    low part of ``zm``. Below |z| = 1 the
    derivative is ``C (zm k) * bracket`` with ``bracket = z'/z (x + ...)`` supplied by the
    caller, written so that its zero (f' = 0 near x = -1/beta) is an exact ``1 + beta x``;
    everything is formed at the scale of ``zm`` and multiplied by ``k`` last.
    """
    ef, small = _erf(jnp.abs(zm) * k)
    sgn = jnp.sign(zm)
    q, qe = _tp(zm, ef)
    y = jnp.where(small, (x * (q + (qe + zm_lo * ef))) * k, x * (ef * sgn))
    g = jnp.exp(-z2[0]) * (1.0 - z2[1])
    # (The correction term as a sum of exact products: an FMA with ef would make the
    # result depend on how XLA fuses the kernel, jit or not.)
    dy = jnp.where(small, ((_C * zm) * bracket) * k, ef * sgn + _tp(xdz * k, _C * g)[0])
    return y, dy


def _c_times(x: Array, f: Array) -> Array:
    """``C x f`` for a factor ``f`` below ~1: for |x| > 1 x meets f first (C x overflows
    at x = 3.4e38), else C (which keeps small products normal); an infinite x times
    ``f = 0`` gives 0."""
    xa = jnp.where(jnp.isinf(x) & (f == 0), 0.0, x)
    return jnp.where(jnp.abs(xa) > 1.0, _C * (xa * f), (_C * xa) * f)


def _one_plus(b: Array, x: Array) -> tuple[Array, Array]:
    """``1 + b x`` as a double-float (exact: the zero of the tail derivatives)."""
    p, pe = _tp(b, x)
    a, ae = _ts(opaque(jnp.ones((), x.dtype))[0], p)
    return a, ae + pe


def _exp_minus(u: Array, ul: Array) -> tuple[Array, Array]:
    """``e^{u + ul} = m k`` with ``m`` normal down to u = -148."""
    m, k = _math.exp_split(u)
    return m * (1.0 + jnp.clip(ul, -0.5, 0.5)), k


def _erfact_parts(x: Array, alpha: Array, beta: Array) -> tuple[Array, ...]:
    # (a flag of the parameter before the barrier: XLA folds it for a Python number)
    huge = jnp.abs(alpha) > 2.0**92
    alpha, beta = opaque(alpha, beta)
    v, vl = _tp(beta, x)
    v = jnp.where(beta == 0, 0.0, v)  # beta = 0: z = alpha for every x, +-inf included
    # e^v = (m + ml) k, normal down to v = -148 at the scale k = 2^-88 (~e^-61), which
    # keeps x erf(z) ~ C alpha x e^v normal where e^v is not (a rounded e^v put the tail
    # at 4.2 ulp: the low word is kept, from exp_lite_parts); 0 below -148, float32's
    # largest above v = 88 (there z > 12 for any alpha above 1e-37: erf(z) = 1; an inf
    # would meet 0 in the derivatives of the double-float products: NaN f'').
    deep, over = v < -61.0, v > 88.0
    k = jnp.where(deep, _DEEP, 1.0)
    vm = jnp.clip(v, -148.0, 88.0)
    me, mel, mk = _dword.exp_lite_parts(vm, jnp.where(vm == v, vl, 0.0))
    mscale = _pow2(mk + jnp.where(deep, 88, 0), x.dtype)
    mscale = jnp.where((v < -148.0) | over, 0.0, mscale)
    m = jnp.where(over, jnp.finfo(x.dtype).max, me * mscale)
    ml = mel * mscale
    zm = alpha * m
    xs = jnp.where((zm == 0) & ~jnp.isnan(x), 0.0, x)  # z = 0: f = 0 (x = +-inf too), NaN stays
    big = jnp.abs(zm) * k > 12.0  # e^{-z^2} = 0: every x z e^{-z^2} term vanishes
    # There z = 13 sign(alpha) stands in (m = 13/|alpha| over k, a multiplication): alpha
    # e^v may overflow (alpha = 10 from v = 87), and inf - inf in its exact products was
    # NaN in f''.
    m = jnp.where(big, (13.0 / jnp.abs(alpha)) * jnp.where(deep, 1.0 / _DEEP, 1.0), m)
    # z and z^2 in double-float (where z matters at all: |v| < 100), to 2^-31: e^{-z^2}
    # for z^2 ~ 100 in the parameter derivatives.
    vc = jnp.clip(v, -100.0, 100.0)
    e, el, ke = _dword.exp_pair_parts(vc, jnp.where(vc == v, vl, 0.0))
    # z = (alpha 2^-j) e 2^(ke + j), j = 64 above alpha = 2^92: alpha e overflowed from
    # alpha = 1.7e38 (NaN f'). 2^(ke + j) goes in as two exact halves, one after the
    # other: as one factor it under- or overflowed where z does not (z^2 was 0 for
    # alpha = 1.7e38 at x = -88.5, 2^-128).
    alpha_j = jnp.where(huge, alpha * 2.0**-64, alpha)
    ke = ke + jnp.where(huge, 64, 0)
    z1, z1e = _tp(alpha_j, e)
    half = ke >> 1  # floor(ke / 2) as a shift (vectorised; integer division is not)
    # (inf from v = 100: no inf * 0 in f'', nor in z^2 for alpha = 0, where z1 = 0)
    s1 = jnp.where(big | (z1 == 0), 0.0, _pow2(half, x.dtype))
    s2 = _pow2(ke - half, x.dtype)
    z2 = _square((z1 * s1) * s2, ((z1e + alpha_j * el) * s1) * s2)
    # f' = C z (1 + beta x + (P - 1) + beta x (e^{-z^2} - 1)) below z = 1, else erf(z) +
    # C beta x z e^{-z^2}.
    one, one_lo = _one_plus(beta, xs)
    bx = beta * xs
    bracket = one + (one_lo + z2[0] * _math.polyval(_P1, z2[0]) + bx * _math.expm1(-z2[0]))
    zm, zme = _tp(alpha, m)
    y, dy = _gate(xs, zm, k, z2, jnp.where(big, 0.0, bx * zm), bracket, zme + alpha * ml)
    # df/dalpha = C x e^{v - z^2}, one exponential of a double-float argument (normal
    # while e^{-z^2} alone is not); df/dbeta = x alpha df/dalpha.
    # With alpha = alpha_j 2^j the argument takes j ln 2 (exactly, as a pair): df/dbeta
    # ~ alpha e^{v - z^2} is normal where e^{v - z^2} is not (alpha = 1e38 at
    # x = -8531, beta = 0.01: 0 for 2.8e-26), and df/dalpha takes 2^-j with ku.
    u, ue = _ts(v, -z2[0])
    u, ue2 = _ts(u, jnp.where(huge, _LN2_64[0], 0.0))
    mu, ku = _exp_minus(u, (ue + vl - z2[1]) + (ue2 + jnp.where(huge, _LN2_64[1], 0.0)))
    # df/dalpha takes x itself, not xs: at alpha = 0 it is C x e^v, not 0 (a learnt alpha
    # would stay at 0). df/dbeta is 0 where xs is (alpha = 0 or x = 0, even where e^v
    # overflows: 0 * inf), and for |x| > 1 x^2 is not formed (it overflows from 1.8e19).
    d_alpha = jnp.where(big, 0.0, _c_times(x, mu) * (ku * jnp.where(huge, 2.0**-64, 1.0)))
    d_beta = jnp.where(big | (xs == 0), 0.0,
                       jnp.where(jnp.abs(xs) > 1.0, (_C * (alpha_j * xs)) * (xs * mu),
                                 ((_C * xs) * (alpha_j * xs)) * mu) * ku)
    return y, dy, d_alpha, d_beta


_erfact = _math.elementwise(_erfact_parts, recompute=False)


def erfact(x: ArrayLike, *, alpha: ArrayLike = 0.75, beta: ArrayLike = 0.75) -> Array:
    r"""ErfAct, :math:`x\,\mathrm{erf}(\alpha e^{\beta x})`: a smooth, non-monotonic gate.

    .. math::
        \mathrm{erfact}(x) = x\,\mathrm{erf}(z),\quad z = \alpha e^{\beta x},
        \qquad \mathrm{erfact}'(x) = \mathrm{erf}(z) + \tfrac{2}{\sqrt\pi}\,\beta x z\,e^{-z^2}

    with :math:`\partial_\alpha = \tfrac{2}{\sqrt\pi} x e^{\beta x} e^{-z^2}` and
    :math:`\partial_\beta = \tfrac{2}{\sqrt\pi} x^2 z e^{-z^2}`. The negative tail
    :math:`\approx \tfrac{2}{\sqrt\pi}\alpha x e^{\beta x}` keeps its relative accuracy
    down to the subnormal range. Defaults: the paper's initial values
    :math:`\alpha = \beta = 0.75`.

    Args:
      x: input array.
      alpha: :math:`\alpha` (scalar or array broadcastable to ``x``); differentiable.
      beta: :math:`\beta` (scalar or array broadcastable to ``x``); differentiable.

    Returns:
      Same shape and dtype as ``x``.

    Examples:
      >>> ja.erfact(jnp.array([-2.0, 0.0, 2.0]))
      Array([-0.37416705,  0.        ,  1.999996  ], dtype=float32)

    References:
      Biswas, Banerjee & Pandey, ErfAct and Pserf: Non-monotonic Smooth Trainable
      Activation Functions, arXiv:2109.04386.
    """
    arr = _core.as_array(x, "erfact")
    _core.as_param(alpha, "erfact", "alpha")
    _core.as_param(beta, "erfact", "beta")
    return _core.apply(_erfact, arr, alpha, beta)


register(Entry("erfact", erfact, "elementwise", r"x\,\mathrm{erf}(\alpha e^{\beta x})",
               r"\mathrm{erf}(z)+\tfrac{2}{\sqrt\pi}\beta x z e^{-z^2},\ z=\alpha e^{\beta x}",
               params=(Param("alpha", 0.75, "gate scale; differentiable"),
                       Param("beta", 0.75, "gate rate; differentiable")),
               monotonic=False, source="paper",
               reference="Biswas et al. 2021, arXiv:2109.04386"))


def _softplus_pair(v: Array, vl: Array) -> tuple[Array, ...]:
    """softplus(v + vl) and sigmoid(v + vl) as ``(sp, sp_lo, sig, s1, ks)``.

    The softplus as a pair (to a few 2^-28), the sigmoid (to about an ulp) and ``s1 =
    sp/sigma - 1`` (from its series e/2 - e^2/6 + e^3/12 for tiny e = e^v), all at the
    scale ``ks``: 2^-88 below v = -61 (where softplus = sigmoid = e^v, normal down to
    v = -148 at that scale, and s1 is left 0), else 1. With e = e^-|v| = E + El (a pair)
    and 1 + e = A + Al (exact), log1p(e) = log(A) + Al/A by _dword's atanh series: a
    float32 log1p (1.6 ulp), with e^-|v| rounded (another ulp), once put pserf's value at
    5.1 ulp near x = -1.2 and its derivative at 9.2 near x = -0.9, where s1 cancels.
    """
    neg, nv = v < 0, -jnp.abs(v)
    w = jnp.maximum(nv, -148.0)  # below, e^v underflows even at the scale ks
    hi, lo, n = _dword.exp_pair_parts(w, jnp.where(w == nv, -jnp.sign(v) * vl, 0.0))
    deep = neg & (w < -61.0)
    n = n + jnp.where(deep, 88, 0)
    scale = jnp.where(w > nv, 0.0, _pow2(n, v.dtype))  # n >= -126 here: exact
    e, el = hi * scale, lo * scale
    ks = jnp.where(deep, _DEEP, 1.0)
    a, al = _core.two_sum(opaque(jnp.ones((), v.dtype))[0], e)
    al = al + el
    lg, lg_lo = _dword._log_pair(a)
    l1, l1_lo = _ts(lg, lg_lo + al / a)  # log1p(e^-|v|)
    sp, sp_e = _ts(jnp.where(neg, 0.0, v), l1)
    sp_lo = sp_e + l1_lo + jnp.where(neg, 0.0, vl)
    inv = 1.0 / a
    sig = jnp.where(neg, e, 1.0) * (inv * (1.0 - al * inv)) + jnp.where(neg, el * inv, 0.0)
    # s1 = sp (1 + e) / e - 1 for v < 0 (sp (A + Al) - e is exact to the pair's width,
    # sp A ~ e (1 + s1) with s1 <= 1: Sterbenz), sp (1 + e) - 1 >= 0.38 for v >= 0
    q, qe = _tp(sp, a)
    num = (q - e) + ((qe + sp * al + sp_lo * a) - el)
    tiny = neg & (e < 2.0**-6)
    s1_neg = num / jnp.where(neg & ~tiny, e, 1.0)  # (e = 0 for v >= 88: no 0 / 0 in f'')
    s1 = jnp.where(tiny, e * (0.5 + e * (-1.0 / 6.0 + e / 12.0)),
                   jnp.where(neg, s1_neg, (sp + sp_lo) * (1.0 + e) - 1.0))
    return (jnp.where(deep, e, sp), jnp.where(deep, el, sp_lo), jnp.where(deep, e, sig),
            jnp.where(deep, 0.0, s1), ks)


def _pserf_parts(x: Array, gamma: Array, delta: Array) -> tuple[Array, ...]:
    gamma, delta = opaque(gamma, delta)
    v, vl = _tp(delta, x)
    v = jnp.where(delta == 0, 0.0, v)
    sp_m, sp_lo, sig_m, s1, ks = _softplus_pair(v, vl)
    zm = gamma * sp_m
    xs = jnp.where((zm == 0) & ~jnp.isnan(x), 0.0, x)  # z = 0: f = 0 (x = +-inf too), NaN stays
    big = jnp.abs(zm) * ks > 12.0
    z1, z1e = _tp(gamma, sp_m)
    z2 = _square(jnp.where(big, 0.0, z1 * ks), jnp.where(big, 0.0, (z1e + gamma * sp_lo) * ks))
    # Below z = 1: f' = C gamma sigma (sp/sigma P + delta x e^{-z^2}), written as
    # 1 + delta x (exact) + s1 + (P - 1)(1 + s1) + delta x (e^{-z^2} - 1), s1 = sp/sigma - 1.
    one, one_lo = _one_plus(delta, xs)
    pm1 = z2[0] * _math.polyval(_P1, z2[0])
    dx_ = delta * xs
    bracket = one + (one_lo + s1 + pm1 * (1.0 + s1) + dx_ * _math.expm1(-z2[0]))
    small = jnp.abs(zm) * ks < 1.0
    bracket = jnp.where(small, bracket, 0.0)  # (overflows at x = 3e38: no inf * 0 in f'')
    # The series branch of _gate wants C z * bracket with z'/z folded in: here
    # f' = C gamma sigma * bracket, so pass zm' = gamma sigma_m in place of zm there.
    y, _ = _gate(xs, z1, ks, z2, jnp.zeros_like(x), bracket, z1e + gamma * sp_lo)
    _, dy_big = _gate(xs, zm, ks, z2, jnp.where(big, 0.0, (gamma * delta) * (xs * sig_m)), bracket)
    dy = jnp.where(small, ((_C * (gamma * sig_m)) * bracket) * ks, dy_big)
    # df/dgamma = C x sp e^{-z^2}, df/ddelta = C gamma x^2 sigma e^{-z^2}.
    mg, kg = _exp_minus(-z2[0], -z2[1])
    # (x itself in df/dgamma, as in erfact: C x sp at gamma = 0; no x^2 beyond |x| = 1)
    d_gamma = jnp.where(big, 0.0, _c_times(x, (sp_m + sp_lo) * mg) * (kg * ks))
    # x = +-inf with z < 12 (gamma = 0): x times sp's limit, 0 or +inf
    d_gamma = jnp.where(jnp.isinf(x) & ~big, jnp.where(sp_m == 0, 0.0, x), d_gamma)
    d_delta = jnp.where(big, 0.0, jnp.where(
        jnp.abs(xs) > 1.0, (_C * gamma) * ((xs * sig_m) * (xs * mg)),
        ((_C * gamma) * (xs * (xs * sig_m))) * mg) * (kg * ks))
    return y, dy, d_gamma, d_delta


_pserf = _math.elementwise(_pserf_parts)


def pserf(x: ArrayLike, *, gamma: ArrayLike = 1.25, delta: ArrayLike = 0.85) -> Array:
    r"""Pserf, :math:`x\,\mathrm{erf}(\gamma\,\mathrm{softplus}(\delta x))`: a learnable Serf.

    .. math::
        \mathrm{pserf}(x) = x\,\mathrm{erf}(z),\quad z = \gamma \log(1 + e^{\delta x}),
        \qquad \mathrm{pserf}'(x) = \mathrm{erf}(z)
          + \tfrac{2}{\sqrt\pi}\,\gamma\delta\,x\,\sigma(\delta x)\,e^{-z^2}

    with :math:`\partial_\gamma = \tfrac{2}{\sqrt\pi} x\,\mathrm{softplus}(\delta x)\,e^{-z^2}`
    and :math:`\partial_\delta = \tfrac{2}{\sqrt\pi}\gamma x^2 \sigma(\delta x) e^{-z^2}`.
    :math:`\gamma = \delta = 1` is Serf (Nag & Bhattacharyya, arXiv:2108.09598).
    Defaults: the paper's initial values :math:`\gamma = 1.25`, :math:`\delta = 0.85`.

    Args:
      x: input array.
      gamma: :math:`\gamma` (scalar or array broadcastable to ``x``); differentiable.
      delta: :math:`\delta` (scalar or array broadcastable to ``x``); differentiable.

    Returns:
      Same shape and dtype as ``x``.

    Examples:
      >>> ja.pserf(jnp.array([-2.0, 0.0, 2.0]))
      Array([-0.46646625,  0.        ,  1.9980787 ], dtype=float32)

    References:
      Biswas, Banerjee & Pandey, ErfAct and Pserf: Non-monotonic Smooth Trainable
      Activation Functions, arXiv:2109.04386.
    """
    arr = _core.as_array(x, "pserf")
    _core.as_param(gamma, "pserf", "gamma")
    _core.as_param(delta, "pserf", "delta")
    return _core.apply(_pserf, arr, gamma, delta)


register(Entry("pserf", pserf, "elementwise",
               r"x\,\mathrm{erf}(\gamma\,\mathrm{softplus}(\delta x))",
               r"\mathrm{erf}(z)+\tfrac{2}{\sqrt\pi}\gamma\delta x\sigma(\delta x)e^{-z^2}",
               params=(Param("gamma", 1.25, "gate scale; differentiable"),
                       Param("delta", 0.85, "softplus rate; differentiable")),
               monotonic=False, source="paper",
               reference="Biswas et al. 2021, arXiv:2109.04386"))
