"""sin and cos for the periodic activations (snake, sine, gcu): XLA's or jaxact's own.

XLA's CPU backend's float32 ``sin`` and ``cos`` are slow (4096x1024 on one core: 36 ms
each, against 1.7 ms for ``exp``), and the periodic activations called them up to six
times. ``sin_cos`` is a vectorisable replacement for phases up to
``BOUND``: the phase is reduced by pi/2 in three parts (the first two of 12 bits, so that
``n * part`` is exact for the quadrant count ``n < 2^12``), then Taylor polynomials on
``|r| <= pi/4`` whose last additions are carried as low words. ``hi + lo`` is within 0.3
ulp of ``sin`` (resp. ``cos``) of ``p + e``, plus ~1e-13 absolute from the reduction,
far below the conditioning of any zero at such phases (tests/test_trig.py); rounded,
within 0.7 ulp (XLA's: 0.56).

``dispatch`` picks per call: on CPU, for float32, when every phase is within ``BOUND``,
the parts function runs with ``sin_cos``; otherwise (larger or non-finite phases, other
platforms, float64) with ``xla_sin_cos``, as before. Both are whole fused kernels: a
switch inside one would write the four sin/cos arrays out and read them back.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Protocol

import jax
import jax.numpy as jnp
from jax import Array

from jaxact import _core, _math


class SinCos(Protocol):
    def __call__(self, p: Array, e: Array, *, small: bool = False
                 ) -> tuple[Array, Array, Array, Array]: ...

BOUND = 4096.0  # |p| <= BOUND: n <= 2608, and phases shifted by pi/4 stay below 2^12 pi/2
_TWO_OVER_PI = 0.6366197723675814
_PIO2 = (1.57080078125, -4.453584551811218e-06, -8.705515752716053e-10)  # 12, 12, 24 bits
_SIN = (-1 / 6, 1 / 120, -1 / 5040, 1 / 362880)  # sin r = r + r z P(z), z = r^2
_COS = (1 / 24, -1 / 720, 1 / 40320, -1 / 3628800)  # cos r = 1 - z/2 + z^2 Q(z)


def sin_cos(p: Array, e: Array, *, small: bool = False) -> tuple[Array, Array, Array, Array]:
    """``(sin hi, lo, cos hi, lo)`` of ``p + e`` for float32 ``|p| <= BOUND``,
    ``|e| <= ulp(p)`` (``small``: as ``xla_sin_cos``'s; ``e`` is always small here)."""
    n = jnp.round(p * _TWO_OVER_PI)
    rh, err = _core.two_sum(p - n * _PIO2[0], -(n * _PIO2[1]))  # both products exact
    rl = (err - n * _PIO2[2]) + e
    z, zl = _core.two_prod(rh, rh)
    # The polynomial terms end in a select (``_math._written``): LLVM may fuse a product
    # into the addition that takes it (an FMA) in one of XLA's copies of an expression
    # and not in another, and each compensated sum below needs the same rounded term
    # wherever it is used (without it: 1.1 ulp as hi + lo, against 0.21).
    t = _math._written(rh * z * _math.polyval(_SIN, z))
    sh = rh + t
    sl = t - (sh - rh)  # Fast2Sum: |t| < |rh| / 6
    # cos r = (1 - z/2) + (-zl/2 + z^2 Q(z)): the first sum is Fast2Sum-exact, so only
    # the small second term (< 0.013) is rounded
    one = _core.opaque(1.0, p)
    half_z = -0.5 * z
    c0 = one + half_z
    rest = ((half_z - (c0 - one)) - 0.5 * zl) + _math._written(z * z * _math.polyval(_COS, z))
    ch = c0 + rest
    cl = rest - (ch - c0)
    # sin(r + rl) = sin r + cos r rl - sin r rl^2/2, and likewise cos
    half = 0.5 * rl * rl
    sl, cl = sl + (ch * rl - sh * half), cl - (sh * rl + ch * half)
    q = n - 4.0 * jnp.floor(0.25 * n)  # the quadrant, 0..3
    swap = (q == 1.0) | (q == 3.0)
    s_neg, c_neg = q >= 2.0, (q == 1.0) | (q == 2.0)

    def pick(a: Array, b: Array, neg: Array) -> Array:
        v = jnp.where(swap, b, a)
        return jnp.where(neg, -v, v)

    return (pick(sh, ch, s_neg), pick(sl, cl, s_neg), pick(ch, sh, c_neg),
            pick(cl, sl, c_neg))


def _series(t: Array) -> tuple[Array, Array]:
    """``(sin t, cos t - 1)`` to float32 precision for ``|t| < 2^-8``."""
    t2 = t * t
    return t - t * t2 / 6.0, -0.5 * t2 + t2 * t2 / 24.0


def _small(t: Array) -> tuple[Array, Array]:
    """``(sin t, cos t - 1)`` for a low part ``t``; the series below 2^-8, XLA above."""
    small = jnp.abs(t) < 2.0**-8
    sin, cm1 = _series(t)
    return jnp.where(small, sin, jnp.sin(t)), jnp.where(small, cm1, jnp.cos(t) - 1.0)


def xla_sin_cos(p: Array, e: Array, *, small: bool = False
                ) -> tuple[Array, Array, Array, Array]:
    """As ``sin_cos`` for any ``p``, from XLA's sin and cos (correctly reduced for every
    float32, <= 0.55 ulp) by the addition formula: ``e`` may reach ulp(p)/2 > 2^-8 only
    where ``|p| > 2^16``, and XLA's functions take it there, unless the caller says
    ``e`` is ``small`` (its series then, sparing two XLA calls)."""
    sp, cp = jnp.sin(p), jnp.cos(p)
    se, cm1 = _series(e) if small else _small(e)
    return sp, cp * se + sp * cm1, cp, cp * cm1 - sp * se


def dispatch(parts: Callable[..., tuple[Array, ...]],
             phase: Callable[..., Array]) -> Callable[..., tuple[Array, ...]]:
    """``parts(sincos, *args)`` run with ``sin_cos`` where every ``phase(*args)`` is
    within ``BOUND`` (float32 on CPU), else with ``xla_sin_cos``."""
    slow = functools.partial(parts, xla_sin_cos)
    fast = functools.partial(parts, sin_cos)

    def run(*args: Array) -> tuple[Array, ...]:
        if args[0].dtype != jnp.float32:
            return slow(*args)
        # computed here, read by the CPU branch only: computed inside that branch, two
        # of four runs timed sine and gcu at 1.5-2.3x (one core, 4096x1024), none here
        within = jnp.max(jnp.abs(phase(*args))) <= BOUND  # NaN: not within

        def cpu(ok: Array, *a: Array) -> tuple[Array, ...]:
            return jax.lax.cond(ok, fast, slow, *a)

        return jax.lax.platform_dependent(within, *args, cpu=cpu,
                                          default=lambda _, *a: slow(*a))

    return run
