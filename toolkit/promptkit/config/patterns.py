"""Regular expressions written in task files (output filters, ``string_match``'s
``regexes_to_ignore``): compiled once, when the file is read, and refused when they are invalid,
very long, or hold nested unbounded repetition.

Python's ``re`` backtracks and cannot be interrupted: ``(a+)+b`` against forty ``a`` runs for
minutes, and a model that repeats itself writes exactly such input. The classic exponential shape
is a repeat with no upper bound inside another (``(a+)+``, ``(\\w+\\s?)*``); it is refused with a
way out (a possessive ``a++`` or an atomic group ``(?>a+)``, which never backtrack). Other slow
shapes (``(a|a)*``, polynomial ones such as ``^(.*?)\\s*$``) are not detected here: what bounds
them is the length of the text a pattern runs over (the filters read at most
:data:`promptkit.tasks.filters.MAX_FILTER_CHARS` characters of an output).
"""

from __future__ import annotations

import importlib
import re
from functools import cache
from typing import Any

# lm-evaluation-harness's longest filter pattern is about 400 characters.
MAX_PATTERN_CHARS = 2000


class PatternError(ValueError):
    """A pattern that is not compiled: the message says why, in one line."""


def _parser() -> Any:
    """The standard library's regex parser (``re._parser`` from Python 3.11, ``sre_parse`` before)."""
    try:
        return importlib.import_module("re._parser")
    except ImportError:  # pragma: no cover - Python 3.10
        return importlib.import_module("sre_parse")


def _nested_repeat(items: Any, inside: bool, c: Any) -> bool:
    """Whether an unbounded repeat sits inside another in the parsed pattern ``items``."""
    repeats = (c.MAX_REPEAT, c.MIN_REPEAT)
    for op, arg in items:
        if op in repeats:
            _low, high, sub = arg
            unbounded = high == c.MAXREPEAT
            if unbounded and inside:
                return True
            if _nested_repeat(sub, inside or unbounded, c):
                return True
        elif op is c.SUBPATTERN:
            if _nested_repeat(arg[-1], inside, c):
                return True
        elif op is c.BRANCH:
            if any(_nested_repeat(branch, inside, c) for branch in arg[1]):
                return True
        elif op in (c.ASSERT, c.ASSERT_NOT):
            if _nested_repeat(arg[1], inside, c):
                return True
        elif op is c.GROUPREF_EXISTS:
            if any(branch is not None and _nested_repeat(branch, inside, c) for branch in arg[1:]):
                return True
        # possessive repeats and atomic groups never backtrack into what they matched: not walked
    return False


@cache
def compile_checked(pattern: str) -> re.Pattern[str]:
    """``re.compile(pattern)``, or :class:`PatternError` naming what is wrong.

    Raises:
        PatternError: not a valid regular expression, longer than :data:`MAX_PATTERN_CHARS`, or
            holding nested unbounded repetition.
    """
    if len(pattern) > MAX_PATTERN_CHARS:
        raise PatternError(f"a pattern of {len(pattern):,} characters; at most {MAX_PATTERN_CHARS:,}")
    try:
        compiled = re.compile(pattern)
    except re.error as exc:
        where = f" at position {exc.pos}" if exc.pos is not None else ""
        raise PatternError(f"invalid regular expression {pattern!r}: {exc.msg}{where}") from None
    except (OverflowError, RecursionError, ValueError) as exc:  # a repeat count too large, nesting too deep
        raise PatternError(f"invalid regular expression {pattern!r}: {exc}") from None
    parser = _parser()
    constants = importlib.import_module("re._constants") if parser.__name__ == "re._parser" else importlib.import_module("sre_constants")
    if _nested_repeat(parser.parse(pattern), False, constants):
        raise PatternError(f"{pattern!r} repeats a group that holds an unbounded repeat (as in (a+)+), which can take "
                           "exponential time on text that almost matches; make the inner repeat possessive (a++) or "
                           "atomic ((?>a+))")
    return compiled
