"""Builds the reference tables that ``tests/test_accuracy.py`` compares jaxact against.

Where the values come from: mpmath (its version is stored in every table) evaluating
the references of ``tests/cases.py`` on the exact float32 inputs. Every number is
computed at 256 bits and again at 512; where the two disagree beyond 2^-50 relative
(a reference formula cancelling, e.g. at |x| ~ 1e38), the precision keeps doubling
until two successive ones agree. The result is rounded to float64: values beyond the
float64 range are stored as +-inf and values below it as 0, which is harmless because
float32 is the target. ``x`` at +-inf is evaluated at +-10^1000, i.e. as the limit.

Elementwise grid: log-spaced magnitudes 1e-38..3.4e38 (600 per sign); [-30, 30] in
steps of 0.02; +-[30, 130] in steps of 0.5 (where float32 exp overflows, underflows
and goes subnormal); +-0, +-inf, nan, +-float32 max, +-smallest normal and subnormal;
each case's branch points with 3 float32 neighbours either side; clusters around the
zeros of f and f' the case lists (refined here with mpmath.findroot).

Parameter derivatives (cases with ``dparams``): ``dp_<key>`` holds df/dp on the same grid
and ``dps_<key>`` its conditioning scale |x dg/dx| + |p dg/dp| (g = df/dp, both by
mpmath.diff at 256 bits; nan at the case's branch points and at +-inf).

Normalizer tables hold the row set's inputs (x, where, b, cotangents) with the exact
values, VJPs and their conditioning scales (see ``cases.norm_reference``).

Usage (deterministic; all cases in about 2 minutes on 2 cores)::

    python tests/reference/generate.py              # every case
    python tests/reference/generate.py gelu selu    # some cases, by id

It writes ``tests/reference/{case-id}.npz`` (zip entries with fixed timestamps, so an
unchanged table regenerates byte for byte).
"""

from __future__ import annotations

import io
import multiprocessing
import sys
import time
import zipfile
from collections.abc import Callable
from pathlib import Path

import mpmath as mp
import numpy as np

HERE = Path(__file__).resolve().parent
if str(HERE.parent) not in sys.path:  # tests/cases.py, also when run as a script
    sys.path.insert(0, str(HERE.parent))

import cases  # noqa: E402

PRECS = (256, 512, 1024, 2048, 4096, 8192)
CHUNK = 400  # grid points per task: small enough to balance two workers
F32 = np.finfo(np.float32)
BY_ID = {c.id: c for c in (*cases.CASES, *cases.NORM_CASES)}


def _neighbours(x0: float, k: int) -> list[np.float32]:
    """``x0`` as float32 and its ``k`` float32 neighbours on either side."""
    up = down = np.float32(x0)
    out = [up]
    for _ in range(k):
        up, down = np.nextafter(up, np.float32(np.inf)), np.nextafter(down, np.float32(-np.inf))
        out += [up, down]
    return out


def _root(case: cases.Case, which: str, guess: float) -> mp.mpf:
    fn = case.f if which == "f" else case.df
    with mp.workprec(256):
        return mp.findroot(fn, mp.mpf(guess))


def grid(case: cases.Case) -> np.ndarray:
    """The sorted float32 inputs of one elementwise case (nan last, -0 before +0)."""
    mags = np.geomspace(1e-38, 3.4e38, 600)
    medium = np.arange(60, 261) / 2
    special = [0.0, -0.0, np.inf, -np.inf, np.nan, F32.max, -F32.max, F32.tiny, -F32.tiny,
               F32.smallest_subnormal, -F32.smallest_subnormal, 1e-40, -1e-40]
    parts = [mags, -mags, np.arange(-1500, 1501) / 50, medium, -medium, special]
    parts += [_neighbours(p, 3) for p in case.points]
    for which, guess in case.roots:
        r = _root(case, which, guess)
        parts.append(_neighbours(float(r), 8))
        parts.append([float(r * (1 + s * mp.mpf(2) ** -k)) for k in range(2, 23) for s in (1, -1)])
    x = np.concatenate([np.asarray(p, np.float64).astype(np.float32) for p in parts])
    x = np.unique(x.view(np.uint32)).view(np.float32)  # dedupe by bits: keeps -0 and +0
    return x[np.argsort(x, kind="stable")]


def _agree(a: tuple[float, ...], b: tuple[float, ...]) -> bool:
    return all(u == v or (np.isnan(u) and np.isnan(v)) or abs(u - v) <= 2**-50 * abs(v)
               for u, v in zip(a, b, strict=True))


def _converged(evaluate: Callable[[], tuple[mp.mpf, ...]], what: str) -> tuple[float, ...]:
    """``evaluate()`` (a tuple of mpf) at rising precision until two agree, as float64."""
    prev = None
    for prec in PRECS:
        with mp.workprec(prec):
            vals = tuple(float(mp.mpf(v)) for v in evaluate())
        if prev is not None and _agree(prev, vals):
            return vals
        prev = vals
    raise RuntimeError(f"{what}: no agreement up to {PRECS[-1]} bits: {prev}")


def _point(case: cases.Case, x32: np.float32) -> tuple[float, ...]:
    """f, f', f'' at one input, then for each parameter derivative g = df/dp (in the
    order of ``case.dparams``) g and its conditioning scale |x dg/dx| + |p dg/dp|."""
    if np.isnan(x32):
        return (np.nan,) * (3 + 2 * len(case.dparams))
    d2f = case.d2f or (lambda t: mp.diff(case.df, t))
    ps = {key: mp.mpf(float(case.param_value(key))) for key in case.dparams}

    def evaluate() -> tuple[mp.mpf, ...]:
        if np.isinf(x32):  # the limit; f'' there is not needed
            x = mp.mpf(10) ** 1000 * (1 if x32 > 0 else -1)
            return (case.f(x), case.df(x), mp.nan,
                    *(g(x, ps[key]) for key, g in case.dparams.items()))
        x = mp.mpf(float(x32))
        return (case.f(x), case.df(x), d2f(x),
                *(g(x, ps[key]) for key, g in case.dparams.items()))

    vals = _converged(evaluate, f"{case.id} at x={x32!r}")
    # The scales are units, not references: one precision is plenty. None at +-inf, nor
    # at a branch point, where g may jump (mp.diff across a jump is meaningless and the
    # derivatives are not compared there).
    scales = [np.nan] * len(case.dparams)
    if np.isfinite(x32) and not np.isin(x32, np.asarray(case.points, np.float32)):
        with mp.workprec(PRECS[0]):
            x = mp.mpf(float(x32))
            for i, (key, g) in enumerate(case.dparams.items()):
                p = ps[key]
                scales[i] = float(abs(x * mp.diff(lambda t: g(t, p), x))  # noqa: B023
                                  + abs(p * mp.diff(lambda q: g(x, q), p)))  # noqa: B023
    return (*vals[:3], *(v for pair in zip(vals[3:], scales, strict=True) for v in pair))


def _work(task: tuple[str, np.ndarray | int]) -> np.ndarray | dict[str, list[float]]:
    case_id, what = task
    case = BY_ID[case_id]
    if isinstance(case, cases.Case):
        return np.array([_point(case, v) for v in what], np.float64)
    rows, i = cases.ROWS[case.rows], what
    args = (rows.x[i], None if rows.where is None else rows.where[i],
            None if rows.b is None else rows.b[i], rows.g[i], rows.gr[i])
    keys = sorted(cases.norm_reference(case, *args))

    def evaluate() -> tuple[mp.mpf, ...]:
        out = cases.norm_reference(case, *args)
        return tuple(v for k in keys for v in out[k])

    flat = _converged(evaluate, f"{case.id} row {i}")
    sizes = [len(v) for v in (cases.norm_reference(case, *args)[k] for k in keys)]
    split = np.split(np.array(flat), np.cumsum(sizes)[:-1])
    return dict(zip(keys, split, strict=True))


def save(path: Path, arrays: dict[str, np.ndarray]) -> None:
    """``np.savez_compressed`` with fixed zip timestamps (reproducible bytes)."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as zf:
        for name, arr in arrays.items():
            buf = io.BytesIO()
            np.lib.format.write_array(buf, np.asanyarray(arr), allow_pickle=False)
            info = zipfile.ZipInfo(f"{name}.npy", date_time=(1980, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            zf.writestr(info, buf.getvalue())


def _meta(case: cases.Case | cases.NormCase) -> dict[str, np.ndarray]:
    return dict(case_id=np.array(case.id), name=np.array(case.name),
                params=np.array(repr(dict(case.params))), signature=np.array(case.signature()),
                formula=np.array(getattr(case, "formula", case.signature())),
                mpmath_version=np.array(mp.__version__))


def main(ids: list[str]) -> None:
    unknown = sorted(set(ids) - set(BY_ID))
    if unknown:
        raise SystemExit(f"unknown case ids {unknown}; known: {', '.join(BY_ID)}")
    todo = [BY_ID[i] for i in ids] if ids else list(BY_ID.values())
    start = time.perf_counter()
    grids, tasks = {}, []
    for case in todo:
        if isinstance(case, cases.Case):
            grids[case.id] = grid(case)
            tasks += [(case.id, c) for c in np.array_split(grids[case.id],
                                                           -(-len(grids[case.id]) // CHUNK))]
        else:
            tasks += [(case.id, i) for i in range(len(cases.ROWS[case.rows].x))]
    with multiprocessing.get_context("fork").Pool(2) as pool:
        results = pool.map(_work, tasks, chunksize=1)
    for case in todo:
        mine = [r for (cid, _), r in zip(tasks, results, strict=True) if cid == case.id]
        if isinstance(case, cases.Case):
            ref = np.concatenate(mine)
            arrays = dict(x=grids[case.id], f=ref[:, 0], df=ref[:, 1], d2f=ref[:, 2])
            for i, key in enumerate(case.dparams):
                arrays[f"dp_{key}"], arrays[f"dps_{key}"] = ref[:, 3 + 2 * i], ref[:, 4 + 2 * i]
        else:
            rows = cases.ROWS[case.rows]
            arrays = {k: np.stack([r[k] for r in mine]) for k in mine[0]}
            if case.reduces:
                for k in ("value", "value_scale", "sign"):
                    arrays[k] = arrays[k][:, 0]
            else:
                arrays.pop("sign", None)
            arrays.update(x=rows.x, g=rows.gr if case.reduces else rows.g)
            extra = {"where": rows.where, "b": rows.b}
            arrays.update({k: v for k, v in extra.items() if v is not None})
        save(HERE / f"{case.id}.npz", {**arrays, **_meta(case)})
    took = time.perf_counter() - start
    total = sum((HERE / f"{c.id}.npz").stat().st_size for c in todo)
    print(f"wrote {len(todo)} tables ({total / 1e6:.2f} MB) in {took:.0f} s")


if __name__ == "__main__":
    main(sys.argv[1:])
