"""The HTML report in a real browser: headless Chromium (Debian package ``chromium``) renders a
run's report.html, and the page is checked from inside: no JavaScript error, every section
there, no plot label outside its figure, nothing wider than a phone screen, and dataset text
that looks like markup shown as text. Skipped when no Chromium is installed."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from helpers import invoke, set_args, tiny_budget

BROWSER = next((b for b in ("chromium", "chromium-browser", "google-chrome") if shutil.which(b)), None)
pytestmark = pytest.mark.skipif(BROWSER is None, reason="no headless Chromium (apt-get install chromium)")

HOSTILE = '<script>window.__pwned=1</script><img src=x onerror="window.__pwned=2">'
SECTIONS = [".verdict", ".summary", ".cost", ".significance", ".curves", ".examples", "#metadata"]

# Runs first in <head>: records every error, including those of the report's own script.
CATCH = "<script>window.__errors=[];window.addEventListener('error',function(e){window.__errors.push(String(e.message))});</script>"
# Runs last: measures the page and writes its findings into the DOM, which --dump-dom prints.
CHECK = """<script>
(function(){
  var out={errors:window.__errors, pwned:window.__pwned||null, missing:[], clipped:[], labels:[], overflow:0, cards:0,
           injected:document.querySelectorAll('.list script, .list img').length, hostileShown:false};
  %s.forEach(function(sel){ if(!document.querySelector(sel)) out.missing.push(sel); });
  document.querySelectorAll('svg.plot').forEach(function(svg, i){
    var box=svg.getBoundingClientRect();
    svg.querySelectorAll('text').forEach(function(t){
      var r=t.getBoundingClientRect(); if(!r.width) return;
      out.labels.push(t.textContent);
      if(r.left<box.left-1||r.right>box.right+1||r.top<box.top-1||r.bottom>box.bottom+1) out.clipped.push(i+': '+t.textContent);
    });
  });
  out.overflow=document.documentElement.scrollWidth-window.innerWidth;
  var browser=document.querySelector('.browser');
  if(browser){ var mode=browser.querySelector('.mode'); mode.value='all'; mode.dispatchEvent(new Event('change'));
    out.cards=browser.querySelectorAll('.ex').length;
    out.hostileShown=browser.textContent.indexOf('<scr'+'ipt>window.__pwned=1</scr'+'ipt>')>=0; }
  var pre=document.createElement('pre'); pre.id='__check'; pre.textContent=JSON.stringify(out); document.body.appendChild(pre);
})();
</script>""" % json.dumps(SECTIONS)


def render_in_browser(report: Path, tmp_path: Path, width: int) -> dict[str, object]:
    page = report.read_text(encoding="utf-8")
    page = page.replace("<head>", "<head>" + CATCH, 1).replace("</body>", CHECK + "</body>", 1)
    probe = tmp_path / f"probe-{width}.html"
    probe.write_text(page, encoding="utf-8")
    assert BROWSER is not None
    done = subprocess.run([BROWSER, "--headless", "--no-sandbox", "--disable-gpu", f"--window-size={width},2000",
                           "--virtual-time-budget=5000", "--dump-dom", probe.as_uri()],
                          capture_output=True, text=True, timeout=120)
    found = re.search(r'<pre id="__check">(.*?)</pre>', done.stdout, re.S)
    assert found, f"no check output; stderr: {done.stderr[-2000:]}"
    import html

    return dict(json.loads(html.unescape(found.group(1))))


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory, tiny_llama_dir: Path) -> Path:
    tmp = tmp_path_factory.mktemp("browser")
    rows = [{"id": f"q{i}", "title": f"article-{i // 3}", "context": f"The box holds item{i} .",
             "question": f"What does the box hold {HOSTILE if i == 0 else ''}?", "answers": [f"item{i}"]} for i in range(18)]
    (tmp / "train.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows[6:]))
    (tmp / "test.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows[:6]))
    (tmp / "hostile.yaml").write_text(
        "name: hostile\ndataset: {kind: files, splits: {train: train.jsonl, test: {path: test.jsonl, group_by: title}}}\n"
        "adapter: {kind: qa, fields: {context: context, question: question, answers: answers}}\n"
        "prompts: [qa/extractive]\nmetrics: [exact_match, token_f1]\ngeneration: {max_new_tokens: 4}\nfewshot: {shots: 1}\n")
    out = tmp / "runs"
    result = invoke([
        "eval", "--task", str(tmp / "hostile.yaml"), "--model", str(tiny_llama_dir), "--out", str(out), "--run-id", "r",
        "--device", "cpu", "--method", "zero-shot", "--method", "few-shot", "--method", "prompt-tuning", "--method", "lora",
        *tiny_budget(4, "prompt-tuning.num_virtual_tokens=4", bootstrap_samples=50),
        *set_args("training.eval_every=2", "training.dev_size=3")])
    assert result.exit_code == 0, result.output
    return out / "r" / "report.html"


def test_the_report_renders_every_section_without_errors_or_clipped_labels(report: Path, tmp_path: Path) -> None:
    found = render_in_browser(report, tmp_path, 1280)
    assert found["errors"] == [] and found["missing"] == []
    assert found["clipped"] == [], found["clipped"]
    labels = found["labels"]
    assert isinstance(labels, list)
    # axis titles with units, and every method's value printed in full next to its interval
    assert any("(0-100, 95% CI)" in x for x in labels) and any("trainable parameters (log scale)" in x for x in labels)
    assert sum(1 for x in labels if re.fullmatch(r"\d+\.\d( best| tied with best)?", x)) >= 4
    assert found["overflow"] <= 1


def test_dataset_text_that_looks_like_markup_is_shown_as_text(report: Path, tmp_path: Path) -> None:
    found = render_in_browser(report, tmp_path, 1280)
    assert found["pwned"] is None and found["injected"] == 0 and found["errors"] == []
    assert found["cards"] == 6 and found["hostileShown"] is True
    assert "<script>window.__pwned" not in report.read_text(encoding="utf-8")  # escaped in the file itself


def test_the_report_fits_a_phone_screen(report: Path, tmp_path: Path) -> None:
    found = render_in_browser(report, tmp_path, 390)
    assert found["errors"] == [] and found["missing"] == [] and found["clipped"] == []
    assert found["overflow"] <= 1, f"the page is {found['overflow']} px wider than a 390 px screen"
