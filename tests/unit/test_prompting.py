"""Prompt templates (sandboxed Jinja, StrictUndefined), golden renderings, few-shot sampling and
chat formatting.

Golden files: ``tests/fixtures/golden/<prompt name with / as __>.<k>shot.txt`` hold the exact
``Prompt.text`` (no trailing newline added). After an intended change to a shipped prompt,
regenerate them with ``PROMPTKIT_UPDATE_GOLDEN=1 pytest tests/unit/test_prompting.py`` and
review the diff by eye.
"""

from __future__ import annotations

import os
import random
from pathlib import Path
from typing import Any

import jinja2.sandbox
import pytest
from promptkit.config import PromptConfig
from promptkit.errors import ModelError, PromptkitError, TemplateError
from promptkit.prompting import FewShotSampler, PromptTemplate
from promptkit.prompting.chat import format_prompt, format_target, messages, use_chat_template
from promptkit.prompting.template import template_variables
from promptkit.records import Example, Prompt, Turn
from promptkit.tasks import Task, load_task
from promptkit.tasks.catalog import prompt_files
from tokenizers import Tokenizer, models, pre_tokenizers
from transformers import PreTrainedTokenizerFast

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
TOY_TASKS = FIXTURES / "toy_tasks"
GOLDEN = FIXTURES / "golden"
UPDATE_GOLDEN = os.environ.get("PROMPTKIT_UPDATE_GOLDEN") == "1"


def template(input: str, target: str = "{{ answer }}", **kwargs: Any) -> PromptTemplate:
    return PromptTemplate(PromptConfig(name="test/inline", input=input, target=target, **kwargs), origin="inline.yaml")


EXAMPLE = Example(id="ex-7", fields={"question": "Who?", "answer": "Ada", "context": "Ada wrote it."}, references=("Ada",))


# ----------------------------------------------------------------------------- sandbox
@pytest.mark.parametrize(
    "source",
    [
        "{{ ''.__class__.__mro__ }}",
        "{{ ''.__class__.__mro__[1].__subclasses__() }}",
        "{{ question.__class__.__base__.__subclasses__() }}",
        "{{ cycler.__init__.__globals__ }}",
        "{{ joiner.__init__.__globals__.os }}",
        "{{ namespace.__init__.__globals__ }}",
        "{{ lipsum.__globals__ }}",
        "{{ self.__init__.__globals__ }}",
        "{{ question|attr('__class__') }}",
        "{% set xs = [] %}{{ xs.append(1) }}",
        "{{ {}.update(a=1) }}",
    ],
)
def test_sandbox_blocks_python_internals(source: str) -> None:
    t = template(source)
    with pytest.raises(TemplateError) as info:
        t.render_input(EXAMPLE)
    assert isinstance(info.value, PromptkitError)
    assert "unsafe" in str(info.value)
    # The sandbox refused the access (it was not merely a missing attribute).
    assert isinstance(info.value.__cause__, jinja2.sandbox.SecurityError)
    assert "ex-7" in str(info.value)


def test_sandbox_still_allows_harmless_expressions() -> None:
    t = template("{{ question|upper }} {{ answer.lower() }} {{ '%s!' % context }} {{ answers|default('-') }}")
    assert t.render_input(EXAMPLE) == "WHO? ada Ada wrote it.! -"


def test_render_undefined_field_names_example_and_available_fields() -> None:
    t = template("Q: {{ questoin }}")
    with pytest.raises(TemplateError) as info:
        t.render_input(EXAMPLE)
    msg = str(info.value)
    assert "'questoin' is undefined" in msg
    assert "example 'ex-7'" in msg
    assert "available fields: answer, context, question" in msg
    assert "inline.yaml" in msg and "'test/inline'" in msg and "input" in msg


def test_render_undefined_attribute_is_an_error_not_empty() -> None:
    # StrictUndefined: a missing attribute of a present field must not render as "".
    t = template("{{ context.missing }}")
    with pytest.raises(TemplateError, match="ex-7"):
        t.render_input(EXAMPLE)


def test_invalid_jinja_is_rejected_when_compiled() -> None:
    with pytest.raises(TemplateError) as info:
        template("Q: {{ question }\nA:", target="{{ answer }}")
    msg = str(info.value)
    assert "inline.yaml" in msg and "'test/inline'" in msg and "input" in msg
    assert "line 1" in msg


def test_invalid_jinja_in_target_names_the_target() -> None:
    with pytest.raises(TemplateError, match=r"target: invalid Jinja2 on line 2"):
        template("{{ question }}", target="ok\n{% if %}")


def test_template_variables_and_check_fields() -> None:
    assert template_variables("{{ a }} {% for x in items %}{{ x }}{% endfor %} {{ b|upper }}") == {"a", "items", "b"}
    t = template("{{ context }} {{ questoin }}", target="{{ answer }}", instruction="{{ topic }}")
    assert t.variables() == {"instruction": {"topic"}, "input": {"context", "questoin"}, "target": {"answer"}}
    problems = t.check_fields({"question", "answer", "answers"})
    assert len(problems) == 3
    joined = "\n".join(problems)
    assert "unknown field 'questoin'; did you mean 'question'?" in joined
    assert "input: unknown field 'context'" in joined
    assert "instruction: unknown field 'topic'" in joined
    assert all("(available: answer, answers, question)" in p for p in problems)
    assert t.check_fields({"question", "questoin", "context", "answer", "topic"}) == []


# ----------------------------------------------------------------------------- Prompt.text
def test_prompt_text_joins_instruction_shots_and_query() -> None:
    p = Prompt(
        example_id="e",
        template="t",
        query="Q: c?\nA:",
        target="C",
        references=("C",),
        instruction="Answer.",
        shots=(Turn("Q: a?\nA:", "A"), Turn("Q: b?\nA:", "B")),
        fewshot_delimiter="\n---\n",
        target_delimiter=" ",
    )
    assert p.text == "Answer.\n---\nQ: a?\nA: A\n---\nQ: b?\nA: B\n---\nQ: c?\nA:"


def test_prompt_text_without_instruction_or_shots_is_the_query() -> None:
    p = Prompt(example_id="e", template="t", query="Q: c?\nA:", target="C", references=("C",))
    assert p.text == "Q: c?\nA:"


def test_render_uses_the_template_delimiters() -> None:
    t = template("Q: {{ question }}", target="{{ answer }}", instruction="Be brief.", target_delimiter="=>", fewshot={"delimiter": "\n"})
    shot = Example(id="s", fields={"question": "Where?", "answer": "Here"}, references=("Here",))
    prompt = t.render(EXAMPLE, [shot])
    assert prompt.text == "Be brief.\nQ: Where?=>Here\nQ: Who?"
    assert (prompt.example_id, prompt.template, prompt.target, prompt.references) == ("ex-7", "test/inline", "Ada", ("Ada",))
    assert prompt.shots == (Turn("Q: Where?", "Here"),)


# ----------------------------------------------------------------------------- golden prompts
# Every shipped prompt, rendered on the toy task of its adapter kind.
GOLDEN_CASES = [
    ("toy_qa", "qa/extractive"),
    ("toy_qa", "qa/extractive_plain"),
    ("toy_qa", "qa/closed_book"),
    ("toy_translation", "translation/basic"),
    ("toy_data_to_text", "generation/data_to_text"),
    ("toy_summarize", "generation/summarize"),
    ("toy_sentiment", "classification/sentiment"),
    ("toy_sentiment", "classification/sentiment_cloze"),
]
_TASKS: dict[str, Task] = {}


def toy_task(name: str) -> Task:
    if name not in _TASKS:
        _TASKS[name] = load_task(TOY_TASKS / f"{name}.yaml")
    return _TASKS[name]


def test_golden_cases_cover_every_shipped_prompt() -> None:
    assert sorted(p for _, p in GOLDEN_CASES) == sorted(prompt_files())


@pytest.mark.parametrize("shots", [0, 2])
@pytest.mark.parametrize(("task_name", "prompt_name"), GOLDEN_CASES)
def test_golden_rendered_prompt(task_name: str, prompt_name: str, shots: int) -> None:
    task = toy_task(task_name)
    (tmpl,) = [t for t in task.prompts if t.name == prompt_name]
    example = task.examples("test")[0]
    # Explicit demonstrations (the first train rows), so the golden text does not depend on
    # the sampler; the sampler has its own tests below.
    demos = task.examples("train")[:shots]
    prompt = tmpl.render(example, demos)
    golden = GOLDEN / f"{prompt_name.replace('/', '__')}.{shots}shot.txt"
    if UPDATE_GOLDEN:
        golden.write_text(prompt.text, encoding="utf-8")
    assert golden.is_file(), f"missing golden file {golden}; run with PROMPTKIT_UPDATE_GOLDEN=1"
    assert prompt.text == golden.read_text(encoding="utf-8")
    assert len(prompt.shots) == shots
    # The rendered target is the first reference for every shipped prompt.
    assert prompt.target == example.references[0]
    assert prompt.text.strip() == prompt.text and "  " not in prompt.text


# ----------------------------------------------------------------------------- few-shot sampler
def pool(n: int) -> list[Example]:
    return [Example(id=f"p{i}", fields={"question": str(i)}, references=(str(i),)) for i in range(n)]


def test_sampler_is_deterministic_per_example_id() -> None:
    examples = pool(12)
    a = FewShotSampler(examples, k=3, seed=1)
    b = FewShotSampler(list(examples), k=3, seed=1)
    ex = Example(id="query-5", fields={}, references=())
    assert [s.id for s in a.sample(ex)] == [s.id for s in b.sample(ex)] == [s.id for s in a.sample(ex)]
    # Same id, different content: same draw (the draw depends only on seed and id).
    twin = Example(id="query-5", fields={"x": 1}, references=("y",))
    assert [s.id for s in a.sample(twin)] == [s.id for s in a.sample(ex)]


def test_sampler_is_independent_of_evaluation_order() -> None:
    sampler = FewShotSampler(pool(20), k=4, seed=0)
    queries = [Example(id=f"q{i}", fields={}, references=()) for i in range(10)]
    forward = {q.id: [s.id for s in sampler.sample(q)] for q in queries}
    shuffled = list(queries)
    random.Random(3).shuffle(shuffled)
    fresh = FewShotSampler(pool(20), k=4, seed=0)
    backward = {q.id: [s.id for s in fresh.sample(q)] for q in shuffled}
    assert forward == backward
    # Different examples do not all get the same demonstrations.
    assert len({tuple(v) for v in forward.values()}) > 1


def test_sampler_seed_changes_the_draw() -> None:
    queries = [Example(id=f"q{i}", fields={}, references=()) for i in range(10)]
    a = FewShotSampler(pool(20), k=3, seed=0)
    b = FewShotSampler(pool(20), k=3, seed=1)
    assert [[s.id for s in a.sample(q)] for q in queries] != [[s.id for s in b.sample(q)] for q in queries]


def test_sampler_never_returns_the_example_itself() -> None:
    examples = pool(5)
    sampler = FewShotSampler(examples, k=4, seed=0)
    for ex in examples:
        drawn = [s.id for s in sampler.sample(ex)]
        assert ex.id not in drawn
        assert len(drawn) == 4 and len(set(drawn)) == 4


def test_sampler_k_larger_than_pool_returns_everything_else() -> None:
    examples = pool(3)
    sampler = FewShotSampler(examples, k=10, seed=0)
    assert sorted(s.id for s in sampler.sample(Example(id="other", fields={}, references=()))) == ["p0", "p1", "p2"]
    assert sorted(s.id for s in sampler.sample(examples[1])) == ["p0", "p2"]


def test_sampler_zero_shots_or_empty_pool() -> None:
    ex = Example(id="q", fields={}, references=())
    assert FewShotSampler(pool(5), k=0).sample(ex) == []
    assert FewShotSampler([], k=3).sample(ex) == []
    with pytest.raises(ValueError, match="k must be >= 0"):
        FewShotSampler(pool(5), k=-1)


# ----------------------------------------------------------------------------- chat formatting
CHAT_TEMPLATE = (
    "{% for m in messages %}<|{{ m['role'] }}|>\n{{ m['content'] }}<|end|>\n{% endfor %}"
    "{% if add_generation_prompt %}<|assistant|>\n{% endif %}"
)


def make_tokenizer(chat_template: str | None = CHAT_TEMPLATE) -> Any:
    """A PreTrainedTokenizerFast over an in-memory WordLevel model (no files, no network)."""
    vocab = {"[UNK]": 0, "<s>": 1, "</s>": 2, "Q": 3, "A": 4, ":": 5}
    backend = Tokenizer(models.WordLevel(vocab=vocab, unk_token="[UNK]"))
    backend.pre_tokenizer = pre_tokenizers.Whitespace()
    tok = PreTrainedTokenizerFast(tokenizer_object=backend, unk_token="[UNK]", bos_token="<s>", eos_token="</s>")
    if chat_template is not None:
        tok.chat_template = chat_template
    return tok


@pytest.fixture(scope="module")
def chat_tokenizer() -> Any:
    return make_tokenizer()


@pytest.fixture(scope="module")
def plain_tokenizer() -> Any:
    return make_tokenizer(None)


TWO_SHOT = Prompt(
    example_id="e",
    template="t",
    query="Q: c?\nA:",
    target=" C ",
    references=("C",),
    instruction="Answer briefly.",
    shots=(Turn("Q: a?\nA:", "A"), Turn("Q: b?\nA:", " B\n")),
)


def test_messages_shots_become_turns_and_instruction_opens_first_user_turn() -> None:
    assert messages(TWO_SHOT) == [
        {"role": "user", "content": "Answer briefly.\n\nQ: a?\nA:"},
        {"role": "assistant", "content": "A"},
        {"role": "user", "content": "Q: b?\nA:"},
        {"role": "assistant", "content": "B"},
        {"role": "user", "content": "Q: c?\nA:"},
    ]


def test_messages_zero_shot_and_no_instruction() -> None:
    zero = Prompt(example_id="e", template="t", query="Q: c?", target="C", references=("C",), instruction="Do it.")
    assert messages(zero) == [{"role": "user", "content": "Do it.\n\nQ: c?"}]
    bare = Prompt(example_id="e", template="t", query="Q: c?", target="C", references=("C",))
    assert messages(bare) == [{"role": "user", "content": "Q: c?"}]


def test_format_prompt_with_chat_template(chat_tokenizer: Any) -> None:
    text = format_prompt(TWO_SHOT, chat_tokenizer, chat=True)
    assert text == (
        "<|user|>\nAnswer briefly.\n\nQ: a?\nA:<|end|>\n"
        "<|assistant|>\nA<|end|>\n"
        "<|user|>\nQ: b?\nA:<|end|>\n"
        "<|assistant|>\nB<|end|>\n"
        "<|user|>\nQ: c?\nA:<|end|>\n"
        "<|assistant|>\n"
    )


def test_format_target_is_the_assistant_suffix(chat_tokenizer: Any) -> None:
    assert format_target(TWO_SHOT, chat_tokenizer, chat=True) == "C<|end|>\n"
    # Prompt + target is exactly the conversation with the answer appended.
    full = chat_tokenizer.apply_chat_template(
        [*messages(TWO_SHOT), {"role": "assistant", "content": "C"}], tokenize=False
    )
    assert format_prompt(TWO_SHOT, chat_tokenizer, chat=True) + format_target(TWO_SHOT, chat_tokenizer, chat=True) == full


def test_format_target_falls_back_when_template_rewrites_history() -> None:
    # A template that renders earlier turns differently once an answer follows (some templates
    # strip reasoning from old turns): the suffix trick cannot apply, so the bare answer is used.
    rewriting = (
        "{% for m in messages %}{% if loop.last and m['role'] == 'assistant' %}[final]{% endif %}"
        "<{{ m['role'] }}>{{ m['content'] }}{% endfor %}{% if add_generation_prompt %}<assistant>{% endif %}"
    )
    tok = make_tokenizer(rewriting)
    assert format_target(TWO_SHOT, tok, chat=True) == "C"


def test_plain_formatting_ignores_the_chat_template(chat_tokenizer: Any) -> None:
    assert format_prompt(TWO_SHOT, chat_tokenizer, chat=False) == TWO_SHOT.text
    assert format_target(TWO_SHOT, chat_tokenizer, chat=False) == " " + " C "


def test_use_chat_template_modes(chat_tokenizer: Any, plain_tokenizer: Any) -> None:
    assert use_chat_template(chat_tokenizer, "auto") is True
    assert use_chat_template(chat_tokenizer, "on") is True
    assert use_chat_template(chat_tokenizer, "off") is False
    assert use_chat_template(plain_tokenizer, "auto") is False
    assert use_chat_template(plain_tokenizer, "off") is False
    with pytest.raises(ModelError, match="no chat template"):
        use_chat_template(plain_tokenizer, "on")


def test_chat_formatting_of_a_rendered_shipped_prompt(chat_tokenizer: Any) -> None:
    task = toy_task("toy_qa")
    (tmpl,) = [t for t in task.prompts if t.name == "qa/closed_book"]
    example = task.examples("test")[0]
    prompt = tmpl.render(example, task.examples("train")[:1])
    text = format_prompt(prompt, chat_tokenizer, chat=True)
    assert text == (
        "<|user|>\nAnswer the question with a short phrase.\n\n"
        "Question: How long is Lake Ormond?\nAnswer:<|end|>\n"
        "<|assistant|>\n12 km<|end|>\n"
        "<|user|>\nQuestion: Which pier does the night ferry leave from?\nAnswer:<|end|>\n"
        "<|assistant|>\n"
    )
    assert format_target(prompt, chat_tokenizer, chat=True) == "pier 3<|end|>\n"


@pytest.mark.parametrize("source", ["{{ 0|attr }}", "{{ 1 / 0 }}", "{{ question|join(1) }}x{{ question|center('a') }}"])
def test_a_filter_or_expression_misused_on_a_row_is_a_template_error(source: str) -> None:
    """Found by the template fuzz test: a filter called without its argument raised TypeError."""
    template = PromptTemplate(PromptConfig(name="bad", kind="qa", input=source, target="t"))
    with pytest.raises(TemplateError, match=r"prompt 'bad': input: \w+Error: .*\(example 'e'\)"):
        template.render_input(Example("e", {"question": "12"}, ("a",)))


@pytest.mark.parametrize(("source", "tag"), [("{% include 'other' %}", "include"), ("{% import 'm' as m %}", "import"),
                                             ("{% from 'm' import x %}{{ question }}", "from ... import"),
                                             ("{% extends 'base' %}", "extends")])
def test_a_template_reading_another_template_is_refused_when_it_is_compiled(source: str, tag: str) -> None:
    """Issue 22 item 8: these raised ``TypeError: no loader`` at render time (and passed validation)."""
    with pytest.raises(TemplateError, match=rf"prompt 'p': input: invalid Jinja2 on line 1 of the template: "
                                            rf"\{{% {tag} %\}} is not available: a prompt is one template"):
        PromptTemplate(PromptConfig(name="p", kind="qa", input=source, target="t"))
