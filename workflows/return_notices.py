"""The notices a return's facts make: each email's request, with every fact the return has so far.

Plain deterministic code, called by `ReturnState.notice`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from domain.notices import NoticeKind, NoticeRequest

if TYPE_CHECKING:
    from workflows.return_state import ReturnState


def notice_request(state: ReturnState, kind: NoticeKind, **facts: object) -> NoticeRequest:
    """A new notice with every fact `state` has so far (`facts` add the moment's own).

    Each is the next of its kind for this return (`revision`), so two different emails never
    share a Message-ID; a retry of the same notice sends the same request again.
    """
    revision = state.notice_counts.get(kind, 0) + 1
    state.notice_counts[kind] = revision
    known: dict[str, object] = {
        "return_address": state.return_address,
        "carriers": state.offers,
        "method": state.choice.method if state.choice else None,
        "label": state.label,
        "pickup": state.pickup,
        "counter_code": state.counter_code,
        # Once the parcel is delivered, the delivery is the scan a notice tells of.
        "scan": state.delivery_scan or state.dispatch_scan,
        "expires_at": state.expires_at if state.address_sent_at else None,
        "refund": state.refund,
        "refund_due_by": state.refund_due_by,
        "inspection_due_by": state.inspection_due_by,
        "inspection": state.inspection_report,
        "label_paid_by": state.timings.label_paid_by,
        "label_withheld": state.label_withheld,
    }
    return NoticeRequest.model_validate(
        {
            "kind": kind,
            "return_id": state.return_id,
            "customer": state.event.customer,
            "order": state.event.order,
            "ship_by": state.ship_by,
            "time_zone": state.calendar.time_zone if state.calendar else None,
            "decision": state.decision,
            **known,
            **facts,
            "revision": revision,
        }
    )
