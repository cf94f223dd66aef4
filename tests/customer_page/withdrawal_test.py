"""The withdrawal function (Art. 11a): the order service asks for a link, the customer withdraws
in two steps, the returns start as from a signed event, and the acknowledgement email carries
the statement with the date and time it was submitted."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import re
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import httpx
import pytest
from temporalio.testing import WorkflowEnvironment

from customer_page.links import PageLinks
from customer_page.tokens import PageTokens, Purpose
from domain.events import OrderStatus
from domain.ids import return_id
from domain.returns import RejectionReason, ReturnStage
from domain.withdrawals import (
    OfferedLine,
    WithdrawalLinkRequest,
    WithdrawalOffer,
    WithdrawalReceipt,
    withdrawal_workflow_id,
)
from mail_sink import MailSink, read_mailbox
from plumbing.signing import signed_headers
from tests.factories import CUSTOMER_EMAIL, CUSTOMER_NAME, retract_event, unique_order_id
from tests.gateway.door import (
    CUSTOMER_TOKEN,
    EVENT_SECRET,
    OPERATIONS_TOKEN,
    Door,
    gateway_settings,
    open_door,
)
from tests.workflows.harness import ReturnHarness, return_harness
from workflows.return_workflow import ReturnWorkflow
from workflows.withdrawal_workflow import WithdrawalWorkflow


@pytest.fixture
async def sink(tmp_path: Path) -> AsyncIterator[MailSink]:
    async with MailSink(tmp_path / "mail") as running:
        yield running


@pytest.fixture
async def harness(
    time_skipping_env: WorkflowEnvironment, sink: MailSink, tmp_path: Path
) -> AsyncIterator[ReturnHarness]:
    settings = gateway_settings("unused", tmp_path, smtp_host=sink.host, smtp_port=sink.port)
    async with return_harness(time_skipping_env.client, withdrawals=settings) as harness:
        yield harness


@pytest.fixture
async def door(harness: ReturnHarness, tmp_path: Path) -> AsyncIterator[Door]:
    settings = gateway_settings(harness.settings.task_queue, tmp_path)
    async with open_door(harness.client, settings) as door:
        yield door


def order_of_three(locale: str = "en") -> WithdrawalLinkRequest:
    """A delivered phone, a sealed item unsealed (excluded), and one already returned."""
    order_id = unique_order_id()
    phone = retract_event(order_id=order_id, line_id="1", locale=locale)
    sealed = retract_event(order_id=order_id, line_id="2", returnable=False)
    returned = retract_event(order_id=order_id, line_id="3", status=OrderStatus.RETURNED)
    return WithdrawalLinkRequest(
        request_id="help-click-1",
        customer=phone.customer,
        lines=[phone.order, sealed.order, returned.order],
    )


async def ask_for_link(door: Door, body: dict[str, Any] | bytes) -> httpx.Response:
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    headers = {"Content-Type": "application/json", **signed_headers(EVENT_SECRET, raw)}
    return await door.http.post("/v1/withdrawal-links", content=raw, headers=headers)


def path_of(url: str) -> str:
    return "/" + url.split("/", 3)[3]


def hidden_fields(page: str) -> dict[str, str]:
    return dict(re.findall(r'<input type="hidden" name="(\w+)" value="([^"]*)">', page))


@dataclass
class Reviewing:
    """A customer at the "confirm withdrawal" step for one line of their order's link."""

    link: dict[str, Any]
    path: str
    review: httpx.Response

    @property
    def form(self) -> dict[str, str]:
        return hidden_fields(self.review.text)


async def reviewing(door: Door, request: WithdrawalLinkRequest, line: str = "1") -> Reviewing:
    """The order service asks for a link; the customer opens it and picks `line`."""
    link = (await ask_for_link(door, request.model_dump(mode="json"))).json()
    path = path_of(link["url"])
    fields = hidden_fields((await door.http.get(path)).text)
    review = await door.http.post(f"{path}/review", data={**fields, "line": line})
    return Reviewing(link, path, review)


async def acknowledgement(sink: MailSink, order_id: str) -> EmailMessage:
    async with asyncio.timeout(20):
        while True:
            for message in read_mailbox(sink.directory):
                if order_id in str(message["Subject"]):
                    return message
            await asyncio.sleep(0.2)


async def test_the_order_service_gets_a_short_lived_link_with_nothing_personal_in_it(
    door: Door,
) -> None:
    request = order_of_three()
    answer = await ask_for_link(door, request.model_dump(mode="json"))

    assert answer.status_code == 201, answer.text
    link = answer.json()
    token = link["url"].rsplit("/", 1)[1]
    assert link["url"].startswith(f"{door.settings.customer_page_url}/my/withdraw/")
    for personal in (request.order_id, CUSTOMER_EMAIL, CUSTOMER_NAME.split()[0]):
        assert personal not in link["url"]
    claims = PageTokens.from_settings(door.settings).open(token, Purpose.WITHDRAWAL)
    expires = dt.datetime.fromisoformat(link["expires_at"])
    assert claims.expires_at == expires.replace(microsecond=0)
    assert expires - dt.datetime.now(dt.UTC) <= dt.timedelta(minutes=60)
    assert [(line["line_id"], line["withdrawable"], line["reason"]) for line in link["lines"]] == [
        ("1", True, None),
        ("2", False, "not_returnable"),
        ("3", False, "already_returned"),
    ]


async def test_a_link_request_unsigned_or_unfit_is_refused_naming_the_field(door: Door) -> None:
    request = order_of_three().model_dump(mode="json")
    other = retract_event().order.model_dump(mode="json")
    mixed = {**request, "lines": [*request["lines"], other]}

    bad_email = {**request, "customer": {**request["customer"], "email": "camille@gmail.com."}}
    delivered_first = {
        **request,
        "lines": [
            {**request["lines"][0], "shipped_at": None, "delivered_at": "2020-01-01T09:00:00Z"}
        ],
    }

    unsigned = await door.http.post("/v1/withdrawal-links", json=request)
    two_orders = await ask_for_link(door, mixed)
    not_json = await ask_for_link(door, b"{not json")
    undeliverable = await ask_for_link(door, bad_email)
    before_ordered = await ask_for_link(door, delivered_first)

    assert unsigned.status_code == 401
    assert two_orders.status_code == 422
    assert any(p.startswith("lines") for p in two_orders.json()["error"]["problems"])
    assert not_json.status_code == 422
    assert not_json.json()["error"]["code"] == "malformed_json"
    assert not_json.json()["error"]["problems"][0].startswith("(body): not JSON (")
    assert undeliverable.status_code == 422
    assert undeliverable.json()["error"]["problems"] == [
        "customer.email: is not an address mail can go to"
    ]
    assert before_ordered.status_code == 422
    assert before_ordered.json()["error"]["problems"] == [
        "lines.0.delivered_at: before lines.0.ordered_at"
    ]


async def test_a_customer_withdraws_in_two_steps_and_gets_the_acknowledgement(
    door: Door, harness: ReturnHarness, sink: MailSink
) -> None:
    request = order_of_three()
    link = (await ask_for_link(door, request.model_dump(mode="json"))).json()
    path = path_of(link["url"])

    first = await door.http.get(path)
    assert first.status_code == 200
    assert "Withdraw from contract here" in first.text
    assert "excluded from the right of withdrawal" in first.text  # line 2, and why
    assert "already been returned" in first.text  # line 3, and why
    fields = hidden_fields(first.text)

    # Step one only shows the statement: nothing is sent yet.
    review = await door.http.post(f"{path}/review", data={**fields, "line": "1"})
    assert review.status_code == 200
    assert "Confirm withdrawal" in review.text
    for shown in (CUSTOMER_NAME, CUSTOMER_EMAIL, request.order_id):
        assert shown in review.text
    assert not await harness_has_return(harness, request.order_id, "1")

    before = dt.datetime.now(dt.UTC).replace(microsecond=0)
    confirmed = await door.http.post(f"{path}/confirm", data=hidden_fields(review.text))
    assert confirmed.status_code == 303
    done = await door.http.get(confirmed.headers["location"])
    assert "Your withdrawal is received" in done.text
    assert "/my/returns/" in done.text

    handle = harness.client.get_workflow_handle(return_id(request.order_id, "1"))
    status = await handle.query(ReturnWorkflow.status)
    assert status.stage is not ReturnStage.REJECTED
    assert before <= status.notice_at <= dt.datetime.now(dt.UTC)
    assert not await harness_has_return(harness, request.order_id, "2")

    mail = await acknowledgement(sink, request.order_id)
    assert mail["Auto-Submitted"] == "auto-generated"  # as every email returnflow sends
    text = mail.get_body(preferencelist=("plain",)).get_content()  # type: ignore[union-attr]
    assert "I hereby give notice that I withdraw from my contract of sale" in text
    assert "iPhone 13 128 Go bleu" in text
    assert CUSTOMER_NAME in text and "Lyon" in text
    submitted = re.search(r"Submitted on: (.+)", text)
    assert submitted and str(status.notice_at.year) in submitted[1] and ":" in submitted[1]
    assert "/my/returns/" in text


async def test_a_second_confirmation_starts_nothing_more(
    door: Door, harness: ReturnHarness, sink: MailSink
) -> None:
    request = order_of_three()
    at = await reviewing(door, request)
    path, form = at.path, at.form

    first = await door.http.post(f"{path}/confirm", data=form)
    again = await door.http.post(f"{path}/confirm", data={**form, "form_id": "x" * 20})

    assert first.status_code == 303
    assert again.status_code == 200
    assert "Your withdrawal is received" in again.text
    await acknowledgement(sink, request.order_id)
    messages = [m for m in read_mailbox(sink.directory) if request.order_id in str(m["Subject"])]
    assert len(messages) == 1


async def test_a_line_whose_return_ended_meanwhile_stays_in_the_statement_with_its_page(
    door: Door, harness: ReturnHarness, sink: MailSink
) -> None:
    request = order_of_three()
    at = await reviewing(door, request)
    # Meanwhile the order service's own event for the line starts its return, which ends at
    # once (in its facts the order had not left the seller: cancelled and refunded).
    late = retract_event(
        order_id=request.order_id, line_id="1", status=OrderStatus.AWAITING_SHIPMENT
    )
    await (await harness.start(late)).result()

    confirmed = await door.http.post(f"{at.path}/confirm", data=at.form)
    done = await door.http.get(confirmed.headers["location"])

    assert "Your withdrawal is received" in done.text
    assert "a return of this item had already ended: its page says how" in done.text
    assert "/my/returns/" in done.text
    body = (await acknowledgement(sink, request.order_id)).get_body(preferencelist=("plain",))
    assert body is not None
    text = body.get_content()
    assert request.lines[0].product.title in text  # what the customer stated, whole
    assert "a return of this item had already ended; its page says how: http" in text


async def test_an_acknowledgement_the_relay_refuses_leaves_the_page_as_the_record(
    door: Door, harness: ReturnHarness, sink: MailSink
) -> None:
    """The relay refuses the address for good (550): the returns are started all the same, the
    withdrawal ends normally, and the page says no email could be sent."""
    request = order_of_three()
    customer = request.customer.model_copy(update={"email": "camille@marketplace.invalid"})
    request = request.model_copy(update={"customer": customer})
    at = await reviewing(door, request)
    link, path = at.link, at.path

    confirmed = await door.http.post(f"{path}/confirm", data=at.form)
    async with asyncio.timeout(20):
        while "We could not email" not in (done := await door.http.get(path)).text:
            await asyncio.sleep(0.2)

    assert confirmed.status_code == 303
    assert "this page is your record of it" in done.text
    assert "camille@marketplace.invalid" in done.text  # the address to correct
    assert await harness_has_return(harness, request.order_id, "1")
    receipt = await harness.client.get_workflow_handle(
        link["withdrawal_id"], result_type=WithdrawalReceipt
    ).result()
    assert receipt is not None and not receipt.acknowledged
    assert "550" in (receipt.acknowledgement_refused or "")


async def test_a_line_whose_order_status_we_do_not_know_is_withdrawn_and_waits_for_review(
    door: Door, harness: ReturnHarness, sink: MailSink
) -> None:
    """The order service reports a status this build does not know (`in_locker`): the
    customer can still withdraw, and operations decide, as for an event."""
    request = order_of_three()
    unknown = request.lines[0].model_copy(update={"status": "in_locker"})
    request = request.model_copy(update={"lines": [unknown, *request.lines[1:]]})
    at = await reviewing(door, request)
    confirmed = await door.http.post(f"{at.path}/confirm", data=at.form)

    assert confirmed.status_code == 303
    handle = harness.client.get_workflow_handle(return_id(request.order_id, "1"))
    status = await harness.until_status(handle, lambda s: s.stage is ReturnStage.AWAITING_REVIEW)
    assert status.eligibility is not None
    assert status.eligibility.reason is RejectionReason.UNKNOWN_ORDER_STATUS
    await acknowledgement(sink, request.order_id)


async def test_goods_of_one_seller_delivered_separately_are_withdrawn_from_the_last_delivery(
    door: Door, harness: ReturnHarness
) -> None:
    """Art. 9(2)(b)(i): a phone delivered 42 days ago, its charger from the same seller 5 days
    ago: both can be withdrawn from. A case from another seller, delivered with the phone, is
    another contract: its period has ended."""
    order_id = unique_order_id()
    now = dt.datetime.now(dt.UTC).replace(microsecond=0)
    phone = retract_event(order_id=order_id, line_id="1", ordered_days_before_notice=45).order
    charger = phone.model_copy(update={"line_id": "2", "delivered_at": now - dt.timedelta(days=5)})
    case = phone.model_copy(update={"line_id": "3", "seller_id": "SELLER-OTHER"})
    request = WithdrawalLinkRequest(
        request_id="help-click-1",
        customer=retract_event().customer,
        lines=[phone, charger, case],
    )

    at = await reviewing(door, request, line="1")
    confirmed = await door.http.post(f"{at.path}/confirm", data=at.form)

    offered = {line["line_id"]: line for line in at.link["lines"]}
    assert offered["1"]["withdrawable"] and offered["2"]["withdrawable"]
    assert offered["1"]["window_ends_at"] == offered["2"]["window_ends_at"]
    assert offered["3"]["reason"] == RejectionReason.OUTSIDE_RETURN_WINDOW
    assert confirmed.status_code == 303
    handle = harness.client.get_workflow_handle(return_id(order_id, "1"))
    status = await harness.until_status(handle, lambda s: s.eligibility is not None)
    assert status.eligibility is not None and status.eligibility.accepted


async def test_a_line_that_cannot_be_withdrawn_from_is_not_taken_even_if_posted(
    door: Door, harness: ReturnHarness
) -> None:
    request = order_of_three()
    path = path_of((await ask_for_link(door, request.model_dump(mode="json"))).json()["url"])
    fields = hidden_fields((await door.http.get(path)).text)

    forged = await door.http.post(f"{path}/confirm", data={**fields, "line": "2"})

    assert forged.status_code == 422
    title = request.titles["2"]
    assert f"You can no longer withdraw from {title} here: nothing was sent" in forged.text
    assert not await harness_has_return(harness, request.order_id, "2")


async def test_a_statement_with_an_item_whose_period_ended_since_is_not_sent_in_part(
    door: Door, harness: ReturnHarness
) -> None:
    """The customer read and confirms a statement of two items; the second's period ended
    while they read it: nothing is sent, and the page says which item and why."""
    order_id = unique_order_id()
    phone, case = (retract_event(order_id=order_id, line_id=n, locale="en") for n in "12")
    request = WithdrawalLinkRequest(
        request_id="help-1", customer=phone.customer, lines=[phone.order, case.order]
    )
    now = dt.datetime.now(dt.UTC)
    # Long enough for the page and the review on a loaded machine, then waited out.
    closes = now + dt.timedelta(seconds=6)
    offer = WithdrawalOffer(
        withdrawal_id=withdrawal_workflow_id(request.order_id, request.request_id),
        request=request,
        offered_at=now,
        open_until=now + dt.timedelta(hours=1),
        lines=[
            OfferedLine(line_id="1", withdrawable=True, window_ends_at=now + dt.timedelta(days=9)),
            OfferedLine(line_id="2", withdrawable=True, window_ends_at=closes),
        ],
    )
    await harness.client.start_workflow(
        WithdrawalWorkflow.run,
        offer,
        id=offer.withdrawal_id,
        task_queue=harness.settings.task_queue,
    )
    path = path_of(PageLinks(door.settings).withdrawal(offer.withdrawal_id, offer.open_until))
    fields = hidden_fields((await door.http.get(path)).text)
    review = await door.http.post(f"{path}/review", data={**fields, "line": ["1", "2"]})
    await asyncio.sleep((closes - dt.datetime.now(dt.UTC)).total_seconds() + 0.5)

    confirmed = await door.http.post(
        f"{path}/confirm", data={**hidden_fields(review.text), "line": ["1", "2"]}
    )

    assert review.status_code == 200
    assert confirmed.status_code == 422
    assert f"You can no longer withdraw from {request.titles['2']} here" in confirmed.text
    view = await harness.client.get_workflow_handle(offer.withdrawal_id).query(
        WithdrawalWorkflow.view
    )
    assert view.receipt is None
    assert not await harness_has_return(harness, request.order_id, "1")


async def test_the_function_speaks_french_to_a_french_customer(door: Door) -> None:
    request = order_of_three(locale="fr")
    path = path_of((await ask_for_link(door, request.model_dump(mode="json"))).json()["url"])

    page = await door.http.get(path)

    assert '<html lang="fr">' in page.text
    assert "Se rétracter du contrat ici" in page.text


async def test_an_expired_or_tampered_withdrawal_link_gets_a_clear_page(door: Door) -> None:
    tokens = PageTokens.from_settings(door.settings)
    past = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=1)
    expired = tokens.seal(Purpose.WITHDRAWAL, "withdrawal-ORD-1-x", past)
    return_token = tokens.seal(Purpose.RETURN, "withdrawal-ORD-1-x", past + dt.timedelta(hours=1))

    old = await door.http.get(f"/my/withdraw/{expired}")
    wrong = await door.http.get(f"/my/withdraw/{return_token}")

    assert old.status_code == 410
    assert "This withdrawal link has expired" in old.text
    assert wrong.status_code == 404


async def harness_has_return(harness: ReturnHarness, order_id: str, line_id: str) -> bool:
    from temporalio.service import RPCError

    try:
        await harness.client.get_workflow_handle(return_id(order_id, line_id)).describe()
    except RPCError:
        return False
    return True


async def test_a_tampered_or_expired_link_confirms_nothing(
    door: Door, harness: ReturnHarness
) -> None:
    request = order_of_three()
    link = (await ask_for_link(door, request.model_dump(mode="json"))).json()
    path = path_of(link["url"])
    fields = {**hidden_fields((await door.http.get(path)).text), "line": "1"}
    token = path.rsplit("/", 1)[1]
    tokens = PageTokens.from_settings(door.settings)
    expired = tokens.seal(
        Purpose.WITHDRAWAL, link["withdrawal_id"], dt.datetime.now(dt.UTC) - dt.timedelta(1)
    )

    tampered = await door.http.post(f"/my/withdraw/{token[:-4]}/confirm", data=fields)
    late = await door.http.post(f"/my/withdraw/{expired}/confirm", data=fields)

    assert tampered.status_code == 404
    assert late.status_code == 410
    assert not await harness_has_return(harness, request.order_id, "1")


async def test_a_retried_link_request_gets_the_same_withdrawal_and_its_time(door: Door) -> None:
    body = order_of_three().model_dump(mode="json")

    first = (await ask_for_link(door, body)).json()
    again = (await ask_for_link(door, body)).json()

    assert again["withdrawal_id"] == first["withdrawal_id"]
    assert again["expires_at"] == first["expires_at"]
    assert again["url"] != first["url"]  # a fresh token, for the same withdrawal


async def test_a_request_id_sent_again_with_another_body_is_refused_naming_it(
    door: Door,
) -> None:
    """The order service's second request reuses the first one's request_id for fewer lines:
    it is another request, which the first one's link would not show."""
    request = order_of_three()
    first = await ask_for_link(door, request.model_dump(mode="json"))
    other = request.model_copy(update={"lines": request.lines[:1]})

    again = await ask_for_link(door, other.model_dump(mode="json"))

    assert first.status_code == 201
    assert again.status_code == 422
    assert again.json()["error"]["code"] == "request_id_reused"
    assert again.json()["error"]["problems"] == ["request_id: sent before with another body"]
    retried = await ask_for_link(door, request.model_dump(mode="json"))
    assert retried.status_code == 201
    assert retried.json()["withdrawal_id"] == first.json()["withdrawal_id"]


async def test_a_request_retried_after_its_withdrawal_ended_starts_no_other(
    door: Door, harness: ReturnHarness, sink: MailSink
) -> None:
    """The first link was confirmed and its withdrawal has ended: a retry of the same request
    gets that withdrawal (its link shows the receipt), not a new one whose confirmation no
    acknowledgement would follow."""
    request = order_of_three()
    body = request.model_dump(mode="json")
    at = await reviewing(door, request)
    first, path = at.link, at.path
    await door.http.post(f"{path}/confirm", data=at.form)
    withdrawal = harness.client.get_workflow_handle(first["withdrawal_id"])
    await withdrawal.result()

    again = await ask_for_link(door, body)

    assert again.status_code == 201
    assert again.json()["withdrawal_id"] == first["withdrawal_id"]
    assert again.json()["expires_at"] == first["expires_at"]
    assert "Your withdrawal is received" in (await door.http.get(path)).text
    shown = await door.http.get(path_of(again.json()["url"]))
    assert "Your withdrawal is received" in shown.text
    runs = [w async for w in harness.client.list_workflows(f'WorkflowId = "{withdrawal.id}"')]
    assert len(runs) == 1


async def test_a_request_retried_once_its_link_stopped_opening_is_refused_409(
    door: Door, harness: ReturnHarness
) -> None:
    request = order_of_three()
    now = dt.datetime.now(dt.UTC)
    gone = WithdrawalOffer(
        withdrawal_id=withdrawal_workflow_id(request.order_id, request.request_id),
        request=request,
        offered_at=now - dt.timedelta(hours=2),
        open_until=now - dt.timedelta(hours=1),
        lines=[OfferedLine(line_id="1", withdrawable=True, window_ends_at=now + dt.timedelta(9))],
    )
    ended = await harness.client.start_workflow(
        WithdrawalWorkflow.run, gone, id=gone.withdrawal_id, task_queue=harness.settings.task_queue
    )
    await ended.result()  # nobody confirmed: the link stopped opening the page

    again = await ask_for_link(door, request.model_dump(mode="json"))

    assert again.status_code == 409
    assert again.json()["error"]["code"] == "withdrawal_ended"
    assert again.json()["error"]["problems"] == [
        "request_id: its withdrawal's link no longer opens"
    ]


async def test_two_orders_whose_ids_run_together_get_a_withdrawal_each(door: Door) -> None:
    order_id = unique_order_id()

    def link_request(order: str, request_id: str) -> dict[str, Any]:
        line = retract_event(order_id=order, line_id="1")
        request = WithdrawalLinkRequest(
            request_id=request_id, customer=line.customer, lines=[line.order]
        )
        return request.model_dump(mode="json")

    first = (await ask_for_link(door, link_request(f"{order_id}-A", "1"))).json()
    second = (await ask_for_link(door, link_request(order_id, "A-1"))).json()
    second_page = await door.http.get(path_of(second["url"]))

    assert first["withdrawal_id"] != second["withdrawal_id"]
    assert second_page.status_code == 200
    assert order_id in second_page.text
    assert f"{order_id}-A" not in second_page.text


async def test_a_withdrawal_is_no_return_to_read_or_act_on_through_the_gateway(
    door: Door,
) -> None:
    withdrawal_id = (await ask_for_link(door, order_of_three().model_dump(mode="json"))).json()[
        "withdrawal_id"
    ]

    read = await door.status(withdrawal_id, OPERATIONS_TOKEN)
    cancel = await door.act(withdrawal_id, "cancel", {}, CUSTOMER_TOKEN)

    assert (read.status_code, cancel.status_code) == (404, 404)
    assert read.json()["error"]["code"] == cancel.json()["error"]["code"] == "unknown_return"


async def test_an_order_time_ahead_of_our_clock_is_refused_naming_the_field(door: Door) -> None:
    body = order_of_three().model_dump(mode="json")
    ahead = dt.datetime.now(dt.UTC) + dt.timedelta(hours=2)
    body["lines"][1]["ordered_at"] = ahead.isoformat()
    body["lines"][1]["shipped_at"] = body["lines"][1]["delivered_at"] = None
    body["lines"][1]["status"] = "awaiting_shipment"

    answer = await ask_for_link(door, body)

    assert answer.status_code == 422
    assert answer.json()["error"]["problems"][0].startswith("lines.1.ordered_at: in the future")


def test_a_line_whose_window_closes_after_the_offer_is_no_longer_withdrawable() -> None:
    request = order_of_three()
    now = dt.datetime.now(dt.UTC)
    offer = WithdrawalOffer(
        withdrawal_id="withdrawal-x",
        request=request,
        offered_at=now,
        open_until=now + dt.timedelta(hours=1),
        lines=[OfferedLine(line_id="1", withdrawable=True, window_ends_at=now)],
    )

    assert offer.withdrawable(now) == {"1"}
    assert offer.withdrawable(now + dt.timedelta(seconds=1)) == set()


async def test_a_link_asked_while_no_worker_answers_says_it_was_started_and_to_ask_again(
    time_skipping_env: WorkflowEnvironment, tmp_path: Path
) -> None:
    """The withdrawal is started, but no worker reads it back in time: not "nothing was done",
    which would have the order service ask under a new request_id, a second withdrawal."""
    request = order_of_three()
    settings = gateway_settings(f"no-worker-{uuid.uuid4().hex[:8]}", tmp_path)
    async with open_door(time_skipping_env.client, settings) as nobody:
        answer = await ask_for_link(nobody, request.model_dump(mode="json"))
        started = await time_skipping_env.client.get_workflow_handle(
            withdrawal_workflow_id(request.order_id, request.request_id)
        ).describe()
        await time_skipping_env.client.get_workflow_handle(started.id).terminate("test over")

    assert answer.status_code == 503 and "Retry-After" in answer.headers
    assert "ask again with the same request_id" in answer.json()["error"]["message"]
