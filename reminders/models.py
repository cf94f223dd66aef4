"""The reminder sweep: what it is asked, and what it reports (the result in the Web UI)."""

from __future__ import annotations

import datetime as dt

from pydantic import AwareDatetime, Field

from domain.base import DomainModel


class SweepRequest(DomainModel):
    """The input of `UnshippedReturnsSweep`. The schedule sends it empty: the worker's settings
    decide; a sweep started by hand may look further ahead."""

    horizon: dt.timedelta | None = Field(
        default=None,
        ge=dt.timedelta(0),
        description="Remind returns whose ShipBy is at most this far ahead (default: the "
        "worker's RETURNFLOW_REMINDER_HORIZON).",
    )


class ReminderSweep(DomainModel):
    """One sweep, as its activity sees it: fixed when the sweep starts, so that every retry of
    the activity looks for the same returns and reminds them for the same day."""

    as_of: AwareDatetime = Field(description="When the sweep started (its workflow clock).")
    origin: str = Field(
        description="The sweep's '<workflow id>/<run id>', recorded in each return's timeline."
    )
    horizon: dt.timedelta | None = Field(
        default=None, description="As in SweepRequest; None for the worker's setting."
    )


class SweepResult(DomainModel):
    """What a sweep did: small on purpose (it is the workflow's result, shown in the Web UI)."""

    day: dt.date = Field(description="The reminder day, in the reminder time zone.")
    ship_by_until: AwareDatetime = Field(
        description="Returns with ShipBy up to this moment were looked for (as_of + horizon)."
    )
    found: int = Field(ge=0, description="Unshipped returns the visibility query listed.")
    signalled: int = Field(
        ge=0,
        description="Returns sent a remind_to_ship signal (each decides for itself whether "
        "to send an email: at most one a day, and only while the customer can act).",
    )
    already_ended: int = Field(
        ge=0, description="Listed, but ended before the signal reached them."
    )
    refused: int = Field(
        default=0,
        ge=0,
        description="Listed, but Temporal refused that return's signal (its history at a limit, "
        "say): logged, and the others still reminded.",
    )
    pages: int = Field(ge=0, description="Visibility pages read.")
    resumed: bool = Field(
        default=False,
        description="A retried attempt went on from the last page its predecessor finished.",
    )
