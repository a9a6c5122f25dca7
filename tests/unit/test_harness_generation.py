"""Batched greedy generation (the Hugging Face backends, promptkit.models.hf) on the tiny Llama and T5."""

from __future__ import annotations

from typing import Any

import pytest
import torch
from promptkit.config import GenerationSettings, ModelConfig
from promptkit.harness import Runtime, predict
from promptkit.models import load_model
from promptkit.models.backend import Generation
from promptkit.models.batching import length_sorted_batches
from promptkit.models.hf import encode
from promptkit.models.stopping import count_generated, cut_at_stop
from promptkit.prompting.chat import messages
from promptkit.records import Prompt, Turn

# Very different lengths (1 word to ~70 tokens), so batches of 8 are mostly padding.
TEXTS = [
    "a",
    "who owns the red car ?",
    "context : the red car belongs to anna .\nquestion : who owns the red car ?\nanswer :",
    "translate from english to french .\nenglish : the cat is black\nfrench :",
    " ".join(["the small dog sleeps under the old table and the cat sleeps in the sun ."] * 5),
    "review : a good and happy film\nsentiment :",
    "tom lives in paris and works in berlin . where does tom work ?",
    "the",
    "maria has a green bike and a black cat . what color is the bike of maria ?",
]


def run(lm: Any, texts: list[str] = TEXTS, *, max_new_tokens: int = 8, stop: tuple[str, ...] = (), batch_size: int = 8, chat: bool = False) -> list[Generation]:
    return lm.generate(texts, max_new_tokens=max_new_tokens, stop=list(stop), runtime=Runtime(batch_size=batch_size, chat=chat))


def emit_eos_for(lm: Any, word_id: int) -> None:
    """Make EOS win wherever ``word_id`` would have (its logit doubled on the EOS row)."""
    head = lm.model.get_output_embeddings().weight
    with torch.no_grad():
        head[lm.tokenizer.eos_token_id] = head[word_id] * 2


# ----------------------------------------------------------------------------- the fixture itself
def test_tiny_models_have_separated_greedy_choices(tiny_lm: Any) -> None:
    """Batch-invariance tests mean something only if float noise cannot flip an argmax: the gap
    between the best and second-best logit at every greedy step is far above that noise."""
    tok = tiny_lm.tokenizer
    margins = []
    for text in TEXTS:
        ids = torch.tensor([encode(tok, text, chat=False)])
        with torch.inference_mode():
            out = tiny_lm.model.generate(
                input_ids=ids, attention_mask=torch.ones_like(ids), max_new_tokens=8, do_sample=False,
                output_scores=True, return_dict_in_generate=True, pad_token_id=tok.pad_token_id,
            )
        for step in out.scores:
            top = step[0].topk(2).values
            margins.append(float(top[0] - top[1]))
    assert min(margins) > 1e-3
    outputs = {g.raw for g in run(tiny_lm)}
    assert len(outputs) > 1, "every prompt gets the same output: the tiny model is degenerate"


# ----------------------------------------------------------------------------- determinism, batching
def test_greedy_generation_is_deterministic(tiny_lm: Any) -> None:
    assert run(tiny_lm) == run(tiny_lm)


@pytest.mark.parametrize("batch_size", [2, 3, 8])
def test_batch_size_does_not_change_generations(tiny_lm: Any, batch_size: int) -> None:
    single = run(tiny_lm, batch_size=1)
    assert run(tiny_lm, batch_size=batch_size) == single
    assert all(g.raw for g in single)


def test_left_padding_keeps_short_prompts_unchanged(tiny_llama: Any) -> None:
    """The shortest prompt, batched with one ~70 tokens long, generates what it does alone."""
    short, long = TEXTS[0], TEXTS[4]
    alone = run(tiny_llama, [short], batch_size=1)[0]
    together = run(tiny_llama, [long, short, long], batch_size=3)
    assert together[1] == alone
    assert together[0] == together[2]


def test_results_follow_input_order(tiny_lm: Any) -> None:
    forward = run(tiny_lm, batch_size=4)
    backward = run(tiny_lm, TEXTS[::-1], batch_size=4)
    assert backward == forward[::-1]


def test_no_texts_gives_no_generations(tiny_llama: Any) -> None:
    assert run(tiny_llama, []) == []


# ----------------------------------------------------------------------------- lengths and counts
@pytest.mark.parametrize("max_new_tokens", [1, 3, 7])
def test_max_new_tokens_is_respected(tiny_lm: Any, max_new_tokens: int) -> None:
    """Each row gets ``max_new_tokens`` tokens unless it emits EOS first: its output is then
    exactly what it is with a larger budget."""
    gens = run(tiny_lm, max_new_tokens=max_new_tokens)
    longer = run(tiny_lm, max_new_tokens=12)
    for g, ref in zip(gens, longer, strict=True):
        assert g.output_tokens <= max_new_tokens
        if ref.output_tokens >= max_new_tokens:
            assert g.output_tokens == max_new_tokens
            assert ref.raw.split()[: len(g.raw.split())] == g.raw.split()
        else:  # ended with EOS before the budget
            assert g == ref
    assert sum(g.output_tokens == max_new_tokens for g in gens) >= len(TEXTS) // 2


def test_output_tokens_match_a_direct_generate_call(tiny_llama: Any) -> None:
    tok = tiny_llama.tokenizer
    for text, g in zip(TEXTS, run(tiny_llama, max_new_tokens=5), strict=True):
        ids = torch.tensor([encode(tok, text, chat=False)])
        with torch.inference_mode():
            out = tiny_llama.model.generate(input_ids=ids, attention_mask=torch.ones_like(ids), max_new_tokens=5,
                                            do_sample=False, pad_token_id=tok.pad_token_id)
        new = out[0, ids.shape[1]:].tolist()
        assert g.output_tokens == len(new)
        assert g.raw == tok.decode(new, skip_special_tokens=True)


def test_prompt_tokens_count_the_encoded_prompt(tiny_llama: Any) -> None:
    tok = tiny_llama.tokenizer
    gens = run(tiny_llama, max_new_tokens=2)
    assert [g.prompt_tokens for g in gens] == [len(tok(t)["input_ids"]) for t in TEXTS]
    assert gens[0].prompt_tokens == 2  # BOS + "a"


def test_chat_formatted_text_gets_no_second_bos(tiny_llama: Any) -> None:
    tok = tiny_llama.tokenizer
    chat_text = tok.apply_chat_template([{"role": "user", "content": "who owns the red car ?"}],
                                        add_generation_prompt=True, tokenize=False)
    assert chat_text.startswith(tok.bos_token)
    ids = encode(tok, chat_text, chat=True)
    assert ids.count(tok.bos_token_id) == 1 and ids[0] == tok.bos_token_id
    assert encode(tok, "who", chat=False) == [tok.bos_token_id, tok.convert_tokens_to_ids("who")]


# ----------------------------------------------------------------------------- stop sequences
def test_cut_at_stop() -> None:
    assert cut_at_stop("Paris\nQuestion: next", ["\n"]) == "Paris"
    assert cut_at_stop("a. b\nc", ["\n", "."]) == "a"  # the earliest stop wins, not the first listed
    assert cut_at_stop("no stop here", ["\n"]) == "no stop here"
    assert cut_at_stop("\nleading", ["\n"]) == ""
    assert cut_at_stop("kept", ["", "zzz"]) == "kept"  # empty stop strings are ignored
    assert cut_at_stop("text", []) == "text"


def test_stop_sequence_cuts_the_output(tiny_lm: Any) -> None:
    full = run(tiny_lm, max_new_tokens=8)
    # A word the model really produces mid-output for the first prompt.
    word = full[1].raw.split()[2]
    stopped = run(tiny_lm, max_new_tokens=8, stop=(word,))
    for f, s in zip(full, stopped, strict=True):
        assert word not in s.text.split()
        assert s.text == cut_at_stop(f.raw, [word]).strip()
        if word in f.raw.split():
            # Generation stops at the stop sequence: fewer tokens, raw ends with it.
            assert s.raw.split()[-1] == word
            assert s.output_tokens == f.raw.split().index(word) + 1
        else:
            assert s == f
    assert stopped[1].output_tokens < full[1].output_tokens


def test_stop_sequences_with_batching(tiny_lm: Any) -> None:
    """Rows stop independently; stopped rows are padded while the others go on."""
    word = run(tiny_lm, max_new_tokens=8)[1].raw.split()[2]
    stop = (word, "\n")
    assert run(tiny_lm, stop=stop, batch_size=1) == run(tiny_lm, stop=stop, batch_size=8)


# ----------------------------------------------------------------------------- EOS
@pytest.mark.parametrize("pad_is_eos", [False, True], ids=["pad", "pad=eos"])
def test_eos_ends_a_row_and_is_counted(build_tiny_model: Any, pad_is_eos: bool) -> None:
    """A row that emits EOS stops there (counted, not decoded) and its batch mates go on; this
    also holds when the tokenizer has no pad token and EOS doubles as padding."""
    path = build_tiny_model("llama", pad_token=not pad_is_eos)
    lm = load_model(ModelConfig(name=str(path), device="cpu"))
    assert (lm.tokenizer.pad_token_id == lm.tokenizer.eos_token_id) is pad_is_eos
    base = run(lm, max_new_tokens=8)
    # EOS replaces the 4th word of prompt 1 (and that word wherever else it would be chosen).
    word = base[1].raw.split()[3]
    emit_eos_for(lm, lm.tokenizer.convert_tokens_to_ids(word))
    singles = run(lm, max_new_tokens=8, batch_size=1)
    assert run(lm, max_new_tokens=8, batch_size=8) == singles
    ended = singles[1]
    assert ended.raw == " ".join(base[1].raw.split()[:3])
    assert ended.output_tokens == 4  # three words and the EOS
    assert lm.tokenizer.eos_token not in ended.raw
    assert any(g.output_tokens == 8 for g in singles), "no row ran to max_new_tokens"
    # Stop strings and EOS together: still independent of the batch size.
    stop = (base[0].raw.split()[1],)
    assert run(lm, stop=stop, batch_size=1) == run(lm, stop=stop, batch_size=8)


class _Tok:
    eos_token_id = 1
    pad_token_id = 0


def test_count_generated() -> None:
    tok = _Tok()
    assert count_generated([5, 6, 1, 0, 0], tok) == 3  # up to and including EOS
    assert count_generated([5, 6, 7], tok) == 3
    assert count_generated([5, 6, 0, 0], tok) == 2  # trailing padding is not output


# ----------------------------------------------------------------------------- batching helpers
def test_length_sorted_batches_cover_every_index_once() -> None:
    lengths = [3, 10, 1, 7, 7, 2, 9]
    batches = list(length_sorted_batches(lengths, 3))
    assert sorted(i for b in batches for i in b) == list(range(len(lengths)))
    assert [len(b) for b in batches] == [3, 3, 1]
    assert batches[0] == [1, 6, 3]  # longest first, ties in index order
    flat = [lengths[i] for b in batches for i in b]
    assert flat == sorted(lengths, reverse=True)
    assert list(length_sorted_batches([], 4)) == []


def test_progress_is_reported_up_to_the_total(tiny_llama: Any) -> None:
    calls: list[tuple[str, int, int]] = []
    runtime = Runtime(batch_size=4, progress=lambda label, done, total: calls.append((label, done, total)))
    tiny_llama.generate(TEXTS, max_new_tokens=2, stop=[], runtime=runtime)
    assert [c[1] for c in calls] == list(range(1, len(TEXTS) + 1))  # the running batch reports each row as it stops
    calls.clear()
    tiny_llama.generate_fixed_batches(TEXTS, max_new_tokens=2, stop=[], runtime=runtime)
    assert [c[1] for c in calls] == [4, 8, 9]
    assert calls[-1] == ("generate", len(TEXTS), len(TEXTS))


# ----------------------------------------------------------------------------- predict(): generation
PROMPT = Prompt(
    example_id="q1",
    template="t",
    instruction="answer the question .",
    shots=(Turn("question : who owns the white boat ?\nanswer :", "tom"),),
    query="question : who owns the red car ?\nanswer :",
    target="anna",
    references=("anna",),
)


def test_predict_generation_plain_formatting(tiny_llama: Any) -> None:
    settings = GenerationSettings(max_new_tokens=4, stop=["\n"])
    (pred,) = predict(tiny_llama, [PROMPT], settings, Runtime(chat=False))
    assert pred.prompt == PROMPT.text
    (gen,) = tiny_llama.generate([PROMPT.text], max_new_tokens=4, stop=["\n"], runtime=Runtime())
    assert (pred.output, pred.raw_output, pred.prompt_tokens, pred.output_tokens) == (
        gen.text, gen.raw, gen.prompt_tokens, gen.output_tokens,
    )
    assert pred.example_id == "q1" and pred.references == ("anna",)
    assert pred.choices == () and pred.predicted_label is None


def test_predict_generation_chat_formatting(tiny_llama: Any) -> None:
    settings = GenerationSettings(max_new_tokens=4, stop=["\n"])
    (pred,) = predict(tiny_llama, [PROMPT], settings, Runtime(chat=True))
    expected = tiny_llama.tokenizer.apply_chat_template(messages(PROMPT), add_generation_prompt=True, tokenize=False)
    assert pred.prompt == expected
    assert pred.prompt.endswith("<|assistant|>\n")
    assert "<|user|>\nanswer the question .\n\nquestion : who owns the white boat ?" in pred.prompt
    (gen,) = tiny_llama.generate([expected], max_new_tokens=4, stop=["\n"], runtime=Runtime(chat=True))
    assert pred.output == gen.text and pred.output_tokens == gen.output_tokens
    assert pred.prompt_tokens == len(encode(tiny_llama.tokenizer, expected, chat=True))
    plain = predict(tiny_llama, [PROMPT], settings, Runtime(chat=False))[0]
    assert plain.prompt != pred.prompt


def test_predict_on_t5(tiny_t5: Any) -> None:
    settings = GenerationSettings(max_new_tokens=3, stop=[])
    preds = predict(tiny_t5, [PROMPT, PROMPT], settings, Runtime(batch_size=2))
    assert preds[0] == preds[1]
    assert preds[0].output_tokens == 3
    assert preds[0].prompt_tokens == len(tiny_t5.tokenizer(PROMPT.text)["input_ids"])


# ----------------------------------------------------------------------------- stop detection on a tail
def byte_level_tokenizer() -> Any:
    """A small byte-level BPE (GPT-2 / SmolLM style): a stop sequence can span several tokens and
    a multi-byte character can be split across tokens."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    raw = Tokenizer(models.BPE())
    raw.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    raw.decoder = decoders.ByteLevel()
    corpus = ["Answer: the café is open.\n\n### Question: où est le 漢字 ?", "answer: yes\n", "### é. é. ###"] * 20
    trainer = trainers.BpeTrainer(vocab_size=300, special_tokens=["<eos>"], initial_alphabet=pre_tokenizers.ByteLevel.alphabet())
    raw.train_from_iterator(corpus, trainer)
    return PreTrainedTokenizerFast(tokenizer_object=raw, eos_token="<eos>")


def test_stop_scan_on_the_tail_finds_every_stop_where_decoding_the_whole_row_does() -> None:
    """Brute force over random token sequences: the step at which the tail scan first says
    'finished' is the step at which the decoded whole row first contains a stop sequence."""
    import random

    from promptkit.models.decoding import StopScan

    tok = byte_level_tokenizer()
    stop = ["\n\n", "###", "é.", "Answer:", "漢"]
    scan = StopScan(tok, stop, {tok.eos_token_id})
    rng = random.Random(0)
    pieces = [tok.encode(s, add_special_tokens=False) for s in ["\n", "#", "é", ".", "Answer", ":", "漢字", " the", "x"]]
    byte_ids = list(range(len(tok)))
    checked = found = 0
    for _ in range(400):
        row: list[int] = []
        for _ in range(rng.randint(1, 12)):
            row += rng.choice(pieces) if rng.random() < 0.8 else [rng.choice(byte_ids)]
        whole = next((n for n in range(1, len(row) + 1)
                      if any(s in tok.decode(row[:n], skip_special_tokens=True) for s in stop) or row[n - 1] == tok.eos_token_id), None)
        tail = next((n for n in range(1, len(row) + 1) if scan.finished(row[:n])), None)
        assert tail == whole, (row, tok.decode(row))
        checked += 1
        found += whole is not None
    assert checked == 400 and 50 < found < 390, "the sample mixes rows that stop and rows that do not"
    assert max(len(p) for p in pieces) > 1 and any(len(tok.encode(s, add_special_tokens=False)) > 1 for s in stop)


def test_a_character_cut_by_the_token_budget_is_dropped_not_replaced() -> None:
    """Byte-level tokens of '漢字' stopped mid-character decode to U+FFFD; the text keeps whole
    characters only. A complete text, and a U+FFFD the tokens really spell, are left alone."""
    from promptkit.models.stopping import whole_characters

    tok = byte_level_tokenizer()
    ids = tok.encode("où est le 漢字", add_special_tokens=False)
    cuts = [n for n in range(1, len(ids) + 1) if tok.decode(ids[:n]).endswith("\ufffd")]
    assert cuts, "the tokenizer spells a CJK character with several tokens"
    for n in range(1, len(ids) + 1):
        text = whole_characters(tok, ids[:n])
        assert "\ufffd" not in text
        assert "où est le 漢字".startswith(text) and tok.decode(ids[:n]).startswith(text)
    assert whole_characters(tok, ids) == "où est le 漢字"
    literal = tok.encode("ok \ufffd", add_special_tokens=False)
    assert whole_characters(tok, literal) == "ok \ufffd"
