"""The task adapter contract: dataset rows -> :class:`Example`."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, ClassVar, TypeVar

from pydantic import BaseModel

from promptkit.errors import DatasetError
from promptkit.records import Example
from promptkit.registry import Registry
from promptkit.tasks.sources import extract, sequence_of_str

if TYPE_CHECKING:
    from promptkit.metrics.base import MetricContext


class Adapter(ABC):
    """Turns one kind of dataset row into examples that templates can render.

    Subclasses declare ``kind`` (the YAML ``adapter.kind``) and implement :meth:`example` and
    :meth:`variables`. ``fields`` is the adapter's field mapping after any per-source override.
    """

    kind: ClassVar[str]
    config_class: ClassVar[type[BaseModel]]
    # The model scores the example's choices (log-likelihood) instead of generating an answer.
    scores_choices: ClassVar[bool] = False

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
        inputs equal a training row's leaks (:mod:`promptkit.tasks.leakage`)."""

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

    def _input(self, row: Mapping[str, Any], spec: Any, where: str, name: str) -> Any:
        """An input field: text, a number (as text) or a list of them (templates may loop)."""
        return input_value(extract(row, spec, where=where), where, name, spec)

    def _text(self, row: Mapping[str, Any], spec: Any, where: str, name: str) -> str:
        value = self._input(row, spec, where, name)
        if isinstance(value, (MappingField, MappingList)):  # a field the adapter needs as text: refused now, with the row
            raise DatasetError(value.refusal)
        return " ".join(value) if isinstance(value, list) else str(value)

    def _references(self, row: Mapping[str, Any], spec: Any, where: str) -> tuple[str, ...]:
        """The row's non-blank references (at least one, or a DatasetError naming the row)."""
        refs = tuple(r for r in self._strings(row, spec, where, "references") if r.strip())
        if not refs:
            raise DatasetError(f"{where}: field 'references' ({spec!r}) is empty")
        return refs

    def _strings(self, row: Mapping[str, Any], spec: Any, where: str, field: str) -> tuple[str, ...]:
        return sequence_of_str(extract(row, spec, where=where), where, field)


class MappingField(dict[Any, Any]):
    """A field whose value is a mapping. A template reads its keys (``{{ choices.text[0] }}``, as
    lm-evaluation-harness templates do); rendering the whole of it would show Python code, the
    data never said, so that raises ``ValueError`` with ``refusal`` (the row, field and column),
    which the template reports as its error."""

    def __init__(self, value: Any = (), refusal: str = "a field is a mapping, which a prompt would show as Python code; "
                                                      "read one of its keys"):
        super().__init__(value)  # also a copy by dataclasses.asdict, which passes the items alone
        self.refusal = refusal

    def __str__(self) -> str:
        raise ValueError(self.refusal)

    def __reduce__(self) -> tuple[Any, ...]:  # pickled (Ray, multiprocessing) with its message
        return (MappingField, (dict(self), self.refusal))


class MappingList(list[Any]):
    """A field whose list holds mappings (chat turns, say): a template loops over it or indexes
    it and reads keys (``{{ turns[0].content }}``); shown whole it would be Python code, so that
    raises ``ValueError`` with ``refusal``, as :class:`MappingField` does."""

    def __init__(self, value: Any = (), refusal: str = "a field is a list of mappings, which a prompt would show as "
                                                      "Python code; read one of their keys"):
        super().__init__(value)
        self.refusal = refusal

    def __str__(self) -> str:
        raise ValueError(self.refusal)

    def __reduce__(self) -> tuple[Any, ...]:
        return (MappingList, (list(self), self.refusal))


def input_value(value: Any, where: str, name: str, spec: Any) -> Any:
    """Refuse what a template would render as something the data never said: a null (an empty
    string, or "None") now, and a mapping (its Python repr) when a template renders it whole
    (:class:`MappingField`; its keys may be read).

    Raises:
        DatasetError: a null, naming the row, the field and its column, and what would be accepted.
    """
    if value is None:
        raise DatasetError(f"{where}: field {name!r} (column {spec!r}) is null; a prompt needs text there: "
                           "fill it in or drop the row")
    if isinstance(value, Mapping):
        keys = sorted(map(str, value))
        example = f"; map one of them, e.g. {spec}.{keys[0]}" if keys and isinstance(spec, str) else ""
        return MappingField(value, f"{where}: field {name!r} (column {spec!r}) is a mapping (keys: {', '.join(keys[:10])}), "
                                   f"which a prompt would show as Python code{example}")
    if isinstance(value, list):
        items = [input_value(v, where, name, spec) for v in value]
        bad = next((v for v in items if isinstance(v, (MappingField, MappingList))), None)
        if bad is not None:  # a template may loop over it and read keys; shown whole it is Python code
            return MappingList(items, bad.refusal)
        return [str(v) for v in items]
    return value if isinstance(value, str) else str(value)


ADAPTERS: Registry[type[Adapter]] = Registry("adapter")

A = TypeVar("A", bound=type[Adapter])


def register_adapter(config: type[BaseModel]) -> Callable[[A], A]:
    """Class decorator: register an adapter class with its config class (defined beside it),
    under the config's ``kind``; the task config's ``adapter`` union is derived from the
    registry (``promptkit.tasks.adapters.AdapterConfig``)."""
    return ADAPTERS.register_with_config(config)  # type: ignore[return-value]
