"""What the seller chat says to a seller, in the seller's language (French or English).

Only business facts go into a chat message: the order, the line, the return and the deadline.
Nothing about the customer (a `SellerChatMessage` carries nothing about them).
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from domain.notices import SellerChatKind, SellerChatMessage

LANGUAGES = ("fr", "en")
DEFAULT_LOCALE = "fr"
"""The marketplace's sellers write French unless the directory says otherwise."""

MARKETPLACE_ZONE = ZoneInfo("Europe/Paris")
"""Deadlines are written in the marketplace's time, and say so."""

_MONTHS: dict[str, tuple[str, ...]] = {
    "en": ("January", "February", "March", "April", "May", "June", "July", "August",
           "September", "October", "November", "December"),
    "fr": ("janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août",
           "septembre", "octobre", "novembre", "décembre"),
}  # fmt: skip


def chat_language(locale: str | None) -> str:
    """`fr-BE` → `fr`; a language we do not write (or no locale: French) → as the rule says."""
    language = (locale or DEFAULT_LOCALE).split("-", 1)[0].lower()
    return language if language in LANGUAGES else "en"


def format_deadline(at: dt.datetime, language: str) -> str:
    """`26 novembre 2026 à 10 h 15 (heure de Paris)`, `26 November 2026 at 10:15 (Paris time)`."""
    local = at.astimezone(MARKETPLACE_ZONE)
    month = _MONTHS[language][local.month - 1]
    if language == "fr":
        day = "1er" if local.day == 1 else str(local.day)
        time = f"{local.hour} h" if local.minute == 0 else f"{local.hour} h {local.minute:02d}"
        return f"{day} {month} {local.year} à {time} (heure de Paris)"
    return f"{local.day} {month} {local.year} at {local.hour:02d}:{local.minute:02d} (Paris time)"


def chat_text(message: SellerChatMessage, locale: str | None, name: str | None) -> str:
    """The message posted in the seller chat, in the language of the seller's locale (French
    when none is known), greeting the seller by `name` when known."""
    language = chat_language(locale)
    if language == "fr":
        return _french(message, name)
    return _english(message, name)


def _french(message: SellerChatMessage, name: str | None) -> str:
    greeting = f"Bonjour {name}," if name else "Bonjour,"
    by = "dès que possible"
    if message.reply_by:
        by = f"avant le {format_deadline(message.reply_by, 'fr')}"
    where = (
        f"la commande {message.order_id} (ligne {message.line_id}, référence {message.return_id})"
    )
    if message.kind is SellerChatKind.ADDRESS_REQUEST:
        body = (
            f"Un client s'est rétracté de {where} et vous renvoie l'article. Merci de nous "
            f"indiquer l'adresse de retour pour ce retour, dans cette conversation ou sur le "
            f"portail vendeur, {by}. D'ici là, le client ne peut pas renvoyer le colis."
        )
    else:
        body = (
            f"Rappel : nous attendons toujours l'adresse de retour pour {where}. Le client "
            f"s'est rétracté et ne peut pas renvoyer le colis tant que nous ne l'avons pas. "
            f"Merci de l'indiquer dans cette conversation ou sur le portail vendeur {by} ; "
            f"sans réponse, notre équipe des opérations prendra le relais."
        )
    return f"{greeting}\n\n{body}\n\nMerci,\nL'équipe des retours\n"


def _english(message: SellerChatMessage, name: str | None) -> str:
    greeting = f"Hello {name}," if name else "Hello,"
    by = "as soon as possible"
    if message.reply_by:
        by = f"by {format_deadline(message.reply_by, 'en')}"
    where = f"order {message.order_id} (line {message.line_id}, reference {message.return_id})"
    if message.kind is SellerChatKind.ADDRESS_REQUEST:
        body = (
            f"A customer has withdrawn from {where} and is sending the item back to you. "
            f"Please give us the return address for this return, in this chat or in the "
            f"seller portal, {by}. Until then, the customer cannot send the parcel back."
        )
    else:
        body = (
            f"Reminder: we still need the return address for {where}. The customer has "
            f"withdrawn and cannot send the parcel back until we have it. Please give it in "
            f"this chat or in the seller portal {by}; without an answer, our operations team "
            f"will take over."
        )
    return f"{greeting}\n\n{body}\n\nThank you,\nThe returns team\n"
