"""The pages' own words, in English and French. What the pages say that an email says too (the
ways of sending, their steps, the packing advice, who pays the label) comes from the notices'
wording (`activities.notices.wording`), so both say it the same way."""

from __future__ import annotations

from domain.returns import ReturnStage

LANGUAGES = ("en", "fr")

STAGE_NOW: dict[str, dict[ReturnStage, str]] = {
    "en": {
        ReturnStage.CHECKING_ELIGIBILITY: "We are checking your withdrawal. This takes a moment.",
        ReturnStage.REJECTED: "Your withdrawal could not be accepted as a return.",
        ReturnStage.AWAITING_REVIEW: "Our team is looking at your withdrawal: we will email "
        "you once it is decided.",
        ReturnStage.AWAITING_RETURN_ADDRESS: "Your withdrawal is accepted. We are waiting for "
        "the seller's return address and will email it to you.",
        ReturnStage.AWAITING_CUSTOMER_CHOICE: "Choose how to send the parcel back to the seller.",
        ReturnStage.PREPARING_SHIPMENT: "The carrier is preparing what you chose.",
        ReturnStage.AWAITING_PICKUP: "Your mailbox pickup is booked: put the parcel in your "
        "mailbox on the day.",
        ReturnStage.AWAITING_DROP_OFF: "Print the label, stick it on the parcel and drop it at "
        "a post office.",
        ReturnStage.AWAITING_COUNTER_DROP_OFF: "Bring the packed parcel to a post office counter.",
        ReturnStage.PICKED_UP: "The carrier has your parcel: it is on its way to the seller.",
        ReturnStage.DELIVERED: "The parcel is back with the seller.",
        ReturnStage.CANCELLED_BEFORE_SHIPMENT: "Your order is cancelled before it was shipped: "
        "there is nothing to send back.",
        ReturnStage.CANCELLED: "You cancelled this return: there is nothing to send.",
        ReturnStage.EXPIRED: "This return has ended: the parcel was not sent in time.",
        ReturnStage.CLOSED: "This return is closed by our customer service.",
    },
    "fr": {
        ReturnStage.CHECKING_ELIGIBILITY: "Nous vérifions votre rétractation. Cela prend un "
        "instant.",
        ReturnStage.REJECTED: "Votre rétractation n'a pas pu être acceptée comme retour.",
        ReturnStage.AWAITING_REVIEW: "Notre équipe examine votre rétractation : nous vous "
        "écrirons dès qu'elle sera décidée.",
        ReturnStage.AWAITING_RETURN_ADDRESS: "Votre rétractation est acceptée. Nous attendons "
        "l'adresse de retour du vendeur et vous l'enverrons par e-mail.",
        ReturnStage.AWAITING_CUSTOMER_CHOICE: "Choisissez comment renvoyer le colis au vendeur.",
        ReturnStage.PREPARING_SHIPMENT: "Le transporteur prépare ce que vous avez choisi.",
        ReturnStage.AWAITING_PICKUP: "Le retrait dans votre boîte aux lettres est réservé : "
        "déposez-y le colis le jour prévu.",
        ReturnStage.AWAITING_DROP_OFF: "Imprimez l'étiquette, collez-la sur le colis et "
        "déposez-le dans un bureau de poste.",
        ReturnStage.AWAITING_COUNTER_DROP_OFF: "Apportez le colis emballé au guichet d'un bureau "
        "de poste.",
        ReturnStage.PICKED_UP: "Le transporteur a votre colis : il est en route vers le vendeur.",
        ReturnStage.DELIVERED: "Le colis est de retour chez le vendeur.",
        ReturnStage.CANCELLED_BEFORE_SHIPMENT: "Votre commande est annulée avant son "
        "expédition : il n'y a rien à renvoyer.",
        ReturnStage.CANCELLED: "Vous avez annulé ce retour : il n'y a rien à envoyer.",
        ReturnStage.EXPIRED: "Ce retour est terminé : le colis n'a pas été envoyé à temps.",
        ReturnStage.CLOSED: "Ce retour a été clos par notre service client.",
    },
}

WORDS: dict[str, dict[str, str]] = {
    "en": {
        "lang_name": "English",
        "other_lang": "Français",
        "skip": "Skip to the content",
        "return_title": "Your return",
        "order": "Order {order_id}, {product}",
        "now": "What happens now",
        "ship_by": "Send the parcel by {day} at the latest.",
        "expires": "Without a parcel, the return ends on {day}.",
        "address": "The seller's return address",
        "address_pending": "The seller has not given their return address yet: we email it to "
        "you as soon as we have it.",
        "ways": "How to send it back",
        "free_choice": "You are free to choose the carrier and the way that suit you.",
        "choose": "Choose this",
        "change": "Choose this instead",
        "chosen": "Your choice",
        "pickup_day": "Pickup day",
        "pickup_rule": "Put the parcel in your mailbox before {time} on the pickup day: the "
        "carrier collects it in the morning, and a parcel put in later waits for another day.",
        "no_pickup_days": "{carrier} offers no pickup day before your deadline: choose another "
        "way.",
        "pickup_days_unknown": "We could not ask {carrier} for its pickup days just now: open "
        "this page again in a moment, or choose another way.",
        "book_pickup": "Book this pickup",
        "nearest": "Nearest post offices",
        "nearest_none": "We could not look up the nearest post offices just now: any {carrier} "
        "post office will do.",
        "nearest_empty": "{carrier} lists no post office near your address: any {carrier} post "
        "office will do.",
        "opening": "Opening hours",
        "label": "Your return label",
        "pickup_title": "Your mailbox pickup",
        "label_download": "Download the label (PDF)",
        "pickup_booked": "Pickup booked for {day}, before {time} (confirmation {confirmation}).",
        "pickup_passed": "The pickup booked for {day} has passed, and the carrier has not told "
        "us it has your parcel. If it was not collected, choose another day or another way.",
        "counter_code": "Your return code",
        "counter_code_help": "Show this code at the counter of a {carrier} post office: they "
        "scan it, print the label and put it on the parcel. The code works until {day}.",
        "qr_alt": "QR code of the return code {code}, for the counter to scan",
        "sent": "I have sent it",
        "sent_help": "Sent it at the counter? Enter the tracking number from your receipt.",
        "tracking_number": "Tracking number",
        "tracking_hint": "As printed on the receipt: 8 to 40 letters and digits.",
        "send_number": "Send the tracking number",
        "cancel": "Cancel this return",
        "cancel_help": "If you keep the item after all, cancel the return: whatever was booked "
        "is cancelled and nothing is refunded.",
        "cancel_confirm": "I keep the item and no longer send it back",
        "cancel_button": "Cancel the return",
        "timeline": "What has happened",
        "packing": "How to pack the device",
        "refund": "Your refund",
        "refund_requested": "Refund of {amount} requested on {day}.",
        "refund_due": "The refund is due by {day} at the latest.",
        "refund_pending": "Once the carrier has your parcel, the seller refunds you {amount}, "
        "by {day} at the latest.",
        "tracking": "Tracking number {number}",
        "done_choose_return_method": "Done: your choice is recorded.",
        "done_report_shipment": "Thank you: the tracking number is recorded.",
        "done_cancel": "Your return is cancelled.",
        "done_still_running": "Your request is accepted and still being prepared: this page shows "
        "the result in a moment.",
        "refused": "This could not be done",
        "unavailable": "The service is busy right now: nothing was changed. Please try again in "
        "a minute.",
        "not_taken": "The service is busy right now: your request may not be recorded yet. "
        "Please send it again in a minute.",
        "form_expired": "This form has expired: the page is shown again, please send it once more.",
        "link_invalid_title": "This link does not work",
        "link_invalid": "The link is incomplete or was altered. Open your return page from the "
        "last email we sent you, or contact customer service.",
        "link_expired_title": "This link has expired",
        "link_expired": "For your safety, the links in our emails work for a limited time. We "
        "can email you a new link to this return's page.",
        "send_new_link": "Email me a new link",
        "new_link_sent": "We have emailed a new link to the address of this return. It may take "
        "a minute to arrive.",
        "new_link_wait": "A new link was sent a moment ago: please check your mailbox.",
        "new_link_undeliverable": "The email address of this return cannot receive mail, so "
        "we cannot send you a new link. Please contact customer service.",
        "unknown_return": "We cannot find this return. Please contact customer service.",
        "nothing_here": "There is nothing to download here now: open your return page.",
        "scan_accepted": "The carrier has the parcel",
        "scan_pre_transit": "Label ready at the carrier",
        "scan_in_transit": "On its way",
        "scan_out_for_delivery": "Out for delivery to the seller",
        "scan_delivered": "Delivered to the seller",
        "scan_exception": "A problem with the parcel",
        "scan_returned_to_sender": "On its way back to you",
        "withdrawn": "You withdrew from the purchase",
        "label_made": "Return label made",
        "label_price": "Label: {price}",
        "withdraw_title": "Withdraw from your purchase",
        "withdraw_intro": "Under EU law you may withdraw from a purchase made online within the "
        "withdrawal period, without giving any reason. Select the items you withdraw from.",
        "withdraw_contract": "Order {order_id}, placed on {day}",
        "withdraw_button": "Withdraw from contract here",
        "withdraw_pick_one": "Select at least one item to withdraw from.",
        "withdraw_no_longer": "You can no longer withdraw from {items} here: nothing was sent. "
        "Check the items and confirm again.",
        "withdraw_none": "No item of this order can be withdrawn from here any more.",
        "withdraw_confirm_title": "Confirm your withdrawal",
        "withdraw_confirm_intro": "Check your statement, then confirm it. Your withdrawal is "
        "only sent once you confirm.",
        "withdraw_statement": "I hereby give notice that I withdraw from my contract of sale of "
        "the following goods:",
        "withdraw_name": "Name",
        "withdraw_contract_label": "Contract",
        "withdraw_email": "The acknowledgement goes to",
        "withdraw_confirm_button": "Confirm withdrawal",
        "withdraw_back": "Change the items",
        "withdraw_done_title": "Your withdrawal is received",
        "withdraw_done": "We received your withdrawal on {moment}. An acknowledgement with your "
        "statement and this date and time is on its way to {email}.",
        "withdraw_return_pages": "Each item has its return page, where you choose how to send "
        "it back:",
        "withdraw_return_ended": "a return of this item had already ended: its page says how",
        "withdraw_done_unsent": "We received your withdrawal on {moment}. We could not email its "
        "acknowledgement to {email}: this page is your record of it. Save or print it, and "
        "contact customer service to correct your email address.",
        "withdraw_expired_title": "This withdrawal link has expired",
        "withdraw_expired": "For your safety, this link works for a short while only. Open the "
        "withdrawal function again from your order on the marketplace.",
        "withdraw_reason_already_withdrawn": "You have withdrawn from this item already.",
        "withdraw_reason_return_ended": "A return of this item has ended: please contact "
        "customer service.",
        "withdraw_ordered": "ordered on {day}",
        "withdraw_delivered": "received on {day}",
        "withdraw_until": "You can withdraw from it until {day}.",
        "withdraw_others": "Items you cannot withdraw from here",
    },
    "fr": {
        "lang_name": "Français",
        "other_lang": "English",
        "skip": "Aller au contenu",
        "return_title": "Votre retour",
        "order": "Commande {order_id}, {product}",
        "now": "Où en est votre retour",
        "ship_by": "Envoyez le colis au plus tard le {day}.",
        "expires": "Sans colis, le retour prend fin le {day}.",
        "address": "L'adresse de retour du vendeur",
        "address_pending": "Le vendeur n'a pas encore donné son adresse de retour : nous vous "
        "l'envoyons par e-mail dès que nous l'avons.",
        "ways": "Comment le renvoyer",
        "free_choice": "Vous êtes libre de choisir le transporteur et la façon qui vous "
        "conviennent.",
        "choose": "Choisir",
        "change": "Choisir plutôt ceci",
        "chosen": "Votre choix",
        "pickup_day": "Jour du retrait",
        "pickup_rule": "Déposez le colis dans votre boîte aux lettres avant {time} le jour du "
        "retrait : le transporteur passe le matin, et un colis déposé plus tard attend un autre "
        "jour.",
        "no_pickup_days": "{carrier} ne propose aucun jour de retrait avant votre date limite : "
        "choisissez une autre façon.",
        "pickup_days_unknown": "Nous n'avons pas pu demander à {carrier} ses jours de retrait pour "
        "l'instant : rouvrez cette page dans un moment, ou choisissez une autre façon.",
        "book_pickup": "Réserver ce retrait",
        "nearest": "Bureaux de poste les plus proches",
        "nearest_none": "Nous n'avons pas pu chercher les bureaux de poste les plus proches pour "
        "l'instant : n'importe quel bureau de poste {carrier} convient.",
        "nearest_empty": "{carrier} n'indique aucun bureau de poste près de votre adresse : "
        "n'importe quel bureau de poste {carrier} convient.",
        "opening": "Horaires",
        "label": "Votre étiquette de retour",
        "pickup_title": "Votre retrait en boîte aux lettres",
        "label_download": "Télécharger l'étiquette (PDF)",
        "pickup_booked": "Retrait réservé le {day}, avant {time} (confirmation {confirmation}).",
        "pickup_passed": "Le retrait réservé le {day} est passé, et le transporteur ne nous a pas "
        "signalé avoir votre colis. S'il n'a pas été enlevé, choisissez un autre jour ou une autre "
        "façon.",
        "counter_code": "Votre code de retour",
        "counter_code_help": "Présentez ce code au guichet d'un bureau de poste {carrier} : il "
        "le scanne, imprime l'étiquette et la colle sur le colis. Le code est valable jusqu'au "
        "{day}.",
        "qr_alt": "QR code du code de retour {code}, à scanner au guichet",
        "sent": "Je l'ai envoyé",
        "sent_help": "Envoyé au guichet ? Indiquez le numéro de suivi de votre reçu.",
        "tracking_number": "Numéro de suivi",
        "tracking_hint": "Tel qu'imprimé sur le reçu : 8 à 40 lettres et chiffres.",
        "send_number": "Envoyer le numéro de suivi",
        "cancel": "Annuler ce retour",
        "cancel_help": "Si vous gardez finalement l'article, annulez le retour : ce qui était "
        "réservé est annulé et rien n'est remboursé.",
        "cancel_confirm": "Je garde l'article et ne le renvoie plus",
        "cancel_button": "Annuler le retour",
        "timeline": "Ce qui s'est passé",
        "packing": "Comment emballer l'appareil",
        "refund": "Votre remboursement",
        "refund_requested": "Remboursement de {amount} demandé le {day}.",
        "refund_due": "Le remboursement est dû au plus tard le {day}.",
        "refund_pending": "Dès que le transporteur a votre colis, le vendeur vous rembourse "
        "{amount}, au plus tard le {day}.",
        "tracking": "Numéro de suivi {number}",
        "done_choose_return_method": "C'est fait : votre choix est enregistré.",
        "done_report_shipment": "Merci : le numéro de suivi est enregistré.",
        "done_cancel": "Votre retour est annulé.",
        "done_still_running": "Votre demande est acceptée et en cours de préparation : cette page "
        "en montre le résultat dans un instant.",
        "refused": "Cela n'a pas pu être fait",
        "unavailable": "Le service est très sollicité en ce moment : rien n'a été modifié. "
        "Réessayez dans une minute.",
        "not_taken": "Le service est très sollicité en ce moment : votre demande n'est peut-être "
        "pas encore enregistrée. Renvoyez-la dans une minute.",
        "form_expired": "Ce formulaire a expiré : la page est affichée à nouveau, envoyez-le "
        "encore une fois.",
        "link_invalid_title": "Ce lien ne fonctionne pas",
        "link_invalid": "Le lien est incomplet ou a été modifié. Ouvrez votre page de retour "
        "depuis le dernier e-mail que nous vous avons envoyé, ou contactez le service client.",
        "link_expired_title": "Ce lien a expiré",
        "link_expired": "Pour votre sécurité, les liens de nos e-mails sont valables un temps "
        "limité. Nous pouvons vous envoyer par e-mail un nouveau lien vers la page de ce retour.",
        "send_new_link": "M'envoyer un nouveau lien",
        "new_link_sent": "Nous avons envoyé un nouveau lien à l'adresse de ce retour. Il peut "
        "mettre une minute à arriver.",
        "new_link_wait": "Un nouveau lien vient d'être envoyé : consultez votre messagerie.",
        "new_link_undeliverable": "L'adresse e-mail de ce retour ne peut pas recevoir de "
        "messages : nous ne pouvons pas vous envoyer de nouveau lien. Contactez le service client.",
        "unknown_return": "Nous ne trouvons pas ce retour. Contactez le service client.",
        "nothing_here": "Il n'y a rien à télécharger ici pour l'instant : ouvrez votre page de "
        "retour.",
        "scan_accepted": "Le transporteur a le colis",
        "scan_pre_transit": "Étiquette prête chez le transporteur",
        "scan_in_transit": "En route",
        "scan_out_for_delivery": "En cours de livraison au vendeur",
        "scan_delivered": "Livré au vendeur",
        "scan_exception": "Un problème avec le colis",
        "scan_returned_to_sender": "En route pour vous être renvoyé",
        "withdrawn": "Vous vous êtes rétracté de l'achat",
        "label_made": "Étiquette de retour créée",
        "label_price": "Étiquette : {price}",
        "withdraw_title": "Vous rétracter de votre achat",
        "withdraw_intro": "Le droit européen vous permet de vous rétracter d'un achat fait en "
        "ligne pendant le délai de rétractation, sans donner de motif. Sélectionnez les articles "
        "dont vous vous rétractez.",
        "withdraw_contract": "Commande {order_id}, passée le {day}",
        "withdraw_button": "Se rétracter du contrat ici",
        "withdraw_pick_one": "Sélectionnez au moins un article.",
        "withdraw_no_longer": "Vous ne pouvez plus vous rétracter ici de : {items}. Rien n'a été "
        "envoyé. Vérifiez les articles et confirmez à nouveau.",
        "withdraw_none": "Aucun article de cette commande ne peut plus faire l'objet d'une "
        "rétractation ici.",
        "withdraw_confirm_title": "Confirmez votre rétractation",
        "withdraw_confirm_intro": "Vérifiez votre déclaration, puis confirmez-la. Votre "
        "rétractation n'est envoyée qu'une fois confirmée.",
        "withdraw_statement": "Je vous notifie par la présente ma rétractation du contrat "
        "portant sur la vente des biens ci-dessous :",
        "withdraw_name": "Nom",
        "withdraw_contract_label": "Contrat",
        "withdraw_email": "L'accusé de réception est envoyé à",
        "withdraw_confirm_button": "Confirmer la rétractation",
        "withdraw_back": "Modifier les articles",
        "withdraw_done_title": "Votre rétractation est reçue",
        "withdraw_done": "Nous avons reçu votre rétractation le {moment}. Un accusé de réception "
        "avec votre déclaration, cette date et cette heure est envoyé à {email}.",
        "withdraw_return_pages": "Chaque article a sa page de retour, où vous choisissez comment "
        "le renvoyer :",
        "withdraw_return_ended": "un retour de cet article était déjà terminé : sa page dit "
        "comment",
        "withdraw_done_unsent": "Nous avons reçu votre rétractation le {moment}. Nous n'avons pas "
        "pu en envoyer l'accusé de réception à {email} : cette page en est la trace. "
        "Enregistrez-la ou imprimez-la, et contactez le service client pour corriger votre "
        "adresse e-mail.",
        "withdraw_expired_title": "Ce lien de rétractation a expiré",
        "withdraw_expired": "Pour votre sécurité, ce lien n'est valable que peu de temps. "
        "Ouvrez à nouveau la fonction de rétractation depuis votre commande sur la place de "
        "marché.",
        "withdraw_reason_already_withdrawn": "Vous vous êtes déjà rétracté de cet article.",
        "withdraw_reason_return_ended": "Un retour de cet article est terminé : contactez le "
        "service client.",
        "withdraw_ordered": "commandé le {day}",
        "withdraw_delivered": "reçu le {day}",
        "withdraw_until": "Vous pouvez vous en rétracter jusqu'au {day}.",
        "withdraw_others": "Articles dont vous ne pouvez pas vous rétracter ici",
    },
}


def language(requested: str | None, locale: str | None = None) -> str:
    """The page's language: the one asked for (`?lang=`), else the customer's locale's, else
    English."""
    for candidate in (requested, locale):
        if candidate:
            lang = candidate.split("-", 1)[0].lower()
            if lang in LANGUAGES:
                return lang
    return LANGUAGES[0]
