"""The notices' data-dependent words in English."""

from __future__ import annotations

from activities.notices.wording.base import Wording
from domain.carriers import ReturnMethod
from domain.events import DeviceCategory
from domain.inspection import InspectionOutcome
from domain.notices import NoticeKind
from domain.returns import AttentionAction, AttentionReason, RejectionReason

_LABEL_BY_EMAIL = (
    "We create your prepaid label online and email it to you: print it and stick it on the parcel."
)
_PRINT_LABEL = "Print the label and stick it on the packed parcel, over any old label or barcode."
_CONTACT_SUPPORT = (
    "If you are not sure what to do, contact customer service from your return page: they look "
    "into it with the carrier."
)

ENGLISH = Wording(
    subjects={
        NoticeKind.ACKNOWLEDGEMENT: "Your return of {product} is accepted (order {order_id})",
        NoticeKind.REJECTION: "Your return request for order {order_id}",
        NoticeKind.RETURN_ADDRESS: "How to send back {product} (order {order_id})",
        NoticeKind.RETURN_LABEL: "Your prepaid return label for order {order_id}",
        NoticeKind.COUNTER_CODE: "Your post office return code for order {order_id}",
        NoticeKind.PICKUP_CONFIRMED: "{carrier} has your parcel: order {order_id} is on its way",
        NoticeKind.COUNTER_INSTRUCTIONS: (
            "How to send back {product} at the {carrier} counter (order {order_id})"
        ),
        NoticeKind.SHIPMENT_PROBLEM: "{carrier} reported a problem with your parcel (order "
        "{order_id})",
        NoticeKind.REFUND_REQUESTED: "Your refund for order {order_id} is on its way",
        NoticeKind.CANCELLATION_CONFIRMED: "Your order {order_id} is cancelled",
        NoticeKind.RETURN_CANCELLED: "Your return for order {order_id} is cancelled",
        NoticeKind.RETURN_EXPIRED: "Your return for order {order_id} has ended",
        NoticeKind.SHIPPING_REMINDER: "Reminder: please send back {product} (order {order_id})",
        NoticeKind.PARCEL_NOT_DELIVERED: "Your returned parcel did not reach the seller (order "
        "{order_id})",
        NoticeKind.DEDUCTION_APPROVED: "A deduction from your refund for order {order_id}",
        NoticeKind.REFUND_BEFORE_RETURN: "Your refund for order {order_id} is on its way",
        NoticeKind.SELLER_STOP_SHIPMENT: "Do not ship order {order_id}, line {line_id}: the "
        "customer withdrew",
        NoticeKind.SELLER_PARCEL_INBOUND: "A returned parcel is on its way: order {order_id}, "
        "line {line_id}",
        NoticeKind.SELLER_PARCEL_DELIVERED: "Returned parcel delivered: order {order_id}, line "
        "{line_id}",
        NoticeKind.SELLER_RETURN_CANCELLED: "Return cancelled, no parcel is coming: order "
        "{order_id}, line {line_id}",
        NoticeKind.SELLER_RETURN_EXPIRED: "Return ended, the item was not sent: order "
        "{order_id}, line {line_id}",
        NoticeKind.OPERATIONS_ATTENTION: "Return {return_id} needs attention: {attention}",
    },
    accepted_return_address_subject=(
        "Your return of {product} is accepted: here is how to send it back (order {order_id})"
    ),
    replacement_label_subject="Your new prepaid return label for order {order_id}",
    refund_parts="{total} ({goods} for the device and {delivery} for its delivery)",
    refund_less_label="{total}: {owed}, less {label} for the return label",
    label_costs={
        "customer": "Label: {price}, deducted from your refund.",
        "seller": "Label: paid by the seller.",
        "free": "Label: free of charge.",
    },
    own_expense={
        "customer": "The return is at your own expense.",
        "seller": "The seller pays for the labels offered below; a label printed at the "
        "counter is at your own expense.",
        "free": "The labels offered below are free of charge; a label printed at the counter "
        "is at your own expense.",
    },
    acknowledged_expense={
        "customer": "The return is at your own expense: the cost of sending the parcel is yours.",
        "seller": "The seller pays for the return labels we will offer you; a label printed at a "
        "post office counter is at your own expense.",
    },
    reasons={
        RejectionReason.OUTSIDE_RETURN_WINDOW: (
            "The return window for this order closed on {window_ends}, before your request "
            "reached us, so we can't accept it as a withdrawal."
        ),
        RejectionReason.ORDER_CANCELLED: (
            "This order was already cancelled, so there is nothing to send back."
        ),
        RejectionReason.ALREADY_BEING_RETURNED: (
            "A return of this item is already under way: your earlier request is being handled, "
            "and its emails tell you what to do. There is no need to ask again."
        ),
        RejectionReason.ALREADY_RETURNED: (
            "This item has already been returned to the seller, so there is nothing more to send "
            "back."
        ),
        RejectionReason.UNKNOWN_ORDER_STATUS: (
            "We could not check this order automatically. Our customer service team is looking "
            "into it and will contact you: your request is kept with the date you made it."
        ),
        RejectionReason.NOT_RETURNABLE: (
            "This item is excluded from the right of withdrawal (for example, a sealed item "
            "unsealed after delivery), so it can't be returned as a withdrawal."
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
        "Once the carrier has your parcel, we confirm it by email. Your refund follows, within "
        "the legal time limit.",
    ),
    method_titles={
        ReturnMethod.MAILBOX_PICKUP: "Pickup from your mailbox",
        ReturnMethod.POST_OFFICE_DROP_OFF: "Drop-off at a post office",
        ReturnMethod.POST_OFFICE_COUNTER: "At the post office counter (no printer needed)",
    },
    method_steps={
        ReturnMethod.MAILBOX_PICKUP: (
            "On your return page, choose {carrier}, pickup from your mailbox, and the day.",
            _LABEL_BY_EMAIL,
            "On the pickup day, put the parcel in your mailbox before {deposit_before}: "
            "{carrier} collects it from there.",
        ),
        ReturnMethod.POST_OFFICE_DROP_OFF: (
            "On your return page, choose {carrier}, drop-off at a post office.",
            _LABEL_BY_EMAIL,
            "Drop the parcel at any {carrier} post office and keep the receipt.",
        ),
        ReturnMethod.POST_OFFICE_COUNTER: (
            "On your return page, choose {carrier}, at the post office counter.",
            "We email you a return code.",
            "Bring the packed parcel and the seller's address above to a {carrier} post office "
            "and show the code at the counter: they print the label for you.",
        ),
    },
    counter_steps_without_code=(
        "On your return page, choose {carrier}, at the post office counter.",
        "Bring the packed parcel and the seller's address above to a {carrier} post office: "
        "the counter prints the label for you. Keep the receipt.",
        "Enter the tracking number from the receipt on your return page.",
    ),
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
            _PRINT_LABEL,
            "Your pickup from your mailbox is booked for {pickup_date} (confirmation number "
            "{confirmation}).",
            "Put the parcel in your mailbox before {deposit_before} that day: {carrier} collects "
            "it from there.",
        ),
        ReturnMethod.POST_OFFICE_DROP_OFF: (
            _PRINT_LABEL,
            "Drop the parcel at any {carrier} post office by {ship_by} at the latest, and keep the "
            "receipt.",
        ),
    },
    counter_steps=(
        "Pack the device as described in our previous email.",
        "Bring the packed parcel and this code to a {carrier} post office by {ship_by} at the "
        "latest.",
        "Show the code at the counter: they print the label and put it on the parcel. Keep the "
        "receipt.",
    ),
    counter_label_steps=(
        "Pack the device as described in our previous email, and close the box well.",
        "Bring the packed parcel and the seller's address below to a {carrier} post office by "
        "{ship_by} at the latest.",
        "At the counter, give the seller's address: they print the label and put it on the "
        "parcel. You pay the postage there.",
        "Keep the receipt: it shows the parcel's tracking number and proves that you sent it.",
        "Enter the tracking number from the receipt on your return page, so that we can follow "
        "the parcel to the seller.",
    ),
    reminder_steps={
        "choose": (
            "Choose how to send it on your return page: pickup from your mailbox, drop-off at a "
            "post office or the post office counter, with the carrier you prefer.",
            "Pack the device as described in our email with the seller's address, then send it "
            "the way you chose.",
        ),
        ReturnMethod.MAILBOX_PICKUP: (
            "Your pickup from your mailbox is booked for {pickup_date}: put the packed parcel, "
            "with the label on it, in your mailbox before {deposit_before} that day.",
            "That day does not suit you? Choose another day, or another way, on your return page.",
        ),
        ReturnMethod.POST_OFFICE_DROP_OFF: (
            _PRINT_LABEL,
            "Drop the parcel at any {carrier} post office, and keep the receipt.",
        ),
        ReturnMethod.POST_OFFICE_COUNTER: (
            "Bring the packed parcel to a {carrier} post office and show your return code {code} "
            "at the counter: they print the label for you. Keep the receipt.",
        ),
        "pickup_today": (
            "Your pickup from your mailbox is booked for today, {pickup_date}: the packed "
            "parcel, label stuck on, must be in your mailbox by {deposit_before} for the "
            "carrier to collect it.",
            "If that time has passed and the parcel is not in, book a new day, or choose another "
            "way, on your return page.",
        ),
        "pickup_passed": (
            "The pickup from your mailbox booked for {pickup_date} has passed, and the carrier "
            "has not told us it has your parcel.",
            "If it was not collected, book a new day, or choose another way, on your return page.",
        ),
        "counter_without_code": (
            "Bring the packed parcel and the seller's address (in our earlier email) to a "
            "{carrier} post office: the counter prints the label for you.",
            "Keep the receipt, and enter the tracking number it shows on your return page.",
        ),
    },
    problem_steps={
        "pickup_missed": (
            "If the parcel is still in your mailbox, choose a new pickup day on your return page "
            "(or another way to send it).",
            "On the new day, put the parcel in your mailbox before {deposit_before}, with the "
            "label on it: {carrier} collects it from there.",
            _CONTACT_SUPPORT,
        ),
        "exception": (
            "Follow your parcel {tracking_number} on the {carrier} website: it may ask you for "
            "something, such as an address detail.",
            _CONTACT_SUPPORT,
        ),
        "returned_to_sender": (
            "{carrier} is bringing the parcel back to you: there is nothing to do to receive it.",
            "Keep your receipt and the parcel as it is: they show that you sent the device back.",
            "Once you have it, contact customer service from your return page: they help you "
            "send it again.",
        ),
    },
    attention={
        AttentionReason.SELLER_ADDRESS_MISSING: (
            "The seller has no return address on file and has not given one in the seller "
            "chat, even after a reminder: the customer cannot send the parcel back until "
            "someone gives the address."
        ),
        AttentionReason.CARRIER_REJECTED_REQUEST: (
            "The carrier refused our request (a label, a pickup or a counter code) because of "
            "the data we sent; the customer was asked to choose again."
        ),
        AttentionReason.CARRIER_CREDENTIALS_REFUSED: (
            "The carrier {argument} refused our credentials: no shipment with this carrier "
            "can be prepared until its configuration is fixed on the workers."
        ),
        AttentionReason.SHIPMENT_PREPARATION_FAILED: (
            "Preparing the shipment (a label, a pickup or a counter code) failed with an "
            "unexpected error."
        ),
        AttentionReason.NOTICE_UNDELIVERABLE: (
            "The {argument} email could not be delivered: the mail relay refused it for good "
            "(or the recipient has no email address on file)."
        ),
        AttentionReason.CARRIER_EXCEPTION: (
            "The carrier reported a problem with the parcel (a missed pickup, a held parcel or "
            "a return to sender); the customer was told what to do."
        ),
        AttentionReason.UNKNOWN_ORDER_STATUS: (
            "The order service gave an order status this version does not know, so the "
            "withdrawal could not be checked automatically; the customer was told that "
            "customer service will contact them."
        ),
        AttentionReason.CARRIER_NOT_ANSWERING: (
            "The carrier {argument} did not answer the customer's choice in time, three times "
            "in a row: it may be down; the customer was asked to try again later."
        ),
        AttentionReason.CHOICE_CHANGES_EXHAUSTED: (
            "The customer changed how to send the parcel more often than allowed: the last "
            "change was refused; retry puts it through if it is genuine."
        ),
        AttentionReason.CARRIER_POLLING_FAILED: (
            "The carrier refused to tell where the parcel is: it is not polled any more."
        ),
        AttentionReason.REFUND_REQUEST_FAILED: (
            "The order service refused the refund request: the customer is not refunded yet."
        ),
        AttentionReason.CARRIER_CANCELLATION_FAILED: (
            "A pickup could not be cancelled, or a label voided: settle it with the carrier."
        ),
        AttentionReason.CARRIER_CALL_UNANSWERED: (
            "The return ended with a carrier request left unanswered: a label, pickup or code "
            "may exist at the carrier; the return's timeline gives the key to look it up."
        ),
        AttentionReason.LATE_PARCEL: (
            "The parcel was sent after the return had expired (later than the law's 14 days): "
            "the refund is requested all the same; the seller may claim for the delay."
        ),
        AttentionReason.PARCEL_LOST: (
            "The parcel left but no delivery scan came within the delivery period: open an "
            "inquiry with the carrier; the customer was told."
        ),
        AttentionReason.PARCEL_RETURNED: (
            "After leaving, the parcel is going back to the customer: settle with them how it "
            "reaches the seller (the refund was requested on proof of dispatch); the customer "
            "was told."
        ),
        AttentionReason.DEDUCTION_TO_APPROVE: (
            "The seller reports the goods came back damaged or incomplete and asks a deduction "
            "from the refund: check the evidence, then approve or decline it."
        ),
        AttentionReason.INSPECTION_DISPUTE: (
            "The seller reports the device is still locked to the customer's account, or is "
            "not the one sold: settle it with both sides, then close the return."
        ),
        AttentionReason.REFUND_DUE_WITHOUT_ADDRESS: (
            "The refund deadline nears and the seller has still given no return address: give a "
            "fallback address, or refund without a return; at the deadline the refund is "
            "requested anyway."
        ),
        AttentionReason.REFUNDED_NOT_RETURNED: (
            "The return expired after the refund was requested at its deadline: the goods are "
            "still with the customer; settle it with the seller."
        ),
        AttentionReason.CLAIM_FAILED: (
            "The order service refused the claim of an approved deduction: the refund stands "
            "whole until it is filed."
        ),
    },
    unknown_attention=(
        "Reason code {code}: this version has no explanation for it. The return's timeline in "
        "the Web UI shows what happened."
    ),
    attention_actions={
        AttentionAction.RETRY: "retry: run the failed step again (a notice, a shipment), once "
        "its cause is fixed.",
        AttentionAction.GIVE_ADDRESS: "give_address: give the seller's return address on the "
        "seller's behalf; the customer then receives it by email.",
        AttentionAction.OVERRIDE_ELIGIBILITY: "override_eligibility: accept a rejected "
        "withdrawal anyway.",
        AttentionAction.CLOSE: "close: end the return here, when it is handled outside returnflow.",
        AttentionAction.REFUND_WITHOUT_RETURN: "refund_without_return: refund the customer now; "
        "they keep the goods (the seller gave no address).",
        AttentionAction.APPROVE_DEDUCTION: "approve_deduction: approve the seller's deduction; "
        "the customer is told why, and it is claimed from the refund.",
        AttentionAction.DECLINE_DEDUCTION: "decline_deduction: decline the seller's deduction; "
        "the refund stands whole.",
    },
    inspection_outcomes={
        InspectionOutcome.AS_SOLD: "the device came back as sold",
        InspectionOutcome.DAMAGED: "the device came back damaged beyond what testing it needed",
        InspectionOutcome.ITEMS_MISSING: "items sold with the device are missing",
        InspectionOutcome.STILL_LOCKED: "the device is still locked to your account",
        InspectionOutcome.DIFFERENT_DEVICE: "the device sent back is not the one sold",
    },
)
