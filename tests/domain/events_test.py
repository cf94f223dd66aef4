"""The retract event contract: strict, closed, documented by a generated JSON Schema."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest
from pydantic import ValidationError

from client.start import EventRejected, parse_event
from domain.addresses import PostalAddress
from domain.base import PERSONAL
from domain.events import OrderStatus
from starter import SCHEMA_PATH, retract_event_schema
from tests.factories import CUSTOMER_STREET, HOME, retract_event


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


def test_a_withdrawal_notice_from_the_future_is_refused_beyond_a_small_clock_skew() -> None:
    event = retract_event()
    now = event.occurred_at
    ahead = {m: (now - dt.timedelta(minutes=m)) for m in (4, 6)}

    assert parse_event(event.model_dump_json(), now=ahead[4]) == event, "4 minutes: a clock skew"
    with pytest.raises(EventRejected) as rejected:
        parse_event(event.model_dump_json(), now=ahead[6])
    assert rejected.value.problems == [
        "occurred_at: in the future, more than 5 minutes ahead of our clock: a withdrawal "
        "notice is given before it is sent"
    ]


@pytest.mark.parametrize(
    ("path", "text", "code"),
    [
        (("customer", "name"), "Jean\x1b[2J", "U+001B at position 5"),
        (("order", "product", "title"), "Phone \u202etxt.exe", "U+202E at position 7"),
        (("customer", "address", "line1"), "12 rue\nde la Paix", "U+000A at position 7"),
        (("customer", "address", "city"), "Lyon\x00", "U+0000 at position 5"),
        (("customer", "name"), "\u2067Ali", "U+2067 at position 1"),
    ],
    ids=["escape", "override", "newline", "nul", "isolate"],
)
def test_text_with_control_or_reordering_characters_is_refused_naming_the_field(
    path: tuple[str, ...], text: str, code: str
) -> None:
    raw = event_json()
    place: Any = raw
    for key in path[:-1]:
        place = place[key]
    place[path[-1]] = text

    with pytest.raises(EventRejected) as rejected:
        parse_event(json.dumps(raw))

    (problem,) = rejected.value.problems
    assert problem.startswith(f"{'.'.join(path)}: ")
    assert f"holds {code}, a control character or a bidirectional override" in problem


def test_names_in_any_script_with_their_direction_marks_are_taken() -> None:
    raw = event_json()
    raw["customer"]["name"] = "\u200fمحمد بن علي"  # type: ignore[index]
    raw["order"]["product"]["title"] = "iPhone 13 — 128 Go, état très bon"  # type: ignore[index]

    event = parse_event(json.dumps(raw))

    assert event.customer.name == "\u200fمحمد بن علي"


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


# --- order status ----------------------------------------------------------------------------


def test_a_status_this_version_does_not_know_is_kept_as_given() -> None:
    raw = event_json()
    raw["order"]["status"] = "lost_in_warehouse"  # type: ignore[index]
    event = parse_event(json.dumps(raw))
    assert event.order.status == "lost_in_warehouse"
    assert not isinstance(event.order.status, OrderStatus)


@pytest.mark.parametrize("status", ["returned", "return_in_progress", "awaiting_shipment"])
def test_a_known_status_parses_as_the_known_status(status: str) -> None:
    raw = event_json()
    raw["order"]["status"] = status  # type: ignore[index]
    raw["order"]["delivered_at"] = None  # type: ignore[index]
    assert parse_event(json.dumps(raw)).order.status is OrderStatus(status)


@pytest.mark.parametrize("status", ["Lost In Warehouse", "lost-in-warehouse", "", "x" * 41, 3])
def test_a_status_that_is_not_a_status_is_refused(status: object) -> None:
    raw = event_json()
    raw["order"]["status"] = status  # type: ignore[index]
    with pytest.raises(EventRejected) as rejected:
        parse_event(json.dumps(raw))
    assert rejected.value.problems
    assert all(p.startswith("order.status") for p in rejected.value.problems)


# --- the customer ----------------------------------------------------------------------------


def test_the_preferred_carrier_is_optional() -> None:
    raw = event_json()
    raw["customer"].pop("preferred_carrier", None)  # type: ignore[attr-defined]
    assert parse_event(json.dumps(raw)).customer.preferred_carrier is None

    raw["customer"]["preferred_carrier"] = "colissimo"  # type: ignore[index]
    assert parse_event(json.dumps(raw)).customer.preferred_carrier == "colissimo"


def test_a_preferred_carrier_must_be_a_carrier_code() -> None:
    raw = event_json()
    raw["customer"]["preferred_carrier"] = "La Poste (counter)"  # type: ignore[index]
    with pytest.raises(EventRejected) as rejected:
        parse_event(json.dumps(raw))
    assert rejected.value.problems[0].startswith("customer.preferred_carrier")


# --- postal addresses ------------------------------------------------------------------------


def address(country_code: str, postal_code: str) -> PostalAddress:
    return HOME.model_copy(update={"country_code": country_code, "postal_code": postal_code})


def validate_address(country_code: str, postal_code: str) -> PostalAddress:
    """Validated as it arrives: from JSON, like the address in an event or an update."""
    raw = address(country_code, postal_code).model_dump(mode="json")
    return PostalAddress.model_validate_json(json.dumps(raw))


@pytest.mark.parametrize(
    ("country_code", "postal_code"),
    [
        ("FR", "75011"),
        ("FR", "20000"),
        ("DE", "10115"),
        ("DE", "01067"),
        ("ES", "28013"),
        ("ES", "01001"),
        ("ES", "52006"),
        ("IT", "00184"),
        ("BE", "1000"),
        ("NL", "1012 AB"),
        ("NL", "1012AB"),
        ("CH", "8001"),  # a country whose codes we do not check: the general shape only
        ("GB", "SW1A 1AA"),
    ],
)
def test_a_postal_code_of_the_country_is_accepted(country_code: str, postal_code: str) -> None:
    assert validate_address(country_code, postal_code).postal_code == postal_code


@pytest.mark.parametrize(
    ("country_code", "postal_code"),
    [
        ("FR", "6900"),
        ("FR", "690033"),
        ("FR", "69OO3"),
        ("DE", "8080"),
        ("DE", "D-80331"),
        ("ES", "53001"),
        ("ES", "00123"),
        ("IT", "0019"),
        ("BE", "0999"),
        ("BE", "10000"),
        ("NL", "0123 AB"),
        ("NL", "1013 A"),
        ("NL", "1013-AB"),
    ],
)
def test_a_postal_code_not_of_the_country_is_refused_without_quoting_it(
    country_code: str, postal_code: str
) -> None:
    with pytest.raises(ValidationError) as refused:
        validate_address(country_code, postal_code)

    [error] = refused.value.errors()
    assert "postal_code" in error["msg"]
    assert f"not a {country_code} postal code" in error["msg"]
    assert postal_code not in str(refused.value)


def test_a_wrong_postal_code_in_an_event_is_named_and_not_quoted() -> None:
    raw = event_json()
    raw["customer"]["address"]["postal_code"] = "6900"  # type: ignore[index]
    with pytest.raises(EventRejected) as rejected:
        parse_event(json.dumps(raw))
    [problem] = rejected.value.problems
    assert problem.startswith("customer.address")
    assert "postal_code is not a FR postal code" in problem
    assert "6900" not in problem
    assert CUSTOMER_STREET not in problem


@pytest.mark.parametrize("country_code", ["XX", "UK", "EU"])
def test_an_unknown_country_code_is_refused_by_name(country_code: str) -> None:
    with pytest.raises(ValidationError) as refused:
        validate_address(country_code, "75011")
    [error] = refused.value.errors()
    assert "country_code is not an ISO 3166-1 country code" in error["msg"]


def test_an_unknown_country_in_an_event_is_named() -> None:
    raw = event_json()
    raw["customer"]["address"]["country_code"] = "XX"  # type: ignore[index]
    with pytest.raises(EventRejected) as rejected:
        parse_event(json.dumps(raw))
    [problem] = rejected.value.problems
    assert problem.startswith("customer.address") and "country_code" in problem


@pytest.mark.parametrize(
    ("field", "moment"),
    [
        ("delivered_at", "9999-12-31T23:59:59+00:00"),
        ("ordered_at", "0001-01-01T00:00:00+01:00"),
        ("shipped_at", "2150-06-01T10:00:00+02:00"),
        ("ordered_at", "1999-12-31T23:59:59+00:00"),
    ],
    ids=["year-9999", "year-1-east-of-utc", "next-century", "last-century"],
)
def test_an_order_date_no_legal_clock_can_count_from_is_refused_naming_it(
    field: str, moment: str
) -> None:
    raw = event_json()
    raw["order"][field] = moment  # type: ignore[index]

    with pytest.raises(EventRejected) as rejected:
        parse_event(json.dumps(raw))

    assert f"order.{field}: Value error, outside the years 2000 to 2099" in (
        rejected.value.problems
    )


def test_an_order_delivered_next_week_is_refused_as_not_yet_happened() -> None:
    event = retract_event()
    now = event.occurred_at + dt.timedelta(minutes=1)
    raw = json.loads(event.model_dump_json())
    raw["order"]["delivered_at"] = (now + dt.timedelta(days=7)).isoformat()

    with pytest.raises(EventRejected) as rejected:
        parse_event(json.dumps(raw), now=now)

    assert rejected.value.problems == [
        "order.delivered_at: in the future, more than 5 minutes ahead of our clock: the order "
        "service reports what has happened"
    ]
