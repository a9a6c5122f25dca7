"""Question answering: extractive / open-book (with context) and closed-book (without)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from promptkit.adapters.base import ADAPTERS, Adapter
from promptkit.errors import DatasetError
from promptkit.records import Example


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

    def example(self, row: Mapping[str, Any], row_id: str, where: str) -> Example:
        f: Any = self.fields
        answers = self._strings(row, f.answers, where, "answers")
        if not answers:
            raise DatasetError(f"{where}: field 'answers' ({f.answers!r}) is empty; every row needs an answer")
        fields: dict[str, Any] = {
            "question": self._text(row, f.question, where),
            "answers": list(answers),
            "answer": answers[0],
        }
        if f.context is not None:
            fields["context"] = self._text(row, f.context, where)
        return Example(id=self._id(row, row_id, where), fields=fields, references=answers)
