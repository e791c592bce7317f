"""ErfAct and Pserf: x erf(z) with a learnable gate argument z (Biswas et al. 2021).

XLA's float32 erf is 3 to 5 ulp off; here erf(z) is the series ``z P(z^2)`` below
z = 1 (relative accuracy for the tiny gates of the negative tail) and ``1 - erfc(z)``
above, with erfc from jaxact's scaled-erfc polynomials (jaxact/_special.py) and
``exp(-z^2)`` from the exact square. In the tail the gate ``z ~ e^{beta x}`` is kept as
``z_m * k`` (``_math.exp_split``), so ``x erf(z)`` stays normal where ``z`` is not.
"""

from __future__ import annotations

import math

import jax.numpy as jnp
from jax import Array
from jax.typing import ArrayLike

from jaxact import _core, _math, _special
from jaxact._learnable import _tp, opaque
from jaxact._registry import Entry, Param, register

_C = 2.0 / math.sqrt(math.pi)
# erf(z)/z = sum_n (-1)^n (2/sqrt pi) z^2n / (n! (2n+1)), on z < 1 (14 terms: 2^-40).
_ERF = tuple(_C * (-1) ** n / (math.factorial(n) * (2 * n + 1)) for n in range(14))


def _erf(za: Array) -> tuple[Array, Array, Array]:
    """For ``za >= 0`` (inf allowed): ``(erf(za)/za if za < 1 else erf(za), e^{-za^2}, za < 1)``."""
    z = jnp.minimum(za, 12.0)  # erf(12) = 1 and e^-144 = 0 in float32
    small = z < 1.0
    zs = jnp.where(small, z, 0.0)
    over = _math.polyval(_ERF, zs * zs)
    p, pe = _tp(z, z)
    g = jnp.exp(-p) * (1.0 - pe)  # e^{-z^2} from the exact square
    # erfc(z) = 2 h(a) e^{-z^2}, a = sqrt2 z: h = erfcx(a/sqrt2)/2 from _special's fits.
    a = jnp.where(small, _special._A1, z * math.sqrt(2.0))
    near = a < _special._A1
    h = jnp.where(near, _special._horner(_special._H, a - _special._Y0),
                  _special._horner(_special._N, 1.0 / (a * a)) / a)
    return jnp.where(small, over, 1.0 - 2.0 * (h * g)), g, small


def _gate(x: Array, zm: Array, k: Array, xdz: Array) -> tuple[Array, Array, Array]:
    """``x erf(z)`` and its derivative ``erf(z) + (2/sqrt pi) x z' e^{-z^2}`` for a gate
    ``z = zm * k`` (signed), given ``xdz = x z' / k``; also ``e^{-z^2}``.

    In the series branch (|z| < 1, where erf(z) = z E(|z|)) everything is formed at the
    scale of ``zm`` and multiplied by ``k`` last, so tiny gates keep their products normal.
    """
    ef, g, small = _erf(jnp.abs(zm) * k)
    sgn = jnp.sign(zm)
    y = jnp.where(small, ((x * zm) * ef) * k, x * (ef * sgn))
    cg = _C * g
    dy = jnp.where(small, (zm * ef + xdz * cg) * k, ef * sgn + (xdz * k) * cg)
    return y, dy, g


def _erfact_parts(x: Array, alpha: Array, beta: Array) -> tuple[Array, ...]:
    alpha, beta = opaque(alpha, beta)
    v, vl = _tp(beta, x)
    v = jnp.where(beta == 0, 0.0, v)  # beta = 0: z = alpha for every x, +-inf included
    m, k = _math.exp_split(v)  # e^{beta x} = m k (1 + vl), m normal down to v = -151
    m = m * (1.0 + jnp.clip(vl, -0.5, 0.5))
    zm = alpha * m
    # z = 0 (alpha = 0, or the gate underflowed): f = 0, and x must not meet 0 * inf.
    xs = jnp.where(zm == 0, 0.0, x)
    big = jnp.abs(zm) * k > 12.0  # e^{-z^2} = 0: terms x z e^{-z^2} vanish (no inf * 0)
    xz = jnp.where(big, 0.0, xs * zm)  # x z / k; z' = beta z
    y, dy, g = _gate(xs, zm, k, beta * xz)
    d_alpha = jnp.where(big, 0.0, ((xs * m) * (_C * g)) * k)  # (2/sqrt pi) x e^{beta x} e^{-z^2}
    d_beta = jnp.where(big, 0.0, ((xs * xz) * (_C * g)) * k)  # (2/sqrt pi) x^2 z e^{-z^2}
    return y, dy, d_alpha, d_beta


_erfact = _math.elementwise(_erfact_parts)


def erfact(x: ArrayLike, *, alpha: ArrayLike = 0.75, beta: ArrayLike = 0.75) -> Array:
    r"""ErfAct, :math:`x\,\mathrm{erf}(lpha e^{eta x})`: a smooth, non-monotonic gate.

    .. math::
        \mathrm{erfact}(x) = x\,\mathrm{erf}(z),\quad z = lpha e^{eta x},
        \qquad \mathrm{erfact}'(x) = \mathrm{erf}(z) + 	frac{2}{\sqrt\pi}\,eta x z\,e^{-z^2}

    with :math:`\partial_lpha = 	frac{2}{\sqrt\pi} x e^{eta x} e^{-z^2}` and
    :math:`\partial_eta = 	frac{2}{\sqrt\pi} x^2 z e^{-z^2}`. The negative tail
    :math:`pprox 	frac{2}{\sqrt\pi}lpha x e^{eta x}` keeps its relative accuracy
    down to the subnormal range. Defaults: the paper's initial values
    :math:`lpha = eta = 0.75`.

    Args:
      x: input array.
      alpha: :math:`lpha` (scalar or array broadcastable to ``x``); differentiable.
      beta: :math:`eta` (scalar or array broadcastable to ``x``); differentiable.

    Returns:
      Same shape and dtype as ``x``.

    Examples:
      >>> ja.erfact(jnp.array([-2.0, 0.0, 2.0]))
      Array([-0.37448278,  0.        ,  1.9999881 ], dtype=float32)

    References:
      Biswas, Banerjee & Pandey, ErfAct and Pserf: Non-monotonic Smooth Trainable
      Activation Functions, arXiv:2109.04386.
    """
    arr = _core.as_array(x, "erfact")
    _core.as_param(alpha, "erfact", "alpha")
    _core.as_param(beta, "erfact", "beta")
    return _core.apply(_erfact, arr, alpha, beta)


register(Entry("erfact", erfact, "elementwise", r"x\,\mathrm{erf}(lpha e^{eta x})",
               r"\mathrm{erf}(z)+	frac{2}{\sqrt\pi}eta x z e^{-z^2},\ z=lpha e^{eta x}",
               params=(Param("alpha", 0.75, "gate scale; differentiable"),
                       Param("beta", 0.75, "gate rate; differentiable")),
               monotonic=False, source="paper",
               reference="Biswas et al. 2021, arXiv:2109.04386"))


def _pserf_parts(x: Array, gamma: Array, delta: Array) -> tuple[Array, ...]:
    gamma, delta = opaque(gamma, delta)
    v, vl = _tp(delta, x)
    v = jnp.where(delta == 0, 0.0, v)
    m, k = _math.exp_split(-jnp.abs(v))  # e^{-|v|} = m k, with the low part of v
    m = m * (1.0 - jnp.sign(v) * jnp.clip(vl, -0.5, 0.5))
    neg = v < 0
    r = 1.0 / (1.0 + m * k)
    # softplus(v) and sigmoid(v) at the scale ks (k for v < -64, else 1): for v < 0 they
    # are log1p(e) (= e where k < 1) and e r; for v >= 0, v + log1p(e) and r.
    ks = jnp.where(neg, k, 1.0)
    vp = jnp.where(neg, 0.0, v)
    sp_m = jnp.where(neg, jnp.where(k < 1.0, m, jnp.log1p(m)), vp + (vl + jnp.log1p(m * k)))
    sig_m = jnp.where(neg, m * r, r)
    zm = gamma * sp_m
    xs = jnp.where(zm == 0, 0.0, x)
    big = jnp.abs(zm) * ks > 12.0
    xsig = jnp.where(big, 0.0, xs * sig_m)  # x sigmoid(v) / ks; z' = gamma delta sigmoid
    y, dy, g = _gate(xs, zm, ks, (gamma * delta) * xsig)
    d_gamma = jnp.where(big, 0.0, ((xs * sp_m) * (_C * g)) * ks)
    d_delta = jnp.where(big, 0.0, ((xs * xsig) * ((_C * gamma) * g)) * ks)
    return y, dy, d_gamma, d_delta


_pserf = _math.elementwise(_pserf_parts)


def pserf(x: ArrayLike, *, gamma: ArrayLike = 1.25, delta: ArrayLike = 0.85) -> Array:
    r"""Pserf, :math:`x\,\mathrm{erf}(\gamma\,\mathrm{softplus}(\delta x))`: a learnable Serf.

    .. math::
        \mathrm{pserf}(x) = x\,\mathrm{erf}(z),\quad z = \gamma \log(1 + e^{\delta x}),
        \qquad \mathrm{pserf}'(x) = \mathrm{erf}(z)
          + 	frac{2}{\sqrt\pi}\,\gamma\delta\,x\,\sigma(\delta x)\,e^{-z^2}

    with :math:`\partial_\gamma = 	frac{2}{\sqrt\pi} x\,\mathrm{softplus}(\delta x)\,e^{-z^2}`
    and :math:`\partial_\delta = 	frac{2}{\sqrt\pi}\gamma x^2 \sigma(\delta x) e^{-z^2}`.
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
      Array([-0.4233935,  0.       ,  1.9999968], dtype=float32)

    References:
      Biswas, Banerjee & Pandey, ErfAct and Pserf: Non-monotonic Smooth Trainable
      Activation Functions, arXiv:2109.04386.
    """
    arr = _core.as_array(x, "pserf")
    _core.as_param(gamma, "pserf", "gamma")
    _core.as_param(delta, "pserf", "delta")
    return _core.apply(_pserf, arr, gamma, delta)


register(Entry("pserf", pserf, "elementwise", r"x\,\mathrm{erf}(\gamma\,\mathrm{softplus}(\delta x))",
               r"\mathrm{erf}(z)+	frac{2}{\sqrt\pi}\gamma\delta x\sigma(\delta x)e^{-z^2}",
               params=(Param("gamma", 1.25, "gate scale; differentiable"),
                       Param("delta", 0.85, "softplus rate; differentiable")),
               monotonic=False, source="paper",
               reference="Biswas et al. 2021, arXiv:2109.04386"))
