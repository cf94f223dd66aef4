"""The EasyPost subject the carrier contract suite runs against."""

from __future__ import annotations

from pathlib import Path

import pytest

from activities.carriers.protocol import CarrierAuthFailed, CarrierUnavailable
from tests.activities.carriers.easypost.builders import S, label_request
from tests.activities.carriers.replay.easypost import easypost_subject


async def test_the_contract_subject_drives_the_replay(tmp_path: Path) -> None:
    async with easypost_subject(tmp_path) as subject:
        label = await subject.carrier.create_return_label(label_request())
        await subject.accept_parcel(label.tracking_number)
        assert subject.signed_webhook is not None and subject.fail_next is not None
        report = subject.carrier.read_webhook(*subject.signed_webhook(label.tracking_number))
        await subject.fail_next(503, 2.5)
        with pytest.raises(CarrierUnavailable) as down:
            await subject.carrier.track(label.tracking_number)
        assert subject.break_credentials is not None
        await subject.break_credentials()
        with pytest.raises(CarrierAuthFailed):
            await subject.carrier.track(label.tracking_number)

    assert S.ACCEPTED in [s.status for s in report.scans] and down.value.retry_after == 2.5
