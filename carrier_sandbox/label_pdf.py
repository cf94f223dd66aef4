"""The return label as a PDF: A6, what a sorting centre and a post office counter need to read."""

from __future__ import annotations

import datetime as dt
import io
import threading
from collections.abc import Sequence
from dataclasses import dataclass

from reportlab.graphics.barcode.code128 import Code128
from reportlab.lib.pagesizes import A6
from reportlab.lib.utils import simpleSplit
from reportlab.pdfgen.canvas import Canvas

from carrier_sandbox.fonts import BOLD, REGULAR, printable
from carrier_sandbox.rules import CARRIER_ZONE
from domain.addresses import PostalAddress
from domain.carriers import Parcel

WIDTH, HEIGHT = A6
MARGIN = 14.0
INNER = WIDTH - 2 * MARGIN

_PRINTING = threading.Lock()
"""One label printed at a time: reportlab reads the typeface's file through one shared read
position when it embeds the letters a label uses, so two labels printed at once (the API prints
them in threads) can read each other's letters and fail."""


@dataclass(frozen=True)
class LabelSheet:
    """Everything printed on one label."""

    carrier_name: str
    label_id: str
    tracking_number: str
    reference: str
    created_at: dt.datetime
    sender: PostalAddress
    recipient: PostalAddress
    parcel: Parcel


def render_label(sheet: LabelSheet) -> bytes:
    """The label's PDF; the same sheet always gives the same bytes (no creation timestamp).
    Safe to call from several threads at once."""
    with _PRINTING:
        return _render(sheet)


def _render(sheet: LabelSheet) -> bytes:
    buffer = io.BytesIO()
    pdf = Canvas(buffer, pagesize=A6, invariant=True, pageCompression=1)
    pdf.setTitle(f"{sheet.carrier_name} return label {sheet.tracking_number}")
    pdf.setAuthor(sheet.carrier_name)
    y = _header(pdf, sheet)
    y = _address_block(pdf, "FROM (sender)", sheet.sender.lines(), y, 88, 9.0)
    y = _address_block(pdf, "TO (recipient)", sheet.recipient.lines(), y, 120, 11.0)
    y = _barcode(pdf, sheet.tracking_number, y)
    _footer(pdf, sheet, y)
    pdf.showPage()
    pdf.save()
    return buffer.getvalue()


def _header(pdf: Canvas, sheet: LabelSheet) -> float:
    top = HEIGHT - MARGIN
    pdf.setFont(BOLD, 14)
    pdf.drawString(MARGIN, top - 14, printable(sheet.carrier_name))
    # White on black, so the counter sees at a glance that this parcel goes back.
    pdf.rect(WIDTH - MARGIN - 84, top - 20, 84, 22, stroke=0, fill=1)
    pdf.setFillGray(1)
    pdf.setFont(BOLD, 16)
    pdf.drawCentredString(WIDTH - MARGIN - 42, top - 14, "RETURN")
    pdf.setFillGray(0)
    pdf.setFont(REGULAR, 7.5)
    pdf.drawString(MARGIN, top - 30, "Prepaid return parcel")
    date = sheet.created_at.astimezone(CARRIER_ZONE).date().isoformat()
    pdf.drawRightString(WIDTH - MARGIN, top - 30, f"Date: {date}")
    return _rule(pdf, top - 36)


def _address_block(
    pdf: Canvas, title: str, lines: Sequence[str], top: float, height: float, size: float
) -> float:
    pdf.setFont(BOLD, 7)
    pdf.drawString(MARGIN, top - 10, title)
    _fitted_text(pdf, lines, top - 14, height - 14, size)
    return _rule(pdf, top - height)


def _barcode(pdf: Canvas, number: str, top: float) -> float:
    probe = Code128(number, barWidth=1.0)
    bar_width = min(1.5, INNER / probe.width)
    barcode = Code128(number, barWidth=bar_width, barHeight=46)
    barcode.drawOn(pdf, (WIDTH - barcode.width) / 2, top - 54)
    pdf.setFont(BOLD, 12)
    pdf.drawCentredString(WIDTH / 2, top - 70, number)
    return _rule(pdf, top - 78)


def _footer(pdf: Canvas, sheet: LabelSheet, top: float) -> None:
    rows = [
        f"Reference: {sheet.reference}",
        f"Contents: {sheet.parcel.description} · {sheet.parcel.weight_grams} g",
        f"Label: {sheet.label_id}",
    ]
    _fitted_text(pdf, rows, top - 4, top - MARGIN - 4, 8.0)


def _fitted_text(pdf: Canvas, lines: Sequence[str], top: float, height: float, size: float) -> None:
    """Draw `lines` inside the box, wrapping long ones and shrinking the type until it fits."""
    while True:
        leading = size * 1.2
        rows = [row for line in lines for row in simpleSplit(printable(line), REGULAR, size, INNER)]
        if len(rows) * leading <= height or size <= 5.0:
            break
        size -= 0.5
    fitting = max(1, int(height // leading))
    if len(rows) > fitting:
        rows = [*rows[: fitting - 1], rows[fitting - 1] + " …"]
    pdf.setFont(REGULAR, size)
    for index, row in enumerate(rows):
        pdf.drawString(MARGIN, top - size - index * leading, row)


def _rule(pdf: Canvas, y: float) -> float:
    pdf.setLineWidth(0.6)
    pdf.line(MARGIN, y, WIDTH - MARGIN, y)
    return y
