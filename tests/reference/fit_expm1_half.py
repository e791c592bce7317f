"""Fits the polynomial of jaxact/_expm1.py and measures the tanh built on it.

expm1(2s)/2 = s + s^2 (1 + s P(s)) on |s| <= log(2)/4 (the reduced argument); P of
degree 3 is fitted to mpmath by iteratively reweighted least squares on the relative
error, then rounded to float32. The tanh check runs every float32 of both signs in
[2^-30, 12) through ``jaxact._expm1.tanh_value`` (float64 numpy as the reference).
Run: python tests/reference/fit_expm1_half.py   (about a minute).
"""

import jax
import mpmath as mp
import numpy as np
from fit_expm1 import lawson  # run as a script: tests/reference is on the path

LIMIT, DEGREE = 0.1735, 3


def fit() -> np.ndarray:
    mp.mp.prec = 120
    s = np.concatenate([np.linspace(-LIMIT, -1e-3, 2000), np.linspace(1e-3, LIMIT, 2000)])
    pairs = [(mp.expm1(2 * mp.mpf(v)) / 2, mp.mpf(v)) for v in s]
    target = np.array([float((h - v) / v**3 - 1 / v) for h, v in pairs])
    scale = np.array([float(v**3 / h) for h, v in pairs])  # error of P -> relative error
    c, err = lawson(np.vander(s, DEGREE + 1, increasing=True), target, scale, 40, 0.05)
    print("fit error (ulp):", err)
    return c


def tanh_max_ulp() -> float:
    from jaxact import _expm1

    f = jax.jit(_expm1.tanh_value)
    lo, hi = np.float32(2**-30).view(np.int32), np.float32(12).view(np.int32)
    worst = 0.0
    for sign in (1, -1):
        for start in range(lo, hi, 1 << 25):
            x = sign * np.arange(start, min(start + (1 << 25), hi), dtype=np.int32).view(np.float32)
            ref = np.tanh(x.astype(np.float64))
            ulp = np.spacing(np.abs(ref).astype(np.float32)).astype(np.float64)
            worst = max(worst, float(np.max(np.abs(np.asarray(f(x)) - ref) / ulp)))
    return worst


if __name__ == "__main__":
    print("coefficients (s^0 first):", [float(v) for v in fit()])
    print("tanh max error (ulp), with the coefficients in jaxact/_expm1.py:", tanh_max_ulp())
