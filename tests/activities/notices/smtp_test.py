"""Every way a relay can fail is either retried with backoff or, when retrying cannot help, not."""

from __future__ import annotations

import asyncio
import socket
from email.message import EmailMessage

import pytest
from temporalio.exceptions import ApplicationError

from activities.notices import NoticeComposer, SmtpNotifier, smtp
from domain.notices import NoticeKind
from mail_sink import MailSink, read_mailbox
from plumbing.settings import Settings

from .servers import ScriptedRelay, silent_server
from .stories import ReturnStory


def relay_at(port: int, timeout: float = 5.0) -> SmtpNotifier:
    return SmtpNotifier(
        Settings(smtp_host="127.0.0.1", smtp_port=port, smtp_timeout_seconds=timeout)
    )


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


async def test_unreachable_smtp_is_retryable(
    composer: NoticeComposer, english_return: ReturnStory
) -> None:
    message = composer.compose(english_return.notice(NoticeKind.ACKNOWLEDGEMENT))

    with pytest.raises(ApplicationError) as caught:
        await relay_at(closed_port()).send(message)

    assert caught.value.type == "MailRelayUnavailable"
    assert not caught.value.non_retryable


async def test_silent_smtp_server_times_out_and_is_retryable(
    composer: NoticeComposer, english_return: ReturnStory
) -> None:
    message = composer.compose(english_return.notice(NoticeKind.ACKNOWLEDGEMENT))

    async with silent_server() as port:
        with pytest.raises(ApplicationError) as caught:
            await relay_at(port, timeout=0.3).send(message)

    assert caught.value.type == "MailRelayUnavailable"
    assert not caught.value.non_retryable


async def test_recipient_rejected_is_not_retried(
    composer: NoticeComposer, english_return: ReturnStory
) -> None:
    message = composer.compose(english_return.notice(NoticeKind.ACKNOWLEDGEMENT))
    refusal = "550 5.1.1 <siobhan.walsh@example.ie>: Recipient address rejected: User unknown"

    async with ScriptedRelay({"RCPT": refusal}) as relay:
        with pytest.raises(ApplicationError) as caught:
            await relay_at(relay.port).send(message)

    assert caught.value.type == "RecipientRejected"
    assert caught.value.non_retryable
    assert "550 5.1.1" in str(caught.value)
    # The message goes into the workflow history and the Web UI: no address in it, nor below.
    assert "siobhan.walsh" not in str(caught.value)
    assert caught.value.__cause__ is None


async def test_sink_bounces_an_address_that_cannot_exist(
    sink: MailSink, settings: Settings, composer: NoticeComposer, french_return: ReturnStory
) -> None:
    customer = french_return.customer.model_copy(update={"email": "elodie@example.invalid"})
    message = composer.compose(french_return.notice(NoticeKind.ACKNOWLEDGEMENT, customer=customer))

    with pytest.raises(ApplicationError) as caught:
        await SmtpNotifier(settings).send(message)

    assert caught.value.type == "RecipientRejected"
    assert caught.value.non_retryable
    assert read_mailbox(sink.directory) == []


@pytest.mark.parametrize(
    ("verb", "reply", "error_type", "final"),
    [
        pytest.param(
            "RCPT", "451 4.7.1 Greylisted, try again later", "MailRelayUnavailable", False,
            id="greylisted-recipient-is-retried",
        ),
        pytest.param(
            "DATA", "554 5.6.0 Message content rejected", "MessageRejected", True,
            id="refused-content-is-not-retried",
        ),
        pytest.param(
            "MAIL", "552 5.3.4 Message size exceeds fixed limit", "MessageRejected", True,
            id="a-message-too-large-is-not-retried",
        ),
        pytest.param(
            "MAIL", "530 5.7.0 Authentication required", "MailRelayUnavailable", False,
            id="refused-sender-is-retried-until-the-relay-is-configured",
        ),
        pytest.param(
            "EHLO", "421 4.3.2 Service shutting down", "MailRelayUnavailable", False,
            id="relay-shutting-down-is-retried",
        ),
        pytest.param(
            "RCPT", "550 5.7.1 Relaying denied", "MailRelayUnavailable", False,
            id="relaying-denied-is-our-configuration-retried",
        ),
        pytest.param(
            "RCPT", "530 5.7.0 Authentication required", "MailRelayUnavailable", False,
            id="login-required-at-the-recipient-is-retried",
        ),
    ],
)  # fmt: skip
async def test_relay_refusals_are_final_only_when_retrying_cannot_help(
    composer: NoticeComposer,
    english_return: ReturnStory,
    verb: str,
    reply: str,
    error_type: str,
    final: bool,
) -> None:
    message = composer.compose(english_return.notice(NoticeKind.ACKNOWLEDGEMENT))

    async with ScriptedRelay({verb: reply}) as relay:
        with pytest.raises(ApplicationError) as caught:
            await relay_at(relay.port).send(message)

    assert caught.value.type == error_type
    assert caught.value.non_retryable is final


def kept_open_at(port: int, keep_open: int = 1) -> SmtpNotifier:
    return SmtpNotifier(
        Settings(smtp_host="127.0.0.1", smtp_port=port, smtp_timeout_seconds=5.0),
        keep_open=keep_open,
    )


@pytest.fixture
def acknowledgement(composer: NoticeComposer, english_return: ReturnStory) -> EmailMessage:
    return composer.compose(english_return.notice(NoticeKind.ACKNOWLEDGEMENT))


async def three_through_the_workers_notifier(relay: ScriptedRelay, message: EmailMessage) -> None:
    """Three notices one after another through a notifier that keeps its connection, then the
    worker's stop."""
    notifier = kept_open_at(relay.port)
    for _ in range(3):
        await notifier.send(message)
    await notifier.aclose()


async def test_the_workers_notifier_sends_one_notice_after_another_on_one_connection(
    acknowledgement: EmailMessage,
) -> None:
    async with ScriptedRelay({}) as relay:
        await three_through_the_workers_notifier(relay, acknowledgement)

    assert relay.accepted == 3
    assert relay.connections == 1
    # Each reuse is checked first; the connection is closed politely at the worker's stop.
    assert relay.verbs.count("NOOP") == 2
    assert relay.verbs[-1] == "QUIT"


async def test_without_keeping_connections_each_notice_has_its_own(
    acknowledgement: EmailMessage,
) -> None:
    async with ScriptedRelay({}) as relay:
        notifier = relay_at(relay.port)
        for _ in range(3):
            await notifier.send(acknowledgement)

    assert (relay.accepted, relay.connections) == (3, 3)
    assert "NOOP" not in relay.verbs


async def test_a_relay_that_ended_the_session_gets_the_next_notice_on_a_new_connection(
    acknowledgement: EmailMessage,
) -> None:
    async with ScriptedRelay({}, hang_up_after=1) as relay:
        await three_through_the_workers_notifier(relay, acknowledgement)

    # The NOOP meets the relay's 421: the notice goes on a new connection, nothing fails.
    assert relay.accepted == 3
    assert relay.connections == 3


async def test_a_relay_that_refuses_the_next_mail_on_a_kept_session_gets_it_on_a_new_one(
    acknowledgement: EmailMessage,
) -> None:
    # The relay's limit of one message a session shows only at the next MAIL, after the NOOP.
    async with ScriptedRelay({}, hang_up_after=1, hang_up_at="MAIL") as relay:
        await three_through_the_workers_notifier(relay, acknowledgement)

    assert relay.accepted == 3
    assert relay.connections == 3
    assert relay.verbs.count("NOOP") == 2


async def test_a_new_session_that_refuses_the_mail_is_not_tried_again(
    acknowledgement: EmailMessage,
) -> None:
    async with ScriptedRelay({"MAIL": "421 4.3.2 relay.test shutting down"}) as relay:
        with pytest.raises(ApplicationError) as caught:
            await kept_open_at(relay.port).send(acknowledgement)

    assert caught.value.type == "MailRelayUnavailable"
    assert not caught.value.non_retryable
    assert relay.connections == 1


async def test_a_send_cancelled_mid_conversation_leaves_no_connection_behind(
    acknowledgement: EmailMessage,
) -> None:
    hung_up = asyncio.Event()

    async def stall_at_mail(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(b"220 relay.test ESMTP\r\n")
        await reader.readline()  # EHLO
        writer.write(b"250 relay.test\r\n")
        await reader.readline()  # MAIL, never answered
        await reader.read()  # until the client hangs up
        hung_up.set()
        writer.close()

    server = await asyncio.start_server(stall_at_mail, "127.0.0.1", 0)
    try:
        notifier = kept_open_at(server.sockets[0].getsockname()[1])
        sending = asyncio.create_task(notifier.send(acknowledgement))
        await asyncio.sleep(0.3)
        sending.cancel()  # the activity is cancelled, or the worker stops
        with pytest.raises(asyncio.CancelledError):
            await sending
        async with asyncio.timeout(2):
            await hung_up.wait()
    finally:
        server.close()


async def test_a_connection_left_idle_too_long_is_not_reused(
    acknowledgement: EmailMessage, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(smtp, "IDLE_SECONDS", 0.0)

    async with ScriptedRelay({}) as relay:
        notifier = kept_open_at(relay.port)
        await notifier.send(acknowledgement)
        await notifier.send(acknowledgement)
        await notifier.aclose()

    assert (relay.accepted, relay.connections) == (2, 2)
    # The stale one is dropped without a word (the relay may be gone): no NOOP, no QUIT.
    assert "NOOP" not in relay.verbs
    assert relay.verbs.count("QUIT") == 1


async def test_a_refused_notice_does_not_leave_its_connection_for_the_next(
    acknowledgement: EmailMessage,
) -> None:
    async with ScriptedRelay({"RCPT": "550 5.1.1 Recipient address rejected"}) as relay:
        notifier = kept_open_at(relay.port)
        for _ in range(2):
            with pytest.raises(ApplicationError):
                await notifier.send(acknowledgement)

    assert relay.connections == 2
    assert "NOOP" not in relay.verbs


async def test_no_more_connections_are_kept_than_asked(
    acknowledgement: EmailMessage,
) -> None:
    async with ScriptedRelay({}) as relay:
        notifier = kept_open_at(relay.port, keep_open=2)
        await asyncio.gather(*(notifier.send(acknowledgement) for _ in range(4)))
        await asyncio.gather(*(notifier.send(acknowledgement) for _ in range(4)))
        await notifier.aclose()

    # Four at once open four; two stay open for the next four, which open two more.
    assert relay.accepted == 8
    assert relay.connections == 6
