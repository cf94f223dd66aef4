"""What operations staff see in the Temporal Web UI, in headless chromium: a return found by its
stage, its summary and current details, and the reminder schedule.

Screenshots of every step are kept in var/artefacts/webui/ (a failed test adds its last page).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import re
import time
import uuid
from pathlib import Path
from urllib.parse import quote, urlencode

import httpx
import pytest
from playwright.async_api import Locator, Page, expect
from temporalio.service import RPCError, RPCStatusCode

from client.start import parse_event
from devstack.demo import redate
from devstack.stack import DevStack
from domain.events import RetractEvent
from domain.ids import return_id
from domain.returns import ReturnStage
from plumbing.signing import signed_headers
from tests.e2e.conftest import ROOT

pytestmark = pytest.mark.e2e

EVENTS = ROOT / "examples" / "events"
SCHEDULE_ID = "unshipped-returns-reminder"
VISIBLE_WITHIN_SECONDS = 60.0
"""Visibility is eventually consistent: how long a page is reloaded until a row shows."""
OPENED_WITHIN_MS = 20_000
"""How long a page opened takes to show its heading: the UI renders it after its own calls to
Temporal and the codec server, which take longer than Playwright's 5 s on a busy machine."""


def workflow_id(event: RetractEvent) -> str:
    return return_id(event.order.order_id, event.order.line_id)


async def send(stack: DevStack, name: str, suffix: str) -> RetractEvent:
    """A sample event, withdrawn now with a fresh order number, signed and posted to the
    gateway as the order service does."""
    now = dt.datetime.now(dt.UTC).replace(microsecond=0)
    event = redate(parse_event((EVENTS / name).read_bytes()), now, suffix)
    body = event.model_dump_json().encode()
    headers = {
        "Content-Type": "application/json",
        **signed_headers(stack.config.event_secret, body),
    }
    async with httpx.AsyncClient(base_url=stack.config.gateway_url, timeout=30) as gateway:
        response = await gateway.post("/v1/events", content=body, headers=headers)
    assert response.status_code == 202, response.text
    assert response.json()["return_id"] == workflow_id(event)
    return event


async def in_stage(stack: DevStack, event: RetractEvent, stage: ReturnStage) -> None:
    """Until Temporal's visibility lists the return in `stage` (what the UI's list asks)."""
    query = f'WorkflowId = "{workflow_id(event)}" AND ReturnStage = "{stage.value}"'
    async with asyncio.timeout(VISIBLE_WITHIN_SECONDS):
        while not (await stack.client.count_workflows(query)).count:
            await asyncio.sleep(0.2)


@pytest.fixture(scope="module")
async def returns(stack: DevStack) -> dict[ReturnStage, RetractEvent]:
    """One return waiting for the customer's choice, one rejected, both started through the
    gateway and listed in their stage."""
    suffix = f"WEBUI{uuid.uuid4().hex[:6].upper()}"
    accepted = await send(stack, "01-mailbox-pickup.json", suffix)
    rejected = await send(stack, "04-outside-return-window.json", suffix)
    await in_stage(stack, accepted, ReturnStage.AWAITING_CUSTOMER_CHOICE)
    await in_stage(stack, rejected, ReturnStage.REJECTED)
    return {ReturnStage.AWAITING_CUSTOMER_CHOICE: accepted, ReturnStage.REJECTED: rejected}


async def installed(stack: DevStack, schedule_id: str) -> bool:
    try:
        await stack.client.get_schedule_handle(schedule_id).describe()
    except RPCError as err:
        if err.status is RPCStatusCode.NOT_FOUND:
            return False
        raise
    return True


async def reload_until_visible(page: Page, url: str, target: Locator) -> None:
    """Open `url` and reload it until `target` shows (the UI's lists are not live)."""
    deadline = time.monotonic() + VISIBLE_WITHIN_SECONDS
    await page.goto(url)
    while True:
        try:
            await expect(target).to_be_visible(timeout=5_000)
            return
        except AssertionError:
            if time.monotonic() > deadline:
                raise AssertionError(
                    f"{target} not shown on {url} within {VISIBLE_WITHIN_SECONDS:.0f}s"
                ) from None
            await page.reload()


async def screenshot(page: Page, artefacts: Path, step: str) -> None:
    await page.screenshot(path=artefacts / f"{step}.png", full_page=True)


async def test_staff_find_a_return_by_stage_and_see_its_summary_and_details(
    stack: DevStack,
    returns: dict[ReturnStage, RetractEvent],
    page: Page,
    artefacts: Path,
) -> None:
    stage = ReturnStage.AWAITING_CUSTOMER_CHOICE
    event = returns[stage]
    wanted = workflow_id(event)
    namespace = quote(stack.config.namespace, safe="")
    query = f'ReturnStage="{stage.value}"'
    workflows = f"{stack.config.web_ui_url}/namespaces/{namespace}/workflows"

    # The list, filtered by stage as staff type it: the return is there, the rejected one not.
    row = page.get_by_role("link", name=wanted, exact=True)
    await reload_until_visible(page, f"{workflows}?{urlencode({'query': query})}", row)
    await expect(page.get_by_text(f'ReturnStage = "{stage.value}"').first).to_be_visible()
    other = workflow_id(returns[ReturnStage.REJECTED])
    await expect(page.get_by_role("link", name=other, exact=True)).to_have_count(0)
    await screenshot(page, artefacts, "01-workflows-by-return-stage")

    # Its page: the summary set at start, and the details the workflow keeps current.
    await row.click()
    await expect(page).to_have_url(re.compile(re.escape(f"{workflows}/{wanted}/")))
    await expect(page.get_by_role("heading", name=wanted)).to_be_visible(timeout=OPENED_WITHIN_MS)
    await screenshot(page, artefacts, "02-return")
    await page.get_by_test_id("user-metadata-tab").click()
    order = event.order
    summary = page.frame_locator("#user-metadata-summary")
    await expect(
        summary.get_by_text(f"Return of order {order.order_id} line {order.line_id}")
    ).to_be_visible()
    details = page.frame_locator("#user-metadata-current-details")
    await expect(details.get_by_text("Stage:")).to_be_visible()
    await expect(details.get_by_text(stage.value, exact=True)).to_be_visible()
    await screenshot(page, artefacts, "03-return-summary-and-details")


async def test_the_reminder_schedule_is_on_the_schedules_page(
    stack: DevStack, page: Page, artefacts: Path
) -> None:
    assert await installed(stack, SCHEDULE_ID), f"the dev stack did not install {SCHEDULE_ID}"
    namespace = quote(stack.config.namespace, safe="")
    schedules = f"{stack.config.web_ui_url}/namespaces/{namespace}/schedules"

    link = page.get_by_role("link", name=SCHEDULE_ID, exact=True)
    await reload_until_visible(page, schedules, link)
    await screenshot(page, artefacts, "04-schedules")

    await link.click()
    await expect(page).to_have_url(f"{schedules}/{SCHEDULE_ID}")
    heading = page.get_by_role("heading", name=SCHEDULE_ID)
    await expect(heading).to_be_visible(timeout=OPENED_WITHIN_MS)
    await screenshot(page, artefacts, "05-reminder-schedule")


async def test_staff_read_a_returns_decrypted_input_through_the_codec_server(
    stack: DevStack,
    returns: dict[ReturnStage, RetractEvent],
    page: Page,
    artefacts: Path,
) -> None:
    event = returns[ReturnStage.AWAITING_CUSTOMER_CHOICE]
    namespace = quote(stack.config.namespace, safe="")
    url = f"{stack.config.web_ui_url}/namespaces/{namespace}/workflows/{workflow_id(event)}"
    decode = f"{stack.config.codec_url}/decode"
    decoded: list[int] = []  # the statuses of the page's calls to the codec server
    page.on("response", lambda r: decoded.append(r.status) if r.url.startswith(decode) else None)

    await page.goto(url)
    heading = page.get_by_role("heading", name=workflow_id(event))
    await expect(heading).to_be_visible(timeout=OPENED_WITHIN_MS)
    # The input as the workflow received it, decrypted by the codec server for this page
    # (without it, the box shows `binary/encrypted` and base64).
    decrypted = page.get_by_text(f'"event_id": "{event.event_id}"')
    await expect(decrypted).to_be_visible(timeout=OPENED_WITHIN_MS)
    await screenshot(page, artefacts, "06-return-input-decrypted")
    # Further down the box: the customer (the box shows its lines as it scrolls).
    await page.get_by_text(f'"event_id": "{event.event_id}"').click()
    await page.keyboard.press("Control+End")
    await expect(page.get_by_text(f'"email": "{event.customer.email}"')).to_be_visible()
    await screenshot(page, artefacts, "07-return-input-customer")

    assert decoded and set(decoded) == {200}


CALL_THE_CODEC_SERVER = """async (url) => {
            try {
                const answer = await fetch(url, {
                    method: "POST",
                    headers: {"Content-Type": "application/json", "X-Namespace": "default"},
                    body: JSON.stringify({payloads: []}),
                });
                return "answered " + answer.status;
            } catch (error) {
                return "blocked: " + error.name;
            }
        }"""
"""What a script on a page can do with the codec server: call `/decode` from the page's origin."""


async def test_a_page_from_another_origin_cannot_use_the_codec_server(
    stack: DevStack, page: Page
) -> None:
    decode = f"{stack.config.codec_url}/decode"
    await page.goto(stack.config.web_ui_url)
    from_the_ui = await page.evaluate(CALL_THE_CODEC_SERVER, decode)
    # Another site the browser has open (the gateway's origin stands in for it).
    await page.goto(f"{stack.config.gateway_url}/healthz")

    from_elsewhere = await page.evaluate(CALL_THE_CODEC_SERVER, decode)

    assert from_the_ui == "answered 200"
    assert from_elsewhere == "blocked: TypeError"  # no CORS grant for this origin: refused
