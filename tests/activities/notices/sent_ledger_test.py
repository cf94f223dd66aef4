"""The sent-notices ledger: a notice the relay accepted is not sent again by any worker, even
when the attempt that sent it left no heartbeat behind (its worker died)."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator

import pytest
from temporalio.testing import ActivityEnvironment

from activities.notices import (
    CarrierPostOffices,
    NoticeActivities,
    NoticeComposer,
    SentNotices,
    SmtpNotifier,
)
from activities.sellers.directory import FileSellerDirectory
from domain.notices import NoticeBatch, NoticeKind
from mail_sink import MailSink, read_mailbox
from plumbing.settings import Settings
from store import Store, open_store

from .labels import PrintedLabels
from .stories import ReturnStory


@dataclasses.dataclass
class Worker:
    """One worker's notice activities, on its own connection to the shared store."""

    store: Store
    notices: NoticeActivities


@pytest.fixture
def two_workers(
    store_settings: Settings,
    settings: Settings,
    labels: PrintedLabels,
    sellers: FileSellerDirectory,
    post_offices: CarrierPostOffices,
) -> Iterator[tuple[Worker, Worker]]:
    workers = []
    for _ in range(2):
        store = open_store(store_settings)
        notices = NoticeActivities(
            SmtpNotifier(settings),
            NoticeComposer(settings),
            labels,
            sellers,
            post_offices,
            SentNotices(store),
        )
        workers.append(Worker(store, notices))
    yield workers[0], workers[1]
    for worker in workers:
        worker.store.close()


async def test_a_notice_sent_by_a_worker_that_died_is_not_sent_again_by_another(
    two_workers: tuple[Worker, Worker], sink: MailSink, french_return: ReturnStory
) -> None:
    first, second = two_workers
    request = french_return.notice(NoticeKind.RETURN_LABEL)
    sent = await ActivityEnvironment().run(first.notices.send_notice, request)
    # The first worker dies before its heartbeat reaches Temporal: the next attempt, on the
    # other worker, starts with no heartbeat details at all.
    retry = ActivityEnvironment()
    retry.info = dataclasses.replace(retry.info, attempt=2, heartbeat_details=[])

    again = await retry.run(second.notices.send_notice, request)

    assert sent.sent and not again.sent
    assert again.message_id == sent.message_id
    assert len(read_mailbox(sink.directory)) == 1
    [(message_id, kind, _)] = await SentNotices(second.store).of_return(request.return_id)
    assert (message_id, kind) == (sent.message_id, NoticeKind.RETURN_LABEL)


async def test_a_batch_resumed_on_another_worker_sends_only_what_is_missing(
    two_workers: tuple[Worker, Worker], sink: MailSink, french_return: ReturnStory
) -> None:
    first, second = two_workers
    acknowledgement = french_return.notice(NoticeKind.ACKNOWLEDGEMENT)
    await ActivityEnvironment().run(first.notices.send_notice, acknowledgement)
    batch = NoticeBatch(notices=[acknowledgement, french_return.notice(NoticeKind.RETURN_ADDRESS)])

    receipts = await ActivityEnvironment().run(second.notices.send_notices, batch)

    assert [r.sent for r in receipts] == [False, True]
    mailed = [m["Message-ID"] for m in read_mailbox(sink.directory)]
    assert sorted(mailed) == sorted(r.message_id for r in receipts)


class Flaky(SentNotices):
    """A ledger whose first writes fail, as a store restarting would."""

    def __init__(self, store: Store, failures: int) -> None:
        super().__init__(store)
        self.failures = failures

    async def record(self, message_id: str, return_id: str, kind: str) -> None:
        if self.failures:
            self.failures -= 1
            raise ConnectionError("store restarting")
        await super().record(message_id, return_id, kind)


async def test_a_ledger_write_that_fails_for_a_moment_is_tried_again_not_the_email(
    settings: Settings,
    composer: NoticeComposer,
    labels: PrintedLabels,
    sellers: FileSellerDirectory,
    post_offices: CarrierPostOffices,
    sink: MailSink,
    french_return: ReturnStory,
    product_store: Store,
) -> None:
    ledger = Flaky(product_store, failures=2)
    notices = NoticeActivities(
        SmtpNotifier(settings), composer, labels, sellers, post_offices, ledger
    )
    request = french_return.notice(NoticeKind.ACKNOWLEDGEMENT)

    receipt = await ActivityEnvironment().run(notices.send_notice, request)

    assert receipt.sent and ledger.failures == 0
    assert await ledger.sent_at(receipt.message_id) is not None
    assert len(read_mailbox(sink.directory)) == 1
