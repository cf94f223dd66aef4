"""Two customers' returns, one in France and one in Ireland, with every fact a notice tells."""

from __future__ import annotations

import datetime as dt
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
from domain.notices import NoticeKind, NoticeRequest
from domain.returns import SHIPPING_PERIOD, EligibilityDecision, RejectionReason

UTC = dt.UTC
WITHDRAWN_AT = dt.datetime(2026, 11, 24, 10, 15, tzinfo=UTC)
SHIP_BY = WITHDRAWN_AT + SHIPPING_PERIOD  # 8 December 2026

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
                return {"return_address": self.seller_address}
            case NoticeKind.RETURN_LABEL:
                pickup = Pickup(
                    carrier="sandbox",
                    pickup_id="PU-1",
                    pickup_date=dt.date(2026, 11, 27),
                    deposit_before=dt.time(8, 0),
                    confirmation=self.pickup_confirmation,
                )
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
                scan = TrackingScan(
                    carrier="sandbox",
                    tracking_number=self.tracking_number,
                    scan_id="SCN-1",
                    status=TrackingStatus.ACCEPTED,
                    occurred_at=dt.datetime(2026, 11, 27, 7, 42, tzinfo=UTC),
                    location="Lyon Gerland",
                )
                return {"method": ReturnMethod.MAILBOX_PICKUP, "label": label, "scan": scan}


def _delivered_order(order_id: str, product: Product) -> Order:
    return Order(
        order_id=order_id,
        line_id="1",
        seller_id="S-4410",
        status=OrderStatus.DELIVERED,
        ordered_at=dt.datetime(2026, 11, 1, 9, 12, tzinfo=UTC),
        shipped_at=dt.datetime(2026, 11, 2, 15, 0, tzinfo=UTC),
        delivered_at=dt.datetime(2026, 11, 4, 11, 30, tzinfo=UTC),
        product=product,
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
    return ReturnStory(customer, _delivered_order("O-7731", product), seller)


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
    return ReturnStory(customer, _delivered_order("O-8812", product), seller)
