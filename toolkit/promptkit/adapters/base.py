"""The task adapter contract: dataset rows -> :class:`Example`."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, ClassVar

from pydantic import BaseModel

from promptkit.records import Example
from promptkit.registry import Registry
from promptkit.sources import extract, sequence_of_str

if TYPE_CHECKING:
    from promptkit.metrics.base import MetricContext


class Adapter(ABC):
    """Turns one kind of dataset row into examples that templates can render.

    Subclasses declare ``kind`` (the YAML ``adapter.kind``) and implement :meth:`example` and
    :meth:`variables`. ``fields`` is the adapter's field mapping after any per-source override.
    """

    kind: ClassVar[str]

    def __init__(self, config: Any, fields: BaseModel):
        self.config = config
        self.fields = fields

    @abstractmethod
    def example(self, row: Mapping[str, Any], row_id: str, where: str) -> Example:
        """Build the example for ``row``; ``where`` locates the row in error messages."""

    @abstractmethod
    def variables(self) -> set[str]:
        """Names templates may use."""

    @abstractmethod
    def input_fields(self) -> tuple[str, ...]:
        """Names of the example fields the model reads (never the references): a row whose
        inputs equal a training row's leaks (:mod:`promptkit.leakage`)."""

    @property
    def target_language(self) -> str | None:
        """Language of the outputs (selects BLEU and F1 tokenisation)."""
        return None

    @property
    def labels(self) -> tuple[str, ...]:
        return ()

    def metric_context(self) -> MetricContext:
        """Everything the task tells its metrics: language and labels here, plus the scoring
        settings adapters add (QA's ``squad_version``, the ``bleu_tokenize`` of translation and
        generation)."""
        from promptkit.metrics.base import MetricContext

        return MetricContext(language=self.target_language, labels=self.labels)

    # helpers shared by the adapters --------------------------------------------------------
    def _id(self, row: Mapping[str, Any], row_id: str, where: str) -> str:
        spec = getattr(self.fields, "id", None)
        if spec is None:
            return str(row.get("id", row_id))
        return str(extract(row, spec, where=where))

    def _text(self, row: Mapping[str, Any], spec: Any, where: str) -> str:
        value = extract(row, spec, where=where)
        if isinstance(value, list):
            return " ".join(str(v) for v in value)
        return "" if value is None else str(value)

    def _strings(self, row: Mapping[str, Any], spec: Any, where: str, field: str) -> tuple[str, ...]:
        return sequence_of_str(extract(row, spec, where=where), where, field)


ADAPTERS: Registry[type[Adapter]] = Registry("adapter")
