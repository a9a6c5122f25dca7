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
