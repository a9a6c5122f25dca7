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

Adding a tracker is one class here (or in any module) registered in :data:`TRACKERS`: its
package, how to start one of its runs, and how a report file is attached. ``--report-to``'s
choices and the run config's check come from the registry. Only the main process writes
(accelerate's trackers check); a missing package is a one-line error before the model loads.
"""

from __future__ import annotations

import importlib.util
import os
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any, ClassVar, TypeVar

from promptkit.errors import ConfigError, PromptkitError
from promptkit.registry import Registry


class TrackerKind:
    """One kind of experiment tracker (a registry entry).

    Args:
        run_dir: the run directory (trackers that keep files locally keep them there).
        run_id: the run's id (the experiment or project name).
    """

    name: ClassVar[str]
    package: ClassVar[str]  # imported by the tracker; its absence is refused before the model loads

    def __init__(self, run_dir: Path, run_id: str):
        self.run_dir = run_dir
        self.run_id = run_id

    def start(self, run_name: str) -> Any:
        """A new tracker run (an object with ``start``, ``store_init_configuration``, ``log``,
        ``finish``, as accelerate's trackers have)."""
        raise NotImplementedError

    def attach(self, tracker: Any, path: Path) -> None:
        """Attach a report file to the report run (default: report.md as text)."""
        if path.suffix == ".md":
            tracker.log({"report": path.read_text(encoding="utf-8")}, step=0)


TRACKERS: Registry[type[TrackerKind]] = Registry("tracker")
K = TypeVar("K", bound=type[TrackerKind])


def register_tracker(name: str, package: str) -> Callable[[K], K]:
    """Class decorator: register a tracker kind under ``name``, needing ``package``."""

    def decorator(cls: K) -> K:
        cls.name, cls.package = name, package
        TRACKERS.register(name)(cls)
        return cls

    return decorator


def tracker_names() -> list[str]:
    """``--report-to``'s choices, in registration order."""
    return TRACKERS.in_order()


@register_tracker("tensorboard", "tensorboard")
class TensorBoard(TrackerKind):
    def start(self, run_name: str) -> Any:
        from accelerate.tracking import TensorBoardTracker

        return TensorBoardTracker(run_name, self.run_dir / "tensorboard")


@register_tracker("wandb", "wandb")
class WandB(TrackerKind):
    def start(self, run_name: str) -> Any:
        from accelerate.tracking import WandBTracker

        return WandBTracker(self.run_id, name=run_name, group=self.run_id)

    def attach(self, tracker: Any, path: Path) -> None:
        if hasattr(tracker, "log_artifact"):
            tracker.log_artifact(str(path))
        else:
            import wandb

            wandb.save(str(path), base_path=str(path.parent))


@register_tracker("mlflow", "mlflow")
class MLflow(TrackerKind):
    def start(self, run_name: str) -> Any:
        from accelerate.tracking import MLflowTracker

        if "MLFLOW_TRACKING_URI" not in os.environ:
            import mlflow

            # MLflow 3 keeps the local file store behind an opt-in; it is the store that
            # needs no server or database, next to the run's other files
            os.environ.setdefault("MLFLOW_ALLOW_FILE_STORE", "true")
            mlflow.set_tracking_uri((self.run_dir / "mlruns").resolve().as_uri())
        return MLflowTracker(experiment_name=self.run_id, run_name=run_name)

    def attach(self, tracker: Any, path: Path) -> None:
        if hasattr(tracker, "log_artifact"):
            tracker.log_artifact(str(path))
        else:
            super().attach(tracker, path)


@register_tracker("trackio", "trackio")
class Trackio(TrackerKind):
    def start(self, run_name: str) -> Any:
        from accelerate.tracking import TrackioTracker

        return TrackioTracker(self.run_id, name=run_name)


def check_trackers(names: Sequence[str]) -> None:
    """Every asked tracker is known and its package importable.

    Raises:
        UnknownNameError: a name no tracker is registered under (with "did you mean").
        ConfigError: one line per missing package, with the install command.
    """
    kinds = [TRACKERS.get(n, "--report-to") for n in names]
    missing = [k for k in kinds if importlib.util.find_spec(k.package) is None]
    if missing:
        raise ConfigError("; ".join(f"--report-to {k.name} needs the {k.package} package: pip install 'promptkit[{k.name}]'"
                                    for k in missing))


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
        self._kinds = [TRACKERS.get(n)(self.run_dir, run_id) for n in self.names]

    def _start(self, run_name: str, config: Mapping[str, Any]) -> list[tuple[TrackerKind, Any]]:
        from accelerate import PartialState

        PartialState()  # accelerate's trackers write from the main process only
        started = []
        for kind in self._kinds:
            tracker = kind.start(run_name)
            try:
                tracker.start()
                if config:
                    tracker.store_init_configuration(_scalars(config))
            except Exception as exc:  # a tracker server down, a store it cannot write
                reason = str(exc).strip().splitlines()[0][:300] if str(exc).strip() else type(exc).__name__
                raise PromptkitError(f"--report-to {kind.name}: cannot start the tracker run {run_name!r} ({reason})") from exc
            started.append((kind, tracker))
        return started

    def cell(self, name: str, config: Mapping[str, Any]) -> CellTracker | None:
        """Start the tracker runs of a cell (None without trackers)."""
        return CellTracker([t for _, t in self._start(name, config)]) if self.names else None

    def report(self, files: Sequence[Path]) -> None:
        """Attach the run's report files to a last tracker run, ``<run id>/report``."""
        if not self.names:
            return
        for kind, tracker in self._start(f"{self.run_id}/report", {}):
            for path in files:
                if path.is_file():
                    kind.attach(tracker, path)
            tracker.finish()
