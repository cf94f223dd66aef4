"""Where sellers' return addresses are kept."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Protocol

from pydantic import Field, ValidationError

from domain.addresses import PostalAddress
from domain.base import DomainModel, Email, Identifier, Locale, ShortText
from domain.notices import SellerContact


class SellerDirectory(Protocol):
    """Looks up a seller's return address on file."""

    async def return_address(self, seller_id: str) -> PostalAddress | None: ...

    async def contact(self, seller_id: str) -> SellerContact | None: ...

    async def record(self, seller_id: str) -> SellerRecord | None: ...


class SellerRecord(DomainModel):
    """A seller as the marketplace knows it."""

    seller_id: Identifier
    display_name: ShortText
    return_address: PostalAddress | None = Field(
        default=None, description="Where returns go; absent until the seller gives it."
    )
    email: Email | None = Field(
        default=None, description="Where the seller's return notices are emailed."
    )
    locale: Locale = Field(default="fr", description="Language of the seller's notices.")


class SellerFile(DomainModel):
    """The sellers file: `{"sellers": [SellerRecord, ...]}`."""

    sellers: list[SellerRecord]


class SellerDirectoryError(Exception):
    """The sellers file cannot be read: an operator must fix it."""


def contact_of(record: SellerRecord | None) -> SellerContact | None:
    """How the seller gets email notices: none for a seller unknown or without an email."""
    if record is None or record.email is None:
        return None
    return SellerContact(
        seller_id=record.seller_id,
        display_name=record.display_name,
        email=record.email,
        locale=record.locale,
    )


class FileSellerDirectory:
    """Sellers from a JSON file, re-read when it changes (no restart to add a seller)."""

    def __init__(self, path: Path) -> None:
        self._path = path
        self._stamp: tuple[int, int] | None = None
        self._records: dict[str, SellerRecord] = {}

    async def return_address(self, seller_id: str) -> PostalAddress | None:
        record = self._load().get(seller_id)
        return record.return_address if record else None

    async def record(self, seller_id: str) -> SellerRecord | None:
        """The seller's record as the file has it; None for a seller not in it."""
        return self._load().get(seller_id)

    async def contact(self, seller_id: str) -> SellerContact | None:
        return contact_of(self._load().get(seller_id))

    def check(self) -> None:
        """Read the file now: SellerDirectoryError, naming the file and the fault, when it
        cannot be used."""
        self._load()

    def _load(self) -> dict[str, SellerRecord]:
        try:
            stat = os.stat(self._path)
        except OSError as err:
            raise SellerDirectoryError(f"sellers file {self._path}: {err.strerror}") from err
        stamp = (stat.st_mtime_ns, stat.st_size)
        if stamp != self._stamp:
            try:
                parsed = SellerFile.model_validate_json(self._path.read_bytes())
            except ValidationError as err:
                first = err.errors()[0]
                where = ".".join(str(p) for p in first["loc"])
                raise SellerDirectoryError(
                    f"sellers file {self._path}: {where}: {first['msg']}"
                ) from None
            self._records = {r.seller_id: r for r in parsed.sellers}
            self._stamp = stamp
        return self._records
