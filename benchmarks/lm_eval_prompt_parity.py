"""Prompt parity with lm-evaluation-harness: the same task file, the same strings.

For every lm-eval task file given (default: the three under tests/fixtures/lmeval/), build each
evaluated row's requests twice, zero-shot and with ``num_fewshot`` demonstrations (2 when the
file sets none): once with promptkit (``--task lm-eval:FILE``: the converted task's plain prompt,
``target_delimiter + choice`` per choice, the stop strings and token budget of a generation) and
once with lm-eval itself (``ConfigurableTask.fewshot_context`` and ``construct_requests``), and
compare them character for character: the demonstrations drawn (lm-eval's sampler, seeded as
``simple_evaluate`` seeds it, 1234, drawn in row order for each shot count) and their format.
Until 2026-12-07 promptkit drew demonstrations with its own sampler, so both sides were given the
first rows of the few-shot split and only the format was compared (the result below).

lm-eval is not a promptkit dependency. Where ``import lm_eval`` works the comparison runs in this
process; otherwise pass the python of an environment that has it (nothing else is needed there,
no network: the data are local JSON files):

    python3 -m venv /tmp/lmeval-venv && /tmp/lmeval-venv/bin/pip install 'lm-eval==0.4.13'
    .venv/bin/python benchmarks/lm_eval_prompt_parity.py --lm-eval-python /tmp/lmeval-venv/bin/python

Without either it prints why it skipped and exits 0.

Result (2026-12-03, lm-eval 0.4.13 with datasets 5.2.0, installed without the ``[hf]`` extra,
which building prompts does not need; 2-core CPU, 3 s): on the three fixture tasks every request
was identical, 60 in all (toy_qa: 12 generation prompts, context plus stop strings and token
budget, 0 and 2 shots; toy_sst2: 24 choice requests, 0 and 2 shots; toy_arc, per-row choices
through an include, 24, 0 and 1 shot), 0 differences. Three more files written for the check
(custom target and few-shot delimiters with a templated description, 3 shots, doc_to_choice as a
mapping and acc_norm; a generate_until task with lm-eval's default ``until``, an empty
target_delimiter, a column as doc_to_text and a list-valued target; a templated text gold) gave
60 more identical requests.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = sorted((ROOT / "tests" / "fixtures" / "lmeval").glob("*.yaml"))
DEFAULT_SHOTS = 2  # when the file sets no num_fewshot


def shot_counts(num_fewshot: int | None) -> list[int]:
    return sorted({0, num_fewshot or DEFAULT_SHOTS})


# ----------------------------------------------------------------------------- promptkit's side
def promptkit_requests(path: Path) -> list[dict[str, Any]]:
    """Each evaluated row's context and continuations (or generation settings), per shot count."""
    from promptkit.harness.predict import choice_continuation
    from promptkit.prompting.chat import format_prompt
    from promptkit.prompting.fewshot import make_sampler
    from promptkit.tasks import load_task
    from promptkit.tasks.lmeval import read_lm_eval

    task = load_task(f"lm-eval:{path}", trust_code=True)  # lm-eval runs a task's code: so does this side
    tc = task.config
    pool = task.fewshot_pool() if tc.fewshot.rows or tc.fewshot.split in task.config.dataset.splits else []
    out = []
    for k in shot_counts(read_lm_eval(path).data.get("num_fewshot")):
        sampler = make_sampler(tc.fewshot, pool, k, seed=0)  # a run per shot count, as lm-eval's
        for i, ex in enumerate(task.examples(tc.eval_split)):
            prompt = task.prompts[0].render(ex, sampler.sample(ex))
            row: dict[str, Any] = {"shots": k, "row": i}
            if prompt.continuation is not None:  # lm-eval's multiple-input form: each choice ends the context
                row["requests"] = [[format_prompt(dataclasses.replace(prompt, query=c), None, chat=False),
                                    choice_continuation(prompt, prompt.continuation, chat=False)] for c in prompt.choices]
            elif prompt.choices:
                context = format_prompt(prompt, None, chat=False)
                row["requests"] = [[context, choice_continuation(prompt, c, chat=False)] for c in prompt.choices]
            else:
                row["context"] = format_prompt(prompt, None, chat=False)
                row["until"] = list(tc.generation.stop)
                row["max_gen_toks"] = tc.generation.max_new_tokens
            out.append(row)
    return out


# ----------------------------------------------------------------------------- lm-eval's side
def lm_eval_requests(path: Path) -> list[dict[str, Any]]:
    """The same rows through lm-eval (run in an environment with lm_eval; imports no promptkit)."""
    os.environ.setdefault("HF_DATASETS_OFFLINE", "1")
    from lm_eval.api.task import ConfigurableTask
    from lm_eval.tasks._yaml_loader import load_yaml

    config = load_yaml(path)  # includes merged, as lm-eval's task index reads a file
    cwd = os.getcwd()
    os.chdir(path.parent)  # lm-eval reads relative data_files from the working directory
    try:
        task = ConfigurableTask(config=config)
    finally:
        os.chdir(cwd)
    docs = list(task.eval_docs)
    out = []
    for k in shot_counts(config.get("num_fewshot")):
        task.set_fewshot_seed(seed=1234)  # simple_evaluate's fewshot_random_seed, once per run
        for i, doc in enumerate(docs):
            context = task.fewshot_context(doc, k, gen_prefix=task.doc_to_prefix(doc))  # as build_all_requests calls it
            row: dict[str, Any] = {"shots": k, "row": i}
            requests = task.construct_requests(doc, context)
            if isinstance(requests, list):  # one (context, continuation) per choice; a context per choice
                row["requests"] = [list(r.arguments) for r in requests]  # in the multiple-input form
            elif requests.request_type == "loglikelihood":  # one continuation, scored after the context
                row["requests"] = [list(requests.arguments)]
            else:
                row["context"] = context
                kwargs = requests.arguments[1]
                row["until"] = list(kwargs["until"])
                row["max_gen_toks"] = kwargs.get("max_gen_toks", 256)
            out.append(row)
    return out


def compare(ours: list[dict[str, Any]], theirs: list[dict[str, Any]]) -> list[str]:
    diffs = []
    if len(ours) != len(theirs):
        diffs.append(f"{len(ours)} rows here, {len(theirs)} in lm-eval")
    for a, b in zip(ours, theirs, strict=False):
        for key in sorted(set(a) | set(b)):
            if a.get(key) != b.get(key):
                diffs.append(f"shots {a['shots']} row {a['row']} {key}: promptkit {a.get(key)!r} / lm-eval {b.get(key)!r}")
    return diffs


def requests_count(rows: list[dict[str, Any]]) -> int:
    return sum(len(r.get("requests", [])) or 1 for r in rows)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("files", nargs="*", type=Path, help="lm-eval task YAML files (default: tests/fixtures/lmeval/*.yaml)")
    ap.add_argument("--lm-eval-python", default=None, help="python of an environment with lm_eval installed")
    ap.add_argument("--lm-eval-side", action="store_true", help=argparse.SUPPRESS)  # the child process
    args = ap.parse_args()
    files = [f.resolve() for f in args.files] or FIXTURES
    if args.lm_eval_side:
        json.dump({str(f): lm_eval_requests(f) for f in files}, sys.stdout)
        return 0
    try:
        import lm_eval  # noqa: F401

        theirs = {str(f): lm_eval_requests(f) for f in files}
    except ImportError:
        if not args.lm_eval_python:
            print("skipped: lm_eval is not importable here; install it in its own environment and pass "
                  "--lm-eval-python (see this script's docstring)")
            return 0
        with tempfile.TemporaryDirectory(prefix="pk-lmeval-") as cache:
            env = {**os.environ, "HF_DATASETS_CACHE": cache, "HF_DATASETS_OFFLINE": "1", "HF_HUB_OFFLINE": "1"}
            proc = subprocess.run([args.lm_eval_python, __file__, "--lm-eval-side", *map(str, files)],
                                  capture_output=True, text=True, env=env, check=False)
        if proc.returncode != 0:
            print(proc.stderr[-4000:], file=sys.stderr)
            return proc.returncode
        theirs = json.loads(proc.stdout)
    failed = 0
    total = 0
    for f in files:
        ours = promptkit_requests(f)
        diffs = compare(ours, theirs[str(f)])
        n = requests_count(ours)
        total += n
        failed += bool(diffs)
        print(f"{f.name}: {n} requests, {len(ours)} prompts: " + ("identical" if not diffs else f"{len(diffs)} differences"))
        for d in diffs[:10]:
            print(f"  {d}")
    print(f"{total} requests in all; {'no differences' if not failed else f'{failed} file(s) differ'}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
