"""Experiment trackers (``--report-to``): a run's cells in the tracker the user already has.

Through accelerate's tracker classes, so the names and behaviour are accelerate's own:
``tensorboard`` (event files under ``<run>/tensorboard/<cell>``), ``mlflow`` (a file store
``<run>/mlruns`` unless ``MLFLOW_TRACKING_URI`` says otherwise; experiment = the run id),
``wandb`` and ``trackio`` (their own settings and environment variables: ``WANDB_MODE=offline``
works without network). Each cell is one tracker run named ``task/prompt/method[/seed-k]``:
its settings as hyperparameters, training loss and learning rate at every optimizer step, dev
loss and metric at each evaluation, then the final metrics with their interval bounds and the
cost figures. The report (results.json, report.md, report.html) is attached to a last run,
``<run id>/report`` (as artifacts in MLflow and W&B, as text in TensorBoard).

Only the main process writes (accelerate's trackers check); a missing package is a one-line
error before the model loads.
"""

from __future__ import annotations

import importlib.util
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from promptkit.errors import ConfigError, PromptkitError

TRACKERS = ("tensorboard", "wandb", "mlflow", "trackio")
_NEEDS = {"tensorboard": "tensorboard", "wandb": "wandb", "mlflow": "mlflow", "trackio": "trackio"}


def check_trackers(names: Sequence[str]) -> None:
    """Every asked tracker's package is importable.

    Raises:
        ConfigError: one line per missing package, with the install command.
    """
    missing = [n for n in names if importlib.util.find_spec(_NEEDS[n]) is None]
    if missing:
        raise ConfigError("; ".join(f"--report-to {n} needs the {_NEEDS[n]} package: pip install 'promptkit[{n}]'"
                                    for n in missing))


def _scalars(values: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    """Nested settings flattened to the scalar values trackers take (lists as text)."""
    out: dict[str, Any] = {}
    for key, value in values.items():
        name = f"{prefix}{key}"
        if isinstance(value, Mapping):
            out.update(_scalars(value, name + "."))
        elif isinstance(value, (bool, int, float, str)) or value is None:
            out[name] = "none" if value is None else value
        else:
            out[name] = str(value)
    return out


class CellTracker:
    """The tracker runs of one cell (one per ``--report-to`` name)."""

    def __init__(self, trackers: list[Any]):
        self._trackers = trackers

    def log(self, step: int, values: Mapping[str, float]) -> None:
        for t in self._trackers:
            t.log(dict(values), step=step)

    def finish(self, cell: Any) -> None:
        """Final metrics (value and interval) and costs of the finished ``cell``, then close."""
        final: dict[str, float] = {}
        for name, s in cell.metrics.items():
            final.update({f"test/{name}": s.value, f"test/{name}_ci_low": s.ci_low, f"test/{name}_ci_high": s.ci_high})
        if cell.cost is not None:
            final.update({f"cost/{k}": float(v) for k, v in cell.cost.to_dict().items() if isinstance(v, (int, float))})
        final.update({f"eval/{k}": float(v) for k, v in cell.throughput.items()})
        step = cell.training.steps if cell.training is not None else 0
        for t in self._trackers:
            if final:
                t.log(final, step=step)
            t.finish()


class Trackers:
    """The ``--report-to`` trackers of a run directory."""

    def __init__(self, names: Sequence[str], run_dir: Path, run_id: str):
        self.names = list(dict.fromkeys(names))
        self.run_dir = Path(run_dir)
        self.run_id = run_id
        if self.names:
            check_trackers(self.names)

    def _start(self, run_name: str, config: Mapping[str, Any]) -> list[Any]:
        from accelerate import PartialState
        from accelerate.tracking import MLflowTracker, TensorBoardTracker, TrackioTracker, WandBTracker

        PartialState()  # accelerate's trackers write from the main process only
        started = []
        for name in self.names:
            if name == "tensorboard":
                tracker: Any = TensorBoardTracker(run_name, self.run_dir / "tensorboard")
            elif name == "mlflow":
                if "MLFLOW_TRACKING_URI" not in os.environ:
                    import mlflow

                    # MLflow 3 keeps the local file store behind an opt-in; it is the store that
                    # needs no server or database, next to the run's other files
                    os.environ.setdefault("MLFLOW_ALLOW_FILE_STORE", "true")
                    mlflow.set_tracking_uri((self.run_dir / "mlruns").resolve().as_uri())
                tracker = MLflowTracker(experiment_name=self.run_id, run_name=run_name)
            elif name == "wandb":
                tracker = WandBTracker(self.run_id, name=run_name, group=self.run_id)
            else:
                tracker = TrackioTracker(self.run_id, name=run_name)
            try:
                tracker.start()
                if config:
                    tracker.store_init_configuration(_scalars(config))
            except Exception as exc:  # a tracker server down, a store it cannot write
                reason = str(exc).strip().splitlines()[0][:300] if str(exc).strip() else type(exc).__name__
                raise PromptkitError(f"--report-to {name}: cannot start the tracker run {run_name!r} ({reason})") from exc
            started.append(tracker)
        return started

    def cell(self, name: str, config: Mapping[str, Any]) -> CellTracker | None:
        """Start the tracker runs of a cell (None without trackers)."""
        return CellTracker(self._start(name, config)) if self.names else None

    def report(self, files: Sequence[Path]) -> None:
        """Attach the run's report files to a last tracker run, ``<run id>/report``."""
        if not self.names:
            return
        for tracker in self._start(f"{self.run_id}/report", {}):
            for path in files:
                if not path.is_file():
                    continue
                if tracker.name in ("mlflow", "wandb") and hasattr(tracker, "log_artifact"):
                    tracker.log_artifact(str(path))
                elif tracker.name == "wandb":
                    import wandb

                    wandb.save(str(path), base_path=str(path.parent))
                elif path.suffix == ".md":
                    tracker.log({"report": path.read_text(encoding="utf-8")}, step=0)
            tracker.finish()
