"""Fits srs's near-pole gap polynomial: G(d) = 1 - (1 + d) e^{-d} = d^2 Q(-d).

Near its pole (beta ~ e alpha, around x = -beta) srs's denominator alpha + x e^{x/beta}
cancels; jaxact writes it as (e alpha - beta) + beta G(d), d = -x/beta - 1, both terms
>= 0, with Q(t) = (1 - (1 - t) e^t) / t^2 fitted here on t in [-1, 0.5]: reweighted least
squares on the relative error against mpmath, each coefficient rounded to float32 in
turn and the rest refitted (0.09 units of 2^-24).

Usage: ``python tests/reference/fit_srs_gap.py`` prints ``_SRS_Q`` of jaxact/_srs.py.
"""

from __future__ import annotations

import mpmath as mp
import numpy as np

mp.mp.prec = 100
LO, HI, DEGREE = -1.0, 0.5, 7


def _q(t: float) -> mp.mpf:
    t = mp.mpf(t)
    return mp.mpf(0.5) + t / 3 if abs(t) < 1e-8 else (1 - (1 - t) * mp.exp(t)) / t**2


def main() -> None:
    xs = np.linspace(LO, HI, 4001)
    ys = np.array([float(_q(v)) for v in xs])
    fixed: list[float] = []
    for _ in range(DEGREE + 1):
        res = ys - sum(c * xs**i for i, c in enumerate(fixed))
        v = np.vander(xs, DEGREE + 1, increasing=True)[:, len(fixed):]
        w = np.ones_like(xs) / len(xs)
        for _ in range(80):  # Lawson's reweighting towards the minimax relative error
            sw = np.sqrt(w)[:, None]
            c, *_ = np.linalg.lstsq(v * sw / ys[:, None], res * sw[:, 0] / ys, rcond=None)
            err = np.abs(v @ c - res) / ys
            w = w * (err / err.max()) ** 0.6 + 1e-14
            w /= w.sum()
        fixed.append(float(np.float32(c[0])))
    check = np.linspace(LO, HI, 20001)
    exact = np.array([float(_q(v)) for v in check])
    err = np.max(np.abs(np.polyval(np.array(fixed)[::-1], check) - exact) / exact) * 2.0**24
    print("_SRS_Q = (" + ", ".join(repr(c) for c in fixed) + ")")
    print(f"# {err:.3f} units of 2^-24")


if __name__ == "__main__":
    main()
