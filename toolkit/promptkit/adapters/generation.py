"""Free-text generation from named inputs: data-to-text, summarization."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from promptkit.adapters.base import ADAPTERS, Adapter
from promptkit.errors import DatasetError
from promptkit.records import Example
from promptkit.sources import extract


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
        return str(self.config.target_lang)

    def example(self, row: Mapping[str, Any], row_id: str, where: str) -> Example:
        f: Any = self.fields
        refs = tuple(r for r in self._strings(row, f.references, where, "references") if r.strip())
        if not refs:
            raise DatasetError(f"{where}: field 'references' ({f.references!r}) is empty")
        fields: dict[str, Any] = {}
        for name, spec in f.inputs.items():
            fields[name] = extract(row, spec, where=where)
        fields["reference"] = refs[0]
        fields["references"] = list(refs)
        return Example(id=self._id(row, row_id, where), fields=fields, references=refs)
