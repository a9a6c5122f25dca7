"""Question answering: extractive / open-book (with context) and closed-book (without)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from typing import TYPE_CHECKING, Any, Literal

from promptkit.config import FieldPath, FieldPaths, Strict
from promptkit.errors import DatasetError
from promptkit.records import Example
from promptkit.tasks.adapters.base import Adapter, register_adapter

if TYPE_CHECKING:
    from promptkit.metrics.base import MetricContext


class QAFields(Strict):
    question: FieldPaths
    answers: FieldPaths
    context: FieldPaths | None = None
    id: FieldPath | None = None


class QAAdapterConfig(Strict):
    """Extractive, open-book or closed-book QA (closed-book: no ``context`` field).

    ``language`` (of the answers) decides the token split of ``exact_match`` / ``token_f1`` for
    every row alike: Chinese and Japanese by character, others by whitespace; ``None`` detects
    it once from the script of the references. ``squad_version`` picks the official script
    followed where v1.1 and v2.0 disagree (answers that normalise to nothing, see
    :mod:`promptkit.metrics.qa`); "1.1" by default, the version of the shipped SQuAD tasks.
    """

    kind: Literal["qa"] = "qa"
    fields: QAFields
    language: str | None = None
    squad_version: Literal["1.1", "2.0"] = "1.1"


@register_adapter(QAAdapterConfig)
class QAAdapter(Adapter):
    """Fields for templates: ``question``, ``context`` (if mapped), ``answers``, ``answer``."""


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
