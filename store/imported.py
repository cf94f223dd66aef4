"""Setting aside what was copied into the store: a ledger file or a dead-letter directory of
the builds that kept them on the local disk."""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from pathlib import Path


def set_aside(path: Path, companions: Sequence[str] = ()) -> Path | None:
    """Rename `path` `*.imported`, or `*.imported-2`, ... when that name is taken: an earlier
    import's copy is never overwritten. Each of `companions` (suffixes such as SQLite's `-wal`
    and `-shm`) moves beside it under the same name, as far as it is there. The new path, or
    None when another process set `path` aside first."""
    for n in itertools.count(1):
        target = path.with_name(path.name + (".imported" if n == 1 else f".imported-{n}"))
        if any(Path(f"{target}{suffix}").exists() for suffix in ("", *companions)):
            continue
        try:
            path.rename(target)
        except FileNotFoundError:
            return None
        except OSError:
            if not target.exists():
                raise
            continue  # taken meanwhile
        break
    for suffix in companions:
        try:
            Path(f"{path}{suffix}").rename(f"{target}{suffix}")
        except FileNotFoundError:
            continue  # none, or another process moved it
    return target
