"""Property-based tests (hypothesis): for any input, the YAML loader and the template renderer
raise nothing but promptkit errors, and every metric stays within 0-100 for any strings."""

from __future__ import annotations

import math

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from promptkit.config import PromptConfig
from promptkit.config.documents import parse_yaml, validate
from promptkit.errors import PromptkitError
from promptkit.metrics import MetricContext, score
from promptkit.prompting.template import PromptTemplate
from promptkit.records import Example, Prediction
from promptkit.tasks import TaskConfig

FAST = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])

# YAML-ish text: the characters that make YAML structure, plus any text
YAML_ALPHABET = st.sampled_from(list(":-[]{},&*!|>'\"#%@`?\n  \tabcxyz019") + ["name: ", "\n  - ", "&a ", "*a", "!!python/object:os.system "])
yaml_text = st.one_of(st.text(max_size=200), st.lists(YAML_ALPHABET, max_size=60).map("".join))


@FAST
@given(yaml_text)
def test_the_yaml_loader_raises_only_promptkit_errors(text: str) -> None:
    try:
        doc = parse_yaml(text, "fuzz.yaml")
        validate(TaskConfig, doc)
    except PromptkitError as exc:
        assert str(exc).strip()  # a message, not an empty error
        assert "\n" not in str(exc) or all(line.startswith("fuzz.yaml") for line in str(exc).splitlines())


JINJA_ALPHABET = st.sampled_from(["{{", "}}", "{%", "%}", "{#", "#}", " ", "question", "context", "for", "in", "endfor",
                                  "if", "endif", "range(", ")", "|", "upper", "'", "*", "10", "**", ".", "__class__",
                                  "x", "[", "]", "loop", "~", "-", "set", "=", "macro", "caller", "attr", "join"])
jinja_text = st.one_of(st.text(max_size=80), st.lists(JINJA_ALPHABET, max_size=25).map("".join))


@FAST
@given(jinja_text, st.text(max_size=40))
def test_templates_raise_only_promptkit_errors(source: str, question: str) -> None:
    try:
        template = PromptTemplate(PromptConfig(name="fuzz", kind="qa", input=source, target="t"))
        out = template.render_input(Example("e", {"question": question, "context": "c"}, ("a",)))
    except PromptkitError as exc:
        assert str(exc).startswith("fuzz: prompt 'fuzz': input: ")
        return
    assert isinstance(out, str)


TEXT = st.text(alphabet=st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=30)


@pytest.mark.parametrize("metric", ["exact_match", "token_f1", "bleu", "chrf", "rougeL"])
@FAST
@given(st.lists(st.tuples(TEXT, st.lists(TEXT, min_size=1, max_size=3)), min_size=1, max_size=6))
def test_metrics_stay_in_range_for_any_strings(metric: str, rows: list[tuple[str, list[str]]]) -> None:
    preds = [Prediction(example_id=str(i), prompt="p", output=out, references=tuple(refs)) for i, (out, refs) in enumerate(rows)]
    try:
        result = score([metric], preds, MetricContext(language="en"), n_boot=0)[metric]
    except PromptkitError:
        return  # e.g. references that are all empty: a clear error is allowed, a crash is not
    assert 0.0 <= result.value <= 100.0 and not math.isnan(result.value)
    assert all(0.0 <= v <= 100.0 for v in result.per_sample) or not result.per_sample


@FAST
@given(st.lists(st.tuples(st.sampled_from(["positive", "negative", "", "other"]), st.sampled_from(["positive", "negative"])),
                min_size=1, max_size=8))
def test_classification_metrics_stay_in_range(rows: list[tuple[str, str]]) -> None:
    preds = [Prediction(example_id=str(i), prompt="p", output=out, references=(ref,)) for i, (out, ref) in enumerate(rows)]
    result = score(["accuracy", "macro_f1"], preds, MetricContext(labels=("negative", "positive")), n_boot=0)
    assert all(0.0 <= s.value <= 100.0 for s in result.values())
