"""Fault test: the GCS emulator goes down in the middle of a training run on gs://.

The run stops at the first step that touches gs://, whose line names the storage error and the gs:// URI; no
version is visible in the registry; with the store back, the same command succeeds. The registry side (an
outage in the middle of a version's copy) is tests/components/lib/test_registry_outage.py.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from components.lib import uri as uri_io
from components.lib.gcs import RETRY_SECONDS_ENV
from components.lib.registry import PRODUCTION, Registry
from support.gcs_emulator import OUTAGE_BUCKET, Emulator

pytestmark = [pytest.mark.slow, pytest.mark.gcs]

RETRY_SECONDS = "3"


def _training(prefix: str, root: Path) -> list[str]:
    return [sys.executable, "-m", "loopline.cli", "run", "training", "--source", f"{prefix}/data/penguins.csv",
            "--registry", f"{prefix}/registry", "--model-repository", f"{prefix}/models", "--pipeline-root",
            str(root), "--epochs", "3", "--floor", "min_accuracy=0.5"]


def _run_stopping_store(command: list[str], emulator: Emulator, after: str) -> tuple[int, str, float]:
    """Run `command`, stop the store as soon as step `after` is shown finished; (exit code, output, seconds
    from the stop to the exit)."""
    env = {**os.environ, RETRY_SECONDS_ENV: RETRY_SECONDS, "PYTHONUNBUFFERED": "1"}
    proc = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env)
    lines, stopped_at = [], None
    for line in proc.stdout:
        lines.append(line)
        if stopped_at is None and line.split()[:1] == [after]:
            emulator.stop()
            stopped_at = time.monotonic()
    code = proc.wait(timeout=600)
    assert stopped_at is not None, f"step {after!r} never finished:\n" + "".join(lines)[-3000:]
    return code, "".join(lines), time.monotonic() - stopped_at


def test_a_training_run_on_gcs_survives_the_store_going_down(emulator: Emulator, penguins_csv: Path,
                                                              tmp_path: Path) -> None:
    prefix = f"gs://{OUTAGE_BUCKET}/outage"
    uri_io.upload_file(penguins_csv, f"{prefix}/data/penguins.csv")
    command = _training(prefix, tmp_path / "root")

    code, output, seconds = _run_stopping_store(command, emulator, after="ingest")
    assert code != 0, output[-3000:]
    failed = [line for line in output.splitlines() if "FAILURE" in line]
    assert failed and failed[0].split()[0] not in ("ingest", "loopline:"), output[-3000:]
    error = output[output.index(failed[0]):]
    assert "StorageError" in error and f"gs://{OUTAGE_BUCKET}/outage/" in error, error[-3000:]
    assert "registered version" not in output and "DEPLOYED" not in output
    assert seconds < 120, f"the run took {seconds:.0f} s to fail after the store stopped: it ignored the deadline"

    emulator.start()
    uri_io.gcs_client.cache_clear()
    registry = Registry(f"{prefix}/registry")
    assert registry.versions("penguins") == [], "a version became visible from the failed run"

    retried = subprocess.run(command, capture_output=True, text=True, timeout=900)
    assert retried.returncode == 0, retried.stdout[-3000:] + retried.stderr[-3000:]
    (version,) = registry.versions("penguins")
    assert f"loopline: registered version {version.number}:" in retried.stdout
    assert registry.alias("penguins", PRODUCTION).number == version.number
