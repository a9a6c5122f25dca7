"""QLoRA settings (``model.quantization``): checked before any weight is read; CPU-only tests of
the configuration, the refusals and the parameter count of 4-bit packed weights."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import pytest
import torch
from click.testing import CliRunner
from promptkit.cli import cli
from promptkit.errors import ModelError
from promptkit.models.quantization import check_quantization, logical_numel, quantization_config, quantization_of

QA = Path(__file__).resolve().parents[1] / "fixtures" / "tiny" / "qa.yaml"


def test_a_quantized_model_is_refused_off_cuda_with_what_to_do() -> None:
    with pytest.raises(ModelError, match=r"^model.quantization 'nf4' needs a CUDA GPU \(bitsandbytes\); this run's device "
                                         r"is 'cpu'; set model.quantization: none$"):
        check_quantization("nf4", "cpu")
    check_quantization("none", "cpu")  # the default loads anywhere


def test_the_cli_refuses_quantization_on_cpu_before_loading_weights(tiny_llama_dir: Path, tmp_path: Path) -> None:
    outcome = CliRunner().invoke(cli, ["eval", "--task", str(QA), "--model", str(tiny_llama_dir), "--device", "cpu",
                                       "--method", "zero-shot", "--out", str(tmp_path), "--set", "model.quantization=int8"])
    assert outcome.exit_code == 2 and "Traceback" not in outcome.output
    assert outcome.output.strip().splitlines()[-1].startswith("error: model.quantization 'int8' needs a CUDA GPU")


def test_full_fine_tuning_of_a_quantized_model_is_refused_before_the_model_loads(tmp_path: Path) -> None:
    outcome = CliRunner().invoke(cli, ["eval", "--task", str(QA), "--model", str(tmp_path / "never-read"), "--method", "lora",
                                       "--method", "full", "--out", str(tmp_path), "--set", "model.quantization=nf4"])
    assert outcome.exit_code == 2, outcome.output
    assert "full fine-tuning (full) cannot train quantized weights; use lora" in outcome.output
    assert "loading the model" not in outcome.output


def test_unknown_quantizations_are_refused_with_the_accepted_ones(tmp_path: Path) -> None:
    outcome = CliRunner().invoke(cli, ["eval", "--task", str(QA), "--out", str(tmp_path), "--set", "model.quantization=fp8"])
    assert outcome.exit_code == 2 and "'none', 'nf4' or 'int8'" in outcome.output


def test_the_qlora_recipe_is_nf4_with_double_quantization_and_the_run_dtype() -> None:
    nf4 = quantization_config("nf4", torch.bfloat16)
    assert (nf4.load_in_4bit, nf4.bnb_4bit_quant_type, nf4.bnb_4bit_use_double_quant, nf4.bnb_4bit_compute_dtype) == (
        True, "nf4", True, torch.bfloat16)
    assert quantization_config("int8", torch.bfloat16).load_in_8bit is True
    assert quantization_config("none", torch.float32) is None
    model = SimpleNamespace(config=SimpleNamespace(quantization_config=nf4))
    assert quantization_of(model) == "nf4" and quantization_of(SimpleNamespace(config=SimpleNamespace())) == "none"
    assert quantization_of(SimpleNamespace(config=SimpleNamespace(quantization_config={"load_in_8bit": True}))) == "int8"


def test_a_4bit_packed_weight_counts_the_parameters_it_stands_for() -> None:
    packed = torch.zeros(64 * 32 // 2, 1, dtype=torch.uint8)  # how bitsandbytes stores a 64 x 32 NF4 weight
    packed.quant_state = SimpleNamespace(shape=torch.Size([64, 32]))  # type: ignore[attr-defined]
    assert packed.numel() == 1024 and logical_numel(packed) == 2048
    assert logical_numel(torch.zeros(3, 5)) == 15
