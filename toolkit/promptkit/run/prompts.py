"""A cell's prompts, rendered and fitted to the model's context.

The evaluated examples are rendered with the demonstrations a method asks for; training and
dev prompts with none. Each set is measured with the model's tokenizer against what the model
reads (its positions less the answer and a soft prompt's virtual tokens; training prompts also
against ``training.max_length``), and the context-length policy
(``promptkit.prompting.context``) decides what happens to those that do not fit.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from promptkit.config.run import RunConfig
from promptkit.errors import PromptkitError
from promptkit.prompting.context import DEFAULT_POLICY, Fitted, fit_prompts
from promptkit.prompting.fewshot import make_sampler
from promptkit.records import Example, Prompt
from promptkit.records.results import PolicyReport
from promptkit.run.plan import CellSpec, PreparedTask, RunSeeds, training_split

BOUND_MARGIN = 16  # special tokens a tokenizer may add beyond one token per byte


@dataclass(frozen=True)
class TrainingPrompts:
    """A trained cell's prompts: training (those that fit) and dev, and what the policy did."""

    train: list[Prompt]
    dev: list[Prompt]
    n_train_examples: int
    n_dev_examples: int
    train_report: PolicyReport
    dev_report: PolicyReport


@dataclass
class PromptFitter:
    """Renders and fits the prompts of the cells of one run on one model."""

    config: RunConfig
    seeds: RunSeeds
    dev_size: int
    lm: Any
    chat: bool

    def policy(self, p: PreparedTask) -> str:
        return self.config.context_policy or p.task.config.context_policy or DEFAULT_POLICY

    def shots(self, spec: CellSpec, method_cfg: Any) -> int:
        """Demonstrations per evaluated prompt the cell's method asks for."""
        tc = spec.task.task.config
        return int(spec.method_cls.wanted_shots(method_cfg, self.config.shots if self.config.shots is not None else tc.fewshot.shots))

    def evaluation(self, spec: CellSpec, method_cfg: Any, lm: Any, chat: bool, label: str) -> Fitted:
        """The evaluated examples rendered with their demonstrations, fitted to the context
        (those that do not fit lose their oldest demonstrations first)."""
        p = spec.task
        tc = p.task.config
        k = self.shots(spec, method_cfg)
        if k and not p.pool:
            raise PromptkitError(f"task {p.name!r}: few-shot needs a '{tc.fewshot.split}' split to draw demonstrations from")
        sampler = make_sampler(tc.fewshot, p.pool, k, self.seeds.fewshot)
        return self.fit(p, p.examples, lambda ex: spec.template.render(ex, sampler.sample(ex)), lm, chat,
                        self.eval_budget(lm, method_cfg, spec), label)

    def training(self, spec: CellSpec, method_cfg: Any) -> TrainingPrompts:
        """The training prompts (those that fit ``training.max_length`` and the model) and the
        dev prompts carved from the train split."""
        p = spec.task
        label = method_cfg.label
        train, dev = training_split(p.train, self.seeds.split, self.dev_size, self.config.training.train_limit)
        if not train:
            raise PromptkitError(f"task {p.name!r}: {label} needs training examples but split "
                                 f"{p.task.config.train_split!r} is missing or empty")
        limit = self.lm.context_length
        budget = min(self.config.training.max_length, (limit or 1 << 30) - spec.method_cls.virtual_tokens(method_cfg))
        fitted = self.fit(p, train, spec.template.render, self.lm, self.chat, budget, f"{label} training", target=True)
        dev_fitted = self.fit(p, dev, spec.template.render, self.lm, self.chat, self.eval_budget(self.lm, method_cfg, spec),
                              f"{label} dev")
        return TrainingPrompts([pr for i, pr in enumerate(fitted.prompts) if i not in fitted.skip],
                               [pr for i, pr in enumerate(dev_fitted.prompts) if i not in dev_fitted.skip], len(train), len(dev), fitted.report.summary(),
                               dev_fitted.report.summary())

    def fit(self, p: PreparedTask, examples: Sequence[Example], render: Callable[[Example], Prompt], lm: Any,
            chat: bool, budget: int | None, label: str, target: bool = False) -> Fitted:
        """``fit_prompts`` with the model's tokenizer; ``target``: training prompts, whose target
        tokens count too."""
        from promptkit.prompting.chat import format_prompt

        tok = lm.tokenizer

        def measure(prompt: Prompt) -> int:
            n = len(lm.encode(format_prompt(prompt, tok, chat), chat=chat))
            return n + (len(tok(prompt.target, add_special_tokens=False)["input_ids"]) + 1 if target else 0)

        def bound(prompt: Prompt) -> int:
            # Every token of a byte-level, sentencepiece or word-level vocabulary spells at least
            # one byte of the text; the margin covers added special tokens and a leading '▁'.
            text = format_prompt(prompt, tok, chat) + (prompt.target if target else "")
            return len(text.encode("utf-8")) + BOUND_MARGIN

        return fit_prompts(examples, render, measure, budget, self.policy(p),
                           encode=lambda text: list(tok(text, add_special_tokens=False)["input_ids"]),
                           decode=lambda ids: str(tok.decode(ids, skip_special_tokens=True)),
                           where=f"task {p.name!r}, {label}: ", bound=bound)

    @staticmethod
    def eval_budget(lm: Any, method_cfg: Any, spec: CellSpec) -> int | None:
        """Prompt tokens that leave room for the answer (generated, or the longest choice) and a
        soft prompt's virtual tokens within the model's positions; None: no limit."""
        limit = lm.context_length
        if limit is None:
            return None
        reserve = 0
        if not lm.is_encoder_decoder:  # an encoder's input has its own positions
            choices = {c for ex in spec.task.examples for c in ex.choices}
            reserve = (max(len(lm.encode(" " + c, chat=False)) for c in choices) if choices
                       else spec.task.task.config.generation.max_new_tokens)
        return max(limit - reserve - spec.method_cls.virtual_tokens(method_cfg), 1)
