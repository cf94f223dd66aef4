"""Return labels as a carrier prints them: real PDFs, made with reportlab."""

from __future__ import annotations

import io

from reportlab.lib.pagesizes import A6
from reportlab.pdfgen import canvas

from domain.carriers import Label


class PrintedLabels:
    """LabelDocuments that prints a real one-page PDF label with reportlab, as a carrier would."""

    def __init__(self) -> None:
        self.printed: dict[str, bytes] = {}

    async def label_pdf(self, label: Label) -> bytes:
        buffer = io.BytesIO()
        page = canvas.Canvas(buffer, pagesize=A6, invariant=1)
        page.setFont("Helvetica-Bold", 14)
        page.drawString(24, 360, f"Return label - {label.carrier}")
        page.setFont("Helvetica", 12)
        page.drawString(24, 330, f"Tracking {label.tracking_number}")
        page.showPage()
        page.save()
        self.printed[label.tracking_number] = buffer.getvalue()
        return buffer.getvalue()
