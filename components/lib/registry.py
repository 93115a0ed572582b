"""A storage-backed model registry: immutable numbered versions, aliases and an append-only audit log.

The root is a local folder or a `gs://bucket/prefix`; per model name:

    <root>/<model>/versions/<n>/...                 the bundle's files, copied in, and registration.json
    <root>/<model>/versions/<n>/_CLAIM              written first: n is taken, never to be reused
    <root>/<model>/versions/<n>/_COMPLETE           written last: the version is visible (a copy of registration.json)
    <root>/<model>/aliases/<alias>.json             {"version", "time", "run", "reason"}
    <root>/<model>/audit/<UTC time>-<hex>.json      one lifecycle event per file, never rewritten

A version without `_COMPLETE` is invisible to every read, so an interrupted registration leaves
nothing visible (`registry_versions` copies a version in and out). Claiming n is atomic: locally
`os.mkdir` of `versions/<n>`; on gs:// creating `_CLAIM` with `if_generation_match=0`, which GCS
enforces; the claim is also read back, for stores that ignore the precondition (gcp-storage-emulator
does, unless started as the tests start it: tests/support/gcs_emulator.py).

Aliases: `production` and `previous`. `production.json` also holds "history", the versions that
were production before it, newest first, minus versions rolled back from: promote pushes the old
production onto it, rollback pops it, so rolling back twice goes two promotions back (never back to
the version just rolled back from) and fails clearly when nothing is left. `previous.json` mirrors
the head of that history. A promotion or rollback holds the model's alias lock (`registry_lock`)
from reading production to appending its event, so racing ones take turns and the aliases and
the audit log agree afterwards.

The audit log's files are `registry_audit`'s; names, JSON and time stamps follow `registry_records`.
Nothing here imports TensorFlow or kfp: the serving environment uses the registry too.
"""

from __future__ import annotations

import json
import secrets
from concurrent.futures import ThreadPoolExecutor
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable, NoReturn, TypeVar

from components.lib import registry_audit as audit
from components.lib import uri as uri_io
from components.lib.registry_lock import LOCK_FILE, locked
from components.lib.registry_records import (
    NAME_PATTERN,
    RegistryError,
    check_json,
    check_name,
    check_number,
    dumps,
    iso,
    now,
    require_reason,
)
from components.lib.registry_versions import CLAIM_FILE, bundle_contents, copy_out, publish, read_record

VERSIONS_DIR = "versions"
ALIASES_DIR = "aliases"

PRODUCTION = "production"
PREVIOUS = "previous"

_MAX_CLAIM_ATTEMPTS = 1000
_GCS_READERS = 8

T = TypeVar("T")


@dataclass(frozen=True)
class Version:
    """One complete, immutable registered version of a model."""

    model: str
    number: int
    uri: str
    time: str
    run: str
    info: dict = field(default_factory=dict, hash=False)


class Registry:
    """Model versions, aliases and audit events under one root URI (a local folder or gs://bucket/prefix)."""

    def __init__(self, root: str) -> None:
        """Use `root` (local paths are made absolute; nothing is created until the first write)."""
        root = str(root)
        if not root:
            raise RegistryError("the registry root is empty: give a local folder or gs://bucket/prefix")
        if uri_io.is_gcs(root):
            try:
                uri_io.split_gcs(root)
            except ValueError as exc:
                raise RegistryError(f"invalid registry root: {exc}") from exc
            self.root = root.rstrip("/")
        else:
            self.root = str(Path(root).resolve())

    def __repr__(self) -> str:
        return f"Registry({self.root!r})"

    # --- layout -------------------------------------------------------------------------------

    def _model_uri(self, model: str) -> str:
        return uri_io.join(self.root, check_name(model, "model"))

    def version_uri(self, model: str, number: int) -> str:
        """Where version `number` of `model` lives (whether or not it is complete)."""
        return uri_io.join(self._model_uri(model), VERSIONS_DIR, str(number))

    def _alias_uri(self, model: str, name: str) -> str:
        return uri_io.join(self._model_uri(model), ALIASES_DIR, f"{check_name(name, 'alias')}.json")

    def _audit_uri(self, model: str) -> str:
        return uri_io.join(self._model_uri(model), audit.AUDIT_DIR)

    def _map(self, func: Callable[[Any], T], items: Iterable[Any]) -> list[T]:
        """`func` over items: in parallel on gs:// (one request each), in order either way."""
        items = list(items)
        if uri_io.is_gcs(self.root) and len(items) > 1:
            with ThreadPoolExecutor(max_workers=min(_GCS_READERS, len(items))) as pool:
                return list(pool.map(func, items))
        return [func(item) for item in items]

    # --- versions -----------------------------------------------------------------------------

    def register(self, model: str, bundle_dir: Path, run: str, info: dict) -> Version:
        """Copy a bundle folder in as the model's next version and publish it; records `registered`.

        The copy, then registration.json, then `_COMPLETE` (last). If anything fails, the version
        stays invisible, its copied files are removed and its number is never reused.
        """
        model_uri = self._model_uri(model)
        bundle = Path(bundle_dir)
        files, dirs = bundle_contents(bundle)
        check_json(info, "info")

        number = self._claim(model_uri, run)
        version_uri = uri_io.join(model_uri, VERSIONS_DIR, str(number))
        record = publish(bundle, version_uri, {"model": model, "version": number, "run": run, "info": info,
                                               "files": files, "dirs": dirs})
        self._append(model, audit.REGISTERED, number, run, "new version",
                     {"files": len(files), "bytes": sum(f["bytes"] for f in files)})
        return self._version_from(record, version_uri)

    def _claimed_numbers(self, model_uri: str) -> list[int]:
        names = uri_io.list_dirs(uri_io.join(model_uri, VERSIONS_DIR))
        return sorted(int(n) for n in names if n.isdigit() and str(int(n)) == n and int(n) > 0)

    def _claim(self, model_uri: str, run: str) -> int:
        """Take the next free version number, atomically; a taken number (complete or not) is skipped."""
        number = max(self._claimed_numbers(model_uri), default=0) + 1
        for _ in range(_MAX_CLAIM_ATTEMPTS):
            version_uri = uri_io.join(model_uri, VERSIONS_DIR, str(number))
            claim = dumps({"version": number, "run": run, "time": iso(now()), "token": secrets.token_hex(16)})
            if self._try_claim(version_uri, claim.encode("utf-8")):
                return number
            number += 1
        raise RegistryError(f"could not claim a version number under {model_uri} after {_MAX_CLAIM_ATTEMPTS} tries")

    def _try_claim(self, version_uri: str, claim: bytes) -> bool:
        claim_uri = uri_io.join(version_uri, CLAIM_FILE)
        if uri_io.is_gcs(version_uri):
            # Atomic on GCS; read back for stores that ignore the precondition (the emulator).
            return uri_io.create_if_absent(claim_uri, claim) and uri_io.read_bytes_if_exists(claim_uri) == claim
        folder = Path(version_uri)
        folder.parent.mkdir(parents=True, exist_ok=True)
        try:
            folder.mkdir()
        except FileExistsError:
            return False
        uri_io.write_bytes(claim_uri, claim)
        return True

    def _read_record(self, model: str, number: int) -> dict | None:
        return read_record(self.version_uri(model, number))

    def _version_from(self, record: dict, version_uri: str) -> Version:
        return Version(model=record["model"], number=record["version"], uri=version_uri,
                       time=record["time"], run=record["run"], info=record.get("info", {}))

    def versions(self, model: str) -> list[Version]:
        """The model's complete versions, oldest first ([] for an unknown model)."""
        numbers = self._claimed_numbers(self._model_uri(model))
        records = self._map(lambda n: self._read_record(model, n), numbers)
        return [self._version_from(r, self.version_uri(model, n)) for n, r in zip(numbers, records) if r]

    def registration(self, model: str, number: int) -> dict:
        """The stored registration record of a complete version (version, time, run, info, files)."""
        record = self._read_record(model, check_number(model, number))
        if record is None:
            self._missing(model, number)
        return record

    def version(self, model: str, number: int) -> Version:
        """One complete version; RegistryError naming model and number if it is absent or incomplete."""
        record = self.registration(model, number)
        return self._version_from(record, self.version_uri(model, number))

    def _missing(self, model: str, number: int) -> NoReturn:
        if number in self._claimed_numbers(self._model_uri(model)):
            raise RegistryError(f"version {number} of model {model!r} is incomplete (its registration never "
                                f"finished) and is not usable; registry {self.root}")
        known = [v.number for v in self.versions(model)]
        have = f"its versions: {', '.join(map(str, known))}" if known else "it has no versions"
        raise RegistryError(f"model {model!r} has no version {number} ({have}); registry {self.root}")

    def models(self) -> list[str]:
        """Names of the models that have a versions folder under the root, sorted."""
        names = [n for n in uri_io.list_dirs(self.root) if NAME_PATTERN.match(n)]
        flags = self._map(lambda n: VERSIONS_DIR in uri_io.list_dirs(uri_io.join(self.root, n)), names)
        return [n for n, ok in zip(names, flags) if ok]

    def download(self, model: str, number: int, dest: Path) -> Path:
        """Copy a complete version's files (bundle and registration.json) into a new or empty local folder."""
        record = self.registration(model, number)
        dest = Path(dest)
        if dest.exists() and (not dest.is_dir() or any(dest.iterdir())):
            raise RegistryError(f"download destination exists and is not an empty folder: {dest}")
        return copy_out(self.version_uri(model, number), record, dest, f"version {number} of model {model!r}")

    # --- aliases ------------------------------------------------------------------------------

    def _read_alias(self, model: str, name: str) -> dict | None:
        data = uri_io.read_bytes_if_exists(self._alias_uri(model, name))
        return None if data is None else json.loads(data)

    def aliases(self, model: str) -> dict[str, dict]:
        """The model's aliases: name -> stored record ({"version", "time", "run", "reason", ...})."""
        folder = uri_io.join(self._model_uri(model), ALIASES_DIR)
        names = [f[:-len(".json")] for f in uri_io.list_files(folder)
                 if f.endswith(".json") and NAME_PATTERN.match(f[:-len(".json")])]
        records = self._map(lambda n: self._read_alias(model, n), names)
        return {n: r for n, r in zip(names, records) if r is not None}

    def alias(self, model: str, name: str) -> Version | None:
        """The version an alias points at, or None when the alias is not set."""
        record = self._read_alias(model, name)
        return None if record is None else self.version(model, record["version"])

    def _alias_lock(self, model: str, run: str) -> AbstractContextManager[None]:
        """The model's alias lock, held by `run` for one promotion or rollback."""
        return locked(uri_io.join(self._model_uri(model), ALIASES_DIR, LOCK_FILE), run,
                      f"the aliases of model {model!r}")

    def _set_alias(self, model: str, name: str, record: dict | None) -> None:
        if record is None:
            uri_io.delete(self._alias_uri(model, name))
        else:
            uri_io.write_text(self._alias_uri(model, name), dumps(record))

    def promote(self, model: str, number: int, run: str, reason: str) -> None:
        """Make version `number` production; the old production becomes previous. Records `promoted`."""
        require_reason(reason, "promote")
        self.version(model, number)
        with self._alias_lock(model, run):
            self._promote(model, number, run, reason)

    def _promote(self, model: str, number: int, run: str, reason: str) -> None:
        current = self._read_alias(model, PRODUCTION)
        if current is not None and current["version"] == number:
            self._append(model, audit.PROMOTED, number, run, reason, {"previous": None, "unchanged": True})
            return
        history = [] if current is None else [current["version"], *current.get("history", [])]
        history = list(dict.fromkeys(v for v in history if v != number))
        stamp = {"time": iso(now()), "run": run, "reason": reason}
        self._set_alias(model, PREVIOUS, {"version": history[0], **stamp} if history else None)
        self._set_alias(model, PRODUCTION, {"version": number, **stamp, "history": history})
        self._append(model, audit.PROMOTED, number, run, reason, {"previous": history[0] if history else None})

    def rollback(self, model: str, run: str, reason: str) -> Version:
        """Make the previous production version production again and return it. Records `rolled_back`.

        The version rolled back from leaves the history; the one before the restored version
        becomes previous, so a second rollback goes one more promotion back, never ping-pongs.
        """
        require_reason(reason, "rollback")
        with self._alias_lock(model, run):
            return self._rollback(model, run, reason)

    def _rollback(self, model: str, run: str, reason: str) -> Version:
        current = self._read_alias(model, PRODUCTION)
        if current is None:
            raise RegistryError(f"model {model!r} has no production version to roll back from; registry {self.root}")
        history = [v for v in current.get("history", []) if v != current["version"]]
        if not history:
            raise RegistryError(f"model {model!r} has no previous version to roll back to (production is version "
                                f"{current['version']}); promote a version instead")
        target = self.version(model, history[0])
        rest = history[1:]
        stamp = {"time": iso(now()), "run": run, "reason": reason}
        self._set_alias(model, PREVIOUS, {"version": rest[0], **stamp} if rest else None)
        self._set_alias(model, PRODUCTION, {"version": target.number, **stamp, "history": rest,
                                            "rolled_back_from": current["version"]})
        self._append(model, audit.ROLLED_BACK, target.number, run, reason,
                     {"from": current["version"], "previous": rest[0] if rest else None})
        return target

    # --- audit log ----------------------------------------------------------------------------

    def record(self, model: str, event: str, version: int | None, run: str, reason: str,
               details: dict | None = None) -> audit.Event:
        """Append one lifecycle event (one of audit.EVENTS) about a complete version, or about the model (None)."""
        if event not in audit.EVENTS:
            raise RegistryError(f"unknown event {event!r}: use one of {', '.join(audit.EVENTS)}")
        if version is not None:
            self.version(model, version)
        else:
            self._model_uri(model)
        return self._append(model, event, version, run, reason, details or {})

    def _append(self, model: str, event: str, version: int | None, run: str, reason: str,
                details: dict) -> audit.Event:
        return audit.append_event(self._audit_uri(model), model, event, version, run, reason, details)

    def events(self, model: str) -> list[audit.Event]:
        """The model's audit events, oldest first."""
        return audit.read_events(self._audit_uri(model), model, self._map)
