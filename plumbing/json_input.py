"""JSON from strangers, read within bounds.

`loads` is `json.loads` for request bodies: it refuses, with a `NotJson` naming what is wrong,
what the standard parser accepts or fails on with something else than a `ValueError`: bytes
that are not UTF-8, nesting deeper than `MAX_DEPTH` (the standard parser raises
`RecursionError` past about a thousand levels), `NaN` and `Infinity` (not JSON), numbers that
overflow to infinity, integers of more than `MAX_DIGITS` digits, and escaped lone surrogates
(`"\\ud800"`), which no UTF-8 text can hold and which fail later, wherever the text is written.
"""

from __future__ import annotations

import json
import math
from typing import Any

MAX_DEPTH = 64
"""Arrays and objects nested deeper than this are refused; returnflow's documents need 6."""

MAX_DIGITS = 100
"""Integers longer than this are refused: no amount, date or count needs more."""


class NotJson(ValueError):
    """The body is not JSON returnflow reads; `problem` says why, without quoting it."""

    def __init__(self, problem: str) -> None:
        super().__init__(problem)
        self.problem = problem


def _no_constant(name: str) -> Any:
    raise NotJson(f"{name} is not a JSON number")


def _finite(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise NotJson("a number is too large")
    return value


def _integer(text: str) -> int:
    if len(text.lstrip("-")) > MAX_DIGITS:
        raise NotJson(f"an integer has more than {MAX_DIGITS} digits")
    return int(text)


def loads(body: bytes | str, *, max_depth: int = MAX_DEPTH) -> Any:
    """The document in `body`, or `NotJson`."""
    try:
        text = body.decode("utf-8") if isinstance(body, bytes) else body
    except UnicodeDecodeError:
        raise NotJson("the body is not UTF-8 text") from None
    try:
        document = json.loads(
            text, parse_constant=_no_constant, parse_float=_finite, parse_int=_integer
        )
    except NotJson:
        raise
    except RecursionError:
        raise NotJson(f"nested more than {max_depth} levels deep") from None
    except json.JSONDecodeError as err:
        # The parser says where, never what: safe to pass on.
        raise NotJson(f"{err.msg} at line {err.lineno} column {err.colno}") from None
    _check(document, max_depth)
    return document


def _check(document: Any, max_depth: int) -> None:
    """Depth and text of a parsed document, walked without recursion."""
    stack: list[tuple[Any, int]] = [(document, 1)]
    while stack:
        value, depth = stack.pop()
        if isinstance(value, dict):
            if depth > max_depth:
                raise NotJson(f"nested more than {max_depth} levels deep")
            for key, item in value.items():
                _text(key)
                stack.append((item, depth + 1))
        elif isinstance(value, list):
            if depth > max_depth:
                raise NotJson(f"nested more than {max_depth} levels deep")
            stack.extend((item, depth + 1) for item in value)
        elif isinstance(value, str):
            _text(value)


def _text(value: str) -> None:
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise NotJson("a string holds an escaped lone surrogate (\\ud800-\\udfff)") from None
