"""What crash safety costs and saves, and how fast a bad file fails.

    python benchmarks/resume_overhead.py [--limit 200] [--repeats 3] [--batch-size 16] [--save-every 128]

1. Saving as it goes: zero-shot on squad_demo (shipped with the repository) with the embedded
   model, in this one process, alternating chunks of ``--save-every`` examples (the default is
   8 batches: 128 examples at batch 16; fewer make saves more frequent, the worst case) against
   one chunk holding the whole cell (one call, one save).
2. A resume: a ``promptkit eval`` process killed with SIGKILL after all but the last chunk were
   saved (``PROMPTKIT_KILL_AT``), then ``promptkit eval --resume``: whole-process wall times
   against the uninterrupted run.
3. The time from ``promptkit eval --task bad.yaml`` to its error, whole process.

Run alone: two torch processes on 2 cores slow each other down.
"""

from __future__ import annotations

import argparse
import math
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import OFFLINE_ENV, markdown_table, summary  # noqa: E402


def cell_seconds(out: Path, run_id: str, limit: int, batch: int, save_every: int | None) -> float:
    from promptkit.config.run import RunConfig
    from promptkit.run import run as run_config

    config = RunConfig.model_validate({"tasks": ["squad_demo"], "methods": ["zero-shot"], "limit": limit, "batch_size": batch,
                                       "out_dir": str(out), "run_id": run_id, "save_every": save_every, "bootstrap_samples": 100})
    return float(run_config(config).cells[-1].timings["predict_s"])


def timed(args: list[str], kill_at: str | None = None) -> tuple[float, int, str]:
    env = {**OFFLINE_ENV, **({"PROMPTKIT_KILL_AT": kill_at} if kill_at else {})}
    t0 = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "promptkit.cli", *args], env=env, capture_output=True, text=True)
    return time.perf_counter() - t0, done.returncode, done.stderr


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--limit", type=int, default=200)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--save-every", type=int, default=None, help="examples per saved chunk (default: 8 batches)")
    args = parser.parse_args()
    batch = args.batch_size
    every = args.save_every or 8 * batch
    default, whole = f"chunks of {every} examples, each saved", "one chunk (no intermediate saves)"
    times: dict[str, list[float]] = {default: [], whole: []}
    full, killed, resumed = [], [], []
    n_chunks = math.ceil(args.limit / every)
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp)
        for r in range(args.repeats):
            order = [(every, default), (args.limit, whole)]
            for save_every, label in order if r % 2 == 0 else order[::-1]:
                times[label].append(cell_seconds(out, f"in-{r}-{save_every}", args.limit, batch, save_every))
            common = ["eval", "--task", "squad_demo", "--method", "zero-shot", "--limit", str(args.limit),
                      "--batch-size", str(batch), "--set", f"save_every={every}", "--out", str(out)]
            wall, rc, err = timed([*common, "--run-id", f"full-{r}"])
            assert rc == 0, err
            full.append(wall)
            wall, rc, _ = timed([*common, "--run-id", f"cut-{r}"], kill_at=f"chunk-saved:{n_chunks - 1}")
            assert rc == -9, rc
            killed.append(wall)
            wall, rc, err = timed(["eval", "--resume", str(out / f"cut-{r}")])
            assert rc == 0, err
            resumed.append(wall)
        bad = out / "bad.yaml"
        bad.write_text("name: bad\nversion: 1\ngenration: {}\n")
        first_error, rc, err = timed(["eval", "--task", str(bad)])
    rows = [f"| {label} | {summary(v)} |" for label, v in times.items()]
    print(markdown_table([f"zero-shot, squad_demo, {args.limit} examples, batch {batch}", "prediction s, median (min-max)"], rows))
    print()
    print(markdown_table(["whole process", "wall s, median (min-max)"], [
        f"| uninterrupted run | {summary(full)} |",
        f"| run killed (SIGKILL) after {n_chunks - 1} of {n_chunks} chunks were saved | {summary(killed)} |",
        f"| `--resume` of it (computes the last chunk) | {summary(resumed)} |",
    ]))
    print(f"\ntime to the first error on a bad task file (whole process): {first_error:.2f} s, exit {rc}: "
          f"{err.strip().splitlines()[-1]}")


if __name__ == "__main__":
    main()
