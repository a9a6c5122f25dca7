"""The forgetting probe: did adapting a model make it worse at text outside the task?

Each document of a general-text probe is scored by the base model and by the adapted model (the
soft prompt or adapter applied exactly as at evaluation), as the log-likelihood of the whole
document the way lm-evaluation-harness scores a ``loglikelihood_rolling`` request (the backend's
``loglikelihood_rolling``: after the BOS token, in windows of the model's context), so every token
of the document is predicted from the tokens before it: the labels are the inputs shifted by one,
which is the lesson of PEFT's fix #3419. The base figure comes from the base
model itself, never from the adapted model at initialisation (a soft prompt is not the identity
there). The figure is the difference in bits per UTF-8 byte (and in mean token cross-entropy),
adapted minus base, with a paired interval over documents: a ratio of sums, so its interval is the
delta method's (t quantiles at ``documents - 1`` degrees of freedom), which no resampling seed moves.

A probe is a JSONL file with a ``text`` field on every line, or a plain text file whose
paragraphs are separated by blank lines. promptkit ships one (``tasks/data/forgetting_probe``:
300 paragraphs of Wikinews, Wikivoyage and Wikibooks through FLORES-200, CC BY-SA 4.0).
"""

from __future__ import annotations

import json
import math
import time
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np

from promptkit.errors import ConfigError, Problem
from promptkit.files import FileRefused, read_text
from promptkit.metrics.inference import cluster_mean
from promptkit.models.backend import LogLikelihood
from promptkit.records import Forgetting

PROBE_FILE = "paragraphs.jsonl"
# Longest window a probe document is read in: a window is scored with a vocabulary-wide row per
# token (1,024 tokens x 49,152 x 4 bytes = 200 MB a row of the batch for SmolLM2).
PROBE_MAX_WINDOW = 1024
MAX_PROBE_BYTES = 64 * 1024 * 1024
MIN_DOCUMENTS = 2


@dataclass(frozen=True)
class Probe:
    """The documents of a probe and the name they are reported under."""

    name: str
    texts: tuple[str, ...]

    @property
    def bytes(self) -> list[int]:
        return [len(t.encode("utf-8")) for t in self.texts]


def default_probe_path() -> Path:
    from promptkit.tasks.catalog import builtin_dir

    return builtin_dir("tasks") / "data" / "forgetting_probe" / PROBE_FILE


def read_probe(path: str | Path | None = None, documents: int | None = None) -> Probe:
    """The probe at ``path`` (None: the shipped one), its first ``documents`` documents.

    Raises:
        ConfigError: naming the file, the line and what would be accepted.
    """
    file = Path(path) if path is not None else default_probe_path()
    where = str(file)
    try:
        text = read_text(file, "a forgetting probe", MAX_PROBE_BYTES)
    except FileNotFoundError:
        raise ConfigError([Problem("forgetting probe not found; forgetting.text names a JSONL file with a "
                                   "'text' field per line or a text file of paragraphs separated by blank lines",
                                   where, key="forgetting.text")]) from None
    except (FileRefused, OSError, UnicodeDecodeError) as exc:
        raise ConfigError([Problem(f"cannot read the forgetting probe: {exc}", where, key="forgetting.text")]) from exc
    texts = _jsonl_texts(text, where) if file.suffix == ".jsonl" else _paragraphs(text)
    if documents is not None:
        texts = texts[:documents]
    if len(texts) < MIN_DOCUMENTS:
        raise ConfigError([Problem(f"the forgetting probe has {len(texts)} non-empty document(s); at least "
                                   f"{MIN_DOCUMENTS} are needed for an interval", where, key="forgetting.text")])
    name = "default (Wikinews, Wikivoyage, Wikibooks via FLORES-200)" if path is None else file.name
    return Probe(name, tuple(texts))


def _jsonl_texts(text: str, where: str) -> list[str]:
    texts: list[str] = []
    for n, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError as exc:
            raise ConfigError([Problem(f"not JSON ({exc.msg}); each line holds an object with a 'text' field",
                                       where, n)]) from None
        value = row.get("text") if isinstance(row, dict) else None
        if not isinstance(value, str):
            raise ConfigError([Problem("expected an object with a 'text' string on every line", where, n, "text")])
        if value.strip():
            texts.append(value)
    return texts


def _paragraphs(text: str) -> list[str]:
    blocks, current = [], []
    for line in text.splitlines():
        if line.strip():
            current.append(line.strip())
        elif current:
            blocks.append(" ".join(current))
            current = []
    if current:
        blocks.append(" ".join(current))
    return blocks


def score_probe(lm: Any, probe: Probe, runtime: Any, reserve: int = 0) -> list[LogLikelihood]:
    """Every document's log-likelihood under ``lm`` (base or adapted): plain text, read as lm-eval
    reads a ``loglikelihood_rolling`` document (the backend's ``loglikelihood_rolling``: after the
    BOS token, in windows of the model's context), each window at most ``PROBE_MAX_WINDOW`` tokens
    and ``reserve`` fewer than the context (the run's most virtual tokens: a soft prompt goes in
    front of every window, and base and adapted models read the same windows)."""
    limit = lm.context_length
    window = min(PROBE_MAX_WINDOW, limit - reserve) if limit else PROBE_MAX_WINDOW
    return list(lm.loglikelihood_rolling(list(probe.texts), runtime, max_length=window))


def ratio_interval(num: Sequence[float], den: Sequence[float], confidence: float = 0.95) -> tuple[float, float, float]:
    """``sum(num) / sum(den)`` over paired units and its delta-method interval: the standard error
    of the linearised terms ``(num_i - r den_i) / mean(den)``, t quantiles at ``n - 1`` degrees."""
    a = np.asarray(num, dtype=float)
    b = np.asarray(den, dtype=float)
    n = len(a)
    if n < MIN_DOCUMENTS or b.sum() <= 0:
        raise ValueError(f"a ratio interval needs at least {MIN_DOCUMENTS} units and a positive denominator")
    r = float(a.sum() / b.sum())
    # the t interval of a mean (promptkit.metrics.inference), centred on the ratio: one row per
    # document gives n - 1 degrees of freedom and se = sd / sqrt(n); a point when every term is 0
    linearised = cluster_mean((a - r * b) / b.mean())
    low, high = replace(linearised, estimate=r).interval(1.0 - confidence)
    return r, low, high


def forgetting(probe: Probe, base: Sequence[LogLikelihood], adapted: Sequence[LogLikelihood],
               confidence: float = 0.95) -> Forgetting:
    """Adapted minus base, per byte (bits) and per token (nats), paired over documents."""
    if len(base) != len(probe.texts) or len(adapted) != len(probe.texts):
        raise ValueError("one base and one adapted score per probe document")
    size = probe.bytes
    tokens = [s.tokens for s in base]
    diff = [b.logprob - a.logprob for b, a in zip(base, adapted, strict=True)]  # nats lost per document
    ln2 = math.log(2)
    total_bytes, total_tokens = sum(size), sum(tokens)
    delta, lo, hi = ratio_interval(diff, size, confidence)
    ce, ce_lo, ce_hi = ratio_interval(diff, tokens, confidence)
    return Forgetting(
        probe=probe.name, documents=len(size), tokens=total_tokens, bytes=total_bytes,
        base_bits_per_byte=-sum(s.logprob for s in base) / total_bytes / ln2,
        bits_per_byte=-sum(s.logprob for s in adapted) / total_bytes / ln2,
        delta_bits_per_byte=delta / ln2, ci_low=lo / ln2, ci_high=hi / ln2,
        delta_nats_per_token=ce, ce_ci_low=ce_lo, ce_ci_high=ce_hi, confidence=confidence,
    )


class ProbeRun:
    """A run's probe with the base model's scores, computed once, on the base model itself,
    before the first adapted cell (never on an adapted model at initialisation)."""

    def __init__(self, probe: Probe, reserve: int = 0):
        self.probe = probe
        self.reserve = reserve  # the run's most virtual tokens (score_probe)
        self._base: list[LogLikelihood] | None = None

    def base(self, lm: Any, runtime: Any) -> list[LogLikelihood]:
        if self._base is None:
            self._base = score_probe(lm, self.probe, runtime, self.reserve)
        return self._base

    def measure(self, method: Any) -> Forgetting:
        """The figure of a fitted method: the probe scored with its adaptation applied."""
        if self._base is None:
            raise RuntimeError("the base model's probe scores are computed before the method is built")
        start = time.perf_counter()
        with method.applied() as lm:
            adapted = score_probe(lm, self.probe, method.runtime, self.reserve)
        return replace(forgetting(self.probe, self._base, adapted), seconds=round(time.perf_counter() - start, 3))


def run_probe(settings: Any, method_classes: Sequence[Any]) -> Probe | None:
    """The probe a run reads (None: turned off, or no method adapts the model)."""
    if not settings.enabled or not any(cls.adapts for cls in method_classes):
        return None
    return read_probe(settings.text, settings.documents)


def probe_run(probe: Probe | None, lm: Any, reserve: int = 0) -> ProbeRun | None:
    """The run's probe on its model (None: turned off, or a model without a plain-text
    likelihood: only a decoder-only model reads a document token by token from its start).
    ``reserve``: the most virtual tokens of the run's methods."""
    if probe is None or getattr(lm, "peft_task_type", None) != "CAUSAL_LM":
        return None
    return ProbeRun(probe, reserve)
