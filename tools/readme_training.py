"""Writes the README's training table from a committed ``jaxact train`` results.json.

Usage:
  python tools/readme_training.py           # rewrite the block between the markers
  python tools/readme_training.py --check   # exit 1 if the block is stale, write nothing

The numbers come from ``bench/results/fashion-mnist-cpu.json``, the ``results.json`` that
the README's main-job command wrote (``runs/fashion/results.json``), copied unchanged.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
from pathlib import Path
from typing import Any

from jaxact._docs import replace_between_markers

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"
RESULTS = ROOT / "bench" / "results" / "fashion-mnist-cpu.json"
START, END = "<!-- train:start -->", "<!-- train:end -->"


def block(doc: dict[str, Any]) -> str:
    """The markdown between the markers: a header line and one row per activation."""
    cfg, env = doc["config"], doc["environment"]
    lines = [
        f"{cfg['dataset']} ({cfg['n_train']} train / {cfg['n_test']} test images), "
        f"{cfg['model']}, {cfg['epochs']} epochs, batch {cfg['batch_size']}, peak lr "
        f"{cfg['lr']:g} ({cfg['schedule']}), weight decay {cfg['weight_decay']:g}, label "
        f"smoothing {cfg['label_smoothing']:g}, flips {'on' if cfg['flip'] else 'off'}, "
        f"shifts {cfg['shift']} px, seed {cfg['seed']}; {env['cpu_model']} "
        f"({env['cpu_count']} cores, {env['platform']}), jax {env['jax']}, flax "
        f"{env['flax']}, optax {env['optax']}.",
        "",
        "| activation | test accuracy | best epoch's | train accuracy | s/epoch (median) "
        "| images/s |",
        "|---|---|---|---|---|---|",
    ]
    for run in doc["runs"]:
        epochs = run["epochs"]
        last = epochs[-1]
        secs = statistics.median(e["seconds"] for e in epochs)
        ips = statistics.median(e["images_per_s"] for e in epochs)
        best = max(e["test_acc"] for e in epochs)
        lines.append(
            f"| {run['activation']} | {last['test_acc']:.4f} | {best:.4f} | "
            f"{last['train_acc']:.4f} | {secs:.0f} | {ips:.0f} |"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="fail if stale; write nothing")
    parser.add_argument("--results", type=Path, default=RESULTS)
    parser.add_argument("--readme", type=Path, default=README)
    args = parser.parse_args(argv)
    text = args.readme.read_text()
    table = block(json.loads(args.results.read_text()))
    new = replace_between_markers(text, table, START, END)
    if new == text:
        print(f"{args.readme}: training table up to date")
        return 0
    if args.check:
        print(f"{args.readme}: training table is stale; run python tools/readme_training.py")
        return 1
    args.readme.write_text(new)
    print(f"{args.readme}: training table updated")
    return 0


if __name__ == "__main__":
    sys.exit(main())
