"""Fits the local form of h(a) = tanh a + a sech^2 a around its maximum, for aptx's f'.

aptx's f' is gamma (alpha + sgn h(|beta x|)); h peaks at a0 (a0 tanh a0 = 1), where
h(a0) = a0, so for |alpha| ~ a0 the derivative has a near-double zero and the plain form
cancels (945 units at alpha = -1.2, beta = 1). jaxact evaluates it there as
(alpha +- a0) + d^2 Q(d), d = a - a0, with a0 as a double-float constant and Q fitted
here: weighted least squares on Chebyshev nodes of [0.8, 1.8], reweighted towards
minimax, references by mpmath at 200 bits (float32 Horner of the result: 2.45 units of
2^-24 relative).

Usage: ``python tests/reference/fit_aptx_peak.py`` prints ``_APTX_PEAK`` of
jaxact/_smooth.py.
"""

from __future__ import annotations

import mpmath as mp
import numpy as np

mp.mp.prec = 200
LO, HI, DEGREE = 0.8, 1.8, 9


def _h(a: mp.mpf) -> mp.mpf:
    return mp.tanh(a) + a * mp.sech(a) ** 2


def main() -> None:
    a0 = mp.findroot(lambda a: a * mp.tanh(a) - 1, 1.2)
    h0 = _h(a0)
    head = float(np.float32(float(a0)))
    low = float(a0 - head)

    def q(d: float) -> float:
        d = mp.mpf(d)
        return float(mp.diff(_h, a0, 2) / 2 if abs(d) < mp.mpf(10) ** -30
                     else (_h(a0 + d) - h0) / d**2)

    lo, hi = LO - float(a0), HI - float(a0)
    d = (lo + hi) / 2 + (hi - lo) / 2 * np.cos(np.pi * (np.arange(400) + 0.5) / 400)
    ref = np.array([q(v) for v in d])
    w = 1 / np.abs(ref)
    v = np.vander(d, DEGREE + 1, increasing=True)
    for _ in range(30):  # reweighting towards the minimax relative error
        c, *_ = np.linalg.lstsq(v * w[:, None], ref * w, rcond=None)
        r = (v @ c - ref) / ref
        w = w * (1 + 5 * np.abs(r) / np.abs(r).max())
    c32 = c.astype(np.float32)
    a = np.linspace(LO, HI, 20001).astype(np.float32)
    dd = (a - np.float32(head)).astype(np.float32) + np.float32(-low)
    acc = np.full_like(dd, c32[-1])
    for cc in c32[-2::-1]:
        acc = (acc * dd + cc).astype(np.float32)
    exact = np.array([q(float(mp.mpf(float(x)) - a0)) for x in a])
    err = np.max(np.abs(acc.astype(np.float64) - exact) / np.abs(exact)) / 2.0**-24
    print(f"_APTX_PEAK = (({LO}, {HI}), ({head!r}, {low!r}), (")
    print("    " + ", ".join(repr(float(x)) for x in c32) + "))")
    print(f"# float32 Horner: {err:.2f} units of 2^-24")


if __name__ == "__main__":
    main()
