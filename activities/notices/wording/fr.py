"""The notices' data-dependent words in French."""

from __future__ import annotations

from activities.notices.wording.base import Wording
from domain.carriers import ReturnMethod
from domain.events import DeviceCategory
from domain.inspection import InspectionOutcome
from domain.notices import NoticeKind
from domain.returns import AttentionAction, AttentionReason, RejectionReason

_LABEL_BY_EMAIL = (
    "Nous créons votre étiquette prépayée en ligne et vous l'envoyons par e-mail : "
    "imprimez-la et collez-la sur le colis."
)
_PRINT_LABEL = (
    "Imprimez l'étiquette et collez-la sur le colis emballé, par-dessus toute ancienne étiquette "
    "ou code-barres."
)
_CONTACT_SUPPORT = (
    "En cas de doute, contactez le service client depuis votre page de retour : il voit cela "
    "avec le transporteur."
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
        NoticeKind.COUNTER_INSTRUCTIONS: (
            "Comment renvoyer {product} au guichet {carrier} (commande {order_id})"
        ),
        NoticeKind.SHIPMENT_PROBLEM: (
            "{carrier} signale un problème avec votre colis (commande {order_id})"
        ),
        NoticeKind.REFUND_REQUESTED: (
            "Votre remboursement pour la commande {order_id} est en cours"
        ),
        NoticeKind.CANCELLATION_CONFIRMED: "Votre commande {order_id} est annulée",
        NoticeKind.RETURN_CANCELLED: "Votre retour pour la commande {order_id} est annulé",
        NoticeKind.RETURN_EXPIRED: "Votre retour pour la commande {order_id} a pris fin",
        NoticeKind.SHIPPING_REMINDER: "Rappel : renvoyez {product} (commande {order_id})",
        NoticeKind.PARCEL_NOT_DELIVERED: (
            "Votre colis retourné n'est pas parvenu au vendeur (commande {order_id})"
        ),
        NoticeKind.REFUND_BEFORE_RETURN: (
            "Votre remboursement pour la commande {order_id} est en route"
        ),
        NoticeKind.DEDUCTION_APPROVED: (
            "Une déduction sur votre remboursement (commande {order_id})"
        ),
        NoticeKind.SELLER_STOP_SHIPMENT: (
            "N'expédiez pas la commande {order_id}, ligne {line_id} : le client s'est rétracté"
        ),
        NoticeKind.SELLER_PARCEL_INBOUND: (
            "Un colis retourné est en route : commande {order_id}, ligne {line_id}"
        ),
        NoticeKind.SELLER_PARCEL_DELIVERED: (
            "Colis retourné livré : commande {order_id}, ligne {line_id}"
        ),
        NoticeKind.SELLER_RETURN_CANCELLED: (
            "Retour annulé, aucun colis n'arrivera : commande {order_id}, ligne {line_id}"
        ),
        NoticeKind.SELLER_RETURN_EXPIRED: (
            "Retour terminé, l'article n'a pas été envoyé : commande {order_id}, ligne {line_id}"
        ),
        NoticeKind.OPERATIONS_ATTENTION: "Le retour {return_id} demande une intervention : "
        "{attention}",
    },
    accepted_return_address_subject=(
        "Votre retour est accepté : voici comment renvoyer {product} (commande {order_id})"
    ),
    replacement_label_subject="Votre nouvelle étiquette de retour prépayée, commande {order_id}",
    refund_parts="{total} ({goods} pour l'appareil et {delivery} pour sa livraison)",
    refund_less_label="{total} : {owed}, moins {label} pour l'étiquette de retour",
    label_costs={
        "customer": "Étiquette : {price}, déduits de votre remboursement.",
        "seller": "Étiquette : payée par le vendeur.",
        "free": "Étiquette : gratuite.",
    },
    own_expense={
        "customer": "Le retour est à vos frais.",
        "seller": "Le vendeur paie les étiquettes proposées ci-dessous ; une étiquette "
        "imprimée au guichet est à vos frais.",
        "free": "Les étiquettes proposées ci-dessous sont gratuites ; une étiquette imprimée au "
        "guichet est à vos frais.",
    },
    acknowledged_expense={
        "customer": "Le retour est à vos frais : le coût d'envoi du colis est à votre charge.",
        "seller": "Le vendeur paie les étiquettes de retour que nous vous proposerons ; une "
        "étiquette imprimée au guichet d'un bureau de poste est à vos frais.",
    },
    reasons={
        RejectionReason.OUTSIDE_RETURN_WINDOW: (
            "Le délai de retour de cette commande a pris fin le {window_ends}, avant que votre "
            "demande nous parvienne : nous ne pouvons donc pas l'accepter comme une rétractation."
        ),
        RejectionReason.ORDER_CANCELLED: (
            "Cette commande a déjà été annulée, il n'y a donc rien à renvoyer."
        ),
        RejectionReason.ALREADY_BEING_RETURNED: (
            "Un retour de cet article est déjà en cours : votre précédente demande est traitée, "
            "et ses e-mails vous indiquent la marche à suivre. Inutile de la renouveler."
        ),
        RejectionReason.ALREADY_RETURNED: (
            "Cet article a déjà été retourné au vendeur, il n'y a donc plus rien à renvoyer."
        ),
        RejectionReason.UNKNOWN_ORDER_STATUS: (
            "Nous n'avons pas pu vérifier cette commande automatiquement. Notre service client "
            "s'en occupe et vous contactera : votre demande est conservée à la date où vous "
            "l'avez faite."
        ),
        RejectionReason.NOT_RETURNABLE: (
            "Cet article est exclu du droit de rétractation (par exemple, un article scellé "
            "descellé après la livraison) : il ne peut donc pas être retourné à ce titre."
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
        "Dès que le transporteur a votre colis, nous vous le confirmons par e-mail. Votre "
        "remboursement suit, dans le délai légal.",
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
            _LABEL_BY_EMAIL,
            "Le jour de l'enlèvement, déposez le colis dans votre boîte aux lettres avant "
            "{deposit_before} : {carrier} le récupère sur place.",
        ),
        ReturnMethod.POST_OFFICE_DROP_OFF: (
            "Sur votre page de retour, choisissez {carrier}, dépôt dans un bureau de poste.",
            _LABEL_BY_EMAIL,
            "Déposez le colis dans n'importe quel bureau de poste {carrier} et gardez le reçu.",
        ),
        ReturnMethod.POST_OFFICE_COUNTER: (
            "Sur votre page de retour, choisissez {carrier}, au guichet du bureau de poste.",
            "Nous vous envoyons un code de retour par e-mail.",
            "Apportez le colis emballé et l'adresse du vendeur ci-dessus dans un bureau de poste "
            "{carrier} et présentez le code au guichet : l'étiquette y est imprimée pour vous.",
        ),
    },
    counter_steps_without_code=(
        "Sur votre page de retour, choisissez {carrier}, au guichet du bureau de poste.",
        "Apportez le colis emballé et l'adresse du vendeur ci-dessus dans un bureau de poste "
        "{carrier} : l'étiquette y est imprimée pour vous. Gardez le reçu.",
        "Indiquez le numéro de suivi du reçu sur votre page de retour.",
    ),
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
            _PRINT_LABEL,
            "L'enlèvement dans votre boîte aux lettres est réservé pour le {pickup_date} "
            "(numéro de confirmation {confirmation}).",
            "Déposez le colis dans votre boîte aux lettres avant {deposit_before} ce jour-là : "
            "{carrier} le récupère sur place.",
        ),
        ReturnMethod.POST_OFFICE_DROP_OFF: (
            _PRINT_LABEL,
            "Déposez le colis dans n'importe quel bureau de poste {carrier} au plus tard le "
            "{ship_by}, et gardez le reçu.",
        ),
    },
    counter_steps=(
        "Emballez l'appareil comme indiqué dans notre précédent e-mail.",
        "Apportez le colis emballé et ce code dans un bureau de poste {carrier} au plus tard "
        "le {ship_by}.",
        "Présentez le code au guichet : l'étiquette est imprimée et collée sur le colis. "
        "Gardez le reçu.",
    ),
    counter_label_steps=(
        "Emballez l'appareil comme indiqué dans notre précédent e-mail, et fermez bien le carton.",
        "Apportez le colis emballé et l'adresse du vendeur ci-dessous dans un bureau de poste "
        "{carrier} au plus tard le {ship_by}.",
        "Au guichet, donnez l'adresse du vendeur : l'étiquette est imprimée et collée sur le "
        "colis. Vous réglez l'affranchissement sur place.",
        "Gardez le reçu : il porte le numéro de suivi du colis et prouve votre envoi.",
        "Indiquez le numéro de suivi du reçu sur votre page de retour, pour que nous puissions "
        "suivre le colis jusqu'au vendeur.",
    ),
    reminder_steps={
        "choose": (
            "Choisissez comment l'envoyer sur votre page de retour : enlèvement dans votre boîte "
            "aux lettres, dépôt en bureau de poste ou guichet, avec le transporteur de votre "
            "choix.",
            "Emballez l'appareil comme indiqué dans notre e-mail avec l'adresse du vendeur, puis "
            "envoyez-le de la façon choisie.",
        ),
        ReturnMethod.MAILBOX_PICKUP: (
            "L'enlèvement dans votre boîte aux lettres est réservé pour le {pickup_date} : "
            "déposez-y le colis emballé, étiquette collée, avant {deposit_before} ce jour-là.",
            "Ce jour ne vous convient pas ? Choisissez un autre jour, ou une autre façon, sur "
            "votre page de retour.",
        ),
        ReturnMethod.POST_OFFICE_DROP_OFF: (
            _PRINT_LABEL,
            "Déposez le colis dans n'importe quel bureau de poste {carrier}, et gardez le reçu.",
        ),
        ReturnMethod.POST_OFFICE_COUNTER: (
            "Apportez le colis emballé dans un bureau de poste {carrier} et présentez votre code "
            "de retour {code} au guichet : l'étiquette y est imprimée. Gardez le reçu.",
        ),
        "pickup_today": (
            "L'enlèvement dans votre boîte aux lettres est réservé pour aujourd'hui, le "
            "{pickup_date} : le colis emballé, étiquette collée, doit y être avant "
            "{deposit_before} pour que le transporteur l'enlève.",
            "Si cette heure est passée sans que le colis y soit, réservez un autre jour, ou "
            "choisissez une autre façon, sur votre page de retour.",
        ),
        "pickup_passed": (
            "L'enlèvement dans votre boîte aux lettres réservé pour le {pickup_date} est passé, "
            "et le transporteur ne nous a pas signalé avoir votre colis.",
            "S'il n'a pas été enlevé, réservez un autre jour, ou choisissez une autre façon, sur "
            "votre page de retour.",
        ),
        "counter_without_code": (
            "Apportez le colis emballé et l'adresse du vendeur (dans notre précédent e-mail) "
            "dans un bureau de poste {carrier} : l'étiquette est imprimée au guichet.",
            "Gardez le reçu, et indiquez le numéro de suivi qu'il porte sur votre page de retour.",
        ),
    },
    problem_steps={
        "pickup_missed": (
            "Si le colis est toujours dans votre boîte aux lettres, choisissez un nouveau jour "
            "d'enlèvement sur votre page de retour (ou une autre façon de l'envoyer).",
            "Le jour venu, déposez le colis dans votre boîte aux lettres avant {deposit_before}, "
            "étiquette collée : {carrier} le récupère sur place.",
            _CONTACT_SUPPORT,
        ),
        "exception": (
            "Suivez votre colis {tracking_number} sur le site de {carrier} : il peut vous "
            "demander quelque chose, comme une précision d'adresse.",
            _CONTACT_SUPPORT,
        ),
        "returned_to_sender": (
            "{carrier} vous rapporte le colis : vous n'avez rien à faire pour le recevoir.",
            "Gardez votre reçu et le colis tel quel : ils montrent que vous avez renvoyé "
            "l'appareil.",
            "Une fois le colis reçu, contactez le service client depuis votre page de retour : "
            "il vous aide à le renvoyer.",
        ),
    },
    attention={
        AttentionReason.SELLER_ADDRESS_MISSING: (
            "Le vendeur n'a pas d'adresse de retour enregistrée et n'en a pas donné dans la "
            "messagerie vendeur, même après une relance : le client ne peut pas renvoyer le "
            "colis tant que personne ne donne l'adresse."
        ),
        AttentionReason.CARRIER_REJECTED_REQUEST: (
            "Le transporteur a refusé notre demande (étiquette, enlèvement ou code guichet) à "
            "cause des données envoyées ; le client a été invité à choisir de nouveau."
        ),
        AttentionReason.CARRIER_CREDENTIALS_REFUSED: (
            "Le transporteur {argument} a refusé nos identifiants : aucun envoi avec ce "
            "transporteur n'est possible tant que sa configuration n'est pas corrigée sur les "
            "workers."
        ),
        AttentionReason.SHIPMENT_PREPARATION_FAILED: (
            "La préparation de l'envoi (étiquette, enlèvement ou code guichet) a échoué sur une "
            "erreur inattendue."
        ),
        AttentionReason.NOTICE_UNDELIVERABLE: (
            "L'e-mail {argument} n'a pas pu être remis : le serveur de messagerie l'a refusé "
            "définitivement (ou le destinataire n'a pas d'adresse e-mail enregistrée)."
        ),
        AttentionReason.CARRIER_EXCEPTION: (
            "Le transporteur a signalé un problème avec le colis (enlèvement manqué, colis "
            "bloqué ou retour à l'expéditeur) ; le client a reçu la marche à suivre."
        ),
        AttentionReason.UNKNOWN_ORDER_STATUS: (
            "Le service des commandes a donné un statut de commande que cette version ne "
            "connaît pas : la rétractation n'a pas pu être vérifiée automatiquement ; le client "
            "a été prévenu que le service client le contactera."
        ),
        AttentionReason.CARRIER_NOT_ANSWERING: (
            "Le transporteur {argument} n'a pas répondu à temps au choix du client, trois fois "
            "de suite : il est peut-être indisponible ; le client a été invité à réessayer plus "
            "tard."
        ),
        AttentionReason.CHOICE_CHANGES_EXHAUSTED: (
            "Le client a changé de mode d'envoi plus souvent que permis : le dernier changement "
            "a été refusé ; retry le fait passer s'il est légitime."
        ),
        AttentionReason.CARRIER_POLLING_FAILED: (
            "Le transporteur refuse de dire où est le colis : il n'est plus interrogé."
        ),
        AttentionReason.REFUND_REQUEST_FAILED: (
            "Le service des commandes a refusé la demande de remboursement : le client n'est "
            "pas encore remboursé."
        ),
        AttentionReason.CARRIER_CANCELLATION_FAILED: (
            "Un enlèvement n'a pas pu être annulé, ou une étiquette annulée : à régler avec le "
            "transporteur."
        ),
        AttentionReason.CARRIER_CALL_UNANSWERED: (
            "Le retour s'est terminé avec une demande au transporteur restée sans réponse : une "
            "étiquette, un enlèvement ou un code existe peut-être chez lui ; l'historique du "
            "retour donne la clé pour le retrouver."
        ),
        AttentionReason.LATE_PARCEL: (
            "Le colis a été envoyé après l'expiration du retour (au-delà des 14 jours de la "
            "loi) : le remboursement est tout de même demandé ; le vendeur peut réclamer pour "
            "le retard."
        ),
        AttentionReason.PARCEL_LOST: (
            "Le colis est parti mais aucun scan de livraison n'est venu dans le délai de "
            "livraison : ouvrez une enquête auprès du transporteur ; le client a été prévenu."
        ),
        AttentionReason.PARCEL_RETURNED: (
            "Après son départ, le colis repart vers le client : convenez avec lui de la façon "
            "dont il parvient au vendeur (le remboursement a été demandé sur preuve "
            "d'expédition) ; le client a été prévenu."
        ),
        AttentionReason.DEDUCTION_TO_APPROVE: (
            "Le vendeur signale des biens revenus endommagés ou incomplets et demande une "
            "déduction sur le remboursement : vérifiez les preuves, puis approuvez-la ou "
            "refusez-la."
        ),
        AttentionReason.INSPECTION_DISPUTE: (
            "Le vendeur signale un appareil encore verrouillé sur le compte du client, ou qui "
            "n'est pas celui vendu : réglez-le avec les deux parties, puis clôturez le retour."
        ),
        AttentionReason.REFUND_DUE_WITHOUT_ADDRESS: (
            "La date limite de remboursement approche et le vendeur n'a toujours pas donné "
            "d'adresse de retour : donnez une adresse de repli, ou remboursez sans retour ; à la "
            "date limite, le remboursement est demandé de toute façon."
        ),
        AttentionReason.REFUNDED_NOT_RETURNED: (
            "Le retour a expiré après que le remboursement a été demandé à sa date limite : les "
            "biens sont encore chez le client ; réglez-le avec le vendeur."
        ),
        AttentionReason.CLAIM_FAILED: (
            "Le service des commandes a refusé la réclamation d'une déduction approuvée : le "
            "remboursement reste entier tant qu'elle n'est pas déposée."
        ),
    },
    unknown_attention=(
        "Code {code} : cette version n'a pas d'explication pour lui. L'historique du retour "
        "dans l'interface web montre ce qui s'est passé."
    ),
    attention_actions={
        AttentionAction.RETRY: "retry : relancer l'étape en échec (un e-mail, un envoi), une "
        "fois sa cause corrigée.",
        AttentionAction.GIVE_ADDRESS: "give_address : donner l'adresse de retour au nom du "
        "vendeur ; le client la reçoit alors par e-mail.",
        AttentionAction.OVERRIDE_ELIGIBILITY: "override_eligibility : accepter malgré tout une "
        "rétractation refusée.",
        AttentionAction.CLOSE: "close : clore le retour ici, quand il est traité en dehors de "
        "returnflow.",
        AttentionAction.REFUND_WITHOUT_RETURN: "refund_without_return : rembourser le client "
        "maintenant ; il garde les biens (le vendeur n'a pas donné d'adresse).",
        AttentionAction.APPROVE_DEDUCTION: "approve_deduction : approuver la déduction du "
        "vendeur ; le client en reçoit le motif, et elle est réclamée sur le remboursement.",
        AttentionAction.DECLINE_DEDUCTION: "decline_deduction : refuser la déduction du "
        "vendeur ; le remboursement reste entier.",
    },
    inspection_outcomes={
        InspectionOutcome.AS_SOLD: "l'appareil est revenu tel que vendu",
        InspectionOutcome.DAMAGED: (
            "l'appareil est revenu endommagé au-delà de ce que son essai nécessitait"
        ),
        InspectionOutcome.ITEMS_MISSING: "des éléments vendus avec l'appareil manquent",
        InspectionOutcome.STILL_LOCKED: "l'appareil est encore verrouillé sur votre compte",
        InspectionOutcome.DIFFERENT_DEVICE: "l'appareil renvoyé n'est pas celui vendu",
    },
)
