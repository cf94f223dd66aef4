"""The carriers configured for this deployment, by code."""

from __future__ import annotations

from collections.abc import Iterable

from activities.carriers.protocol import Carrier, CarrierRejected
from activities.carriers.sandbox import SandboxCarrier
from domain.carriers import CarrierOffer, Label
from returnflow.settings import Settings


class CarrierRegistry:
    """Looks carriers up by code; also hands out label PDFs (`LabelDocuments`)."""

    def __init__(self, carriers: Iterable[Carrier]) -> None:
        self._carriers = {c.offer.code: c for c in carriers}

    @classmethod
    def from_settings(cls, settings: Settings) -> CarrierRegistry:
        return cls(
            [
                SandboxCarrier(
                    settings.carrier_sandbox_url,
                    settings.carrier_sandbox_api_key.get_secret_value(),
                    timeout=settings.carrier_timeout_seconds,
                )
            ]
        )

    def offers(self) -> list[CarrierOffer]:
        return [c.offer for c in self._carriers.values()]

    def get(self, code: str) -> Carrier:
        try:
            return self._carriers[code]
        except KeyError:
            known = ", ".join(sorted(self._carriers)) or "none"
            raise CarrierRejected(code, f"unknown carrier (configured: {known})") from None

    async def label_pdf(self, label: Label) -> bytes:
        return await self.get(label.carrier).fetch_label_pdf(label)

    async def aclose(self) -> None:
        for carrier in self._carriers.values():
            await carrier.aclose()
