"""Logs are JSON lines with the Temporal context, and carry no personal data: no field the models
mark personal, and no email address, phone number or street line in any text."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator

import pytest
import structlog
from pydantic import BaseModel, ValidationError

from activities.carriers.protocol import CarrierRejected
from domain.addresses import PostalAddress
from domain.base import personal, personal_field_names
from domain.events import Customer, RetractEvent
from plumbing import logs
from tests.factories import HOME


@pytest.fixture
def captured() -> Iterator[io.StringIO]:
    stream = io.StringIO()
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    logs.configure("test", "INFO", stream=stream)
    yield stream
    root.handlers[:] = handlers
    root.setLevel(level)
    structlog.reset_defaults()


def lines(stream: io.StringIO) -> list[dict[str, object]]:
    return [json.loads(line) for line in stream.getvalue().splitlines()]


def test_structlog_events_are_json_with_the_service_name(captured: io.StringIO) -> None:
    structlog.get_logger("worker").info("label created", tracking_number="SB123456789FR")
    (line,) = lines(captured)
    assert line["event"] == "label created"
    assert line["service"] == "test" and line["level"] == "info"
    assert line["tracking_number"] == "SB123456789FR"


def test_stdlib_records_keep_their_temporal_context(captured: io.StringIO) -> None:
    logging.getLogger("temporalio.workflow").info(
        "stage changed", extra={"temporal_workflow": {"workflow_id": "return-ORD-1-1"}}
    )
    (line,) = lines(captured)
    assert line["temporal_workflow"] == {"workflow_id": "return-ORD-1-1"}


def test_the_token_of_a_customers_link_never_reaches_a_log(captured: io.StringIO) -> None:
    # A request line as uvicorn's access log writes it, and a path logged as a value.
    access = (
        '127.0.0.1:50312 - "POST /my/returns/page-2026-a.Zk1xQ2-_v9/cancel?lang=fr HTTP/1.1" 303'
    )
    structlog.get_logger().info("opened", path="/my/withdraw/page-2026-a.Hq7Yx")

    (line,) = lines(captured)
    assert logs.redact_text(access) == (
        '127.0.0.1:50312 - "POST /my/returns/[redacted]/cancel?lang=fr HTTP/1.1" 303'
    )
    assert line["path"] == "/my/withdraw/[redacted]"
    assert "page-2026-a" not in json.dumps(line)


@pytest.mark.parametrize(
    ("url", "logged"),
    [
        ("http://rf:s3cret@collector:4318/v1/traces", "http://[redacted]@collector:4318/v1/traces"),
        (
            "https://rf:s3cret@otel.example.com/v1/traces",
            "https://[redacted]@otel.example.com/v1/traces",
        ),
        ("http://admin:p@ss@10.0.0.5:4318", "http://[redacted]@10.0.0.5:4318"),
        ("https://api-token@jwks.example.com/keys", "https://[redacted]@jwks.example.com/keys"),
        ("http://collector:4318/v1/traces", "http://collector:4318/v1/traces"),
        (
            '{"endpoint":"http://collector:4318","team":"#returns"}',
            '{"endpoint":"http://collector:4318","team":"#returns"}',
        ),
    ],
)
def test_a_password_written_into_a_url_never_reaches_a_log(
    captured: io.StringIO, url: str, logged: str
) -> None:
    # As the telemetry's start line logs the OTLP endpoint, and the codec server its JWKS URL.
    structlog.get_logger().info("telemetry", traces=url)
    logging.getLogger("httpx").warning("cannot reach %s", url)

    structured, standard = lines(captured)
    assert structured["traces"] == logged
    assert standard["event"] == f"cannot reach {logged}"
    assert "s3cret" not in captured.getvalue()


def test_personal_fields_and_emails_are_redacted(captured: io.StringIO) -> None:
    structlog.get_logger().warning(
        "notice bounced for camille.durand@example.org",
        name="Camille Durand",
        address={"line1": "12 rue des Lilas", "city": "Lyon"},
        message_id="return-ORD-1-1.rejection.1@returns.marketplace.example",
    )
    text = captured.getvalue()
    assert "camille.durand@example.org" not in text
    assert "Camille Durand" not in text and "12 rue des Lilas" not in text
    (line,) = lines(captured)
    assert line["message_id"] == "return-ORD-1-1.rejection.1@returns.marketplace.example"
    assert line["event"] == "notice bounced for [redacted]"


# --- Which fields are personal: the models say ---------------------------------------------


class _Parcel(BaseModel):
    label: str
    recipient: PostalAddress | None = None


class _Shipment(BaseModel):
    parcels: list[_Parcel]
    contact: str = personal("Who to call.", alias="contactName")


class _NothingPersonal(BaseModel):
    order_id: str
    tracking_number: str


def test_the_models_mark_which_fields_are_personal() -> None:
    assert personal_field_names(PostalAddress) == {
        "name",
        "company",
        "line1",
        "line2",
        "postal_code",
        "city",
        "phone",
    }
    assert personal_field_names(Customer) == personal_field_names(PostalAddress) | {
        "name",
        "email",
        "address",
    }


def test_personal_fields_are_found_in_nested_models_and_under_their_aliases() -> None:
    names = personal_field_names(_Shipment)
    assert {"contact", "contactName", "line1", "postal_code", "city"} <= names
    assert "label" not in names and "recipient" not in names and "parcels" not in names
    assert personal_field_names(_NothingPersonal) == frozenset()
    assert personal_field_names(RetractEvent) == personal_field_names(Customer)


def test_the_log_redacts_every_personal_field_of_the_models_and_a_few_log_only_keys() -> None:
    assert personal_field_names(Customer) <= logs.PERSONAL_KEYS
    assert {"customer_name", "street", "recipient", "sender"} <= logs.PERSONAL_KEYS
    # Used for transitions and ranges; an email address under it is masked as free text.
    assert "to" not in logs.PERSONAL_KEYS
    assert "country_code" not in logs.PERSONAL_KEYS


# --- Personal keys, at any depth ------------------------------------------------------------


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("name", "Camille Durand"),
        ("email", "camille.durand@example.org"),
        ("company", "Durand & Fils"),
        ("line1", "12 rue des Lilas"),
        ("line2", "Bâtiment B, 3e étage"),
        ("postal_code", "69003"),
        ("city", "Lyon"),
        ("phone", "+33 6 12 34 56 78"),
        ("address", {"line1": "12 rue des Lilas", "city": "Lyon"}),
        ("customer_name", "Camille Durand"),
        ("street", "Lilas"),
        ("recipient", "Camille Durand, Lyon"),
        ("pickup_address", {"line1": "12 rue des Lilas"}),
    ],
)
def test_a_personal_field_is_redacted_whatever_it_holds(
    captured: io.StringIO, key: str, value: object
) -> None:
    structlog.get_logger().info("pickup booked", **{key: value}, return_id="return-ORD-1-1")
    (line,) = lines(captured)
    assert line[key] == "[redacted]"
    assert line["return_id"] == "return-ORD-1-1" and line["event"] == "pickup booked"


def test_personal_keys_are_redacted_inside_nested_mappings_and_lists(
    captured: io.StringIO,
) -> None:
    structlog.get_logger().info(
        "label requested",
        request={
            "carrier": "colissimo",
            "sender": {"name": "Camille Durand", "city": "Lyon"},
            "parcels": [{"weight_grams": 900, "address": {"city": "Lyon"}}],
            "contact": {"city": "Lyon", "country_code": "FR"},
        },
    )
    (line,) = lines(captured)
    assert line["request"] == {
        "carrier": "colissimo",
        "sender": "[redacted]",
        "parcels": [{"weight_grams": 900, "address": "[redacted]"}],
        "contact": {"city": "[redacted]", "country_code": "FR"},
    }
    assert "Lyon" not in captured.getvalue()


def test_a_logged_model_is_redacted_as_its_fields(captured: io.StringIO) -> None:
    structlog.get_logger().info("address checked", checked=HOME)
    (line,) = lines(captured)
    checked = line["checked"]
    assert isinstance(checked, dict)
    assert checked["country_code"] == HOME.country_code
    assert {checked[k] for k in ("name", "line1", "postal_code", "city")} == {"[redacted]"}
    assert HOME.line1 not in captured.getvalue()


def test_a_message_id_is_kept_at_any_depth(captured: io.StringIO) -> None:
    message_id = "return-ORD-1-1.rejection.1@returns.marketplace.example"
    structlog.get_logger().info(
        "notice sent", message_id=message_id, receipt={"message_id": message_id, "sent": True}
    )
    (line,) = lines(captured)
    assert line["message_id"] == message_id
    assert line["receipt"] == {"message_id": message_id, "sent": True}


# --- Free text: what is masked --------------------------------------------------------------

STREET_LINES = [
    # France, Belgium, Luxembourg
    ("pickup refused at 12 rue des Lilas: no round", "pickup refused at [redacted]: no round"),
    (
        "sender 12 bis, avenue Jean Jaurès, 69007 Lyon refused",
        "sender [redacted] refused",
    ),
    ("address: Bd Saint-Germain, 75006 Paris", "address: [redacted]"),
    (
        "unknown street 'Bd Saint-Germain' (INVALID_ADDRESS)",
        "unknown street '[redacted]' (INVALID_ADDRESS)",
    ),
    ("from 7 allée des Tilleuls, 33000 Bordeaux.", "from [redacted]."),
    ("counter at 3 quai d'Orsay, 75007 Paris, closed", "counter at [redacted], closed"),
    ("at 14 Rue de l\u2019Église: no access", "at [redacted]: no access"),
    ("at 12 place Bellecour, 69002 Lyon: no access", "at [redacted]: no access"),
    ("at 12 rue du 8 Mai 1945, 75011 Paris: no access", "at [redacted]: no access"),
    ("at 12 rue des Lilas, Apt 4, 75011 Paris: no access", "at [redacted]: no access"),
    ("at 12 rue des Lilas 75011 Paris: no access", "at [redacted]: no access"),
    ("at 12 rue des lilas is not served", "at [redacted] is not served"),
    ("at Rue de la Loi 16, 1040 Bruxelles: no access", "at [redacted]: no access"),
    ("at 12, rue de la Gare, L-1616 Luxembourg: no access", "at [redacted]: no access"),
    # Germany, Austria
    ("street Hauptstraße 5, 10115 Berlin unknown", "street [redacted] unknown"),
    ("street Karl-Marx-Str. 12 unknown", "street [redacted] unknown"),
    ("street Berliner Straße 12 unknown", "street [redacted] unknown"),
    ("street Kurfürstendamm 21 unknown", "street [redacted] unknown"),
    ("street Lindenweg 7 unknown", "street [redacted] unknown"),
    ("street Am Markt 3 unknown", "street [redacted] unknown"),
    ("street Mariahilfer Straße 10, 1060 Wien unknown", "street [redacted] unknown"),
    ("street Schönbrunner Straße 12/3 unknown", "street [redacted] unknown"),
    # Netherlands, Flanders
    ("Kerkstraat 14, 1017 GC Amsterdam is not served", "[redacted] is not served"),
    ("street Keizersgracht 123 unknown", "street [redacted] unknown"),
    ("street Brusselsesteenweg 12, 9000 Gent unknown", "street [redacted] unknown"),
    # Spain, Italy, Portugal
    ("Calle Mayor 3, 28013 Madrid: out of zone", "[redacted]: out of zone"),
    ("C/ Mayor, 3: out of zone", "[redacted]: out of zone"),
    ("Paseo de la Castellana 100: out of zone", "[redacted]: out of zone"),
    ("Carrer de Balmes 12: out of zone", "[redacted]: out of zone"),
    ("Via Roma 10, 00184 Roma: out of zone", "[redacted]: out of zone"),
    ("Piazza Navona 5: out of zone", "[redacted]: out of zone"),
    ("Corso Italia 12: out of zone", "[redacted]: out of zone"),
    ("Rua Augusta 27, 1100-048 Lisboa: out of zone", "[redacted]: out of zone"),
    ("Avenida da Liberdade 110: out of zone", "[redacted]: out of zone"),
    # English
    ("recipient 221B Baker Street, London NW1 6XE refused", "recipient [redacted] refused"),
    ("recipient 10 Downing St, London SW1A 2AA refused", "recipient [redacted] refused"),
    ("recipient 15 Kings Road, Dublin D02 X285 refused", "recipient [redacted] refused"),
]

PHONE_NUMBERS = [
    ("call +33 6 12 34 56 78 before noon", "call [redacted] before noon"),
    ("call +33612345678 before noon", "call [redacted] before noon"),
    ("call 06 12 34 56 78 before noon", "call [redacted] before noon"),
    ("call 06.12.34.56.78 before noon", "call [redacted] before noon"),
    ("call 06-12-34-56-78 before noon", "call [redacted] before noon"),
    ("call 0612345678 before noon", "call [redacted] before noon"),
    ("call +49 30 1234567 before noon", "call [redacted] before noon"),
    ("call 030 1234567 before noon", "call [redacted] before noon"),
    ("call 089/1234567 before noon", "call [redacted] before noon"),
    ("call 0049 30 1234567 before noon", "call [redacted] before noon"),
    ("call +44 (0)20 7946 0958 before noon", "call [redacted] before noon"),
    ("call +32 470 12 34 56 before noon", "call [redacted] before noon"),
    ("call 0470 12 34 56 before noon", "call [redacted] before noon"),
    ("call 02 123 45 67 before noon", "call [redacted] before noon"),
    ("call +352 621 123 456 before noon", "call [redacted] before noon"),
    ("call +43 1 234567 before noon", "call [redacted] before noon"),
    ("call +34 612 34 56 78 before noon", "call [redacted] before noon"),
    ("call +39 06 1234 5678 before noon", "call [redacted] before noon"),
    ("call +351 912 345 678 before noon", "call [redacted] before noon"),
    ("contact (tel:+33612345678)", "contact (tel:[redacted])"),
]

EMAIL_ADDRESSES = [
    ("notice bounced for camille.durand@example.org", "notice bounced for [redacted]"),
    ("bounced: <camille+returns@mail.example.fr>", "bounced: <[redacted]>"),
    (
        "bounced for Camille Durand <camille@example.org> today",
        "bounced for [redacted] today",
    ),
    (
        'bounced for "Durand, Camille" <camille@example.org> today',
        "bounced for [redacted] today",
    ),
    (
        "refused header\nTo: Camille Durand <camille@example.org>\n",
        "refused header\nTo: [redacted]\n",
    ),
]


@pytest.mark.parametrize(("text", "expected"), STREET_LINES)
def test_a_street_line_and_the_postal_code_and_city_after_it_are_masked(
    text: str, expected: str
) -> None:
    assert logs.redact_text(text) == expected


@pytest.mark.parametrize(("text", "expected"), PHONE_NUMBERS)
def test_a_phone_number_is_masked(text: str, expected: str) -> None:
    assert logs.redact_text(text) == expected


@pytest.mark.parametrize(("text", "expected"), EMAIL_ADDRESSES)
def test_an_email_address_is_masked_with_the_name_written_before_it(
    text: str, expected: str
) -> None:
    assert logs.redact_text(text) == expected


# --- Free text: what is kept ----------------------------------------------------------------

OPERATIONAL_TEXT = [
    "timer fired at 2026-11-24T09:00:00+00:00",
    "started at 2026-11-24T09:00:00.123456+01:00",
    "ship by 2026-12-08 (14 days)",
    "on 01-12-2026 10:30",
    "on 06.12.2024 10:30",
    "on 01/12/2026 9 returns expired",
    "withdrawal period P14D, reminder after PT12H",
    "attempt took 3.5 s",
    "retry in 30 s (attempt 3 of 10)",
    "workflow return-ORD-2026-000123-1",
    "run 0f8fad5b-d9cb-469f-a165-70867728950e",
    "run 01234567-0123-4567-8901-234567890123",
    "order ORD-2026-000123 line 1",
    "tracking SB123456789FR",
    "tracking 6A12345678901",
    "tracking 1Z999AA10123456784",
    "tracking EZ1000000001",
    "tracking 012345678901",
    "tracking 00340434161094042557",
    "HTTP 503 Service Unavailable",
    "status 404 Not Found",
    "Temporal at 127.0.0.1:7233, namespace default",
    "port 7233, pid 12345",
    "refund 49.90 EUR to order ORD-1",
    "900 events, 1048576 bytes",
    "temporalio 1.8.0 on Python 3.11.7",
    "offset +0100",
    "sweep 2026-11-24: 12 reminded, 3 skipped",
    "stage changed from awaiting_pickup to in_transit",
    "no route to host",
    "sent via SMTP 2 times",
    "delivered via Colissimo 3 days late",
    "Spring 2026 release",
    "the 3 place holders",
    "idempotency key return-ORD-1-1.label.1",
    'File "/work/main/activities/carriers/activities.py", line 49, in create_label',
    "scan at Lyon Gerland hub, 2026-11-24 09:00",
]


@pytest.mark.parametrize("text", OPERATIONAL_TEXT)
def test_operational_content_is_left_as_it_is(text: str) -> None:
    assert logs.redact_text(text) == text


# --- Whole lines ----------------------------------------------------------------------------


def test_every_string_of_a_structlog_line_is_masked(captured: io.StringIO) -> None:
    structlog.get_logger("worker").warning(
        "carrier refused the pickup at 12 rue des Lilas, 69003 Lyon",
        reason="call +33 6 12 34 56 78 first",
        notes=["write to camille.durand@example.org", "floor 3"],
        tracking_number="SB123456789FR",
    )
    (line,) = lines(captured)
    assert line["event"] == "carrier refused the pickup at [redacted]"
    assert line["reason"] == "call [redacted] first"
    assert line["notes"] == ["write to [redacted]", "floor 3"]
    assert line["tracking_number"] == "SB123456789FR"


def test_a_standard_library_message_is_masked_after_formatting(captured: io.StringIO) -> None:
    logging.getLogger("carrier_sandbox").warning(
        "no round for %s on %s", "Hauptstraße 5, 10115 Berlin", "2026-11-24"
    )
    (line,) = lines(captured)
    assert line["event"] == "no round for [redacted] on 2026-11-24"


CARRIER_ERROR = (
    "pickup refused at 12 rue des Lilas, 69003 Lyon: "
    "call +33 6 12 34 56 78 or write to camille.durand@example.org"
)


def _carrier_refusal() -> CarrierRejected:
    try:
        raise CarrierRejected("sandbox", CARRIER_ERROR, field="sender.line1", status=422)
    except CarrierRejected as err:
        return err


def assert_traceback_without_personal_data(line: dict[str, object]) -> None:
    exception = line["exception"]
    assert isinstance(exception, str)
    for clear in ("rue des Lilas", "69003", "Lyon", "+33", "12 34 56 78", "camille"):
        assert clear not in exception
    assert exception.startswith("Traceback (most recent call last):")
    assert 'logs_test.py", line ' in exception and ", in _carrier_refusal" in exception
    assert exception.endswith(
        "CarrierRejected: sandbox: pickup refused at [redacted]: "
        "call [redacted] or write to [redacted]"
    )


def test_a_carrier_error_logged_with_structlog_has_no_personal_data(
    captured: io.StringIO,
) -> None:
    err = _carrier_refusal()
    try:
        raise err
    except CarrierRejected:
        structlog.get_logger("worker").exception("label not created", carrier="sandbox")
    (line,) = lines(captured)
    assert line["event"] == "label not created" and line["carrier"] == "sandbox"
    assert_traceback_without_personal_data(line)


def test_a_carrier_error_logged_by_temporal_has_no_personal_data(
    captured: io.StringIO,
) -> None:
    logging.getLogger("temporalio.activity").error(
        "Completing activity as failed",
        exc_info=_carrier_refusal(),
        extra={"temporal_activity": {"activity_type": "create_label", "attempt": 1}},
    )
    (line,) = lines(captured)
    assert line["temporal_activity"] == {"activity_type": "create_label", "attempt": 1}
    assert_traceback_without_personal_data(line)


def test_an_object_logged_as_a_value_is_redacted_as_its_text(captured: io.StringIO) -> None:
    error = ValueError("bounced: camille.durand@example.org, 12 rue des Lilas, 69003 Lyon")

    structlog.get_logger().warning("send failed", error=error, raw=b"+33 6 12 34 56 78", n=3)

    (line,) = lines(captured)
    assert line["error"] == "bounced: [redacted], [redacted]"
    assert line["raw"] == "[redacted]" and line["n"] == 3


class CarrierReply(BaseModel):
    """A carrier's answer as an adapter parses it (plain pydantic: errors quote the input)."""

    parcel_weight_grams: int


def test_a_validation_error_never_shows_the_input_it_quotes(captured: io.StringIO) -> None:
    reply = {"parcel_weight_grams": "see Camille Durand, 12 rue des Lilas"}
    try:
        CarrierReply.model_validate(reply)
    except ValidationError:
        structlog.get_logger().exception("carrier reply unreadable")

    (line,) = lines(captured)
    assert "Camille Durand" not in json.dumps(line)
    assert "input_value=[redacted]" in str(line["exception"])
    assert "parcel_weight_grams" in str(line["exception"])  # which field is wrong still shows
