"""Request bodies read within bounds: what the standard parser takes or crashes on is refused
with the reason, never a crash."""

from __future__ import annotations

import pytest

from plumbing.json_input import MAX_DEPTH, NotJson, loads


@pytest.mark.parametrize(
    ("body", "problem"),
    [
        (b"[" * 100_000 + b"]" * 100_000, f"nested more than {MAX_DEPTH} levels deep"),
        (
            b"[" * (MAX_DEPTH + 1) + b"]" * (MAX_DEPTH + 1),
            f"nested more than {MAX_DEPTH} levels deep",
        ),
        (b'{"a": NaN}', "NaN is not a JSON number"),
        (b"[-Infinity]", "-Infinity is not a JSON number"),
        (b"[1e400]", "a number is too large"),
        (b"[" + b"9" * 101 + b"]", "an integer has more than 100 digits"),
        (b'["\\ud800"]', "a string holds an escaped lone surrogate (\\ud800-\\udfff)"),
        (b'{"\\udc00": 1}', "a string holds an escaped lone surrogate (\\ud800-\\udfff)"),
        (b'"caf\xe9"', "the body is not UTF-8 text"),
        (b'{"a": ', "Expecting value at line 1 column 7"),
    ],
    ids=[
        "deep",
        "one-level-too-deep",
        "nan",
        "infinity",
        "overflow",
        "long-integer",
        "lone-surrogate",
        "surrogate-key",
        "latin-1",
        "cut-short",
    ],
)
def test_a_body_no_parser_should_take_is_refused_saying_why(body: bytes, problem: str) -> None:
    with pytest.raises(NotJson) as refused:
        loads(body)

    assert refused.value.problem == problem


def test_what_returnflow_reads_is_read_as_json_reads_it() -> None:
    nested = "[" * (MAX_DEPTH - 1) + "]" * (MAX_DEPTH - 1)
    document = '{"amount": "12.50", "count": 3, "ratio": 0.25, "name": "Zoë \\u00e9", "deep": '

    assert loads((document + nested + "}").encode()) == {
        "amount": "12.50",
        "count": 3,
        "ratio": 0.25,
        "name": "Zoë é",
        "deep": eval(nested),  # noqa: S307  # a literal of nested empty lists
    }
    assert loads("[1, -2]") == [1, -2]


def test_the_reason_never_quotes_the_body() -> None:
    with pytest.raises(NotJson) as refused:
        loads(b'{"secret-name": Jean}')

    assert "Jean" not in refused.value.problem and "secret" not in refused.value.problem
