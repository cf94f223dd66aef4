"""The acknowledgement of a withdrawal made with the withdrawal function: the statement's
content and the date and time it was submitted, on a durable medium (an email), as Art. 11a(3)
of Directive 2011/83/EU asks; in the customer's language."""

from __future__ import annotations

from email.message import EmailMessage

from activities.notices.compose import customer_address, email_to, message_id_part
from activities.notices.formats import format_date, format_moment, format_money
from activities.notices.wording import language_of
from domain.calendar import local_time_zone
from domain.withdrawals import WithdrawalOffer, WithdrawalReceipt
from plumbing.settings import Settings

WORDS = {
    "en": {
        "subject": "Your withdrawal from order {order_id} is received",
        "hello": "Hello {name},",
        "intro": "We have received the withdrawal you submitted with the withdrawal function on "
        "{moment}. This email is your acknowledgement: please keep it.",
        "statement": "Your statement",
        "content": "I hereby give notice that I withdraw from my contract of sale of the "
        "following goods:",
        "line": "- {title}, {price} (order {order_id}, line {line_id}), ordered on {ordered}",
        "received": ", received on {delivered}",
        "name": "Name: {name}",
        "address": "Address: {address}",
        "email": "Email: {email}",
        "submitted": "Submitted on: {moment}",
        "next": "What happens next",
        "each": "Each item has its return page, where you choose how to send it back:",
        "page": "- {title}: {link}",
        "page_ended": "- {title}: a return of this item had already ended; its page says "
        "how: {link}",
        "sign": "The {marketplace} team",
    },
    "fr": {
        "subject": "Votre rétractation de la commande {order_id} est reçue",
        "hello": "Bonjour {name},",
        "intro": "Nous avons bien reçu la rétractation que vous avez envoyée avec la fonction de "
        "rétractation le {moment}. Cet e-mail en est l'accusé de réception : conservez-le.",
        "statement": "Votre déclaration",
        "content": "Je vous notifie par la présente ma rétractation du contrat portant sur la "
        "vente des biens ci-dessous :",
        "line": "- {title}, {price} (commande {order_id}, ligne {line_id}), commandé le {ordered}",
        "received": ", reçu le {delivered}",
        "name": "Nom : {name}",
        "address": "Adresse : {address}",
        "email": "E-mail : {email}",
        "submitted": "Envoyée le : {moment}",
        "next": "La suite",
        "each": "Chaque article a sa page de retour, où vous choisissez comment le renvoyer :",
        "page": "- {title} : {link}",
        "page_ended": "- {title} : un retour de cet article était déjà terminé ; sa page dit "
        "comment : {link}",
        "sign": "L'équipe {marketplace}",
    },
}


def acknowledgement(
    offer: WithdrawalOffer,
    receipt: WithdrawalReceipt,
    settings: Settings,
    return_pages: dict[str, str],
) -> EmailMessage:
    """The acknowledgement email; `return_pages` links each withdrawn line's return page."""
    request = offer.request
    customer = request.customer
    lang = language_of(customer.locale)
    words = WORDS[lang]
    zone = local_time_zone(customer.address.country_code, customer.address.postal_code)
    moment = format_moment(receipt.submitted_at, zone, lang)
    withdrawn = [line.line_id for line in receipt.lines]
    lines = [line for line in request.lines if line.line_id in withdrawn]
    home = customer.address
    address = ", ".join(
        part
        for part in (home.line1, home.line2, f"{home.postal_code} {home.city}", home.country_code)
        if part
    )
    statement = [words["content"]]
    for line in lines:
        text = words["line"].format(
            title=line.product.title,
            price=format_money(line.product.price, lang),
            order_id=line.order_id,
            line_id=line.line_id,
            ordered=format_date(line.ordered_at.astimezone(zone).date(), lang),
        )
        if line.delivered_at is not None:
            delivered = format_date(line.delivered_at.astimezone(zone).date(), lang)
            text += words["received"].format(delivered=delivered)
        statement.append(text)
    statement += [
        words["name"].format(name=customer.name),
        words["address"].format(address=address),
        words["email"].format(email=customer.email),
        words["submitted"].format(moment=moment),
    ]
    ended = {line.line_id for line in receipt.lines if line.ended}
    pages = [
        words["page_ended" if line.line_id in ended else "page"].format(
            title=line.product.title, link=return_pages[line.line_id]
        )
        for line in lines
        if line.line_id in return_pages
    ]
    body = "\n".join(
        [
            words["hello"].format(name=customer.name),
            "",
            words["intro"].format(moment=moment),
            "",
            words["statement"],
            "",
            *statement,
            "",
            words["next"],
            "",
            words["each"],
            *pages,
            "",
            words["sign"].format(marketplace=settings.marketplace_name),
            "",
        ]
    )
    # The same acknowledgement, the same ID: a retried send is the same email.
    return email_to(
        settings,
        customer_address(customer.name, customer.email),
        words["subject"].format(order_id=request.order_id),
        body,
        message_id=acknowledgement_message_id(receipt, settings),
        sent_at=receipt.submitted_at,
        lang=lang,
    )


def acknowledgement_message_id(receipt: WithdrawalReceipt, settings: Settings) -> str:
    """The same acknowledgement, the same ID: a retried send is the same email, and the key the
    sent-notices ledger keeps it under."""
    return f"<{message_id_part(receipt.withdrawal_id, 'acknowledgement')}@{settings.mail_domain}>"
