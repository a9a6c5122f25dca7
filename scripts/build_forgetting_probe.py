#!/usr/bin/env python3
"""Build the default forgetting probe: general English paragraphs no built-in task trains on.

Reads FLORES-200's English sentences (``flores200/dev.jsonl`` and ``devtest.jsonl`` of the shared
data: one row per sentence with ``url``, ``domain``, ``topic`` and ``eng_Latn``; CC BY-SA 4.0).
FLORES took 3-5 consecutive sentences from each of 842 articles of Wikinews, Wikivoyage and
Wikibooks (Wikijunior); consecutive rows with one ``url`` are joined with a space into one
paragraph, as they stood in the article. The paragraphs are ranked by the SHA-256 of their URL and
the first ``--paragraphs`` are kept, so the domains mix and a rerun writes byte-identical files.
Paragraphs of one sentence are skipped.

Writes ``tasks/data/forgetting_probe/paragraphs.jsonl`` (``id``, ``text``, ``url``, ``domain``,
``topic``). The FLORES translation tasks (``flores_*``) read the same sentences: a run that trains
on them should name another probe (``forgetting.text``).

Usage::

    python scripts/build_forgetting_probe.py                  # ../shared/data/flores200
    python scripts/build_forgetting_probe.py --flores DIR --out DIR --paragraphs 300
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def paragraphs(files: list[Path]) -> list[dict[str, str]]:
    out: list[dict[str, str]] = []
    for file in files:
        rows = [json.loads(line) for line in file.read_text(encoding="utf-8").splitlines() if line.strip()]
        groups: list[list[dict[str, str]]] = []
        for row in rows:
            if groups and groups[-1][0]["url"] == row["url"]:
                groups[-1].append(row)
            else:
                groups.append([row])
        for group in groups:
            if len(group) < 2:
                continue
            first = group[0]
            out.append({"text": " ".join(r["eng_Latn"].strip() for r in group), "url": first["url"],
                        "domain": first["domain"], "topic": first["topic"]})
    urls = [p["url"] for p in out]
    if len(set(urls)) != len(urls):
        raise SystemExit("an article's sentences are not consecutive in the FLORES files")
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--flores", type=Path, default=ROOT.parent / "shared" / "data" / "flores200")
    ap.add_argument("--out", type=Path, default=ROOT / "tasks" / "data" / "forgetting_probe")
    ap.add_argument("--paragraphs", type=int, default=300)
    args = ap.parse_args()
    files = [args.flores / "dev.jsonl", args.flores / "devtest.jsonl"]
    missing = [str(f) for f in files if not f.is_file()]
    if missing:
        print(f"not found: {', '.join(missing)} (the shared FLORES-200 data)", file=sys.stderr)
        return 1
    ranked = sorted(paragraphs(files), key=lambda p: hashlib.sha256(p["url"].encode("utf-8")).hexdigest())
    kept = ranked[: args.paragraphs]
    args.out.mkdir(parents=True, exist_ok=True)
    lines = [json.dumps({"id": f"probe-{i:04d}", **p}, ensure_ascii=False) for i, p in enumerate(kept)]
    (args.out / "paragraphs.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    chars = sum(len(p["text"]) for p in kept)
    domains = {d: sum(p["domain"] == d for p in kept) for d in sorted({p["domain"] for p in kept})}
    print(f"{len(kept)} paragraphs, {chars:,} characters, domains {domains}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
