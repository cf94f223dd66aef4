"""Logs are JSON lines with the Temporal context, and carry no personal data."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator

import pytest
import structlog

from returnflow import logs


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
