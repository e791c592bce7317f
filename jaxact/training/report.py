"""Comparison table, ``results.json`` and PNG plots of a ``jaxact train`` comparison."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from jaxact._table import fixed_width


def environment() -> dict[str, Any]:
    """Versions and device of this process: ``jaxact bench``'s record plus flax and optax.

    Examples:
      >>> sorted(k for k in environment() if k in ("flax", "jax", "optax", "platform"))
      ['flax', 'jax', 'optax', 'platform']
    """
    import flax
    import optax

    from jaxact._bench import machine

    return {**machine(), "flax": flax.__version__, "optax": optax.__version__}


def table(runs: list[dict[str, Any]]) -> str:
    """One row per activation: final test accuracy and loss, best accuracy, s/epoch."""
    head = ("activation", "test acc", "best acc", "test loss", "train acc", "s/epoch", "img/s")
    rows: list[tuple[str, ...]] = [head]
    for r in runs:
        last = r["epochs"][-1]
        # the first epoch includes compilation; later epochs show the steady speed
        steady = r["epochs"][1:] or r["epochs"]
        secs = sum(e["seconds"] for e in steady) / len(steady)
        ips = sum(e["images_per_s"] for e in steady) / len(steady)
        rows.append(
            (
                r["activation"],
                f"{last['test_acc']:.4f}",
                f"{max(e['test_acc'] for e in r['epochs']):.4f}",
                f"{last['test_loss']:.4f}",
                f"{last['train_acc']:.4f}",
                f"{secs:.1f}",
                f"{ips:.0f}",
            )
        )
    return fixed_width(rows, numeric=range(1, len(head)))


def write_results(
    out: str | os.PathLike[str], config: dict[str, Any], runs: list[dict[str, Any]]
) -> Path:
    """Writes ``results.json`` (config, versions, device, per-epoch metrics) into ``out``."""
    path = Path(out) / "results.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    doc = {"config": config, "environment": environment(), "runs": runs}
    path.write_text(json.dumps(doc, indent=1, allow_nan=True))
    return path


def plot(out: str | os.PathLike[str], runs: list[dict[str, Any]]) -> list[Path]:
    """Writes ``curves.png`` (loss and accuracy per epoch) and ``grad_norms.png``."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    out = Path(out)
    fig, axes = plt.subplots(1, 2, figsize=(10, 4))
    for r in runs:
        ep = [e["epoch"] for e in r["epochs"]]
        for ax, key in zip(axes, ("loss", "acc"), strict=True):
            ax.plot(ep, [e[f"test_{key}"] for e in r["epochs"]], label=f"{r['activation']} test")
            ax.plot(
                ep, [e[f"train_{key}"] for e in r["epochs"]], "--", label=f"{r['activation']} train"
            )
    for ax, key in zip(axes, ("loss", "accuracy"), strict=True):
        ax.set(xlabel="epoch", ylabel=key)
        ax.legend(fontsize=7)
    fig.tight_layout()
    paths = [out / "curves.png", out / "grad_norms.png"]
    fig.savefig(paths[0], dpi=100)
    plt.close(fig)
    fig, ax = plt.subplots(figsize=(6, 4))
    for r in runs:
        norms = r["epochs"][-1]["grad_norm"]
        ax.plot(list(norms), list(norms.values()), "o-", label=r["activation"])
    ax.set(xlabel="layer", ylabel="mean gradient norm (last epoch)", yscale="log")
    ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(paths[1], dpi=100)
    plt.close(fig)
    return paths
