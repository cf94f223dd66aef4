"""Two customers' returns, one in France and one in Ireland, with every fact a notice tells."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from domain.addresses import PostalAddress
from domain.base import Money
from domain.carriers import (
    CarrierCapability,
    CarrierOffer,
    CounterCode,
    Label,
    Pickup,
    ReturnMethod,
    TrackingScan,
    TrackingStatus,
)
from domain.events import Customer, DeviceCategory, Order, OrderStatus, Product
from domain.ids import return_id
from domain.money import refund_breakdown
from domain.notices import NoticeKind, NoticeRequest, SellerContact
from domain.returns import (
    REFUND_PERIOD,
    SHIPPING_PERIOD,
    EligibilityDecision,
    Refund,
    RejectionReason,
)
from tests.factories import charger_missing

UTC = dt.UTC
WITHDRAWN_AT = dt.datetime(2026, 11, 24, 10, 15, tzinfo=UTC)
SHIP_BY = WITHDRAWN_AT + SHIPPING_PERIOD  # 8 December 2026
REFUND_DUE_BY = WITHDRAWN_AT + REFUND_PERIOD  # 8 December 2026 too: both run from the notice
EXPIRES_AT = SHIP_BY + dt.timedelta(days=3)  # 11 December 2026
REMINDED_ON = dt.date(2026, 11, 26)  # the reminder sweep's day, before ShipBy
PICKED_UP_AT = dt.datetime(2026, 11, 27, 7, 42, tzinfo=UTC)
DELIVERED_AT = dt.datetime(2026, 11, 30, 13, 5, tzinfo=UTC)
INSPECTION_DUE_BY = DELIVERED_AT + dt.timedelta(days=7)

SANDBOX_POST = CarrierOffer(
    code="sandbox", name="Sandbox Post", capabilities=frozenset(CarrierCapability)
)
COLISSIMO = CarrierOffer(
    code="colissimo",
    name="Colissimo",
    capabilities=frozenset(
        {
            CarrierCapability.ONLINE_RETURN_LABEL,
            CarrierCapability.MAILBOX_PICKUP,
            CarrierCapability.DROP_OFF,
            CarrierCapability.TRACKING_POLLING,
        }
    ),
)


@dataclass(frozen=True)
class ReturnStory:
    """One customer's return, with every fact any of its notices may tell."""

    customer: Customer
    order: Order
    seller_address: PostalAddress
    seller: SellerContact
    tracking_number: str = "SB0012345678FR"
    counter_code: str = "RT7K-Q2XM"
    pickup_confirmation: str = "PU-88412"

    @property
    def return_id(self) -> str:
        return return_id(self.order.order_id, self.order.line_id)

    def notice(self, kind: NoticeKind, **changes: Any) -> NoticeRequest:
        """The request the workflow sends for `kind`, with only the facts that kind needs."""
        fields: dict[str, Any] = {
            "kind": kind,
            "return_id": self.return_id,
            "customer": self.customer,
            "order": self.order,
            "ship_by": SHIP_BY,
            "carriers": [SANDBOX_POST, COLISSIMO],
        }
        fields |= self._facts(kind)
        fields |= changes
        return NoticeRequest(**fields)

    def _facts(self, kind: NoticeKind) -> dict[str, Any]:
        window_ends = self.order.ordered_at + dt.timedelta(days=30)
        label = Label(
            carrier="sandbox",
            label_id="LBL-5521",
            tracking_number=self.tracking_number,
            created_at=dt.datetime(2026, 11, 25, 8, 0, tzinfo=UTC),
        )
        pickup = Pickup(
            carrier="sandbox",
            pickup_id="PU-1",
            pickup_date=dt.date(2026, 11, 27),
            deposit_before=dt.time(8, 0),
            confirmation=self.pickup_confirmation,
        )
        refund = {"refund": self.refund, "refund_due_by": REFUND_DUE_BY}
        match kind:
            case NoticeKind.ACKNOWLEDGEMENT:
                decision = EligibilityDecision(
                    accepted=True, explanation="In time.", window_ends_at=window_ends
                )
                return {"decision": decision}
            case NoticeKind.REJECTION:
                decision = EligibilityDecision(
                    accepted=False,
                    reason=RejectionReason.OUTSIDE_RETURN_WINDOW,
                    explanation="Too late.",
                    window_ends_at=window_ends,
                )
                return {"decision": decision}
            case NoticeKind.RETURN_ADDRESS:
                return {"return_address": self.seller_address, "locator_carrier": "sandbox"}
            case NoticeKind.RETURN_LABEL:
                return {"method": ReturnMethod.MAILBOX_PICKUP, "label": label, "pickup": pickup}
            case NoticeKind.COUNTER_CODE:
                code = CounterCode(
                    carrier="sandbox",
                    code=self.counter_code,
                    tracking_number=self.tracking_number,
                    expires_at=dt.datetime(2026, 12, 8, 22, 59, tzinfo=UTC),
                )
                return {"method": ReturnMethod.POST_OFFICE_COUNTER, "counter_code": code}
            case NoticeKind.PICKUP_CONFIRMED:
                return {"method": ReturnMethod.MAILBOX_PICKUP, "label": label, "scan": self.scan()}
            case NoticeKind.COUNTER_INSTRUCTIONS:
                return {
                    "method": ReturnMethod.POST_OFFICE_COUNTER,
                    "return_address": self.seller_address,
                    "locator_carrier": "sandbox",
                }
            case NoticeKind.SHIPMENT_PROBLEM:
                scan = self.scan(
                    TrackingStatus.EXCEPTION, description="No parcel in the mailbox at pickup"
                )
                return {"method": ReturnMethod.MAILBOX_PICKUP, "label": label, "scan": scan}
            case NoticeKind.REFUND_REQUESTED:
                scan = self.scan(TrackingStatus.DELIVERED, at=DELIVERED_AT)
                return {"scan": scan, **refund}
            case NoticeKind.SELLER_PARCEL_DELIVERED:
                scan = self.scan(TrackingStatus.DELIVERED, at=DELIVERED_AT)
                return {"scan": scan, "inspection_due_by": INSPECTION_DUE_BY, **refund}
            case NoticeKind.REFUND_BEFORE_RETURN:
                return refund
            case NoticeKind.PARCEL_NOT_DELIVERED:
                return {"scan": self.scan(), "attention": "parcel_lost", **refund}
            case NoticeKind.DEDUCTION_APPROVED:
                report = charger_missing()
                return {"inspection": report, **refund}
            case NoticeKind.CANCELLATION_CONFIRMED | NoticeKind.SELLER_STOP_SHIPMENT:
                return refund
            case NoticeKind.RETURN_CANCELLED:
                return {"method": ReturnMethod.MAILBOX_PICKUP, "label": label, "pickup": pickup}
            case NoticeKind.RETURN_EXPIRED | NoticeKind.SELLER_RETURN_EXPIRED:
                return {"expires_at": EXPIRES_AT}
            case NoticeKind.SHIPPING_REMINDER:
                return {
                    "method": ReturnMethod.MAILBOX_PICKUP,
                    "chosen_carrier": "sandbox",
                    "label": label,
                    "pickup": pickup,
                    "expires_at": EXPIRES_AT,
                    "reminder_day": REMINDED_ON,
                }
            case NoticeKind.SELLER_PARCEL_INBOUND:
                return {"scan": self.scan(), "return_address": self.seller_address}
            case NoticeKind.SELLER_RETURN_CANCELLED:
                return {}
            case NoticeKind.OPERATIONS_ATTENTION:
                return {
                    "attention": "carrier_credentials_refused:colissimo",
                    "detail": "401 from the label API",
                }

    @property
    def refund(self) -> Refund:
        return Refund(
            refund_id="RF-3310",
            requested_at=PICKED_UP_AT,
            amount=refund_breakdown(self.order).total,
            created=True,
        )

    def scan(
        self,
        status: TrackingStatus = TrackingStatus.ACCEPTED,
        *,
        at: dt.datetime = PICKED_UP_AT,
        description: str | None = None,
    ) -> TrackingScan:
        """A scan of this return's parcel by the sandbox carrier (the first one by default)."""
        return TrackingScan(
            carrier="sandbox",
            tracking_number=self.tracking_number,
            scan_id=f"SCN-{status}",
            status=status,
            occurred_at=at,
            location="Lyon Gerland",
            description=description,
        )


def _delivered_order(
    order_id: str,
    product: Product,
    seller_id: str,
    delivery_paid: Money,
    standard_delivery: Money | None = None,
) -> Order:
    return Order(
        order_id=order_id,
        line_id="1",
        seller_id=seller_id,
        status=OrderStatus.DELIVERED,
        ordered_at=dt.datetime(2026, 11, 1, 9, 12, tzinfo=UTC),
        shipped_at=dt.datetime(2026, 11, 2, 15, 0, tzinfo=UTC),
        delivered_at=dt.datetime(2026, 11, 4, 11, 30, tzinfo=UTC),
        product=product,
        delivery_paid=delivery_paid,
        standard_delivery=standard_delivery,
    )


def _customer_at(home: PostalAddress, customer_id: str, email: str, locale: str) -> Customer:
    return Customer(
        customer_id=customer_id, name=home.name, email=email, locale=locale, address=home
    )


def french_return() -> ReturnStory:
    """Élodie, in Lyon, sends back a refurbished iPhone to a seller in Bordeaux."""
    home = PostalAddress(
        name="Élodie Marchand",
        line1="14 rue des Tanneurs",
        postal_code="69002",
        city="Lyon",
        country_code="FR",
    )
    customer = _customer_at(home, "C-20931", "elodie.marchand@example.fr", "fr-FR")
    product = Product(
        sku="IP13-128-MID",
        title="iPhone 13 128 Go Minuit, très bon état",
        category=DeviceCategory.SMARTPHONE,
        price=Money(amount=Decimal("389.00"), currency="EUR"),
        weight_grams=450,
    )
    seller = PostalAddress(
        name="Service retours",
        company="Atelier Reconditionné SAS",
        line1="8 avenue de l'Industrie",
        line2="Bâtiment C",
        postal_code="33300",
        city="Bordeaux",
        country_code="FR",
    )
    contact = SellerContact(
        seller_id="S-4410",
        display_name="Atelier Reconditionné",
        email="retours@atelier-reconditionne.example",
        locale="fr",
    )
    # Standard delivery, paid: refunded with the device.
    order = _delivered_order("O-7731", product, "S-4410", delivery_paid=_eur("4.90"))
    return ReturnStory(customer, order, seller, contact)


def english_return() -> ReturnStory:
    """Siobhán, in Dublin, sends back a refurbished MacBook to a seller in Berlin."""
    home = PostalAddress(
        name="Siobhán Walsh",
        line1="22 Baggot Street Lower",
        postal_code="D02 X285",
        city="Dublin",
        country_code="IE",
    )
    customer = _customer_at(home, "C-88120", "siobhan.walsh@example.ie", "en")
    product = Product(
        sku="MBA-M2-256",
        title="MacBook Air M2 13-inch 256 GB, good condition",
        category=DeviceCategory.LAPTOP,
        price=Money(amount=Decimal("1149.00"), currency="EUR"),
        weight_grams=1800,
    )
    seller = PostalAddress(
        name="Returns desk",
        company="ReNew Devices GmbH",
        line1="Lagerstraße 5",
        postal_code="10115",
        city="Berlin",
        country_code="DE",
    )
    contact = SellerContact(
        seller_id="S-5520",
        display_name="ReNew Devices",
        email="returns@renew-devices.example",
        locale="en",
    )
    # Express delivery: only the standard delivery's share is refunded (Art. 13(2)).
    order = _delivered_order(
        "O-8812", product, "S-5520", delivery_paid=_eur("19.90"), standard_delivery=_eur("9.90")
    )
    return ReturnStory(customer, order, seller, contact)


def _eur(amount: str) -> Money:
    return Money(amount=Decimal(amount), currency="EUR")


def sellers_file(stories: Iterable[ReturnStory]) -> str:
    """The sellers file (`examples/sellers.json` format) with the seller of each story."""
    sellers = [
        {
            "seller_id": story.seller.seller_id,
            "display_name": story.seller.display_name,
            "return_address": story.seller_address.model_dump(mode="json", exclude_none=True),
            "email": story.seller.email,
            "locale": story.seller.locale,
        }
        for story in stories
    ]
    return json.dumps({"sellers": sellers}, ensure_ascii=False, indent=2)
