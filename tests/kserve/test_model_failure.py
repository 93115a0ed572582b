"""A failure inside the model is HTTP 500 naming the error's type, counted, and the server serves on.

The failure is real, not injected: a bundle whose feature_spec.json says `island` is numeric while
its SavedModel takes a string. The request passes the spec check, and the signature call fails.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from components.bundle import FEATURE_SPEC_FILE
from components.serving import LocalServer, call, fetch_text

ROOT = Path(__file__).resolve().parents[2]
SERVING_PYTHON = str(ROOT / ".venv-serving" / "bin" / "python")

pytestmark = pytest.mark.slow


def _mismatched_copy(bundle: Path, target: Path) -> None:
    """Copy a bundle and declare its categorical `island` feature numeric in the spec only."""
    shutil.copytree(bundle, target)
    spec = json.loads((target / FEATURE_SPEC_FILE).read_text())
    island = next(f for f in spec["features"] if f["name"] == "island")
    island.update(kind="numeric", dtype="float", vocabulary=[], min=0.0, max=2.0, mean=1.0, std=1.0)
    (target / FEATURE_SPEC_FILE).write_text(json.dumps(spec))


def test_failure_inside_the_model_is_500_with_its_type_and_serving_goes_on(
        penguins_bundle: Path, penguins_splits: dict[str, Path], tmp_path: Path) -> None:
    repository = tmp_path / "models"
    shutil.copytree(penguins_bundle, repository / "good")
    _mismatched_copy(penguins_bundle, repository / "broken")
    row = pq.read_table(next(penguins_splits["eval"].glob("*.parquet"))).drop(["species"]).to_pylist()[0]
    with LocalServer(repository, "unused", python=SERVING_PYTHON) as server:
        for _ in range(2):
            status, answer = call(f"{server.url}/v1/models/broken:predict", {"instances": [{**row, "island": 1.0}]})
            assert status == 500, answer
            assert answer["error"].split(":")[0] in {"TypeError", "ValueError", "InvalidArgumentError"}, answer
        status, answer = call(f"{server.url}/v1/models/good:predict", {"instances": [row]})
        assert status == 200 and answer["predictions"][0]["label"] in {"Adelie", "Chinstrap", "Gentoo"}, answer
        failed = [line for line in fetch_text(f"{server.url}/metrics").splitlines()
                  if line.startswith("loopline_failed_requests_total{") and 'model="broken"' in line]
        assert failed and sum(float(line.rsplit(" ", 1)[1]) for line in failed) == 2, failed
