"""Task adapters: one module per kind, each defining its config class beside its adapter class.

Adding an adapter: a module with ``XAdapterConfig`` (a ``Strict`` model with ``kind: Literal["x"]``)
and ``XAdapter`` decorated with ``@register_adapter(XAdapterConfig)``, plus its import line
below. The task config's ``adapter`` union (:data:`AdapterConfig`) is derived from the registry.
"""

from __future__ import annotations

from typing import Annotated, Any, Union

from pydantic import Field

# isort: off
# Registration lines: importing a module registers its adapter, in this order.
from promptkit.tasks.adapters import qa, translation, generation, classification, multiple_choice  # noqa: F401
from promptkit.tasks.adapters.base import ADAPTERS, Adapter, register_adapter

# isort: on


def adapter_configs() -> tuple[Any, ...]:
    """Every registered adapter's config class, in registration order."""
    return tuple(ADAPTERS.get(k).config_class for k in ADAPTERS.in_order())


def _config_union() -> Any:
    return Annotated[Union[adapter_configs()], Field(discriminator="kind")]


AdapterConfig = _config_union()

__all__ = ["ADAPTERS", "Adapter", "AdapterConfig", "adapter_configs", "register_adapter"]
