"""A customer opens their return page from an email's link and acts on it with plain HTML
forms: the page shows where the return stands, takes the choice, the tracking number and the
cancellation through the return's own updates, and says a refusal in the customer's words."""

from __future__ import annotations

import asyncio
import datetime as dt
import re
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from decimal import Decimal
from pathlib import Path

import pytest
from temporalio.testing import WorkflowEnvironment

from activities.notices.formats import format_money
from client.start import starting_event
from customer_page import return_view
from customer_page.links import PageLinks
from customer_page.tokens import PageTokens, Purpose
from domain.base import Money
from domain.calendar import next_pickup_date
from domain.carriers import LabelCostBearer
from domain.money import refund_breakdown
from domain.returns import ReturnStage
from mail_sink import MailSink, read_mailbox
from plumbing.settings import Settings
from tests.factories import CUSTOMER_EMAIL, retract_event
from tests.gateway.door import Door, gateway_settings, open_door
from tests.workflows.doubles import Doubles
from tests.workflows.harness import ReturnHarness, return_harness
from tests.workflows.lifecycle_test import mailbox_pickup
from tests.workflows.return_workflow_test import ready_for_choice
from workflows.return_workflow import ReturnWorkflow


@pytest.fixture
async def harness(time_skipping_env: WorkflowEnvironment) -> AsyncIterator[ReturnHarness]:
    async with return_harness(time_skipping_env.client) as harness:
        yield harness


@pytest.fixture
async def door(harness: ReturnHarness, tmp_path: Path) -> AsyncIterator[Door]:
    settings = gateway_settings(harness.settings.task_queue, tmp_path)
    async with open_door(harness.client, settings) as door:
        yield door


def link_path(settings: Settings, return_id: str, **kwargs: dt.datetime) -> str:
    """The path of the return page link an email carries."""
    return PageLinks(settings).return_path(return_id, **kwargs)


@asynccontextmanager
async def expired_link(
    harness: ReturnHarness, tmp_path: Path, return_id: str
) -> AsyncIterator[tuple[Door, MailSink, str, dict[str, str]]]:
    """A gateway whose emails go to a mail sink, and the path of a return page link expired a
    day ago with the fields of its "email me a new link" form."""
    async with MailSink(tmp_path / "mail") as sink:
        settings = gateway_settings(
            harness.settings.task_queue, tmp_path, smtp_host=sink.host, smtp_port=sink.port
        )
        async with open_door(harness.client, settings) as door:
            old = dt.datetime.now(dt.UTC) - dt.timedelta(days=settings.customer_page_link_days + 1)
            path = link_path(settings, return_id, now=old)
            fields = form_fields((await door.http.get(path)).text, "renew")
            yield door, sink, path, fields


def form_fields(page: str, action_end: str) -> dict[str, str]:
    """The hidden fields of the page's form posting to `.../<action_end>`."""
    form = re.search(rf'<form method="post" action="[^"]*/{action_end}">(.*?)</form>', page, re.S)
    assert form is not None, f"no {action_end} form on the page"
    return dict(re.findall(r'<input type="hidden" name="(\w+)" value="([^"]*)">', form[1]))


async def test_the_return_page_shows_the_stage_the_deadline_and_the_ways_to_send(
    door: Door, harness: ReturnHarness
) -> None:
    handle = await ready_for_choice(harness, locale="en-GB")
    page = await door.http.get(link_path(door.settings, handle.id))

    assert page.status_code == 200
    text = page.text
    assert "Choose how to send the parcel back to the seller." in text
    assert "Send the parcel by" in text
    assert "RefurbPro Returns" in text  # the seller's return address
    assert "Pickup from your mailbox" in text
    # The security headers of every customer page.
    assert "default-src 'none'" in page.headers["content-security-policy"]
    assert page.headers["referrer-policy"] == "same-origin"
    assert page.headers["x-frame-options"] == "DENY"
    assert "rf_csrf" in page.headers["set-cookie"]
    assert "samesite=strict" in page.headers["set-cookie"].lower()


async def test_the_page_speaks_french_to_a_french_customer_and_switches_on_request(
    door: Door, harness: ReturnHarness
) -> None:
    handle = await ready_for_choice(harness, locale="fr")
    path = link_path(door.settings, handle.id)

    french = await door.http.get(path)
    english = await door.http.get(path, params={"lang": "en"})

    assert '<html lang="fr">' in french.text
    assert "Choisissez comment renvoyer le colis au vendeur." in french.text
    assert '<html lang="en">' in english.text


async def test_a_drop_off_chosen_through_the_form_reaches_the_return(
    door: Door, harness: ReturnHarness
) -> None:
    handle = await ready_for_choice(harness, locale="en")
    path = link_path(door.settings, handle.id)
    page = await door.http.get(path)
    fields = form_fields(page.text, "choice")

    answer = await door.http.post(
        f"{path}/choice", data={**fields, "way": "sandbox:post_office_drop_off"}
    )

    assert answer.status_code == 303, re.findall(r'class="refused".{0,300}', answer.text, re.S)
    assert "done=choose_return_method" in answer.headers["location"]
    status = await handle.query(ReturnWorkflow.status)
    assert status.stage == ReturnStage.AWAITING_DROP_OFF
    shown = await door.http.get(answer.headers["location"])
    assert "Done: your choice is recorded." in shown.text
    assert "Your choice" in shown.text


async def test_a_refused_pickup_day_is_said_in_the_customers_words_and_changes_nothing(
    door: Door, harness: ReturnHarness
) -> None:
    handle = await ready_for_choice(harness, locale="fr")
    path = link_path(door.settings, handle.id)
    fields = form_fields((await door.http.get(path)).text, "choice")
    sunday = next_pickup_date(dt.datetime.now(dt.UTC))
    while sunday.weekday() != 6:
        sunday += dt.timedelta(days=1)

    answer = await door.http.post(
        f"{path}/choice",
        data={**fields, "way": "sandbox:mailbox_pickup", "pickup_date": sunday.isoformat()},
    )

    assert answer.status_code == 422
    assert "Les transporteurs ne passent pas le dimanche" in answer.text
    status = await handle.query(ReturnWorkflow.status)
    assert status.stage == ReturnStage.AWAITING_CUSTOMER_CHOICE


async def test_a_pickup_day_sent_with_another_way_is_not_the_choices(
    door: Door, harness: ReturnHarness
) -> None:
    # A form made by hand: the page sends a day with the mailbox pickup only.
    handle = await ready_for_choice(harness, locale="en")
    path = link_path(door.settings, handle.id)
    fields = form_fields((await door.http.get(path)).text, "choice")
    day = (dt.datetime.now(dt.UTC).date() + dt.timedelta(days=3)).isoformat()

    answer = await door.http.post(
        f"{path}/choice",
        data={**fields, "way": "sandbox:post_office_drop_off", "pickup_date": day},
    )

    assert answer.status_code == 303
    status = await handle.query(ReturnWorkflow.status)
    assert status.stage == ReturnStage.AWAITING_DROP_OFF


async def test_a_file_not_there_yet_is_said_in_the_customers_language(
    door: Door, harness: ReturnHarness
) -> None:
    handle = await ready_for_choice(harness, locale="fr-FR")
    path = link_path(door.settings, handle.id)

    label = await door.http.get(f"{path}/label.pdf")
    code = await door.http.get(f"{path}/counter-code.svg")

    for answer in (label, code):
        assert answer.status_code == 404
        assert '<html lang="fr">' in answer.text
        assert "Il n&#39;y a rien à télécharger ici pour l&#39;instant" in answer.text


async def test_a_carrier_that_cannot_be_asked_is_said_so_not_said_to_offer_nothing(
    door: Door, harness: ReturnHarness
) -> None:
    # The door's carrier registry has no carrier: none of the offered ones can be asked.
    handle = await ready_for_choice(harness, locale="en")

    page = (await door.http.get(link_path(door.settings, handle.id))).text

    assert "We could not ask Sandbox Post for its pickup days just now" in page
    assert "offers no pickup day" not in page
    assert "We could not look up the nearest post offices just now" in page


async def test_a_form_without_its_csrf_field_or_from_another_site_changes_nothing(
    door: Door, harness: ReturnHarness
) -> None:
    handle = await ready_for_choice(harness, locale="en")
    path = link_path(door.settings, handle.id)
    fields = form_fields((await door.http.get(path)).text, "choice")
    way = {"way": "sandbox:post_office_drop_off"}

    forged = await door.http.post(f"{path}/choice", data={**way, "csrf": "0" * 64})
    cross_site = await door.http.post(
        f"{path}/choice", data={**fields, **way}, headers={"Origin": "https://evil.example"}
    )

    assert forged.status_code == 403
    assert "This form has expired" in forged.text
    assert cross_site.status_code == 403
    status = await handle.query(ReturnWorkflow.status)
    assert status.stage == ReturnStage.AWAITING_CUSTOMER_CHOICE


@pytest.mark.parametrize("origin", ["http://[", "http://[::1", "https://a]b"])
async def test_a_form_with_an_origin_no_browser_sends_is_refused_as_from_another_site(
    door: Door, harness: ReturnHarness, origin: str
) -> None:
    handle = await ready_for_choice(harness, locale="en")
    path = link_path(door.settings, handle.id)
    fields = form_fields((await door.http.get(path)).text, "choice")

    answer = await door.http.post(
        f"{path}/choice",
        data={**fields, "way": "sandbox:post_office_drop_off"},
        headers={"Origin": origin},
    )

    assert answer.status_code == 403
    assert "This form has expired" in answer.text
    status = await handle.query(ReturnWorkflow.status)
    assert status.stage == ReturnStage.AWAITING_CUSTOMER_CHOICE


async def test_a_form_from_an_older_browser_behind_a_proxy_rewriting_host_is_taken(
    door: Door, harness: ReturnHarness
) -> None:
    """No `Sec-Fetch-Site`, only `Origin`: the pages' public address, while the proxy in front
    asked the gateway under its own host name (nginx's `proxy_set_header Host $proxy_host`)."""
    handle = await ready_for_choice(harness, locale="en")
    path = link_path(door.settings, handle.id)
    fields = form_fields((await door.http.get(path)).text, "choice")
    public = door.settings.customer_page_url.rstrip("/")
    proxied = {"Origin": public, "Host": "returns-gateway.internal:8000"}

    answer = await door.http.post(
        f"{path}/choice", data={**fields, "way": "sandbox:post_office_drop_off"}, headers=proxied
    )
    elsewhere = await door.http.post(
        f"{path}/choice",
        data={**fields, "way": "sandbox:post_office_drop_off"},
        headers={**proxied, "Origin": "https://evil.example"},
    )

    assert answer.status_code == 303
    assert elsewhere.status_code == 403


async def test_the_customer_cancels_once_they_confirm_it(
    door: Door, harness: ReturnHarness
) -> None:
    handle = await ready_for_choice(harness, locale="en")
    path = link_path(door.settings, handle.id)
    fields = form_fields((await door.http.get(path)).text, "cancel")

    unconfirmed = await door.http.post(f"{path}/cancel", data=fields)
    confirmed = await door.http.post(f"{path}/cancel", data={**fields, "confirm": "yes"})

    assert unconfirmed.status_code == 422
    assert confirmed.status_code == 303
    status = await handle.query(ReturnWorkflow.status)
    assert status.stage == ReturnStage.CANCELLED
    shown = await door.http.get(confirmed.headers["location"])
    assert "Your return is cancelled." in shown.text
    assert "/cancel" not in shown.text  # nothing left to cancel


@pytest.mark.parametrize("damage", ["cut", "flip", "other_purpose", "unknown_key"])
async def test_a_tampered_link_gets_a_clear_page_and_reads_nothing(
    door: Door, harness: ReturnHarness, damage: str
) -> None:
    handle = await ready_for_choice(harness, locale="en")
    path = link_path(door.settings, handle.id)
    token = path.rsplit("/", 1)[1]
    key_id, body = token.split(".")
    tokens = PageTokens.from_settings(door.settings)
    soon = dt.datetime.now(dt.UTC) + dt.timedelta(hours=1)
    damaged = {
        "cut": token[:-6],
        "flip": f"{key_id}.{body[:10]}{'A' if body[10] != 'A' else 'B'}{body[11:]}",
        "other_purpose": tokens.seal(Purpose.WITHDRAWAL, handle.id, soon),
        "unknown_key": f"another-key.{body}",
    }[damage]

    page = await door.http.get(f"/my/returns/{damaged}")
    cancel = await door.http.post(f"/my/returns/{damaged}/cancel", data={"confirm": "yes"})

    assert page.status_code == 404
    assert "This link does not work" in page.text
    assert handle.id not in page.text
    assert cancel.status_code == 404
    status = await handle.query(ReturnWorkflow.status)
    assert status.stage == ReturnStage.AWAITING_CUSTOMER_CHOICE


async def test_an_expired_link_offers_a_new_one_and_changes_nothing(
    door: Door, harness: ReturnHarness
) -> None:
    handle = await ready_for_choice(harness, locale="en")
    long_ago = dt.datetime.now(dt.UTC) - dt.timedelta(days=door.settings.customer_page_link_days)
    path = link_path(door.settings, handle.id, now=long_ago - dt.timedelta(minutes=1))

    page = await door.http.get(path)
    cancel = await door.http.post(f"{path}/cancel", data={"confirm": "yes"})

    assert page.status_code == 410
    assert "This link has expired" in page.text
    assert f'action="{path}/renew"' in page.text
    assert cancel.status_code == 410
    status = await handle.query(ReturnWorkflow.status)
    assert status.stage == ReturnStage.AWAITING_CUSTOMER_CHOICE


async def test_a_link_expired_for_over_a_year_is_one_that_does_not_work(
    door: Door, harness: ReturnHarness
) -> None:
    handle = await ready_for_choice(harness, locale="en")
    days = door.settings.customer_page_link_days + 366
    path = link_path(door.settings, handle.id, now=dt.datetime.now(dt.UTC) - dt.timedelta(days))

    page = await door.http.get(path)

    assert page.status_code == 404
    assert "This link does not work" in page.text
    assert "has expired" not in page.text and "/renew" not in page.text


async def test_what_no_page_takes_under_my_gets_a_page_not_the_apis_json(
    door: Door, harness: ReturnHarness
) -> None:
    """A refused form leaves its action in the address bar: opened again (a new tab, a
    bookmark), it goes back to the page; an unknown path gets the pages' 404, with their
    headers."""
    handle = await ready_for_choice(harness, locale="en")
    path = link_path(door.settings, handle.id)

    action_again = await door.http.get(f"{path}/choice")
    unknown = await door.http.get(f"{path}/nope")
    slash_too_many = await door.http.get(f"{path}/")
    bare = await door.http.get("/my")
    wrong_method = await door.http.put(path)

    assert action_again.status_code == 303
    assert action_again.headers["location"] == path
    assert action_again.headers["cache-control"] == "no-store"
    for answer, status in ((unknown, 404), (slash_too_many, 404), (bare, 404), (wrong_method, 405)):
        assert answer.status_code == status
        assert answer.headers["content-type"].startswith("text/html")
        assert "default-src 'none'" in answer.headers["content-security-policy"]
        assert answer.headers["cache-control"] == "no-store"
        assert "This link does not work" in answer.text
    assert "GET" in wrong_method.headers["allow"]
    api = await door.http.get("/v1/nope")
    assert api.json()["error"]["code"] == "not_found"  # the API keeps its own shape


async def test_a_link_opens_its_own_return_only(door: Door, harness: ReturnHarness) -> None:
    first = await ready_for_choice(harness)
    second = await ready_for_choice(harness)

    page = await door.http.get(link_path(door.settings, second.id))

    first_order = (await first.query(ReturnWorkflow.status)).order_id
    second_order = (await second.query(ReturnWorkflow.status)).order_id
    assert second_order in page.text
    assert first_order not in page.text


async def test_the_links_in_the_emails_open_their_returns_page(door: Door) -> None:
    url = PageLinks(door.settings).return_page("return-ORD-1-1")
    token = url.rsplit("/", 1)[1]

    claims = PageTokens.from_settings(door.settings).open(token, Purpose.RETURN)

    assert url.startswith(f"{door.settings.customer_page_url}/my/returns/")
    assert claims.subject == "return-ORD-1-1"
    assert "ORD" not in token  # the token shows nothing of the order


async def test_a_stranger_guessing_links_is_rate_limited(
    harness: ReturnHarness, tmp_path: Path
) -> None:
    settings = gateway_settings(
        harness.settings.task_queue,
        tmp_path,
        gateway_refusals_per_minute=3,
        customer_page_url="https://returns.example.test",
    )
    async with open_door(harness.client, settings) as door:
        pages = [await door.http.get(f"/my/returns/page-2026-a.guess{n:04d}") for n in range(5)]
        answers = [page.status_code for page in pages]

    assert answers[:3] == [404, 404, 404]
    assert answers[-1] == 429
    assert "Too many requests" in pages[-1].text
    assert pages[-1].headers["content-type"].startswith("text/html")
    assert "retry-after" in pages[-1].headers
    assert (
        pages[-1].headers["strict-transport-security"]
        == pages[0].headers["strict-transport-security"]
    ), "the pages' headers, HSTS included, on the limit's page too"


async def test_an_expired_link_emails_a_new_one_to_the_customer_once(
    harness: ReturnHarness, tmp_path: Path
) -> None:
    handle = await ready_for_choice(harness, locale="en")
    async with expired_link(harness, tmp_path, handle.id) as (door, sink, path, fields):
        settings = door.settings
        # Asked twice at once (a double click): one email.
        asked, again = sorted(
            await asyncio.gather(*(door.http.post(f"{path}/renew", data=fields) for _ in "12")),
            key=lambda answer: answer.status_code,
        )

        assert asked.status_code == 200
        assert "We have emailed a new link" in asked.text
        assert again.status_code == 429
        (message,) = list(read_mailbox(sink.directory))
        assert message["To"].addresses[0].addr_spec == CUSTOMER_EMAIL
        body = message.get_body(preferencelist=("plain",))
        assert body is not None
        new_link = re.search(r"http://\S+/my/returns/\S+", body.get_content())
        assert new_link
        assert new_link[0] not in asked.text  # the link goes to the customer only
        opened = await door.http.get(new_link[0].removeprefix(settings.customer_page_url))
        assert opened.status_code == 200
        assert (await handle.query(ReturnWorkflow.status)).order_id in opened.text


async def test_a_new_link_is_emailed_in_the_customers_language_unless_they_asked_another(
    harness: ReturnHarness, tmp_path: Path
) -> None:
    # The expired page cannot know the customer's language: it is in English, and its form
    # leaves the email's to the customer's locale.
    handle = await ready_for_choice(harness, locale="fr-FR")
    async with expired_link(harness, tmp_path, handle.id) as (door, sink, path, fields):
        asked = await door.http.post(f"{path}/renew", data=fields)
        (message,) = list(read_mailbox(sink.directory))

    assert asked.status_code == 200
    assert "lang" not in fields
    assert message["Content-Language"] == "fr"
    assert message["Subject"].startswith("Votre nouveau lien de retour")


async def test_an_address_mail_cannot_go_to_gets_a_page_saying_so_not_an_error(
    harness: ReturnHarness, tmp_path: Path
) -> None:
    """A return taken with an address no mail can go to (a trailing dot), before the doors
    refused such addresses: asking for a new link says why none can come."""
    event = retract_event(locale="en")
    customer = event.customer.model_copy(update={"email": "camille.durand@gmail.com."})
    handle = await harness.start(event.model_copy(update={"customer": customer}))
    await harness.stage_reached(handle, ReturnStage.AWAITING_CUSTOMER_CHOICE)
    async with expired_link(harness, tmp_path, handle.id) as (door, sink, path, fields):
        asked = await door.http.post(f"{path}/renew", data=fields)

        assert asked.status_code == 422
        assert "cannot receive mail" in asked.text
        assert "contact customer service" in asked.text
        assert list(read_mailbox(sink.directory)) == []


async def test_a_choice_no_worker_takes_in_time_gets_the_busy_page_and_its_resend_acts_once(
    time_skipping_env: WorkflowEnvironment, tmp_path: Path
) -> None:
    task_queue = f"returns-no-worker-{uuid.uuid4().hex[:8]}"
    doubles = Doubles()
    settings = gateway_settings(task_queue, tmp_path, gateway_temporal_timeout_seconds=1)
    async with open_door(time_skipping_env.client, settings) as door:
        async with return_harness(
            time_skipping_env.client, doubles, task_queue=task_queue
        ) as harness:
            handle = await ready_for_choice(harness, locale="en")
            path = link_path(door.settings, handle.id)
            fields = form_fields((await door.http.get(path)).text, "choice")
        # Every worker is gone: Temporal answers, but nothing accepts the update in time.
        form = {**fields, "way": "sandbox:post_office_drop_off"}
        busy = await door.http.post(f"{path}/choice", data=form)
        async with return_harness(
            time_skipping_env.client, doubles, task_queue=task_queue
        ) as harness:
            # As the customer would: again while it is busy (a worker just back may take
            # longer than the gateway's second to replay the return and act).
            for _ in range(10):
                sent_again = await door.http.post(f"{path}/choice", data=form)
                if sent_again.status_code != 503:
                    break
            status = await harness.stage_reached(handle, ReturnStage.AWAITING_DROP_OFF)

    assert busy.status_code == 503
    assert busy.headers["Retry-After"] == "30"
    assert "your request may not be recorded yet" in busy.text
    assert sent_again.status_code == 303
    assert "done=choose_return_method" in sent_again.headers["location"]
    assert status.label is not None
    assert len(doubles.labels) == 1


async def test_the_refund_the_page_promises_is_the_one_requested_less_the_label(
    time_skipping_env: WorkflowEnvironment, tmp_path: Path
) -> None:
    """The customer pays for their label (the default policy): the page's promise before the
    carrier has the parcel is the amount the refund then asks for, not the price and delivery."""
    doubles = Doubles(label_prices={"sandbox": Money(amount=Decimal("6.50"), currency="EUR")})
    async with return_harness(time_skipping_env.client, doubles) as harness:
        settings = gateway_settings(harness.settings.task_queue, tmp_path)
        async with open_door(harness.client, settings) as door:
            handle = await ready_for_choice(harness, locale="en")
            path = link_path(settings, handle.id)
            fields = form_fields((await door.http.get(path)).text, "choice")
            chosen = await door.http.post(
                f"{path}/choice", data={**fields, "way": "sandbox:post_office_drop_off"}
            )
            assert chosen.status_code == 303
            promised = await door.http.get(path)
            status = await handle.query(ReturnWorkflow.status)
            assert status.label is not None
            await harness.scan(handle, status.label.tracking_number)
            refunded = await harness.in_transit(handle)

    assert refunded.refund is not None
    event = retract_event()
    assert refunded.refund.amount.amount == refund_breakdown(event.order).total.amount - Decimal(
        "6.50"
    )
    assert f"the seller refunds you {format_money(refunded.refund.amount, 'en')}" in promised.text


async def test_a_pickup_day_gone_by_with_no_scan_is_not_shown_as_one_to_wait_for(
    harness: ReturnHarness,
) -> None:
    """The carrier missed the pickup and sent no scan: the return still waits for it, and the
    page, opened two days later, asks for another day rather than pointing to that one."""
    handle = await ready_for_choice(harness, locale="en")
    await handle.execute_update(ReturnWorkflow.choose_return_method, mailbox_pickup())
    status = await harness.stage_reached(handle, ReturnStage.AWAITING_PICKUP)
    assert status.pickup is not None
    event = await starting_event(harness.client, handle.id)
    assert event is not None

    def page(now: dt.datetime) -> return_view.ReturnPage:
        return return_view.return_page(
            lang="en",
            status=status,
            event=event,
            return_address=None,
            pickup_days={},
            offices={},
            label_paid_by=LabelCostBearer.CUSTOMER,
            now=now,
        )

    day = dt.datetime.combine(status.pickup.pickup_date, dt.time(12), tzinfo=dt.UTC)
    on_the_day, two_days_later = page(day - dt.timedelta(hours=6)), page(day + dt.timedelta(2))

    assert on_the_day.pickup is not None and on_the_day.pickup.startswith("Pickup booked for")
    assert two_days_later.pickup is not None
    assert "has passed, and the carrier has not told us it has your parcel" in two_days_later.pickup
