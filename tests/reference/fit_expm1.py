"""Fits the polynomial jaxact uses for expm1 on |x| <= 0.7 (see jaxact/_math.py).

expm1(x) = x + x^2/2 + x^3 P(x); P is fitted to mpmath's expm1 by iteratively
reweighted least squares on the relative error of expm1, then rounded to float32.
Run: python tests/reference/fit_expm1.py   (prints the coefficients and the float32 error).
"""

import mpmath as mp
import numpy as np

LIMIT, DEGREE = 0.7, 6


def fit() -> np.ndarray:
    mp.mp.prec = 120
    x = np.concatenate([np.linspace(-LIMIT, -1e-4, 3000), np.linspace(1e-4, LIMIT, 3000)])
    xm = [mp.mpf(v) for v in x]
    target = np.array([float((mp.expm1(v) - v - v * v / 2) / v**3) for v in xm])
    scale = np.array([float(v**3 / mp.expm1(v)) for v in xm])  # error of P -> relative error
    return lawson(np.vander(x, DEGREE + 1, increasing=True), target, scale, 30, 0.1)[0]


def lawson(basis: np.ndarray, target: np.ndarray, scale: np.ndarray, iters: int,
           floor: float) -> tuple[np.ndarray, float]:
    """Least squares of ``basis @ c ~ target`` in the error ``(basis @ c - target) * scale``,
    reweighted (Lawson) towards minimax; returns c in float32 and the fit's error in ulp."""
    weight = np.ones_like(target)
    for _ in range(iters):
        w = weight * np.abs(scale)
        c, *_ = np.linalg.lstsq(basis * w[:, None], target * w, rcond=None)
        err = np.abs((basis @ c - target) * scale)
        weight *= (err / err.max()) ** 0.3 + floor
    return c.astype(np.float32), float(err.max() / 2**-24)


def max_ulp_error(c: np.ndarray) -> float:
    x = np.linspace(-LIMIT, LIMIT, 20_001).astype(np.float32)
    p = c[-1]
    for k in c[-2::-1]:
        p = p * x + k
    y = x + (np.float32(0.5) * x * x + x * x * x * p)
    ref = np.array([float(mp.expm1(mp.mpf(float(v)))) for v in x])
    ulp = np.spacing(np.abs(ref).astype(np.float32)).astype(np.float64)
    ok = ref != 0
    return float(np.max(np.abs(y[ok] - ref[ok]) / ulp[ok]))


if __name__ == "__main__":
    coeffs = fit()
    print("coefficients (x^0 first):", [float(v) for v in coeffs])
    print("max error (ulp):", max_ulp_error(coeffs))
