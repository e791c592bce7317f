"""Redraws the PNG plots of saved ``jaxact bench`` results (needs matplotlib).

``jaxact bench`` and ``python -m bench.micro`` already draw them next to the JSON; this
script redraws them from a JSON alone, e.g. after a result file was copied from a GPU box::

    python -m bench.plots bench/results/cpu-amd-epyc.json [more.json ...]
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path

from jaxact import _bench_plot


def main(argv: Sequence[str] | None = None) -> int:
    """Writes ``<json stem>-ratio.png`` and ``<json stem>-floor.png`` per result file."""
    parser = argparse.ArgumentParser(prog="python -m bench.plots", description=__doc__)
    parser.add_argument("results", nargs="+", type=Path, help="bench result JSON files")
    args = parser.parse_args(argv)
    if not _bench_plot.have_matplotlib():
        print("matplotlib is not installed: pip install matplotlib", file=sys.stderr)
        return 1
    for path in args.results:
        pngs = _bench_plot.plot(json.loads(path.read_text()), path.with_suffix(""))
        print("wrote " + ", ".join(map(str, pngs or [])))
    return 0


if __name__ == "__main__":
    sys.exit(main())
