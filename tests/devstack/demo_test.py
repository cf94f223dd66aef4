"""What `make demo` prints of a sample that did not go through, and what the stack needs free."""

from __future__ import annotations

from devstack.config import StackConfig
from devstack.demo import Sample, table
from devstack.stack import default_services
from domain.returns import ReturnStage
from plumbing.settings import Settings
from tests.factories import retract_event


def pickup_sample(events: list[tuple[int, str]], published: int) -> Sample:
    """The mailbox pickup sample, its feed having delivered `events` of `published`."""
    return Sample(
        name="01-mailbox-pickup",
        event=retract_event(),
        choice={"method": "mailbox_pickup"},
        expected=ReturnStage.PICKED_UP,
        events=events,
        events_published=published,
    )


def test_a_feed_that_fell_short_says_how_many_events_of_how_many_published() -> None:
    sample = pickup_sample([(1, "return.started"), (2, "return.stage_changed")], published=5)

    shown = table([sample])

    assert not sample.feed_ok
    assert "events 2 of 5 received" in shown


def test_every_event_published_but_the_stage_not_reached_is_no_complete_feed() -> None:
    sample = pickup_sample([(1, "return.started")], published=1)

    assert not sample.feed_ok
    sample.feed_settled = True
    assert sample.feed_ok


def test_a_stack_without_metrics_needs_no_metrics_port_free() -> None:
    """`RETURNFLOW_STACK_METRICS=false`: a port another program holds, which the stack would
    serve metrics on, does not keep it from starting."""
    config = StackConfig(metrics=False)
    ports = {port for spec in default_services(config, Settings()) for port in spec.ports}
    metered = StackConfig(metrics=True)
    metered_ports = {port for spec in default_services(metered, Settings()) for port in spec.ports}

    for unused in (config.codec_metrics_port, config.worker_metrics_port):
        assert unused not in ports
    assert {metered.codec_metrics_port, metered.gateway_metrics_port} <= metered_ports
