"""Sellers' return addresses on file."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest
from temporalio.testing import ActivityEnvironment

from activities.sellers.activities import SellerActivities
from activities.sellers.chat import FileSellerChat
from activities.sellers.directory import FileSellerDirectory, SellerDirectoryError

EXAMPLES = Path(__file__).resolve().parents[3] / "examples" / "sellers.json"


@pytest.fixture
def sellers_file(tmp_path: Path) -> Path:
    return Path(shutil.copy(EXAMPLES, tmp_path / "sellers.json"))


def seller_activities(sellers_file: Path) -> SellerActivities:
    return SellerActivities(
        FileSellerDirectory(sellers_file), FileSellerChat(sellers_file.parent / "chat")
    )


async def test_a_seller_with_an_address_on_file(sellers_file: Path) -> None:
    sellers = seller_activities(sellers_file)
    address = await ActivityEnvironment().run(sellers.get_seller_return_address, "SELLER-REFURBPRO")
    assert address is not None and address.city == "Mérignac"


@pytest.mark.parametrize("seller_id", ["SELLER-NEWCOMER", "SELLER-UNKNOWN"])
async def test_no_address_on_file(sellers_file: Path, seller_id: str) -> None:
    sellers = seller_activities(sellers_file)
    assert await ActivityEnvironment().run(sellers.get_seller_return_address, seller_id) is None


async def test_an_address_added_to_the_file_is_seen_without_a_restart(sellers_file: Path) -> None:
    directory = FileSellerDirectory(sellers_file)
    assert await directory.return_address("SELLER-NEWCOMER") is None
    data = json.loads(sellers_file.read_text())
    data["sellers"][2]["return_address"] = data["sellers"][0]["return_address"]
    sellers_file.write_text(json.dumps(data))
    os.utime(sellers_file, ns=(1, 1))  # a different stamp even within the same clock tick

    address = await directory.return_address("SELLER-NEWCOMER")

    assert address is not None and address.postal_code == "33700"


async def test_a_broken_file_names_the_field_and_is_retried(sellers_file: Path) -> None:
    data = json.loads(sellers_file.read_text())
    del data["sellers"][1]["return_address"]["city"]
    sellers_file.write_text(json.dumps(data))
    sellers = seller_activities(sellers_file)

    with pytest.raises(SellerDirectoryError) as broken:
        await ActivityEnvironment().run(sellers.get_seller_return_address, "SELLER-REFURBPRO")

    assert "sellers.1.return_address.city: Field required" in str(broken.value)


async def test_a_sellers_contact_and_language(sellers_file: Path) -> None:
    directory = FileSellerDirectory(sellers_file)

    contact = await directory.contact("SELLER-TECHREVIVE")

    assert contact is not None
    assert (contact.email, contact.locale) == ("retouren@techrevive.example", "en")
    assert await directory.contact("SELLER-UNKNOWN") is None
