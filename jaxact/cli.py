"""The ``jaxact`` command line: ``jaxact list`` and ``jaxact bench``.

Each subcommand is a pair ``_add_<name>(subparsers)`` (its options) and ``_<name>(args)``
(its action, returning the exit status); adding one (``train``) means adding a pair and
one line to ``build_parser``. Heavy imports (the benchmark) happen inside the action, so
``jaxact list`` and ``jaxact --help`` stay fast.
"""

from __future__ import annotations

import argparse
import functools
import json
import math
import os
import sys
import typing
from collections.abc import Sequence
from typing import Any

from jaxact._registry import Kind
from jaxact._table import fixed_width


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``jaxact`` console script.

    Args:
      argv: the arguments after the program name (default ``sys.argv[1:]``).

    Returns:
      The exit status.
    """
    args = build_parser().parse_args(argv)
    try:
        return args.action(args)
    except BrokenPipeError:  # `jaxact list | head`: the reader left; exit quietly
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1


def build_parser() -> argparse.ArgumentParser:
    """The parser with every subcommand."""
    parser = argparse.ArgumentParser(
        prog="jaxact", description="Accurate, memory-lean activation functions for JAX."
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    _add_list(sub)
    _add_bench(sub)
    from jaxact.training import command

    command.add_parser(sub)
    return parser


# --- jaxact list ----------------------------------------------------------------------

LIST_COLUMNS: tuple[str, ...] = (
    "name",
    "aliases",
    "kind",
    "source",
    "params",
    "range",
    "flags",
    "kinks",
)


def _add_list(sub: Any) -> None:
    p = sub.add_parser("list", help="print the registry: every activation and its metadata")
    p.add_argument("--kind", choices=typing.get_args(Kind), default=None)
    p.add_argument("--source", default=None, help='only this source, e.g. "jax.nn"')
    p.add_argument("--json", action="store_true", help="one JSON object per activation")
    p.set_defaults(action=_list)


def _list(args: argparse.Namespace) -> int:
    import jaxact

    entries = [jaxact.entry(n) for n in jaxact.names(kind=args.kind, source=args.source)]
    if args.json:
        for e in entries:
            print(json.dumps(_entry_row(e, as_text=False), default=repr, allow_nan=False))
    else:
        print(format_registry(entries))
    return 0


def _num(v: Any) -> str:
    if isinstance(v, float) and math.isinf(v):
        return "inf" if v > 0 else "-inf"
    if isinstance(v, float) and not v.is_integer():
        return f"{v:.6g}"  # the table stays readable; --json has every digit
    return repr(v)


def _entry_row(e: Any, *, as_text: bool = True) -> dict[str, Any]:
    flags = [f for f, on in (("monotonic", e.monotonic), ("smooth", e.smooth)) if on]
    flags += ["bounded"] if e.bounded else []
    row = {
        "name": e.name,
        "aliases": list(e.aliases),
        "kind": e.kind,
        "source": e.source,
        "params": {p.name: p.default for p in e.params},
        "range": [v if math.isfinite(v) else _num(v) for v in e.range],  # strict JSON
        "flags": flags,
        "kinks": [{"at": k.at, "grad": k.grad} for k in e.kinks],
    }
    if not as_text:
        return row
    return {
        **row,
        "aliases": ", ".join(e.aliases),
        "params": ", ".join(f"{p.name}={_num(p.default)}" for p in e.params),
        "range": f"[{_num(e.range[0])}, {_num(e.range[1])}]",
        "flags": " ".join(flags),
        "kinks": ", ".join(f"{_num(k.at)} (grad {_num(k.grad)})" for k in e.kinks),
    }


def format_registry(entries: Sequence[Any]) -> str:
    """Registry entries as a fixed-width table (columns ``LIST_COLUMNS``)."""
    rows = [LIST_COLUMNS] + [tuple(_entry_row(e)[c] for c in LIST_COLUMNS) for e in entries]
    return fixed_width(rows, numeric=())


# --- jaxact bench ---------------------------------------------------------------------

BENCH_COLUMNS: tuple[str, ...] = (
    "function",
    "fwd ja ms",
    "fwd nn ms",
    "fwd ratio",
    "vjp ja ms",
    "vjp nn ms",
    "vjp ratio",
    "GB/s",
    "% copy f/v",
    "res ja",
    "res nn",
    "loops ja (nn)",
    "compile s",
)
SLOW = 1.10  # jaxact / jax.nn above this is a performance bug in the function


def _add_bench(sub: Any) -> None:
    p = sub.add_parser(
        "bench",
        help="time jaxact against jax.nn (forward and forward+VJP) and count residuals",
        description="Times every registry function, jitted, forward and forward+VJP in "
        "one jit (the value and the gradient, as a training step needs them), "
        "interleaved with jax.nn's function of the same name where there is one, "
        "against a jitted copy as the memory floor; prints a table and writes JSON.",
    )
    add_bench_arguments(p)
    p.set_defaults(
        action=functools.partial(run_bench, default_out="jaxact-bench-{platform}-{device}.json")
    )


def add_bench_arguments(parser: argparse.ArgumentParser) -> None:
    """The bench options, shared by ``jaxact bench`` and ``bench/micro.py``."""
    from jaxact import _bench as b

    parser.add_argument(
        "--size",
        type=int,
        default=None,
        help=f"elements per input, as rows of {b.ROW} (default 2^22; --quick 2^14)",
    )
    parser.add_argument(
        "--reps",
        type=int,
        default=None,
        help=f"timed rounds per function (default {b.DEFAULT_REPS}; --quick {b.QUICK_REPS})",
    )
    parser.add_argument(
        "--quick",
        action="store_true",
        help="small size, few rounds, only the functions jax.nn also has (< 1 min)",
    )
    parser.add_argument(
        "--only",
        type=lambda s: [n.strip() for n in s.split(",") if n.strip()],
        default=None,
        metavar="NAME[,NAME]",
        help="only these functions (names or aliases)",
    )
    parser.add_argument(
        "--out",
        default=None,
        metavar="PATH",
        help="JSON to write (default ./jaxact-bench-<platform>-<device>.json; "
        "bench/micro.py: bench/results/<platform>-<device>.json)",
    )
    parser.add_argument(
        "--ladder",
        type=lambda s: [n.strip() for n in s.split(",") if n.strip()],
        default=None,
        metavar="NAME[,NAME]",
        help=f"functions timed at every size 2^10..2^26 (x4 steps; default "
        f"{','.join(b.LADDER)}; none with --quick or --only; '' for none)",
    )
    parser.add_argument(
        "--dtype",
        choices=("float32", "bfloat16", "float16"),
        default="float32",
        help="input dtype (default float32); other dtypes write <out>-<dtype>.json",
    )
    parser.add_argument(
        "--no-plots",
        action="store_true",
        help="write no PNGs (by default <out>-ratio.png and <out>-floor.png, with matplotlib)",
    )


def run_bench(args: argparse.Namespace, default_out: str) -> int:
    """Runs the benchmark for parsed bench options, prints the table, writes the JSON.

    Args:
      args: the options of ``add_bench_arguments``.
      default_out: the JSON path when ``--out`` is not given; ``{platform}`` becomes
        ``jax.default_backend()`` (``cpu``, ``gpu``, ``tpu``), ``{device}``
        ``jaxact._bench.device_slug()``.

    Returns:
      The exit status, 0.
    """
    import jaxact
    from jaxact import _bench as b

    size = args.size or (b.QUICK_SIZE if args.quick else b.DEFAULT_SIZE)
    reps = args.reps or (b.QUICK_REPS if args.quick else b.DEFAULT_REPS)
    b.bench_shape(size)  # a bad --size fails before anything compiles
    only = args.only
    if args.quick and not only:  # compiling all 77 functions alone takes about a minute
        only = jaxact.names(source="jax.nn")
    cases, skipped = b.registry_cases(only)
    ladder_names = args.ladder
    if ladder_names is None:
        ladder_names = [] if args.quick or args.only else list(b.LADDER)
    ladder = b.registry_cases(ladder_names)[0] if ladder_names else []
    progress = functools.partial(print, file=sys.stderr, flush=True)
    result = b.run(
        cases, size=size, reps=reps, skipped=skipped, ladder=ladder, progress=progress,
        dtype=args.dtype,
    )
    result["quick"] = bool(args.quick)
    print(format_bench(result))
    out = args.out or default_out.format(platform=result["platform"], device=result["device"])
    if args.out is None and args.dtype != "float32":
        out = out.replace(".json", f"-{args.dtype}.json")
    print(f"wrote {b.write(result, out)}")
    if not args.no_plots:
        from jaxact import _bench_plot

        pngs = _bench_plot.plot(result, os.path.splitext(out)[0])
        print(
            "plots skipped: matplotlib is not installed"
            if pngs is None
            else "wrote " + ", ".join(map(str, pngs))
        )
    return 0


def _ratio(m: dict[str, Any]) -> str:
    if "ratio" not in m:  # no jax.nn counterpart
        return "-"
    lo, hi = m["ratio_p25_p75"]
    flag = "!" if lo > SLOW else "?" if m["ratio"] > SLOW else ""
    return f"{m['ratio']:.2f}\u00b1{(hi - lo) / 2:.2f}{flag}"


def _res(res: dict[str, Any], side: str) -> str:
    if side not in res:
        return "-"
    return f"{res[side]} ({res[side + '_bytes_per_element']:g}B)"


def _loops(r: dict[str, Any]) -> str:
    k = r.get("kernels")  # (absent from results written before it was recorded)
    if k is None:
        return "-"
    ours = f"{k['jaxact']['fwd']}/{k['jaxact']['vjp']}"
    return ours + (f" ({k['jax.nn']['fwd']}/{k['jax.nn']['vjp']})" if "jax.nn" in k else "")


def _device_name(result: dict[str, Any]) -> str:
    """The CPU model on a CPU, else the accelerator's kind (the host CPU is not timed)."""
    if result["platform"] == "cpu":
        return result["cpu_model"] or result["device_kind"]
    return result["device_kind"]


def format_bench(result: dict[str, Any]) -> str:
    """A bench result as a fixed-width table, one row per function.

    A ratio is jaxact / jax.nn time (below 1: jaxact is faster): the median of the ratios
    paired round by round, ``±`` half their interquartile range; ``!`` marks a ratio whose
    25th percentile is above 1.10 (clearly slower), ``?`` a median above 1.10 within the
    noise. ``GB/s`` is jaxact's forward pass: bytes read + written per second; ``% copy
    f/v`` that as a fraction of the copy floor's GB/s, for the forward pass and for
    forward+VJP (which reads x and the cotangent and writes the value and the gradient,
    both outputs of one jit: ``jaxact._bench.training_step``). ``res`` counts
    the full-size arrays saved for backward (``jaxact._bench.saved_residuals``) and, in
    brackets, their bytes per input element (a bool mask is 1 byte, a float32 array 4).
    ``loops`` counts the passes over memory XLA compiled the jitted forward / forward+VJP
    into (``jaxact._bench_residuals.kernels``; jax.nn's in brackets): for a fused
    elementwise function one forward and two for forward+VJP (the value's and the
    gradient's), more where intermediates are written out and read back.
    ``-`` means jax.nn has no such function. ``compile s`` is the first call of jaxact's
    jitted forward (trace, compile and one run).
    """
    rows: list[tuple[str, ...]] = [BENCH_COLUMNS]
    for r in result["results"]:
        f, v = r["fwd"], r["vjp"]
        nn = {
            m: f"{r[m]['jax.nn']['median_ms']:.3f}" if "jax.nn" in r[m] else "-"
            for m in ("fwd", "vjp")
        }
        rows.append(
            (
                r["name"],
                f"{f['jaxact']['median_ms']:.3f}",
                nn["fwd"],
                _ratio(f),
                f"{v['jaxact']['median_ms']:.3f}",
                nn["vjp"],
                _ratio(v),
                f"{f['gbps']:.1f}",
                f"{100 * f['frac_of_copy']:.0f}/{100 * v['frac_of_copy']:.0f}%",
                _res(r["residuals"], "jaxact"),
                _res(r["residuals"], "jax.nn"),
                _loops(r),
                f"{r['compile_s']['jaxact']:.2f}",
            )
        )
    copies = [r["copy"]["gbps"] for r in result["results"]]
    shape = "x".join(map(str, result["results"][0]["shape"])) if copies else "-"
    floor = f"{sorted(copies)[len(copies) // 2]:.1f} GB/s" if copies else "-"
    head = (
        f"{result['platform']} ({_device_name(result)}, "
        f"{result['cpu_count']} cpus), jax {result['jax']}, {result['dtype']} {shape}, "
        f"{result['reps']} rounds; copy floor {floor}; load average "
        + " -> ".join(f"{la[0]:.1f}" for la in result["loadavg_start_end"] if la)
        + "".join(f"; {k}={v}" for k, v in result.get("malloc_env", {}).items())
    )
    tail = [f"skipped {s['name']}: {s['why']}" for s in result["skipped"]]
    differ = [
        f"{r['name']} ({r['differs_from_jax.nn']['elements']})"
        for r in result["results"]
        if r.get("differs_from_jax.nn", {}).get("elements")
    ]
    if differ:
        tail.append(f"elements where jaxact and jax.nn differ by > 1e-4 rel: {', '.join(differ)}")
    vs_torch = [
        f"{r['name']} {r['fwd']['ratio_torch']:.2f}/{r['vjp']['ratio_torch']:.2f}"
        for r in result["results"]
        if "ratio_torch" in r["fwd"]
    ]
    if vs_torch:
        on = {r.get("torch_device", "cpu") for r in result["results"] if "ratio_torch" in r["fwd"]}
        tail.append(
            f"jaxact/torch time, fwd/vjp (torch eager on {'/'.join(sorted(on)).upper()}): "
            + ", ".join(vs_torch)
        )
    consts = [
        f"{r['name']} {side} {r['residuals'][side + '_constant']}"
        for r in result["results"]
        for side in ("jaxact", "jax.nn")
        if r["residuals"].get(side + "_constant")
    ]
    if consts:
        tail.append(f"full-size constant residuals (not counted): {', '.join(consts)}")
    if result.get("quick"):
        tail.append("--quick: small sizes and few rounds; do not read the ratios as findings")
    for mark, why in (("!", "clearly slower than"), ("?", "median slower than")):
        slow = [
            f"{r['name']} {m}"
            for r in result["results"]
            for m in ("fwd", "vjp")
            if _ratio(r[m]).endswith(mark)
        ]
        if slow:
            tail.append(f"{mark} {why} {SLOW:.2f}x jax.nn: {', '.join(slow)}")
    return "\n".join([head, fixed_width(rows, numeric=range(1, len(BENCH_COLUMNS))), *tail])


if __name__ == "__main__":
    sys.exit(main())
