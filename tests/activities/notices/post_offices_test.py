"""The return address email lists the nearest post offices of the customer's carrier, from the
carrier sandbox's real locator; when the locator cannot answer, the email says where to look."""

from __future__ import annotations

import logging
import time

import pytest
from temporalio.testing import ActivityEnvironment

from activities.carriers.registry import CarrierRegistry
from activities.carriers.sandbox import SandboxCarrier
from activities.notices import (
    CarrierPostOffices,
    NoticeActivities,
    NoticeComposer,
    SmtpNotifier,
)
from activities.notices.sent import SentNotices
from activities.sellers.directory import FileSellerDirectory
from domain.carriers import CarrierCapability, PostOffice, PostOfficeQuery
from domain.notices import NoticeKind
from mail_sink import MailSink, read_mailbox
from plumbing.settings import Settings

from .compose_test import bodies
from .labels import PrintedLabels
from .servers import silent_server
from .stories import COLISSIMO, SANDBOX_POST, ReturnStory

NEAREST_IN_LYON = [
    "Sandbox Post Lyon Bellecour (747 m)",
    "12 rue des Canuts, 69002 Lyon",
    "lun.\N{EN DASH}ven. 9 h\N{EN DASH}19 h ; sam. 9 h\N{EN DASH}17 h ; dim. fermé",
    "Sandbox Post Lyon Croix-Rousse",
    "Sandbox Post Lyon Part-Dieu",
]
FALLBACK = {
    "sandbox": "To find the nearest Sandbox Post post office, use the post office finder on the "
    "Sandbox Post website or app.",
    "colissimo": "To find the nearest Colissimo post office, use the post office finder on the "
    "Colissimo website or app.",
    None: "To find the nearest post office of the carrier you choose, use the post office "
    "finder on its website or app.",
}


async def sent_texts(sink: MailSink) -> tuple[str, str]:
    [email] = read_mailbox(sink.directory)
    return bodies(email)


@pytest.mark.parametrize("kind", [NoticeKind.RETURN_ADDRESS, NoticeKind.COUNTER_INSTRUCTIONS])
async def test_the_nearest_post_offices_of_the_customers_carrier_are_listed(
    notice_activities: NoticeActivities,
    sink: MailSink,
    french_return: ReturnStory,
    kind: NoticeKind,
) -> None:
    await ActivityEnvironment().run(notice_activities.send_notice, french_return.notice(kind))

    text, page = await sent_texts(sink)
    assert "BUREAUX DE POSTE SANDBOX POST LES PLUS PROCHES" in text
    assert "Bureaux de poste Sandbox Post les plus proches" in page
    for fact in NEAREST_IN_LYON:
        assert fact in text
    for fact in NEAREST_IN_LYON[1:]:
        assert fact in page
    # Nearest first, as the carrier ranks them.
    assert text.index("Bellecour") < text.index("Croix-Rousse") < text.index("Part-Dieu")


async def test_a_locator_that_refuses_the_address_leaves_a_sentence_and_no_personal_log(
    notice_activities: NoticeActivities,
    sink: MailSink,
    english_return: ReturnStory,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO, logger="temporalio.activity")

    # The sandbox's locator serves France and Belgium: Dublin is refused with a 4xx.
    receipt = await ActivityEnvironment().run(
        notice_activities.send_notice, english_return.notice(NoticeKind.RETURN_ADDRESS)
    )

    assert receipt.sent
    text, page = await sent_texts(sink)
    assert FALLBACK["sandbox"] in text
    assert FALLBACK["sandbox"] in page
    assert "Nearest" not in text
    [warning] = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert warning.__dict__["carrier"] == "sandbox"
    assert warning.__dict__["error"] == "CarrierRejected"
    logged = repr(warning.__dict__) + warning.getMessage()
    for personal in ("Siobhán", "Walsh", "Baggot", "D02", "Dublin", "siobhan"):
        assert personal not in logged


async def test_a_locator_that_does_not_answer_in_time_does_not_hold_the_email(
    settings: Settings,
    labels: PrintedLabels,
    sellers: FileSellerDirectory,
    sink: MailSink,
    french_return: ReturnStory,
    monkeypatch: pytest.MonkeyPatch,
    sent_notices: SentNotices,
) -> None:
    monkeypatch.setattr("activities.notices.activities.LOCATOR_TIMEOUT_SECONDS", 0.3)
    async with silent_server() as port:
        stuck = CarrierRegistry(
            [SandboxCarrier(f"http://127.0.0.1:{port}", "sandbox", "key", timeout=30.0)]
        )
        notices = NoticeActivities(
            SmtpNotifier(settings),
            NoticeComposer(settings),
            labels,
            sellers,
            CarrierPostOffices(stuck),
            sent_notices,
        )
        started = time.monotonic()
        receipt = await ActivityEnvironment().run(
            notices.send_notice, french_return.notice(NoticeKind.RETURN_ADDRESS)
        )
        await stuck.aclose()

    assert receipt.sent
    assert time.monotonic() - started < 5
    text, _ = await sent_texts(sink)
    assert "Pour trouver le bureau de poste Sandbox Post le plus proche" in text


@pytest.mark.parametrize("locator_carrier", ["colissimo", None])
async def test_without_a_carrier_that_has_a_locator_nobody_is_asked(
    notice_activities: NoticeActivities,
    sink: MailSink,
    english_return: ReturnStory,
    caplog: pytest.LogCaptureFixture,
    locator_carrier: str | None,
) -> None:
    caplog.set_level(logging.INFO, logger="temporalio.activity")
    # Colissimo is offered without the post_office_locator capability.
    request = english_return.notice(NoticeKind.RETURN_ADDRESS, locator_carrier=locator_carrier)

    await ActivityEnvironment().run(notice_activities.send_notice, request)

    text, page = await sent_texts(sink)
    assert FALLBACK[locator_carrier] in text
    assert FALLBACK[locator_carrier] in page
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING]


class TwoLocators:
    """Two carriers' post-office locators, each with its own counter near the customer."""

    def __init__(self) -> None:
        self.asked: list[str] = []

    async def find_post_offices(self, query: PostOfficeQuery) -> list[PostOffice]:
        self.asked.append(query.carrier)
        name = {"sandbox": "Sandbox Post Lyon Bellecour", "colissimo": "La Poste Lyon Terreaux"}
        return [
            PostOffice(
                carrier=query.carrier,
                site_id=f"{query.carrier}-LYON-1",
                name=name[query.carrier],
                kind="post_office",
                line1="3 place des Terreaux",
                postal_code="69001",
                city="Lyon",
                country_code="FR",
                distance_m=900,
            )
        ]


@pytest.mark.parametrize("kind", [NoticeKind.RETURN_ADDRESS, NoticeKind.COUNTER_INSTRUCTIONS])
async def test_the_post_offices_listed_are_those_of_the_carrier_the_notice_names(
    settings: Settings,
    composer: NoticeComposer,
    labels: PrintedLabels,
    sellers: FileSellerDirectory,
    sink: MailSink,
    english_return: ReturnStory,
    kind: NoticeKind,
    sent_notices: SentNotices,
) -> None:
    locators = TwoLocators()
    activities = NoticeActivities(
        SmtpNotifier(settings), composer, labels, sellers, locators, sent_notices
    )
    colissimo = COLISSIMO.model_copy(
        update={"capabilities": COLISSIMO.capabilities | {CarrierCapability.POST_OFFICE_LOCATOR}}
    )
    request = english_return.notice(
        kind, locator_carrier="colissimo", carriers=[SANDBOX_POST, colissimo]
    )

    await ActivityEnvironment().run(activities.send_notice, request)

    text, page = await sent_texts(sink)
    assert locators.asked == ["colissimo"]
    for part in (text, page):
        assert "La Poste Lyon Terreaux" in part and "Sandbox Post Lyon Bellecour" not in part
    assert "NEAREST COLISSIMO POST OFFICES" in text.upper()
