"""Learnable activations, periodic (snake, sine) and piecewise (star_relu, srelu), and
the double-float helpers that jaxact/_adaptive.py, _pelu.py, _soft_exponential.py,
_erfact.py, _rational.py and _apl.py share.

Every parameter is an argument (a scalar, or an array broadcastable to ``x`` for one
value per channel) and every one is differentiable: the ``custom_jvp`` rules carry the
partial derivatives in ``x`` and in each parameter, all accurate to jaxact's bar over
the whole float32 range. The Flax layers are thin shells that own the parameters.

Products of a parameter and ``x`` are carried in double-float (``_tp``): sin(a x) and
exp(a x) amplify the rounding error of ``a*x`` by up to ``|a x|``.
"""

from __future__ import annotations

import math

import jax.numpy as jnp
import numpy as np
from jax import Array, lax
from jax.typing import ArrayLike

from jaxact import _core, _math, _trig
from jaxact._registry import Entry, Kink, Param, register

_PI4 = (float(np.float32(math.pi / 4)), math.pi / 4 - float(np.float32(math.pi / 4)))
_SQRT_HALF = math.sqrt(0.5)


def opaque(*params: Array) -> tuple[Array, ...]:
    """The parameters hidden from XLA's algebraic simplifier.

    A Python-number parameter reaches the kernel as a constant, and XLA rewrites sums
    with constants (``(c + q) - c`` becomes ``q``), which silently zeroes the error terms
    of ``two_sum``; an optimization barrier keeps them (it costs nothing at run time).
    """
    return lax.optimization_barrier(params)


def _tp(a: Array, b: Array) -> tuple[Array, Array]:
    """``(p, e)`` with ``p ~ a*b`` (within an ulp) and ``p + e == a*b`` to ~2^-48.

    A two_prod that survives fused multiply-add contraction: XLA's CPU backend lets LLVM
    fuse ``a*b + c`` into one FMA, which breaks Dekker's ``two_prod`` (its Veltkamp split
    ``4097 a - a`` and its ``a*b - p``) and any compensated step that rounds a product and
    then adds to it. Here the halves come from masking mantissa bits and ``p`` is summed
    from the four exact half products, so every product that meets an addition is exact
    and an FMA changes nothing. The error term is 0 where it cannot be held: non-finite
    values, and where a half or the error would be subnormal (XLA flushes them); there
    ``p`` is the plain product, to half an ulp. A low half has bits down to ulp(a) =
    |a| 2^-23, so only |a| >= tiny 2^23 keeps it normal (tiny 2^13 let a flushed low half
    through: relative error 2^-12 for operands in [2^-113, 2^-103)).
    """
    plain = a * b
    ah, al = _core.split(a)
    bh, bl = _core.split(b)
    p, e1 = _core.two_sum(ah * bh, ah * bl)
    p, e2 = _core.two_sum(p, al * bh)
    e = (e1 + e2) + al * bl
    tiny = jnp.finfo(plain.dtype).tiny
    ok = (jnp.isfinite(plain) & jnp.isfinite(p) & jnp.isfinite(e)
          & (jnp.abs(plain) >= tiny * 2.0**24)
          & (jnp.abs(a) >= tiny * 2.0**23) & (jnp.abs(b) >= tiny * 2.0**23))
    return jnp.where(ok, p, plain), jnp.where(ok, e, 0.0)


def _ts(a: Array, b: Array) -> tuple[Array, Array]:
    """``two_sum`` whose error term is 0 where it is not finite."""
    s, e = _core.two_sum(a, b)
    return s, jnp.where(jnp.isfinite(e), e, 0.0)


def _td(nh: Array, nl: Array, dh: Array, dl: Array) -> tuple[Array, Array]:
    """``(q, r)`` with ``q + r = (nh + nl) / (dh + dl)`` to about 2^-44 relative: the
    remainder ``nh - q dh`` from the exact product ``_tp(q, dh)``."""
    q = nh / dh
    p, pe = _tp(q, dh)
    return q, ((nh - p) - pe + (nl - q * dl)) / dh


# --- snake and sine -------------------------------------------------------------------
# sin(u) of u = a x = p + e (two_prod), from jaxact._trig: its own vectorised sin and cos
# where every phase is below 4096 (CPU), XLA's addition formula elsewhere.

_SINC = tuple((-1) ** n / math.factorial(2 * n + 1) for n in range(9))  # sin u / u in u^2
_TWO_COS_SINC = tuple((-1) ** n * (4 * n + 1) / math.factorial(2 * n + 1) for n in range(12))


def _snake_parts(sincos: _trig.SinCos, x: Array, a: Array) -> tuple[Array, Array, Array]:
    (a,) = opaque(a)
    inf = jnp.isinf(x)
    xf = jnp.where(inf, 0.0, x)
    p, e = _tp(a, xf)
    # |a x| beyond float32: the phase of a x is not resolvable (the conditioning bound
    # exceeds 1) and the value is x to rounding; derivatives take their period means.
    over = jnp.isinf(p)
    p, e = jnp.where(over, 0.0, p), jnp.where(over, 0.0, e)
    sh, sl, ch, cl = sincos(p, e)
    s, c = sh + sl, ch + cl
    tiny = jnp.abs(p) < 2.0**-12  # includes a = 0: sin^2(a x)/a = x sin(a x) (1 + O(u^2))
    a_safe = jnp.where(tiny, 1.0, a)
    # 1/a on the parameter: no division over x (XLA's CPU backend writes a full-size
    # quotient out, and each loop reading it recomputes the sines before it)
    inv = jnp.where(tiny, 1.0, 1.0 / jnp.where(a == 0, 1.0, a))
    # value x + sin^2(u)/a: for x < 0 the two terms cancel by up to 2.6x, so sin^2(u)/a
    # is carried in double-float (q's remainder is exact, so only sin's error is left).
    s2, s2e = _tp(sh, sh)
    s2e = s2e + 2.0 * sh * sl
    q = s2 * inv
    qa, qae = _tp(q, a_safe)
    q_lo = ((s2 - qa) - qae + s2e) * inv
    y, ye = _ts(xf, q)
    y = jnp.where(tiny, xf + xf * s, y + (ye + q_lo))
    y = jnp.where(inf, x, y)
    # f' = 1 + sin 2u = 2 sin^2(u + pi/4): its zeros are double, so the shifted sine is
    # formed from u + pi/4 in double-float (1 + sin 2u would lose all digits there).
    vh, vt = _ts(p, opaque(jnp.asarray(_PI4[0], p.dtype))[0])
    vl = vt + e + _PI4[1]
    vs, vsl, _, _ = sincos(vh, vl, small=True)
    sv = vs + vsl
    # Beyond |u| = 2^12 the low part is no longer small; the conditioning there (|x f''|
    # >= 2^12 |f''/a|) allows the direct (sin u + cos u)/sqrt 2.
    sv = jnp.where(jnp.abs(p) < 2.0**12, sv, ((sh + ch) + (sl + cl)) * _SQRT_HALF)
    dx = 2.0 * (sv * sv)
    dx = jnp.where(over, 1.0, jnp.where(inf & (a != 0), jnp.nan, dx))
    # df/da = x^2 sinc(u) (2 cos u - sinc u): series below |u| = 1.5, where both factors
    # are near 1 and 2 cos u - sinc u has its first zero (u = 1.1656); above, with
    # A = x sinc u = sin(u)/a, it is A (2 x cos u - A).
    z = p * p
    near = jnp.abs(p) <= 1.5
    da_near = (xf * _math.polyval(_SINC, z)) * (xf * _math.polyval(_TWO_COS_SINC, z))
    big_a = s * jnp.where(near, 1.0, inv)  # near: a may be 0
    da = jnp.where(near, da_near, big_a * (2.0 * xf * c - big_a))
    da = jnp.where(over, -0.5 / (a * a), da)
    da = jnp.where(inf, jnp.where(a == 0, jnp.inf, jnp.nan), da)
    return y, dx, da


_snake = _math.elementwise(_trig.dispatch(_snake_parts, lambda x, a: a * x))


def snake(x: ArrayLike, *, a: ArrayLike = 1.0) -> Array:
    r"""Snake, :math:`x + \sin^2(a x)/a`: periodic on top of the identity.

    .. math::
        \mathrm{snake}_a(x) = x + \frac{\sin^2(a x)}{a},
        \qquad \mathrm{snake}_a'(x) = 1 + \sin(2 a x) = 2\sin^2\!\left(a x + \tfrac{\pi}{4}\right),
        \qquad \partial_a \mathrm{snake}_a(x) = x^2\,\frac{\sin u}{u}
          \left(2\cos u - \frac{\sin u}{u}\right),\ u = a x

    At :math:`a = 0` it is the limit :math:`x`, with :math:`\partial_a = x^2` (no NaN).
    Any real :math:`a` is allowed (negative :math:`a` mirrors the wiggle). Where
    :math:`|a x|` exceeds the float32 range the phase of :math:`a x` is not resolvable
    (the conditioning bound exceeds 1): the value is :math:`x` (exact to rounding) and the
    derivatives are their means over a period, 1 and :math:`-1/(2a^2)`. At
    :math:`x = \pm\infty` the value is :math:`x` and the derivatives are NaN (unless
    :math:`a = 0`).

    Args:
      x: input array.
      a: frequency :math:`a` (scalar or array broadcastable to ``x``, default 1);
        differentiable.

    Returns:
      Same shape and dtype as ``x``.

    Examples:
      >>> ja.snake(jnp.array([-1.0, 0.0, 1.0]))
      Array([-0.2919266,  0.       ,  1.7080734], dtype=float32)
      >>> jax.grad(lambda a: ja.snake(2.0, a=a))(0.0)
      Array(4., dtype=float32, weak_type=True)

    References:
      Liu Ziyin, Tilman Hartwig, Masahito Ueda, Neural Networks Fail to Learn Periodic
      Functions and How to Fix It, arXiv:2006.08195.
    """
    arr = _core.as_array(x, "snake")
    _core.as_param(a, "snake", "a")
    return _core.apply(_snake, arr, a)


register(Entry("snake", snake, "elementwise", r"x+\frac{\sin^2(ax)}{a}",
               r"1+\sin(2ax)", params=(Param("a", 1.0, "frequency; differentiable"),),
               source="paper", reference="Liu Ziyin et al. 2020, arXiv:2006.08195"))


def _sine_parts(sincos: _trig.SinCos, x: Array, w0: Array) -> tuple[Array, Array, Array]:
    (w0,) = opaque(w0)
    p, e = _tp(w0, x)
    # |w0 x| beyond float32 (x finite): the phase is not resolvable (see snake); the
    # value and derivatives are their means over a period, 0.
    over = jnp.isinf(p) & jnp.isfinite(x)
    p, e = jnp.where(over, 0.0, p), jnp.where(over, 0.0, e)
    sh, sl, ch, cl = sincos(p, e)
    s, c = sh + sl, ch + cl
    c = jnp.where(over, 0.0, c)
    return s, w0 * c, x * c


_sine = _math.elementwise(_trig.dispatch(_sine_parts, lambda x, w0: w0 * x))


def sine(x: ArrayLike, *, w0: ArrayLike = 30.0) -> Array:
    r"""The SIREN activation, :math:`\sin(\omega_0 x)`.

    .. math::
        \mathrm{sine}(x) = \sin(\omega_0 x),
        \qquad \mathrm{sine}'(x) = \omega_0 \cos(\omega_0 x),
        \qquad \partial_{\omega_0} \mathrm{sine}(x) = x \cos(\omega_0 x)

    The product :math:`\omega_0 x` is carried in double-float, so the phase is exact for
    every float32 input. Where :math:`|\omega_0 x|` exceeds the float32 range the phase is
    not resolvable and the value (and derivatives) are 0, their mean over a period;
    :math:`x = \pm\infty` gives NaN.

    Args:
      x: input array.
      w0: frequency :math:`\omega_0` (scalar or array broadcastable to ``x``, default 30,
        SIREN's); differentiable.

    Returns:
      Same shape and dtype as ``x``, in :math:`[-1, 1]`.

    Examples:
      >>> ja.sine(jnp.array([0.0, 0.05, 0.1]))
      Array([0.        , 0.997495  , 0.14111996], dtype=float32)

    References:
      Sitzmann et al., Implicit Neural Representations with Periodic Activation Functions,
      arXiv:2006.09661.
    """
    arr = _core.as_array(x, "sine")
    _core.as_param(w0, "sine", "w0")
    return _core.apply(_sine, arr, w0)


register(Entry("sine", sine, "elementwise", r"\sin(\omega_0 x)", r"\omega_0\cos(\omega_0 x)",
               params=(Param("w0", 30.0, "frequency; differentiable"),), range=(-1.0, 1.0),
               monotonic=False, source="paper",
               # Generic tests compare float32 with float64 and finite differences; at
               # w0 = 30 sin(w0 x) is conditioned ~70 and its w0^4 step error dominates.
               sample={"w0": 1.0},
               reference="Sitzmann et al. 2020 (SIREN), arXiv:2006.09661"))


# --- piecewise: star_relu, srelu ---------------------------------------------------


def _star_relu_parts(x: Array, s: Array, b: Array) -> tuple[Array, ...]:
    # s x^2 + b = (s' x'^2 + b') / c with powers of 2 (exact; 1, folded away, for every
    # s and b but these): s' = s 2^-+64 and x' = x 2^+-32 for |s| beyond 2^+-64, else the
    # low halves that _tp splits off s x are subnormal for tiny (huge) x and are lost (s =
    # 3.4e38, b = 0: 2700 ulp at x = 1.3e-34); for |b| >= 2^126, c = 1/4, so that s x^2
    # does not overflow where b brings the sum back (s = 0.9, b = -3e38 at x = 2.3e19);
    # for 0 < |b| < 2^-100, c = 2^24 where |s x^2| < 2^-60, so that s x^2 is not flushed
    # where the sum is normal (s = 1, b = 2^-125: 2^21 ulp at x = 7.6e-20).
    big, small, huge = jnp.abs(s) >= 2.0**64, jnp.abs(s) < 2.0**-64, jnp.abs(b) >= 2.0**126
    tiny = (jnp.abs(b) < 2.0**-100) & (b != 0)
    xs = jnp.where(big, 2.0**32, jnp.where(small, 2.0**-32, 1.0)) * jnp.where(huge, 0.5, 1.0)
    sq = s * jnp.where(big, 2.0**-64, jnp.where(small, 2.0**64, 1.0))
    s2 = s + s  # (before the barrier: a Python-number s keeps it a constant)
    sq, bq, b24, s, b = opaque(sq, b * jnp.where(huge, 0.25, 1.0), b * 2.0**24, s, b)
    # s x^2 + b in double-float: near its zero the terms cancel, and x^2 is exact.
    xp = jnp.maximum(x, 0.0)  # NaN stays NaN
    xq = xp * xs
    lo = tiny & (jnp.abs((sq * xq) * xq) < 2.0**-60)
    xq, bq = jnp.where(lo, xq * 2.0**12, xq), jnp.where(lo, b24, bq)
    sx, sxe = _tp(sq, xq)
    q, qe = _tp(sx, xq)
    y, ye = _ts(q, bq)
    y = jnp.where(jnp.isfinite(y), y + (ye + (qe + sxe * xq)), y) * jnp.where(
        huge, 4.0, jnp.where(lo, 2.0**-24, 1.0))
    # 2 s x: (s + s) x, one rounding, wherever 2 s is finite. Past that (|s| > 1.7e38), s x
    # alone may be subnormal below x = 1 and 2 x overflows above 1.7e38; x + x, as XLA
    # would fold s (2 x) into (2 s) x = inf x (NaN at x = 0). d/db is NaN at NaN x, as
    # every parameter partial
    dx = jnp.where(jnp.isfinite(s2), s2 * xp, jnp.where(xp < 1.0, s * (xp + xp), 2.0 * (s * xp)))
    return y, dx, xp * xp, jnp.where(jnp.isnan(x), x, 1.0)


_star_relu = _math.elementwise(_star_relu_parts)


def star_relu(x: ArrayLike, *, s: ArrayLike = 0.8944, b: ArrayLike = -0.4472) -> Array:
    r"""StarReLU, a scaled and shifted squared ReLU.

    .. math::
        \mathrm{star\_relu}(x) = s\,\mathrm{relu}(x)^2 + b,
        \qquad \mathrm{star\_relu}'(x) = 2 s\,\mathrm{relu}(x),
        \qquad \partial_s = \mathrm{relu}(x)^2, \quad \partial_b = 1

    The defaults :math:`s = 0.8944 \approx 2/\sqrt5`, :math:`b = -0.4472 \approx -1/\sqrt5`
    are the paper's, which give a unit-variance, zero-mean output for standard normal
    input. The derivative is continuous (0 at :math:`x = 0`), so there is no kink.

    Args:
      x: input array.
      s: scale :math:`s` (scalar or array broadcastable to ``x``); differentiable.
      b: bias :math:`b` (scalar or array broadcastable to ``x``); differentiable.

    Returns:
      Same shape and dtype as ``x``.

    Examples:
      >>> ja.star_relu(jnp.array([-1.0, 0.0, 1.0, 2.0]))
      Array([-0.4472, -0.4472,  0.4472,  3.1304], dtype=float32)

    References:
      Yu et al., MetaFormer Baselines for Vision, arXiv:2210.13452.
    """
    arr = _core.as_array(x, "star_relu")
    _core.as_param(s, "star_relu", "s")
    _core.as_param(b, "star_relu", "b")
    return _core.apply(_star_relu, arr, s, b)


register(Entry("star_relu", star_relu, "elementwise", r"s\,\mathrm{relu}(x)^2+b",
               r"2s\,\mathrm{relu}(x)",
               params=(Param("s", 0.8944, "scale; differentiable"),
                       Param("b", -0.4472, "bias; differentiable")),
               range=(-0.4472, math.inf), smooth=False, source="paper",
               reference="Yu et al. 2022 (MetaFormer), arXiv:2210.13452"))


def _line(x: Array, t: Array, a: Array) -> Array:
    """``t + a (x - t)`` to half an ulp: x - t and the product in double-float."""
    d, dl = _ts(x, -t)
    q, qe = _tp(a, d)
    y, ye = _ts(t, q)
    return jnp.where(jnp.isfinite(y), y + (ye + (qe + a * dl)), t + a * (x - t))


def _srelu_parts(x: Array, tl: Array, al: Array, tr: Array, ar: Array) -> tuple[Array, ...]:
    tl, al, tr, ar = opaque(tl, al, tr, ar)
    # XLA compares subnormals as 0 (DAZ); flushing them here keeps the outputs consistent
    # with the piece that the comparison picks (x - 0 would be folded to x).
    x = jnp.where(_core.is_subnormal(x), x * 0.0, x)
    right, left = x >= tr, x <= tl
    left = left & ~right
    y = jnp.where(right, _line(x, tr, ar), jnp.where(left, _line(x, tl, al), x))
    dx = jnp.where(right, ar, jnp.where(left, al, 1.0))
    zero = jnp.where(jnp.isnan(x), x, 0.0)  # NaN x is on no piece: NaN parameter partials
    return (y, dx, jnp.where(left, 1.0 - al, zero), jnp.where(left, x - tl, zero),
            jnp.where(right, 1.0 - ar, zero), jnp.where(right, x - tr, zero))


_srelu = _math.elementwise(_srelu_parts)


def srelu(x: ArrayLike, *, t_left: ArrayLike = 0.0, a_left: ArrayLike = 0.2,
          t_right: ArrayLike = 1.0, a_right: ArrayLike = 1.0) -> Array:
    r"""S-shaped ReLU: the identity between two thresholds, learnt slopes outside.

    .. math::
        \mathrm{srelu}(x) = \begin{cases} t_r + a_r (x - t_r) & x \ge t_r \\
          x & t_l < x < t_r \\ t_l + a_l (x - t_l) & x \le t_l \end{cases},
        \qquad \mathrm{srelu}'(x) = a_r,\ 1,\ a_l

    with :math:`\partial_{t_r} = 1 - a_r`, :math:`\partial_{a_r} = x - t_r` on the right
    piece, :math:`\partial_{t_l} = 1 - a_l`, :math:`\partial_{a_l} = x - t_l` on the left
    piece, 0 elsewhere. Convention at the kinks: the paper's case split, so the
    derivative at :math:`t_r` is :math:`a_r` and at :math:`t_l` it is :math:`a_l` (the
    outer pieces). The parameter names are Keras-contrib's ``SReLU``. The defaults make
    it start as a leaky ReLU of slope 0.2 (Keras-contrib's deterministic initialisers,
    :math:`t_l = 0` and :math:`a_r = 1`, with :math:`a_l = 0.2` and :math:`t_r = 1` in
    place of its random ones); training then moves the thresholds and slopes.

    Args:
      x: input array.
      t_left: left threshold :math:`t_l` (scalar or array broadcastable to ``x``).
      a_left: left slope :math:`a_l`.
      t_right: right threshold :math:`t_r \ge t_l`.
      a_right: right slope :math:`a_r`. All four are differentiable.

    Returns:
      Same shape and dtype as ``x``.

    Raises:
      ValueError: if ``t_left > t_right`` (checked when concrete).

    Examples:
      >>> ja.srelu(jnp.array([-2.0, 0.0, 0.3, 2.0]), t_left=-0.4, t_right=0.4, a_right=0.2)
      Array([-0.72,  0.  ,  0.3 ,  0.72], dtype=float32)

    References:
      Jin et al., Deep Learning with S-shaped Rectified Linear Activation Units,
      arXiv:1512.07030.
    """
    arr = _core.as_array(x, "srelu")
    for name, v in (("t_left", t_left), ("a_left", a_left), ("t_right", t_right),
                    ("a_right", a_right)):
        _core.as_param(v, "srelu", name)
    _core.check(lambda lo, hi: lo <= hi, "srelu", "t_left", "<= t_right", t_left, t_right)
    return _core.apply(_srelu, arr, t_left, a_left, t_right, a_right)


register(Entry("srelu", srelu, "elementwise",
               r"\begin{cases}t_r+a_r(x-t_r)&x\ge t_r\\ x&t_l<x<t_r\\ t_l+a_l(x-t_l)&x\le t_l"
               r"\end{cases}", r"\begin{cases}a_r&x\ge t_r\\ 1&t_l<x<t_r\\ a_l&x\le t_l\end{cases}",
               params=(Param("t_left", 0.0, "left threshold; differentiable"),
                       Param("a_left", 0.2, "left slope; differentiable"),
                       Param("t_right", 1.0, "right threshold; differentiable"),
                       Param("a_right", 1.0, "right slope; differentiable")),
               smooth=False,
               kinks=(Kink(0.0, 0.2, "x <= t_left piece, the paper's split (defaults: "
                           "a leaky ReLU, no kink at t_right = 1)"),),
               source="paper", reference="Jin et al. 2015, arXiv:1512.07030"))
