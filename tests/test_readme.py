"""README.md stays true: its examples run, its table matches the registry, its commands are CI's."""

from __future__ import annotations

import doctest
import json
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

from jaxact import _docs

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"
CI = ROOT / ".ci" / "run"


def _readme() -> str:
    return README.read_text(encoding="utf-8")


def _python_blocks(text: str) -> list[tuple[int, str]]:
    """(line number, code) of every ```python block, in order."""
    return [
        (text.count("\n", 0, m.start(1)), m.group(1))
        for m in re.finditer(r"^```python\n(.*?)^```", text, re.DOTALL | re.MULTILINE)
    ]


def _section(text: str, title: str) -> str:
    match = re.search(rf"^## {re.escape(title)}\n(.*?)(?=^## |\Z)", text, re.DOTALL | re.MULTILINE)
    assert match, f"README.md has no '## {title}' section"
    return match.group(1)


def _ci_command(var: str) -> str:
    match = re.search(rf"^{var}=(.*)$", CI.read_text(encoding="utf-8"), re.MULTILINE)
    assert match, f".ci/run defines no {var}"
    (value,) = shlex.split(match.group(1))
    return value


def test_function_table_is_current() -> None:
    assert _docs.table_in(_readme()) == _docs.readme_table(), (
        "README.md's function table is stale: run `python tools/readme_table.py`"
    )


def test_examples_run() -> None:
    """Every ```python block is a doctest; they run in order in one namespace."""
    blocks = _python_blocks(_readme())
    assert len(blocks) >= 4, "README.md lost its examples"
    parser = doctest.DocTestParser()
    flags = doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE
    runner = doctest.DocTestRunner(optionflags=flags)
    globs: dict[str, object] = {"__name__": "README"}
    report: list[str] = []
    for lineno, code in blocks:
        test = parser.get_doctest(code, globs, f"README.md:{lineno + 1}", str(README), lineno)
        assert test.examples, f"README.md:{lineno + 1}: a python block without >>> examples"
        runner.run(test, out=report.append, clear_globs=False)
        globs = test.globs  # DocTest copies its globs: carry names on to the next block
    assert runner.failures == 0, "README.md examples failed:\n" + "".join(report)


def test_setup_has_two_commands_and_ci_runs_the_test_one() -> None:
    setup = _section(_readme(), "Set-up: two commands")
    blocks = re.findall(r"^```(?:bash|sh|console)\n(.*?)^```", setup, re.DOTALL | re.MULTILINE)
    commands = [
        line.strip()
        for block in blocks
        for line in block.splitlines()
        if line.strip() and not line.lstrip().startswith("#")
    ]
    assert len(commands) == 2, f"expected two set-up commands, found {commands}"
    main_job, tests = commands
    assert main_job.startswith('pip install -e ".[train]" && jaxact train --activation ')
    ci_install, ci_test = _ci_command("INSTALL_COMMAND"), _ci_command("TEST_COMMAND")
    assert tests == f"{ci_install} && {ci_test}", (
        "README's test command and .ci/run's INSTALL_COMMAND/TEST_COMMAND differ"
    )
    assert re.search(r'^eval "\$INSTALL_COMMAND"', CI.read_text(), re.MULTILINE)
    assert re.search(r'^eval "\$TEST_COMMAND"$', CI.read_text(), re.MULTILINE)


def test_ci_script_is_strict() -> None:
    text = CI.read_text(encoding="utf-8")
    assert text.startswith("#!/usr/bin/env bash\n")
    assert "set -euo pipefail" in text
    assert "python3 -m venv" in text
    # Nothing may swallow pytest's exit code (5 = no tests collected must fail CI).
    assert not re.search(r"\|\|\s*true|\|\|\s*:|exit 0|set \+e", text)
    assert CI.stat().st_mode & 0o111, ".ci/run must be executable"


@pytest.mark.parametrize("marker", [_docs.START, _docs.END])
def test_table_markers_present_once(marker: str) -> None:
    assert _readme().count(marker) == 1


def test_training_table_matches_the_committed_results() -> None:
    """The README's training table is rendered from bench/results/fashion-mnist-cpu.json."""
    tool = README.parent / "tools" / "readme_training.py"
    done = subprocess.run([sys.executable, str(tool), "--check"], capture_output=True,
                          text=True, check=False)
    assert done.returncode == 0, done.stdout + done.stderr


def test_exhaustive_table_matches_the_committed_results() -> None:
    """README's every-float32 table is bench/results/exhaustive.json, rendered."""
    from bench import exhaustive

    rows = json.loads(exhaustive.OUT.read_text(encoding="utf-8"))["rows"]
    assert {r["function"] for r in rows} >= set(exhaustive.REFERENCES)
    assert exhaustive.readme_block(_readme()) == exhaustive.markdown(rows) + "\n", (
        "README.md's exhaustive table is stale: run `python -m bench.exhaustive --readme`"
    )
