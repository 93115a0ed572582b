"""Read and write URIs that are local paths or `gs://` objects, one API for both.

`gs://` goes through google-cloud-storage, which honours STORAGE_EMULATOR_HOST, so tests run
the same code against a local emulator. Google's errors (a missing bucket, refused credentials,
an unreachable service) leave this module as StorageError naming the URI; local file system
errors stay OSError.
"""

from __future__ import annotations

import fnmatch
import functools
import glob
import os
import shutil
import sys
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Callable, TypeVar

from components.errors import StorageError

if TYPE_CHECKING:  # pragma: no cover - typing only
    from google.cloud import storage

GCS_PREFIX = "gs://"
_GLOB_CHARS = "*?["
# Modules whose errors a gs:// call can raise, and the base type of each (looked up only once loaded:
# importing google.api_core just to name its errors prints a FutureWarning, and local paths never raise them).
_GOOGLE_ERRORS = {"google.api_core.exceptions": "GoogleAPIError", "google.auth.exceptions": "GoogleAuthError",
                  "requests.exceptions": "RequestException"}
Function = TypeVar("Function", bound=Callable)


def _is_google_error(exc: BaseException) -> bool:
    return any(module in sys.modules and isinstance(exc, getattr(sys.modules[module], name))
               for module, name in _GOOGLE_ERRORS.items())


def _storage_errors(func: Function) -> Function:
    """`func` with Google's errors raised as StorageError naming its gs:// URI."""
    @functools.wraps(func)
    def call(*args: object, **kwargs: object) -> object:
        try:
            return func(*args, **kwargs)
        except Exception as exc:
            if not _is_google_error(exc):
                raise
            uri = next((a for a in args if isinstance(a, str) and is_gcs(a)), "gs://")
            message = " ".join(str(exc).split())[:300] or type(exc).__name__
            raise StorageError(f"{uri}: {message}") from exc

    return call  # type: ignore[return-value]


def is_gcs(uri: str) -> bool:
    """True for a `gs://bucket/...` URI."""
    return uri.startswith(GCS_PREFIX)


def absolute(uri: str) -> str:
    """A local path made absolute (it is handed to other processes); gs:// URIs and "" as given."""
    return uri if not uri or is_gcs(uri) else str(Path(uri).resolve())


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


@_storage_errors
def expand(uri: str) -> list[str]:
    """The files a URI names, in name order: a file, every file under a folder, or a glob's matches."""
    return _expand_gcs(uri) if is_gcs(uri) else _expand_local(uri)


@_storage_errors
def exists(uri: str) -> bool:
    """True when the URI names an existing file or object."""
    if is_gcs(uri):
        bucket_name, name = split_gcs(uri)
        return bool(name) and gcs_client().bucket(bucket_name).blob(name).exists()
    return Path(uri).is_file()


@_storage_errors
def read_bytes(uri: str) -> bytes:
    """The whole content of a file or object."""
    if is_gcs(uri):
        bucket_name, name = split_gcs(uri)
        return gcs_client().bucket(bucket_name).blob(name).download_as_bytes()
    return Path(uri).read_bytes()


def read_text(uri: str) -> str:
    """The content of a UTF-8 text file or object."""
    return read_bytes(uri).decode("utf-8")


@_storage_errors
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


# --- folders and trees (added for the model registry) ------------------------------------------


def join(base: str, *parts: str) -> str:
    """`base/part/...` for a local path or a gs:// URI (gs:// always joins with "/")."""
    if is_gcs(base):
        return "/".join([base.rstrip("/"), *(p.strip("/") for p in parts)])
    return str(Path(base, *parts))


def _gcs_prefix(uri: str) -> tuple[str, str]:
    """("bucket", "a/b/") for `gs://bucket/a/b`: the listing prefix of a "folder" ("" at the top)."""
    bucket_name, name = split_gcs(uri)
    name = name.strip("/")
    return bucket_name, f"{name}/" if name else ""


@_storage_errors
def read_bytes_if_exists(uri: str) -> bytes | None:
    """The content of a file or object, or None when it does not exist (one request on gs://)."""
    if is_gcs(uri):
        from google.api_core.exceptions import NotFound

        bucket_name, name = split_gcs(uri)
        try:
            return gcs_client().bucket(bucket_name).blob(name).download_as_bytes()
        except NotFound:
            return None
    try:
        return Path(uri).read_bytes()
    except (FileNotFoundError, NotADirectoryError):
        return None


@_storage_errors
def create_if_absent(uri: str, data: bytes) -> bool:
    """Create a file or object whole, only if it does not exist yet; False (and nothing written) if it does.

    Locally atomic (a temp file hard-linked into place). On gs:// an upload with
    `if_generation_match=0`, which GCS makes atomic; a store that ignores that precondition
    (gcp-storage-emulator does) gets only the existence check made just before.
    """
    if is_gcs(uri):
        from google.api_core.exceptions import PreconditionFailed

        bucket_name, name = split_gcs(uri)
        blob = gcs_client().bucket(bucket_name).blob(name)
        if blob.exists():
            return False
        try:
            blob.upload_from_string(data, if_generation_match=0)
        except PreconditionFailed:
            return False
        return True
    path = Path(uri)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}-{os.urandom(4).hex()}")
    tmp.write_bytes(data)
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


@_storage_errors
def list_dirs(uri: str) -> list[str]:
    """Names of the immediate subfolders of a folder (gs://: of the "/"-delimited prefixes), sorted; [] if none."""
    if is_gcs(uri):
        bucket_name, prefix = _gcs_prefix(uri)
        blobs = gcs_client().list_blobs(bucket_name, prefix=prefix, delimiter="/")
        for _ in blobs:  # prefixes fill in as the pages are read
            pass
        return sorted(p[len(prefix):].rstrip("/") for p in blobs.prefixes)
    path = Path(uri)
    return sorted(p.name for p in path.iterdir() if p.is_dir()) if path.is_dir() else []


@_storage_errors
def list_files(uri: str, recursive: bool = False) -> list[str]:
    """Every file under a folder (markers and hidden files too), as "/"-separated names relative to it, sorted."""
    if is_gcs(uri):
        bucket_name, prefix = _gcs_prefix(uri)
        blobs = gcs_client().list_blobs(bucket_name, prefix=prefix, delimiter=None if recursive else "/")
        return sorted(b.name[len(prefix):] for b in blobs if not b.name.endswith("/"))
    path = Path(uri)
    if not path.is_dir():
        return []
    found = path.rglob("*") if recursive else path.iterdir()
    return sorted(p.relative_to(path).as_posix() for p in found if p.is_file())


@_storage_errors
def delete(uri: str) -> None:
    """Delete one file or object; nothing to do if it is absent."""
    if is_gcs(uri):
        from google.api_core.exceptions import NotFound

        bucket_name, name = split_gcs(uri)
        try:
            gcs_client().bucket(bucket_name).blob(name).delete()
        except NotFound:
            pass
        return
    Path(uri).unlink(missing_ok=True)


@_storage_errors
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


@_storage_errors
def upload_file(path: Path, uri: str) -> None:
    """Copy one local file to a local path or gs:// object (not atomic: publish with a marker after it)."""
    if is_gcs(uri):
        bucket_name, name = split_gcs(uri)
        gcs_client().bucket(bucket_name).blob(name).upload_from_filename(str(path))
        return
    target = Path(uri)
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(path, target)


@_storage_errors
def upload_tree(local_dir: Path, uri: str, last: tuple[str, ...] = ()) -> list[str]:
    """Copy every file under a local folder to the same relative names under a URI (the names in
    `last` after all others, to publish the tree); returns those names."""
    local_dir = Path(local_dir)
    names = sorted((p.relative_to(local_dir).as_posix() for p in local_dir.rglob("*") if p.is_file()),
                   key=lambda name: (name in last, name))
    for name in names:
        upload_file(local_dir / name, join(uri, name))
    return names


@_storage_errors
def download_tree(uri: str, local_dir: Path, exclude: tuple[str, ...] = ()) -> list[str]:
    """Copy every file under a URI folder into a local folder, except top-level names in `exclude`; returns the names."""
    local_dir = Path(local_dir)
    names = [n for n in list_files(uri, recursive=True) if n.split("/", 1)[0] not in exclude]
    for name in names:
        target = local_dir / name
        target.parent.mkdir(parents=True, exist_ok=True)
        source = join(uri, name)
        if is_gcs(source):
            bucket_name, blob_name = split_gcs(source)
            gcs_client().bucket(bucket_name).blob(blob_name).download_to_filename(str(target))
        else:
            shutil.copyfile(source, target)
    return names
