"""Labels printed side by side, as the sandbox's API prints them (in threads), each come out
whole: the typeface's letters embedded in one label are never read for another."""

from __future__ import annotations

import datetime as dt
import sys
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import pytest

from carrier_sandbox.label_pdf import LabelSheet, render_label
from domain.addresses import PostalAddress
from domain.carriers import Parcel

NAMES = ("Zoé Lefèvre", "Wiśniewska Łódź", "Müller Straße", "Ñúñez Œuvre", "Jean Dupont")
"""Names whose letters differ: each label embeds a different subset of the typeface."""


def sheet(n: int) -> LabelSheet:
    customer = PostalAddress(
        name=f"{NAMES[n % len(NAMES)]} {n}",
        line1=f"{n} rue de la Paix",
        postal_code="75002",
        city="Paris",
        country_code="FR",
    )
    return LabelSheet(
        carrier_name="Sandbox Post",
        label_id=f"LBL-{n:06d}",
        tracking_number=f"SB{n:09d}FR",
        reference=f"return-ORD-{n}-1",
        created_at=dt.datetime(2026, 12, 7, 9, tzinfo=dt.UTC),
        sender=customer,
        recipient=customer,
        parcel=Parcel(weight_grams=480, description="Running shoes"),
    )


@pytest.fixture
def threads_switching_often() -> Iterator[None]:
    """Threads handed the interpreter far more often than usual: what a busy server's threads
    meet now and then, met here in a few seconds."""
    usual = sys.getswitchinterval()
    sys.setswitchinterval(1e-5)
    yield
    sys.setswitchinterval(usual)


@pytest.mark.usefixtures("threads_switching_often")
def test_labels_printed_at_once_are_each_the_label_printed_alone() -> None:
    sheets = [sheet(n) for n in range(500)]

    with ThreadPoolExecutor(8) as printers:
        printed = list(printers.map(render_label, sheets))

    alone = [render_label(one) for one in sheets]
    assert [n for n, pdf in enumerate(printed) if pdf != alone[n]] == []
