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

from jaxact import _bench_torch
from jaxact._bench_residuals import _full_size, kernels, residuals
from jaxact._bench_residuals import saved_residuals as saved_residuals  # re-exported

# 2^22 float32 (16 MiB per array, past this CPU's caches: the comparison issue 2 asks for)
# and 21 rounds: all 77 functions in about 3 min on a 2-core CPU, 4 with the ladder.
DEFAULT_SIZE = 2**22
DEFAULT_REPS = 21
QUICK_SIZE = 2**14
QUICK_REPS = 5
ROW = 1024  # normalizers and glu work along rows of this length
# Launch overhead vs bandwidth: a few representative functions over 2^10..2^26 (x4 steps).
LADDER = ("relu", "sigmoid", "gelu", "softmax")
LADDER_SIZES = tuple(4**k for k in range(5, 14))


# --- cases --------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class Case:
    """One benchmarked function: jaxact's and the baseline's (``None``: no baseline)."""

    name: str
    kind: str
    ours: Callable[..., Any]
    theirs: Callable[..., Any] | None
    domain: tuple[float, float] = (-math.inf, math.inf)


def registry_cases(only: Sequence[str] | None = None) -> tuple[list[Case], list[dict[str, str]]]:
    """Cases for every registry entry (or those in ``only``), each with its baseline.

    An entry whose ``source`` is ``"jax.nn"`` is compared with the jax.nn function of the
    same name, called with the same arguments; the others are timed against the copy floor
    only. Required arguments come from the entry's ``sample``; functions with an ``axis``
    work along rows (``logsumexp`` and ``logmeanexp`` default to the whole array).

    Returns:
      ``(cases, skipped)``; ``skipped`` lists ``{"name", "why"}`` for entries left out.
    """
    import jaxact

    wanted = [jaxact.entry(n).name for n in only] if only else jaxact.names()
    cases, skipped = [], []
    for name in wanted:
        e = jaxact.entry(name)
        theirs = getattr(jax.nn, e.name, None) if e.source == "jax.nn" else None
        if e.source == "jax.nn" and theirs is None:
            skipped.append({"name": e.name, "why": "jax.nn has no function of this name"})
            continue
        kw = dict(e.sample)
        if any(p.name == "axis" for p in e.params) or e.kind == "normalizer":
            kw["axis"] = -1
        ours = functools.partial(e.fn, **kw) if kw else e.fn
        if theirs is not None and kw:
            theirs = functools.partial(theirs, **kw)
        cases.append(Case(e.name, e.kind, ours, theirs, e.domain))
    return cases, skipped


# --- timing -------------------------------------------------------------------------


def bench_shape(size: int) -> tuple[int, int]:
    """The input shape for ``size`` elements: rows of ``ROW`` (or one row, if smaller)."""
    cols = min(ROW, size)
    if size % cols or cols % 2:
        raise ValueError(f"bench: size must be an even multiple of {ROW} or below it, got {size}")
    return size // cols, cols


def _input(domain: tuple[float, float], shape: tuple[int, int], dtype: Any) -> jax.Array:
    x = 3.0 * jax.random.normal(jax.random.key(0), shape, jnp.float32)
    lo, hi = domain  # a half-line domain (log1mexp: x > 0) gets inputs inside it
    if math.isfinite(lo):
        x = lo + jnp.abs(x) + 0.01
    elif math.isfinite(hi):
        x = hi - jnp.abs(x) - 0.01
    return x.astype(dtype)


def training_step(f: Callable[..., Any]) -> Callable[..., Any]:
    """``(x, g) -> (f(x), g . f'(x))`` in one jit: what a training step computes.

    The value feeds the next layer and the cotangent goes back, so both are outputs.
    Returning the cotangent alone would let XLA drop the value's own work: nothing for
    jax.nn, whose gradients reuse their value, but all of it for a custom rule that
    computes the derivative from ``x`` (``bench`` times this as "forward+VJP").

    Examples:
      >>> y, dx = training_step(jnp.exp)(jnp.zeros(2), jnp.full(2, 3.0))
      >>> y, dx
      (Array([1., 1.], dtype=float32), Array([3., 3.], dtype=float32))
    """

    def step(x: Any, g: Any) -> tuple[Any, Any]:
        y, pull = jax.vjp(f, x)
        return y, pull(g)[0]

    return jax.jit(step)


def _nbytes(*arrays: Any) -> int:
    return sum(a.size * a.dtype.itemsize for a in arrays)


_COPY = jax.jit(lambda x, one: x * one)


def copy_floor(x: jax.Array) -> tuple[Callable[[], jax.Array], dict[str, Any]]:
    """A jitted ``x * one`` with ``one`` passed at run time, and a check that it copies."""
    fn = _COPY  # one jit for all cases: compiled once per shape, not once per function
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


def calls_per_sample() -> int:
    """Calls timed back to back per sample: 1 on a CPU; 10 on an accelerator, where each
    call is queued asynchronously and only the last is waited for, so the host's dispatch
    and synchronisation (~0.1-0.2 ms on an H100, as long as a 2^26-element kernel)
    overlap the device's work instead of being added to every sample."""
    return 1 if jax.default_backend() == "cpu" else 10


def _no_sync() -> None:
    pass


def _time(call: Callable[[], Any], n: int = 1, sync: Callable[[], Any] = _no_sync) -> float:
    """Seconds per call of ``n`` calls back to back, waiting for the last one only."""
    t0 = time.perf_counter()
    for _ in range(n - 1):
        call()
    jax.block_until_ready(call())
    sync()
    return (time.perf_counter() - t0) / n


def _stats(samples: Sequence[float]) -> dict[str, float]:
    q25, med, q75 = np.percentile(samples, [25, 50, 75])
    return {"median_ms": 1e3 * med, "iqr_rel": (q75 - q25) / med if med else math.nan}


def _compile_s(fn: Callable[..., Any], *args: Any) -> tuple[float, Any]:
    """Seconds of the first call (trace, compile, run) of a fresh jit, and its output."""
    t0 = time.perf_counter()
    y = jax.block_until_ready(fn(*args))
    return time.perf_counter() - t0, y


def bench_case(
    case: Case, size: int, reps: int, warmup: int = 2, dtype: Any = jnp.float32
) -> dict[str, Any]:
    """Times one case (forward, forward+VJP, copy floor), interleaved; returns its record.

    Without a baseline (``case.theirs is None``) the ratio fields are absent and only
    jaxact and the copy floor are timed. ``dtype`` is the input's (bfloat16: jaxact
    computes in float32 and rounds once, jax.nn computes in bfloat16).
    """
    x = _input(case.domain, bench_shape(size), dtype)
    fns = {"jaxact": case.ours} | ({"jax.nn": case.theirs} if case.theirs else {})
    sides = tuple(fns)
    fwd = {k: jax.jit(f) for k, f in fns.items()}
    vjp = {k: training_step(f) for k, f in fns.items()}
    compile_s, y = {}, {}
    for k in sides:
        compile_s[k], y[k] = _compile_s(fwd[k], x)
    g = jnp.ones_like(y["jaxact"])
    for k in sides:
        compile_s[k + " vjp"], _ = _compile_s(vjp[k], x, g)
    copy, _ = copy_floor(x)
    calls = {("copy", "-"): copy}
    for k in sides:
        calls["fwd", k] = functools.partial(fwd[k], x)
        calls["vjp", k] = functools.partial(vjp[k], x, g)
    device = "cuda" if jax.default_backend() == "gpu" else "cpu"
    torch_sync = _no_sync
    torch_calls = _bench_torch.calls(case.name, np.asarray(x, np.float32), x.dtype.name, device)
    if torch_calls:  # torch installed and has the function: a third side, timed last
        calls["fwd", "torch"], calls["vjp", "torch"], torch_sync = torch_calls
    # Each round: the copy, then the fwd pair, then the vjp pair, each pair adjacent (so
    # its ratio sees the same load) and in alternating order (so neither side always
    # follows the same call: an A/A run of jax.nn against itself reads 1.00).
    even = [("copy", "-")] + [(m, k) for m in ("fwd", "vjp") for k in sides]
    odd = [("copy", "-")] + [(m, k) for m in ("fwd", "vjp") for k in reversed(sides)]
    if torch_calls:
        even += [("fwd", "torch"), ("vjp", "torch")]
        odd += [("vjp", "torch"), ("fwd", "torch")]
    for _ in range(warmup):
        for c in even:
            jax.block_until_ready(calls[c]())
    samples: dict[tuple[str, str], list[float]] = {c: [] for c in even}
    n = calls_per_sample()
    for r in range(reps):
        for c in even if r % 2 == 0 else odd:
            samples[c].append(_time(calls[c], n, torch_sync if c[1] == "torch" else _no_sync))
    t = {c: float(np.median(s)) for c, s in samples.items()}
    nbytes = {"fwd": _nbytes(x, y["jaxact"]), "vjp": _nbytes(x, g, y["jaxact"], x),
              "copy": 2 * _nbytes(x)}
    copy_gbps = nbytes["copy"] / t["copy", "-"] / 1e9
    rec: dict[str, Any] = {"name": case.name, "kind": case.kind, "shape": list(x.shape)}
    rec["out_shape"] = list(y["jaxact"].shape)
    rec["baseline"] = "jax.nn" if case.theirs else None
    if torch_calls:
        rec["torch_device"] = device
    rec["compile_s"] = compile_s
    rec["copy"] = {**_stats(samples["copy", "-"]), "gbps": copy_gbps, "bytes": nbytes["copy"]}
    rec["copy"]["samples_ms"] = [round(1e3 * s, 4) for s in samples["copy", "-"]]
    for mode in ("fwd", "vjp"):
        gbps = nbytes[mode] / t[mode, "jaxact"] / 1e9
        m: dict[str, Any] = {k: _stats(samples[mode, k]) for k in sides}
        m |= {"bytes": nbytes[mode], "gbps": gbps, "frac_of_copy": gbps / copy_gbps}
        m["samples_ms"] = {k: [round(1e3 * s, 4) for s in samples[mode, k]] for k in sides}
        if case.theirs:
            ours, theirs = samples[mode, "jaxact"], samples[mode, "jax.nn"]
            paired = np.asarray(ours) / np.asarray(theirs)  # same round: drift cancels
            q25, q50, q75 = (float(v) for v in np.percentile(paired, [25, 50, 75]))
            m |= {
                "ratio": q50,
                "ratio_p25_p75": [q25, q75],
                "ratio_of_medians": t[mode, "jaxact"] / t[mode, "jax.nn"],
                # Low percentiles approximate the unloaded machine when others share it.
                "ratio_of_p10": float(np.percentile(ours, 10) / np.percentile(theirs, 10)),
            }
        if torch_calls:
            paired = np.asarray(samples[mode, "jaxact"]) / np.asarray(samples[mode, "torch"])
            m["torch"] = _stats(samples[mode, "torch"])
            m["ratio_torch"] = float(np.median(paired))
        rec[mode] = m
    spec = jax.ShapeDtypeStruct(x.shape, x.dtype)
    rec["residuals"] = {}
    for k, f in fns.items():
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
    gspec = jax.ShapeDtypeStruct(g.shape, g.dtype)
    rec["kernels"] = {k: {"fwd": kernels(fwd[k], spec), "vjp": kernels(vjp[k], spec, gspec)}
                      for k in sides}
    if case.theirs:  # a sanity check that both sides compute the same function
        ours_y, theirs_y = np.asarray(y["jaxact"]), np.asarray(y["jax.nn"])
        close = np.isclose(ours_y, theirs_y, rtol=1e-4, atol=1e-6, equal_nan=True)
        rec["differs_from_jax.nn"] = {
            "rtol": 1e-4,
            "atol": 1e-6,
            "elements": int(close.size - close.sum()),
            "max_abs_diff": float(np.nanmax(np.abs(ours_y - theirs_y))) if ours_y.size else 0.0,
        }
    return rec


def machine() -> dict[str, Any]:
    """The platform, device, CPU and versions that a result was measured with."""
    import importlib.metadata

    import jaxact

    try:
        with open("/proc/cpuinfo") as fh:
            models = [ln.split(":", 1)[1].strip() for ln in fh if ln.startswith("model name")]
    except OSError:
        models = []
    return {
        "platform": jax.default_backend(),
        "device": device_slug(),
        "device_kind": jax.devices()[0].device_kind,
        "device_count": jax.device_count(),
        "cpu_count": os.cpu_count(),
        "cpu_model": models[0] if models else platform.processor() or platform.machine(),
        "python": platform.python_version(),
        "jax": jax.__version__,
        "jaxlib": importlib.metadata.version("jaxlib"),
        "jaxact": getattr(jaxact, "__version__", None),
        # glibc allocator settings: with large arrays, returning freed memory to the OS
        # turns every call's fresh output into page faults, timed along with the kernel
        "malloc_env": {k: v for k, v in sorted(os.environ.items()) if k.startswith("MALLOC_")},
    }


def device_slug() -> str:
    """A file-name-safe name of the device: the CPU model on a CPU, else the device kind.

    Examples:
      >>> import re
      >>> bool(re.fullmatch(r"[a-z0-9-]+", device_slug()))
      True
    """
    kind = jax.devices()[0].device_kind
    if jax.default_backend() == "cpu":
        try:
            with open("/proc/cpuinfo") as fh:
                kind = next(ln.split(":", 1)[1] for ln in fh if ln.startswith("model name"))
        except (OSError, StopIteration):
            kind = platform.processor() or platform.machine() or kind
    words = re.sub(r"\(.*?\)|\b(processor|cpu|core)\b", " ", kind.lower()).split()
    slug = re.sub(r"[^a-z0-9]+", "-", " ".join(words[:3])).strip("-")
    return slug or "unknown"


def run(
    cases: Sequence[Case],
    *,
    size: int = DEFAULT_SIZE,
    reps: int = DEFAULT_REPS,
    skipped: Sequence[dict[str, str]] = (),
    ladder: Sequence[Case] = (),
    ladder_sizes: Sequence[int] = LADDER_SIZES,
    progress: Callable[[str], None] | None = None,
    dtype: Any = jnp.float32,
) -> dict[str, Any]:
    """Benchmarks ``cases`` at ``size``, then ``ladder`` at each of ``ladder_sizes``.

    Returns the JSON-ready result that ``jaxact.cli.format_bench`` prints; the ladder
    records keep medians, ratios and GB/s only (no samples or residual details).
    """
    t0 = time.perf_counter()
    load0 = os.getloadavg() if hasattr(os, "getloadavg") else None
    records = []
    for i, case in enumerate(cases):
        if progress:
            progress(f"[{i + 1}/{len(cases)}] {case.name}")
        records.append(bench_case(case, size, reps, dtype=dtype))
    steps = []
    for case in ladder:
        for n in ladder_sizes:
            if progress:
                progress(f"[ladder] {case.name} {n}")
            # Fewer rounds above the main size: a 2^26 round costs 16x a 2^22 one.
            n_reps = min(reps, max(5, reps * size // n))
            rec = bench_case(case, n, n_reps, dtype=dtype)
            slim = {k: rec[k] for k in ("name", "shape", "compile_s")}
            slim |= {"size": n, "reps": n_reps}
            slim["copy_gbps"] = rec["copy"]["gbps"]
            for mode in ("fwd", "vjp"):
                m = rec[mode]
                slim[mode] = {k: v for k, v in m.items() if k not in ("samples_ms", "bytes")}
            steps.append(slim)
    return {
        # 2: "vjp" times the value and the cotangent together (1: the cotangent alone)
        "schema": 2,
        **machine(),
        "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "dtype": jnp.dtype(dtype).name,
        "size": size,
        "row": min(ROW, size),
        "reps": reps,
        "timing": "medians over rounds of: copy, fwd pair, vjp pair; pair order alternates",
        "vjp": "value and input cotangent from one jit, as a training step computes them",
        "calls_per_sample": calls_per_sample(),
        "loadavg_start_end": [load0, os.getloadavg() if load0 else None],
        "wall_s": time.perf_counter() - t0,
        "results": records,
        "ladder": steps,
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
