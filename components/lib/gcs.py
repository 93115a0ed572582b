"""The gs:// side of components/lib/uri.py: the storage client, object and prefix lookups, and Google's
errors turned into StorageError naming the URI (checked only once google's modules are loaded).

google-cloud-storage honours STORAGE_EMULATOR_HOST, so tests run the same code against a local emulator.
"""

from __future__ import annotations

import functools
import os
import sys
from functools import lru_cache
from typing import TYPE_CHECKING, Callable, TypeVar

from components.errors import StorageError

if TYPE_CHECKING:  # pragma: no cover - typing only
    from google.cloud import storage

GCS_PREFIX = "gs://"
# Modules whose errors a gs:// call can raise, and the base type of each (looked up only once loaded:
# importing google.api_core just to name its errors prints a FutureWarning, and local paths never raise them).
_GOOGLE_ERRORS = {"google.api_core.exceptions": "GoogleAPIError", "google.auth.exceptions": "GoogleAuthError",
                  "requests.exceptions": "RequestException"}
Function = TypeVar("Function", bound=Callable)
# How long one gs:// call retries a transient failure (an unreachable service, a 5xx) before it gives up.
RETRY_SECONDS_ENV = "LOOPLINE_GCS_RETRY_SECONDS"
DEFAULT_RETRY_SECONDS = 120.0  # google-cloud-storage's own default


def is_google_error(exc: BaseException) -> bool:
    return any(module in sys.modules and isinstance(exc, getattr(sys.modules[module], name))
               for module, name in _GOOGLE_ERRORS.items())


def storage_errors(func: Function) -> Function:
    """`func` with Google's errors raised as StorageError naming its gs:// URI."""
    @functools.wraps(func)
    def call(*args: object, **kwargs: object) -> object:
        try:
            return func(*args, **kwargs)
        except Exception as exc:
            if not is_google_error(exc):
                raise
            uri = next((a for a in args if isinstance(a, str) and is_gcs(a)), "gs://")
            message = " ".join(str(exc).split())[:300] or type(exc).__name__
            raise StorageError(f"{uri}: {message}") from exc

    return call  # type: ignore[return-value]


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


def retry_seconds() -> float:
    """The retry deadline of a gs:// call: LOOPLINE_GCS_RETRY_SECONDS (read per call), else Google's 120 s."""
    text = os.environ.get(RETRY_SECONDS_ENV, "").strip()
    if not text:
        return DEFAULT_RETRY_SECONDS
    try:
        seconds = float(text)
    except ValueError:
        seconds = -1.0
    if not seconds > 0:
        raise StorageError(f"{RETRY_SECONDS_ENV}={text!r}: give a number of seconds above 0")
    return seconds


def gcs_retry(conditional: bool = False) -> object:
    """Google's default retry policy with the deadline of retry_seconds(). `conditional` keeps Google's rule
    for uploads: retried only when a generation precondition makes the retry safe."""
    from google.cloud.storage.retry import DEFAULT_RETRY, ConditionalRetryPolicy, is_generation_specified

    policy = DEFAULT_RETRY.with_timeout(retry_seconds())
    return ConditionalRetryPolicy(policy, is_generation_specified, ["query_params"]) if conditional else policy


def gcs_object(uri: str) -> "storage.Blob":
    """The object a gs:// URI names (no request made)."""
    bucket_name, name = split_gcs(uri)
    return gcs_client().bucket(bucket_name).blob(name)


def check_bucket(blob: "storage.Blob", uri: str) -> None:
    """After an object was not found, raise if its bucket is missing too: a mistyped bucket must not look empty."""
    if not blob.bucket.exists(retry=gcs_retry()):
        raise StorageError(f"{uri}: bucket {blob.bucket.name!r} does not exist")


def gcs_prefix(uri: str) -> tuple[str, str]:
    """("bucket", "a/b/") for `gs://bucket/a/b`: the listing prefix of a "folder" ("" at the top)."""
    bucket_name, name = split_gcs(uri)
    name = name.strip("/")
    return bucket_name, f"{name}/" if name else ""
