"""What came back in a returned parcel: the seller's report (Art. 14(2)), the deduction it may
ask, and the claim an approved deduction becomes against the refund already requested."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Self

from pydantic import AwareDatetime, Field, model_validator

from domain.base import OPERATIONS_ACTOR, DomainModel, Identifier, Money, ShortText

EvidenceReference = Annotated[
    str,
    Field(
        min_length=3,
        max_length=300,
        pattern=r"^[A-Za-z0-9][A-Za-z0-9._~:/?#@!$&'()*+,;=%-]*$",
        description="A URL or document ID (no spaces).",
    ),
]


class InspectionOutcome(StrEnum):
    """What the seller found in the returned parcel."""

    AS_SOLD = "as_sold"
    """The goods came back as sold (handled only as far as testing them needed)."""
    DAMAGED = "damaged"
    """Handled beyond what testing them needed, and worth less for it (Art. 14(2))."""
    ITEMS_MISSING = "items_missing"
    """Accessories or parts sold with the device are missing."""
    STILL_LOCKED = "still_locked"
    """The device is still locked to the customer's account: it cannot be resold."""
    DIFFERENT_DEVICE = "different_device"
    """Another device than the one sold came back."""


DEDUCTIBLE = frozenset({InspectionOutcome.DAMAGED, InspectionOutcome.ITEMS_MISSING})
"""Outcomes the seller may ask a deduction for (an amount, with its reason)."""

DISPUTED = frozenset({InspectionOutcome.STILL_LOCKED, InspectionOutcome.DIFFERENT_DEVICE})
"""Outcomes operations settle with both sides: no amount is deducted by returnflow."""


class InspectionReport(DomainModel):
    """What came back, as the seller (or operations for them) reports it (update
    `report_inspection`). Silence past the inspection period counts as `as_sold`."""

    outcome: InspectionOutcome
    reported_by: str = Field(
        pattern=rf"^(seller|{OPERATIONS_ACTOR})$",
        description="Who reports: 'seller', or 'operations:<staff id>' (an ID, not a name).",
    )
    deduction: Money | None = Field(
        default=None,
        description="damaged or items_missing: the amount the seller asks to deduct from the "
        "refund (Art. 14(2)); at most the refund.",
    )
    reason: ShortText | None = Field(
        default=None,
        description="Required unless as_sold: what was found, in words the customer is shown.",
    )
    evidence: list[EvidenceReference] = Field(
        default_factory=list,
        max_length=10,
        description="References to photos or test reports kept by the seller or the "
        "marketplace (URLs or document IDs), never the files themselves.",
    )

    @model_validator(mode="after")
    def _facts_fit_outcome(self) -> Self:
        if self.outcome is InspectionOutcome.AS_SOLD:
            if self.deduction is not None:
                raise ValueError("deduction is only for damaged or items_missing")
            return self
        if self.reason is None:
            raise ValueError(f"reason is required for {self.outcome.value}")
        if self.outcome in DEDUCTIBLE:
            if self.deduction is None or self.deduction.amount <= 0:
                raise ValueError(f"deduction is required for {self.outcome.value}, above zero")
        elif self.deduction is not None:
            raise ValueError("deduction is only for damaged or items_missing")
        return self


class ClaimRequest(DomainModel):
    """Claim an approved deduction back from the refund requested (idempotent by key): the
    order service nets it against the refund, or recovers it if the refund was paid."""

    idempotency_key: str
    return_id: str
    order_id: Identifier
    line_id: Identifier
    refund_id: Identifier | None = Field(
        default=None, description="The refund the deduction is claimed from, if recorded."
    )
    amount: Money
    outcome: InspectionOutcome
    reason: ShortText
    evidence: list[EvidenceReference] = Field(default_factory=list)
    approved_by: str = Field(pattern=rf"^{OPERATIONS_ACTOR}$")


class Claim(DomainModel):
    """What the order service answered: the claim it recorded."""

    claim_id: Identifier
    filed_at: AwareDatetime
    amount: Money
    created: bool = Field(description="False when the key had been used already.")


class Inspection(DomainModel):
    """Where the seller's inspection stands (the `status` query)."""

    due_by: AwareDatetime = Field(description="The end of the inspection period.")
    report: InspectionReport | None = None
    deduction_decision: str | None = Field(
        default=None, description="approved or declined, once operations decided."
    )
    decided_by: str | None = None
    claim: Claim | None = None
