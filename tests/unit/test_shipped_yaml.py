"""Every shipped YAML file under tasks/ and prompts/ is valid, named after its path, and (where
the data is at hand) loads examples that render with each of its prompts.

One test per file, found by a recursive glob, so a new file is checked without editing this one.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from promptkit.config import FilesSource, PromptConfig
from promptkit.config.documents import read_yaml, validate
from promptkit.prompting import FewShotSampler
from promptkit.records import Example
from promptkit.tasks import Task, load_task, validate_files
from promptkit.tasks.catalog import builtin_dir, prompt_files, task_files

REPO = Path(__file__).resolve().parents[2]
TASKS_DIR = REPO / "tasks"
PROMPTS_DIR = REPO / "prompts"
# ../shared/data beside the repository: the offline copies of the real datasets.
SHARED_DATA = Path(__file__).resolve().parents[2].parent / "shared" / "data"


def yaml_files(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("*") if p.suffix in (".yaml", ".yml") and p.is_file())


TASK_FILES = yaml_files(TASKS_DIR)
PROMPT_FILES = yaml_files(PROMPTS_DIR)
# Tasks whose data ships with the repository (the fictional demos and the SQuAD subset).
DEMO_TASKS = sorted(p for p in TASKS_DIR.glob("*.yaml") if "demo" in (yaml.safe_load(p.read_text()) or {}).get("tags", []))


def rel(path: Path) -> str:
    return path.relative_to(REPO).as_posix()


def test_the_globs_found_the_catalogues() -> None:
    # Guards against a glob that silently matches nothing (or a moved directory).
    assert builtin_dir("tasks").resolve() == TASKS_DIR.resolve()
    assert builtin_dir("prompts").resolve() == PROMPTS_DIR.resolve()
    assert len(TASK_FILES) >= 10 and len(PROMPT_FILES) >= 5 and len(DEMO_TASKS) >= 1
    assert sorted(task_files()) == sorted(p.stem for p in TASK_FILES)
    # Task files are found by stem, so two files may not share one.
    assert len({p.stem for p in TASK_FILES}) == len(TASK_FILES)


# ----------------------------------------------------------------------------- validity and names
@pytest.mark.parametrize("path", TASK_FILES, ids=rel)
def test_task_file_is_valid(path: Path) -> None:
    assert validate_files([path]) == {path: []}
    task = load_task(path)
    assert task.name == path.stem, "a task's name must equal its file name (that is how it is looked up)"
    assert task.config.description.strip(), "built-in tasks need a description (shown by `tasks list`)"
    for template in task.prompts:
        assert template.config.kind in (None, task.config.adapter.kind)


@pytest.mark.parametrize("path", PROMPT_FILES, ids=rel)
def test_prompt_file_is_valid(path: Path) -> None:
    assert validate_files([path]) == {path: []}
    config = validate(PromptConfig, read_yaml(path))
    name = path.relative_to(PROMPTS_DIR).with_suffix("").as_posix()
    assert config.name == name, "a prompt's name must equal its path under prompts/ without extension"
    assert config.kind == name.split("/")[0], "prompts/<kind>/ holds prompts of that kind"
    assert prompt_files()[name] == path
    # Parts must not carry stray outer whitespace: the delimiters do the joining.
    for part in (config.instruction, config.input, config.target):
        if part is not None:
            assert part == part.strip(), f"leading/trailing whitespace in {part!r}"


# ----------------------------------------------------------------------------- data and rendering
def render_all_prompts(task: Task, data_dir: Path | None) -> None:
    examples = task.examples(task.config.eval_split, data_dir, limit=3)
    assert len(examples) == 3
    assert len({ex.id for ex in examples}) == 3
    pool: list[Example] = []
    if task.config.train_split and task.config.fewshot.split in task.source(data_dir)[0].splits:
        pool = task.examples(task.config.fewshot.split, data_dir, limit=8)
    sampler = FewShotSampler(pool, k=2, seed=0)
    for template in task.prompts:
        for ex in examples:
            assert ex.references and all(r.strip() for r in ex.references)
            for shots in ([], sampler.sample(ex)):
                prompt = template.render(ex, shots)
                assert prompt.query.strip() and prompt.target.strip()
                assert prompt.target in ex.references or task.config.adapter.kind == "classification"
                assert prompt.text.endswith(prompt.query)


OFFLINE_TASKS = [p for p in TASK_FILES if "offline:" in p.read_text()]


@pytest.mark.parametrize("path", OFFLINE_TASKS, ids=rel)
def test_offline_task_loads_and_renders_shared_data(path: Path) -> None:
    if not SHARED_DATA.is_dir():
        pytest.skip(f"{SHARED_DATA} is not present")
    task = load_task(path)
    assert task.config.offline is not None
    source, label = task.source(SHARED_DATA)
    assert label == "offline" and isinstance(source, FilesSource)
    for split in source.splits:
        spec = source.split_files(split)
        for name in spec.path if isinstance(spec.path, list) else [spec.path]:
            if not (SHARED_DATA / name).is_file():
                pytest.skip(f"{SHARED_DATA / name} is not present")
    render_all_prompts(task, SHARED_DATA)


@pytest.mark.parametrize("path", DEMO_TASKS, ids=rel)
def test_demo_task_loads_its_committed_data(path: Path) -> None:
    task = load_task(path)
    source, label = task.source(None)
    assert label == "dataset" and isinstance(source, FilesSource)
    assert source.relative_to == "task", "demo data ships next to the task file"
    for split in source.splits:
        spec = source.split_files(split)
        for name in spec.path if isinstance(spec.path, list) else [spec.path]:
            if not (path.parent / name).is_file():
                pytest.skip(f"{path.parent / name} is not there (yet)")
    render_all_prompts(task, None)
    # Demonstrations never come from the evaluated split, and the two splits share no ids.
    eval_ids = {ex.id for ex in task.examples(task.config.eval_split)}
    train_ids = {ex.id for ex in task.examples(task.config.fewshot.split)}
    assert not eval_ids & train_ids
