"""The activity doubles fail as the real activities do, as the workflow sees it.

Each failure the workflow tells apart is raised twice: by the real activity against a real
component (the SMTP sink, the carrier sandbox over HTTP, the order service's file) and by the
double of `doubles.py`. Both go through the data converter as a failure does on its way to a
workflow, and the workflow's own reading of it (`workflows.failures`) must say the same.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
from temporalio.api.failure.v1 import Failure
from temporalio.exceptions import ActivityError, ApplicationError, ApplicationErrorCategory
from temporalio.testing import ActivityEnvironment

from activities.carriers.activities import CarrierActivities
from activities.carriers.registry import CarrierRegistry
from activities.carriers.sandbox import SandboxCarrier
from activities.notices.activities import NoticeActivities
from activities.orders import OrderActivities
from carrier_sandbox.server import SandboxServer
from domain.calendar import local_date
from domain.carriers import PickupRequest, TrackingQuery
from domain.failures import CarrierRefusal, FailureType
from domain.notices import NoticeBatch, NoticeKind
from returnflow.settings import Settings
from tests.activities.carriers_test import label_request, pickup_request
from tests.activities.carriers_test import sandbox as sandbox
from tests.activities.orders_test import refund_request
from tests.keys import converter_for_tests
from tests.mail.conftest import (  # the mail fixtures: the sink, the activities, a story
    carriers,
    composer,
    english_return_fixture,
    french_return_fixture,
    labels,
    notice_activities,
    post_offices,
    sellers,
    sellers_path,
    settings,
    sink,
    stories,
)
from tests.mail.stories import ReturnStory
from tests.workflows.doubles import Doubles
from workflows import failures

__all__ = [
    "carriers",
    "composer",
    "english_return_fixture",
    "french_return_fixture",
    "labels",
    "notice_activities",
    "post_offices",
    "sandbox",
    "sellers",
    "sellers_path",
    "settings",
    "sink",
    "stories",
]


async def as_the_workflow_sees(raise_it: Callable[[], Awaitable[Any]]) -> ActivityError:
    """Run an activity that fails; its failure as it reaches a workflow: encoded by the data
    converter (encrypted, as every failure is), decoded, inside an `ActivityError`."""
    with pytest.raises(ApplicationError) as raised:
        await raise_it()
    wrapper = ActivityError(
        "activity error",
        scheduled_event_id=5,
        started_event_id=6,
        identity="worker",
        activity_type="activity",
        activity_id="1",
        retry_state=None,
    )
    wrapper.__cause__ = raised.value
    converter = converter_for_tests()
    failure = Failure()
    await converter.encode_failure(wrapper, failure)
    seen = await converter.decode_failure(failure)
    assert isinstance(seen, ActivityError)
    return seen


async def test_a_batch_with_one_undeliverable_notice_names_only_that_one(
    notice_activities: NoticeActivities, sellers_path: Path, french_return: ReturnStory
) -> None:
    sellers_path.write_text('{"sellers": []}', encoding="utf-8")  # the seller has no email
    batch = NoticeBatch(
        notices=[
            french_return.notice(NoticeKind.PICKUP_CONFIRMED),
            french_return.notice(NoticeKind.SELLER_PARCEL_INBOUND),
        ]
    )
    double = Doubles(undeliverable={NoticeKind.SELLER_PARCEL_INBOUND})

    real = await as_the_workflow_sees(
        lambda: ActivityEnvironment().run(notice_activities.send_notices, batch)
    )
    doubled = await as_the_workflow_sees(
        lambda: ActivityEnvironment().run(double.send_notices, batch)
    )

    for seen in (real, doubled):
        assert failures.failure_type(seen) is FailureType.NOTICES_UNDELIVERED
        assert failures.undelivered_kinds(seen, batch.notices) == {NoticeKind.SELLER_PARCEL_INBOUND}
    assert double.notice_kinds == [NoticeKind.PICKUP_CONFIRMED], "the other one went out"


async def test_a_notice_missing_a_fact_is_refused_by_both_as_invalid(
    notice_activities: NoticeActivities, french_return: ReturnStory
) -> None:
    # A shipment problem told without the problem scan: the workflow's mistake, not the relay's.
    batch = NoticeBatch(notices=[french_return.notice(NoticeKind.SHIPMENT_PROBLEM, scan=None)])

    real = await as_the_workflow_sees(
        lambda: ActivityEnvironment().run(notice_activities.send_notices, batch)
    )
    doubled = await as_the_workflow_sees(
        lambda: ActivityEnvironment().run(Doubles().send_notices, batch)
    )

    for seen in (real, doubled):
        detail = failures.undelivered(seen)
        assert detail is not None and detail.first_failure is FailureType.INVALID_NOTICE
        assert detail.kinds == [NoticeKind.SHIPMENT_PROBLEM]


async def test_a_pickup_date_the_carrier_refuses_is_a_carrier_rejection_naming_the_field(
    sandbox: SandboxServer,
) -> None:
    registry = CarrierRegistry([SandboxCarrier(sandbox.url, "sandbox", sandbox.api_key)])
    activities = CarrierActivities(registry)
    env = ActivityEnvironment()
    label = await env.run(activities.create_return_label, label_request())
    today = local_date(dt.datetime.now(dt.UTC))
    sunday = today + dt.timedelta(days=(6 - today.weekday()) or 7)
    request: PickupRequest = pickup_request(label.label_id, label.tracking_number, sunday)
    try:
        real = await as_the_workflow_sees(lambda: env.run(activities.book_mailbox_pickup, request))
    finally:
        await registry.aclose()
    doubled = await as_the_workflow_sees(
        lambda: env.run(Doubles(refuse_pickups=1).book_mailbox_pickup, request)
    )

    for seen in (real, doubled):
        assert failures.failure_type(seen) is FailureType.CARRIER_REJECTED
        cause = seen.cause
        assert isinstance(cause, ApplicationError) and cause.non_retryable
        assert CarrierRefusal.model_validate(cause.details[0], strict=False).field == "pickup_date"


async def test_refused_credentials_are_told_apart_from_a_refused_request(
    sandbox: SandboxServer,
) -> None:
    registry = CarrierRegistry([SandboxCarrier(sandbox.url, "sandbox", "not-the-key")])
    env = ActivityEnvironment()
    try:
        real = await as_the_workflow_sees(
            lambda: env.run(CarrierActivities(registry).create_return_label, label_request())
        )
    finally:
        await registry.aclose()
    doubled = await as_the_workflow_sees(
        lambda: env.run(Doubles(refuse_credentials=1).create_return_label, label_request())
    )

    for seen in (real, doubled):
        assert failures.failure_type(seen) is FailureType.CARRIER_AUTH_FAILED


async def test_polling_a_parcel_not_scanned_yet_is_a_benign_no_scan_yet(
    sandbox: SandboxServer,
) -> None:
    registry = CarrierRegistry([SandboxCarrier(sandbox.url, "sandbox", sandbox.api_key)])
    activities = CarrierActivities(registry)
    env = ActivityEnvironment()
    try:
        label = await env.run(activities.create_return_label, label_request())
        query = TrackingQuery(carrier="sandbox", tracking_number=label.tracking_number)
        real = await as_the_workflow_sees(lambda: env.run(activities.poll_parcel_scans, query))
    finally:
        await registry.aclose()
    doubled = await as_the_workflow_sees(lambda: env.run(Doubles().poll_parcel_scans, query))

    for seen in (real, doubled):
        assert failures.failure_type(seen) is FailureType.NO_SCAN_YET
        cause = seen.cause
        assert isinstance(cause, ApplicationError)
        assert cause.category is ApplicationErrorCategory.BENIGN


async def test_a_refund_key_used_for_another_request_is_a_conflict_and_stays_one(
    tmp_path: Path,
) -> None:
    orders = OrderActivities.from_settings(Settings(var_dir=tmp_path))
    env = ActivityEnvironment()
    await env.run(orders.request_refund, refund_request())
    other = refund_request(line_id="2")
    real = await as_the_workflow_sees(lambda: env.run(orders.request_refund, other))
    real_again = await as_the_workflow_sees(lambda: env.run(orders.request_refund, other))
    double = Doubles()
    await env.run(double.request_refund, refund_request())
    doubled = await as_the_workflow_sees(lambda: env.run(double.request_refund, other))
    doubled_again = await as_the_workflow_sees(lambda: env.run(double.request_refund, other))

    for seen in (real, real_again, doubled, doubled_again):
        assert failures.failure_type(seen) is FailureType.REFUND_CONFLICT
