"""The shipping reminder: by when to send the parcel, how (the way chosen, or choose one), and
when the return ends."""

from __future__ import annotations

import datetime as dt
import re
from email.message import EmailMessage
from zoneinfo import ZoneInfo

import pytest

from activities.notices import NoticeComposer
from activities.notices.context import InvalidNoticeRequest
from domain.carriers import CounterCode, ReturnMethod
from domain.notices import NoticeKind

from .compose_test import bodies
from .stories import SHIP_BY, ReturnStory


def read(message: EmailMessage) -> tuple[str, str]:
    """The text part, and the HTML part's words without their markup."""
    text, page = bodies(message)
    return text, re.sub(r"<[^>]+>", "", page)


def test_a_reminder_before_the_deadline_says_by_when_and_when_the_return_ends(
    composer: NoticeComposer, english_return: ReturnStory
) -> None:
    message = composer.compose(english_return.notice(NoticeKind.SHIPPING_REMINDER))

    text, page = read(message)
    for part in (text, page):
        assert "is waiting for your parcel: please send it by 8 December 2026." in part
        assert "booked for 27 November 2026: put the packed parcel" in part
        assert "If the parcel has not been sent by 11 December 2026, your return ends" in part
        assert "as soon as you can" not in part
    assert message["Subject"] == (
        "Reminder: please send back MacBook Air M2 13-inch 256 GB, good condition (order O-8812)"
    )


def test_a_reminder_after_the_deadline_says_the_parcel_is_late(
    composer: NoticeComposer, french_return: ReturnStory
) -> None:
    late = SHIP_BY.date() + dt.timedelta(days=1)
    request = french_return.notice(NoticeKind.SHIPPING_REMINDER, reminder_day=late)

    text, page = read(composer.compose(request))

    for part in (text, page):
        assert "il devait être envoyé au plus tard le 8 décembre 2026" in part
        assert "Merci de l'envoyer dès que possible." in part
        assert "d'ici le 11 décembre 2026, votre retour prend fin" in part


@pytest.mark.parametrize(
    ("story", "expected", "not_said"),
    [
        (
            "en",
            "The pickup from your mailbox booked for 27 November 2026 has passed, and the "
            "carrier has not told us it has your parcel.",
            "put the packed parcel",
        ),
        (
            "fr",
            "S'il n'a pas été enlevé, réservez un autre jour, ou choisissez une autre façon",
            "déposez-y le colis",
        ),
    ],
)
def test_a_reminder_after_the_pickup_day_asks_for_a_new_day_not_that_one(
    composer: NoticeComposer,
    stories: dict[str, ReturnStory],
    story: str,
    expected: str,
    not_said: str,
) -> None:
    """The pickup was booked for 27 November; no scan came, and the reminder goes out on 6
    December: it must not send the customer to their mailbox on a day gone by."""
    request = stories[story].notice(NoticeKind.SHIPPING_REMINDER, reminder_day=dt.date(2026, 12, 6))

    text, page = read(composer.compose(request))

    for part in (text, page):
        assert expected in part
        assert not_said not in part


@pytest.mark.parametrize(
    ("story", "expected"),
    [
        (
            "en",
            (
                "must be in your mailbox by 08:00 for the carrier to collect it.",
                "If that time has passed and the parcel is not in, book a new day",
            ),
        ),
        ("fr", ("Si cette heure est passée sans que le colis y soit, réservez un autre jour",)),
    ],
)
def test_a_reminder_on_the_pickup_day_says_what_to_do_if_its_deposit_time_has_passed(
    composer: NoticeComposer, stories: dict[str, ReturnStory], story: str, expected: tuple[str, ...]
) -> None:
    """The sweep runs at 09:00 by default, after the 08:00 deposit time: the reminder on the
    pickup's day must not only send the customer to their mailbox "before 08:00 that day"."""
    request = stories[story].notice(
        NoticeKind.SHIPPING_REMINDER, reminder_day=dt.date(2026, 11, 27)
    )

    text, page = read(composer.compose(request))

    for part in (text, page):
        assert all(said in " ".join(part.split()) for said in expected), part
        assert "that day" not in part and "ce jour-là" not in part


def test_a_customer_who_has_not_chosen_is_asked_to_choose(
    composer: NoticeComposer, english_return: ReturnStory
) -> None:
    request = english_return.notice(
        NoticeKind.SHIPPING_REMINDER, method=None, chosen_carrier=None, label=None, pickup=None
    )

    text, page = bodies(composer.compose(request))

    assert "Choose how to send it on your return page" in text
    assert "Choose how to send it</a>" in page  # the button to the return page
    assert "booked" not in text


@pytest.mark.parametrize(
    ("method", "with_code", "expected"),
    [
        (
            ReturnMethod.POST_OFFICE_DROP_OFF,
            False,
            "Drop the parcel at any Sandbox Post post office, and keep the receipt.",
        ),
        (
            ReturnMethod.POST_OFFICE_COUNTER,
            True,
            "Sandbox Post post office and show your return code RT7K-Q2XM at the counter",
        ),
        (
            ReturnMethod.POST_OFFICE_COUNTER,
            False,
            "Keep the receipt, and enter the tracking number it shows on your return page.",
        ),
    ],
    ids=["drop_off", "counter_code", "counter_without_code"],
)
def test_a_reminder_gives_the_steps_of_the_way_chosen(
    composer: NoticeComposer,
    english_return: ReturnStory,
    method: ReturnMethod,
    with_code: bool,
    expected: str,
) -> None:
    code = CounterCode(
        carrier="sandbox",
        code=english_return.counter_code,
        tracking_number=english_return.tracking_number,
        expires_at=dt.datetime(2026, 12, 8, 22, 59, tzinfo=dt.UTC),
    )
    request = english_return.notice(
        NoticeKind.SHIPPING_REMINDER,
        method=method,
        pickup=None,
        counter_code=code if with_code else None,
    )

    text, page = read(composer.compose(request))

    assert expected in text
    assert expected in page
    assert "mailbox" not in text


def test_a_reminder_of_a_choice_names_its_carrier(
    composer: NoticeComposer, english_return: ReturnStory
) -> None:
    request = english_return.notice(NoticeKind.SHIPPING_REMINDER, chosen_carrier=None)

    with pytest.raises(InvalidNoticeRequest, match="chosen_carrier is required"):
        composer.compose(request)


@pytest.mark.parametrize(
    ("time_zone", "said"),
    [(None, "please send it by 15 December 2026."), ("Indian/Reunion", "by 16 December 2026.")],
    ids=["calendar-without-a-zone", "calendar-in-reunion"],
)
def test_a_deadline_is_told_in_the_zone_the_return_counted_it_in(
    composer: NoticeComposer, english_return: ReturnStory, time_zone: str | None, said: str
) -> None:
    """A customer in Réunion whose return's calendar has no zone counted their days in Paris:
    its deadline, the end of 15 December there, is told as that day, not as the 16th it is in
    Réunion. One counted in Réunion is told in Réunion."""
    home = english_return.customer.address.model_copy(update={"country_code": "RE"})
    customer = english_return.customer.model_copy(update={"address": home})
    ship_by = dt.datetime(2026, 12, 15, 23, 59, 59, tzinfo=ZoneInfo("Europe/Paris"))
    if time_zone is not None:
        ship_by = dt.datetime(2026, 12, 16, 23, 59, 59, tzinfo=ZoneInfo(time_zone))
    request = english_return.notice(
        NoticeKind.SHIPPING_REMINDER,
        customer=customer,
        ship_by=ship_by,
        time_zone=time_zone,
        reminder_day=dt.date(2026, 12, 14),
    )

    text, _page = read(composer.compose(request))

    assert said in text
