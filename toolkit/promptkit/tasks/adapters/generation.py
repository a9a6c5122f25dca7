"""Free-text generation from named inputs: data-to-text, summarization."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from typing import TYPE_CHECKING, Any, Literal

from promptkit.config import BleuTokenize, FieldPath, FieldPaths, Strict
from promptkit.records import Example
from promptkit.tasks.adapters.base import Adapter, register_adapter

if TYPE_CHECKING:
    from promptkit.metrics.base import MetricContext


class GenerationFields(Strict):
    # Template variables: each name maps to a path in the row.
    inputs: dict[str, FieldPaths]
    references: FieldPaths
    id: FieldPath | None = None


class GenerationAdapterConfig(Strict):
    """Data-to-text and summarization: named input fields to free text.

    ``target_lang`` (of the outputs) selects the ROUGE and BLEU tokenization; ``None`` detects
    it from the script of the references (Han/kana, Hangul, Thai, other; Latin counts as
    English), so a Chinese summary is never scored as empty English text. ``bleu_tokenize`` as
    for translation.
    """

    kind: Literal["generation"] = "generation"
    target_lang: str | None = None
    fields: GenerationFields
    bleu_tokenize: BleuTokenize | None = None


@register_adapter(GenerationAdapterConfig)
class GenerationAdapter(Adapter):
    """Fields: every name under ``fields.inputs``, plus ``reference`` and ``references``."""


    def variables(self) -> set[str]:
        return {*self.fields.inputs, "reference", "references"}  # type: ignore[attr-defined]

    def input_fields(self) -> tuple[str, ...]:
        return tuple(self.fields.inputs)  # type: ignore[attr-defined]

    @property
    def target_language(self) -> str | None:
        """``target_lang``; ``None``: the metrics detect it from the references' script."""
        language: str | None = self.config.target_lang
        return language

    def metric_context(self) -> MetricContext:
        return replace(super().metric_context(), bleu_tokenize=self.config.bleu_tokenize)

    def example(self, row: Mapping[str, Any], row_id: str, where: str) -> Example:
        f: Any = self.fields
        refs = self._references(row, f.references, where)
        fields: dict[str, Any] = {}
        for name, spec in f.inputs.items():
            fields[name] = self._input(row, spec, where, name)
        fields["reference"] = refs[0]
        fields["references"] = list(refs)
        return Example(id=self._id(row, row_id, where), fields=fields, references=refs)
