"""Micro-benchmark: jaxact vs jax.nn, forward and forward+VJP, with the copy floor.

A thin wrapper over ``jaxact bench`` (the code lives in ``jaxact/_bench.py`` so that the
installed console script works anywhere) that writes ``bench/results/<platform>-<device>.json``
next to this script. Run from the repository root::

    python -m bench.micro            # all 77 functions at 2^22 + a 2^10..2^26 ladder
    python -m bench.micro --quick    # jax.nn's functions, small, few rounds (< 1 min)
    python -m bench.micro --only gelu,softmax --size 1048576 --reps 51
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from jaxact import cli

RESULTS = Path(__file__).resolve().parent / "results"


def main(argv: Sequence[str] | None = None) -> int:
    """Parses the bench options, runs the benchmark and writes its JSON into ``RESULTS``."""
    parser = argparse.ArgumentParser(
        prog="python -m bench.micro",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    cli.add_bench_arguments(parser)
    args = parser.parse_args(argv)
    return cli.run_bench(args, default_out=str(RESULTS / "{platform}-{device}.json"))


if __name__ == "__main__":
    sys.exit(main())
