"""gcp-storage-emulator as the tests run it: with GCS's `ifGenerationMatch` precondition on uploads, which the
emulator ignores and the registry's atomic claims, locks and audit appends rely on.

GCS refuses an upload with HTTP 412 when `ifGenerationMatch=0` and the object exists, or when it is N and the
object's generation is not N. The emulator serves one request at a time (`http.server.HTTPServer`), so checking
before its own upload handler runs is atomic. Resumable uploads pass unchecked (the registry's small writes are
single-request uploads). Run as `python gcs_emulator.py start ...` (the emulator's own arguments); `Emulator`
starts one that keeps its objects on disk, so a test can stop it and start it again.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
import urllib.request
from http import HTTPStatus
from pathlib import Path
from typing import Any, Callable, Iterator

import pytest

SCRIPT = Path(__file__).resolve()


def _object_name(request: Any) -> str | None:
    """The object a single-request upload creates (media: the `name` query; multipart: its metadata's)."""
    if "name" in request.query:
        return request.query["name"][0]
    data = request.data
    return data["meta"].get("name") if isinstance(data, dict) and "meta" in data else None


def _precondition_failed(request: Any, storage: Any) -> bool:
    """True when the upload names an `ifGenerationMatch` the stored object does not meet."""
    wanted = request.query.get("ifGenerationMatch")
    name = _object_name(request)
    if not wanted or name is None:
        return False
    bucket = request.params["bucket_name"]
    current = storage.objects.get(bucket, {}).get(name)
    generation = "0" if current is None else str(current["generation"])
    return generation != wanted[0]


def _checking(insert: Callable[..., Any]) -> Callable[..., Any]:
    """The emulator's upload handler, refusing with 412 an upload whose precondition fails."""
    def checked(request: Any, response: Any, storage: Any, *args: Any, **kwargs: Any) -> Any:
        if _precondition_failed(request, storage):
            response.status = HTTPStatus.PRECONDITION_FAILED
            response.json({"error": {"code": 412, "message": "conditionNotMet: At least one of the pre-conditions "
                                     "you specified did not hold.", "errors": [{"reason": "conditionNotMet"}]}})
            return None
        return insert(request, response, storage, *args, **kwargs)
    return checked


def patch_emulator() -> None:
    """Put the checking upload handler wherever the emulator looks its handler up."""
    from gcp_storage_emulator import server
    from gcp_storage_emulator.handlers import objects

    original = objects.insert
    objects.insert = _checking(original)
    for _, handlers in server.HANDLERS:
        for method, handler in list(handlers.items()):
            if handler is original:
                handlers[method] = objects.insert


def command(port: int, *extra: str) -> list[str]:
    """The command line that starts a checking emulator on loopback `port`, quiet."""
    return [sys.executable, str(SCRIPT), "start", "--host", "127.0.0.1", "--port", str(port), "-q", *extra]


def wait_listening(url: str, proc: subprocess.Popen, timeout: float = 30.0) -> None:
    """Return once the emulator answers at `url`; RuntimeError if it exits or stays silent."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"gcp-storage-emulator exited with {proc.returncode}")
        try:
            urllib.request.urlopen(f"{url}/storage/v1/b", timeout=1)
            return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"gcp-storage-emulator did not answer at {url} within {timeout} s")


class Emulator:
    """A checking emulator that keeps its objects on disk under `data`, so it can be stopped and started again."""

    def __init__(self, data: Path, port: int, bucket: str) -> None:
        self.data, self.port, self.bucket, self._proc = data, port, bucket, None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        """Start it (again) on the same port and data."""
        self.data.mkdir(parents=True, exist_ok=True)
        self._proc = subprocess.Popen(command(self.port, "--default-bucket", self.bucket), cwd=self.data,
                                      env={**os.environ, "STORAGE_BASE": str(self.data)},
                                      stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_listening(self.url, self._proc)

    def stop(self) -> None:
        """Stop it and wait for it."""
        self._proc.terminate()
        self._proc.wait(timeout=10)


OUTAGE_BUCKET = "loopline-outage"


def local_or_gcs_root(request: pytest.FixtureRequest, local: Path, prefix: str) -> str:
    """For a fixture parametrized "local" / anything else: the local folder `local`, or a fresh `prefix` in the
    session emulator's bucket."""
    if request.param == "local":
        return str(local)
    import uuid

    return f"gs://{request.getfixturevalue('gcs_bucket')}/{prefix}/{uuid.uuid4().hex}"


@pytest.fixture
def emulator(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Emulator]:
    """An emulator of this test's own, bucket `OUTAGE_BUCKET` (the session's one must not go down), with
    STORAGE_EMULATOR_HOST pointing at it."""
    from components.lib import uri as uri_io
    from components.lib.serving import free_port

    store = Emulator(tmp_path / "emulator", free_port(), OUTAGE_BUCKET)
    store.start()
    monkeypatch.setenv("STORAGE_EMULATOR_HOST", store.url)
    uri_io.gcs_client.cache_clear()
    try:
        yield store
    finally:
        store.stop()
        uri_io.gcs_client.cache_clear()


if __name__ == "__main__":
    patch_emulator()
    from gcp_storage_emulator.__main__ import main

    main(sys.argv[1:])
