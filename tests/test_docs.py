"""The documentation site builds without a single warning and documents every public name.

The build is the real one (``docs/conf.py``) with ``-W`` (warnings are errors) and a fresh
environment (``-E``), except that the notebooks are rendered without executing them
(``-D nb_execution_mode=off``): ``tests/test_notebooks.py`` executes them.
"""

from __future__ import annotations

import importlib
import importlib.util
import re
import subprocess
import sys
from pathlib import Path

import pytest

import jaxact

DOCS = Path(__file__).parent.parent / "docs"
PUBLIC_MODULES = ("jaxact.linen", "jaxact.nnx", "jaxact.datasets", "jaxact.training")


@pytest.fixture(scope="module")
def html(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("html")
    cmd = [sys.executable, "-m", "sphinx", "-W", "--keep-going", "-E", "-q", "-b", "html"]
    cmd += ["-D", "nb_execution_mode=off", str(DOCS), str(out)]
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode == 0, f"sphinx failed:\n{done.stdout}\n{done.stderr}"
    return out


def _documented(page: Path) -> set[str]:
    """Names that the page documents as Python objects (an anchor per description)."""
    return set(re.findall(r'<dt class="sig sig-object py" id="([\w.]+)"', page.read_text()))


def test_every_public_name_is_documented(html: Path) -> None:
    documented = _documented(html / "api.html")
    missing = [n for n in jaxact.__all__ if f"jaxact.{n}" not in documented]
    assert not missing, f"public names missing from the API reference: {missing}"


@pytest.mark.parametrize("module", PUBLIC_MODULES)
def test_submodule_names_are_documented(html: Path, module: str) -> None:
    mod = importlib.import_module(module)
    documented = set().union(*(_documented(p) for p in html.glob("*.html")))
    public = getattr(mod, "__all__", [])
    assert public, f"{module} has no __all__"
    missing = [n for n in public if f"{module}.{n}" not in documented]
    assert not missing, f"{module}: public names missing from the docs: {missing}"


def test_notebooks_are_rendered(html: Path) -> None:
    sources = sorted(p.stem for p in (DOCS.parent / "notebooks").glob("[0-9]*.py"))
    rendered = sorted(p.stem for p in (html / "notebooks").glob("*.html"))
    assert sources and rendered == sources
