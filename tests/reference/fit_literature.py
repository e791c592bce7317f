"""Fits the polynomials of jaxact/_smooth.py (erf) and jaxact/_bounded.py (sinc).

Each is fitted to mpmath by iteratively reweighted least squares on the relative error
(Lawson's method, which approaches minimax), rounded to float32 and re-checked in
float32 Horner arithmetic against mpmath on a dense grid.

- erf(z) = z + z P(z^2) on 0 <= z <= 1                     (``_ERF``)
- sin(pi r)/(pi r) = 1 + r^2 S(r^2) on |r| <= 1/2          (``_SINC``)
- cos(pi r) = 1 + r^2 C(r^2) on |r| <= 1/4                 (``_COSPI``)
- (cos(pi r) - sin(pi r)/(pi r)) / r^2 = D(r^2), |r| <= 1/2 (``_DSINC``: sinc'(x) = x D(x^2))

Run: python tests/reference/fit_literature.py   (prints the coefficients and errors).
"""

from __future__ import annotations

import mpmath as mp
import numpy as np

mp.mp.prec = 120


def _fit(target, lo: float, hi: float, degree: int, weight_of) -> np.ndarray:
    """Coefficients c (z^0 first) of sum c_k z^k ~ target(z) on [lo, hi], relative error."""
    z = np.linspace(lo, hi, 4000)
    t = np.array([float(target(mp.mpf(v))) for v in z])
    basis = np.vander(z, degree + 1, increasing=True)
    scale = np.abs(weight_of(z))  # what the fitted part is multiplied by, over the result
    w = np.ones_like(z)
    for _ in range(40):
        c, *_ = np.linalg.lstsq(basis * (w * scale)[:, None], t * w * scale, rcond=None)
        err = np.abs((basis @ c - t) * scale)
        w *= (err / err.max()) ** 0.3 + 0.1
    return c


def _horner32(c: np.ndarray, z: np.ndarray) -> np.ndarray:
    c32 = c.astype(np.float32)
    acc = np.full_like(z, c32[-1])
    for k in c32[-2::-1]:
        acc = acc * z + k
    return acc


def _ulps(got: np.ndarray, ref: np.ndarray) -> float:
    return float(np.max(np.abs(got - ref) / np.spacing(np.abs(ref).astype(np.float32))))


def erf_poly() -> np.ndarray:
    # the leading 2/sqrt(pi) is not a float32: fitting erf(z)/z - 1 keeps its rounding small
    c = _fit(lambda t: (mp.erf(mp.sqrt(t)) / mp.sqrt(t) if t else 2 / mp.sqrt(mp.pi)) - 1,
             0.0, 1.0, 8, lambda z: np.ones_like(z))
    x = np.linspace(1e-4, 1.0, 20001).astype(np.float32)
    got = x + x * _horner32(c, x * x)
    ref = np.array([float(mp.erf(mp.mpf(float(v)))) for v in x])
    print("erf  z + z P(z^2), 0..1:", [float(v) for v in c.astype(np.float32)], _ulps(got, ref))
    return c


def sinc_polys() -> None:
    def s(t):  # (sin(pi r)/(pi r) - 1)/r^2, t = r^2
        r = mp.sqrt(t)
        return (mp.sinpi(r) / (mp.pi * r) - 1) / t if t else -mp.pi**2 / 6

    def c(t):
        r = mp.sqrt(t)
        return (mp.cospi(r) - 1) / t if t else -mp.pi**2 / 2

    def d(t):
        r = mp.sqrt(t)
        return (mp.cospi(r) - mp.sinpi(r) / (mp.pi * r)) / t if t else -mp.pi**2 / 3

    r = np.linspace(1e-4, 0.5, 20001).astype(np.float32)
    z = r * r
    cs = _fit(s, 0.0, 0.25, 6, lambda z: z / (1 - 1.6 * z))
    got = 1 + z * _horner32(cs, z)
    ref = np.array([float(mp.sinpi(mp.mpf(float(v))) / (mp.pi * mp.mpf(float(v)))) for v in r])
    print("sinc 1 + r^2 S(r^2):", [float(v) for v in cs.astype(np.float32)], _ulps(got, ref))
    cc = _fit(c, 0.0, 0.0625, 4, lambda z: z)
    rq = r[r <= 0.25]
    got = 1 + rq * rq * _horner32(cc, rq * rq)
    ref = np.array([float(mp.cospi(mp.mpf(float(v)))) for v in rq])
    print("cospi 1 + r^2 C(r^2):", [float(v) for v in cc.astype(np.float32)], _ulps(got, ref))
    cd = _fit(d, 0.0, 0.25, 7, lambda z: np.ones_like(z))
    got = _horner32(cd, z)
    ref = np.array([float(d(mp.mpf(float(v)) ** 2)) for v in r])
    print("dsinc D(r^2):", [float(v) for v in cd.astype(np.float32)], _ulps(got, ref))


if __name__ == "__main__":
    erf_poly()
    sinc_polys()
