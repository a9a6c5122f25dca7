"""Typed records passed between the pipeline stages.

``Example`` (adapter output) -> ``Prompt`` (template output) -> ``Prediction`` (method output)
-> ``MetricScore`` (scoring output). All are frozen: a stage never edits its input.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

# What ``{{ mask }}`` renders as in a cloze prompt: the answer slot a masked LM fills
# (promptkit.models.masked); chosen to be unlikely in dataset text.
MASK_SLOT = "⟨mask⟩"


@dataclass(frozen=True)
class Example:
    """One dataset row, normalised by a task adapter.

    Attributes:
        id: stable identifier (the dataset's own id, or ``<split>-<row>``).
        fields: the variables templates may use (``question``, ``context``, ``source``...).
        references: gold outputs; generation is scored against all of them (max or multi-ref).
        choices: for classification, the verbalizer of every label, in label order.
        label: for classification, the index of the gold choice.
        group: the row's ``group_by`` value (its article, say) when the split declares one:
            intervals and paired tests then resample whole groups.
        row: its index in its split as read (None: not read from a split); lm-eval's few-shot
            sampler draws by it.
        continuation: lm-eval's multiple-input form (Winogrande): the text scored after each
            choice, the choices being alternative ends of the prompt (None: the usual form, each
            choice scored after the prompt).
    """

    id: str
    fields: Mapping[str, Any]
    references: tuple[str, ...]
    choices: tuple[str, ...] = ()
    label: int | None = None
    group: str | None = None
    row: int | None = None
    continuation: str | None = None
    # The row as read (after the task's process_docs): what an lm-eval task's process_results
    # reads (promptkit.tasks.lmeval.results); None for other tasks.
    doc: Mapping[str, Any] | None = field(default=None, compare=False, repr=False)


@dataclass(frozen=True)
class Turn:
    """A demonstration: the rendered input and its rendered target."""

    input: str
    target: str
    prefix: str | None = None  # the answer prefix (PromptConfig.answer_prefix) rendered for this shot


def joined(left: str, right: str, delimiter: str) -> str:
    """``left + delimiter + right``, without the delimiter when either side has whitespace at
    the join (lm-evaluation-harness's ``maybe_delimit``)."""
    if not left:
        return right
    if not right:
        return left
    return left + right if left[-1].isspace() or right[0].isspace() else left + delimiter + right


@dataclass(frozen=True)
class Prompt:
    """A rendered prompt, kept in parts so that chat and plain formatting both work.

    ``text`` is the plain (no chat template) rendering: instruction, demonstrations and query
    joined by the template's delimiters. The chat rendering is done by the model-aware
    formatter in :mod:`promptkit.prompting.chat`.
    """

    example_id: str
    template: str
    query: str
    target: str
    references: tuple[str, ...]
    instruction: str | None = None
    shots: tuple[Turn, ...] = ()
    choices: tuple[str, ...] = ()
    label: int | None = None
    fewshot_delimiter: str = "\n\n"
    target_delimiter: str = " "
    # Between the instruction and the rest; None: fewshot_delimiter (PromptConfig's field).
    instruction_delimiter: str | None = None
    # Between a demonstration's input and target; None: target_delimiter (lm-eval's
    # fewshot_config.target_delimiter writes demonstrations unlike the evaluated example).
    shot_target_delimiter: str | None = None
    # Written after the query, where the answer starts (PromptConfig.answer_prefix, rendered).
    answer_prefix: str | None = None
    # lm-eval's multiple-input form (Example.continuation): the query is the gold choice, the
    # target this text; each choice is scored as the query, with this text after it.
    continuation: str | None = None

    @property
    def instruction_prefix(self) -> str:
        """The instruction and its delimiter ("" without an instruction)."""
        if not self.instruction:
            return ""
        return self.instruction + (self.fewshot_delimiter if self.instruction_delimiter is None else self.instruction_delimiter)

    @property
    def cloze(self) -> bool:
        """The query has an answer slot (``{{ mask }}``): for masked LMs."""
        return MASK_SLOT in self.query

    @property
    def text(self) -> str:
        # A cloze demonstration carries its answer in the slot already.
        between = self.target_delimiter if self.shot_target_delimiter is None else self.shot_target_delimiter
        parts = [shot.input if self.cloze else _answered(shot.input, shot.prefix, shot.target, between) for shot in self.shots]
        parts.append(joined(self.query, self.answer_prefix, self.target_delimiter) if self.answer_prefix else self.query)
        return self.instruction_prefix + self.fewshot_delimiter.join(parts)


def prompt_record(prompt: Prompt) -> dict[str, Any]:
    """``prompt`` as a dict for hashing: ``continuation`` left out when None, so that a prompt
    hashes as it did before the field existed (saved progress survives an upgrade)."""
    data = asdict(prompt)
    if data["continuation"] is None:
        del data["continuation"]
    return data


def _answered(text: str, prefix: str | None, answer: str, delimiter: str) -> str:
    """A demonstration as lm-eval's ``build_qa_turn`` writes it: with an answer prefix, the
    input joined to the prefix and the prefix to the answer (by a space), each only when
    neither side has whitespace at the join."""
    return text + delimiter + answer if not prefix else joined(text, joined(prefix, answer, " "), delimiter)


@dataclass(frozen=True)
class Prediction:
    """What a method produced for one prompt.

    Attributes:
        output: the answer scored by the metrics (generation cut at the first stop sequence,
            or the chosen verbalizer for classification).
        raw_output: the generation before stop-sequence truncation.
        choice_logprobs: for classification, the log-likelihood of every choice.
        prompt_tokens / output_tokens: token counts (throughput, cost).
    """

    example_id: str
    prompt: str
    output: str
    references: tuple[str, ...]
    raw_output: str = ""
    choices: tuple[str, ...] = ()
    label: int | None = None
    predicted_label: int | None = None
    choice_logprobs: tuple[float, ...] = ()
    prompt_tokens: int = 0
    output_tokens: int = 0
    # for classification: whether greedy decoding gives each choice (lm-eval's is_greedy)
    choice_greedy: tuple[bool, ...] = ()


@dataclass(frozen=True)
class MetricScore:
    """A corpus-level metric value (0-100 scale) with its bootstrap confidence interval.

    ``details`` are the settings the value was computed with (BLEU's tokenizer and smoothing,
    ROUGE's tokenizer and stemmer, the language and whether it was detected), from
    ``Metric.describe``; empty for metrics that have none to report.
    """

    name: str
    value: float
    ci_low: float
    ci_high: float
    n: int
    per_sample: tuple[float, ...] = field(default=(), repr=False)
    # hash=False: a dict is unhashable, and the settings never tell two scores apart alone.
    details: Mapping[str, str] = field(default_factory=dict, repr=False, hash=False)

    def to_dict(self, with_samples: bool = False) -> dict[str, Any]:
        out: dict[str, Any] = {
            "value": self.value,
            "ci_low": self.ci_low,
            "ci_high": self.ci_high,
            "n": self.n,
        }
        if self.details:  # only when there are some, so results without them read the same
            out["details"] = dict(self.details)
        if with_samples:
            out["per_sample"] = list(self.per_sample)
        return out

    @classmethod
    def from_dict(cls, name: str, data: Mapping[str, Any]) -> MetricScore:
        return cls(
            name=name,
            value=float(data["value"]),
            ci_low=float(data["ci_low"]),
            ci_high=float(data["ci_high"]),
            n=int(data["n"]),
            per_sample=tuple(data.get("per_sample", ())),
            details={str(k): str(v) for k, v in data.get("details", {}).items()},
        )


@dataclass
class TrainingReport:
    """What training did and cost; stored in results.json."""

    steps: int = 0
    planned_steps: int = 0
    examples: int = 0
    epochs: float = 0.0
    wall_s: float = 0.0
    tokens: int = 0
    tokens_per_s: float = 0.0
    peak_memory_mb: float = 0.0
    peak_memory_kind: str = ""
    final_loss: float = float("nan")
    losses: list[float] = field(default_factory=list)
    curve: list[dict[str, float]] = field(default_factory=list)
    stopped_early: bool = False
    best_step: int | None = None
    resumed_from: int | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> TrainingReport:
        return cls(**dict(data))


@dataclass(frozen=True)
class Cost:
    """What an adapted method costs (results.json ``cost``).

    Attributes:
        trainable_params: parameters trained (a saved adapter: the parameters it holds).
        trainable_pct: their share of the base model's parameters, in percent.
        train_s / train_tokens_per_s: training wall time (dev evaluations excluded) and speed.
        peak_memory_mb: peak memory while training (``TrainingReport.peak_memory_kind`` says which).
        adapter_bytes: size of what was saved (adapter, or the whole model for full fine-tuning).
        tuning_s: training time of the tuning candidates, when the method was tuned.
    """

    trainable_params: float
    trainable_pct: float
    train_s: float = 0.0
    train_tokens_per_s: float = 0.0
    peak_memory_mb: float = 0.0
    adapter_bytes: float | None = None
    tuning_s: float | None = None

    def to_dict(self) -> dict[str, float]:
        return {k: v for k, v in asdict(self).items() if v is not None}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Cost:
        return cls(**dict(data))


@dataclass(frozen=True)
class Forgetting:
    """How much worse an adapted model predicts general text than the base model (results.json
    ``forgetting``; promptkit.analysis.forgetting). Positive: the adaptation made it worse.

    Attributes:
        probe: the probe text's name (the shipped one, or the file a run named).
        documents / tokens / bytes: what was scored (tokens of the probe text itself, without a
            soft prompt's virtual tokens or the start token it is read after).
        base_bits_per_byte / bits_per_byte: the base model's and the adapted model's negative
            log-likelihood of the probe, in bits per UTF-8 byte.
        delta_bits_per_byte: their difference, with a paired interval over documents
            (``ci_low``, ``ci_high``, at ``confidence``).
        delta_nats_per_token: the difference of mean token cross-entropy (nats), with its
            interval (``ce_ci_low``, ``ce_ci_high``).
        seconds: wall time of scoring the probe with the adaptation applied (the base model's
            scoring, once per run, is not counted).
    """

    probe: str
    documents: int
    tokens: int
    bytes: int
    base_bits_per_byte: float
    bits_per_byte: float
    delta_bits_per_byte: float
    ci_low: float
    ci_high: float
    delta_nats_per_token: float
    ce_ci_low: float
    ce_ci_high: float
    confidence: float = 0.95
    seconds: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Forgetting:
        return cls(**dict(data))
