"""Redraws the pictures shown in README.md by running the notebooks that draw them.

Each notebook saves its figures as PNG into the folder named by ``JAXACT_NB_FIGURES``; this
script runs the notebooks below as plain scripts (full budget unless ``--quick``) into a
temporary folder and copies the README's pictures into ``docs/_static``, refusing any
larger than ``MAX_BYTES``.

Usage:
  python tools/readme_pictures.py           # full budget: a few minutes on a CPU
  python tools/readme_pictures.py --quick   # the tiny CI budget, to try the script out
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
STATIC = ROOT / "docs" / "_static"
MAX_BYTES = 150_000
#: README picture -> the notebook that saves it
PICTURES = {
    "gradient_flow.png": "02_gradient_flow.py",
    "accuracy.png": "04_accuracy.py",
}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="tiny budget (JAXACT_NB_QUICK=1)")
    parser.add_argument("--out", type=Path, default=STATIC, help="folder for the pictures")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as figures:
        env = {**os.environ, "MPLBACKEND": "Agg", "JAXACT_NB_FIGURES": figures}
        env["JAXACT_NB_QUICK"] = "1" if args.quick else "0"
        for notebook in sorted(set(PICTURES.values())):
            print(f"running notebooks/{notebook}", flush=True)
            subprocess.run([sys.executable, notebook], cwd=ROOT / "notebooks", env=env, check=True)
        args.out.mkdir(parents=True, exist_ok=True)
        for name in PICTURES:
            png = Path(figures) / name
            size = png.stat().st_size
            if size > MAX_BYTES:
                print(f"{name}: {size} bytes, more than {MAX_BYTES}", file=sys.stderr)
                return 1
            shutil.copy(png, args.out / name)
            print(f"wrote {args.out / name} ({size} bytes)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
