"""Structured JSON logs for every process, with personal data kept out of them.

structlog renders both its own events and the standard library's records (Temporal's workflow
and activity loggers included) as one JSON object per line. The Temporal loggers attach the
workflow or activity context as `temporal_workflow` / `temporal_activity`.
"""

from __future__ import annotations

import logging
import re
import sys
from collections.abc import Mapping, MutableMapping
from typing import Any, TextIO

import structlog
from temporalio import activity, workflow

REDACTED = "[redacted]"

_EMAIL = re.compile(r"[^@\s\"'<>(),;:]+@[^@\s\"'<>(),;:]+\.[A-Za-z]{2,}")

PERSONAL_KEYS = frozenset(
    {"name", "email", "address", "line1", "line2", "street", "phone", "customer_name"}
)
"""Event keys whose values are personal data whatever they contain."""

NOT_PERSONAL_KEYS = frozenset({"message_id"})
"""Keys whose values look like email addresses but are not (a Message-ID is `id@domain`)."""


def redact_text(text: str) -> str:
    """Mask email addresses in free text."""
    return _EMAIL.sub(REDACTED, text)


def _redact(value: Any) -> Any:
    if isinstance(value, str):
        return redact_text(value)
    if isinstance(value, Mapping):
        return {k: REDACTED if k in PERSONAL_KEYS else _redact(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_redact(v) for v in value]
    return value


def redact_personal_data(
    _logger: Any, _method: str, event_dict: MutableMapping[str, Any]
) -> MutableMapping[str, Any]:
    """structlog processor: drop personal fields, mask emails anywhere in the event."""
    for key in list(event_dict):
        if key in NOT_PERSONAL_KEYS:
            continue
        value = event_dict[key]
        event_dict[key] = REDACTED if key in PERSONAL_KEYS else _redact(value)
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
