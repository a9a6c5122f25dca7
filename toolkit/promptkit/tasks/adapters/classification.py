"""Classification by the log-likelihood of each label's verbalizer."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal

from pydantic import Field, field_validator

from promptkit.config import FieldPath, FieldPaths, Strict, check_choice_count
from promptkit.errors import DatasetError
from promptkit.records import Example
from promptkit.tasks.adapters.base import Adapter, register_adapter
from promptkit.tasks.sources import extract


class Label(Strict):
    value: str | int | bool
    verbalizer: str


class ClassificationFields(Strict):
    inputs: dict[str, FieldPaths]
    label: FieldPath
    id: FieldPath | None = None


class ClassificationAdapterConfig(Strict):
    """Labels with verbalizers, scored by the log-likelihood of each verbalizer."""

    kind: Literal["classification"] = "classification"
    labels: list[Label] = Field(min_length=2)
    fields: ClassificationFields
    # "none": summed log-likelihood; "tokens"/"chars"/"bytes": divided by the verbalizer's
    # length in tokens, characters or UTF-8 bytes (lm-eval's acc_norm is "chars", acc_bytes "bytes").
    normalization: Literal["none", "tokens", "chars", "bytes"] = "none"

    @field_validator("labels")
    @classmethod
    def _bounded(cls, value: list[Label]) -> list[Label]:
        check_choice_count(len(value))  # each label is one scored continuation per example
        return value


@register_adapter(ClassificationAdapterConfig)
class ClassificationAdapter(Adapter):
    """Fields: the names under ``fields.inputs``, ``choices`` (verbalizers) and ``label_text``."""

    scores_choices = True


    def __init__(self, config: Any, fields: Any):
        super().__init__(config, fields)
        # Dataset labels arrive as ints, strings or bools; match on their string form.
        self._index = {str(lab.value): i for i, lab in enumerate(config.labels)}
        self._verbalizers = tuple(lab.verbalizer for lab in config.labels)

    def variables(self) -> set[str]:
        return {*self.fields.inputs, "choices", "label_text"}  # type: ignore[attr-defined]

    def input_fields(self) -> tuple[str, ...]:
        return tuple(self.fields.inputs)  # type: ignore[attr-defined]

    @property
    def labels(self) -> tuple[str, ...]:
        return self._verbalizers

    def example(self, row: Mapping[str, Any], row_id: str, where: str) -> Example:
        f: Any = self.fields
        raw = extract(row, f.label, where=where)
        if str(raw) not in self._index:
            raise DatasetError(
                f"{where}: label {raw!r} (column {f.label!r}) is not one of the task's labels; "
                f"accepted: {', '.join(repr(k) for k in self._index)}"
            )
        label = self._index[str(raw)]
        fields: dict[str, Any] = {name: self._input(row, spec, where, name) for name, spec in f.inputs.items()}
        fields["choices"] = list(self._verbalizers)
        fields["label_text"] = self._verbalizers[label]
        return Example(
            id=self._id(row, row_id, where),
            fields=fields,
            references=(self._verbalizers[label],),
            choices=self._verbalizers,
            label=label,
        )
