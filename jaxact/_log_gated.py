"""Gates built on log(1 + .): Smish, Logish and Serf.

smish = x tanh(log(1 + sigmoid x)), logish = x log(1 + sigmoid x) and serf =
x erf(log(1 + e^x)) are all functions of e = exp(-|x|): written in e they need no log
of a rounded sigmoid, and their negative tails ~ x e^x are carried as m k
(``_math.exp_split``), normal down to x = -92. Around the zero of each derivative, where
its two terms cancel, the derivative is a fitted (x - X0) Q(x - C) (see ``_smooth``).
"""

from __future__ import annotations

import math

import jax.numpy as jnp
from jax import Array, lax
from jax.typing import ArrayLike

from jaxact import _core, _math, _special
from jaxact._registry import Entry, register
from jaxact._smooth import _near_root

_INF = float("inf")
_C_ERF = 2.0 / math.sqrt(math.pi)


# erf(z) = z + z P(z^2) on [0, 1], fitted by tests/reference/fit_literature.py (1.2 ulp).
_ERF = (0.12837916612625122, -0.37612637877464294, 0.11283791065216064,
        -0.026866134256124496, 0.00522378645837307, -0.0008542701252736151,
        0.00011957316746702418, -1.3914008377469145e-05, 1.0601113444863586e-06)


def _erf(z: Array) -> Array:
    """erf(z) for z >= 0 to ~1.5 ulp (XLA's float32 erf is 4 ulp off).

    Above z = 1, erf = 1 - erfc with erfc(z) = 2 e^{-z^2} h(z sqrt 2) from the scaled
    Mills ratio h of ``_special`` (its polynomials on a < 2.5 and in 1/a^2 beyond);
    erfc <= 0.16 there, so its few-ulp error shrinks in the difference.
    """
    if z.dtype == jnp.float64:  # the polynomials are float32's; XLA's float64 erf is fine
        return lax.erf(z)
    near = z < 1.0
    zz = z * z
    small = z + z * _math.polyval(_ERF, jnp.where(near, zz, 0.0))
    a = jnp.clip(z * math.sqrt(2.0), 1.0, 16.0)  # erfc(z) < 1e-100 beyond 16/sqrt2
    h = _special.mills(a)
    return jnp.where(near, small, 1.0 - (2.0 * jnp.exp(-zz)) * h)


# Root fits (x - X0) Q(x - C) of the derivatives: tests/reference/fit_literature.py.
_SMISH_ROOT = ((-2.4, -0.7), (-1.394519329071045, 2.71465410150995e-08), -1.5499999523162842,
               (0.16517579555511475, 0.1039322018623352, 0.005946924909949303,
                -0.014884897507727146, -0.004750313237309456, 0.000875786179676652,
                0.0008596317493356764, 9.589074034010991e-05, -8.470463217236102e-05,
                -2.5752609872142784e-05, 2.785416427286691e-06))
_LOGISH_ROOT = ((-2.3, -0.75), (-1.3724541664123535, 2.938666199270301e-08), -1.524999976158142,
                (0.16696062684059143, 0.10672543942928314, 0.00946748349815607,
                 -0.012539589777588844, -0.0042896876111626625, 0.0005141297006048262,
                 0.0006029882933944464, 7.339600415434688e-05, -4.581276880344376e-05,
                 -1.469484323024517e-05))
_SERF_ROOT = ((-2.4, -0.6), (-1.1930599212646484, -4.766354066987333e-08), -1.5,
              (0.23541469871997833, 0.1977846771478653, 0.05982646718621254,
               -0.004849151708185673, -0.011398249305784702, -0.004576016217470169,
               -0.0005628899089060724, 0.0003487176727503538, 0.00022394359984900802,
               4.1619867261033505e-05, -5.340408279153053e-06))
# serf'(x) itself on [-3.6, -2.4] in x + 3, where its two terms still cancel by half.
_SERF_SHOULDER = (-0.10538270324468613, -0.04505410045385361, 0.008279863744974136,
                  0.012965037487447262, 0.005507573019713163, 0.0013377019204199314,
                  0.0001532938185846433, -3.5095967177767307e-05, -2.3301785404328257e-05)


# ---- Smish, Logish, Serf: gates built on sigmoid and softplus ----------------------------


def _smish_parts(x: Array) -> tuple[Array, Array]:
    # tanh(log(1 + s)) = s (2 + s) / (2 + 2s + s^2), s = sigmoid(x): rational in e.
    xc = jnp.clip(x, -_math.far(x), _math.far(x))
    m, k = _math.exp_split(-jnp.abs(xc))
    e = m * k
    # x >= 0, e = e^-x: gate (3 + 2e)/M, M = 5 + 6e + 2e^2; gate' = 4e(1+e)(2+e)/M^2.
    mpos = 5.0 + e * (6.0 + 2.0 * e)
    g = (3.0 + 2.0 * e) / mpos
    d_pos = g + (xc * e) * (4.0 * (1.0 + e) * (2.0 + e)) / (mpos * mpos)
    # x < 0, e = e^x: gate e (2 + 3e)/M, M = 2 + 6e + 5e^2, and the derivative in one
    # fraction, e ((2 + 3e) M + 4x (1+e)(1+2e)) / M^2, fewer roundings near its zero.
    mn = 2.0 + e * (6.0 + 5.0 * e)
    a = 2.0 + 3.0 * e
    # The gate e a / M rounds ~8 times (4.2 ulp at x = -6.79, 4.4 near -0.37). Below
    # e = 0.6 it is e (1 - c), c = e (3 + 5e) / M < 0.5, the rounded part a damped
    # correction; above, w / (w + 2), w = s (2 + s), s = sigmoid(x) = e / (1 + e) (3.5 ulp
    # at most on either side, every third float of x in [-1.6, 0] checked against float64).
    c = e * (3.0 + 5.0 * e) / mn
    s = e / (1.0 + e)
    w = s * (2.0 + s)
    y_neg = (xc * jnp.where(e < 0.6, m - m * c, w / (w + 2.0))) * k
    d_neg = (m * (a * mn + 4.0 * xc * ((1.0 + e) * (1.0 + 2.0 * e))) / (mn * mn)) * k
    pos = x >= 0
    local, d_local = _near_root(xc, _SMISH_ROOT)
    return jnp.where(pos, x * g, y_neg), jnp.where(pos, d_pos, jnp.where(local, d_local, d_neg))


_smish = _math.elementwise(_smish_parts, recompute=False)


def smish(x: ArrayLike) -> Array:
    r"""Smish.

    .. math::
        \mathrm{smish}(x) = x\tanh(\log(1 + \sigma(x))),
        \qquad \mathrm{smish}'(x) = g(x) + x\,\frac{4(1+\sigma)\,\sigma(x)\sigma(-x)}
        {(2 + 2\sigma + \sigma^2)^2}

    with :math:`g = \tanh(\log(1+\sigma)) = \sigma(2+\sigma)/(2+2\sigma+\sigma^2)`, the
    rational form computed here (no log, no tanh). Tends to :math:`0.6x` as
    :math:`x \to \infty`.

    Args:
      x: input array.

    Returns:
      Same shape and dtype as ``x``.

    Examples:
      >>> ja.smish(jnp.array([-1.0, 0.0, 1.0]))
      Array([-0.2337788,  0.       ,  0.4995701], dtype=float32)

    References:
      Wang et al., Smish: A Novel Activation Function for Deep Learning Methods,
      Electronics 11(4), 540, 2022.
    """
    return _core.apply(_smish, _core.as_array(x, "smish"))


register(Entry("smish", smish, "elementwise", r"x\tanh(\log(1+\sigma(x)))",
               r"g+x\frac{4(1+\sigma)\sigma(x)\sigma(-x)}{(2+2\sigma+\sigma^2)^2}",
               range=(-0.24999366366012948, _INF), monotonic=False, source="paper",
               reference="Wang et al. 2022, Electronics 11(4):540"))


def _sigmoid_tail(x: Array) -> tuple[Array, ...]:
    """``(xc, e, m, k, s_m, k_s)``: x clipped, e^{-|x|} = e = m k, sigmoid(x) = s_m k_s."""
    xc = jnp.clip(x, -_math.far(x), _math.far(x))
    m, k = _math.exp_split(-jnp.abs(xc))
    r = 1.0 / (1.0 + m * k)
    pos = x >= 0
    # k_s = k where x < 0, else 1, as one select on x: XLA's CPU backend writes out a
    # select of selects that many operations read (serf ran as two loops).
    k_s = _math.tail_scale(xc)
    return xc, m * k, m, k, jnp.where(pos, r, m * r), k_s


# atanh(w) = w + w^3 A(w^2) on [0, 1/3] (tests/reference/fit_literature.py, 0.6 ulp).
_ATANH = (0.3333333432674408, 0.19999998807907104, 0.14285804331302643, 0.11107870936393738,
          0.09153074771165848, 0.07046710699796677, 0.10007612407207489)


def _logish_parts(x: Array) -> tuple[Array, Array]:
    xc, e, m, _, _, k_s = _sigmoid_tail(x)
    pos = x >= 0
    # log(1 + sigmoid(x)) = log(A/B) = 2 atanh((A - B)/(A + B)) with A/B = (2 + e)/(1 + e)
    # for x >= 0 (e = e^-x) and (1 + 2e)/(1 + e) for x < 0 (e = e^x): w = 1/(3 + 2e) or
    # e/(2 + 3e) <= 1/3, and a short series; log1p of a rounded sigmoid costs 4 ulp.
    # For x < 0 the value is carried as lg k_s (e = m k_s).
    w_m = jnp.where(pos, 1.0 / (3.0 + 2.0 * e), m / (2.0 + 3.0 * e))
    w = w_m * k_s
    if x.dtype == jnp.float64:  # the series is float32's
        lg = 2.0 * jnp.where(k_s == 1.0, jnp.arctanh(w), w_m)
    else:
        lg = 2.0 * (w_m + w_m * (w * w * _math.polyval(_ATANH, w * w)))
    y = (jnp.maximum(x, -_math.far(x)) * lg) * k_s
    # x s(x) s(-x) / (1 + s(x)) = x e / ((1 + e)(2 + e)) for x >= 0 and
    # x e / ((1 + e)(1 + 2e)) for x < 0: one division, no sigmoid products.
    slope = (xc * jnp.where(pos, e, m)) / ((1.0 + e) * jnp.where(pos, 2.0 + e, 1.0 + 2.0 * e))
    local, d_local = _near_root(xc, _LOGISH_ROOT)
    return y, jnp.where(local, d_local, (lg + slope) * k_s)


_logish = _math.elementwise(_logish_parts, recompute=False)


def logish(x: ArrayLike) -> Array:
    r"""Logish.

    .. math::
        \mathrm{logish}(x) = x\log(1 + \sigma(x)),
        \qquad \mathrm{logish}'(x) = \log(1 + \sigma(x))
        + \frac{x\,\sigma(x)\,\sigma(-x)}{1 + \sigma(x)}

    Tends to :math:`x\log 2` as :math:`x \to \infty` and to :math:`x e^x` as
    :math:`x \to -\infty`.

    Args:
      x: input array.

    Returns:
      Same shape and dtype as ``x``.

    Examples:
      >>> ja.logish(jnp.array([-1.0, 0.0, 1.0]))
      Array([-0.23818304,  0.        ,  0.5487331 ], dtype=float32)

    References:
      Zhu et al., Logish: A New Nonlinear Nonmonotonic Activation Function for
      Convolutional Neural Network, Neurocomputing 458, 2021.
    """
    return _core.apply(_logish, _core.as_array(x, "logish"))


register(Entry("logish", logish, "elementwise", r"x\log(1+\sigma(x))",
               r"\log(1+\sigma(x))+\frac{x\sigma(x)\sigma(-x)}{1+\sigma(x)}",
               range=(-0.25276881678944035, _INF), monotonic=False, source="paper",
               reference="Zhu et al. 2021, Neurocomputing 458:490-499"))


def _serf_parts(x: Array) -> tuple[Array, Array]:
    xc, e, m, _, s_m, k_s = _sigmoid_tail(x)
    # softplus(x) = sp k_s; for x < -61 it is e = m k to float32 precision.
    lg = _math.log1p(e)
    pos = x >= 0
    sp = jnp.where(pos, xc + lg, jnp.where(k_s == 1.0, lg, m))
    # erf(softplus) / k_s: erf(z) = (2/sqrt(pi)) z for z < 2e-28.
    erf_m = jnp.where(k_s == 1.0, _erf(sp), _C_ERF * m)
    gauss = jnp.exp(-jnp.square(sp * k_s))
    y = (jnp.maximum(x, -_math.far(x)) * erf_m) * k_s
    local, d_local = _near_root(xc, _SERF_ROOT)
    shoulder = (xc >= -3.6) & (xc < -2.4) & (x.dtype != jnp.float64)  # a float32 fit
    d = jnp.where(shoulder, _math.polyval(_SERF_SHOULDER, xc + 3.0),
                  (erf_m + xc * (_C_ERF * gauss) * s_m) * k_s)
    return y, jnp.where(local, d_local, d)


_serf = _math.elementwise(_serf_parts)


def serf(x: ArrayLike) -> Array:
    r"""Serf, the "log-softplus error" activation.

    .. math::
        \mathrm{serf}(x) = x\,\mathrm{erf}(\mathrm{softplus}(x)),
        \qquad \mathrm{serf}'(x) = \mathrm{erf}(s) + \frac{2x}{\sqrt\pi}\,e^{-s^2}\sigma(x),
        \quad s = \mathrm{softplus}(x)

    ``erf`` is jaxact's own (XLA's float32 ``erf`` is 4 ulp off), and the tail
    :math:`\frac{2}{\sqrt\pi}x e^x` stays normal down to :math:`x = -92`.

    Args:
      x: input array.

    Returns:
      Same shape and dtype as ``x``.

    Examples:
      >>> ja.serf(jnp.array([-1.0, 0.0, 1.0]))
      Array([-0.34224793,  0.        ,  0.9367219 ], dtype=float32)

    References:
      Nag & Bhattacharyya, SERF: Towards better training of deep neural networks using
      log-Softplus ERror activation Function, arXiv:2108.09598.
    """
    return _core.apply(_serf, _core.as_array(x, "serf"))


register(Entry("serf", serf, "elementwise", r"x\,\mathrm{erf}(\mathrm{softplus}(x))",
               r"\mathrm{erf}(s)+\frac{2x}{\sqrt\pi}e^{-s^2}\sigma(x)",
               range=(-0.3484374587596064, _INF), monotonic=False, source="paper",
               reference="Nag & Bhattacharyya 2021, arXiv:2108.09598"))
