"""The progress file of a cell: what a kill can leave in it, and what a resume reuses."""

from __future__ import annotations

from pathlib import Path

from promptkit.records import Prediction
from promptkit.run.progress import PartialCell, chunks


def pred(i: int) -> Prediction:
    return Prediction(example_id=f"e{i}", prompt="p", output=f"out {i} 漢", references=("a", "b"), raw_output="r",
                      choices=("x", "y"), label=1, predicted_label=0, choice_logprobs=(-0.1 * i, -1e-300), prompt_tokens=3)


def test_chunks_cover_every_example_once() -> None:
    assert chunks(7, 3) == [range(0, 3), range(3, 6), range(6, 7)]
    assert chunks(0, 3) == [] and chunks(2, 5) == [range(0, 2)]


def test_only_whole_chunks_of_this_fingerprint_are_reused(tmp_path: Path) -> None:
    path = tmp_path / "partial" / "cell.jsonl"
    spans = chunks(6, 2)
    store = PartialCell(path, "abc")
    store.append((i, pred(i)) for i in (0, 1))  # chunk 0, whole
    store.append([(2, pred(2))])  # chunk 1, missing row 3
    PartialCell(path, "other").append((i, pred(i)) for i in (4, 5))  # chunk 2 of another configuration
    with path.open("a", encoding="utf-8") as fh:
        fh.write('{"i": 3, "cell": "abc", "predic')  # the line the kill cut
    have = store.load(spans)
    assert have == {0: pred(0), 1: pred(1)}  # exact round trip, tuples and floats included
    # rewritten with whole lines only: an append now follows a complete line
    store.append((i, pred(i)) for i in (2, 3))
    assert store.load(spans) == {i: pred(i) for i in range(4)}
    store.discard()
    assert not path.exists() and not path.parent.exists()
