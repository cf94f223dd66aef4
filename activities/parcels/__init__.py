"""What the returns know of each other's parcels, through visibility."""

from activities.parcels.activities import ParcelActivities

__all__ = ["ParcelActivities"]
