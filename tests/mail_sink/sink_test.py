"""The SMTP sink keeps every message it is sent, each in its own .eml file, in arrival order."""

from __future__ import annotations

import asyncio
import json
import os
import re
import signal
import sys
from pathlib import Path

import aiosmtplib
import pytest

from activities.notices import NoticeComposer
from domain.notices import NoticeKind
from mail_sink import MailSink, read_mailbox
from tests.activities.notices.stories import ReturnStory

PROJECT = Path(__file__).resolve().parents[2]


async def test_sink_stores_a_message_as_an_eml_file_named_after_its_notice(
    sink: MailSink, composer: NoticeComposer, english_return: ReturnStory
) -> None:
    message = composer.compose(english_return.notice(NoticeKind.ACKNOWLEDGEMENT))

    await aiosmtplib.send(message, hostname=sink.host, port=sink.port)

    [stored_file] = sink.directory.iterdir()  # no temporary file left behind
    assert re.fullmatch(
        r"\d{8}T\d{12}-0001-return-O-8812-1\.acknowledgement\.1\.eml", stored_file.name
    )
    [stored] = read_mailbox(sink.directory)
    assert stored["Message-ID"] == message["Message-ID"]
    assert stored["Subject"] == message["Subject"]
    assert stored["X-Original-To"] == "siobhan.walsh@example.ie"
    assert stored["Return-Path"] == "<returns@marketplace.example>"


async def test_sink_keeps_every_message_even_with_same_message_id(
    sink: MailSink, composer: NoticeComposer, french_return: ReturnStory
) -> None:
    message = composer.compose(french_return.notice(NoticeKind.ACKNOWLEDGEMENT))

    await aiosmtplib.send(message, hostname=sink.host, port=sink.port)
    await aiosmtplib.send(message, hostname=sink.host, port=sink.port)

    mailbox = read_mailbox(sink.directory)
    assert len(mailbox) == 2
    assert mailbox[0]["Message-ID"] == mailbox[1]["Message-ID"] == message["Message-ID"]


@pytest.mark.parametrize("message_id", ["<", "<a@", "<a@[b>"], ids=["open", "no-domain", "bracket"])
async def test_a_message_whose_message_id_is_malformed_is_kept_as_a_relay_keeps_it(
    sink: MailSink, message_id: str
) -> None:
    raw = (
        f"From: a@example.com\r\nTo: b@example.com\r\nMessage-ID: {message_id}\r\n"
        "Subject: malformed\r\n\r\nbody\r\n"
    ).encode()

    async with aiosmtplib.SMTP(hostname=sink.host, port=sink.port) as smtp:
        await smtp.sendmail("a@example.com", ["b@example.com"], raw)

    [stored] = read_mailbox(sink.directory)
    assert stored["Subject"] == "malformed"


async def test_mailbox_keeps_arrival_order_across_restarts(
    tmp_path: Path, composer: NoticeComposer, french_return: ReturnStory
) -> None:
    kinds = [NoticeKind.ACKNOWLEDGEMENT, NoticeKind.RETURN_ADDRESS, NoticeKind.COUNTER_CODE]
    for kind in kinds:
        async with MailSink(tmp_path) as sink:
            message = composer.compose(french_return.notice(kind))
            await aiosmtplib.send(message, hostname=sink.host, port=sink.port)

    names = sorted(await asyncio.to_thread(os.listdir, tmp_path))
    assert [name.split("-")[1] for name in names] == ["0001", "0002", "0003"]
    assert [m["Message-ID"].split(".")[1] for m in read_mailbox(tmp_path)] == kinds


def test_an_empty_or_missing_mailbox_reads_as_no_messages(tmp_path: Path) -> None:
    assert read_mailbox(tmp_path / "never-created") == []
    assert read_mailbox(tmp_path) == []


async def test_sink_process_serves_until_sigterm_and_logs_no_personal_data(
    tmp_path: Path, composer: NoticeComposer, french_return: ReturnStory
) -> None:
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "mail_sink",
        *("--host", "127.0.0.1", "--port", "0", "--dir", str(tmp_path)),
        cwd=PROJECT,
        stderr=asyncio.subprocess.PIPE,
    )
    assert process.stderr is not None
    try:
        listening = json.loads(await asyncio.wait_for(process.stderr.readline(), timeout=20))
        assert listening["event"] == "mail sink listening"
        message = composer.compose(french_return.notice(NoticeKind.ACKNOWLEDGEMENT))
        await aiosmtplib.send(message, hostname="127.0.0.1", port=listening["port"])
        stored = json.loads(await asyncio.wait_for(process.stderr.readline(), timeout=10))
    finally:
        process.send_signal(signal.SIGTERM)
        rest = await asyncio.wait_for(process.stderr.read(), timeout=10)
        exit_code = await process.wait()

    assert exit_code == 0
    assert stored["event"] == "message stored"
    assert stored["message_key"] == "return-O-7731-1.acknowledgement.1"
    assert stored["recipients"] == 1
    logs = json.dumps([listening, stored]) + rest.decode()
    assert "mail sink stopped" in logs
    assert "Élodie" not in logs
    assert "Marchand" not in logs
    assert "elodie.marchand" not in logs
    assert len(read_mailbox(tmp_path)) == 1


async def test_sink_cli_explains_itself() -> None:
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "mail_sink", "--help", cwd=PROJECT, stdout=asyncio.subprocess.PIPE
    )
    out, _ = await process.communicate()

    assert process.returncode == 0
    for flag in ("--host", "--port", "--dir", "--log-level"):
        assert flag in out.decode()
