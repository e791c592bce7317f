"""PNG plots of a ``jaxact bench`` result: ratio to jax.nn and fraction of the copy floor.

matplotlib is optional (the ``test`` and ``bench`` extras have it; ``pip install jaxact``
alone does not), so it is imported inside ``plot`` with the non-interactive Agg backend,
and ``plot`` returns ``None`` when it is missing.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path
from typing import Any

SLOW = 1.10  # the same line cli.format_bench marks


def have_matplotlib() -> bool:
    """True when matplotlib can be imported (the plots are skipped otherwise)."""
    return importlib.util.find_spec("matplotlib") is not None


def plot(result: dict[str, Any], stem: str | Path) -> list[Path] | None:
    """Writes ``<stem>-ratio.png``, ``<stem>-floor.png`` (and ``<stem>-sizes.png``).

    ``-ratio``: jaxact / jax.nn time per function with a jax.nn counterpart (median of the
    paired ratios, bars from the 25th to the 75th percentile), forward and forward+VJP,
    against the 1.10 line. ``-floor``: each function's effective GB/s as a fraction of the
    jitted copy's, forward and forward+VJP. ``-sizes`` (when the result has a size
    ladder): forward GB/s of jaxact, jax.nn and the copy against the number of elements.

    Args:
      result: the dict ``jaxact._bench.run`` returns (or its JSON, loaded).
      stem: path prefix of the files; parent folders are created.

    Returns:
      The paths written, or ``None`` when matplotlib is not installed.
    """
    if not have_matplotlib():
        return None
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    stem = Path(stem)
    stem.parent.mkdir(parents=True, exist_ok=True)
    recs = result["results"]
    title = f"{result['platform']} {result.get('device', '')}, jax {result['jax']}, " + (
        f"float32 {result['size']} elements, {result['reps']} rounds, {result['date'][:10]}"
    )
    paths = []
    paired = [r for r in recs if "ratio" in r["fwd"]]
    for name, rows, key in (("ratio", paired, "ratio"), ("floor", recs, "frac_of_copy")):
        if not rows:
            continue
        fig, ax = plt.subplots(figsize=(max(6.0, 0.16 * len(rows) + 2), 3.6), dpi=80)
        xs = range(len(rows))
        for off, mode in ((-0.2, "fwd"), (0.2, "vjp")):
            ys = [r[mode][key] for r in rows]
            pos = [i + off for i in xs]
            if key == "ratio":
                lo = [y - r[mode]["ratio_p25_p75"][0] for y, r in zip(ys, rows, strict=True)]
                hi = [r[mode]["ratio_p25_p75"][1] - y for y, r in zip(ys, rows, strict=True)]
                ax.bar(pos, ys, 0.4, yerr=[lo, hi], label=mode, error_kw={"lw": 0.6})
            else:
                ax.bar(pos, ys, 0.4, label=mode)
        line = SLOW if key == "ratio" else 1.0
        ax.axhline(line, color="k", lw=0.8, ls="--")
        ax.set_xticks(list(xs), [r["name"] for r in rows], rotation=90, fontsize=7)
        ax.set_ylabel("jaxact / jax.nn time" if key == "ratio" else "GB/s / copy GB/s")
        if key == "ratio":
            ax.set_yscale("log")
        ax.set_title(title, fontsize=8)
        ax.legend(fontsize=7)
        fig.tight_layout()
        path = stem.parent / f"{stem.name}-{name}.png"
        fig.savefig(path)
        plt.close(fig)
        paths.append(path)
    if result.get("ladder"):
        paths.append(_plot_sizes(plt, result["ladder"], title, stem))
    return paths


def _plot_sizes(plt: Any, ladder: list[dict[str, Any]], title: str, stem: Path) -> Path:
    fig, ax = plt.subplots(figsize=(6.5, 3.6), dpi=80)
    names = list(dict.fromkeys(r["name"] for r in ladder))
    for i, name in enumerate(names):
        rows = [r for r in ladder if r["name"] == name]
        sizes = [r["size"] for r in rows]
        color = f"C{i}"
        ax.plot(sizes, [r["fwd"]["gbps"] for r in rows], "-o", c=color, ms=3, label=name)
        if all("jax.nn" in r["fwd"] for r in rows):
            nn = [r["fwd"]["gbps"] / r["fwd"]["ratio_of_medians"] for r in rows]
            ax.plot(sizes, nn, ":", c=color, label=f"jax.nn.{name}")
    copy = {r["size"]: r["copy_gbps"] for r in ladder}
    ax.plot(list(copy), list(copy.values()), "k--", label="copy")
    ax.set_xscale("log", base=2)
    ax.set_yscale("log")
    ax.set_xlabel("elements (float32)")
    ax.set_ylabel("forward GB/s")
    ax.set_title(title.split(" float32")[0], fontsize=8)
    ax.legend(fontsize=6, ncol=2)
    fig.tight_layout()
    path = stem.parent / f"{stem.name}-sizes.png"
    fig.savefig(path)
    plt.close(fig)
    return path
