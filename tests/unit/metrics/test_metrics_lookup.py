"""Metric names: the built-in registry and evaluate: hub metrics (never touching the network)."""

from __future__ import annotations

import subprocess
import sys
import types
from collections.abc import Callable
from pathlib import Path
from typing import Any

import promptkit
import pytest
from promptkit.errors import PromptkitError, UnknownNameError
from promptkit.metrics import HubMetric, MetricContext, get_metric, metric_names, score
from promptkit.records import Prediction

BUILTINS = [
    "accuracy",
    "bleu",
    "chrf",
    "exact_match",
    "macro_f1",
    "rouge1",
    "rouge2",
    "rougeL",
    "string_match",
    "token_f1",
]


def test_builtin_names() -> None:
    assert metric_names() == BUILTINS
    for name in BUILTINS:
        assert get_metric(name).name == name


def test_unknown_name_suggests_the_closest() -> None:
    with pytest.raises(
        UnknownNameError, match="unknown metric 'token_fl'; did you mean 'token_f1'"
    ):
        get_metric("token_fl")
    with pytest.raises(UnknownNameError, match=r"^tasks/squad.yaml:7: metrics\[1\]: unknown"):
        get_metric("f1_tokn", where="tasks/squad.yaml:7: metrics[1]")


def _fake_evaluate(monkeypatch: pytest.MonkeyPatch, load: Callable[[str], Any]) -> None:
    # A stand-in module: importing the real evaluate takes seconds and load() would go online.
    module = types.ModuleType("evaluate")
    module.load = load  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "evaluate", module)


def test_hub_metric_offline_is_a_promptkit_error(monkeypatch: pytest.MonkeyPatch) -> None:
    def load(name: str) -> Any:
        raise ConnectionError(f"Couldn't reach 'https://huggingface.co' for {name}")

    _fake_evaluate(monkeypatch, load)
    with pytest.raises(PromptkitError) as info:
        get_metric("evaluate:bertscore", where="tasks/x.yaml:3: metrics[0]")
    message = str(info.value)
    assert message.startswith("tasks/x.yaml:3: metrics[0]: cannot load hub metric 'bertscore'")
    assert "unreachable" in message and "token_f1" in message
    assert isinstance(info.value.__cause__, ConnectionError)


class _ExactMatchModule:
    """Mimics an evaluate module: corpus-level compute on predictions and references."""

    def __init__(self) -> None:
        self.calls = 0

    def compute(self, predictions: list[str], references: list[Any]) -> dict[str, Any]:
        self.calls += 1
        hits = [p == r for p, r in zip(predictions, references, strict=True)]
        return {"exact_match": sum(hits) / len(hits), "per_row": hits}


def test_hub_metric_is_recomputed_on_resamples(monkeypatch: pytest.MonkeyPatch) -> None:
    module = _ExactMatchModule()
    _fake_evaluate(monkeypatch, lambda name: module)
    predictions = [
        Prediction(example_id=str(i), prompt="", output=out, references=(ref,))
        for i, (out, ref) in enumerate([("a", "a"), ("b", "x"), ("c", "c"), ("d", "d")])
    ]
    result = score(["evaluate:exact_match"], predictions, MetricContext(), n_boot=50)
    value = result["evaluate:exact_match"]
    assert value.value == 0.75  # the hub metric's own 0-1 scale
    assert value.per_sample == (1.0, 0.0, 1.0, 1.0)
    assert 0.0 <= value.ci_low <= 0.75 <= value.ci_high <= 1.0
    assert module.calls == 1 + 50 + 4  # value, one per resample, one per row


def test_hub_metric_result_key(monkeypatch: pytest.MonkeyPatch) -> None:
    _fake_evaluate(monkeypatch, lambda name: _ExactMatchModule())
    metric = get_metric("evaluate:some/metric:per_row")
    assert isinstance(metric, HubMetric)
    stats = metric.stats(["a", "b"], [["a"], ["c"]], MetricContext())
    assert metric.aggregate(stats) == 0.5  # list result averaged
    with pytest.raises(PromptkitError, match="no result 'nope'"):
        missing = get_metric("evaluate:m:nope")
        missing.aggregate(missing.stats(["a"], [["a"]], MetricContext()))


def test_import_is_light() -> None:
    # Heavy scorers load when a metric needs them, so the CLI can list metrics instantly.
    heavy = ("sacrebleu", "rouge_score", "evaluate", "torch")
    code = f"import sys, promptkit.metrics; print([m for m in {heavy!r} if m in sys.modules])"
    root = Path(promptkit.__file__).parent.parent
    out = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=True,
        env={"PYTHONPATH": str(root)},
    )
    assert out.stdout.strip() == "[]"
