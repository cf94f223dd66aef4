"""The codes a return lists in `attention` (and operations read in the Web UI): a reason, with
the carrier or notice kind it is about, and back."""

from __future__ import annotations

from domain.returns import AttentionReason


def test_a_reason_about_a_carrier_names_it_after_a_colon() -> None:
    reason = AttentionReason.CARRIER_CREDENTIALS_REFUSED

    assert reason.about("colissimo") == "carrier_credentials_refused:colissimo"
    assert reason.about() == "carrier_credentials_refused"
    assert reason.about("") == "carrier_credentials_refused"


def test_a_listed_code_is_read_back_as_its_reason() -> None:
    assert (
        AttentionReason.of("carrier_credentials_refused:colissimo")
        is AttentionReason.CARRIER_CREDENTIALS_REFUSED
    )
    assert AttentionReason.of("refund_request_failed") is AttentionReason.REFUND_REQUEST_FAILED
    assert (
        AttentionReason.of("notice_undeliverable:return_label:2")
        is AttentionReason.NOTICE_UNDELIVERABLE
    )


def test_a_code_this_version_does_not_know_is_no_reason() -> None:
    assert AttentionReason.of("seller_on_holiday") is None
    assert AttentionReason.of("seller_on_holiday:carrier_exception") is None
    assert AttentionReason.of("") is None
