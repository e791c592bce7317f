"""Every notebook in notebooks/ runs from a clean kernel without errors and shows a figure.

The notebooks are jupytext percent scripts, read as the documentation reads them and
executed by nbclient in a fresh kernel of this interpreter with ``JAXACT_NB_QUICK=1``
(the small budget every notebook reads). The executed notebooks come from the session
fixture ``executed_notebook`` (``tests/conftest.py``): ``tests/test_docs.py`` renders the
very same runs in the documentation, so each notebook is executed once per test session.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import nbformat
import pytest

NOTEBOOKS = sorted((Path(__file__).parent.parent / "notebooks").glob("[0-9]*.py"))


def test_notebooks_found() -> None:
    assert len(NOTEBOOKS) >= 5, NOTEBOOKS


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_runs(path: Path, executed_notebook: Callable[[Path], Any]) -> None:
    assert "JAXACT_NB_QUICK" in path.read_text(), "every notebook must honour the quick CI budget"
    run = executed_notebook(path)
    assert run.error is None, f"{path.name} failed:\n{run.error}"
    nb = nbformat.read(run.ipynb, as_version=4)
    outputs = [out for cell in nb.cells if cell.cell_type == "code" for out in cell.outputs]
    assert not [out for out in outputs if out.output_type == "error"]
    figures = [out for out in outputs if "image/png" in out.get("data", {})]
    assert figures, f"{path.name} shows no figure"
