"""The model registry's audit log: one JSON file per lifecycle event, appended, never rewritten.

    <root>/<model>/audit/<UTC time>-<hex>.json      {"model", "event", "version", "time", "run", "reason", "details"}

Each event is created only if its file is absent (atomic locally and on GCS), so concurrent writers
never overwrite one another. Events read back oldest first: by their time stamp (strictly
increasing within a process, `registry_records.now`), then by file name. `Registry.record` and
`Registry.events` are the public way in; this module knows only the folder and the files.
"""

from __future__ import annotations

import json
import secrets
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable

from components.lib import uri as uri_io
from components.lib.registry_records import RegistryError, check_json, dumps, iso, now

AUDIT_DIR = "audit"

REGISTERED = "registered"
EVALUATED = "evaluated"
APPROVED = "approved"
REJECTED = "rejected"
PROMOTED = "promoted"
DEPLOYED = "deployed"
ROLLED_BACK = "rolled_back"
SKIPPED = "skipped"
RETRAIN_TRIGGERED = "retrain_triggered"
RETRAIN_SKIPPED = "retrain_skipped"
PENDING_APPROVAL = "pending_approval"  # passed every gate; waits for a person (approval "manual")
APPROVAL_GRANTED = "approval_granted"  # a person approved it (details: "by")
APPROVAL_REJECTED = "approval_rejected"  # a person rejected it (details: "by")
MONITORED = "monitored"  # one monitoring window of the served version and its decision
EVENTS = (REGISTERED, EVALUATED, APPROVED, REJECTED, PROMOTED, DEPLOYED, ROLLED_BACK, SKIPPED, RETRAIN_TRIGGERED,
          RETRAIN_SKIPPED, PENDING_APPROVAL, APPROVAL_GRANTED, APPROVAL_REJECTED, MONITORED)

_APPEND_ATTEMPTS = 10

# Runs a function over items, each one storage request, and returns the results in order.
Mapper = Callable[[Callable[[Any], Any], Iterable[Any]], list[Any]]


@dataclass(frozen=True)
class Event:
    """One lifecycle event of the audit log."""

    model: str
    event: str
    version: int | None
    time: str
    run: str
    reason: str
    details: dict = field(default_factory=dict, hash=False)


def append_event(folder: str, model: str, event: str, version: int | None, run: str, reason: str,
                 details: dict) -> Event:
    """Write one event as a new file under `folder` (a model's audit folder) and return it."""
    check_json(details, "event details")
    moment = now()
    entry = Event(model=model, event=event, version=version, time=iso(moment), run=run, reason=reason,
                  details=details)
    data = dumps({"model": model, "event": event, "version": version, "time": entry.time, "run": run,
                  "reason": reason, "details": details}).encode("utf-8")
    for _ in range(_APPEND_ATTEMPTS):
        name = f"{moment.strftime('%Y%m%dT%H%M%S.%fZ')}-{secrets.token_hex(4)}.json"
        if uri_io.create_if_absent(uri_io.join(folder, name), data):
            return entry
    raise RegistryError(f"could not append an event under {folder}")


def read_events(folder: str, model: str, map_reads: Mapper) -> list[Event]:
    """The events under `folder`, oldest first; `map_reads` reads the files (in parallel on gs://)."""
    names = [n for n in uri_io.list_files(folder) if n.endswith(".json") and not n.startswith(".")]
    datas = map_reads(lambda n: uri_io.read_bytes_if_exists(uri_io.join(folder, n)), names)
    found = []
    for name, data in zip(names, datas):
        if data is None:
            continue
        raw = json.loads(data)
        found.append((raw["time"], name, Event(model=raw.get("model", model), event=raw["event"],
                                               version=raw.get("version"), time=raw["time"],
                                               run=raw.get("run", ""), reason=raw.get("reason", ""),
                                               details=raw.get("details") or {})))
    return [entry for _, _, entry in sorted(found, key=lambda item: item[:2])]
