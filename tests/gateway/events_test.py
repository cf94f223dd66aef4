"""The order service's events through the gateway: a signed `order.retract_requested` starts a
return once, and everything refused is answered with the field to blame and kept to replay."""

from __future__ import annotations

import datetime as dt
import json
import sqlite3
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from pydantic import SecretStr
from temporalio.client import WorkflowExecutionStatus
from temporalio.common import MetricMeter
from temporalio.runtime import MetricBuffer, Runtime, TelemetryConfig
from temporalio.service import RPCError, RPCStatusCode
from temporalio.testing import WorkflowEnvironment

from domain.ids import return_id
from domain.returns import ReturnStage
from plumbing import metrics
from plumbing.signing import SIGNATURE_HEADER, TIMESTAMP_HEADER, signature
from store.sqlite import SqliteDatabase
from tests.factories import retract_event
from tests.gateway.door import EVENT_SECRET, Door, event_body, gateway_settings, open_door
from tests.workflows.harness import ReturnHarness, return_harness, runs_of
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


async def test_a_signed_retract_event_starts_its_return_and_is_acknowledged_202(
    door: Door, harness: ReturnHarness
) -> None:
    event = retract_event()
    answer = await door.send_event(event_body(event))

    expected_id = return_id(event.order.order_id, event.order.line_id)
    assert answer.status_code == 202
    assert answer.json()["return_id"] == expected_id
    assert answer.json()["created"] is True
    handle = harness.client.get_workflow_handle_for(ReturnWorkflow.run, expected_id)
    status = await harness.stage_reached(handle, ReturnStage.AWAITING_CUSTOMER_CHOICE)
    assert status.order_id == event.order.order_id


async def test_a_redelivered_event_is_answered_200_with_the_same_return(
    door: Door, harness: ReturnHarness
) -> None:
    body = event_body(retract_event())
    first = await door.send_event(body)
    return_id_ = first.json()["return_id"]
    first_run = (await harness.client.get_workflow_handle(return_id_).describe()).run_id
    again = await door.send_event(body)
    latest = await harness.client.get_workflow_handle(return_id_).describe()
    runs = await runs_of(harness.client, return_id_)

    assert (first.status_code, again.status_code) == (202, 200)
    assert again.json()["return_id"] == return_id_
    assert again.json()["created"] is False
    assert latest.run_id == first_run, "the redelivery is answered by the return already running"
    assert runs == [first_run]


@pytest.mark.parametrize(
    ("how", "problem"),
    [
        ("unsigned", "headers are missing"),
        ("wrong secret", "does not match"),
        ("stale", "stale or in the future"),
        ("tampered", "does not match"),
    ],
)
async def test_an_event_without_a_good_signature_is_refused_401_and_kept(
    door: Door, harness: ReturnHarness, how: str, problem: str
) -> None:
    event = retract_event()
    body = event_body(event)
    if how == "unsigned":
        answer = await door.send_event(body, signed=False)
    elif how == "wrong secret":
        answer = await door.send_event(body, secret="somebody-elses-secret")
    elif how == "stale":
        answer = await door.send_event(body, timestamp=int(time.time()) - 3600)
    else:
        signed = await door.send_event(b"{}", signed=True)  # a signature for another body
        assert signed.status_code == 422
        header = signed.request.headers
        answer = await door.http.post(
            "/v1/events",
            content=body,
            headers={
                "X-Returnflow-Timestamp": header["X-Returnflow-Timestamp"],
                "X-Returnflow-Signature": header["X-Returnflow-Signature"],
            },
        )

    assert answer.status_code == 401
    assert answer.json()["error"]["code"] == "bad_signature"
    assert problem in answer.json()["error"]["message"]
    letter = door.dead_letters.get(answer.json()["dead_letter_id"])
    assert letter.reason == "bad_signature" and not letter.authenticated
    assert letter.body == body
    assert not [w async for w in harness.client.list_workflows(f'OrderId="{event.order.order_id}"')]


async def test_an_unknown_event_type_is_refused_400_and_kept(door: Door) -> None:
    body = json.dumps({"event_id": "EVT-1", "type": "order.shipped"}).encode()
    answer = await door.send_event(body)

    assert answer.status_code == 400
    assert answer.json()["error"]["code"] == "unknown_event_type"
    assert answer.json()["error"]["problems"] == ["type: not 'order.retract_requested'"]
    assert "order.shipped" not in answer.text, "the answer names the field, not what it held"
    letter = door.dead_letters.get(answer.json()["dead_letter_id"])
    assert (letter.reason, letter.authenticated) == ("unknown_event_type", True)


@pytest.mark.parametrize(
    ("fields", "message", "problem"),
    [
        ({}, "The event has no type.", "type: Field required"),
        ({"type": None}, "The event's type is not text.", "type: Input should be a string"),
        (
            {"type": ["order.retract_requested"]},
            "The event's type is not text.",
            "type: Input should be a string",
        ),
    ],
    ids=["missing", "null", "list"],
)
async def test_an_event_without_a_type_in_text_is_refused_422_naming_the_field(
    door: Door, fields: dict[str, object], message: str, problem: str
) -> None:
    answer = await door.send_event(json.dumps({"event_id": "EVT-1", **fields}).encode())

    assert answer.status_code == 422
    assert answer.json()["error"]["code"] == "invalid_event"
    assert answer.json()["error"]["message"] == message
    assert answer.json()["error"]["problems"] == [problem]
    assert door.dead_letters.get(answer.json()["dead_letter_id"]).reason == "invalid_event"


@pytest.mark.parametrize(
    ("body", "problem"),
    [
        (b'{"a": ' + b"[" * 50_000 + b"]" * 50_000 + b"}", "nested more than 64 levels deep"),
        (b'{"event_id": "EVT-1", "type": "order.retract_requested", "n": NaN}', "NaN is not"),
        (b'{"event_id": "EVT-1", "n": 1e999}', "a number is too large"),
        (b'{"event_id": "\\udfff"}', "a string holds an escaped lone surrogate"),
        (b'{"event_id": "\xe9"}', "the body is not UTF-8 text"),
    ],
    ids=["nested", "nan", "infinite", "lone-surrogate", "latin-1"],
)
async def test_json_no_parser_should_take_is_refused_422_naming_why_and_kept(
    door: Door, body: bytes, problem: str
) -> None:
    answer = await door.send_event(body)

    assert answer.status_code == 422
    assert answer.json()["error"]["code"] == "malformed_json"
    (said,) = answer.json()["error"]["problems"]
    assert said.startswith(f"(body): not JSON ({problem}")
    assert door.dead_letters.get(answer.json()["dead_letter_id"]).body == body


async def test_a_withdrawal_dated_tomorrow_is_refused_naming_occurred_at_and_kept(
    door: Door,
) -> None:
    tomorrow = dt.datetime.now(dt.UTC).replace(microsecond=0) + dt.timedelta(days=1)
    body = event_body(retract_event(notice_at=tomorrow))

    answer = await door.send_event(body)

    assert answer.status_code == 422
    assert answer.json()["error"]["code"] == "invalid_event"
    (problem,) = answer.json()["error"]["problems"]
    assert problem.startswith("occurred_at: in the future")
    assert door.dead_letters.get(answer.json()["dead_letter_id"]).body == body


async def test_a_delivery_dated_in_the_year_9999_is_refused_naming_it_before_any_clock_counts(
    door: Door,
) -> None:
    raw = json.loads(event_body(retract_event()))
    raw["order"]["delivered_at"] = "9999-12-31T23:59:59+00:00"
    body = json.dumps(raw).encode()

    answer = await door.send_event(body)

    assert answer.status_code == 422
    assert answer.json()["error"]["problems"] == [
        "order.delivered_at: Value error, outside the years 2000 to 2099"
    ]
    assert door.dead_letters.get(answer.json()["dead_letter_id"]).reason == "invalid_event"


async def test_an_order_written_in_1999_that_is_2000_in_utc_is_taken(door: Door) -> None:
    """The first hour the clocks count from, written with an offset behind UTC."""
    raw = json.loads(event_body(retract_event()))
    raw["order"] |= {"ordered_at": "1999-12-31T23:30:00-01:00", "shipped_at": None}

    answer = await door.send_event(json.dumps(raw).encode())

    assert answer.status_code == 202, answer.text


@pytest.mark.parametrize(
    "email",
    ["camille@gmail..com", "camille@gmail.com.", "camille@[gmail.com", "camille(work)@gmail.com"],
    ids=["empty-label", "trailing-dot", "bracket", "comment"],
)
async def test_an_email_address_no_mail_can_go_to_is_refused_naming_the_field(
    door: Door, email: str
) -> None:
    """Each fits the loose shape of an address; a notice could go to none of them (or, for
    the comment, to another address than the one given)."""
    raw = json.loads(event_body(retract_event()))
    raw["customer"]["email"] = email

    answer = await door.send_event(json.dumps(raw).encode())

    assert answer.status_code == 422
    assert answer.json()["error"]["problems"] == [
        "customer.email: is not an address mail can go to"
    ]
    assert email not in answer.text


async def test_an_address_in_another_script_is_taken(door: Door, harness: ReturnHarness) -> None:
    raw = json.loads(event_body(retract_event()))
    raw["customer"]["email"] = "jorg@bücher.de"

    answer = await door.send_event(json.dumps(raw).encode())

    assert answer.status_code == 202


@pytest.mark.parametrize(
    ("times", "problem"),
    [
        (
            {"shipped_at": None, "delivered_at": "2026-11-01T10:00:00+00:00"},
            "order.delivered_at: before order.ordered_at",
        ),
        (
            {"delivered_at": "2026-11-25T10:00:00+00:00"},
            "order.delivered_at: after the notice (occurred_at): a notice reports what "
            "happened before it",
        ),
    ],
    ids=["delivered-before-ordered", "delivered-after-the-notice"],
)
async def test_order_times_out_of_order_are_refused_naming_the_field(
    door: Door, times: dict[str, str | None], problem: str
) -> None:
    notice = dt.datetime(2026, 11, 20, 9, 0, tzinfo=dt.UTC)
    raw = json.loads(event_body(retract_event(notice_at=notice)))  # ordered on 10 November
    raw["order"] |= times

    answer = await door.send_event(json.dumps(raw).encode())

    assert answer.status_code == 422
    assert answer.json()["error"]["problems"] == [problem]
    assert door.dead_letters.get(answer.json()["dead_letter_id"]).reason == "invalid_event"


async def test_a_price_of_more_digits_than_any_order_is_refused_naming_it_and_kept(
    door: Door,
) -> None:
    raw = json.loads(event_body(retract_event()))
    raw["order"]["product"]["price"]["amount"] = "1E+30"
    body = json.dumps(raw).encode()

    answer = await door.send_event(body)

    assert answer.status_code == 422
    assert answer.json()["error"]["problems"] == [
        "order.product.price.amount: Decimal input should have no more than 15 digits in total"
    ]
    assert door.dead_letters.get(answer.json()["dead_letter_id"]).body == body


async def test_a_price_and_delivery_whose_refund_would_not_fit_an_amount_are_refused(
    door: Door,
) -> None:
    raw = json.loads(event_body(retract_event()))
    raw["order"]["product"]["price"]["amount"] = "9999999999999.99"
    raw["order"]["delivery_paid"] = {"amount": "5.00", "currency": "EUR"}
    body = json.dumps(raw).encode()

    answer = await door.send_event(body)

    assert answer.status_code == 422
    assert answer.json()["error"]["problems"] == [
        "order: Value error, order.product.price and order.delivery_paid together come to more "
        "than 13 digits before the point: their refund must fit an amount"
    ]


async def test_a_refused_event_the_store_cannot_keep_now_is_answered_503_to_be_sent_again(
    harness: ReturnHarness, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Refused, but not kept: answered as not taken, so that the sender's retry is kept."""
    monkeypatch.setattr("store.sqlite.BUSY_TIMEOUT_MS", 200)
    body = b"{not json"
    settings = gateway_settings(harness.settings.task_queue, tmp_path)
    async with open_door(harness.client, settings) as door:
        assert door.store is not None
        database = door.store.database
        assert isinstance(database, SqliteDatabase)
        another_process = sqlite3.connect(database.path, isolation_level=None)
        another_process.execute("BEGIN EXCLUSIVE")  # a writer holding the store
        try:
            locked = await door.send_event(body)
        finally:
            another_process.execute("ROLLBACK")
            another_process.close()
        again = await door.send_event(body)
        kept = door.dead_letters.get(again.json()["dead_letter_id"])

    assert locked.status_code == 503
    assert locked.headers["Retry-After"] == "30"
    assert locked.json()["error"]["code"] == "store_unavailable"
    assert again.status_code == 422
    assert kept.body == body


async def test_malformed_json_is_refused_422_and_kept(door: Door) -> None:
    answer = await door.send_event(b'{"event_id": "EVT-1", "type": ')

    assert answer.status_code == 422
    assert answer.json()["error"]["code"] == "malformed_json"
    assert answer.json()["error"]["problems"][0].startswith("(body): not JSON")
    assert door.dead_letters.get(answer.json()["dead_letter_id"]).reason == "malformed_json"


async def test_a_schema_violation_is_refused_422_naming_each_field(door: Door) -> None:
    raw = json.loads(event_body(retract_event()))
    raw["customer"]["email"] = "not an email"
    del raw["order"]["seller_id"]
    raw["coupon"] = "WELCOME10"
    answer = await door.send_event(json.dumps(raw).encode())

    assert answer.status_code == 422
    problems = answer.json()["error"]["problems"]
    fields = sorted(problem.split(":")[0] for problem in problems)
    assert fields == ["coupon", "customer.email", "order.seller_id"]
    # Only the field and the rule: the customer's data stays out of answers and logs.
    assert "not an email" not in json.dumps(answer.json())
    assert door.dead_letters.get(answer.json()["dead_letter_id"]).problems == problems


async def test_a_body_over_the_limit_is_refused_413_and_its_start_kept(
    harness: ReturnHarness, tmp_path: Path
) -> None:
    settings = gateway_settings(harness.settings.task_queue, tmp_path, gateway_max_body_bytes=4096)
    async with open_door(harness.client, settings) as small:
        answer = await small.send_event(b'{"padding": "' + b"x" * 10_000 + b'"}')
        letter = small.dead_letters.get(answer.json()["dead_letter_id"])

    assert answer.status_code == 413
    assert letter.truncated and letter.body_size == 4096


async def test_a_sender_retrying_a_refused_event_fills_one_letter_not_many(door: Door) -> None:
    body = json.dumps({"event_id": "EVT-2", "type": "order.refunded"}).encode()
    kept = MetricBuffer(1000)
    metrics.use_meter(Runtime(telemetry=TelemetryConfig(metrics=kept)).metric_meter)
    try:
        answers = [await door.send_event(body) for _ in range(3)]
    finally:
        metrics.use_meter(MetricMeter.noop)

    ids = {a.json()["dead_letter_id"] for a in answers}
    assert len(ids) == 1
    assert door.dead_letters.get(ids.pop()).times_received == 3
    filed = [u.value for u in kept.retrieve_updates() if u.metric.name == metrics.DEAD_LETTERS.name]
    assert sum(filed) == 1, "one letter filed, whatever the retries"


async def test_events_from_a_sender_rotating_its_secret_are_taken_under_either(
    harness: ReturnHarness, tmp_path: Path
) -> None:
    settings = gateway_settings(
        harness.settings.task_queue,
        tmp_path,
        gateway_event_secrets=SecretStr("the-new-secret, order-events-secret-for-tests"),
    )
    async with open_door(harness.client, settings) as rotating:
        old = await rotating.send_event(event_body(retract_event()))
        new = await rotating.send_event(event_body(retract_event()), secret="the-new-secret")

    assert (old.status_code, new.status_code) == (202, 202)


@pytest.mark.parametrize(
    ("secrets", "status"),
    [
        (("the-next-secret", EVENT_SECRET), 202),
        ((EVENT_SECRET, "the-next-secret"), 202),
        (("the-next-secret", "somebody-elses-secret"), 401),
    ],
    ids=["ours-second", "ours-first", "neither-ours"],
)
async def test_an_event_signed_under_two_secrets_is_taken_if_either_is_ours(
    door: Door, harness: ReturnHarness, secrets: tuple[str, str], status: int
) -> None:
    event = retract_event()
    body = event_body(event)
    stamp = int(time.time())
    headers = {
        "Content-Type": "application/json",
        TIMESTAMP_HEADER: str(stamp),
        SIGNATURE_HEADER: ", ".join(signature(secret, stamp, body) for secret in secrets),
    }
    answer = await door.http.post("/v1/events", content=body, headers=headers)
    # The gateway starts the return before it answers: it is there now, or never was.
    the_return = harness.client.get_workflow_handle(
        return_id(event.order.order_id, event.order.line_id)
    )
    if status == 202:
        assert answer.json()["created"] is True
        assert (await the_return.describe()).status is WorkflowExecutionStatus.RUNNING
    else:
        assert answer.json()["error"]["code"] == "bad_signature"
        with pytest.raises(RPCError) as unknown:
            await the_return.describe()
        assert unknown.value.status is RPCStatusCode.NOT_FOUND
    assert answer.status_code == status


async def test_a_redelivery_written_differently_is_the_same_event_and_answered_200(
    door: Door,
) -> None:
    event = retract_event()
    first = await door.send_event(event_body(event))
    facts = event.model_dump(mode="json")
    rewritten = json.dumps(facts, indent=2, sort_keys=True).encode()
    again = await door.send_event(rewritten)

    assert (first.status_code, again.status_code) == (202, 200)
    assert again.json()["return_id"] == first.json()["return_id"]
    assert (again.json()["created"], again.json()["ended"]) == (False, False)


async def test_an_event_id_seen_before_with_other_facts_is_refused_409_and_kept(
    door: Door, harness: ReturnHarness
) -> None:
    event = retract_event()
    first = await door.send_event(event_body(event))
    product = event.order.product.model_copy(update={"title": "Another device entirely"})
    other = event.model_copy(update={"order": event.order.model_copy(update={"product": product})})
    body = event_body(other)
    answer = await door.send_event(body)
    runs = await runs_of(harness.client, first.json()["return_id"])

    assert first.status_code == 202
    assert answer.status_code == 409
    error = answer.json()["error"]
    assert error["code"] == "event_conflict"
    assert error["problems"] == [
        "order.product.title: differs from the first event with this event_id"
    ]
    assert "Another device" not in answer.text
    letter = door.dead_letters.get(answer.json()["dead_letter_id"])
    assert (letter.reason, letter.authenticated, letter.body) == ("event_conflict", True, body)
    assert len(runs) == 1, "the return the first event started is the only one"


async def test_a_new_withdrawal_for_a_return_that_has_ended_goes_to_operations_not_200(
    door: Door, harness: ReturnHarness, time_skipping_env: WorkflowEnvironment
) -> None:
    event = retract_event(ordered_days_before_notice=45)  # rejected: outside the window
    first = await door.send_event(event_body(event))
    handle = harness.client.get_workflow_handle_for(ReturnWorkflow.run, first.json()["return_id"])
    await time_skipping_env.fast_forward(handle)  # past the rejection's review period
    await handle.result()

    withdrawn_again = event.model_copy(update={"event_id": "EVT-WITHDRAWN-AGAIN"})
    body = event_body(withdrawn_again)
    new_withdrawal = await door.send_event(body)
    redelivery = await door.send_event(event_body(event))
    runs = await runs_of(harness.client, handle.id)

    assert new_withdrawal.status_code == 409
    assert new_withdrawal.json()["error"]["code"] == "return_ended"
    letter = door.dead_letters.get(new_withdrawal.json()["dead_letter_id"])
    assert (letter.reason, letter.body) == ("return_ended", body)
    assert redelivery.status_code == 200, "the first event was acted on: its return answers"
    assert redelivery.json()["return_id"] == handle.id
    assert (redelivery.json()["created"], redelivery.json()["ended"]) == (False, True)
    assert len(runs) == 1
