"""Micro-benchmark of jaxact against jax.nn, and a count of the residuals saved for backward.

Used by ``jaxact bench`` (jaxact/cli.py) and ``python -m bench.micro``. Timings follow the
house rules: compile first, ``block_until_ready`` every call, jaxact and jax.nn interleaved
in one process (adjacent pairs, order alternating every round), medians of many rounds, and a
jitted copy ``x * one`` (``one`` a runtime scalar, so XLA cannot elide it) as the memory floor.
"""

from __future__ import annotations

import dataclasses
import datetime
import functools
import json
import math
import os
import platform
import re
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
from jax.extend import core as jcore

DEFAULT_SIZE = 2**22
DEFAULT_REPS = 101
QUICK_SIZE = 2**14
QUICK_REPS = 5
ROW = 1024  # normalizers and glu work along rows of this length
_POSITIVE_DOMAIN = frozenset({"log1mexp"})  # defined for x > 0 only


# --- residuals ----------------------------------------------------------------------


def residuals(f: Callable[..., Any], x: Any) -> list[dict[str, Any]]:
    """The arrays ``jax.vjp(f, x)`` keeps for the backward pass, with where they come from.

    Tracing only (``x`` may be a ``jax.ShapeDtypeStruct``; nothing is allocated). Each
    distinct residual appears once, as ``{"shape", "dtype", "size", "depends_on_x",
    "source"}``. A residual that does not depend on ``x`` (a broadcast constant, a literal)
    is reported with ``depends_on_x=False``: XLA folds or rematerialises it for free.
    """
    closed, out_shape = jax.make_jaxpr(lambda x: jax.vjp(f, x), return_shape=True)(x)
    jaxpr = closed.jaxpr
    n_res = len(jax.tree_util.tree_leaves(out_shape[1]))
    res_vars = jaxpr.outvars[len(jaxpr.outvars) - n_res :] if n_res else []
    depends = _dependent_vars(jaxpr, [True] * len(jaxpr.invars))
    producer = {v: e for e in jaxpr.eqns for v in e.outvars}
    out, seen = [], set()
    for v in res_vars:
        if isinstance(v, jcore.Literal) or v in seen:
            continue
        seen.add(v)
        if v in jaxpr.invars:
            source = "the input x"
        elif v in producer:
            eqn = producer[v]
            name = eqn.params.get("name")
            source = f"{eqn.primitive}" + (f" {name!r}" if name else "")
        else:
            source = "a constant"
        out.append(
            {
                "shape": list(v.aval.shape),
                "dtype": str(v.aval.dtype),
                "size": math.prod(v.aval.shape),
                "depends_on_x": v in depends,
                "source": source,
            }
        )
    return out


def saved_residuals(f: Callable[..., Any], x: Any, *, min_fraction: float = 0.5) -> int:
    """Number of full-size arrays ``f`` saves for its backward pass at input ``x``.

    Counts the distinct residuals of ``jax.vjp(f, x)`` that depend on ``x`` (the input
    itself counts: ``f`` forces it to stay alive) and have at least ``min_fraction *
    x.size`` elements. One half lets the halves that ``glu`` saves count; a normalizer's
    per-row statistics (``x.size / 1024`` elements) do not. Masks count like any array.

    Args:
      f: a function of one array.
      x: an array or ``jax.ShapeDtypeStruct`` (only traced; nothing is allocated).
      min_fraction: smallest residual, as a fraction of ``x.size``, that counts.

    Returns:
      The count, an ``int`` >= 0.

    Examples:
      >>> import jax, jax.numpy as jnp
      >>> x = jax.ShapeDtypeStruct((1024,), jnp.float32)
      >>> saved_residuals(lambda x: x * 2, x), saved_residuals(jnp.sin, x)
      (0, 1)
    """
    return len(_full_size(residuals(f, x), math.prod(np.shape(x)), min_fraction))


def _full_size(rs: list[dict[str, Any]], size: int, min_fraction: float = 0.5) -> list[Any]:
    return [r for r in rs if r["depends_on_x"] and r["size"] >= min_fraction * size]


def _dependent_vars(jaxpr: Any, in_dep: Sequence[bool]) -> set[Any]:
    """Vars of ``jaxpr`` that depend on the invars flagged in ``in_dep``.

    Recurses into a sub-jaxpr whose arity matches its equation (jit, custom_jvp_call,
    closed_call, ...), so a constant built inside a jitted function is not blamed on x;
    other higher-order primitives are treated conservatively (all outputs depend).
    """
    dep = {v for v, d in zip(jaxpr.invars, in_dep, strict=True) if d}
    for eqn in jaxpr.eqns:
        flags = [not isinstance(v, jcore.Literal) and v in dep for v in eqn.invars]
        if not any(flags):
            continue
        sub = _matching_subjaxpr(eqn)
        if sub is None:
            dep.update(eqn.outvars)
            continue
        inner = _dependent_vars(sub, flags)
        dep.update(o for o, io in zip(eqn.outvars, sub.outvars, strict=True) if io in inner)
    return dep


def _matching_subjaxpr(eqn: Any) -> Any:
    subs = []
    for p in eqn.params.values():
        j = p.jaxpr if isinstance(p, jcore.ClosedJaxpr) else p
        if isinstance(j, jcore.Jaxpr):
            subs.append(j)
    if len(subs) != 1:
        return None
    (j,) = subs
    if len(j.invars) != len(eqn.invars) or len(j.outvars) != len(eqn.outvars):
        return None
    return j


# --- cases --------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class Case:
    """One benchmarked function: jaxact's and the baseline's, called the same way."""

    name: str
    kind: str
    ours: Callable[..., Any]
    theirs: Callable[..., Any]


def registry_cases(only: Sequence[str] | None = None) -> tuple[list[Case], list[dict[str, str]]]:
    """Cases for every registry entry with ``source == "jax.nn"`` that jax.nn also has.

    Returns:
      ``(cases, skipped)``; ``skipped`` lists ``{"name", "why"}`` for entries left out.
    """
    import jaxact

    wanted = [jaxact.entry(n).name for n in only] if only else jaxact.names(source="jax.nn")
    cases, skipped = [], []
    for name in wanted:
        e = jaxact.entry(name)
        theirs = getattr(jax.nn, e.name, None)
        if theirs is None:
            skipped.append({"name": e.name, "why": "jax.nn has no function of this name"})
            continue
        ours = e.fn
        if e.kind == "normalizer":  # rows along the last axis (logsumexp defaults to all)
            ours = functools.partial(ours, axis=-1)
            theirs = functools.partial(theirs, axis=-1)
        cases.append(Case(e.name, e.kind, ours, theirs))
    return cases, skipped


# --- timing -------------------------------------------------------------------------


def bench_shape(size: int) -> tuple[int, int]:
    """The input shape for ``size`` elements: rows of ``ROW`` (or one row, if smaller)."""
    cols = min(ROW, size)
    if size % cols or cols % 2:
        raise ValueError(f"bench: size must be an even multiple of {ROW} or below it, got {size}")
    return size // cols, cols


def _input(name: str, shape: tuple[int, int]) -> jax.Array:
    x = 3.0 * jax.random.normal(jax.random.key(0), shape, jnp.float32)
    return jnp.abs(x) + 0.01 if name in _POSITIVE_DOMAIN else x


def _vjp_fn(f: Callable[..., Any]) -> Callable[..., Any]:
    # Forward and backward in one jit, as a training step runs them.
    return jax.jit(lambda x, g: jax.vjp(f, x)[1](g)[0])


def _nbytes(*arrays: Any) -> int:
    return sum(a.size * a.dtype.itemsize for a in arrays)


def copy_floor(x: jax.Array) -> tuple[Callable[[], jax.Array], dict[str, Any]]:
    """A jitted ``x * one`` with ``one`` passed at run time, and a check that it copies."""
    fn = jax.jit(lambda x, one: x * one)
    one = jnp.ones((), x.dtype)
    hlo = fn.lower(x, one).compile().as_text() or ""
    y = fn(x, one).block_until_ready()
    check = {
        "expr": "jit(lambda x, one: x * one), one a runtime scalar",
        "hlo_has_multiply": "multiply" in hlo,
        "new_buffer": y.unsafe_buffer_pointer() != x.unsafe_buffer_pointer(),
        "equal": bool(jnp.array_equal(x, y)),
    }
    if not all(v for k, v in check.items() if k != "expr"):
        raise RuntimeError(f"bench: the copy floor was elided or wrong: {check}")
    return functools.partial(fn, x, one), check


def _time(call: Callable[[], Any]) -> float:
    t0 = time.perf_counter()
    jax.block_until_ready(call())
    return time.perf_counter() - t0


def _stats(samples: Sequence[float]) -> dict[str, float]:
    q25, med, q75 = np.percentile(samples, [25, 50, 75])
    return {"median_ms": 1e3 * med, "iqr_rel": (q75 - q25) / med if med else math.nan}


def bench_case(case: Case, size: int, reps: int, warmup: int = 2) -> dict[str, Any]:
    """Times one case (forward, forward+VJP, copy floor), interleaved; returns its record."""
    x = _input(case.name, bench_shape(size))
    fwd = {"jaxact": jax.jit(case.ours), "jax.nn": jax.jit(case.theirs)}
    y = {k: f(x).block_until_ready() for k, f in fwd.items()}
    g = jnp.ones_like(y["jax.nn"])
    vjp = {k: _vjp_fn(f) for k, f in (("jaxact", case.ours), ("jax.nn", case.theirs))}
    copy, _ = copy_floor(x)
    calls = {("copy", "-"): copy}
    for k in ("jaxact", "jax.nn"):
        calls["fwd", k] = functools.partial(fwd[k], x)
        calls["vjp", k] = functools.partial(vjp[k], x, g)
    # Each round: the copy, then the fwd pair, then the vjp pair, each pair adjacent (so
    # its ratio sees the same load) and in alternating order (so neither side always
    # follows the same call: an A/A run of jax.nn against itself reads 1.00).
    ab, ba = ("jaxact", "jax.nn"), ("jax.nn", "jaxact")
    even = [("copy", "-")] + [(m, k) for m in ("fwd", "vjp") for k in ab]
    odd = [("copy", "-")] + [(m, k) for m in ("fwd", "vjp") for k in ba]
    for _ in range(warmup):
        for c in even:
            jax.block_until_ready(calls[c]())
    samples: dict[tuple[str, str], list[float]] = {c: [] for c in even}
    for r in range(reps):
        for c in even if r % 2 == 0 else odd:
            samples[c].append(_time(calls[c]))
    t = {c: float(np.median(s)) for c, s in samples.items()}
    nbytes = {"fwd": _nbytes(x, y["jaxact"]), "vjp": _nbytes(x, g, x), "copy": 2 * _nbytes(x)}
    copy_gbps = nbytes["copy"] / t["copy", "-"] / 1e9
    rec: dict[str, Any] = {"name": case.name, "kind": case.kind, "shape": list(x.shape)}
    rec["out_shape"] = list(y["jaxact"].shape)
    rec["copy"] = {**_stats(samples["copy", "-"]), "gbps": copy_gbps, "bytes": nbytes["copy"]}
    rec["copy"]["samples_ms"] = [round(1e3 * s, 4) for s in samples["copy", "-"]]
    for mode in ("fwd", "vjp"):
        ours, theirs = samples[mode, "jaxact"], samples[mode, "jax.nn"]
        paired = np.asarray(ours) / np.asarray(theirs)  # same round: drift cancels
        gbps = nbytes[mode] / t[mode, "jaxact"] / 1e9
        q25, q50, q75 = (float(v) for v in np.percentile(paired, [25, 50, 75]))
        rec[mode] = {
            "jaxact": _stats(ours),
            "jax.nn": _stats(theirs),
            "ratio": q50,
            "ratio_p25_p75": [q25, q75],
            "ratio_of_medians": t[mode, "jaxact"] / t[mode, "jax.nn"],
            # Low percentiles approximate the unloaded machine when other work shares it.
            "ratio_of_p10": float(np.percentile(ours, 10) / np.percentile(theirs, 10)),
            "bytes": nbytes[mode],
            "gbps": gbps,
            "frac_of_copy": gbps / copy_gbps,
            "samples_ms": {k: [round(1e3 * s, 4) for s in samples[mode, k]] for k in fwd},
        }
    spec = jax.ShapeDtypeStruct(x.shape, x.dtype)
    rec["residuals"] = {}
    for k, f in (("jaxact", case.ours), ("jax.nn", case.theirs)):
        detail = residuals(f, spec)
        full = _full_size(detail, x.size)
        rec["residuals"][k] = len(full)  # == saved_residuals(f, spec)
        rec["residuals"][f"{k}_bytes_per_element"] = (
            sum(r["size"] * np.dtype(r["dtype"]).itemsize for r in full) / x.size
        )
        rec["residuals"][f"{k}_detail"] = detail
        # Full-size residuals that do not depend on x (broadcast constants): XLA folds
        # them inside one jit, but a vjp across a jit boundary materialises them.
        rec["residuals"][f"{k}_constant"] = sum(
            1 for r in detail if not r["depends_on_x"] and r["size"] >= x.size / 2
        )
    # A sanity check that both sides compute the same function (not an accuracy test).
    ours, theirs = np.asarray(y["jaxact"]), np.asarray(y["jax.nn"])
    close = np.isclose(ours, theirs, rtol=1e-4, atol=1e-6, equal_nan=True)
    rec["differs_from_jax.nn"] = {
        "rtol": 1e-4,
        "atol": 1e-6,
        "elements": int(close.size - close.sum()),
        "max_abs_diff": float(np.nanmax(np.abs(ours - theirs))) if ours.size else 0.0,
    }
    return rec


def _machine() -> dict[str, Any]:
    import importlib.metadata

    import jaxact

    try:
        with open("/proc/cpuinfo") as fh:
            models = [ln.split(":", 1)[1].strip() for ln in fh if ln.startswith("model name")]
    except OSError:
        models = []
    return {
        "platform": jax.default_backend(),
        "device_kind": jax.devices()[0].device_kind,
        "device_count": jax.device_count(),
        "cpu_count": os.cpu_count(),
        "cpu_model": models[0] if models else platform.processor() or platform.machine(),
        "python": platform.python_version(),
        "jax": jax.__version__,
        "jaxlib": importlib.metadata.version("jaxlib"),
        "jaxact": getattr(jaxact, "__version__", None),
    }


def run(
    cases: Sequence[Case],
    *,
    size: int = DEFAULT_SIZE,
    reps: int = DEFAULT_REPS,
    skipped: Sequence[dict[str, str]] = (),
    progress: Callable[[str], None] | None = None,
) -> dict[str, Any]:
    """Benchmarks ``cases`` and returns the JSON-ready result (see ``format_table``)."""
    t0 = time.perf_counter()
    load0 = os.getloadavg() if hasattr(os, "getloadavg") else None
    records = []
    for i, case in enumerate(cases):
        if progress:
            progress(f"[{i + 1}/{len(cases)}] {case.name}")
        records.append(bench_case(case, size, reps))
    return {
        "schema": 1,
        **_machine(),
        "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "dtype": "float32",
        "size": size,
        "row": min(ROW, size),
        "reps": reps,
        "timing": "medians over rounds of: copy, fwd pair, vjp pair; pair order alternates",
        "loadavg_start_end": [load0, os.getloadavg() if load0 else None],
        "wall_s": time.perf_counter() - t0,
        "results": records,
        "skipped": list(skipped),
    }


def _one_line(m: re.Match[str]) -> str:
    return "[" + ", ".join(v.strip() for v in m.group(1).split(",")) + "]"


def write(result: dict[str, Any], path: str | os.PathLike[str]) -> Path:
    """Writes ``result`` as JSON to ``path`` (parents created); returns the path."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    text = json.dumps(result, indent=1, default=str)
    # One line per list of numbers (samples, shapes), so the file stays readable in a diff.
    text = re.sub(r"\[\s+([-+.\deE]+(?:,\s+[-+.\deE]+)*)\s+\]", _one_line, text)
    path.write_text(text + "\n")
    return path
