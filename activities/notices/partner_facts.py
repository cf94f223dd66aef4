"""The facts of the notices to the seller and to operations: the order, the parcel, the reason.

Neither ever shows the customer's email or street address (the seller needs neither, and
operations open the return in the Web UI, behind the codec server, when they need more).
"""

from __future__ import annotations

from typing import Any

from activities.notices.view import View, refund_facts, scan_facts
from domain.notices import NoticeRequest
from domain.returns import AttentionAction

SUGGESTED_ACTIONS: dict[str, tuple[AttentionAction, ...]] = {
    "seller_return_address_missing": (AttentionAction.GIVE_ADDRESS, AttentionAction.CLOSE),
    "carrier_rejected_request": (AttentionAction.RETRY,),
    "carrier_credentials_refused": (AttentionAction.RETRY,),
    "shipment_preparation_failed": (AttentionAction.RETRY,),
    "notice_undeliverable": (AttentionAction.RETRY, AttentionAction.CLOSE),
    "carrier_exception": (AttentionAction.CLOSE,),
    "eligibility_unknown_order_status": (
        AttentionAction.OVERRIDE_ELIGIBILITY,
        AttentionAction.CLOSE,
    ),
}
"""What usually resolves each reason (by the code's part before ':'); the others stay possible."""


def seller_stop_shipment(request: NoticeRequest, view: View) -> dict[str, Any]:
    return refund_facts(request, view)


def seller_parcel_inbound(request: NoticeRequest, view: View) -> dict[str, Any]:
    address = request.return_address
    return {
        **scan_facts(request, view),
        # The seller's own return address, where the parcel goes: business data.
        "address_lines": address.lines() if address else None,
    }


def seller_parcel_delivered(request: NoticeRequest, view: View) -> dict[str, Any]:
    return {**scan_facts(request, view), **refund_facts(request, view)}


def seller_return_cancelled(request: NoticeRequest, view: View) -> dict[str, Any]:
    return {}


def seller_return_expired(request: NoticeRequest, view: View) -> dict[str, Any]:
    assert request.expires_at is not None
    return {"expired_on": view.day(request.expires_at)}


def operations_attention(request: NoticeRequest, view: View) -> dict[str, Any]:
    assert request.attention is not None
    words = view.words
    code = request.attention
    reason, _, argument = code.partition(":")
    sentence = words.attention.get(reason)
    if sentence is None or ("{argument}" in sentence and not argument):
        explanation = words.unknown_attention.format(code=code)
    else:
        explanation = sentence.format(argument=argument)
    suggested = SUGGESTED_ACTIONS.get(reason, ())
    return {
        "attention": code,
        "explanation": explanation,
        "detail": request.detail,
        "seller_id": request.order.seller_id,
        "workflow_link": view.workflow_link,
        "suggested_actions": [words.attention_actions[a] for a in suggested],
        "other_actions": [
            words.attention_actions[a] for a in AttentionAction if a not in suggested
        ],
    }
