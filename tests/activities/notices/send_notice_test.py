"""The send_notice activity: one email per notice, over real SMTP, whatever the retries."""

from __future__ import annotations

import dataclasses
import io
import logging
from pathlib import Path
from typing import Any

import pytest
from pypdf import PdfReader
from temporalio.exceptions import ApplicationError
from temporalio.testing import ActivityEnvironment

from activities.notices import CarrierPostOffices, NoticeActivities, NoticeComposer, SmtpNotifier
from activities.notices.sent import SentNotices
from activities.sellers.directory import FileSellerDirectory
from domain.notices import NoticeKind
from mail_sink import MailSink, read_mailbox
from plumbing.settings import Settings

from .labels import PrintedLabels
from .stories import ReturnStory


@pytest.fixture
def env() -> ActivityEnvironment:
    return ActivityEnvironment()


def heartbeats_of(env: ActivityEnvironment) -> list[tuple[Any, ...]]:
    beats: list[tuple[Any, ...]] = []
    env.on_heartbeat = lambda *details: beats.append(details)
    return beats


async def test_label_email_carries_the_pdf_and_both_parts(
    env: ActivityEnvironment,
    notice_activities: NoticeActivities,
    sink: MailSink,
    labels: PrintedLabels,
    english_return: ReturnStory,
) -> None:
    request = english_return.notice(NoticeKind.RETURN_LABEL)

    receipt = await env.run(notice_activities.send_notice, request)

    assert receipt.sent
    [email] = read_mailbox(sink.directory)
    assert email["Message-ID"] == receipt.message_id
    assert email.get_content_type() == "multipart/mixed"
    body, attachment = email.iter_parts()
    assert body.get_content_type() == "multipart/alternative"
    assert [part.get_content_type() for part in body.iter_parts()] == ["text/plain", "text/html"]
    assert attachment.get_content_type() == "application/pdf"
    assert attachment.get_filename() == "return-label-SB0012345678FR.pdf"
    pdf = attachment.get_content()
    assert pdf == labels.printed["SB0012345678FR"]
    assert "SB0012345678FR" in PdfReader(io.BytesIO(pdf)).pages[0].extract_text()


async def test_sent_notice_is_recorded_in_a_heartbeat(
    env: ActivityEnvironment,
    notice_activities: NoticeActivities,
    sink: MailSink,
    french_return: ReturnStory,
) -> None:
    beats = heartbeats_of(env)

    receipt = await env.run(
        notice_activities.send_notice, french_return.notice(NoticeKind.ACKNOWLEDGEMENT)
    )

    assert receipt.message_id == "<return-O-7731-1.acknowledgement.1@returns.marketplace.example>"
    assert beats == [(receipt.message_id,)]
    assert len(read_mailbox(sink.directory)) == 1


async def test_retry_after_a_sent_notice_sends_nothing(
    env: ActivityEnvironment,
    notice_activities: NoticeActivities,
    sink: MailSink,
    labels: PrintedLabels,
    french_return: ReturnStory,
) -> None:
    message_id = "<return-O-7731-1.return_label.1@returns.marketplace.example>"
    env.info = dataclasses.replace(env.info, attempt=2, heartbeat_details=[message_id])
    beats = heartbeats_of(env)

    receipt = await env.run(
        notice_activities.send_notice, french_return.notice(NoticeKind.RETURN_LABEL)
    )

    assert receipt.message_id == message_id
    assert not receipt.sent
    assert read_mailbox(sink.directory) == []
    assert labels.printed == {}  # not even the label was fetched again
    assert beats == []


async def test_new_revision_of_a_notice_goes_out_again(
    env: ActivityEnvironment,
    notice_activities: NoticeActivities,
    sink: MailSink,
    french_return: ReturnStory,
) -> None:
    first = "<return-O-7731-1.return_label.1@returns.marketplace.example>"
    env.info = dataclasses.replace(env.info, attempt=2, heartbeat_details=[first])

    receipt = await env.run(
        notice_activities.send_notice, french_return.notice(NoticeKind.RETURN_LABEL, revision=2)
    )

    assert receipt.sent
    assert receipt.message_id == "<return-O-7731-1.return_label.2@returns.marketplace.example>"
    assert [m["Message-ID"] for m in read_mailbox(sink.directory)] == [receipt.message_id]


async def test_french_customer_gets_french_notice(
    env: ActivityEnvironment,
    notice_activities: NoticeActivities,
    sink: MailSink,
    french_return: ReturnStory,
) -> None:
    await env.run(notice_activities.send_notice, french_return.notice(NoticeKind.RETURN_ADDRESS))

    [email] = read_mailbox(sink.directory)
    assert (
        email["Subject"]
        == "Comment renvoyer iPhone 13 128 Go Minuit, très bon état (commande O-7731)"
    )
    assert email["To"] == "Élodie Marchand <elodie.marchand@example.fr>"
    assert email["Content-Language"] == "fr"
    text = email.get_body(("plain",))
    assert text is not None
    content = text.get_content()
    assert content.startswith("Bonjour Élodie Marchand,")
    assert "Merci de l'envoyer au plus tard le 8 décembre 2026." in content
    assert "Atelier Reconditionné SAS" in content


async def test_mailbox_pickup_label_without_its_booking_is_refused(
    env: ActivityEnvironment,
    notice_activities: NoticeActivities,
    english_return: ReturnStory,
) -> None:
    request = english_return.notice(NoticeKind.RETURN_LABEL, pickup=None)

    with pytest.raises(ApplicationError) as caught:
        await env.run(notice_activities.send_notice, request)

    assert caught.value.type == "InvalidNotice"
    assert caught.value.details == ("pickup",)


async def test_unreachable_relay_fails_the_attempt_and_leaves_no_heartbeat(
    env: ActivityEnvironment,
    composer: NoticeComposer,
    labels: PrintedLabels,
    sellers: FileSellerDirectory,
    post_offices: CarrierPostOffices,
    english_return: ReturnStory,
    tmp_path: Path,
    sent_notices: SentNotices,
) -> None:
    async with MailSink(tmp_path) as stopped:
        pass  # once stopped, nothing listens on its port
    relay = Settings(smtp_host=stopped.host, smtp_port=stopped.port)
    activities = NoticeActivities(
        SmtpNotifier(relay), composer, labels, sellers, post_offices, sent_notices
    )
    beats = heartbeats_of(env)

    with pytest.raises(ApplicationError) as caught:
        await env.run(activities.send_notice, english_return.notice(NoticeKind.ACKNOWLEDGEMENT))

    assert caught.value.type == "MailRelayUnavailable"
    assert not caught.value.non_retryable
    assert beats == []  # so the next attempt sends it


async def test_activity_logs_name_the_notice_not_the_customer(
    env: ActivityEnvironment,
    notice_activities: NoticeActivities,
    sink: MailSink,
    french_return: ReturnStory,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO, logger="temporalio.activity")

    await env.run(notice_activities.send_notice, french_return.notice(NoticeKind.COUNTER_CODE))

    [record] = [r for r in caplog.records if r.name == "temporalio.activity"]
    assert record.getMessage().startswith("notice sent")
    assert record.__dict__["return_id"] == "return-O-7731-1"
    assert record.__dict__["kind"] == "counter_code"
    assert record.__dict__["message_key"] == "return-O-7731-1.counter_code.1"
    logged = repr(record.__dict__)
    for personal in ("Élodie", "Marchand", "elodie.marchand", "Lyon", "Tanneurs"):
        assert personal not in logged
