"""A return's status as operations staff read it in a terminal."""

from __future__ import annotations

import datetime as dt

from domain.returns import ReturnStage, ReturnStatus
from plumbing import terminal


def _when(moment: dt.datetime) -> str:
    return f"{moment.astimezone(dt.UTC):%Y-%m-%d %H:%M} UTC"


def _inspection(status: ReturnStatus) -> list[str]:
    inspection = status.inspection
    assert inspection is not None
    report = inspection.report
    if report is None:
        return [f"  inspection  report due by {_when(inspection.due_by)} (silence: as sold)"]
    found = report.outcome.value
    if report.deduction is not None:
        found += f", deduction {report.deduction.amount} {report.deduction.currency}"
    rows = [f"  inspection  {found} ({report.reported_by})"]
    if inspection.deduction_decision:
        rows.append(f"  deduction   {inspection.deduction_decision} by {inspection.decided_by}")
    if inspection.claim:
        rows.append(f"  claim       {inspection.claim.claim_id}")
    return rows


def render_status(status: ReturnStatus, link: str) -> str:
    rows = [
        f"{status.return_id}    stage: {status.stage.value}",
        f"  order {status.order_id} line {status.line_id} · {status.product_category.value}"
        f" · seller {status.seller_id}",
        f"  withdrawn   {_when(status.notice_at)}",
        f"  ship by     {_when(status.ship_by)}",
        f"  refund by   {_when(status.refund_due_by)}",
    ]
    decision = status.eligibility
    if decision and decision.awaits_review:
        waits = status.stage is ReturnStage.AWAITING_REVIEW
        said = "nothing decided, for operations to review" if waits else "never decided here"
        rows.append(f"  review      {decision.reason}: {said}")
    elif decision and not decision.accepted:
        rows.append(f"  rejected    {decision.reason}: {decision.explanation}")
    if status.method:
        rows.append(f"  method      {status.method.value} with {status.carrier}")
    if status.label:
        rows.append(f"  label       {status.label.label_id}")
    if status.counter_code:
        code = status.counter_code
        rows.append(f"  counter     code {code.code}, valid until {_when(code.expires_at)}")
    if status.pickup:
        pickup = status.pickup
        rows.append(
            f"  pickup      {pickup.pickup_date.isoformat()} before "
            f"{pickup.deposit_before:%H:%M} (confirmation {pickup.confirmation})"
        )
    if status.tracking_number:
        rows.append(f"  tracking    {status.tracking_number}")
    if status.refund:
        refund = status.refund
        rows.append(
            f"  refund      {refund.refund_id}: {refund.amount.amount} {refund.amount.currency}"
        )
    if status.inspection:
        rows.extend(_inspection(status))
    if status.problem:
        rows.append(f"  problem     {status.problem}")
    rows.append(f"  web ui      {link}")
    rows.append("  timeline")
    for entry in status.timeline:
        rows.append(f"    {_when(entry.at)}  {entry.actor:<16} {entry.event}")
    # Names, reasons and problems come from customers, sellers, carriers and staff.
    return "\n".join(terminal.line(row) for row in rows)
