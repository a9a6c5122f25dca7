"""``promptkit tasks validate`` renders every evaluated row with every template: on a large split
that takes minutes, and it says how far it is (a 10^6-row task rendered for minutes with no
output). The unit: ``validate_files`` reports progress as it renders; the command: the lines."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from helpers import invoke
from promptkit.tasks import RENDER_PROGRESS_EVERY, validate_files

TINY = Path(__file__).resolve().parents[1] / "fixtures" / "tiny"


def big_task(tmp: Path, rows: int) -> Path:
    shutil.copytree(TINY, tmp / "t")
    line = {"context": "The red car belongs to Anna .", "question": "Who owns the red car ?", "answers": ["Anna"]}
    with (tmp / "t" / "data" / "qa_test.jsonl").open("w", encoding="utf-8") as fh:
        for i in range(rows):
            fh.write(json.dumps({"id": f"r{i}", **line}) + "\n")
    return tmp / "t" / "qa.yaml"


def test_validate_files_reports_progress_while_it_renders(tmp_path: Path) -> None:
    rows = 2 * RENDER_PROGRESS_EVERY + 7
    task = big_task(tmp_path, rows)
    seen: list[tuple[str, int, int]] = []
    rendered: dict[Path, int] = {}
    problems = validate_files([task], None, rendered, progress=lambda label, done, total: seen.append((label, done, total)))
    assert problems == {task: []} and rendered[task] == rows
    assert [done for _, done, _ in seen] == [RENDER_PROGRESS_EVERY, 2 * RENDER_PROGRESS_EVERY, rows]
    assert {(label, total) for label, _, total in seen} == {("render tiny_qa", rows)}


def test_tasks_validate_prints_its_progress(tmp_path: Path) -> None:
    rows = RENDER_PROGRESS_EVERY + 1
    result = invoke(["tasks", "validate", str(big_task(tmp_path, rows))])
    assert result.exit_code == 0, result.output
    assert f"render tiny_qa: {rows}/{rows} (100%)" in result.stderr
