"""Sellers: their return addresses (and, later, the seller chat)."""
