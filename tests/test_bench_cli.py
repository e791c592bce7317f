"""The ``jaxact`` command line (``list``, ``bench``) and the residual counter it reports.

Smoke tests only: nothing here asserts a speed. Expected residual counts come from reading
the jaxprs of ``jax.vjp`` for these functions (jax 0.10): ``sin`` saves ``cos(x)``;
``jax.nn.gelu(approximate=True)`` saves x and four intermediates; ``relu`` a mask (its
zeros are a constant); ``glu`` three half-size arrays; ``softmax`` ``exp`` plus per-row sums.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import jaxact
from jaxact import _bench, cli

ROOT = Path(__file__).resolve().parents[1]
X = jax.ShapeDtypeStruct((8, 1024), jnp.float32)


@pytest.mark.parametrize(
    ("f", "expected"),
    [
        (lambda x: x * 2, 0),
        (lambda x: x + jnp.float32(1), 0),
        (jax.nn.identity, 0),
        (jnp.sin, 1),
        (lambda x: x * x, 1),  # the input itself
        (jax.checkpoint(jnp.sin), 1),  # recomputes cos; keeps only x
        (jax.nn.relu, 1),  # the mask; the broadcast zeros are a constant
        (jax.nn.glu, 3),  # half-size arrays count
        (jax.nn.softmax, 1),  # (8, 1) row sums do not
    ],
    ids=["x*2", "x+1", "identity", "sin", "x*x", "checkpoint-sin", "relu", "glu", "softmax"],
)
def test_saved_residuals_known_cases(f, expected):
    assert _bench.saved_residuals(f, X) == expected


def test_saved_residuals_gelu_tanh_saves_several():
    n = _bench.saved_residuals(lambda x: jax.nn.gelu(x, approximate=True), X)
    assert n >= 3


def test_saved_residuals_details_and_options():
    relu = _bench.residuals(jax.nn.relu, X)
    assert {(r["dtype"], r["depends_on_x"]) for r in relu} <= {("bool", True), ("float32", False)}
    assert any(r["dtype"] == "bool" and r["depends_on_x"] for r in relu)
    assert _bench.saved_residuals(jax.nn.glu, X, min_fraction=1.0) == 0
    assert _bench.saved_residuals(jax.nn.softmax, X, min_fraction=0.0) >= 2
    # Concrete arrays work too; huge abstract ones are only traced, never allocated.
    assert _bench.saved_residuals(jnp.sin, jnp.ones((4, 4))) == 1
    assert _bench.saved_residuals(jnp.exp, jax.ShapeDtypeStruct((10**12,), jnp.float32)) == 1


def test_copy_floor_is_not_elided():
    x = jnp.arange(2048, dtype=jnp.float32).reshape(2, 1024)
    call, check = _bench.copy_floor(x)
    assert check["hlo_has_multiply"] and check["new_buffer"] and check["equal"]
    assert call().shape == x.shape


def test_bench_shape():
    assert _bench.bench_shape(2**22) == (4096, 1024)
    assert _bench.bench_shape(512) == (1, 512)
    with pytest.raises(ValueError, match="size"):
        _bench.bench_shape(1500)


def test_bench_quick_smoke(tmp_path, capsys):
    out = tmp_path / "res.json"
    argv = ["bench", "--quick", "--only", "relu,sigmoid", "--size", "2048", "--reps", "3"]
    assert cli.main([*argv, "--out", str(out), "--no-plots"]) == 0
    table = capsys.readouterr().out
    for col in cli.BENCH_COLUMNS:
        assert col in table
    assert "relu" in table and "sigmoid" in table and f"wrote {out}" in table

    result = json.loads(out.read_text())
    for key in ("platform", "device", "jax", "jaxlib", "date", "size", "reps", "results"):
        assert key in result
    assert result["platform"] == jax.default_backend()
    assert result["size"] == 2048 and result["reps"] == 3 and result["quick"] is True
    assert [r["name"] for r in result["results"]] == ["relu", "sigmoid"]
    for r in result["results"]:
        assert r["shape"] == [2, 1024]
        assert r["copy"]["gbps"] > 0
        assert r["kernels"]["jaxact"]["fwd"] >= 1 and r["kernels"]["jax.nn"]["vjp"] >= 1
        for mode in ("fwd", "vjp"):
            m = r[mode]
            assert m["jaxact"]["median_ms"] > 0 and m["jax.nn"]["median_ms"] > 0
            assert m["ratio"] > 0 and len(m["ratio_p25_p75"]) == 2
            assert m["gbps"] > 0 and m["frac_of_copy"] > 0
            assert len(m["samples_ms"]["jaxact"]) == 3
        assert isinstance(r["residuals"]["jaxact"], int)
        assert isinstance(r["residuals"]["jax.nn"], int)
        assert r["residuals"]["jax.nn_constant"] >= 0
        assert r["differs_from_jax.nn"]["elements"] == 0
        assert r["baseline"] == "jax.nn" and r["compile_s"]["jaxact"] > 0
    assert not list(tmp_path.glob("*.png"))


def test_registry_cases_cover_every_function():
    cases, skipped = _bench.registry_cases()
    assert [c.name for c in cases] == jaxact.names() and not skipped
    with_nn = {c.name for c in cases if c.theirs is not None}
    assert with_nn == set(jaxact.names(source="jax.nn"))


def test_bench_without_baseline_and_plots(tmp_path, capsys):
    # prelu needs its sample alpha, crelu doubles the width, log1mexp needs x > 0.
    out = tmp_path / "res.json"
    argv = ["bench", "--only", "prelu,crelu,log1mexp", "--size", "2048", "--reps", "3"]
    assert cli.main([*argv, "--out", str(out)]) == 0
    table = capsys.readouterr().out
    assert f"wrote {tmp_path / 'res-ratio.png'}, {tmp_path / 'res-floor.png'}" in table
    result = json.loads(out.read_text())
    prelu, crelu, log1mexp = result["results"]
    assert prelu["baseline"] is None and "ratio" not in prelu["fwd"]
    assert "jax.nn" not in prelu["residuals"] and "differs_from_jax.nn" not in prelu
    assert crelu["out_shape"] == [2, 2048]
    assert log1mexp["baseline"] == "jax.nn"
    assert log1mexp["differs_from_jax.nn"]["elements"] == 0  # finite inputs, same values
    assert (tmp_path / "res-floor.png").stat().st_size > 0


def test_bench_bfloat16(tmp_path, capsys, monkeypatch):
    """--dtype bfloat16 times bfloat16 inputs and names its JSON after the dtype."""
    monkeypatch.chdir(tmp_path)
    argv = ["bench", "--only", "gelu,softmax", "--size", "2048", "--reps", "3", "--dtype",
            "bfloat16", "--no-plots"]
    assert cli.main(argv) == 0
    assert "bfloat16 2x1024" in capsys.readouterr().out
    (path,) = tmp_path.glob("jaxact-bench-*-bfloat16.json")
    result = json.loads(path.read_text())
    assert result["dtype"] == "bfloat16"
    gelu, softmax = result["results"]
    assert gelu["fwd"]["bytes"] == 2 * 2048 * 2  # bfloat16 in and out
    # one residual, kept in float32 (the compute dtype) for an accurate backward pass
    assert softmax["residuals"]["jaxact"] == 1
    assert softmax["residuals"]["jaxact_bytes_per_element"] == 4.0


def test_bench_resolves_aliases():
    cases, skipped = _bench.registry_cases(["swish"])
    assert [c.name for c in cases] == ["silu"] and not skipped


def test_list_shows_every_name(capsys):
    assert cli.main(["list"]) == 0
    out = capsys.readouterr().out
    lines = out.splitlines()
    assert lines[0].split()[:2] == ["name", "aliases"]
    first_words = {ln.split()[0] for ln in lines[2:] if ln.strip()}
    assert set(jaxact.names()) <= first_words
    assert "approximate=True" in out  # gelu's parameter with its default


def test_list_json_and_filters(capsys):
    assert cli.main(["list", "--json", "--kind", "normalizer"]) == 0
    rows = [json.loads(ln) for ln in capsys.readouterr().out.splitlines()]
    assert [r["name"] for r in rows] == jaxact.names(kind="normalizer")
    assert all(set(r) == set(cli.LIST_COLUMNS) for r in rows)


def test_cli_needs_a_subcommand(capsys):
    with pytest.raises(SystemExit):
        cli.main([])


def test_micro_script_help():
    proc = subprocess.run(
        [sys.executable, "-m", "bench.micro", "--help"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 0, proc.stderr
    assert "--quick" in proc.stdout and "bench/results" in proc.stdout
    assert "--no-plots" in proc.stdout


def test_plots_skipped_without_matplotlib(tmp_path, monkeypatch, capsys):
    from jaxact import _bench_plot

    monkeypatch.setattr(_bench_plot, "have_matplotlib", lambda: False)
    argv = ["bench", "--only", "relu", "--size", "2048", "--reps", "3"]
    assert cli.main([*argv, "--out", str(tmp_path / "r.json")]) == 0
    assert "plots skipped: matplotlib is not installed" in capsys.readouterr().out
    assert not list(tmp_path.glob("*.png"))


def test_run_size_ladder():
    cases, _ = _bench.registry_cases(["relu"])
    result = _bench.run(cases, size=2048, reps=3, ladder=cases, ladder_sizes=(1024, 4096))
    assert [(r["name"], r["size"], r["shape"]) for r in result["ladder"]] == [
        ("relu", 1024, [1, 1024]),
        ("relu", 4096, [4, 1024]),
    ]
    for r in result["ladder"]:
        assert r["copy_gbps"] > 0 and r["fwd"]["ratio"] > 0 and "samples_ms" not in r["vjp"]
    assert _bench.LADDER_SIZES[0] == 2**10 and _bench.LADDER_SIZES[-1] == 2**26


def test_bench_against_torch_when_installed(tmp_path, capsys):
    """With torch installed, functions it has get a third side: torch eager on CPU."""
    pytest.importorskip("torch")
    out = tmp_path / "res.json"
    argv = ["bench", "--only", "relu,softmax,prelu", "--size", "2048", "--reps", "3",
            "--no-plots", "--out", str(out)]
    assert cli.main(argv) == 0
    assert "jaxact/torch time, fwd/vjp" in capsys.readouterr().out
    relu, softmax, prelu = json.loads(out.read_text())["results"]
    for rec in (relu, softmax):
        for mode in ("fwd", "vjp"):
            assert rec[mode]["ratio_torch"] > 0 and rec[mode]["torch"]["median_ms"] > 0
    assert "ratio_torch" not in prelu["fwd"]  # not in the torch table (it takes alpha)


def test_torch_functions_match_jaxact():
    """Every torch counterpart computes the registry function (same definition)."""
    torch = pytest.importorskip("torch")
    import torch.nn.functional as F

    from jaxact import _bench_torch

    x = np.linspace(-6, 6, 64, dtype=np.float32).reshape(2, 32)
    for name, fn in _bench_torch.FUNCTIONS.items():
        e = jaxact.entry(name)
        kw = dict(e.sample) | ({"axis": -1} if e.kind == "normalizer" or
                               any(p.name == "axis" for p in e.params) else {})
        ours = np.asarray(e.fn(x, **kw))
        theirs = fn(torch, F, torch.from_numpy(x)).numpy()
        np.testing.assert_allclose(ours, theirs, rtol=2e-5, atol=2e-6, err_msg=name)
