"""Colissimo tracking through La Poste's Suivi API."""

from __future__ import annotations

import datetime as dt
import json

import httpx
import pytest

from activities.carriers.colissimo import tracking as suivi
from activities.carriers.protocol import CarrierRejected, WebhookRejected
from domain.carriers import ParcelDestination, TrackingStatus
from tests.activities.carriers.colissimo.builders import Colissimo, label_request
from tests.activities.carriers.replay.colissimo import fixture


async def test_a_new_label_is_announced_then_accepted_once_handed_over(
    colissimo: Colissimo,
) -> None:
    label = await colissimo.carrier.create_return_label(label_request())
    number = label.tracking_number

    before = await colissimo.carrier.track(number)
    colissimo.replay.accept(number)
    after = await colissimo.carrier.track(number)
    again = await colissimo.carrier.track(number)

    call = colissimo.replay.calls("idships")[0]
    assert str(call.url) == f"https://api.laposte.fr/suivi/v2/idships/{number}?lang=fr_FR"
    assert call.headers["X-Okapi-Key"] == "okapi-key-1"
    assert [(s.carrier_code, s.status) for s in before] == [("DR1", TrackingStatus.PRE_TRANSIT)]
    assert [(s.carrier_code, s.status) for s in after] == [
        ("DR1", TrackingStatus.PRE_TRANSIT),
        ("PC1", TrackingStatus.ACCEPTED),
    ]
    assert after[0].occurred_at <= after[1].occurred_at
    assert after[1].description == "Votre colis a été déposé dans un point postal."
    assert [s.scan_id for s in again] == [s.scan_id for s in after]
    assert before[0].scan_id == after[0].scan_id
    assert all(s.tracking_number == number and s.carrier == "colissimo" for s in after)


async def test_an_unknown_number_is_a_rejection_naming_the_tracking_number(
    colissimo: Colissimo,
) -> None:
    with pytest.raises(CarrierRejected) as refused:
        await colissimo.carrier.track("8R99999999999")

    assert refused.value.field == "tracking_number" and refused.value.status == 400


async def test_an_error_return_code_inside_a_200_is_classified(colissimo: Colissimo) -> None:
    colissimo.replay.queue(
        httpx.Response(200, json={"returnCode": 400, "returnMessage": "Numéro invalide"})
    )

    with pytest.raises(CarrierRejected) as refused:
        await colissimo.carrier.track("8R00000000001")

    assert refused.value.field == "tracking_number"


@pytest.mark.parametrize("status", [200, 404])
async def test_a_number_la_poste_does_not_show_yet_has_no_scans_and_no_destination(
    colissimo: Colissimo, status: int
) -> None:
    """A label printed at a counter appears in Suivi hours later: polled again, not refused."""
    unknown = {"returnCode": 404, "returnMessage": "Numéro non trouvé"}
    colissimo.replay.queue(httpx.Response(status, json=unknown))
    colissimo.replay.queue(httpx.Response(status, json=unknown))

    scans = await colissimo.carrier.track("8R00000000001")
    destination = await colissimo.carrier.parcel_destination("8R00000000001")

    assert scans == [] and destination is None


async def test_a_404_that_is_not_suivis_answer_is_an_error_not_a_parcel_not_shown(
    colissimo: Colissimo,
) -> None:
    """A mistyped RETURNFLOW_COLISSIMO_TRACKING_URL answers a page, not Suivi's JSON: every
    return would poll on, silent, with no scans."""
    colissimo.replay.queue(httpx.Response(404, text="<html>Not Found</html>"))

    with pytest.raises(CarrierRejected) as refused:
        await colissimo.carrier.track("8R00000000001")

    assert refused.value.status == 404 and refused.value.field is None


def test_an_answer_listing_several_shipments_gives_the_parcels_own_events() -> None:
    accepted = fixture("tracking_accepted.json")
    other = json.loads(json.dumps(accepted))
    other["shipment"]["idShip"] = "6A00000000000"
    accepted["shipment"]["idShip"] = "8R00000000000"

    found = suivi.scans("colissimo", "8R00000000000", [other, accepted])

    assert [s.carrier_code for s in found] == ["DR1", "PC1"]


EXPECTED_STATUS = {
    "DR1": TrackingStatus.PRE_TRANSIT,
    "DR2": TrackingStatus.EXCEPTION,
    "PC1": TrackingStatus.ACCEPTED,
    "PC2": TrackingStatus.ACCEPTED,
    "ET1": TrackingStatus.IN_TRANSIT,
    "ET2": TrackingStatus.IN_TRANSIT,
    "ET3": TrackingStatus.IN_TRANSIT,
    "ET4": TrackingStatus.IN_TRANSIT,
    "EP1": TrackingStatus.IN_TRANSIT,
    "DO1": TrackingStatus.IN_TRANSIT,
    "DO2": TrackingStatus.IN_TRANSIT,
    "DO3": TrackingStatus.EXCEPTION,
    "ID0": TrackingStatus.IN_TRANSIT,
    "PB1": TrackingStatus.EXCEPTION,
    "PB2": TrackingStatus.IN_TRANSIT,
    "MD2": TrackingStatus.OUT_FOR_DELIVERY,
    "ND1": TrackingStatus.EXCEPTION,
    "AG1": TrackingStatus.EXCEPTION,
    "RE1": TrackingStatus.RETURNED_TO_SENDER,
    "DI0": TrackingStatus.DELIVERED,
    "DI1": TrackingStatus.DELIVERED,
    "DI2": TrackingStatus.RETURNED_TO_SENDER,
    "DI3": TrackingStatus.IN_TRANSIT,
}


def test_the_status_table_has_an_expectation_for_every_code() -> None:
    assert set(suivi.EVENT_STATUS) == set(EXPECTED_STATUS)


@pytest.mark.parametrize(("code", "status"), sorted(EXPECTED_STATUS.items()))
def test_each_la_poste_event_code_has_its_status(code: str, status: TrackingStatus) -> None:
    answer = fixture("tracking_pre_transit.json")
    answer["shipment"]["event"] = [
        {"code": code, "label": "Libellé La Poste", "date": "2025-06-17T10:15:00+02:00"}
    ]

    (scan,) = suivi.scans("colissimo", "8R00000000000", answer)

    assert (scan.status, scan.carrier_code) == (status, code)
    assert scan.occurred_at == dt.datetime(2025, 6, 17, 8, 15, tzinfo=dt.UTC)


def test_an_event_code_la_poste_adds_later_reads_as_in_transit() -> None:
    assert suivi.status_of("ZZ9") is TrackingStatus.IN_TRANSIT


def test_colissimo_sends_no_webhook_to_believe(colissimo: Colissimo) -> None:
    with pytest.raises(WebhookRejected):
        colissimo.carrier.read_webhook({"content-type": "application/json"}, b"{}")


async def test_the_destination_is_the_arrival_country_suivi_shows(colissimo: Colissimo) -> None:
    label = await colissimo.carrier.create_return_label(label_request())

    where = await colissimo.carrier.parcel_destination(label.tracking_number)

    assert where == ParcelDestination(country_code="FR"), "Suivi v2 shows no postal code"
    with pytest.raises(CarrierRejected):
        await colissimo.carrier.parcel_destination("8R99999999999")
