"""The run directory through ``promptkit eval`` on the tiny Llama: a second run under an existing
run id is refused and the first run's files are kept. (Run ids that are paths, an unwritable
``--out`` and the other hostile input: tests/unit/test_hostile_input.py.)"""

from __future__ import annotations

from pathlib import Path

from helpers import invoke


def test_a_second_run_under_the_same_id_is_refused_and_the_first_kept(tmp_path: Path, tiny_llama_dir: Path) -> None:
    args = ["eval", "--task", "demo_qa", "--model", str(tiny_llama_dir), "--limit", "2", "--method", "zero-shot",
            "--out", str(tmp_path), "--run-id", "same", "--device", "cpu"]
    first = invoke(args)
    assert first.exit_code == 0, first.output
    results = (tmp_path / "same" / "results.json").read_bytes()
    again = invoke(args)
    assert again.exit_code == 2
    assert "already holds a run (results.json); pass --resume" in again.output and "Traceback" not in again.output
    assert (tmp_path / "same" / "results.json").read_bytes() == results


def test_a_run_still_being_written_is_not_resumed_or_joined(tmp_path: Path, tiny_llama_dir: Path) -> None:
    """Two processes on one run directory: the one holding it keeps it; ``--resume`` (or a second
    run that started before the first wrote results.json) is refused naming the holder."""
    from promptkit.run.store import RunStore

    args = ["eval", "--task", "demo_qa", "--model", str(tiny_llama_dir), "--limit", "2", "--method", "zero-shot",
            "--out", str(tmp_path), "--device", "cpu"]
    first = invoke([*args, "--run-id", "live"])
    assert first.exit_code == 0, first.output
    results = (tmp_path / "live" / "results.json").read_bytes()
    holder = RunStore(tmp_path / "live")
    holder.claim()  # as the process still writing it would
    try:
        resumed = invoke(["eval", "--resume", str(tmp_path / "live")])
        racing = invoke([*args, "--run-id", "fresh"])  # not held: runs
    finally:
        holder.release()
    assert resumed.exit_code == 2 and "is being written by promptkit pid" in resumed.output
    errors = [line for line in resumed.output.splitlines() if line.startswith("error:")]
    assert "Traceback" not in resumed.output and len(errors) == 1
    assert (tmp_path / "live" / "results.json").read_bytes() == results
    assert racing.exit_code == 0, racing.output
    again = invoke(["eval", "--resume", str(tmp_path / "live")])  # released: resumable again
    assert again.exit_code == 0, again.output
