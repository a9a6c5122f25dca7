"""Search spaces and samplers: which candidates each tuned method tries, and in what order.

A search space is a mapping from settings to the values to try. The grid sampler enumerates
their product in a fixed order (or a seeded subset of it when the run caps the candidates per
method); the Optuna sampler asks Optuna's TPE for each next candidate given the dev scores so
far. Both are driven the same way, ask then tell, so :func:`tune` does not care which.
The budget is what makes a comparison fair: every tuned method of a run gets the same number of
candidates, each trained with the same steps, and a run whose spaces would give them different
budgets is refused before the model loads.
"""

from __future__ import annotations

import itertools
import math
import random
from collections.abc import Mapping, Sequence
from typing import Any, Protocol

from promptkit.config import MAX_TUNING_CANDIDATES, TuningConfig
from promptkit.errors import ConfigError, PromptkitError


class Sampler(Protocol):
    """Proposes candidates; learns their dev scores (NaN: the candidate failed)."""

    def ask(self) -> dict[str, Any] | None:
        """The next candidate's settings, or None when the budget is spent."""

    def tell(self, params: Mapping[str, Any], score: float) -> None:
        """Record the dev score of a candidate from :meth:`ask`."""


def grid(space: Mapping[str, Sequence[Any]]) -> list[dict[str, Any]]:
    """Every combination of the space's values, the first key varying slowest."""
    keys = list(space)
    return [dict(zip(keys, values, strict=True)) for values in itertools.product(*(space[k] for k in keys))]


def grid_size(space: Mapping[str, Sequence[Any]]) -> int:
    """Points of the space's grid: the product of its value lists' lengths."""
    return math.prod(len(v) for v in space.values())


def budget(space: Mapping[str, Sequence[Any]], cfg: TuningConfig) -> int:
    """Candidates a method with this space gets under ``cfg``."""
    return cfg.candidates if cfg.candidates is not None else grid_size(space)


def grid_point(space: Mapping[str, Sequence[Any]], index: int) -> dict[str, Any]:
    """Point ``index`` of :func:`grid`'s order (the first key varying slowest), without the grid."""
    point: dict[str, Any] = {}
    for key in reversed(list(space)):
        index, digit = divmod(index, len(space[key]))
        point[key] = space[key][digit]
    return {key: point[key] for key in space}


class GridSampler:
    """The grid in order, or ``n`` of its points drawn without replacement by ``seed``.

    A drawn subset is indexed into the grid, never enumerated: ``tuning.candidates`` is how a
    space of millions of points is searched at all.
    """

    def __init__(self, space: Mapping[str, Sequence[Any]], n: int | None, seed: int):
        size = grid_size(space)
        if n is not None and n < size:
            keep = sorted(random.Random(seed).sample(range(size), n))
            self._left = [grid_point(space, i) for i in keep]
        else:
            self._left = grid(space)

    def ask(self) -> dict[str, Any] | None:
        return self._left.pop(0) if self._left else None

    def tell(self, params: Mapping[str, Any], score: float) -> None:
        return None  # a grid does not adapt


class OptunaSampler:
    """Optuna's TPE over the listed values of each setting (categorical), ``n`` trials."""

    def __init__(self, space: Mapping[str, Sequence[Any]], n: int, seed: int):
        try:
            import optuna
        except ImportError as exc:
            raise PromptkitError("tuning.sampler 'optuna' needs Optuna: pip install 'promptkit[tune]' (or optuna)") from exc
        optuna.logging.set_verbosity(optuna.logging.WARNING)
        self._optuna = optuna
        self._study = optuna.create_study(direction="maximize", sampler=optuna.samplers.TPESampler(seed=seed))
        self._space = {k: list(v) for k, v in space.items()}
        self._left = n
        self._trial: Any = None

    def ask(self) -> dict[str, Any] | None:
        if self._left <= 0:
            return None
        self._left -= 1
        self._trial = self._study.ask()
        return {k: self._trial.suggest_categorical(k, v) for k, v in self._space.items()}

    def tell(self, params: Mapping[str, Any], score: float) -> None:
        if math.isnan(score):
            self._study.tell(self._trial, state=self._optuna.trial.TrialState.FAIL)
        else:
            self._study.tell(self._trial, score)


def make_sampler(space: Mapping[str, Sequence[Any]], cfg: TuningConfig, seed: int) -> Sampler:
    if cfg.sampler == "optuna":
        return OptunaSampler(space, budget(space, cfg), seed)
    return GridSampler(space, cfg.candidates, seed)


def check_grid_sizes(spaces: Mapping[str, Mapping[str, Sequence[Any]]], cfg: TuningConfig) -> None:
    """Refuse a whole grid of more than ``MAX_TUNING_CANDIDATES`` candidates (one training run
    each) when ``tuning.candidates`` does not sample it.

    Raises:
        ConfigError: naming the method, its grid's size and the length of each value list.
    """
    if cfg.candidates is not None:
        return
    for label, space in spaces.items():
        size = grid_size(space)
        if size > MAX_TUNING_CANDIDATES:
            lists = " x ".join(f"{key} {len(values)}" for key, values in space.items())
            raise ConfigError(
                f"tuning: the grid of {label} has {size:,} candidates ({lists}), each one training run; at most "
                f"{MAX_TUNING_CANDIDATES} are tried whole: set tuning.candidates: N to sample N of them, or shorten "
                "the value lists"
            )


def check_budgets(spaces: Mapping[str, Mapping[str, Sequence[Any]]], cfg: TuningConfig, untuned: Sequence[str] = ()) -> None:
    """Refuse tuned methods that would get different numbers of candidates.

    Args:
        spaces: each tuned method's label and search space.
        cfg: the run's tuning settings.
        untuned: labels of the run's other trained methods (no space): comparing a tuned method
            with an untuned one gives the first more chances, so that is refused too.

    Raises:
        PromptkitError: the budgets differ, a trained method is not tuned, or a grid is smaller
            than ``tuning.candidates``.
    """
    if not spaces:
        return
    if untuned:
        raise PromptkitError(
            f"tuning: {', '.join(spaces)} {'is' if len(spaces) == 1 else 'are'} tuned but {', '.join(untuned)} "
            f"{'is' if len(untuned) == 1 else 'are'} not, so the trained methods would not get the same budget; give "
            "every trained method a `tune` space, or use --tune (built-in spaces for the entries without one)"
        )
    sizes = {label: grid_size(space) for label, space in spaces.items()}
    listed = ", ".join(f"{label} {n}" for label, n in sizes.items())
    if cfg.candidates is None and len(set(sizes.values())) > 1:
        raise PromptkitError(
            f"tuning: methods would get different budgets (grid sizes: {listed}); give every space the "
            f"same size, or set tuning.candidates=N for N candidates each (e.g. --set tuning.candidates={min(sizes.values())})"
        )
    if cfg.candidates is not None and cfg.sampler == "grid":
        small = {label: n for label, n in sizes.items() if n < cfg.candidates}
        if small:
            raise PromptkitError(
                f"tuning.candidates={cfg.candidates} but the grid of {', '.join(f'{k} has {n}' for k, n in small.items())} "
                "candidates; lower tuning.candidates or widen the space"
            )

