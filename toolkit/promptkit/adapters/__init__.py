"""Task adapters: one module per kind, registered by ``adapter.kind``.

Adding an adapter is one module that subclasses :class:`Adapter`, registers itself in
``ADAPTERS`` and is imported here (plus its config model in :mod:`promptkit.config`).
"""

from promptkit.adapters import classification, generation, multiple_choice, qa, translation
from promptkit.adapters.base import ADAPTERS, Adapter

__all__ = ["ADAPTERS", "Adapter", "classification", "generation", "multiple_choice", "qa", "translation"]
