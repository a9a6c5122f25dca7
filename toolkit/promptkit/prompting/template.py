"""Sandboxed Jinja2 prompt templates.

Templates come from user YAML, so they are rendered in Jinja's immutable sandbox (no attribute
access to Python internals, no mutation) with ``StrictUndefined``: a misspelt field is an error
naming the template and the fields that exist, never a silently empty string.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from functools import lru_cache

import jinja2
import jinja2.meta
from jinja2.sandbox import ImmutableSandboxedEnvironment

from promptkit.config import PromptConfig
from promptkit.errors import TemplateError, suggest
from promptkit.records import MASK_SLOT, Example, Prompt, Turn

PARTS = ("instruction", "input", "target")
# Variables every template may use besides the adapter's fields: ``mask``, the answer slot of a
# cloze prompt (filled with a demonstration's own answer in its demonstrations).
RESERVED = ("mask",)


@lru_cache(maxsize=1)
def environment() -> ImmutableSandboxedEnvironment:
    return ImmutableSandboxedEnvironment(
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
        autoescape=False,
    )


def template_variables(source: str) -> set[str]:
    """Top-level variables a template reads (``{{ context }}`` -> ``{"context"}``)."""
    env = environment()
    return set(jinja2.meta.find_undeclared_variables(env.parse(source)))


class PromptTemplate:
    """A compiled :class:`PromptConfig`.

    Args:
        config: the prompt definition.
        origin: where it was defined (file path), for error messages.

    Raises:
        TemplateError: a part is not valid Jinja2.
    """

    def __init__(self, config: PromptConfig, origin: str = ""):
        self.config = config
        self.name = config.name
        self.origin = origin or config.name
        env = environment()
        self._compiled: dict[str, jinja2.Template] = {}
        for part in PARTS:
            source = getattr(config, part)
            if source is None:
                continue
            try:
                self._compiled[part] = env.from_string(source)
            except jinja2.TemplateSyntaxError as exc:
                raise TemplateError(
                    f"{self.origin}: prompt {self.name!r}: {part}: invalid Jinja2 on line "
                    f"{exc.lineno} of the template: {exc.message}"
                ) from exc

    def variables(self) -> dict[str, set[str]]:
        """Variables used by each part of the template."""
        return {part: template_variables(getattr(self.config, part)) for part in self._compiled}

    def check_fields(self, available: Iterable[str]) -> list[str]:
        """Messages for every variable the template uses that the adapter does not provide."""
        available = set(available)
        problems = []
        for part, names in self.variables().items():
            for name in sorted(names - available - set(RESERVED)):
                hint = suggest(name, available)
                hint = f"{hint} " if hint.startswith("did you mean") else ""
                problems.append(
                    f"prompt {self.name!r}: {part}: unknown field {name!r}; "
                    f"{hint}(available: {', '.join(sorted(available))})"
                )
        return problems

    @property
    def cloze(self) -> bool:
        """The input has an answer slot (``{{ mask }}``)."""
        return "mask" in self.variables().get("input", set())

    def _render(self, part: str, example: Example, mask: str = MASK_SLOT) -> str:
        template = self._compiled[part]
        try:
            return template.render(**{**dict(example.fields), "mask": mask})
        except jinja2.UndefinedError as exc:
            fields = sorted(example.fields)
            missing = str(exc.message or exc)
            raise TemplateError(
                f"{self.origin}: prompt {self.name!r}: {part}: {missing} "
                f"(example {example.id!r}; available fields: {', '.join(fields)})"
            ) from exc
        except jinja2.TemplateError as exc:
            raise TemplateError(
                f"{self.origin}: prompt {self.name!r}: {part}: {exc} (example {example.id!r})"
            ) from exc

    def render_input(self, example: Example, mask: str = MASK_SLOT) -> str:
        return self._render("input", example, mask)

    def render_target(self, example: Example) -> str:
        return self._render("target", example)

    def render(self, example: Example, shots: Sequence[Example] = ()) -> Prompt:
        """Render ``example`` with demonstrations ``shots`` into a :class:`Prompt`."""
        instruction = self._render("instruction", example) if "instruction" in self._compiled else None
        turns = tuple(Turn(self.render_input(s, self.render_target(s).strip()), self.render_target(s)) for s in shots)
        return Prompt(
            example_id=example.id,
            template=self.name,
            query=self.render_input(example),
            target=self.render_target(example),
            references=example.references,
            instruction=instruction,
            shots=turns,
            choices=example.choices,
            label=example.label,
            fewshot_delimiter=self.config.fewshot.delimiter,
            target_delimiter=self.config.target_delimiter,
        )

