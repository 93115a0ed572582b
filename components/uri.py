"""Read and write URIs that are local paths or `gs://` objects, one API for both.

`gs://` goes through google-cloud-storage, which honours STORAGE_EMULATOR_HOST, so tests run
the same code against a local emulator.
"""

from __future__ import annotations

import fnmatch
import glob
import os
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # pragma: no cover - typing only
    from google.cloud import storage

GCS_PREFIX = "gs://"
_GLOB_CHARS = "*?["


def is_gcs(uri: str) -> bool:
    """True for a `gs://bucket/...` URI."""
    return uri.startswith(GCS_PREFIX)


def split_gcs(uri: str) -> tuple[str, str]:
    """Split `gs://bucket/a/b` into ("bucket", "a/b"); refuse a URI without a bucket."""
    rest = uri[len(GCS_PREFIX):]
    bucket, _, name = rest.partition("/")
    if not bucket:
        raise ValueError(f"not a gs:// URI with a bucket: {uri!r}")
    return bucket, name


@lru_cache(maxsize=1)
def gcs_client() -> "storage.Client":
    """One storage client per process; anonymous against an emulator, default credentials otherwise."""
    from google.cloud import storage

    if os.environ.get("STORAGE_EMULATOR_HOST"):
        from google.auth.credentials import AnonymousCredentials

        return storage.Client(project="loopline-emulator", credentials=AnonymousCredentials())
    return storage.Client()


def _is_data_name(name: str) -> bool:
    """Skip hidden and marker files (`.x`, `_SUCCESS`) when a folder is expanded."""
    base = name.rstrip("/").rsplit("/", 1)[-1]
    return bool(base) and not base.startswith((".", "_"))


def _expand_local(uri: str) -> list[str]:
    if any(c in uri for c in _GLOB_CHARS):
        return sorted(p for p in glob.glob(uri) if Path(p).is_file())
    path = Path(uri)
    if path.is_file():
        return [str(path)]
    if path.is_dir():
        return sorted(str(p) for p in path.rglob("*") if p.is_file() and _is_data_name(p.name))
    return []


def _expand_gcs(uri: str) -> list[str]:
    bucket_name, name = split_gcs(uri)
    client = gcs_client()
    if any(c in name for c in _GLOB_CHARS):
        cut = min(name.find(c) for c in _GLOB_CHARS if c in name)
        blobs = client.list_blobs(bucket_name, prefix=name[:cut])
        names = [b.name for b in blobs if fnmatch.fnmatchcase(b.name, name)]
    elif name and client.bucket(bucket_name).blob(name).exists():
        names = [name]
    else:
        prefix = name.rstrip("/") + "/" if name else ""
        names = [b.name for b in client.list_blobs(bucket_name, prefix=prefix)]
    return sorted(f"{GCS_PREFIX}{bucket_name}/{n}" for n in names if _is_data_name(n))


def expand(uri: str) -> list[str]:
    """The files a URI names, in name order: a file, every file under a folder, or a glob's matches."""
    return _expand_gcs(uri) if is_gcs(uri) else _expand_local(uri)


def exists(uri: str) -> bool:
    """True when the URI names an existing file or object."""
    if is_gcs(uri):
        bucket_name, name = split_gcs(uri)
        return bool(name) and gcs_client().bucket(bucket_name).blob(name).exists()
    return Path(uri).is_file()


def read_bytes(uri: str) -> bytes:
    """The whole content of a file or object."""
    if is_gcs(uri):
        bucket_name, name = split_gcs(uri)
        return gcs_client().bucket(bucket_name).blob(name).download_as_bytes()
    return Path(uri).read_bytes()


def read_text(uri: str) -> str:
    """The content of a UTF-8 text file or object."""
    return read_bytes(uri).decode("utf-8")


def write_bytes(uri: str, data: bytes) -> None:
    """Write a file or object whole: locally through a temp file and a rename, so readers never see part of it."""
    if is_gcs(uri):
        bucket_name, name = split_gcs(uri)
        gcs_client().bucket(bucket_name).blob(name).upload_from_string(data)
        return
    path = Path(uri)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    tmp.write_bytes(data)
    tmp.replace(path)


def write_text(uri: str, text: str) -> None:
    """Write UTF-8 text whole (see write_bytes)."""
    write_bytes(uri, text.encode("utf-8"))
