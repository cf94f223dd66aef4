"""Whether mail can go to an email address, and the address as a relay takes it.

The models' `Email` pattern only says an address has one `@` and a dot after it: it is what
histories already hold, so it stays as lenient. What a notice needs is stricter, and is checked
where an address comes in (the gateway's doors) and again where a notice is composed:

- the domain is host names (letters, digits, hyphens inside), at least two, none empty, of at
  most 63 characters once written in ASCII; a domain in other scripts (`bücher.de`) is written
  as IDNA 2008 (`xn--bcher-kva.de`; `straße.de` stays `ß`, `xn--strae-oqa.de`), so that no relay
  needs SMTPUTF8 for it;
- the local part is ASCII, and reads back as written: a comment (`a(b)@x.com`), which a mail
  parser drops, would send the mail to another address than the one given.
"""

from __future__ import annotations

import re
from email.errors import HeaderParseError
from email.headerregistry import Address

import idna

NOT_DELIVERABLE = "is not an address mail can go to"

_LABEL = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?")


class NotDeliverable(ValueError):
    """No mail can go to the address (the message never repeats it: it is personal data)."""

    def __init__(self) -> None:
        super().__init__(NOT_DELIVERABLE)


def ascii_address(email: str) -> str:
    """The address as mail goes to it, its domain in ASCII; `NotDeliverable` otherwise."""
    local, at, domain = email.rpartition("@")
    if not at or not local or not local.isascii():
        raise NotDeliverable
    ascii_domain = domain
    if not domain.isascii():
        try:
            # UTS 46 (IDNA 2008): `straße.de` is its own domain, `xn--strae-oqa.de`, where the
            # older IDNA 2003 of the standard library's codec would send it to `strasse.de`.
            ascii_domain = idna.encode(domain, uts46=True).decode("ascii")
        except (idna.IDNAError, UnicodeError):
            raise NotDeliverable from None
    labels = ascii_domain.split(".")
    if len(labels) < 2 or not all(_LABEL.fullmatch(label) for label in labels):
        raise NotDeliverable
    if labels[-1].isdigit():
        raise NotDeliverable  # an IP address's last number, not a top-level domain
    written = f"{local}@{ascii_domain}"
    try:
        parsed = Address(addr_spec=written).addr_spec
    except (ValueError, HeaderParseError, AttributeError, IndexError):
        # The standard library's parser raises more than ValueError on some malformed inputs.
        raise NotDeliverable from None
    if parsed != written:
        raise NotDeliverable
    return written


def email_problem(email: str) -> str | None:
    """Why no mail can go to `email`, or None."""
    try:
        ascii_address(email)
    except NotDeliverable as err:
        return str(err)
    return None
