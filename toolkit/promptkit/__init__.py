"""promptkit: prompt learning toolkit with an evaluation harness.

Importing this package is cheap on purpose: torch, transformers, peft and accelerate are
imported by the modules that need them, so ``promptkit --help`` answers at once.
"""

from promptkit.errors import (
    ConfigError,
    DatasetError,
    ModelError,
    PromptkitError,
    TemplateError,
    UnknownNameError,
)

__version__ = "0.1.0"

__all__ = [
    "ConfigError",
    "DatasetError",
    "ModelError",
    "PromptkitError",
    "TemplateError",
    "UnknownNameError",
    "__version__",
]
