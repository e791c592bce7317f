"""Sphinx configuration of jaxact's documentation.

Build: ``python -m sphinx -W -b html docs docs/_build/html`` (``-W``: warnings are errors).
The notebooks (``docs/notebooks`` links to ``../notebooks``) are jupytext percent scripts
that myst-nb reads and, by default, executes at full budget during the build (with
``JAXACT_NB_QUICK=1`` in the environment: at the tiny CI budget); pass
``-D nb_execution_mode=off`` to render them without outputs. The test suite builds this
configuration on a copy of ``docs/`` whose ``notebooks/`` holds the ``.ipynb`` files that
``tests/test_notebooks.py`` executed (read with ``nb_custom_formats`` below), so the pages
show their outputs without a second execution (``tests/conftest.py``).
"""

from __future__ import annotations

import jaxact

project = "jaxact"
author = "jaxact contributors"
copyright = "jaxact contributors"
release = version = getattr(jaxact, "__version__", "0.1.0")

extensions = [
    "myst_nb",
    "sphinx.ext.autodoc",
    "sphinx.ext.napoleon",
    "sphinx.ext.mathjax",
    "sphinx.ext.viewcode",
]
exclude_patterns = [
    "_build",
    "conf.py",
    "notebooks/README.md",
    "notebooks/figures",
    "**/.ipynb_checkpoints",
]

# --- API reference: autodoc over the docstrings (Google style, read by napoleon) --------
autodoc_member_order = "bysource"
autodoc_typehints = "description"
autodoc_default_options = {"members": True, "undoc-members": False}
napoleon_google_docstring = True
napoleon_numpy_docstring = False
# dataclass fields are autodoc members already; an "Attributes:" section must not repeat them
napoleon_use_ivar = True

# --- notebooks: jupytext percent scripts ------------------------------------------------
nb_custom_formats = {".py": ["jupytext.reads", {"fmt": "py:percent"}]}
nb_execution_mode = "auto"  # execute notebooks without stored outputs (all of them)
nb_execution_timeout = 1800
nb_execution_raise_on_error = True
myst_enable_extensions = ["dollarmath", "amsmath"]

html_theme = "furo"
html_title = "jaxact"
html_static_path = ["_static"]
