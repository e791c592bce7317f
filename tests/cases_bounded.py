"""Accuracy cases of the saturating and bump-shaped activations (jaxact/_bounded.py).

References are the defining formulas in mpmath, with the parameters as the float32
values jaxact computes with (``_p``). sinc uses mpmath's sinpi/cospi, exact at the
integers (sin(pi x) with a rounded pi would not converge there as precision rises).
"""

from __future__ import annotations

from typing import Any

import mpmath as mp
from casekit import Case, _p


def _isru(alpha: float = 1.0, linear: bool = False) -> dict[str, Any]:
    a = _p(alpha)

    def f(x: mp.mpf) -> mp.mpf:
        return x if linear and x >= 0 else x / mp.sqrt(1 + a * x * x)

    def df(x: mp.mpf) -> mp.mpf:
        return mp.mpf(1) if linear and x >= 0 else (1 + a * x * x) ** mp.mpf(-1.5)

    def d2f(x: mp.mpf) -> mp.mpf:
        return mp.mpf(0) if linear and x >= 0 else -3 * a * x * (1 + a * x * x) ** mp.mpf(-2.5)

    text = "x if x >= 0 else " if linear else ""
    return dict(formula=f"{text}x/sqrt(1 + a x^2), a={float(a)}; f' = (1 + a x^2)^-1.5",
                f=f, df=df, d2f=d2f, points=(0.0, -1.0, 1.0),
                dparams={} if alpha == 1.0 else {"alpha": _isru_dalpha(linear)})


def _isru_dalpha(linear: bool):
    def dalpha(x: mp.mpf, a: mp.mpf) -> mp.mpf:
        return mp.mpf(0) if linear and x >= 0 else -(x**3) / 2 * (1 + a * x * x) ** mp.mpf(-1.5)

    return dalpha


def _elliott() -> dict[str, Any]:
    return dict(formula="x/(2(1+|x|)) + 1/2 (1/(2(1+|x|)) for x < 0); f' = 1/(2(1+|x|)^2)",
                f=lambda x: 1 / (2 * (1 + abs(x))) if x < 0 else x / (2 * (1 + x)) + mp.mpf(0.5),
                df=lambda x: 1 / (2 * (1 + abs(x)) ** 2),
                d2f=lambda x: -mp.sign(x) / (1 + abs(x)) ** 3, points=(0.0,))


def _srs(alpha: float = 5.0, beta: float = 3.0, grads: bool = False) -> dict[str, Any]:
    a, b = _p(alpha), _p(beta)

    def f(x: mp.mpf) -> mp.mpf:
        return x / (x / a + mp.exp(-x / b))

    def df(x: mp.mpf) -> mp.mpf:
        e = mp.exp(-x / b)
        return e * (1 + x / b) / (x / a + e) ** 2

    def dalpha(x: mp.mpf, p: mp.mpf) -> mp.mpf:
        return (x / (x / p + mp.exp(-x / b)) / p) ** 2

    def dbeta(x: mp.mpf, p: mp.mpf) -> mp.mpf:
        e = mp.exp(-x / p)
        return -((x / p) ** 2) * e / (x / a + e) ** 2

    return dict(formula=f"x/(x/a + exp(-x/b)), a={float(a)} b={float(b)}; "
                "f' = e(1 + x/b)/(x/a + e)^2", f=f, df=df, roots=(("df", -float(b)),),
                points=(0.0,), dparams={"alpha": dalpha, "beta": dbeta} if grads else {})


def _gaussian() -> dict[str, Any]:
    return dict(formula="exp(-x^2); f' = -2x exp(-x^2)", f=lambda x: mp.exp(-x * x),
                df=lambda x: -2 * x * mp.exp(-x * x),
                d2f=lambda x: (4 * x * x - 2) * mp.exp(-x * x))


def _sinc() -> dict[str, Any]:
    def f(x: mp.mpf) -> mp.mpf:
        return mp.sinpi(x) / (mp.pi * x) if x else mp.mpf(1)

    def df(x: mp.mpf) -> mp.mpf:
        return (mp.cospi(x) - f(x)) / x if x else mp.mpf(0)

    def d2f(x: mp.mpf) -> mp.mpf:  # (x sinc)'' = -pi^2 x sinc
        return -(mp.pi**2) * f(x) - 2 * df(x) / x if x else -(mp.pi**2) / 3

    return dict(formula="sinpi(x)/(pi x), 1 at 0; f' = (cospi(x) - sinc(x))/x", f=f, df=df,
                d2f=d2f, points=(0.5, -0.5, 0.25, 1.5, 2.0**23, 2.0**24),
                roots=(("df", 1.4303), ("df", 2.459), ("df", -3.4709)))


CASES: tuple[Case, ...] = (
    Case("isru", "isru", **_isru()),
    Case("isru-a0.25", "isru", params={"alpha": 0.25}, **_isru(0.25)),
    Case("isrlu", "isrlu", **_isru(linear=True)),
    Case("isrlu-a3", "isrlu", params={"alpha": 3.0}, **_isru(3.0, linear=True)),
    Case("elliott", "elliott", **_elliott()),
    Case("srs", "srs", **_srs()),
    Case("srs-a2-b1", "srs", params={"alpha": 2.0, "beta": 1.0}, **_srs(2.0, 1.0, grads=True)),
    # beta/(e alpha) = 0.993 and 0.79: alpha + x e^{x/beta} cancels near x = -beta
    Case("srs-a1-b2.7", "srs", params={"alpha": 1.0, "beta": 2.7}, **_srs(1.0, 2.7)),
    Case("srs-a0.208-b0.447", "srs", params={"alpha": 0.208, "beta": 0.447},
         **_srs(0.208, 0.447, grads=True)),
    Case("gaussian", "gaussian", **_gaussian()),
    Case("sinc", "sinc", **_sinc()),
)
