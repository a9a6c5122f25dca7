"""Adding a tracker, a model backend or a task adapter is one module plus its registration: a toy
of each is registered here and a run uses it, with nothing else changed."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import promptkit
import pytest
from promptkit.config.run import RunConfig
from promptkit.run import run

QA = Path(__file__).resolve().parents[1] / "fixtures" / "tiny" / "qa.yaml"
BUDGET = {"limit": 3, "bootstrap_samples": 20, "model": {"device": "cpu"}}


def config(tmp_path: Path, model_dir: Path, **extra: Any) -> RunConfig:
    data: dict[str, Any] = {"tasks": [str(QA)], "methods": ["zero-shot"], "out_dir": str(tmp_path), "run_id": "r", **BUDGET, **extra}
    data["model"] = {**BUDGET["model"], "name": str(model_dir), **extra.get("model", {})}  # type: ignore[dict-item]
    return RunConfig.model_validate(data)


@pytest.fixture
def toy_tracker() -> Iterator[list[tuple[str, Any]]]:
    from promptkit.run.tracking import TRACKERS, TrackerKind, register_tracker

    logged: list[tuple[str, Any]] = []

    class Run:
        def __init__(self, name: str):
            self.name = name

        def start(self) -> None:
            logged.append(("start", self.name))

        def store_init_configuration(self, values: dict[str, Any]) -> None:
            logged.append(("config", values))

        def log(self, values: dict[str, Any], step: int) -> None:
            logged.append(("log", values))

        def finish(self) -> None:
            logged.append(("finish", self.name))

    @register_tracker("toy", "json")  # needs a package that is always there
    class Toy(TrackerKind):
        def start(self, run_name: str) -> Any:
            return Run(run_name)

    yield logged
    TRACKERS._items.pop("toy")


def test_a_registered_tracker_receives_every_cell(toy_tracker: list[tuple[str, Any]], tmp_path: Path, tiny_llama_dir: Path) -> None:
    result = run(config(tmp_path, tiny_llama_dir, report_to=["toy"]))
    assert ("start", "tiny_qa/qa/extractive/zero-shot") in toy_tracker
    finals = [values for kind, values in toy_tracker if kind == "log" and "test/exact_match" in values]
    assert finals == [pytest.approx({**finals[0], "test/exact_match": result.cells[0].metrics["exact_match"].value})]
    assert ("start", "r/report") in toy_tracker and toy_tracker[-1] == ("finish", "r/report")


def test_an_unknown_tracker_is_refused_with_a_suggestion(tmp_path: Path) -> None:
    from pydantic import ValidationError

    with pytest.raises(ValidationError, match="unknown tracker 'tensorbord'; did you mean 'tensorboard'"):
        RunConfig.model_validate({"report_to": ["tensorbord"]})


def test_a_registered_backend_serves_the_run(tmp_path: Path, tiny_llama_dir: Path) -> None:
    from promptkit.models.backends import BACKENDS, Backend, register_backend

    class ToyBackend(Backend):
        def build(self, architecture: Any, model: Any, tokenizer: Any, config: Any, **fields: Any) -> Any:
            class Served(architecture):  # type: ignore[misc, valid-type]
                def take_notes(self) -> list[str]:
                    return ["served by the toy backend"]

            return Served(model=model, tokenizer=tokenizer, **fields)

    register_backend("toy", ToyBackend)
    try:
        toy = run(config(tmp_path, tiny_llama_dir, model={"backend": "toy"}))
        plain = run(config(tmp_path, tiny_llama_dir, run_id="plain"))
    finally:
        BACKENDS.pop("toy")
    assert toy.cells[0].context is not None and toy.cells[0].context.backend == ("served by the toy backend",)
    assert toy.cells[0].metrics["exact_match"].value == plain.cells[0].metrics["exact_match"].value
    with pytest.raises(Exception, match="unknown backend 'toy'"):
        config(tmp_path, tiny_llama_dir, model={"backend": "toy"})


TOY_ADAPTER = '''"""Echo: the model repeats a row's text (a toy adapter: config beside the adapter)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal

from promptkit.tasks.adapters.base import Adapter, register_adapter
from promptkit.config import FieldPath, Strict
from promptkit.records import Example


class EchoFields(Strict):
    text: FieldPath


class EchoAdapterConfig(Strict):
    kind: Literal["echo"] = "echo"
    fields: EchoFields


@register_adapter(EchoAdapterConfig)
class EchoAdapter(Adapter):
    def variables(self) -> set[str]:
        return {"text"}

    def input_fields(self) -> tuple[str, ...]:
        return ("text",)

    def example(self, row: Mapping[str, Any], row_id: str, where: str) -> Example:
        text = self._text(row, self.fields.text, where, "text")
        return Example(id=self._id(row, row_id, where), fields={"text": text}, references=(text,))
'''

TOY_TASK = """name: echo
dataset: {kind: files, splits: {test: echo.jsonl}}
adapter: {kind: echo, fields: {text: text}}
train_split: null
prompts:
  - {name: say, input: "Say: {{ text }}", target: "{{ text }}"}
metrics: [exact_match]
"""


def test_a_new_adapter_is_one_module_plus_its_import_line(tmp_path: Path) -> None:
    """A copy of the package with the toy module and one line in ``promptkit/tasks/adapters/__init__.py``
    loads and renders a task of the new kind (in a fresh interpreter: the task config's adapter
    union is built when ``promptkit.tasks.adapters`` is imported)."""
    package = Path(promptkit.__file__).parent
    copy = tmp_path / "toolkit" / "promptkit"
    shutil.copytree(package, copy, ignore=shutil.ignore_patterns("__pycache__"))
    for data in ("tasks", "prompts"):  # the built-in YAML, found beside the source tree as in a checkout
        (tmp_path / data).symlink_to(package.parents[1] / data)
    (copy / "tasks" / "adapters" / "echo.py").write_text(TOY_ADAPTER, encoding="utf-8")
    init = copy / "tasks" / "adapters" / "__init__.py"
    text = init.read_text(encoding="utf-8")
    line = "from promptkit.tasks.adapters import qa, translation, generation, classification, multiple_choice  # noqa: F401\n"
    assert line in text
    init.write_text(text.replace(line, line + "from promptkit.tasks.adapters import echo  # noqa: F401\n"), encoding="utf-8")
    changed = sorted(p.relative_to(copy).as_posix() for p in copy.rglob("*.py")
                     if not (package / p.relative_to(copy)).is_file()
                     or (package / p.relative_to(copy)).read_bytes() != p.read_bytes())
    assert changed == ["tasks/adapters/__init__.py", "tasks/adapters/echo.py"]
    (tmp_path / "echo.jsonl").write_text('{"text": "hello"}\n{"text": "world"}\n', encoding="utf-8")
    (tmp_path / "echo.yaml").write_text(TOY_TASK, encoding="utf-8")
    probe = ("import json, promptkit\nfrom promptkit.tasks import load_task\n"
             f"t = load_task({str(tmp_path / 'echo.yaml')!r})\n"
             "rows = t.examples('test', None)\n"
             "print(json.dumps([promptkit.__file__, t.config.adapter.kind, [t.prompts[0].render(ex).text for ex in rows]]))")
    env = {**os.environ, "PYTHONPATH": str(tmp_path / "toolkit")}
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, env=env, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    origin, kind, rendered = json.loads(done.stdout.strip().splitlines()[-1])
    assert Path(origin).parent == copy and kind == "echo"
    assert rendered == ["Say: hello", "Say: world"]
