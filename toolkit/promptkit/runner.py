"""The runner: compose tasks, prompts, methods, scoring and reports into one run.

Everything that can fail on bad input (task files, data files, templates) is checked before the
model loads, so mistakes cost seconds, not a model load. Results are saved after every cell.
"""

from __future__ import annotations

import dataclasses
import datetime as _dt
import hashlib
import importlib.metadata
import itertools
import json
import platform
import shutil
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from promptkit import interrupt
from promptkit.catalog import default_data_dir, display_path, resolve_task
from promptkit.config import ClassificationAdapterConfig, MultipleChoiceAdapterConfig, TunableBase, dump, slug
from promptkit.context import DEFAULT_POLICY, Fitted, fit_prompts
from promptkit.distributed import current
from promptkit.errors import ConfigError, LeakageError, ModelError, Problem, PromptkitError
from promptkit.faults import kill_point
from promptkit.harness import Runtime
from promptkit.harness.predict import check_cloze
from promptkit.leakage import ComparedSplit, find_overlaps
from promptkit.methods import METHODS, FewShotConfig, LoraConfig, PromptTuningConfig, ZeroShotConfig, learning_kinds
from promptkit.models.batching import ProgressFn
from promptkit.partial import PARTIAL_DIR, PartialCell, SavedCandidates, chunks, fingerprint
from promptkit.prompting import FewShotSampler
from promptkit.prompting.template import PromptTemplate
from promptkit.records import Example, Prediction, Prompt
from promptkit.report.outputs import write_outputs
from promptkit.report.results import Candidate, CellResult, RunResult, TaskInfo, TuningResult, write_atomic
from promptkit.runconfig import RunConfig
from promptkit.seeding import derive
from promptkit.tasks import Task, load_task, render_all
from promptkit.tuning import check_budgets

PACKAGES = ("promptkit", "torch", "transformers", "peft", "accelerate", "datasets", "sacrebleu", "rouge-score", "numpy")


# What `promptkit eval` runs with no arguments: real SQuAD v1.1 questions shipped with the
# repository (short contexts, train and test split by article). The fictional demo tasks are
# one `--task demo_qa` away; training on several tasks would not fit the 10-minute budget of a
# 2-core CPU.
DEFAULT_TASKS = ("squad_demo",)


def default_tasks() -> list[str]:
    """Built-in tasks run by ``promptkit eval`` with no arguments."""
    return list(DEFAULT_TASKS)


def default_methods() -> list[Any]:
    """Plain and in-context prompting, a soft prompt and LoRA: the comparison promptkit exists
    for (few-shot is the cheapest competitor of a soft prompt)."""
    return [ZeroShotConfig(), FewShotConfig(), PromptTuningConfig(), LoraConfig()]


def package_versions() -> dict[str, str]:
    versions = {}
    for name in PACKAGES:
        try:
            versions[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            versions[name] = "not installed"
    return versions


def new_run_id() -> str:
    return _dt.datetime.now().strftime("%Y%m%d-%H%M%S") + "-" + uuid.uuid4().hex[:6]


@dataclass
class PreparedTask:
    """A task with its evaluation examples, few-shot pool and training examples loaded."""

    task: Task
    examples: list[Example]
    pool: list[Example]
    train: list[Example]
    source: str
    data_dir: Path | None
    # Leakage found and allowed (--allow-overlap), one line each; recorded in results.json.
    overlaps: list[str] = field(default_factory=list)
    # tuning.split: the split tuning candidates are scored on (empty: a slice of train).
    tune_dev: list[Example] = field(default_factory=list)
    # Computed once per task: what its metrics need (language, tokenizer, SQuAD version), and
    # how choice scores are length-normalised (classification).
    metric_context: Any = None
    normalization: str = "none"
    # Digest of every row read and of the prompt templates (TaskInfo.fingerprint).
    fingerprint: str = ""
    # How the evaluated rows were chosen (TaskInfo.selection).
    selection: str = ""
    # The evaluated split's group_by column ("" without one): examples carry their group.
    group_by: str = ""

    @property
    def name(self) -> str:
        return self.task.name

    def groups(self, predictions: Sequence[Prediction]) -> list[str] | None:
        """The group of each prediction's example (its article, say), or None when the split has
        no ``group_by``: resampling then goes by group (a cluster bootstrap)."""
        by_id = {ex.id: ex.group for ex in self.examples}
        groups = [by_id.get(pd.example_id) for pd in predictions]
        return None if any(g is None for g in groups) else [str(g) for g in groups]


def task_info(p: PreparedTask) -> TaskInfo:
    """What results.json records about a prepared task."""
    tc = p.task.config
    metric_ctx = p.metric_context
    return TaskInfo(
        version=str(tc.version),
        path=display_path(p.task.path),
        adapter=tc.adapter.kind,
        eval_split=tc.eval_split,
        train_split=tc.train_split,
        n=len(p.examples),
        n_train=len(p.train),
        source=p.source,
        metrics=tuple(tc.metrics),
        generation=dump(tc.generation),
        language=metric_ctx.language,
        labels=tuple(metric_ctx.labels),
        squad_version=metric_ctx.squad_version,
        bleu_tokenize=metric_ctx.bleu_tokenize,
        overlaps=tuple(p.overlaps),  # allowed with --allow-overlap
        fingerprint=p.fingerprint,
        selection=p.selection,
        group_by=p.group_by,
        groups=len({ex.group for ex in p.examples}) if p.group_by else 0,
        prompts={t.name: str(t.config.version) for t in p.task.prompts},
        verdict=dump(tc.verdict),
    )


def choice_normalization(tc: Any) -> str:
    """How a task's choice scores are length-normalised (``none`` unless a task scoring choices says)."""
    adapter = tc.adapter
    return str(adapter.normalization) if isinstance(adapter, (ClassificationAdapterConfig, MultipleChoiceAdapterConfig)) else "none"


def task_fingerprint(task: Task, *splits: Sequence[Example]) -> str:
    """Digest of a task's rows as read (evaluated, pool, training, tuning) and its templates."""
    return fingerprint({
        "version": str(task.config.version),
        "splits": [fingerprint({"rows": [dataclasses.asdict(ex) for ex in rows]}) for rows in splits],
        "prompts": [dump(t.config) for t in task.prompts],
    })


def check_writable(run_dir: Path, out_dir: str) -> None:
    """The run directory can be made and written, before the model loads.

    Raises:
        ConfigError: ``--out`` is a file, or not writable (with the reason).
    """
    made = [d for d in (run_dir, *run_dir.parents) if not d.exists()]  # left as they were if the run fails early
    try:
        run_dir.mkdir(parents=True, exist_ok=True)
        probe = run_dir / f".write-test-{uuid.uuid4().hex[:8]}"
        probe.write_bytes(b"")
        probe.unlink()
        for d in made:  # innermost first; the run makes them again when it writes
            d.rmdir()
    except OSError as exc:
        reason = exc.strerror or type(exc).__name__
        raise ConfigError(f"--out {out_dir}: cannot write the run directory {display_path(run_dir)} ({reason}); "
                          "choose a writable directory") from None


def check_same_tasks(result: RunResult, prepared: Sequence[PreparedTask], run_dir: Path) -> None:
    """A run is resumed on the tasks it started with: finished cells were scored on those rows.

    Raises:
        ConfigError: a task whose version, rows or templates changed since (one line each).
    """
    problems = []
    for p in prepared:
        info = result.tasks.get(p.name)
        if info is None or not info.fingerprint:  # a task the run never had, or an older file
            continue
        if info.version != str(p.task.config.version):
            problems.append(f"task {p.name!r}: version {info.version} when the run started, {p.task.config.version} now")
        elif info.fingerprint != p.fingerprint:
            problems.append(f"task {p.name!r}: its data or prompt templates changed since the run started "
                            f"(fingerprint {info.fingerprint}, now {p.fingerprint})")
    if problems:
        shown = display_path(run_dir)
        raise ConfigError([Problem(f"{line}; --resume {shown} would mix cells scored on different examples; "
                           "restore the files or start a new run") for line in problems])


def check_model_fits(lm: Any, prepared: Sequence[PreparedTask]) -> None:
    """Refuse, before anything runs, a task the model cannot do: generation on a model that only
    scores (a masked LM), a cloze prompt (``{{ mask }}``) on a model that does not fill masks.

    Raises:
        ModelError: naming the task, the prompt and what would work.
    """

    for p in prepared:
        kind = p.task.config.adapter.kind
        if kind not in ("classification", "multiple_choice") and not lm.can_generate:
            raise ModelError(
                f"task {p.name!r} ({kind}) needs text generation, which {lm.name!r} "
                f"({type(lm.model).__name__}, a masked LM) cannot do; masked LMs run classification "
                "tasks with cloze prompts ({{ mask }})"
            )
        for template in p.task.prompts:
            if template.cloze:
                check_cloze(lm, template.name, f"task {p.name!r}: ")


@dataclass(frozen=True)
class CellSpec:
    """One planned cell: a prepared task, a prompt template, a method entry and a training seed
    (None for a method that does not learn). ``Runner.plan`` builds them all up front."""

    task: PreparedTask
    template: PromptTemplate
    method: Any  # the method entry (its config)
    method_cls: Any
    seed: int | None

    @property
    def key(self) -> tuple[str, str, str, int | None]:
        return (self.task.name, self.template.name, self.method.label, self.seed)


def training_split(examples: Sequence[Example], seed: int, dev_size: int, limit: int | None) -> tuple[list[Example], list[Example]]:
    """Seeded shuffle of the train split into (train, dev); dev never touches the test split.

    ``seed`` is the run seed, not a training seed: every training seed of a method sees the
    same training and dev examples."""
    split_seed = derive(seed, "split")
    order = sorted(examples, key=lambda ex: hashlib.sha256(f"{split_seed}:{ex.id}".encode()).hexdigest())
    dev, train = order[:dev_size], order[dev_size:]
    return (train[:limit] if limit else train), dev


@dataclass
class Runner:
    """Runs a :class:`RunConfig`. ``run()`` returns the :class:`RunResult` (also on disk).

    Args:
        config: the run configuration.
        progress: optional callback ``(label, done, total)`` for progress bars.
        on_cell: optional callback called with each finished :class:`CellResult`.
        resume: continue the run in ``out_dir/run_id``: finished cells are kept, an interrupted
            training continues from its last checkpoint.
    """

    config: RunConfig
    progress: ProgressFn | None = None
    on_cell: Callable[[CellResult], None] | None = None
    resume: bool = False
    # Let exceptions that are not promptkit's propagate with their traceback (--debug) instead of
    # failing the cell they happened in.
    debug: bool = False
    # The command line that started this invocation (results.json ``commands``; "" from a notebook).
    command: str = ""
    run_dir: Path = field(init=False)
    trackers: Any = field(init=False, default=None)  # --report-to (promptkit.tracking)

    def prepare(self) -> list[PreparedTask]:
        """Load every task and its data (fail fast, before the model)."""
        from promptkit.methods.adapter import check_adapter_dir
        from promptkit.tracking import check_trackers

        cfg = self.config
        check_trackers(cfg.report_to)  # a missing tracker package fails before the model loads
        full = [m.label for m in self.methods() if m.kind == "full"]
        if cfg.model.quantization != "none" and full:
            raise ConfigError(f"model.quantization {cfg.model.quantization!r}: full fine-tuning ({', '.join(full)}) cannot "
                              "train quantized weights; use lora, dora, ia3 or a soft prompt, or model.quantization: none")
        data_dir = default_data_dir(cfg.data_dir)
        kinds = {m.kind for m in self.methods()}
        for m in self.methods():
            if m.kind == "adapter":
                check_adapter_dir(m.path)
        prepared = []
        problems: list[str] = []  # leakage of every task, reported together
        for ref in cfg.tasks or default_tasks():
            task = load_task(resolve_task(ref, cfg.tasks_dir))
            tc = task.config
            limit = cfg.limit or tc.limit
            # --limit: a seeded random sample, stratified by the split's groups (its articles, say)
            examples = task.examples(tc.eval_split, data_dir, limit, seed=derive(cfg.seed, "limit"))
            source, label = task.source(data_dir)
            selection = self._selection(task, source, limit, len(examples))
            pool: list[Example] = []
            if "few-shot" in kinds and tc.fewshot.split in source.splits:
                pool = task.examples(tc.fewshot.split, data_dir)
                self._check_shots(task, pool)
            train: list[Example] = []
            if kinds & set(learning_kinds()) and tc.train_split and tc.train_split in source.splits:
                train = pool if tc.train_split == tc.fewshot.split and pool else task.examples(tc.train_split, data_dir)
            desc = f"{source.kind}" + (f" ({data_dir})" if label == "offline" else "")
            compared = [ComparedSplit(tc.train_split, "training", train)] if train and tc.train_split else []
            compared += [ComparedSplit(tc.fewshot.split, "few-shot pool", pool)] if pool else []
            tune_dev = self._tuning_split(task, data_dir)
            compared += [ComparedSplit(cfg.tuning.split, "tuning selection", tune_dev)] if cfg.tuning.split and tune_dev else []
            overlaps = find_overlaps(task, data_dir, examples, compared)
            problems += overlaps
            self._check_renders(task, examples, pool if "few-shot" in kinds else [])
            prepared.append(PreparedTask(task, examples, pool, train, desc, data_dir, overlaps, tune_dev,
                                         metric_context=task.adapter(data_dir).metric_context(),
                                         normalization=choice_normalization(tc),
                                         fingerprint=task_fingerprint(task, examples, pool, train, tune_dev),
                                         selection=selection, group_by=self._group_by(source, tc.eval_split)))
        if problems and not cfg.allow_overlap:
            raise LeakageError(problems)
        spaces = self.tuned_spaces()
        untuned = [m.label for m in self.methods() if isinstance(m, TunableBase) and m.label not in spaces]
        check_budgets(spaces, cfg.tuning, untuned)
        wanted = cfg.verdict.metric
        scored = sorted({m for p in prepared for m in p.task.config.metrics})
        if wanted is not None and wanted not in scored:
            # a run-wide selection metric applies to the tasks that score it; one that none scores is a typo
            raise ConfigError(f"verdict.metric {wanted!r} is not scored by any task of the run; "
                              f"accepted: {', '.join(scored)}")
        return prepared

    @staticmethod
    def _group_by(source: Any, split: str) -> str:
        """The split's group_by column ("" when it has none, or the source is not files)."""
        group_by = source.split_files(split).group_by if hasattr(source, "split_files") and split in source.splits else None
        return str(group_by or "")

    def _selection(self, task: Task, source: Any, limit: int | None, n: int) -> str:
        """How the evaluated rows were chosen, in words (the report's task line)."""
        split = task.config.eval_split
        if not limit or n < limit:
            return f"every row of split {split!r}"
        group_by = self._group_by(source, split)
        strata = f", stratified by {group_by!r}" if group_by else ""
        return f"a random sample of {n} rows of split {split!r} (seeded by --seed {self.config.seed}{strata})"

    def _check_renders(self, task: Task, examples: Sequence[Example], pool: Sequence[Example]) -> None:
        """Render every evaluated example with every template (and its demonstrations, with a
        pool), so that a template error stops the run before the model loads, not in a cell."""
        shots = self.config.shots if self.config.shots is not None else task.config.fewshot.shots
        render_all(task, examples, pool, shots, self.config.seed)

    def _check_shots(self, task: Task, pool: Sequence[Example]) -> None:
        """A few-shot entry asking for more demonstrations than the pool holds is refused (it would
        use fewer than asked and record the number asked)."""
        tc = task.config
        default = self.config.shots if self.config.shots is not None else tc.fewshot.shots
        for m in self.methods():
            k = getattr(m, "shots", None) if m.kind == "few-shot" else None
            k = default if m.kind == "few-shot" and k is None else k
            if k and k > len(pool):
                raise ConfigError(f"task {task.name!r}: {m.label} asks for {k} demonstrations per example but its "
                                  f"{tc.fewshot.split!r} split has {len(pool)} rows; use --shots {len(pool)} or fewer")

    def _tuning_split(self, task: Task, data_dir: Path | None) -> list[Example]:
        """The examples of ``tuning.split`` when tuning selects on a split of its own."""
        cfg = self.config
        split = cfg.tuning.split
        if split is None or not self.tuned_spaces():
            return []
        tc = task.config
        if split == tc.eval_split:
            raise PromptkitError(
                f"tuning.split {split!r} is the evaluated split of task {task.name!r}: selecting settings on "
                f"test rows makes the test score optimistic; omit tuning.split (a dev slice of "
                f"{tc.train_split!r} is carved) or name another split"
            )
        if split == tc.train_split:
            raise PromptkitError(
                f"tuning.split {split!r} is the train split of task {task.name!r}: candidates would be scored on "
                "the rows they were trained on (the most overfit setting wins); omit tuning.split to carve a dev "
                "slice from it, or name a held-out split"
            )
        source, _ = task.source(data_dir)
        if split not in source.splits:
            raise PromptkitError(f"tuning.split {split!r}: task {task.name!r} has no such split; it defines {sorted(source.splits)}")
        return task.examples(split, data_dir)

    def tuned_spaces(self) -> dict[str, dict[str, list[Any]]]:
        """Each tuned method's label and search space (``tune`` entries, or built-in with --tune)."""
        spaces = {}
        for m in self.methods():
            space = m.space(self.config.tuning.builtin) if isinstance(m, TunableBase) else {}
            if space:
                spaces[m.label] = space
        return spaces

    def methods(self) -> list[Any]:
        return list(self.config.methods) or default_methods()

    def training_seeds(self) -> list[int]:
        """The seeds each trained method is trained with (default: the run seed alone)."""
        return list(self.config.training.seeds or [self.config.seed])

    def _start(self, lm: Any, chat: bool, prepared: list[PreparedTask], run_id: str, load_s: float) -> RunResult:
        cfg = self.config
        if self.resume and (self.run_dir / "results.json").is_file():
            result = RunResult.load(self.run_dir)
            # Keep finished cells; failed or unfinished ones run again.
            result.cells = [c for c in result.cells if c.error is None]
            result.timings["model_load_s"] = round(load_s, 3)
            if self.command:
                result.commands.append(self.command)
            return result
        result = RunResult(
            run_id=run_id,
            created=_dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
            config=dump(cfg),
            model=lm.describe(),
            chat_template=chat,
            environment={"python": platform.python_version(), "platform": platform.platform(), "packages": package_versions()},
            timings={"model_load_s": round(load_s, 3)},
            commands=[self.command] if self.command else [],
        )
        for p in prepared:
            result.tasks[p.name] = task_info(p)
        return result

    def run(self, prepared: list[PreparedTask] | None = None) -> RunResult:
        """Run every task x prompt x method cell (``prepared``: the output of :meth:`prepare`)."""
        from promptkit.models import load_model
        from promptkit.prompting.chat import use_chat_template

        cfg = self.config
        started = time.perf_counter()
        prepared = self.prepare() if prepared is None else prepared
        procs = current()
        if not procs.is_main:  # one terminal display, one writer: the main process
            self.progress = self.on_cell = None
        run_id = procs.broadcast(cfg.run_id or new_run_id())
        self.run_dir = Path(cfg.out_dir) / run_id
        from promptkit.tracking import Trackers

        self.trackers = Trackers(cfg.report_to if procs.is_main else [], self.run_dir, run_id)
        if not self.resume and (self.run_dir / "results.json").is_file():
            # a second run under the same id would replace the first one's results
            shown = display_path(self.run_dir)
            raise ConfigError(f"{shown} already holds a run (results.json); pass --resume {shown} to continue it, "
                              "or choose another --run-id")
        if self.resume and (self.run_dir / "results.json").is_file():
            check_same_tasks(RunResult.load(self.run_dir), prepared, self.run_dir)
        if procs.is_main:
            check_writable(self.run_dir, cfg.out_dir)
        if cfg.launcher == "ray":  # the cells run as Ray tasks; this process never loads the model
            if procs.distributed:
                raise ConfigError("--launcher ray starts its own workers; run it as one process, not under "
                                  "accelerate launch / torchrun")
            from promptkit.launcher import run_on_ray

            return run_on_ray(self, prepared, run_id, started)
        t0 = time.perf_counter()
        lm = load_model(cfg.model)
        load_s = time.perf_counter() - t0
        check_model_fits(lm, prepared)
        chat = use_chat_template(lm.tokenizer, cfg.model.chat_template)
        runtime = Runtime(batch_size=cfg.batch_size, chat=chat, progress=self.progress)
        result = self._start(lm, chat, prepared, run_id, load_s)
        self._save(result)
        done = {c.key for c in result.cells}
        samples = self._finished_samples(result)
        plan = self.plan(prepared)
        for spec in plan:
            if spec.key in done:  # killed after results.json listed the cell, before this cleanup
                self._forget_progress(spec)
        todo = [spec for spec in plan if spec.key not in done]
        for _, group in itertools.groupby(todo, key=lambda spec: spec.key[:3]):
            specs = list(group)  # the seeds of one task x prompt x method entry
            first = specs[0]
            tuning, failure = None, None
            if first.method.label in self.tuned_spaces():  # tuned once, for all its seeds
                try:
                    tuning = self._tuned(result, first.task, first.template, first.method) or self._tune(
                        first.task, first.template, first.method, first.method_cls, lm, runtime)
                except Exception as exc:
                    failure = self._failure(exc)
            for spec in specs:
                if failure is not None:
                    cell = self._new_cell(spec.task, spec.template, spec.method, spec.seed)
                    cell.error = failure
                else:
                    cell = self._run_cell(spec, lm, runtime, samples, tuning)
                result.cells.append(cell)
                result.timings["total_s"] = round(time.perf_counter() - started, 3)
                self._save(result)
                kill_point("cell-saved")
                if cell.error is None:  # a failed cell keeps its progress for the next try
                    self._forget_progress(spec)
                if self.on_cell:
                    self.on_cell(cell)
        if procs.is_main:
            result.timings["total_s"] = round(time.perf_counter() - started, 3)
            if all(c.error is None for c in result.cells):  # nothing left to resume
                shutil.rmtree(self.run_dir / PARTIAL_DIR, ignore_errors=True)
            write_outputs(result, self.run_dir)
            self.trackers.report([self.run_dir / name for name in ("results.json", "report.md", "report.html")])
        procs.barrier()
        return result

    def _finished_samples(self, result: RunResult) -> dict[Path, list[dict[str, Any]]]:
        """Resumed: the samples files' rows of the finished cells. A cell killed after its rows
        were written but before results.json listed it runs again, so its rows are dropped."""
        samples: dict[Path, list[dict[str, Any]]] = {}
        finished = {(c.task, c.prompt, c.method, c.seed) for c in result.cells}
        for c in result.cells:
            path = self.run_dir / c.samples
            if c.samples and path.is_file() and Path(c.samples) not in samples:
                rows = [json.loads(line) for line in path.open(encoding="utf-8")]
                samples[Path(c.samples)] = [r for r in rows if (c.task, r["prompt_name"], r["method"], r["seed"]) in finished]
        return samples

    def _cell_dir(self, p: PreparedTask, template: PromptTemplate, method_label: str, seed: int | None) -> Path:
        """Where a trained cell keeps its checkpoint and adapter."""
        return self.run_dir / "adapters" / slug(p.name) / slug(template.name) / slug(method_label) / f"seed-{seed}"

    def _progress_file(self, spec: CellSpec) -> Path:
        seed = "" if spec.seed is None else f"__seed-{spec.seed}"
        name = f"{slug(spec.task.name)}__{slug(spec.template.name)}__{slug(spec.method.label)}{seed}.jsonl"
        return self.run_dir / PARTIAL_DIR / name

    def _forget_progress(self, spec: CellSpec) -> None:
        """The cell is in results.json: its progress file and final checkpoint are not needed."""
        if not current().is_main:
            return
        PartialCell(self._progress_file(spec), "").discard()
        checkpoint = self._cell_dir(spec.task, spec.template, spec.method.label, spec.seed) / "checkpoint"
        if checkpoint.is_dir():
            shutil.rmtree(checkpoint, ignore_errors=True)

    def _predict_saved(self, spec: CellSpec, method: Any, prompts: list[Prompt], cell: CellResult,
                       train_prompts: Sequence[Prompt], skip: frozenset[int] = frozenset()) -> list[Prediction]:
        """Predict in fixed chunks, saving each chunk's predictions as it finishes; resumed, the
        chunks saved before the interruption are read back instead of computed. Prompts in
        ``skip`` (too long, policy ``skip``) get an empty prediction without reaching the model."""
        p = spec.task
        n = len(prompts)
        spans = chunks(n, self.config.save_every or 8 * self.config.batch_size)
        store = PartialCell(self._progress_file(spec), self._cell_hash(spec, cell, prompts, train_prompts))
        main = current().is_main
        have = store.load(spans, rewrite=main) if self.resume else {}
        if not self.resume and main:
            store.discard()
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
                out = method.predict([prompts[i] for i in todo], p.task.config.generation, p.normalization)
            finally:
                method.runtime = runtime
            for i, pred in zip(todo, out, strict=True):
                preds[i] = pred
            if main:
                store.append(zip(todo, out, strict=True))
                kill_point("chunk-saved")
            interrupt.check(f"{spec.method.label} stopped after {span.stop} of {n} examples (saved)")
        return [pr for pr in preds if pr is not None]

    def _cell_hash(self, spec: CellSpec, cell: CellResult, prompts: Sequence[Prompt], train_prompts: Sequence[Prompt]) -> str:
        """What a cell's predictions depend on: saved progress of another configuration (a
        changed data file, template, model or setting) is never mixed in."""
        cfg = self.config
        return fingerprint({
            "task": [spec.task.name, cell.task_version], "prompt": [cell.prompt, cell.prompt_version],
            "method": cell.method_config, "seed": cell.seed, "shots": cell.shots,
            "model": dump(cfg.model), "training": dump(cfg.training) if spec.seed is not None else None,
            "generation": dump(spec.task.task.config.generation), "normalization": spec.task.normalization,
            "batch_size": cfg.batch_size, "save_every": cfg.save_every,
            "prompts": fingerprint({"p": [dataclasses.asdict(x) for x in prompts]}),
            "train": fingerprint({"p": [dataclasses.asdict(x) for x in train_prompts]}),
        })

    def plan(self, prepared: Sequence[PreparedTask]) -> list[CellSpec]:
        """Every cell of the run, in the order they run: task, prompt, method entry, training seed."""
        specs = []
        for p in prepared:
            for template in p.task.prompts:
                for method_cfg in self.methods():
                    method_cls = METHODS.get(method_cfg.kind)
                    for seed in self.training_seeds() if method_cls.learns else [None]:
                        specs.append(CellSpec(p, template, method_cfg, method_cls, seed))
        return specs

    def _dev_size(self) -> int:
        """Examples held out of train: the tuning dev slice is held out for every method of the
        run, so tuned and untuned methods still train on the same examples."""
        training = self.config.training
        if self.tuned_spaces() and self.config.tuning.split is None:
            return max(training.dev_size, self.config.tuning.dev_size)
        return training.dev_size

    def _tuned(self, result: RunResult, p: PreparedTask, template: PromptTemplate, method_cfg: Any) -> TuningResult | None:
        """The selection made before an interruption (a finished seed of this method kept it)."""
        return next((c.tuning for c in result.cells
                     if (c.task, c.prompt, c.method) == (p.name, template.name, method_cfg.label) and c.tuning), None)

    def _tune(self, p: PreparedTask, template: PromptTemplate, method_cfg: Any, method_cls: Any, lm: Any,
              runtime: Runtime) -> TuningResult:
        """Train every candidate of the method's space with the first training seed and score it
        on the dev split; return the candidates and the best settings."""
        from promptkit.metrics import score
        from promptkit.tuning import make_sampler

        cfg = self.config
        tc = p.task.config
        seed = self.training_seeds()[0]
        # Candidates train exactly as the final seeds will (same examples, dev curves, early
        # stopping), only without writing adapters: the selected candidate is the one trained.
        train_prompts, final_context, _ = self._fit_context(p, template, method_cfg, seed, lm, runtime.chat)
        # The dev slice _fit_context carved from train, or the examples of tuning.split
        split, dev_prompts = "dev (carved from the train split)", list(final_context.dev)
        if cfg.tuning.split is not None:
            split, dev_prompts = cfg.tuning.split, [template.render(ex) for ex in p.tune_dev]
        if not dev_prompts:
            raise PromptkitError(f"task {p.name!r}: tuning {method_cfg.label} needs dev examples; "
                                 f"split {tc.train_split!r} has {len(p.train)} rows (tuning.dev_size={cfg.tuning.dev_size})")
        metric = tc.metrics[0]
        ctx = p.metric_context
        space = self.tuned_spaces()[method_cfg.label]
        sampler = make_sampler(space, cfg.tuning, derive(cfg.seed, "tuning"))
        candidates: list[Candidate] = []
        # Finished candidates are saved as they finish; resumed, they are read back, not trained.
        saved = self._tuning_progress(p, template, method_cfg, train_prompts, dev_prompts)
        done = saved.load(rewrite=current().is_main) if self.resume else {}
        if not self.resume and current().is_main:
            saved.discard()
        while (params := sampler.ask()) is not None:
            cand_cfg = method_cfg.with_settings(params)
            chosen = {k: getattr(cand_cfg, k) for k in params}
            key = fingerprint(chosen)
            if key in done:
                candidates.append(done[key])
                sampler.tell(chosen, done[key].dev_score)
                continue
            label = f"tune {method_cfg.label} {len(candidates) + 1}"

            def on_step(step: int, loss: float, label: str = label) -> None:
                if self.progress is not None:
                    self.progress(label, step, cfg.training.steps)

            method = method_cls(cand_cfg, lm, runtime, dataclasses.replace(final_context, workdir=None, on_step=on_step))
            t0 = time.perf_counter()
            value, error = float("nan"), None
            try:
                method.fit(train_prompts)
                preds = method.predict(dev_prompts, tc.generation, p.normalization)
                value = score([metric], preds, ctx, n_boot=0)[metric].value
            except PromptkitError as exc:  # e.g. a learning rate that diverges: a result, not a crash
                error = str(exc)
            finally:
                method.release()
            candidates.append(Candidate(chosen, round(value, 4), round(time.perf_counter() - t0, 3), error))
            sampler.tell(chosen, value)
            if current().is_main:
                saved.append(key, candidates[-1])
            interrupt.check(f"tuning {method_cfg.label} stopped after candidate {len(candidates)} (saved)")
        ok = [c for c in candidates if c.dev_score == c.dev_score]
        if not ok:
            raise PromptkitError(f"task {p.name!r}: every tuning candidate of {method_cfg.label} failed; first: {candidates[0].error}")
        best = max(ok, key=lambda c: c.dev_score)  # the first of equal scores (grid order)
        return TuningResult(metric, split, len(dev_prompts), cfg.tuning.sampler, seed, tuple(candidates), dict(best.params))

    def _tuning_progress(self, p: PreparedTask, template: PromptTemplate, method_cfg: Any,
                         train_prompts: Sequence[Prompt], dev_prompts: Sequence[Prompt]) -> SavedCandidates:
        cfg = self.config
        digest = fingerprint({
            "method": dump(method_cfg), "model": dump(cfg.model), "training": dump(cfg.training), "tuning": dump(cfg.tuning),
            "seed": self.training_seeds()[0], "run_seed": cfg.seed, "task": [p.name, p.fingerprint], "prompt": template.name,
            "train": fingerprint({"p": [dataclasses.asdict(x) for x in train_prompts]}),
            "dev": fingerprint({"p": [dataclasses.asdict(x) for x in dev_prompts]}),
        })
        name = f"tuning__{slug(p.name)}__{slug(template.name)}__{slug(method_cfg.label)}.jsonl"
        return SavedCandidates(self.run_dir / PARTIAL_DIR / name, digest)

    def _save(self, result: RunResult) -> None:
        if current().is_main:
            result.save(self.run_dir)

    def _fit_context(self, p: PreparedTask, template: PromptTemplate, method_cfg: Any, seed: int, lm: Any,
                     chat: bool) -> tuple[list[Prompt], Any, dict[str, Any]]:
        """Training and dev prompts (fitted to the context), the FitContext, and what the
        context-length policy did to them."""
        from promptkit.methods import FitContext
        from promptkit.methods.training import total_steps
        from promptkit.metrics import score

        cfg = self.config
        tc = p.task.config
        method_label = method_cfg.label
        train, dev = training_split(p.train, cfg.seed, self._dev_size(), cfg.training.train_limit)
        if not train:
            raise PromptkitError(
                f"task {p.name!r}: {method_label} needs training examples but split "
                f"{tc.train_split!r} is missing or empty"
            )
        metric_ctx = p.metric_context
        first_metric = tc.metrics[0]

        def dev_score(preds: list[Prediction]) -> float:
            return score([first_metric], preds, metric_ctx, n_boot=0)[first_metric].value

        total = total_steps(cfg.training, len(train))  # the planned steps, also with an epochs budget

        def on_step(step: int, loss: float) -> None:
            if self.progress is not None:
                self.progress(f"train {method_label}", step, total)

        workdir = self._cell_dir(p, template, method_label, seed)
        # Training prompts fit training.max_length (and the model); skipped ones are left out.
        limit = getattr(lm, "context_length", None)
        budget = min(cfg.training.max_length, (limit or 1 << 30) - _virtual_tokens(method_cfg))
        fitted = self._fit_to_context(p, train, template.render, lm, chat, budget, f"{method_label} training", target=True)
        train_prompts = [pr for i, pr in enumerate(fitted.prompts) if i not in fitted.skip]
        dev_fitted = self._fit_to_context(p, dev, template.render, lm, chat, self._eval_budget(lm, method_cfg, p),
                                          f"{method_label} dev")
        report = fitted.report.to_dict()
        report["dev"] = dev_fitted.report.to_dict()
        return (
            train_prompts,
            FitContext(
                training=cfg.training,
                seed=derive(seed, "training"),
                workdir=workdir,
                dev=[pr for i, pr in enumerate(dev_fitted.prompts) if i not in dev_fitted.skip],
                dev_score=dev_score if dev else None,
                metric_name=first_metric,
                generation=tc.generation,
                on_step=on_step,
            ),
            report,
        )

    def _new_cell(self, p: PreparedTask, template: PromptTemplate, method_cfg: Any, seed: int | None) -> CellResult:
        tc = p.task.config
        return CellResult(
            task=p.name,
            prompt=template.name,
            method=method_cfg.label,
            method_config=dump(method_cfg),
            task_version=str(tc.version),
            prompt_version=str(template.config.version),
            n=len(p.examples),
            seed=seed,
        )

    def _run_cell(self, spec: CellSpec, lm: Any, runtime: Runtime, samples: dict[Path, list[dict[str, Any]]],
                  tuning: TuningResult | None = None) -> CellResult:
        """Fit, evaluate and record one cell; a PromptkitError becomes the cell's error."""
        p, template, seed = spec.task, spec.template, spec.seed
        # tuned: the chosen settings, validated like the entry itself
        method_cfg = spec.method.with_settings(tuning.chosen) if tuning is not None else spec.method
        cell = self._new_cell(p, template, method_cfg, seed)
        cell.tuning = tuning
        tracker = self.trackers.cell("/".join([p.name, template.name, cell.method, *([f"seed-{seed}"] if seed is not None else [])]),
                                     {"task": p.name, "prompt": template.name, "method": dump(method_cfg), "seed": seed,
                                      "model": dump(self.config.model)}) if self.trackers is not None else None
        try:
            return self._run_tracked_cell(spec, lm, runtime, samples, cell, method_cfg, tracker)
        finally:
            if tracker is not None:
                tracker.finish(cell)

    def _run_tracked_cell(self, spec: CellSpec, lm: Any, runtime: Runtime, samples: dict[Path, list[dict[str, Any]]],
                          cell: CellResult, method_cfg: Any, tracker: Any) -> CellResult:
        p, template, seed, tuning = spec.task, spec.template, spec.seed, cell.tuning
        method = None
        try:
            train_prompts: list[Prompt] = []
            context = None
            if seed is not None:
                train_prompts, context, fitted_training = self._fit_context(p, template, method_cfg, seed, lm, runtime.chat)
                cell.context = {"training": fitted_training}
                if tracker is not None:
                    context = dataclasses.replace(context, on_log=tracker.log)
            method = spec.method_cls(method_cfg, lm, runtime, context)
            fitted = self._eval_prompts(p, template, method, cell)
            prompts = fitted.prompts
            t0 = time.perf_counter()
            method.fit(train_prompts)
            t1 = time.perf_counter()
            preds = self._predict_saved(spec, method, prompts, cell, train_prompts, fitted.skip)
            t2 = time.perf_counter()
            fallbacks = lm.take_notes() if hasattr(lm, "take_notes") else []
            if fallbacks:  # --backend vllm: what ran on the Hugging Face backend instead, and why
                cell.context = {**(cell.context or {}), "backend": fallbacks}
            if method.adapts:
                self._record_adaptation(cell, method, tuning)
        except Exception as exc:
            cell.error = self._failure(exc)
            return cell
        finally:
            if method is not None:
                method.release()
        try:
            self._record_scores(cell, p, template, prompts, preds, (t0, t1, t2), samples)
        except Exception as exc:  # e.g. the disk filled up while writing its samples
            cell.error = self._failure(exc)
        return cell

    def _failure(self, exc: Exception) -> str:
        """The one-line error of a cell. A promptkit error says what to do; anything else (a bug,
        out of memory, a full disk) is named by its type, and the run goes on with the next cell."""
        if isinstance(exc, PromptkitError):
            return str(exc)
        if self.debug:
            raise exc
        text = str(exc).strip().splitlines()[0][:300] if str(exc).strip() else ""
        return f"{type(exc).__name__}: {text} (run with --debug for the traceback)" if text else \
            f"{type(exc).__name__} (run with --debug for the traceback)"

    def _eval_prompts(self, p: PreparedTask, template: PromptTemplate, method: Any, cell: CellResult) -> Fitted:
        """The evaluated examples rendered with the demonstrations the method asks for, measured
        against the model's context (promptkit.context: those that do not fit lose their oldest
        demonstrations first); what the policy did goes in the cell."""
        tc = p.task.config
        k = method.shots(self.config.shots if self.config.shots is not None else tc.fewshot.shots)
        cell.shots = k
        if k and not p.pool:
            raise PromptkitError(f"task {p.name!r}: few-shot needs a '{tc.fewshot.split}' split to draw demonstrations from")
        sampler = FewShotSampler(p.pool, k, seed=derive(self.config.seed, "fewshot"))
        fitted = self._fit_to_context(p, p.examples, lambda ex: template.render(ex, sampler.sample(ex)), method.model,
                                      method.chat, self._eval_budget(method.model, method.config, p), cell.method)
        cell.context = {**(cell.context or {}), **fitted.report.to_dict()}
        return fitted

    def _policy(self, p: PreparedTask) -> str:
        return self.config.context_policy or p.task.config.context_policy or DEFAULT_POLICY

    def _fit_to_context(self, p: PreparedTask, examples: Sequence[Example], render: Callable[[Example], Prompt], lm: Any,
                        chat: bool, budget: int | None, label: str, target: bool = False) -> Fitted:
        """``fit_prompts`` with the model's tokenizer; ``target``: training prompts, whose target
        tokens count too."""
        from promptkit.prompting.chat import format_prompt

        tok = lm.tokenizer

        def measure(prompt: Prompt) -> int:
            n = len(lm.encode(format_prompt(prompt, tok, chat), chat=chat))
            return n + (len(tok(prompt.target, add_special_tokens=False)["input_ids"]) + 1 if target else 0)

        def bound(prompt: Prompt) -> int:
            # Every token of a byte-level, sentencepiece or word-level vocabulary spells at least
            # one byte of the text; the margin covers added special tokens and a leading '▁'.
            text = format_prompt(prompt, tok, chat) + (prompt.target if target else "")
            return len(text.encode("utf-8")) + BOUND_MARGIN

        return fit_prompts(examples, render, measure, budget, self._policy(p),
                           encode=lambda text: list(tok(text, add_special_tokens=False)["input_ids"]),
                           decode=lambda ids: str(tok.decode(ids, skip_special_tokens=True)),
                           where=f"task {p.name!r}, {label}: ", bound=bound)

    def _eval_budget(self, lm: Any, method_cfg: Any, p: PreparedTask) -> int | None:
        """Prompt tokens that leave room for the answer (generated, or the longest choice) and a
        soft prompt's virtual tokens within the model's positions; None: no limit."""
        limit = getattr(lm, "context_length", None)
        if limit is None:
            return None
        reserve = 0
        if not getattr(lm.model.config, "is_encoder_decoder", False):  # an encoder's input has its own positions
            choices = {c for ex in p.examples for c in ex.choices}
            reserve = (max(len(lm.encode(" " + c, chat=False)) for c in choices) if choices
                       else p.task.config.generation.max_new_tokens)
        return max(limit - reserve - _virtual_tokens(method_cfg), 1)

    def _record_adaptation(self, cell: CellResult, method: Any, tuning: TuningResult | None) -> None:
        cost = method.cost()
        if tuning is not None:
            cost = dataclasses.replace(cost, tuning_s=round(sum(c.train_s for c in tuning.candidates), 3))
        cell.cost = cost
        cell.training = method.training_
        cell.chat_template = method.chat
        if method.adapter_path_ is not None:
            cell.adapter = _relative(method.adapter_path_, self.run_dir)

    def _record_scores(self, cell: CellResult, p: PreparedTask, template: PromptTemplate, prompts: list[Prompt],
                       preds: list[Prediction], times: tuple[float, float, float],
                       samples: dict[Path, list[dict[str, Any]]]) -> None:
        """Scores with intervals, timings and throughput into the cell; its rows into the samples file."""
        from promptkit.metrics import score

        groups = p.groups(preds)
        scores = score(p.task.config.metrics, preds, p.metric_context, n_boot=self.config.bootstrap_samples,
                       seed=derive(self.config.seed, "bootstrap"), groups=groups)
        t0, t1, t2 = times
        cell.metrics = scores
        out_tokens = sum(pr.output_tokens for pr in preds)
        cell.timings = {"fit_s": round(t1 - t0, 3), "predict_s": round(t2 - t1, 3)}
        cell.throughput = {
            "examples_per_s": round(len(preds) / max(t2 - t1, 1e-9), 3),
            "output_tokens_per_s": round(out_tokens / max(t2 - t1, 1e-9), 3),
            "prompt_tokens": float(sum(pr.prompt_tokens for pr in preds)),
            "output_tokens": float(out_tokens),
        }
        rel = Path("samples") / slug(p.name) / f"{slug(cell.method)}.jsonl"
        cell.samples = rel.as_posix()
        rows = samples.setdefault(rel, [])
        rows.extend(sample_rows(template.name, cell.method, cell.seed, prompts, preds, scores, groups))
        if current().is_main:
            path = self.run_dir / rel
            path.parent.mkdir(parents=True, exist_ok=True)
            write_atomic(path, "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows))


BOUND_MARGIN = 16  # special tokens a tokenizer may add beyond one token per byte


def _virtual_tokens(method_cfg: Any) -> int:
    """Positions a soft prompt or prefix takes in front of the input (0 for other methods)."""
    return int(getattr(method_cfg, "num_virtual_tokens", 0) or 0)


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


def _relative(path: Path, root: Path) -> str:
    try:
        return path.resolve().relative_to(root.resolve()).as_posix()
    except ValueError:
        return str(path)


def sample_rows(prompt_name: str, method: str, seed: int | None, prompts: Sequence[Prompt], preds: Sequence[Prediction],
                scores: dict[str, Any], groups: Sequence[str] | None = None) -> list[dict[str, Any]]:
    rows = []
    for i, (_prompt, pd) in enumerate(zip(prompts, preds, strict=True)):
        row: dict[str, Any] = {
            "example_id": pd.example_id,
            "prompt_name": prompt_name,
            "method": method,
            "seed": seed,
            "prompt": pd.prompt,
            "prediction": pd.output,
            "raw_output": pd.raw_output,
            "references": list(pd.references),
            "scores": {name: s.per_sample[i] for name, s in scores.items() if len(s.per_sample) == len(preds)},
            "prompt_tokens": pd.prompt_tokens,
            "output_tokens": pd.output_tokens,
        }
        if groups is not None:
            row["group"] = groups[i]  # the paired tests of `promptkit report` resample by it
        if pd.choices:
            row["choices"] = list(pd.choices)
            row["choice_logprobs"] = list(pd.choice_logprobs)
            row["label"] = pd.label
            row["predicted_label"] = pd.predicted_label
        rows.append(row)
    return rows


def run(config: RunConfig, progress: ProgressFn | None = None, resume: bool = False) -> RunResult:
    """Run ``config`` (notebook entry point)."""
    return Runner(config, progress, resume=resume).run()
