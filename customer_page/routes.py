"""The return page: `/my/returns/<token>`, what every customer email links to.

The token names one return; the page reads that return's status and acts on that return only,
through the same workflow updates as the customer app's API (`choose_return_method`,
`report_shipment`, `cancel`). Every form works without JavaScript: a post answers with a
redirect to the page (the result shown on it) or with the page and the return's refusal in
the customer's words. A tampered link answers a page saying so (404), an expired one a page
offering to email a new link (410); neither reads or changes anything.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import logging
import re
import secrets
import time
from email.message import EmailMessage
from email.utils import make_msgid
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlencode

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from jinja2 import Environment, PackageLoader, StrictUndefined
from pydantic import ValidationError
from temporalio.client import (
    Client,
    WorkflowUpdateFailedError,
    WorkflowUpdateRPCTimeoutOrCancelledError,
    WorkflowUpdateStage,
)
from temporalio.service import RPCError, RPCStatusCode

from activities.carriers.registry import CarrierRegistry
from activities.notices.compose import customer_address, email_to
from activities.notices.context import InvalidNoticeRequest
from activities.notices.customer_facts import MAILBOX_DEPOSIT_BEFORE, label_filename
from activities.notices.formats import format_time
from activities.notices.smtp import SmtpNotifier
from client.reading import StatusUnreadable, status_of, update_refusal
from client.start import starting_event
from customer_page import return_view
from customer_page.links import PREFIX, PageLinks
from customer_page.lookups import CarrierAnswers
from customer_page.qr import qr_svg
from customer_page.refusals import customer_words
from customer_page.security import Csrf, secure_headers
from customer_page.tokens import Claims, Purpose, TokenExpired, TokenRefused
from customer_page.wording import LANGUAGES, WORDS, language
from domain.base import field_problems
from domain.carriers import (
    LabelCostBearer,
    ReturnMethod,
)
from domain.events import RetractEvent
from domain.returns import (
    ActionResult,
    CancelRequest,
    ReturnMethodChoice,
    ReturnStatus,
    ShipmentReport,
)
from gateway.http import (
    BodyTooLarge,
    BodyTooSlow,
    is_unreachable,
    mark_authenticated,
    read_body,
)
from plumbing.settings import Settings
from workflows.return_workflow import ReturnWorkflow

logger = logging.getLogger(__name__)

router = APIRouter(prefix=PREFIX, include_in_schema=False)

STATIC = Path(__file__).resolve().parent / "static"
FORM_ID = re.compile(r"^[A-Za-z0-9_-]{16,64}$")
RENEW_EVERY_SECONDS = 600
"""At most one new link emailed per return in this long (per gateway process)."""
RENEWABLE_FOR = dt.timedelta(days=365)
"""How long after a link expired it may still ask for a new one."""
FORM_BYTES = 4096
"""A page's form is a few fields: anything longer is refused unread."""


class Pages:
    """What the customer's pages need: Temporal, the carriers, the keys, the templates."""

    def __init__(self, client: Client, settings: Settings, registry: CarrierRegistry) -> None:
        self.client = client
        self.settings = settings
        self.registry = registry
        self.answers = CarrierAnswers(registry)
        self.links = PageLinks(settings)
        self.csrf = Csrf(
            self.links.tokens.csrf_keys(),
            https=self.https,
            path=PREFIX,
            public_origin=settings.customer_page_url,
        )
        self.templates = Environment(
            loader=PackageLoader("customer_page", "templates"),
            autoescape=True,
            undefined=StrictUndefined,
            trim_blocks=True,
            lstrip_blocks=True,
            # The templates ship with the code: compiled once, not checked on disk per page.
            auto_reload=False,
        )
        self.css = (STATIC / "page.css").read_bytes()
        self.renewed: dict[str, float] = {}
        """When each return's link was last renewed: kept `RENEW_EVERY_SECONDS`, no longer."""

    @property
    def https(self) -> bool:
        return self.settings.customer_pages_over_https

    @property
    def timeout(self) -> float:
        return self.settings.gateway_temporal_timeout_seconds

    def note_renewed(self, return_id: str, at: float) -> None:
        """A link renewed at `at`; the renewals past their wait are forgotten, so the map
        holds only the last `RENEW_EVERY_SECONDS`' worth, however long the process runs."""
        self.renewed = {r: t for r, t in self.renewed.items() if at - t < RENEW_EVERY_SECONDS}
        self.renewed[return_id] = at

    def html(
        self,
        request: Request,
        template: str,
        status_code: int = 200,
        **values: Any,
    ) -> HTMLResponse:
        """A page, with its CSRF cookie and security headers."""
        response = HTMLResponse("", status_code=status_code)
        cookie = self.csrf.ensure_cookie(request, response)
        token = values.get("token", "")
        lang = values["lang"]
        other = next(x for x in LANGUAGES if x != lang)
        # The same page in the other language (a form's answer links to the page it came from).
        here = values.get("base") or (request.url.path if request.method == "GET" else None)
        values.setdefault("other_lang_url", here and f"{here}?{urlencode({'lang': other})}")
        rendered = self.templates.get_template(template).render(
            marketplace=self.settings.marketplace_name,
            static=f"{PREFIX}/static",
            words=WORDS[lang],
            other_lang=other,
            csrf=self.csrf.field(cookie, token),
            # Each form its own ID: sent twice (a double click), it is the same update.
            form_id=lambda: secrets.token_urlsafe(18),
            **values,
        )
        response.body = rendered.encode()
        response.headers["content-length"] = str(len(response.body))
        return secure_headers(response, https=self.https)

    def problem(
        self,
        request: Request,
        lang: str,
        status_code: int,
        title_key: str,
        message_key: str,
        *,
        renew_token: str | None = None,
        renew_lang: str | None = None,
        notice: str | None = None,
    ) -> Response:
        """A page saying what is wrong with a link; with `renew_token`, a button emailing a new
        one, in `renew_lang` if the customer asked for a language, else in their own."""
        words = WORDS[lang]
        return self.html(
            request,
            "link_problem.html",
            status_code,
            lang=lang,
            title=words[title_key],
            message=words[message_key],
            notice=notice,
            token=renew_token or "",
            renew_lang=renew_lang,
            renew_action=(
                f"{PREFIX}/returns/{renew_token}/renew" if renew_token is not None else None
            ),
        )


def _pages(request: Request) -> Pages:
    pages: Pages = request.app.state.pages
    return pages


Form = dict[str, list[str]]
"""A posted form: each field's values, in order."""


_ACTION_PATH = re.compile(rf"({PREFIX}/(?:returns|withdraw)/[^/]+)/[a-z-]+")
"""A form's action under a page (`/my/returns/<token>/choice`): where the address bar stays
after a refused form, so a customer may open it again."""


def http_error_page(request: Request, status_code: int, allow: str | None) -> Response:
    """The pages' own answer to what no route takes under `/my/` (an unknown path, a method a
    route does not take): a page with the pages' headers, never the API's JSON. Opening a
    form's action again goes back to its page."""
    pages = _pages(request)
    action = _ACTION_PATH.fullmatch(request.url.path)
    if status_code == 405 and request.method in ("GET", "HEAD") and action is not None:
        back = RedirectResponse(action[1], status_code=303)
        return secure_headers(back, https=pages.https)
    lang = asked_language(request) or LANGUAGES[0]
    page = pages.problem(request, lang, status_code, "link_invalid_title", "link_invalid")
    if allow:
        page.headers["Allow"] = allow
    return page


def asked_language(request: Request, form: Form | None = None) -> str | None:
    """The language the form or the query asks for, when it is one of the pages'."""
    asked = field(form or {}, "lang") or request.query_params.get("lang")
    return asked if asked in LANGUAGES else None


def field(form: Form, name: str) -> str:
    """A field's first value ("" when absent)."""
    return (form.get(name) or [""])[0]


async def read_form(request: Request, pages: Pages, max_fields: int = 60) -> Form:
    """The posted form, read within `FORM_BYTES`; empty when it is too large, too slow or not
    a form (its CSRF field is then missing, and nothing is done)."""
    try:
        body = await read_body(request, FORM_BYTES, pages.settings.http_body_timeout_seconds)
        return parse_qs(body.decode("ascii"), max_num_fields=max_fields)
    except (BodyTooLarge, BodyTooSlow, UnicodeDecodeError, ValueError):
        return {}


class _Answer(Exception):
    """A page answering the request instead of what was asked."""

    def __init__(self, response: Response) -> None:
        self.response = response


def _open(pages: Pages, request: Request, token: str, lang: str | None) -> Claims:
    try:
        claims = pages.links.tokens.open(token, Purpose.RETURN)
    except TokenExpired as expired:
        if expired.claims.expires_at + RENEWABLE_FOR <= dt.datetime.now(dt.UTC):
            # Past renewal, a link is treated as one that never worked: it says nothing more.
            raise _Answer(
                pages.problem(
                    request, lang or LANGUAGES[0], 404, "link_invalid_title", "link_invalid"
                )
            ) from None
        raise _Answer(
            pages.problem(
                request,
                lang or LANGUAGES[0],
                410,
                "link_expired_title",
                "link_expired",
                renew_token=token,
                renew_lang=lang,
            )
        ) from None
    except TokenRefused:
        raise _Answer(
            pages.problem(request, lang or LANGUAGES[0], 404, "link_invalid_title", "link_invalid")
        ) from None
    mark_authenticated(request)
    return claims


@router.get("/static/page.css")
async def stylesheet(request: Request) -> Response:
    pages = _pages(request)
    response = Response(pages.css, media_type="text/css; charset=utf-8")
    secure_headers(response, https=pages.https)
    response.headers["Cache-Control"] = "public, max-age=3600"
    return response


@router.get("/returns/{token}")
async def return_page(token: str, request: Request) -> Response:
    pages = _pages(request)
    asked = asked_language(request)
    done_key = request.query_params.get("done")
    try:
        claims = _open(pages, request, token, asked)
        return await _render(pages, request, token, claims.subject, asked, done_key=done_key)
    except _Answer as answer:
        return answer.response


async def _render(
    pages: Pages,
    request: Request,
    token: str,
    return_id: str,
    asked: str | None,
    *,
    done_key: str | None = None,
    refused: str | None = None,
    alert_key: str | None = None,
    status_code: int = 200,
) -> Response:
    status, event = await _read(pages, request, return_id, asked)
    lang = language(asked, event.customer.locale)
    address = await _return_address(pages, return_id)
    pickup_days, offices = await pages.answers.for_page(status, event)
    now = dt.datetime.now(dt.UTC)
    page = return_view.return_page(
        lang=lang,
        status=status,
        event=event,
        return_address=address,
        pickup_days=pickup_days,
        offices=offices,
        label_paid_by=LabelCostBearer(pages.settings.return_label_paid_by),
        now=now,
    )
    words = WORDS[lang]
    done = words.get(f"done_{done_key}") if done_key else None
    return pages.html(
        request,
        "return.html",
        status_code,
        lang=lang,
        title=page.title,
        page=page,
        token=token,
        base=f"{PREFIX}/returns/{token}",
        done=done,
        refused=customer_words(refused, lang) if refused else None,
        alert=words[alert_key] if alert_key else None,
        tracking_error=bool(refused and refused.startswith("tracking_number")),
        deposit_before=format_time(MAILBOX_DEPOSIT_BEFORE, lang),
    )


async def _read(
    pages: Pages, request: Request, return_id: str, asked: str | None
) -> tuple[ReturnStatus, RetractEvent]:
    """The return's status and the withdrawal that started it, or the page saying why not."""
    lang = asked or LANGUAGES[0]
    try:
        status, event = await asyncio.wait_for(
            asyncio.gather(
                status_of(pages.client, return_id), starting_event(pages.client, return_id)
            ),
            timeout=pages.timeout * 2,
        )
    except RPCError as err:
        if err.status is RPCStatusCode.NOT_FOUND:
            raise _Answer(
                pages.problem(request, lang, 404, "link_invalid_title", "unknown_return")
            ) from None
        if not is_unreachable(err):
            raise
        raise _Answer(_unavailable(pages, request, lang)) from None
    except StatusUnreadable:
        raise _Answer(_unavailable(pages, request, lang)) from None
    except Exception as err:
        if not is_unreachable(err):
            raise
        raise _Answer(_unavailable(pages, request, lang)) from None
    if event is None:
        raise _Answer(pages.problem(request, lang, 404, "link_invalid_title", "unknown_return"))
    return status, event


def _unavailable(
    pages: Pages, request: Request, lang: str, message_key: str = "unavailable"
) -> Response:
    """503 with `Retry-After`; `not_taken` when a form's action may yet be taken (not accepted
    in time): sent again, the form joins it."""
    response = pages.problem(request, lang, 503, "refused", message_key)
    response.headers["Retry-After"] = "30"
    return response


async def _return_address(pages: Pages, return_id: str) -> Any:
    try:
        return await asyncio.wait_for(
            pages.client.get_workflow_handle(return_id).query(ReturnWorkflow.return_address),
            timeout=pages.timeout,
        )
    except Exception as err:
        logger.warning("return address not read", extra={"error": type(err).__name__})
        return None


async def _action(request: Request, token: str, build: Any, update: Any, done: str) -> Response:
    pages = _pages(request)
    posted = await read_form(request, pages, max_fields=10)
    asked = asked_language(request, posted)
    form = {name: field(posted, name) for name in posted}
    try:
        claims = _open(pages, request, token, asked)
        return_id = claims.subject
        if not pages.csrf.genuine(request, form.get("csrf"), token):
            # The page again, with a fresh form, saying nothing was done.
            return await _render(
                pages, request, token, return_id, asked, alert_key="form_expired", status_code=403
            )
        try:
            argument = build(form)
        except ValidationError as err:
            problem = field_problems(err)[0]
            return await _render(
                pages,
                request,
                token,
                return_id,
                asked,
                refused=problem,
                status_code=422,
            )
        form_id = form.get("form_id", "")
        update_id = f"customer-page:{done}:{form_id}" if FORM_ID.fullmatch(form_id) else None
        outcome = await _run(pages, request, asked, return_id, update, argument, update_id)
        if isinstance(outcome, str):
            return await _render(
                pages,
                request,
                token,
                return_id,
                asked,
                refused=outcome,
                status_code=422 if _blames_a_field(outcome) else 409,
            )
        query = {"done": done if outcome else "still_running"}
        if asked:
            query["lang"] = asked
        redirect = RedirectResponse(f"{PREFIX}/returns/{token}?{urlencode(query)}", status_code=303)
        return secure_headers(redirect, https=pages.https)
    except _Answer as answer:
        return answer.response


async def _run(
    pages: Pages,
    request: Request,
    asked: str | None,
    return_id: str,
    update: Any,
    argument: Any,
    update_id: str | None,
) -> str | bool:
    """The update's refusal (its words), True once done, False while it still runs; the 503
    page when the return did not accept it in time (Temporal, or every worker, down or slow:
    the form sent again carries the same form ID, so it joins the first if that was taken)."""
    handle = pages.client.get_workflow_handle(return_id)
    rpc = dt.timedelta(seconds=pages.timeout)
    try:
        started = await handle.start_update(
            update,
            argument,
            id=update_id,
            wait_for_stage=WorkflowUpdateStage.ACCEPTED,
            result_type=ActionResult,
            rpc_timeout=rpc,
        )
    except WorkflowUpdateFailedError as err:
        return update_refusal(err)
    except RPCError as err:
        if err.status is RPCStatusCode.NOT_FOUND:
            return "the return has ended"
        if is_unreachable(err):
            # The request may have reached Temporal before the answer was lost.
            lang = asked or LANGUAGES[0]
            raise _Answer(_unavailable(pages, request, lang, "not_taken")) from None
        raise
    except Exception as err:
        # Among them `WorkflowUpdateRPCTimeoutOrCancelledError`: not accepted in time.
        if is_unreachable(err):
            lang = asked or LANGUAGES[0]
            raise _Answer(_unavailable(pages, request, lang, "not_taken")) from None
        raise
    try:
        await started.result(
            rpc_timeout=dt.timedelta(seconds=pages.settings.gateway_update_wait_seconds)
        )
    except WorkflowUpdateFailedError as err:
        return update_refusal(err)
    except WorkflowUpdateRPCTimeoutOrCancelledError:
        return False
    except RPCError as err:
        if err.status is RPCStatusCode.NOT_FOUND:
            return "the return has ended"
        if is_unreachable(err):
            return False
        raise
    except Exception as err:
        # Accepted by the return, which carries on: only the wait for its answer failed.
        if is_unreachable(err):
            return False
        raise
    return True


FIELDS = frozenset({"way", "method", "carrier", "pickup_date", "tracking_number", "confirm"})
"""What the page's forms send: a refusal naming one is the customer's to fix (422); any other
is the return's state (409)."""


def _blames_a_field(refusal: str) -> bool:
    return refusal.split(" ", 1)[0].rstrip(":") in FIELDS


def _choice(form: dict[str, str]) -> ReturnMethodChoice:
    carrier, _, method = form.get("way", "").partition(":")
    fields: dict[str, Any] = {"method": method, "carrier": carrier}
    # A day is the mailbox pickup's alone: sent with another way (a form made by hand), unused.
    if form.get("pickup_date") and method == ReturnMethod.MAILBOX_PICKUP:
        fields["pickup_date"] = form["pickup_date"]
    return ReturnMethodChoice.model_validate_json(json.dumps(fields))


def _report(form: dict[str, str]) -> ShipmentReport:
    number = form.get("tracking_number", "").strip().replace(" ", "")
    return ShipmentReport.model_validate_json(json.dumps({"tracking_number": number}))


def _cancel(form: dict[str, str]) -> CancelRequest:
    if form.get("confirm") != "yes":
        raise ValidationError.from_exception_data(
            "CancelRequest",
            [{"type": "missing", "loc": ("confirm",), "input": None}],
        )
    return CancelRequest(reason="cancelled on the return page")


@router.post("/returns/{token}/choice")
async def choose(token: str, request: Request) -> Response:
    return await _action(
        request, token, _choice, ReturnWorkflow.choose_return_method, "choose_return_method"
    )


@router.post("/returns/{token}/shipment")
async def report_shipment(token: str, request: Request) -> Response:
    return await _action(request, token, _report, ReturnWorkflow.report_shipment, "report_shipment")


@router.post("/returns/{token}/cancel")
async def cancel(token: str, request: Request) -> Response:
    return await _action(request, token, _cancel, ReturnWorkflow.cancel, "cancel")


async def _status(request: Request, token: str) -> tuple[Pages, str, ReturnStatus]:
    """The pages, the language asked for, and the status of the return the token opens; else
    `_Answer` with the page saying why not."""
    pages = _pages(request)
    asked = asked_language(request)
    claims = _open(pages, request, token, asked)
    status, event = await _read(pages, request, claims.subject, asked)
    return pages, language(asked, event.customer.locale), status


@router.get("/returns/{token}/label.pdf")
async def label_pdf(token: str, request: Request) -> Response:
    try:
        pages, lang, status = await _status(request, token)
    except _Answer as answer:
        return answer.response
    label = status.label
    if label is None:
        return pages.problem(request, lang, 404, "label", "nothing_here")
    try:
        pdf = await asyncio.wait_for(pages.answers.label_pdf(label), timeout=pages.timeout * 2)
    except Exception as err:
        logger.warning("label not fetched for the return page", extra={"error": type(err).__name__})
        return _unavailable(pages, request, lang)
    name = label_filename(label.tracking_number)
    response = Response(
        pdf,
        media_type="application/pdf",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )
    return secure_headers(response, https=pages.https)


@router.get("/returns/{token}/counter-code.svg")
async def counter_code_qr(token: str, request: Request) -> Response:
    try:
        pages, lang, status = await _status(request, token)
    except _Answer as answer:
        return answer.response
    if status.counter_code is None:
        return pages.problem(request, lang, 404, "counter_code", "nothing_here")
    response = Response(qr_svg(status.counter_code.code), media_type="image/svg+xml")
    return secure_headers(response, https=pages.https)


@router.post("/returns/{token}/renew")
async def renew(token: str, request: Request) -> Response:
    """An expired link asks for a new one: emailed to the return's customer, never shown."""
    pages = _pages(request)
    form = await read_form(request, pages, max_fields=10)
    asked = asked_language(request, form)
    lang = asked or LANGUAGES[0]
    try:
        pages.links.tokens.open(token, Purpose.RETURN)
    except TokenExpired as expired:
        claims = expired.claims
    except TokenRefused:
        return pages.problem(request, lang, 404, "link_invalid_title", "link_invalid")
    else:
        return secure_headers(
            RedirectResponse(f"{PREFIX}/returns/{token}", status_code=303), https=pages.https
        )
    if claims.expires_at + RENEWABLE_FOR <= dt.datetime.now(dt.UTC):
        return pages.problem(request, lang, 404, "link_invalid_title", "link_invalid")
    mark_authenticated(request)
    if not pages.csrf.genuine(request, field(form, "csrf"), token):
        return pages.problem(
            request,
            lang,
            403,
            "link_expired_title",
            "form_expired",
            renew_token=token,
            renew_lang=asked,
        )
    return_id = claims.subject
    last = pages.renewed.get(return_id)
    if last is not None and time.monotonic() - last < RENEW_EVERY_SECONDS:
        return pages.problem(request, lang, 429, "link_expired_title", "new_link_wait")
    # Taken before the first wait, so that requests arriving together send one email; given
    # back when none went out.
    pages.note_renewed(return_id, time.monotonic())
    sent = False
    try:
        sent, answer = await _email_new_link(pages, request, return_id, asked, lang)
    finally:
        if not sent:
            pages.renewed.pop(return_id, None)
    return answer


async def _email_new_link(
    pages: Pages, request: Request, return_id: str, asked: str | None, lang: str
) -> tuple[bool, Response]:
    """Email the return's customer a new link: whether it went out, and the page saying so."""
    try:
        event = await asyncio.wait_for(
            starting_event(pages.client, return_id), timeout=pages.timeout
        )
    except Exception as err:
        if not is_unreachable(err):
            raise
        return False, _unavailable(pages, request, lang)
    if event is None:
        return False, pages.problem(request, lang, 404, "link_invalid_title", "unknown_return")
    email_lang = language(asked, event.customer.locale)
    try:
        message = _new_link_email(pages, event, return_id, email_lang)
    except InvalidNoticeRequest:
        logger.warning("new return page link not sent: address undeliverable")
        problem = pages.problem(request, lang, 422, "link_expired_title", "new_link_undeliverable")
        return False, problem
    try:
        await SmtpNotifier(pages.settings).send(message)
    except Exception as err:
        logger.warning("new return page link not sent", extra={"error": type(err).__name__})
        return False, _unavailable(pages, request, lang)
    logger.info("new return page link emailed", extra={"return_id": return_id})
    return True, pages.problem(request, lang, 200, "link_expired_title", "new_link_sent")


def _new_link_email(pages: Pages, event: RetractEvent, return_id: str, lang: str) -> EmailMessage:
    link = pages.links.return_page(return_id)
    product = event.order.product.title
    if lang == "fr":
        subject = f"Votre nouveau lien de retour : {product}"
        text = (
            f"Bonjour {event.customer.name},\n\nVoici un nouveau lien vers la page de votre "
            f"retour ({product}, commande {event.order.order_id}) :\n\n{link}\n\n"
            f"Si vous n'avez pas demandé ce lien, ignorez ce message.\n\n"
            f"{pages.settings.marketplace_name}\n"
        )
    else:
        subject = f"Your new return page link: {product}"
        text = (
            f"Hello {event.customer.name},\n\nHere is a new link to the page of your return "
            f"({product}, order {event.order.order_id}):\n\n{link}\n\n"
            f"If you did not ask for this link, you can ignore this email.\n\n"
            f"{pages.settings.marketplace_name}\n"
        )
    return email_to(
        pages.settings,
        customer_address(event.customer.name, event.customer.email),
        subject,
        text,
        message_id=make_msgid(domain=pages.settings.mail_domain),
        lang=lang,
    )
