"""Fault test: the GCS emulator stops in the middle of a version's copy into a gs:// registry.

register fails within the retry deadline with a StorageError naming the object, the half-copied version stays
invisible, and once the store is back a retry registers the next number whole. The pipeline side of the same
outage is tests/pipelines/test_gcs_outage.py.
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from components.errors import StorageError
from components.lib import uri as uri_io
from components.lib.gcs import RETRY_SECONDS_ENV, retry_seconds
from components.lib.registry import Registry
from components.lib.registry_versions import CLAIM_FILE, COMPLETE_FILE
from support.gcs_emulator import OUTAGE_BUCKET, Emulator

pytestmark = pytest.mark.gcs


def _bundle(folder: Path, files: int) -> Path:
    for i in range(files):
        (folder / "variables" / f"part-{i}").parent.mkdir(parents=True, exist_ok=True)
        (folder / "variables" / f"part-{i}").write_bytes(bytes([i]) * 2048)
    return folder


def test_an_outage_mid_copy_leaves_no_visible_version_and_a_retry_registers_whole(
        emulator: Emulator, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(RETRY_SECONDS_ENV, "2")
    registry = Registry(f"gs://{OUTAGE_BUCKET}/registry")
    bundle = _bundle(tmp_path / "bundle", files=6)
    upload, copied = uri_io.upload_file, []

    def stop_after_three(path: Path, uri: str) -> None:
        if len(copied) == 3:
            emulator.stop()
        upload(path, uri)
        copied.append(uri)

    monkeypatch.setattr(uri_io, "upload_file", stop_after_three)
    started = time.monotonic()
    with pytest.raises(StorageError, match=f"gs://{OUTAGE_BUCKET}/registry/m/versions/1/variables/part-3"):
        registry.register("m", bundle, "run-1", {})
    assert time.monotonic() - started < 60, "register ignored the retry deadline"
    assert len(copied) == 3

    monkeypatch.setattr(uri_io, "upload_file", upload)
    emulator.start()
    assert registry.versions("m") == [], "the half-copied version is visible"
    left = uri_io.list_files(f"gs://{OUTAGE_BUCKET}/registry/m/versions/1", recursive=True)
    assert COMPLETE_FILE not in left and CLAIM_FILE in left, left

    version = registry.register("m", bundle, "run-2", {})
    assert version.number == 2 and [v.number for v in registry.versions("m")] == [2]
    fetched = registry.download("m", 2, tmp_path / "fetched")
    assert sorted(p.name for p in (fetched / "variables").iterdir()) == [f"part-{i}" for i in range(6)]
    assert [(e.event, e.version) for e in registry.events("m")] == [("registered", 2)]


@pytest.mark.parametrize("value", ["0", "-1", "soon"])
def test_a_retry_deadline_that_is_not_a_positive_number_is_refused_naming_the_variable(
        value: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(RETRY_SECONDS_ENV, value)
    with pytest.raises(StorageError, match=f"{RETRY_SECONDS_ENV}='{value}': give a number of seconds above 0"):
        retry_seconds()


def test_the_retry_deadline_defaults_to_googles(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(RETRY_SECONDS_ENV, raising=False)
    assert retry_seconds() == 120.0
    monkeypatch.setenv(RETRY_SECONDS_ENV, "7.5")
    assert retry_seconds() == 7.5
