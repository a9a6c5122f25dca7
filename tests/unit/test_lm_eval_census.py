"""benchmarks/lm_eval_census.py on a handful of hand-written lm-eval task files (no lm-eval needed)."""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path
from types import ModuleType

import pytest

SCRIPT = Path(__file__).resolve().parents[2] / "benchmarks" / "lm_eval_census.py"

MC = """\
dataset_path: some/hub_dataset
output_type: multiple_choice
test_split: test
doc_to_text: "{{question}}\\nAnswer:"
doc_to_target: label
doc_to_choice: ["no", "yes"]
"""
FILES = {
    "plain/ok.yaml": "task: ok_task\ntag: toy_tag\n" + MC,
    # a fewshot_config promptkit refuses with or without lm-eval's samplers (promptkit's are being added)
    "plain/fewshot.yaml": "task: fewshot_task\n" + MC + "fewshot_config:\n  fewshot_indices: [0, 1]\n",
    "plain/docs.yaml": "task: docs_task\n" + MC + "process_docs: !function utils.process_docs\n",
    "plain/utils.py": "def process_docs(dataset):\n    return dataset\n",
    "plain/_group.yaml": "group: toy_group\ntask:\n  - ok_task\n  - fewshot_task\naggregate_metric_list:\n  - metric: acc\n",
    "vision/image.yaml": "task: image_task\n" + MC + "doc_to_image: image\n",
    "judged/judged.yaml": "task: judged_task\n" + MC + "process_results: !function judge.score\n",
    "judged/judge.py": "from openai import OpenAI\n\ndef score(doc, results):\n    return OpenAI()\n",
    "plain/README.md": "task: not_a_task_file\n",
}


def census() -> ModuleType:
    spec = importlib.util.spec_from_file_location("lm_eval_census", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


@pytest.fixture()
def catalogue(tmp_path: Path) -> Path:
    for name, text in FILES.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text, encoding="utf-8")
    return tmp_path


def test_counts_buckets_scopes_and_popular_rows(catalogue: Path) -> None:
    mod = census()
    found = mod.find_task_files(catalogue)
    assert [(f.path.relative_to(catalogue).as_posix(), f.group) for f in found] == [
        ("judged/judged.yaml", False), ("plain/_group.yaml", True), ("plain/docs.yaml", False),
        ("plain/fewshot.yaml", False), ("plain/ok.yaml", False), ("vision/image.yaml", False)]
    outcomes = mod.run_census(catalogue)
    by_name = {o.name: o for o in outcomes}
    assert by_name["ok_task"].converted and by_name["ok_task"].dataset == "hub"
    assert by_name["fewshot_task"].buckets == ["fewshot_config"]
    assert by_name["docs_task"].buckets == ["process_docs"]
    assert by_name["toy_group"].kind == "group" and not by_name["toy_group"].converted
    assert by_name["image_task"].scope == "multimodal (doc_to_image)"
    assert by_name["judged_task"].scope == "external API (judge.score)"

    s = mod.summarize(outcomes)
    assert (s["files"], s["converted"], s["task_files"], s["group_files"]) == (6, 1, 5, 1)
    assert s["out_of_scope"] == {"multimodal": 1, "external API": 1}
    assert (s["text_tasks"], s["text_tasks_converted"], s["refused_text_tasks"]) == (3, 1, 2)
    assert s["buckets"] == [{"bucket": "fewshot_config", "first": 1, "blocks": 1, "sole": 1},
                            {"bucket": "process_docs", "first": 1, "blocks": 1, "sole": 1}]
    # --trust-task-code: process_docs is taken (nothing imported), fewshot_indices still refuses
    assert by_name["docs_task"].trusted and by_name["docs_task"].hooks == ["process_docs: !function utils.process_docs (docs.yaml:8)"]
    assert by_name["fewshot_task"].trusted is False and by_name["ok_task"].trusted
    assert s["text_tasks_trusted"] == 2 and s["trusted_hooks"] == {"process_docs": 1}
    # the group file resolves into its two task files (as --task lm-eval:GROUP runs it); one of
    # them is refused, so the group does not run, with or without the flag
    assert by_name["toy_group"].resolved and by_name["toy_group"].group_tasks == ["plain/ok.yaml", "plain/fewshot.yaml"]
    assert (s["group_files_resolved"], s["group_files_running"], s["group_files_running_trusted"]) == (1, 0, 0)
    assert s["trusted_buckets"] == [{"bucket": "fewshot_config", "first": 1, "blocks": 1, "sole": 1}]
    assert "utils" not in sys.modules

    rows = {r["name"]: r for r in mod.popular(outcomes, ["toy_group", "docs_task", "ok_task", "absent"])}
    assert rows["toy_group"]["outcome"].startswith("group of 2 tasks: 1 convert; most common first refusal: fewshot_config")
    assert rows["docs_task"]["outcome"] == "refused: process_docs; converts with --trust-task-code"
    assert rows["ok_task"]["outcome"] == "converts (hub dataset)"
    assert rows["absent"]["outcome"] == "not found"
    report = mod.render_markdown(s, list(rows.values()), {"lm_eval_version": "test"})
    assert "| **text tasks** (task files less out of scope) | 3 | **1 (33.3%)** |" in report
    assert "| fewshot_config | 1 | 1 | 1 |" in report
    assert "| **text tasks with --trust-task-code** | 3 | **2 (66.7%)** |" in report


def test_a_problem_in_an_included_template_is_bucketed_by_its_cause(tmp_path: Path) -> None:
    """promptkit's message for a value from an included file does not quote it ("not accepted ...");
    the census asks for the message the file itself would get. An extensionless template whose
    task is null names no task; a quoted "task" key does."""
    (tmp_path / "_default_template_yaml").write_text(
        "task: null\n" + MC + "metric_list:\n  - metric: pct_stereotype\n", encoding="utf-8")
    (tmp_path / "quoted.yaml").write_text('"include": "_default_template_yaml"\n"task": "quoted_task"\n', encoding="utf-8")
    mod = census()
    assert [f.path.name for f in mod.find_task_files(tmp_path)] == ["quoted.yaml"]
    outcome = mod.census_file(tmp_path / "quoted.yaml", tmp_path)
    assert outcome.buckets == ["unknown metric"]
    assert outcome.refusals[0].file == "_default_template_yaml"
    assert mod.bucket("output_type", "unknown output type 'loglikelihood_rolling'; did you mean") == \
        "output_type loglikelihood_rolling"
    assert mod.bucket("metric_list[2].aggregation", "!function utils.f: promptkit never imports code") == \
        "!function in metric_list.aggregation"


def test_the_command_writes_every_outcome_offline(catalogue: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    for name in ("HF_HUB_OFFLINE", "HF_DATASETS_OFFLINE", "TRANSFORMERS_OFFLINE"):
        monkeypatch.setenv(name, "1")  # restored after the test; main() sets them
    out = tmp_path / "census.json"
    assert census().main(["--tasks-dir", str(catalogue), "--json", str(out)]) == 0
    assert "network connections tried: 0" in capsys.readouterr().out
    data = json.loads(out.read_text(encoding="utf-8"))
    assert len(data["files"]) == 6 and data["summary"]["text_tasks_converted"] == 1
    assert {f["path"]: f["first"] for f in data["files"]}["plain/docs.yaml"] == "process_docs"
