"""Whether mail can go to an address, and the address as a relay takes it."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from domain.emails import NotDeliverable, ascii_address, email_problem
from plumbing.settings import Settings


@pytest.mark.parametrize(
    ("email", "sent_to"),
    [
        ("camille.durand@example.org", "camille.durand@example.org"),
        ("o'brien+returns@example.ie", "o'brien+returns@example.ie"),
        ('"camille durand"@example.org', '"camille durand"@example.org'),
        ("jorg@bücher.de", "jorg@xn--bcher-kva.de"),
        # IDNA 2008: `ß` is a letter of its own, not `ss` (another domain, someone else's).
        ("anna@straße.de", "anna@xn--strae-oqa.de"),
        ("x@a.co", "x@a.co"),
    ],
)
def test_an_address_mail_can_go_to_is_sent_to_with_its_domain_in_ascii(
    email: str, sent_to: str
) -> None:
    assert ascii_address(email) == sent_to
    assert email_problem(email) is None


@pytest.mark.parametrize(
    "email",
    [
        "x@gmail..com",
        "x@gmail.com.",
        "x@.gmail.com",
        "a@[x.com",
        "a(b)@x.com",
        "(c)a@x.com",
        "jörg@example.de",
        "a@-x.com",
        "a@x.123",
        "a@localhost",
        "a..b@x.com",
        "x@" + "a" * 64 + ".com",
        "no-at-sign",
        "@example.org",
    ],
)
def test_an_address_no_mail_can_go_to_is_refused_without_repeating_it(email: str) -> None:
    with pytest.raises(NotDeliverable) as refused:
        ascii_address(email)

    assert str(refused.value) == "is not an address mail can go to"
    assert email_problem(email) == "is not an address mail can go to"


def test_an_operations_address_no_notice_could_reach_is_refused_at_start_naming_it() -> None:
    """Operations' notices tell them what failed: they must be able to arrive."""
    with pytest.raises(ValidationError) as refused:
        Settings(_env_file=None, operations_email="ops@mailhub")

    assert "operations_email" in str(refused.value)
    assert "is not an address mail can go to" in str(refused.value)
