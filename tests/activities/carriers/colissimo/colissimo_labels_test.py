"""Colissimo return labels: the product chosen, idempotency, the PDF, the multipart answer."""

from __future__ import annotations

import datetime as dt
import io
from pathlib import Path

import pypdf
import pytest
from pydantic import SecretStr

from activities.carriers.colissimo import ColissimoCarrier
from activities.carriers.colissimo.labels import label_body
from activities.carriers.colissimo.wire import Message, address, blamed_field, split_multipart
from activities.carriers.protocol import CarrierRejected
from domain.addresses import PostalAddress
from domain.carriers import CancellationOutcome, Parcel, PostOfficeQuery
from tests.activities.carriers.colissimo.builders import (
    BRUSSELS,
    MILAN,
    Colissimo,
    label_request,
    open_colissimo,
    paris_today,
    sent,
)
from tests.activities.carriers.ledgers import FileLedger
from tests.activities.carriers.replay.colissimo import (
    CONTRACT_NUMBER,
    PASSWORD,
    label_pdf,
    replay_config,
)
from tests.factories import CUSTOMER_NAME, CUSTOMER_STREET, HOME, SELLER_ADDRESS

# --- Return labels ----------------------------------------------------------------------------


async def test_a_return_from_france_is_a_colissimo_retour_france_label(
    colissimo: Colissimo,
) -> None:
    label = await colissimo.carrier.create_return_label(label_request())

    (call,) = colissimo.replay.calls("generateLabel")
    body = sent(call)
    letter = body["letter"]
    assert str(call.url) == "https://ws.colissimo.fr/sls-ws/SlsServiceWSRest/2.0/generateLabel"
    assert (body["contractNumber"], body["password"]) == (CONTRACT_NUMBER, PASSWORD)
    assert body["outputFormat"] == {"x": 0, "y": 0, "outputPrintingType": "PDF_A4_300dpi"}
    assert letter["service"] == {
        "productCode": "CORE",
        "depositDate": paris_today().isoformat(),
        "orderNumber": "return-ORD-1-1",
    }
    assert letter["parcel"] == {"weight": 0.45}
    assert letter["sender"]["senderParcelRef"] == "ORD-1-1"
    assert letter["sender"]["address"] == {
        "lastName": CUSTOMER_NAME,
        "line2": CUSTOMER_STREET,
        "line1": HOME.line2,
        "zipCode": "69003",
        "city": "Lyon",
        "countryCode": "FR",
        "phoneNumber": "+33612345678",
    }
    assert letter["addressee"]["address"]["companyName"] == "RefurbPro SAS"
    assert label.tracking_number.startswith("8R") and label.label_id == label.tracking_number
    assert label.carrier == "colissimo" and label.created_at.tzinfo is not None


async def test_a_return_from_abroad_to_france_is_colissimo_retour_international(
    colissimo: Colissimo,
) -> None:
    label = await colissimo.carrier.create_return_label(label_request(sender=BRUSSELS))

    (call,) = colissimo.replay.calls("generateLabel")
    assert sent(call)["letter"]["service"]["productCode"] == "CORI"
    assert label.tracking_number.startswith("7R")


async def test_a_return_from_france_to_a_seller_abroad_is_corf(colissimo: Colissimo) -> None:
    await colissimo.carrier.create_return_label(label_request(recipient=MILAN))

    (call,) = colissimo.replay.calls("generateLabel")
    assert sent(call)["letter"]["service"]["productCode"] == "CORF"


async def test_a_return_that_never_touches_france_is_refused_without_a_call(
    colissimo: Colissimo,
) -> None:
    with pytest.raises(CarrierRejected) as refused:
        await colissimo.carrier.create_return_label(label_request(sender=BRUSSELS, recipient=MILAN))

    assert refused.value.field == "recipient.country_code"
    assert "Lotte" not in str(refused.value) and "Rue Neuve" not in str(refused.value)
    assert colissimo.replay.requests == []


async def test_a_retried_label_step_makes_one_generate_label_call(
    colissimo: Colissimo, tmp_path: Path
) -> None:
    first = await colissimo.carrier.create_return_label(label_request())
    again = await colissimo.carrier.create_return_label(label_request())
    # A worker restarted mid-step: a new adapter over the same ledger file.
    reopened = FileLedger(tmp_path)
    restarted = ColissimoCarrier(
        colissimo.replay.config, reopened, transport=colissimo.replay.transport
    )
    after_restart = await restarted.create_return_label(label_request())
    await restarted.aclose()
    reopened.close()
    other = await colissimo.carrier.create_return_label(label_request(key="return-ORD-1-1:label:2"))

    assert again == first == after_restart
    assert other.tracking_number != first.tracking_number
    assert len(colissimo.replay.calls("generateLabel")) == 2


async def test_the_label_pdf_comes_from_the_ledger_not_from_colissimo(
    colissimo: Colissimo,
) -> None:
    label = await colissimo.carrier.create_return_label(label_request())
    calls = len(colissimo.replay.requests)

    pdf = await colissimo.carrier.fetch_label_pdf(label)

    assert pdf == label_pdf(label.tracking_number)
    assert len(pypdf.PdfReader(io.BytesIO(pdf)).pages) == 1
    assert len(colissimo.replay.requests) == calls


async def test_a_label_without_a_kept_pdf_is_refused(colissimo: Colissimo) -> None:
    label = await colissimo.carrier.create_return_label(label_request())
    stranger = label.model_copy(update={"label_id": "8R99999999999"})

    with pytest.raises(CarrierRejected) as refused:
        await colissimo.carrier.fetch_label_pdf(stranger)

    assert refused.value.field == "label_id"


async def test_an_unused_label_has_nothing_to_void(colissimo: Colissimo) -> None:
    label = await colissimo.carrier.create_return_label(label_request())
    calls = len(colissimo.replay.requests)

    voided = await colissimo.carrier.void_label(label)

    assert voided.outcome is CancellationOutcome.NOTHING_TO_UNDO
    assert voided.object_id == label.label_id
    assert len(colissimo.replay.requests) == calls


async def test_the_api_key_replaces_contract_number_and_password(tmp_path: Path) -> None:
    config = replay_config(contract_number=None, password=None, api_key=SecretStr("apikey-1"))
    opened = await open_colissimo(tmp_path, config)
    try:
        await opened.carrier.create_return_label(label_request())
        await opened.carrier.find_post_offices(PostOfficeQuery(carrier="colissimo", near=HOME))
    finally:
        await opened.carrier.aclose()
        opened.ledger.close()

    label_call, locator_call = opened.replay.requests
    assert label_call.headers["apiKey"] == "apikey-1"
    assert "contractNumber" not in sent(label_call) and "password" not in sent(label_call)
    assert sent(locator_call)["apiKey"] == "apikey-1" and "accountNumber" not in sent(locator_call)


# --- The multipart answer ---------------------------------------------------------------------


def test_a_multipart_answer_gives_back_binary_parts_byte_for_byte() -> None:
    binary = bytes(range(256)) + b"\r\n--uuid:other\r\n\r\n%%EOF\r\n"
    body = (
        b"--uuid:b1\r\nContent-Type: application/json;charset=UTF-8\r\n"
        b"Content-Transfer-Encoding: binary\r\nContent-ID: <jsonInfos>\r\n\r\n{}\r\n"
        b"--uuid:b1\r\nContent-Type: application/octet-stream\r\n"
        b"Content-Transfer-Encoding: binary\r\nContent-ID: <label>\r\n\r\n"
        + binary
        + b"\r\n--uuid:b1--\r\n"
    )

    parts = split_multipart(body, "uuid:b1")

    assert [(cid, kind) for cid, kind, _ in parts] == [
        ("jsonInfos", "application/json"),
        ("label", "application/octet-stream"),
    ]
    assert parts[1][2] == binary


def test_a_multipart_answer_with_bare_line_feeds_or_base64_parts_is_read() -> None:
    body = (
        b"--uuid:b2\nContent-Type: application/json\nContent-ID: <jsonInfos>\n\n{}\n"
        b"--uuid:b2\nContent-ID: <label>\nContent-Transfer-Encoding: base64\n\nJVBERi0=\n"
        b"--uuid:b2--\n"
    )

    parts = split_multipart(body, "uuid:b2")

    assert parts[1] == ("label", "", b"%PDF-")


def test_an_address_is_sent_within_the_sls_field_lengths() -> None:
    """The SLS refuses a name, company, street line or city over 35 characters and a
    `phoneNumber` outside 10 to 12: a German mobile, a long street, a long company name are
    sent so that the label is not refused for them."""
    long_street = "Residence Les Jardins de la Vallee, 117 avenue du General Leclerc"
    where = PostalAddress(
        name="Marie-Christine de La Fontaine-Beaumont",
        company="Reconditionnement Electronique du Sud-Ouest SARL",
        line1=long_street,
        postal_code="33000",
        city="Saint-Remy-de-Provence-sur-les-Collines",
        country_code="FR",
        phone="+49 151 12345678",
    )

    block = address(where, company_required=True)

    for field in ("lastName", "companyName", "line2", "line3", "city"):
        assert len(block[field]) <= 35, field
    assert f"{block['line2']} {block['line3']}" == long_street  # cut at a space, nothing lost
    assert "phoneNumber" not in block and block["mobileNumber"] == "+4915112345678"
    french = address(where.model_copy(update={"phone": "06 12 34 56 78"}))
    assert french["phoneNumber"] == "0612345678" and "mobileNumber" not in french


def test_a_street_of_70_characters_or_fewer_fits_whole_whatever_its_words() -> None:
    # Cut at its last space, this one would leave 52 characters for the second line.
    street = "3 allée Marie-Thérèse-de-la-Croix-Rousse-Saint-Jean-Baptiste"
    where = SELLER_ADDRESS.model_copy(update={"line1": street})

    block = address(where)

    assert len(block["line2"]) <= 35 and len(block["line3"]) <= 35
    assert block["line2"] + block["line3"] == street


async def test_a_street_longer_than_colissimo_takes_is_refused_naming_it_not_cut_short(
    colissimo: Colissimo,
) -> None:
    """Cut short, the seller's street could send the parcel astray: another carrier takes it."""
    street = "Zone Artisanale des Grands Champs Fleuris, Batiment C, 117 avenue du General Leclerc"
    far = SELLER_ADDRESS.model_copy(update={"line1": street})

    with pytest.raises(CarrierRejected) as refused:
        await colissimo.carrier.create_return_label(label_request(recipient=far))

    assert refused.value.field == "recipient.line1"
    assert colissimo.replay.requests == [], "refused before any call"


def test_an_error_on_the_street_s_overflow_line_names_our_street_line() -> None:
    said = Message(id="30221", type="ERROR", content="letter.addressee.address.line3 trop long")

    assert blamed_field(said) == "recipient.line1"


@pytest.mark.parametrize(
    ("grams", "kilograms"), [(1, 0.01), (450, 0.45), (2004, 2.01), (2010, 2.01)]
)
def test_a_parcel_is_never_declared_lighter_than_it_is(grams: int, kilograms: float) -> None:
    # 2,004 g declared 2.0 kg would fall in the price band below 2 kg.
    request = label_request().model_copy(
        update={"parcel": Parcel(weight_grams=grams, description="Smartphone")}
    )

    body = label_body(request, "colissimo", "PDF_A4_300dpi", dt.date(2026, 12, 7))

    assert body["letter"]["parcel"] == {"weight": kilograms}
