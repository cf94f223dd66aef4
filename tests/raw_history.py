"""A workflow's history as the Temporal server stores it, read without any codec: what its
database, its operators and anyone with read access to the namespace see."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from google.protobuf.message import Message
from temporalio.api.common.v1 import Payload, SearchAttributes
from temporalio.api.history.v1 import History
from temporalio.client import Client
from temporalio.service import ServiceClient

from plumbing.encryption import KEY_ID_METADATA

BOOKKEEPING = "marker_recorded_event_attributes.details[data].payloads[0]"
PATCH = "marker_recorded_event_attributes.details[patch-data].payloads[0]"


@dataclass(frozen=True)
class StoredPayload:
    where: str
    """The event and field path, e.g. `3 EVENT_TYPE_ACTIVITY_TASK_SCHEDULED ... .input`."""
    payload: Payload

    @property
    def encoding(self) -> bytes:
        return self.payload.metadata.get("encoding", b"")

    @property
    def key_id(self) -> str:
        return self.payload.metadata.get(KEY_ID_METADATA, b"").decode()


@dataclass(frozen=True)
class RawHistory:
    history: History

    @property
    def data(self) -> bytes:
        """Every byte of it, as serialized on the wire and in the database."""
        return self.history.SerializeToString()

    def payloads(self) -> list[StoredPayload]:
        """Every payload of ours: all but the search attributes (indexed, so never encoded)
        and the SDK's own bookkeeping of local activities and patches."""
        return [p for p in self._all_payloads() if not p.where.endswith((BOOKKEEPING, PATCH))]

    def patch_markers(self) -> list[StoredPayload]:
        """What the SDK records where the code took a `workflow.patched` branch (`json/plain`,
        written by the SDK's core): the patch's ID."""
        return [p for p in self._all_payloads() if p.where.endswith(PATCH)]

    def local_activity_bookkeeping(self) -> list[StoredPayload]:
        """What the SDK records beside a local activity's result (`json/plain`, written by
        the SDK's core, not through the data converter): its sequence number, attempt, type
        and times."""
        return [p for p in self._all_payloads() if p.where.endswith(BOOKKEEPING)]

    def _all_payloads(self) -> list[StoredPayload]:
        found: list[StoredPayload] = []
        for event in self.history.events:
            found += _payloads(event, str(event.event_id))
        return found

    def search_attributes(self) -> list[StoredPayload]:
        found: list[StoredPayload] = []
        for event in self.history.events:
            found += _search_attributes(event, str(event.event_id))
        return found

    def event_types(self) -> set[str]:
        return {str(e.WhichOneof("attributes")) for e in self.history.events}


async def raw_history(service: ServiceClient, namespace: str, workflow_id: str) -> RawHistory:
    """The history through a client that has no codec: nothing is decrypted."""
    bare = Client(service, namespace=namespace)
    fetched = await bare.get_workflow_handle(workflow_id).fetch_history()
    return RawHistory(History(events=fetched.events))


def _children(message: Message) -> Iterator[tuple[str, Message]]:
    for descriptor, value in message.ListFields():
        if descriptor.message_type is None:
            continue
        if descriptor.message_type.GetOptions().map_entry:
            for key, item in value.items():
                if isinstance(item, Message):
                    yield f"{descriptor.name}[{key}]", item
        elif descriptor.is_repeated:
            for index, item in enumerate(value):
                yield f"{descriptor.name}[{index}]", item
        else:
            yield descriptor.name, value


def _payloads(message: Message, where: str) -> Iterator[StoredPayload]:
    if isinstance(message, Payload):
        yield StoredPayload(where, message)
        return
    if isinstance(message, SearchAttributes):
        return
    for name, child in _children(message):
        yield from _payloads(child, f"{where}.{name}")


def _search_attributes(message: Message, where: str) -> Iterator[StoredPayload]:
    if isinstance(message, SearchAttributes):
        for name, payload in message.indexed_fields.items():
            yield StoredPayload(f"{where}.{name}", payload)
        return
    for name, child in _children(message):
        yield from _search_attributes(child, f"{where}.{name}")
