"""The acknowledgement of a withdrawal is sent once, as the returns' notices are: an attempt
that runs again, on this worker or another, finds it in the sent-notices ledger and sends
nothing."""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from temporalio.testing import ActivityEnvironment, WorkflowEnvironment

from activities.notices.sent import WITHDRAWAL_ACKNOWLEDGEMENT, SentNotices
from activities.notices.smtp import SmtpNotifier
from activities.withdrawals.activities import WithdrawalActivities
from domain.ids import return_id
from domain.withdrawals import (
    WithdrawalAcknowledgement,
    WithdrawalLinkRequest,
    WithdrawalReceipt,
    WithdrawnLine,
    withdrawal_workflow_id,
)
from mail_sink import MailSink, read_mailbox
from plumbing.settings import Settings
from store import Store, StoreUnavailable, open_store
from tests.factories import retract_event, unique_order_id
from tests.histories.record_withdrawals import offer


@pytest.fixture
async def sink(tmp_path: Path) -> AsyncIterator[MailSink]:
    async with MailSink(tmp_path / "mail") as running:
        yield running


@pytest.fixture
def settings(sink: MailSink, tmp_path: Path) -> Settings:
    return Settings(var_dir=tmp_path, smtp_host=sink.host, smtp_port=sink.port)


@pytest.fixture
def store(settings: Settings) -> Iterator[Store]:
    opened = open_store(settings)
    yield opened
    opened.close()


def withdrawn() -> WithdrawalAcknowledgement:
    offered = offer(dt.timedelta(hours=1))
    line = offered.request.lines[0]
    receipt = WithdrawalReceipt(
        withdrawal_id=offered.withdrawal_id,
        order_id=offered.request.order_id,
        submitted_at=dt.datetime.now(dt.UTC).replace(microsecond=0),
        lines=[
            WithdrawnLine(
                line_id=line.line_id,
                return_id=f"return-{line.order_id}-{line.line_id}",
                started=True,
            )
        ],
    )
    return WithdrawalAcknowledgement(offer=offered, receipt=receipt)


async def test_an_acknowledgement_sent_by_an_attempt_is_not_sent_again_by_the_next(
    time_skipping_env: WorkflowEnvironment, settings: Settings, sink: MailSink, store: Store
) -> None:
    ack = withdrawn()
    # Two workers sharing the store: the first sends, then dies before its completion
    # reaches Temporal; the retry runs on the second.
    first, second = (
        WithdrawalActivities(
            time_skipping_env.client, settings, SmtpNotifier(settings), SentNotices(store)
        )
        for _ in range(2)
    )
    env = ActivityEnvironment()
    env.info = dataclasses.replace(env.info, workflow_id=ack.offer.withdrawal_id)

    await env.run(first.acknowledge_withdrawal, ack)
    retry = ActivityEnvironment()
    retry.info = dataclasses.replace(env.info, attempt=2)
    await retry.run(second.acknowledge_withdrawal, ack)

    received = [
        m for m in read_mailbox(sink.directory) if ack.receipt.order_id in str(m["Subject"])
    ]
    assert len(received) == 1
    message_id = str(received[0]["Message-ID"])
    assert await SentNotices(store).sent_at(message_id) is not None
    row = store.database.fetch_one(
        "SELECT return_id, kind FROM sent_notices WHERE message_id = ?", (message_id,)
    )
    assert row is not None and tuple(row) == (ack.offer.withdrawal_id, WITHDRAWAL_ACKNOWLEDGEMENT)


class StoreDownWhileRecording(SentNotices):
    """The ledger of a store that stops answering just after the relay has accepted."""

    async def record(self, message_id: str, return_id: str, kind: str) -> None:
        raise StoreUnavailable("postgresql://returnflow@db/returnflow: connection refused")


async def test_an_acknowledgement_the_ledger_could_not_record_is_not_sent_again(
    time_skipping_env: WorkflowEnvironment,
    settings: Settings,
    sink: MailSink,
    store: Store,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The store stops answering once the relay has accepted: the attempt fails, and the
    retry, with the store back, finds the acknowledgement in the attempt's heartbeat."""
    monkeypatch.setattr("activities.notices.sent.RECORD_ATTEMPTS", 1)
    ack = withdrawn()
    notifier = SmtpNotifier(settings)
    client = time_skipping_env.client
    env = ActivityEnvironment()
    beats: list[tuple[object, ...]] = []
    env.on_heartbeat = lambda *details: beats.append(details)
    down = WithdrawalActivities(client, settings, notifier, StoreDownWhileRecording(store))
    with pytest.raises(StoreUnavailable):
        await env.run(down.acknowledge_withdrawal, ack)

    retry = ActivityEnvironment()
    retry.info = dataclasses.replace(env.info, attempt=2, heartbeat_details=list(beats[-1]))
    back = WithdrawalActivities(client, settings, notifier, SentNotices(store))
    await retry.run(back.acknowledge_withdrawal, ack)

    received = [
        m for m in read_mailbox(sink.directory) if ack.receipt.order_id in str(m["Subject"])
    ]
    assert len(received) == 1


def withdrawn_from(order_id: str) -> WithdrawalAcknowledgement:
    """As `withdrawn`, for an order of this ID."""
    event = retract_event(order_id=order_id)
    request = WithdrawalLinkRequest(
        request_id="help-1", customer=event.customer, lines=[event.order]
    )
    ack = withdrawn()
    offered = ack.offer.model_copy(
        update={
            "withdrawal_id": withdrawal_workflow_id(order_id, request.request_id),
            "request": request,
        }
    )
    receipt = ack.receipt.model_copy(
        update={
            "withdrawal_id": offered.withdrawal_id,
            "order_id": order_id,
            "lines": [WithdrawnLine(line_id="1", return_id=return_id(order_id, "1"), started=True)],
        }
    )
    return WithdrawalAcknowledgement(offer=offered, receipt=receipt)


async def test_orders_whose_ids_hold_a_colon_each_get_their_acknowledgement(
    time_skipping_env: WorkflowEnvironment, settings: Settings, sink: MailSink, store: Store
) -> None:
    """`:` may be in an order's ID but not in a Message-ID: written `=3A`, the ID reads back
    whole, and one order's acknowledgement is never taken for another's."""
    prefix = unique_order_id("MKT")
    activities = WithdrawalActivities(
        time_skipping_env.client, settings, SmtpNotifier(settings), SentNotices(store)
    )
    acks = [withdrawn_from(f"{prefix}:1001"), withdrawn_from(f"{prefix}:2002")]
    for ack in acks:
        env = ActivityEnvironment()
        env.info = dataclasses.replace(env.info, workflow_id=ack.offer.withdrawal_id)
        await env.run(activities.acknowledge_withdrawal, ack)

    received = {
        found.group(): str(m["Message-ID"])
        for m in read_mailbox(sink.directory)
        if (found := re.search(rf"{prefix}:\d+", str(m["Subject"]))) is not None
    }
    assert sorted(received) == [f"{prefix}:1001", f"{prefix}:2002"]
    for order_id, message_id in received.items():
        assert message_id.startswith(f"<withdrawal-{order_id.replace(':', '=3A')}~help-1.")
        assert await SentNotices(store).sent_at(message_id) is not None
