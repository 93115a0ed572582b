"""A model's alias lock: promote and rollback read production, then write previous and production, so two of them
running at once could leave the aliases disagreeing; the lock makes each one's read-and-write whole.

    <root>/<model>/aliases/_LOCK        {"run", "time", "token"}: created only if absent (atomic locally and on GCS)

A holder deletes the lock when done. One left by a process that died is broken by the next taker once it is
older than `STALE_SECONDS` (a promotion takes well under a second); a taker that waits longer than its timeout
gets a RegistryError naming the holder's run. Like `_CLAIM`, creation is read back for stores that ignore the
upload precondition.
"""

from __future__ import annotations

import json
import random
import secrets
import time
from contextlib import contextmanager
from datetime import datetime
from typing import Iterator

from components.lib import uri as uri_io
from components.lib.registry_records import RegistryError, dumps, iso, now

LOCK_FILE = "_LOCK"
STALE_SECONDS = 120.0
WAIT_SECONDS = 60.0


def _age_seconds(data: bytes) -> float:
    """How long ago a lock was taken (infinite for one that cannot be read: it is broken)."""
    try:
        return (now() - datetime.fromisoformat(json.loads(data)["time"])).total_seconds()
    except (ValueError, KeyError, TypeError):
        return float("inf")


def _take(lock_uri: str, mine: bytes) -> bool:
    """Try once: create the lock, or break a stale one; True when the lock is now `mine`."""
    if uri_io.create_if_absent(lock_uri, mine):
        return uri_io.read_bytes_if_exists(lock_uri) == mine
    held = uri_io.read_bytes_if_exists(lock_uri)
    if held is not None and _age_seconds(held) > STALE_SECONDS:
        uri_io.delete(lock_uri)
    return False


@contextmanager
def locked(lock_uri: str, run: str, what: str, wait_seconds: float = WAIT_SECONDS) -> Iterator[None]:
    """Hold the lock at `lock_uri` for the block; RegistryError naming `what` and the holder after `wait_seconds`."""
    mine = dumps({"run": run, "time": iso(now()), "token": secrets.token_hex(16)}).encode("utf-8")
    deadline = time.monotonic() + wait_seconds
    while not _take(lock_uri, mine):
        if time.monotonic() > deadline:
            held = uri_io.read_bytes_if_exists(lock_uri) or b"{}"
            holder = json.loads(held).get("run", "?") if held.strip() else "?"
            raise RegistryError(f"{what} are locked by run {holder!r} ({_age_seconds(held):.0f} s ago): another "
                                f"promotion or rollback is running; a lock older than {STALE_SECONDS:.0f} s "
                                f"(its holder died) is broken by the next promotion. Lock: {lock_uri}")
        time.sleep(random.uniform(0.01, 0.05))
    try:
        yield
    finally:
        if uri_io.read_bytes_if_exists(lock_uri) == mine:
            uri_io.delete(lock_uri)
