"""Names and data shown to a person stay text: report.md escapes markup, the terminal never
receives a control sequence from data, report.html isolates bidi overrides, and an error
with 90,000 problems prints a bounded message.

Every name and row here is hostile on purpose: task, prompt, method and model names come from
files a user (or a shared results.json) supplies, and rows come from datasets.
"""

from __future__ import annotations

import json
import shutil
from html.parser import HTMLParser
from pathlib import Path

import pytest
from click.testing import CliRunner
from helpers import error_lines, invoke
from promptkit.cli import cli
from promptkit.errors import ConfigError, Problem
from promptkit.records import MetricScore
from promptkit.records.results import CellResult, RunResult, TaskInfo

ROOT = Path(__file__).resolve().parents[2]
TINY = ROOT / "tests" / "fixtures" / "tiny"

TASK = "<script>alert(1)</script> *t* _x_ [l](javascript:alert(1)) #"
PROMPT = "qa/`p`|<b>x</b>"
METHOD = "m|<img src=x onerror=alert(1)>"
MODEL = "``a`b|c``"
ERROR = "boom\n| fake | row |\n<script>x</script>"


def cell(task: str, method: str, prompt: str, em: float = 50.0, error: str | None = None) -> CellResult:
    metrics = {} if error else {"exact_match": MetricScore("exact_match", em, em - 10, em + 10, 4, per_sample=(em,) * 4)}
    return CellResult(task=task, prompt=prompt, method=method, method_config={"kind": "zero-shot"}, task_version="1",
                      prompt_version="1", n=4, metrics=metrics, timings={"predict_s": 1.0},
                      throughput={"examples_per_s": 4.0}, error=error)


def hostile_run(task: str = TASK, prompt: str = PROMPT, method: str = METHOD, model: str = MODEL,
                run_id: str = "run-a") -> RunResult:
    return RunResult(
        run_id=run_id, created="2025-01-01T00:00:00+00:00", config={"seed": 0},
        model={"name": model, "architecture": "LlamaForCausalLM", "parameters": 1_000_000, "dtype": "float32", "device": "cpu"},
        chat_template=False, environment={},
        tasks={task: TaskInfo(version="1", eval_split="te`st", n=4, source="files")},
        cells=[cell(task, "zero-shot", prompt, 25.0), cell(task, method, prompt, 50.0),
               cell(task, method + "-2", prompt, error=ERROR)],
        commands=["promptkit eval --model '``a`b|c``'"],
    )


# ----------------------------------------------------------------------------- report.md
class Tree(HTMLParser):
    """Text of the HTML, with the open elements (and their attributes) at each piece."""

    VOID = {"br", "meta", "img", "input", "hr", "link", "col", "area", "base", "wbr", "source"}

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.stack: list[tuple[str, dict[str, str | None]]] = []
        self.texts: list[tuple[tuple[str, ...], str]] = []  # (open tags, text)
        self.rows: list[tuple[int, int]] = []  # (table number, cells in the row)
        self.tables = 0
        self._cells = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "table":
            self.tables += 1
        if tag == "tr":
            self._cells = 0
        if tag in ("td", "th"):
            self._cells += 1
        if tag not in self.VOID:
            self.stack.append((tag, dict(attrs)))

    def handle_endtag(self, tag: str) -> None:
        if tag == "tr":
            self.rows.append((self.tables, self._cells))
        names = [t for t, _ in self.stack]
        if tag in names:
            del self.stack[len(names) - 1 - names[::-1].index(tag):]

    def handle_data(self, data: str) -> None:
        self.texts.append((tuple(t for t, _ in self.stack), data))

    def text_of(self, tag: str) -> list[str]:
        return [text for tags, text in self.texts if tags and tags[-1] == tag]


def parse(html: str) -> Tree:
    tree = Tree()
    tree.feed(html)
    tree.close()
    return tree


def test_markdown_keeps_hostile_names_as_text() -> None:
    from markdown_it import MarkdownIt
    from promptkit.report.markdown import render_markdown

    text = render_markdown(hostile_run())
    assert "<script" not in text and "<img" not in text and "<b>" not in text
    # rendered by a CommonMark parser that passes raw HTML through, with GFM tables
    html = MarkdownIt("commonmark").enable("table").render(text)
    assert "<script" not in html and "<img" not in html and "<b>" not in html and "href=" not in html
    tree = parse(html)
    assert TASK in tree.text_of("h2")  # the heading shows the whole name, closing '#' included
    assert MODEL in tree.text_of("code") and "te`st" in tree.text_of("code")
    assert "promptkit eval --model '``a`b|c``'" in tree.text_of("code")
    # every row of every table has as many cells as its header
    widths: dict[int, set[int]] = {}
    for table, n in tree.rows:
        widths.setdefault(table, set()).add(n)
    assert widths and all(len(w) == 1 for w in widths.values()), widths
    cells = [text for tags, text in tree.texts if "td" in tags]
    assert METHOD in cells and PROMPT in cells
    assert any(ERROR.replace("\n", " ") in c for c in cells)


def test_comparison_markdown_escapes_names_too() -> None:
    from markdown_it import MarkdownIt
    from promptkit.report.markdown import render_comparison

    text = render_comparison([hostile_run(), hostile_run(run_id="run`b")])
    assert "<script" not in text and "<img" not in text
    tree = parse(MarkdownIt("commonmark").enable("table").render(text))
    assert "run`b" in tree.text_of("code") and TASK in tree.text_of("h2")
    assert len({n for _, n in tree.rows}) == 1


def test_code_spans_take_a_longer_fence() -> None:
    from promptkit.report.markdown import md_code

    assert md_code("tiny") == "`tiny`"
    assert md_code("a`b") == "``a`b``"
    assert md_code("``a") == "``` ``a ```"
    assert md_code("two\nlines") == "`two lines`"


# ----------------------------------------------------------------------------- the terminal
@pytest.fixture
def escape_task(tmp_path: Path) -> Path:
    """tests/fixtures/tiny whose test rows hold an OSC title sequence, a CSI colour and C1 controls."""
    shutil.copytree(TINY, tmp_path / "t")
    rows = [{"id": "r\x1b[2J1", "context": "The red car \x1b]0;pwned\x07belongs to \x1b[31mAnna\x1b[0m .",
             "question": "Who\x9b6n owns\r the car\x7f ?", "answers": ["Anna\x1b[5m"]}]
    (tmp_path / "t" / "data" / "qa_test.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    task = tmp_path / "t" / "qa.yaml"
    task.write_text(task.read_text(encoding="utf-8").replace("Toy extractive QA for tests.", '"toy \\x1b[31mred\\x1b[0m"'),
                    encoding="utf-8")
    return task


def no_controls(text: str) -> bool:
    return not any(ch not in "\n\t" and (ord(ch) < 0x20 or 0x7F <= ord(ch) <= 0x9F) for ch in text)


def test_printable_makes_control_characters_visible() -> None:
    from promptkit.cli.display import printable

    assert printable("a\x1b]0;pwned\x07b\x1b[31mc") == "a\\x1b]0;pwned\\x07b\\x1b[31mc"
    assert printable("x\x9b1m\x7f\r\n\ty") == "x\\x9b1m\\x7f\\x0d\n\ty"
    assert printable("plain: Zoë, 東京 [bold]") == "plain: Zoë, 東京 [bold]"


def test_tasks_show_prints_no_control_sequence_from_data(escape_task: Path, tiny_llama_dir: Path) -> None:
    result = CliRunner().invoke(cli, ["tasks", "show", str(escape_task), "--model", str(tiny_llama_dir), "-n", "1",
                                      "--chat-template", "off"], terminal_width=200)
    assert result.exit_code == 0, result.output
    assert no_controls(result.stdout) and no_controls(result.stderr), repr(result.output)
    assert "\\x1b]0;pwned\\x07belongs to \\x1b[31mAnna" in result.stdout  # shown, as escapes
    assert "r\\x1b[2J1" in result.stdout and "Who\\x9b6n owns\\x0d the car\\x7f ?" in result.stdout


def test_tasks_list_prints_no_control_sequence_from_descriptions(escape_task: Path) -> None:
    result = invoke(["tasks", "list", "--tasks-dir", str(escape_task.parent)])
    assert result.exit_code == 0, result.output
    assert no_controls(result.stdout) and "\\x1b[31mred" in result.stdout


def test_eval_display_prints_no_control_sequence_from_names(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    from promptkit.cli.display import LiveDisplay

    name = "m\x1b]0;pwned\x07"
    live = LiveDisplay()
    live.progress(f"train {name}", 0, 2)
    live.progress(f"train {name}", 2, 2)
    live.cell_done(cell("t\x1b[31m", name, "p\x9b"))
    live.cell_done(cell("t\x1b[31m", name, "p\x9b", error="bad row \x1b[2J"))
    live.summary(hostile_run(task="t\x1b[31m", method=name, prompt="p\x9b"), tmp_path / "run\x1b[0m")
    captured = capsys.readouterr()
    assert no_controls(captured.out) and no_controls(captured.err), repr(captured)
    assert "m\\x1b]0;pwned\\x07" in captured.err and "bad row \\x1b[2J" in captured.err
    assert "t\\x1b[31m" in captured.out


def test_error_lines_are_escaped_and_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    import promptkit.tasks.catalog as catalog

    many = ConfigError([Problem(f"bad value {i} \x1b[31m", "run.yaml", i + 1, "methods") for i in range(90_000)])

    def fail(*args: object) -> None:
        raise many

    monkeypatch.setattr(catalog, "resolve_task", fail)
    result = invoke(["tasks", "show", "anything"])
    assert result.exit_code == 2
    lines = result.stderr.splitlines()
    assert len(lines) == 51 and lines == error_lines(result)
    assert lines[0] == "error: run.yaml:1: methods: bad value 0 \\x1b[31m"
    assert lines[-1] == "error: ... and 89,950 more problems"
    assert "\x1b" not in result.stderr

    long = "x" * 1_500_000
    huge = ConfigError([Problem(f"value {long!r} \x1b]0;pwned\x07 is not allowed", "tasks/big.yaml", 3, "prompts[0].input")])

    def fail_long(*args: object) -> None:
        raise huge

    monkeypatch.setattr(catalog, "resolve_task", fail_long)
    result = invoke(["tasks", "show", "anything"])
    assert result.exit_code == 2
    (line,) = result.stderr.splitlines()
    assert len(line) <= 2_000 and no_controls(line)
    assert line.startswith("error: tasks/big.yaml:3: prompts[0].input: value 'xxx")
    assert line.endswith("xxx' \\x1b]0;pwned\\x07 is not allowed")
    assert " characters cut] ... " in line


# ----------------------------------------------------------------------------- report.html
RLO = "\u202e"
BIDI = set("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")


def unclosed(text: str) -> int:
    """Embeddings, overrides and isolates ``text`` opens and does not close."""
    depth = 0
    for ch in text:
        depth += ch in "\u202a\u202b\u202d\u202e\u2066\u2067\u2068"
        depth -= ch in "\u202c\u2069" and depth > 0
    return depth


def test_html_isolates_bidi_overrides_in_names_and_data() -> None:
    from promptkit.report.html import render_html

    run = hostile_run(task=f"task{RLO}1", prompt=f"qa/{RLO}p", method=f"lora{RLO}x", model=f"{RLO}model",
                      run_id=f"run{RLO}a")
    run.cells[2].error = f"row {RLO}7 is bad"
    html = render_html(run)
    tree = parse(html)
    shown = [(tags, text) for tags, text in tree.texts if BIDI & set(text) and not {"script", "style"} & set(tags)]
    assert len(shown) > 10
    for tags, text in shown:
        if "svg" in tags:  # a plot's label: each SVG <text> element is laid out as a bidi paragraph of its own
            assert tags[-1] == "text", (tags, text)
            continue
        if "title" in tags:  # the page title holds text only: isolated with FSI ... PDI
            assert text.startswith("promptkit \u2068") and text.endswith("\u2069"), repr(text)
        else:
            assert "bdi" in tags, (tags, text)
        # and whatever the text opens, it closes: nothing after it can be reordered
        assert unclosed(text) == 0, repr(text)


def test_html_closes_an_override_a_name_leaves_open() -> None:
    from promptkit.report.html import balance_bidi

    assert balance_bidi("plain") == "plain"
    assert balance_bidi(f"a{RLO}b") == f"a{RLO}b\u202c"
    assert balance_bidi("\u2069\u202ca\u2067b") == "a\u2067b\u2069"  # stray closers dropped, the isolate closed


# ----------------------------------------------------------------------------- few-shot with 0 shots
def evaluate(tmp: Path, *extra: str) -> list[str]:
    return ["eval", "--task", str(TINY / "qa.yaml"), "--model", str(tmp / "no-model"), "--out", str(tmp / "out"), *extra]


ZERO_SHOTS = "few-shot needs at least 1 demonstration (got 0; accepted: 1 to 64); --method zero-shot is the zero-shot column"


@pytest.mark.parametrize("how", ["flag", "run-shots", "default-methods"])
def test_few_shot_with_zero_shots_is_refused(how: str, tmp_path: Path) -> None:
    config = tmp_path / "run.yaml"
    if how == "flag":
        args = evaluate(tmp_path, "--method", "few-shot", "--shots", "0")
    elif how == "run-shots":
        config.write_text("methods: [zero-shot, few-shot]\nshots: 0\n", encoding="utf-8")
        args = evaluate(tmp_path, "--config", str(config))
    else:  # the default comparison holds few-shot
        args = evaluate(tmp_path, "--shots", "0")
    result = invoke(args)
    assert result.exit_code == 2, result.output
    (line,) = error_lines(result)
    assert ZERO_SHOTS in line and "no-model" not in result.output  # refused before any model would load
    where = f"{config}:2: shots: " if how == "run-shots" else "<command line>: shots: "
    assert line.startswith(f"error: {where}"), line


@pytest.mark.parametrize("how", ["method-shots", "set"])
def test_a_few_shot_entry_with_zero_shots_was_already_refused(how: str, tmp_path: Path) -> None:
    if how == "method-shots":
        config = tmp_path / "run.yaml"
        config.write_text("methods:\n  - kind: few-shot\n    shots: 0\n", encoding="utf-8")
        args = evaluate(tmp_path, "--config", str(config))
    else:
        args = evaluate(tmp_path, "--method", "few-shot", "--set", "few-shot.shots=0")
    result = invoke(args)
    assert result.exit_code == 2 and "no-model" not in result.output
    (line,) = error_lines(result)
    assert "shots: input should be greater than or equal to 1 (got 0)" in line


def test_zero_shots_is_fine_without_few_shot(tmp_path: Path) -> None:
    result = invoke(evaluate(tmp_path, "--method", "zero-shot", "--shots", "0"))
    assert result.exit_code == 2 and "no-model" in result.output  # it got as far as loading the model


def test_dollar_signs_in_names_are_plotted_as_text() -> None:
    """matplotlib reads "$...$" as mathtext: a method named ``a$\\frac{$b`` made render_html raise."""
    from promptkit.report.html import render_html

    html = render_html(hostile_run(method="a$\\frac{$b", task="t$x$"))
    assert "a$\\frac{$b" in html
