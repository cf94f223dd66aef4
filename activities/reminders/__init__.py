"""Reminders: the sweep that finds unshipped returns through visibility and signals them."""
