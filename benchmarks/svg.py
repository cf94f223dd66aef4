"""SVG drawing for the benchmarks' figures: a `Figure` drawn top to bottom.

A figure is a title, panels of vertical or horizontal bars (axes labelled with their units, a
legend when there is more than one series, the values written on the bars), wrapped paragraphs,
and a caption with when, by which command and on which machine the figures were measured. Text
is laid out from an average glyph width rather than measured, and coordinates are written to one
decimal, so the same calls always give the same bytes.
"""

from __future__ import annotations

import datetime as dt
import math
import textwrap
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any
from xml.sax.saxutils import escape

from benchmarks.record import describe_machine

WIDTH = 760
MARGIN = 20
FONT = "DejaVu Sans, Verdana, Arial, sans-serif"
CHAR_WIDTH = 0.62
"""A generous average glyph width, in ems, for laying text out without measuring it."""
WRAP_WIDTH = 0.56
"""The average glyph width, in ems, a line of prose is wrapped at (DejaVu Sans: about 0.5)."""
INK = "#1f2328"
MUTED = "#57606a"
GRID = "#d8dee4"
PALETTE = ("#2f6db5", "#e0892b", "#4b9a52", "#8a5cb8")


def text_width(text: str, size: float) -> float:
    return len(text) * size * CHAR_WIDTH


def number(value: float) -> str:
    """A figure as written on a bar: counts whole, measures to about 3 significant digits."""
    if isinstance(value, int):
        return f"{value:,}"
    if abs(value) >= 100:
        return f"{value:,.0f}"
    if abs(value) >= 1:
        return f"{value:.1f}"
    return f"{value:.2g}"


def scale(highest: float, ticks: int = 5) -> tuple[float, float]:
    """The axis' end and its step: 1, 2, 2.5 or 5 times a power of ten, reaching `highest`."""
    if highest <= 0:
        return 1.0, 0.25
    raw = highest / ticks
    magnitude = 10 ** math.floor(math.log10(raw))
    step = next(m * magnitude for m in (1, 2, 2.5, 5, 10) if m * magnitude >= raw)
    return math.ceil(highest / step - 1e-9) * step, step


def tick_label(value: float, step: float) -> str:
    return f"{value:,.0f}" if float(step).is_integer() else f"{value:,.2f}".rstrip("0").rstrip(".")


def f(value: float) -> str:
    """A coordinate: one decimal, no trailing zero."""
    return f"{value:.1f}".removesuffix(".0")


@dataclass
class Series:
    name: str
    values: Sequence[float]


class Figure:
    """An SVG drawn top to bottom: a title, panels of bars, notes, and the measured caption."""

    def __init__(self, title: str) -> None:
        self.title = title
        self.parts: list[str] = []
        self.text(MARGIN, 30, title, size=17, weight="bold")
        self.y = 44.0

    # Primitives.

    def text(
        self,
        x: float,
        y: float,
        content: str,
        *,
        size: float = 12,
        anchor: str = "start",
        weight: str = "normal",
        fill: str = INK,
        rotate: bool = False,
    ) -> None:
        attributes = f'x="{f(x)}" y="{f(y)}" font-size="{f(size)}"'
        if anchor != "start":
            attributes += f' text-anchor="{anchor}"'
        if weight != "normal":
            attributes += f' font-weight="{weight}"'
        if fill != INK:
            attributes += f' fill="{fill}"'
        if rotate:
            attributes += f' transform="rotate(-90 {f(x)} {f(y)})"'
        self.parts.append(f"<text {attributes}>{escape(content)}</text>")

    def rect(self, x: float, y: float, width: float, height: float, fill: str) -> None:
        self.parts.append(
            f'<rect x="{f(x)}" y="{f(y)}" width="{f(width)}" height="{f(height)}" fill="{fill}"/>'
        )

    def line(self, x1: float, y1: float, x2: float, y2: float, stroke: str = GRID) -> None:
        self.parts.append(
            f'<line x1="{f(x1)}" y1="{f(y1)}" x2="{f(x2)}" y2="{f(y2)}" stroke="{stroke}"/>'
        )

    # Blocks, each from self.y down.

    def heading(self, content: str) -> None:
        self.text(MARGIN, self.y + 22, content, size=14, weight="bold")
        self.y += 30

    def legend(self, series: Sequence[Series], x: float) -> None:
        if len(series) < 2:
            return
        for i, one in enumerate(series):
            self.rect(x, self.y + 2, 12, 12, PALETTE[i % len(PALETTE)])
            self.text(x + 17, self.y + 12.5, one.name, size=12)
            x += 17 + text_width(one.name, 12) + 18
        self.y += 22

    def vertical_bars(
        self,
        heading: str,
        value_axis: str,
        groups: Sequence[str],
        group_axis: str,
        series: Sequence[Series],
        plot_height: float = 200,
    ) -> None:
        """Bars standing on a category axis, one cluster per group, one bar per series."""
        self.heading(heading)
        top, step = scale(max((v for s in series for v in s.values), default=0.0))
        ticks = [i * step for i in range(round(top / step) + 1)]
        tick_room = max(text_width(tick_label(t, step), 11) for t in ticks)
        left = MARGIN + 22 + tick_room + 8
        right = WIDTH - MARGIN
        self.legend(series, left)
        plot_top = self.y + 18  # room for the tallest bar's value
        bottom = plot_top + plot_height
        for tick in ticks:
            y = bottom - tick / top * plot_height
            self.line(left, y, right, y)
            self.text(left - 6, y + 4, tick_label(tick, step), size=11, anchor="end", fill=MUTED)
        middle = (plot_top + bottom) / 2
        self.text(MARGIN + 12, middle, value_axis, size=12, anchor="middle", rotate=True)

        band = (right - left) / len(groups)
        cluster = band * 0.76
        bar = min(cluster / len(series), 64.0)
        labels = [number(v) for s in series for v in s.values]
        value_size = min(11.0, (bar + 4) / (CHAR_WIDTH * max(len(t) for t in labels)))
        for g, group in enumerate(groups):
            start = left + g * band + (band - bar * len(series)) / 2
            for i, one in enumerate(series):
                value = one.values[g]
                height = value / top * plot_height
                x = start + i * bar
                self.rect(x + 1, bottom - height, bar - 2, height, PALETTE[i % len(PALETTE)])
                self.text(
                    x + bar / 2,
                    bottom - height - 4,
                    number(value),
                    size=value_size,
                    anchor="middle",
                )
            for k, label_line in enumerate(group.split("\n")):
                self.text(
                    left + (g + 0.5) * band,
                    bottom + 17 + k * 15,
                    label_line,
                    size=12 if k == 0 else 11,
                    anchor="middle",
                    fill=INK if k == 0 else MUTED,
                )
        self.line(left, bottom, right, bottom, stroke=INK)
        label_lines = max(len(group.split("\n")) for group in groups)
        axis_y = bottom + 17 + label_lines * 15 + 4
        self.text((left + right) / 2, axis_y, group_axis, size=12, anchor="middle")
        self.y = axis_y + 8

    def horizontal_bars(
        self,
        heading: str,
        value_axis: str,
        labels: Sequence[str],
        series: Sequence[Series],
        bar_height: float = 11,
    ) -> None:
        """Bars lying along a value axis, one row per label, one bar per series."""
        self.heading(heading)
        label_room = max(text_width(label, 12) for label in labels)
        left = MARGIN + label_room + 10
        value_room = max(text_width(number(v), 10.5) for s in series for v in s.values)
        right = WIDTH - MARGIN - value_room - 6
        self.legend(series, left)
        top, step = scale(max((v for s in series for v in s.values), default=0.0))
        row = bar_height * len(series) + 8
        plot_top = self.y + 4
        bottom = plot_top + row * len(labels)
        for i in range(round(top / step) + 1):
            x = left + i * step / top * (right - left)
            self.line(x, plot_top, x, bottom)
            self.text(
                x, bottom + 15, tick_label(i * step, step), size=11, anchor="middle", fill=MUTED
            )
        for r, label in enumerate(labels):
            y = plot_top + r * row + 4
            self.text(left - 8, y + row / 2, label, size=12, anchor="end")
            for i, one in enumerate(series):
                value = one.values[r]
                width = value / top * (right - left)
                bar_y = y + i * bar_height
                self.rect(left, bar_y, width, bar_height - 1, PALETTE[i % len(PALETTE)])
                self.text(left + width + 4, bar_y + bar_height - 2.5, number(value), size=10.5)
        self.line(left, plot_top, left, bottom, stroke=INK)
        self.text((left + right) / 2, bottom + 33, value_axis, size=12, anchor="middle")
        self.y = bottom + 41

    def paragraph(self, content: str, *, size: float = 12, fill: str = INK) -> None:
        columns = int((WIDTH - 2 * MARGIN) / (size * WRAP_WIDTH))
        for line in textwrap.wrap(content, columns):
            self.text(MARGIN, self.y + size + 3, line, size=size, fill=fill)
            self.y += size + 5
        self.y += 3

    def caption(self, measured: dict[str, Any] | None) -> None:
        """When, by which command and on which machine: a rule, then the caption lines."""
        self.y += 10
        self.line(MARGIN, self.y, WIDTH - MARGIN, self.y, stroke=GRID)
        self.y += 4
        self.paragraph(measured_line(measured), size=11, fill=MUTED)
        if measured:
            self.paragraph(
                f"Machine: {describe_machine(measured.get('machine', {}))}.", size=11, fill=MUTED
            )

    def svg(self) -> str:
        height = math.ceil(self.y + 12)
        return "\n".join(
            [
                '<?xml version="1.0" encoding="UTF-8"?>',
                f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{height}" '
                f'viewBox="0 0 {WIDTH} {height}" font-family="{FONT}" role="img">',
                f"<title>{escape(self.title)}</title>",
                f'<rect width="{WIDTH}" height="{height}" fill="#ffffff"/>',
                *self.parts,
                "</svg>",
                "",
            ]
        )


def measured_line(measured: dict[str, Any] | None) -> str:
    """`Measured 2026-12-05 07:41 UTC · command: make bench-gateway · returnflow 0.3.0`"""
    if not measured:
        return "Measured: when, how and where is not recorded in this data."
    try:
        when = dt.datetime.fromisoformat(str(measured.get("date")))
        date = when.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
    except ValueError:
        date = str(measured.get("date"))
    return (
        f"Measured {date} · command: {measured.get('command', '?')} · "
        f"returnflow {measured.get('version', '?')}"
    )
