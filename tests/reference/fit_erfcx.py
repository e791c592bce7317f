"""Fits the polynomials behind jaxact's float32 GELU kernels (jaxact/_special.py).

Exact GELU. Everything is built on the scaled complementary error function

    h(a) = exp(a^2/2) Q(a) = erfcx(a/sqrt(2)) / 2,     Q(a) = P(N(0,1) > a),   a = |x|,

so that Phi(x) = 1 - Q, phi(x) and gelu never pass through exp(-x^2/2) of a rounded x^2
(the kernel forms exp(-x^2/2) from an exact two_prod). Three relative-minimax polynomials:

  H(y) = h(a),                           y = a - Y0,  0 <= a <= A1    (value, |x| small)
  K(y) = (h(a) - a/sqrt(2 pi))/(A0 - a),  y = a - Y0,  0 <= a <= A1    (derivative, |x| small)
  N(w) = a h(a) = sqrt(2 pi) a Q(a)/phi(a) / sqrt(2 pi),  w = 1/a^2,  A1 <= a <= AMAX

A0 = 0.7517... is the zero of gelu'(x) = Phi(x) + x phi(x) at x = -A0; writing the
derivative as (A0 - a) K(a) exp(-a^2/2) keeps full relative accuracy through the zero,
where Phi + x phi cancels. N -> 1/sqrt(2 pi) as a -> oo (the Mills ratio: a R(a) -> 1), so
a low-degree polynomial in w = 1/a^2 fits it; beyond AMAX = 16, exp(-a^2/2) is 0.

Tanh GELU. gelu_t'(x) = s(w) (1 + x w'(x) s(-w)), w = 2 sqrt(2/pi) (x + 0.044715 x^3),
s the logistic sigmoid, vanishes at x = X0 = -0.7524...; on TA <= x <= TB it is evaluated as
(x - X0) T(x - TC) with T a relative-minimax polynomial (the generic formula cancels there).

Each fit is Lawson-reweighted least squares on the relative error (-> minimax) against
mpmath; the coefficients are rounded to float32 from the highest degree down, the lower
ones refitted after each rounding. The script also prints the double-float splits of the
constants the kernels use.
Run: python tests/reference/fit_erfcx.py   (prints the constants block of _special.py and
each polynomial's error: of the fit, and of its float32 Horner evaluation, in units of 2^-24).
"""

from __future__ import annotations

import math

import mpmath as mp
import numpy as np

A1, AMAX = 2.5, 16.0
Y0 = A1 / 2
DEG_H, DEG_K, DEG_N = 12, 11, 9
TA, TB, DEG_T = -1.5, -0.45, 8
TC = (TA + TB) / 2
mp.mp.prec = 160
C = 1 / mp.sqrt(2 * mp.pi)
C1 = 2 * mp.sqrt(2 / mp.pi)  # w = C1 x + C3 x^3
C3 = C1 * mp.mpf("0.044715")


def h_mp(a: mp.mpf) -> mp.mpf:
    return mp.erfc(a / mp.sqrt(2)) * mp.exp(a * a / 2) / 2


def dtanh_mp(x: mp.mpf) -> mp.mpf:
    w = C1 * x + C3 * x**3
    s = 1 / (1 + mp.exp(-w))
    return s + x * (C1 + 3 * C3 * x * x) * s * (1 - s)


A0 = mp.findroot(lambda a: h_mp(a) - C * a, 0.75)
X0 = mp.findroot(dtanh_mp, -0.75)


def _off_root(v: mp.mpf, root: mp.mpf) -> mp.mpf:
    return v + mp.mpf(10) ** -40 if abs(v - root) < mp.mpf(10) ** -40 else v


def k_mp(a: mp.mpf) -> mp.mpf:
    a = _off_root(a, A0)
    return (h_mp(a) - C * a) / (A0 - a)


def n_mp(w: mp.mpf) -> mp.mpf:
    a = 1 / mp.sqrt(w)
    return a * h_mp(a)


def t_mp(u: mp.mpf) -> mp.mpf:
    x = _off_root(u + TC, X0)
    return dtanh_mp(x) / (x - X0)


def fit(f, lo: float, hi: float, degree: int, n: int = 2000, iters: int = 60) -> np.ndarray:
    """Relative-minimax polynomial in t on [lo, hi] (monomial basis), float32 coefficients."""
    z = np.cos(np.pi * (np.arange(n) + 0.5) / n)
    t = lo + (z + 1) * (hi - lo) / 2
    target = np.array([float(f(mp.mpf(float(v)))) for v in t])
    scale = max(abs(lo), abs(hi))  # fit in t/scale for conditioning
    power = np.vander(t / scale, degree + 1, increasing=True)
    weight = np.ones_like(t)
    for _ in range(iters):  # Lawson-style reweighting drives least squares towards minimax
        sol, *_ = np.linalg.lstsq(power * (weight / target)[:, None], weight, rcond=None)
        err = np.abs(power @ sol / target - 1)
        weight *= (err / err.max()) ** 0.5 + 0.05
    fixed: dict[int, float] = {}
    rows = power / target[:, None] * weight[:, None]
    for i in range(degree, -1, -1):
        free = [j for j in range(degree + 1) if j not in fixed]
        rest = weight - sum(rows[:, j] * v * scale**j for j, v in fixed.items())
        sol, *_ = np.linalg.lstsq(rows[:, free], rest, rcond=None)
        fixed[i] = float(np.float32(sol[free.index(i)] / scale**i))
    return np.array([fixed[j] for j in range(degree + 1)], dtype=np.float32)


def horner32(coef: np.ndarray, t: np.ndarray) -> np.ndarray:
    p = np.full_like(t, coef[-1])
    for c in coef[-2::-1]:
        p = p * t + c
    return p


def check(name: str, coef: np.ndarray, f, lo: float, hi: float, n: int = 4001) -> None:
    t = np.linspace(lo, hi, n).astype(np.float32)
    got = horner32(coef, t).astype(np.float64)
    ref = np.array([float(f(mp.mpf(float(v)))) for v in t])
    exact = np.polyval(coef.astype(np.float64)[::-1], t.astype(np.float64))
    print(f"# {name}: fit {np.max(np.abs(exact / ref - 1)) * 2**24:.3f}, "
          f"float32 Horner {np.max(np.abs(got / ref - 1)) * 2**24:.3f} (units of 2^-24)")


def f32(v) -> float:
    return float(np.float32(float(v)))


def hi_lo(v: mp.mpf) -> tuple[float, float]:
    hi = f32(v)
    return hi, f32(v - mp.mpf(hi))


def shift(k: int) -> tuple[float, float]:
    """k ln 2 as hi + lo, hi a multiple of 2^-16 (so that hi - |z| is exact for |z| >= 64)."""
    s = k * mp.log(2)
    hi = float(mp.nint(s * 2**16)) / 2**16
    return hi, f32(s - mp.mpf(hi))


def main() -> None:
    hh = fit(lambda y: h_mp(y + Y0), -Y0, A1 - Y0, DEG_H)
    kk = fit(lambda y: k_mp(y + Y0), -Y0, A1 - Y0, DEG_K)
    nn = fit(n_mp, 1 / AMAX**2, 1 / A1**2, DEG_N)
    tt = fit(t_mp, TA - TC, TB - TC, DEG_T)
    c3h = np.float32(float(C3))
    # C3 split: a 12-bit head (Veltkamp) so that C3_HEAD * (12-bit x head) is exact.
    t = np.float32(4097.0) * c3h
    c3_head = float(t - (t - c3h))
    print(f"_A0 = {hi_lo(A0)!r}  # zero of gelu' at x = -A0, as float32 hi + lo")
    print(f"_X0 = {hi_lo(X0)!r}  # zero of the tanh form's derivative, hi + lo")
    print(f"_C1 = {hi_lo(C1)!r}  # 2 sqrt(2/pi), hi + lo")
    print(f"_C3 = {f32(C3)!r}  # 2 sqrt(2/pi) 0.044715")
    print(f"_C3_HEAD = {c3_head!r}  # 12-bit head of C3")
    print(f"_C3_TAIL = {f32(C3 - mp.mpf(c3_head))!r}  # C3 - _C3_HEAD")
    print(f"_SHIFT3 = {shift(3)!r}  # 3 ln 2")
    print(f"_SHIFT8 = {shift(8)!r}  # 8 ln 2")
    for name, coef in (("_H", hh), ("_K", kk), ("_N", nn), ("_T", tt)):
        print(f"{name} = (" + ", ".join(repr(float(c)) for c in coef) + ")")
    check("H", hh, lambda y: h_mp(y + Y0), -Y0, A1 - Y0)
    check("K", kk, lambda y: k_mp(y + Y0), -Y0, A1 - Y0)
    check("N", nn, n_mp, 1 / AMAX**2, 1 / A1**2)
    check("T", tt, t_mp, TA - TC, TB - TC)
    assert math.isclose(float(A0), 0.7517915246935646, rel_tol=1e-15)


if __name__ == "__main__":
    main()
