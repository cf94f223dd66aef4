"""The retract event contract: strict, closed, documented by a generated JSON Schema."""

from __future__ import annotations

import json

import pytest

from domain.base import PERSONAL
from returnflow.ingress import EventRejected, parse_event
from starter import SCHEMA_PATH, retract_event_schema
from tests.factories import retract_event


def event_json(**changes: object) -> dict[str, object]:
    raw: dict[str, object] = retract_event().model_dump(mode="json")
    raw.update(changes)
    return raw


def test_the_committed_schema_is_the_one_the_model_generates() -> None:
    assert SCHEMA_PATH.read_text() == retract_event_schema(), (
        "schemas/retract-event.json is stale: run `python starter.py schema`"
    )


def test_the_schema_marks_every_personal_field() -> None:
    schema = json.loads(retract_event_schema())
    customer = schema["$defs"]["Customer"]["properties"]
    address = schema["$defs"]["PostalAddress"]["properties"]
    assert {k for k, v in customer.items() if v.get(PERSONAL)} == {"name", "email", "address"}
    assert {k for k, v in address.items() if v.get(PERSONAL)} >= {"name", "line1", "postal_code"}
    assert not address["country_code"].get(PERSONAL)


def test_a_valid_event_parses() -> None:
    event = retract_event()
    assert parse_event(event.model_dump_json()) == event


def test_an_unknown_field_is_refused_by_name() -> None:
    with pytest.raises(EventRejected) as rejected:
        parse_event(json.dumps(event_json(coupon="WELCOME10")))
    assert rejected.value.problems == ["coupon: Extra inputs are not permitted"]


def test_every_wrong_field_is_named_with_its_path() -> None:
    raw = event_json(type="order.created")
    raw["order"]["product"]["price"]["currency"] = "euro"  # type: ignore[index]
    raw["customer"]["address"]["country_code"] = "France"  # type: ignore[index]
    with pytest.raises(EventRejected) as rejected:
        parse_event(json.dumps(raw))
    paths = {p.split(":")[0] for p in rejected.value.problems}
    assert paths == {"type", "order.product.price.currency", "customer.address.country_code"}


def test_a_naive_timestamp_is_refused() -> None:
    with pytest.raises(EventRejected) as rejected:
        parse_event(json.dumps(event_json(occurred_at="2026-11-20T09:00:00")))
    assert rejected.value.problems[0].startswith("occurred_at: Input should have timezone")


def test_timestamps_must_follow_each_other() -> None:
    raw = event_json()
    raw["order"]["delivered_at"] = raw["order"]["ordered_at"]  # type: ignore[index]
    with pytest.raises(EventRejected) as rejected:
        parse_event(json.dumps(raw))
    assert "delivered_at is before order.shipped_at" in rejected.value.problems[0]


def test_malformed_json_is_refused_not_crashed() -> None:
    with pytest.raises(EventRejected) as rejected:
        parse_event(b'{"event_id": ')
    assert rejected.value.problems[0].startswith("(event): Invalid JSON")


def test_identifiers_cannot_carry_personal_data_shapes() -> None:
    raw = event_json()
    raw["order"]["order_id"] = "camille.durand@example.org"  # type: ignore[index]
    with pytest.raises(EventRejected) as rejected:
        parse_event(json.dumps(raw))
    assert rejected.value.problems[0].startswith("order.order_id")


def test_a_line_id_cannot_hold_the_separator_of_return_ids() -> None:
    """Order A-1 line 2 and order A line 1-2 would both be return-A-1-2."""
    raw = event_json()
    raw["order"]["line_id"] = "1-2"  # type: ignore[index]
    with pytest.raises(EventRejected) as rejected:
        parse_event(json.dumps(raw))
    assert rejected.value.problems[0].startswith("order.line_id")


def test_an_order_id_too_long_for_a_carrier_reference_is_refused() -> None:
    raw = event_json()
    raw["order"]["order_id"] = "ORD-" + "7" * 56  # type: ignore[index]
    with pytest.raises(EventRejected) as rejected:
        parse_event(json.dumps(raw))
    assert "order.order_id and order.line_id are too long together" in rejected.value.problems[0]
