"""Input checks, the dtype policy, and exact-arithmetic helpers shared by all families.

dtype policy: the output has the input's dtype; bfloat16 and float16 are computed
in float32 (their own exp/log lose several bits); integer and bool inputs promote
to JAX's default float dtype, except for the piecewise-linear functions that keep
integers (``relu``, ``hard_tanh``, ``identity``), as ``jax.nn`` does.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
from jax import Array
from jax.typing import ArrayLike

_SCALARS = (int, float, bool, np.generic, np.ndarray, jax.Array)
_LOW_PRECISION = (jnp.dtype(jnp.bfloat16), jnp.dtype(jnp.float16))


_FLOATS = frozenset(jnp.dtype(t) for t in (jnp.bfloat16, jnp.float16, jnp.float32, jnp.float64))


def as_array(x: Any, fn: str, arg: str = "x", *, keep_int: bool = False) -> Array:
    """Converts ``x`` to a real array, or raises a TypeError naming ``fn`` and ``arg``."""
    if isinstance(x, jax.Array) and x.dtype in _FLOATS:
        return x  # the common case, kept cheap for eager calls
    if not isinstance(x, _SCALARS) or isinstance(x, complex):
        raise TypeError(
            f"{fn}: argument {arg!r} must be a real array or scalar, got {type(x).__name__}"
        )
    dtype = jnp.result_type(x)
    if jnp.issubdtype(dtype, jnp.complexfloating):
        raise TypeError(f"{fn}: argument {arg!r} has complex dtype {dtype}; only real inputs")
    if not jnp.issubdtype(dtype, jnp.number) and dtype != jnp.bool_:
        raise TypeError(f"{fn}: argument {arg!r} has non-numeric dtype {dtype}")
    arr = jnp.asarray(x)
    if jnp.issubdtype(dtype, jnp.inexact) or keep_int:
        return arr
    return arr.astype(jnp.result_type(float))


def as_param(value: Any, fn: str, arg: str) -> Any:
    """Checks a numeric hyper-parameter's type; Python scalars pass through unchanged."""
    if type(value) in (float, int) or (isinstance(value, jax.Array) and value.dtype in _FLOATS):
        return value
    if isinstance(value, bool) or not isinstance(value, _SCALARS) or isinstance(value, complex):
        raise TypeError(
            f"{fn}: argument {arg!r} must be a real number or array, got {type(value).__name__}"
        )
    if jnp.issubdtype(jnp.result_type(value), jnp.complexfloating):
        raise TypeError(f"{fn}: argument {arg!r} must be real, got a complex array")
    return value


def concrete(value: Any) -> np.ndarray | None:
    """``value`` as a NumPy array, or None when it is traced (abstract under jit)."""
    try:
        return np.asarray(value)
    except (jax.errors.TracerArrayConversionError, jax.errors.ConcretizationTypeError):
        return None


def check(ok: Callable[..., Any], fn: str, arg: str, need: str, *values: Any) -> None:
    """Raises ValueError unless ``ok(*values)`` holds; skipped when any value is traced."""
    if all(type(v) in (float, int) for v in values):  # fast path for eager calls
        if not ok(*values):
            shown = values[0] if len(values) == 1 else values
            raise ValueError(f"{fn}: {arg} must be {need}, got {shown!r}")
        return
    arrays = [concrete(v) for v in values]
    if any(a is None for a in arrays):
        return
    if not np.all(ok(*arrays)):
        shown = values[0] if len(values) == 1 else values
        raise ValueError(f"{fn}: {arg} must be {need}, got {shown!r}")


def compute_dtype(dtype: Any) -> Any:
    """The dtype arithmetic runs in: float32 for bfloat16/float16, else ``dtype`` itself."""
    return jnp.dtype(jnp.float32) if jnp.dtype(dtype) in _LOW_PRECISION else jnp.dtype(dtype)


def _body(x: Array, *traced: Any, kernel: Callable[..., Array], static: Any,
          fixed: tuple[tuple[int, float, str], ...], nparams: int) -> Any:
    dtype = x.dtype
    xc = x.astype(compute_dtype(dtype)) if jnp.issubdtype(dtype, jnp.floating) else x
    constants = {i: value for i, value, _ in fixed}
    rest = iter(traced)
    params = [constants[i] if i in constants else next(rest) for i in range(nparams)]
    # Masks (bool) and absent parameters (None) pass through; numbers take x's dtype.
    ps = tuple(p if p is None or jnp.asarray(p).dtype == jnp.bool_ else jnp.asarray(p, xc.dtype)
               for p in params)
    out = kernel(xc, *ps, **dict(static))
    return jax.tree.map(lambda y: y.astype(dtype), out)


@functools.cache
def _jitted(kernel: Callable[..., Array], static: Any, fixed: Any, nparams: int) -> Any:
    # One jitted function per kernel, static options and Python-number parameters: calls
    # take jit's fast path, and XLA folds the constants (alpha = 1 costs nothing).
    return jax.jit(functools.partial(_body, kernel=kernel, static=static, fixed=fixed,
                                     nparams=nparams))


def apply(
    kernel: Callable[..., Any],
    x: Array,
    *params: ArrayLike | None,
    **static: Any,
) -> Any:
    """Runs ``kernel(x, *params, **static)`` jitted, under the dtype policy.

    Array ``params`` are traced; Python numbers are compile-time constants (one
    compilation per value, as for any static argument). Both take the compute dtype,
    so a Python float never upcasts ``x``. ``static`` keyword arguments are constants.
    """
    # repr keeps -0.0 and 0.0 apart (they compare equal as cache keys).
    fixed = tuple((i, p, repr(p)) for i, p in enumerate(params) if type(p) in (float, int))
    traced = tuple(p for p in params if type(p) not in (float, int))
    return _jitted(kernel, tuple(sorted(static.items())), fixed, len(params))(x, *traced)


def normalize_axis(axis: int | Sequence[int] | None, ndim: int, fn: str) -> tuple[int, ...]:
    """Axis (int, sequence or None = all) as a sorted tuple of non-negative ints."""
    if axis is None:
        return tuple(range(ndim))
    axes = (axis,) if isinstance(axis, (int, np.integer)) else tuple(axis)
    out = []
    for a in axes:
        if not isinstance(a, (int, np.integer)) or not -ndim <= a < max(ndim, 1):
            raise ValueError(f"{fn}: axis {a!r} is out of range for an array of {ndim} dimensions")
        out.append(int(a) % max(ndim, 1))
    if len(set(out)) != len(out):
        raise ValueError(f"{fn}: axis {axis!r} repeats an axis")
    return tuple(sorted(out))


# --- exact-arithmetic helpers -------------------------------------------------------
# Error-free transformations (Dekker, Knuth) let a float32 kernel carry the rounding
# error of a product or a sum; exp(a*b) then stays accurate where a*b is large.


def opaque(c: float, like: Array) -> Array:
    """The constant ``c`` behind an optimization barrier, in ``like``'s dtype.

    XLA's simplifier reassociates constants, e.g. folds ``(1 + r) - 1`` to ``r``, which
    silently zeroes the error term of ``two_sum(1, r)``; it cannot see through the barrier,
    which costs nothing at run time.
    """
    return jax.lax.optimization_barrier(jnp.asarray(c, like.dtype))


def two_prod(a: Array, b: Array) -> tuple[Array, Array]:
    """``(p, e)`` with ``p = fl(a*b)`` and ``p + e == a*b`` (Dekker, halves from ``split``).

    Exact in float32 for finite products that are not near the subnormal range.
    """
    p = a * b
    ah, al = split(a)
    bh, bl = split(b)
    e = ((ah * bh - p) + ah * bl + al * bh) + al * bl
    return p, e


def split(a: Array) -> tuple[Array, Array]:
    """``a = hi + lo`` with ``hi`` the top half of the significand, by a bit mask.

    12 + 12 bits in float32, so products of halves are exact; 26 + 27 in float64.
    Unlike Veltkamp's ``4097 a - (4097 a - a)`` it cannot overflow, and a fused
    multiply-add (which LLVM may form on CPU and GPU) cannot change it.
    """
    if a.dtype == jnp.float64:
        bits = jax.lax.bitcast_convert_type(a, jnp.uint64) & np.uint64(0xFFFFFFFFF8000000)
        hi = jax.lax.bitcast_convert_type(bits, jnp.float64)
    else:
        bits = jax.lax.bitcast_convert_type(a, jnp.uint32) & np.uint32(0xFFFFF000)
        hi = jax.lax.bitcast_convert_type(bits, jnp.float32)
    return hi, a - hi


def two_sum(a: Array, b: Array) -> tuple[Array, Array]:
    """``(s, e)`` with ``s = fl(a+b)`` and ``s + e == a+b`` exactly (Knuth)."""
    s = a + b
    bb = s - a
    e = (a - (s - bb)) + (b - bb)
    return s, e


def is_subnormal(x: Array) -> Array:
    """True for non-zero subnormals, which XLA compares as 0 (denormals-are-zero)."""
    unsigned = {4: jnp.uint32, 8: jnp.uint64}[x.dtype.itemsize]
    bits = jax.lax.bitcast_convert_type(jnp.abs(x), unsigned)
    limit = np.asarray(jnp.finfo(x.dtype).smallest_normal, x.dtype).view(bits.dtype)
    return (bits != 0) & (bits < limit)


def frexp(x: Array) -> tuple[Array, Array]:
    """``(m, e)`` with ``x = m 2^e``, ``1/2 <= |m| < 1``, for normal ``x``; ``(x, 0)`` for +-inf,
    NaN, and ``(0, 0)`` for 0 and subnormals (XLA's arithmetic takes them as 0).

    float32: ``e`` from the exponent bits and ``m = x 2^-e`` (two exact products), about
    half the operations of ``jnp.frexp``, which also takes subnormals apart; ``m`` is
    differentiable (dm/dx = 2^-e), so second derivatives flow through it.
    """
    if x.dtype != jnp.float32:
        m, e = jnp.frexp(jnp.where(is_subnormal(x), 0.0, x))
        return m, e.astype(jnp.int32)
    field = (jax.lax.bitcast_convert_type(x, jnp.int32) >> 23) & 0xFF
    e = jnp.where((field != 0) & (field != 0xFF), field - 126, 0)
    # 2^-e in two factors where one would be subnormal (e = 127, 128)
    top = e > 126
    inv = jax.lax.bitcast_convert_type((127 - jnp.where(top, e - 2, e)) << 23, jnp.float32)
    return (x * jnp.where(top, 0.25, 1.0)) * inv, e
