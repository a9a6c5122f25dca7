"""Helpers shared by test files: import them with ``from helpers import invoke, error_lines, ...``.

How the import works: there is no ``__init__.py`` under tests/, so pytest (its default
``prepend`` import mode) puts the folder of each ``conftest.py`` on ``sys.path`` before it
imports it; tests/conftest.py is imported before any test module, and also adds its own
folder (this one) explicitly, so ``import helpers`` resolves to this file in any import mode
and in scripts that put tests/ on ``sys.path`` to import conftest. This file is not a test
module (no ``test_`` prefix): pytest never collects it. Fixtures stay in conftest.py; here are
plain functions and constants, so that module-level code and other helpers can call them too.

Heavy libraries (torch, the methods) are imported inside the functions that need them, so a
test file that only wants ``invoke`` does not pay for them.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from click.testing import CliRunner, Result
from promptkit.cli import cli
from promptkit.config import TrainingConfig

if TYPE_CHECKING:
    import torch
    from promptkit.methods import Method, TrainableMethod
    from promptkit.records import Prompt


# ----------------------------------------------------------------------------- the command line
def invoke(args: Sequence[str]) -> Result:
    """``promptkit ARGS`` through click's CliRunner (in process, stdout and stderr kept apart)."""
    return CliRunner().invoke(cli, list(args))


def error_lines(result: Result) -> list[str]:
    """The ``error:`` lines a command wrote to stderr."""
    return [line for line in result.stderr.splitlines() if line.startswith("error:")]


def set_args(*assignments: str) -> list[str]:
    """``--set`` before each ``KEY=VALUE``: ``set_args("a=1", "b=2") == ["--set", "a=1", "--set", "b=2"]``."""
    return [arg for assignment in assignments for arg in ("--set", assignment)]


def tiny_budget(steps: int, *more: str, bootstrap_samples: int = 20) -> list[str]:
    """The small training budget of the CLI runs on the tiny model, as ``--set`` options:
    ``steps`` training steps of batch 2, LoRA rank 2, then the ``more`` assignments, then
    ``bootstrap_samples``."""
    return set_args(f"training.steps={steps}", "training.batch_size=2", "lora.rank=2", *more,
                    f"bootstrap_samples={bootstrap_samples}")


def tiny_training(steps: int, **more: Any) -> dict[str, Any]:
    """The same budget as a run config's ``training`` mapping: ``steps`` steps of batch 2, then ``more``."""
    return {"steps": steps, "batch_size": 2, **more}


# ----------------------------------------------------------------------------- run files
def read_jsonl(path: Path) -> list[dict[str, Any]]:
    """One JSON object per line (samples/*.jsonl, data files)."""
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


# What a run measures anew each time (wall time, speed, memory): a resumed or relaunched run
# must reproduce everything else of a results.json cell.
CELL_TIMING = ("timings", "throughput")
TRAINING_TIMING = ("wall_s", "tokens_per_s", "peak_memory_mb")
COST_TIMING = ("train_s", "train_tokens_per_s", "peak_memory_mb")


def without_timings(cell: dict[str, Any], training_also: Sequence[str] = ()) -> dict[str, Any]:
    """A results.json cell less what is measured per run (``training_also``: more training keys)."""
    cell = {k: v for k, v in cell.items() if k not in CELL_TIMING}
    if cell.get("training"):
        cell["training"] = {k: v for k, v in cell["training"].items() if k not in (*TRAINING_TIMING, *training_also)}
    if cell.get("cost"):
        cell["cost"] = {k: v for k, v in cell["cost"].items() if k not in COST_TIMING}
    if cell.get("forgetting"):
        cell["forgetting"] = {k: v for k, v in cell["forgetting"].items() if k != "seconds"}
    return cell


def checkpoint_fields(path: Path) -> dict[str, Any]:
    """The checkpoint's JSON header, read with safetensors alone: the file is safetensors, not a pickle."""
    from safetensors import safe_open

    with safe_open(str(path), framework="pt") as fh:
        return dict(json.loads(fh.metadata()["promptkit.checkpoint"])["data"])


# ----------------------------------------------------------------------------- methods on a tiny model
# A two-step budget: trainable methods train in milliseconds on the tiny models.
TINY_TRAINING = TrainingConfig(steps=2, batch_size=4, max_length=128)
# Applied to a method config when it has the field: small adapters keep training in milliseconds.
SMALL = {"num_virtual_tokens": 4, "rank": 2, "encoder_hidden_size": 8}


def make_method(kind: str, lm: Any, training: TrainingConfig = TINY_TRAINING, *, small: bool = True, batch_size: int = 8,
                chat: bool = False, workdir: Path | None = None, **fields: Any) -> Method:
    """A registered method of ``kind`` on ``lm``, built the way the runner builds one.

    Its config: ``kind``, the ``SMALL`` sizes the kind has fields for (unless ``small=False``),
    then ``fields``. A method that adapts the model also gets a ``FitContext`` with
    ``training``, seed 0 and ``workdir``.
    """
    from promptkit.harness import Runtime
    from promptkit.methods import METHODS, FitContext

    cls = METHODS.get(kind)
    config_class = cls.config_class
    sizes = {k: v for k, v in SMALL.items() if k in config_class.model_fields} if small else {}
    config = config_class.model_validate({"kind": kind, **sizes, **fields})
    runtime = Runtime(batch_size=batch_size, chat=chat)
    if cls.adapts:
        return cls(config, lm, runtime, FitContext(training=training, seed=0, workdir=workdir))  # type: ignore[call-arg]
    return cls(config, lm, runtime)


def make_trainable(kind: str, lm: Any, training: TrainingConfig = TINY_TRAINING, **options: Any) -> TrainableMethod:
    """``make_method`` for a kind that trains: the method is a ``TrainableMethod``."""
    from promptkit.methods import TrainableMethod

    method = make_method(kind, lm, training, **options)
    assert isinstance(method, TrainableMethod)
    return method


def snapshot(model: Any) -> dict[str, torch.Tensor]:
    """A copy of every parameter, by name."""
    return {n: p.detach().clone() for n, p in model.named_parameters()}


def qa_prompt(i: int, context: str, question: str, answer: str) -> Prompt:
    """A rendered QA prompt in the tiny models' vocabulary, id ``qa-{i}``, no demonstrations."""
    from promptkit.records import Prompt

    return Prompt(
        example_id=f"qa-{i}",
        template="tiny/qa",
        instruction="answer the question .",
        query=f"context : {context}\nquestion : {question}\nanswer :",
        target=answer,
        references=(answer,),
    )


# lm-eval 0.4.13's gsm8k.yaml filter_list, as written there (two pipelines: strict-match, flexible-extract).
GSM8K_FILTER_LIST = """\
filter_list:
  - name: "strict-match"
    filter:
      - function: "regex"
        regex_pattern: "#### (\\\\-?[0-9\\\\.\\\\,]+)"
      - function: "take_first"
  - name: "flexible-extract"
    filter:
      - function: "regex"
        group_select: -1
        regex_pattern: "(-?[$0-9.,]{2,})|(-?[0-9]+)"
      - function: "take_first"
"""
