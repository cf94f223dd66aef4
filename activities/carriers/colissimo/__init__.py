"""Colissimo (La Poste): return labels, mailbox pickups, post offices and tracking."""

from activities.carriers.colissimo.adapter import ColissimoCarrier
from activities.carriers.colissimo.config import ColissimoConfig

__all__ = ["ColissimoCarrier", "ColissimoConfig"]
