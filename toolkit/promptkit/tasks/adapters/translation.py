"""Translation: a source sentence and one or more references."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from typing import TYPE_CHECKING, Any, Literal

from promptkit.config import BleuTokenize, FieldPath, FieldPaths, Strict
from promptkit.records import Example
from promptkit.tasks.adapters.base import Adapter, register_adapter

if TYPE_CHECKING:
    from promptkit.metrics.base import MetricContext

# Names used in prompts ("Translate from English to German"). FLORES-style codes map by prefix.
LANGUAGE_NAMES = {
    "ar": "Arabic", "cs": "Czech", "de": "German", "en": "English", "es": "Spanish",
    "fi": "Finnish", "fr": "French", "hi": "Hindi", "it": "Italian", "ja": "Japanese",
    "ko": "Korean", "nl": "Dutch", "pl": "Polish", "pt": "Portuguese", "ro": "Romanian",
    "ru": "Russian", "tr": "Turkish", "uk": "Ukrainian", "zh": "Chinese",
    "ces": "Czech", "deu": "German", "eng": "English", "fra": "French", "zho": "Chinese",
    "spa": "Spanish", "jpn": "Japanese", "rus": "Russian", "ita": "Italian", "por": "Portuguese",
}


def language_name(code: str) -> str:
    """``de`` -> ``German``; ``zho_Hans`` -> ``Chinese``; unknown codes are returned as is."""
    base = code.replace("-", "_").split("_")[0].lower()
    return LANGUAGE_NAMES.get(base, code)


class TranslationFields(Strict):
    source: FieldPaths
    references: FieldPaths
    id: FieldPath | None = None


class TranslationAdapterConfig(Strict):
    """``bleu_tokenize`` overrides the BLEU tokenizer derived from ``target_lang`` (``ja-mecab``
    for WMT-comparable Japanese BLEU; the default is ``char`` for Japanese and Korean, see
    ``metrics.translation.bleu_tokenizer``)."""

    kind: Literal["translation"] = "translation"
    source_lang: str
    target_lang: str
    fields: TranslationFields
    bleu_tokenize: BleuTokenize | None = None


@register_adapter(TranslationAdapterConfig)
class TranslationAdapter(Adapter):
    """Fields: ``source``, ``reference``, ``references``, ``source_lang``, ``target_lang``,
    ``source_language``, ``target_language`` (full names)."""


    def variables(self) -> set[str]:
        return {"source", "reference", "references", "source_lang", "target_lang", "source_language", "target_language"}

    def input_fields(self) -> tuple[str, ...]:
        return ("source",)  # the language names are the same on every row

    @property
    def target_language(self) -> str | None:
        return str(self.config.target_lang)

    def metric_context(self) -> MetricContext:
        return replace(super().metric_context(), bleu_tokenize=self.config.bleu_tokenize)

    def example(self, row: Mapping[str, Any], row_id: str, where: str) -> Example:
        f: Any = self.fields
        refs = self._references(row, f.references, where)
        src, tgt = self.config.source_lang, self.config.target_lang
        fields = {
            "source": self._text(row, f.source, where, "source"),
            "reference": refs[0],
            "references": list(refs),
            "source_lang": src,
            "target_lang": tgt,
            "source_language": language_name(src),
            "target_language": language_name(tgt),
        }
        return Example(id=self._id(row, row_id, where), fields=fields, references=refs)
