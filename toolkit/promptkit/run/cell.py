"""One cell of a run: fit -> predict -> score -> record.

A cell is one task x prompt template x method entry x training seed. :func:`run_cell` trains the
method (a trained method on its prompts of the train split), predicts the evaluated examples in
saved chunks (``promptkit.run.progress``), scores them with intervals and records everything in
a :class:`~promptkit.records.results.CellResult` and the samples file. A
:class:`~promptkit.errors.PromptkitError` becomes the cell's error and the run goes on. Tuning
candidates (``promptkit.run.tuning``) go through the same :func:`fit_and_predict` and
:func:`selection_score`.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from promptkit import interrupt
from promptkit.config import dump
from promptkit.errors import PromptkitError
from promptkit.faults import kill_point
from promptkit.harness import Runtime
from promptkit.models.batching import ProgressFn
from promptkit.records import Prediction, Prompt, prompt_record
from promptkit.records.results import CellContext, CellResult, TuningResult
from promptkit.records.samples import SampleRow
from promptkit.run.options import RunOptions
from promptkit.run.plan import CellSpec, Plan, PreparedTask
from promptkit.run.progress import chunks, fingerprint
from promptkit.run.prompts import PromptFitter, TrainingPrompts
from promptkit.run.store import RunStore
from promptkit.seeding import derive

Rows = dict[Path, list[SampleRow]]  # samples file (relative) -> its rows so far


@dataclass(frozen=True)
class Outcome:
    """A cell's evaluated prompts, their predictions, and the fit and predict wall times."""

    prompts: list[Prompt]
    predictions: list[Prediction]
    fit_s: float
    predict_s: float


@dataclass
class Session:
    """What the cells of one run share in one process: the plan, the run directory, the model
    with its runtime, the prompt fitter, the trackers and the options."""

    plan: Plan
    store: RunStore
    lm: Any
    runtime: Runtime
    prompts: PromptFitter
    trackers: Any
    options: RunOptions
    # The forgetting probe with the base model's scores (promptkit.analysis.forgetting); None: off.
    forgetting: Any = None

    def failure(self, exc: Exception) -> str:
        """The one-line error of a cell. A promptkit error says what to do; anything else (a bug,
        out of memory, a full disk) is named by its type, and the run goes on with the next cell."""
        if isinstance(exc, PromptkitError):
            return str(exc)
        if self.options.debug:
            raise exc
        text = str(exc).strip().splitlines()[0][:300] if str(exc).strip() else ""
        return f"{type(exc).__name__}: {text} (run with --debug for the traceback)" if text else \
            f"{type(exc).__name__} (run with --debug for the traceback)"


def new_cell(spec: CellSpec, method_cfg: Any) -> CellResult:
    """The record of a cell before it runs."""
    return CellResult(task=spec.task.name, prompt=spec.template.name, method=method_cfg.label, method_config=dump(method_cfg),
                      task_version=str(spec.task.task.config.version), prompt_version=str(spec.template.config.version),
                      n=len(spec.task.examples), seed=spec.seed)


def selection_score(p: PreparedTask, preds: list[Prediction]) -> float:
    """The task's first column without an interval (its first metric, on its first filter's
    results when it has filters): what dev curves and tuning select on."""
    from promptkit.metrics import score

    column = p.task.config.columns()[0]
    # dev rows come from the train split, or from tuning.split (which then wins)
    filtered = row_values(p, preds, [*p.train, *p.tune_dev])
    return score([column], preds, metric_context(p), n_boot=0, filtered=filtered)[column].value


def row_values(p: PreparedTask, preds: Sequence[Prediction], examples: Sequence[Any]) -> list[dict[str, str]] | None:
    """What the task's columns score besides the outputs: each filter pipeline's answer, and an
    lm-eval task's values of its lm-eval: columns (promptkit.tasks.lmeval.results), per row."""
    from promptkit.tasks.filters import filter_predictions

    tc, scoring, code = p.task.config, p.task.lm_eval_scoring, p.task.code
    where = f"task {p.name!r}"

    def runner(ex: Any) -> Any:  # the task's code filters on one row (lm-eval's trusted task code)
        assert code is not None
        return code.filter_runner(ex.doc if ex is not None and ex.doc is not None else {}, f"{where} row {ex.id if ex else '?'}")

    filtered = filter_predictions(tc.filters, preds, examples, runner if code is not None else None)
    if scoring is None:
        return filtered
    functions = code.functions if code is not None else {}
    pipelines: list[str | None] = [f.name for f in tc.filters] or [None]
    values = scoring.values(functions, preds, examples, pipelines, filtered, where)
    return [{**(filtered[i] if filtered else {}), **v} for i, v in enumerate(values)]


def metric_context(p: PreparedTask) -> Any:
    """What the task's metrics need: the adapter's context with the task's metric options."""
    from promptkit.metrics import StringMatchOptions

    options = StringMatchOptions.from_mapping(dump(p.task.config.metric_options.string_match))
    return dataclasses.replace(p.metric_context, string_match=options, task=p.name)


@contextmanager
def built(spec: CellSpec, method_cfg: Any, session: Session, context: Any) -> Iterator[Any]:
    """The cell's method on the session's model; the base model is given back afterwards."""
    method = spec.method_cls(method_cfg, session.lm, session.runtime, context)
    try:
        yield method
    finally:
        method.release()


def fit_and_predict(method: Any, train: Sequence[Prompt],
                    predict: Callable[[Any], list[Prediction]]) -> tuple[list[Prediction], float, float]:
    """``method.fit(train)`` then ``predict(method)``; the predictions and both wall times."""
    t0 = time.perf_counter()
    method.fit(train)
    t1 = time.perf_counter()
    preds = predict(method)
    return preds, t1 - t0, time.perf_counter() - t1


def fit_context(session: Session, spec: CellSpec, seed: int, prompts: TrainingPrompts, workdir: Path | None,
                on_step: Callable[[int, float], None] | None) -> Any:
    """What a trained method needs from the run (promptkit.methods.FitContext)."""
    from promptkit.methods import FitContext

    p = spec.task
    tc = p.task.config
    return FitContext(training=session.plan.config.training, seed=derive(seed, "training"), workdir=workdir, dev=prompts.dev,
                      dev_score=(lambda preds: selection_score(p, preds)) if prompts.n_dev_examples else None,
                      metric_name=tc.columns()[0], generation=tc.generation, on_step=on_step)


def run_cell(session: Session, spec: CellSpec, rows: Rows, tuning: TuningResult | None = None) -> CellResult:
    """Fit, evaluate and record one cell; a PromptkitError becomes the cell's error."""
    # tuned: the chosen settings, validated like the entry itself
    method_cfg = spec.method.with_settings(tuning.chosen) if tuning is not None else spec.method
    cell = new_cell(spec, method_cfg)
    cell.tuning = tuning
    name = "/".join([spec.task.name, spec.template.name, cell.method, *([f"seed-{spec.seed}"] if spec.seed is not None else [])])
    tracker = session.trackers.cell(name, {"task": spec.task.name, "prompt": spec.template.name, "method": dump(method_cfg),
                                           "seed": spec.seed, "model": dump(session.plan.config.model)})
    try:
        outcome = _fit_and_predict_cell(session, spec, cell, method_cfg, tracker)
        if outcome is not None:
            try:
                _record_scores(session, spec, cell, outcome, rows)
            except Exception as exc:  # e.g. the disk filled up while writing its samples
                cell.error = session.failure(exc)
        return cell
    finally:
        if tracker is not None:
            tracker.finish(cell)


def _fit_and_predict_cell(session: Session, spec: CellSpec, cell: CellResult, method_cfg: Any,
                          tracker: Any) -> Outcome | None:
    """The cell's prompts, predictions and times (None: the cell failed, its error recorded)."""
    try:
        train_prompts: list[Prompt] = []
        context = None
        if spec.seed is not None:
            training = session.prompts.training(spec, method_cfg)
            cell.context = CellContext(training=training.train_report, dev=training.dev_report)
            train_prompts = training.train
            context = fit_context(session, spec, spec.seed, training,
                                  session.store.cell_dir(spec.task.name, spec.template.name, method_cfg.label, spec.seed),
                                  _step_progress(session, f"train {method_cfg.label}", session.plan.config.training, training.n_train_examples))
            if tracker is not None:
                context = dataclasses.replace(context, on_log=tracker.log)
        probe_failed = ""
        if session.forgetting is not None and spec.method_cls.adapts:
            probe_failed = _probe(session, lambda: session.forgetting.base(session.lm, session.runtime))  # the bare model
        with built(spec, method_cfg, session, context) as method:
            cell.shots = session.prompts.shots(spec, method_cfg)
            fitted = session.prompts.evaluation(spec, method_cfg, method.model, method.chat, cell.method)
            cell.context = dataclasses.replace(cell.context or CellContext(), evaluation=fitted.report.summary())
            prompts = fitted.prompts
            preds, fit_s, predict_s = fit_and_predict(
                method, train_prompts, lambda m: _predict_saved(session, spec, m, prompts, cell, train_prompts, fitted.skip))
            fallbacks = session.lm.take_notes()
            if fallbacks:  # --backend vllm: what ran on the Hugging Face backend instead, and why
                cell.context = dataclasses.replace(cell.context or CellContext(), backend=tuple(fallbacks))
            if method.adapts:
                _record_adaptation(session, cell, method)
                if session.forgetting is not None and not probe_failed:
                    probe_failed = _probe(session, lambda: setattr(cell, "forgetting", session.forgetting.measure(method)))
                if probe_failed:  # the cell's scores stand; the figure is missing, and why is said
                    notes = (*(cell.context.backend if cell.context else ()), f"forgetting probe not measured: {probe_failed}")
                    cell.context = dataclasses.replace(cell.context or CellContext(), backend=notes)
    except Exception as exc:
        cell.error = session.failure(exc)
        return None
    return Outcome(prompts, preds, fit_s, predict_s)


def _probe(session: Session, measure: Callable[[], Any]) -> str:
    """Run a forgetting-probe step; its failure ("" when none) must not cost the cell its scores."""
    try:
        measure()
    except Exception as exc:
        return session.failure(exc)
    return ""


def _step_progress(session: Session, label: str, training: Any, n_train: int) -> Callable[[int, float], None]:
    from promptkit.methods.training import total_steps

    total = total_steps(training, n_train)  # the planned steps, also with an epochs budget

    def on_step(step: int, loss: float) -> None:
        if session.options.progress is not None:
            session.options.progress(label, step, total)

    return on_step


def _predict_saved(session: Session, spec: CellSpec, method: Any, prompts: list[Prompt], cell: CellResult,
                   train_prompts: Sequence[Prompt], skip: frozenset[int] = frozenset()) -> list[Prediction]:
    """Predict in fixed chunks, saving each chunk's predictions as it finishes; resumed, the
    chunks saved before the interruption are read back instead of computed. Prompts in
    ``skip`` (too long, policy ``skip``) get an empty prediction without reaching the model."""
    cfg = session.plan.config
    store = session.store
    n = len(prompts)
    spans = chunks(n, cfg.save_every or 8 * cfg.batch_size)
    saved = store.progress(spec, _cell_hash(session, spec, cell, prompts, train_prompts))
    have = saved.load(spans, rewrite=store.main) if store.resume else {}
    if not store.resume and store.main:
        saved.discard()
    preds: list[Prediction | None] = [have.get(i) for i in range(n)]
    for i in skip:
        preds[i] = skipped_prediction(prompts[i])
    runtime = method.runtime
    for span in spans:
        todo = [i for i in span if preds[i] is None]
        if not todo:
            continue
        method.runtime = dataclasses.replace(runtime, progress=_offset(runtime.progress, span.start, len(todo), n))
        try:
            out = method.predict([prompts[i] for i in todo], spec.task.task.config.generation, spec.task.normalization)
        finally:
            method.runtime = runtime
        for i, pred in zip(todo, out, strict=True):
            preds[i] = pred
        if store.main:
            saved.append(zip(todo, out, strict=True))
            kill_point("chunk-saved")
        interrupt.check(f"{spec.method.label} stopped after {span.stop} of {n} examples (saved)")
    return [pr for pr in preds if pr is not None]


def _cell_hash(session: Session, spec: CellSpec, cell: CellResult, prompts: Sequence[Prompt], train_prompts: Sequence[Prompt]) -> str:
    """What a cell's predictions depend on: saved progress of another configuration (a
    changed data file, template, model or setting) is never mixed in."""
    cfg = session.plan.config
    return fingerprint({
        "task": [spec.task.name, cell.task_version], "prompt": [cell.prompt, cell.prompt_version],
        "method": cell.method_config, "seed": cell.seed, "shots": cell.shots,
        "model": dump(cfg.model), "training": dump(cfg.training) if spec.seed is not None else None,
        "generation": dump(spec.task.task.config.generation), "normalization": spec.task.normalization,
        "batch_size": cfg.batch_size, "save_every": cfg.save_every,
        "prompts": fingerprint({"p": [prompt_record(x) for x in prompts]}),
        "train": fingerprint({"p": [prompt_record(x) for x in train_prompts]}),
    })


def _record_adaptation(session: Session, cell: CellResult, method: Any) -> None:
    cost = method.cost()
    if cell.tuning is not None:
        cost = dataclasses.replace(cost, tuning_s=round(sum(c.train_s for c in cell.tuning.candidates), 3))
    cell.cost = cost
    cell.training = method.training_
    cell.chat_template = method.chat
    if method.adapter_path_ is not None:
        cell.adapter = session.store.relative(method.adapter_path_)


def _record_scores(session: Session, spec: CellSpec, cell: CellResult, outcome: Outcome, rows: Rows) -> None:
    """Scores with intervals, timings and throughput into the cell; its rows into the samples file."""
    from promptkit.metrics import score

    prompts, preds, predict_s = outcome.prompts, outcome.predictions, outcome.predict_s
    p = spec.task
    tc = p.task.config
    groups = p.groups(preds)
    plan = session.plan
    filtered = row_values(p, preds, p.examples)
    scores = score(tc.columns(), preds, metric_context(p), n_boot=plan.config.bootstrap_samples,
                   seed=plan.seeds.bootstrap, groups=groups, filtered=filtered)
    cell.metrics = scores
    out_tokens = sum(pr.output_tokens for pr in preds)
    cell.timings = {"fit_s": round(outcome.fit_s, 3), "predict_s": round(predict_s, 3)}
    cell.throughput = {
        "examples_per_s": round(len(preds) / max(predict_s, 1e-9), 3),
        "output_tokens_per_s": round(out_tokens / max(predict_s, 1e-9), 3),
        "prompt_tokens": float(sum(pr.prompt_tokens for pr in preds)),
        "output_tokens": float(out_tokens),
    }
    rel = RunStore.samples_file(p.name, cell.method)
    cell.samples = rel.as_posix()
    file_rows = rows.setdefault(rel, [])
    file_rows.extend(sample_rows(spec.template.name, cell.method, cell.seed, prompts, preds, scores, groups, filtered))
    session.store.write_rows(rel, file_rows)


def skipped_prediction(prompt: Prompt) -> Prediction:
    """What a prompt skipped for its length gets: an empty answer, scored as wrong."""
    return Prediction(example_id=prompt.example_id, prompt=prompt.text, output="", references=prompt.references,
                      choices=prompt.choices, label=prompt.label)


def _offset(progress: ProgressFn | None, start: int, size: int, total: int) -> ProgressFn | None:
    """A chunk's progress as progress through the whole cell, in the chunk's own unit (prompts
    generated, or choices scored: ``of`` per ``size`` prompts)."""
    if progress is None:
        return None

    def report(label: str, done: int, of: int) -> None:
        per_prompt = of / max(size, 1)
        progress(label, round(per_prompt * start) + done, round(per_prompt * total))

    return report


def sample_rows(prompt_name: str, method: str, seed: int | None, prompts: Sequence[Prompt], preds: Sequence[Prediction],
                scores: dict[str, Any], groups: Sequence[str] | None = None,
                filtered: Sequence[dict[str, str]] | None = None) -> list[SampleRow]:
    """The samples-file rows of a cell, one per evaluated example (with its filters' results)."""
    rows = []
    for i, (_prompt, pd) in enumerate(zip(prompts, preds, strict=True)):
        row = SampleRow(example_id=pd.example_id, prompt_name=prompt_name, method=method, seed=seed, prompt=pd.prompt,
                        prediction=pd.output, raw_output=pd.raw_output, filtered=dict(filtered[i]) if filtered else {},
                        references=list(pd.references),
                        scores={name: s.per_sample[i] for name, s in scores.items() if len(s.per_sample) == len(preds)},
                        prompt_tokens=pd.prompt_tokens, output_tokens=pd.output_tokens,
                        group=groups[i] if groups is not None else None)
        if pd.choices:  # tasks that score choices
            row = dataclasses.replace(row, choices=list(pd.choices), choice_logprobs=list(pd.choice_logprobs), label=pd.label,
                                      predicted_label=pd.predicted_label)
        rows.append(row)
    return rows
