"""Methods, one module each, registered by ``kind`` with their config classes.

Adding a method: a module with ``XConfig`` (a ``MethodBase``/``TunableBase``) and ``XMethod``
decorated with ``@register_method(XConfig)``, plus its import line below. The run config's
``methods`` union, the CLI's ``--method`` choices and the kinds that learn are derived here.
"""

from __future__ import annotations

from typing import Annotated, Any, Union

from pydantic import Field

# isort: off
# Registration lines: importing a module registers its methods, in this order (the order of CLI
# choices, of the run config's union and of the kinds error messages list).
from promptkit.methods.zero_shot import FewShotConfig, ZeroShotConfig
from promptkit.methods.prompt_tuning import PrefixTuningConfig, PromptTuningConfig, PTuningConfig
from promptkit.methods.lora import DoraConfig, LoraConfig
from promptkit.methods.ia3 import IA3Config
from promptkit.methods.full import FullConfig
from promptkit.methods.adapter import SavedAdapterConfig

# isort: on
from promptkit.methods.base import METHODS, Method, register_method
from promptkit.methods.trainable import FitContext, PeftMethod, TrainableMethod


def method_kinds() -> list[str]:
    """Every registered kind, in registration order (the order of the ``methods`` union)."""
    return METHODS.in_order()


def learning_kinds() -> list[str]:
    """Kinds that fit on the train split."""
    return [k for k in method_kinds() if METHODS.get(k).learns]


def cli_kinds() -> list[str]:
    """Kinds ``--method`` offers: those whose config needs nothing beyond its kind (a saved
    adapter needs a path: ``--adapter PATH``)."""
    return [k for k in method_kinds() if not any(f.is_required() for f in METHODS.get(k).config_class.model_fields.values())]


def _config_union() -> Any:
    configs = tuple(METHODS.get(k).config_class for k in method_kinds())
    return Annotated[Union[configs], Field(discriminator="kind")]


MethodConfig = _config_union()

__all__ = [
    "METHODS",
    "DoraConfig",
    "FewShotConfig",
    "FitContext",
    "FullConfig",
    "IA3Config",
    "LoraConfig",
    "Method",
    "MethodConfig",
    "PTuningConfig",
    "PeftMethod",
    "PrefixTuningConfig",
    "PromptTuningConfig",
    "SavedAdapterConfig",
    "TrainableMethod",
    "ZeroShotConfig",
    "cli_kinds",
    "learning_kinds",
    "method_kinds",
    "register_method",
]
