"""The facts of the notices to the seller and to operations: the order, the parcel, the reason.

Neither ever shows the customer's email or street address (the seller needs neither, and
operations open the return in the Web UI, behind the codec server, when they need more).
"""

from __future__ import annotations

from typing import Any

from activities.notices.view import View, refund_facts, scan_facts
from domain.notices import NoticeRequest
from domain.returns import AttentionAction, AttentionReason

SUGGESTED_ACTIONS: dict[AttentionReason, tuple[AttentionAction, ...]] = {
    AttentionReason.SELLER_ADDRESS_MISSING: (AttentionAction.GIVE_ADDRESS, AttentionAction.CLOSE),
    AttentionReason.CARRIER_REJECTED_REQUEST: (AttentionAction.RETRY,),
    AttentionReason.CARRIER_CREDENTIALS_REFUSED: (AttentionAction.RETRY,),
    AttentionReason.SHIPMENT_PREPARATION_FAILED: (AttentionAction.RETRY,),
    AttentionReason.CARRIER_NOT_ANSWERING: (AttentionAction.RETRY,),
    AttentionReason.CHOICE_CHANGES_EXHAUSTED: (AttentionAction.RETRY,),
    AttentionReason.NOTICE_UNDELIVERABLE: (AttentionAction.RETRY, AttentionAction.CLOSE),
    AttentionReason.CARRIER_EXCEPTION: (AttentionAction.CLOSE,),
    AttentionReason.UNKNOWN_ORDER_STATUS: (
        AttentionAction.OVERRIDE_ELIGIBILITY,
        AttentionAction.CLOSE,
    ),
    AttentionReason.CARRIER_POLLING_FAILED: (AttentionAction.CLOSE,),
    AttentionReason.REFUND_REQUEST_FAILED: (AttentionAction.RETRY, AttentionAction.CLOSE),
    AttentionReason.CARRIER_CANCELLATION_FAILED: (AttentionAction.CLOSE,),
    AttentionReason.CARRIER_CALL_UNANSWERED: (AttentionAction.CLOSE,),
    AttentionReason.LATE_PARCEL: (AttentionAction.CLOSE,),
    AttentionReason.PARCEL_LOST: (AttentionAction.CLOSE,),
    AttentionReason.PARCEL_RETURNED: (AttentionAction.CLOSE,),
    AttentionReason.DEDUCTION_TO_APPROVE: (
        AttentionAction.APPROVE_DEDUCTION,
        AttentionAction.DECLINE_DEDUCTION,
    ),
    AttentionReason.INSPECTION_DISPUTE: (AttentionAction.CLOSE,),
    AttentionReason.CLAIM_FAILED: (AttentionAction.RETRY, AttentionAction.CLOSE),
    AttentionReason.REFUND_DUE_WITHOUT_ADDRESS: (
        AttentionAction.GIVE_ADDRESS,
        AttentionAction.REFUND_WITHOUT_RETURN,
    ),
    AttentionReason.REFUNDED_NOT_RETURNED: (AttentionAction.CLOSE,),
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
    due = request.inspection_due_by
    return {
        **scan_facts(request, view),
        **refund_facts(request, view),
        # The seller reports what came back by then (silence means as sold): an instant, at
        # the delivery's time of day, not the whole day.
        "inspection_due_by": view.moment(due) if due else None,
    }


def seller_return_cancelled(request: NoticeRequest, view: View) -> dict[str, Any]:
    return {}


def seller_return_expired(request: NoticeRequest, view: View) -> dict[str, Any]:
    assert request.expires_at is not None
    # A refund already requested (its deadline came before the goods left) is said, not denied.
    return {"expired_on": view.day(request.expires_at), **refund_facts(request, view)}


def operations_attention(request: NoticeRequest, view: View) -> dict[str, Any]:
    assert request.attention is not None
    words = view.words
    code = request.attention
    reason = AttentionReason.of(code)
    argument = code.partition(":")[2]
    sentence = words.attention.get(reason) if reason else None
    if sentence is None or ("{argument}" in sentence and not argument):
        explanation = words.unknown_attention.format(code=code)
    else:
        explanation = sentence.format(argument=argument)
    suggested = SUGGESTED_ACTIONS.get(reason, ()) if reason else ()
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
