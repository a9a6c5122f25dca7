"""Question answering: extractive / open-book (with context) and closed-book (without)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from promptkit.adapters.base import ADAPTERS, Adapter
from promptkit.errors import DatasetError
from promptkit.records import Example

if TYPE_CHECKING:
    from promptkit.metrics.base import MetricContext


@ADAPTERS.register("qa")
class QAAdapter(Adapter):
    """Fields for templates: ``question``, ``context`` (if mapped), ``answers``, ``answer``."""

    kind = "qa"

    def variables(self) -> set[str]:
        names = {"question", "answers", "answer"}
        if self.fields.context is not None:  # type: ignore[attr-defined]
            names.add("context")
        return names

    def input_fields(self) -> tuple[str, ...]:
        return ("question",) if self.fields.context is None else ("context", "question")  # type: ignore[attr-defined]

    @property
    def target_language(self) -> str | None:
        """The answers' language (``adapter.language``); ``None``: detected by the metrics."""
        language: str | None = self.config.language
        return language

    def metric_context(self) -> MetricContext:
        return replace(super().metric_context(), squad_version=self.config.squad_version)

    def example(self, row: Mapping[str, Any], row_id: str, where: str) -> Example:
        f: Any = self.fields
        answers = self._strings(row, f.answers, where, "answers")
        if not answers:
            raise DatasetError(f"{where}: field 'answers' ({f.answers!r}) is empty; every row needs an answer")
        fields: dict[str, Any] = {
            "question": self._text(row, f.question, where, "question"),
            "answers": list(answers),
            "answer": answers[0],
        }
        if f.context is not None:
            fields["context"] = self._text(row, f.context, where, "context")
        return Example(id=self._id(row, row_id, where), fields=fields, references=answers)
