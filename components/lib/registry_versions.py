"""One model version's folder in the registry: copying a bundle in whole or not at all, and back out verified.

    <version folder>/...            the bundle's files, and registration.json (the record)
    <version folder>/_CLAIM         written first (by `Registry`): the number is taken
    <version folder>/_COMPLETE      written last: a copy of registration.json; the version is visible

A folder without `_COMPLETE` is invisible to every read, so an interrupted copy leaves nothing
visible; its files are removed and only `_CLAIM` stays, so the number is never reused. A copy out
is checked against the record's file list and sizes, and appears at its destination only whole.
Numbering and claiming are `Registry`'s; this module knows one folder at a time.
"""

from __future__ import annotations

import json
import secrets
import shutil
from pathlib import Path

from components.lib import uri as uri_io
from components.lib.registry_records import RegistryError, dumps, iso, now

REGISTRATION_FILE = "registration.json"
CLAIM_FILE = "_CLAIM"
COMPLETE_FILE = "_COMPLETE"
RESERVED_FILES = (REGISTRATION_FILE, CLAIM_FILE, COMPLETE_FILE)


def bundle_contents(bundle: Path) -> tuple[list[dict], list[str]]:
    """A bundle folder's files ({"path", "bytes"}) and folders, as "/"-separated relative names, sorted.

    RegistryError when the folder is missing, has no files, or holds a file the registry writes itself.
    """
    if not bundle.is_dir():
        raise RegistryError(f"bundle folder not found: {bundle}")
    files, dirs = [], []
    for path in sorted(bundle.rglob("*")):
        name = path.relative_to(bundle).as_posix()
        if path.is_file():
            files.append({"path": name, "bytes": path.stat().st_size})
        elif path.is_dir():
            dirs.append(name)
    if not files:
        raise RegistryError(f"bundle folder has no files: {bundle}")
    clashes = sorted(set(RESERVED_FILES) & {f["path"] for f in files})
    if clashes:
        raise RegistryError(f"bundle {bundle} holds {', '.join(clashes)}: names the registry writes itself")
    return files, dirs


def publish(bundle: Path, version_uri: str, record: dict) -> dict:
    """Copy `bundle` into a claimed version folder, then write its record, `_COMPLETE` last; return the record.

    The record (with the bundle's "dirs") is stamped with the time the copy finished. If anything
    fails, the folder's files but `_CLAIM` are removed and the failure is raised.
    """
    try:
        uri_io.upload_tree(bundle, version_uri)
        if not uri_io.is_gcs(version_uri):  # empty folders (GCS has none; download recreates them)
            for name in record["dirs"]:
                Path(version_uri, name).mkdir(parents=True, exist_ok=True)
        record = {**record, "time": iso(now())}
        text = dumps(record)
        uri_io.write_text(uri_io.join(version_uri, REGISTRATION_FILE), text)
        uri_io.write_text(uri_io.join(version_uri, COMPLETE_FILE), text)
    except BaseException:
        try:
            uri_io.delete_tree(version_uri, keep=(CLAIM_FILE,))
        except Exception:  # noqa: BLE001 - the original failure matters more; the version is invisible anyway
            pass
        raise
    return record


def read_record(version_uri: str) -> dict | None:
    """The record of a complete version, None when the folder has no `_COMPLETE` (absent or incomplete)."""
    data = uri_io.read_bytes_if_exists(uri_io.join(version_uri, COMPLETE_FILE))
    return None if data is None else json.loads(data)


def copy_out(version_uri: str, record: dict, dest: Path, label: str) -> Path:
    """Copy a complete version's files into `dest` (absent or an empty folder), checked against `record`.

    The files land in a hidden sibling first and are renamed to `dest` once every file of the record
    is there at its size; otherwise RegistryError names the version (`label`) as damaged.
    """
    dest.parent.mkdir(parents=True, exist_ok=True)
    partial = dest.with_name(f".{dest.name}.partial-{secrets.token_hex(4)}")
    try:
        uri_io.download_tree(version_uri, partial, exclude=(CLAIM_FILE, COMPLETE_FILE))
        for name in record.get("dirs", []):
            (partial / name).mkdir(parents=True, exist_ok=True)
        wrong = [f["path"] for f in record.get("files", [])
                 if not (partial / f["path"]).is_file() or (partial / f["path"]).stat().st_size != f["bytes"]]
        if wrong:
            raise RegistryError(f"{label} is damaged: missing or wrong size: {', '.join(wrong[:5])}")
        if dest.exists():
            dest.rmdir()
        partial.rename(dest)
    except BaseException:
        shutil.rmtree(partial, ignore_errors=True)
        raise
    return dest
