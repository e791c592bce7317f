"""tools/sweep_parameters.py: passes on sound functions, fails on a broken one (small grids)."""

from __future__ import annotations

import sys
from pathlib import Path

import jax.numpy as jnp
import pytest

import jaxact as ja

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tools"))
import sweep_parameters


def test_sweep_passes(capsys: pytest.CaptureFixture[str]) -> None:
    assert sweep_parameters.main(["celu", "snake", "--sets", "1", "--points", "2000"]) == 0
    out = capsys.readouterr().out
    assert "summary: " in out and " 0 over the bar" in out


def scale_off_in_float32(x, *, a=1.0):
    """a x, but 1e-3 too large in float32 (the float64 reference is exact)."""
    y = a * jnp.asarray(x)
    return y * 1.001 if y.dtype == jnp.float32 else y


def test_sweep_reports_failures(capsys: pytest.CaptureFixture[str]) -> None:
    ja.register(ja.Entry("test_sweep_broken", scale_off_in_float32, "elementwise", "a x", "a",
                         params=(ja.Param("a", 1.0, "scale"),), source="user"))
    try:
        assert sweep_parameters.main(["test_sweep_broken", "--sets", "0", "--points", "200"]) == 1
    finally:
        ja.unregister("test_sweep_broken")
    out = capsys.readouterr().out
    assert "OVER test_sweep_broken a=1 value" in out
