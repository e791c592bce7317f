"""Accuracy cases of the learnable activations (jaxact/_learnable.py, _rational.py, _apl.py).

Every case also checks the derivatives in each parameter (``dparams``): each reference
``g(x, p)`` is df/dp at x with that parameter set to p, written so that mpmath does not
cancel (the generator differentiates it once more, in x and in p, for the conditioning
unit). Parameters reach mpmath exactly as the float32 values jaxact computes with.
"""

from __future__ import annotations

import math
from typing import Any

import mpmath as mp
from casekit import Case, _p, _zero, sig

HUGE = mp.mpf(10) ** 300  # beyond float32: x = +-inf reaches the references as +-10^1000


def _periodic(x: mp.mpf) -> bool:
    """At x = +-inf a periodic term has no limit: the reference is nan."""
    return abs(x) > HUGE


# --- snake and sine ------------------------------------------------------------------


def _sinc(u: mp.mpf) -> mp.mpf:
    return mp.mpf(1) if u == 0 else mp.sin(u) / u


def _snake(a_: float) -> dict[str, Any]:
    a = _p(a_)

    def f(x: mp.mpf) -> mp.mpf:
        if _periodic(x) or a == 0:
            return x
        return x + mp.sin(a * x) ** 2 / a

    def df(x: mp.mpf) -> mp.mpf:
        if _periodic(x):
            return mp.mpf(1) if a == 0 else mp.nan
        return 1 + mp.sin(2 * a * x)

    def da(x: mp.mpf, q: mp.mpf) -> mp.mpf:  # x^2 sinc(u) (2 cos u - sinc u), u = q x
        if _periodic(x):
            return mp.inf if q == 0 else mp.nan
        u = q * x
        return x * x * _sinc(u) * (2 * mp.cos(u) - _sinc(u))

    # f' = 2 sin^2(a x + pi/4) has double zeros (no sign change): cluster the grid there.
    zeros = () if a == 0 else tuple((k - 0.25) * math.pi / float(a) for k in (-2, -1, 0, 1, 2))
    return dict(formula=f"x + sin(a x)^2/a, a={float(a)}; f' = 1 + sin(2 a x); d/da", f=f,
                df=df, d2f=lambda x: 2 * a * mp.cos(2 * a * x), points=zeros, dparams={"a": da})


def _sine(w0_: float) -> dict[str, Any]:
    w = _p(w0_)

    def nan_or(v: Any) -> Any:
        return lambda x: mp.nan if _periodic(x) else v(x)

    return dict(formula=f"sin(w x), w={float(w)}; f' = w cos(w x); d/dw = x cos(w x)",
                f=nan_or(lambda x: mp.sin(w * x)), df=nan_or(lambda x: w * mp.cos(w * x)),
                d2f=lambda x: -w * w * mp.sin(w * x),
                dparams={"w0": lambda x, q: mp.nan if _periodic(x) else x * mp.cos(q * x)})


# --- piecewise -----------------------------------------------------------------------


def _star_relu(s_: float, b_: float) -> dict[str, Any]:
    s, b = _p(s_), _p(b_)
    root = (("f", math.sqrt(-b_ / s_)),) if b_ < 0 < s_ else ()
    return dict(formula=f"s max(x,0)^2 + b, s={float(s)}, b={float(b)}; d/ds, d/db",
                f=lambda x: s * max(x, 0) ** 2 + b, df=lambda x: 2 * s * max(x, 0),
                d2f=lambda x: 2 * s if x > 0 else mp.mpf(0), points=(0.0,), roots=root,
                dparams={"s": lambda x, q: max(x, 0) ** 2, "b": lambda x, q: mp.mpf(1)})


def _pelu(a_: float, b_: float) -> dict[str, Any]:
    a, b = _p(a_), _p(b_)

    def f(x: mp.mpf) -> mp.mpf:
        return a / b * x if x >= 0 else a * mp.expm1(x / b)

    def df(x: mp.mpf) -> mp.mpf:
        return a / b if x >= 0 else a / b * mp.exp(x / b)

    return dict(formula=f"a/b x | a expm1(x/b), a={float(a)}, b={float(b)}; d/da, d/db",
                f=f, df=df, d2f=lambda x: mp.mpf(0) if x >= 0 else a / b**2 * mp.exp(x / b),
                points=(0.0,),
                dparams={"a": lambda x, q: x / b if x >= 0 else mp.expm1(x / b),
                         "b": lambda x, q: -a * x / q**2 * (1 if x >= 0 else mp.exp(x / q))})


def _srelu(tl_: float, al_: float, tr_: float, ar_: float) -> dict[str, Any]:
    tl, al, tr, ar = _p(tl_), _p(al_), _p(tr_), _p(ar_)

    def f(x: mp.mpf) -> mp.mpf:
        return tr + ar * (x - tr) if x >= tr else tl + al * (x - tl) if x <= tl else x

    def df(x: mp.mpf) -> mp.mpf:
        return ar if x >= tr else al if x <= tl else mp.mpf(1)

    def left(x: mp.mpf, t: mp.mpf) -> bool:
        return x <= t and not x >= tr

    roots = [("f", float(t - t / a)) for t, a, side in ((tl, al, -1), (tr, ar, 1))
             if a != 0 and (float(t - t / a) - float(t)) * side > 0]
    return dict(
        formula=f"srelu t_l={float(tl)} a_l={float(al)} t_r={float(tr)} a_r={float(ar)}; d/dparams",
        f=f, df=df, d2f=_zero, points=(tl_, tr_), roots=tuple(roots),
        dparams={"t_left": lambda x, q: 1 - al if left(x, q) else mp.mpf(0),
                 "a_left": lambda x, q: x - tl if left(x, tl) else mp.mpf(0),
                 "t_right": lambda x, q: 1 - ar if x >= q else mp.mpf(0),
                 "a_right": lambda x, q: x - tr if x >= tr else mp.mpf(0)})


# --- gated and exponential --------------------------------------------------------------


def _acon_c(p1_: float, p2_: float, beta_: float) -> dict[str, Any]:
    p1, p2, beta = _p(p1_), _p(p2_), _p(beta_)

    def parts(x: mp.mpf, a: mp.mpf, b: mp.mpf, c: mp.mpf) -> tuple[mp.mpf, ...]:
        u = c * (a - b) * x
        return u, sig(u), sig(-u)

    def f(x: mp.mpf) -> mp.mpf:
        _, s, sn = parts(x, p1, p2, beta)
        return x * (p1 * s + p2 * sn)

    def df(x: mp.mpf) -> mp.mpf:
        u, s, sn = parts(x, p1, p2, beta)
        return p1 * s + p2 * sn + u * (p1 - p2) * s * sn

    def d1(x: mp.mpf, q: mp.mpf) -> mp.mpf:
        u, s, sn = parts(x, q, p2, beta)
        return x * (s + u * s * sn)

    def d2(x: mp.mpf, q: mp.mpf) -> mp.mpf:
        u, s, sn = parts(x, p1, q, beta)
        return x * (sn - u * s * sn)

    def db(x: mp.mpf, q: mp.mpf) -> mp.mpf:
        _, s, sn = parts(x, p1, p2, q)
        return x * x * (p1 - p2) ** 2 * s * sn

    return dict(formula=f"x (p1 sig(u) + p2 sig(-u)), u = beta (p1-p2) x, p1={float(p1)} "
                        f"p2={float(p2)} beta={float(beta)}; d/dp1, d/dp2, d/dbeta",
                f=f, df=df, dparams={"p1": d1, "p2": d2, "beta": db})


def _soft_exp(alpha_: float) -> dict[str, Any]:
    a = _p(alpha_)

    def series(u: mp.mpf, coef: Any) -> mp.mpf:  # sum_k coef(k) u^k, for |u| < 1e-5
        return mp.fsum(coef(k) * u**k for k in range(40))

    def f(x: mp.mpf) -> mp.mpf:
        if a == 0:
            return x
        if a > 0:
            return mp.expm1(a * x) / a + a
        if x > HUGE:  # log growth: 10^1000 is not yet the limit
            return mp.inf
        t = 1 - a * (x + a)
        return mp.nan if t < 0 else -mp.inf if t == 0 else -mp.log(t) / a

    def df(x: mp.mpf) -> mp.mpf:
        if a >= 0:
            return mp.exp(a * x)
        t = 1 - a * (x + a)
        return mp.nan if t < 0 else mp.inf if t == 0 else 1 / t

    def d2f(x: mp.mpf) -> mp.mpf:
        if a >= 0:
            return a * mp.exp(a * x)
        t = 1 - a * (x + a)
        return mp.nan if t <= 0 else a / t**2

    def da(x: mp.mpf, q: mp.mpf) -> mp.mpf:
        if q >= 0:  # ((u - 1) e^u + 1)/q^2 + 1 = x^2 sum (k+1)/(k+2)! u^k + 1
            u = q * x
            if abs(u) < mp.mpf("1e-5"):
                return x * x * series(u, lambda k: mp.mpf(k + 1) / mp.factorial(k + 2)) + 1
            return ((u - 1) * mp.exp(u) + 1) / q**2 + 1
        w = -q * (x + q)
        if x > HUGE:
            return mp.inf
        if w < -1:
            return mp.nan
        if w == -1:
            return mp.inf
        if abs(w) < mp.mpf("1e-5"):  # log1p(w) - w/(1+w) = sum_n>=2 (-1)^n (n-1)/n w^n
            g = w * w * series(w, lambda k: mp.mpf(-1) ** k * (k + 1) / (k + 2))
        else:
            g = mp.log1p(w) - w / (1 + w)
        return 1 / (1 + w) + g / q**2

    points, roots = [], []
    if a < 0:
        points.append(float(1 / a - a))  # the edge of the domain
        roots.append(("f", -float(a)))
    elif 0 < a < 1:
        roots.append(("f", float(mp.log(1 - a * a) / a)))
    return dict(formula=f"soft exponential alpha={float(a)}; f', d/dalpha (series near 0), "
                        "inf at +inf",
                f=f, df=df, d2f=d2f, points=tuple(points), roots=tuple(roots),
                dparams={"alpha": da})


# x erf(z) gates: the references cap z (e^{-z^2} = 0 and erf = +-1 beyond |z| = 30, far
# below any float64 effect) so that mpmath never forms e^{-z^2} of an astronomic z.
C_ERF = 2 / mp.sqrt(mp.pi)


def _erf_g(z: mp.mpf) -> tuple[mp.mpf, mp.mpf]:
    if abs(z) > 30:
        return mp.sign(z), mp.mpf(0)
    return mp.erf(z), mp.exp(-z * z)


def _gated(name: str, p1: str, p2: str, v1: float, v2: float, gate: Any) -> dict[str, Any]:
    """x erf(z(x)): ``gate(x, a, b) -> (z, dz/dx, dz/da, dz/db)``; limits at +-inf."""
    a, b = _p(v1), _p(v2)

    def limit(x: mp.mpf, which: int) -> mp.mpf:
        z0 = gate(mp.mpf(0), a, b)[0]
        sx = mp.sign(x)
        if b == 0:  # z is constant: f = x erf(z), f' = erf(z), the rest grows like x or x^2
            e, g = _erf_g(z0)
            return [x * e, e, sx * mp.inf * mp.sign(gate(mp.mpf(1), a, b)[2] * g) if g else 0,
                    mp.inf * mp.sign(a) if g else 0][which]
        if sx * b > 0:  # |z| -> inf
            return [x * mp.sign(a), mp.sign(a), mp.mpf(0), mp.mpf(0)][which]
        return mp.mpf(0)  # z -> 0

    def parts(x: mp.mpf, q1: mp.mpf, q2: mp.mpf) -> tuple[mp.mpf, ...]:
        z, dz, da, db = gate(x, q1, q2)
        e, g = _erf_g(z)
        return e, g, dz, da, db

    def f(x: mp.mpf) -> mp.mpf:
        return limit(x, 0) if abs(x) > HUGE else x * parts(x, a, b)[0]

    def df(x: mp.mpf) -> mp.mpf:
        if abs(x) > HUGE:
            return limit(x, 1)
        e, g, dz, _, _ = parts(x, a, b)
        return e + C_ERF * x * dz * g

    def d1(x: mp.mpf, q: mp.mpf) -> mp.mpf:
        if abs(x) > HUGE:
            return limit(x, 2)
        _, g, _, da, _ = parts(x, q, b)
        return C_ERF * x * da * g

    def d2(x: mp.mpf, q: mp.mpf) -> mp.mpf:
        if abs(x) > HUGE:
            return limit(x, 3)
        _, g, _, _, db = parts(x, a, q)
        return C_ERF * x * db * g

    return dict(formula=f"{name}: x erf(z), {p1}={float(a)} {p2}={float(b)}; f', d/d{p1}, d/d{p2}",
                f=f, df=df, dparams={p1: d1, p2: d2})


def _erfact_gate(x: mp.mpf, a: mp.mpf, b: mp.mpf) -> tuple[mp.mpf, ...]:
    e = mp.exp(b * x)
    return a * e, a * b * e, e, a * x * e


def _pserf_gate(x: mp.mpf, c: mp.mpf, d: mp.mpf) -> tuple[mp.mpf, ...]:
    sp, s = mp.log1p(mp.exp(d * x)), sig(d * x)
    return c * sp, c * d * s, sp, c * x * s


# --- apl and rational (coefficient arrays; dparams per entry, "a[i]") --------------------


def _apl(a_: tuple[float, ...], b_: tuple[float, ...]) -> dict[str, Any]:
    a, b = [_p(v) for v in a_], [_p(v) for v in b_]

    def f(x: mp.mpf) -> mp.mpf:
        return max(x, 0) + mp.fsum(ai * max(0, bi - x) for ai, bi in zip(a, b, strict=True))

    def df(x: mp.mpf) -> mp.mpf:
        return mp.mpf(x > 0) - mp.fsum(ai for ai, bi in zip(a, b, strict=True) if x < bi)

    dparams: dict[str, Any] = {}
    for i in range(len(a)):
        dparams[f"a[{i}]"] = lambda x, q, i=i: max(0, b[i] - x)
        dparams[f"b[{i}]"] = lambda x, q, i=i: a[i] if x < q else mp.mpf(0)
    return dict(formula=f"relu(x) + sum a_s relu(b_s - x), a={a_}, b={b_}; f' with flat-side "
                        "convention; d/da_s, d/db_s",
                f=f, df=df, d2f=_zero, points=(0.0, *b_), kinks=(0.0, *b_), dparams=dparams)


def _rational(num: tuple[float, ...], den: tuple[float, ...], keys: tuple[str, ...],
              kinks: tuple[float, ...]) -> dict[str, Any]:
    a, b = [_p(v) for v in num], [_p(v) for v in den]

    def parts(x: mp.mpf, a: list, b: list) -> tuple[mp.mpf, ...]:
        p = mp.fsum(c * x**j for j, c in enumerate(a))
        dp = mp.fsum(j * c * x ** (j - 1) for j, c in enumerate(a) if j)
        bb = mp.fsum(c * x ** (j + 1) for j, c in enumerate(b))
        db = mp.fsum((j + 1) * c * x**j for j, c in enumerate(b))
        s = mp.sign(bb)
        return p, dp, s, 1 + abs(bb), s * db

    def f(x: mp.mpf) -> mp.mpf:
        p, _, _, q, _ = parts(x, a, b)
        return p / q

    def df(x: mp.mpf) -> mp.mpf:
        p, dp, _, q, dq = parts(x, a, b)
        return (dp * q - p * dq) / q**2

    def d2f(x: mp.mpf) -> mp.mpf:  # only a unit; not defined at the kinks (B changes sign)
        return mp.nan if x in [mp.mpf(k) for k in kinks] else mp.diff(df, x)

    def dnum(j: int) -> Any:
        def g(x: mp.mpf, q: mp.mpf) -> mp.mpf:
            return mp.nan if _periodic(x) else x**j / parts(x, a, b)[3]
        return g

    def dden(k: int) -> Any:
        def g(x: mp.mpf, q: mp.mpf) -> mp.mpf:
            bq = list(b)
            bq[k] = q
            p, _, s, qq, _ = parts(x, a, bq)
            return mp.nan if _periodic(x) else -s * p * x ** (k + 1) / qq**2
        return g

    dparams = {key: (dnum if key.startswith("numerator") else dden)(int(key[-2]))
               for key in keys}
    return dict(formula=f"P/(1 + |B|), num={num}, den={den}; f'; d/dcoefficients (nan at "
                        "+-inf)", f=f, df=df, d2f=d2f, points=kinks, kinks=kinks,
                dparams=dparams)


GELU_NUM = (-0.00388997, 0.5, 0.421159, 0.127646, 0.0165527, 0.000777394)
GELU_DEN = (0.0, 0.255292, 0.0, 0.00155479)
MIXED_NUM = (0.03125, 0.6, -0.4, 0.3, 0.2, 0.125)
MIXED_DEN = (0.25, 0.125, 0.25, 0.125)  # B = x (x + 2)(x^2 + 1)/8: kinks at 0 and -2


CASES: tuple[Case, ...] = (
    Case("snake", "snake", params={"a": 1.0}, **_snake(1.0)),
    Case("snake-a2", "snake", params={"a": 2.0}, **_snake(2.0)),
    Case("snake-a0", "snake", params={"a": 0.0}, **_snake(0.0)),
    Case("sine", "sine", params={"w0": 30.0}, **_sine(30.0)),
    Case("sine-w1", "sine", params={"w0": 1.0}, **_sine(1.0)),
    Case("star_relu", "star_relu", params={"s": 0.8944, "b": -0.4472},
         **_star_relu(0.8944, -0.4472)),
    Case("star_relu-s1.5-b0.25", "star_relu", params={"s": 1.5, "b": 0.25},
         **_star_relu(1.5, 0.25)),
    Case("pelu", "pelu", params={"a": 1.0, "b": 1.0}, **_pelu(1.0, 1.0)),
    Case("pelu-a2-b0.5", "pelu", params={"a": 2.0, "b": 0.5}, **_pelu(2.0, 0.5)),
    Case("pelu-a0.7-b3", "pelu", params={"a": 0.7, "b": 3.0}, **_pelu(0.7, 3.0)),
    Case("srelu", "srelu", params={"t_left": 0.0, "a_left": 0.2, "t_right": 1.0,
                                   "a_right": 1.0}, **_srelu(0.0, 0.2, 1.0, 1.0)),
    Case("srelu-s", "srelu", params={"t_left": -0.4, "a_left": 0.2, "t_right": 0.4,
                                     "a_right": 0.2}, kinks=(-0.4, 0.4),
         **_srelu(-0.4, 0.2, 0.4, 0.2)),
    Case("srelu-skew", "srelu", params={"t_left": -1.5, "a_left": -0.1, "t_right": 2.0,
                                        "a_right": 1.7}, kinks=(-1.5, 2.0),
         **_srelu(-1.5, -0.1, 2.0, 1.7)),
    Case("acon_c", "acon_c", params={"p1": 1.0, "p2": 0.0, "beta": 1.0},
         roots=(("df", -1.2784645),), **_acon_c(1.0, 0.0, 1.0)),
    Case("acon_c-mixed", "acon_c", params={"p1": 1.2, "p2": -0.3, "beta": 0.7},
         **_acon_c(1.2, -0.3, 0.7)),
    Case("acon_c-steep", "acon_c", params={"p1": 0.25, "p2": 2.0, "beta": 3.0},
         **_acon_c(0.25, 2.0, 3.0)),
    # p2 = -p1: x (p1 tanh(u/2)), an even function with a double zero at x = 0, where
    # the gate's p1 + p2 e^-|u| cancels to ~u
    Case("acon_c-even", "acon_c", params={"p1": 1.0, "p2": -1.0, "beta": 1.5},
         **_acon_c(1.0, -1.0, 1.5)),
    # p2 ~ -c* d (c* = min silu' = -0.0998): f' has a near-double zero at u ~ -2.4,
    # where its terms (~0.1) cancel to ~3e-5
    Case("acon_c-tangent", "acon_c", params={"p1": 1.0, "p2": 0.0908, "beta": 1.0},
         **_acon_c(1.0, 0.0908, 1.0)),
    *(Case(f"soft_exponential{'' if a == 0 else f'-a{a:g}'}", "soft_exponential",
           params={"alpha": a}, **_soft_exp(a))
      for a in (0.0, 0.5, 1.0, 2.5, 1e-3, -1e-3, -0.5, -1.5)),
    *(Case(f"erfact{tag}", "erfact", params={"alpha": a, "beta": b}, roots=roots,
           **_gated("erfact", "alpha", "beta", a, b, _erfact_gate))
      for tag, a, b, roots in (("", 0.75, 0.75, (("df", -1.33),)),
                               ("-a1.5-bm0.4", 1.5, -0.4, (("df", 2.5),)),
                               ("-a0.2-b2", 0.2, 2.0, (("df", -0.5),)))),
    *(Case(f"pserf{tag}", "pserf", params={"gamma": c, "delta": d}, roots=roots,
           **_gated("pserf", "gamma", "delta", c, d, _pserf_gate))
      for tag, c, d, roots in (("", 1.25, 0.85, (("df", -1.2),)),
                               ("-serf", 1.0, 1.0, (("df", -1.0),)),
                               ("-g0.6-d2.5", 0.6, 2.5, (("df", -0.4),)))),
    Case("apl", "apl", params={"a": (0.2, -0.3), "b": (-1.0, 1.0)},
         **_apl((0.2, -0.3), (-1.0, 1.0))),
    Case("apl-3", "apl", params={"a": (0.7, -1.2, 0.45), "b": (2.5, 0.25, -3.0)},
         **_apl((0.7, -1.2, 0.45), (2.5, 0.25, -3.0))),
    Case("rational", "rational", params={"numerator": GELU_NUM, "denominator": GELU_DEN},
         **_rational(GELU_NUM, GELU_DEN, (*(f"numerator[{j}]" for j in range(6)),
                                          *(f"denominator[{k}]" for k in range(4))), ())),
    Case("rational-mixed", "rational", params={"numerator": MIXED_NUM, "denominator": MIXED_DEN},
         **_rational(MIXED_NUM, MIXED_DEN, ("numerator[0]", "numerator[3]", "numerator[5]",
                                            "denominator[0]", "denominator[3]"), (-2.0, 0.0))),
)
