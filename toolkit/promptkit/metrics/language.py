"""Target-language codes and the word segmentation they imply.

Metrics only need a coarse notion of language: which BLEU tokenizer to use, and whether words
are delimited by spaces (English, German, Korean...) or not (Chinese, Japanese). Tasks name
languages in several conventions (``"de"``, ``"en-US"``, ``"zh_CN"``, FLORES-200's
``"zho_Hans"``), so every code is first reduced to one lowercase ISO 639-1 code where one is
known.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable

# ISO 639-3 (and FLORES-200) codes of widely evaluated languages -> ISO 639-1. Codes not listed
# are kept as given (lowercased): they only lose the language-specific choices below, which
# exist for a handful of languages anyway.
_ISO639_3_TO_1 = {
    "afr": "af",
    "amh": "am",
    "arb": "ar",
    "ara": "ar",
    "azj": "az",
    "aze": "az",
    "bel": "be",
    "ben": "bn",
    "bos": "bs",
    "bul": "bg",
    "cat": "ca",
    "ces": "cs",
    "ckb": "ku",
    "cmn": "zh",
    "cym": "cy",
    "dan": "da",
    "deu": "de",
    "ell": "el",
    "eng": "en",
    "est": "et",
    "ekk": "et",
    "eus": "eu",
    "fas": "fa",
    "pes": "fa",
    "fil": "tl",
    "fin": "fi",
    "fra": "fr",
    "gle": "ga",
    "glg": "gl",
    "guj": "gu",
    "hau": "ha",
    "heb": "he",
    "hin": "hi",
    "hrv": "hr",
    "hun": "hu",
    "hye": "hy",
    "ibo": "ig",
    "ind": "id",
    "isl": "is",
    "ita": "it",
    "jpn": "ja",
    "kan": "kn",
    "kat": "ka",
    "kaz": "kk",
    "khm": "km",
    "kor": "ko",
    "lao": "lo",
    "lav": "lv",
    "lvs": "lv",
    "lit": "lt",
    "mal": "ml",
    "mar": "mr",
    "mkd": "mk",
    "mlt": "mt",
    "msa": "ms",
    "zsm": "ms",
    "mya": "my",
    "nld": "nl",
    "nob": "nb",
    "nno": "nn",
    "nor": "no",
    "npi": "ne",
    "nep": "ne",
    "pan": "pa",
    "pol": "pl",
    "por": "pt",
    "ron": "ro",
    "rus": "ru",
    "sin": "si",
    "slk": "sk",
    "slv": "sl",
    "som": "so",
    "spa": "es",
    "sqi": "sq",
    "als": "sq",
    "srp": "sr",
    "swe": "sv",
    "swa": "sw",
    "swh": "sw",
    "tam": "ta",
    "tel": "te",
    "tgl": "tl",
    "tha": "th",
    "tur": "tr",
    "ukr": "uk",
    "urd": "ur",
    "uzb": "uz",
    "uzn": "uz",
    "vie": "vi",
    "xho": "xh",
    "yor": "yo",
    "zho": "zh",
    "zul": "zu",
}

# Deprecated ISO 639-1 codes still found in older datasets.
_DEPRECATED = {"iw": "he", "in": "id", "ji": "yi", "jw": "jv"}

# Languages written without spaces between words, where a "word" metric has to fall back to
# characters to mean anything. Cantonese (yue) is written with Chinese characters.
CJK_LANGUAGES = frozenset({"zh", "ja", "yue"})

# Han ideographs (with extensions and compatibility blocks), kana and the iteration mark.
_CJK_CHARS = (
    "\u3005\u3007\u3040-\u30ff\u31f0-\u31ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
    "\uff66-\uff9f\U00020000-\U0002ffff"
)
_CJK_RE = re.compile(f"[{_CJK_CHARS}]")
_CJK_SPACED_RE = re.compile(f"([{_CJK_CHARS}])")


def normalize_language(code: str | None) -> str | None:
    """Reduce a language code to lowercase ISO 639-1 where possible.

    Args:
        code: ``"de"``, ``"en-US"``, ``"zh_CN"``, ``"zho_Hans"``, ``"jpn_Jpan"``... or ``None``.

    Returns:
        The two-letter code (``"de"``, ``"en"``, ``"zh"``, ``"zh"``, ``"ja"``), the lowercased
        primary subtag when no two-letter code is known (``"yue"``), or ``None`` for a missing
        or blank code.
    """
    if code is None or not code.strip():
        return None
    primary = re.split(r"[-_]", code.strip().lower(), maxsplit=1)[0]
    primary = _DEPRECATED.get(primary, primary)
    return _ISO639_3_TO_1.get(primary, primary)


def is_cjk_language(language: str | None) -> bool:
    """Whether ``language`` (already normalised) is written without spaces between words."""
    return language in CJK_LANGUAGES


def contains_cjk(text: str) -> bool:
    """Whether ``text`` contains a Han or kana character."""
    return _CJK_RE.search(text) is not None


def split_cjk(text: str) -> list[str]:
    """Split on whitespace, making every Han or kana character a token of its own.

    This is the "mixed segmentation" of the CMRC and MLQA evaluation scripts: Latin words and
    numbers inside Chinese or Japanese text stay whole, which keeps ``"GPT-4"`` one token.

    Args:
        text: already normalised text.

    Returns:
        The tokens, in order.
    """
    return _CJK_SPACED_RE.sub(r" \1 ", text).split()


# Scripts that decide tokenisation when a task names no language. Hangul and Thai are counted
# apart from "other" letters because each implies its own language code.
_KANA_RE = re.compile("[\u3040-\u30ff\u31f0-\u31ff\uff66-\uff9f]")
_HANGUL_RE = re.compile("[\u1100-\u11ff\u3130-\u318f\ua960-\ua97f\uac00-\ud7ff]")
_THAI_RE = re.compile("[\u0e00-\u0e7f]")


def detect_language(texts: Iterable[str]) -> str:
    """Guess a language code from the script the texts are written in.

    Only the script is looked at, which is all tokenisation needs: letters are counted as
    Han/kana, Hangul, Thai, Latin or other, and the most frequent group wins (ties go to the
    non-Latin group, since Latin-only tokenisation is what empties other scripts).

    Args:
        texts: the references of a whole evaluation set (one decision for all rows).

    Returns:
        ``"ja"`` for Han/kana text in which kana are at least a tenth of those characters,
        ``"zh"`` for other Han text, ``"ko"`` for Hangul, ``"th"`` for Thai, ``"und"``
        (ISO 639 "undetermined") for another non-Latin script such as Cyrillic or Devanagari,
        and ``"en"`` for Latin script or text without letters, which keeps the English
        tokenisers (set the task's language for other Latin-script languages).
    """
    han = kana = hangul = thai = latin = other = 0
    for text in texts:
        for ch in text:
            if _KANA_RE.match(ch):
                kana += 1
            elif _CJK_RE.match(ch):
                han += 1
            elif _HANGUL_RE.match(ch):
                hangul += 1
            elif _THAI_RE.match(ch):
                thai += 1
            elif ch.isalpha():
                if unicodedata.name(ch, "").startswith("LATIN"):
                    latin += 1
                else:
                    other += 1
    cjk = han + kana
    # Order matters only on ties: max() keeps the first of equal counts.
    best = max((cjk, "cjk"), (hangul, "ko"), (thai, "th"), (other, "und"), key=lambda c: c[0])
    if best[0] == 0 or best[0] < latin:
        return "en"
    if best[1] == "cjk":
        return "ja" if 10 * kana >= cjk else "zh"
    return best[1]
