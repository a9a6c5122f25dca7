"""Run configuration layering: defaults < run YAML < CLI options < ``--set``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from promptkit.config.run import RunConfig, build_run_config
from promptkit.errors import ConfigError
from promptkit.methods import FewShotConfig, ZeroShotConfig

RUN_YAML = """\
batch_size: 4
seed: 3
limit: 10
data_dir: /data/from/yaml
methods:
  - zero-shot
  - {kind: few-shot, shots: 2}
model:
  name: from-yaml
  dtype: float32
"""


@pytest.fixture
def run_yaml(tmp_path: Path) -> Path:
    path = tmp_path / "run.yaml"
    path.write_text(RUN_YAML)
    return path


def test_defaults() -> None:
    config = build_run_config()
    assert config == RunConfig()
    assert (config.batch_size, config.seed, config.limit, config.out_dir, config.methods) == (16, 0, None, "reports", [])
    assert config.model.name is None and config.model.chat_template is None  # auto, or off for lm-eval tasks (plan.chat_mode)


def test_yaml_over_defaults(run_yaml: Path) -> None:
    config = build_run_config(run_yaml)
    assert (config.batch_size, config.seed, config.limit) == (4, 3, 10)
    assert config.methods == [ZeroShotConfig(), FewShotConfig(shots=2)]
    assert (config.model.name, config.model.dtype, config.model.device) == ("from-yaml", "float32", "auto")


def test_cli_options_over_yaml(run_yaml: Path) -> None:
    options: dict[str, Any] = {"batch_size": 16, "model.name": "from-cli", "limit": None, "tasks": ("squad", "sst2"), "tasks_dir": ()}
    config = build_run_config(run_yaml, options)
    assert config.batch_size == 16
    assert config.model.name == "from-cli" and config.model.dtype == "float32"  # sibling keys kept
    assert config.limit == 10  # None: not given, the YAML value stays
    assert config.tasks == ["squad", "sst2"]
    assert config.tasks_dir == []


def test_set_over_cli_options(run_yaml: Path) -> None:
    config = build_run_config(run_yaml, {"batch_size": 16, "model.name": "from-cli"}, ["batch_size=2", "model.name=from-set"])
    assert config.batch_size == 2 and config.model.name == "from-set"


@pytest.mark.parametrize(
    ("options", "sets", "check"),
    [
        ({"seed": 0}, [], lambda c: c.seed == 0),
        ({"data_dir": ""}, [], lambda c: c.data_dir == ""),
        ({}, ["seed=0"], lambda c: c.seed == 0),
        ({}, ["data_dir="], lambda c: c.data_dir == ""),
        ({}, ['data_dir=""'], lambda c: c.data_dir == ""),
        ({}, ["data_dir=null"], lambda c: c.data_dir is None),
        ({"methods": ("zero-shot",)}, ["shots=0"], lambda c: c.shots == 0),  # with few-shot, 0 is refused
        ({}, ["bootstrap_samples=0"], lambda c: c.bootstrap_samples == 0),
        ({"model.trust_remote_code": True}, ["model.trust_remote_code=false"], lambda c: c.model.trust_remote_code is False),
    ],
)
def test_explicit_false_zero_and_empty_are_kept(run_yaml: Path, options: dict[str, Any], sets: list[str], check: Any) -> None:
    assert check(build_run_config(run_yaml, options, sets))


def test_explicit_false_in_yaml_is_kept(tmp_path: Path) -> None:
    path = tmp_path / "run.yaml"
    path.write_text("model: {trust_remote_code: false}\nseed: 0\nrun_id: ''\n")
    config = build_run_config(path, {"seed": None, "run_id": None})
    assert config.model.trust_remote_code is False and config.seed == 0 and config.run_id == ""


def test_set_routes_method_keys_to_the_method_entry(run_yaml: Path) -> None:
    config = build_run_config(run_yaml, sets=["few-shot.shots=5", "seed=9"])
    assert config.methods == [ZeroShotConfig(), FewShotConfig(shots=5)]
    assert config.seed == 9


def test_set_addresses_default_methods() -> None:
    config = build_run_config(sets=["few-shot.shots=4"], default_methods=["zero-shot", "few-shot"])
    assert config.methods == [ZeroShotConfig(), FewShotConfig(shots=4)]
    # CLI methods replace the defaults.
    config = build_run_config(options={"methods": ("few-shot",)}, sets=["few-shot.shots=6"], default_methods=["zero-shot", "few-shot"])
    assert config.methods == [FewShotConfig(shots=6)]


def test_set_for_a_method_not_in_the_run() -> None:
    with pytest.raises(ConfigError) as info:
        build_run_config(options={"methods": ("zero-shot",)}, sets=["few-shot.shots=5"])
    assert str(info.value) == (
        "--set 'few-shot.shots=5': method 'few-shot' is not in this run (methods: zero-shot); add --method few-shot"
    )
    with pytest.raises(ConfigError, match=r"\(methods: none\)"):
        build_run_config(sets=["few-shot.shots=5"])


def test_set_with_a_bad_method_value_is_validated(run_yaml: Path) -> None:
    with pytest.raises(ConfigError) as info:
        build_run_config(run_yaml, sets=["few-shot.shots=0"])
    (problem,) = info.value.problems
    # named as the user wrote it, not by its place in the run's method list
    assert (problem.file, problem.line, problem.key) == ("--set", None, "few-shot.shots")
    assert "greater than or equal to 1 (got 0)" in problem.message
    with pytest.raises(ConfigError) as info:
        build_run_config(run_yaml, sets=["few-shot.shtos=3"])
    assert str(info.value).startswith("--set: few-shot.shtos: unknown key 'shtos'; did you mean 'shots'?")
    with pytest.raises(ConfigError) as info:
        build_run_config(sets=["lora.target_modules=[q_proj, 1]"], default_methods=["zero-shot", "lora"])
    assert [p.key for p in info.value.problems] == ["lora.target_modules[1]"]


def test_problems_of_the_yaml_itself_keep_file_and_line(tmp_path: Path) -> None:
    path = tmp_path / "run.yaml"
    path.write_text("methods:\n  - {kind: lora, rank: 0}\n")
    with pytest.raises(ConfigError) as info:
        build_run_config(path, sets=["lora.alpha=8"])
    (problem,) = info.value.problems
    assert (problem.file, problem.line, problem.key) == (str(path), 2, "methods[0].rank")


@pytest.mark.parametrize(
    ("item", "fragment"),
    [
        ("batch_size", "--set 'batch_size': expected key=value (e.g. batch_size=4)"),
        ("=4", "--set '=4': expected key=value"),
        ("batch_size=[4", "--set 'batch_size=[4': value is not valid YAML"),
    ],
)
def test_bad_set_syntax(item: str, fragment: str) -> None:
    with pytest.raises(ConfigError) as info:
        build_run_config(sets=[item])
    assert fragment in str(info.value)


def test_named_entries_compare_configurations_of_one_method() -> None:
    methods = ["lora", {"kind": "lora", "rank": 64, "name": "lora-r64"}, {"kind": "prompt-tuning", "name": "pt-50", "num_virtual_tokens": 50}]
    config = build_run_config(options={"methods": tuple(methods)}, sets=["lora.dropout=0", "lora-r64.alpha=128", "prompt-tuning.lr=0.1"])
    assert [m.label for m in config.methods] == ["lora", "lora-r64", "pt-50"]
    # `lora.` reaches the entry labelled lora; a name reaches its entry; a kind with no entry of
    # that label reaches every entry of the kind
    assert [(m.dropout, m.alpha) for m in config.methods[:2]] == [(0.0, 16.0), (0.05, 128.0)]
    assert config.methods[2].lr == 0.1


@pytest.mark.parametrize(
    ("methods", "fragment"),
    [
        (["lora", "lora"], "methods listed twice: ['lora']; give each entry a different name"),
        (["lora", {"kind": "lora", "name": "lora"}], "methods listed twice: ['lora']"),
        ([{"kind": "lora", "name": "prompt-tuning"}], "method name 'prompt-tuning' is another method's kind"),
        ([{"kind": "lora", "name": "r 8"}], "methods[0].name: string should match pattern"),
    ],
)
def test_bad_method_names(methods: list[Any], fragment: str) -> None:
    with pytest.raises(ConfigError) as info:
        build_run_config(options={"methods": tuple(methods)})
    assert fragment in str(info.value)


def test_unknown_run_key_did_you_mean() -> None:
    with pytest.raises(ConfigError) as info:
        build_run_config(sets=["batchsize=3"])
    (problem,) = info.value.problems
    assert problem.key == "batchsize"
    assert problem.message.startswith("unknown key 'batchsize'; did you mean 'batch_size'?")
    with pytest.raises(ConfigError, match=r"model\.nme: unknown key 'nme'; did you mean 'name'\?"):
        build_run_config(sets=["model.nme=x"])


def test_run_yaml_problems_have_file_and_line(tmp_path: Path) -> None:
    path = tmp_path / "run.yaml"
    path.write_text("batch_sise: 4\nseed: many\nmodel:\n  dtype: fp8\n")
    with pytest.raises(ConfigError) as info:
        build_run_config(path)
    problems = sorted(info.value.problems, key=lambda p: p.line or 0)
    assert [(p.file, p.line, p.key) for p in problems] == [
        (str(path), 1, "batch_sise"),
        (str(path), 2, "seed"),
        (str(path), 4, "model.dtype"),
    ]
    assert "did you mean 'batch_size'?" in problems[0].message
    assert "'auto', 'float32', 'bfloat16' or 'float16'" in problems[2].message


def test_run_yaml_missing_method_kind(tmp_path: Path) -> None:
    path = tmp_path / "run.yaml"
    path.write_text("methods:\n  - {shots: 3}\n")
    with pytest.raises(ConfigError) as info:
        build_run_config(path)
    (problem,) = info.value.problems
    assert (problem.line, problem.key) == (2, "methods[0]")
    assert problem.message == (
        "missing 'kind'; accepted: 'zero-shot', 'few-shot', 'prompt-tuning', 'prefix-tuning', "
        "'p-tuning', 'lora', 'dora', 'ia3', 'full', 'adapter'"
    )


def test_run_yaml_must_exist(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="file not found"):
        build_run_config(tmp_path / "nope.yaml")


def test_cli_options_do_not_mutate_the_yaml(run_yaml: Path) -> None:
    build_run_config(run_yaml, {"model.name": "x"}, ["few-shot.shots=9"])
    assert build_run_config(run_yaml).methods == [ZeroShotConfig(), FewShotConfig(shots=2)]
    assert build_run_config(run_yaml).model.name == "from-yaml"


def test_set_problem_of_a_whole_entry_is_named_by_its_label() -> None:
    # The `tune` space is checked against the entry's settings, a problem of the entry itself.
    with pytest.raises(ConfigError) as info:
        build_run_config(sets=["lora.tune={lrr: [0.1]}"], default_methods=["zero-shot", "lora"])
    (problem,) = info.value.problems
    assert (problem.file, problem.key) == ("--set", "lora")
    assert "tune.lrr: not a setting of lora; did you mean 'lr'?" in problem.message
