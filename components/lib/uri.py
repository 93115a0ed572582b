"""Read and write URIs that are local paths or `gs://` objects, one API for both.

`gs://` goes through google-cloud-storage (components/lib/gcs.py), which honours
STORAGE_EMULATOR_HOST, so tests run the same code against a local emulator. Google's errors (a
missing bucket, refused credentials, an unreachable service) leave this module as StorageError
naming the URI; local file system errors stay OSError.
"""

from __future__ import annotations

import fnmatch
import glob
import os
import shutil
from pathlib import Path

from components.lib.gcs import (
    GCS_PREFIX,
    check_bucket,
    gcs_client,
    gcs_object,
    gcs_prefix,
    gcs_retry,
    is_gcs,
    split_gcs,
    storage_errors,
)

_GLOB_CHARS = "*?["
def absolute(uri: str) -> str:
    """A local path made absolute (it is handed to other processes); gs:// URIs and "" as given."""
    return uri if not uri or is_gcs(uri) else str(Path(uri).resolve())


def _is_data_name(name: str) -> bool:
    """Skip hidden and marker files (`.x`, `_SUCCESS`) and folder objects (`a/`) when a folder or glob is expanded."""
    base = name.rsplit("/", 1)[-1]
    return bool(base) and not base.startswith((".", "_"))


def _glob_match(name: str, pattern: str) -> bool:
    """Whether an object name matches a glob as a local path does: by segment, `.x` only where the pattern has `.`."""
    names, patterns = name.split("/"), pattern.split("/")
    return len(names) == len(patterns) and all(
        fnmatch.fnmatchcase(n, p) and (p.startswith(".") or not n.startswith(".")) for n, p in zip(names, patterns))


def _expand_local(uri: str) -> list[str]:
    if any(c in uri for c in _GLOB_CHARS):
        return sorted(p for p in glob.glob(uri) if Path(p).is_file() and _is_data_name(p))
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
        blobs = client.list_blobs(bucket_name, prefix=name[:cut], retry=gcs_retry())
        names = [b.name for b in blobs if _glob_match(b.name, name) and _is_data_name(b.name)]
    elif name and not name.endswith("/") and client.bucket(bucket_name).blob(name).exists(retry=gcs_retry()):
        names = [name]
    else:
        prefix = name.rstrip("/") + "/" if name else ""
        blobs = client.list_blobs(bucket_name, prefix=prefix, retry=gcs_retry())
        names = [b.name for b in blobs if _is_data_name(b.name)]
    return sorted(f"{GCS_PREFIX}{bucket_name}/{n}" for n in names)


@storage_errors
def expand(uri: str) -> list[str]:
    """The files a URI names, in name order: that file (any name), a folder's data files at any depth, or a glob's."""
    return _expand_gcs(uri) if is_gcs(uri) else _expand_local(uri)


@storage_errors
def exists(uri: str) -> bool:
    """True when the URI names an existing file or object."""
    if is_gcs(uri):
        blob = gcs_object(uri)
        if not (found := bool(blob.name) and blob.exists(retry=gcs_retry())):
            check_bucket(blob, uri)
        return found
    return Path(uri).is_file()


@storage_errors
def read_bytes(uri: str) -> bytes:
    """The whole content of a file or object."""
    return gcs_object(uri).download_as_bytes(retry=gcs_retry()) if is_gcs(uri) else Path(uri).read_bytes()


def read_text(uri: str) -> str:
    """The content of a UTF-8 text file or object."""
    return read_bytes(uri).decode("utf-8")


@storage_errors
def write_bytes(uri: str, data: bytes, attempt_timeout: float | None = None) -> None:
    """Write a file or object whole: locally through a temp file and a rename, so readers never see part of it.

    gs://: with Google's retries (for LOOPLINE_GCS_RETRY_SECONDS, 120 s when unset) by default; with
    `attempt_timeout`, one attempt bounded by it, for callers that retry (and fall back) themselves.
    """
    if is_gcs(uri):
        if attempt_timeout is None:
            gcs_object(uri).upload_from_string(data, retry=gcs_retry(conditional=True))
        else:
            gcs_object(uri).upload_from_string(data, retry=None, timeout=attempt_timeout)
        return
    tmp = _write_temp(Path(uri), data)
    try:
        tmp.replace(uri)
    finally:
        tmp.unlink(missing_ok=True)  # still there only if the rename failed


def write_text(uri: str, text: str, attempt_timeout: float | None = None) -> None:
    """Write UTF-8 text whole (see write_bytes)."""
    write_bytes(uri, text.encode("utf-8"), attempt_timeout)


# --- folders and trees (added for the model registry) ------------------------------------------


def join(base: str, *parts: str) -> str:
    """`base/part/...` for a local path or a gs:// URI (joined with "/"), each part under the base even if "/"-led."""
    parts = tuple(p.strip("/") for p in parts)
    return "/".join([base.rstrip("/"), *parts]) if is_gcs(base) else str(Path(base, *parts))


def _write_temp(path: Path, data: bytes) -> Path:
    """`data` in a temp file beside `path`, named afresh per call so writers never share one; none left on failure."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}-{os.urandom(4).hex()}")
    try:
        tmp.write_bytes(data)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return tmp


@storage_errors
def read_bytes_if_exists(uri: str) -> bytes | None:
    """The content of a file or object, or None when there is none (a folder is none, as for exists())."""
    if is_gcs(uri):
        from google.api_core.exceptions import NotFound

        blob = gcs_object(uri)
        try:
            return blob.download_as_bytes(retry=gcs_retry())
        except NotFound:
            check_bucket(blob, uri)
            return None
    try:
        return Path(uri).read_bytes()
    except (FileNotFoundError, NotADirectoryError, IsADirectoryError):
        return None


@storage_errors
def create_if_absent(uri: str, data: bytes) -> bool:
    """Create a file or object whole, only if it does not exist yet; False (and nothing written) if it does.

    Locally atomic (a temp file hard-linked into place). On gs:// an upload with
    `if_generation_match=0`, which GCS makes atomic; a store that ignores that precondition
    (gcp-storage-emulator does) gets only the existence check made just before.
    """
    if is_gcs(uri):
        from google.api_core.exceptions import PreconditionFailed

        blob = gcs_object(uri)
        if blob.exists(retry=gcs_retry()):
            return False
        try:
            blob.upload_from_string(data, if_generation_match=0, retry=gcs_retry(conditional=True))
        except PreconditionFailed:
            return False
        return True
    path = Path(uri)
    tmp = _write_temp(path, data)
    try:
        os.link(tmp, path)
    except FileExistsError:
        return False
    except OSError:  # a filesystem without hard links: exclusive create (a reader may see it half written)
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
        except FileExistsError:
            return False
        with os.fdopen(fd, "wb") as out:
            out.write(data)
    finally:
        tmp.unlink()
    return True


@storage_errors
def list_dirs(uri: str) -> list[str]:
    """Names of the immediate subfolders of a folder (gs://: of the "/"-delimited prefixes), sorted; [] if none."""
    if is_gcs(uri):
        bucket_name, prefix = gcs_prefix(uri)
        blobs = gcs_client().list_blobs(bucket_name, prefix=prefix, delimiter="/", retry=gcs_retry())
        for _ in blobs:  # prefixes fill in as the pages are read
            pass
        return sorted(p[len(prefix):].rstrip("/") for p in blobs.prefixes)
    path = Path(uri)
    return sorted(p.name for p in path.iterdir() if p.is_dir()) if path.is_dir() else []


@storage_errors
def list_files(uri: str, recursive: bool = False) -> list[str]:
    """Every file under a folder (markers and hidden files too), as "/"-separated names relative to it, sorted."""
    if is_gcs(uri):
        bucket_name, prefix = gcs_prefix(uri)
        blobs = gcs_client().list_blobs(bucket_name, prefix=prefix, delimiter=None if recursive else "/",
                                         retry=gcs_retry())
        return sorted(b.name[len(prefix):] for b in blobs if not b.name.endswith("/"))
    path = Path(uri)
    if not path.is_dir():
        return []
    found = path.rglob("*") if recursive else path.iterdir()
    return sorted(p.relative_to(path).as_posix() for p in found if p.is_file())


@storage_errors
def delete(uri: str) -> None:
    """Delete one file or object; nothing to do if it is absent."""
    if is_gcs(uri):
        from google.api_core.exceptions import NotFound

        blob = gcs_object(uri)
        try:
            blob.delete(retry=gcs_retry())
        except NotFound:
            check_bucket(blob, uri)
        return
    Path(uri).unlink(missing_ok=True)


@storage_errors
def delete_tree(uri: str, keep: tuple[str, ...] = ()) -> None:
    """Delete everything under a folder except the top-level entries named in `keep`."""
    if is_gcs(uri):
        for name in list_files(uri, recursive=True):
            if name.split("/", 1)[0] not in keep:
                delete(join(uri, name))
        return
    path = Path(uri)
    if not path.is_dir():
        return
    for child in path.iterdir():
        if child.name in keep:
            continue
        if child.is_dir() and not child.is_symlink():
            shutil.rmtree(child)
        else:
            child.unlink()


@storage_errors
def upload_file(path: Path, uri: str) -> None:
    """Copy one local file to a local path or gs:// object (not atomic: publish with a marker after it)."""
    if is_gcs(uri):
        gcs_object(uri).upload_from_filename(str(path), retry=gcs_retry(conditional=True))
        return
    target = Path(uri)
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(path, target)


@storage_errors
def upload_tree(local_dir: Path, uri: str, last: tuple[str, ...] = ()) -> list[str]:
    """Copy every file under a local folder to the same relative names under a URI (the names in
    `last` after all others, to publish the tree); returns those names."""
    local_dir = Path(local_dir)
    names = sorted((p.relative_to(local_dir).as_posix() for p in local_dir.rglob("*") if p.is_file()),
                   key=lambda name: (name in last, name))
    for name in names:
        upload_file(local_dir / name, join(uri, name))
    return names


@storage_errors
def download_tree(uri: str, local_dir: Path, exclude: tuple[str, ...] = ()) -> list[str]:
    """Copy every file under a URI folder into a local folder, bar top-level names in `exclude`; returns the names."""
    local_dir = Path(local_dir)
    names = [n for n in list_files(uri, recursive=True) if n.split("/", 1)[0] not in exclude]
    for name in names:
        target = local_dir / name
        target.parent.mkdir(parents=True, exist_ok=True)
        source = join(uri, name)
        if is_gcs(source):
            gcs_object(source).download_to_filename(str(target), retry=gcs_retry())
        else:
            shutil.copyfile(source, target)
    return names
