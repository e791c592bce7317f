"""Runs pyright on tests/typing/usage.py (the public API's types read as documented) and on
the package."""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
USAGE = ROOT / "tests" / "typing" / "usage.py"


@pytest.mark.skipif(
    importlib.util.find_spec("pyright") is None,
    reason="pyright is not installed (it comes with the test extra: pip install -e '.[test]')",
)
@pytest.mark.parametrize("target", [USAGE, ROOT / "jaxact"], ids=["usage", "package"])
def test_type_checks(target: Path) -> None:
    """The usage file (the public API as users call it) and the package itself."""
    # --pythonpath: resolve jax, flax and jaxact in the interpreter running the tests.
    # The configuration ([tool.pyright] in pyproject.toml) turns unneeded ignores into errors.
    cmd = [sys.executable, "-m", "pyright", "--pythonpath", sys.executable, str(target)]
    # PYRIGHT_PYTHON_IGNORE_WARNINGS: skip the wrapper's "newer version on PyPI?" request.
    env = {**os.environ, "PYRIGHT_PYTHON_IGNORE_WARNINGS": "1"}
    result = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    output = result.stdout + result.stderr
    assert result.returncode == 0, f"pyright failed on {target.name}:\n{output}"
    assert "0 errors" in output, output
