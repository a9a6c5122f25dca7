"""Multiple choice with each row's own choices, scored by log-likelihood like classification.

Classification has one label set for the whole task; here every row brings its choices (the
four answers of a science question, the two endings of a sentence) and its gold choice. The
harness scores them the same way (:func:`promptkit.harness.predict.predict`: the prompt, then
``target_delimiter + choice`` for every choice), so this adapter only builds the examples.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal

import jinja2
from pydantic import Field, field_validator, model_validator

from promptkit.config import FieldPath, FieldPaths, Strict, check_choice_count
from promptkit.errors import DatasetError
from promptkit.records import Example
from promptkit.tasks.adapters.base import Adapter, register_adapter
from promptkit.tasks.adapters.row_templates import compile_row_template, parse_list, render_row
from promptkit.tasks.sources import extract


class MultipleChoiceFields(Strict):
    inputs: dict[str, FieldPaths]
    # A column holding each row's choices (a list of text); or the adapter's choices_template.
    choices: FieldPath | None = None
    # A column holding the gold choice: its index (0-based) or its text; or label_template.
    label: FieldPath | None = None
    id: FieldPath | None = None
    # lm-eval's multiple-input form (Winogrande): where a row's value in this column is an index,
    # the row's choices are alternative ends of the prompt, that index is the gold one, and the
    # label (column or template) is the text scored after each choice.
    context_index: FieldPath | None = None


class MultipleChoiceAdapterConfig(Strict):
    """Each row has its own choices, scored by log-likelihood like classification's labels.

    A row's choices come from one place: a column (``fields.choices``), a list shared by every
    row (``choices``) or ``choices_template``, sandboxed Jinja over the row that renders a list
    literal (``"{{ [option_a, option_b] }}"``, ``"{{ choices.text }}"``). The gold choice is a
    column (``fields.label``) or ``label_template``, rendering an index or a choice's text.
    """

    kind: Literal["multiple_choice"] = "multiple_choice"
    fields: MultipleChoiceFields
    choices: list[str] | None = Field(default=None, min_length=2)
    choices_template: str | None = None
    label_template: str | None = None
    # As classification's: "none" sums the choice's log-likelihood, "tokens"/"chars"/"bytes" divide
    # it. "greedy": each row has one choice (a continuation), chosen only when greedy decoding
    # produces it (lm-eval's loglikelihood output type and its acc: LAMBADA).
    normalization: Literal["none", "tokens", "chars", "bytes", "greedy"] = "none"

    @field_validator("choices")
    @classmethod
    def _bounded(cls, value: list[str] | None) -> list[str] | None:
        if value is not None:
            check_choice_count(len(value))
        return value

    @model_validator(mode="after")
    def _one_source_each(self) -> MultipleChoiceAdapterConfig:
        given = [k for k, v in (("fields.choices", self.fields.choices), ("choices", self.choices),
                                ("choices_template", self.choices_template)) if v is not None]
        if len(given) != 1:
            raise ValueError(f"give a row's choices one way: fields.choices (a column), choices (a list) or "
                             f"choices_template; got {', '.join(given) if given else 'none'}")
        if (self.fields.label is None) == (self.label_template is None):
            raise ValueError("give the gold choice one way: fields.label (a column) or label_template; got "
                             + ("both" if self.fields.label is not None else "neither"))
        return self


@register_adapter(MultipleChoiceAdapterConfig)
class MultipleChoiceAdapter(Adapter):
    """Fields for templates: the names under ``fields.inputs``, ``choices`` (this row's) and
    ``label_text`` (the gold choice). An input of the same name wins over ``choices``, since
    data sets often have a ``choices`` column that a template shows as is."""

    scores_choices = True


    def __init__(self, config: Any, fields: Any):
        super().__init__(config, fields)
        self._choices_template = compile_row_template(config.choices_template, "choices_template") if config.choices_template else None
        self._label_template = compile_row_template(config.label_template, "label_template") if config.label_template else None

    def variables(self) -> set[str]:
        return {*self.fields.inputs, "choices", "label_text"}  # type: ignore[attr-defined]

    def input_fields(self) -> tuple[str, ...]:
        return tuple(self.fields.inputs)  # type: ignore[attr-defined]

    @property
    def labels(self) -> tuple[str, ...]:
        # Shared choices are the classes of macro_f1; per-row ones are found among the outputs.
        return tuple(self.config.choices or ())

    def example(self, row: Mapping[str, Any], row_id: str, where: str) -> Example:
        f: Any = self.fields
        choices = self._choices(row, where)
        index = extract(row, f.context_index, where=where) if f.context_index is not None else None
        if isinstance(index, int) and not isinstance(index, bool):
            return self._several_inputs(row, row_id, where, choices, index)
        label = self._label(row, choices, where)
        fields: dict[str, Any] = {"choices": list(choices), "label_text": choices[label]}
        fields.update({name: self._input(row, spec, where, name) for name, spec in f.inputs.items()})
        return Example(id=self._id(row, row_id, where), fields=fields, references=(choices[label],),
                       choices=choices, label=label)

    def _several_inputs(self, row: Mapping[str, Any], row_id: str, where: str, choices: tuple[str, ...],
                        index: int) -> Example:
        """A row of lm-eval's multiple-input form (``fields.context_index``)."""
        f: Any = self.fields
        if not 0 <= index < len(choices):
            raise DatasetError(f"{where}: column {f.context_index!r}: gold index {index} is out of range for "
                               f"{len(choices)} choices (0 to {len(choices) - 1})")
        if self._label_template is not None:
            continuation = self._render(self._label_template, row, where, "label_template")
        else:
            continuation = self._text(row, f.label, where, "label")
        fields: dict[str, Any] = {"choices": list(choices), "label_text": choices[index]}
        fields.update({name: self._input(row, spec, where, name) for name, spec in f.inputs.items()})
        return Example(id=self._id(row, row_id, where), fields=fields, references=(choices[index],),
                       choices=choices, label=index, continuation=continuation)

    def _render(self, template: jinja2.Template, row: Mapping[str, Any], where: str, name: str) -> str:
        return render_row(template, row, where, name)

    def _choices(self, row: Mapping[str, Any], where: str) -> tuple[str, ...]:
        f: Any = self.fields
        if self.config.choices is not None:
            return tuple(self.config.choices)
        if self._choices_template is not None:
            text = self._render(self._choices_template, row, where, "choices_template")
            values = parse_list(text)
            if values is None:
                raise DatasetError(f"{where}: adapter.choices_template rendered {text[:200]!r}, which is not a list "
                                   "literal; render one, e.g. \"{{ [option_a, option_b] }}\" or \"{{ choices.text }}\"")
            source = "choices_template"
        else:
            raw = extract(row, f.choices, where=where)
            if not isinstance(raw, list):
                raise DatasetError(f"{where}: column {f.choices!r} holds {type(raw).__name__} {raw!r:.80}; "
                                   "fields.choices needs a list of choices")
            values, source = raw, f"column {f.choices!r}"
        bad = [v for v in values if not isinstance(v, (str, int, float)) or isinstance(v, bool)]
        if bad:
            raise DatasetError(f"{where}: {source}: choice {bad[0]!r} is not text; every choice must be a string")
        if self.config.normalization == "greedy" and len(values) != 1:
            raise DatasetError(f"{where}: {source} gives {len(values)} choices; normalization greedy scores one "
                               "continuation per row")
        if len(values) < 2 and self.config.normalization != "greedy":
            raise DatasetError(f"{where}: {source} gives {len(values)} choice(s); a row needs at least two")
        try:
            check_choice_count(len(values))
        except ValueError as exc:
            raise DatasetError(f"{where}: {source} gives {exc}") from None
        return tuple(str(v) for v in values)

    def _label(self, row: Mapping[str, Any], choices: tuple[str, ...], where: str) -> int:
        """The gold choice's index. An int (a column's value, or a template rendering digits) is
        an index, a bool too (false 0, true 1); text is matched against the choices (the rules of
        lm-evaluation-harness)."""
        f: Any = self.fields
        value: Any
        if self._label_template is not None:
            text = self._render(self._label_template, row, where, "label_template")
            value = int(text) if text.isdigit() else text
            source = "label_template"
            if parse_list(text) is not None and text.strip().startswith("["):
                raise DatasetError(f"{where}: label_template rendered a list ({text[:80]!r}); "
                                   "a row has one gold choice: render its index or its text")
        else:
            value = extract(row, f.label, where=where)
            source = f"column {f.label!r}"
        if isinstance(value, bool):  # lm-eval indexes the choices with it: false is 0, true is 1 (BoolQ's label)
            value = int(value)
        if isinstance(value, int):
            if 0 <= value < len(choices):
                return value
            raise DatasetError(f"{where}: {source}: gold index {value} is out of range for {len(choices)} choices "
                               f"(0 to {len(choices) - 1})")
        if isinstance(value, str) and value in choices:
            return choices.index(value)
        shown = ", ".join(repr(c) for c in choices[:10])
        raise DatasetError(f"{where}: {source}: gold {value!r} is neither an index nor one of the choices ({shown})")
