"""The withdrawal function (Art. 11a of Directive 2011/83/EU): the customer withdraws from an
order's lines themselves, in two steps, and gets an acknowledgement of what they stated and when.

The marketplace's order service asks for a withdrawal link for an order (`WithdrawalLinkRequest`,
signed like an event); the link opens the order's withdrawal function for a short while. Each
link is a `WithdrawalWorkflow` holding the order's facts (encrypted like every payload): it
waits for the customer's confirmation, starts a return per withdrawn line through the same path
as a signed event, and emails the acknowledgement.
"""

from __future__ import annotations

import datetime as dt

from pydantic import Field, field_validator

from domain.base import DomainModel, Identifier, Instant, LineId
from domain.events import Customer, Order, OrderStatus

MAX_LINES = 50

ALREADY_WITHDRAWN = "already_withdrawn"
"""An offered line's reason when its return is running already (besides `RejectionReason`s)."""
RETURN_ENDED = "return_ended"
"""An offered line's reason when its return has ended (cancelled, expired, closed...): a new
withdrawal would start nothing, so customer service takes it."""


class WithdrawalLinkRequest(DomainModel):
    """The order service asks for a withdrawal link for one order (`POST /v1/withdrawal-links`,
    signed like an event): the order's lines and its customer, as in a retract event."""

    request_id: Identifier = Field(
        description="Unique per request; a retried request gets a link to the same withdrawal."
    )
    customer: Customer
    lines: list[Order] = Field(
        min_length=1,
        max_length=MAX_LINES,
        description="The order's lines, each as in a retract event's `order`: the page lists "
        "the ones that can still be withdrawn from and says why the others cannot.",
    )

    @field_validator("lines")
    @classmethod
    def _one_order(cls, lines: list[Order]) -> list[Order]:
        if len({line.order_id for line in lines}) > 1:
            raise ValueError("every line is of the same order (one order_id)")
        ids = [line.line_id for line in lines]
        if len(set(ids)) != len(ids):
            raise ValueError("each line_id is listed once")
        return lines

    def with_contracts(self) -> WithdrawalLinkRequest:
        """Each line with what the other lines say of its contract (the order's goods sold by
        its seller), unless the order service said it: the last delivery when they came
        separately, or goods still to come (Art. 9(2)(b)(i)). A cancelled line is no longer
        part of the contract."""
        lines = []
        for line in self.lines:
            told = line.contract_delivered_at is not None or line.contract_goods_pending
            others = [
                other
                for other in self.lines
                if other.seller_id == line.seller_id
                and other.line_id != line.line_id
                and other.status is not OrderStatus.CANCELLED
            ]
            if told or line.delivered_at is None or not others:
                lines.append(line)
            elif any(other.delivered_at is None for other in others):
                lines.append(line.model_copy(update={"contract_goods_pending": True}))
            else:
                last = max(other.delivered_at for other in others if other.delivered_at)
                if last > line.delivered_at:
                    line = line.model_copy(update={"contract_delivered_at": last})
                lines.append(line)
        return self.model_copy(update={"lines": lines})

    @property
    def titles(self) -> dict[str, str]:
        """Each line's product title, by line ID."""
        return {line.line_id: line.product.title for line in self.lines}

    @property
    def order_id(self) -> str:
        return self.lines[0].order_id


class OfferedLine(DomainModel):
    """One line of the order as the withdrawal function shows it."""

    line_id: LineId
    withdrawable: bool
    reason: str | None = Field(
        default=None, description="Why it cannot be withdrawn from: a RejectionReason value."
    )
    window_ends_at: Instant

    def open_at(self, now: dt.datetime) -> bool:
        return self.withdrawable and now <= self.window_ends_at


class WithdrawalOffer(DomainModel):
    """A withdrawal link's workflow input: the order's facts, which lines may be withdrawn from,
    and until when the link opens the function."""

    withdrawal_id: str
    request: WithdrawalLinkRequest
    offered_at: Instant
    open_until: Instant
    lines: list[OfferedLine]

    def withdrawable(self, now: dt.datetime) -> set[str]:
        """The lines that can be withdrawn from at `now`: offered so, their window still open."""
        return {line.line_id for line in self.lines if line.open_at(now)}


class WithdrawalConfirmation(DomainModel):
    """The customer's second step: "Confirm withdrawal" for these lines (update `confirm`)."""

    line_ids: list[LineId] = Field(min_length=1, max_length=MAX_LINES)


class WithdrawnLine(DomainModel):
    line_id: LineId
    return_id: str
    started: bool = Field(description="False when the line's return existed already.")
    ended: bool = Field(
        default=False,
        description="The line's return had ended when the withdrawal was confirmed (the order "
        "service's own event started and ended it meanwhile): nothing more acts on it, and its "
        "page says how it ended.",
    )


class WithdrawalReceipt(DomainModel):
    """What the customer submitted, and when: the acknowledgement's content (Art. 11a(3))."""

    withdrawal_id: str
    order_id: Identifier
    submitted_at: Instant
    lines: list[WithdrawnLine]
    acknowledged: bool = Field(
        default=False, description="The acknowledgement email has been accepted by the relay."
    )
    acknowledgement_refused: str | None = Field(
        default=None,
        description="Why the acknowledgement email was refused for good (the relay refused the "
        "address, or no mail can go to it): the withdrawal page is then the customer's record.",
    )


class WithdrawalView(DomainModel):
    """The withdrawal function's state (query `view`): the offer, and the receipt once
    confirmed."""

    offer: WithdrawalOffer
    receipt: WithdrawalReceipt | None = None
    submitting: bool = Field(default=False, description="Confirmed: the returns are being started.")
    closed: bool = Field(default=False, description="The link ended without a confirmation.")


WITHDRAWAL_ID_SEPARATOR = "~"
"""Between the order and the request in a withdrawal's ID: a character no identifier holds, so
that no two (order, request) pairs share an ID (`ORD-1-A` and `1`, `ORD-1` and `A-1`)."""


def withdrawal_workflow_id(order_id: str, request_id: str) -> str:
    """The workflow ID of the withdrawal function for one link request:
    `withdrawal-{order_id}~{request_id}`."""
    return f"withdrawal-{order_id}{WITHDRAWAL_ID_SEPARATOR}{request_id}"


def still_open(offer: WithdrawalOffer, now: dt.datetime) -> bool:
    return now < offer.open_until


class StartWithdrawnReturns(DomainModel):
    """The confirmed lines, whose returns start as if the order service had sent their events."""

    offer: WithdrawalOffer
    line_ids: list[LineId]
    submitted_at: Instant


class WithdrawalAcknowledgement(DomainModel):
    """What the acknowledgement email says: the order's facts and the receipt."""

    offer: WithdrawalOffer
    receipt: WithdrawalReceipt
