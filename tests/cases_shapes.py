"""Accuracy cases of the other literature shapes (jaxact/_shapes.py): Hard-Mish, squared
ReLU, ELiSH, hard ELiSH, shifted softplus, bent identity and GCU.

References are the defining formulas in mpmath; each derivative follows jaxact's
convention at kinks (not compared there). GCU has no limit at +-inf: the reference is
NaN there.
"""

from __future__ import annotations

from typing import Any

import mpmath as mp
from casekit import Case, sig


def _zero(x: mp.mpf) -> mp.mpf:
    return mp.mpf(0)


def _hard_mish() -> dict[str, Any]:
    return dict(formula="0 | x(x+2)/2 | x at x<=-2|..|x>=0; f' = 0 | x+1 | 1",
                f=lambda x: mp.mpf(0) if x <= -2 else x * (x + 2) / 2 if x < 0 else x,
                df=lambda x: mp.mpf(0) if x <= -2 else x + 1 if x < 0 else mp.mpf(1),
                d2f=lambda x: mp.mpf(1) if -2 < x < 0 else mp.mpf(0), points=(-2.0, -1.0, 0.0))


def _squared_relu() -> dict[str, Any]:
    return dict(formula="max(x, 0)^2; f' = 2 max(x, 0)", f=lambda x: max(x, 0) ** 2,
                df=lambda x: 2 * max(x, 0), d2f=lambda x: mp.mpf(2 if x > 0 else 0),
                points=(0.0,))


def _elish() -> dict[str, Any]:
    def f(x: mp.mpf) -> mp.mpf:
        return x * sig(x) if x >= 0 else mp.expm1(x) * sig(x)

    def df(x: mp.mpf) -> mp.mpf:
        if x >= 0:
            return sig(x) * (1 + x * sig(-x))
        e = mp.exp(x)
        return sig(x) * ((1 + e) ** 2 - 2) / (1 + e)

    return dict(formula="x sigmoid(x) | expm1(x) sigmoid(x) at x>=0|x<0; "
                "f' = s(1 + x s(-x)) | s((1+e^x)^2 - 2)/(1+e^x)", f=f, df=df, points=(0.0,),
                roots=(("df", -0.8813735870),))


def _hard_elish() -> dict[str, Any]:
    def f(x: mp.mpf) -> mp.mpf:
        if x <= -1:
            return mp.mpf(0)
        if x < 0:
            return mp.expm1(x) * (x + 1) / 2
        return x * (x + 1) / 2 if x < 1 else x

    def df(x: mp.mpf) -> mp.mpf:
        if x <= -1:
            return mp.mpf(0)
        if x < 0:
            return ((x + 2) * mp.exp(x) - 1) / 2
        return x + mp.mpf(0.5) if x < 1 else mp.mpf(1)

    def d2f(x: mp.mpf) -> mp.mpf:
        if -1 < x < 0:
            return (x + 3) * mp.exp(x) / 2
        return mp.mpf(1) if 0 <= x < 1 else mp.mpf(0)

    return dict(formula="0 | expm1(x)(x+1)/2 | x(x+1)/2 | x at x<=-1|<0|<1|>=1; "
                "f' = 0 | ((x+2)e^x - 1)/2 | x + 1/2 | 1", f=f, df=df, d2f=d2f,
                points=(-1.0, 0.0, 1.0), roots=(("df", -0.4428544010),))


def _shifted_softplus() -> dict[str, Any]:
    return dict(formula="log1p(exp(x)) - log(2); f' = sigmoid(x)",
                f=lambda x: mp.log1p(mp.exp(x)) - mp.log(2), df=sig,
                d2f=lambda x: sig(x) * sig(-x))


def _bent_identity() -> dict[str, Any]:
    def f(x: mp.mpf) -> mp.mpf:  # (sqrt(x^2+1) - 1)/2 = x^2/(2(sqrt(x^2+1) + 1))
        return x * x / (2 * (mp.sqrt(x * x + 1) + 1)) + x

    return dict(formula="(sqrt(x^2+1) - 1)/2 + x; f' = x/(2 sqrt(x^2+1)) + 1", f=f,
                df=lambda x: x / (2 * mp.sqrt(x * x + 1)) + 1,
                d2f=lambda x: 1 / (2 * (x * x + 1) ** mp.mpf(1.5)))


def _gcu() -> dict[str, Any]:
    def f(x: mp.mpf) -> mp.mpf:
        return mp.nan if abs(x) > 1e300 else x * mp.cos(x)

    def df(x: mp.mpf) -> mp.mpf:
        return mp.nan if abs(x) > 1e300 else mp.cos(x) - x * mp.sin(x)

    return dict(formula="x cos x (nan at +-inf); f' = cos x - x sin x", f=f, df=df,
                d2f=lambda x: -2 * mp.sin(x) - x * mp.cos(x),
                roots=(("df", 0.8603335890), ("df", 3.4256184595), ("df", -6.4372981792),
                       ("f", 1.5707963268), ("f", -4.7123889804)))


CASES: tuple[Case, ...] = (
    Case("hard_mish", "hard_mish", **_hard_mish()),
    Case("squared_relu", "squared_relu", **_squared_relu()),
    Case("elish", "elish", **_elish()),
    Case("hard_elish", "hard_elish", **_hard_elish()),
    Case("shifted_softplus", "shifted_softplus", **_shifted_softplus()),
    Case("bent_identity", "bent_identity", **_bent_identity()),
    Case("gcu", "gcu", **_gcu()),
)
