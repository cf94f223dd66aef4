"""Sellers: their return addresses on file, and the seller chat."""
