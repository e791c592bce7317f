"""The one table of accuracy cases: each activation, its parameters and its mpmath reference.

``CASES`` (elementwise) and ``NORM_CASES`` (softmax and friends) are read by
``tests/reference/generate.py``, which evaluates the references once and checks the
tables in, and by ``tests/test_accuracy.py``, which compares jaxact against them.

A reference is the *exact* function of the float32 input: ``x`` reaches mpmath
exactly, and so do the parameters, as the float32 value jaxact computes with
(``_p(1.702)`` is ``mpf(float(np.float32(1.702)))``). Fixed constants that define a
function (SELU's lambda and alpha, GELU's 0.044715) are taken at full precision.

Adding an activation: add its ``Case`` here, or in a ``tests/cases_<family>.py`` module
whose ``CASES`` this module gathers, run ``python tests/reference/generate.py ID`` and
check in ``tests/reference/ID.npz``. Editing a reference: change its
``formula`` text too, so the stale table fails ``test_table_is_current``.
"""

from __future__ import annotations

import dataclasses
import hashlib
import importlib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import mpmath as mp
import numpy as np
from casekit import GRID_VERSION, Case, Ref, _p, _zero, sig  # noqa: F401  (re-exported)


def _softplus(beta: float = 1.0, threshold: float | None = None) -> dict[str, Any]:
    b = _p(beta)
    cut = mp.inf if threshold is None else mp.mpf(threshold)
    return dict(
        formula=f"log1p(exp(b x))/b (x where b x > {threshold}); f' = sigmoid(b x), b={float(b)}",
        f=lambda x: x if b * x > cut else mp.log1p(mp.exp(b * x)) / b,
        df=lambda x: mp.mpf(1) if b * x > cut else sig(b * x),
        d2f=lambda x: mp.mpf(0) if b * x > cut else b * sig(b * x) * sig(-b * x),
        points=() if threshold is None else (threshold / beta,),
    )


def _leaky(slope: float = 0.01) -> dict[str, Any]:
    a = _p(slope)
    return dict(formula=f"x if x >= 0 else {float(a)} x", f=lambda x: x if x >= 0 else a * x,
                df=lambda x: mp.mpf(1) if x >= 0 else a, d2f=_zero, points=(0.0,))


def _elu(alpha: float = 1.0, scale: str = "1", a_str: str | None = None) -> dict[str, Any]:
    # SELU is scale*elu(x, a) with constants given to 32 digits (parsed at working precision).
    def consts() -> tuple[mp.mpf, mp.mpf]:
        return mp.mpf(scale), mp.mpf(a_str) if a_str else _p(alpha)

    def f(x: mp.mpf) -> mp.mpf:
        lam, a = consts()
        return lam * (x if x > 0 else a * mp.expm1(x))

    def df(x: mp.mpf) -> mp.mpf:
        lam, a = consts()
        return lam * (1 if x > 0 else a * mp.exp(x))

    alpha_text = a_str or float(_p(alpha))
    return dict(formula=f"{scale}*(x if x > 0 else {alpha_text}*expm1(x))", f=f, df=df,
                points=(0.0,))


def _celu(alpha: float = 1.0) -> dict[str, Any]:
    a = _p(alpha)
    return dict(
        formula=f"max(0,x) + min(0, a expm1(x/a)), a={float(a)}; f' = 1 if x > 0 else exp(x/a)",
        f=lambda x: max(x, 0) + min(0, a * mp.expm1(x / a)),
        df=lambda x: mp.mpf(1) if x > 0 else mp.exp(x / a),
        d2f=lambda x: mp.mpf(0) if x > 0 else mp.exp(x / a) / a,
        points=(0.0,),
    )


def _silu(beta: float = 1.0) -> dict[str, Any]:
    b = _p(beta)
    return dict(formula=f"x*sigmoid({float(b)} x); f' = sigmoid(b x)(1 + b x sigmoid(-b x))",
                f=lambda x: x * sig(b * x),
                df=lambda x: sig(b * x) * (1 + b * x * sig(-b * x)),
                roots=(("df", -1.2784645 / beta),))


def _gelu_tanh(x: mp.mpf) -> tuple[mp.mpf, mp.mpf]:
    # 1 + tanh(u) = 2 sigmoid(2u): no cancellation in the negative tail.
    k, c = mp.sqrt(2 / mp.pi), mp.mpf("0.044715")
    return 2 * k * (x + c * x**3), 2 * k * (1 + 3 * c * x**2)


def _erfc(z: mp.mpf) -> mp.mpf:
    # mpmath's erfc overflows a float for z > ~1e77; the asymptotic series' first term is
    # exact to 1/(2 z^2) < 2^-266 relative from 1e40 on.
    return mp.erfc(z) if z < 10**40 else mp.exp(-z * z) / (z * mp.sqrt(mp.pi))


def _gelu(approximate: bool = True) -> dict[str, Any]:
    if approximate:
        def df(x: mp.mpf) -> mp.mpf:
            u2, du2 = _gelu_tanh(x)
            return sig(u2) * (1 + x * du2 * sig(-u2))

        return dict(formula="x*sigmoid(2u), u = sqrt(2/pi)(x + 0.044715 x^3)",
                    f=lambda x: x * sig(_gelu_tanh(x)[0]), df=df, roots=(("df", -0.7517),))
    return dict(
        formula="x/2 erfc(-x/sqrt2); f' = erfc(-x/sqrt2)/2 + x exp(-x^2/2)/sqrt(2pi)",
        f=lambda x: x / 2 * _erfc(-x / mp.sqrt(2)),
        df=lambda x: _erfc(-x / mp.sqrt(2)) / 2 + x * mp.exp(-(x**2) / 2) / mp.sqrt(2 * mp.pi),
        d2f=lambda x: (2 - x**2) * mp.exp(-(x**2) / 2) / mp.sqrt(2 * mp.pi),
        roots=(("df", -0.7517916),),
    )


def _hard_tanh(lo: float = -1.0, hi: float = 1.0) -> dict[str, Any]:
    a, b = _p(lo), _p(hi)
    return dict(formula=f"clip(x, {float(a)}, {float(b)}); f' = [a <= x <= b]",
                f=lambda x: min(max(x, a), b), df=lambda x: mp.mpf(int(a <= x <= b)), d2f=_zero,
                points=(lo, hi))


def _squareplus(b_: float = 4.0) -> dict[str, Any]:
    b = _p(b_)
    if b == 0:  # relu, with x^2 below the float32 range for |x| < 2^-63; f'(0) = 1/2,
        # the documented convention (a subnormal x acts as 0 under DAZ)
        return dict(formula="(x + |x|)/2; f' = [x > 0] (1/2 at 0)", f=lambda x: max(x, mp.mpf(0)),
                    df=lambda x: mp.mpf(1) if x > 0 else mp.mpf(0.5) if x == 0 else mp.mpf(0),
                    d2f=_zero, points=(0.0,))

    def f(x: mp.mpf) -> mp.mpf:  # for x < 0 the rationalised form avoids cancellation
        r = mp.sqrt(x * x + b)
        return (x + r) / 2 if x >= 0 else b / (2 * (r - x))

    def df(x: mp.mpf) -> mp.mpf:
        r = mp.sqrt(x * x + b)
        return (1 + x / r) / 2 if x >= 0 else b / (2 * r * (r - x))

    return dict(formula=f"(x + sqrt(x^2 + {float(b)}))/2; f' = (1 + x/sqrt(x^2+b))/2", f=f, df=df,
                d2f=lambda x: b / (2 * mp.sqrt(x * x + b) ** 3), points=(0.0,))


def _log1mexp_f(x: mp.mpf) -> mp.mpf:
    return mp.nan if x < 0 else -mp.inf if x == 0 else mp.log(-mp.expm1(-x))


def _log1mexp_df(x: mp.mpf) -> mp.mpf:
    return mp.nan if x < 0 else mp.inf if x == 0 else 1 / mp.expm1(x)


def _log1mexp_d2f(x: mp.mpf) -> mp.mpf:
    return mp.nan if x < 0 else -mp.inf if x == 0 else -mp.exp(x) / mp.expm1(x) ** 2


def _hard_silu_df(x: mp.mpf) -> mp.mpf:
    return mp.mpf(0) if x <= -3 else mp.mpf(1) if x >= 3 else (2 * x + 3) / 6


_SELU = ("1.0507009873554804934193349852946", "1.6732632423543772848170429916717")
_PW = dict(d2f=_zero)  # piecewise linear: f'' = 0 away from kinks

_CORE: tuple[Case, ...] = (
    Case("identity", "identity", "x", lambda x: x, lambda x: mp.mpf(1), **_PW),
    Case("sigmoid", "sigmoid", "1/(1+exp(-x)); f' = sigmoid(x) sigmoid(-x)", sig,
         lambda x: sig(x) * sig(-x)),
    Case("log_sigmoid", "log_sigmoid", "-log1p(exp(-x)); f' = sigmoid(-x)",
         lambda x: -mp.log1p(mp.exp(-x)), lambda x: sig(-x)),
    Case("tanh", "tanh", "tanh(x); f' = sech(x)^2", mp.tanh, lambda x: mp.sech(x) ** 2),
    Case("softplus", "softplus", **_softplus()),
    Case("softplus-beta2", "softplus", params={"beta": 2.0}, **_softplus(2.0)),
    Case("softplus-beta0.5", "softplus", params={"beta": 0.5}, **_softplus(0.5)),
    Case("softplus-threshold20", "softplus", params={"beta": 1.0, "threshold": 20.0},
         **_softplus(1.0, 20.0)),
    Case("soft_sign", "soft_sign", "x/(1+|x|); f' = 1/(1+|x|)^2", lambda x: x / (1 + abs(x)),
         lambda x: 1 / (1 + abs(x)) ** 2, lambda x: -2 * mp.sign(x) / (1 + abs(x)) ** 3),
    Case("relu", "relu", "max(x, 0); f' = [x > 0]", lambda x: max(x, 0),
         lambda x: mp.mpf(x > 0), points=(0.0,), **_PW),
    Case("relu6", "relu6", "min(max(x, 0), 6); f' = [0 < x < 6]", lambda x: min(max(x, 0), 6),
         lambda x: mp.mpf(0 < x < 6), points=(0.0, 6.0), **_PW),
    Case("leaky_relu", "leaky_relu", **_leaky()),
    Case("leaky_relu-0.2", "leaky_relu", params={"negative_slope": 0.2}, **_leaky(0.2)),
    Case("elu", "elu", **_elu()),
    Case("elu-alpha0.5", "elu", params={"alpha": 0.5}, **_elu(0.5)),
    Case("elu-alpha2", "elu", params={"alpha": 2.0}, **_elu(2.0)),
    Case("selu", "selu", **_elu(scale=_SELU[0], a_str=_SELU[1])),
    Case("celu", "celu", **_celu()),
    Case("celu-alpha0.5", "celu", params={"alpha": 0.5}, **_celu(0.5)),
    Case("celu-alpha3", "celu", params={"alpha": 3.0}, **_celu(3.0)),
    Case("gelu", "gelu", **_gelu()),
    Case("gelu-exact", "gelu", params={"approximate": False}, **_gelu(False)),
    Case("silu", "silu", **_silu()),
    Case("silu-beta1.702", "silu", params={"beta": 1.702}, **_silu(1.702)),
    Case("silu-beta0.5", "silu", params={"beta": 0.5}, **_silu(0.5)),
    Case("mish", "mish", "x tanh(log1p(exp x)); f' = tanh(sp) + x sech(sp)^2 sigmoid(x)",
         lambda x: x * mp.tanh(mp.log1p(mp.exp(x))),
         lambda x: (mp.tanh(mp.log1p(mp.exp(x)))
                    + x * mp.sech(mp.log1p(mp.exp(x))) ** 2 * sig(x)),
         roots=(("df", -1.1924),)),
    Case("hard_sigmoid", "hard_sigmoid", "clip(x+3, 0, 6)/6; f' = [-3 < x < 3]/6",
         lambda x: min(max(x + 3, 0), 6) / 6, lambda x: mp.mpf(-3 < x < 3) / 6,
         points=(-3.0, 3.0), **_PW),
    Case("hard_silu", "hard_silu", "x clip(x+3, 0, 6)/6; f' = 0 | (2x+3)/6 | 1 at x<=-3|..|x>=3",
         lambda x: x * min(max(x + 3, 0), 6) / 6, _hard_silu_df,
         lambda x: mp.mpf(1) / 3 if -3 < x < 3 else mp.mpf(0), points=(-3.0, -1.5, 3.0)),
    Case("hard_tanh", "hard_tanh", **_hard_tanh()),
    Case("hard_tanh-m2-0.5", "hard_tanh", params={"min_val": -2.0, "max_val": 0.5},
         kinks=(-2.0, 0.5), **_hard_tanh(-2.0, 0.5)),
    Case("squareplus", "squareplus", **_squareplus()),
    Case("squareplus-b0.25", "squareplus", params={"b": 0.25}, **_squareplus(0.25)),
    Case("squareplus-b16", "squareplus", params={"b": 16.0}, **_squareplus(16.0)),
    Case("squareplus-b0", "squareplus", params={"b": 0.0}, kinks=(0.0,), **_squareplus(0.0)),
    Case("sparse_plus", "sparse_plus", "0 | (x+1)^2/4 | x at x<=-1|..|x>=1",
         lambda x: mp.mpf(0) if x <= -1 else x if x >= 1 else (x + 1) ** 2 / 4,
         lambda x: mp.mpf(0) if x <= -1 else mp.mpf(1) if x >= 1 else (x + 1) / 2,
         lambda x: mp.mpf(0.5) if -1 <= x <= 1 else mp.mpf(0), points=(-1.0, 1.0)),
    Case("sparse_sigmoid", "sparse_sigmoid", "clip((x+1)/2, 0, 1); f' = [-1 <= x <= 1]/2",
         lambda x: min(max((x + 1) / 2, 0), 1), lambda x: mp.mpf(-1 <= x <= 1) / 2,
         points=(-1.0, 1.0), **_PW),
    Case("log1mexp", "log1mexp", "log(-expm1(-x)), -inf at 0, nan below; f' = 1/expm1(x)",
         _log1mexp_f, _log1mexp_df, _log1mexp_d2f, points=(0.0, 0.6931472)),
)



def _families() -> tuple[Case, ...]:
    """The ``CASES`` of every ``tests/cases_*.py`` module, in file-name order."""
    found: list[Case] = []
    for path in sorted(Path(__file__).parent.glob("cases_*.py")):
        found += importlib.import_module(path.stem).CASES
    return tuple(found)


CASES: tuple[Case, ...] = _CORE + _families()


# --- normalizers ----------------------------------------------------------------------
# Each row set is one float32 matrix (rows of one width, so one compilation each) with
# an optional ``where`` mask and ``b`` weights, and fixed cotangents for the VJP:
# ``g`` for outputs shaped like x, ``gr`` for the reduced ones (one number per row).

@dataclasses.dataclass(frozen=True, eq=False)
class RowSet:
    x: np.ndarray
    where: np.ndarray | None = None
    b: np.ndarray | None = None

    @property
    def g(self) -> np.ndarray:
        rng = np.random.default_rng(7 + self.x.shape[1])
        return rng.standard_normal(self.x.shape).astype(np.float32)

    @property
    def gr(self) -> np.ndarray:
        return self.g[:, 0] * np.float32(2.0)

    def digest(self) -> str:
        parts = [a.tobytes() for a in (self.x, self.where, self.b) if a is not None]
        return hashlib.sha256(b"|".join(parts)).hexdigest()[:16]


_rng = np.random.default_rng(20240601)
_inf, _nan, _big = np.inf, np.nan, 3.4e38
_L3 = float(np.log(1 / 3))  # three equal entries: logsumexp is ~1e-8, a zero of the output
_MASK7 = np.array([[1, 1, 0, 1, 0, 1, 1], [0, 1, 1, 1, 1, 1, 1], [1, 0, 0, 0, 0, 0, 0],
                   [1, 1, 1, 1, 1, 1, 1], [0, 0, 1, 0, 0, 1, 0]], bool)
_X7 = _rng.normal(0, 4, (5, 7))
# masked entries hold junk: it must reach neither the values nor the gradients
_X7[~_MASK7] = [_inf, _nan, -_inf, 1e30, 88.0, _nan, _inf, -_big, _inf, 50.0, _nan, 7.0, _inf, 9.0]
_X7[1, 3], _X7[4, 2] = -_inf, -80.0


def _inexact_rows() -> np.ndarray:
    """Rows whose entries below the maximum carry weight and have an inexact x - max
    (x < 2 max for max < 0, x < max / 2 for max > 0): the sums of the values drop the
    rounding error of x - max (see ``_normalizers.shifted_exp``), the weights keep it."""
    r = np.random.default_rng(20261124)
    fine = lambda k: r.uniform(-1e-3, 1e-3, k)  # low bits in every entry
    rows = [np.r_[0.30000001, -1.2345679 + fine(63)],  # many equal-ish, one sign of error
            np.r_[0.7, 0.7 - r.uniform(1.0, 10.0, 63)],
            np.r_[2.5, 2.5 - r.uniform(0.0, 20.0, 63)],
            np.r_[-0.35123457, -5.3512346 + fine(63)],
            np.r_[1e-3, -r.uniform(0.0, 30.0, 63)]]
    out = np.array(rows)
    # rows 3 and 4 shifted so that logsumexp is ~1e-7: near a zero of the output (the
    # offset also keeps the maximum's low bits, which the exact shift happened to clear)
    for i in (3, 4):
        out[i] -= np.log(np.sum(np.exp(out[i].astype(np.float32).astype(np.float64)))) - 1.2345e-7
    return out.astype(np.float32)


ROWS: dict[str, RowSet] = {
    "special3": RowSet(np.array([
        [100.0, 20.3, -50.0], [5.0, 5.0, 1.0], [-_inf, 0.0, 1.0], [-_inf, -_inf, -_inf],
        [3.0e38, -3.0e38, _big], [_big, _big, _big], [-_big, -_big, -3.0e38], [0.0, 0.0, 0.0],
        [_L3, _L3, _L3], [1e-3, -2e-3, 5e-4], [-1e4, 1e4 - 1, 1e4], [88.5, -_inf, 88.5],
        [-103.0, -90.0, -87.5], [1e-30, -1e-30, 0.0]], np.float32)),
    "random64": RowSet(np.concatenate([
        _rng.normal(0, 1, (2, 64)), _rng.normal(0, 30, (2, 64)), _rng.uniform(-100, 100, (1, 64)),
        1e-3 * _rng.normal(0, 1, (1, 64)), 1e5 + _rng.normal(0, 3, (1, 64))]).astype(np.float32)),
    "pair2": RowSet(np.array([[0.0, 0.0], [88.0, -88.0], [-1e-3, 1e-3], [_L3, -_inf],
                              [1.0, 1.0 + 2**-23], [-_big, _big], [20.0, -3.0]], np.float32)),
    "masked7": RowSet(_X7.astype(np.float32), where=_MASK7),
    "inexact64": RowSet(_inexact_rows()),
    "weights4": RowSet(
        np.array([[0.5, -1.0, 2.0, 3.0], [100.0, 20.0, -5.0, 0.0], [-_inf, 1.0, 2.0, 3.0],
                  [1.0, 2.0, 3.0, 4.0]], np.float32),
        b=np.array([[0.25, 1.0, 3.0, 0.5], [1e-3, 7.0, 1.0, 0.0], [5.0, 1.0, 0.0, 2.0],
                    [0.1, 0.2, 0.3, 0.4]], np.float32)),
    "signed4": RowSet(
        np.array([[0.5, 0.5, 1.0, -2.0], [0.3, 0.0, 1.5, 2.0], [0.0, 0.0, 0.0, 0.0],
                  [10.0, 10.0, -1.0, 0.0], [2.0, 1.0, 0.0, -1.0]], np.float32),
        b=np.array([[1.0, -1.0, 0.0, 0.0], [1.0, -2.0, 3.0, -1.0], [-1.0, -2.0, 0.5, 0.25],
                    [1.0, -1.0, 1.0, -0.5], [-1.0, 2.0, 1.0, 1.0]], np.float32)),
}


@dataclasses.dataclass(frozen=True)
class NormCase:
    """One normalizer on one row set, reduced or normalised along the last axis."""

    id: str
    name: str  # "softmax" | "log_softmax" | "logsumexp" | "logmeanexp"
    rows: str  # key of ROWS
    params: Mapping[str, Any] = dataclasses.field(default_factory=dict)

    @property
    def reduces(self) -> bool:
        return self.name in ("logsumexp", "logmeanexp")

    def signature(self) -> str:
        return f"{self.name} {dict(self.params)} rows={self.rows}:{ROWS[self.rows].digest()} v1"


NORM_CASES: tuple[NormCase, ...] = (
    *(NormCase(f"{n}-{r}", n, r) for n in ("softmax", "log_softmax", "logsumexp", "logmeanexp")
      for r in ("special3", "random64", "pair2", "masked7", "inexact64")),
    NormCase("logsumexp-weights4", "logsumexp", "weights4"),
    NormCase("logsumexp-signed4", "logsumexp", "signed4", {"return_sign": True}),
)


def norm_reference(case: NormCase, x: np.ndarray, where: np.ndarray | None,
                   b: np.ndarray | None, g: np.ndarray, gr: float) -> dict[str, list]:
    """Exact values, VJPs and their conditioning scales for one row (mpmath, current prec).

    Returns lists (one entry per output element) of:
      value: the output (sign separately for return_sign).
      value_scale: sum over inputs u of |u * d value / d u| (x, and b when given): the
        change of the value when every input moves by its own relative 1 (API.md's
        |x f'(x)|, generalised).
      vjp: the exact vector-Jacobian product with cotangent ``g`` (``gr`` if reduced).
      vjp_terms: the sum of |terms| of that product, the scale of a float32 dot product.
      vjp_scale: sum_k |x_k d vjp / d x_k|, the VJP's own conditioning in x.
    """
    n = len(x)
    sel = [bool(where[j]) if where is not None else True for j in range(n)]
    xs = [mp.mpf(float(v)) for v in x]
    bs = [mp.mpf(float(v)) for v in b] if b is not None else [mp.mpf(1)] * n
    gs = [mp.mpf(float(v)) for v in g]
    gm = mp.mpf(float(gr))
    S = [j for j in range(n) if sel[j]]
    t = [bs[j] * mp.exp(xs[j]) if sel[j] else mp.mpf(0) for j in range(n)]
    s = mp.fsum(t)
    nan = mp.nan
    lse = mp.log(abs(s)) if s != 0 else -mp.inf
    undefined = all(xs[j] == -mp.inf for j in S)  # softmax of all -inf: 0/0, jax.nn's nan
    w = [t[j] / s if s != 0 else nan for j in range(n)]  # softmax weights (signed with b)

    def xw(j: int, wj: mp.mpf) -> mp.mpf:  # |x_j w_j| with 0 * inf = 0 (exact zero weight)
        return mp.mpf(0) if wj == 0 else abs(xs[j] * wj)

    if case.reduces:
        value = lse - (mp.log(len(S)) if case.name == "logmeanexp" else 0)
        scale = mp.fsum(xw(j, w[j]) + (abs(w[j]) if b is not None else 0) for j in S)
        out = dict(value=[value], value_scale=[scale], sign=[mp.sign(s)])
        absum = mp.fsum(abs(v) for v in t) / abs(s) if s != 0 else nan
        vjp = [gm * w[j] if sel[j] else mp.mpf(0) for j in range(n)]
        out["vjp"] = vjp
        out["vjp_terms"] = [abs(v) * absum for v in vjp]
        out["vjp_scale"] = [abs(gm) * (xw(j, w[j]) * abs(1 - w[j]) + mp.fsum(
            xw(k, w[k]) * abs(w[j]) for k in S if k != j)) if sel[j] else mp.mpf(0)
            for j in range(n)]
        if undefined:
            out["vjp"] = out["vjp_terms"] = out["vjp_scale"] = [nan] * n
        return out
    # p = softmax weights; both outputs share d p_i / d x_j = p_i (delta_ij - p_j).
    p = w
    wx = [mp.fsum(xw(k, p[k]) for k in S if k != j) for j in range(n)]  # sum_{k!=j} |x_k| p_k
    own = [xw(j, 1 - p[j]) if sel[j] else 0 for j in range(n)]  # |x_j| (1 - p_j)
    if case.name == "softmax":
        sg = mp.fsum(p[k] * gs[k] for k in S)
        value = [p[j] if sel[j] else mp.mpf(0) for j in range(n)]
        scale = [abs(p[j]) * (own[j] + wx[j]) if sel[j] else 0 for j in range(n)]
        vjp = [p[j] * (gs[j] - sg) if sel[j] else mp.mpf(0) for j in range(n)]
        pg = mp.fsum(abs(p[k] * gs[k]) for k in S)
        terms = [abs(p[j]) * (abs(gs[j]) + pg) if sel[j] else 0 for j in range(n)]
        # d vjp_j / d x_k = p_j (d_jk - p_k)(g_j - sg) - p_j p_k (g_k - sg)
        vscale = [mp.fsum(
            xw(k, p[j] * ((k == j) - p[k]) * (gs[j] - sg) - p[j] * p[k] * (gs[k] - sg))
            for k in S) if sel[j] else 0 for j in range(n)]
    else:
        G = mp.fsum(gs[k] for k in S)
        value = [xs[j] - lse if sel[j] else -mp.inf for j in range(n)]
        scale = [own[j] + wx[j] for j in range(n)]
        vjp = [gs[j] - p[j] * G if sel[j] else mp.mpf(0) for j in range(n)]
        ga = mp.fsum(abs(gs[k]) for k in S)
        terms = [abs(gs[j]) + p[j] * ga if sel[j] else 0 for j in range(n)]
        vscale = [abs(G) * p[j] * (own[j] + wx[j]) if sel[j] else 0 for j in range(n)]
    if undefined:
        value = [nan if sel[j] else value[j] for j in range(n)]
        vjp = terms = vscale = [nan] * n
    return dict(value=value, value_scale=scale, vjp=vjp, vjp_terms=terms, vjp_scale=vscale)
