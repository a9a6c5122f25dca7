"""``string_match``: lm-evaluation-harness's ``exact_match`` (Hugging Face evaluate's) with its options
``ignore_case``, ``ignore_punctuation``, ``ignore_numbers`` and ``regexes_to_ignore``.

Checked two ways: a table of cases worked out by hand from the definition, and every pair of
short strings over a small alphabet against a brute-force reference that computes the definition
the way lm-eval does (numpy string arrays, one per call, the output repeated once per reference).
"""

from __future__ import annotations

import itertools
import re
import string
from typing import Any

import numpy as np
import pytest
from promptkit.errors import PromptkitError
from promptkit.metrics import MetricContext, StringMatchOptions, get_metric, score
from promptkit.records import Prediction

METRIC: Any = get_metric("string_match")


def em(prediction: str, references: list[str], **options: Any) -> float:
    return float(METRIC.sample_score(prediction, references, MetricContext(string_match=StringMatchOptions(**options))))


# (output, references, options, score) worked out by hand
CASES = [
    ("Paris", ["paris"], {}, 0.0),  # nothing folded unless asked (promptkit's exact_match would say 1)
    ("Paris", ["paris"], {"ignore_case": True}, 1.0),
    ("Paris ", ["Paris"], {}, 0.0),  # white space is text too
    ("the Paris", ["Paris"], {"ignore_case": True}, 0.0),  # no article removal
    ("Paris.", ["Paris"], {}, 0.0),
    ("Paris.", ["Paris"], {"ignore_punctuation": True}, 1.0),
    ("-5", ["5"], {"ignore_punctuation": True}, 1.0),  # '-' is ASCII punctuation
    ("«a»", ["a"], {"ignore_punctuation": True}, 0.0),  # ... and only ASCII punctuation is
    ("a1b2", ["ab"], {"ignore_numbers": True}, 1.0),
    ("a١", ["a"], {"ignore_numbers": True}, 0.0),  # ASCII digits only
    ("3,000", ["3000"], {"regexes_to_ignore": [","]}, 1.0),
    ("ab", ["b"], {"regexes_to_ignore": ["a"]}, 1.0),
    ("Ab", ["b"], {"regexes_to_ignore": ["a"], "ignore_case": True}, 0.0),  # patterns first, case-sensitive
    ("xay", ["y"], {"regexes_to_ignore": ["a", "x"]}, 1.0),  # one pattern after the other
    ("xay", ["y"], {"regexes_to_ignore": ["xa"]}, 1.0),
    ("axy", ["y"], {"regexes_to_ignore": ["x", "ay"]}, 0.0),  # after 'x' goes, 'ay' is all that is left: ""
    ("x", ["y", "x"], {}, 1.0),  # several references: any
    ("x", ["y", "z"], {}, 0.0),
    ("a\x00", ["a"], {}, 1.0),  # a numpy string has no trailing NULs
    ("a\x00b", ["a"], {"regexes_to_ignore": ["b"]}, 1.0),  # ... after every step
    ("a\x00!", ["a"], {"ignore_punctuation": True}, 1.0),
    # np.char.lower keeps the array's width: 'İ' lower-cases to two characters, cut to the one
    # the output's array holds; the reference's array is two wide and keeps both
    ("İ", ["i"], {"ignore_case": True}, 1.0),
    ("İ", ["İ".lower()], {"ignore_case": True}, 0.0),
    ("İ", ["İx"], {"ignore_case": True}, 0.0),
    ("İx", ["i̇x"], {"ignore_case": True}, 0.0),  # 'i̇x' cut to two
    ("İx", ["i̇"], {"ignore_case": True}, 1.0),
    ("i̇", ["İ", "xxxx"], {"ignore_case": True}, 1.0),  # the references' array is four wide
]


@pytest.mark.parametrize(("output", "references", "options", "expected"), CASES)
def test_hand_computed_cases(output: str, references: list[str], options: dict[str, Any], expected: float) -> None:
    assert em(output, references, **options) == expected


def hf_exact_match(predictions: list[str], references: list[str], regexes_to_ignore: tuple[str, ...] = (),
                   ignore_case: bool = False, ignore_punctuation: bool = False, ignore_numbers: bool = False) -> np.ndarray:
    """The definition, per pair instead of its mean: each pattern deleted from the texts (the first
    from the texts as given), a new numpy string array after each (without patterns, the texts as
    an array), then lower-casing, ASCII punctuation and ASCII digits, each over the arrays."""
    p: Any = predictions
    r: Any = references
    for pattern in regexes_to_ignore:
        p = np.array([re.sub(pattern, "", str(x)) for x in p])
        r = np.array([re.sub(pattern, "", str(x)) for x in r])
    if not regexes_to_ignore:
        p, r = np.asarray(p), np.asarray(r)
    if ignore_case:
        p, r = np.char.lower(p), np.char.lower(r)
    for flag, chars in ((ignore_punctuation, string.punctuation), (ignore_numbers, string.digits)):
        if flag:
            table: Any = str.maketrans("", "", chars)
            p, r = np.char.translate(p, table), np.char.translate(r, table)
    return np.asarray(p == r)


ALPHABET = ["a", "A", ".", "1", " ", "\x00", "İ"]
WORDS = ["".join(w) for n in range(3) for w in itertools.product(ALPHABET, repeat=n)]
OPTIONS = [dict(zip(("ignore_case", "ignore_punctuation", "ignore_numbers"), flags, strict=True))
           for flags in itertools.product((False, True), repeat=3)]
PATTERNS = [(), ("a",), (r"\.", "A"), ("^ +| +$",)]


@pytest.mark.parametrize("regexes", PATTERNS)
def test_every_pair_of_short_strings_against_the_definition(regexes: tuple[str, ...]) -> None:
    for options in OPTIONS:
        mismatches = []
        for output, reference in itertools.product(WORDS, WORDS):
            expected = float(hf_exact_match([output], [reference], regexes, **options)[0])  # lm-eval: one row per call
            if em(output, [reference], regexes_to_ignore=regexes, **options) != expected:
                mismatches.append((output, reference))
        assert not mismatches, (options, mismatches[:5])


def test_several_references_against_the_definition() -> None:
    """lm-eval's multiple targets: the references as one array, the output repeated; any equal."""
    words = [w for w in WORDS if len(w) <= 1] + ["İa", "aa."]
    for options in OPTIONS:
        for output, refs in itertools.product(words, itertools.combinations(words, 2)):
            expected = float(hf_exact_match([output] * len(refs), list(refs), ("a",), **options).any())
            assert em(output, list(refs), regexes_to_ignore=("a",), **options) == expected, (output, refs, options)


def test_scored_with_its_options_recorded() -> None:
    preds = [Prediction(example_id=str(i), prompt="", output=o, references=(r,))
             for i, (o, r) in enumerate([("3,000", "#### 3000"), ("42", "#### 41"), ("$7.", "x\n#### 7")])]
    options = StringMatchOptions(ignore_case=True, regexes_to_ignore=(",", r"\$", "(?s).*#### ", r"\.$"))
    scores = score(["string_match"], preds, MetricContext(string_match=options), n_boot=0)["string_match"]
    assert scores.per_sample == (100.0, 0.0, 100.0)
    assert scores.details == {"ignore_case": "true", "ignore_punctuation": "false", "ignore_numbers": "false",
                              "regexes_to_ignore": "',' '\\\\$' '(?s).*#### ' '\\\\.$'", "interval": "wilson"}


def test_options_read_back_are_checked() -> None:
    assert StringMatchOptions.from_mapping({"ignore_case": True, "regexes_to_ignore": ["a"]}) == \
        StringMatchOptions(ignore_case=True, regexes_to_ignore=("a",))
    cases: list[tuple[dict[str, Any], str]] = [
        ({"ignore_cases": True}, "unknown string_match option 'ignore_cases'"),
        ({"ignore_case": "yes"}, "ignore_case must be true or false"),
        ({"regexes_to_ignore": "a"}, "must be a list of patterns"),
        ({"regexes_to_ignore": ["(a+)+"]}, "exponential time"),
    ]
    for bad, message in cases:
        with pytest.raises(PromptkitError, match=re.escape(message)):
            StringMatchOptions.from_mapping(bad)
