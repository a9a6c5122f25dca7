"""Issue 22, first items: every read bounded before it happens, and a run directory that is
promptkit's own. Each case failed on the code before: it hung, read gigabytes, rewrote a file
outside the run, or let two writers share a run."""

from __future__ import annotations

import json
import os
import stat
import threading
import time
from pathlib import Path

import pytest
from promptkit.config.documents import read_yaml
from promptkit.errors import ConfigError, PromptkitError
from promptkit.records.results import RunResult
from promptkit.records.samples import SampleFiles
from promptkit.run.store import RunStore
from promptkit.tasks.lmeval.reader import MAX_INCLUDE_FILES, read_lm_eval


def quickly(fn, limit_s: float = 5.0):  # type: ignore[no-untyped-def]
    """Run ``fn`` in a thread; fail (instead of hanging the suite) if it does not end in time."""
    out: dict[str, object] = {}

    def target() -> None:
        try:
            out["value"] = fn()
        except BaseException as exc:  # noqa: BLE001  (handed back to the test)
            out["error"] = exc

    worker = threading.Thread(target=target, daemon=True)
    start = time.perf_counter()
    worker.start()
    worker.join(limit_s)
    assert not worker.is_alive(), f"still running after {limit_s} s"
    return out, time.perf_counter() - start


def test_include_fan_out_is_refused_in_under_a_second(tmp_path: Path) -> None:
    # 16 files, each including the next one 4 times: 4^15 reads without a bound on the total
    for i in range(16):
        body = f"task: t{i}\n" if i == 15 else "include: [" + ", ".join([f"f{i + 1}.yaml"] * 4) + "]\n"
        (tmp_path / f"f{i}.yaml").write_text(body + ("" if i == 15 else f"task: t{i}\n"), encoding="utf-8")
    out, took = quickly(lambda: read_lm_eval(tmp_path / "f0.yaml"))
    assert isinstance(out.get("error"), ConfigError) and took < 1.0
    assert f"includes read more than {MAX_INCLUDE_FILES} files" in str(out["error"])
    assert len(str(out["error"]).splitlines()) == 1


def test_a_3_gb_yaml_file_is_refused_before_it_is_read(tmp_path: Path) -> None:
    big = tmp_path / "task.yaml"
    with big.open("wb") as fh:
        fh.truncate(3 * 1024**3)  # sparse: no disk, but 3 GB to read
    out, took = quickly(lambda: read_yaml(big))
    assert isinstance(out.get("error"), ConfigError) and took < 1.0
    assert "3,221,225,472 bytes; at most 20,000,000 are read" in str(out["error"])


@pytest.mark.parametrize("kind", ["fifo", "dev-zero", "directory"])
def test_results_json_that_is_not_a_regular_file_is_refused_at_once(kind: str, tmp_path: Path) -> None:
    run = tmp_path / "run"
    run.mkdir()
    target = run / "results.json"
    if kind == "fifo":
        os.mkfifo(target)
    elif kind == "dev-zero":
        target.symlink_to("/dev/zero")
    else:
        target.mkdir()
    out, took = quickly(lambda: RunResult.load(run))  # the run directory, as `promptkit report RUN` gives it
    error = out.get("error")
    assert isinstance(error, PromptkitError) and took < 1.0, error
    assert {"fifo": "is a FIFO", "dev-zero": "is a device", "directory": "is a directory"}[kind] in str(error)


def test_yaml_from_a_fifo_is_refused_without_blocking(tmp_path: Path) -> None:
    fifo = tmp_path / "run.yaml"
    os.mkfifo(fifo)
    out, _ = quickly(lambda: read_yaml(fifo))
    assert isinstance(out.get("error"), ConfigError) and "is a FIFO; give a regular file" in str(out["error"])


def test_samples_paths_out_of_the_run_directory_are_refused_and_the_file_is_untouched(tmp_path: Path) -> None:
    from promptkit.analysis.merge import rescore
    from promptkit.records.results import CellResult

    outside = tmp_path / "precious.jsonl"
    row = {"example_id": "e", "prompt_name": "p", "method": "m", "seed": None, "prediction": "a", "references": ["a"]}
    outside.write_text(json.dumps(row) + "\n", encoding="utf-8")
    os.chmod(outside, 0o600)
    before = outside.read_bytes()
    run = tmp_path / "run"
    run.mkdir()
    for rel in ("../precious.jsonl", str(outside)):
        cell = CellResult(task="t", prompt="p", method="m", method_config={}, task_version="1", prompt_version="1",
                          samples=rel)
        result = RunResult(run_id="r", created="", config={}, cells=[cell])
        with pytest.raises(PromptkitError, match=r"cells\[\]\.samples .* leads out of the run directory"):
            SampleFiles(run).rows(cell)
        with pytest.raises(PromptkitError, match="leads out of the run directory"):
            rescore(result, run, ["chrf"])
    (run / "samples").symlink_to(tmp_path)  # a planted symlink inside the run
    cell = CellResult(task="t", prompt="p", method="m", method_config={}, task_version="1", prompt_version="1",
                      samples="samples/precious.jsonl")
    with pytest.raises(PromptkitError, match="leads out of the run directory"):
        SampleFiles(run).rows(cell)
    assert outside.read_bytes() == before and stat.S_IMODE(outside.stat().st_mode) == 0o600


def test_a_second_writer_of_a_run_directory_is_refused_naming_the_holder(tmp_path: Path) -> None:
    first = RunStore(tmp_path / "r")
    first.claim()
    (tmp_path / "r" / "results.json").write_text('{"kept": true}', encoding="utf-8")
    second = RunStore(tmp_path / "r")
    with pytest.raises(ConfigError, match=rf"is being written by promptkit pid {os.getpid()} on .*choose another --run-id"):
        second.claim()
    assert json.loads((tmp_path / "r" / "results.json").read_text()) == {"kept": True}
    first.release()
    second.claim()  # free again once the first let go (or its process ended)
    second.release()
    assert not (tmp_path / "r" / ".lock").exists()  # a finished run leaves no lock file behind


@pytest.mark.parametrize("kind", ["missing", "directory", "fifo"])
def test_tasks_validate_names_a_data_file_that_is_missing_or_not_a_file(kind: str, tmp_path: Path) -> None:
    """Issue 22 item 9: `tasks validate` said ok for a local-files task whose data file was
    missing, a directory or a FIFO (and would have blocked on the FIFO when rendering rows)."""
    from promptkit.tasks import validate_files

    tiny = Path(__file__).resolve().parents[1] / "fixtures" / "tiny"
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "qa_train.jsonl").write_bytes((tiny / "data" / "qa_train.jsonl").read_bytes())
    test = tmp_path / "data" / "qa_test.jsonl"
    if kind == "directory":
        test.mkdir()
    elif kind == "fifo":
        os.mkfifo(test)
    task = tmp_path / "qa.yaml"
    task.write_text((tiny / "qa.yaml").read_text(encoding="utf-8"), encoding="utf-8")
    out, took = quickly(lambda: validate_files([task]))
    problems = [str(p) for p in out["value"][task]]  # type: ignore[index]
    expected = {"missing": f"split 'test': data file not found: {test}", "directory": "is a directory; give a regular file",
                "fifo": "is a FIFO; give a regular file"}[kind]
    assert len(problems) == 1 and expected in problems[0] and took < 1.0
