"""Filter and exact-match parity with lm-evaluation-harness: the same responses, the same answers.

Random responses over an alphabet chosen to trigger the patterns (digits, ``$ , . -``, ``####``,
letters A-D, parentheses, colons, ``İ``, choice texts) are put through lm-eval's own ``regex``
and ``multi_choice_regex`` filters and ``exact_match`` (``exact_match_hf_evaluate``, a row at a
time as lm-eval scores, the output repeated per reference for several targets) and through
promptkit's (``promptkit.tasks.filters``, the metric ``string_match``), and every answer and
score is compared. Cases where lm-eval raises (a ``group_select`` past the matches) are skipped:
promptkit gives the fallback there.

lm-eval is not a promptkit dependency. Where ``import lm_eval`` works the comparison runs as is;
``--lm-eval-source DIR`` imports it from a source checkout instead (DIR holds ``lm_eval/``; the
filters and metrics need no more than numpy). Without either it prints why it skipped and exits 0.

    .venv/bin/python benchmarks/lm_eval_filter_parity.py --lm-eval-source /path/to/lm-evaluation-harness

Result (2026-12-07, lm-eval 0.4.13 source at 4e7e0d4, seed 0, 2-core CPU, 7 s): regex 23,319
responses (9 patterns, GSM8K's among them, x 4 group_select values, less the cases where lm-eval
raises), multi_choice_regex 24,000 (16 settings, 0-4 random choices per row), exact_match 24,000
rows (6 option sets, gsm8k.yaml's among them, 1-3 references): 0 differences.
"""

from __future__ import annotations

import argparse
import importlib.metadata
import random
import sys
from typing import Any

PATTERNS = [r"#### (\-?[0-9\.\,]+)", r"(-?[$0-9.,]{2,})|(-?[0-9]+)", r"The answer is (\-?[0-9\.\,]+).", r"(\b[ABCD]\b)",
            r"([A-D]).*", r"(\([A-D]\))", r"(a?)|(b?)", r"[0-9]+", r"^(.*?)(?=\n|$)"]
ALPHABET = [*"0123456789$,.-# :\nABCDabcd()İ?!", "#### ", "The answer is ", "Paris", "paris", "U.S.", "Answer: "]
MATCH_OPTIONS: list[dict[str, Any]] = [
    {}, {"ignore_case": True}, {"ignore_punctuation": True}, {"ignore_numbers": True},
    {"ignore_case": True, "regexes_to_ignore": [",", r"\$", "(?s).*#### ", r"\.$"]},  # gsm8k.yaml's
    {"regexes_to_ignore": ["a", "^ "], "ignore_case": True, "ignore_punctuation": True},
]


def import_lm_eval(source: str | None) -> Any:
    if source:
        sys.path.insert(0, source)
        version = importlib.metadata.version
        # a source checkout has no installed metadata; lm_eval/__init__ asks for its version
        importlib.metadata.version = lambda name: "0.4.13" if name in ("lm_eval", "lm-eval") else version(name)  # type: ignore[assignment]
    from lm_eval.api.metrics import exact_match_hf_evaluate
    from lm_eval.filters.extraction import MultiChoiceRegexFilter, RegexFilter

    return RegexFilter, MultiChoiceRegexFilter, exact_match_hf_evaluate


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lm-eval-source", help="a folder holding lm-eval's lm_eval/ package")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    try:
        regex_filter, mc_filter, exact_match = import_lm_eval(args.lm_eval_source)
    except ImportError as exc:
        print(f"skipped: lm-eval cannot be imported ({exc}); pass --lm-eval-source DIR")
        return 0
    from promptkit.metrics import MetricContext, StringMatchOptions, get_metric
    from promptkit.tasks.filters import FilterPipeline, filter_outputs
    from pydantic import TypeAdapter

    rng = random.Random(args.seed)
    pipelines = TypeAdapter(list[FilterPipeline])

    def text(n: int) -> str:
        return "".join(rng.choice(ALPHABET) for _ in range(rng.randint(0, n)))

    def ours(step: dict[str, Any], response: str, choices: list[str] | None = None) -> str:
        return filter_outputs(pipelines.validate_python([{"name": "p", "steps": [step]}]), response, {"choices": choices or []})["p"]

    counts = {"regex": [0, 0], "multi_choice_regex": [0, 0], "exact_match": [0, 0]}  # compared, different
    for pattern in PATTERNS:
        for select in (0, 1, -1, -2):
            theirs = regex_filter(regex_pattern=pattern, group_select=select, fallback=" [x] ")
            for _ in range(750):
                response = text(12)
                try:
                    expected = theirs.apply([[response]], [{}])[0][0]
                except IndexError:
                    continue
                counts["regex"][0] += 1
                counts["regex"][1] += expected != ours({"function": "regex", "regex_pattern": pattern, "group_select": select,
                                                        "fallback": " [x] "}, response)
    for options in ({}, {"ignore_case": True}, {"ignore_punctuation": True},
                    {"ignore_case": True, "ignore_punctuation": True, "regexes_to_ignore": [r"\.", "the "]}):
        for select in (0, -1):
            for pattern in (r"(\([A-D]\))", r"#### (\-?[0-9\.\,]+)"):
                theirs = mc_filter(regex_pattern=pattern, group_select=select, **options)
                cases = [([text(5) for _ in range(rng.randint(0, 4))], text(20)) for _ in range(1500)]
                # one call: lm-eval builds its punctuation table over all of Unicode on every call
                expected = theirs.apply([[r] for _c, r in cases], [{"choices": c} for c, _r in cases])
                step = {"function": "multi_choice_regex", "regex_pattern": pattern, "group_select": select, **options}
                for (choices, response), exp in zip(cases, expected, strict=True):
                    counts["multi_choice_regex"][0] += 1
                    counts["multi_choice_regex"][1] += exp[0] != ours(step, response, choices)
    metric: Any = get_metric("string_match")
    for options in MATCH_OPTIONS:
        ctx = MetricContext(string_match=StringMatchOptions.from_mapping(options))
        for _ in range(4000):
            output, golds = text(6), [text(6) for _ in range(rng.randint(1, 3))]
            # lm-eval: one call per row; several targets score 1 when any is equal
            value = exact_match(predictions=[output] * len(golds), references=golds, **options)["exact_match"]
            counts["exact_match"][0] += 1
            counts["exact_match"][1] += float(value > 0) != metric.sample_score(output, golds, ctx)
    for name, (compared, different) in counts.items():
        print(f"{name}: {compared:,} compared, {different} different")
    return 1 if any(d for _c, d in counts.values()) else 0


if __name__ == "__main__":
    raise SystemExit(main())
