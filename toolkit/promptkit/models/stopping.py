"""Stop sequences for greedy generation: where a row ends and how many tokens it produced."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any


def cut_at_stop(text: str, stop: Sequence[str]) -> str:
    """``text`` up to the earliest occurrence of any stop sequence."""
    end = len(text)
    for s in stop:
        if s:
            pos = text.find(s)
            if pos != -1:
                end = min(end, pos)
    return text[:end]


class StopOnStrings:
    """Stops generation once every row's new text contains a stop sequence (or EOS).

    transformers' built-in stop-string criterion needs token-level setup per tokenizer; decoding
    the few new tokens per step is cheap for the short outputs evaluation uses.
    """

    def __init__(self, tokenizer: Any, start: int, stop: Sequence[str]):
        self.tokenizer = tokenizer
        self.start = start
        self.stop = [s for s in stop if s]
        # Row -> new tokens it had when it first finished. What follows is filler (padding, or
        # EOS when pad == EOS), so this is the row's output length whatever its batch mates do.
        self.finished_at: dict[int, int] = {}

    def __call__(self, input_ids: Any, scores: Any, **kwargs: Any) -> Any:
        import torch

        done = []
        for r, row in enumerate(input_ids[:, self.start :]):
            text = self.tokenizer.decode(row, skip_special_tokens=True)
            # A row that emitted EOS only produces padding afterwards: treat it as done.
            finished = any(s in text for s in self.stop) or (
                self.tokenizer.eos_token_id is not None and bool((row == self.tokenizer.eos_token_id).any())
            )
            if finished and r not in self.finished_at:
                self.finished_at[r] = len(row)
            done.append(finished)
        return torch.tensor(done, dtype=torch.bool, device=input_ids.device)


def count_generated(tokens: Sequence[int], tok: Any) -> int:
    """Tokens the model produced for this row (its new tokens only), up to and including its EOS."""
    eos = tok.eos_token_id
    for n, t in enumerate(tokens):
        if t == eos:
            return n + 1
    pad = tok.pad_token_id
    n = len(tokens)
    while n > 0 and tokens[n - 1] == pad and pad != eos:
        n -= 1
    return n


def whole_characters(tok: Any, tokens: Sequence[int], keep: int = 0) -> str:
    """The text of ``tokens`` without a character the token budget cut in half.

    A byte-level or byte-fallback tokenizer spells a multi-byte character with several tokens;
    stopped between them, decoding ends in U+FFFD, a character the model did not write. When the
    tokens' bytes end in an incomplete UTF-8 sequence, that U+FFFD is dropped; a U+FFFD the
    tokens spell in full is the model's own and stays. ``keep``: leading tokens that are not
    text (a decoder start token).
    """
    text = tok.decode(list(tokens), skip_special_tokens=True)
    if not text.endswith("\ufffd"):
        return text
    data = token_bytes(tok, tokens[keep:])
    return text[:-1] if data is not None and _cut_utf8(data) else text


def _cut_utf8(data: bytes) -> bool:
    """Whether ``data`` ends inside a UTF-8 character (its lead byte present, a continuation missing)."""
    for back in range(1, min(4, len(data)) + 1):
        b = data[-back]
        if b & 0xC0 == 0x80:  # a continuation byte: look further back for the lead
            continue
        need = 2 if b & 0xE0 == 0xC0 else 3 if b & 0xF0 == 0xE0 else 4 if b & 0xF8 == 0xF0 else 1
        return need > back
    return False


def _byte_level_alphabet() -> dict[str, int]:
    """GPT-2's reversible byte <-> printable character map, character -> byte."""
    printable = [*range(ord("!"), ord("~") + 1), *range(ord("¡"), ord("¬") + 1), *range(ord("®"), ord("ÿ") + 1)]
    chars, extra = {}, 0
    for b in range(256):
        if b in printable:
            chars[chr(b)] = b
        else:
            chars[chr(256 + extra)] = b
            extra += 1
    return chars


def token_bytes(tok: Any, tokens: Sequence[int]) -> bytes | None:
    """The bytes ``tokens`` spell (special tokens left out), for byte-level BPE (GPT-2, Llama 3,
    SmolLM) and SentencePiece with byte fallback (``<0xE6>`` pieces); None for other vocabularies."""
    import re

    special = set(getattr(tok, "all_special_ids", []))
    pieces = tok.convert_ids_to_tokens([t for t in tokens if t not in special])
    decoder = type(getattr(getattr(tok, "backend_tokenizer", None), "decoder", None)).__name__
    if decoder == "ByteLevel":
        alphabet = _byte_level_alphabet()
        joined = "".join(pieces)
        if all(c in alphabet for c in joined):
            return bytes(alphabet[c] for c in joined)
        return None
    out = b""
    for piece in pieces:
        m = re.fullmatch(r"<0x([0-9A-Fa-f]{2})>", piece)
        out += bytes([int(m.group(1), 16)]) if m else piece.replace("\u2581", " ").encode("utf-8")
    return out
