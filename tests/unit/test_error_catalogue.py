"""docs/errors.md, executed: every bad input it lists is tried through the CLI, and its exit
code and message must be the ones the catalogue shows; every case here must be in the catalogue.

Each case builds its files in a temporary directory, runs ``promptkit`` (click's runner, no
model: every one of these fails before a model would load, which the nonexistent ``--model``
proves) and checks one ``error:`` line, or click's usage error.
"""

from __future__ import annotations

import json
import re
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner
from promptkit.cli import cli

ROOT = Path(__file__).resolve().parents[2]
TINY = ROOT / "tests" / "fixtures" / "tiny"
CATALOGUE = ROOT / "docs" / "errors.md"


def task_copy(tmp: Path, edit: Callable[[str], str] = lambda t: t, test_rows: str | bytes | None = None) -> Path:
    """tests/fixtures/tiny with its QA task file edited, or its test rows replaced."""
    shutil.copytree(TINY, tmp / "t")
    task = tmp / "t" / "qa.yaml"
    task.write_text(edit(task.read_text(encoding="utf-8")), encoding="utf-8")
    if test_rows is not None:
        data = test_rows if isinstance(test_rows, bytes) else test_rows.encode("utf-8")
        (tmp / "t" / "data" / "qa_test.jsonl").write_bytes(data)
    return task


def evaluate(task: Path | str, tmp: Path, *extra: str) -> list[str]:
    return ["eval", "--task", str(task), "--model", str(tmp / "no-model"), "--method", "zero-shot", "--out", str(tmp / "out"), *extra]


LMEVAL = ROOT / "tests" / "fixtures" / "lmeval"


def lm_eval_copy(tmp: Path, edit: Callable[[str], str]) -> str:
    """tests/fixtures/lmeval with its SST-2 style task file edited, as an --task lm-eval: reference."""
    shutil.copytree(LMEVAL, tmp / "lm")
    task = tmp / "lm" / "sst2_choice.yaml"
    task.write_text(edit(task.read_text(encoding="utf-8")), encoding="utf-8")
    return f"lm-eval:{task}"


ROW = '{"id": "r1", "context": "The red car belongs to Anna .", "question": QUESTION, "answers": ["Anna"]}'
BOMB = "a: &a [x, x, x, x, x, x, x, x, x, x]\n" + "".join(
    f"{k}: &{k} [{', '.join(['*' + prev] * 10)}]\n" for prev, k in zip("abcdefgh", "bcdefghi", strict=False))

def huge_task(tmp: Path) -> Path:
    """A 3 GB task file (sparse: it takes no disk, but reading it would take 3 GB of memory)."""
    path = tmp / "huge.yaml"
    with path.open("wb") as fh:
        fh.truncate(3 * 1024**3)
    return path


def include_fan_out(tmp: Path) -> str:
    """An lm-eval task whose includes fan out: 16 files, each including the next one 4 times."""
    for i in range(16):
        body = "task: leaf\n" if i == 15 else "include: [" + ", ".join([f"f{i + 1}.yaml"] * 4) + f"]\ntask: t{i}\n"
        (tmp / f"f{i}.yaml").write_text(body, encoding="utf-8")
    return f"lm-eval:{tmp / 'f0.yaml'}"


def device_results(tmp: Path) -> list[str]:
    """A run directory whose results.json is a symlink to /dev/zero (it never ends)."""
    (tmp / "run").mkdir()
    (tmp / "run" / "results.json").symlink_to("/dev/zero")
    return ["report", str(tmp / "run")]


def tampered_results(tmp: Path) -> list[str]:
    """A run whose results.json was hand-edited: a metric value that is a string."""
    cell = {"task": "t", "prompt": "p", "method": "zero-shot", "method_config": {}, "task_version": "1", "prompt_version": "1",
            "metrics": {"exact_match": {"value": "abc", "ci_low": 0, "ci_high": 0, "n": 1}}}
    (tmp / "run").mkdir()
    (tmp / "run" / "results.json").write_text(json.dumps({"schema_version": 3, "run_id": "run", "created": "", "config": {},
                                                          "cells": [cell]}))
    return ["report", str(tmp / "run")]


def planted_link(tmp: Path) -> list[str]:
    """A run directory whose ``adapters/`` is a symbolic link to another folder."""
    (tmp / "elsewhere").mkdir()
    (tmp / "out" / "r").mkdir(parents=True)
    (tmp / "out" / "r" / "adapters").symlink_to(tmp / "elsewhere")
    return evaluate(TINY / "qa.yaml", tmp, "--run-id", "r")


def included_secrets(tmp: Path, text: str, name: str) -> str:
    """An lm-eval task including a file that is not an lm-eval task file (secrets, /etc/passwd)."""
    (tmp / name).write_text(text, encoding="utf-8")
    return lm_eval_copy(tmp, lambda s: s + f"include: {tmp / name}\n")


GRID = "lora.tune={lr: [0.0001, 0.0003, 0.001], rank: [1, 2, 4, 8, 16, 32, 64, 128, 256, 512], alpha: [1, 2, 4, 8, 16, 32, 64, 128, 256, 512]}"
MANY_CHOICES = "doc_to_choice: [" + ", ".join(f"c{i}" for i in range(1001)) + "]"

# case id -> (build the command line in a temporary directory, exit code, message it must contain)
CASES: dict[str, tuple[Callable[[Path], list[str]], int, str]] = {
    "malformed-yaml": (lambda t: evaluate(task_copy(t, lambda s: s + "metrics: [exact_match\n"), t), 2,
                       "invalid YAML"),
    "duplicate-key": (lambda t: evaluate(task_copy(t, lambda s: s + "version: 2\n"), t), 2,
                      "duplicate key 'version'"),
    "unknown-key": (lambda t: evaluate(task_copy(t, lambda s: s + "genration: {max_new_tokens: 3}\n"), t), 2,
                    "genration: unknown key 'genration'; did you mean 'generation'?"),
    "wrong-type": (lambda t: evaluate(task_copy(t, lambda s: s.replace("max_new_tokens: 6", "max_new_tokens: six")), t), 2,
                   "generation.max_new_tokens: "),
    "unknown-task": (lambda t: evaluate("squadd", t), 2, "unknown task 'squadd'; did you mean 'squad'?"),
    "unknown-method": (lambda t: ["eval", "--method", "loraa"], 2, "'loraa' is not one of"),
    "unknown-template-field": (lambda t: evaluate(task_copy(t, lambda s: s.replace("question: question", "question: question\n    title: question")), t), 2,
                               "unknown key 'title'"),
    "missing-data-file": (lambda t: evaluate(task_copy(t, lambda s: s.replace("data/qa_test.jsonl", "data/missing.jsonl")), t), 2,
                          "data file not found: "),
    "missing-column": (lambda t: evaluate(task_copy(t, test_rows='{"id": "r1", "context": "c", "answers": ["a"]}\n'), t), 2,
                       "column 'question' not found; the row has: answers, context, id"),
    "empty-split": (lambda t: evaluate(task_copy(t, test_rows=""), t), 2, "split 'test' is empty"),
    "invalid-jsonl": (lambda t: evaluate(task_copy(t, test_rows=ROW.replace("QUESTION", '"who ?"') + "\n{oops\n"), t), 2,
                      "qa_test.jsonl:2: invalid JSON line: Expecting property name enclosed in double quotes"),
    "null-field": (lambda t: evaluate(task_copy(t, test_rows=ROW.replace("QUESTION", "null") + "\n"), t), 2,
                   "split 'test' row 0: field 'question' (column 'question') is null; a prompt needs text there"),
    "mapping-field": (lambda t: evaluate(task_copy(t, test_rows=ROW.replace("QUESTION", '{"text": "who ?"}') + "\n"), t), 2,
                      "is a mapping (keys: text), which a prompt would show as Python code; map one of them, e.g. question.text"),
    "not-utf8": (lambda t: evaluate(task_copy(t, test_rows=ROW.replace("QUESTION", '"caf\xe9 ?"').encode("latin-1") + b"\n"), t), 2,
                 "qa_test.jsonl:1: not UTF-8 text (invalid continuation byte, byte 0xe9); re-save the file as UTF-8"),
    "unsafe-template": (lambda t: evaluate(task_copy(t, lambda s: s.replace("prompts: [qa/extractive]", "prompts: [{name: evil, kind: qa, "
                                                                             "input: '{{ question.__class__ }}', target: '{{ answer }}'}]")), t), 2,
                        "prompt 'evil': input: access to attribute '__class__' of 'str' object is unsafe"),
    "template-too-big": (lambda t: evaluate(task_copy(t, lambda s: s.replace("prompts: [qa/extractive]", "prompts: [{name: big, kind: qa, "
                                                                              "input: \"{{ 'a' * 10**9 }}\", target: '{{ answer }}'}]")), t), 2,
                         "prompt 'big': input: rendering stopped: '*' would build a value of 1,000,000,000 items (at most 2,000,000)"),
    "alias-bomb": (lambda t: (t / "bomb.yaml").write_text(BOMB) and evaluate(t / "bomb.yaml", t), 2,
                   "expands to 1,234,567,909 values through aliases (at most 200,000)"),
    "limit-zero": (lambda t: evaluate(TINY / "qa.yaml", t, "--limit", "0"), 2, "Invalid value for '--limit': 0 is not in the range x>=1"),
    "batch-size-zero": (lambda t: evaluate(TINY / "qa.yaml", t, "--batch-size", "0"), 2,
                        "Invalid value for '--batch-size': 0 is not in the range x>=1"),
    "shots-over-pool": (lambda t: evaluate(TINY / "qa.yaml", t, "--method", "few-shot", "--shots", "7"), 2,
                        "few-shot asks for 7 demonstrations per example but its 'train' split has 6 rows; use --shots 6 or fewer"),
    "out-is-a-file": (lambda t: (t / "file").write_text("x") and [*evaluate(TINY / "qa.yaml", t)[:-2], "--out", str(t / "file")], 2,
                      "cannot write the run directory"),
    "hostile-run-id": (lambda t: evaluate(TINY / "qa.yaml", t, "--run-id", "../escaped"), 2,
                       "run_id: '../escaped' is not a run id: one folder name of letters, digits, '_', '-' and '.'"),
    "train-equals-test": (lambda t: evaluate(task_copy(t, lambda s: s.replace("data/qa_train.jsonl", "data/qa_test.jsonl")), t,
                                             "--method", "lora"), 2,
                          "splits 'test' and 'train' (training) resolve to the same rows: both read 'data/qa_test.jsonl'"),
    "tuning-on-test": (lambda t: evaluate(TINY / "qa.yaml", t, "--method", "lora", "--tune", "--set", "tuning.split=test"), 1,
                       "tuning.split 'test' is the evaluated split of task 'tiny_qa'"),
    "resume-not-a-run": (lambda t: ["eval", "--resume", str(t)], 1, "results.json"),
    "lm-eval-unsupported-key": (lambda t: evaluate(lm_eval_copy(t, lambda s: s + "repeat: 2\n"), t), 2,
                                "sst2_choice.yaml:20: repeat: unsupported lm-eval key 'repeat'; did you mean 'repeats'? promptkit reads: task, tag"),
    "lm-eval-function": (lambda t: evaluate(lm_eval_copy(t, lambda s: "\n".join(
        "doc_to_text: !function utils.doc_to_text" if line.startswith("doc_to_text:") else line for line in s.split("\n"))), t), 2,
                         "sst2_choice.yaml:13: doc_to_text: !function utils.doc_to_text: task code, run only with --trust-task-code "
                         "(promptkit then imports it from the task's folder and runs it as lm-eval does); or write doc_to_text as a "
                         "column name or a Jinja template"),
    "lm-eval-code-hook": (lambda t: evaluate(lm_eval_copy(t, lambda s: s + "process_docs: !function utils.process_docs\n"), t), 2,
                          "sst2_choice.yaml:20: process_docs: !function utils.process_docs: task code, run only with "
                          "--trust-task-code (promptkit then imports it from the task's folder and runs it as lm-eval does); or "
                          "rewrite the data file instead"),
    "lm-eval-missing-include": (lambda t: evaluate(lm_eval_copy(t, lambda s: s + "include: _missing_yaml\n"), t), 2,
                                "sst2_choice.yaml:20: include: included file not found: '_missing_yaml'"),
    "huge-task-file": (lambda t: evaluate(huge_task(t), t), 2, "is 3,221,225,472 bytes; at most 20,000,000 are read"),
    "lm-eval-include-fan-out": (lambda t: evaluate(include_fan_out(t), t), 2,
                                "f0.yaml: includes read more than 64 files for one task (a file counts each time it is included)"),
    "results-json-device": (device_results, 2, "results.json: a run's results.json is a device; give a regular file"),
    "lm-eval-output-type": (lambda t: evaluate(lm_eval_copy(t, lambda s: s.replace("output_type: multiple_choice", "output_type: multiple_choise")), t), 2,
                            "sst2_choice.yaml:10: output_type: unknown output type 'multiple_choise'; did you mean 'multiple_choice'? "
                            "accepted: 'generate_until', 'multiple_choice'"),
    "tuning-grid-too-big": (lambda t: evaluate(TINY / "qa.yaml", t, "--method", "lora", "--set", GRID), 2,
                            "tuning: the grid of lora has 300 candidates (lr 3 x rank 10 x alpha 10), each one training run; at most "
                            "256 are tried whole: set tuning.candidates: N to sample N of them, or shorten the value lists"),
    "bootstrap-samples-over": (lambda t: evaluate(TINY / "qa.yaml", t, "--set", "bootstrap_samples=1000000000"), 2,
                               "bootstrap_samples: input should be less than or equal to 100000 (got 1000000000)"),
    "training-steps-over": (lambda t: evaluate(TINY / "qa.yaml", t, "--method", "lora", "--set", "training.steps=2000000"), 2,
                            "training.steps: input should be less than or equal to 1000000 (got 2000000)"),
    "lm-eval-too-many-choices": (lambda t: evaluate(lm_eval_copy(t, lambda s: s.replace('doc_to_choice: ["negative", "positive"]', MANY_CHOICES)), t), 2,
                                 "sst2_choice.yaml:15: doc_to_choice: 1,001 choices; at most 1,000 (each choice is one scored "
                                 "continuation per example)"),
    "lm-eval-include-secrets": (lambda t: evaluate(included_secrets(t, "secret_token: hunter2-XYZ\napi_key: x\n", "secrets.txt"), t), 2,
                                "secrets.txt:1: not an lm-eval task file (included by sst2_choice.yaml): a key that is not an "
                                "lm-eval key; an included file's text is never quoted"),
    "lm-eval-include-passwd": (lambda t: evaluate(included_secrets(t, "root:x:0:0:root:/root:/bin/bash\n", "passwd"), t), 2,
                               "passwd:1: not an lm-eval task file (included by sst2_choice.yaml): its top level is not a "
                               "mapping of lm-eval keys"),
    "control-characters-in-data": (lambda t: evaluate(task_copy(t, test_rows='{"id": "r1", "context": "c", "answers": ["a"], "\\u001b]0;pwned\\u0007q": "x"}\n'), t), 2,
                                   "the row has: \\x1b]0;pwned\\x07q, answers, context, id"),
    "few-shot-zero-shots": (lambda t: evaluate(TINY / "qa.yaml", t, "--method", "few-shot", "--shots", "0"), 2,
                            "few-shot needs at least 1 demonstration (got 0; accepted: 1 to 64); --method zero-shot is the zero-shot column"),
    "results-json-edited": (tampered_results, 2, "results.json: cells[0].metrics.exact_match.value: expected a number, got 'abc'"),
    "run-dir-link-out": (planted_link, 2, "adapters leads out of the run directory"),
    "lm-eval-key-not-a-name": (lambda t: evaluate(lm_eval_copy(t, lambda s: s + "1: x\n"), t), 2,
                               "sst2_choice.yaml:20: the key 1 (int) is not a name; lm-eval keys are names such as 'task'"),
}


def catalogue_rows() -> dict[str, tuple[int, str]]:
    """``| `id` | input | exit | `message` |`` rows of docs/errors.md."""
    rows = {}
    for line in CATALOGUE.read_text(encoding="utf-8").splitlines():
        m = re.match(r"^\| `([a-z0-9-]+)` \| .* \| (\d) \| `(.*)` \|$", line)
        if m:
            rows[m.group(1)] = (int(m.group(2)), m.group(3).replace("\\|", "|"))
    return rows


def test_every_case_is_in_the_catalogue_and_nothing_else() -> None:
    assert sorted(catalogue_rows()) == sorted(CASES)


@pytest.mark.parametrize("case", sorted(CASES))
def test_the_catalogue_says_what_happens(case: str, tmp_path: Path) -> None:
    build, code, message = CASES[case]
    assert catalogue_rows()[case] == (code, message), "docs/errors.md and this test disagree"
    result = CliRunner().invoke(cli, build(tmp_path))
    assert result.exit_code == code, result.output
    assert message in result.output, result.output
    assert "Traceback" not in result.output and "no-model" not in result.output  # before any model would load
    lines = [line for line in result.output.splitlines() if line.startswith("error:") or "Error:" in line]
    assert lines, result.output
