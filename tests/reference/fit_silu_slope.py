"""Fits the local form of silu'(u) around its minimum, for ACON-C's derivative.

ACON-C's derivative is f'(x) = p2 + d silu'(u) (u = beta d x, d = p1 - p2), and silu'
has a minimum c* at u* ~ -2.3994 (and, by silu'(u) + silu'(-u) = 1, a maximum 1 - c* at
-u*). Where p2 + d c* is small, f' has a near-double zero there and its terms cancel by
orders of magnitude, so jaxact evaluates it as (p2 + d c*) + d w^2 Q(w), w = u - u*,
with u* and c* as double-float constants and Q fitted here (weighted least squares on
Chebyshev nodes of |w| <= 1, references by mpmath at 200 bits; float32 Horner of the
result: 1.8 units of 2^-24 relative).

Usage: ``python tests/reference/fit_silu_slope.py`` prints the constants of
jaxact/_adaptive.py.
"""

from __future__ import annotations

import mpmath as mp
import numpy as np

mp.mp.prec = 200
DEGREE, HALF = 10, 1.0


def _slope(u: mp.mpf) -> mp.mpf:
    s = 1 / (1 + mp.exp(-u))
    return s * (1 + u * (1 - s))


def main() -> None:
    u0 = mp.findroot(lambda u: u * mp.tanh(u / 2) - 2, -2.4)  # silu''(u) = 0
    c0 = _slope(u0)
    t = np.cos(np.pi * (np.arange(300) + 0.5) / 300)
    w = [mp.mpf(HALF) * mp.mpf(float(v)) for v in t]
    q = np.array([float((_slope(u0 + v) - c0) / v**2) for v in w])
    coef = np.polynomial.polynomial.polyfit(np.array([float(v) for v in w]), q, DEGREE, w=1 / q)
    check = np.linspace(-HALF, HALF, 400)
    ref = np.array([float((_slope(u0 + mp.mpf(float(v))) - c0) / mp.mpf(float(v)) ** 2)
                    for v in check])
    got = np.zeros_like(check, dtype=np.float32)
    for c in coef.astype(np.float32)[::-1]:
        got = got * check.astype(np.float32) + c
    hi = lambda v: float(np.float32(float(v)))
    print(f"_U0 = ({hi(u0)!r}, {hi(u0 - hi(u0))!r})  # argmin of silu', hi + lo")
    print(f"_C0 = ({hi(c0)!r}, {hi(c0 - hi(c0))!r})  # silu'(u0)")
    print("_Q0 = (" + ", ".join(repr(float(np.float32(c))) for c in coef) + ")")
    print(f"# float32 Horner: {np.max(np.abs(got - ref) / ref) / 2.0**-24:.2f} units of 2^-24")


if __name__ == "__main__":
    main()
