"""Several processes under ``accelerate launch`` (or ``torchrun``): data parallelism.

A single process is the common case and costs nothing here: no ``torch.distributed`` call is
made. With N processes (``WORLD_SIZE`` > 1):

- evaluation prompts are dealt out across the processes and the predictions gathered back in
  order, so every process holds the same complete list (predictions do not depend on batch
  composition, so the result equals a single-process run);
- training splits every batch across the processes; the loss weights make the averaged
  gradient equal to the single-process one (see :mod:`promptkit.methods.training`);
- only the main process writes files (results, samples, reports, adapters, checkpoints); the
  others wait for it where they read what it wrote.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, TypeVar

T = TypeVar("T")


@dataclass(frozen=True)
class Processes:
    """This process's place among the processes of a run (rank 0 is the main process)."""

    rank: int = 0
    world: int = 1
    local_rank: int = 0

    @property
    def is_main(self) -> bool:
        return self.rank == 0

    @property
    def distributed(self) -> bool:
        return self.world > 1

    def shard(self, order: Sequence[int]) -> list[int]:
        """This process's share of ``order``: every ``world``-th item from its rank (dealt like
        cards, so a longest-first ``order`` gives every process a similar amount of work)."""
        return list(order[self.rank :: self.world])

    def all_gather(self, obj: T) -> list[T]:
        """Every process's ``obj``, by rank, on every process."""
        if not self.distributed:
            return [obj]
        import torch.distributed as dist

        parts: list[Any] = [None] * self.world
        dist.all_gather_object(parts, obj)
        return parts

    def gather(self, items: Sequence[T], index: Sequence[int], n: int) -> list[T]:
        """Reassemble a sharded list: ``items[j]`` is this process's result for position
        ``index[j]`` of a list of ``n``; every process gets the whole list in order."""
        if not self.distributed:
            return list(items)
        out: list[Any] = [None] * n
        for idx, part in self.all_gather((list(index), list(items))):
            for i, item in zip(idx, part, strict=True):
                out[i] = item
        missing = [i for i, x in enumerate(out) if x is None]
        if missing:
            raise RuntimeError(f"gather: no process returned positions {missing[:5]}")
        return out

    def sum(self, values: Sequence[float]) -> list[float]:
        """Element-wise sum of ``values`` over the processes."""
        parts = self.all_gather([float(v) for v in values])
        return [sum(col) for col in zip(*parts, strict=True)]

    def broadcast(self, obj: T) -> T:
        """The main process's ``obj`` on every process."""
        return self.all_gather(obj)[0] if self.distributed else obj

    def barrier(self) -> None:
        if self.distributed:
            import torch.distributed as dist

            dist.barrier()

    @contextmanager
    def main_first(self, local: bool = False) -> Iterator[None]:
        """The main process runs the block first (e.g. writes a file); the others after it.
        ``local``: the main process of each machine (a per-machine cache)."""
        first = (self.local_rank if local else self.rank) == 0
        if not first:
            self.barrier()
        try:
            yield
        finally:  # also on error: the others then meet the same error themselves, not a hang
            if first:
                self.barrier()


def launched_world_size() -> int:
    """Processes started by the launcher (1 without ``accelerate launch`` / ``torchrun``)."""
    try:
        return int(os.environ.get("WORLD_SIZE", "1"))
    except ValueError:
        return 1


@functools.cache
def current() -> Processes:
    """This process's :class:`Processes`; initialises the process group under a launcher
    (through accelerate: NCCL on GPUs, gloo on CPUs)."""
    if launched_world_size() <= 1:
        return Processes()
    import torch
    from accelerate import PartialState

    # accelerate sets up processes without GPUs (gloo) only when told it runs on CPU
    cpu = os.environ.get("ACCELERATE_USE_CPU", "").lower() in ("1", "true", "yes") or not torch.cuda.is_available()
    state = PartialState(cpu=cpu)
    return Processes(rank=state.process_index, world=state.num_processes, local_rank=state.local_process_index)
