r"""The gated linear unit family: glu, reglu, geglu, swiglu and bilinear.

Each computes :math:`a \odot g(b)` from the two halves ``[a, b]`` of ``x`` along an
axis, or from a value ``x`` and a separate ``gate``. The product is a ``custom_jvp``
in ``(a, b)`` whose partials, :math:`g(b)` and :math:`a\,g'(b)`, are the only values
saved for the backward pass: two half-size arrays, one full-size residual in all
(autodiff of ``a * jax.nn.gelu(b)`` saves several). The gates are jaxact's accurate
elementwise kernels, returned as mantissas and scales in their negative tails: ``a``
multiplies the mantissa first, so ``a g(b)`` is kept wherever it is a normal float32,
even where ``g(b)`` alone is subnormal (e.g. glu(1e30, gate=-150) = 7.2e-36). glu and
swiglu (float32) build theirs on one hand-reduced exponential (``_expm1.exp2_bits``),
whose exact powers of 2 give the scales directly.
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
    is ``s`` again, computed for the value. On XLA's exp: the float64 glu and swiglu
    (float32 has the hand-reduced exponential below).
    """
    m, k1, k2 = _math.exp_split_deep(-jnp.abs(b))
    sv, _, _ = _math.sigmoid_scaled(b, m, k1 * k2)  # k1 k2 may flush: only 1 + e^-|b| uses it
    q = m / (1.0 + m * (k1 * k2))
    r = 1.0 - (q * k1) * k2
    neg = b < 0
    return sv, jnp.where(neg, q, r), q * r, k1, k2, neg


def _down(b: Array, shift: int, limit: float) -> tuple[Array, Array]:
    """``(den, deep)``: ``den = (1 + e^-b) / 2``, or ``e^-b / 2^shift`` below b = -88
    (``deep``), where the first overflows and the 1 is below its rounding. One
    hand-reduced exponential, clipped at b = -limit (beyond it every product with a
    float32 is subnormal) and at b = 18 (sigmoid rounds to 1)."""
    bits, q = _expm1.exp2_bits(jnp.clip(-0.5 * b, -9.0, 0.5 * limit))  # e^-b = 2^n q
    deep = b < -88.0
    den = jnp.where(deep, _expm1.pow2(bits, shift) * q, _expm1.pow2(bits, 1) * q + 0.5)
    return den, deep


def _up(b: Array, limit: float) -> tuple[Array, Array, Array, Array]:
    """``(bits, q, half_e, d1)`` with ``e^|b| = 2^n q`` (``bits`` for ``_expm1.pow2``,
    |b| clipped at ``limit``), ``half_e = e^|b| / 2`` and ``d1 = (1 + e^|b|) / 2``, both
    finite to |b| = 88.5."""
    bits, q = _expm1.exp2_bits(0.5 * jnp.minimum(jnp.abs(b), limit))
    half_e = _expm1.pow2(bits, 1) * q
    return bits, q, half_e, half_e + 0.5


def _scaled(num_deep: Array, num: Array, den: Array, deep: Array) -> Array:
    """``num / den``, or ``num_deep / den`` where ``deep`` (a numerator that carries a
    power of 2 against a scaled denominator; the caller applies the rest after)."""
    return jnp.where(deep, num_deep, num) / den


def _glu_value(a: Array, b: Array) -> Array:
    """``a sigmoid(b) = (a/2) / ((1 + e^-b)/2)``; in the deep tail ``a`` is scaled by
    ``2^-63`` before the division and ``2^-64`` after: normal to b = -176.1, and
    ``2^-63 a`` is subnormal only where the product is."""
    den, deep = _down(b, 127, 176.1)
    v = _scaled(a * 2.0**-63, a * 0.5, den, deep)
    # 0 at b = -inf, so that an infinite a meets 0 there (NaN, as inf * sigmoid(-inf))
    return v * jnp.where(deep, jnp.where(b == -jnp.inf, 0.0, 2.0**-64), 1.0)


def _glu_parts(a: Array, b: Array) -> tuple[Array, Array, Array]:
    if b.dtype == jnp.float64:  # the reduction is float32's
        sv, s, d, k1, k2, neg = _sigmoid_gates(b)
        v1, v2 = jnp.where(neg, k1, 1.0), jnp.where(neg, k2, 1.0)
        return ((a * sv) * v1) * v2, (s * v1) * v2, ((a * d) * k1) * k2
    # sigmoid(b) = (e^|b|/2 or 1/2) / d1, and a sigmoid'(b) = (a/2) / d1 * sigmoid(|b|),
    # which beyond |b| = 64 is a e^-|b| (sigmoid(|b|) = 1), scaled as the value's deep
    # tail (not a _product gate: sigmoid' is small on both sides of 0). Two divisions,
    # not one reciprocal: XLA's CPU backend would write a shared reciprocal out, and
    # the two halves of the gradient read it (an extra pass).
    bits, q, half_e, d1 = _up(b, 176.1)
    pos = b >= 0
    da = jnp.where(jnp.abs(b) > 88.5, jnp.where(pos, 1.0, 0.0),
                   jnp.where(pos, half_e, 0.5) / d1)
    deep = jnp.abs(b) > 64.0
    v = _scaled(a * 2.0**-63, a * 0.5, jnp.where(deep, _expm1.pow2(bits, 127) * q, d1), deep)
    db = v * jnp.where(deep, jnp.where(jnp.isinf(b), 0.0, 2.0**-64), half_e / d1)
    return _glu_value(a, b), da, db


def _swiglu_parts(a: Array, b: Array) -> tuple[Array, Array, Array]:
    # a silu(b) = a b sigmoid(b): silu(b) first where it is normal (|a b| may overflow
    # where a silu(b) does not), (2^-71 a) b against e^-b / 2^135 in the deep tail, to
    # b = -181.3, where a |b| e^b with the largest float32 a turns subnormal (glu's
    # scales reach only -176.1). An infinite b is replaced where it multiplies. Each
    # division has one use: XLA's CPU backend writes out one that several operations
    # read (the forward pass took 3.7 ms against 2.3 for a * jax.nn.silu(b)).
    if b.dtype == jnp.float64:  # the reduction is float32's
        return _swiglu_parts64(a, b)
    bf = jnp.maximum(jnp.where(jnp.isfinite(b), b, 0.0), -181.3)
    den, deep = _down(b, 135, 181.3)
    value = _scaled((a * 2.0**-71) * bf, 0.5 * b, den, deep) * jnp.where(deep, 2.0**-64, a)
    # silu(b) = b sigmoid(b), silu'(b) = (1 - t)(1 + b t) for b >= 0 and t (1 + b (1 - t))
    # for b < 0, t = sigmoid(-|b|) (0 beyond |b| = 88.5, where d1 is not finite); below
    # b = -64 both are scaled: silu(b) = (b/2^7) / ((1 + e^|b|)/2^7), normal to -92.5,
    # and a silu'(b) = a e^b (1 + b) as the value.
    bits, q, half_e, d1 = _up(b, 181.3)
    pos, far, low = b >= 0, jnp.abs(b) > 88.5, b < -64.0
    d7 = _expm1.pow2(bits, 7) * q + 2.0**-7
    neg = jnp.where(b < -92.5, -0.0, _scaled(b * 2.0**-7, 0.5 * b, jnp.where(low, d7, d1), low))
    da = jnp.where(pos, jnp.where(far, b, b * (half_e / d1)), neg)
    st = jnp.where(far, 0.0, jnp.where(pos, -0.5, 0.5) / d1)  # -t for b >= 0, t below
    slope = (jnp.where(pos, 1.0, 0.0) + st) * (1.0 + bf * (jnp.where(pos, 0.0, 1.0) - st))
    tail = ((a * 2.0**-71) * (1.0 + bf)) / (_expm1.pow2(bits, 135) * q)
    db = jnp.where(low, tail * jnp.where(b == -jnp.inf, 0.0, 2.0**-64), a * slope)
    return value, da, db


def _swiglu_parts64(a: Array, b: Array) -> tuple[Array, Array, Array]:
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
