"""The model backend contract: what the harness, the methods and the training loop may ask of a model.

The request verbs follow lm-evaluation-harness (``generate_until``, ``loglikelihood``): a backend
turns texts into token ids (:meth:`LanguageModel.encode`), greedy continuations
(:meth:`~LanguageModel.generate`) and continuation log-probabilities
(:meth:`~LanguageModel.loglikelihood`), batching as it sees fit; results never depend on the
batch. Training asks for two more things, because only the backend knows how its architecture
learns from a prompt/target pair: :meth:`~LanguageModel.training_examples` and
:meth:`~LanguageModel.collate`.

A method changes the model through an :class:`Adaptation`, applied by
:meth:`LanguageModel.adapted` for the length of a ``with`` block: the block sees the adapted model,
and the shared base model is as it was afterwards. A soft prompt is described to the backend
(:class:`SoftPrompt`) rather than placed by the method, since where virtual tokens go relative to
padding is a property of the backend's batching.
"""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import Any, Literal, Protocol, runtime_checkable

from promptkit.models.batching import Runtime
from promptkit.records import Prompt

# Label id the loss ignores (prompt tokens, padding): PyTorch's cross-entropy default.
IGNORE = -100


@dataclass(frozen=True)
class Generation:
    text: str  # cut at the first stop sequence, stripped
    raw: str  # everything generated (special tokens removed)
    prompt_tokens: int
    output_tokens: int


@dataclass(frozen=True)
class LogLikelihood:
    logprob: float  # summed over the continuation's tokens
    tokens: int
    greedy: bool  # every continuation token is the argmax (lm-eval's "is_greedy")


@dataclass(frozen=True)
class TrainingExample:
    input_ids: list[int]
    labels: list[int]  # causal: same length as input_ids, IGNORE on prompt tokens; seq2seq: target ids


@runtime_checkable
class SoftPrompt(Protocol):
    """Virtual tokens in front of every input (prompt tuning, P-tuning, prefix tuning).

    ``placement``: ``embeddings`` (vectors spliced in front of the input embeddings) or
    ``cache`` (a key/value prefix in every attention layer). ``virtual(batch_size)`` returns
    ``[batch, num_virtual_tokens, hidden]`` embeddings or the key/value cache.
    """

    num_virtual_tokens: int
    placement: Literal["embeddings", "cache"]

    def virtual(self, batch_size: int) -> Any: ...


class Adaptation:
    """How a method changes the model, in terms a backend understands.

    Attributes:
        module: the torch module that computes the adapted model (a PEFT wrapper, a private
            copy for full fine-tuning). Training minimises the backend's
            ``training_loss(module, batch)``; inference runs it unless the backend places
            ``soft_prompt`` itself.
        soft_prompt: virtual tokens the backend places at inference, or None.

    ``attach``/``detach`` run on entering and leaving the outermost
    :meth:`LanguageModel.adapted` block (predicting the dev slice during training nests one):
    an adaptation that changes modules of the shared base in place (LoRA layers) switches them
    on and off there. ``remove`` takes it off the base for good.
    """

    def __init__(self, module: Any, soft_prompt: SoftPrompt | None = None):
        self.module = module
        self.soft_prompt = soft_prompt
        self._depth = 0

    def enter(self) -> None:
        """Called by backends on entering ``adapted``."""
        if self._depth == 0:
            self.attach()
        self._depth += 1

    def exit(self) -> None:
        """Called by backends on leaving ``adapted``."""
        self._depth -= 1
        if self._depth == 0:
            self.detach()

    def attach(self) -> None:
        return None

    def detach(self) -> None:
        return None

    def remove(self) -> None:
        return None


@runtime_checkable
class LanguageModel(Protocol):
    """A loaded model: the contract every backend implements.

    Attributes:
        name / source / origin: what the user asked for, what was loaded, where it came from.
        model: the base torch module (methods wrap it; they never replace it).
        tokenizer: its tokenizer (chat templates, soft-prompt init text).
        device / dtype: where and in what precision it runs.
        can_generate: free-text generation works (a masked LM can only score).
        fills_masks: scores cloze prompts (``{{ mask }}``) at the answer slot (masked LMs).
        supports_cache_prefix: a key/value prefix reaches generation (prefix tuning).
        peft_task_type: PEFT's ``TaskType`` name for this architecture.
        adaptation: the adaptation this view runs with (None: the base model).
        is_encoder_decoder: the prompt is an encoder input with positions of its own.
        context_length: positions the model reads (None: no fixed limit).
    """

    name: str
    source: str
    origin: str
    model: Any
    tokenizer: Any
    device: str
    dtype: Any
    adaptation: Adaptation | None
    fills_masks: bool
    is_encoder_decoder: bool

    @property
    def can_generate(self) -> bool: ...

    @property
    def supports_cache_prefix(self) -> bool: ...

    @property
    def peft_task_type(self) -> str: ...

    @property
    def context_length(self) -> int | None: ...

    @property
    def module(self) -> Any:
        """What runs: the adaptation's module inside :meth:`adapted`, else the base model."""
        ...

    def encode(self, text: str, *, chat: bool) -> list[int]: ...

    def generate(self, texts: Sequence[str], *, max_new_tokens: int, stop: Sequence[str], runtime: Runtime) -> list[Generation]: ...

    def loglikelihood(self, contexts: Sequence[str], continuations: Sequence[str], runtime: Runtime) -> list[LogLikelihood]: ...

    def loglikelihood_rolling(self, texts: Sequence[str], runtime: Runtime, max_length: int | None = None) -> list[LogLikelihood]: ...

    def adapted(self, adaptation: Adaptation) -> AbstractContextManager[LanguageModel]: ...

    def training_examples(self, prompts: Sequence[Prompt], *, chat: bool, max_length: int) -> list[TrainingExample]: ...

    def collate(self, examples: Sequence[TrainingExample]) -> dict[str, Any]: ...

    def loss_tokens(self, batch: dict[str, Any]) -> int: ...

    def training_loss(self, module: Any, batch: dict[str, Any]) -> Any: ...

    def describe(self) -> dict[str, Any]: ...

    def take_notes(self) -> list[str]:
        """What the backend did differently since the last call (a request it could not serve
        and handed to another path, say), one line each; read once, then forgotten."""
        ...
