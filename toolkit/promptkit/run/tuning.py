"""Tuning: a method's candidates trained and scored on the dev split, the best settings chosen.

The candidates come from the method's search space through a sampler (``promptkit.run.search``);
each is trained and scored by the same code as a cell (``promptkit.run.cell``), and the chosen
settings are then trained with every training seed and evaluated on the test split.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Sequence
from typing import Any

from promptkit import interrupt
from promptkit.config import dump
from promptkit.errors import PromptkitError
from promptkit.records import prompt_record
from promptkit.records.results import Candidate, RunResult, TuningResult
from promptkit.run.cell import Session, built, fit_and_predict, fit_context, selection_score
from promptkit.run.plan import CellSpec
from promptkit.run.progress import SavedCandidates, fingerprint
from promptkit.run.search import budget, make_sampler


def tuned(result: RunResult, spec: CellSpec) -> TuningResult | None:
    """The selection made before an interruption (a finished seed of this method kept it)."""
    return next((c.tuning for c in result.cells
                 if (c.task, c.prompt, c.method) == (spec.task.name, spec.template.name, spec.method.label) and c.tuning), None)


def tune(session: Session, spec: CellSpec) -> TuningResult:
    """Train every candidate of the method's space with the first training seed and score it on
    the dev split; return the candidates and the best settings.

    Candidates train exactly as the final seeds will (same examples, dev curves, early
    stopping), only without writing adapters; each goes through the cell's own
    :func:`~promptkit.run.cell.fit_and_predict` and :func:`~promptkit.run.cell.selection_score`.
    Finished candidates are saved as they finish; resumed, they are read back, not trained.
    """
    plan = session.plan
    cfg = plan.config
    p = spec.task
    tc = p.task.config
    seed = plan.seeds.training[0]
    training = session.prompts.training(spec, spec.method)
    final_context = fit_context(session, spec, seed, training, None, None)
    # The dev slice carved from train, or the examples of tuning.split
    split, dev_prompts = "dev (carved from the train split)", list(training.dev)
    if cfg.tuning.split is not None:
        split, dev_prompts = cfg.tuning.split, [spec.template.render(ex) for ex in p.tune_dev]
    if not dev_prompts:
        raise PromptkitError(f"task {p.name!r}: tuning {spec.method.label} needs dev examples; "
                             f"split {tc.train_split!r} has {len(p.train)} rows (tuning.dev_size={cfg.tuning.dev_size})")
    space = plan.spaces[spec.method.label]
    sampler = make_sampler(space, cfg.tuning, plan.seeds.tuning)
    total = budget(space, cfg.tuning)
    candidates: list[Candidate] = []
    saved = _saved_candidates(session, spec, training.train, dev_prompts)
    done = saved.load(rewrite=session.store.main) if session.store.resume else {}
    if not session.store.resume and session.store.main:
        saved.discard()
    while (params := sampler.ask()) is not None:
        cand_cfg = spec.method.with_settings(params)
        chosen = {k: getattr(cand_cfg, k) for k in params}
        key = fingerprint(chosen)
        if key in done:  # finished before an interruption
            candidates.append(done[key])
            sampler.tell(chosen, done[key].dev_score)
            continue
        label = f"tune {spec.method.label} candidate {len(candidates) + 1}/{total}"
        candidate, value = _candidate(session, spec, cand_cfg, chosen, label, final_context, training.train,
                                      training.n_train_examples, dev_prompts)
        candidates.append(candidate)
        sampler.tell(chosen, value)
        if session.store.main:
            saved.append(key, candidate)
        interrupt.check(f"tuning {spec.method.label} stopped after candidate {len(candidates)} (saved)")
    ok = [c for c in candidates if c.dev_score == c.dev_score]
    if not ok:
        raise PromptkitError(f"task {p.name!r}: every tuning candidate of {spec.method.label} failed; first: {candidates[0].error}")
    best = max(ok, key=lambda c: c.dev_score)  # the first of equal scores (grid order)
    return TuningResult(tc.columns()[0], split, len(dev_prompts), cfg.tuning.sampler, seed, tuple(candidates), dict(best.params))


def _candidate(session: Session, spec: CellSpec, cand_cfg: Any, chosen: dict[str, Any], label: str, context: Any,
               train_prompts: Sequence[Any], n_train: int, dev_prompts: Sequence[Any]) -> tuple[Candidate, float]:
    """One candidate trained on the train prompts and scored on the dev prompts, and its score
    unrounded (what the sampler learns). A failure, such as a learning rate that diverges, is a
    result: its score is NaN. ``label`` names it in the progress display."""
    from promptkit.methods.training import total_steps

    p = spec.task
    steps = total_steps(session.plan.config.training, n_train)  # the planned steps, also with an epochs budget

    def on_step(step: int, loss: float) -> None:
        if session.options.progress is not None:
            session.options.progress(label, step, steps)

    value, error = float("nan"), None
    with built(spec, cand_cfg, session, dataclasses.replace(context, on_step=on_step)) as method:
        t0 = time.perf_counter()
        try:
            preds, _, _ = fit_and_predict(method, train_prompts,
                                          lambda m: m.predict(dev_prompts, p.task.config.generation, p.normalization))
            value = selection_score(p, preds)
        except PromptkitError as exc:
            error = str(exc)
    return Candidate(chosen, round(value, 4), round(time.perf_counter() - t0, 3), error), value


def _saved_candidates(session: Session, spec: CellSpec, train_prompts: Sequence[Any], dev_prompts: Sequence[Any]) -> SavedCandidates:
    cfg = session.plan.config
    digest = fingerprint({
        "method": dump(spec.method), "model": dump(cfg.model), "training": dump(cfg.training), "tuning": dump(cfg.tuning),
        "seed": session.plan.seeds.training[0], "run_seed": cfg.seed, "task": [spec.task.name, spec.task.fingerprint],
        "prompt": spec.template.name,
        "train": fingerprint({"p": [prompt_record(x) for x in train_prompts]}),
        "dev": fingerprint({"p": [prompt_record(x) for x in dev_prompts]}),
    })
    return session.store.candidates(spec, digest)
