"""The context-length policy on few-shot prompts: demonstrations that do not fit are dropped,
oldest first, before the policy touches the example; only a prompt too long with none left is
truncated (``truncate-left``) or skipped (``skip``); ``error`` still refuses.

A token is a whitespace word here, so every expected prompt can be counted by brute force.
"""

from __future__ import annotations

from typing import Any

import pytest
from promptkit.config import PromptConfig
from promptkit.prompting import FewShotSampler, PromptTemplate
from promptkit.prompting.context import ContextLengthError, context_phrase, fit_prompts
from promptkit.records import Example, Prompt
from promptkit.records.results import PolicyReport

TEMPLATE = PromptTemplate(PromptConfig(name="test/qa", instruction="Read it.",
                                       input="Context: {{ context }}\nQuestion: {{ question }}\nAnswer:",
                                       target="{{ answer }}"), origin="inline.yaml")
SHOTS = 4
DEMO_WORDS = 10  # words of a demonstration's context


def words(prompt: Prompt) -> int:
    return len(prompt.text.split())


def example(name: str, n_words: int) -> Example:
    context = " ".join(f"{name}{k}" for k in range(n_words))
    return Example(id=name, fields={"context": context, "question": "who is it ?", "answer": "x"}, references=("x",))


DEMOS = [example(f"d{i}", DEMO_WORDS) for i in range(SHOTS)]  # d0 comes first in the prompt: the oldest


def fit(examples: list[Example], budget: int, policy: str, demos: list[Example] = DEMOS) -> Any:
    vocab: list[str] = []

    def encode(text: str) -> list[int]:
        vocab.extend(text.split())
        return list(range(len(vocab) - len(text.split()), len(vocab)))

    return fit_prompts(examples, lambda ex: TEMPLATE.render(ex, demos), words, budget, policy, encode=encode,
                       decode=lambda ids: " ".join(vocab[i] for i in ids), where="task 't', few-shot: ")


def test_the_oldest_demonstrations_go_first_and_the_most_that_fit_are_kept() -> None:
    ex = example("q", 20)
    full = TEMPLATE.render(ex, DEMOS)
    for budget in range(words(TEMPLATE.render(ex)), words(full)):
        fitted = fit([ex], budget, "truncate-left")
        # brute force: the most of the last demonstrations whose prompt has at most `budget` words
        kept = max(k for k in range(SHOTS + 1) if words(TEMPLATE.render(ex, DEMOS[SHOTS - k :])) <= budget)
        assert fitted.prompts[0] == TEMPLATE.render(ex, DEMOS[SHOTS - kept :]), budget  # as if rendered with them
        assert fitted.skip == frozenset() and fitted.report.truncated == [] and fitted.report.skipped == []
        assert fitted.report.shots_dropped == ["q"] and fitted.report.demonstrations_dropped == SHOTS - kept
        assert fitted.prompts[0].query == full.query and fitted.prompts[0].instruction == "Read it."


def test_the_report_counts_prompts_that_lost_demonstrations_and_how_many_went() -> None:
    ex = example("q", 20)
    two = words(TEMPLATE.render(ex, DEMOS[2:]))  # room for the last two demonstrations
    fitted = fit([example("a", 20), ex, example("b", 21)], two, "skip")
    assert [len(p.shots) for p in fitted.prompts] == [2, 2, 1]
    assert [p.shots for p in fitted.prompts[:2]] == [TEMPLATE.render(ex, DEMOS[2:]).shots] * 2  # d2 and d3 stay
    report = fitted.report.summary().to_dict()
    assert (report["shots_dropped"], report["demonstrations_dropped"], report["shots_dropped_ids"]) == (3, 7, ["a", "q", "b"])
    assert report["truncated"] == report["skipped"] == 0 and report["longest_prompt_tokens"] == words(
        TEMPLATE.render(example("b", 21), DEMOS))
    assert context_phrase(fitted.report.summary()) == ["3 lost demonstrations (7 dropped, oldest first)"]


def test_truncate_left_cuts_the_field_of_the_prompt_without_demonstrations() -> None:
    ex = example("q", 200)
    bare = words(TEMPLATE.render(example("q", 0)))  # the prompt with no demonstrations and no context
    fitted = fit([ex], bare + 30, "truncate-left")
    cut = fitted.prompts[0]
    assert cut.shots == () and words(cut) == bare + 30
    tail = " ".join(f"q{k}" for k in range(170, 200))  # the last 30 words of the context
    assert cut == TEMPLATE.render(Example("q", {**ex.fields, "context": tail}, ("x",)))
    assert fitted.report.truncated == ["q"] and fitted.report.skipped == [] and fitted.skip == frozenset()
    assert fitted.report.shots_dropped == ["q"] and fitted.report.demonstrations_dropped == SHOTS
    assert context_phrase(fitted.report.summary()) == ["1 truncated", "1 lost demonstrations (4 dropped, oldest first)"]


def test_skip_skips_what_does_not_fit_even_without_demonstrations() -> None:
    ex = example("q", 200)
    fitted = fit([ex], words(TEMPLATE.render(ex)) - 1, "skip")
    assert fitted.skip == {0} and fitted.report.skipped == ["q"] and fitted.report.truncated == []
    assert fitted.report.shots_dropped == [] and fitted.report.demonstrations_dropped == 0  # skipped, not run shorter
    assert fitted.prompts[0] == TEMPLATE.render(ex, DEMOS)
    assert context_phrase(fitted.report.summary()) == ["1 skipped"]
    # truncate-left skips too when the prompt is too long with no demonstrations and the field emptied
    tiny = fit([ex], 3, "truncate-left")
    assert tiny.skip == {0} and tiny.report.skipped == ["q"] and tiny.report.shots_dropped == []


def test_error_still_refuses_a_prompt_that_demonstrations_make_too_long() -> None:
    ex = example("q", 20)
    n = words(TEMPLATE.render(ex, DEMOS))
    with pytest.raises(ContextLengthError) as exc:
        fit([ex], n - 1, "error")  # dropping one demonstration would fit: error does not drop it
    assert str(exc.value) == (f"task 't', few-shot: example 'q' has {n} prompt tokens, 1 more than the {n - 1} the model "
                              "can read here; set context_policy: truncate-left (cut the longest field from the left) or skip")


@pytest.mark.parametrize("policy", ["truncate-left", "skip", "error"])
def test_prompts_that_fit_are_untouched(policy: str) -> None:
    sampler = FewShotSampler(DEMOS + [example(f"p{i}", 15) for i in range(6)], 3, seed=1)
    examples = [example(f"q{i}", 20) for i in range(5)]
    rendered = [TEMPLATE.render(ex, sampler.sample(ex)) for ex in examples]
    vocab: list[str] = []
    fitted = fit_prompts(examples, lambda ex: TEMPLATE.render(ex, sampler.sample(ex)), words,
                         max(words(p) for p in rendered), policy,
                         encode=lambda t: [vocab.append(w) or len(vocab) - 1 for w in t.split()],
                         decode=lambda ids: " ".join(vocab[i] for i in ids), where="")
    assert fitted.prompts == rendered and all(len(p.shots) == 3 for p in fitted.prompts) and fitted.skip == frozenset()
    report = fitted.report.summary().to_dict()
    assert report["shots_dropped"] == report["demonstrations_dropped"] == report["truncated"] == report["skipped"] == 0
    assert report["shots_dropped_ids"] == [] and context_phrase(fitted.report.summary()) == []


def test_context_phrase_of_a_report_written_before_demonstrations_were_dropped() -> None:
    old = {"policy": "truncate-left", "budget": 506, "truncated": 2, "skipped": 1, "longest_prompt_tokens": 9000,
           "truncated_ids": ["a", "b"], "skipped_ids": ["c"]}
    assert context_phrase(PolicyReport.from_dict(old)) == ["2 truncated", "1 skipped"]
