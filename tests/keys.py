"""The test suite's payload keys: fixed, so recorded histories stay readable. Test use only."""

from __future__ import annotations

from temporalio.converter import DataConverter

from plumbing.encryption import EncryptionCodec, Keyring
from plumbing.temporal import data_converter

TEST_KEYS = "tests-2026-a=4cc+M8OoZ9mywEN886+/zbwkAfzpH9/w8xBe9pYisuw="
"""RETURNFLOW_PAYLOAD_KEYS for the processes a test starts."""

NEXT_KEY_ID = "tests-2026-b"
NEXT_KEY = "nI/WbcDI70gjn30O+eud2ByuZwjd9IKy/E386NmTmto="
"""A second key, for rotation tests."""

PAGE_KEYS = "page-2026-a=v0f5mY1rJ9pQp1G2m9C3c8b7k1W4qQ6rX0yZ2aB3cD4="
"""RETURNFLOW_CUSTOMER_PAGE_KEYS for the processes a test starts (the customer's link tokens)."""

TEST_KEYRING = Keyring.parse(TEST_KEYS, source="tests/keys.py")


def codec_for_tests() -> EncryptionCodec:
    return EncryptionCodec(TEST_KEYRING)


def converter_for_tests() -> DataConverter:
    return data_converter(codec_for_tests())
