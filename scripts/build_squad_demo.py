#!/usr/bin/env python3
"""Build the ``squad_demo`` task data: a few hundred SQuAD v1.1 dev questions with short contexts.

Reads the offline SQuAD v1.1 dev set (``dev.jsonl``: one row per question with ``id``, ``title``,
``context``, ``question``, ``answers``, ``answer_starts``) and writes
``tasks/data/squad_demo/{train,test}.jsonl`` with the fields ``id``, ``title``, ``context``,
``question``, ``answers`` (list of strings).

* **Split by article.** Titles are ranked by the SHA-256 of their UTF-8 bytes; the first third
  are test articles, the rest train. All the questions of an article go to one split.
* **Short context.** The paragraph is cut into sentences; the context is the sentence holding the
  first reference answer plus one sentence on each side (where there is one), copied verbatim
  from the paragraph. When the answer text occurs more than once, the occurrence whose window
  shares the most words with the question is used (the dev set's ``answer_starts`` are only first
  occurrences, see its SOURCE.md). Windows over ``MAX_WORDS`` words are dropped.
* **References.** The SQuAD answers, deduplicated in order, that occur verbatim in the short
  context (the first always does: the window is built around it).
* **Selection.** Within an article, questions are ordered by the SHA-256 of their id; the
  articles are then interleaved round-robin (in title-hash order), so any prefix of a file, such
  as the task's ``limit``, draws from every article of its split. At most ``PER_ARTICLE``
  questions come from one article.
* **No leak.** A test question whose normalised text (casefolded, punctuation removed, spaces
  collapsed) is also a train question is dropped.

No random numbers and no set ordering are used, so a rerun writes byte-identical files.

Usage::

    python scripts/build_squad_demo.py                       # ../shared/data/squad_v1.1/dev.jsonl
    python scripts/build_squad_demo.py path/to/dev.jsonl --out /tmp/squad_demo
"""

from __future__ import annotations

import argparse
import hashlib
import json
import re
import statistics
import sys
import unicodedata
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_SOURCE = ROOT.parent / "shared" / "data" / "squad_v1.1" / "dev.jsonl"
DEFAULT_OUT = ROOT / "tasks" / "data" / "squad_demo"

N_TRAIN, N_TEST = 400, 200
TEST_ARTICLE_FRACTION = 1 / 3
PER_ARTICLE = 25
# Three SQuAD sentences are ~75 words; longer windows (run-on sentences, lists) make the demo
# slower to train on a CPU without making it a better test.
MAX_WORDS = 60

FIELDS = ("id", "title", "context", "question", "answers")

# A sentence ends at . ! or ? followed by white space and an upper-case letter, an opening quote
# or a bracket. Between the two may come closing quotes or brackets and the Wikipedia markers
# that SQuAD paragraphs kept ("[citation needed]", "[b]", page references ":245"). Decimals
# ("3.5") never match (no space); abbreviations are vetoed below.
BOUNDARY = re.compile(r"[.!?][\"'”’)\]]*(?:\[[^\[\]]{1,40}\]|:[0-9][0-9–,-]*)*\s+(?=[A-Z\"“‘(\[])")
# Words that end in a full stop without ending the sentence. Dotted initialisms (U.S., e.g.,
# p.m., J.) are recognised by shape instead of being listed.
ABBREVIATIONS = frozenset(
    """
    mr mrs ms dr prof st mt ft jr sr rev gen col lt sgt capt gov sen rep pres hon
    no nos vol vols fig figs op ed eds approx ca cf vs v al inc co corp ltd bros dept univ
    jan feb mar apr jun jul aug sep sept oct nov dec
    """.split()
)
INITIALISM = re.compile(r"(?:[A-Za-z]\.)+")
WORD = re.compile(r"\w+")
# Question words that say nothing about where the answer is (for choosing among occurrences).
STOPWORDS = frozenset(
    """
    a an the of in on at to for from by with and or as is are was were be been being do does did
    what which who whom whose when where why how many much that this these those it its his her
    their they he she there than then into onto about after before during over under not also
    """.split()
)


# ----------------------------------------------------------------------------- text helpers
def sha(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def words(text: str) -> int:
    return len(text.split())


def normalise_question(text: str) -> str:
    """Casefolded, punctuation removed, white space collapsed (the leak check's key)."""
    text = "".join(" " if unicodedata.category(ch).startswith("P") else ch for ch in text.casefold())
    return " ".join(text.split())


@lru_cache(maxsize=None)
def content_words(text: str) -> frozenset[str]:
    return frozenset(w for w in WORD.findall(text.casefold()) if w not in STOPWORDS)


@lru_cache(maxsize=None)  # a paragraph has several questions
def sentence_spans(text: str) -> tuple[tuple[int, int], ...]:
    """``(start, end)`` character spans of the sentences of ``text`` (white space between them
    belongs to neither)."""
    spans: list[tuple[int, int]] = []
    start = 0
    for match in BOUNDARY.finditer(text):
        before = text[start : match.start() + 1].split()
        last = before[-1] if before else ""
        token = last.rstrip(".").lstrip("\"'“‘([").casefold()
        if token in ABBREVIATIONS or INITIALISM.fullmatch(last.lstrip("\"'“‘([")):
            continue
        spans.append((start, match.start() + len(match.group().rstrip())))
        start = match.end()
    if start < len(text):
        spans.append((start, len(text.rstrip())))
    return tuple(spans)


def occurrences(text: str, needle: str) -> Iterator[int]:
    at = text.find(needle)
    while at != -1:
        yield at
        at = text.find(needle, at + 1)


# ----------------------------------------------------------------------------- one question
@dataclass(frozen=True)
class Candidate:
    row: dict[str, object]

    @property
    def key(self) -> str:
        """The normalised question (only needed for the rows that the leak check compares)."""
        return normalise_question(str(self.row["question"]))


def short_context(context: str, question: str, answer: str) -> str | None:
    """The answer's sentence and its neighbours, or ``None`` when every window is too long.

    Among the occurrences of ``answer``, the window sharing the most content words with the
    question wins; ties go to the earliest occurrence.
    """
    spans = sentence_spans(context)
    windows: list[str] = []
    for at in occurrences(context, answer):
        first = next(i for i, (_, e) in enumerate(spans) if at < e)
        last = next(i for i, (_, e) in enumerate(spans) if at + len(answer) <= e)
        lo, hi = max(first - 1, 0), min(last + 1, len(spans) - 1)
        window = context[spans[lo][0] : spans[hi][1]]
        if words(window) <= MAX_WORDS and window not in windows:
            windows.append(window)
    if len(windows) <= 1:
        return windows[0] if windows else None
    asked = content_words(question)
    # max() keeps the first of equal scores: the earliest occurrence.
    return max(windows, key=lambda w: len(asked & content_words(w)))


def make_candidate(source: dict[str, object], drops: dict[str, int]) -> Candidate | None:
    context, question = str(source["context"]), str(source["question"])
    answers = [str(a) for a in source["answers"]]  # type: ignore[attr-defined]
    refs = [a for a in dict.fromkeys(a.strip() for a in answers) if a]
    if not refs or refs[0] not in context:
        drops["answer not in its paragraph"] += 1
        return None
    window = short_context(context, question, refs[0])
    if window is None:
        drops[f"context window over {MAX_WORDS} words"] += 1
        return None
    kept = [a for a in refs if a in window]
    row = {"id": source["id"], "title": source["title"], "context": window, "question": question.strip(), "answers": kept}
    return Candidate(row)


# ----------------------------------------------------------------------------- selection
def round_robin(by_title: dict[str, list[Candidate]], titles: list[str], n: int) -> list[Candidate]:
    """Up to ``PER_ARTICLE`` candidates per title, interleaved one title at a time, first ``n``."""
    out: list[Candidate] = []
    for rank in range(PER_ARTICLE):
        for title in titles:
            pool = by_title[title]
            if rank < len(pool):
                out.append(pool[rank])
                if len(out) == n:
                    return out
    return out


def build(source_rows: Iterable[dict[str, object]]) -> tuple[list[dict[str, object]], list[dict[str, object]], dict[str, object]]:
    """Return ``(train_rows, test_rows, summary)``."""
    drops = {"answer not in its paragraph": 0, f"context window over {MAX_WORDS} words": 0}
    by_title: dict[str, list[Candidate]] = {}
    n_source = 0
    for source in source_rows:
        n_source += 1
        by_title.setdefault(str(source["title"]), [])
        candidate = make_candidate(source, drops)
        if candidate is not None:
            by_title[str(source["title"])].append(candidate)
    for pool in by_title.values():
        pool.sort(key=lambda c: sha(str(c.row["id"])))

    ranked = sorted(by_title, key=sha)
    n_test_articles = round(len(ranked) * TEST_ARTICLE_FRACTION)
    test_titles, train_titles = ranked[:n_test_articles], ranked[n_test_articles:]

    train = round_robin(by_title, train_titles, N_TRAIN)
    seen = {c.key for c in train}
    clean: dict[str, list[Candidate]] = {t: [] for t in test_titles}
    leaked: list[str] = []
    for title in test_titles:
        for candidate in by_title[title]:
            if candidate.key in seen:
                leaked.append(str(candidate.row["id"]))
            else:
                clean[title].append(candidate)
    test = round_robin(clean, test_titles, N_TEST)
    # The leak count that matters most: rows the test split would have held without the check.
    first_pick = {str(c.row["id"]) for c in round_robin(by_title, test_titles, N_TEST)}
    summary: dict[str, object] = {
        "source questions": n_source,
        "source articles": len(ranked),
        "dropped (all questions)": drops,
        "eligible questions": sum(len(p) for p in by_title.values()),
        "test pool rows dropped (normalised question in train)": len(leaked),
        "of which in the first-pick test rows": len(first_pick.intersection(leaked)),
        "train": describe([c.row for c in train]),
        "test": describe([c.row for c in test]),
        "train titles": sorted({str(c.row["title"]) for c in train}),
        "test titles": sorted({str(c.row["title"]) for c in test}),
    }
    return [c.row for c in train], [c.row for c in test], summary


def stats(values: list[int]) -> dict[str, float]:
    q = statistics.quantiles(values, n=10)
    return {
        "min": min(values), "p10": q[0], "median": statistics.median(values),
        "mean": round(statistics.fmean(values), 1), "p90": q[-1], "max": max(values),
    }


def describe(rows: list[dict[str, object]]) -> dict[str, object]:
    per_article: dict[str, int] = {}
    for row in rows:
        per_article[str(row["title"])] = per_article.get(str(row["title"]), 0) + 1
    return {
        "rows": len(rows),
        "articles": len(per_article),
        "questions per article": f"{min(per_article.values())}-{max(per_article.values())}",
        "distinct contexts": len({str(r["context"]) for r in rows}),
        "context words": stats([words(str(r["context"])) for r in rows]),
        "context chars": stats([len(str(r["context"])) for r in rows]),
        "question words": stats([words(str(r["question"])) for r in rows]),
        "first answer words": stats([words(str(r["answers"][0])) for r in rows]),  # type: ignore[index]
        "references per question": stats([len(r["answers"]) for r in rows]),  # type: ignore[arg-type]
    }


# ----------------------------------------------------------------------------- files
def read_jsonl(path: Path) -> list[dict[str, object]]:
    with open(path, encoding="utf-8") as fh:
        return [json.loads(line) for line in fh if line.strip()]


def write_jsonl(path: Path, rows: list[dict[str, object]]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", encoding="utf-8", newline="\n") as fh:
        for row in rows:
            fh.write(json.dumps({k: row[k] for k in FIELDS}, ensure_ascii=False) + "\n")


def check(train: list[dict[str, object]], test: list[dict[str, object]]) -> list[str]:
    """The properties the task relies on; an empty list when all hold."""
    problems: list[str] = []
    ids = [str(r["id"]) for r in train + test]
    if len(set(ids)) != len(ids):
        problems.append("duplicate ids")
    if {r["title"] for r in train} & {r["title"] for r in test}:
        problems.append("an article is in both splits")
    train_keys = {normalise_question(str(r["question"])) for r in train}
    problems += [f"{r['id']}: test question also in train" for r in test if normalise_question(str(r["question"])) in train_keys]
    for r in train + test:
        answers = r["answers"]
        if not isinstance(answers, list) or not answers or len(set(answers)) != len(answers):
            problems.append(f"{r['id']}: answers must be a non-empty list without duplicates")
        elif any(a not in str(r["context"]) for a in answers):
            problems.append(f"{r['id']}: a reference is not in the context")
        if words(str(r["context"])) > MAX_WORDS:
            problems.append(f"{r['id']}: context over {MAX_WORDS} words")
    return problems


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("source", nargs="?", type=Path, default=DEFAULT_SOURCE,
                    help=f"SQuAD v1.1 dev.jsonl (default: {DEFAULT_SOURCE})")
    ap.add_argument("--out", type=Path, default=DEFAULT_OUT, help=f"output directory (default: {DEFAULT_OUT})")
    ap.add_argument("--quiet", action="store_true", help="do not print the summary")
    args = ap.parse_args(argv)
    if not args.source.is_file():
        print(f"error: {args.source} not found (the SQuAD v1.1 dev set as JSONL)", file=sys.stderr)
        return 2
    train, test, summary = build(read_jsonl(args.source))
    problems = check(train, test)
    for problem in problems:
        print("PROBLEM:", problem, file=sys.stderr)
    if problems:
        return 1
    write_jsonl(args.out / "train.jsonl", train)
    write_jsonl(args.out / "test.jsonl", test)
    if not args.quiet:
        print(json.dumps(summary, indent=2, ensure_ascii=False))
        print(f"wrote {len(train)} train and {len(test)} test rows to {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
