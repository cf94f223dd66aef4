"""The JSON Schema of each event type's webhook body, generated from the event models and kept
in schemas/events/ (`python starter.py schema`; `--check` in the tests).

One file per type, `schemas/events/{type}.json`: the body `{"type", "timestamp", "data"}`, with
`data` as that type's model says. Fields without a value are left out of a delivery, so every
optional field may be absent; personal fields (`x-personal`) are present only for subscribers
configured to receive them.
"""

from __future__ import annotations

import json
from typing import Any

from domain.feed import DATA_MODELS, FeedEventType

BASE_ID = "https://returnflow.dev/schemas/events/"


def event_schema(kind: FeedEventType) -> dict[str, Any]:
    model = DATA_MODELS[kind]
    data = model.model_json_schema(mode="serialization", ref_template="#/$defs/{model}")
    defs = data.pop("$defs", {})
    data["properties"].pop("type", None)
    data["required"] = [name for name in data.get("required", []) if name != "type"]
    data["additionalProperties"] = False
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": f"{BASE_ID}{kind.value}.json",
        "title": kind.value,
        "description": (model.__doc__ or kind.value).strip(),
        "type": "object",
        "required": ["type", "timestamp", "data"],
        "additionalProperties": False,
        "properties": {
            "type": {"const": kind.value},
            "timestamp": {
                "type": "string",
                "format": "date-time",
                "description": "When the event happened (data.occurred_at).",
            },
            "data": data,
        },
        **({"$defs": defs} if defs else {}),
    }


def event_schema_files() -> dict[str, str]:
    """File name under schemas/events/ -> its text."""
    return {
        f"{kind.value}.json": json.dumps(event_schema(kind), indent=2, ensure_ascii=False) + "\n"
        for kind in FeedEventType
    }
