"""The three web services behind the Colissimo adapter, over HTTP, every failure classified:
SLS (labels, mailbox pickups), Point Retrait (post offices), La Poste Suivi v2 (tracking)."""

from __future__ import annotations

from functools import partial
from typing import Any, NoReturn
from urllib.parse import quote

import httpx

from activities.carriers.colissimo import locator, tracking, wire
from activities.carriers.colissimo.config import ColissimoConfig
from activities.carriers.http_errors import raise_for_status, send
from activities.carriers.protocol import CarrierAuthFailed, CarrierUnavailable


class ColissimoWeb:
    """HTTP calls with Colissimo's credentials; answers come back as parsed JSON."""

    def __init__(
        self, config: ColissimoConfig, *, transport: httpx.AsyncBaseTransport | None = None
    ) -> None:
        self._config = config
        self._code = config.code
        self._http = httpx.AsyncClient(timeout=config.timeout, transport=transport)

    async def aclose(self) -> None:
        await self._http.aclose()

    async def sls(self, method: str, body: dict[str, Any]) -> wire.SlsAnswer:
        """One SLS call; errors answered inside an HTTP 200 are raised like HTTP errors."""
        config, headers = self._config, {}
        if config.api_key is not None:
            headers["apiKey"] = config.api_key.get_secret_value()
        else:
            body = self._account("contractNumber") | body
        response = await send(
            self._http,
            self._code,
            "POST",
            f"{config.sls_url}/{method}",
            read_error=partial(wire.read_error, self._code),
            json=body,
            headers=headers,
        )
        try:
            answer = wire.read_answer(response)
        except wire.UnreadableAnswer as err:
            raise CarrierUnavailable(self._code, f"{method}: {err}") from None
        if answer.errors:
            wire.raise_for_messages(self._code, response.status_code, answer.errors)
        return answer

    async def locate(self, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        """findRDVPointRetraitAcheminement: the HTTP status and the JSON answer."""
        config = self._config
        if config.api_key is not None:
            credentials = {"apiKey": config.api_key.get_secret_value()}
        else:
            credentials = self._account("accountNumber")
        response = await send(
            self._http,
            self._code,
            "POST",
            f"{config.pointretrait_url}/findRDVPointRetraitAcheminement",
            read_error=self._read_locator_error,
            json=credentials | body,
        )
        data = self._json(response, "findRDVPointRetraitAcheminement")
        if not isinstance(data, dict):
            raise CarrierUnavailable(self._code, "findRDVPointRetraitAcheminement: not an object")
        return response.status_code, data

    async def suivi(self, tracking_number: str) -> object:
        """GET /idships/{idShip}: the JSON answer, once its `returnCode` says success."""
        response = await send(
            self._http,
            self._code,
            "GET",
            f"{self._config.tracking_url}/idships/{quote(tracking_number, safe='')}",
            read_error=self._read_tracking_error,
            params={"lang": "fr_FR"},
            headers={
                "X-Okapi-Key": self._config.okapi_key.get_secret_value(),
                "Accept": "application/json",
            },
        )
        data = self._json(response, "suivi")
        returned = tracking.return_code(data)
        if returned is not None and returned not in (200, 207):
            self._raise_tracking(returned, data)
        return data

    def _account(self, number_field: str) -> dict[str, str]:
        config = self._config
        assert config.contract_number is not None and config.password is not None
        return {
            number_field: config.contract_number,
            "password": config.password.get_secret_value(),
        }

    def _json(self, response: httpx.Response, method: str) -> object:
        try:
            data: object = response.json()
        except ValueError:
            raise CarrierUnavailable(self._code, f"{method}: answer is not JSON") from None
        return data

    def _read_locator_error(self, response: httpx.Response) -> tuple[str, str | None]:
        try:
            data = response.json()
        except ValueError:
            return response.text[:200] or response.reason_phrase, None
        data = data if isinstance(data, dict) else {}
        if response.status_code < 500 and locator.error_code(data) in locator.AUTH_CODES:
            text = locator.error_text(data)
            raise CarrierAuthFailed(self._code, text, status=response.status_code)
        return locator.error_text(data), None

    def _read_tracking_error(self, response: httpx.Response) -> tuple[str, str | None]:
        try:
            data = response.json()
        except ValueError:
            return response.text[:200] or response.reason_phrase, None
        # Blamed on the number only where Suivi's own answer says so: a 404 page of a
        # mistyped URL or of a gateway in front is no word on the parcel.
        returned = tracking.return_code(data)
        blamed = "tracking_number" if returned in tracking.NO_SUCH_PARCEL else None
        return tracking.return_message(data), blamed

    def _raise_tracking(self, returned: int, data: object) -> NoReturn:
        blamed = "tracking_number" if returned in tracking.NO_SUCH_PARCEL else None
        raise_for_status(self._code, returned, tracking.return_message(data), field=blamed)
