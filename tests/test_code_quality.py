"""The code keeps its habits: ruff clean, the import contracts kept, mypy clean on the core.

Each tool runs as a user would run it from the repository (``ruff check .``,
``lint-imports``, ``mypy bngui/core``), with its settings in pyproject.toml.
"""

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPOSITORY = Path(__file__).resolve().parents[1]


def run_tool(*command):
    executable = shutil.which(command[0], path=str(Path(sys.executable).parent))
    if executable is None:
        pytest.fail(f"{command[0]} is not installed: pip install '.[test]' installs it")
    completed = subprocess.run([executable, *command[1:]], cwd=REPOSITORY, capture_output=True,
                               text=True, timeout=300)
    assert completed.returncode == 0, completed.stdout[-5000:] + completed.stderr[-2000:]
    return completed.stdout


def test_ruff_finds_nothing():
    run_tool("ruff", "check", "--no-cache", ".")


def test_the_import_contracts_are_kept():
    """The core and the commands never import Qt; the layers only import downwards."""
    output = run_tool("lint-imports", "--no-cache")
    assert "0 broken" in output, output


def test_mypy_finds_nothing_in_the_core():
    run_tool("mypy", "--no-incremental", "bngui/core")
