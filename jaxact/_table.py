"""Fixed-width text tables for the command line (``jaxact list``, ``bench``, ``train``)."""

from __future__ import annotations

from collections.abc import Sequence


def fixed_width(rows: Sequence[Sequence[str]], numeric: Sequence[int]) -> str:
    """``rows[0]`` is the header; columns in ``numeric`` are right-aligned, others left.

    >>> print(fixed_width([("name", "ms"), ("relu", "1.5"), ("gelu", "12.0")], numeric=(1,)))
    name    ms
    ----------
    relu   1.5
    gelu  12.0
    """
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    lines = []
    for r in rows:
        pairs = enumerate(zip(r, widths, strict=True))
        cells = [c.rjust(w) if i in numeric else c.ljust(w) for i, (c, w) in pairs]
        lines.append("  ".join(cells).rstrip())
    lines.insert(1, "-" * max(map(len, lines)))
    return "\n".join(lines)
