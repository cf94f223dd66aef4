"""Dead letters kept as files, one JSON document each, read once to be copied into the store.

Such a directory (`RETURNFLOW_DEAD_LETTER_DIR`, var/dead-letters by default) holds the letters of
authenticated senders as `dl-*.json`, those of unauthenticated senders as
`unauthenticated/dl-*.json`, and the dedupe index as `index/<name>` files, each holding the ID of
the letter its name points to. `read` gathers them; `store.imported.set_aside` then renames
the directory `*.imported` (`*.imported-2`, ... when that name is taken), so it is read once and
stays as it was until an operator removes it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

UNAUTHENTICATED_DIR = "unauthenticated"
INDEX_DIR = "index"

_INDEX_NAME = re.compile(r"[0-9a-f]{64}")
_LETTER_ID = re.compile(r"dl-[0-9A-Za-z-]+")


@dataclass
class Found:
    documents: list[tuple[Path, bytes]] = field(default_factory=list)
    """Each letter file with what it holds, oldest first."""
    index: list[tuple[str, str]] = field(default_factory=list)
    """Each index name with the letter ID it names."""


def read(directory: Path) -> Found | None:
    """What `directory` holds, or None when there is no such directory. A file removed
    meanwhile (another process set the directory aside) is passed over."""
    if not directory.is_dir():
        return None
    found = Found()
    paths = [*directory.glob("dl-*.json"), *(directory / UNAUTHENTICATED_DIR).glob("dl-*.json")]
    for path in sorted(paths, key=lambda p: p.name):
        try:
            found.documents.append((path, path.read_bytes()))
        except FileNotFoundError:
            continue
    index = directory / INDEX_DIR
    names = sorted(index.iterdir()) if index.is_dir() else []
    for path in names:
        if not _INDEX_NAME.fullmatch(path.name):
            continue
        try:
            letter_id = path.read_text().strip()
        except FileNotFoundError:
            continue
        if _LETTER_ID.fullmatch(letter_id):
            found.index.append((path.name, letter_id))
    return found
