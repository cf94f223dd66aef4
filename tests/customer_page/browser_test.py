"""A customer withdraws and returns a device through their own pages, in a real browser (Debian's
chromium, driven by Playwright) against the dev stack's real processes: they withdraw in the
withdrawal function's two steps, find the acknowledgement email with the statement and the date
and time, open the return page from it, choose a mailbox pickup on a day the carrier offers,
download the label and see the carrier's scan; another customer changes their mind, shows the
counter code's QR code and then cancels. In French and in English, on a phone and on a desktop;
axe-core checks every page state against WCAG 2.1 A and AA, and a screenshot of each step is
kept (var/artefacts/customer-page/).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import io
import re
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import axe_playwright_python
import httpx
import pytest
import zxingcpp
from PIL import Image
from playwright.async_api import Browser, Page, ViewportSize
from pypdf import PdfReader

from activities.notices.compose import notice_key
from customer_page.tokens import PageTokens, Purpose
from devstack.demo import carrier_collects, redate
from devstack.stack import DevStack
from domain.events import RetractEvent
from domain.ids import return_id
from domain.withdrawals import WithdrawalLinkRequest
from mail_sink import read_mailbox
from plumbing.signing import signed_headers
from tests.e2e.conftest import ROOT

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(240)]

EVENTS = ROOT / "examples" / "events"
AXE = (Path(axe_playwright_python.__file__).parent / "axe.min.js").read_text()
WCAG_21_AA = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]

VIEWPORTS: dict[str, ViewportSize] = {
    "phone": {"width": 390, "height": 844},
    "desktop": {"width": 1366, "height": 900},
}
WORDS = {
    "en": {
        "book": "Book this pickup",
        "choose": "Choose this",
        "change": "Choose this instead",
        "download": "Download the label (PDF)",
        "done": "Done: your choice is recorded.",
        "picked_up": "The carrier has your parcel",
        "cancel_confirm": "I keep the item and no longer send it back",
        "cancel": "Cancel the return",
        "cancelled": "Your return is cancelled.",
        "withdraw": "Withdraw from contract here",
        "confirm": "Confirm withdrawal",
        "received": "Your withdrawal is received",
        "statement": "I hereby give notice that I withdraw from my contract of sale",
        "submitted": "Submitted on: ",
        "tracking": "Tracking number",
        "send_number": "Send the tracking number",
        "not_its_number": "This return's parcel already has another tracking number.",
        "new_link": "Email me a new link",
        "new_link_sent": "We have emailed a new link",
    },
    "fr": {
        "book": "Réserver ce retrait",
        "choose": "Choisir",
        "change": "Choisir plutôt ceci",
        "download": "Télécharger l'étiquette (PDF)",
        "done": "C'est fait : votre choix est enregistré.",
        "picked_up": "Le transporteur a votre colis",
        "cancel_confirm": "Je garde l'article et ne le renvoie plus",
        "cancel": "Annuler le retour",
        "cancelled": "Votre retour est annulé.",
        "withdraw": "Se rétracter du contrat ici",
        "confirm": "Confirmer la rétractation",
        "received": "Votre rétractation est reçue",
        "statement": "Je vous notifie par la présente ma rétractation du contrat",
        "submitted": "Envoyée le : ",
        "tracking": "Numéro de suivi",
        "send_number": "Envoyer le numéro de suivi",
        "not_its_number": "Le colis de ce retour a déjà un autre numéro de suivi.",
        "new_link": "M'envoyer un nouveau lien",
        "new_link_sent": "Nous avons envoyé un nouveau lien",
    },
}
COMBINATIONS = [(lang, view) for lang in WORDS for view in VIEWPORTS]


@pytest.fixture
async def page(
    browser: Browser, request: pytest.FixtureRequest, artefacts: Path
) -> AsyncIterator[Page]:
    lang, view = request.node.callspec.params["lang"], request.node.callspec.params["view"]
    context = await browser.new_context(
        viewport=VIEWPORTS[view], locale="fr-FR" if lang == "fr" else "en-GB", accept_downloads=True
    )
    context.set_default_timeout(30_000)
    opened = await context.new_page()
    try:
        yield opened
    finally:
        await context.close()


class Steps:
    """Screenshots and accessibility checks of one journey's page states."""

    def __init__(self, page: Page, folder: Path, name: str) -> None:
        self.page = page
        self.folder = folder
        self.name = name
        self.count = 0

    async def check(self, step: str) -> None:
        self.count += 1
        await self.page.screenshot(
            path=self.folder / f"{self.name}-{self.count:02d}-{step}.png", full_page=True
        )
        violations = await axe_violations(self.page)
        assert violations == [], f"{step}: {violations}"


async def axe_violations(page: Page) -> list[str]:
    """axe-core's WCAG 2.1 A/AA violations on the page as it stands."""
    result: dict[str, Any] = await page.evaluate(
        AXE + f"\n;axe.run(document, {{runOnly: {{type: 'tag', values: {WCAG_21_AA}}}}})"
    )
    return [
        f"{v['id']}: {v['help']} ({len(v['nodes'])} nodes: {v['nodes'][0]['target']})"
        for v in result["violations"]
    ]


async def withdraw(stack: DevStack, sample: str, lang: str) -> RetractEvent:
    """The order service's signed event for a sample, withdrawn now, in the customer's `lang`."""
    now = dt.datetime.now(dt.UTC).replace(microsecond=0)
    event = redate(
        RetractEvent.model_validate_json((EVENTS / sample).read_bytes()),
        now,
        uuid.uuid4().hex[:8].upper(),
    )
    event = event.model_copy(
        update={"customer": event.customer.model_copy(update={"locale": lang})}
    )
    body = event.model_dump_json().encode()
    headers = {"Content-Type": "application/json"}
    headers |= signed_headers(stack.config.event_secret, body)
    async with httpx.AsyncClient(base_url=stack.config.gateway_url, timeout=30) as http:
        answer = await http.post("/v1/events", content=body, headers=headers)
    assert answer.status_code == 202, answer.text
    return event


async def link_in_email(stack: DevStack, event: RetractEvent, kind: str) -> str:
    """The return page link in the customer's `kind` email, once it has arrived."""
    wanted = return_id(event.order.order_id, event.order.line_id)
    async with asyncio.timeout(60):
        while True:
            for message in read_mailbox(stack.config.mail_dir):
                key = notice_key(str(message["Message-ID"]))
                if key and key.return_id == wanted and key.kind.value == kind:
                    body = message.get_body(preferencelist=("plain",))
                    assert body is not None
                    found = re.search(r"http://\S+/my/returns/[A-Za-z0-9._-]+", body.get_content())
                    assert found, f"no return page link in the {kind} email"
                    return found[0]
            await asyncio.sleep(0.3)


async def stage_shown(page: Page, stage: str) -> None:
    """Reload the page until it shows `stage` (the carrier's scan arrives by webhook)."""
    async with asyncio.timeout(45):
        while await page.locator(".stage").get_attribute("data-stage") != stage:
            await asyncio.sleep(0.5)
            await page.reload()


async def done(page: Page, words: dict[str, str]) -> None:
    """The page the form answered with says it is done (else the test fails with what it
    says instead)."""
    await page.wait_for_load_state()
    shown = page.locator(".notice, .refused")
    await shown.first.wait_for()
    assert await shown.first.inner_text() == words["done"]


def way(page: Page, key: str) -> Any:
    return page.locator(f'article.way:has(input[name="way"][value="{key}"])')


async def withdrawal_link(stack: DevStack, sample: str, lang: str) -> tuple[str, RetractEvent]:
    """The order service asks for the withdrawal function's link of a sample's order."""
    event = redate(
        RetractEvent.model_validate_json((EVENTS / sample).read_bytes()),
        dt.datetime.now(dt.UTC).replace(microsecond=0),
        uuid.uuid4().hex[:8].upper(),
    )
    customer = event.customer.model_copy(update={"locale": lang})
    request = WithdrawalLinkRequest(request_id="get-help-1", customer=customer, lines=[event.order])
    body = request.model_dump_json().encode()
    headers = {"Content-Type": "application/json"}
    headers |= signed_headers(stack.config.event_secret, body)
    async with httpx.AsyncClient(base_url=stack.config.gateway_url, timeout=30) as http:
        answer = await http.post("/v1/withdrawal-links", content=body, headers=headers)
    assert answer.status_code == 201, answer.text
    return answer.json()["url"], event.model_copy(update={"customer": customer})


async def acknowledgement(stack: DevStack, order_id: str) -> str:
    """The text of the withdrawal's acknowledgement email, once it has arrived."""
    async with asyncio.timeout(60):
        while True:
            for message in read_mailbox(stack.config.mail_dir):
                if order_id in str(message["Subject"]):
                    body = message.get_body(preferencelist=("plain",))
                    assert body is not None
                    return str(body.get_content())
            await asyncio.sleep(0.3)


@pytest.mark.parametrize(("lang", "view"), COMBINATIONS)
async def test_a_customer_withdraws_books_a_pickup_downloads_the_label_and_sees_it_picked_up(
    stack: DevStack, page: Page, artefacts: Path, lang: str, view: str
) -> None:
    words = WORDS[lang]
    steps = Steps(page, artefacts, f"pickup-{lang}-{view}")
    link, event = await withdrawal_link(stack, "01-mailbox-pickup.json", lang)

    await page.goto(link)
    assert await page.locator("html").get_attribute("lang") == lang
    await steps.check("withdrawal-function")
    await page.get_by_role("button", name=words["withdraw"]).click()
    await page.get_by_role("button", name=words["confirm"]).wait_for()
    assert await page.get_by_text(event.customer.email).count() == 1
    await steps.check("confirm-withdrawal")
    await page.get_by_role("button", name=words["confirm"]).click()
    await page.get_by_role("heading", name=words["received"]).wait_for()
    await steps.check("withdrawal-received")

    text = await acknowledgement(stack, event.order.order_id)
    assert words["statement"] in text
    assert event.order.product.title in text and event.customer.name in text
    submitted = re.search(re.escape(words["submitted"]) + r"(.+)", text)
    # The date and the time of day: "6 December 2026 at 10:15", "6 décembre 2026 à 10 h 15".
    assert submitted and re.search(r"\d{4} (at|à) \d{1,2}(:\d{2}| h)", submitted[1]), submitted
    return_page = re.search(r"http://\S+/my/returns/[A-Za-z0-9._-]+", text)
    assert return_page, "no return page link in the acknowledgement"

    await page.goto(return_page[0])
    await stage_shown(page, "awaiting_customer_choice")
    await steps.check("return-page-from-the-email")

    pickup = way(page, "sandbox:mailbox_pickup")
    offered = await pickup.locator("select option").all_inner_texts()
    assert offered, "no pickup day offered"
    day_value = await pickup.locator("select option").first.get_attribute("value")
    assert day_value is not None
    await pickup.locator("select").select_option(day_value)
    await pickup.get_by_role("button", name=words["book"]).click()
    await done(page, words)
    await steps.check("pickup-booked")

    async with page.expect_download() as downloading:
        await page.get_by_role("link", name=words["download"]).click()
    download = await downloading.value
    pdf = Path(await download.path()).read_bytes()
    tracking = await page.locator(".stage ~ p", has_text=re.compile(r"SB\d+")).inner_text()
    number = re.search(r"SB\d{9}FR", tracking)
    assert number, tracking
    assert number[0] in PdfReader(io.BytesIO(pdf)).pages[0].extract_text()

    await carrier_collects(stack, number[0])
    await stage_shown(page, "picked_up")
    assert await page.get_by_text(words["picked_up"]).count() >= 1
    await steps.check("picked-up")


@pytest.mark.parametrize(("lang", "view"), COMBINATIONS)
async def test_a_customer_changes_their_mind_shows_the_counter_code_then_cancels(
    stack: DevStack, page: Page, artefacts: Path, lang: str, view: str
) -> None:
    words = WORDS[lang]
    steps = Steps(page, artefacts, f"counter-{lang}-{view}")
    event = await withdraw(stack, "02-post-office-drop-off.json", lang)
    await page.goto(await link_in_email(stack, event, "return_address"))
    await steps.check("opened-from-the-email")

    await (
        way(page, "sandbox:post_office_drop_off")
        .get_by_role("button", name=words["choose"])
        .click()
    )
    await done(page, words)
    await steps.check("drop-off-chosen")

    # Another number than the label's: refused, in the customer's words.
    await page.get_by_label(words["tracking"]).fill("ZZ12345678")
    await page.get_by_role("button", name=words["send_number"]).click()
    await page.locator(".refused").wait_for()
    assert words["not_its_number"] in await page.locator(".refused").inner_text()
    await steps.check("tracking-number-refused")

    await (
        way(page, "sandbox:post_office_counter").get_by_role("button", name=words["change"]).click()
    )
    await done(page, words)
    code = (await page.locator("#counter-code").inner_text()).strip()
    await steps.check("counter-code")
    qr = await page.locator("img.qr").screenshot()
    decoded = zxingcpp.read_barcodes(Image.open(io.BytesIO(qr)))
    assert [result.text for result in decoded] == [code]

    await page.get_by_label(words["cancel_confirm"]).check()
    await page.get_by_role("button", name=words["cancel"]).click()
    await page.get_by_text(words["cancelled"]).wait_for()
    assert await page.locator(".stage").get_attribute("data-stage") == "cancelled"
    await steps.check("cancelled")


@pytest.mark.parametrize(("lang", "view"), COMBINATIONS)
async def test_a_tampered_or_expired_link_shows_a_clear_accessible_page(
    stack: DevStack, page: Page, artefacts: Path, lang: str, view: str
) -> None:
    steps = Steps(page, artefacts, f"links-{lang}-{view}")
    event = await withdraw(stack, "02-post-office-drop-off.json", lang)
    link = await link_in_email(stack, event, "return_address")
    token = link.rsplit("/", 1)[1]
    tokens = PageTokens.from_settings(stack.settings)
    wanted = return_id(event.order.order_id, event.order.line_id)
    expired = tokens.seal(Purpose.RETURN, wanted, dt.datetime.now(dt.UTC) - dt.timedelta(days=1))
    base = link.rsplit("/", 1)[0]

    answer = await page.goto(f"{base}/{token[:-5]}?lang={lang}")
    assert answer is not None and answer.status == 404
    await steps.check("tampered-link")
    answer = await page.goto(f"{base}/{expired}?lang={lang}")
    assert answer is not None and answer.status == 410
    await steps.check("expired-link")
    await page.get_by_role("button", name=WORDS[lang]["new_link"]).click()
    await page.get_by_text(WORDS[lang]["new_link_sent"]).wait_for()
    await steps.check("new-link-sent")

    withdrawal = tokens.seal(
        Purpose.WITHDRAWAL, "withdrawal-gone", dt.datetime.now(dt.UTC) - dt.timedelta(minutes=1)
    )
    answer = await page.goto(f"{base.rsplit('/', 1)[0]}/withdraw/{withdrawal}?lang={lang}")
    assert answer is not None and answer.status == 410
    await steps.check("expired-withdrawal-link")
