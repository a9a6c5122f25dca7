"""What the commands share: choices read from the config and the registries, the library noise
turned down, the command line as typed."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import click


class LazyChoice(click.Choice):
    """Choices computed when first needed, from the one place that defines them (a registry or a
    config ``Literal``), never restated here; ``promptkit --help`` builds no config class."""

    def __init__(self, source: Callable[[], Sequence[str]]) -> None:
        self._source = source
        super().__init__([])

    @property
    def choices(self) -> tuple[str, ...]:
        return tuple(self._source())

    @choices.setter
    def choices(self, value: object) -> None:
        pass  # click.Choice.__init__ assigns; the source is the source


def literal(field: str) -> Callable[[], list[str]]:
    """The values of a config field's ``Literal`` (``"model.dtype"``, ``"run.launcher"``)."""

    def values() -> list[str]:
        from promptkit.config import ModelConfig
        from promptkit.config.documents import literal_values
        from promptkit.config.run import RunConfig

        owner, name = field.split(".")
        owners: dict[str, Any] = {"model": ModelConfig, "run": RunConfig}
        return literal_values(owners[owner].model_fields[name].annotation)

    return values


def method_choices() -> list[str]:
    from promptkit.methods import cli_kinds

    return cli_kinds()


def backend_choices() -> list[str]:
    from promptkit.models.backends import BACKENDS

    return list(BACKENDS)


def tracker_choices() -> list[str]:
    from promptkit.run.tracking import tracker_names

    return tracker_names()


def quiet_libraries() -> None:
    # Our own progress bars replace transformers' per-load bars; errors still propagate.
    import os
    import warnings

    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    # Deprecation notices from the libraries are for their API users, not for promptkit's users.
    for module in ("transformers", "peft", "torch", "accelerate"):
        warnings.filterwarnings("ignore", category=FutureWarning, module=module)
        warnings.filterwarnings("ignore", category=DeprecationWarning, module=module)
    warnings.filterwarnings("ignore", message="Position ids are not supported for parameter efficient tuning")
    from transformers.utils import logging as hf_logging

    hf_logging.set_verbosity_error()
    hf_logging.disable_progress_bar()


invocation: dict[str, list[str]] = {}  # the arguments main() was called with


def command_line() -> str:
    """This invocation as a shell command (``promptkit eval ...``) for results.json; "" when the
    CLI is driven without :func:`main` (click's test runner, a notebook)."""
    import shlex

    args = invocation.get("args")
    return shlex.join(["promptkit", *args]) if args is not None else ""
