"""Accuracy cases of jaxact/_shrink.py and jaxact/_torchlike.py (gathered by tests/cases.py).

References are mpmath on the exact float32 inputs and parameters (``_p``); see
tests/cases.py. ``rrelu`` is checked in its deterministic eval mode here (the slope
``(lower + upper)/2``, computed in Python and rounded to float32 as jaxact does); the
random training mode is tested statistically in tests/test_torchlike.py.
"""

from __future__ import annotations

from typing import Any

import mpmath as mp
from casekit import Case, _p, _zero

_PW = dict(d2f=_zero)  # piecewise linear: f'' = 0 away from kinks


def _threshold(t_: float, v_: float) -> dict[str, Any]:
    t, v = _p(t_), _p(v_)
    return dict(formula=f"{float(v)} if x <= {float(t)} else x; f' = [x > t]; d/dv = [x <= t]",
                f=lambda x: v if x <= t else x, df=lambda x: mp.mpf(x > t),
                params={"threshold": t_, "value": v_}, points=(t_,),
                dparams={"value": lambda x, _: mp.mpf(x <= t)}, **_PW)


def _hard_shrink(lambd: float = 0.5) -> dict[str, Any]:
    lam = _p(lambd)
    return dict(formula=f"0 if |x| <= {float(lam)} else x; f' = [|x| > l]",
                f=lambda x: mp.mpf(0) if abs(x) <= lam else x,
                df=lambda x: mp.mpf(abs(x) > lam), points=(-lambd, lambd), **_PW)


def _soft_shrink(lambd: float = 0.5) -> dict[str, Any]:
    lam = _p(lambd)
    return dict(formula=f"sign(x) max(|x| - {float(lam)}, 0); f' = [|x| > l]; "
                "d/dl = -sign(x) [|x| > l]",
                f=lambda x: mp.sign(x) * max(abs(x) - lam, 0),
                df=lambda x: mp.mpf(abs(x) > lam), points=(-lambd, lambd),
                dparams={} if lambd == 0.5 else {  # only when lambd is a case parameter
                    "lambd": lambda x, lam_: -mp.sign(x) if abs(x) > lam_ else mp.mpf(0)},
                **_PW)


def _leaky(slope: float, dparams: tuple[str, ...] = (), share: int = 1) -> dict[str, Any]:
    """Leaky ReLU with slope a; ``dparams`` name the parameters whose derivative is
    min(x, 0) / share (prelu's alpha: share 1; rrelu's lower and upper: share 2)."""
    a = _p(slope)

    def da(x: mp.mpf, _: mp.mpf) -> mp.mpf:
        return x / share if x < 0 else mp.mpf(0)

    return dict(formula=f"x if x >= 0 else {float(a)} x; f' = 1 at 0; d/dp = min(x,0)/{share}",
                f=lambda x: x if x >= 0 else a * x, df=lambda x: mp.mpf(1) if x >= 0 else a,
                points=(0.0,), dparams={k: da for k in dparams}, **_PW)


def _relu_general(s_: float = 0.0, t_: float = 0.0, m_: float | None = None) -> dict[str, Any]:
    s, t = _p(s_), _p(t_)
    m = mp.inf if m_ is None else _p(m_)
    lo = -mp.inf if m_ is None else mp.mpf(0)  # Keras clips to [0, m] only with a cap

    def f(x: mp.mpf) -> mp.mpf:
        return s * (x - t) if x <= t else min(max(x, lo), m)

    def df(x: mp.mpf) -> mp.mpf:
        return s if x <= t else mp.mpf(lo < x < m)

    dparams = {  # the partials in s, t and m, each with that parameter set to p
        "negative_slope": lambda x, p: x - t if x <= t else mp.mpf(0),
        "threshold": lambda x, p: -s if x <= p else mp.mpf(0),
    }
    if m_ is not None:
        dparams["max_value"] = lambda x, p: mp.mpf(x > t and x >= p)

    params: dict[str, Any] = {"negative_slope": s_, "threshold": t_}
    if m_ is not None:
        params["max_value"] = m_
    points = tuple(p for p in (t_, m_, 0.0) if p is not None)
    return dict(formula=f"s(x-t) if x <= t else clip(x, lo, m); s={float(s)} t={float(t)} "
                f"m={m_} lo={lo}; d/ds = min(x-t,0), d/dt = -s[x<=t], d/dm = [x>t][x>=m]",
                f=f, df=df, params=params, points=points, dparams=dparams, **_PW)


def _rg_kinks(t: float, m: float | None = None) -> tuple[float, ...]:
    return tuple(k for k in (t, m, 0.0 if m is not None and t < 0 else None) if k is not None)


CASES: tuple[Case, ...] = (
    Case("threshold", "threshold", **_threshold(1.0, -0.5)),
    Case("threshold-m2-3", "threshold", kinks=(-2.0,), **_threshold(-2.0, 3.0)),
    Case("hard_shrink", "hard_shrink", **_hard_shrink()),
    Case("hard_shrink-2", "hard_shrink", params={"lambd": 2.0}, kinks=(-2.0, 2.0),
         **_hard_shrink(2.0)),
    Case("soft_shrink", "soft_shrink", **_soft_shrink()),
    Case("soft_shrink-1.5", "soft_shrink", params={"lambd": 1.5}, kinks=(-1.5, 1.5),
         **_soft_shrink(1.5)),
    Case("tanh_shrink", "tanh_shrink", "x - tanh(x); f' = tanh(x)^2",
         lambda x: x - mp.tanh(x), lambda x: mp.tanh(x) ** 2,
         lambda x: 2 * mp.tanh(x) * mp.sech(x) ** 2, points=(-2.0, 2.0)),
    Case("exponential", "exponential", "exp(x); f' = exp(x)", mp.exp, mp.exp, mp.exp,
         points=(80.0, 88.5)),
    Case("rrelu", "rrelu", **_leaky((1 / 8 + 1 / 3) / 2)),
    Case("rrelu-0.1-0.3", "rrelu", params={"lower": 0.1, "upper": 0.3},
         **_leaky((0.1 + 0.3) / 2, ("lower", "upper"), share=2)),
    Case("prelu", "prelu", params={"alpha": 0.25}, **_leaky(0.25, ("alpha",))),
    Case("prelu-m1.5", "prelu", params={"alpha": -1.5}, **_leaky(-1.5, ("alpha",))),
    Case("relu_general", "relu_general", **_relu_general()),
    Case("relu_general-leaky0.1", "relu_general", kinks=(0.0,), **_relu_general(0.1)),
    Case("relu_general-0.1-0.5-6", "relu_general", kinks=_rg_kinks(0.5, 6.0),
         **_relu_general(0.1, 0.5, 6.0)),
    Case("relu_general-0.2-m1-4", "relu_general", kinks=_rg_kinks(-1.0, 4.0),
         **_relu_general(0.2, -1.0, 4.0)),
    Case("relu_general-0.3-2", "relu_general", kinks=_rg_kinks(2.0),
         **_relu_general(0.3, 2.0)),
)
