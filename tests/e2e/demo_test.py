"""`make demo DEMO_EXIT=1`, as a new user runs it: every sample ends where it should."""

from __future__ import annotations

import asyncio
import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from activities.notices.compose import notice_key
from activities.orders.service import FileOrderService
from mail_sink import read_mailbox
from marketplace_sandbox.feed import load as load_feed
from tests.e2e.conftest import ROOT, stack_config, stack_env

pytestmark = pytest.mark.e2e


def test_demo_plays_every_sample_to_its_expected_stage_and_mails_the_customers(
    tmp_path: Path,
) -> None:
    config = stack_config(tmp_path / "var")

    demo = subprocess.run(
        [sys.executable, "-m", "devstack.demo", "--exit"],
        cwd=ROOT,
        env=stack_env(config),
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )

    assert demo.returncode == 0, demo.stdout + demo.stderr
    assert "every sample reached its expected stage" in demo.stdout
    for line in ("01-mailbox-pickup", "02-post-office-drop-off", "03-post-office-counter"):
        assert any(row.startswith(line) and "delivered" in row for row in demo.stdout.splitlines())
    assert any(
        row.startswith("04-outside-return-window") and "rejected" in row
        for row in demo.stdout.splitlines()
    )
    kinds: dict[str, int] = {}
    pdfs = 0
    acknowledgements = 0
    for message in read_mailbox(config.mail_dir):
        key = notice_key(str(message["Message-ID"]))
        if ".acknowledgement@" in str(message["Message-ID"]):
            # The two samples withdrawn with the withdrawal function: its acknowledgement.
            acknowledgements += 1
            continue
        assert key is not None
        kinds[key.kind.value] = kinds.get(key.kind.value, 0) + 1
        pdfs += sum(
            1 for a in message.iter_attachments() if a.get_content_type() == "application/pdf"
        )
    assert kinds == {
        "return_address": 3,  # also the acknowledgement: the sellers' addresses are on file
        "return_label": 2,
        "counter_code": 1,
        "pickup_confirmed": 3,
        "seller_parcel_inbound": 3,
        "seller_parcel_delivered": 3,
        "operations_attention": 1,  # the seller's deduction, for approval
        "deduction_approved": 1,
        "rejection": 1,
    }
    assert pdfs == 2
    assert acknowledgements == 2
    # The customers' pages to try in a browser: each return's, and a withdrawal function.
    assert demo.stdout.count("/my/returns/") == 4
    assert "/my/withdraw/" in demo.stdout
    # A fresh order of the first sample, numbered once for this run.
    assert re.search(r"withdrawal function of order ORD-2026-10231-\d{12}W ", demo.stdout)
    # Where to see the run's figures: each service's metrics, and Prometheus.
    assert f"worker http://{config.host}:{config.worker_metrics_port}/metrics" in demo.stdout
    assert "Prometheus" in demo.stdout
    assert (config.var_dir / "demo" / "events" / "01-mailbox-pickup.json").exists()
    # The refunds and the claim went to the order service over HTTP: the marketplace sandbox
    # recorded them.
    marketplace = FileOrderService(config.var_dir / "marketplace")
    assert len(asyncio.run(marketplace.refunds())) == 3
    assert len(asyncio.run(marketplace.claims())) == 1
    assert not (config.var_dir / "orders").exists()
    # Each return's events reached the marketplace as signed webhooks, in sequence.
    feed = demo.stdout.split("the event feed, as the marketplace received it")[1].split("\n\n")[0]
    [pickup] = [row for row in feed.splitlines() if "01-mailbox-pickup" in row]
    assert pickup.split(maxsplit=1)[1].startswith(
        "1 started > 2 accepted > 3 address_sent > 4 method_chosen > 5 label_created > "
        "6 pickup_booked > 7 picked_up > 8 refund_requested > 9 delivered"
    )
    [rejected] = [row for row in feed.splitlines() if "04-outside-return-window" in row]
    assert rejected.split(maxsplit=1)[1] == "1 started > 2 rejected"
    received = load_feed(config.var_dir / "marketplace")
    by_return: dict[str, list[int]] = {}
    for e in received:
        assert e["subscriber"] == "marketplace"
        if not e["duplicate"]:
            by_return.setdefault(e["return_id"], []).append(e["sequence"])
    assert len(by_return) == 4
    assert all(seen == list(range(1, len(seen) + 1)) for seen in by_return.values())
    assert "camille" in json.dumps(received).lower()  # the marketplace receives personal data
