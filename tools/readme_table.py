"""Regenerates the function table in README.md from the jaxact registry.

Usage:
  python tools/readme_table.py           # rewrite the table between the markers
  python tools/readme_table.py --check   # exit 1 if the table is stale, write nothing
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from jaxact import _docs

README = Path(__file__).resolve().parent.parent / "README.md"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="fail if stale; write nothing")
    parser.add_argument("--readme", type=Path, default=README, help="file to update")
    args = parser.parse_args(argv)
    changed = _docs.update_readme(args.readme, check=args.check)
    if args.check and changed:
        print(f"{args.readme}: function table is stale; run python tools/readme_table.py")
        return 1
    print(f"{args.readme}: function table {'updated' if changed else 'up to date'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
