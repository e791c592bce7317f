"""Self-gated activations x g(x) from the literature: e-swish, QuickGELU, LiSHT
and TanhExp (Smish, Logish and Serf are in ``_log_gated``, APTx in ``_aptx``).

The gates are written in e = exp(-|x|) (or e^x itself) so that nothing like 1 - sigmoid
or 1 - tanh^2 is formed, and their negative tails, ~ x e^x, are carried as m k
(``_math.exp_split``): they stay normal down to x = -92 where e^x alone is flushed at
-87. Inputs are clipped where the gate is already at its limit, which keeps inf * 0 out
of every branch (the "double where" done once, up front).
"""

from __future__ import annotations

import math

import jax.numpy as jnp
from jax import Array
from jax.typing import ArrayLike

from jaxact import _core, _math
from jaxact._registry import Entry, Param, register

_INF = float("inf")

# Around a zero X0 of a derivative its terms cancel, and the plain formulas lose up to
# ~1000 ulp (~10 even outside the test's "near a zero" window). There f'(x) is
# (x - X0) Q(x - C), X0 = head + tail, fitted by tests/reference/fit_literature.py to
# <= 3 ulp on the interval given; x - head is exact there (Sterbenz).
_SILU_ROOT = ((-2.5, -0.65), (-1.2784645557403564, 1.2979282537628478e-08), -1.5750000476837158,
              (0.17633092403411865, 0.13212287425994873, 0.028981441631913185,
               -0.0076374937780201435, -0.005924771074205637, -0.0009180879569612443,
               0.00037123181391507387, 0.0002022466214839369, 1.8771410395856947e-05,
               -1.4534812180500012e-05, -4.727469331555767e-06))
_TANHEXP_ROOT = ((-2.15, -0.55), (-1.0788600444793701, -1.3985253843884493e-08), -1.350000023841858,
                 (0.2724953591823578, 0.26469650864601135, 0.11090423911809921,
                  0.010431193746626377, -0.018219975754618645, -0.014836650341749191,
                  -0.006284915842115879, -0.0011387505801394582, 0.000656194519251585,
                  0.0007337361457757652, 0.0002561845467425883))


def _near_root(x: Array, fit: tuple, lo: Array | float = 0.0) -> tuple[Array, Array]:
    """``(inside, f'(x))`` from a root fit; ``lo`` is a low part of x (double-float x).

    The fits are float32's: float64 keeps the plain formulas (inside is all False).
    """
    if x.dtype == jnp.float64:
        return jnp.zeros(x.shape, bool), x
    (a, b), (head, tail), c, q = fit
    # the fit on [a, b] only: outside, its polynomial overflows for large x, and the
    # caller's select still sends it a zero cotangent (0 * inf = NaN in jax.hessian)
    # (x itself inside, ends included: clip's derivative there is 1/2)
    inside = (x >= a) & (x <= b)
    xi = jnp.where(inside, x, jnp.clip(x, a, b))
    dx = (xi - head) + (lo - _core.opaque(tail, x))
    return inside, dx * _math.polyval(q, xi - c)


def _silu_lo_parts(x: Array, b: Array | float, lo: float, scale: Array | float = 1.0,
                   bscale: Array | float = 1.0) -> tuple[Array, Array, Array, Array]:
    """``c x sigmoid(b x)``, its x-derivative, ``x sigmoid(b x)`` and ``d`` times its
    b-derivative, for scales c = ``scale`` and d = ``bscale``: silu with a slope
    (``silu(x, beta=b)``, e-swish, QuickGELU, APTx's gate).

    The slope is given as head b + tail lo. The tail matters: e^{-|bx|} turns a relative
    error d of b into |bx| d, and float32's 1.702 is off by 1.3e-8 relative, 15 ulp of
    x sigmoid(1.702 x) at x = -50; the rounding of b x itself is kept the same way (err).
    The scale is applied before the factor k (e^-61 below p = -61), so c x e^p stays
    normal where x e^p alone is subnormal.
    """
    p, err = _core.two_prod(jnp.asarray(b, x.dtype), x)
    lim = _math.far(x)
    inside = jnp.abs(p) < lim  # beyond, sigmoid' is 0 (and err may be huge or nan)
    err = jnp.where(inside & jnp.isfinite(err), err + lo * x, 0.0)
    # On a = -|p + err|: sigmoid(a) = q k (k = e^-61 below a = -61) and sigmoid(-a) =
    # big q, one exp. The value has five roundings where the older m r k form had seven
    # (4.1 ulp at x = -4.49, e_swish), and sigmoid'(p) = (q sn) k keeps its tail on both
    # sides. The derivatives take sigmoid(-a) as 1 - q k (within an ulp: q k <= 1/2), so
    # that e^{-a}, which XLA's CPU backend writes out when several operations read it,
    # has one reader there: the VJP runs as one loop instead of two.
    pos = p >= 0
    q, k, big = _math.sigmoid_pair(-jnp.abs(p), jnp.where(pos, -err, err))
    sig, k_p = q * jnp.where(pos, big, 1.0), jnp.where(pos, 1.0, k)  # sigmoid(p) = sig k_p
    sn = 1.0 - q * k
    dsig = q * sn  # sigmoid'(p) / k
    xd = jnp.where(inside, x, 0.0)
    pd = jnp.where(inside, p + err, 0.0)  # (err: float64 sees the tail of b)
    local, dx_local = _near_root(p, _SILU_ROOT, err)  # the slope is silu'(p)
    dx_m = jnp.where(pos, sn + (pd * dsig) * k, q * (1.0 + pd * sn))
    dx = jnp.where(local, scale * dx_local, (scale * dx_m) * k_p)
    xv = jnp.where(p > -lim, x, 0.0)  # NaN stays NaN
    return (((scale * xv) * sig) * k_p, dx, (xv * sig) * k_p,
            ((bscale * xd) * (xd * dsig)) * k)


# ---- e-swish -----------------------------------------------------------------------------


# Past |beta| = 2^64 beta x sigmoid(x) is normal down to x = -175, where sigmoid's tail
# q k holds only to x = -141 and beta x overflows first. There beta = b 2^62 (b > 4:
# b x sigmoid(x) is normal down to x = 2^-126), 2^62 goes into the tail scale k, and
# below x = -128 sigmoid(x) = sigmoid(x + 58) e^-58 (to e^-70; x + 58 exact), e^-58 into
# k too: 2^62 e^-119 is normal.
_E_SWISH_DEEP = 2.0**62 * math.exp(-119.0)


def _e_swish_parts(x: Array, beta: Array) -> tuple[Array, Array, Array]:
    # _silu_lo_parts' form for a slope of exactly 1 (no rounding error of b x to carry),
    # plus the scaling above; all of it folded away for a Python-number beta up to 2^64
    huge = jnp.abs(beta) > 2.0**64
    b, big = beta * jnp.where(huge, 2.0**-62, 1.0), jnp.where(huge, 2.0**62, 1.0)
    deep, pos, a = huge & (x < -128.0), x >= 0, -jnp.abs(x)
    q, k, e = _math.sigmoid_pair(jnp.where(deep, a + 58.0, a))
    sig, k_p = q * jnp.where(pos, e, 1.0), jnp.where(pos, 1.0, k)  # sigmoid(x) = sig k_p
    # b kb = beta k_p (e^-58 less where deep)
    kb = jnp.where(pos, big, jnp.where(deep, _E_SWISH_DEEP, big * k))
    sn = 1.0 - q * k
    lim = _math.far(x)
    xd = jnp.where(jnp.abs(x) < lim, x, 0.0)
    local, dx_local = _near_root(x, _SILU_ROOT)
    dx_m = jnp.where(pos, sn + (xd * (q * sn)) * k, q * (1.0 + xd * sn))
    xv = jnp.where(x > -lim, x, 0.0)  # NaN stays NaN
    return (((b * xv) * sig) * kb, jnp.where(local, beta * dx_local, (b * dx_m) * kb),
            (xv * sig) * jnp.where(deep, 0.0, k_p))  # (x e^x is subnormal below -128)


_e_swish = _math.elementwise(_e_swish_parts)


def e_swish(x: ArrayLike, *, beta: ArrayLike = 1.25) -> Array:
    r"""E-swish, a scaled swish.

    .. math::
        \mathrm{e\_swish}(x) = \beta\,x\,\sigma(x),
        \qquad \mathrm{e\_swish}'(x) = \beta\left(\sigma(x) + x\,\sigma(x)\,\sigma(-x)\right)

    Args:
      x: input array.
      beta: the scale :math:`\beta` (default 1.25; the paper suggests
        :math:`1 \le \beta \le 2`); differentiable.

    Returns:
      Same shape and dtype as ``x``.

    Examples:
      >>> ja.e_swish(jnp.array([-1.0, 0.0, 1.0]))
      Array([-0.33617678,  0.        ,  0.91382325], dtype=float32)

    References:
      Alcaide, E-swish: Adjusting Activations to Different Network Depths,
      arXiv:1801.07145.
    """
    arr = _core.as_array(x, "e_swish")
    _core.as_param(beta, "e_swish", "beta")
    return _core.apply(_e_swish, arr, beta)


register(Entry("e_swish", e_swish, "elementwise", r"\beta\,x\,\sigma(x)",
               r"\beta\left(\sigma(x)+x\,\sigma(x)\sigma(-x)\right)",
               params=(Param("beta", 1.25, "scale"),), range=(-0.3480806784513423, _INF),
               monotonic=False, source="paper", reference="Alcaide 2018, arXiv:1801.07145"))

# ---- QuickGELU ---------------------------------------------------------------------------

_QG_HI = 1.7020000219345093  # float32(1.702)
_QG_LO = 1.702 - _QG_HI


def _quick_gelu_parts(x: Array) -> tuple[Array, Array]:
    return _silu_lo_parts(x, _QG_HI, _QG_LO)[:2]


_quick_gelu = _math.elementwise(_quick_gelu_parts)


def quick_gelu(x: ArrayLike) -> Array:
    r"""QuickGELU, the sigmoid approximation of GELU used by CLIP.

    .. math::
        \mathrm{quick\_gelu}(x) = x\,\sigma(1.702\,x),
        \qquad \mathrm{quick\_gelu}'(x) = \sigma(1.702 x)\left(1 + 1.702\,x\,\sigma(-1.702 x)\right)

    The constant is exactly 1.702 (carried as a float32 pair), not float32's nearest
    value, which would be 20 ulp off in the negative tail.
    ``silu(x, beta=1.702)`` is the same function with the float32 slope.

    Args:
      x: input array.

    Returns:
      Same shape and dtype as ``x``.

    Examples:
      >>> ja.quick_gelu(jnp.array([-1.0, 0.0, 1.0]))
      Array([-0.15420423,  0.        ,  0.84579575], dtype=float32)

    References:
      Hendrycks & Gimpel, Gaussian Error Linear Units (GELUs), arXiv:1606.08415;
      Radford et al., Learning Transferable Visual Models From Natural Language
      Supervision (CLIP), arXiv:2103.00020.
    """
    return _core.apply(_quick_gelu, _core.as_array(x, "quick_gelu"))


register(Entry("quick_gelu", quick_gelu, "elementwise", r"x\,\sigma(1.702\,x)",
               r"\sigma(1.702x)\left(1+1.702x\,\sigma(-1.702x)\right)",
               range=(-0.16361018963635357, _INF), monotonic=False, source="paper",
               reference="Hendrycks & Gimpel 2016, arXiv:1606.08415; CLIP, arXiv:2103.00020"))

# ---- LiSHT and TanhExp -------------------------------------------------------------------


def _lisht_parts(x: Array) -> tuple[Array, Array]:
    t, sech2 = _math.tanh_parts(x)
    xs = jnp.where(jnp.abs(x) < 100.0, x, 0.0)  # sech^2 is 0 beyond: no inf * 0
    return x * t, t + xs * sech2


_lisht = _math.elementwise(_lisht_parts)


def lisht(x: ArrayLike) -> Array:
    r"""LiSHT, the linearly scaled hyperbolic tangent.

    .. math::
        \mathrm{lisht}(x) = x\tanh(x),
        \qquad \mathrm{lisht}'(x) = \tanh(x) + x\,\mathrm{sech}^2(x)

    An even function, so it is not monotonic; :math:`\mathrm{sech}^2` is computed
    from :math:`e^{-2|x|}`, accurate in the tails.

    Args:
      x: input array.

    Returns:
      Same shape and dtype as ``x``, non-negative.

    Examples:
      >>> ja.lisht(jnp.array([-1.0, 0.0, 2.0]))
      Array([0.7615942, 0.       , 1.9280552], dtype=float32)

    References:
      Roy et al., LiSHT: Non-Parametric Linearly Scaled Hyperbolic Tangent Activation
      Function for Neural Networks, arXiv:1901.05894 (also ``tfa.activations.lisht``).
    """
    return _core.apply(_lisht, _core.as_array(x, "lisht"))


register(Entry("lisht", lisht, "elementwise", r"x\tanh(x)",
               r"\tanh(x)+x\,\mathrm{sech}^2(x)", range=(0.0, _INF), monotonic=False,
               source="paper", reference="Roy et al. 2019, arXiv:1901.05894"))


def _tanhexp_parts(x: Array) -> tuple[Array, Array]:
    # Beyond x = 10 tanh(e^x) == 1 and x e^x sech^2(e^x) == 0; below -200 x e^x is 0.
    xc = jnp.clip(x, -_math.far(x), 10.0)
    m, k = _math.exp_split(xc)  # e^x = m k
    t, sech2 = _math.tanh_parts(m)
    low = k < 1.0  # x < -61 (exp_split): e^x < 4e-27, tanh(e^x) = e^x, sech^2 = 1 in float32
    t_m = jnp.where(low, m, t)  # tanh(e^x) / k
    sech2 = jnp.where(low, 1.0, sech2)
    y = (jnp.maximum(x, -_math.far(x)) * t_m) * k
    local, d_local = _near_root(xc, _TANHEXP_ROOT)
    return y, jnp.where(local, d_local, (t_m + (xc * m) * sech2) * k)


_tanhexp = _math.elementwise(_tanhexp_parts, recompute=False)


def tanhexp(x: ArrayLike) -> Array:
    r"""TanhExp.

    .. math::
        \mathrm{tanhexp}(x) = x\tanh(e^x),
        \qquad \mathrm{tanhexp}'(x) = \tanh(e^x) + x\,e^x\,\mathrm{sech}^2(e^x)

    Args:
      x: input array.

    Returns:
      Same shape and dtype as ``x``.

    Examples:
      >>> ja.tanhexp(jnp.array([-1.0, 0.0, 1.0]))
      Array([-0.3521355,  0.       ,  0.9913289], dtype=float32)

    References:
      Liu & Di, TanhExp: A Smooth Activation Function with High Convergence Speed for
      Lightweight Neural Networks, arXiv:2003.09855.
    """
    return _core.apply(_tanhexp, _core.as_array(x, "tanhexp"))


register(Entry("tanhexp", tanhexp, "elementwise", r"x\tanh(e^x)",
               r"\tanh(e^x)+x\,e^x\,\mathrm{sech}^2(e^x)", range=(-0.35328577784821125, _INF),
               monotonic=False, source="paper", reference="Liu & Di 2020, arXiv:2003.09855"))
