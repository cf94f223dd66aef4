"""The label email takes its PDF from the real carrier sandbox; carrier problems are classified."""

from __future__ import annotations

import datetime as dt

import pytest
from temporalio.exceptions import ApplicationError
from temporalio.testing import ActivityEnvironment

from activities.carriers.registry import CarrierRegistry
from activities.notices import CarrierPostOffices, NoticeActivities, NoticeComposer, SmtpNotifier
from activities.notices.sent import SentNotices
from activities.sellers.directory import FileSellerDirectory
from domain.carriers import Label
from domain.notices import NoticeKind
from mail_sink import MailSink, read_mailbox
from plumbing.settings import Settings

from .stories import ReturnStory


async def test_a_label_the_carrier_does_not_have_is_a_final_failure_and_sends_nothing(
    carriers: CarrierRegistry,
    sink: MailSink,
    settings: Settings,
    sellers: FileSellerDirectory,
    french_return: ReturnStory,
    sent_notices: SentNotices,
) -> None:
    activities = NoticeActivities(
        SmtpNotifier(settings),
        NoticeComposer(settings),
        carriers,
        sellers,
        CarrierPostOffices(carriers),
        sent_notices,
    )
    unknown = Label(
        carrier="sandbox",
        label_id="LBL-DOESNOTEXIST",
        tracking_number="SB000000000FR",
        created_at=dt.datetime.now(dt.UTC),
    )
    request = french_return.notice(NoticeKind.RETURN_LABEL, label=unknown)

    with pytest.raises(ApplicationError) as failed:
        await ActivityEnvironment().run(activities.send_notice, request)

    assert failed.value.type == "CarrierRejected" and failed.value.non_retryable
    assert read_mailbox(sink.directory) == []
