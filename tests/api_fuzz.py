"""What the Schemathesis tests of the gateway and the codec server share: the checks every
answer passes, and how many examples each operation gets (`FUZZ_API_EXAMPLES`, set by
`make fuzz-api`; a few in `make test`)."""

from __future__ import annotations

import json
import os
import zlib
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from hypothesis import HealthCheck, settings
from schemathesis import Case
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

EXAMPLES_IN_MAKE_TEST = 12
"""Examples per operation in `make test`; `make fuzz-api` plays `FUZZ_API_EXAMPLES`."""

CONFORMANCE = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]
"""No 5xx, and a status, content type and body the OpenAPI description gives."""


def examples() -> int:
    return int(os.environ.get("FUZZ_API_EXAMPLES", EXAMPLES_IN_MAKE_TEST))


def timeout() -> int:
    """Seconds an operation's examples may take in all, by their number (120 at least)."""
    return max(120, 2 * examples())


def fuzz_settings() -> Callable[[Any], Any]:
    """Hypothesis' settings for one operation: the examples, no deadline (Temporal answers in
    its own time), nothing kept between runs."""
    return settings(
        max_examples=examples(),
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
    )


T = TypeVar("T")


def pick(case: Case[Any], what: str, choices: Sequence[T]) -> T:
    """One of `choices` for `what`, the same for the same generated request (a token, a
    signature or none, spread over the examples; each `what` drawn apart from the others)."""
    drawn = json.dumps(
        [what, case.path_parameters, case.query, case.headers, case.body], default=repr
    )
    return choices[zlib.crc32(drawn.encode("utf-8", "surrogatepass")) % len(choices)]
