"""The built wheel carries the task and prompt catalogues and works outside the repository.

Builds the wheel with hatchling (no build isolation, so no network: hatchling must be installed
in the environment running the tests; the test is skipped otherwise), checks its contents, installs
it without dependencies into a fresh virtual environment and runs the installed ``promptkit``
from a directory outside the repository.

The fresh environment sees the heavy dependencies (torch, transformers, ...) of the environment
running the tests through a ``.pth`` file naming that environment's site-packages: installing
them again would take minutes. Only promptkit itself comes from the wheel, which the test checks.
"""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.skipif(
    importlib.util.find_spec("hatchling") is None or importlib.util.find_spec("build") is None,
    reason="building the wheel offline needs hatchling and build installed (pip install hatchling build)",
)


def run(cmd: list[str], cwd: Path, **env: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("PROMPTKIT_", "PYTHON")) and k != "VIRTUAL_ENV"}
    done = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, timeout=300, env={**clean, "COLUMNS": "250", **env})
    assert done.returncode == 0, f"{cmd} failed:\n{done.stdout}\n{done.stderr}"
    return done


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("dist")
    run([sys.executable, "-m", "build", "--wheel", "--no-isolation", "--outdir", str(out), str(REPO)], cwd=REPO)
    (path,) = out.glob("promptkit-*.whl")
    return path


@pytest.fixture(scope="module")
def installed(wheel: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh venv with only the wheel installed; returns its bin directory."""
    venv = tmp_path_factory.mktemp("venv")
    run([sys.executable, "-m", "venv", "--without-pip", "--clear", str(venv)], cwd=venv)
    python = venv / "bin" / "python"
    run([sys.executable, "-m", "pip", "--python", str(python), "install", "--no-deps", "--no-index", "--quiet", str(wheel)], cwd=venv)
    purelib = run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"], cwd=venv).stdout.strip()
    # The dependencies of this environment, after the venv's own site-packages in sys.path.
    (Path(purelib) / "_promptkit_test_deps.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    return venv / "bin"


def test_wheel_contains_the_catalogues(wheel: Path) -> None:
    with zipfile.ZipFile(wheel) as zf:
        names = set(zf.namelist())
    assert "promptkit/__init__.py" in names and "promptkit/cli/__init__.py" in names
    tasks = {p.relative_to(REPO).as_posix() for p in (REPO / "tasks").rglob("*") if p.is_file()}
    prompts = {p.relative_to(REPO).as_posix() for p in (REPO / "prompts").rglob("*.yaml")}
    assert any(t.endswith(".yaml") for t in tasks) and prompts
    for rel in sorted(tasks | prompts):
        assert f"promptkit/_builtin/{rel}" in names, f"{rel} is missing from the wheel"
    assert not any(n.startswith(("tests/", "toolkit/")) for n in names)
    entry_points = next(n for n in names if n.endswith(".dist-info/entry_points.txt"))
    with zipfile.ZipFile(wheel) as zf:
        assert "promptkit = promptkit.cli:main" in zf.read(entry_points).decode()


def test_installed_wheel_lists_builtin_tasks(installed: Path, tmp_path: Path) -> None:
    where = run([str(installed / "python"), "-c", "import promptkit, promptkit.tasks.catalog as c; print(promptkit.__file__); print(c.builtin_dir('tasks'))"], cwd=tmp_path)
    module, tasks_dir = where.stdout.split()
    venv = installed.parent
    assert Path(module).is_relative_to(venv), "promptkit was not imported from the installed wheel"
    assert Path(tasks_dir).is_relative_to(venv) and Path(tasks_dir).name == "tasks"
    listing = run([str(installed / "promptkit"), "tasks", "list"], cwd=tmp_path).stdout
    for path in sorted((REPO / "tasks").glob("*.yaml")):
        assert path.stem in listing
    assert "built-in" in listing


def test_installed_wheel_validates_its_catalogues(installed: Path, tmp_path: Path) -> None:
    builtin = run([str(installed / "python"), "-c", "import promptkit.tasks.catalog as c; print(c.builtin_dir('tasks').parent)"], cwd=tmp_path).stdout.strip()
    done = run([str(installed / "promptkit"), "tasks", "validate", builtin], cwd=tmp_path)
    assert done.stdout.strip().endswith(" valid, 0 invalid")
    shipped = [*(REPO / "tasks").rglob("*.yaml"), *(REPO / "prompts").rglob("*.yaml")]
    assert done.stdout.strip().splitlines()[-1] == f"{len(shipped)} valid, 0 invalid"


def test_installed_wheel_reads_demo_data(installed: Path, tmp_path: Path, tiny_llama_dir: Path) -> None:
    """The demo tasks' JSONL ships too: `tasks show` renders a real example with the tiny model's
    tokenizer."""
    done = run([str(installed / "promptkit"), "tasks", "show", "demo_qa", "--model", str(tiny_llama_dir), "-n", "1"], cwd=tmp_path)
    assert "demo_qa" in done.stdout and "Question:" in done.stdout and "tokens" in done.stdout
