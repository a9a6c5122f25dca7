"""``string_match``: lm-evaluation-harness's ``exact_match``, which is Hugging Face evaluate's.

A row scores 1 when the output equals a reference after, in this order, every pattern of
``regexes_to_ignore`` is deleted (``re.sub(pattern, "", text)``, one pattern after the other,
from the output and the references alike), the text is lower-cased (``ignore_case``), ASCII
punctuation (``string.punctuation``) deleted (``ignore_punctuation``) and ASCII digits deleted
(``ignore_numbers``); with several references, when any of them is equal (lm-eval's rule for
multiple targets). With no option set it is plain string equality: unlike promptkit's
``exact_match`` (the SQuAD script's normalisation) nothing is folded or dropped unless asked.

lm-eval computes it over numpy string arrays, and two of their properties are kept so that every
row scores as it does there: a numpy string drops trailing NUL characters (after every step), and ``np.char.lower`` keeps the array's width, so a lower-cased text that
grows (``"İ"`` becomes two characters) is cut to the longest text of its array: the output alone,
or all the row's references together.

The options are the task's (``metric_options.string_match``), carried by
:class:`~promptkit.metrics.base.MetricContext` and recorded under ``details``.
"""

from __future__ import annotations

import string
from collections.abc import Sequence

from promptkit.config.patterns import compile_checked
from promptkit.metrics.base import METRICS, MeanMetric, MetricContext, StringMatchOptions

_PUNCTUATION = str.maketrans("", "", string.punctuation)
_DIGITS = str.maketrans("", "", string.digits)


def _array(texts: Sequence[str]) -> tuple[list[str], int]:
    """``texts`` as a numpy string array holds them: trailing NULs dropped; and its width."""
    return [t.rstrip("\x00") for t in texts], max((len(t) for t in texts), default=0)


def normalize(texts: Sequence[str], options: StringMatchOptions) -> list[str]:
    """``texts`` (one numpy array in lm-eval: an output, or a row's references) as compared."""
    out, width = _array(texts)
    # the first pattern reads the texts as given (their trailing NULs too), each later one the array
    for i, pattern in enumerate(options.regexes_to_ignore):
        out, width = _array([compile_checked(pattern).sub("", t) for t in (texts if i == 0 else out)])
    # each step gives a new array of the same width: its texts lose their trailing NULs again
    if options.ignore_case:
        out = [t.lower()[:width].rstrip("\x00") for t in out]
    if options.ignore_punctuation:
        out = [t.translate(_PUNCTUATION).rstrip("\x00") for t in out]
    if options.ignore_numbers:
        out = [t.translate(_DIGITS).rstrip("\x00") for t in out]
    return out


@METRICS.register("string_match")
class StringMatch(MeanMetric):
    """Share of outputs equal to a reference under the task's ``string_match`` options."""

    name = "string_match"
    binary = True

    def describe(self, ctx: MetricContext, references: Sequence[Sequence[str]]) -> dict[str, str]:
        return ctx.string_match.describe()

    def sample_score(self, prediction: str, references: Sequence[str], ctx: MetricContext) -> float:
        options = ctx.string_match
        # lm-eval scores a row's references together (one array), the output repeated once per reference
        golds = normalize(list(references), options)
        outputs = normalize([prediction] * len(references), options)
        return float(any(o == g for o, g in zip(outputs, golds, strict=True)))
