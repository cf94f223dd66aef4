"""What travels to and from Colissimo's label web service (SLS): addresses, answers, messages.

SLS answers `generateLabel` with a MIME multipart body (Apache CXF's MTOM style, boundary
`uuid:...`): a JSON part `Content-ID: <jsonInfos>` and binary parts (`<label>`, `<cn23>`), the
PDF bytes as they are (`Content-Transfer-Encoding: binary`). Other methods answer plain JSON.
Either way the JSON carries `messages[]` with `id`, `type` and `messageContent`; `id` "0" with
type "INFOS" is success, type "ERROR" a failure - sometimes with HTTP 400 or 500, sometimes
inside an HTTP 200 (both seen in the official Colissimo WooCommerce module's parser).
"""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.parser import BytesHeaderParser
from email.policy import HTTP
from typing import Any, NoReturn

import httpx

from activities.carriers.protocol import CarrierAuthFailed, CarrierRejected
from domain.addresses import PostalAddress

AUTH_MESSAGE_IDS = frozenset({"30000"})
"""SLS message ids that mean "bad login or password". 30000 "Identifiant ou mot de passe
incorrect" is the documented one (Colissimo's sample answer, as reproduced by karrio's
Colissimo connector tests). Not in the published documentation: a complete list of the
credential errors; an HTTP 401 or 403 is treated as one too (the Swagger documents 403 as
"Token KO or Unauthorized access")."""

FIELD_OF_MESSAGE_ID = {
    # "La date de dépôt est antérieure à la date courante" (observed SLS answer).
    "30002": "letter.service.depositDate",
    # The SLS Swagger, field reseauPostal: "code erreur 30027 ... réseau postal ... choisi".
    "30027": "letter.service.reseauPostal",
    # The SLS Swagger, field hsCode: "Un code erreur 30519 apparaîtra ... mal renseignée".
    "30519": "letter.customsDeclarations.contents.article.hsCode",
}
"""The request field a documented message id blames, when its text does not name it."""

_PATH = re.compile(
    r"\b(?:(?:letter|outputFormat|sender)(?:\.\w+)+|parcelNumber|mailBoxPickingDate)\b"
)
"""A Colissimo request path quoted in a message, e.g. "le champ letter.service.depositDate
ne peut pas être nul" (message 50005, observed)."""

_ADDRESS_FIELDS = {
    "companyName": "company",
    "lastName": "name",
    "firstName": "name",
    "line0": "line2",
    "line1": "line2",
    "line2": "line1",
    "line3": "line1",  # the rest of our street line (see `address`)
    "zipCode": "postal_code",
    "city": "city",
    "countryCode": "country_code",
    "phoneNumber": "phone",
    "mobileNumber": "phone",
}
"""Colissimo's address fields -> ours (see `address`): so an error names the field we sent."""

_BLOCKS = {
    "letter.sender.address": "sender",
    "letter.addressee.address": "recipient",
    "sender": "address",
    "letter.parcel.weight": "parcel.weight_grams",
    "parcelNumber": "tracking_number",
    "mailBoxPickingDate": "pickup_date",
}


@dataclass(frozen=True)
class Message:
    """One entry of an SLS `messages[]`."""

    id: str
    type: str
    content: str

    @property
    def is_error(self) -> bool:
        return self.type.upper() == "ERROR"


@dataclass
class SlsAnswer:
    """An SLS answer: its JSON and, for `generateLabel`, its binary parts by Content-ID."""

    data: dict[str, Any]
    attachments: dict[str, bytes] = field(default_factory=dict)

    @property
    def messages(self) -> list[Message]:
        return [
            Message(str(m.get("id", "")), str(m.get("type", "")), str(m.get("messageContent", "")))
            for m in self.data.get("messages") or []
            if isinstance(m, dict)
        ]

    @property
    def errors(self) -> list[Message]:
        return [m for m in self.messages if m.is_error]


class UnreadableAnswer(ValueError):
    """Not an SLS answer at all (an HTML error page, a cut body)."""


def read_answer(response: httpx.Response) -> SlsAnswer:
    """The JSON and attachments of an SLS answer, multipart or plain JSON."""
    content_type = response.headers.get("content-type", "")
    body = response.content
    boundary = _boundary(content_type, body)
    if boundary is None:
        return SlsAnswer(_json_object(body))
    parts = split_multipart(body, boundary)
    data: dict[str, Any] | None = None
    attachments: dict[str, bytes] = {}
    for content_id, part_type, content in parts:
        if data is None and (content_id == "jsonInfos" or "json" in part_type):
            data = _json_object(content)
        else:
            attachments[content_id] = content
    if data is None:
        raise UnreadableAnswer("multipart answer without its jsonInfos part")
    return SlsAnswer(data, attachments)


def split_multipart(body: bytes, boundary: str) -> list[tuple[str, str, bytes]]:
    """(Content-ID without <>, Content-Type, decoded content) of each part, in order.

    RFC 2046: a delimiter is CRLF "--" boundary at the start of a line; the CRLF before it
    belongs to the delimiter, not to the part, so binary content comes back byte for byte.
    A bare LF is accepted too, for proxies that rewrite line ends.
    """
    for newline in (b"\r\n", b"\n"):
        chunks = (newline + body).split(newline + b"--" + boundary.encode("ascii"))
        if len(chunks) > 2:  # an opening delimiter and at least the closing one
            break
    else:
        raise UnreadableAnswer("multipart answer without its boundary")
    parts = []
    for chunk in chunks[1:]:
        if chunk.startswith(b"--"):
            break  # the close delimiter
        _, _, rest = chunk.partition(newline)  # transport padding after the delimiter
        head, separator, content = rest.partition(newline + newline)
        if not separator:
            raise UnreadableAnswer("multipart part without headers")
        headers = BytesHeaderParser(policy=HTTP).parsebytes(head + newline + newline)
        content_id = str(headers.get("content-id", "")).strip().strip("<>")
        encoding = str(headers.get("content-transfer-encoding", "binary")).strip().lower()
        if encoding == "base64":
            content = base64.b64decode(content)
        kind = headers.get_content_type() if "content-type" in headers else ""
        parts.append((content_id, kind, content))
    return parts


def _boundary(content_type: str, body: bytes) -> str | None:
    if content_type.lower().startswith("multipart/"):
        header = EmailMessage()
        header["content-type"] = content_type
        boundary = header.get_boundary()
        if boundary:
            return boundary
    if body.startswith(b"--"):
        # A multipart body announced with another Content-Type: its first line says the
        # boundary (the official modules parse it this way).
        first_line = body.split(b"\n", 1)[0].rstrip(b"\r")
        return first_line[2:].decode("ascii", errors="replace") or None
    return None


def _json_object(raw: bytes) -> dict[str, Any]:
    try:
        data = json.loads(raw)
    except ValueError as err:
        raise UnreadableAnswer(f"not JSON: {type(err).__name__}") from None
    if not isinstance(data, dict):
        raise UnreadableAnswer("JSON answer is not an object")
    return data


def blamed_field(message: Message) -> str | None:
    """The request field a message blames (in our names where we know them), or None."""
    found = _PATH.search(message.content)
    path = found.group(0).rstrip(".") if found else FIELD_OF_MESSAGE_ID.get(message.id)
    return our_field(path) if path else None


def our_field(path: str) -> str:
    """`letter.sender.address.zipCode` -> `sender.postal_code`; unknown paths stay as they are."""
    for prefix, ours in _BLOCKS.items():
        if path == prefix:
            return ours
        if path.startswith(prefix + "."):
            rest = path[len(prefix) + 1 :]
            return f"{ours}.{_ADDRESS_FIELDS.get(rest, rest)}"
    return path


def describe(errors: list[Message]) -> str:
    """The carrier's words, id first: "30002: La date de dépôt ...; ..."."""
    return "; ".join(f"{m.id}: {m.content}" for m in errors)[:500] or "error without a message"


def read_error(carrier: str, response: httpx.Response) -> tuple[str, str | None]:
    """The `ErrorReader` for SLS (HTTP 4xx/5xx): the carrier's message and the field it blames.

    A refused login comes as message 30000 in a 400 body; that is a configuration problem, not
    bad data, so it is raised here as `CarrierAuthFailed` rather than returned.
    """
    try:
        answer = read_answer(response)
    except UnreadableAnswer:
        return response.text[:200] or response.reason_phrase, None
    errors = answer.errors
    if response.status_code < 500 and any(m.id in AUTH_MESSAGE_IDS for m in errors):
        raise CarrierAuthFailed(carrier, describe(errors), status=response.status_code)
    return describe(errors), next((f for f in map(blamed_field, errors) if f), None)


def raise_for_messages(carrier: str, status: int, errors: list[Message]) -> NoReturn:
    """Raise the carrier error for an error answered inside an HTTP 2xx."""
    text = describe(errors)
    if any(m.id in AUTH_MESSAGE_IDS for m in errors):
        raise CarrierAuthFailed(carrier, f"credentials refused: {text}", status=status)
    blamed = next((f for f in map(blamed_field, errors) if f), None)
    # Not in the published documentation: which message ids are technical (retryable)
    # failures; the Swagger answers those with HTTP 500, so an error in a 200 is bad data.
    raise CarrierRejected(carrier, text, field=blamed, status=status)


def address(where: PostalAddress, *, company_required: bool = False) -> dict[str, Any]:
    """A Colissimo `address` block.

    Colissimo's lines: line2 "number and street" (mandatory), line1 "entrance, building",
    line0 "floor, apartment", line3 "place called". Ours: line1 street, line2 building/floor:
    so line1 -> line2 and line2 -> line1. The full name goes to `lastName` (the SLS needs it
    unless the postcode is a Cedex); `companyName` is mandatory for the addressee of a
    return (CORE/CORI), where the person's name stands in when there is no company.
    """
    street, street_rest = _split(where.line1)
    # A street cut short could send the parcel astray: refused, naming the field, where a
    # name, company, building or city is shortened (the postal code routes the parcel).
    if len(where.line1) > 2 * SLS_TEXT:
        raise TooLongForColissimo("line1", 2 * SLS_TEXT)
    block: dict[str, Any] = {
        "lastName": where.name[:SLS_TEXT],
        "line2": street,
        "zipCode": where.postal_code,
        "city": where.city[:SLS_TEXT],
        "countryCode": where.country_code,
    }
    if street_rest:
        block["line3"] = street_rest
    if where.company or company_required:
        block["companyName"] = (where.company or where.name)[:SLS_TEXT]
    if where.line2:
        block["line1"] = where.line2[:SLS_TEXT]
    if where.phone:
        number = re.sub(r"[^0-9+]", "", where.phone)
        # The Swagger: `phoneNumber` 10 to 12 characters, `mobileNumber` at most 15 (a
        # number from abroad, +49 151 12345678, is 14); an optional field is better left out
        # than refused.
        if 10 <= len(number) <= 12:
            block["phoneNumber"] = number
        elif len(number) <= 15:
            block["mobileNumber"] = number
    return block


SLS_TEXT = 35
"""The SLS's longest name, company, street line and city (the Swagger's `Address`: AN1…35)."""


class TooLongForColissimo(ValueError):
    """An address field longer than the SLS takes (`field`: ours, in `PostalAddress`)."""

    def __init__(self, field: str, limit: int) -> None:
        super().__init__(f"{field}: longer than Colissimo's {limit} characters")
        self.field = field


@contextmanager
def address_fits(carrier: str, block: str) -> Iterator[None]:
    """An address the SLS cannot take whole, refused naming our field (`block.field`)."""
    try:
        yield
    except TooLongForColissimo as err:
        raise CarrierRejected(carrier, str(err), field=f"{block}.{err.field}") from None


def _split(line: str) -> tuple[str, str]:
    """A street line of at most 70 characters in the SLS's two lines of 35: cut at a space
    where what follows fits the second, else at the 35th character."""
    if len(line) <= SLS_TEXT:
        return line, ""
    cut = line.rfind(" ", 0, SLS_TEXT + 1)
    if cut <= 0 or len(line[cut:].strip()) > SLS_TEXT:
        cut = SLS_TEXT
    return line[:cut].rstrip(), line[cut:].strip()
