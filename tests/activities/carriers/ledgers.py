"""A carrier ledger for an adapter under test: in an embedded store of its own."""

from __future__ import annotations

from pathlib import Path

from activities.carriers.ledger import CarrierLedger
from plumbing.settings import Settings
from store import open_store


class FileLedger(CarrierLedger):
    """The ledger of the store in `directory` (the same directory: the same ledger)."""

    def __init__(self, directory: Path) -> None:
        self.store = open_store(Settings(var_dir=directory))
        super().__init__(self.store)

    def close(self) -> None:
        self.store.close()
