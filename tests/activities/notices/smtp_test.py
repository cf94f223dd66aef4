"""Every way a relay can fail is either retried with backoff or, when retrying cannot help, not."""

from __future__ import annotations

import socket

import pytest
from temporalio.exceptions import ApplicationError

from activities.notices import NoticeComposer, SmtpNotifier
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
            "MAIL", "530 5.7.0 Authentication required", "MailRelayUnavailable", False,
            id="refused-sender-is-retried-until-the-relay-is-configured",
        ),
        pytest.param(
            "EHLO", "421 4.3.2 Service shutting down", "MailRelayUnavailable", False,
            id="relay-shutting-down-is-retried",
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
