"""A workflow's input read raw and validated by the workflow itself: what does not fit fails
the workflow at once, naming the field, instead of failing its first workflow task for ever."""

from __future__ import annotations

from typing import TypeVar

from temporalio import workflow
from temporalio.common import RawValue

with workflow.unsafe.imports_passed_through():
    from pydantic import BaseModel, ValidationError

    from domain.base import field_problems

M = TypeVar("M", bound=BaseModel)


def read_input(raw: RawValue, model: type[M], name: str) -> M | list[str]:
    """`raw` as `model`, or the problems with it: each field at fault, or, for what is not a
    JSON object at all, that `name` cannot be read."""
    try:
        parsed: M = workflow.payload_converter().from_payload(raw.payload, model)
    except ValidationError as err:
        return field_problems(err)
    except Exception as err:  # not JSON, not an object: no field to name
        return [f"({name}): cannot be read ({type(err).__name__})"]
    return parsed
