"""The type checker's view of chainrule: mypy passes on the configured scope
(``[tool.mypy]`` in pyproject.toml), accepts a user's code, and reports a user's mistakes.

The package ships ``py.typed``, so editors and type checkers read chainrule's own code.
"""

import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
HERE = Path(__file__).resolve().parent / "typing"

pytest.importorskip("mypy", reason="mypy is in the test extra")


def _mypy(*args):
    # A subprocess: mypy raises the interpreter's recursion limit, which the engine's
    # no-recursion test checks. The config's paths are relative to the repository root.
    proc = subprocess.run([sys.executable, "-m", "mypy", "--config-file", "pyproject.toml",
                           "--cache-dir", ".mypy_cache", *args],
                          cwd=ROOT, capture_output=True, text=True, timeout=600)
    return proc.stdout + proc.stderr, proc.returncode


def test_mypy_passes_on_the_configured_scope():
    out, status = _mypy()
    assert status == 0, out


def test_a_users_code_type_checks():
    out, status = _mypy(str(HERE / "usage.py"))
    assert status == 0, out


def test_a_users_mistakes_are_reported():
    path = HERE / "mistakes.py"
    expected = {i: m.group(1) for i, line in enumerate(path.read_text().splitlines(), 1)
                if (m := re.search(r"# error: ([a-z-]+)$", line))}
    assert len(expected) >= 5
    out, status = _mypy(str(path))
    assert status == 1, out
    found = {int(m.group(1)): m.group(2) for m in
             re.finditer(rf"{re.escape(path.name)}:(\d+): error: .*\[([a-z-]+)\]", out)}
    assert found == expected, out
