"""Fits the odd polynomial jaxact uses for tanh on |x| < 0.55 (see jaxact/_math.py).

tanh(x) = x + x^3 P(x^2); P of degree 5 is fitted to mpmath's tanh by iteratively
reweighted least squares on the relative error, then rounded to float32.
Run: python tests/reference/fit_tanh.py   (prints the coefficients and the float32 error).
"""

import mpmath as mp
import numpy as np

LIMIT, DEGREE = 0.55, 5


def fit() -> np.ndarray:
    mp.mp.prec = 120
    x = np.linspace(1e-4, LIMIT, 4000)
    target = np.array([float((mp.tanh(mp.mpf(v)) / v - 1) / mp.mpf(v) ** 2) for v in x])
    z = x**2
    basis = np.vander(z, DEGREE + 1, increasing=True)
    weight = np.ones_like(z)
    for _ in range(30):  # Lawson-style reweighting drives least squares towards minimax
        c, *_ = np.linalg.lstsq(basis * (weight * z)[:, None], target * weight * z, rcond=None)
        err = np.abs((basis @ c - target) * z)
        weight *= (err / err.max()) ** 0.3 + 0.1
    return c.astype(np.float32)


def max_ulp_error(c: np.ndarray) -> float:
    x = np.linspace(1e-6, LIMIT, 200_001).astype(np.float32)
    z = x * x
    p = c[-1]
    for k in c[-2::-1]:
        p = p * z + k
    y = x + x * (z * p)
    ref = np.array([float(mp.tanh(mp.mpf(float(v)))) for v in x[::50]])
    ulp = np.spacing(np.abs(ref).astype(np.float32)).astype(np.float64)
    return float(np.max(np.abs(y[::50] - ref) / ulp))


if __name__ == "__main__":
    coeffs = fit()
    print("coefficients (z^0 first):", [float(v) for v in coeffs])
    print("max error (ulp):", max_ulp_error(coeffs))
