"""The counter code as a QR code the post office counter scans: an SVG of black modules on a
white ground (reportlab's encoder; presentation attributes only, so the pages' strict
Content-Security-Policy, which forbids inline styles, applies to it too)."""

from __future__ import annotations

from reportlab.graphics.barcode import qrencoder

QUIET_ZONE = 4
"""Modules of white around the code, as the QR standard asks."""


def qr_svg(text: str) -> bytes:
    code = qrencoder.QRCode(None, qrencoder.QRErrorCorrectLevel.M)
    code.addData(text)
    code.make()
    count = code.getModuleCount()
    side = count + 2 * QUIET_ZONE
    rects = [
        f'<rect x="{col + QUIET_ZONE}" y="{row + QUIET_ZONE}" width="1" height="1"/>'
        for row in range(count)
        for col in range(count)
        if code.isDark(row, col)
    ]
    svg = (
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {side} {side}" '
        f'width="{side * 8}" height="{side * 8}" shape-rendering="crispEdges">'
        f'<rect width="{side}" height="{side}" fill="#fff"/>'
        f'<g fill="#000">{"".join(rects)}</g></svg>'
    )
    return svg.encode()
