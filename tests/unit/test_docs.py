"""The docs site, executed: it builds with ``mkdocs build --strict``, every YAML example in it is
loaded and rendered by promptkit's own loader on rows made for it, the worked example of
splitting one file gives disjoint splits, and the generated reference pages list every key of
the models and every option of the CLI.
"""

from __future__ import annotations

import gzip
import importlib.util
import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner
from promptkit.cli import cli
from promptkit.tasks import load_task, validate_files

ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / "docs"
BLOCK = re.compile(r"^```yaml\n(.*?)^```", re.S | re.M)


def yaml_blocks() -> list[tuple[str, int, str]]:
    """``(page, line, text)`` of every ```yaml block of every page."""
    found = []
    for page in sorted(DOCS.glob("*.md")):
        text = page.read_text(encoding="utf-8")
        for m in BLOCK.finditer(text):
            found.append((page.name, text.count("\n", 0, m.start()) + 1, m.group(1)))
    return found


BLOCKS = yaml_blocks()


def test_the_docs_have_examples_to_check() -> None:
    pages = {page for page, _, _ in BLOCKS}
    assert {"tasks.md", "adapters.md", "prompts.md", "lm-eval.md"} <= pages
    assert len(BLOCKS) >= 10


# ----------------------------------------------------------------------------- rows for an example
def _set(row: dict[str, Any], dotted: str, value: Any) -> None:
    *parents, last = dotted.split(".")
    for p in parents:
        row = row.setdefault(p, {})
    row[last] = value


def make_rows(adapter: dict[str, Any], n: int) -> list[dict[str, Any]]:
    """``n`` rows holding every column the adapter's ``fields`` read, with values of the kind
    each field needs (lists of references, label values, per-row choices), and a ``title`` column
    cycling over four articles for ``group_by``."""
    fields = adapter.get("fields", {})
    labels = [lab["value"] for lab in adapter.get("labels", [])]
    rows = []
    for i in range(n):
        row: dict[str, Any] = {"title": f"article {i % 4}", "id": f"r{i}"}
        for key, path in fields.items():
            if key == "inputs":
                for var, col in path.items():
                    _set(row, col, f"{var} number {i}, with some words")
                continue
            for col in path if isinstance(path, list) else [path]:
                if key in ("answers", "references"):
                    value: Any = [f"answer {i}", f"other {i}"]
                elif key == "label":
                    value = labels[i % len(labels)] if labels else i % 2
                elif key == "choices":
                    value = [f"choice {i}", f"choice {i + 1}"]
                else:
                    value = f"{key} text {i}, about article {i % 4}"
                _set(row, col, value)
        rows.append(row)
    return rows


def write_rows(path: Path, rows: list[dict[str, Any]]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    text = "".join(json.dumps(r) + "\n" for r in rows)
    if path.suffix == ".gz":
        path.write_bytes(gzip.compress(text.encode("utf-8")))
    else:
        path.write_text(text, encoding="utf-8")


def split_paths(source: dict[str, Any]) -> list[str]:
    return [s if isinstance(s, str) else s["path"] for s in source.get("splits", {}).values()]


def materialise(data: dict[str, Any], folder: Path) -> tuple[Path, Path]:
    """The task file of an example written to ``folder``, with rows at every data path it names
    (the task's own files, and its offline copy under a data dir); returns (task file, data dir)."""
    data_dir = folder / "data_dir"
    rows = make_rows(data["adapter"], 12)
    for source, base in ((data["dataset"], folder), (data.get("offline") or {}, None)):
        if source.get("kind") != "files":
            continue
        base = data_dir if source.get("relative_to") == "data_dir" or base is None else base
        for rel in split_paths(source):
            write_rows(base / rel, rows)
    path = folder / f"{data['name']}.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return path, data_dir


def as_task(page: str, text: str) -> dict[str, Any] | None:
    """The example as a full task: a task as it stands; an adapter fragment (lm-eval.md) in a
    minimal task around it; ``None`` for a prompt file."""
    data = yaml.safe_load(text)
    if "dataset" in data:
        return data
    if "adapter" in data:
        return {"name": f"fragment_{page.removesuffix('.md').replace('-', '_')}",
                "dataset": {"kind": "files", "splits": {"test": "test.jsonl"}}, "train_split": None,
                "adapter": data["adapter"],
                "prompts": [{"name": "fragment", "input": "Question: {{ question }}\nAnswer:", "target": "{{ label_text }}"}],
                "metrics": ["accuracy"]}
    return None


TASKS = [(page, line, text) for page, line, text in BLOCKS if as_task(page, text) is not None]
PROMPTS = [(page, line, text) for page, line, text in BLOCKS if as_task(page, text) is None]


@pytest.mark.parametrize(("page", "line", "text"), TASKS, ids=[f"{p}:{n}" for p, n, _ in TASKS])
def test_every_task_example_loads_and_renders_every_row(page: str, line: int, text: str, tmp_path: Path, tiny_llama_dir: Path) -> None:
    data = as_task(page, text) or {}
    task_file, data_dir = materialise(data, tmp_path)
    rendered: dict[Path, int] = {}
    problems = validate_files([task_file], data_dir, rendered)[task_file]
    assert problems == [], f"{page}:{line}: {[str(p) for p in problems]}"
    # the rows were read and every evaluated one rendered with every prompt (a task whose rows
    # could not be read renders none)
    task = load_task(task_file)
    evaluated = task.examples(task.config.eval_split, data_dir)
    assert evaluated and rendered.get(task_file) == len(evaluated) * len(task.prompts), f"{page}:{line}: rows not rendered"
    shots = ["--shots", "1"] if data.get("fewshot", {}).get("split", "train") in data["dataset"]["splits"] else []
    shown = CliRunner().invoke(cli, ["tasks", "show", str(task_file), "--data-dir", str(data_dir), "--model", str(tiny_llama_dir),
                                     "--chat-template", "off", "-n", "1", *shots], terminal_width=200)
    assert shown.exit_code == 0, shown.output
    assert task.prompts[0].render(evaluated[0]).query in shown.output  # the first evaluated row, rendered


@pytest.mark.parametrize(("page", "line", "text"), PROMPTS, ids=[f"{p}:{n}" for p, n, _ in PROMPTS])
def test_every_prompt_example_is_a_valid_prompt_file(page: str, line: int, text: str, tmp_path: Path) -> None:
    path = tmp_path / "prompts" / "example.yaml"
    path.parent.mkdir()
    path.write_text(text, encoding="utf-8")
    problems = validate_files([path])[path]
    assert problems == [], f"{page}:{line}: {[str(p) for p in problems]}"


def test_the_prompt_example_renders_as_the_page_says(tmp_path: Path) -> None:
    """prompts.md's extractive QA prompt, used by a task, gives instruction, demonstration and
    input joined by the delimiters the assembly diagram names."""
    text = next(t for p, _, t in PROMPTS if p == "prompts.md" and "kind: qa" in t)
    (tmp_path / "extractive.yaml").write_text(text, encoding="utf-8")
    task = {"name": "doc_prompt", "dataset": {"kind": "files", "splits": {"train": "train.jsonl", "test": "test.jsonl"}},
            "adapter": {"kind": "qa", "fields": {"context": "context", "question": "question", "answers": "answers"}},
            "prompts": ["extractive.yaml"], "metrics": ["exact_match"], "fewshot": {"split": "train", "shots": 1}}
    task_file, _ = materialise(task, tmp_path)
    loaded = load_task(task_file)
    (demo,) = loaded.examples("train")[:1]
    (example,) = loaded.examples("test")[1:2]
    template = loaded.prompts[0]
    prompt = template.render(example, [demo]).text
    expected = ("Answer the question with a short phrase copied from the context.\n\n"
                f"Context: {demo.fields['context']}\nQuestion: {demo.fields['question']}\nAnswer: {demo.references[0]}\n\n"
                f"Context: {example.fields['context']}\nQuestion: {example.fields['question']}\nAnswer:")
    assert prompt == expected


# ----------------------------------------------------------------------------- the worked example
def test_splitting_one_file_by_article_gives_disjoint_whole_groups(tmp_path: Path) -> None:
    text = next(t for p, _, t in BLOCKS if p == "tasks.md" and "group_by" in t)
    data = yaml.safe_load(text)
    rows = []
    for article in range(20):  # 20 articles of 3 questions each, in an order that is not by article
        for q in range(3):
            rows.append({"title": f"Article {article}", "context": f"Paragraph of article {article}.",
                         "question": f"Question {q} about article {article}?", "answers": [f"answer {article}.{q}"]})
    rows = rows[1::2] + rows[::2]
    write_rows(tmp_path / "rows.jsonl", rows)
    (tmp_path / "task.yaml").write_text(yaml.safe_dump(data), encoding="utf-8")
    task = load_task(tmp_path / "task.yaml")
    train, test = task.examples("train"), task.examples("test")
    train_groups, test_groups = {e.group for e in train}, {e.group for e in test}
    assert train_groups.isdisjoint(test_groups)
    assert train_groups | test_groups == {f"Article {a}" for a in range(20)}
    assert len(train) + len(test) == 60 and len(train) % 3 == 0  # whole articles, every row once
    assert 0 < len(test_groups) < 20
    # the assignment depends on the group value only, not on the file's order or other rows
    write_rows(tmp_path / "rows.jsonl", list(reversed(rows))[:30])
    again = {e.group for e in load_task(tmp_path / "task.yaml").examples("test")}
    assert again == test_groups & {r["title"] for r in list(reversed(rows))[:30]}
    # --limit draws from every article in proportion, not the first rows (which would not)
    sample = task.examples("test", limit=len(test_groups), seed=0)
    assert {e.group for e in sample} == test_groups
    assert {e.group for e in test[: len(test_groups)]} != test_groups


# ----------------------------------------------------------------------------- the site and its reference
def _load_hook() -> Any:
    spec = importlib.util.spec_from_file_location("docs_reference_hook", DOCS / "hooks" / "reference.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_reference_lists_every_key_of_every_model() -> None:
    """Checked against pydantic's own JSON schema of each file's model (every nested model is a
    ``$defs`` entry, every key a property), not against the hook's walk of the models."""
    hook = _load_hook()
    for name in ("task", "prompt", "run", "methods"):
        page = hook.generate(name)
        for root in hook.reference_roots(name):
            schema = root.model_json_schema(by_alias=True)
            models = {root.__name__: schema, **schema.get("$defs", {})}
            for model, spec in models.items():
                if "properties" not in spec:  # an enum, not a model
                    continue
                assert f"### {model}" in page, f"{name}: {model} missing"
                for key in spec["properties"]:
                    assert f"| `{key}` |" in page, f"{name}: {model}.{key} missing"
    # the comment beside a field in the source is its meaning
    row = next(line for line in hook.generate("task").splitlines() if line.startswith("| `context_policy` |"))
    assert "truncate-left" in row and row.rstrip("| ").split("|")[-1].strip() != ""


def test_the_cli_reference_lists_every_command_and_option() -> None:
    import click

    page = _load_hook().generate("cli")

    def walk(cmd: click.Command, path: list[str]) -> None:
        ctx = click.Context(cmd, info_name=" ".join(path))
        if isinstance(cmd, click.Group):
            for name in cmd.list_commands(ctx):
                sub = cmd.get_command(ctx, name)
                assert sub is not None
                walk(sub, [*path, name])
            return
        assert f"### `{' '.join(path)}`" in page, path
        for p in cmd.params:
            if isinstance(p, click.Option):
                for opt in p.opts:
                    assert f"`{opt}`" in page, (path, opt)

    walk(cli, ["promptkit"])
    assert "`--set`" in page and "`--resume`" in page


def test_the_results_reference_names_every_field_of_results_json() -> None:
    import dataclasses

    hook = _load_hook()
    page = hook.generate("results")
    from promptkit.records.results import SCHEMA_VERSION

    assert f"**{SCHEMA_VERSION}**" in page
    for cls in hook.result_classes():
        for f in dataclasses.fields(cls):
            assert f"| `{f.name}` |" in page, f"{cls.__name__}.{f.name}"


@pytest.mark.skipif(importlib.util.find_spec("mkdocs") is None, reason="mkdocs not installed (pip install -e '.[dev]')")
def test_the_site_builds_strictly(tmp_path: Path) -> None:
    site = tmp_path / "site"
    done = subprocess.run([sys.executable, "-m", "mkdocs", "build", "--strict", "-f", str(ROOT / "mkdocs.yml"), "-d", str(site)],
                          cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    pages = {p.parent.name for p in site.glob("*/index.html")}
    assert {"tasks", "adapters", "prompts", "metrics", "methods", "report", "results", "cli", "reference", "errors"} <= pages
    reference = (site / "reference" / "index.html").read_text(encoding="utf-8")
    assert "TaskConfig" in reference and "<!-- reference:" not in reference  # the markers were filled
    assert "--resume" in (site / "cli" / "index.html").read_text(encoding="utf-8")
