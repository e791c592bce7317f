"""Sampled runs of bench/exhaustive.py over 2^-12 <= |x| <= 128 (and sparser beyond).

The mpmath tables of test_accuracy.py hold ~4,600 points per function; these sweeps
take every 61st float32 (5.4 million inputs) for the functions jax.nn also has, against
float64 formulas, and every 307th for every other elementwise function, against jaxact
itself evaluated in float64. The full scans found what the tables had missed: mish at
5.2 ulp near x = -6.8, e_swish and quick_gelu at 4.1-4.5 ulp, smish at 4.2-4.4 ulp,
serf at 4.3, acon_c's derivative at 10-12 ulp near x = -1.6, pserf at 5.1 ulp (value,
near x = -1.2) and 9.2 (derivative, near -0.9), erfact at 4.2 ulp in the tail.
"""

from __future__ import annotations

import numpy as np
import pytest

import jaxact as ja
from bench import exhaustive

OTHERS = [n for n in ja.names(kind="elementwise") if n not in exhaustive.REFERENCES]


def _check(name: str, step: int) -> None:
    with np.errstate(all="ignore"):
        row = exhaustive.scan(name, step=step)
    ours = row["jaxact"]
    assert row["inputs"] > 1_000_000
    assert ours["value"]["over_bar"] == 0, ours["value"]
    assert ours["derivative"]["over_bar"] == 0, ours["derivative"]


@pytest.mark.parametrize("name", sorted(exhaustive.REFERENCES))
def test_every_61st_float_against_float64_formulas(name: str) -> None:
    _check(name, 61)


@pytest.mark.parametrize("name", OTHERS)
def test_every_307th_float_against_float64_jaxact(name: str) -> None:
    _check(name, 307)
