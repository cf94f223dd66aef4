"""Structured JSON logs for every process, with personal data kept out of them.

structlog renders both its own events and the standard library's records (Temporal's workflow
and activity loggers included) as one JSON object per line. The Temporal loggers attach the
workflow or activity context as `temporal_workflow` / `temporal_activity`.

`redact_personal_data` runs last before rendering, on every line, whoever logged it:

- **Personal keys**: the value of a key the domain models mark `personal` (`name`, `email`,
  `address`, `line1`, `postal_code`, `city`, `phone`, ...; see `domain.base.personal`), or of a
  log-only key such as `customer_name` or `recipient`, is replaced whole, at any depth of nested
  mappings and lists. A pydantic model logged as a value is redacted as its fields. A
  `message_id` is kept as it is, wherever it is.
- **Free text** (the message, every other string, exception tracebacks): `redact_text` masks
  email addresses (with a display name before `<...>` or on a `To:`-style header line), phone
  numbers (international `+33 6 12 34 56 78`, `0033 ...`, and national `06 12 34 56 78`,
  `06.12.34.56.78`, `030 1234567`, `089/1234567`), and street lines in the product's languages
  (`12 bis, avenue Jean Jaurès`, `Bd Saint-Germain`, `Hauptstraße 5`, `Karl-Marx-Str. 12`,
  `Kerkstraat 14`, `Calle Mayor 3`, `Via Roma 10`, `Rua Augusta 27`, `221B Baker Street`) with the
  postal code and city that follow them (`, 75011 Paris`, `, 1017 GC Amsterdam`, `, London NW1
  6XE`), and the user and password written into a URL (`http://[redacted]@collector:4318`).

Free text is recognised by shape, so it favours keeping operational content intact: timestamps,
durations, IDs, tracking numbers, amounts and addresses of hosts are left alone; so are a postal
code and city on their own, and national numbers without a trunk `0` (Spanish `612 34 56 78`),
which look like counts; `to` is not a personal key (see `LOG_ONLY_PERSONAL_KEYS`).

The patterns are compiled once. Every one starts only where a word or number starts, repeats
words a bounded number of times, and has no repetition whose iterations could split the same
text in two ways, so a line costs time linear in its length (100 kB of pathological input takes
a fraction of a second; an ordinary line some tens of microseconds).
"""

from __future__ import annotations

import logging
import re
import sys
from collections.abc import Mapping, MutableMapping
from typing import Any, TextIO

import structlog
from pydantic import BaseModel
from temporalio import activity, workflow

from domain.addresses import PostalAddress
from domain.base import personal_field_names
from domain.events import Customer

REDACTED = "[redacted]"

LOG_ONLY_PERSONAL_KEYS = frozenset(
    {
        # A person's name or parts of an address under a name the models do not use.
        "customer_name",
        "full_name",
        "first_name",
        "last_name",
        "street",
        "postcode",
        "zip_code",
        "phone_number",
        # Fields of the carrier and return models holding a whole `PostalAddress`: the models
        # mark its parts as personal, the log redacts the whole value.
        "sender",
        "recipient",
        "near",
        "pickup_address",
        "return_address",
    }
)
"""Keys whose values are personal data but that no model marks as such.

`to` is not one: log lines use it for transitions and ranges (`stage ... to ...`); an email
address under it is masked as free text like anywhere else."""

PERSONAL_KEYS = personal_field_names(Customer, PostalAddress) | LOG_ONLY_PERSONAL_KEYS
"""Event keys whose values are personal data whatever they contain."""

NOT_PERSONAL_KEYS = frozenset({"message_id"})
"""Keys whose values look like email addresses but are not (a Message-ID is `id@domain`)."""

# --- Building blocks of the free-text patterns ---------------------------------------------

_UP = r"[A-ZÀ-ÖØ-ÞŒŠŽŸ]"
_CAP = _UP + r"(?:\.|\w*(?:['\u2019-]\w+)*)"
"""A capitalised word: `Jaurès`, `Saint-Germain`, `O'Connell`, `G.`."""
_PARTICLE = (
    r"(?:de|des|du|la|le|les|et|aux|au|sur|sous|di|da|del|dei|della|delle|dello|degli|dal|"
    r"do|dos|das|dels|van|von|der|den|het|ten|ter|am|an|im|auf|und)"
)
_ELIDED = r"(?:dell|dall|nell|sull|all|[dlDL])['\u2019]"
_NAME_WORD = rf"(?:{_PARTICLE}[ \t]+){{0,2}}(?:\d{{1,4}}(?:\.|er|e)?[ \t]+)?(?:{_ELIDED})?{_CAP}"
_NAME = rf"{_NAME_WORD}(?:[ \t]+{_NAME_WORD}){{0,5}}"
"""A street's name: capitalised words, with the particles between them (`de la Loi`)."""
_STOP = (
    r"(?:is|are|was|were|be|not|no|for|on|at|in|to|from|with|by|and|or|but|has|have|had|"
    r"can|cannot|could|does|did|will|would|after|before|because|since|when|while|as|the|a|an|"
    r"of|it|this|that)(?!\w)"
)
_LOWER_WORD = rf"(?!{_STOP})[^\W\d_]\w*(?:['\u2019.-]\w+)*"
_LOWER_NAME = rf"{_LOWER_WORD}(?:[ \t]+{_LOWER_WORD}){{0,3}}"
"""A street's name as customers type it (`des lilas`), up to a word like `is` or `for`."""
_NUMBER = (
    r"\d{1,5}(?:[ \t]?(?:bis|ter|quater)(?!\w)|[A-Za-z](?!\w))?(?:[-/]\d{1,5}[A-Za-z]?(?!\w))?"
)
"""A house number: `12`, `12 bis`, `12bis`, `221B`, `12-14`."""

_STREET_TYPES = (
    r"rue|ruelle|avenue|av|ave|boulevard|bd|bld|blvd|all[ée]e|impasse|quai|faubourg|fbg|chemin|"
    r"chauss[ée]e|rte|sentier|rond-point|lieu-dit|hameau|lotissement|esplanade|"
    r"calle|carrer|avenida|avda|paseo|plaza|pla[çc]a|camino|carretera|ronda|traves[ií]a|"
    r"rua|travessa|pra[çc]a|estrada|cal[çc]ada|"
    r"piazza|piazzale|viale|vicolo|corso|strada|contrada|lungomare"
)
"""Words that begin a street's name in FR, BE, LU, ES, IT and PT, and mean nothing else."""
_WEAK_STREET_TYPES = (
    r"(?i:place|pl|route|cours|passage|square|voie|cit[ée]|villa|promenade|parvis|largo)|Via|VIA"
)
"""Words that begin a street's name but are also ordinary words: only with a house number."""
_TYPE_END = r"(?:\.|(?!\w))"
_STRONG = rf"(?:(?i:{_STREET_TYPES}){_TYPE_END}|[Cc]/)"
_WEAK = rf"(?:{_WEAK_STREET_TYPES}){_TYPE_END}"

_ENGLISH_TYPES = (
    r"(?:Street|St|Road|Rd|Avenue|Ave|Lane|Ln|Drive|Dr|Close|Way|Place|Square|Court|Crescent|"
    r"Terrace|Gardens|Grove|Mews|Row|Boulevard|Blvd|Parade|Hill)"
)
_GERMANIC_SUFFIXES = (
    "straße",
    "strasse",
    "str.",
    "gasse",
    "weg",
    "allee",
    "platz",
    "damm",
    "ufer",
    "steig",
    "chaussee",
    "graben",
    "markt",
    "hof",
    "straat",
    "laan",
    "plein",
    "gracht",
    "kade",
    "singel",
    "dijk",
    "steeg",
    "dreef",
    "baan",
    "kaai",
)
"""How a street's name ends in DE, AT, LU, NL and BE (`Hauptstraße`, `Kerkstraat`)."""
_GERMANIC_WORD = "(?i:" + "|".join(re.escape(s) for s in _GERMANIC_SUFFIXES) + ")"
"""The type on its own after a name: `Berliner Straße`, `Am Markt`."""
_GERMANIC_COMPOUND = (
    rf"(?={_UP})\w+(?:['\u2019-]\w+)*\.?"
    + "(?:"
    + "|".join(rf"(?i:(?<=[\w'\u2019-]{{2}}{re.escape(s)}))" for s in _GERMANIC_SUFFIXES)
    + ")"
)
"""A word ending in one, after two letters at least: `Hauptstraße`, `Karl-Marx-Str.`."""

_NUMBER_AFTER = rf",?[ \t]+{_NUMBER}(?!\w)"
"""A house number after the name (`Calle Mayor, 3`)."""
_LAST_NUMBER = rf"(?:{_NUMBER_AFTER}(?![ \t]+{_UP}))?"
"""A house number after the name, when it is not the postal code of a city that follows."""

_STREET = (
    rf"(?:{_NUMBER},?[ \t]+(?:{_STRONG}[ \t]+(?:{_NAME}{_LAST_NUMBER}|{_LOWER_NAME})"
    rf"|{_WEAK}[ \t]+{_NAME}{_LAST_NUMBER})"
    rf"|{_STRONG}[ \t]+{_NAME}{_LAST_NUMBER}"
    rf"|{_WEAK}[ \t]+{_NAME}{_NUMBER_AFTER}"
    rf"|{_NUMBER}[ \t]+(?:{_CAP}[ \t]+){{0,3}}{_CAP}[ \t]+{_ENGLISH_TYPES}{_TYPE_END}"
    rf"|(?:{_CAP}[ \t]+{_GERMANIC_WORD}|{_GERMANIC_COMPOUND})"
    rf"{_TYPE_END}[ \t]*,?[ \t]*{_NUMBER}(?!\w))"
)
_FLAT = (
    r"(?i:apt|appt|app|appartement|apartment|flat|b[âa]t|b[âa]timent|[ée]tage|escalier|esc|"
    r"piso|puerta|wohnung|whg|stiege|t[üu]r|top|bus|bte|bo[îi]te|interno|int|scala|piano|andar)"
    r"\.?[ \t]*\w{1,5}"
)
"""The flat after a street line: `Apt 4`, `bus 3`, `Stiege 2`."""
_CITY = (
    rf"(?:{_CAP}(?:(?:[ \t]+|-)(?:{_PARTICLE}[ \t]+|{_PARTICLE}-)?{_CAP}){{0,3}}"
    r"|[^\W\d_]\w*(?:['\u2019-]\w+)*(?=[ \t]*(?:[,;:\"')\]>\r\n|]|$)))"
)
_POSTCODE = r"(?:(?:[A-Z]{1,2}-)?\d{4,5}(?:[ \t]?[A-Z]{2}(?!\w))?|\d{4}-\d{3})(?![\w.:/+-])"
"""`75011`, `1040`, `L-1616`, `1017 GC`, `1100-148`."""
_UK_POSTCODE = r"(?:[A-Z]{1,2}\d[A-Z\d]?[ \t]?\d[A-Z]{2}|[A-Z]\d{2}[ \t]?[A-Z\d]{4})(?!\w)"
_SEPARATOR = r"(?:[ \t]*[,\n][ \t]*|[ \t]+)"

_ADDRESS = re.compile(
    rf"(?<![\w.@/-])(?<!\w['\u2019]){_STREET}"
    rf"(?:,?[ \t]+{_FLAT}(?!\w))?"
    rf"(?:{_SEPARATOR}(?:{_POSTCODE}(?:[ \t]+{_CITY})?|{_CAP}[ \t]+{_UK_POSTCODE}))?"
)

_EMAIL_BODY = r"[^@\s\"'<>(),;:\[\]]+@[^@\s\"'<>(),;:\[\]]+\.[A-Za-z]{2,}"
_EMAIL = re.compile(rf"(?<![^\s\"'<>(),;:\[\]]){_EMAIL_BODY}")
_NAMED_EMAIL = re.compile(
    rf"(?:(?<![\w\"])\"[^\"\r\n]{{1,100}}\"|(?<![\w'\u2019.-])(?:{_CAP}[ \t]+){{0,3}}{_CAP})"
    r"[ \t]*<[^<>@\s]{1,200}@[^<>\s]{1,200}>"
)
"""`Camille Durand <camille@example.org>`: the display name goes with the address."""
_ADDRESS_HEADER = re.compile(
    r"(?im)^([ \t]*(?:to|cc|bcc|from|reply-to|sender|delivered-to|return-path)[ \t]*:[ \t]*)"
    r"[^\r\n@]*@[^\r\n]*"
)
"""A quoted email header with an address: everything after `To:`, names included."""

_PHONE_START = r"(?<![\w+.,/-])(?<!\d:)"
_PHONE_END = r"(?![\w]|[ ./:,-]\d)"
_PHONE = re.compile(
    rf"{_PHONE_START}(?:"
    rf"\+[1-9]\d{{0,2}}(?:[ \t]?\(0\))?(?:[ .-]?\d){{6,13}}"
    rf"|00[1-9]\d{{0,2}}[ .-]\d(?:[ .-]?\d){{5,12}}"
    r"|0[1-9]\d{8}"
    r"|0[1-9](?:\.\d{2}){4}"
    r"|0[1-9]\d{0,4}([ /-])\d{1,8}(?:\1\d{1,8}){0,4}"
    rf"){_PHONE_END}"
)
"""International numbers (`+33 6 12 34 56 78`, `+44 (0)20 7946 0958`, `0049 30 1234567`) and
national ones with their trunk `0`: ten digits (`0612345678`), dotted pairs (`06.12.34.56.78`),
or groups with one kind of separator (`06 12 34 56 78`, `030 1234567`, `089/1234567`)."""
_NATIONAL_DIGITS = range(9, 13)
"""How many digits a national number has with its `0` (fewer is a date like `01-12-2026`)."""


def _phone(match: re.Match[str]) -> str:
    number = match.group()
    if number.startswith(("+", "00")):
        return REDACTED
    digits = sum(c.isdigit() for c in number)
    return REDACTED if digits in _NATIONAL_DIGITS else number


_VALIDATION_INPUT = re.compile(r"input_value=[^\r\n]*?(?=, input_type=|\]|$)", re.MULTILINE)
"""The input pydantic quotes in a validation error (`[type=..., input_value={...},
input_type=dict]`): whatever was being validated, names included."""


_LINK_TOKEN = re.compile(r"(/my/(?:returns|withdraw)/)[^/\s?#\"']+")
"""The token of a customer's link in a path (an access log line): it opens the customer's
page, so it is a credential."""


_URL_CREDENTIALS = re.compile(
    r"(?<![\w+.-])([A-Za-z][\w+.-]{0,30}://)"
    r"[^/\s?#@\"'<>\\,;]*(?:@[^/\s?#@\"'<>\\,;]*)*@"
)
"""The user and password written into a URL (`http://user:secret@collector:4318`, an OTLP
endpoint or a JWKS address set that way): the host and path stay, to say where it went."""


def redact_text(text: str) -> str:
    """Mask email addresses, phone numbers and street lines in free text, the tokens of the
    customer's links, the credentials written into a URL, and the input a pydantic validation
    error quotes."""
    text = _VALIDATION_INPUT.sub("input_value=" + REDACTED, text)
    text = _URL_CREDENTIALS.sub(lambda m: m.group(1) + REDACTED + "@", text)
    text = _LINK_TOKEN.sub(lambda m: m.group(1) + REDACTED, text)
    text = _ADDRESS_HEADER.sub(lambda m: m.group(1) + REDACTED, text)
    text = _NAMED_EMAIL.sub(REDACTED, text)
    text = _EMAIL.sub(REDACTED, text)
    text = _ADDRESS.sub(REDACTED, text)
    return _PHONE.sub(_phone, text)


def _redact(value: Any) -> Any:
    if isinstance(value, str):
        return redact_text(value)
    if isinstance(value, BaseModel):
        return _redact(value.model_dump(mode="json"))
    if isinstance(value, Mapping):
        return {k: _redact_item(k, v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [_redact(v) for v in value]
    if value is None or isinstance(value, bool | int | float):
        return value
    # Anything else (an exception, a dataclass, bytes, a path...) is rendered as its text
    # anyway: redact that text now, not after.
    return redact_text(value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value))


def _redact_item(key: Any, value: Any) -> Any:
    if key in NOT_PERSONAL_KEYS:
        return value
    if key in PERSONAL_KEYS:
        return REDACTED
    return _redact(value)


def redact_personal_data(
    _logger: Any, _method: str, event_dict: MutableMapping[str, Any]
) -> MutableMapping[str, Any]:
    """structlog processor: drop personal fields, mask personal data in every other value."""
    for key in list(event_dict):
        event_dict[key] = _redact_item(key, event_dict[key])
    return event_dict


def configure(service: str, level: str = "INFO", stream: TextIO | None = None) -> None:
    """Send every log record of this process to `stream` (stderr) as JSON lines."""
    shared: list[Any] = [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.stdlib.ExtraAdder(),
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        structlog.processors.format_exc_info,
    ]
    structlog.configure(
        processors=[
            structlog.stdlib.filter_by_level,
            *shared,
            structlog.stdlib.ProcessorFormatter.wrap_for_formatter,
        ],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=True,
    )
    formatter = structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=shared,
        processors=[
            structlog.stdlib.ProcessorFormatter.remove_processors_meta,
            _add_service(service),
            redact_personal_data,
            structlog.processors.JSONRenderer(default=str),
        ],
    )
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(formatter)
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    # The context goes in structured fields, not appended to the message text.
    workflow.logger.workflow_info_on_message = False
    activity.logger.activity_info_on_message = False
    for noisy in ("httpx", "httpcore", "mail.log"):
        logging.getLogger(noisy).setLevel(max(logging.WARNING, root.level))


def _add_service(service: str) -> Any:
    def add(_logger: Any, _method: str, event_dict: MutableMapping[str, Any]) -> Any:
        event_dict.setdefault("service", service)
        return event_dict

    return add
