"""Free-text generation from named inputs: data-to-text, summarization."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from typing import TYPE_CHECKING, Any, Literal

from pydantic import model_validator

from promptkit.config import BleuTokenize, FieldPath, FieldPaths, Strict
from promptkit.errors import DatasetError
from promptkit.records import Example
from promptkit.tasks.adapters.base import Adapter, register_adapter
from promptkit.tasks.adapters.row_templates import compile_row_template, parse_list, render_row

if TYPE_CHECKING:
    from promptkit.metrics.base import MetricContext


class GenerationFields(Strict):
    # Template variables: each name maps to a path in the row.
    inputs: dict[str, FieldPaths]
    # The gold outputs: a path in the row (or the adapter's references_template).
    references: FieldPaths | None = None
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
    # The references computed from the row by a template (lm-evaluation-harness's doc_to_target
    # written as Jinja: ``{{ ['A', 'B', 'C', 'D'][answer] }}``): its text is the reference, or
    # the references when it renders a list literal.
    references_template: str | None = None

    @model_validator(mode="after")
    def _one_reference_source(self) -> GenerationAdapterConfig:
        if (self.fields.references is None) == (self.references_template is None):
            raise ValueError("give the references one way: fields.references (a column) or references_template; got "
                             + ("both" if self.fields.references is not None else "neither"))
        return self


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

    def __init__(self, config: Any, fields: Any):
        super().__init__(config, fields)
        template = config.references_template
        self._references_template = compile_row_template(template, "references_template") if template else None

    def example(self, row: Mapping[str, Any], row_id: str, where: str) -> Example:
        f: Any = self.fields
        refs = self._references(row, f.references, where) if self._references_template is None else self._rendered(row, where)
        fields: dict[str, Any] = {}
        for name, spec in f.inputs.items():
            fields[name] = self._input(row, spec, where, name)
        fields["reference"] = refs[0]
        fields["references"] = list(refs)
        return Example(id=self._id(row, row_id, where), fields=fields, references=refs)

    def _rendered(self, row: Mapping[str, Any], where: str) -> tuple[str, ...]:
        """The references as the template renders them: a list literal is several (lm-eval's rule)."""
        assert self._references_template is not None
        text = render_row(self._references_template, row, where, "references_template")
        listed = parse_list(text) if text.startswith("[") and text.endswith("]") else None
        refs = tuple(str(r) for r in listed) if listed is not None else (text,)
        if not any(r.strip() for r in refs):
            raise DatasetError(f"{where}: adapter.references_template rendered no reference ({text[:80]!r})")
        return tuple(r for r in refs if r.strip())
