"""One generic name -> object registry, with "did you mean" on lookups."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any, Generic, TypeVar

from promptkit.errors import UnknownNameError

T = TypeVar("T")


class Registry(Generic[T]):
    """Maps names to objects (classes or factories) of one kind.

    Args:
        kind: what is registered, used in error messages ("metric", "adapter", ...).
    """

    def __init__(self, kind: str):
        self.kind = kind
        self._items: dict[str, T] = {}

    def register(self, name: str) -> Callable[[T], T]:
        """Decorator registering ``obj`` under ``name``; a name can be registered once."""

        def decorator(obj: T) -> T:
            if name in self._items and self._items[name] is not obj:
                raise ValueError(f"{self.kind} {name!r} is already registered")
            self._items[name] = obj
            return obj

        return decorator

    def register_with_config(self, config: Any) -> Callable[[T], T]:
        """Class decorator: register a class with its config class (a pydantic model whose
        ``kind`` field defaults to the name), under that ``kind``; the class gets ``kind`` and
        ``config_class``. Methods and task adapters are registered this way, and the config
        unions that pick them are derived from the registry."""
        kind = config.model_fields["kind"].default

        def decorator(cls: T) -> T:
            cls.kind = kind  # type: ignore[attr-defined]
            cls.config_class = config  # type: ignore[attr-defined]
            return self.register(kind)(cls)

        return decorator

    def get(self, name: str, where: str = "") -> T:
        """Look ``name`` up, raising :class:`UnknownNameError` with a suggestion."""
        try:
            return self._items[name]
        except KeyError:
            raise UnknownNameError(self.kind, name, self._items, where) from None

    def names(self) -> list[str]:
        return sorted(self._items)

    def in_order(self) -> list[str]:
        """Names in the order they were registered."""
        return list(self._items)

    def __contains__(self, name: object) -> bool:
        return name in self._items

    def __iter__(self) -> Iterator[str]:
        return iter(self.names())
