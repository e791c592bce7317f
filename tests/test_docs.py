"""The documentation site builds without a single warning and documents every public name.

The build (fixture ``docs_html`` in ``tests/conftest.py``, once per test session) is the
real one (``docs/conf.py``) with ``-W`` (warnings are errors) and a fresh environment
(``-E``), except that the notebooks are not executed by Sphinx: it renders, with their
outputs, the notebooks that ``tests/test_notebooks.py`` checks (one execution of each).
Run on its own, this module therefore executes the notebooks (at the quick budget) first.
"""

from __future__ import annotations

import importlib
import re
import runpy
import struct
from pathlib import Path

import pytest

import jaxact

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = sorted((ROOT / "notebooks").glob("[0-9]*.py"))
README_PICTURE_BYTES = 150_000
README_PICTURE_PIXELS = (1400, 800)  # width, height
DOCS_STATIC = ROOT / "docs" / "_static"
PUBLIC_MODULES = ("jaxact.linen", "jaxact.nnx", "jaxact.datasets", "jaxact.training")


@pytest.fixture
def html(docs_html: Path) -> Path:
    return docs_html


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
    sources = sorted(p.stem for p in NOTEBOOKS)
    rendered = sorted(p.stem for p in (html / "notebooks").glob("*.html"))
    assert sources and rendered == sources


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_pages_show_outputs(html: Path, path: Path) -> None:
    """Each notebook page shows its printed output and its figures, as image files."""
    page = html / "notebooks" / f"{path.stem}.html"
    text = page.read_text(encoding="utf-8")
    assert 'class="cell_output' in text, f"{page.name}: no cell output"
    images = re.findall(r'<img[^>]* src="([^"]+\.png)"', text)
    assert images, f"{page.name}: no figure"
    missing = [src for src in images if not (page.parent / src).resolve().is_file()]
    assert not missing, f"{page.name}: images missing from the build: {missing}"
    assert "sys.prefix" not in text, f"{page.name}: the test's kernel check is shown"


def test_readme_pictures_are_small_and_drawn_by_the_notebooks() -> None:
    """README.md shows two or three small PNGs, each one that a notebook saves and that
    ``tools/readme_pictures.py`` redraws."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    pictures = re.findall(r"!\[[^\]]*\]\(([^)\s]+\.png)\)", readme)
    assert 2 <= len(pictures) <= 3, pictures
    drawn = runpy.run_path(str(ROOT / "tools" / "readme_pictures.py"))["PICTURES"]
    for picture in pictures:
        png = ROOT / picture
        assert png.parent == DOCS_STATIC and png.name in drawn, f"{picture}: not redrawn by a tool"
        notebook = (ROOT / "notebooks" / drawn[png.name]).read_text(encoding="utf-8")
        assert f'"{png.name}"' in notebook, f"{drawn[png.name]} does not save {png.name}"
        data = png.read_bytes()
        assert len(data) <= README_PICTURE_BYTES, f"{picture}: {len(data)} bytes"
        width, height = struct.unpack(">II", data[16:24])  # the PNG's IHDR chunk
        max_width, max_height = README_PICTURE_PIXELS
        assert width <= max_width and height <= max_height, f"{picture}: {width}x{height}"
