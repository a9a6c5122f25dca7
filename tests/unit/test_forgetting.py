"""The forgetting probe (promptkit.analysis.forgetting): checked against a direct computation with
the model's own forward pass, against exact identities (a method that changes nothing forgets
exactly 0), and its interval by simulation with a known truth."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from helpers import make_method, make_trainable, qa_prompt
from promptkit.analysis.forgetting import (
    PROBE_MAX_WINDOW,
    Probe,
    ProbeRun,
    default_probe_path,
    forgetting,
    ratio_interval,
    read_probe,
    score_probe,
)
from promptkit.errors import ConfigError
from promptkit.harness import Runtime
from promptkit.models.decoding import rolling_windows

TEXTS = (
    "the old cat sleeps on the red table .",
    "anna lives in paris and works in berlin .",
    "tom bought a small blue car in the summer .",
    "the dog and the cat love the sea .",
    "maria wrote a good book about rome .",
    "who owns the big house ? leo owns it .",
)
PROBE = Probe("toy", TEXTS)
TRAIN = [qa_prompt(i, f"{name} owns the {thing} .", f"who owns the {thing} ?", name)
         for i, (name, thing) in enumerate([("anna", "car"), ("tom", "bike"), ("leo", "boat"), ("maria", "house")] * 2)]


def untrained(kind: str, lm: Any) -> Any:
    """A trainable method with its adaptation built and not trained (as at initialisation)."""
    method = make_trainable(kind, lm)
    method.adaptation_ = method.adapt(TRAIN)
    return method


def direct_logprobs(module: Any, tokenizer: Any, texts: tuple[str, ...]) -> list[tuple[float, int]]:
    """Each text's summed log-probability by hand, as lm-eval reads a rolling document that fits
    the context: one forward pass over [BOS] + the text's tokens (no special tokens), labels the
    inputs shifted by one (a soft prompt's virtual positions, in front, are cut from the logits)."""
    import torch

    out = []
    for text in texts:
        tokens = tokenizer(text, add_special_tokens=False)["input_ids"]
        ids = [tokenizer.bos_token_id, *tokens]
        x = torch.tensor([ids])
        with torch.no_grad():
            logits = module(input_ids=x, attention_mask=torch.ones_like(x)).logits[:, -len(ids):]
        logprobs = torch.log_softmax(logits.float(), dim=-1)[0]
        out.append((sum(float(logprobs[i - 1, ids[i]]) for i in range(1, len(ids))), len(tokens)))
    return out


def test_the_probe_scores_equal_a_direct_computation_and_the_figure_their_difference(fresh: Any) -> None:
    lm = fresh()
    runtime = Runtime(batch_size=4)
    run = ProbeRun(PROBE)
    base = run.base(lm, runtime)
    by_hand_base = direct_logprobs(lm.model, lm.tokenizer, TEXTS)
    for s, (lp, n) in zip(base, by_hand_base, strict=True):
        assert s.tokens == n
        assert s.logprob == pytest.approx(lp, abs=1e-4)
    method = make_trainable("lora", lm)
    method.fit(TRAIN)
    figure = run.measure(method)
    with method.applied() as adapted:
        by_hand_adapted = direct_logprobs(adapted.module, lm.tokenizer, TEXTS)
    method.release()
    size = sum(len(t.encode("utf-8")) for t in TEXTS)
    lost = sum(b[0] - a[0] for b, a in zip(by_hand_base, by_hand_adapted, strict=True))
    assert figure.delta_bits_per_byte == pytest.approx(lost / size / math.log(2), abs=1e-5)
    assert figure.delta_bits_per_byte != 0.0  # two steps of LoRA moved the weights
    assert figure.delta_nats_per_token == pytest.approx(lost / sum(n for _, n in by_hand_base), abs=1e-5)
    assert figure.base_bits_per_byte == pytest.approx(-sum(lp for lp, _ in by_hand_base) / size / math.log(2), abs=1e-5)
    assert figure.bits_per_byte - figure.base_bits_per_byte == pytest.approx(figure.delta_bits_per_byte, abs=1e-9)
    assert figure.ci_low < figure.delta_bits_per_byte < figure.ci_high
    assert (figure.documents, figure.bytes) == (len(TEXTS), size)


def test_a_method_that_changes_nothing_forgets_exactly_zero(fresh: Any) -> None:
    lm = fresh()
    run = ProbeRun(PROBE)
    run.base(lm, Runtime(batch_size=4))
    zero = run.measure(make_method("zero-shot", lm))
    assert (zero.delta_bits_per_byte, zero.ci_low, zero.ci_high, zero.delta_nats_per_token) == (0.0, 0.0, 0.0, 0.0)
    # LoRA before any step is the identity (B = 0): nothing forgotten, to float precision
    lora = untrained("lora", lm)
    figure = run.measure(lora)
    lora.release()
    assert abs(figure.delta_bits_per_byte) < 1e-6


def test_the_base_is_the_base_model_not_a_soft_prompt_at_initialisation(fresh: Any) -> None:
    """Prompt tuning at initialisation is not the identity (PEFT's #3419: fake negative forgetting
    when the baseline was measured through it): its untrained figure is not 0, and the base
    scores are those of the bare model."""

    lm = fresh()
    run = ProbeRun(PROBE)
    base = run.base(lm, Runtime(batch_size=4))
    pt = untrained("prompt-tuning", lm)
    figure = run.measure(pt)
    pt.release()
    assert abs(figure.delta_bits_per_byte) > 1e-3
    bare = direct_logprobs(lm.model, lm.tokenizer, TEXTS)
    assert [s.logprob for s in base] == pytest.approx([lp for lp, _ in bare], abs=1e-4)


def test_the_ratio_interval_covers_a_known_truth_at_its_level() -> None:
    """Documents of random length whose loss difference is proportional to their bytes plus noise:
    the true figure is E[d] / E[b]; the delta-method interval covers it about 95% of the time."""
    rng = np.random.default_rng(7)
    truth, n, sims, hits = 0.05, 30, 2000, 0
    for _ in range(sims):
        size = rng.integers(100, 900, n).astype(float)
        diff = truth * size + rng.normal(0, 1, n) * np.sqrt(size) * 0.3
        r, lo, hi = ratio_interval(diff, size)
        assert r == pytest.approx(diff.sum() / size.sum())
        hits += lo <= truth <= hi
    assert 0.93 <= hits / sims <= 0.97, hits / sims


def test_the_ratio_interval_matches_scipys_t_interval_when_every_unit_has_the_same_size() -> None:
    from scipy import stats

    diff = np.array([0.3, -0.1, 0.25, 0.4, 0.05, 0.2, -0.05])
    size = np.full(len(diff), 2.0)
    r, lo, hi = ratio_interval(diff, size)
    ref = stats.t.interval(0.95, len(diff) - 1, loc=np.mean(diff / 2), scale=stats.sem(diff / 2))
    assert (r, lo, hi) == pytest.approx((np.mean(diff / 2), *ref))


def test_the_shipped_probe_reads_and_carries_its_licence() -> None:
    probe = read_probe()
    assert len(probe.texts) == 300 and all(len(t) > 80 for t in probe.texts)
    folder = default_probe_path().parent
    readme = (folder / "README.md").read_text(encoding="utf-8")
    assert "CC BY-SA 4.0" in readme and "FLORES-200" in readme
    assert len(read_probe(documents=10).texts) == 10


@pytest.mark.parametrize(("name", "text", "message"), [
    ("p.jsonl", '{"text": "one"}\nnot json\n', "p.jsonl:2: not JSON"),
    ("p.jsonl", '{"text": "one"}\n{"body": "two"}\n', "p.jsonl:2: text: expected an object with a 'text' string"),
    ("p.txt", "only one paragraph\nin two lines\n", "has 1 non-empty document(s); at least 2"),
])
def test_a_bad_probe_is_refused_naming_the_file_and_line(tmp_path: Path, name: str, text: str, message: str) -> None:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError) as info:
        read_probe(path)
    assert message in str(info.value)


def test_a_text_probe_is_split_at_blank_lines(tmp_path: Path) -> None:
    path = tmp_path / "probe.txt"
    path.write_text("first line\nstill first\n\n\nsecond\n", encoding="utf-8")
    assert read_probe(path).texts == ("first line still first", "second")
    with pytest.raises(ConfigError, match="forgetting probe not found"):
        read_probe(tmp_path / "missing.txt")


def test_each_document_is_read_after_the_start_token_in_windows_that_leave_room_for_virtual_tokens(
        tiny_llama: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    scores = score_probe(tiny_llama, PROBE, Runtime(batch_size=4))
    plain = direct_logprobs(tiny_llama.model, tiny_llama.tokenizer, TEXTS)
    assert [s.logprob for s in scores] == pytest.approx([lp for lp, _ in plain], abs=1e-4)
    with pytest.raises(ValueError, match="one base and one adapted score"):
        forgetting(PROBE, scores, scores[:-1])
    seen: list[int | None] = []
    real = type(tiny_llama).loglikelihood_rolling

    def spy(self: Any, texts: Any, runtime: Any, max_length: int | None = None) -> Any:
        seen.append(max_length)
        return real(self, texts, runtime, max_length)

    monkeypatch.setattr(type(tiny_llama), "loglikelihood_rolling", spy)
    ProbeRun(PROBE, reserve=4).base(tiny_llama, Runtime(batch_size=4))
    monkeypatch.setattr(type(tiny_llama), "context_length", property(lambda self: 1 << 20))
    score_probe(tiny_llama, PROBE, Runtime(batch_size=4))
    assert seen == [tiny_llama.model.config.max_position_embeddings - 4, PROBE_MAX_WINDOW]


@pytest.mark.parametrize("max_len", [1, 2, 3, 5, 8])
@pytest.mark.parametrize("n", [1, 4, 8, 9, 17, 40])
def test_rolling_windows_predict_every_token_once_from_the_tokens_before_it(max_len: int, n: int) -> None:
    tokens = list(range(100, 100 + n))
    windows = rolling_windows(tokens, prefix=7, max_len=max_len)
    assert [t for _, cont in windows for t in cont] == tokens  # every token predicted once, in order
    assert windows[0][0] == [7] and len(windows[0][1]) == min(max_len, n)
    done = len(windows[0][1])
    for ctx, cont in windows[1:]:
        read = ctx + cont[:-1]
        end = done + len(cont)
        assert len(read) == max_len and read == tokens[end - max_len - 1 : end - 1]  # a full window of what precedes
        done = end
    assert rolling_windows([], prefix=7, max_len=max_len) == []


def test_a_text_longer_than_the_context_is_scored_window_by_window(fresh: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """Brute force: each token's log-probability by its own forward pass over exactly what lm-eval's
    windows let it see (the start token and everything before it in the first window; after that,
    the context-length tokens before the window's last), summed."""
    import torch

    lm = fresh()
    length = 6
    monkeypatch.setattr(type(lm), "context_length", property(lambda self: length))
    text = "anna lives in paris and works in berlin . tom bought a small blue car in the summer ."
    tokens = lm.tokenizer(text, add_special_tokens=False)["input_ids"]
    total = 0.0
    for g, token in enumerate(tokens):
        if g < length:
            seen = [lm.tokenizer.bos_token_id, *tokens[:g]]
        else:
            end = min(length + ((g - length) // length + 1) * length, len(tokens))  # the end of g's window
            seen = tokens[end - length - 1 : g]
        x = torch.tensor([seen])
        with torch.no_grad():
            logits = lm.model(input_ids=x, attention_mask=torch.ones_like(x)).logits[0, -1]
        total += float(torch.log_softmax(logits.float(), dim=-1)[token])
    (score,) = lm.loglikelihood_rolling([text], Runtime(batch_size=3))
    assert score.tokens == len(tokens) > 2 * length
    assert score.logprob == pytest.approx(total, abs=1e-4)
