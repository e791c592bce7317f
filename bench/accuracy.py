"""Accuracy of jaxact and of jax.nn against the mpmath tables, side by side.

For every accuracy case of a function that jax.nn also has (with jax.nn's own
parameters), evaluates both libraries on the case's grid (tests/reference/ID.npz:
the full float32 range) and reports, with the metric of tests/test_accuracy.py, the
worst value and derivative errors in ulp (conditioning unit near zeros) and how many
points are off by more than the bar (value 4, derivative 8) or NaN/Inf where the true
value is finite. Writes bench/results/accuracy.json and prints a Markdown table.

Run from the repository root: ``python -m bench.accuracy``.
"""

from __future__ import annotations

import functools
import json
import sys
from pathlib import Path
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

import jaxact as ja

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))  # the tables and the metric live with the tests

import cases  # noqa: E402
import test_accuracy as metric  # noqa: E402

OUT = ROOT / "bench" / "results" / "accuracy.json"


def _derivative(f: Any, x: jax.Array) -> jax.Array:
    _, pull = jax.vjp(f, x)
    return pull(jnp.ones_like(x))[0]


def _errors(f: Any, case: cases.Case) -> dict[str, Any]:
    t = metric.table(case.id)
    x = t["x"]
    y, dy = jax.jit(lambda x: (f(x), _derivative(f, x)))(jnp.asarray(x))
    y, dy = np.asarray(y, np.float64), np.asarray(dy, np.float64)
    ev, _ = metric.elementwise_error(x, y, t["f"], t["df"])
    ed, _ = metric.elementwise_error(x, dy, t["df"], t["d2f"])
    keep = ~np.isnan(x) & ~np.isin(x, metric.kinks(case))
    ed = ed[keep]
    return {
        "value_max_ulp": float(np.max(ev)),
        "value_bad": int(np.sum(~(ev <= metric.VALUE_ULP))),
        "grad_max_ulp": float(np.max(ed)),
        "grad_bad": int(np.sum(~(ed <= metric.DERIV_ULP))),
        "points": int(x.size),
    }


def run() -> list[dict[str, Any]]:
    """One row per comparable case: jaxact's and jax.nn's errors."""
    rows = []
    for case in cases.CASES:
        theirs = getattr(jax.nn, case.name, None)
        if theirs is None or ja.entry(case.name).source != "jax.nn":
            continue
        try:
            ref_fn = functools.partial(theirs, **case.params)
            ref_fn(jnp.zeros(1))  # jaxact's extensions (softplus beta, ...) aren't in jax.nn
        except TypeError:
            continue
        ours = functools.partial(ja.get(case.name), **case.params)
        rows.append({"case": case.id, "jaxact": _errors(ours, case),
                     "jax.nn": _errors(ref_fn, case)})
    return rows


def _fmt(e: dict[str, Any], key: str, bad: str) -> str:
    v = e[key]
    txt = "inf" if not np.isfinite(v) else f"{v:.3g}"
    return txt if e[bad] == 0 else f"{txt} ({e[bad]} pts)"


def markdown(rows: list[dict[str, Any]]) -> str:
    """The README table: worst error in ulp, and (points over the bar) where any."""
    lines = ["| case | value: jaxact | value: jax.nn | derivative: jaxact | derivative: jax.nn |",
             "|---|---|---|---|---|"]
    for r in rows:
        a, b = r["jaxact"], r["jax.nn"]
        lines.append(f"| {r['case']} | {_fmt(a, 'value_max_ulp', 'value_bad')} | "
                     f"{_fmt(b, 'value_max_ulp', 'value_bad')} | "
                     f"{_fmt(a, 'grad_max_ulp', 'grad_bad')} | "
                     f"{_fmt(b, 'grad_max_ulp', 'grad_bad')} |")
    return "\n".join(lines)


def main() -> int:
    with np.errstate(all="ignore"):
        rows = run()
    OUT.parent.mkdir(parents=True, exist_ok=True)
    meta = {"jax": jax.__version__, "backend": jax.default_backend(),
            "device": jax.devices()[0].device_kind, "points_per_case": rows[0]["jaxact"]["points"]}
    OUT.write_text(json.dumps({"meta": meta, "rows": rows}, indent=1) + "\n")
    print(markdown(rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
