"""Pydantic models for everything a user writes: tasks, prompts, methods and runs.

All models forbid unknown keys and are frozen. A field has one meaning; closed sets are
``Literal``s; variants are tagged unions on ``kind``.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Mapping
from typing import Annotated, Any, ClassVar, Literal, Union

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SerializerFunctionWrapHandler,
    field_validator,
    model_serializer,
    model_validator,
)

from promptkit.errors import suggest

NAME_RE = r"^[A-Za-z0-9][A-Za-z0-9_.\-/]*$"
# Names that become a file or directory name (task names, run ids): one path segment, printable.
FILE_NAME_RE = r"^[A-Za-z0-9][A-Za-z0-9_.\-]*$"


def check_segments(kind: str, value: str) -> str:
    """``value`` unless one of its ``/``-separated parts is ``..`` or empty (it would leave its folder)."""
    if any(part in ("", ".", "..") for part in value.split("/")):
        raise ValueError(f"{kind} {value!r} has an empty, '.' or '..' part; use letters, digits, '_', '-', '.' between '/'")
    return value


class Strict(BaseModel):
    # allow_inf_nan: no setting means "infinity" or "not a number" (lr: inf trained, and a NaN
    # margin would compare false with everything)
    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)


# A dotted path into a dataset row (``answers.text``); a list means "concatenate the values".
FieldPath = Annotated[str, Field(min_length=1, pattern=r"^[^\s]+$")]
FieldPaths = Union[FieldPath, list[FieldPath]]


# ----------------------------------------------------------------------------- dataset sources
class SplitFiles(Strict):
    """A split read from local files, optionally a deterministic part of them.

    ``group_by`` + ``part`` carve disjoint splits out of one file: rows are grouped by the value
    of the ``group_by`` column (e.g. the article title) and a group belongs to the split when the
    hash of its value, mapped to [0, 1), lies in ``part``. Train on some articles, test on others.
    """

    path: str | list[str]
    group_by: FieldPath | None = None
    part: tuple[float, float] | None = None
    # Field overrides for this split only (e.g. demonstrations drawn from another corpus).
    fields: dict[str, Any] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _part_range(self) -> SplitFiles:
        if self.part is not None:
            lo, hi = self.part
            if not (0.0 <= lo < hi <= 1.0):
                raise ValueError(f"part must satisfy 0 <= start < end <= 1, got {list(self.part)}")
            if self.group_by is None:
                raise ValueError("part needs group_by (the column whose values are split)")
        return self


class FilesSource(Strict):
    """Local json / jsonl / csv / parquet files (``.gz`` allowed for json and jsonl).

    Paths are relative to the task file (``relative_to: task``) or to the data directory
    given with ``--data-dir`` / ``PROMPTKIT_DATA_DIR`` (``relative_to: data_dir``).
    """

    kind: Literal["files"] = "files"
    relative_to: Literal["task", "data_dir"] = "task"
    format: Literal["auto", "json", "jsonl", "csv", "parquet"] = "auto"
    splits: dict[str, SplitFiles | str]
    # Overrides of adapter.fields for this source (validated against the adapter's fields).
    fields: dict[str, Any] = Field(default_factory=dict)
    # Paths of a packaged task (shipped with promptkit) stay inside its folder, and paths
    # relative to the data directory inside it (no '..', no absolute path), unless this is set.
    allow_outside: bool = False

    def split_files(self, split: str) -> SplitFiles:
        spec = self.splits[split]
        return SplitFiles(path=spec) if isinstance(spec, str) else spec


class HubSource(Strict):
    """A dataset on the Hugging Face hub, read with ``datasets.load_dataset``.

    ``splits`` maps promptkit's split names to hub split expressions (``validation``,
    ``train[:1000]``).
    """

    kind: Literal["hub"] = "hub"
    path: str
    name: str | None = None
    revision: str | None = None
    splits: dict[str, str]
    fields: dict[str, Any] = Field(default_factory=dict)
    # Passed on to load_dataset (lm-eval's dataset_kwargs): the dataset's own files to read
    # (data_files, data_dir) and how its csv / json builder reads them.
    options: dict[str, Any] = Field(default_factory=dict)

    @field_validator("options")
    @classmethod
    def _known_options(cls, value: dict[str, Any]) -> dict[str, Any]:
        unknown = sorted(set(value) - set(HUB_OPTIONS))
        if unknown:
            raise ValueError(f"unknown option {unknown[0]!r}; accepted: {', '.join(HUB_OPTIONS)}")
        return value


# load_dataset's keyword arguments a hub source may set (none of them runs code).
HUB_OPTIONS = ("data_files", "data_dir", "column_names", "header", "delimiter", "sep", "field")


Source = Annotated[Union[FilesSource, HubSource], Field(discriminator="kind")]


# What happens to prompts longer than the model reads (promptkit.prompting.context).
ContextPolicy = Literal["truncate-left", "skip", "error"]


# ----------------------------------------------------------------------------- adapters
# sacrebleu's BLEU tokenizers (sacrebleu.metrics.bleu.BLEU.TOKENIZERS; a test keeps the two
# equal), listed here so that validating a task does not import sacrebleu.
BleuTokenize = Literal[
    "none", "zh", "13a", "intl", "char", "ja-mecab", "ko-mecab", "spm", "flores101", "flores200", "spBLEU-1K"
]



# Choices scored per example (classification labels, a multiple-choice task's choices): each is
# one scored continuation per example, so the cost of a task grows with it. Real tasks have 2 to
# a few hundred (MMLU 4, HellaSwag 4, CLINC150's 150 intents); 1,000 already costs a thousand
# forward passes an example, and a list longer than that is a data mistake, not a task.
MAX_CHOICES = 1_000


def check_choice_count(count: int) -> None:
    """Refuse more than :data:`MAX_CHOICES` choices (a ``ValueError`` that says why)."""
    if count > MAX_CHOICES:
        raise ValueError(f"{count:,} choices; at most {MAX_CHOICES:,} (each choice is one scored continuation per "
                         "example): give a shorter list")


# ----------------------------------------------------------------------------- prompts
class FewShotFormat(Strict):
    """How demonstrations are written: their delimiter and, when they are written unlike the
    evaluated example (lm-evaluation-harness's ``fewshot_config.doc_to_text`` /
    ``doc_to_target`` / ``target_delimiter``), their own input, target and target delimiter."""

    delimiter: str = "\n\n"
    input: str | None = None
    target: str | None = None
    target_delimiter: str | None = None

    @model_serializer(mode="wrap")
    def _omit_unset(self, handler: SerializerFunctionWrapHandler) -> dict[str, Any]:
        data: dict[str, Any] = handler(self)
        return {k: v for k, v in data.items() if v is not None}  # fingerprints of existing prompts stay as they were


class PromptConfig(Strict):
    """A prompt template. Jinja2, sandboxed, undefined variables are errors.

    The plain rendering is ``instruction + delimiter + shots + delimiter + input``, each shot
    being ``input + target_delimiter + target``; with a chat template the instruction opens the
    first user turn and each shot is a user/assistant pair.
    """

    name: str = Field(pattern=NAME_RE, max_length=128)
    version: int | str = 1
    # The adapter kind it is written for (checked against the adapter registry where prompts
    # are loaded, promptkit.tasks; a task refuses a prompt for another kind).
    kind: str | None = None
    description: str = ""
    instruction: str | None = None
    input: str
    target: str
    target_delimiter: str = " "
    fewshot: FewShotFormat = Field(default_factory=FewShotFormat)
    # Between the instruction and what follows; None: the few-shot delimiter. lm-evaluation-
    # harness puts its description right before the first demonstration: "".
    instruction_delimiter: str | None = None
    # Written after the query, where the answer starts (a template; lm-evaluation-harness's
    # gen_prefix): joined to the query with target_delimiter when neither side has whitespace
    # at the join, and in a demonstration to its answer with a space, as lm-eval joins them.
    answer_prefix: str | None = None

    @field_validator("name")
    @classmethod
    def _name_segments(cls, value: str) -> str:
        return check_segments("prompt name", value)

    @model_serializer(mode="wrap")
    def _omit_default_delimiter(self, handler: SerializerFunctionWrapHandler) -> dict[str, Any]:
        data: dict[str, Any] = handler(self)
        for key in ("instruction_delimiter", "answer_prefix"):
            if data.get(key, "") is None:
                del data[key]  # fingerprints of existing prompts stay as they were
        return data


# ----------------------------------------------------------------------------- tasks
class GenerationSettings(Strict):
    max_new_tokens: int = Field(default=32, ge=1, le=4096)
    stop: list[str] = Field(default_factory=lambda: ["\n"])
    # The answer scored is the generation cut at the first stop string, stripped of surrounding
    # white space; false: as generated (lm-evaluation-harness scores and filters it so).
    strip: bool = True


# lm-evaluation-harness's fewshot_random_seed (simple_evaluate's default).
LM_EVAL_FEWSHOT_SEED = 1234
# Inline demonstrations (fewshot.rows): a pool written into the task file, not a dataset.
MAX_INLINE_ROWS = 1000


class FewShotSettings(Strict):
    """Where demonstrations come from and how they are drawn.

    ``sampler``:
        ``promptkit``: a seeded draw per example id (the same whatever the batch, order or
            ``--limit``), never the example itself.
        ``lm-eval``: lm-evaluation-harness's ``default`` sampler: one ``random.Random(seed)``
            stream drawn once per evaluated row in split order (row r gets the r-th draw, so
            the demonstrations are lm-eval's whatever ``--limit`` keeps); with
            ``exclude_evaluated`` it draws one more and drops the evaluated row (lm-eval does
            when its few-shot split is its test split, or when neither is set).
        ``first-n``: the first ``shots`` rows of the pool, in order (lm-eval's ``first_n``:
            MMLU's dev examples), the evaluated row left out under ``exclude_evaluated``.
    ``rows``: the pool written inline (lm-eval's ``fewshot_config.samples``) instead of a split.
    """

    split: str = "train"
    # Shots per prompt used by the few-shot method unless the run overrides it.
    shots: int = Field(default=3, ge=0, le=64)
    sampler: Literal["promptkit", "lm-eval", "first-n"] = "promptkit"
    seed: int = LM_EVAL_FEWSHOT_SEED
    exclude_evaluated: bool = False
    rows: list[dict[str, Any]] | None = Field(default=None, min_length=1, max_length=MAX_INLINE_ROWS)

    @model_serializer(mode="wrap")
    def _omit_defaults(self, handler: SerializerFunctionWrapHandler) -> dict[str, Any]:
        data: dict[str, Any] = handler(self)
        if data.get("sampler") == "promptkit":  # tasks written before these settings dump as they did
            for key in ("sampler", "seed", "exclude_evaluated", "rows"):
                data.pop(key, None)
        elif data.get("rows") is None:
            data.pop("rows", None)
        return data


class VerdictSettings(Strict):
    """How a task's verdict is decided (promptkit.analysis.verdict): set in a task file, or for the
    whole run with ``--set verdict.margin=1``, which overrides every task's."""

    # The selection metric the verdict is decided on; None: the task's first metric.
    metric: str | None = None
    # Equivalence margin, in points of the selection metric (0-100 scale): a method whose
    # adjusted interval of (best - method) lies within +-margin is "equivalent" and may be
    # recommended on cost. None: 2.0 points.
    margin: float | None = Field(default=None, ge=0.0, le=100.0)
    # Family-wise error rate of the verdict's comparisons. None: 0.05.
    alpha: float | None = Field(default=None, gt=0.0, lt=0.5)
    # Most forgetting (bits per byte of the forgetting probe, adapted minus base; the mean over
    # seeds) a method may show and still compete: one over it is excluded before the best is
    # chosen. None: forgetting is reported but never decides.
    max_forgetting: float | None = Field(default=None, ge=0.0)


class ForgettingSettings(Strict):
    """The forgetting probe (promptkit.analysis.forgetting): every adapted method's loss on general
    text, minus the base model's. ``--no-forgetting`` turns it off."""

    enabled: bool = True
    # A probe of the run's own: a JSONL file with a `text` field per line, or a text file of
    # paragraphs separated by blank lines. None: the shipped general-English probe.
    text: str | None = Field(default=None, min_length=1)
    # Score only the probe's first N documents (the default's 100 take about 30 s per adapted
    # method for SmolLM2-135M on a 2-core CPU). None: all of them.
    documents: int | None = Field(default=100, ge=2)


# ----------------------------------------------------------------------------- methods
def entry_label(entry: Mapping[str, Any]) -> str:
    """A method entry's label in results and reports: its ``name``, else its ``kind``
    (also for raw entries of a run YAML or results.json, before validation)."""
    return str(entry.get("name") or entry.get("kind", "?"))


class MethodBase(Strict):
    """Settings every method has.

    ``name`` labels the entry in results and reports (default: its kind), so one run can
    compare several configurations of a method, e.g. ``{kind: lora, rank: 64, name: lora-r64}``.
    """

    kind: str
    name: str | None = Field(default=None, pattern=r"^[A-Za-z0-9][A-Za-z0-9_+-]*$", max_length=64)

    @property
    def label(self) -> str:
        return self.name or self.kind  # entry_label's rule, on a validated entry

    @model_serializer(mode="wrap")
    def _omit_default_name(self, handler: SerializerFunctionWrapHandler) -> dict[str, Any]:
        data: dict[str, Any] = handler(self)
        for key in ("name", "tune"):
            if key in data and data[key] is None:
                del data[key]  # results.json stays as it was for unnamed, untuned entries
        return data


class TunableBase(MethodBase):
    """A trained method's settings, plus an optional search space over them.

    ``tune`` maps settings of this method to the values to try, e.g.
    ``{lr: [1e-4, 3e-4, 1e-3], rank: [8, 16]}``; candidates are trained on the train split and
    the best on a dev slice carved from it is evaluated on test (see ``TuningConfig``).
    ``default_space`` is what ``--tune`` searches when an entry declares none: the learning rate
    always, because it decides rankings (PEFT's method comparison moves prompt tuning from 5.7
    to 34.3 on GSM8K by learning rate and init alone), and one structural setting, so that every
    method gets the same number of candidates (6).
    """

    tune: dict[str, list[Any]] | None = None
    default_space: ClassVar[dict[str, list[Any]]] = {}

    @model_validator(mode="after")
    def _check_space(self) -> TunableBase:
        if self.tune is None:
            return self
        settings = sorted(set(type(self).model_fields) - {"kind", "name", "tune"})
        for key, values in self.tune.items():
            if key not in settings:
                close = difflib.get_close_matches(key, settings, n=1)
                hint = f"did you mean {close[0]!r}? " if close else ""
                raise ValueError(f"tune.{key}: not a setting of {self.kind}; {hint}settings: {', '.join(settings)}")
            if not values:
                raise ValueError(f"tune.{key}: give at least one value to try")
        for key, values in self.tune.items():
            for value in values:  # every value must be a valid setting on its own
                self.with_settings({key: value})
        return self

    def with_settings(self, params: Mapping[str, Any]) -> TunableBase:
        """This entry with ``params`` applied and no search space, validated like the entry itself
        (a YAML ``1e-4``, which YAML 1.1 reads as a string, becomes a float)."""
        return type(self).model_validate({**self.model_dump(exclude={"tune"}), **params})

    def space(self, builtin: bool) -> dict[str, list[Any]]:
        """The search space: the entry's own, else the built-in one when ``builtin`` (``--tune``)."""
        if self.tune is not None:
            return dict(self.tune)
        return {k: list(v) for k, v in self.default_space.items()} if builtin else {}


# Bounds of a training budget. Every trained method of a run, every training seed and every
# tuning candidate spends it, and the loop runs to the end before anything is written: a budget
# no one meant (an extra zero, epochs typed as steps) shows only days later. 1,000,000 optimizer
# steps is about the longest published fine-tuning recipe (LoRA's RoBERTa run on MNLI, 30 epochs
# at batch 16, is ~740,000) and days of GPU time even for a 135M model.
MAX_TRAINING_STEPS = 1_000_000
# Passes over the train split: prompt tuning on a few hundred examples uses tens to hundreds;
# ten thousand passes memorise any train split long before they end.
MAX_EPOCHS = 10_000
# Micro-batches per optimizer step: each is a forward and backward pass, so this multiplies the
# cost of a step; an effective batch of 1,024 micro-batches is beyond any fine-tuning recipe.
MAX_GRAD_ACCUM = 1_024
# Candidates one tuned method trains: each candidate is one whole training run with the run's
# budget (the default budget is ~2.5 CPU minutes on the embedded model, a real one an hour on a
# GPU), so 256 of them are already 10 CPU hours or days of GPU time. A wider search samples its
# space (tuning.candidates, or the Optuna sampler) instead of enumerating it.
MAX_TUNING_CANDIDATES = 256
# Bootstrap resamples of a run (RunConfig.bootstrap_samples): the time of every interval and
# paired test grows with it, while beyond ~10^4 resamples the Monte Carlo error of a 95%
# percentile bound is far below the width of the interval itself.
MAX_BOOTSTRAP_SAMPLES = 100_000


class TrainingConfig(Strict):
    """One training budget shared by every trainable method of a run (fair comparison).

    The budget is ``steps`` optimizer steps of ``batch_size * grad_accum`` examples, or
    ``epochs`` passes over the training examples when set. Learning rates are per method.
    """

    # 20 steps of 8 teach a 135M model the answer format of a short-context QA task in ~2.5 CPU
    # minutes, which lets the default run (four methods) fit 10 minutes on a 2-core CPU; a real
    # comparison wants more (--set training.steps=200) and --tune.
    steps: int = Field(default=20, ge=1, le=MAX_TRAINING_STEPS)
    epochs: float | None = Field(default=None, gt=0, le=MAX_EPOCHS)
    batch_size: int = Field(default=8, ge=1)
    grad_accum: int = Field(default=1, ge=1, le=MAX_GRAD_ACCUM)
    warmup_ratio: float = Field(default=0.1, ge=0, lt=1)
    schedule: Literal["linear", "cosine", "constant"] = "linear"
    max_grad_norm: float | None = Field(default=1.0, gt=0)
    max_length: int = Field(default=512, ge=8)
    # Recompute each layer's activations in the backward pass instead of keeping them: less
    # memory for long prompts, about a third more compute. Same losses and gradients.
    gradient_checkpointing: bool = False
    # Training examples used (first N of the seeded shuffle of the train split); None: all.
    train_limit: int | None = Field(default=None, ge=1)
    # Examples held out of the train split for learning curves / early stopping (never test).
    dev_size: int = Field(default=0, ge=0)
    eval_every: int = Field(default=0, ge=0)
    early_stopping_patience: int | None = Field(default=None, ge=1)
    # Checkpoints (trainable weights, optimizer, scheduler, RNG) let `--resume` continue
    # mid-training; they are small because only adapter parameters are saved. 0: none.
    checkpoint_every: int = Field(default=10, ge=0)
    # Training seeds (adapter initialisation, batch order, dropout): each trainable method is
    # trained once per seed on the same examples. None: the run's seed only.
    seeds: list[int] | None = Field(default=None, min_length=1, max_length=32)

    @field_validator("seeds")
    @classmethod
    def _unique_seeds(cls, value: list[int] | None) -> list[int] | None:
        if value is not None and len(set(value)) != len(value):
            raise ValueError(f"seeds listed twice: {sorted({s for s in value if value.count(s) > 1})}")
        return value

    @model_validator(mode="after")
    def _dev_needed(self) -> TrainingConfig:
        if (self.eval_every or self.early_stopping_patience) and self.dev_size == 0:
            raise ValueError("eval_every / early_stopping_patience need dev_size > 0 (examples held out of train)")
        if self.early_stopping_patience and not self.eval_every:
            raise ValueError("early_stopping_patience needs eval_every > 0")
        return self


class TuningConfig(Strict):
    """Selection of each tuned method's settings on a dev split, the same budget for every method.

    Every candidate is trained with the run's training budget on the train split minus a dev
    slice (``dev_size`` examples carved from it, held out for every method of the run so that
    all of them still train on the same examples) and scored on that slice with the task's first
    metric; the best is then trained with every training seed and evaluated on test once. The
    test split is never used for selection.
    """

    # --tune: trained methods without a `tune` space of their own search their built-in one.
    builtin: bool = False
    # Candidates per method. None: the whole grid (at most MAX_TUNING_CANDIDATES of them), and
    # every tuned method's grid must then have the same size; N: N candidates each (a seeded
    # subset of the grid, or N Optuna trials).
    candidates: int | None = Field(default=None, ge=1, le=MAX_TUNING_CANDIDATES)
    # grid: the grid (or a seeded subset); optuna: Optuna's TPE sampler over the listed values
    # (pip install 'promptkit[tune]'), for spaces too large to enumerate.
    sampler: Literal["grid", "optuna"] = "grid"
    dev_size: int = Field(default=50, ge=2)
    # Select on this split of the task instead of a slice of train (e.g. `validation`); never
    # the evaluated split.
    split: str | None = None


# ----------------------------------------------------------------------------- runs
class ModelConfig(Strict):
    # Hub id, local directory, .gguf file, or an alias of an embedded model; None: the default.
    name: str | None = None
    device: str = "auto"
    dtype: Literal["auto", "float32", "bfloat16", "float16"] = "auto"
    # The model's chat template: auto (when it has one), on, off. None: auto, except for a run
    # of lm-evaluation-harness tasks only, which lm-eval prompts without one unless asked
    # (promptkit.run.plan.chat_mode).
    chat_template: Literal["auto", "on", "off"] | None = None
    trust_remote_code: bool = False
    revision: str | None = None
    # QLoRA: the base weights in 4-bit NF4 or 8-bit through bitsandbytes (CUDA only;
    # promptkit.models.quantization).
    quantization: Literal["none", "nf4", "int8"] = "none"
    # Where evaluation runs: transformers (hf), or a vLLM engine (vllm, decoder-only models;
    # training stays on transformers; promptkit.models.vllm) given this share of GPU memory.
    # A name registered in promptkit.models.backends.BACKENDS.
    backend: str = "hf"
    # Attention kernels: auto = FlashAttention 2 on CUDA in bf16/fp16 when flash-attn is
    # installed, else PyTorch's SDPA (promptkit.models.placement).
    attention: Literal["auto", "sdpa", "eager", "flash_attention_2"] = "auto"
    # auto: spread a model larger than one GPU over every visible GPU (accelerate's device map).
    device_map: Literal["none", "auto"] = "none"
    vllm_memory: float = Field(default=0.5, gt=0.0, le=1.0)

    @field_validator("backend")
    @classmethod
    def _known_backend(cls, value: str) -> str:
        from promptkit.models.backends import BACKENDS

        if value not in BACKENDS:
            raise ValueError(f"unknown backend {value!r}; {suggest(value, BACKENDS)}")
        return value


def slug(text: str) -> str:
    """A filesystem-safe version of a name (``qa/short`` -> ``qa-short``)."""
    return re.sub(r"[^A-Za-z0-9_.-]+", "-", text).strip("-") or "x"


def dump(model: BaseModel) -> dict[str, Any]:
    return model.model_dump(mode="json")
