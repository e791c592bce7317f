"""Executed notebooks and the built documentation, made once per test session.

``tests/test_notebooks.py`` checks that every notebook ran cleanly and
``tests/test_docs.py`` renders the same executed notebooks (with their outputs) in the
documentation, so no notebook is executed twice. Under pytest-xdist the workers share
the results: each is made under an exclusive file lock in the session's common temporary
directory by whichever worker asks first, and the others wait for it and read it back.
"""

from __future__ import annotations

import importlib
import json
import os
import runpy
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    import nbformat

try:
    import fcntl
except ImportError:  # no POSIX file locks (Windows): each xdist worker makes its own
    fcntl = None  # type: ignore[assignment]

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"
NOTEBOOKS = sorted((ROOT / "notebooks").glob("[0-9]*.py"))
CELL_TIMEOUT_S = 300  # per cell; the quick budgets take well under a minute per notebook
SPHINX_TIMEOUT_S = 600


@dataclass(frozen=True)
class Executed:
    """A notebook run from a clean kernel: the executed ``.ipynb`` and the error, if any."""

    ipynb: Path
    error: str | None


def _read_notebook(path: Path) -> nbformat.NotebookNode:
    """The notebook as the documentation reads it: ``docs/conf.py``'s ``nb_custom_formats``."""
    reader, kwargs = runpy.run_path(str(DOCS / "conf.py"))["nb_custom_formats"][path.suffix]
    module, _, name = reader.rpartition(".")
    return getattr(importlib.import_module(module), name)(
        path.read_text(encoding="utf-8"), **kwargs
    )


def _execute(path: Path, out: Path) -> str | None:
    """Runs ``path`` in a fresh kernel at the quick budget; writes the executed notebook."""
    # Imported here: only the notebook tests need Jupyter (the GPU run of the rest has none)
    import nbformat
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError

    nb = _read_notebook(path)
    # The kernel must be this interpreter's environment (where jaxact is installed), not
    # whichever `python3` kernel Jupyter finds first: checked from inside the kernel; the
    # cell is hidden in the documentation.
    check = nbformat.v4.new_code_cell(
        f"import sys\nassert sys.prefix == {sys.prefix!r}, sys.prefix"
    )
    check.metadata["tags"] = ["remove-cell"]
    nb.cells.insert(0, check)
    env = {**os.environ, "JAXACT_NB_QUICK": "1", "JAX_PLATFORMS": "cpu"}
    env.pop("JAXACT_NB_FIGURES", None)  # never overwrite the committed pictures
    env.pop("MPLBACKEND", None)  # ipykernel's inline backend: figures become outputs
    client = NotebookClient(
        nb,
        timeout=CELL_TIMEOUT_S,
        kernel_name="python3",
        resources={"metadata": {"path": str(path.parent)}},
    )
    try:
        client.execute(env=env)
        error = None
    except CellExecutionError as exc:  # the notebook up to the failing cell is still written
        error = str(exc)
    nbformat.write(nb, out)
    return error


def _once(shared: Path, name: str, make: Callable[[Path], Any]) -> tuple[Path, Any]:
    """``shared/name`` and its note, made by ``make(shared/name)`` once per session.

    ``make`` writes its result to the path it is given (a file or a folder) and returns a
    JSON-serialisable note, kept in ``name.json``. Whichever process comes first makes it
    under an exclusive lock; the others wait for the lock and read the note back.
    """
    target, done = shared / name, shared / f"{name}.json"
    with open(shared / f"{name}.lock", "w") as lock:
        if fcntl is not None:
            fcntl.flock(lock, fcntl.LOCK_EX)  # released when the file is closed
        if not done.exists():
            done.write_text(json.dumps({"note": make(target)}))
        return target, json.loads(done.read_text())["note"]


@pytest.fixture(scope="session")
def session_shared(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder common to all xdist workers of this session (this process's own without xdist)."""
    if os.environ.get("PYTEST_XDIST_WORKER") and fcntl is not None:
        shared = tmp_path_factory.getbasetemp().parent / "shared"
        shared.mkdir(exist_ok=True)
        return shared
    return tmp_path_factory.mktemp("shared")


@pytest.fixture(scope="session")
def executed_notebook(session_shared: Path) -> Callable[[Path], Executed]:
    """``run(path)``: ``path`` executed once per session (by whichever worker asks first)."""

    def run(path: Path) -> Executed:
        return Executed(
            *_once(session_shared, f"{path.stem}.ipynb", lambda out: _execute(path, out))
        )

    return run


@pytest.fixture(scope="session")
def docs_html(session_shared: Path, executed_notebook: Callable[[Path], Executed]) -> Path:
    """The documentation built once per session with ``-W`` and the executed notebooks.

    A copy of ``docs/`` in which ``notebooks/`` holds the executed ``.ipynb`` files is
    built with the real ``docs/conf.py``; myst-nb renders their stored outputs
    (``nb_execution_mode=off``) instead of executing the notebooks again.
    """

    executed = {path: executed_notebook(path) for path in NOTEBOOKS}  # before the docs lock

    def build(out: Path) -> dict[str, Any]:
        src = Path(tempfile.mkdtemp(prefix="docs-src-", dir=session_shared))
        shutil.copytree(
            DOCS, src, ignore=shutil.ignore_patterns("_build", "notebooks"), dirs_exist_ok=True
        )
        (src / "notebooks").mkdir()
        for path, run in executed.items():
            shutil.copy(run.ipynb, src / "notebooks" / f"{path.stem}.ipynb")
        cmd = [sys.executable, "-m", "sphinx", "-W", "--keep-going", "-E", "-q", "-b", "html"]
        cmd += ["-D", "nb_execution_mode=off", str(src), str(out)]
        done = subprocess.run(
            cmd, capture_output=True, text=True, timeout=SPHINX_TIMEOUT_S, check=False
        )
        return {"returncode": done.returncode, "stdout": done.stdout, "stderr": done.stderr}

    out, note = _once(session_shared, "html", build)
    assert note["returncode"] == 0, f"sphinx failed:\n{note['stdout']}\n{note['stderr']}"
    return out
