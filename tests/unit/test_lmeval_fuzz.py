"""Any lm-evaluation-harness task file, however wrong, converts or is refused with promptkit's own
error (one line per problem, file and line named): never a traceback. Hypothesis edits the SST-2
style fixture, key by key: values of every YAML type (and ``!function`` tags), keys that are
not strings (``1:``, ``true:``, ``null:``, which crashed the converter), and keys dropped."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest
import yaml
from helpers import error_lines, invoke
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from promptkit.errors import PromptkitError
from promptkit.tasks.lmeval import convert_file

ROOT = Path(__file__).resolve().parents[2]
FIXTURE = ROOT / "tests" / "fixtures" / "lmeval"
BASE: dict[str, Any] = yaml.safe_load((FIXTURE / "sst2_choice.yaml").read_text(encoding="utf-8"))

SCALARS = st.none() | st.booleans() | st.integers(-5, 10**6) | st.floats(allow_nan=False, allow_infinity=False) | st.text(max_size=12)
VALUES = st.recursive(SCALARS, lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3),
                      max_leaves=6)
KEYS = st.sampled_from([*BASE, "include", "group", "process_docs", "fewshot_config", "num_fewshot", "filter_list",
                        "generation_kwargs", "target_delimiter", "fewshot_delimiter", "should_decontaminate"]) | st.text(max_size=8)
ODD_KEYS = st.sampled_from(["1", "true", "null", "2.5", "~", "[a]", "{b: 1}", "? [x]\n"])


def yaml_text(data: dict[Any, Any], odd: list[str], functions: list[str]) -> str:
    text = yaml.safe_dump(data, sort_keys=False, allow_unicode=True)
    for key in functions:  # lm-eval's tag, never imported
        text += f"{key}: !function utils.{key}\n"
    for key in odd:
        text += f"{key}: value\n" if not key.startswith("?") else key + ": value\n"
    return text


@settings(max_examples=300, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(changes=st.dictionaries(KEYS, VALUES, max_size=4), dropped=st.sets(st.sampled_from(sorted(BASE)), max_size=3),
       odd=st.lists(ODD_KEYS, max_size=2, unique=True), functions=st.lists(st.sampled_from(["doc_to_text", "process_results"]), max_size=1))
def test_fuzz_an_edited_lm_eval_file_converts_or_is_refused(changes: dict[str, Any], dropped: set[str], odd: list[str],
                                                           functions: list[str], tmp_path_factory: pytest.TempPathFactory) -> None:
    folder = tmp_path_factory.mktemp("lm")
    shutil.copytree(FIXTURE / "data", folder / "data")
    data = {k: v for k, v in {**BASE, **changes}.items() if k not in dropped}
    path = folder / "task.yaml"
    path.write_text(yaml_text(data, odd, functions), encoding="utf-8")
    try:
        convert_file(path)
    except PromptkitError as exc:
        assert str(exc).strip(), "an error with no message"


@pytest.mark.parametrize("key", ["1", "true", "null", "2.5"])
def test_a_key_that_is_not_a_string_is_refused_naming_its_line(key: str, tmp_path: Path) -> None:
    shutil.copytree(FIXTURE, tmp_path / "lm")
    path = tmp_path / "lm" / "sst2_choice.yaml"
    path.write_text(path.read_text(encoding="utf-8") + f"{key}: x\n", encoding="utf-8")
    result = invoke(["tasks", "validate", f"lm-eval:{path}"])
    assert result.exit_code == 2 and "Traceback" not in result.output, result.output
    errors = error_lines(result)
    assert len(errors) == 1 and f"sst2_choice.yaml:{len(path.read_text().splitlines())}" in errors[0], errors
    assert "is not a name" in errors[0]
