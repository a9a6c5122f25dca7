"""Shared test set-up: an offline environment and tiny models built in memory.

The tiny models are real transformers checkpoints (a 2-layer Llama, a 2-layer T5 and a 2-layer
BERT masked LM) with a word-level tokenizer, written with ``save_pretrained`` to a temporary directory so that
``promptkit.models.load_model(ModelConfig(name=str(dir)))`` exercises the "local directory" path.
They are built from a fixed seed in well under a second and never touch the network.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

# Before anything imports transformers / huggingface_hub: nothing may try the network.
os.environ["HF_HUB_OFFLINE"] = "1"
os.environ["TRANSFORMERS_OFFLINE"] = "1"
os.environ["HF_DATASETS_OFFLINE"] = "1"
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

# tests/helpers.py (shared plain functions) is imported as ``helpers``: its folder, this one, on sys.path.
if str(Path(__file__).resolve().parent) not in sys.path:
    sys.path.insert(0, str(Path(__file__).resolve().parent))

PAD, EOS, UNK, BOS = "<pad>", "</s>", "<unk>", "<s>"
CLS, SEP, MASK = "[CLS]", "[SEP]", "[MASK]"  # the masked LM's own, after every other id
CHAT_TOKENS = ("<|user|>", "<|assistant|>", "<|end|>")
# A small chat template in the usual shape: BOS, one block per turn, then the assistant header.
CHAT_TEMPLATE = (
    "{{ bos_token }}{% for m in messages %}<|{{ m['role'] }}|>\n{{ m['content'] }}<|end|>\n{% endfor %}"
    "{% if add_generation_prompt %}<|assistant|>\n{% endif %}"
)

# Words of the prompt templates and the toy data; anything else becomes <unk>.
WORDS = """
. , : ; ? ! ' " - ( ) [ ] = / 0 1 2 3 4 5 6 7 8 9 10
a an the and or of to in on at for from with by about under is are was were be has have had
do does did what who where when how many much which why it this that these i you he she we they
answer question context short phrase copied sentence review sentiment positive negative
translate english french record summary article write one fluent mentions every attribute
owns own belongs lives live works work leaves leave wrote write sleeps sleep bought buy color
red blue green black white old small big good bad happy sad great boring terrible love hate
car house bike cat dog book sea train bus boat table sun film song food windows legs apples lemons
anna tom maria leo paris berlin rome summer nine seven three two four
le la les un une est et de du chat chien maison livre voiture mer soleil bateau vélo chanson
table film noir petit rouge bleue bon mauvais vieille chaud blanc vert triste j aime
""".split()


def vocabulary() -> list[str]:
    """Special tokens first (fixed ids), then the chat markers, then the (lowercase) words."""
    words: list[str] = [PAD, EOS, UNK, BOS, *CHAT_TOKENS, "\n"]
    words += [w for w in dict.fromkeys(WORDS) if w not in words]
    return words


def build_tokenizer(*, chat_template: bool = True, pad_token: bool = True, seq2seq: bool = False, masked: bool = False) -> Any:
    """A ``PreTrainedTokenizerFast`` over a WordLevel model.

    Text is lowercased; pre-tokenisation drops spaces and tabs but keeps ``\\n`` as a token, so
    the usual ``"\\n"`` stop sequence can occur in generated text. Decoding joins tokens with
    spaces. Decoder-only: BOS is prepended; seq2seq (T5 style): EOS is appended; masked (BERT
    style): ``[CLS] ... [SEP]``, with a ``[MASK]`` token.
    """
    from tokenizers import Regex, Tokenizer, models, normalizers, pre_tokenizers, processors
    from transformers import PreTrainedTokenizerFast

    words = vocabulary() + ([CLS, SEP, MASK] if masked else [])
    vocab = {w: i for i, w in enumerate(words)}
    backend = Tokenizer(models.WordLevel(vocab, unk_token=UNK))
    backend.normalizer = normalizers.Lowercase()
    backend.pre_tokenizer = pre_tokenizers.Sequence(
        [
            pre_tokenizers.Split(Regex(r"[ \t\r\f\v]+"), behavior="removed"),
            pre_tokenizers.Split(Regex(r"\n|\w+|[^\w\s]"), behavior="isolated"),
        ]
    )
    if masked:
        backend.post_processor = processors.TemplateProcessing(
            single=f"{CLS} $A {SEP}", pair=f"{CLS} $A {SEP} $B {SEP}", special_tokens=[(CLS, vocab[CLS]), (SEP, vocab[SEP])]
        )
    elif seq2seq:
        backend.post_processor = processors.TemplateProcessing(
            single=f"$A {EOS}", pair=f"$A $B {EOS}", special_tokens=[(EOS, vocab[EOS])]
        )
    else:
        backend.post_processor = processors.TemplateProcessing(
            single=f"{BOS} $A", pair=f"{BOS} $A $B", special_tokens=[(BOS, vocab[BOS])]
        )
    kwargs: dict[str, Any] = {"eos_token": EOS, "unk_token": UNK}
    if masked:
        kwargs.update(cls_token=CLS, sep_token=SEP, mask_token=MASK)
    elif not seq2seq:
        kwargs["bos_token"] = BOS
    if pad_token:
        kwargs["pad_token"] = PAD
    tok = PreTrainedTokenizerFast(tokenizer_object=backend, **kwargs)
    tok.add_special_tokens({"additional_special_tokens": list(CHAT_TOKENS)})
    if chat_template:
        tok.chat_template = CHAT_TEMPLATE
    return tok


def _scale_weights(model: Any, seed: int, std: float) -> None:
    """Re-draw every weight matrix from N(0, std) with a fixed generator.

    transformers' default init (std 0.02) gives a 32-wide random model nearly flat logits, where
    the greedy argmax could flip on float noise between batch sizes. A wider init separates
    the logits by far more than that noise (the tests check the margin).
    """
    import torch

    gen = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for _, p in sorted(model.named_parameters()):
            if p.dim() >= 2:
                p.copy_(torch.randn(p.shape, generator=gen) * std)


def save_tiny_llama(path: Path, *, chat_template: bool = True, pad_token: bool = True, seed: int = 0) -> Path:
    import torch
    from transformers import LlamaConfig, LlamaForCausalLM

    tok = build_tokenizer(chat_template=chat_template, pad_token=pad_token)
    config = LlamaConfig(
        vocab_size=len(tok),
        hidden_size=48,
        intermediate_size=96,
        num_hidden_layers=2,
        num_attention_heads=4,
        num_key_value_heads=2,
        max_position_embeddings=512,
        bos_token_id=tok.bos_token_id,
        eos_token_id=tok.eos_token_id,
        pad_token_id=tok.pad_token_id,
        tie_word_embeddings=False,
    )
    torch.manual_seed(seed)
    model = LlamaForCausalLM(config)
    _scale_weights(model, seed, std=0.35)
    model.generation_config.pad_token_id = tok.pad_token_id
    model.save_pretrained(path)
    tok.save_pretrained(path)
    return path


def save_tiny_t5(path: Path, *, seed: int = 0) -> Path:
    import torch
    from transformers import T5Config, T5ForConditionalGeneration

    tok = build_tokenizer(chat_template=False, seq2seq=True)
    config = T5Config(
        vocab_size=len(tok),
        d_model=48,
        d_kv=12,
        d_ff=96,
        num_layers=2,
        num_decoder_layers=2,
        num_heads=4,
        relative_attention_num_buckets=8,
        feed_forward_proj="relu",
        tie_word_embeddings=False,
        pad_token_id=tok.pad_token_id,
        eos_token_id=tok.eos_token_id,
        decoder_start_token_id=tok.pad_token_id,
    )
    torch.manual_seed(seed)
    model = T5ForConditionalGeneration(config)
    _scale_weights(model, seed, std=0.35)
    model.save_pretrained(path)
    tok.save_pretrained(path)
    return path


def save_tiny_bert(path: Path, *, seed: int = 0) -> Path:
    import torch
    from transformers import BertConfig, BertForMaskedLM

    tok = build_tokenizer(chat_template=False, masked=True)
    config = BertConfig(
        vocab_size=len(tok),
        hidden_size=48,
        intermediate_size=96,
        num_hidden_layers=2,
        num_attention_heads=4,
        max_position_embeddings=128,
        pad_token_id=tok.pad_token_id,
        hidden_dropout_prob=0.0,
        attention_probs_dropout_prob=0.0,
    )
    torch.manual_seed(seed)
    model = BertForMaskedLM(config)
    _scale_weights(model, seed, std=0.35)
    model.save_pretrained(path)
    tok.save_pretrained(path)
    return path


BUILDERS: dict[str, Callable[..., Path]] = {"llama": save_tiny_llama, "t5": save_tiny_t5, "bert": save_tiny_bert}


# ----------------------------------------------------------------------------- environment
@pytest.fixture(scope="session")
def session_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("promptkit-cache")


@pytest.fixture(autouse=True)
def _isolated_cache(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch, session_cache: Path) -> Iterator[None]:
    """Fast tests write conversions to a temporary cache; slow tests reuse the user's cache
    (~/.cache/promptkit, or $PROMPTKIT_CACHE) to avoid a 30 s GGUF conversion."""
    if request.node.get_closest_marker("slow") is None:
        monkeypatch.setenv("PROMPTKIT_CACHE", str(session_cache))
        monkeypatch.delenv("PROMPTKIT_DATA_DIR", raising=False)
    yield


# ----------------------------------------------------------------------------- tiny models
@pytest.fixture(scope="session")
def build_tiny_model(tmp_path_factory: pytest.TempPathFactory) -> Callable[..., Path]:
    """Factory: ``build_tiny_model("llama", chat_template=False, pad_token=False)`` -> new dir."""

    import torch

    # Thread start-up dominates for 48-wide models: one thread is several times faster (10x on a
    # 2-core container, where two threads contend in every softmax).
    torch.set_num_threads(1)

    def build(kind: str = "llama", **options: Any) -> Path:
        path = tmp_path_factory.mktemp(f"tiny-{kind}")
        return BUILDERS[kind](path, **options)

    return build


@pytest.fixture(scope="session")
def tiny_llama_dir(build_tiny_model: Callable[..., Path]) -> Path:
    return build_tiny_model("llama")


@pytest.fixture(scope="session")
def tiny_t5_dir(build_tiny_model: Callable[..., Path]) -> Path:
    return build_tiny_model("t5")


@pytest.fixture(scope="session")
def tiny_llama(tiny_llama_dir: Path) -> Any:
    """The tiny Llama loaded through promptkit (shared: tests must not modify it)."""
    from promptkit.config import ModelConfig
    from promptkit.models import load_model

    return load_model(ModelConfig(name=str(tiny_llama_dir), device="cpu"))


@pytest.fixture
def fresh(tiny_llama_dir: Path, tiny_t5_dir: Path) -> Callable[..., Any]:
    """Factory of private copies of a tiny model, ``fresh()`` or ``fresh("t5")``: trainable methods
    wrap the model they get, so a test that trains one must not use the shared ``tiny_llama``."""
    from promptkit.config import ModelConfig
    from promptkit.models import load_model

    dirs = {"llama": tiny_llama_dir, "t5": tiny_t5_dir}
    return lambda arch="llama": load_model(ModelConfig(name=str(dirs[arch]), device="cpu"))


@pytest.fixture(scope="session")
def tiny_t5(tiny_t5_dir: Path) -> Any:
    from promptkit.config import ModelConfig
    from promptkit.models import load_model

    return load_model(ModelConfig(name=str(tiny_t5_dir), device="cpu"))


@pytest.fixture(scope="session")
def tiny_bert_dir(build_tiny_model: Callable[..., Path]) -> Path:
    return build_tiny_model("bert")


@pytest.fixture(params=["llama", "t5"])
def tiny_lm(request: pytest.FixtureRequest) -> Any:
    """Each tiny model in turn (decoder-only and encoder-decoder)."""
    return request.getfixturevalue(f"tiny_{request.param}")
