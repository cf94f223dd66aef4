"""The send_notices activity: the notices of one moment, each sent once over real SMTP, a retry
sending only those not sent yet, a notice refused for good not holding back the others."""

from __future__ import annotations

import dataclasses
import uuid
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from temporalio import activity, workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ApplicationError
from temporalio.testing import ActivityEnvironment, WorkflowEnvironment
from temporalio.worker import UnsandboxedWorkflowRunner, Worker

from activities.notices import (
    CarrierPostOffices,
    NoticeActivities,
    NoticeComposer,
    SmtpNotifier,
)
from activities.notices.sent import SentNotices
from activities.sellers.directory import FileSellerDirectory
from domain.failures import FailureType, NoticesUndelivered
from domain.notices import NoticeBatch, NoticeKind, NoticeReceipt
from mail_sink import MailSink, read_mailbox
from plumbing.settings import Settings

from .labels import PrintedLabels
from .servers import ScriptedRelay
from .stories import ReturnStory, sellers_file

CUSTOMER_ID = "<return-O-7731-1.pickup_confirmed.1@returns.marketplace.example>"
SELLER_ID = "<return-O-7731-1.seller_parcel_inbound.1@returns.marketplace.example>"


def picked_up(story: ReturnStory) -> NoticeBatch:
    """The customer's and the seller's notices of the carrier's first scan."""
    return NoticeBatch(
        notices=[
            story.notice(NoticeKind.PICKUP_CONFIRMED),
            story.notice(NoticeKind.SELLER_PARCEL_INBOUND),
        ]
    )


def sent_ids(sink: MailSink) -> list[str]:
    return [str(email["Message-ID"]).strip() for email in read_mailbox(sink.directory)]


def heartbeats_of(env: ActivityEnvironment) -> list[tuple[Any, ...]]:
    beats: list[tuple[Any, ...]] = []
    env.on_heartbeat = lambda *details: beats.append(details)
    return beats


async def test_a_batch_sends_each_notice_once_in_order_to_its_reader(
    notice_activities: NoticeActivities, sink: MailSink, french_return: ReturnStory
) -> None:
    env = ActivityEnvironment()
    beats = heartbeats_of(env)

    receipts = await env.run(notice_activities.send_notices, picked_up(french_return))

    assert receipts == [
        NoticeReceipt(message_id=CUSTOMER_ID, sent=True),
        NoticeReceipt(message_id=SELLER_ID, sent=True),
    ]
    assert sent_ids(sink) == [CUSTOMER_ID, SELLER_ID]
    customer, seller = read_mailbox(sink.directory)
    assert customer["To"] == "Élodie Marchand <elodie.marchand@example.fr>"
    assert seller["To"] == "Atelier Reconditionné <retours@atelier-reconditionne.example>"
    # After each acceptance, every Message-ID sent so far.
    assert beats == [(CUSTOMER_ID,), (CUSTOMER_ID, SELLER_ID)]


async def test_a_retry_after_a_partial_send_sends_only_the_rest(
    notice_activities: NoticeActivities, sink: MailSink, french_return: ReturnStory
) -> None:
    env = ActivityEnvironment()
    env.info = dataclasses.replace(env.info, attempt=2, heartbeat_details=[CUSTOMER_ID])
    beats = heartbeats_of(env)

    receipts = await env.run(notice_activities.send_notices, picked_up(french_return))

    assert [r.sent for r in receipts] == [False, True]
    assert sent_ids(sink) == [SELLER_ID]
    assert beats == [(CUSTOMER_ID, SELLER_ID)]


async def test_a_notice_refused_for_good_does_not_hold_back_the_others(
    notice_activities: NoticeActivities,
    sink: MailSink,
    sellers_path: Path,
    french_return: ReturnStory,
) -> None:
    sellers_path.write_text('{"sellers": []}', encoding="utf-8")  # no contact for the seller
    batch = NoticeBatch(
        notices=[
            french_return.notice(NoticeKind.SELLER_PARCEL_INBOUND),
            french_return.notice(NoticeKind.PICKUP_CONFIRMED),
        ]
    )
    env = ActivityEnvironment()
    beats = heartbeats_of(env)

    with pytest.raises(ApplicationError) as caught:
        await env.run(notice_activities.send_notices, batch)

    assert sent_ids(sink) == [CUSTOMER_ID]
    assert beats == [(CUSTOMER_ID,)]
    assert caught.value.type == FailureType.NOTICES_UNDELIVERED
    assert caught.value.non_retryable
    (detail,) = caught.value.details
    assert NoticesUndelivered.from_detail(detail) == NoticesUndelivered(
        kinds=[NoticeKind.SELLER_PARCEL_INBOUND],
        first_failure=FailureType.INVALID_NOTICE,
        reason="Cannot send the notice: seller.email is not on file for seller S-4410",
    )
    assert caught.value.message == (
        "Not delivered: seller_parcel_inbound (first failure: Cannot send the notice: "
        "seller.email is not on file for seller S-4410)"
    )


@pytest.mark.parametrize(
    "email",
    ["elodie@gmail..com", "elodie@gmail.com.", "elodie@[gmail.com", "elodie(home)@gmail.com"],
    ids=["empty-label", "trailing-dot", "bracket", "comment"],
)
async def test_an_address_no_mail_can_go_to_is_refused_for_good_not_retried(
    notice_activities: NoticeActivities, sink: MailSink, french_return: ReturnStory, email: str
) -> None:
    """A return holding such an address (taken before the doors refused them) gets its
    notice refused for good, which the return records and tells operations, rather than a
    retry that could never succeed, holding the return at that email."""
    customer = french_return.customer.model_copy(update={"email": email})
    story = dataclasses.replace(french_return, customer=customer)

    with pytest.raises(ApplicationError) as caught:
        await ActivityEnvironment().run(notice_activities.send_notices, picked_up(story))

    assert caught.value.non_retryable
    detail = NoticesUndelivered.from_detail(caught.value.details[0])
    assert detail.first_failure is FailureType.INVALID_NOTICE
    assert (
        detail.reason == "Cannot send the notice: customer.email is not an address mail can go to"
    )
    assert email not in caught.value.message
    assert sent_ids(sink) == [SELLER_ID]  # the seller's notice still goes


async def test_an_address_in_another_script_goes_to_its_domain_written_in_ascii(
    sink: MailSink, french_return: ReturnStory, notice_activities: NoticeActivities
) -> None:
    """`bücher.de` is written `xn--bcher-kva.de`: no relay needs SMTPUTF8 for it."""
    customer = french_return.customer.model_copy(update={"email": "jorg@bücher.de"})
    story = dataclasses.replace(french_return, customer=customer)

    await ActivityEnvironment().run(notice_activities.send_notices, picked_up(story))

    customer_mail, _seller_mail = read_mailbox(sink.directory)
    assert customer_mail["To"].addresses[0].addr_spec == "jorg@xn--bcher-kva.de"


async def test_a_relay_refusing_every_recipient_names_every_kind_not_delivered(
    labels: PrintedLabels,
    sellers: FileSellerDirectory,
    post_offices: CarrierPostOffices,
    french_return: ReturnStory,
    sent_notices: SentNotices,
) -> None:
    async with ScriptedRelay({"RCPT": "550 5.1.1 No such mailbox"}) as relay:
        settings = Settings(smtp_host="127.0.0.1", smtp_port=relay.port)
        notices = NoticeActivities(
            SmtpNotifier(settings),
            NoticeComposer(settings),
            labels,
            sellers,
            post_offices,
            sent_notices,
        )

        with pytest.raises(ApplicationError) as caught:
            await ActivityEnvironment().run(notices.send_notices, picked_up(french_return))

    assert caught.value.type == FailureType.NOTICES_UNDELIVERED
    assert caught.value.non_retryable
    detail = NoticesUndelivered.from_detail(caught.value.details[0])
    assert detail.kinds == [NoticeKind.PICKUP_CONFIRMED, NoticeKind.SELLER_PARCEL_INBOUND]
    assert detail.first_failure is FailureType.RECIPIENT_REJECTED
    assert "elodie" not in caught.value.message
    assert "retours@" not in caught.value.message


@workflow.defn(sandboxed=False)
class SendNoticesOfAMoment:
    @workflow.run
    async def run(self, batch: NoticeBatch) -> list[NoticeReceipt]:
        receipts: list[NoticeReceipt] = await workflow.execute_activity(
            "send_notices",
            batch,
            result_type=list[NoticeReceipt],
            start_to_close_timeout=timedelta(seconds=20),
            retry_policy=RetryPolicy(initial_interval=timedelta(milliseconds=100)),
        )
        return receipts


async def run_with_worker(
    env: WorkflowEnvironment, send_notices: Any, batch: NoticeBatch
) -> list[NoticeReceipt]:
    task_queue = f"notices-{uuid.uuid4().hex[:8]}"
    async with Worker(
        env.client,
        task_queue=task_queue,
        workflows=[SendNoticesOfAMoment],
        activities=[send_notices],
        workflow_runner=UnsandboxedWorkflowRunner(),
    ):
        return await env.client.execute_workflow(
            SendNoticesOfAMoment.run,
            batch,
            id=f"notices-{uuid.uuid4().hex[:8]}",
            task_queue=task_queue,
        )


async def test_a_batch_half_sent_when_the_sellers_file_broke_is_finished_by_the_retry(
    time_skipping_env: WorkflowEnvironment,
    notice_activities: NoticeActivities,
    sink: MailSink,
    sellers_path: Path,
    french_return: ReturnStory,
) -> None:
    sellers_path.write_text("{ half a file", encoding="utf-8")
    attempts: list[int] = []

    @activity.defn(name="send_notices")
    async def send_while_an_operator_fixes_the_file(batch: NoticeBatch) -> list[NoticeReceipt]:
        attempts.append(activity.info().attempt)
        try:
            return await notice_activities.send_notices(batch)
        finally:
            sellers_path.write_text(sellers_file([french_return]), encoding="utf-8")

    receipts = await run_with_worker(
        time_skipping_env, send_while_an_operator_fixes_the_file, picked_up(french_return)
    )

    assert attempts == [1, 2]
    assert [r.sent for r in receipts] == [False, True]
    assert sent_ids(sink) == [CUSTOMER_ID, SELLER_ID]


async def test_a_batch_sent_before_its_attempt_was_lost_is_not_sent_again(
    time_skipping_env: WorkflowEnvironment,
    notice_activities: NoticeActivities,
    sink: MailSink,
    french_return: ReturnStory,
) -> None:
    attempts: list[int] = []

    @activity.defn(name="send_notices")
    async def send_then_lose_the_attempt(batch: NoticeBatch) -> list[NoticeReceipt]:
        attempts.append(activity.info().attempt)
        receipts = await notice_activities.send_notices(batch)
        if activity.info().attempt == 1:
            raise RuntimeError("worker lost the attempt after the relay accepted both")
        return receipts

    receipts = await run_with_worker(
        time_skipping_env, send_then_lose_the_attempt, picked_up(french_return)
    )

    assert attempts == [1, 2]
    assert [r.sent for r in receipts] == [False, False]
    assert sent_ids(sink) == [CUSTOMER_ID, SELLER_ID]
