"""Accuracy of every activation against the mpmath tables (the bar of .notes/API.md).

Each case of ``tests/cases.py`` has a table ``tests/reference/{id}.npz`` built by
``tests/reference/generate.py``; the tests compare jaxact's float32 values and
derivatives (forward mode with tangent 1, reverse mode with cotangent 1) against it.

Error unit. ``ulp(v)`` is the float32 spacing at ``|v|`` (``2^-149`` at 0). Near a
zero of f the unit is ``max(ulp(f), |x f'(x)| 2^-24)``: there the terms that cancel
are of size ``|x f'(x)|``, and no float32 evaluation resolves them better. "Near" is
within ``2^-2 max(1, |x0|)`` of a zero x0 (a sign change of the reference on the grid),
or anywhere the relative condition number ``|x f'(x) / f(x)|`` exceeds 2^10. The
derivative uses ``f''`` and the zeros of f' in the same way. Elsewhere, in particular
in the exponential tails, the unit is the plain ulp.
Bars: value <= 4, derivative <= 8 units; a true value beyond the float32 range must
come back as inf (one within a few ulp of the largest float32 may come back as it), a
true value below the normal range may come back as 0, NaN in gives NaN out.

Subnormal inputs: XLA on CPU and GPU treats subnormal inputs as zero (DAZ), so at
``0 < |x| < 2^-126`` a result is accepted when it matches the reference at ``x`` *or*
at the signed zero of the same sign.

Failure messages list the worst inputs with got, reference, error and unit.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from pathlib import Path
from typing import Any

import cases
import jax
import jax.numpy as jnp
import numpy as np
import pytest

import jaxact as ja
from jaxact import _normalizers, _trig

REF = Path(__file__).parent / "reference"
REGEN = "python tests/reference/generate.py"
VALUE_ULP, DERIV_ULP = 4.0, 8.0
COND = 2.0**10  # relative condition number above which the conditioning unit applies
NEAR = 2.0**-2  # relative distance to a zero within which it applies
EPS = 2.0**-24  # float32's relative rounding unit
F32 = np.finfo(np.float32)
TINY = float(F32.tiny)  # 2^-126, the smallest normal
OVER = 2.0**128 - 2.0**103  # the first real number float32 rounds to inf
CASES = {c.id: c for c in cases.CASES}
NORM = {c.id: c for c in cases.NORM_CASES}


# --- the metric ----------------------------------------------------------------------
# Every metric function runs under np.errstate(all="ignore"): inf - inf, 0 * inf and
# overflowing casts are expected here (and pytest turns warnings into errors).
quiet = np.errstate(all="ignore")


@quiet
def ulp(v: np.ndarray) -> np.ndarray:
    """Spacing of float32 at |v|; 2^104 (the top binade's) at and beyond the largest float32."""
    a = np.minimum(np.abs(np.asarray(v, np.float64)), float(np.nextafter(F32.max, 0)))
    return np.spacing(a.astype(np.float32)).astype(np.float64)


@quiet
def unit(ref: np.ndarray, scale: np.ndarray, always: bool = False) -> np.ndarray:
    """``ulp(ref)``, or ``max(ulp(ref), scale 2^-24)`` where ill-conditioned.

    ``scale`` is the |x f'(x)| of API.md (its generalisation to several inputs for the
    normalizers); ill-conditioned means ``scale / |ref| > 2^10``, or every point when
    ``always`` (used for the sums inside VJPs, see ``test_normalizer_vjp``).
    """
    scale = np.nan_to_num(np.abs(scale), nan=0.0, posinf=0.0)
    cond = np.where(scale == 0, 0.0, scale / np.abs(ref))
    use = (cond > COND) | always
    return np.where(use, np.maximum(ulp(ref), scale * EPS), ulp(ref))


@quiet
def ulp_error(got: np.ndarray, ref: np.ndarray, units: np.ndarray) -> np.ndarray:
    """|got - ref| in ``units``: 0 for an exact match (nan for nan, inf for inf), for an
    overflow returned as inf and for a subnormal truth returned as 0; inf for a nan or
    inf that does not belong. An inf where the truth is finite counts as 2^128, the
    first value past the largest float32."""
    got = np.asarray(got, np.float64)
    err = np.full(ref.shape, np.inf)
    near = np.abs(np.where(np.isinf(got), np.sign(got) * 2.0**128, got) - ref) / units
    fine = np.isfinite(ref) & ~np.isnan(got)
    err[fine] = near[fine]
    exact = (got == ref) | (np.isnan(got) & np.isnan(ref))
    overflow = np.isfinite(ref) & (np.abs(ref) >= OVER) & (got == np.sign(ref) * np.inf)
    flushed = (np.abs(ref) < TINY) & (got == 0)
    err[exact | overflow | flushed] = 0.0
    return err


@quiet
def check(what: str, label: Callable[[int], str], got: np.ndarray, ref: np.ndarray,
          units: np.ndarray, err: np.ndarray, bar: float, worst: int = 6) -> None:
    """Fails with the worst points when any error exceeds ``bar`` (nan counts as bad)."""
    bad = ~(err <= bar)
    if not bad.any():
        return
    order = np.argsort(-np.where(bad, np.nan_to_num(err, nan=np.inf), -1.0), kind="stable")
    lines = [f"{what}: {bad.sum()} of {bad.size} points over {bar:g} units "
             f"(max {np.nanmax(np.where(bad, err, 0)):.4g}); worst:"]
    for i in order[:worst]:
        lines.append(f"  {label(i)}  got={float(got[i]):.9g}  ref={ref[i]:.9g}  "
                     f"err={err[i]:.4g}  unit={units[i]:.3g}")
    if np.isnan(got[bad]).any() or np.isinf(got[bad]).any():
        lines.append(f"  ({np.isnan(got[bad]).sum()} nan, {np.isinf(got[bad]).sum()} inf "
                     "among them)")
    pytest.fail("\n".join(lines), pytrace=False)


def test_metric() -> None:
    """The error metric itself, on hand-made values."""
    assert ulp(np.array([1.0, 0.0])).tolist() == [2.0**-23, 2.0**-149]
    assert ulp(np.array([1e300]))[0] == 2.0**104  # beyond float32: the spacing at its max
    ref = np.array([1.0, 1.0, 4e38, 1e-40, np.nan, -np.inf, 1.0, 1.0])
    got = np.array([1 + 2**-21, np.nan, np.inf, 0.0, np.nan, -np.inf, np.inf, 1.0], np.float32)
    err = ulp_error(got, ref, ulp(ref))
    assert err.tolist() == [4.0, np.inf, 0.0, 0.0, 0.0, 0.0, (2.0**128 - 1) / 2**-23, 0.0]
    # conditioning: near a zero (scale/|ref| > 2^10) the unit is scale * 2^-24
    assert unit(np.array([1e-6]), np.array([1.0]))[0] == 2.0**-24
    assert unit(np.array([1e-2]), np.array([1.0]))[0] == ulp(np.array([1e-2]))[0]


# --- tables ----------------------------------------------------------------------------


@functools.cache
def table(case_id: str) -> dict[str, np.ndarray]:
    path = REF / f"{case_id}.npz"
    if not path.exists():
        pytest.fail(f"missing reference table {path}: run `{REGEN} {case_id}`", pytrace=False)
    with np.load(path) as z:
        return {k: z[k] for k in z.files}


@pytest.mark.parametrize("case", [*cases.CASES, *cases.NORM_CASES], ids=lambda c: c.id)
def test_table_is_current(case: cases.Case | cases.NormCase) -> None:
    stored = str(table(case.id)["signature"])
    assert stored == case.signature(), (
        f"tests/reference/{case.id}.npz is stale (built for {stored!r}, the case now says "
        f"{case.signature()!r}): run `{REGEN} {case.id}`")


def test_every_elementwise_activation_has_a_case() -> None:
    missing = sorted(set(ja.names(kind="elementwise")) - {c.name for c in cases.CASES})
    assert not missing, (f"no accuracy case for {missing}: add a Case to tests/cases.py and "
                         f"run `{REGEN} ID`")


def kinks(case: cases.Case) -> np.ndarray:
    at = case.kinks if case.kinks is not None else [k.at for k in ja.entry(case.name).kinks]
    return np.asarray(at, np.float32)


@pytest.mark.parametrize("case", cases.CASES, ids=lambda c: c.id)
def test_kinks_are_on_the_grid(case: cases.Case) -> None:
    off = [float(k) for k in kinks(case) if k not in table(case.id)["x"]]
    assert not off, f"kinks {off} of {case.id} are not in its grid: add them to the case's points"


# --- elementwise -----------------------------------------------------------------------


# snake, sine and gcu use jaxact._trig's own sin and cos only where every phase in the
# call is within _trig.BOUND, XLA's otherwise: the grid as a whole (with its huge and
# non-finite points) takes XLA's, and its points within the bound are run again alone.
TRIG_PHASE = {"snake": "a", "sine": "w0", "gcu": None}


def both_paths(case: cases.Case, x: np.ndarray, run: Callable[..., Any], *args: Any
               ) -> tuple[np.ndarray, ...]:
    """``run(x, *args)``'s outputs; for the functions of ``TRIG_PHASE``, those at the
    points within the bound from a second call on those points alone (others 0)."""
    out = [np.asarray(v) for v in run(jnp.asarray(x), *args)]
    if case.name not in TRIG_PHASE:
        return tuple(out)
    key = TRIG_PHASE[case.name]
    finite = np.where(np.isfinite(x), x, 0.0).astype(np.float64)
    scale = abs(case.params[key]) if key else 1.0
    inside = np.isfinite(x) & (np.abs(finite) * scale <= _trig.BOUND)
    fast = [np.asarray(v) for v in run(jnp.asarray(np.where(inside, x, 0.0)), *args)]
    # (at a = 0 the phase is 0 and both give the same)
    assert not scale or any((f != o)[inside].any() for f, o in zip(fast, out, strict=True)), \
        f"{case.id}: no output differs, so no call took jaxact's own sin and cos"
    return tuple(np.where(inside, f, o) for f, o in zip(fast, out, strict=True))


@functools.cache
def computed(case_id: str) -> dict[str, np.ndarray]:
    """jaxact's value, forward-mode and reverse-mode derivative on the case's grid."""
    case = CASES[case_id]
    fn = ja.get(case.name)
    f = functools.partial(fn, **case.params)

    @jax.jit
    def run(x: jax.Array) -> tuple[jax.Array, ...]:
        y, dy = jax.jvp(f, (x,), (jnp.ones_like(x),))
        _, pull = jax.vjp(f, x)
        return y, dy, pull(jnp.ones_like(x))[0]

    y, jvp, vjp = both_paths(case, table(case_id)["x"], run)
    for name, arr in (("value", y), ("jvp", jvp), ("vjp", vjp)):
        assert arr.dtype == jnp.float32, f"{case.name}: {name} has dtype {arr.dtype}, not float32"
    return dict(value=np.asarray(y), jvp=np.asarray(jvp), vjp=np.asarray(vjp))


@quiet
def elementwise_error(x: np.ndarray, got: np.ndarray, ref: np.ndarray, slope: np.ndarray | None,
                      scale: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Errors and units of ``got`` against ``ref`` (with ``slope`` = ref's derivative in x,
    or else ``scale`` = the conditioning scale itself)."""
    x64 = x.astype(np.float64)
    if scale is None:
        scale = np.where(np.isfinite(x64), np.abs(x64 * slope), 0.0)
    scale = np.nan_to_num(scale, nan=0.0)
    units = np.where(near_zero(x64, ref), np.maximum(ulp(ref), scale * EPS), unit(ref, scale))
    err = ulp_error(got, ref, units)
    # DAZ: a subnormal input may act as the zero of its sign (see the module docstring).
    sub = np.flatnonzero((x != 0) & (np.abs(x) < TINY))
    zeros = {np.signbit(v): i for i, v in enumerate(x) if v == 0}
    if sub.size and len(zeros) == 2:
        at0 = np.array([zeros[np.signbit(x[i])] for i in sub])
        err0 = ulp_error(got[sub], ref[at0], units[at0])
        err[sub] = np.minimum(err[sub], err0)
    return err, units


@quiet
def near_zero(x: np.ndarray, ref: np.ndarray) -> np.ndarray:
    """Points within ``NEAR * max(1, |x0|)`` of a zero x0 of ``ref`` (a sign change on the
    sorted finite grid, or an exact zero)."""
    ok = np.isfinite(x) & np.isfinite(ref)
    xs, rs = x[ok], ref[ok]
    order = np.argsort(xs, kind="stable")
    xs, rs = xs[order], np.sign(rs[order])
    flips = np.flatnonzero(rs[:-1] * rs[1:] < 0)
    zeros = np.concatenate([(xs[flips] + xs[flips + 1]) / 2, xs[rs == 0]])
    if zeros.size == 0:
        return np.zeros(x.shape, bool)
    dist = np.abs(np.nan_to_num(x)[:, None] - zeros[None, :])
    return np.any(dist <= NEAR * np.maximum(1.0, np.abs(zeros))[None, :], axis=1)


@pytest.mark.parametrize("case", cases.CASES, ids=lambda c: c.id)
def test_value(case: cases.Case) -> None:
    t, got = table(case.id), computed(case.id)["value"]
    err, units = elementwise_error(t["x"], got, t["f"], t["df"])
    check(f"{case.id} value", lambda i: f"x={t['x'][i]:.9g}", got, t["f"], units, err, VALUE_ULP)


@pytest.mark.parametrize("mode", ["jvp", "vjp"])
@pytest.mark.parametrize("case", cases.CASES, ids=lambda c: c.id)
def test_derivative(case: cases.Case, mode: str) -> None:
    t, got = table(case.id), computed(case.id)[mode]
    x = t["x"]
    err, units = elementwise_error(x, got, t["df"], t["d2f"])
    # Kinks are tested with their conventions elsewhere; the derivative at a nan input
    # is not specified (the identity's is 1). Where f itself is undefined (the table's f'
    # is nan, e.g. log1mexp at x < 0) the derivative must be nan too: a finite gradient
    # of a nan output would hide the nan from an optimizer.
    keep = ~np.isnan(x) & ~np.isin(x, kinks(case))
    check(f"{case.id} derivative ({mode})", lambda i: f"x={x[keep][i]:.9g}", got[keep],
          t["df"][keep], units[keep], err[keep], DERIV_ULP)


# --- parameter derivatives ------------------------------------------------------------
# Cases with ``dparams`` also check df/dp elementwise on the grid, for each parameter p
# (or entry p = a[i] of an array parameter): forward mode with p as given and tangent 1
# (one-hot for an entry), reverse mode with p broadcast to one copy per input and
# cotangent 1 (what a per-element gradient sees). Same bar and metric as the derivative
# in x; near zeros the unit uses the table's scale |x dg/dx| + |p dg/dp| (g = df/dp),
# since both x and p are inputs of the float32 computation.

DPARAM_CASES = [(c, key) for c in cases.CASES for key in c.dparams]


@functools.cache
def dparam_computed(case_id: str, key: str) -> dict[str, np.ndarray]:
    case = CASES[case_id]
    fn = ja.get(case.name)
    name, _, index = key.partition("[")
    p0 = jnp.asarray(case.params[name], jnp.float32)
    others = {k: v for k, v in case.params.items() if k != name}

    def pick(a: jax.Array) -> jax.Array:  # entry i along the last axis, or all of a
        return a[..., int(index[:-1])] if index else a

    @jax.jit
    def run(x: jax.Array, p0: jax.Array) -> tuple[jax.Array, jax.Array]:
        one_hot = jnp.zeros_like(p0).at[..., int(index[:-1])].set(1.0) if index else None
        tangent = jnp.ones_like(p0) if one_hot is None else one_hot
        _, jvp = jax.jvp(lambda p: fn(x, **others, **{name: p}), (p0,), (tangent,))
        full = jnp.broadcast_to(p0, x.shape + p0.shape)
        _, pull = jax.vjp(lambda p: fn(x, **others, **{name: p}), full)
        return jvp, pick(pull(jnp.ones_like(x))[0])

    jvp, vjp = both_paths(case, table(case_id)["x"], run, p0)
    return dict(jvp=jvp, vjp=vjp)


@pytest.mark.parametrize("mode", ["jvp", "vjp"])
@pytest.mark.parametrize(("case", "key"), DPARAM_CASES,
                         ids=[f"{c.id}:{k}" for c, k in DPARAM_CASES])
def test_parameter_derivative(case: cases.Case, key: str, mode: str) -> None:
    t, got = table(case.id), dparam_computed(case.id, key)[mode]
    x, ref = t["x"], t[f"dp_{key}"]
    err, units = elementwise_error(x, got, ref, None, scale=t[f"dps_{key}"])
    keep = ~np.isnan(x) & ~np.isin(x, kinks(case))  # as test_derivative
    check(f"{case.id} d/d{key} ({mode})", lambda i: f"x={x[keep][i]:.9g}", got[keep],
          ref[keep], units[keep], err[keep], DERIV_ULP)


# --- normalizers ---------------------------------------------------------------------
# Value unit: the same rule with scale = sum over inputs u (x, and b) of |u dy/du|, the
# generalisation of |x f'(x)|. That is the honest conditioning: e.g. log_softmax of
# [100, 20.3] is -2.4e-35 for the first entry and perturbing the inputs by an ulp moves it
# by only ~120 of its own ulps, so an answer of 0 (x - logsumexp cancelling) is an error.


# On CPU the row sums take a GEMV up to _normalizers._GEMV_MAX (2^20) elements and
# XLA's fused reduction above (row_sum): "fused" tiles the table's rows past that size
# and checks the first copy against the same references.
SIZES = ["table", "fused"]


def _tiled(a: np.ndarray, copies: int) -> np.ndarray:
    return np.tile(a, (copies,) + (1,) * (a.ndim - 1))


@functools.cache
def norm_computed(case_id: str, size: str = "table") -> dict[str, np.ndarray]:
    case, t = NORM[case_id], table(case_id)
    rows = len(t["x"])
    copies = 1 if size == "table" else -(-(_normalizers._GEMV_MAX + 1) // t["x"].size)
    fn = ja.get(case.name)
    kw: dict[str, Any] = dict(case.params)
    kw.update({k: jnp.asarray(_tiled(t[k], copies)) for k in ("where", "b") if k in t})
    signed = kw.get("return_sign", False)

    @jax.jit
    def run(x: jax.Array, g: jax.Array) -> tuple[Any, jax.Array]:
        y, pull = jax.vjp(lambda x: fn(x, axis=-1, **kw), x)
        return y, pull((g, jnp.zeros_like(y[1])) if signed else g)[0]

    y, vjp = run(jnp.asarray(_tiled(t["x"], copies)), jnp.asarray(_tiled(t["g"], copies)))
    value, sign = (y if signed else (y, None))
    out = dict(value=np.asarray(value)[:rows], vjp=np.asarray(vjp)[:rows])
    if sign is not None:
        out["sign"] = np.asarray(sign)[:rows]
    return out


def norm_label(t: dict[str, np.ndarray], shape: tuple[int, ...]) -> Callable[[int], str]:
    """Names flat index k of an output of ``shape``: its row (inputs shown) and entry."""

    def label(k: int) -> str:
        i, j = divmod(k, shape[1]) if len(shape) == 2 else (k, None)
        txt = np.array2string(t["x"][i], precision=4, threshold=8, max_line_width=10**4)
        where = f" where={t['where'][i].astype(int)}" if "where" in t else ""
        return f"row {i} x={txt}{where}" + ("" if j is None else f" [{j}]")

    return label


# logsumexp and logmeanexp return one sum per row: like a dot product, a float32 sum is
# only accurate to 2^-24 times the sum of its |terms| (here sum |x_i dy/dx_i|), so that
# unit applies to them everywhere, not only above the 2^10 condition number.
REDUCTIONS = {"logsumexp", "logmeanexp"}


@quiet
def flushed_weights(t: dict[str, np.ndarray]) -> np.ndarray:
    """Where the exact weight w_j = b_j e^{x_j} / sum(b e^x), or the product w_j g_j that
    reverse mode forms first, is subnormal (computed in float64)."""
    x = t["x"].astype(np.float64)
    mask = t["where"] if "where" in t else np.ones(x.shape, bool)
    b = t["b"].astype(np.float64) if "b" in t else 1.0
    top = np.max(np.where(mask, x, -np.inf), axis=-1, keepdims=True)
    e = np.where(mask, b * np.exp(x - np.where(np.isfinite(top), top, 0.0)), 0.0)
    w = e / np.sum(e, axis=-1, keepdims=True)
    g = t["g"] if t["g"].ndim == x.ndim else t["g"][..., None]  # reductions: one g per row
    return (np.abs(w) < TINY) | (np.abs(w * g) < TINY)


@pytest.mark.parametrize("size", SIZES)
@pytest.mark.parametrize("case", cases.NORM_CASES, ids=lambda c: c.id)
def test_normalizer_value(case: cases.NormCase, size: str) -> None:
    t, got = table(case.id), norm_computed(case.id, size)
    ref = t["value"]
    assert got["value"].shape == ref.shape, f"{case.id}: shape {got['value'].shape} != {ref.shape}"
    units = unit(ref, t["value_scale"], always=case.name in REDUCTIONS)
    err = ulp_error(got["value"], ref, units)
    check(f"{case.id} value", norm_label(t, ref.shape), got["value"].ravel(), ref.ravel(),
          units.ravel(), err.ravel(), VALUE_ULP)
    if "sign" in got:
        wrong = ~np.isnan(ref) & (got["sign"] != t["sign"])
        assert not wrong.any(), (f"{case.id} sign: rows {np.flatnonzero(wrong)} got "
                                 f"{got['sign'][wrong]}, want {t['sign'][wrong]}")


@pytest.mark.parametrize("size", SIZES)
@pytest.mark.parametrize("case", cases.NORM_CASES, ids=lambda c: c.id)
def test_normalizer_vjp(case: cases.NormCase, size: str) -> None:
    """VJP with a fixed cotangent g, <= 8 units.

    A VJP entry is a signed sum (softmax: y_j g_j - y_j sum_i y_i g_i; log_softmax:
    g_j - p_j sum_i g_i), and even a float32 dot product of exactly rounded terms is
    only accurate to 2^-24 times the sum of |terms|: that is the unit, always (not only
    above 2^10). The conditioning in x (sum_k |x_k dvjp_j/dx_k|) counts as for values.
    Undefined entries (the all -inf row) are not compared.
    """
    t, got = table(case.id), norm_computed(case.id, size)
    ref = t["vjp"]
    units = np.maximum(unit(ref, t["vjp_terms"], always=True), unit(ref, t["vjp_scale"]))
    err = ulp_error(got["vjp"], ref, units)
    err[np.isnan(ref)] = 0.0
    # Reverse mode forms w_j g_j first (the transpose of "multiply by w"); where that, or
    # w_j itself, is subnormal XLA flushes it (FTZ), even when the final entry would be
    # just above 2^-126: accept 0 there.
    if case.name != "log_softmax":
        err[flushed_weights(t) & (got["vjp"] == 0)] = 0.0
    check(f"{case.id} vjp", norm_label(t, ref.shape), got["vjp"].ravel(), ref.ravel(),
          units.ravel(), err.ravel(), DERIV_ULP)
