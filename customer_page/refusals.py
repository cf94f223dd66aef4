"""Every refusal a customer's action can get from the return, in the customer's words.

The return's validators and run loop refuse in words for the API's callers (`pickup_date: must
be after today (2026-12-06): booking closes the day before`); the page says the same thing to a
person, in English or French. `customer_words` finds the rule for a refusal; a refusal no rule
knows is shown with a general sentence and the return's own words (a test checks that every
refusal the validators and loop can give to a customer has a rule).
"""

from __future__ import annotations

import re
from dataclasses import dataclass


@dataclass(frozen=True)
class _Rule:
    pattern: re.Pattern[str]
    en: str
    fr: str


def _rule(pattern: str, en: str, fr: str) -> _Rule:
    return _Rule(re.compile(pattern), en, fr)


_STAGE = r"(?: \(stage: [a-z_]+\))?$"

RULES: tuple[_Rule, ...] = (
    _rule(
        r"^the return has ended" + _STAGE,
        "This return has ended: it can no longer be changed.",
        "Ce retour est terminé : il ne peut plus être modifié.",
    ),
    _rule(
        r"^the customer cancelled the return" + _STAGE,
        "You cancelled this return: it can no longer be changed.",
        "Vous avez annulé ce retour : il ne peut plus être modifié.",
    ),
    _rule(
        r"^operations closed the return" + _STAGE,
        "This return is closed by our customer service.",
        "Ce retour a été clos par notre service client.",
    ),
    _rule(
        r"^the order was cancelled before it shipped" + _STAGE,
        "Your order was cancelled before it shipped: there is nothing to send back.",
        "Votre commande a été annulée avant son expédition : il n'y a rien à renvoyer.",
    ),
    _rule(
        r"^the return is being ended by an earlier request" + _STAGE,
        "This return is being ended by an earlier request.",
        "Ce retour est en train d'être clos par une demande précédente.",
    ),
    _rule(
        r"^the shipping deadline (has passed|passed while the carrier prepared the shipment)"
        r"(: the return is expiring)?" + _STAGE,
        "The deadline to send the parcel has passed.",
        "La date limite d'envoi du colis est passée.",
    ),
    _rule(
        r"^the withdrawal is being checked: try again in a moment" + _STAGE,
        "Your withdrawal is still being checked: try again in a moment.",
        "Votre rétractation est encore en cours de vérification : réessayez dans un instant.",
    ),
    _rule(
        r"^the withdrawal was not accepted as a return" + _STAGE,
        "Your withdrawal was not accepted as a return.",
        "Votre rétractation n'a pas été acceptée comme retour.",
    ),
    _rule(
        r"^the withdrawal awaits operations' review" + _STAGE,
        "Our team is still looking at your withdrawal.",
        "Notre équipe examine encore votre rétractation.",
    ),
    _rule(
        r"^the return is (waiting for the seller's return address|not waiting for an address)"
        + _STAGE,
        "The seller has not given their return address yet: you can choose once we have it.",
        "Le vendeur n'a pas encore donné son adresse de retour : vous pourrez choisir dès que "
        "nous l'aurons.",
    ),
    _rule(
        r"^the return is waiting for the customer's choice" + _STAGE,
        "Choose how to send the parcel first.",
        "Choisissez d'abord comment envoyer le colis.",
    ),
    _rule(
        r"^the return is not waiting for a parcel" + _STAGE,
        "Choose how to send the parcel first.",
        "Choisissez d'abord comment envoyer le colis.",
    ),
    _rule(
        r"^the carrier is preparing the shipment: wait for its answer" + _STAGE,
        "The carrier is still preparing your last choice: wait a moment, then try again.",
        "Le transporteur prépare encore votre dernier choix : patientez un instant, puis "
        "réessayez.",
    ),
    _rule(
        r"^the parcel has not been sent yet" + _STAGE,
        "The parcel has not been sent yet.",
        "Le colis n'a pas encore été envoyé.",
    ),
    _rule(
        r"^the carrier (has the parcel: it is on its way to the seller|already has the parcel "
        r"sent with the previous choice)" + _STAGE,
        "The carrier already has your parcel: it is on its way to the seller.",
        "Le transporteur a déjà votre colis : il est en route vers le vendeur.",
    ),
    _rule(
        r"^the parcel is back with the seller" + _STAGE,
        "The parcel is already back with the seller.",
        "Le colis est déjà de retour chez le vendeur.",
    ),
    _rule(
        r"^the return has expired" + _STAGE,
        "This return has expired: the parcel was not sent in time.",
        "Ce retour a expiré : le colis n'a pas été envoyé à temps.",
    ),
    _rule(
        r"^the return has ended: operations may retry the failed step or close it" + _STAGE,
        "This return has ended: our customer service will contact you.",
        "Ce retour est terminé : notre service client va vous contacter.",
    ),
    _rule(
        r"^the refund is requested already: the goods are to be sent back",
        "Your refund is already requested: the item must be sent back now. Customer service can "
        "help.",
        "Votre remboursement est déjà demandé : l'article doit maintenant être renvoyé. Le "
        "service client peut vous aider.",
    ),
    _rule(
        r"^method: this is already the chosen way of sending the parcel$",
        "This is already your choice.",
        "C'est déjà votre choix.",
    ),
    _rule(
        r"^method: your refund was requested less the price of the label you have",
        "Your refund was requested less the price of your label: send the parcel with that label.",
        "Votre remboursement a été demandé déduction faite du prix de votre étiquette : envoyez "
        "le colis avec cette étiquette.",
    ),
    _rule(
        r"^carrier: unknown carrier",
        "This carrier is not offered for this return.",
        "Ce transporteur n'est pas proposé pour ce retour.",
    ),
    _rule(
        r"^method: \S+ does not offer",
        "This carrier does not offer this way of sending.",
        "Ce transporteur ne propose pas cette façon d'envoyer.",
    ),
    _rule(
        r"^pickup_date: must be after today",
        "Pickups are booked the day before at the latest: choose a later day.",
        "Un retrait se réserve au plus tard la veille : choisissez un jour plus tard.",
    ),
    _rule(
        r"^pickup_date: \S+ is a Sunday",
        "Carriers do not collect on Sundays: choose another day.",
        "Les transporteurs ne passent pas le dimanche : choisissez un autre jour.",
    ),
    _rule(
        r"^pickup_date: \S+ is a public holiday",
        "Carriers do not collect on public holidays: choose another day.",
        "Les transporteurs ne passent pas les jours fériés : choisissez un autre jour.",
    ),
    _rule(
        r"^pickup_date: must be on or before the shipping deadline",
        "Choose a pickup day on or before your deadline to send the parcel.",
        "Choisissez un jour de retrait au plus tard à votre date limite d'envoi.",
    ),
    _rule(
        r"^pickup_date: ",
        "Choose one of the pickup days offered.",
        "Choisissez l'un des jours de retrait proposés.",
    ),
    _rule(
        r"^the way of sending the parcel was changed \d+ times already",
        "You have changed the way of sending several times already: customer service will "
        "contact you to change it.",
        "Vous avez déjà changé plusieurs fois la façon d'envoyer : le service client vous "
        "contactera pour la modifier.",
    ),
    _rule(
        r"^\S+ is not answering just now: try again in a few minutes$",
        "The carrier is not answering just now: try again in a few minutes.",
        "Le transporteur ne répond pas pour l'instant : réessayez dans quelques minutes.",
    ),
    _rule(
        r"^\S+ refused: ",
        "The carrier refused this request: choose another day or another way.",
        "Le transporteur a refusé cette demande : choisissez un autre jour ou une autre façon.",
    ),
    _rule(
        r"^\S+ cannot take returns just now: try again later or choose another$",
        "This carrier cannot take returns just now: try again later or choose another one.",
        "Ce transporteur ne peut pas prendre de retours pour l'instant : réessayez plus tard ou "
        "choisissez-en un autre.",
    ),
    _rule(
        r"^the shipment could not be prepared: operations will look into it$",
        "What you chose could not be prepared: our team is looking into it.",
        "Ce que vous avez choisi n'a pas pu être préparé : notre équipe s'en occupe.",
    ),
    _rule(
        r"^tracking_number: this return's parcel is ",
        "This return's parcel already has another tracking number.",
        "Le colis de ce retour a déjà un autre numéro de suivi.",
    ),
    _rule(
        r"^tracking_number: is not a \S+ tracking number",
        "This is not a tracking number of the carrier you chose: check the receipt.",
        "Ce n'est pas un numéro de suivi du transporteur choisi : vérifiez le reçu.",
    ),
    _rule(
        r"^tracking_number: \S+ is reported already: nothing to change$",
        "This tracking number is already recorded for this return: nothing more to do.",
        "Ce numéro de suivi est déjà enregistré pour ce retour : rien de plus à faire.",
    ),
    _rule(
        r"^tracking_number: \S+ is another running return's parcel$",
        "This tracking number belongs to another return's parcel: check the receipt.",
        "Ce numéro de suivi est celui du colis d'un autre retour : vérifiez le reçu.",
    ),
    _rule(
        r"^tracking_number: \S+ shows the parcel \S+ going elsewhere",
        "The carrier shows this parcel going to another address than the seller's: check the "
        "receipt.",
        "Le transporteur indique que ce colis va ailleurs qu'à l'adresse du vendeur : vérifiez "
        "le reçu.",
    ),
    _rule(
        r"^(method|carrier|way): ",
        "Choose one of the ways offered on this page.",
        "Choisissez l'une des façons proposées sur cette page.",
    ),
    _rule(
        r"^confirm: ",
        "Tick the box to confirm that you keep the item.",
        "Cochez la case pour confirmer que vous gardez l'article.",
    ),
    _rule(
        r"^tracking_number: ",
        "Enter the tracking number as printed on the receipt: 8 to 40 letters and digits.",
        "Saisissez le numéro de suivi tel qu'imprimé sur le reçu : 8 à 40 lettres et chiffres.",
    ),
)

GENERAL = {
    "en": "This could not be done now ({reason}).",
    "fr": "Cela n'a pas pu être fait pour l'instant ({reason}).",
}


def rule_for(refusal: str) -> _Rule | None:
    text = refusal.removeprefix("refused by the return: ").removeprefix(
        "the return could not do it: "
    )
    return next((rule for rule in RULES if rule.pattern.search(text)), None)


def customer_words(refusal: str, lang: str) -> str:
    """The refusal as the customer reads it, in `lang`."""
    rule = rule_for(refusal)
    if rule is None:
        return GENERAL[lang].format(reason=refusal)
    return rule.fr if lang == "fr" else rule.en
