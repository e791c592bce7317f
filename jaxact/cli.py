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
    _add_train(sub)
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
    "% copy",
    "res ja",
    "res nn",
    "compile s",
)
SLOW = 1.10  # jaxact / jax.nn above this is a performance bug in the function


def _add_bench(sub: Any) -> None:
    p = sub.add_parser(
        "bench",
        help="time jaxact against jax.nn (forward and forward+VJP) and count residuals",
        description="Times every registry function, jitted, forward and forward+VJP in "
        "one jit, interleaved with jax.nn's function of the same name where there is one, "
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
        help=f"elements per input, as rows of {b.ROW} (default 2^20; --quick 2^14)",
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
    result = b.run(cases, size=size, reps=reps, skipped=skipped, ladder=ladder, progress=progress)
    result["quick"] = bool(args.quick)
    print(format_bench(result))
    out = args.out or default_out.format(platform=result["platform"], device=result["device"])
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


def format_bench(result: dict[str, Any]) -> str:
    """A bench result as a fixed-width table, one row per function.

    A ratio is jaxact / jax.nn time (below 1: jaxact is faster): the median of the ratios
    paired round by round, ``±`` half their interquartile range; ``!`` marks a ratio whose
    25th percentile is above 1.10 (clearly slower), ``?`` a median above 1.10 within the
    noise. ``GB/s`` and ``% copy`` are jaxact's forward pass: bytes read + written per
    second, and that as a fraction of the copy floor's. ``res`` counts the full-size arrays
    saved for backward (``jaxact._bench.saved_residuals``) and, in brackets, their bytes per
    input element (a bool mask is 1 byte, a float32 array 4). ``-`` means jax.nn has no
    such function. ``compile s`` is the first call of jaxact's jitted forward (trace,
    compile and one run).
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
                f"{100 * f['frac_of_copy']:.0f}%",
                _res(r["residuals"], "jaxact"),
                _res(r["residuals"], "jax.nn"),
                f"{r['compile_s']['jaxact']:.2f}",
            )
        )
    copies = [r["copy"]["gbps"] for r in result["results"]]
    shape = "x".join(map(str, result["results"][0]["shape"])) if copies else "-"
    floor = f"{sorted(copies)[len(copies) // 2]:.1f} GB/s" if copies else "-"
    head = (
        f"{result['platform']} ({result['cpu_model'] or result['device_kind']}, "
        f"{result['cpu_count']} cpus), jax {result['jax']}, float32 {shape}, "
        f"{result['reps']} rounds; copy floor {floor}; load average "
        + " -> ".join(f"{la[0]:.1f}" for la in result["loadavg_start_end"] if la)
    )
    tail = [f"skipped {s['name']}: {s['why']}" for s in result["skipped"]]
    differ = [
        f"{r['name']} ({r['differs_from_jax.nn']['elements']})"
        for r in result["results"]
        if r.get("differs_from_jax.nn", {}).get("elements")
    ]
    if differ:
        tail.append(f"elements where jaxact and jax.nn differ by > 1e-4 rel: {', '.join(differ)}")
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


# --- jaxact train ---------------------------------------------------------------------


def _add_train(sub: Any) -> None:
    from jaxact.training.loop import Config

    d = Config()
    p = sub.add_parser(
        "train",
        help="train the MNIST CNN or an MLP with one or more activations and compare them",
        description="Trains one model per activation (same initial weights, data order and "
        "seed), prints a comparison table and writes results.json, plots and checkpoints "
        "to --out. An activation is a jaxact.nnx.LEARNABLE layer name (its parameters "
        "train) or a registry name (jaxact list).",
    )
    p.add_argument("--activation", default="relu", metavar="NAME[,NAME]", help="default relu")
    p.add_argument("--model", choices=("cnn", "mlp"), default=d.model)
    p.add_argument("--dataset", choices=("fashion_mnist", "mnist"), default="fashion_mnist")
    p.add_argument("--data-dir", default=None, help="directory with the IDX files")
    p.add_argument("--epochs", type=int, default=d.epochs)
    p.add_argument("--batch-size", type=int, default=d.batch_size)
    p.add_argument("--lr", type=float, default=d.lr, help="peak learning rate")
    p.add_argument(
        "--schedule", choices=("warmup_cosine", "cosine", "constant"), default=d.schedule
    )
    p.add_argument("--weight-decay", type=float, default=d.weight_decay)
    p.add_argument("--label-smoothing", type=float, default=d.label_smoothing)
    p.add_argument("--no-augment", action="store_true", help="no random flips and shifts")
    p.add_argument("--seed", type=int, default=d.seed)
    p.add_argument("--out", default="jaxact-train", metavar="DIR")
    p.add_argument("--resume", action="store_true", help="continue from checkpoints in --out")
    p.add_argument("--quiet", action="store_true", help="no progress bars or epoch lines")
    p.add_argument("--limit-train", type=int, default=None, metavar="N")
    p.add_argument("--limit-test", type=int, default=None, metavar="N")
    p.set_defaults(action=_train)


def _train(args: argparse.Namespace) -> int:
    import dataclasses
    import types

    from jaxact import datasets
    from jaxact.training import loop, report

    ds = datasets.load(args.dataset, args.data_dir)
    data = types.SimpleNamespace(
        train_images=ds.train_images[: args.limit_train],
        train_labels=ds.train_labels[: args.limit_train],
        test_images=ds.test_images[: args.limit_test],
        test_labels=ds.test_labels[: args.limit_test],
    )
    n_test = len(data.test_images)
    cfg = loop.Config(
        model=args.model,
        epochs=args.epochs,
        batch_size=args.batch_size,
        lr=args.lr,
        schedule=args.schedule,
        weight_decay=args.weight_decay,
        label_smoothing=args.label_smoothing,
        flip=not args.no_augment,
        shift=0 if args.no_augment else loop.Config.shift,
        seed=args.seed,
        eval_batch=min(loop.Config.eval_batch, n_test),
        diag_batch=min(loop.Config.diag_batch, n_test),
    )
    log = (lambda s: None) if args.quiet else functools.partial(print, flush=True)
    progress = None
    if not args.quiet and sys.stderr.isatty():
        import tqdm

        progress = lambda n: tqdm.tqdm(total=n, leave=False, unit="step")
    acts = [a.strip() for a in args.activation.split(",") if a.strip()]
    try:
        runs = loop.compare(
            data, acts, cfg, out=args.out, resume=args.resume, log=log, progress=progress
        )
    except loop.NonFiniteError as e:
        print(f"jaxact train: {e}", file=sys.stderr)
        return 1
    config = {
        **dataclasses.asdict(cfg),
        "dataset": args.dataset,
        "data_source": ds.source,
        "activations": acts,
        "n_train": len(data.train_images),
        "n_test": n_test,
    }
    print(report.table(runs))
    print(f"wrote {report.write_results(args.out, config, runs)}")
    for path in report.plot(args.out, runs):
        print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
