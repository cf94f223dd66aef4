"""The words of the notices that depend on the data: subjects, reasons, steps, packaging tips.

The letters themselves are Jinja templates (`templates/{lang}/{kind}.txt|.html`). What lives
here is what both the text and the HTML version show as the same items (a list of steps, a
sentence chosen by a reason code): it is written once, as plain text, and each template lays
it out (and the HTML one escapes it).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from domain.carriers import ReturnMethod
from domain.events import DeviceCategory
from domain.notices import NoticeKind
from domain.returns import RejectionReason

DEFAULT_LANGUAGE = "en"


@dataclass(frozen=True)
class Wording:
    """Everything data-dependent a notice says, in one language.

    `subjects` may use {product}, {order_id}, {carrier}; `reasons` {window_ends}; steps use
    {carrier}, {deposit_before}, {ship_by}, {pickup_date}, {confirmation}; `packaging` {box} and
    {device}.
    """

    subjects: Mapping[NoticeKind, str]
    reasons: Mapping[RejectionReason, str]
    devices: Mapping[DeviceCategory, str]
    next_steps: tuple[str, ...]
    """What follows an accepted withdrawal (acknowledgement)."""
    method_titles: Mapping[ReturnMethod, str]
    method_steps: Mapping[ReturnMethod, tuple[str, ...]]
    """How each way of sending works, before the customer has chosen (return_address)."""
    packaging: tuple[str, ...]
    label_steps: Mapping[ReturnMethod, tuple[str, ...]]
    """What to do with the label, for a booked pickup or a drop-off (return_label)."""
    counter_steps: tuple[str, ...]
    """What to do with the counter code (counter_code)."""


_EN_LABEL_BY_EMAIL = (
    "We create your prepaid label online and email it to you: print it and stick it on the parcel."
)
_EN_PRINT_LABEL = (
    "Print the label and stick it on the packed parcel, over any old label or barcode."
)
_FR_PRINT_LABEL = (
    "Imprimez l'étiquette et collez-la sur le colis emballé, par-dessus toute ancienne étiquette "
    "ou code-barres."
)
_FR_LABEL_BY_EMAIL = (
    "Nous créons votre étiquette prépayée en ligne et vous l'envoyons par e-mail : "
    "imprimez-la et collez-la sur le colis."
)

ENGLISH = Wording(
    subjects={
        NoticeKind.ACKNOWLEDGEMENT: "Your return of {product} is accepted (order {order_id})",
        NoticeKind.REJECTION: "Your return request for order {order_id}",
        NoticeKind.RETURN_ADDRESS: "How to send back {product} (order {order_id})",
        NoticeKind.RETURN_LABEL: "Your prepaid return label for order {order_id}",
        NoticeKind.COUNTER_CODE: "Your post office return code for order {order_id}",
        NoticeKind.PICKUP_CONFIRMED: "{carrier} has your parcel: order {order_id} is on its way",
    },
    reasons={
        RejectionReason.OUTSIDE_RETURN_WINDOW: (
            "The return window for this order closed on {window_ends}, before your request "
            "reached us, so we can't accept it as a withdrawal."
        ),
        RejectionReason.ORDER_NOT_SHIPPED: (
            "Your order has not shipped yet, so there is nothing to send back. To cancel it "
            "before it leaves, contact our customer service."
        ),
        RejectionReason.ORDER_CANCELLED: (
            "This order was already cancelled, so there is nothing to send back."
        ),
    },
    devices={
        DeviceCategory.SMARTPHONE: "a smartphone",
        DeviceCategory.TABLET: "a tablet",
        DeviceCategory.LAPTOP: "a laptop",
        DeviceCategory.DESKTOP: "a desktop computer",
        DeviceCategory.SMARTWATCH: "a smartwatch",
        DeviceCategory.HEADPHONES: "headphones",
        DeviceCategory.GAME_CONSOLE: "a game console",
        DeviceCategory.CAMERA: "a camera",
        DeviceCategory.OTHER: "a device like yours",
    },
    next_steps=(
        "We email you the seller's return address, with the ways you can send the parcel back "
        "and how to pack it.",
        "You choose how to send it on your return page: from your mailbox, at a post office or "
        "at the post office counter, with the carrier you prefer.",
        "Once the carrier has your parcel, we confirm it by email. The seller refunds you when "
        "they get it back, within the legal time limit.",
    ),
    method_titles={
        ReturnMethod.MAILBOX_PICKUP: "Pickup from your mailbox",
        ReturnMethod.POST_OFFICE_DROP_OFF: "Drop-off at a post office",
        ReturnMethod.POST_OFFICE_COUNTER: "At the post office counter (no printer needed)",
    },
    method_steps={
        ReturnMethod.MAILBOX_PICKUP: (
            "On your return page, choose {carrier}, pickup from your mailbox, and the day.",
            _EN_LABEL_BY_EMAIL,
            "On the pickup day, put the parcel in your mailbox before {deposit_before}: "
            "{carrier} collects it from there.",
        ),
        ReturnMethod.POST_OFFICE_DROP_OFF: (
            "On your return page, choose {carrier}, drop-off at a post office.",
            _EN_LABEL_BY_EMAIL,
            "Drop the parcel at any {carrier} post office and keep the receipt.",
        ),
        ReturnMethod.POST_OFFICE_COUNTER: (
            "On your return page, choose {carrier}, at the post office counter.",
            "We email you a return code.",
            "Bring the packed parcel and the seller's address above to a {carrier} post office "
            "and show the code at the counter: they print the label for you.",
        ),
    },
    packaging=(
        "Reuse the original box if you still have it.",
        "Otherwise, use a sturdy box of about {box} for {device}.",
        "Wrap the device in bubble wrap or paper so that it cannot move in the box.",
        "Put in every accessory that came with it: charger, cable, case, documentation.",
        "Before packing, sign out of your accounts, turn off any lock (such as Find My or a "
        "Google account lock) and take out your SIM and memory cards.",
    ),
    label_steps={
        ReturnMethod.MAILBOX_PICKUP: (
            _EN_PRINT_LABEL,
            "Your pickup from your mailbox is booked for {pickup_date} (confirmation number "
            "{confirmation}).",
            "Put the parcel in your mailbox before {deposit_before} that day: {carrier} collects "
            "it from there.",
        ),
        ReturnMethod.POST_OFFICE_DROP_OFF: (
            _EN_PRINT_LABEL,
            "Drop the parcel at any {carrier} post office before {ship_by}, and keep the receipt.",
        ),
    },
    counter_steps=(
        "Pack the device as described in our previous email.",
        "Bring the packed parcel and this code to a {carrier} post office before {ship_by}.",
        "Show the code at the counter: they print the label and put it on the parcel. Keep the "
        "receipt.",
    ),
)

FRENCH = Wording(
    subjects={
        NoticeKind.ACKNOWLEDGEMENT: "Votre retour est accepté : {product} (commande {order_id})",
        NoticeKind.REJECTION: "Votre demande de retour pour la commande {order_id}",
        NoticeKind.RETURN_ADDRESS: "Comment renvoyer {product} (commande {order_id})",
        NoticeKind.RETURN_LABEL: "Votre étiquette de retour prépayée, commande {order_id}",
        NoticeKind.COUNTER_CODE: (
            "Votre code de retour pour le bureau de poste, commande {order_id}"
        ),
        NoticeKind.PICKUP_CONFIRMED: (
            "{carrier} a pris en charge votre colis : la commande {order_id} est en route"
        ),
    },
    reasons={
        RejectionReason.OUTSIDE_RETURN_WINDOW: (
            "Le délai de retour de cette commande a pris fin le {window_ends}, avant que votre "
            "demande nous parvienne : nous ne pouvons donc pas l'accepter comme une rétractation."
        ),
        RejectionReason.ORDER_NOT_SHIPPED: (
            "Votre commande n'a pas encore été expédiée, il n'y a donc rien à renvoyer. Pour "
            "l'annuler avant son départ, contactez notre service client."
        ),
        RejectionReason.ORDER_CANCELLED: (
            "Cette commande a déjà été annulée, il n'y a donc rien à renvoyer."
        ),
    },
    devices={
        DeviceCategory.SMARTPHONE: "un smartphone",
        DeviceCategory.TABLET: "une tablette",
        DeviceCategory.LAPTOP: "un ordinateur portable",
        DeviceCategory.DESKTOP: "un ordinateur de bureau",
        DeviceCategory.SMARTWATCH: "une montre connectée",
        DeviceCategory.HEADPHONES: "un casque audio",
        DeviceCategory.GAME_CONSOLE: "une console de jeux",
        DeviceCategory.CAMERA: "un appareil photo",
        DeviceCategory.OTHER: "un appareil comme le vôtre",
    },
    next_steps=(
        "Nous vous envoyons par e-mail l'adresse de retour du vendeur, avec les façons de "
        "renvoyer le colis et les conseils pour l'emballer.",
        "Vous choisissez comment l'envoyer sur votre page de retour : depuis votre boîte aux "
        "lettres, dans un bureau de poste ou au guichet, avec le transporteur de votre choix.",
        "Dès que le transporteur a votre colis, nous vous le confirmons par e-mail. Le vendeur "
        "vous rembourse à sa réception, dans le délai légal.",
    ),
    method_titles={
        ReturnMethod.MAILBOX_PICKUP: "Enlèvement dans votre boîte aux lettres",
        ReturnMethod.POST_OFFICE_DROP_OFF: "Dépôt dans un bureau de poste",
        ReturnMethod.POST_OFFICE_COUNTER: "Au guichet du bureau de poste (sans imprimante)",
    },
    method_steps={
        ReturnMethod.MAILBOX_PICKUP: (
            "Sur votre page de retour, choisissez {carrier}, enlèvement dans votre boîte aux "
            "lettres, et le jour.",
            _FR_LABEL_BY_EMAIL,
            "Le jour de l'enlèvement, déposez le colis dans votre boîte aux lettres avant "
            "{deposit_before} : {carrier} le récupère sur place.",
        ),
        ReturnMethod.POST_OFFICE_DROP_OFF: (
            "Sur votre page de retour, choisissez {carrier}, dépôt dans un bureau de poste.",
            _FR_LABEL_BY_EMAIL,
            "Déposez le colis dans n'importe quel bureau de poste {carrier} et gardez le reçu.",
        ),
        ReturnMethod.POST_OFFICE_COUNTER: (
            "Sur votre page de retour, choisissez {carrier}, au guichet du bureau de poste.",
            "Nous vous envoyons un code de retour par e-mail.",
            "Apportez le colis emballé et l'adresse du vendeur ci-dessus dans un bureau de poste "
            "{carrier} et présentez le code au guichet : l'étiquette y est imprimée pour vous.",
        ),
    },
    packaging=(
        "Réutilisez le carton d'origine si vous l'avez encore.",
        "Sinon, prenez un carton solide d'environ {box} pour {device}.",
        "Protégez l'appareil avec du papier bulle ou du papier pour qu'il ne bouge pas dans "
        "le carton.",
        "Ajoutez tous les accessoires reçus avec lui : chargeur, câble, coque, notice.",
        "Avant d'emballer, déconnectez-vous de vos comptes, désactivez tout verrouillage (comme "
        "Localiser ou le verrouillage du compte Google) et retirez vos cartes SIM et mémoire.",
    ),
    label_steps={
        ReturnMethod.MAILBOX_PICKUP: (
            _FR_PRINT_LABEL,
            "L'enlèvement dans votre boîte aux lettres est réservé pour le {pickup_date} "
            "(numéro de confirmation {confirmation}).",
            "Déposez le colis dans votre boîte aux lettres avant {deposit_before} ce jour-là : "
            "{carrier} le récupère sur place.",
        ),
        ReturnMethod.POST_OFFICE_DROP_OFF: (
            _FR_PRINT_LABEL,
            "Déposez le colis dans n'importe quel bureau de poste {carrier} avant le {ship_by}, "
            "et gardez le reçu.",
        ),
    },
    counter_steps=(
        "Emballez l'appareil comme indiqué dans notre précédent e-mail.",
        "Apportez le colis emballé et ce code dans un bureau de poste {carrier} avant le "
        "{ship_by}.",
        "Présentez le code au guichet : l'étiquette est imprimée et collée sur le colis. "
        "Gardez le reçu.",
    ),
)

WORDINGS: dict[str, Wording] = {"en": ENGLISH, "fr": FRENCH}


def language_of(locale: str) -> str:
    """The notices' language for a customer locale: `fr-FR` → `fr`; unknown → English."""
    language = locale.split("-", 1)[0].lower()
    return language if language in WORDINGS else DEFAULT_LANGUAGE
