"""Training checkpoints as one safetensors file: tensors in its body, everything else as JSON.

A checkpoint holds the trainable parameters, AdamW's state, the scheduler, every random state and
the report so far. Pickle (``torch.save``) could hold all of that, and unpickling runs whatever
code the file names: a run directory handed over by someone else must not be able to do that.
safetensors stores only tensors and a string header, so the non-tensor structure goes into the
header's metadata as JSON, with each tensor replaced by a reference to its key. Tuples (Python's
random state) and dicts with non-string keys (the optimizer's per-parameter state) are tagged so
that they come back as they went in.

One file, written to a temporary name, fsync'd and renamed: a kill leaves the previous
checkpoint or this one, whole.
"""

from __future__ import annotations

import json
import os
import random
from pathlib import Path
from typing import Any

from promptkit.errors import TrainingError
from promptkit.tasks.catalog import display_path

# Tag keys of the JSON structure; a dict using one of them as a key of its own is stored tagged.
_TENSOR, _TUPLE, _ITEMS = "__tensor__", "__tuple__", "__items__"
_META_KEY = "promptkit.checkpoint"
FORMAT = 1


class CheckpointFormatError(ValueError):
    """The file is not a promptkit checkpoint (or holds a value it cannot store)."""


def _encode(value: Any, tensors: dict[str, Any]) -> Any:
    import torch

    if isinstance(value, torch.Tensor):
        key = f"t{len(tensors)}"
        # contiguous copies that share no storage: safetensors refuses views of one buffer
        tensors[key] = value.detach().to("cpu").contiguous().clone()
        return {_TENSOR: key}
    if isinstance(value, bool) or value is None or isinstance(value, (int, float, str)):
        return value
    if isinstance(value, tuple):
        return {_TUPLE: [_encode(v, tensors) for v in value]}
    if isinstance(value, list):
        return [_encode(v, tensors) for v in value]
    if isinstance(value, dict):
        if all(isinstance(k, str) for k in value) and not {_TENSOR, _TUPLE, _ITEMS} & set(value):
            return {k: _encode(v, tensors) for k, v in value.items()}
        return {_ITEMS: [[_encode(k, tensors), _encode(v, tensors)] for k, v in value.items()]}
    raise CheckpointFormatError(f"a checkpoint cannot store a {type(value).__name__}")


def _decode(value: Any, tensors: dict[str, Any]) -> Any:
    if isinstance(value, list):
        return [_decode(v, tensors) for v in value]
    if not isinstance(value, dict):
        return value
    if set(value) == {_TENSOR}:
        if value[_TENSOR] not in tensors:
            raise CheckpointFormatError(f"tensor {value[_TENSOR]!r} is missing")
        return tensors[value[_TENSOR]]
    if set(value) == {_TUPLE}:
        return tuple(_decode(v, tensors) for v in value[_TUPLE])
    if set(value) == {_ITEMS}:
        return {_decode(k, tensors): _decode(v, tensors) for k, v in value[_ITEMS]}
    return {k: _decode(v, tensors) for k, v in value.items()}


def write_checkpoint(path: Path, data: dict[str, Any]) -> None:
    """Save ``data`` (tensors, numbers, strings, lists, tuples, dicts) at ``path`` atomically."""
    from safetensors.torch import save

    tensors: dict[str, Any] = {}
    structure = _encode(data, tensors)
    blob = save(tensors, metadata={_META_KEY: json.dumps({"format": FORMAT, "data": structure})})
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    with tmp.open("wb") as fh:
        fh.write(blob)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)


def read_checkpoint(path: Path) -> Any:
    """What :func:`write_checkpoint` saved. Nothing in the file is executed.

    Raises:
        CheckpointFormatError: no promptkit metadata, another format version, a missing tensor.
        safetensors.SafetensorError / OSError: an unreadable or truncated file.
    """
    from safetensors import safe_open

    with safe_open(str(path), framework="pt", device="cpu") as fh:
        meta = (fh.metadata() or {}).get(_META_KEY)
        if meta is None:
            raise CheckpointFormatError("a safetensors file without promptkit's checkpoint metadata")
        header = json.loads(meta)
        if not isinstance(header, dict) or header.get("format") != FORMAT:
            raise CheckpointFormatError(f"checkpoint format {header.get('format') if isinstance(header, dict) else '?'!r}, "
                                        f"this promptkit reads format {FORMAT}")
        tensors = {key: fh.get_tensor(key) for key in fh.keys()}  # noqa: SIM118 (safe_open has no __iter__)
    return _decode(header["data"], tensors)


def load_training_checkpoint(path: Path) -> dict[str, Any]:
    """A training checkpoint. Its format holds tensors and plain values only, so a checkpoint
    from elsewhere cannot run code. Unreadable: a one-line error saying what to do."""
    try:
        saved = read_checkpoint(path)
        needed = {"step", "trainable", "report"} if isinstance(saved, dict) and saved.get("final") else \
            {"step", "trainable", "optimizer", "scheduler", "rng"}
        if not isinstance(saved, dict) or not needed <= set(saved):
            raise ValueError("not a promptkit training checkpoint")
    except Exception as e:  # truncated file, a pickle or another format
        reason = str(e).strip().splitlines()[0][:200] if str(e).strip() else type(e).__name__
        raise TrainingError(f"{display_path(path)}: cannot resume from this checkpoint ({reason}); "
                            "delete it to train this cell from the start") from None
    return saved


def rng_state() -> dict[str, Any]:
    """Every random state training draws from (dropout, shuffles)."""
    import numpy as np
    import torch

    kind, keys, pos, has_gauss, gauss = np.random.get_state()
    # numpy's key array as a tensor: a checkpoint stores tensors and plain values only
    state = {"torch": torch.get_rng_state(), "py": random.getstate(),
             "np": (kind, torch.from_numpy(np.asarray(keys, dtype=np.int64)), int(pos), int(has_gauss), float(gauss))}
    if torch.cuda.is_available() and torch.cuda.is_initialized():
        state["cuda"] = torch.cuda.get_rng_state()
    return state


def set_rng_state(state: dict[str, Any]) -> None:
    import numpy as np
    import torch

    torch.set_rng_state(state["torch"])
    random.setstate(state["py"])
    kind, keys, pos, has_gauss, gauss = state["np"]
    np.random.set_state((kind, np.asarray(keys, dtype=np.int64).astype(np.uint32), pos, has_gauss, gauss))
    if "cuda" in state and torch.cuda.is_available():
        torch.cuda.set_rng_state(state["cuda"])
