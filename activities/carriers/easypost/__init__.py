"""The EasyPost adapter: return labels, mailbox pickups and tracking through api.easypost.com."""

from activities.carriers.easypost.adapter import EASYPOST_CAPABILITIES, EasyPostCarrier
from activities.carriers.easypost.config import EasyPostConfig

__all__ = ["EASYPOST_CAPABILITIES", "EasyPostCarrier", "EasyPostConfig"]
