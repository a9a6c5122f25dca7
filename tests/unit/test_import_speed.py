"""Importing promptkit and answering ``--help`` must not import the heavy libraries.

Each check runs in a fresh interpreter (this test session has long imported torch). No timing
is asserted (machines are noisy); what is checked is which modules got imported.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import promptkit
import pytest

HEAVY = ("torch", "transformers", "peft", "accelerate", "datasets", "evaluate")
REPO = Path(__file__).resolve().parents[2]


def python(code: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO, timeout=120,
                          env={**os.environ, "PYTHONWARNINGS": "ignore"})


def heavy_after(code: str) -> list[str]:
    """Heavy modules in sys.modules after running ``code`` in a fresh interpreter."""
    probe = f"{code}\nimport json, sys\nprint(json.dumps(sorted(m for m in {HEAVY!r} if m in sys.modules)))"
    done = python(probe)
    assert done.returncode == 0, done.stderr
    return list(json.loads(done.stdout.strip().splitlines()[-1]))


@pytest.mark.parametrize(
    "modules",
    [
        "promptkit",
        "promptkit.cli",
        "promptkit.config, promptkit.config.run, promptkit.tasks, promptkit.run, promptkit.report",
        "promptkit.run.plan, promptkit.run.launch, promptkit.run.local, promptkit.run.ray, promptkit.run.tuning",
        "promptkit.harness, promptkit.methods, promptkit.models, promptkit.prompting.chat",
    ],
)
def test_imports_do_not_load_heavy_libraries(modules: str) -> None:
    assert heavy_after(f"import {modules}") == []


def run_cli(*args: str) -> str:
    code = (
        "import sys\nfrom promptkit.cli import main\n"
        f"try:\n    main({list(args)!r})\nexcept SystemExit as exc:\n    assert not exc.code, exc.code\n"
    )
    return code


@pytest.mark.parametrize(
    "args",
    [("--help",), ("eval", "--help"), ("tasks", "list"), ("tasks", "validate", "tests/fixtures/tiny")],
)
def test_light_commands_do_not_load_heavy_libraries(args: tuple[str, ...]) -> None:
    assert heavy_after(run_cli(*args)) == []


def test_help_runs_as_a_program() -> None:
    script = Path(sys.executable).with_name("promptkit")
    command = [str(script)] if script.is_file() else [sys.executable, "-m", "promptkit.cli"]
    done = subprocess.run([*command, "--help"], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("Usage: promptkit")
    for command_name in ("eval", "tasks", "report"):
        assert command_name in done.stdout
    version = subprocess.run([*command, "--version"], capture_output=True, text=True, timeout=120)
    assert version.returncode == 0 and version.stdout.strip() == f"promptkit, version {promptkit.__version__}"
