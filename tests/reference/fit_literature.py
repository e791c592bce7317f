"""Fits the float32 polynomials of the literature activations (jaxact/_smooth.py,
_log_gated.py, _bounded.py, _shapes.py).

Each is fitted to mpmath by iteratively reweighted least squares on the relative error
(Lawson's method, which approaches minimax), rounded to float32 and re-checked in
float32 Horner arithmetic against mpmath on a dense grid.

- erf(z) = z + z P(z^2) on 0 <= z <= 1                     (``_log_gated._ERF``)
- atanh(w) = w + w^3 A(w^2) on 0 <= w <= 1/3               (``_log_gated._ATANH``)
- sin(pi r)/(pi r) = 1 + r^2 S(r^2) on |r| <= 1/2          (``_bounded._SINC``)
- cos(pi r) = 1 + r^2 C(r^2) on |r| <= 1/4                 (``_bounded._COSPI``)
- (cos(pi r) - sin(pi r)/(pi r)) / r^2 = D(r^2), |r| <= 1/2 (``_bounded._DSINC``)
- log cosh(u) = u^2 L(u^2) on |u| <= 3/2                   (``_shapes._LOGCOSH``)
- around the zero X0 of a derivative, f'(x) = (x - X0) Q(x - C) (the ``*_ROOT`` fits of
  silu' (in p = b x), tanhexp', smish', logish', serf') and serf' itself on [-3.6, -2.4].

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
    # what the fitted part is multiplied by, over the result (None: relative to the target)
    scale = 1 / np.abs(t) if weight_of is None else np.abs(weight_of(z))
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



def root_poly(name: str, df, guess: float, lo: float, hi: float, degree: int) -> None:
    """f'(x) = (x - x0) Q(x - c) around a zero x0 of f', c the middle of [lo, hi].

    Near x0 the terms of f' cancel; this form leaves one rounding of (x - x0), exact
    for its head by Sterbenz on [x0/2, 2 x0] (hence the interval).
    """
    x0 = mp.findroot(df, mp.mpf(guess))
    hi32 = np.float32(float(x0))
    lo32 = np.float32(float(x0 - mp.mpf(float(hi32))))
    c = float(np.float32((lo + hi) / 2))
    q = lambda u: df(u + c) / (u + c - x0)
    coef = _fit(q, lo - c, hi - c, degree, None)
    x = np.linspace(lo, hi, 20001).astype(np.float32)
    got = ((x - hi32) - lo32) * _horner32(coef, x - np.float32(c))
    ref = np.array([float(df(mp.mpf(float(v)))) for v in x])
    far = np.abs(x - float(x0)) > 0.25 * max(1.0, abs(float(x0)))  # outside test_accuracy's NEAR
    print(f"{name} root {float(x0)!r} = ({float(hi32)!r}, {float(lo32)!r}), c = {c!r}:",
          [float(v) for v in coef.astype(np.float32)], "ulp away from the zero:",
          _ulps(got[far], ref[far]))


def _sig(t):
    return 1 / (1 + mp.exp(-t))


def logish_root() -> None:
    def df(x):
        s = _sig(x)
        return mp.log1p(s) + x * s * _sig(-x) / (1 + s)

    root_poly("logish'", df, -1.3725, -2.3, -0.75, 9)


def silu_root() -> None:
    """h(p) = sigmoid(p) (1 + p sigmoid(-p)), the slope of x sigmoid(b x) at p = b x."""
    root_poly("silu'", lambda p: _sig(p) * (1 + p * _sig(-p)), -1.2785, -2.5, -0.65, 10)


def tanhexp_root() -> None:
    def df(x):
        u = mp.exp(x)
        return mp.tanh(u) + x * u * mp.sech(u) ** 2

    root_poly("tanhexp'", df, -1.0789, -2.15, -0.55, 10)


def smish_root() -> None:
    def df(x):
        s = _sig(x)
        d = 2 + 2 * s + s * s
        return s * (2 + s) / d + x * 4 * (1 + s) * s * _sig(-x) / d**2

    root_poly("smish'", df, -1.3945, -2.4, -0.7, 10)


def serf_root() -> None:
    def df(x):
        s = mp.log1p(mp.exp(x))
        return mp.erf(s) + 2 / mp.sqrt(mp.pi) * x * mp.exp(-s * s) * _sig(x)

    root_poly("serf'", df, -1.1931, -2.4, -0.6, 10)
    plain_poly("serf'", df, -3.6, -2.4, 8)


def atanh_poly() -> None:
    """atanh(w)/w = 1 + w^2 A(w^2) on 0 <= w <= 1/3 (logish's log((2+e)/(1+e)) = 2 atanh w)."""
    c = _fit(lambda t: (mp.atanh(mp.sqrt(t)) / mp.sqrt(t) - 1) / t if t else mp.mpf(1) / 3,
             0.0, 1.0 / 9, 6, lambda z: z)
    w = np.linspace(1e-4, 1 / 3, 20001).astype(np.float32)
    got = w + w * (w * w * _horner32(c, w * w))
    ref = np.array([float(mp.atanh(mp.mpf(float(v)))) for v in w])
    print("atanh w + w^3 A(w^2):", [float(v) for v in c.astype(np.float32)], _ulps(got, ref))


def plain_poly(name: str, fn, lo: float, hi: float, degree: int) -> None:
    """fn(x) = P(x - c) on [lo, hi] (no zero inside), relative error; c the middle."""
    c = float(np.float32((lo + hi) / 2))
    coef = _fit(lambda u: fn(u + c), lo - c, hi - c, degree, None)
    x = np.linspace(lo, hi, 20001).astype(np.float32)
    got = _horner32(coef, x - np.float32(c))
    ref = np.array([float(fn(mp.mpf(float(v)))) for v in x])
    print(f"{name} on [{lo}, {hi}], c = {c!r}:", [float(v) for v in coef.astype(np.float32)],
          "ulp:", _ulps(got, ref))



def logcosh_poly() -> None:
    """log cosh(u) = u^2 L(u^2) on |u| <= 3/2 (shifted_softplus(x) = x/2 + log cosh(x/2))."""
    c = _fit(lambda t: mp.log(mp.cosh(mp.sqrt(t))) / t if t else mp.mpf(1) / 2,
             0.0, 2.25, 11, None)
    u = np.linspace(1e-4, 1.5, 20001).astype(np.float32)
    got = (u * u) * _horner32(c, u * u)
    ref = np.array([float(mp.log(mp.cosh(mp.mpf(float(v))))) for v in u])
    print("logcosh u^2 L(u^2):", [float(v) for v in c.astype(np.float32)], _ulps(got, ref))


if __name__ == "__main__":
    erf_poly()
    atanh_poly()
    sinc_polys()
    logcosh_poly()
    for fit_root in (silu_root, logish_root, tanhexp_root, smish_root, serf_root):
        fit_root()
