"""The withdrawal function: `/my/withdraw/<token>`, the page the marketplace's "get help"
button opens (Art. 11a of Directive 2011/83/EU).

Two steps, as the article asks: the order's lines with "Withdraw from contract here", then the
statement with the customer's name, the contract and the email the acknowledgement goes to,
and "Confirm withdrawal". Only the confirmation acts: it is the link's `WithdrawalWorkflow`'s
`confirm` update, which starts the returns and emails the acknowledgement. Afterwards the same
link shows what was submitted and when, with each return's page.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response
from temporalio.client import (
    WorkflowUpdateFailedError,
    WorkflowUpdateRPCTimeoutOrCancelledError,
    WorkflowUpdateStage,
)
from temporalio.service import RPCError, RPCStatusCode

from activities.notices.formats import format_date, format_moment, format_money
from activities.notices.wording import WORDINGS
from client.reading import update_refusal
from customer_page.links import PREFIX
from customer_page.routes import (
    FORM_ID,
    Pages,
    _Answer,
    _pages,
    _unavailable,
    asked_language,
    field,
    read_form,
)
from customer_page.security import secure_headers
from customer_page.tokens import Purpose, TokenExpired, TokenRefused
from customer_page.wording import LANGUAGES, WORDS, language
from domain.calendar import local_time_zone
from domain.ids import return_id
from domain.returns import RejectionReason
from domain.withdrawals import (
    ALREADY_WITHDRAWN,
    WithdrawalConfirmation,
    WithdrawalReceipt,
    WithdrawalView,
)
from gateway.http import is_unreachable, mark_authenticated
from workflows.withdrawal_workflow import WithdrawalWorkflow

logger = logging.getLogger(__name__)

router = APIRouter(prefix=PREFIX, include_in_schema=False)


async def _view(pages: Pages, request: Request, token: str, asked: str | None) -> WithdrawalView:
    lang = asked or LANGUAGES[0]
    try:
        claims = pages.links.tokens.open(token, Purpose.WITHDRAWAL)
    except TokenExpired:
        raise _Answer(_expired(pages, request, lang)) from None
    except TokenRefused:
        raise _Answer(
            pages.problem(request, lang, 404, "link_invalid_title", "link_invalid")
        ) from None
    mark_authenticated(request)
    try:
        view: WithdrawalView = await asyncio.wait_for(
            pages.client.get_workflow_handle(claims.subject).query(WithdrawalWorkflow.view),
            timeout=pages.timeout,
        )
    except RPCError as err:
        if err.status is RPCStatusCode.NOT_FOUND:
            raise _Answer(_expired(pages, request, lang)) from None
        if not is_unreachable(err):
            raise
        raise _Answer(_unavailable(pages, request, lang)) from None
    except Exception as err:
        if not is_unreachable(err):
            raise
        raise _Answer(_unavailable(pages, request, lang)) from None
    return view


def _expired(pages: Pages, request: Request, lang: str) -> Response:
    return pages.problem(request, lang, 410, "withdraw_expired_title", "withdraw_expired")


def _lines(view: WithdrawalView, lang: str) -> list[dict[str, Any]]:
    """Each line of the order as the page lists it."""
    words = WORDS[lang]
    customer = view.offer.request.customer
    zone = local_time_zone(customer.address.country_code, customer.address.postal_code)
    reasons = WORDINGS[lang].reasons
    shown = []
    for line, offered in zip(view.offer.request.lines, view.offer.lines, strict=True):
        ordered = words["withdraw_ordered"].format(
            day=format_date(line.ordered_at.astimezone(zone).date(), lang)
        )
        text = f"{line.product.title}, {format_money(line.product.price, lang)} ({ordered}"
        if line.delivered_at is not None:
            received = format_date(line.delivered_at.astimezone(zone).date(), lang)
            text += ", " + words["withdraw_delivered"].format(day=received)
        text += ")"
        window_end = format_date(offered.window_ends_at.astimezone(zone).date(), lang)
        now = dt.datetime.now(dt.UTC)
        reason = offered.reason
        if offered.withdrawable and not offered.open_at(now):
            reason = RejectionReason.OUTSIDE_RETURN_WINDOW.value  # it closed since the offer
        if offered.open_at(now):
            note = words["withdraw_until"].format(day=window_end)
        elif reason is not None and reason in RejectionReason._value2member_map_:
            note = reasons[RejectionReason(reason)].format(window_ends=window_end)
        else:
            note = words[f"withdraw_reason_{reason}"]
        shown.append(
            {
                "line_id": line.line_id,
                "text": text,
                "note": note,
                "withdrawable": offered.open_at(now),
                "reason": reason,
                "order_id": line.order_id,
                "link": None,
            }
        )
    return shown


def _contract(view: WithdrawalView, lang: str) -> str:
    first = view.offer.request.lines[0]
    address = view.offer.request.customer.address
    zone = local_time_zone(address.country_code, address.postal_code)
    return WORDS[lang]["withdraw_contract"].format(
        order_id=first.order_id, day=format_date(first.ordered_at.astimezone(zone).date(), lang)
    )


def _render(
    pages: Pages,
    request: Request,
    token: str,
    view: WithdrawalView,
    asked: str | None,
    *,
    step: str = "choose",
    chosen_ids: list[str] | None = None,
    refused: str | None = None,
    status_code: int = 200,
) -> Response:
    customer = view.offer.request.customer
    lang = language(asked, customer.locale)
    words = WORDS[lang]
    lines = _lines(view, lang)
    base = f"{PREFIX}/withdraw/{token}"
    values: dict[str, Any] = {
        "lang": lang,
        "title": words["withdraw_title"],
        "token": token,
        "base": base,
        "contract": _contract(view, lang),
        "refused": refused,
        "step": step,
        "customer_name": customer.name,
        "customer_email": customer.email,
        "open_lines": [line for line in lines if line["withdrawable"]],
        "closed_lines": [line for line in lines if not line["withdrawable"]],
        "chosen": [line for line in lines if line["line_id"] in (chosen_ids or [])],
        "done_text": None,
        "return_pages": [],
    }
    for line in values["closed_lines"]:
        if line["reason"] == ALREADY_WITHDRAWN:
            line["link"] = pages.links.return_path(return_id(line["order_id"], line["line_id"]))
    if view.submitting and view.receipt is None:
        values["step"] = "submitting"
        values["title"] = words["withdraw_confirm_title"]
    if view.receipt is not None:
        receipt = view.receipt
        zone = local_time_zone(customer.address.country_code, customer.address.postal_code)
        withdrawn = [line.line_id for line in receipt.lines]
        values["step"] = "done"
        values["title"] = words["withdraw_done_title"]
        values["chosen"] = [line for line in lines if line["line_id"] in withdrawn]
        done = "withdraw_done_unsent" if receipt.acknowledgement_refused else "withdraw_done"
        values["done_text"] = words[done].format(
            moment=format_moment(receipt.submitted_at, zone, lang), email=customer.email
        )
        titles = view.offer.request.titles
        values["return_pages"] = [
            (
                titles[line.line_id],
                pages.links.return_path(line.return_id),
                words["withdraw_return_ended"] if line.ended else "",
            )
            for line in receipt.lines
        ]
    elif step == "confirm":
        values["title"] = words["withdraw_confirm_title"]
    return pages.html(request, "withdraw.html", status_code, **values)


@router.get("/withdraw/{token}")
async def withdrawal_page(token: str, request: Request) -> Response:
    pages = _pages(request)
    asked = asked_language(request)
    try:
        view = await _view(pages, request, token, asked)
    except _Answer as answer:
        return answer.response
    if view.closed and view.receipt is None:
        return _expired(pages, request, language(asked, view.offer.request.customer.locale))
    return _render(pages, request, token, view, asked)


async def _chosen_lines(
    pages: Pages, request: Request, token: str, form: dict[str, list[str]], asked: str | None
) -> tuple[WithdrawalView, list[str]]:
    """The withdrawal and the lines a genuine form chose; else `_Answer` with the page to show
    instead (what was submitted already, the form refused, no line chosen)."""
    view = await _view(pages, request, token, asked)
    if view.receipt is not None:
        raise _Answer(_render(pages, request, token, view, asked))
    words = WORDS[language(asked, view.offer.request.customer.locale)]
    if not pages.csrf.genuine(request, field(form, "csrf"), token):
        refused = words["form_expired"]
        raise _Answer(_render(pages, request, token, view, asked, refused=refused, status_code=403))
    allowed = view.offer.withdrawable(dt.datetime.now(dt.UTC))
    posted = list(dict.fromkeys(form.get("line", [])))
    titles = view.offer.request.titles
    gone = [titles[line] for line in posted if line not in allowed and line in titles]
    if gone:
        # The statement the customer read names them (their period ended since, say): nothing
        # is sent but what they read, so they choose again.
        refused = words["withdraw_no_longer"].format(items=", ".join(gone))
        raise _Answer(_render(pages, request, token, view, asked, refused=refused, status_code=422))
    chosen = [line for line in posted if line in allowed]
    if not chosen:
        refused = words["withdraw_pick_one"]
        raise _Answer(_render(pages, request, token, view, asked, refused=refused, status_code=422))
    return view, chosen


@router.post("/withdraw/{token}/review")
async def review(token: str, request: Request) -> Response:
    """Step one: the lines chosen, shown as the statement to confirm (nothing is sent yet)."""
    pages = _pages(request)
    form = await read_form(request, pages)
    asked = asked_language(request, form)
    try:
        view, chosen = await _chosen_lines(pages, request, token, form, asked)
    except _Answer as answer:
        return answer.response
    return _render(pages, request, token, view, asked, step="confirm", chosen_ids=chosen)


@router.post("/withdraw/{token}/confirm")
async def confirm(token: str, request: Request) -> Response:
    """Step two: "Confirm withdrawal" submits the statement."""
    pages = _pages(request)
    form = await read_form(request, pages)
    asked = asked_language(request, form)
    try:
        view, chosen = await _chosen_lines(pages, request, token, form, asked)
        lang = language(asked, view.offer.request.customer.locale)
        form_id = field(form, "form_id")
        outcome = await _submit(pages, request, lang, view, chosen, form_id)
        if isinstance(outcome, str):
            logger.info("withdrawal refused", extra={"reason": outcome})
            fresh = await _view(pages, request, token, asked)
            if fresh.receipt is not None:
                return _render(pages, request, token, fresh, asked)
            if "expired" in outcome:
                return _expired(pages, request, lang)
            refused = WORDS[lang]["withdraw_pick_one"]
            return _render(pages, request, token, fresh, asked, refused=refused, status_code=409)
    except _Answer as answer:
        return answer.response
    # Done, or still starting the returns: the page shows which.
    suffix = f"?{urlencode({'lang': asked})}" if asked else ""
    return secure_headers(
        RedirectResponse(f"{PREFIX}/withdraw/{token}{suffix}", status_code=303),
        https=pages.https,
    )


async def _submit(
    pages: Pages,
    request: Request,
    lang: str,
    view: WithdrawalView,
    chosen: list[str],
    form_id: str,
) -> WithdrawalReceipt | str | bool:
    """The receipt; the refusal's words; False while the returns are still being started; the
    503 page when the withdrawal did not accept the confirmation in time (Temporal, or every
    worker, down or slow: the form sent again carries the same form ID and joins the first)."""
    handle = pages.client.get_workflow_handle(view.offer.withdrawal_id)
    try:
        started = await handle.start_update(
            WithdrawalWorkflow.confirm,
            WithdrawalConfirmation(line_ids=chosen),
            id=f"customer-page:confirm:{form_id}" if FORM_ID.fullmatch(form_id) else None,
            wait_for_stage=WorkflowUpdateStage.ACCEPTED,
            rpc_timeout=dt.timedelta(seconds=pages.timeout),
        )
    except WorkflowUpdateFailedError as err:
        return update_refusal(err)
    except RPCError as err:
        if err.status is RPCStatusCode.NOT_FOUND:
            return "the withdrawal link has expired"
        if is_unreachable(err):
            # The request may have reached Temporal before the answer was lost.
            raise _Answer(_unavailable(pages, request, lang, "not_taken")) from None
        raise
    except Exception as err:
        # Among them `WorkflowUpdateRPCTimeoutOrCancelledError`: not accepted in time.
        if is_unreachable(err):
            raise _Answer(_unavailable(pages, request, lang, "not_taken")) from None
        raise
    try:
        return await started.result(
            rpc_timeout=dt.timedelta(seconds=pages.settings.gateway_update_wait_seconds)
        )
    except WorkflowUpdateFailedError as err:
        return update_refusal(err)
    except WorkflowUpdateRPCTimeoutOrCancelledError:
        return False
    except RPCError as err:
        if err.status is RPCStatusCode.NOT_FOUND:
            return "the withdrawal link has expired"
        if is_unreachable(err):
            return False
        raise
    except Exception as err:
        # Accepted, and carried on: only the wait for its answer failed.
        if is_unreachable(err):
            return False
        raise
