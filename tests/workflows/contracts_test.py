"""The activity doubles fail as the real activities do, as the workflow sees it.

Each failure the workflow tells apart is raised twice: by the real activity against a real
component (the SMTP sink, the carrier sandbox over HTTP, the order service's file) and by the
double of `doubles.py`. Both go through the data converter as a failure does on its way to a
workflow, and the workflow's own reading of it (`workflows.failures`) must say the same.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest
from temporalio.api.failure.v1 import Failure
from temporalio.common import SearchAttributePair, TypedSearchAttributes
from temporalio.exceptions import ActivityError, ApplicationError, ApplicationErrorCategory
from temporalio.testing import ActivityEnvironment, WorkflowEnvironment

from activities.carriers.activities import CarrierActivities
from activities.carriers.registry import CarrierRegistry
from activities.carriers.sandbox import SandboxCarrier
from activities.intake import IntakeActivities
from activities.notices.activities import NoticeActivities
from activities.orders import OrderActivities
from activities.orders.service import FileOrderService
from activities.parcels import ParcelActivities
from activities.sellers.activities import SellerActivities
from carrier_sandbox.server import SandboxServer
from domain import calendar
from domain import search_attributes as sa
from domain.base import Money
from domain.calendar import local_date
from domain.carriers import (
    CancellationOutcome,
    CounterCode,
    CounterCodeRequest,
    Label,
    LabelPricesRequest,
    Pickup,
    PickupRequest,
    TrackingQuery,
    TrackingStatus,
)
from domain.failures import CarrierRefusal, FailureType
from domain.inspection import Claim
from domain.notices import NoticeBatch, NoticeKind, NoticeReceipt, SellerChatKind, SellerChatMessage
from domain.returns import AcceptanceLookups, Refund, ReturnIntake
from plumbing.settings import Settings
from store import Store
from tests.activities.carriers.activities_test import label_request, pickup_request
from tests.activities.carriers.activities_test import sandbox as sandbox
from tests.activities.notices.conftest import (  # the mail fixtures: sink, activities, story
    carriers,
    composer,
    english_return_fixture,
    french_return_fixture,
    labels,
    notice_activities,
    notices_through,
    post_offices,
    sellers,
    sellers_path,
    sent_notices,
    settings,
    sink,
    stories,
)
from tests.activities.notices.stories import ReturnStory
from tests.activities.orders.orders_test import claim_request, refund_request
from tests.factories import SELLER_ID, SELLER_WITHOUT_ADDRESS, retract_event
from tests.keys import converter_for_tests
from tests.workflows.doubles import Doubles
from tests.workflows.real_stack import seller_entry
from workflows import failures

__all__ = [
    "carriers",
    "composer",
    "english_return_fixture",
    "french_return_fixture",
    "labels",
    "notice_activities",
    "notices_through",
    "post_offices",
    "sandbox",
    "sellers",
    "sellers_path",
    "sent_notices",
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
        lambda: env.run(Doubles(refused_pickup_dates={sunday}).book_mailbox_pickup, request)
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
        lambda: env.run(Doubles(credentials_refused=True).create_return_label, label_request())
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


# --- Answers, and the same request twice ------------------------------------------------------


async def test_a_label_asked_twice_under_one_key_is_one_label_in_both(
    sandbox: SandboxServer,
) -> None:
    registry = CarrierRegistry([SandboxCarrier(sandbox.url, "sandbox", sandbox.api_key)])
    real, env = CarrierActivities(registry), ActivityEnvironment()
    double = Doubles()
    try:
        for activities in (real, double):
            first = await env.run(activities.create_return_label, label_request())
            again = await env.run(activities.create_return_label, label_request())
            assert isinstance(first, Label) and again == first
            pickup = pickup_request(first.label_id, first.tracking_number, next_pickup_date())
            booked = await env.run(activities.book_mailbox_pickup, pickup)
            assert isinstance(booked, Pickup)
            assert await env.run(activities.book_mailbox_pickup, pickup) == booked
            code = counter_code_request()
            issued = await env.run(activities.request_counter_code, code)
            assert isinstance(issued, CounterCode)
            assert await env.run(activities.request_counter_code, code) == issued
    finally:
        await registry.aclose()
    made = await carrier_made(sandbox)
    assert made == {
        "return-ORD-1-1:label:1": 1,
        pickup.idempotency_key: 1,
        "return-ORD-1-1:counter-code:1": 1,
    }
    assert len(double.labels) == len(double.pickups) == len(double.counter_codes) == 1


async def test_undoing_twice_is_already_done_and_undoing_a_used_label_is_refused_in_both(
    sandbox: SandboxServer,
) -> None:
    registry = CarrierRegistry([SandboxCarrier(sandbox.url, "sandbox", sandbox.api_key)])
    real, env = CarrierActivities(registry), ActivityEnvironment()
    double = Doubles()
    outcomes: dict[str, list[CancellationOutcome]] = {}
    seen: dict[str, ActivityError] = {}
    too_late: dict[str, ActivityError] = {}
    try:
        for name, activities in (("real", real), ("double", double)):
            spare = await env.run(activities.create_return_label, label_request("spare"))
            used = await env.run(activities.create_return_label, label_request("used"))
            day = next_pickup_date()
            booked = await env.run(
                activities.book_mailbox_pickup,
                pickup_request(spare.label_id, spare.tracking_number, day),
            )
            outcomes[name] = [
                (await env.run(activities.cancel_pickup, booked)).outcome,
                (await env.run(activities.cancel_pickup, booked)).outcome,
                (await env.run(activities.void_label, spare)).outcome,
                (await env.run(activities.void_label, spare)).outcome,
            ]
            # The customer dropped the parcel off: the carrier has scanned it.
            if activities is real:
                await bench_scan(sandbox, used.tracking_number)
            else:
                double.carrier_scanned(used.tracking_number)
            seen[name] = await as_the_workflow_sees(
                lambda a=activities, u=used: env.run(a.void_label, u)  # type: ignore[misc]
            )
            late = pickup_request(used.label_id, used.tracking_number, day).model_copy(
                update={"idempotency_key": "return-ORD-1-1:pickup:2"}
            )
            too_late[name] = await as_the_workflow_sees(
                lambda a=activities, p=late: env.run(a.book_mailbox_pickup, p)  # type: ignore[misc]
            )
    finally:
        await registry.aclose()

    done, again = CancellationOutcome.DONE, CancellationOutcome.ALREADY_DONE
    assert outcomes["real"] == outcomes["double"] == [done, again, done, again]
    for failure in [*seen.values(), *too_late.values()]:
        assert failures.failure_type(failure) is FailureType.CARRIER_REJECTED


async def test_polling_sees_nothing_before_the_first_scan_then_the_scan_in_both(
    sandbox: SandboxServer,
) -> None:
    registry = CarrierRegistry([SandboxCarrier(sandbox.url, "sandbox", sandbox.api_key)])
    real, env = CarrierActivities(registry), ActivityEnvironment()
    double = Doubles()
    answers: dict[str, list[TrackingStatus]] = {}
    try:
        for name, activities in (("real", real), ("double", double)):
            label = await env.run(activities.create_return_label, label_request())
            query = TrackingQuery(carrier="sandbox", tracking_number=label.tracking_number)
            nothing = await as_the_workflow_sees(
                lambda a=activities, q=query: env.run(a.poll_parcel_scans, q)  # type: ignore[misc]
            )
            assert failures.failure_type(nothing) is FailureType.NO_SCAN_YET
            if activities is real:
                await bench_scan(sandbox, label.tracking_number, TrackingStatus.ACCEPTED)
            else:
                double.carrier_scanned(label.tracking_number, TrackingStatus.ACCEPTED)
            scans = await env.run(activities.poll_parcel_scans, query)
            answers[name] = [scan.status for scan in scans]
    finally:
        await registry.aclose()

    assert answers["real"] == answers["double"] == [TrackingStatus.ACCEPTED]


async def test_a_parcel_known_only_as_pre_transit_is_no_scan_yet_for_the_double_too() -> None:
    # Carriers that report the label's creation as a `pre_transit` event (EasyPost does) have
    # not seen the parcel: the real activity treats it as no scan (easypost_tracking_test).
    double = Doubles()
    double.carrier_scanned("SB000000001FR", TrackingStatus.PRE_TRANSIT)
    query = TrackingQuery(carrier="sandbox", tracking_number="SB000000001FR")

    seen = await as_the_workflow_sees(
        lambda: ActivityEnvironment().run(double.poll_parcel_scans, query)
    )

    assert failures.failure_type(seen) is FailureType.NO_SCAN_YET


async def test_a_refund_asked_twice_is_one_refund_and_a_held_key_stays_refused_in_both(
    tmp_path: Path,
) -> None:
    orders = OrderActivities.from_settings(Settings(var_dir=tmp_path))
    env = ActivityEnvironment()
    double = Doubles()
    request = refund_request()
    real_answers = [await env.run(orders.request_refund, request) for _ in range(2)]
    double_answers = [await env.run(double.request_refund, request) for _ in range(2)]
    for first, again in (real_answers, double_answers):
        assert isinstance(first, Refund) and first.created and not again.created
        assert again.refund_id == first.refund_id
    assert real_answers[0].refund_id == double_answers[0].refund_id

    # Another return whose key the order service holds for another request.
    held = double.order_service_holds("return-ORD-HELD-1")
    real_orders = FileOrderService(Settings(var_dir=tmp_path).orders_path)
    await real_orders.request_refund(held)
    asked = refund_request(idempotency_key=held.idempotency_key, return_id=held.return_id)
    for activities in (orders, double):
        for _ in range(2):  # never forgotten
            refused = await as_the_workflow_sees(
                lambda: env.run(activities.request_refund, asked)  # noqa: B023
            )
            assert failures.failure_type(refused) is FailureType.REFUND_CONFLICT


async def test_a_seller_message_posted_twice_is_posted_once_in_both(tmp_path: Path) -> None:
    settings = Settings(var_dir=tmp_path, sellers_file=tmp_path / "sellers.json")
    settings.sellers_file.write_text('{"sellers": []}', encoding="utf-8")
    real = SellerActivities.from_settings(settings)
    message = SellerChatMessage(
        message_id="return-ORD-1-1:seller:address_request:1",
        kind=SellerChatKind.ADDRESS_REQUEST,
        return_id="return-ORD-1-1",
        seller_id="SELLER-REFURBPRO",
        order_id="ORD-1",
        line_id="1",
    )
    env = ActivityEnvironment()
    for activities in (real, Doubles()):
        assert [await env.run(activities.message_seller, message) for _ in range(2)] == [
            True,
            False,
        ]


async def test_notices_are_answered_with_the_same_message_ids_in_both(
    notice_activities: NoticeActivities, french_return: ReturnStory
) -> None:
    batch = NoticeBatch(
        notices=[
            french_return.notice(NoticeKind.RETURN_ADDRESS),
            french_return.notice(NoticeKind.SELLER_PARCEL_INBOUND),
        ]
    )
    env = ActivityEnvironment()
    real = await env.run(notice_activities.send_notices, batch)
    doubled = await env.run(Doubles().send_notices, batch)

    assert real == doubled
    assert all(isinstance(receipt, NoticeReceipt) and receipt.sent for receipt in real)


async def test_a_new_return_is_taken_in_alike_by_both(
    sandbox: SandboxServer, tmp_path: Path, embedded_store: Store
) -> None:
    settings = Settings(
        var_dir=tmp_path,
        sellers_file=tmp_path / "sellers.json",
        carrier_sandbox_url=sandbox.url,
        carrier_sandbox_api_key=sandbox.api_key,
    )
    unaddressed = {**seller_entry(), "seller_id": SELLER_WITHOUT_ADDRESS, "return_address": None}
    settings.sellers_file.write_text(
        json.dumps({"sellers": [seller_entry(), unaddressed]}), encoding="utf-8"
    )
    registry = CarrierRegistry.from_settings(settings, embedded_store)
    carriers = CarrierActivities(registry)
    real = IntakeActivities(
        OrderActivities.from_settings(settings), SellerActivities.from_settings(settings), carriers
    )
    env = ActivityEnvironment()
    try:
        for event in (retract_event(), retract_event(ordered_days_before_notice=45)):
            taken = [await env.run(a.take_in, event) for a in (real, Doubles())]
            assert all(isinstance(t, ReturnIntake) for t in taken)
            assert taken[0].decision == taken[1].decision
            assert taken[0].return_address == taken[1].return_address
            assert bool(taken[0].offers) == bool(taken[1].offers)
        for seller in (SELLER_ID, SELLER_WITHOUT_ADDRESS):
            looked = [await env.run(a.lookups_for_acceptance, seller) for a in (real, Doubles())]
            assert all(isinstance(found, AcceptanceLookups) for found in looked)
            assert (looked[0].return_address is None) == (looked[1].return_address is None)
    finally:
        await registry.aclose()


def next_pickup_date() -> dt.date:
    return calendar.next_pickup_date(dt.datetime.now(dt.UTC))


def counter_code_request() -> CounterCodeRequest:
    made = label_request()
    return CounterCodeRequest(
        idempotency_key="return-ORD-1-1:counter-code:1",
        carrier="sandbox",
        reference=made.reference,
        sender=made.sender,
        recipient=made.recipient,
        parcel=made.parcel,
    )


async def bench_scan(
    sandbox: SandboxServer, tracking_number: str, status: TrackingStatus = TrackingStatus.ACCEPTED
) -> None:
    async with httpx.AsyncClient(base_url=sandbox.url) as bench:
        answer = await bench.post(
            f"/sandbox/parcels/{tracking_number}/scans", json={"status": status.value}
        )
        assert answer.status_code == 201, answer.text


async def carrier_made(sandbox: SandboxServer) -> dict[str, int]:
    async with httpx.AsyncClient(base_url=sandbox.url) as bench:
        keys = (await bench.get("/sandbox/idempotency-keys")).json()["keys"]
    return {k["key"]: k["created"] for k in keys}


@pytest.fixture
async def sandbox_carriers(sandbox: SandboxServer) -> AsyncIterator[CarrierActivities]:
    """The real carrier activities over the sandbox's Sandbox Post."""
    registry = CarrierRegistry([SandboxCarrier(sandbox.url, "sandbox", sandbox.api_key)])
    yield CarrierActivities(registry)
    await registry.aclose()


async def test_a_parcel_the_carrier_never_saw_is_a_rejection_and_a_known_one_reaches_the_seller(
    sandbox_carriers: CarrierActivities,
) -> None:
    activities = sandbox_carriers
    unknown = TrackingQuery(carrier="sandbox", tracking_number="SB999999999FR")
    doubles = Doubles(unknown_parcels={unknown.tracking_number})
    env = ActivityEnvironment()
    label = await env.run(activities.create_return_label, label_request())
    known = TrackingQuery(carrier="sandbox", tracking_number=label.tracking_number)
    real_known = await env.run(activities.parcel_destination, known)
    real = await as_the_workflow_sees(lambda: env.run(activities.parcel_destination, unknown))
    doubled_known = await env.run(doubles.parcel_destination, known)
    doubled = await as_the_workflow_sees(lambda: env.run(doubles.parcel_destination, unknown))

    assert real_known == doubled_known
    assert real_known is not None and real_known.reaches(label_request().recipient)
    for seen in (real, doubled):
        assert failures.failure_type(seen) is FailureType.CARRIER_REJECTED


async def test_label_prices_come_back_as_the_offers_priced_in_both(
    sandbox_carriers: CarrierActivities,
) -> None:
    activities, env = sandbox_carriers, ActivityEnvironment()
    offered = await env.run(activities.list_carrier_offers)
    asked = LabelPricesRequest(
        offers=offered,
        sender=label_request().sender,
        recipient=label_request().recipient,
        parcel=label_request().parcel,
        currency="EUR",
    )
    real = await env.run(activities.price_return_labels, asked)
    in_pounds = await env.run(
        activities.price_return_labels, asked.model_copy(update={"currency": "GBP"})
    )
    doubles = Doubles(label_prices={o.code: o.label_price for o in real if o.label_price})
    doubled = await env.run(doubles.price_return_labels, asked)
    doubled_in_pounds = await env.run(
        doubles.price_return_labels, asked.model_copy(update={"currency": "GBP"})
    )

    assert doubled == real and real[0].label_price is not None
    assert doubled_in_pounds == in_pounds and in_pounds[0].label_price is None


async def test_tracking_answers_every_scan_and_refuses_an_unknown_parcel_in_both(
    sandbox: SandboxServer, sandbox_carriers: CarrierActivities
) -> None:
    real, env = sandbox_carriers, ActivityEnvironment()
    unknown = TrackingQuery(carrier="sandbox", tracking_number="SB999999999FR")
    double = Doubles(unknown_parcels={unknown.tracking_number})
    answers: dict[str, list[list[TrackingStatus]]] = {}
    for name, activities in (("real", real), ("double", double)):
        label = await env.run(activities.create_return_label, label_request())
        query = TrackingQuery(carrier="sandbox", tracking_number=label.tracking_number)
        before = await env.run(activities.track_parcel, query)
        if activities is real:
            await bench_scan(sandbox, label.tracking_number, TrackingStatus.ACCEPTED)
        else:
            double.carrier_scanned(label.tracking_number, TrackingStatus.ACCEPTED)
        after = await env.run(activities.track_parcel, query)
        answers[name] = [[s.status for s in before], [s.status for s in after]]
        refused = await as_the_workflow_sees(
            lambda a=activities: env.run(a.track_parcel, unknown)  # type: ignore[misc]
        )
        assert failures.failure_type(refused) is FailureType.CARRIER_REJECTED

    assert answers["real"] == answers["double"] == [[], [TrackingStatus.ACCEPTED]]


async def test_a_claim_filed_twice_is_one_claim_and_another_under_its_key_is_refused_in_both(
    tmp_path: Path,
) -> None:
    orders = OrderActivities.from_settings(Settings(var_dir=tmp_path))
    env = ActivityEnvironment()
    double = Doubles()
    request = claim_request()
    other = claim_request(amount=Money(amount=Decimal("5.00"), currency="EUR"))
    for activities in (orders, double):
        first = await env.run(activities.file_claim, request)
        again = await env.run(activities.file_claim, request)
        refused = await as_the_workflow_sees(
            lambda a=activities: env.run(a.file_claim, other)  # type: ignore[misc]
        )
        assert isinstance(first, Claim) and first.created and not again.created
        assert again.claim_id == first.claim_id and first.amount == request.amount
        assert failures.failure_type(refused) is FailureType.REFUND_CONFLICT
    real_first = await env.run(orders.file_claim, request)
    assert real_first.claim_id == (await env.run(double.file_claim, request)).claim_id


async def test_the_running_holders_of_a_number_are_listed_alike_and_a_query_cannot_be_broken(
    time_skipping_env: WorkflowEnvironment,
) -> None:
    client = time_skipping_env.client
    number = f"6A{uuid.uuid4().int % 10**11:011d}"
    holder = f"return-ORD-HELD-{uuid.uuid4().hex[:6]}-1"
    await client.start_workflow(
        "ReturnWorkflow",
        retract_event(),
        id=holder,
        task_queue=f"nobody-{uuid.uuid4().hex[:8]}",  # no worker: it stays running, untouched
        search_attributes=TypedSearchAttributes([SearchAttributePair(sa.TRACKING_NUMBER, number)]),
    )
    query = f'{sa.TRACKING_NUMBER.name} = "{number}"'
    async with asyncio.timeout(10):
        while not [w async for w in client.list_workflows(query)]:
            await asyncio.sleep(0.1)
    real, double = ParcelActivities(client), Doubles(numbers_held={number: [holder]})
    env = ActivityEnvironment()
    try:
        for activities in (real, double):
            assert await env.run(activities.running_holders, number) == [holder]
            assert await env.run(activities.running_holders, "6A00000000000") == []
            with pytest.raises(ValueError, match="letters and digits only"):
                await env.run(activities.running_holders, 'x" OR "1"="1')
    finally:
        await client.get_workflow_handle(holder).terminate("test over")
