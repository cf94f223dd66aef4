"""Carriers: return labels, counter codes, mailbox pickups, tracking."""
