"""Free-text generation from named inputs: data-to-text, summarization."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from promptkit.adapters.base import ADAPTERS, Adapter
from promptkit.errors import DatasetError
from promptkit.records import Example

if TYPE_CHECKING:
    from promptkit.metrics.base import MetricContext


@ADAPTERS.register("generation")
class GenerationAdapter(Adapter):
    """Fields: every name under ``fields.inputs``, plus ``reference`` and ``references``."""

    kind = "generation"

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
        refs = tuple(r for r in self._strings(row, f.references, where, "references") if r.strip())
        if not refs:
            raise DatasetError(f"{where}: field 'references' ({f.references!r}) is empty")
        fields: dict[str, Any] = {}
        for name, spec in f.inputs.items():
            fields[name] = self._input(row, spec, where, name)
        fields["reference"] = refs[0]
        fields["references"] = list(refs)
        return Example(id=self._id(row, row_id, where), fields=fields, references=refs)
