"""EasyPost's REST API v2, replayed: documented answers served to the adapter's real requests.

Not a fake of our own making: every answer is one of the fixtures under
`tests/activities/carriers/fixtures/easypost/` (see their README for what each is modelled
on), with the
IDs, addresses and links of the request it answers. The replay checks what EasyPost checks that
we could document (HTTP Basic auth with the API key, the required fields of each request, rates
and pickup rates that exist, no second purchase) and records every request, so tests can count
purchases. It can be told to answer an error next, to lose the answer of a call it carried out,
to time out, or to refuse our credentials from now on; and to move a parcel on to "in transit".
Loading the fixtures and checking the requests' fields is in `easypost_fixtures.py`.
"""

from __future__ import annotations

import base64
import copy
import datetime as dt
import email.utils
import hashlib
import hmac
import itertools
import json
import re
import unicodedata
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
from pydantic import SecretStr

from activities.carriers.easypost import EASYPOST_CAPABILITIES, EasyPostCarrier, EasyPostConfig
from domain.addresses import PostalAddress
from domain.carriers import Parcel
from tests.activities.carriers.ledgers import FileLedger
from tests.activities.carriers.replay.easypost_fixtures import (
    FILES,
    Json,
    Refused,
    error_answer,
    error_fixture,
    file_answer,
    fixture,
    pickup_time,
    require_address,
    required,
)
from tests.activities.carriers.subject import ContractSubject

API_KEY = "EZTK0123456789abcdef0123456789abcdef"
WEBHOOK_SECRET = "replay-webhook-sécret"

US_CUSTOMER = PostalAddress(
    name="Jordan Miller",
    line1="145 Court Street",
    line2="Apt 3B",
    postal_code="11201",
    city="Brooklyn",
    country_code="US",
    phone="+1 718 555 0142",
)
US_SELLER = PostalAddress(
    name="Returns Desk",
    company="Renewed Devices Inc",
    line1="500 Harbor Boulevard",
    postal_code="07086",
    city="Weehawken",
    country_code="US",
    phone="+1 201 555 0199",
)


@dataclass(frozen=True)
class Seen:
    """One request as the replay received it."""

    method: str
    path: str
    query: dict[str, str]
    body: Any
    authorization: str | None


Handler = Callable[[dict[str, str], Any, dict[str, str]], Json]


class EasyPostReplay:
    def __init__(self, api_key: str = API_KEY, *, pdf_labels: bool = True) -> None:
        self.api_key = api_key
        self.pdf_labels = pdf_labels
        """False: the carrier ignores `label_format` and makes PNG labels (convert on fetch)."""
        self.refund_answer = "submitted"
        self.requests: list[Seen] = []
        self.shipments: dict[str, Json] = {}
        self.pickups: dict[str, Json] = {}
        self.trackers: dict[str, Json] = {}
        self._ids = itertools.count(1)
        self._failures: list[tuple[int, float | None]] = []
        self._lost_answers: dict[str, int] = {}
        self._time_out = False
        self._credentials_broken = False
        self._expired_links = 0
        self._garbled_files = 0
        one = "/(?P<id>[^/]+)"
        table: list[tuple[str, str, str, Handler]] = [
            ("POST", "shipments", "shipment.create", self._create_shipment),
            ("GET", f"shipments{one}", "shipment.get", self._shipment),
            ("POST", f"shipments{one}/buy", "shipment.buy", self._buy),
            ("GET", f"shipments{one}/label", "shipment.label", self._pdf),
            ("POST", f"shipments{one}/refund", "shipment.refund", self._refund),
            ("POST", "pickups", "pickup.create", self._create_pickup),
            ("GET", f"pickups{one}", "pickup.get", self._pickup),
            ("POST", f"pickups{one}/buy", "pickup.buy", self._buy_pickup),
            ("POST", f"pickups{one}/cancel", "pickup.cancel", self._cancel),
            ("GET", "trackers", "tracker.list", self._list_trackers),
            ("POST", "trackers", "tracker.create", self._create_tracker),
        ]
        self._routes = [(m, re.compile("/v2/" + path), n, h) for m, path, n, h in table]
        self.transport = httpx.MockTransport(self._handle)

    # What a test can ask of the replay.

    def fail_next(self, status: int, retry_after: float | None = None) -> None:
        """The next API request is answered with this error, before anything is done."""
        self._failures.append((status, retry_after))

    def lose_answer(self, route: str, status: int = 503) -> None:
        """The next `route` call (e.g. "shipment.buy") is carried out, then answered `status`:
        what the adapter sees when EasyPost did the work and the answer got lost."""
        self._lost_answers[route] = status

    def time_out_next(self) -> None:
        self._time_out = True

    def garble_next_file(self) -> None:
        """The next label download is answered 200 with a page in place of the file (a
        proxy's), as something between us and the file host may."""
        self._garbled_files += 1

    def expire_next_file_link(self) -> None:
        """The next label download is refused by the file host, as a link past its time is."""
        self._expired_links += 1

    def break_credentials(self) -> None:
        self._credentials_broken = True

    def accept_parcel(self, tracking_code: str) -> None:
        """The carrier has the parcel: its Tracker moves on to the in-transit fixture."""
        self.trackers[tracking_code] = self._tracker(tracking_code, "tracker_in_transit.json")

    def calls(self, route: str) -> int:
        return sum(1 for seen in self.requests if self._route_name(seen) == route)

    def bodies(self, route: str) -> list[Any]:
        return [seen.body for seen in self.requests if self._route_name(seen) == route]

    def signed_webhook(
        self, tracking_code: str, secret: str, *, sent_at: dt.datetime | None = None
    ) -> tuple[dict[str, str], bytes]:
        """A `tracker.updated` Event for the parcel, in transit, signed as EasyPost signs:
        HMAC-SHA256 of the raw body, key NFKD-normalised, `hmac-sha256-hex=` + hex digest."""
        event = fixture("event_tracker_updated.json")
        event["id"] = f"evt_{next(self._ids):032x}"
        event["result"] = self._tracker(tracking_code, "tracker_in_transit.json")
        body = json.dumps(event).encode()
        sent = sent_at or dt.datetime.now(dt.UTC)
        return {
            "content-type": "application/json",
            "x-hmac-signature": self.sign(body, secret),
            "x-timestamp": email.utils.format_datetime(sent),
        }, body

    @staticmethod
    def sign(body: bytes, secret: str) -> str:
        key = unicodedata.normalize("NFKD", secret).encode()
        return "hmac-sha256-hex=" + hmac.new(key, body, hashlib.sha256).hexdigest()

    # The API.

    def _handle(self, request: httpx.Request) -> httpx.Response:
        body = json.loads(request.content) if request.content else None
        seen = Seen(
            request.method,
            request.url.path,
            dict(request.url.params),
            body,
            request.headers.get("authorization"),
        )
        self.requests.append(seen)
        if str(request.url).startswith(FILES):
            if self._garbled_files:
                self._garbled_files -= 1
                return httpx.Response(200, text="<html><body>502 Bad Gateway</body></html>")
            if self._expired_links:
                self._expired_links -= 1
                return httpx.Response(
                    403,
                    text="<?xml version='1.0'?><Error><Code>AccessDenied</Code>"
                    "<Message>Request has expired</Message></Error>",
                    headers={"content-type": "application/xml"},
                )
            return file_answer(request)
        if self._time_out:
            self._time_out = False
            raise httpx.ReadTimeout("replayed timeout", request=request)
        if self._credentials_broken or seen.authorization != self._basic_auth():
            return error_answer(401, "error_401.json")
        if self._failures:
            status, retry_after = self._failures.pop(0)
            return error_answer(status, error_fixture(status), retry_after=retry_after)
        for method, pattern, name, handler in self._routes:
            match = pattern.fullmatch(request.url.path)
            if method == request.method and match:
                try:
                    answer = handler(match.groupdict(), body, seen.query)
                except Refused as refused:
                    return error_answer(refused.status, refused.fixture_name, field=refused.field)
                lost = self._lost_answers.pop(name, None)
                if lost is not None:
                    return error_answer(lost, error_fixture(lost))
                # As recorded: 201 for a new shipment, 200 for a new pickup or tracker.
                return httpx.Response(201 if name == "shipment.create" else 200, json=answer)
        return error_answer(404, "error_404.json")

    def _create_shipment(self, _: dict[str, str], body: Any, __: dict[str, str]) -> Json:
        wanted = required(body, "shipment")
        for side in ("to_address", "from_address"):
            require_address(wanted, side)
        weight = required(wanted, "parcel", "shipment.parcel").get("weight")
        if not isinstance(weight, int | float) or weight <= 0:
            raise Refused(422, "error_422_parameter.json", "shipment.parcel.weight")
        shipment = fixture("shipment.json")
        shipment.update(
            id=self._id("shp"),
            is_return=bool(wanted.get("is_return")),
            reference=wanted.get("reference"),
            to_address=self._echo(wanted["to_address"]),
            from_address=self._echo(wanted["from_address"]),
            parcel={"id": self._id("prcl"), "object": "Parcel", **wanted["parcel"]},
        )
        shipment["options"].update(wanted.get("options") or {})
        for rate in shipment["rates"]:
            rate.update(id=self._id("rate"), shipment_id=shipment["id"])
        self.shipments[shipment["id"]] = shipment
        return shipment

    def _shipment(self, path: dict[str, str], _: Any, __: dict[str, str]) -> Json:
        if path["id"] not in self.shipments:
            raise Refused(404, "error_404.json")
        return self.shipments[path["id"]]

    def _buy(self, path: dict[str, str], body: Any, query: dict[str, str]) -> Json:
        shipment = self._shipment(path, body, query)
        rate_id = required(body, "rate").get("id")
        rate = next((r for r in shipment["rates"] if r["id"] == rate_id), None)
        if rate is None:
            raise Refused(422, "error_422_parameter.json", "rate")
        if shipment["postage_label"] is not None:
            raise Refused(422, "error_422_state.json", "id")
        pdf = shipment["options"].get("label_format") == "PDF" and self.pdf_labels
        label = fixture("postage_label_pdf.json" if pdf else "postage_label_png.json")
        label["id"] = self._id("pl")
        label["label_url"] = f"{FILES}/{label['id']}.{'pdf' if pdf else 'png'}"
        label["label_pdf_url"] = label["label_url"] if pdf else None
        code = f"9400100{next(self._ids):015d}"
        tracker = self._tracker(code, "tracker_pre_transit.json", shipment_id=shipment["id"])
        self.trackers[code] = tracker
        shipment.update(
            postage_label=label, selected_rate=rate, tracking_code=code, tracker=tracker
        )
        return shipment

    def _pdf(self, path: dict[str, str], body: Any, query: dict[str, str]) -> Json:
        shipment = self._shipment(path, body, query)
        if shipment["postage_label"] is None or query.get("file_format") is None:
            raise Refused(422, "error_422_parameter.json", "file_format")
        label = shipment["postage_label"]
        if query["file_format"].upper() == "PDF":
            label["label_pdf_url"] = f"{FILES}/{label['id']}.pdf"
        return shipment

    def _refund(self, path: dict[str, str], body: Any, query: dict[str, str]) -> Json:
        shipment = self._shipment(path, body, query)
        if shipment["postage_label"] is None or shipment["refund_status"] in (
            "submitted",
            "refunded",
        ):
            raise Refused(422, "error_422_state.json", "id")
        shipment["refund_status"] = self.refund_answer
        return shipment

    def _create_pickup(self, _: dict[str, str], body: Any, __: dict[str, str]) -> Json:
        wanted = required(body, "pickup")
        require_address(wanted, "address")
        shipment_id = str(required(wanted, "shipment", "pickup.shipment").get("id"))
        if self.shipments.get(shipment_id, {}).get("postage_label") is None:
            raise Refused(422, "error_422_parameter.json", "pickup.shipment")
        window = [pickup_time(wanted, field) for field in ("min_datetime", "max_datetime")]
        if window[0] >= window[1]:
            raise Refused(422, "error_422_parameter.json", "pickup.max_datetime")
        if not isinstance(wanted.get("is_account_address"), bool):
            raise Refused(422, "error_422_parameter.json", "pickup.is_account_address")
        pickup = fixture("pickup.json")
        pickup.update(
            id=self._id("pickup"),
            reference=wanted.get("reference"),
            address=self._echo(wanted["address"]),
            instructions=wanted.get("instructions"),
            is_account_address=wanted["is_account_address"],
            min_datetime=window[0].astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            max_datetime=window[1].astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        )
        for rate in pickup["pickup_rates"]:
            rate.update(id=self._id("pickuprate"), pickup_id=pickup["id"])
        self.pickups[pickup["id"]] = pickup
        return pickup

    def _pickup(self, path: dict[str, str], _: Any, __: dict[str, str]) -> Json:
        if path["id"] not in self.pickups:
            raise Refused(404, "error_404.json")
        return self.pickups[path["id"]]

    def _buy_pickup(self, path: dict[str, str], body: Any, query: dict[str, str]) -> Json:
        pickup = self._pickup(path, body, query)
        if not isinstance(body, dict):
            raise Refused(422, "error_422_parameter.json", "carrier")
        wanted = (body.get("carrier"), body.get("service"))
        if not any((r["carrier"], r["service"]) == wanted for r in pickup["pickup_rates"]):
            raise Refused(422, "error_422_parameter.json", "service")
        if pickup["status"] != "unknown":
            raise Refused(422, "error_422_state.json", "id")
        pickup.update(status="scheduled", confirmation=f"WTC{next(self._ids):08d}")
        return pickup

    def _cancel(self, path: dict[str, str], body: Any, query: dict[str, str]) -> Json:
        pickup = self._pickup(path, body, query)
        if pickup["status"] != "scheduled":
            raise Refused(422, "error_422_state.json", "id")
        pickup["status"] = "canceled"
        return pickup

    def _list_trackers(self, _: dict[str, str], __: Any, query: dict[str, str]) -> Json:
        code = query.get("tracking_code")
        found = [self.trackers[code]] if code in self.trackers else []
        return {"trackers": found, "has_more": False}

    def _create_tracker(self, _: dict[str, str], body: Any, __: dict[str, str]) -> Json:
        code = required(body, "tracker").get("tracking_code")
        if not code:
            raise Refused(422, "error_422_parameter.json", "tracker.tracking_code")
        # EasyPost returns the existing Tracker for a code it already tracks.
        if code not in self.trackers:
            self.trackers[code] = self._tracker(code, "tracker_pre_transit.json")
        return self.trackers[code]

    # Helpers.

    def _tracker(self, code: str, name: str, shipment_id: str | None = None) -> Json:
        known = self.trackers.get(code, {})
        tracker = fixture(name)
        tracker.update(
            id=known.get("id") or self._id("trk"),
            tracking_code=code,
            shipment_id=shipment_id or known.get("shipment_id"),
        )
        return tracker

    def _echo(self, address: Json) -> Json:
        return {"id": self._id("adr"), "object": "Address", **copy.deepcopy(address)}

    def _id(self, prefix: str) -> str:
        return f"{prefix}_{next(self._ids):032x}"

    def _basic_auth(self) -> str:
        # docs.easypost.com/docs/authentication: the API key is the user name, no password.
        return "Basic " + base64.b64encode(f"{self.api_key}:".encode()).decode()

    def _route_name(self, seen: Seen) -> str | None:
        for method, pattern, name, _ in self._routes:
            if method == seen.method and pattern.fullmatch(seen.path):
                return name
        return None


@asynccontextmanager
async def easypost_subject(tmp_path: Path) -> AsyncIterator[ContractSubject]:
    """The EasyPost adapter over the replay, for the carrier contract suite."""
    replay = EasyPostReplay()
    ledger = FileLedger(tmp_path)
    config = EasyPostConfig(api_key=SecretStr(API_KEY), webhook_secret=SecretStr(WEBHOOK_SECRET))
    carrier = EasyPostCarrier(config, ledger, transport=replay.transport)

    async def accept_parcel(tracking_number: str) -> None:
        replay.accept_parcel(tracking_number)

    async def break_credentials() -> None:
        replay.break_credentials()

    async def fail_next(status: int, retry_after: float | None) -> None:
        replay.fail_next(status, retry_after)

    try:
        yield ContractSubject(
            carrier=carrier,
            capabilities=EASYPOST_CAPABILITIES,
            customer=US_CUSTOMER,
            seller=US_SELLER,
            parcel=Parcel(weight_grams=480, description="Smartphone"),
            accept_parcel=accept_parcel,
            signed_webhook=lambda code: replay.signed_webhook(code, WEBHOOK_SECRET),
            break_credentials=break_credentials,
            fail_next=fail_next,
        )
    finally:
        await carrier.aclose()
        ledger.close()
