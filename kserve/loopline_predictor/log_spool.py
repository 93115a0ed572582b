"""A local folder holding prediction-log batches the store refused, until it takes them again.

Each batch keeps the name it will have in the store (`<model>/<day>/<file>.jsonl`) under a folder
per log URI, so a spool outlives a restart (the next predictor with the same spool and log URI
writes it), and a batch written twice (a write that failed only in its answer) overwrites itself:
every row arrives once. Files appear by rename, so a half-written batch is never read back.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from pathlib import Path
from typing import Callable


def default_spool_dir() -> Path:
    """Where batches wait when no spool folder is given: the temp folder (an emptyDir in a pod)."""
    return Path(tempfile.gettempdir()) / "loopline-prediction-log-spool"


class Spool:
    """Batches waiting for the store, oldest first, for one log URI."""

    def __init__(self, root: Path, log_uri: str) -> None:
        # One folder per log URI: a spooled batch is only ever written where it was meant to go.
        self.folder = root / hashlib.sha256(log_uri.encode()).hexdigest()[:16]
        self.folder.mkdir(parents=True, exist_ok=True)
        self.rows = sum(_lines(path) for path in self.pending())

    def put(self, name: str, text: str) -> None:
        """Keep one batch (named as in the store) until `drain` writes it."""
        target = self.folder / name
        target.parent.mkdir(parents=True, exist_ok=True)
        handle, tmp = tempfile.mkstemp(dir=target.parent, prefix=".spooling-")
        try:
            with os.fdopen(handle, "w", encoding="utf-8") as out:
                out.write(text)
            os.replace(tmp, target)
        finally:
            Path(tmp).unlink(missing_ok=True)
        self.rows += text.count("\n")

    def pending(self) -> list[Path]:
        """Spooled batches, oldest name (= time) first; never a file still being written."""
        return sorted((p for p in self.folder.rglob("*.jsonl") if not p.name.startswith(".")),
                      key=lambda p: (p.name, str(p)))

    def drain(self, write: Callable[[str, str], None]) -> int:
        """Hand every batch to `write(name, text)`, oldest first, deleting each once written; stop at the
        first failure (the store is still down) and raise it. Returns the rows written."""
        written = 0
        for path in self.pending():
            try:
                text = path.read_text(encoding="utf-8")
            except FileNotFoundError:  # another predictor sharing this spool wrote it first
                continue
            write(path.relative_to(self.folder).as_posix(), text)
            path.unlink(missing_ok=True)
            rows = text.count("\n")
            self.rows -= rows
            written += rows
        return written


def _lines(path: Path) -> int:
    """Rows in one spooled batch (one JSON object a line)."""
    with path.open("rb") as handle:
        return sum(chunk.count(b"\n") for chunk in iter(lambda: handle.read(1 << 20), b""))
