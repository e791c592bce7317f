"""Markdown documentation generated from the registry: the function table of the README.

``python tools/readme_table.py`` rewrites the block between the README's table markers;
``tests/test_readme.py`` fails when that block is stale. Docs pages can call
:func:`function_table` the same way.
"""

from __future__ import annotations

import math
import re
from pathlib import Path
from typing import Any

from jaxact import _registry
from jaxact._registry import Entry, Kind

START = "<!-- table:start -->"
END = "<!-- table:end -->"

KIND_TITLES: dict[str, str] = {
    "elementwise": "Elementwise",
    "gated": "Gated (halve one axis)",
    "concatenated": "Concatenated (double one axis)",
    "normalizer": "Normalizers (along an axis)",
}


def entries(kind: Kind | None = None, source: str | None = None) -> list[Entry]:
    """Registry entries in table order: by kind (as in ``KIND_TITLES``), then by name."""
    order = {k: i for i, k in enumerate(KIND_TITLES)}
    found = [_registry.entry(n) for n in _registry.names(kind=kind, source=source)]
    return sorted(found, key=lambda e: (order.get(e.kind, len(order)), e.kind, e.name))


def number(v: float) -> str:
    r"""A short LaTeX form of a range end point.

    Examples:
      >>> number(-math.inf), number(6.0), number(-1.7580993408473766)
      ('-\\infty', '6', '-1.758')
    """
    if math.isinf(v):
        return r"\infty" if v > 0 else r"-\infty"
    if math.isnan(v):
        return r"\mathrm{nan}"
    if v == 0:
        return "0"
    return f"{v:.4g}"


def math_cell(tex: str) -> str:
    r"""LaTeX as inline markdown math, safe inside a table cell.

    Pipes would end the cell, so ``|x|`` becomes ``\vert x\vert``; newlines collapse.

    Examples:
      >>> math_cell(r"\frac{x}{1+|x|}")
      '$\\frac{x}{1+\\vert x\\vert }$'
    """
    tex = " ".join(tex.split())
    tex = tex.replace(r"\|", r"\Vert ").replace("|", r"\vert ")
    return f"${tex}$" if tex else ""


def range_cell(e: Entry) -> str:
    """The output range as an interval: closed at finite ends, open at infinite ones.

    Examples:
      >>> e = Entry("f", abs, "elementwise", "|x|", "", range=(0.0, math.inf))
      >>> range_cell(e)
      '$[0, \\\\infty)$'
    """
    lo, hi = e.range
    left = "(" if math.isinf(lo) else "["
    right = ")" if math.isinf(hi) else "]"
    return f"${left}{number(lo)}, {number(hi)}{right}$"


def params_cell(e: Entry) -> str:
    """Hyper-parameters with their defaults, in signature order."""
    return ", ".join(f"`{p.name}={p.default!r}`" for p in e.params)


def flags_cell(e: Entry) -> str:
    """Monotonic, smooth, bounded, and where the kinks are (with jaxact's gradient there)."""
    flags = []
    if e.monotonic:
        flags.append("monotonic")
    if e.smooth:
        flags.append("smooth")
    if e.bounded:
        flags.append("bounded")
    if e.kinks:
        at = ", ".join(f"{number(k.at)} (grad {number(k.grad)})" for k in e.kinks)
        flags.append(f"kinks at {at}")
    return "; ".join(flags)


def _cell(text: Any) -> str:
    return " ".join(str(text).split()).replace("|", r"\|")


def function_table(kind: Kind | None = None, source: str | None = None) -> str:
    """One markdown table of registered activations (all, or one kind / source)."""
    rows = [
        "| name | aliases | formula | parameters | range | properties | source |",
        "|---|---|---|---|---|---|---|",
    ]
    for e in entries(kind, source):
        source_cell = _cell(e.source) + (f" ({_cell(e.reference)})" if e.reference else "")
        rows.append(
            "| "
            + " | ".join(
                [
                    f"`{e.name}`",
                    ", ".join(f"`{a}`" for a in e.aliases),
                    math_cell(e.formula),
                    params_cell(e),
                    range_cell(e),
                    flags_cell(e),
                    source_cell,
                ]
            )
            + " |"
        )
    return "\n".join(rows)


def readme_table() -> str:
    """The README's function section: one table per kind, with the count of functions."""
    parts = [
        f"{len(entries())} functions, grouped by kind; aliases resolve to the same function. "
        "Range is the output range with default parameters; a kink is where the derivative "
        "jumps, and *grad* is the derivative jaxact returns exactly there.",
    ]
    kinds: list[Kind] = sorted({e.kind for e in entries()}, key=list(KIND_TITLES).index)
    for kind in kinds:
        parts += [f"### {KIND_TITLES[kind]}", function_table(kind=kind)]
    return "\n\n".join(parts)


def replace_between_markers(text: str, block: str, start: str = START, end: str = END) -> str:
    """``text`` with everything between ``start`` and ``end`` replaced by ``block``.

    Examples:
      >>> replace_between_markers(f"a\\n{START}\\nold\\n{END}\\nb", "new")
      'a\\n<!-- table:start -->\\nnew\\n<!-- table:end -->\\nb'
    """
    pattern = re.compile(re.escape(start) + r".*?" + re.escape(end), re.DOTALL)
    if len(pattern.findall(text)) != 1:
        raise ValueError(f"expected exactly one {start} ... {end} block")
    return pattern.sub(lambda _: f"{start}\n{block}\n{end}", text)


def table_in(text: str) -> str:
    """The block currently between the markers of ``text``."""
    match = re.search(re.escape(START) + r"\n?(.*?)\n?" + re.escape(END), text, re.DOTALL)
    if match is None:
        raise ValueError(f"no {START} ... {END} block found")
    return match.group(1)


def update_readme(path: str | Path, *, check: bool = False) -> bool:
    """Rewrites the README's function table from the registry.

    Args:
      path: the README to update.
      check: only report whether the table is stale; write nothing.

    Returns:
      True when the file was (``check=False``) or would be (``check=True``) changed.
    """
    path = Path(path)
    old = path.read_text(encoding="utf-8")
    new = replace_between_markers(old, readme_table())
    if new != old and not check:
        path.write_text(new, encoding="utf-8")
    return new != old
