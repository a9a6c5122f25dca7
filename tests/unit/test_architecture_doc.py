"""docs/architecture.md stays true: every ``promptkit.…`` name it mentions exists."""

from __future__ import annotations

import importlib
import re
from pathlib import Path

import pytest

DOC = Path(__file__).resolve().parents[2] / "docs" / "architecture.md"
NAMES = sorted(set(re.findall(r"`(promptkit(?:\.[A-Za-z_][A-Za-z0-9_]*)+)`", DOC.read_text(encoding="utf-8"))))


def resolve(dotted: str) -> object:
    """The module or attribute ``dotted`` names: the longest importable module prefix, then attributes."""
    parts = dotted.split(".")
    for cut in range(len(parts), 0, -1):
        try:
            obj: object = importlib.import_module(".".join(parts[:cut]))
        except ModuleNotFoundError:
            continue
        for attr in parts[cut:]:
            obj = getattr(obj, attr)
        return obj
    raise ModuleNotFoundError(dotted)


def test_the_page_names_the_contract() -> None:
    assert {"promptkit.models.backend.LanguageModel", "promptkit.models.backend.Adaptation",
            "promptkit.methods.base.register_method"} <= set(NAMES)


@pytest.mark.parametrize("dotted", NAMES)
def test_every_name_on_the_page_exists(dotted: str) -> None:
    resolve(dotted)


def test_the_backend_hooks_it_lists_exist() -> None:
    from promptkit.models import HFCausalLM, HFMaskedLM, HFSeq2SeqLM

    hooks = re.search(r"override the hooks\s+(.*?), plus", DOC.read_text(encoding="utf-8"), re.S)
    assert hooks is not None
    for name in re.findall(r"`(\w+)`", hooks.group(1)):
        assert all(hasattr(cls, name) for cls in (HFCausalLM, HFSeq2SeqLM, HFMaskedLM)), name
