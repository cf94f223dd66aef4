"""Colissimo's web services, replayed from their documented requests and answers.

Colissimo (SLS labels and mailbox pickups, Point Retrait) and La Poste's Suivi v2 cannot be
reached from here. `ColissimoReplay` is an `httpx.MockTransport` that checks each request the
adapter sends against the documented shape (`fixtures/colissimo/requests.json`: method, URL,
required fields, credentials), records it, and answers the documented payloads of
`fixtures/colissimo/` (see SOURCES.md there): the multipart label answer with a real PDF,
documented errors on command, 5xx and 429 with Retry-After, refused credentials, and a tracking
answer that moves from "announced" (DR1) to "accepted" (PC1) when told to.
"""

from __future__ import annotations

import datetime as dt
import io
import json
import re
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx
from pydantic import SecretStr
from reportlab.lib.pagesizes import A4
from reportlab.pdfgen import canvas

from activities.carriers.colissimo import ColissimoCarrier, ColissimoConfig
from domain.carriers import CarrierCapability, Parcel
from tests.activities.carriers.ledgers import FileLedger
from tests.activities.carriers.subject import ContractSubject
from tests.factories import HOME, SELLER_ADDRESS

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "colissimo"
PARIS = ZoneInfo("Europe/Paris")

CONTRACT_NUMBER = "812345"
PASSWORD = "ws-password-1"
OKAPI_KEY = "okapi-key-1"

PREFIX_OF_PRODUCT = {"CORE": "8R", "CORI": "7R", "CORF": "CQ"}
"""Parcel numbers start with the product's two-character code (8R Colissimo Retour France)."""

POST_OFFICE_TYPES = frozenset({"BPR", "BDP", "ACP", "CDI"})

COLISSIMO_CAPABILITIES = frozenset(
    {
        CarrierCapability.ONLINE_RETURN_LABEL,
        CarrierCapability.DROP_OFF,
        CarrierCapability.COUNTER_LABEL,
        CarrierCapability.MAILBOX_PICKUP,
        CarrierCapability.POST_OFFICE_LOCATOR,
        CarrierCapability.TRACKING_POLLING,
    }
)


def fixture(name: str) -> Any:
    return json.loads((FIXTURES / name).read_text("utf-8"))


def replay_config(**overrides: Any) -> ColissimoConfig:
    """The adapter's configuration against the replay (the real URLs: nothing leaves)."""
    values: dict[str, Any] = {
        "contract_number": CONTRACT_NUMBER,
        "password": SecretStr(PASSWORD),
        "okapi_key": SecretStr(OKAPI_KEY),
    }
    return ColissimoConfig(**(values | overrides))


def label_pdf(parcel_number: str) -> bytes:
    """A real one-page PDF, as the SLS returns in the `<label>` part."""
    buffer = io.BytesIO()
    page = canvas.Canvas(buffer, pagesize=A4, invariant=1)
    page.setFont("Helvetica-Bold", 16)
    page.drawString(60, 780, "Colissimo Retour")
    page.setFont("Helvetica", 12)
    page.drawString(60, 755, parcel_number)
    page.showPage()
    page.save()
    return buffer.getvalue()


def multipart(json_part: dict[str, Any], label: bytes | None) -> tuple[bytes, str]:
    """An SLS answer as CXF sends it: `<jsonInfos>` then, on success, the binary `<label>`."""
    boundary = f"uuid:{uuid.uuid4()}"
    crlf = b"\r\n"
    body = b"--" + boundary.encode() + crlf
    body += b"Content-Type: application/json;charset=UTF-8" + crlf
    body += b"Content-Transfer-Encoding: binary" + crlf + b"Content-ID: <jsonInfos>" + crlf + crlf
    body += json.dumps(json_part, ensure_ascii=False).encode() + crlf
    if label is not None:
        body += b"--" + boundary.encode() + crlf + b"Content-Type: application/octet-stream" + crlf
        body += b"Content-Transfer-Encoding: binary" + crlf + b"Content-ID: <label>" + crlf + crlf
        body += label + crlf
    body += b"--" + boundary.encode() + b"--" + crlf
    content_type = f'multipart/mixed; boundary="{boundary}"; type="application/json"'
    return body, content_type


class ReplayMismatch(AssertionError):
    """The adapter sent something the documentation does not describe."""


class ColissimoReplay:
    """The SLS, Point Retrait and Suivi v2, answering from the documented payloads."""

    def __init__(self, config: ColissimoConfig) -> None:
        self.config = config
        self.requests: list[httpx.Request] = []
        self.transport = httpx.MockTransport(self._answer)
        self.pickups: list[dict[str, Any]] = []
        self._shapes: dict[str, dict[str, Any]] = fixture("requests.json")
        self._queued: list[httpx.Response] = []
        self._credentials_refused = False
        self._announced: dict[str, dt.datetime] = {}
        self._accepted: dict[str, dt.datetime] = {}
        self._serial = 0

    # --- What tests tell the replay ------------------------------------------------------

    def calls(self, operation: str) -> list[httpx.Request]:
        """The requests made of one operation (`generateLabel`, `idships`, ...)."""
        return [r for r in self.requests if self._operation(r) == operation]

    def queue(self, response: httpx.Response) -> None:
        """The next request gets this answer (after its shape was checked)."""
        self._queued.append(response)

    def fail_next(self, status: int, retry_after: float | None = None) -> None:
        headers = {"Retry-After": f"{retry_after:g}"} if retry_after is not None else {}
        text = "Too Many Requests" if status == 429 else "Service Unavailable"
        self._queued.append(httpx.Response(status, headers=headers, text=text))

    def answer_next(self, name: str, status: int = 200, *, as_multipart: bool = False) -> None:
        """The next request gets this documented payload (an error, typically)."""
        if as_multipart:
            body, content_type = multipart(fixture(name), None)
            self._queued.append(
                httpx.Response(status, content=body, headers={"content-type": content_type})
            )
        else:
            self._queued.append(httpx.Response(status, json=fixture(name)))

    def refuse_credentials(self) -> None:
        self._credentials_refused = True

    def accept(self, tracking_number: str) -> None:
        """The parcel is handed over: tracking answers the documented PC1 event from now."""
        self._accepted[tracking_number] = dt.datetime.now(PARIS).replace(microsecond=0)

    # --- The services ----------------------------------------------------------------------

    def _answer(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        operation = self._operation(request)
        self._check_shape(operation, request)
        if self._queued:
            return self._queued.pop(0)
        if operation == "idships":
            return self._track(request)
        body = json.loads(request.content)
        if operation == "findRDVPointRetraitAcheminement":
            return self._locate(body)
        if not self._sls_credentials_ok(request, body):
            answer, content_type = multipart(fixture("generate_label_bad_credentials.json"), None)
            return httpx.Response(400, content=answer, headers={"content-type": content_type})
        if operation == "generateLabel":
            return self._generate_label(body)
        if operation == "getListMailBoxPickingDates":
            return httpx.Response(200, json=self._picking_dates())
        if operation == "planPickup":
            return self._plan_pickup(body)
        raise ReplayMismatch(f"no such Colissimo operation: {request.url}")

    def _operation(self, request: httpx.Request) -> str:
        url = str(request.url)
        for base in (self.config.sls_url, self.config.pointretrait_url):
            if url.startswith(base + "/"):
                return request.url.path.rsplit("/", 1)[-1]
        if url.startswith(self.config.tracking_url + "/idships/"):
            return "idships"
        raise ReplayMismatch(f"not a Colissimo URL: {request.url}")

    def _check_shape(self, operation: str, request: httpx.Request) -> None:
        shape = self._shapes.get(operation)
        if shape is None:
            raise ReplayMismatch(f"undocumented operation {operation}")
        if request.method != shape["method"]:
            raise ReplayMismatch(f"{operation} is {shape['method']}, not {request.method}")
        for name, value in shape.get("query", {}).items():
            if request.url.params.get(name) != value:
                raise ReplayMismatch(f"{operation} needs ?{name}={value}")
        for header in shape.get("headers", []):
            if header not in request.headers:
                raise ReplayMismatch(f"{operation} needs the header {header}")
        if shape["method"] == "POST":
            body = json.loads(request.content)
            missing = [path for path in shape["required"] if _at(body, path) in (None, "")]
            if missing:
                raise ReplayMismatch(f"{operation} lacks {', '.join(missing)}")

    def _sls_credentials_ok(self, request: httpx.Request, body: dict[str, Any]) -> bool:
        if self._credentials_refused:
            return False
        if self.config.api_key is not None:
            sent_key: str | None = request.headers.get("apiKey")
            return sent_key == self.config.api_key.get_secret_value()
        return (body.get("contractNumber"), body.get("password")) == (CONTRACT_NUMBER, PASSWORD)

    def _generate_label(self, body: dict[str, Any]) -> httpx.Response:
        service, parcel = body["letter"]["service"], body["letter"]["parcel"]
        product = service["productCode"]
        if product not in PREFIX_OF_PRODUCT:
            raise ReplayMismatch(f"{product} is not a Colissimo return product")
        weight = parcel["weight"]
        if not (0.01 <= weight <= 30 and round(weight, 2) == weight):
            raise ReplayMismatch(f"weight {weight} kg: 0.01 to 30, two decimals at most")
        if dt.date.fromisoformat(service["depositDate"]) < dt.datetime.now(PARIS).date():
            answer, content_type = multipart(fixture("generate_label_deposit_date_past.json"), None)
            return httpx.Response(400, content=answer, headers={"content-type": content_type})
        self._serial += 1
        number = f"{PREFIX_OF_PRODUCT[product]}{self._serial:011d}"
        self._announced[number] = dt.datetime.now(PARIS).replace(microsecond=0)
        answer = fixture("generate_label_response.json")
        answer["labelV2Response"]["parcelNumber"] = number
        content, content_type = multipart(answer, label_pdf(number))
        return httpx.Response(200, content=content, headers={"content-type": content_type})

    def _picking_dates(self) -> dict[str, Any]:
        answer = fixture("mailbox_picking_dates.json")
        day, days = dt.datetime.now(PARIS).date(), list[dt.date]()
        while len(days) < 3:
            day += dt.timedelta(days=1)
            if day.isoweekday() != 7:  # no collection on Sundays
                days.append(day)
        midnight = [dt.datetime.combine(d, dt.time(), PARIS) for d in days]
        answer["mailBoxPickingDates"] = [int(m.timestamp() * 1000) for m in midnight]
        return dict(answer)

    def _plan_pickup(self, body: dict[str, Any]) -> httpx.Response:
        if body["parcelNumber"] not in self._announced:
            raise ReplayMismatch("planPickup of a parcel never announced by generateLabel")
        offered = [
            dt.datetime.fromtimestamp(ms / 1000, PARIS).date().isoformat()
            for ms in self._picking_dates()["mailBoxPickingDates"]
        ]
        if body["mailBoxPickingDate"] not in offered:
            raise ReplayMismatch(f"planPickup on {body['mailBoxPickingDate']}, not offered")
        self.pickups.append(body)
        return httpx.Response(200, json=fixture("plan_pickup_response.json"))

    def _locate(self, body: dict[str, Any]) -> httpx.Response:
        if self._credentials_refused or not self._locator_credentials_ok(body):
            return httpx.Response(200, json=fixture("point_retrait_bad_credentials.json"))
        if not re.fullmatch(r"\d{2}/\d{2}/\d{4}", body["shippingDate"]):
            raise ReplayMismatch(f"shippingDate {body['shippingDate']!r} is not dd/mm/yyyy")
        if body["filterRelay"] not in ("0", "1"):
            raise ReplayMismatch(f"filterRelay {body['filterRelay']!r}")
        answer = fixture("point_retrait_response.json")
        if body["filterRelay"] == "0":
            points = answer["listePointRetraitAcheminement"]
            kept = [p for p in points if p["typeDePoint"] in POST_OFFICE_TYPES]
            answer["listePointRetraitAcheminement"] = kept
        return httpx.Response(200, json=answer)

    def _locator_credentials_ok(self, body: dict[str, Any]) -> bool:
        if self.config.api_key is not None:
            return body.get("apiKey") == self.config.api_key.get_secret_value()
        return (body.get("accountNumber"), body.get("password")) == (CONTRACT_NUMBER, PASSWORD)

    def _track(self, request: httpx.Request) -> httpx.Response:
        key = request.headers.get("X-Okapi-Key")
        if self._credentials_refused or key != self.config.okapi_key.get_secret_value():
            return httpx.Response(401, json=fixture("tracking_bad_key.json"))
        number = request.url.path.rsplit("/", 1)[-1]
        if number not in self._announced:
            answer = fixture("tracking_invalid_number.json")
            answer["idShip"] = number
            return httpx.Response(400, json=answer)
        accepted = self._accepted.get(number)
        answer = fixture("tracking_accepted.json" if accepted else "tracking_pre_transit.json")
        shipment = answer["shipment"]
        shipment["idShip"] = number
        shipment["url"] = shipment["url"].rsplit("=", 1)[0] + "=" + number
        for event in shipment["event"]:
            moment = accepted if event["code"] == "PC1" else self._announced[number]
            event["date"] = moment.isoformat() if moment else event["date"]
        return httpx.Response(200, json=answer)


def _at(body: Any, path: str) -> Any:
    for key in path.split("."):
        if not isinstance(body, dict):
            return None
        body = body.get(key)
    return body


@asynccontextmanager
async def colissimo_subject(tmp_path: Path) -> AsyncIterator[ContractSubject]:
    """Colissimo for the carrier contract suite: a customer in Lyon, a seller near Bordeaux."""
    config = replay_config()
    replay = ColissimoReplay(config)
    ledger = FileLedger(tmp_path)
    carrier = ColissimoCarrier(config, ledger, transport=replay.transport)

    async def accept_parcel(tracking_number: str) -> None:
        replay.accept(tracking_number)

    async def break_credentials() -> None:
        replay.refuse_credentials()

    async def fail_next(status: int, retry_after: float | None) -> None:
        replay.fail_next(status, retry_after)

    try:
        yield ContractSubject(
            carrier=carrier,
            capabilities=COLISSIMO_CAPABILITIES,
            customer=HOME,
            seller=SELLER_ADDRESS,
            parcel=Parcel(weight_grams=450, description="Smartphone"),
            accept_parcel=accept_parcel,
            signed_webhook=None,
            break_credentials=break_credentials,
            fail_next=fail_next,
        )
    finally:
        await carrier.aclose()
        ledger.close()
