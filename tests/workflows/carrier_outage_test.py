"""A carrier that cannot cancel what the return no longer needs holds nothing else: the parcel
that left gets its refund and its notices, and what could not be cancelled within the hour is
left to operations.

The time-skipping dev server: the retries of a void the carrier keeps refusing are held while
`fast_forward` moves the return's clock past the hour they are tried for.
"""

from __future__ import annotations

import datetime as dt

import pytest
from temporalio.client import WorkflowUpdateFailedError
from temporalio.exceptions import ApplicationError
from temporalio.testing import WorkflowEnvironment

from activities.failures import carrier_unavailable
from domain.calendar import next_pickup_date
from domain.carriers import ReturnMethod
from domain.notices import NoticeKind
from domain.returns import AttentionReason, ReturnMethodChoice, ReturnStage
from tests.workflows.doubles import Doubles
from tests.workflows.harness import return_harness
from tests.workflows.lifecycle_test import choosing, until
from workflows.return_workflow import ReturnWorkflow
from workflows.stages.carrier import UNDO_WITHIN

MINUTE = dt.timedelta(minutes=1)


class VoidsDown:
    """The carrier's void endpoint answers 503, once `down` is set."""

    def __init__(self) -> None:
        self.down = False
        self.tried = 0

    def __call__(self, activity_name: str, _key: str) -> ApplicationError | None:
        if self.down and activity_name == "void_label":
            self.tried += 1
            return carrier_unavailable("503 Service Unavailable")
        return None


async def test_a_spare_label_the_carrier_cannot_void_holds_neither_the_refund_nor_the_notices(
    time_skipping_env: WorkflowEnvironment,
) -> None:
    """A drop-off label, then a pickup refused for its day: the pickup carrier's label is kept
    aside, to void. The drop-off parcel leaves while that carrier's voids fail."""
    refused_day = next_pickup_date(dt.datetime.now(dt.UTC))
    voids = VoidsDown()
    doubles = Doubles(refused_pickup_dates={refused_day}, faults=voids)
    async with return_harness(time_skipping_env.client, doubles) as harness:
        handle = await choosing(harness)
        dropped = await handle.execute_update(
            ReturnWorkflow.choose_return_method,
            ReturnMethodChoice(method=ReturnMethod.POST_OFFICE_DROP_OFF, carrier="dropoff-only"),
        )
        assert dropped.label is not None
        with pytest.raises(WorkflowUpdateFailedError):
            await handle.execute_update(
                ReturnWorkflow.choose_return_method,
                ReturnMethodChoice(
                    method=ReturnMethod.MAILBOX_PICKUP, carrier="sandbox", pickup_date=refused_day
                ),
            )
        voids.down = True
        await harness.scan(handle, dropped.label.tracking_number)
        settled = await harness.told(handle, NoticeKind.SELLER_PARCEL_INBOUND)
        # The notices go out first; the void is tried after them.
        await until(harness, lambda _: voids.tried >= 1)
        await time_skipping_env.fast_forward(handle, UNDO_WITHIN + MINUTE)
        left = await harness.until_status(
            handle, lambda s: AttentionReason.CARRIER_CANCELLATION_FAILED in s.attention, within=30
        )

    assert settled.stage is ReturnStage.PICKED_UP and settled.refund is not None
    assert NoticeKind.PICKUP_CONFIRMED in doubles.notice_kinds
    assert any(e.event.startswith("unused label not cancelled") for e in left.timeline)
