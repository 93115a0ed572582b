"""Session-wide fixtures: paths to the committed data, one GCS emulator for every gs:// test and one
Pushgateway (support/pushgateway.py) for the tests of what the monitor step pushes; the penguins bundle's
rows (support/penguin_rows.py)."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
from pathlib import Path
from typing import Callable, Iterator

import pytest

from loopline import paths

# Fixtures of their own modules: `pushgateway`; `scorer`, `labelled_rows`, `train_rows`; `server`, `eval_rows`
# (the served penguins); `emulator` (one a test can stop); `fake_kfp`.
pytest_plugins = ("support.pushgateway", "support.penguin_rows", "support.penguin_server", "support.gcs_emulator",
                  "fakes.kfp_fixture")

ROOT = paths.ROOT
FIXTURES = ROOT / "tests" / "data" / "fixtures"
PENGUINS = paths.BUNDLED_DATA
EMULATOR_BUCKET = "loopline-test"


@pytest.fixture(scope="session")
def fixtures() -> Path:
    """Folder of the tiny committed fixtures."""
    return FIXTURES


@pytest.fixture(scope="session")
def penguins_csv() -> Path:
    """The bundled Palmer penguins data (344 rows)."""
    return PENGUINS


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="session")
def gcs_bucket() -> Iterator[str]:
    """A real gcp-storage-emulator (support/gcs_emulator.py: with GCS's upload preconditions) on a free loopback
    port, in memory, STORAGE_EMULATOR_HOST set; yields a bucket name."""
    from components.lib import uri as uri_io
    from support import gcs_emulator

    port = _free_port()
    proc = subprocess.Popen(gcs_emulator.command(port, "--in-memory", "--default-bucket", EMULATOR_BUCKET),
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    previous = os.environ.get("STORAGE_EMULATOR_HOST")
    try:
        gcs_emulator.wait_listening(f"http://127.0.0.1:{port}", proc)
        os.environ["STORAGE_EMULATOR_HOST"] = f"http://127.0.0.1:{port}"
        uri_io.gcs_client.cache_clear()
        yield EMULATOR_BUCKET
    finally:
        proc.terminate()
        proc.wait(timeout=10)
        if previous is None:
            os.environ.pop("STORAGE_EMULATOR_HOST", None)
        else:
            os.environ["STORAGE_EMULATOR_HOST"] = previous
        uri_io.gcs_client.cache_clear()


@pytest.fixture(scope="session")
def penguins_splits(tmp_path_factory: pytest.TempPathFactory, penguins_csv: Path) -> dict[str, Path]:
    """Penguins ingested and validated once: {"train", "eval", "schema" (schema.pbtxt), "root"}."""
    from components import keys
    from components.ingest.executor import ingest
    from components.validate.executor import ValidateOutputs, validate

    root = tmp_path_factory.mktemp("penguins")
    ingest(str(penguins_csv), "species", root / "train", root / "eval", log=lambda _: None)
    out = root / "validate"
    validate(root / "train", root / "eval",
             ValidateOutputs(out / "statistics", out / "schema", out / "anomalies", out / "r.html", out / "r.md"),
             log=lambda _: None)
    return {"train": root / "train", "eval": root / "eval", "schema": out / "schema" / keys.SCHEMA_FILE, "root": root}


@pytest.fixture(scope="session")
def penguins_bundle(penguins_splits: dict[str, Path], tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A model bundle trained briefly on the penguins splits (shared by serving tests)."""
    from components.train.executor import train
    from components.train.model import Hyperparameters

    bundle = tmp_path_factory.mktemp("bundle") / "penguins"
    train(penguins_splits["train"], penguins_splits["eval"], penguins_splits["schema"], bundle, "species",
          hp=Hyperparameters(epochs=8, early_stopping_patience=8), log=lambda _: None)
    return bundle


def _lost(sent: object, back: object, where: str) -> list[str]:
    """What of `sent` did not survive the round trip (the SDK may add its own defaults)."""
    if isinstance(sent, dict):
        if not isinstance(back, dict):
            return [f"{where}: {back!r}"]
        return [problem for key, value in sent.items() for problem in (
            _lost(value, back[key], f"{where}.{key}") if key in back
            else [f"{where}.{key} was dropped: not a field of KServe's model"])]
    if isinstance(sent, list):
        if not isinstance(back, list) or len(back) != len(sent):
            return [f"{where}: {back!r}"]
        return [p for i, (item, returned) in enumerate(zip(sent, back)) for p in _lost(item, returned, f"{where}[{i}]")]
    return [] if sent == back else [f"{where}: sent {sent!r}, KServe read {back!r}"]


@pytest.fixture(scope="session")
def kserve_roundtrip(tmp_path_factory: pytest.TempPathFactory) -> Callable[[list[dict], str], list[list[str]]]:
    """Parse objects with KServe's own SDK models (in .venv-serving); per object, what was dropped or
    changed on the way (a misspelt or misplaced field), [] when all of it is a field KServe knows."""
    script = ROOT / "tests" / "kserve" / "kserve_roundtrip.py"
    python = paths.SERVING_PYTHON

    def roundtrip(objects: list[dict], model: str) -> list[list[str]]:
        path = tmp_path_factory.mktemp("kserve-roundtrip") / "objects.json"
        path.write_text(json.dumps(objects))
        proc = subprocess.run([str(python), str(script), model, str(path)], capture_output=True, text=True,
                              timeout=300, env={"PATH": "/usr/bin:/bin"})
        assert proc.returncode == 0, proc.stderr[-2000:]
        parsed = json.loads(proc.stdout.strip().splitlines()[-1])
        return [_lost(sent, back, sent.get("kind", model)) for sent, back in zip(objects, parsed)]

    return roundtrip


@pytest.fixture(scope="session")
def good_and_broken_models(penguins_bundle: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A model repository: `good` (the penguins bundle) and `broken`, whose feature_spec.json says
    `island` is numeric while its SavedModel takes a string: requests pass the spec check and the
    model call fails (a real failure inside the model, not an injected one)."""
    from components.lib.bundle import FEATURE_SPEC_FILE

    repository = tmp_path_factory.mktemp("good-and-broken")
    shutil.copytree(penguins_bundle, repository / "good")
    shutil.copytree(penguins_bundle, repository / "broken")
    spec = json.loads((repository / "broken" / FEATURE_SPEC_FILE).read_text())
    island = next(f for f in spec["features"] if f["name"] == "island")
    island.update(kind="numeric", dtype="float", vocabulary=[], min=0.0, max=2.0, mean=1.0, std=1.0)
    (repository / "broken" / FEATURE_SPEC_FILE).write_text(json.dumps(spec))
    return repository
