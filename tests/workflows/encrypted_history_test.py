"""What Temporal stores of a return is encrypted, failures included; and a key rotated while
returns are open changes nothing for them."""

from __future__ import annotations

import base64
import datetime as dt
import json

import pytest
from temporalio import activity
from temporalio.client import Client, WorkflowUpdateFailedError
from temporalio.exceptions import ApplicationError
from temporalio.testing import WorkflowEnvironment

from domain.calendar import next_pickup_date
from domain.carriers import Label, LabelRequest, ReturnMethod
from domain.events import RetractEvent
from domain.returns import ReturnMethodChoice, ReturnStage
from plumbing.encryption import EncryptionCodec
from plumbing.temporal import data_converter
from tests.factories import retract_event
from tests.keys import NEXT_KEY, NEXT_KEY_ID, TEST_KEYRING
from tests.raw_history import raw_history
from tests.workflows.doubles import Doubles
from tests.workflows.harness import ReturnHandle, return_harness
from workflows.return_workflow import ReturnWorkflow

LOCAL_ACTIVITY_BOOKKEEPING = {
    "seq",
    "attempt",
    "activity_id",
    "activity_type",
    "complete_time",
    "backoff",
    "original_schedule_time",
    "activation_index",
}
DROP_OFF = ReturnMethodChoice(method=ReturnMethod.POST_OFFICE_DROP_OFF, carrier="sandbox")


def personal_data(event: RetractEvent) -> list[bytes]:
    customer = event.customer
    return [
        text.encode()
        for text in (customer.name, customer.email, customer.address.line1, customer.address.city)
    ]


def client_with(env: WorkflowEnvironment, codec: EncryptionCodec) -> Client:
    """Another process's client to the same server, with its own keys."""
    return Client(
        env.client.service_client,
        namespace=env.client.namespace,
        data_converter=data_converter(codec),
    )


async def test_a_whole_return_is_stored_encrypted_and_carries_no_personal_data_in_clear(
    time_skipping_env: WorkflowEnvironment,
) -> None:
    event = retract_event()
    async with return_harness(time_skipping_env.client) as harness:
        handle = await harness.start(event)
        await harness.stage_reached(handle, ReturnStage.AWAITING_CUSTOMER_CHOICE)
        ready = await handle.execute_update(ReturnWorkflow.choose_return_method, DROP_OFF)
        assert ready.label is not None
        await harness.scan(handle, ready.label.tracking_number)
        await harness.to_the_end(time_skipping_env, handle)

    stored = await raw_history(time_skipping_env.client.service_client, "default", handle.id)

    for clear in personal_data(event):
        assert clear not in stored.data
    payloads = stored.payloads()
    assert len(payloads) >= 10
    assert [p.where for p in payloads if p.encoding != b"binary/encrypted"] == []
    assert {p.key_id for p in payloads} == {TEST_KEYRING.current}
    assert {"activity_task_completed_event_attributes", "marker_recorded_event_attributes"} <= (
        stored.event_types()
    )
    # The one payload the SDK writes itself: a local activity's bookkeeping (which call, which
    # attempt, when). Its result is a payload of its own, encrypted with the others.
    for marker in stored.local_activity_bookkeeping():
        assert set(json.loads(marker.payload.data)) <= LOCAL_ACTIVITY_BOOKKEEPING
    # And the patches the return's code took: their IDs, nothing of the return's.
    patches = [json.loads(m.payload.data) for m in stored.patch_markers()]
    assert patches and all(set(p) <= {"id", "deprecated"} for p in patches)
    for attribute in stored.search_attributes():  # indexed, so in clear: and nothing personal
        for clear in personal_data(event):
            assert clear not in attribute.payload.data


async def test_what_the_web_ui_lists_without_opening_a_return_names_nobody(
    time_skipping_env: WorkflowEnvironment,
) -> None:
    event = retract_event()
    async with return_harness(time_skipping_env.client) as harness:
        handle = await harness.start(event)
        await harness.stage_reached(handle, ReturnStage.AWAITING_CUSTOMER_CHOICE)
        described = await handle.describe()
        details = await handle.query("__temporal_workflow_metadata")
        await handle.terminate("test over")

    shown = [
        handle.id,
        str(described.typed_search_attributes),
        str(await described.static_summary()),
        str(await described.static_details()),
        json.dumps(details, default=str),
        " ".join((await described.memo()).keys()),
    ]
    assert event.order.order_id in shown[0] and "Stage:" in shown[4]
    for clear in personal_data(event):
        for text in shown:
            assert clear.decode() not in text


class CarrierQuotingTheAddress(Doubles):
    """A carrier whose refusal quotes the customer's street and city back."""

    @activity.defn(name="create_return_label")
    async def create_return_label(self, request: LabelRequest) -> Label:
        sender = request.sender
        raise ApplicationError(
            f"sender address '{sender.line1}, {sender.postal_code} {sender.city}' is over 35 "
            "characters per line",
            {"field": "sender.line1"},
            type="CarrierRejected",
            non_retryable=True,
        )


async def test_a_carrier_error_quoting_the_address_is_stored_encrypted_and_read_back_whole(
    time_skipping_env: WorkflowEnvironment,
) -> None:
    event = retract_event()
    street = event.customer.address.line1
    async with return_harness(time_skipping_env.client, CarrierQuotingTheAddress()) as harness:
        handle = await harness.start(event)
        await harness.stage_reached(handle, ReturnStage.AWAITING_CUSTOMER_CHOICE)
        with pytest.raises(WorkflowUpdateFailedError) as refused:
            await handle.execute_update(ReturnWorkflow.choose_return_method, DROP_OFF)

    assert isinstance(refused.value.cause, ApplicationError)
    assert street in refused.value.cause.message  # staff with the key read the carrier's words
    stored = await raw_history(time_skipping_env.client.service_client, "default", handle.id)
    assert street.encode() not in stored.data
    failed = [
        e for e in stored.history.events if e.HasField("activity_task_failed_event_attributes")
    ]
    assert failed, "the carrier's refusal is in the history"
    failure = failed[0].activity_task_failed_event_attributes.failure
    assert failure.message == "Encoded failure" and failure.stack_trace == ""
    assert failure.encoded_attributes.metadata["encoding"] == b"binary/encrypted"
    await handle.terminate("test over")


async def test_returns_started_under_the_old_key_complete_under_the_new_one(
    time_skipping_env: WorkflowEnvironment,
) -> None:
    old_key = EncryptionCodec(TEST_KEYRING)
    rotated = EncryptionCodec(TEST_KEYRING.with_current(NEXT_KEY_ID, base64.b64decode(NEXT_KEY)))
    before = client_with(time_skipping_env, old_key)
    handles: list[ReturnHandle] = []
    async with return_harness(before) as harness:
        queue = harness.settings.task_queue
        for _ in range(3):
            handles.append(await harness.start(retract_event()))
        for handle in handles:
            await harness.stage_reached(handle, ReturnStage.AWAITING_CUSTOMER_CHOICE)

    # The new key is deployed: every worker and client restarts with it current, the old one
    # still listed. The open returns go on on the new workers.
    after = client_with(time_skipping_env, rotated)
    async with return_harness(after, task_queue=queue) as harness:
        pickup = ReturnMethodChoice(
            method=ReturnMethod.MAILBOX_PICKUP,
            carrier="sandbox",
            pickup_date=next_pickup_date(dt.datetime.now(dt.UTC)),
        )
        for handle in handles:
            moved = after.get_workflow_handle_for(ReturnWorkflow.run, handle.id)
            booked = await moved.execute_update(ReturnWorkflow.choose_return_method, pickup)
            assert booked.label is not None
            await harness.scan(moved, booked.label.tracking_number)
            done = await harness.to_the_end(time_skipping_env, moved)
            assert done.stage is ReturnStage.DELIVERED

    for handle in handles:
        stored = await raw_history(time_skipping_env.client.service_client, "default", handle.id)
        keys = [p.key_id for p in stored.payloads()]
        assert keys[0] == TEST_KEYRING.current  # the withdrawal event, under the old key
        assert keys[-1] == NEXT_KEY_ID  # the result, under the new one
        assert set(keys) == {TEST_KEYRING.current, NEXT_KEY_ID}
