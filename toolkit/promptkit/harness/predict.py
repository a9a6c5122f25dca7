"""Prompts -> predictions with any model (base or adapted): the one inference path."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

from promptkit.config import GenerationSettings
from promptkit.distributed import current
from promptkit.errors import ModelError
from promptkit.models.backend import LanguageModel
from promptkit.models.batching import Runtime
from promptkit.models.stopping import cut_at_stop
from promptkit.prompting.chat import format_prompt
from promptkit.records import Prediction, Prompt


def check_cloze(lm: LanguageModel, template: str, where: str = "") -> None:
    """Refuse a cloze prompt (``{{ mask }}``) on a model that does not fill masks: a causal model
    would read the slot marker as text and its scores would mean nothing.

    Raises:
        ModelError: naming the prompt, the model and what would work.
    """
    if not lm.fills_masks:
        raise ModelError(
            f"{where}prompt {template!r} is a cloze prompt ({{{{ mask }}}}) and {lm.name!r} "
            f"({type(lm.model).__name__}) does not fill masks; use a masked LM "
            "(e.g. bert-base-uncased, roberta-base) or a prompt without {{ mask }}"
        )


def check_prompts(lm: LanguageModel, prompts: Sequence[Prompt]) -> None:
    """What every prediction and training path checks first (see :func:`check_cloze`)."""
    cloze = next((p for p in prompts if p.cloze), None)
    if cloze is not None:
        check_cloze(lm, cloze.template)


def choice_continuation(prompt: Prompt, choice: str, chat: bool) -> str:
    # In chat mode the answer starts the assistant turn; in plain mode it follows the delimiter.
    return choice if chat else prompt.target_delimiter + choice


def predict(lm: LanguageModel, prompts: Sequence[Prompt], generation: GenerationSettings, runtime: Runtime, normalization: str = "none") -> list[Prediction]:
    """Run ``prompts`` through ``lm``: generation, or choice scoring when prompts have choices.

    Args:
        lm: any backend, base or adapted (``with model.adapted(adaptation) as lm``).
        generation: max new tokens and stop sequences (generation tasks).
        runtime: batch size, chat formatting, progress.
        normalization: choice scores divided by length: ``none``, ``tokens``, ``chars`` or ``bytes``;
            ``greedy``: one continuation per row, chosen only when greedy decoding gives it.

    Under a multi-process launch each process predicts a share of the prompts and every process
    returns the whole list (a prediction does not depend on its batch mates, so the result is
    the single-process one).
    """
    check_prompts(lm, prompts)
    texts = [format_prompt(p, lm.tokenizer, runtime.chat) for p in prompts]
    procs = current()
    if not procs.distributed:
        return _predict_here(lm, prompts, texts, generation, runtime, normalization)
    # Dealt longest first, so every process gets a similar amount of work.
    index = procs.shard(sorted(range(len(texts)), key=lambda i: (-len(texts[i]), i)))
    local = _predict_here(lm, [prompts[i] for i in index], [texts[i] for i in index], generation, runtime, normalization)
    return procs.gather(local, index, len(prompts))


def _predict_here(lm: LanguageModel, prompts: Sequence[Prompt], texts: Sequence[str], generation: GenerationSettings,
                  runtime: Runtime, normalization: str) -> list[Prediction]:
    if not prompts:
        return []
    if prompts[0].choices:
        return _classify(lm, prompts, texts, runtime, normalization)
    outs = lm.generate(texts, max_new_tokens=generation.max_new_tokens, stop=generation.stop, runtime=runtime)
    return [
        Prediction(
            example_id=p.example_id,
            prompt=t,
            output=o.text if generation.strip else cut_at_stop(o.raw, generation.stop),
            references=p.references,
            raw_output=o.raw,
            prompt_tokens=o.prompt_tokens,
            output_tokens=o.output_tokens,
        )
        for p, t, o in zip(prompts, texts, outs, strict=True)
    ]


def _classify(lm: LanguageModel, prompts: Sequence[Prompt], texts: Sequence[str], runtime: Runtime, normalization: str) -> list[Prediction]:
    contexts: list[str] = []
    conts: list[str] = []
    for p, t in zip(prompts, texts, strict=True):
        if p.continuation is not None:
            # lm-eval's multiple-input form (Winogrande): each choice ends the prompt, the
            # continuation is scored after it
            for choice in p.choices:
                contexts.append(format_prompt(dataclasses.replace(p, query=choice), lm.tokenizer, runtime.chat))
                conts.append(choice_continuation(p, p.continuation, runtime.chat))
            continue
        for choice in p.choices:
            contexts.append(t)
            conts.append(choice_continuation(p, choice, runtime.chat))
    scores = lm.loglikelihood(contexts, conts, runtime)
    preds = []
    k = 0
    for p, t in zip(prompts, texts, strict=True):
        row = scores[k : k + len(p.choices)]
        k += len(p.choices)
        if normalization == "tokens":
            values = [s.logprob / max(s.tokens, 1) for s in row]
        elif normalization == "chars":
            values = [s.logprob / max(len(c), 1) for s, c in zip(row, p.choices, strict=True)]
        elif normalization == "bytes":  # lm-eval's acc_bytes: per UTF-8 byte of the choice
            values = [s.logprob / max(len(c.encode("utf-8")), 1) for s, c in zip(row, p.choices, strict=True)]
        else:
            values = [s.logprob for s in row]
        best = max(range(len(values)), key=lambda i: (values[i], -i))
        # "greedy": one continuation (lm-eval's loglikelihood acc): chosen only when greedy
        # decoding would produce it, else nothing is
        missed = normalization == "greedy" and not row[best].greedy
        chosen = "" if missed else p.choices[best]
        preds.append(
            Prediction(
                example_id=p.example_id,
                prompt=t,
                output=chosen,
                references=p.references,
                raw_output=chosen,
                choices=p.choices,
                label=p.label,
                predicted_label=None if missed else best,
                choice_logprobs=tuple(s.logprob for s in row),
                choice_greedy=tuple(s.greedy for s in row),
                prompt_tokens=len(lm.encode(t, chat=runtime.chat)),
                output_tokens=0,
            )
        )
    return preds
