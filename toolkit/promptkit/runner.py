"""The runner: compose tasks, prompts, methods, scoring and reports into one run.

Everything that can fail on bad input (task files, data files, templates) is checked before the
model loads, so mistakes cost seconds, not a model load. Results are saved after every cell.
"""

from __future__ import annotations

import datetime as _dt
import importlib.metadata
import json
import platform
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from promptkit.catalog import builtin_dir, default_data_dir, resolve_task
from promptkit.config import FewShotConfig, RunConfig, ZeroShotConfig, dump, slug
from promptkit.errors import PromptkitError
from promptkit.harness import Runtime
from promptkit.harness.batching import ProgressFn
from promptkit.prompting import FewShotSampler
from promptkit.prompting.template import PromptTemplate
from promptkit.records import Example, Prediction, Prompt
from promptkit.report.markdown import render_markdown
from promptkit.report.results import CellResult, RunResult, write_atomic
from promptkit.tasks import Task, load_task

DEMO_TAG = "demo"
PACKAGES = ("promptkit", "torch", "transformers", "peft", "accelerate", "datasets", "sacrebleu", "rouge-score", "numpy")


def default_tasks() -> list[str]:
    """Built-in tasks tagged ``demo``: what ``promptkit eval`` runs with no arguments."""
    names = []
    for path in sorted(builtin_dir("tasks").glob("*.yaml")):
        if path.stem.startswith("demo_"):
            names.append(path.stem)
    return names


def default_methods() -> list[Any]:
    return [ZeroShotConfig(), FewShotConfig()]


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
    """A task with its evaluation examples and few-shot pool loaded."""

    task: Task
    examples: list[Example]
    pool: list[Example]
    source: str
    data_dir: Path | None

    @property
    def name(self) -> str:
        return self.task.name


@dataclass
class Runner:
    """Runs a :class:`RunConfig`. ``run()`` returns the :class:`RunResult` (also on disk).

    Args:
        config: the run configuration.
        progress: optional callback ``(label, done, total)`` for progress bars.
        on_cell: optional callback called with each finished :class:`CellResult`.
    """

    config: RunConfig
    progress: ProgressFn | None = None
    on_cell: Callable[[CellResult], None] | None = None
    run_dir: Path = field(init=False)

    def prepare(self) -> list[PreparedTask]:
        """Load every task and its data (fail fast, before the model)."""
        cfg = self.config
        data_dir = default_data_dir(cfg.data_dir)
        prepared = []
        for ref in cfg.tasks or default_tasks():
            task = load_task(resolve_task(ref, cfg.tasks_dir))
            tc = task.config
            limit = cfg.limit or tc.limit
            examples = task.examples(tc.eval_split, data_dir, limit)
            needs_pool = any(m.kind == "few-shot" for m in self.methods())
            source, label = task.source(data_dir)
            pool: list[Example] = []
            if needs_pool and tc.fewshot.split in source.splits:
                pool = task.examples(tc.fewshot.split, data_dir)
            desc = f"{source.kind}" + (f" ({data_dir})" if label == "offline" else "")
            prepared.append(PreparedTask(task, examples, pool, desc, data_dir))
        return prepared

    def methods(self) -> list[Any]:
        return list(self.config.methods) or default_methods()

    def run(self) -> RunResult:
        from promptkit.methods import METHODS
        from promptkit.models import load_model
        from promptkit.prompting.chat import use_chat_template

        cfg = self.config
        started = time.perf_counter()
        prepared = self.prepare()
        run_id = cfg.run_id or new_run_id()
        self.run_dir = Path(cfg.out_dir) / run_id
        t0 = time.perf_counter()
        lm = load_model(cfg.model)
        load_s = time.perf_counter() - t0
        chat = use_chat_template(lm.tokenizer, cfg.model.chat_template)
        runtime = Runtime(batch_size=cfg.batch_size, chat=chat, progress=self.progress)
        result = RunResult(
            run_id=run_id,
            created=_dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
            config=dump(cfg),
            model=lm.describe(),
            chat_template=chat,
            environment={"python": platform.python_version(), "platform": platform.platform(), "packages": package_versions()},
            timings={"model_load_s": round(load_s, 3)},
        )
        for p in prepared:
            tc = p.task.config
            result.tasks[p.name] = {
                "version": str(tc.version),
                "path": str(p.task.path),
                "adapter": tc.adapter.kind,
                "eval_split": tc.eval_split,
                "n": len(p.examples),
                "source": p.source,
                "metrics": list(tc.metrics),
                "generation": dump(tc.generation),
            }
        result.save(self.run_dir)
        samples: dict[Path, list[dict[str, Any]]] = {}
        for p in prepared:
            for template in p.task.prompts:
                for method_cfg in self.methods():
                    method = METHODS.get(method_cfg.kind)(method_cfg, lm, runtime)
                    cell = self._run_cell(p, template, method, samples)
                    result.cells.append(cell)
                    result.timings["total_s"] = round(time.perf_counter() - started, 3)
                    result.save(self.run_dir)
                    if self.on_cell:
                        self.on_cell(cell)
        result.timings["total_s"] = round(time.perf_counter() - started, 3)
        result.save(self.run_dir)
        write_atomic(self.run_dir / "report.md", render_markdown(result))
        return result

    def _run_cell(self, p: PreparedTask, template: PromptTemplate, method: Any, samples: dict[Path, list[dict[str, Any]]]) -> CellResult:
        from promptkit.metrics import MetricContext, score

        tc = p.task.config
        k = method.shots(self.config.shots if self.config.shots is not None else tc.fewshot.shots)
        cell = CellResult(
            task=p.name,
            prompt=template.name,
            method=method.kind,
            method_config=dump(method.config),
            task_version=str(tc.version),
            prompt_version=str(template.config.version),
            n=len(p.examples),
            shots=k,
        )
        try:
            if k and not p.pool:
                raise PromptkitError(f"task {p.name!r}: few-shot needs a '{tc.fewshot.split}' split to draw demonstrations from")
            sampler = FewShotSampler(p.pool, k, seed=self.config.seed)
            prompts = [template.render(ex, sampler.sample(ex)) for ex in p.examples]
            t0 = time.perf_counter()
            method.fit([])
            t1 = time.perf_counter()
            normalization = getattr(tc.adapter, "normalization", "none")
            preds = method.predict(prompts, tc.generation, normalization)
            t2 = time.perf_counter()
            adapter = p.task.adapter(p.data_dir)
            ctx = MetricContext(language=adapter.target_language, labels=adapter.labels)
            scores = score(tc.metrics, preds, ctx, n_boot=self.config.bootstrap_samples, seed=self.config.seed)
        except PromptkitError as exc:
            cell.error = str(exc)
            return cell
        cell.metrics = scores
        out_tokens = sum(pr.output_tokens for pr in preds)
        cell.timings = {"fit_s": round(t1 - t0, 3), "predict_s": round(t2 - t1, 3)}
        cell.throughput = {
            "examples_per_s": round(len(preds) / max(t2 - t1, 1e-9), 3),
            "output_tokens_per_s": round(out_tokens / max(t2 - t1, 1e-9), 3),
            "prompt_tokens": float(sum(pr.prompt_tokens for pr in preds)),
            "output_tokens": float(out_tokens),
        }
        rel = Path("samples") / slug(p.name) / f"{slug(method.kind)}.jsonl"
        cell.samples = rel.as_posix()
        rows = samples.setdefault(rel, [])
        rows.extend(sample_rows(template.name, method.kind, prompts, preds, scores))
        path = self.run_dir / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        write_atomic(path, "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows))
        return cell


def sample_rows(prompt_name: str, method: str, prompts: Sequence[Prompt], preds: Sequence[Prediction], scores: dict[str, Any]) -> list[dict[str, Any]]:
    rows = []
    for i, (pr, pd) in enumerate(zip(prompts, preds, strict=True)):
        row: dict[str, Any] = {
            "example_id": pd.example_id,
            "prompt_name": prompt_name,
            "method": method,
            "prompt": pd.prompt,
            "prediction": pd.output,
            "raw_output": pd.raw_output,
            "references": list(pd.references),
            "scores": {name: s.per_sample[i] for name, s in scores.items() if len(s.per_sample) == len(preds)},
            "prompt_tokens": pd.prompt_tokens,
            "output_tokens": pd.output_tokens,
        }
        if pd.choices:
            row["choices"] = list(pd.choices)
            row["choice_logprobs"] = list(pd.choice_logprobs)
            row["label"] = pd.label
            row["predicted_label"] = pd.predicted_label
        rows.append(row)
    return rows


def run(config: RunConfig, progress: ProgressFn | None = None) -> RunResult:
    """Run ``config`` (notebook entry point)."""
    return Runner(config, progress).run()
