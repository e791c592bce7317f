r"""The gated linear unit family: glu, reglu, geglu, swiglu and bilinear.

Each computes :math:`a \odot g(b)` from the two halves ``[a, b]`` of ``x`` along an
axis, or from a value ``x`` and a separate ``gate``. The product is a ``custom_jvp``
in ``(a, b)`` whose partials, :math:`g(b)` and :math:`a\,g'(b)`, are the only values
saved for the backward pass: two half-size arrays, one full-size residual in all
(autodiff of ``a * jax.nn.gelu(b)`` saves several). The gates are jaxact's accurate
elementwise kernels, returned as mantissas and scales in their negative tails: ``a``
multiplies the mantissa first, so ``a g(b)`` is kept wherever it is a normal float32,
even where ``g(b)`` alone is subnormal (e.g. glu(1e30, gate=-150) = 7.2e-36).
"""

from __future__ import annotations

from collections.abc import Callable

import jax
import jax.numpy as jnp
from jax import Array
from jax.typing import ArrayLike

from jaxact import _core, _expm1, _math, _special
from jaxact._registry import Entry, Param, register

Gate = Callable[[Array], tuple[Array, Array, ArrayLike, ArrayLike]]
_SHAZEER = "Shazeer 2020, GLU Variants Improve Transformer, arXiv:2002.05202"


def _product(gate: Gate) -> jax.custom_jvp:
    """``(a, b) -> a * g(b)`` with partials ``g(b)`` and ``a g'(b)``.

    ``gate(b)`` returns ``(v, d, k1, k2)`` with ``g = (v k1) k2`` and ``g' = (d k1) k2``:
    ``a`` multiplies the mantissas before the scales, so ``a g(b)`` stays normal where
    ``g(b)`` alone is subnormal (flushed to 0 by XLA) and ``|a|`` is large.
    """

    def parts(a: Array, b: Array) -> tuple[Array, Array, Array]:
        v, d, k1, k2 = gate(b)
        return ((a * v) * k1) * k2, (v * k1) * k2, ((a * d) * k1) * k2

    return _math.elementwise(parts)


def _relu_gate(b: Array) -> tuple[Array, Array, float, float]:
    return jnp.maximum(b, 0.0), jnp.where(b > 0, 1.0, 0.0), 1.0, 1.0  # relu'(0) = 0, as relu


def _bilinear_parts(a: Array, b: Array) -> tuple[Array, Array, Array]:
    return a * b, b, a


def _sigmoid_gates(b: Array) -> tuple[Array, Array, Array, Array, Array, Array]:
    """``(sv, s, d, k1, k2, neg)``: sigmoid(b) = (s k1) k2 where b < 0 (s alone elsewhere)
    and sigmoid'(b) = (d k1) k2, with s, d <= e^-6 wherever a scale is below 1; ``sv``
    is ``s`` again, computed for the value.

    The partials come from q = sigmoid(-|b|) / (k1 k2) alone, sigmoid(|b|) = 1 - q k1 k2
    (within an ulp: q <= 1/2): XLA then writes q out once in a VJP and both halves of
    the gradient read it. With e^-|b| and 1 / (1 + e^-|b|), as the value uses (one
    loop for the forward pass), it wrote out both: GLU's VJP took 1.27-1.34x jax.nn's
    time on a CPU, 0.99-1.18x since.
    """
    m, k1, k2 = _math.exp_split_deep(-jnp.abs(b))
    sv, _, _ = _math.sigmoid_scaled(b, m, k1 * k2)  # k1 k2 may flush: only 1 + e^-|b| uses it
    q = m / (1.0 + m * (k1 * k2))
    r = 1.0 - (q * k1) * k2
    neg = b < 0
    return sv, jnp.where(neg, q, r), q * r, k1, k2, neg


def _glu_value(a: Array, b: Array) -> Array:
    """``a sigmoid(b) = (a/2) / ((1 + e^-b)/2)``, one hand-reduced exponential.

    Below b = -88, where ``(1 + e^-b)/2`` overflows, the denominator is ``e^-b / 2^127``
    (the 1 is below its rounding) and ``a`` is scaled by ``2^-63`` before the division
    and ``2^-64`` after: normal to b = -176.1, where a product with the largest float32
    turns subnormal, and ``2^-63 a`` is subnormal only where the product is.
    """
    bits, q = _expm1.exp2_bits(jnp.clip(-0.5 * b, -9.0, 88.05))  # e^-b = 2^n q
    deep = b < -88.0
    den = jnp.where(deep, _expm1.pow2(bits, 127) * q, _expm1.pow2(bits, 1) * q + 0.5)
    v = (a * jnp.where(deep, 2.0**-63, 0.5)) / den
    # 0 at b = -inf, so that an infinite a meets 0 there (NaN, as inf * sigmoid(-inf))
    return v * jnp.where(deep, jnp.where(b == -jnp.inf, 0.0, 2.0**-64), 1.0)


def _glu_parts(a: Array, b: Array) -> tuple[Array, Array, Array]:
    if b.dtype == jnp.float64:  # the reduction is float32's
        sv, s, d, k1, k2, neg = _sigmoid_gates(b)
        v1, v2 = jnp.where(neg, k1, 1.0), jnp.where(neg, k2, 1.0)
        return ((a * sv) * v1) * v2, (s * v1) * v2, ((a * d) * k1) * k2
    # Partials from e^|b| = 2^n q (one reduction): sigmoid(b) = (e^|b|/2 or 1/2) / d1,
    # d1 = (1 + e^|b|)/2, and a sigmoid'(b) = (a/2) / d1 * sigmoid(|b|), which beyond
    # |b| = 64 is a e^-|b| (sigmoid(|b|) = 1), scaled as the value's deep tail (not a
    # _product gate: sigmoid' is small on both sides of 0).
    bits, q = _expm1.exp2_bits(0.5 * jnp.minimum(jnp.abs(b), 176.1))
    half_e = _expm1.pow2(bits, 1) * q  # finite to |b| = 88.7
    d1 = half_e + 0.5
    pos = b >= 0
    da = jnp.where(jnp.abs(b) > 88.5, jnp.where(pos, 1.0, 0.0),
                   jnp.where(pos, half_e, 0.5) / d1)
    deep = jnp.abs(b) > 64.0
    v = (a * jnp.where(deep, 2.0**-63, 0.5)) / jnp.where(deep, _expm1.pow2(bits, 127) * q, d1)
    db = v * jnp.where(deep, jnp.where(jnp.isinf(b), 0.0, 2.0**-64), half_e / d1)
    return _glu_value(a, b), da, db


def _swiglu_parts(a: Array, b: Array) -> tuple[Array, Array, Array]:
    # a silu(b) = a b sigmoid(b), silu'(b) = sigmoid(b) + b sigmoid'(b); |b| d <= 0.5
    # where scaled. An infinite b is replaced where it multiplies (b = -inf: -inf * 0).
    sv, s, d, k1, k2, neg = _sigmoid_gates(b)
    v1, v2 = jnp.where(neg, k1, 1.0), jnp.where(neg, k2, 1.0)
    bf = jnp.where(jnp.isfinite(b), b, 0.0)
    bn = jnp.where(neg, bf, b)
    bd = bf * d
    dg = jnp.where(neg, s + bd, s + (bd * k1) * k2)
    return ((a * (bn * sv)) * v1) * v2, ((bn * s) * v1) * v2, ((a * dg) * v1) * v2


_GLU = _math.elementwise(_glu_parts)
_REGLU = _product(_relu_gate)
_GEGLU_TANH = _product(_special.gelu_tanh_scaled)
_GEGLU_ERF = _product(_special.gelu_erf_scaled)
_SWIGLU = _math.elementwise(_swiglu_parts)
_BILINEAR = _math.elementwise(_bilinear_parts)


def _halves(x: Array, *, axis: int, op: jax.custom_jvp) -> Array:
    a, b = jnp.split(x, 2, axis=axis)
    return op(a, b)


def _gated(fn: str, op: jax.custom_jvp, x: ArrayLike, gate: ArrayLike | None, axis: int) -> Array:
    """Validates the arguments and applies ``op`` to the halves of ``x`` or to (x, gate)."""
    if isinstance(axis, bool) or not isinstance(axis, int):
        raise TypeError(f"{fn}: axis must be an int, got {type(axis).__name__}")
    arr = _core.as_array(x, fn)
    if gate is not None:
        g = _core.as_array(gate, fn, "gate")
        if g.shape != arr.shape:
            raise ValueError(f"{fn}: gate must have x's shape {arr.shape}, got {g.shape}")
        dtype = jnp.result_type(arr, g)
        return _core.apply(op, arr.astype(dtype), g.astype(dtype))
    (ax,) = _core.normalize_axis(axis, arr.ndim, fn)
    if arr.shape[ax] % 2:
        raise ValueError(f"{fn}: axis {axis} has odd size {arr.shape[ax]}; it must be even "
                         "(or pass the gate separately)")
    return _core.apply(_halves, arr, axis=ax, op=op)


def glu(x: ArrayLike, axis: int = -1, *, gate: ArrayLike | None = None) -> Array:
    r"""Gated linear unit: the first half of ``x`` gated by the sigmoid of the second.

    .. math::
        \mathrm{glu}(x) = a \odot \sigma(b), \qquad [a, b] = x \text{ split along } \texttt{axis},
        \qquad \partial_a = \sigma(b), \quad \partial_b = a\,\sigma(b)\,\sigma(-b)

    Same signature as ``jax.nn.glu`` (``axis`` is positional); the separate gate is
    keyword-only here.

    Args:
      x: input array whose ``axis`` has even size, or with ``gate`` the value :math:`a`.
      gate: optional gate :math:`b`, of ``x``'s shape: nothing is split then.
      axis: the axis split into :math:`[a, b]` (static int, default -1); unused with
        ``gate``.

    Returns:
      ``x``'s dtype (promoted with ``gate``'s), ``axis`` halved; ``x``'s shape with
      ``gate``.

    Raises:
      ValueError: if ``axis`` has odd size or is out of range, or ``gate``'s shape
        differs from ``x``'s.

    Examples:
      >>> ja.glu(jnp.array([[1.0, 2.0, 0.0, 100.0]]))
      Array([[0.5, 2. ]], dtype=float32)
      >>> ja.glu(jnp.array([3.0]), gate=jnp.array([0.0]))
      Array([1.5], dtype=float32)

    References:
      Dauphin et al., Language Modeling with Gated Convolutional Networks, arXiv:1612.08083.
    """
    return _gated("glu", _GLU, x, gate, axis)


def reglu(x: ArrayLike, gate: ArrayLike | None = None, *, axis: int = -1) -> Array:
    r"""ReGLU: a ReLU-gated linear unit.

    .. math::
        \mathrm{reglu}(x) = a \odot \max(b, 0),
        \qquad \partial_a = \max(b, 0), \quad \partial_b = a\,[b > 0]

    Convention: :math:`\partial_b = 0` at :math:`b = 0`, as :func:`relu`.

    Args:
      x: input array whose ``axis`` has even size, or with ``gate`` the value :math:`a`.
      gate: optional gate :math:`b`, of ``x``'s shape: nothing is split then.
      axis: the axis split into :math:`[a, b]` (static int, default -1); unused with
        ``gate``.

    Returns:
      ``x``'s dtype (promoted with ``gate``'s), ``axis`` halved; ``x``'s shape with
      ``gate``.

    Raises:
      ValueError: if ``axis`` has odd size or is out of range, or ``gate``'s shape
        differs from ``x``'s.

    Examples:
      >>> ja.reglu(jnp.array([2.0, 3.0, -1.0, 0.5]))
      Array([0. , 1.5], dtype=float32)

    References:
      Shazeer, GLU Variants Improve Transformer, arXiv:2002.05202.
    """
    return _gated("reglu", _REGLU, x, gate, axis)


def geglu(x: ArrayLike, gate: ArrayLike | None = None, *, axis: int = -1,
          approximate: bool = True) -> Array:
    r"""GEGLU: a GELU-gated linear unit.

    .. math::
        \mathrm{geglu}(x) = a \odot \mathrm{gelu}(b),
        \qquad \partial_a = \mathrm{gelu}(b), \quad \partial_b = a\,\mathrm{gelu}'(b)

    The gate is jaxact's :func:`gelu` kernel (a few ulp over the whole float32 range,
    also in the negative tail), in its tanh or exact form.

    Args:
      x: input array whose ``axis`` has even size, or with ``gate`` the value :math:`a`.
      gate: optional gate :math:`b`, of ``x``'s shape: nothing is split then.
      axis: the axis split into :math:`[a, b]` (static int, default -1); unused with
        ``gate``.
      approximate: tanh form of the GELU gate (static bool, default True, as
        :func:`gelu`); False for the exact erf form.

    Returns:
      ``x``'s dtype (promoted with ``gate``'s), ``axis`` halved; ``x``'s shape with
      ``gate``.

    Raises:
      ValueError: if ``axis`` has odd size or is out of range, or ``gate``'s shape
        differs from ``x``'s.

    Examples:
      >>> ja.geglu(jnp.array([2.0, 2.0, 1.0, -1.0]))
      Array([ 1.682384 , -0.31761605], dtype=float32)
      >>> ja.geglu(jnp.array([2.0, 2.0, 1.0, -1.0]), approximate=False)
      Array([ 1.6826894, -0.3173105], dtype=float32)

    References:
      Shazeer, GLU Variants Improve Transformer, arXiv:2002.05202.
    """
    if not isinstance(approximate, bool):
        raise TypeError(f"geglu: approximate must be a bool, got {type(approximate).__name__}")
    return _gated("geglu", _GEGLU_TANH if approximate else _GEGLU_ERF, x, gate, axis)


def swiglu(x: ArrayLike, gate: ArrayLike | None = None, *, axis: int = -1) -> Array:
    r"""SwiGLU: a SiLU (swish) gated linear unit, as in PaLM and LLaMA.

    .. math::
        \mathrm{swiglu}(x) = a \odot \mathrm{silu}(b) = a \odot b\,\sigma(b),
        \qquad \partial_a = \mathrm{silu}(b),
        \quad \partial_b = a\,\sigma(b)\,(1 + b\,\sigma(-b))

    Args:
      x: input array whose ``axis`` has even size, or with ``gate`` the value :math:`a`.
      gate: optional gate :math:`b`, of ``x``'s shape: nothing is split then.
      axis: the axis split into :math:`[a, b]` (static int, default -1); unused with
        ``gate``.

    Returns:
      ``x``'s dtype (promoted with ``gate``'s), ``axis`` halved; ``x``'s shape with
      ``gate``.

    Raises:
      ValueError: if ``axis`` has odd size or is out of range, or ``gate``'s shape
        differs from ``x``'s.

    Examples:
      >>> ja.swiglu(jnp.array([2.0, 3.0, 1.0, -1.0]))
      Array([ 1.4621172, -0.8068243], dtype=float32)
      >>> ja.swiglu(jnp.array([2.0]), jnp.array([1.0]))  # value, gate
      Array([1.4621172], dtype=float32)

    References:
      Shazeer, GLU Variants Improve Transformer, arXiv:2002.05202.
    """
    return _gated("swiglu", _SWIGLU, x, gate, axis)


def bilinear(x: ArrayLike, gate: ArrayLike | None = None, *, axis: int = -1) -> Array:
    r"""Bilinear unit: the product of the two halves, a GLU without a nonlinearity.

    .. math::
        \mathrm{bilinear}(x) = a \odot b, \qquad \partial_a = b, \quad \partial_b = a

    Args:
      x: input array whose ``axis`` has even size, or with ``gate`` the value :math:`a`.
      gate: optional gate :math:`b`, of ``x``'s shape: nothing is split then.
      axis: the axis split into :math:`[a, b]` (static int, default -1); unused with
        ``gate``.

    Returns:
      ``x``'s dtype (promoted with ``gate``'s), ``axis`` halved; ``x``'s shape with
      ``gate``.

    Raises:
      ValueError: if ``axis`` has odd size or is out of range, or ``gate``'s shape
        differs from ``x``'s.

    Examples:
      >>> ja.bilinear(jnp.array([2.0, 3.0, 0.5, -1.0]))
      Array([ 1., -3.], dtype=float32)

    References:
      Shazeer, GLU Variants Improve Transformer, arXiv:2002.05202; Dauphin et al.,
      arXiv:1612.08083.
    """
    return _gated("bilinear", _BILINEAR, x, gate, axis)


_AXIS = Param("axis", -1, "axis split in two halves")
_GATE = Param("gate", None, "separate gate input (then x is the value)")
register(Entry("glu", glu, "gated", r"a\odot\sigma(b)", r"(\sigma(b),\ a\,\sigma'(b))",
               params=(_AXIS, _GATE), monotonic=False,
               reference="Dauphin et al. 2016, arXiv:1612.08083"))
register(Entry("reglu", reglu, "gated", r"a\odot\max(b,0)", r"(\max(b,0),\ a\,[b>0])",
               params=(_GATE, _AXIS), monotonic=False, smooth=False, source="paper",
               reference=_SHAZEER))
register(Entry("geglu", geglu, "gated", r"a\odot\mathrm{gelu}(b)",
               r"(\mathrm{gelu}(b),\ a\,\mathrm{gelu}'(b))",
               params=(_GATE, _AXIS, Param("approximate", True, "tanh GELU (static)")),
               monotonic=False, source="paper", reference=_SHAZEER))
register(Entry("swiglu", swiglu, "gated", r"a\odot b\,\sigma(b)",
               r"(b\,\sigma(b),\ a\,\sigma(b)(1+b\,\sigma(-b)))",
               params=(_GATE, _AXIS), monotonic=False, source="paper", reference=_SHAZEER))
register(Entry("bilinear", bilinear, "gated", r"a\odot b", r"(b,\ a)", params=(_GATE, _AXIS),
               monotonic=False, source="paper", reference=_SHAZEER))
