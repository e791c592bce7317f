"""Accuracy cases of the self-gated literature activations (jaxact/_smooth.py, _aptx.py).

References are the defining formulas in mpmath, written without cancellation where
mpmath's working precision would not resolve it (1 + tanh(u) as 2 sigmoid(2u)).
Parameters reach mpmath as the float32 values jaxact computes with (``_p``); fixed
constants that define a function (QuickGELU's 1.702) are exact.
"""

from __future__ import annotations

from typing import Any

import mpmath as mp
from casekit import Case, _p, sig


def _dsig(t: mp.mpf) -> mp.mpf:
    return sig(t) * sig(-t)


def _d2sig(t: mp.mpf) -> mp.mpf:
    return _dsig(t) * (sig(-t) - sig(t))


def _scaled_silu(scale: float, slope: str, grads: bool = False) -> dict[str, Any]:
    """scale * x sigmoid(slope x); the slope is parsed at the working precision."""
    a = _p(scale)

    def f(x: mp.mpf) -> mp.mpf:
        return a * x * sig(mp.mpf(slope) * x)

    def df(x: mp.mpf) -> mp.mpf:
        b = mp.mpf(slope)
        return a * (sig(b * x) + b * x * _dsig(b * x))

    def d2f(x: mp.mpf) -> mp.mpf:
        b = mp.mpf(slope)
        return a * b * (2 * _dsig(b * x) + b * x * _d2sig(b * x))

    def dscale(x: mp.mpf, p: mp.mpf) -> mp.mpf:
        return x * sig(mp.mpf(slope) * x)

    return dict(formula=f"{float(a)} x sigmoid({slope} x); f' = a (sigmoid(bx) + bx sigmoid'(bx))",
                f=f, df=df, d2f=d2f, roots=(("df", -1.2784645427610737 / float(slope)),),
                dparams={"beta": dscale} if grads else {})


def _aptx(alpha: float = 1.0, beta: float = 1.0, gamma: float = 0.5,
          grads: tuple[str, ...] = (), roots: tuple[tuple[str, float], ...] = (),
          points: tuple[float, ...] = ()) -> dict[str, Any]:
    a, b, g = _p(alpha), _p(beta), _p(gamma)

    def gate(x: mp.mpf, b: mp.mpf = b) -> mp.mpf:
        # alpha + tanh(bx) = (alpha - 1) + 2 sigmoid(2bx) = (alpha + 1) - 2 sigmoid(-2bx):
        # the form whose sigmoid is small, so that alpha = -+1 does not cancel
        if b * x < 0:
            return (a - 1) + 2 * sig(2 * b * x)
        return (a + 1) - 2 * sig(-2 * b * x)

    def f(x: mp.mpf) -> mp.mpf:
        return g * x * gate(x)

    def df(x: mp.mpf) -> mp.mpf:
        return g * (gate(x) + 4 * b * x * _dsig(2 * b * x))

    def d2f(x: mp.mpf) -> mp.mpf:
        return g * (8 * b * _dsig(2 * b * x) + 8 * b * b * x * _d2sig(2 * b * x))

    dparams = {  # each with that parameter set to p, the others as given
        "alpha": lambda x, p: g * x,
        "beta": lambda x, p: 4 * g * x * x * _dsig(2 * p * x),
        "gamma": lambda x, p: x * gate(x),
    }
    with mp.workprec(64):
        if abs(alpha) == 1:  # f' = 0 where tanh(bx) + bx sech^2(bx) = -alpha
            roots = (("df", float(mp.findroot(df, -0.64 * alpha / beta))), *roots)
    return dict(formula=f"g x ((a-1) + 2 sigmoid(2 b x)), a={float(a)} b={float(b)} g={float(g)}",
                f=f, df=df, d2f=d2f, roots=roots, points=points,
                dparams={k: dparams[k] for k in grads})


# |beta x| where jaxact's aptx kernel switches branches (_aptx._aptx_body)
_APTX_SWITCH = (0.55, 0.8, 1.8, 30.0, 64.0)


def _aptx_points(beta: float) -> tuple[float, ...]:
    return tuple(s * t / beta for t in _APTX_SWITCH for s in (1, -1))


def _lisht() -> dict[str, Any]:
    return dict(formula="x tanh x; f' = tanh x + x sech^2 x", f=lambda x: x * mp.tanh(x),
                df=lambda x: mp.tanh(x) + x * mp.sech(x) ** 2,
                d2f=lambda x: 2 * mp.sech(x) ** 2 * (1 - x * mp.tanh(x)))


def _tanhexp() -> dict[str, Any]:
    # Beyond x = 100, tanh(e^x) = 1 - 2 exp(-2 e^x) is 1 to any float64 precision (and
    # mpmath would need the e^x digits of exp(e^x)).
    def f(x: mp.mpf) -> mp.mpf:
        return x if x > 100 else x * mp.tanh(mp.exp(x))

    def df(x: mp.mpf) -> mp.mpf:
        if x > 100:
            return mp.mpf(1)
        u = mp.exp(x)
        return mp.tanh(u) + x * u * mp.sech(u) ** 2

    def d2f(x: mp.mpf) -> mp.mpf:
        if x > 100:
            return mp.mpf(0)
        u = mp.exp(x)
        return u * mp.sech(u) ** 2 * (2 + x - 2 * x * u * mp.tanh(u))

    return dict(formula="x tanh(exp x); f' = tanh(u) + x u sech^2(u), u = e^x", f=f, df=df,
                d2f=d2f, roots=(("df", -1.0788600584),))


def _smish() -> dict[str, Any]:
    def gate(x: mp.mpf) -> tuple[mp.mpf, mp.mpf]:
        s = sig(x)
        d = 2 + 2 * s + s * s
        return s * (2 + s) / d, 4 * (1 + s) * _dsig(x) / d**2  # tanh(log1p(s)), its x-slope

    return dict(formula="x tanh(log1p(sigmoid x)); f' = g + x g', g = s(2+s)/(2+2s+s^2)",
                f=lambda x: x * mp.tanh(mp.log1p(sig(x))),
                df=lambda x: gate(x)[0] + x * gate(x)[1], roots=(("df", -1.3945193019),))


def _logish() -> dict[str, Any]:
    return dict(formula="x log1p(sigmoid x); f' = log1p(s) + x s s(-x)/(1+s)",
                f=lambda x: x * mp.log1p(sig(x)),
                df=lambda x: mp.log1p(sig(x)) + x * _dsig(x) / (1 + sig(x)),
                roots=(("df", -1.3724541370),))


def _serf() -> dict[str, Any]:
    def sp(x: mp.mpf) -> mp.mpf:
        return mp.log1p(mp.exp(x))

    def df(x: mp.mpf) -> mp.mpf:
        s = sp(x)
        return mp.erf(s) + 2 / mp.sqrt(mp.pi) * x * mp.exp(-s * s) * sig(x)

    return dict(formula="x erf(log1p(exp x)); f' = erf(s) + 2/sqrt(pi) x exp(-s^2) sigmoid(x)",
                f=lambda x: x * mp.erf(sp(x)), df=df, roots=(("df", -1.1930599689),))


CASES: tuple[Case, ...] = (
    Case("e_swish", "e_swish", **_scaled_silu(1.25, "1")),
    Case("e_swish-beta1.75", "e_swish", params={"beta": 1.75},
         **_scaled_silu(1.75, "1", grads=True)),
    Case("quick_gelu", "quick_gelu", **_scaled_silu(1.0, "1.702")),
    Case("aptx", "aptx", **_aptx()),
    Case("aptx-b0.5", "aptx", params={"beta": 0.5}, **_aptx(beta=0.5, grads=("beta",))),
    Case("aptx-a2-b1.5-g0.25", "aptx", params={"alpha": 2.0, "beta": 1.5, "gamma": 0.25},
         **_aptx(2.0, 1.5, 0.25, grads=("alpha", "beta", "gamma"))),
    # alpha + tanh cancels: in the tail x -> +inf (alpha = -1), near x = 0 (alpha = 0),
    # and at the gate's zero x = atanh(0.3) / 0.7 (with a zero of f' near x = 0.22)
    Case("aptx-a-1-b1-g1", "aptx", params={"alpha": -1.0, "beta": 1.0, "gamma": 1.0},
         **_aptx(-1.0, 1.0, 1.0, grads=("alpha", "beta", "gamma"), points=_aptx_points(1.0))),
    Case("aptx-a0-b1-g0.5", "aptx", params={"alpha": 0.0, "beta": 1.0, "gamma": 0.5},
         **_aptx(0.0, 1.0, 0.5, grads=("gamma",), points=_aptx_points(1.0))),
    Case("aptx-a0.3-b-0.7-g1.5", "aptx", params={"alpha": 0.3, "beta": -0.7, "gamma": 1.5},
         **_aptx(0.3, -0.7, 1.5, grads=("alpha", "beta", "gamma"),
                 roots=(("f", 0.442), ("df", 0.218)), points=_aptx_points(-0.7))),
    Case("lisht", "lisht", **_lisht()),
    Case("tanhexp", "tanhexp", **_tanhexp()),
    Case("smish", "smish", **_smish()),
    Case("logish", "logish", **_logish()),
    Case("serf", "serf", **_serf()),
)
