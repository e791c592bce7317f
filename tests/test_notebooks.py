"""Every notebook in notebooks/ runs from a clean kernel without errors.

The notebooks are jupytext percent scripts; each is converted in memory and executed by
nbclient in a fresh kernel of this interpreter, with ``JAXACT_NB_QUICK=1`` (the small
budget every notebook reads) and matplotlib's non-interactive Agg backend.
"""

from __future__ import annotations

import sys
from pathlib import Path

import jupytext
import nbformat
import pytest
from nbclient import NotebookClient

NOTEBOOKS = sorted((Path(__file__).parent.parent / "notebooks").glob("[0-9]*.py"))
CELL_TIMEOUT_S = 300  # per cell; the quick budgets take well under a minute per notebook


def test_notebooks_found() -> None:
    assert len(NOTEBOOKS) >= 4, NOTEBOOKS


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_runs(path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    source = path.read_text()
    assert "JAXACT_NB_QUICK" in source, "every notebook must honour the quick CI budget"
    nb = jupytext.reads(source, fmt="py:percent")
    # The kernel must be this interpreter's environment (where jaxact is installed), not
    # whichever `python3` kernel Jupyter finds first: checked from inside the kernel.
    nb.cells.insert(
        0, nbformat.v4.new_code_cell(f"import sys\nassert sys.prefix == {sys.prefix!r}, sys.prefix")
    )
    monkeypatch.setenv("JAXACT_NB_QUICK", "1")
    monkeypatch.setenv("MPLBACKEND", "Agg")
    monkeypatch.setenv("JAX_PLATFORMS", "cpu")
    monkeypatch.delenv("JAXACT_NB_FIGURES", raising=False)
    client = NotebookClient(
        nb,
        timeout=CELL_TIMEOUT_S,
        kernel_name="python3",
        resources={"metadata": {"path": str(path.parent)}},
    )
    client.execute()  # raises CellExecutionError with the traceback on any failing cell
    errors = [
        out
        for cell in nb.cells
        if cell.cell_type == "code"
        for out in cell.get("outputs", [])
        if out.get("output_type") == "error"
    ]
    assert not errors
