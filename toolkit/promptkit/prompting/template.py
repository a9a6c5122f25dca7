"""Sandboxed Jinja2 prompt templates.

Templates come from user YAML, so they are rendered in Jinja's immutable sandbox (no attribute
access to Python internals, no mutation) with ``StrictUndefined``: a misspelt field is an error
naming the template and the fields that exist, never a silently empty string.
"""

from __future__ import annotations

import contextlib
import signal
import threading
import time
from collections.abc import Iterable, Iterator, Sequence
from functools import lru_cache
from typing import Any

import jinja2
import jinja2.meta
import jinja2.nodes
from jinja2.exceptions import SecurityError
from jinja2.sandbox import ImmutableSandboxedEnvironment, safe_range

from promptkit.config import PromptConfig
from promptkit.errors import TemplateError, suggest
from promptkit.records import MASK_SLOT, Example, Prompt, Turn

PARTS = ("instruction", "input", "target", "answer_prefix")
# A demonstration written unlike the evaluated example (PromptConfig.fewshot.input / .target).
SHOT_PARTS = {"fewshot.input": "input", "fewshot.target": "target"}
# Variables every template may use besides the adapter's fields: ``mask``, the answer slot of a
# cloze prompt (filled with a demonstration's own answer in its demonstrations).
RESERVED = ("mask",)


# Render limits: a template is user input, and the sandbox bounds what it may touch, not how
# much it computes. Output beyond this many characters (plus twice the example's own text) or
# a render longer than RENDER_SECONDS stops with an error; so do `'a' * 10**9`-style values and
# huge widths given to string methods, before they are built.
RENDER_CHARS = 2_000_000
RENDER_SECONDS = 5.0


class RenderLimit(SecurityError):
    """A template would produce or compute too much."""


class LimitedSandbox(ImmutableSandboxedEnvironment):
    """Jinja's immutable sandbox, with the size of computed values bounded."""

    intercepted_binops = frozenset({"*", "**"})

    def call_binop(self, context: Any, operator: str, left: Any, right: Any) -> Any:
        if operator == "*":
            for seq, n in ((left, right), (right, left)):
                if isinstance(seq, (str, list, tuple)) and isinstance(n, int) and len(seq) * n > RENDER_CHARS:
                    raise RenderLimit(f"'*' would build a value of {len(seq) * n:,} items (at most {RENDER_CHARS:,})")
        if operator == "**" and isinstance(left, int) and isinstance(right, int) and abs(left) > 1 \
                and right * max(left.bit_length(), 1) > 4096:
            raise RenderLimit(f"'**' would build a number of about {right * left.bit_length():,} bits (at most 4,096)")
        return super().call_binop(context, operator, left, right)

    def call(__self, __context: Any, __obj: Any, *args: Any, **kwargs: Any) -> Any:  # noqa: N805 (Jinja's signature)
        if isinstance(getattr(__obj, "__self__", None), str):  # 'a'.center(10**9), .ljust, .zfill...
            for value in (*args, *kwargs.values()):
                if isinstance(value, int) and value > RENDER_CHARS:
                    raise RenderLimit(f"{getattr(__obj, '__name__', 'a string method')}() with {value:,} (at most {RENDER_CHARS:,})")
        return super().call(__context, __obj, *args, **kwargs)


_deadline = {"at": float("inf")}  # of the render in progress (renders do not nest)


def _range(*args: int) -> Iterator[int]:
    """The sandbox's ``range`` (at most MAX_RANGE items), checking the render's deadline as it
    goes: nested loops that print nothing still stop."""
    for k, value in enumerate(safe_range(*args)):
        if k % 1024 == 0 and time.monotonic() > _deadline["at"]:
            raise RenderLimit(f"rendering took more than {RENDER_SECONDS:g} s")
        yield value


@lru_cache(maxsize=1)
def _refuse_other_templates(tree: jinja2.nodes.Template) -> None:
    """A prompt is one template: ``{% include %}``, ``{% import %}`` and ``{% extends %}`` would
    read another template (there is none to read: the sandbox has no loader)."""
    for kind, tag in ((jinja2.nodes.Include, "include"), (jinja2.nodes.Import, "import"),
                      (jinja2.nodes.FromImport, "from ... import"), (jinja2.nodes.Extends, "extends")):
        node = next(iter(tree.find_all(kind)), None)
        if node is not None:
            raise jinja2.TemplateSyntaxError(f"{{% {tag} %}} is not available: a prompt is one template; "
                                              "write the text out (or use a macro defined in it)", node.lineno)


def environment() -> ImmutableSandboxedEnvironment:
    env = LimitedSandbox(
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
        autoescape=False,
    )
    env.globals["range"] = _range
    return env


@contextlib.contextmanager
def _alarm(seconds: float) -> Iterator[None]:
    """Raise RenderLimit in the block after ``seconds`` (a SIGALRM timer, main thread on POSIX).

    Loops over a field's characters or a list (``{% for c in context %}`` nested) print nothing
    and call no ``range``, so only a timer stops them; Python checks for the signal between
    bytecodes of the generated template code. A timer already set (pytest-timeout, a caller's
    own) is set again, less the time spent here, on the way out. Elsewhere (another thread,
    Windows) the output and ``range`` checks remain.
    """
    if not hasattr(signal, "setitimer") or threading.current_thread() is not threading.main_thread():
        yield
        return

    def expired(signum: int, frame: Any) -> None:
        raise RenderLimit(f"rendering took more than {seconds:g} s")

    previous = signal.signal(signal.SIGALRM, expired)
    start = time.monotonic()
    outer_delay, outer_interval = signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
        if outer_delay:
            signal.setitimer(signal.ITIMER_REAL, max(outer_delay - (time.monotonic() - start), 1e-3), outer_interval)


def render_limited(template: jinja2.Template, values: dict[str, Any]) -> str:
    """Render with the output size and time bounded (see RENDER_CHARS, RENDER_SECONDS)."""
    budget = RENDER_CHARS + 2 * sum(len(v) for v in values.values() if isinstance(v, str))
    deadline = _deadline["at"] = time.monotonic() + RENDER_SECONDS
    parts: list[str] = []
    size = 0
    try:
        with _alarm(RENDER_SECONDS):
            for piece in template.generate(**values):
                parts.append(piece)
                size += len(piece)
                if size > budget:
                    raise RenderLimit(f"the output passed {budget:,} characters")
                if time.monotonic() > deadline:
                    raise RenderLimit(f"rendering took more than {RENDER_SECONDS:g} s")
    finally:
        _deadline["at"] = float("inf")
    return "".join(parts)


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
        sources = {**{part: getattr(config, part) for part in PARTS},
                   **{part: getattr(config.fewshot, attr) for part, attr in SHOT_PARTS.items()}}
        for part, source in sources.items():
            if source is None:
                continue
            try:
                _refuse_other_templates(env.parse(source))
                self._compiled[part] = env.from_string(source)
            except jinja2.TemplateSyntaxError as exc:
                raise TemplateError(
                    f"{self.origin}: prompt {self.name!r}: {part}: invalid Jinja2 on line "
                    f"{exc.lineno} of the template: {exc.message}"
                ) from exc

    def variables(self) -> dict[str, set[str]]:
        """Variables used by each part of the template."""
        return {part: template_variables(self._source(part)) for part in self._compiled}

    def _source(self, part: str) -> str:
        return str(getattr(self.config.fewshot, SHOT_PARTS[part]) if part in SHOT_PARTS else getattr(self.config, part))

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
            return render_limited(template, {**dict(example.fields), "mask": mask})
        except RenderLimit as exc:
            raise TemplateError(f"{self.origin}: prompt {self.name!r}: {part}: rendering stopped: {exc} "
                                f"(example {example.id!r})") from None
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
        except (TypeError, ValueError, ArithmeticError, LookupError, AttributeError) as exc:
            # a filter or expression misused on this example's values (`{{ 0|attr }}`, `{{ x / 0 }}`)
            raise TemplateError(
                f"{self.origin}: prompt {self.name!r}: {part}: {type(exc).__name__}: {exc} (example {example.id!r})"
            ) from exc

    def render_input(self, example: Example, mask: str = MASK_SLOT) -> str:
        return self._render("input", example, mask)

    def render_target(self, example: Example) -> str:
        return self._render("target", example)

    def render_shot(self, shot: Example) -> Turn:
        """A demonstration: its input with its own answer in a cloze slot, and its target, each
        from the demonstration's own template when the prompt has one (``fewshot.input``)."""
        if shot.continuation is not None:  # lm-eval's multiple-input form: the gold choice, then the continuation
            return Turn(shot.choices[shot.label or 0], shot.continuation)
        target = self._render("fewshot.target" if "fewshot.target" in self._compiled else "target", shot)
        part = "fewshot.input" if "fewshot.input" in self._compiled else "input"
        return Turn(self._render(part, shot, target.strip()), target, self._prefix(shot))

    def _prefix(self, example: Example) -> str | None:
        return self._render("answer_prefix", example) if "answer_prefix" in self._compiled else None

    def render(self, example: Example, shots: Sequence[Example] = ()) -> Prompt:
        """Render ``example`` with demonstrations ``shots`` into a :class:`Prompt`."""
        instruction = self._render("instruction", example) if "instruction" in self._compiled else None
        turns = tuple(self.render_shot(s) for s in shots)
        several = example.continuation is not None  # lm-eval's multiple-input form (Example.continuation)
        return Prompt(
            example_id=example.id,
            template=self.name,
            query=example.choices[example.label or 0] if several else self.render_input(example),
            target=example.continuation if several else self.render_target(example),  # type: ignore[arg-type]
            references=example.references,
            instruction=instruction,
            shots=turns,
            choices=example.choices,
            label=example.label,
            fewshot_delimiter=self.config.fewshot.delimiter,
            target_delimiter=self.config.target_delimiter,
            instruction_delimiter=self.config.instruction_delimiter,
            shot_target_delimiter=self.config.fewshot.target_delimiter,
            answer_prefix=None if several else self._prefix(example),
            continuation=example.continuation,
        )

