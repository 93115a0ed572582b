"""gs:// end to end on a real gcp-storage-emulator: the training pipeline under kfp.local reads its
source from gs://, registers and places the model on gs://, renders an InferenceService whose
storageUri is the gs:// version; the predictor serves that gs:// model repository and writes its
prediction log to gs://."""

from __future__ import annotations

import json
import subprocess
import sys
import uuid
from pathlib import Path

import pyarrow.csv as pacsv
import pytest
import yaml

from components.lib import uri as uri_io
from components.lib.bundle import FEATURE_SPEC_FILE
from components.lib.registry import PRODUCTION, Registry
from components.lib.serving import LocalServer, call
from loopline import paths

ROOT = paths.ROOT
SERVING_PYTHON = str(paths.SERVING_PYTHON)

pytestmark = [pytest.mark.slow, pytest.mark.gcs, pytest.mark.serving]


def test_training_pipeline_and_predictor_on_gcs(gcs_bucket: str, penguins_csv: Path, tmp_path: Path) -> None:
    prefix = f"gs://{gcs_bucket}/e2e-{uuid.uuid4().hex[:8]}"
    source, registry_uri, models = f"{prefix}/data/penguins.csv", f"{prefix}/registry", f"{prefix}/models"
    uri_io.upload_file(penguins_csv, source)
    root = tmp_path / "root"
    proc = subprocess.run(
        [sys.executable, "-m", "loopline.cli", "run", "training", "--source", source, "--registry", registry_uri,
         "--model-repository", models, "--pipeline-root", str(root), "--epochs", "10",
         "--floor", "min_accuracy=0.8"],
        capture_output=True, text=True, timeout=900)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    assert f"loopline: registered version 1: {registry_uri}/penguins/versions/1" in proc.stdout
    assert f"bundle at {models}/penguins" in proc.stdout

    registry = Registry(registry_uri)
    assert registry.alias("penguins", PRODUCTION).number == 1
    assert uri_io.exists(f"{models}/penguins/{FEATURE_SPEC_FILE}")
    assert not list(tmp_path.glob("**/registry")) and not list(tmp_path.glob("**/models")), "nothing local"

    (run,) = [p for p in root.iterdir() if p.is_dir()]
    service = yaml.safe_load((run / "deploy-inferenceservice.yaml").read_text())
    assert service["spec"]["predictor"]["model"]["storageUri"] == f"{registry_uri}/penguins/versions/1"

    rows = [r for r in pacsv.read_csv(penguins_csv, convert_options=pacsv.ConvertOptions(null_values=["NA"]))
            .drop(["species"]).to_pylist() if None not in r.values()][:5]
    log_uri = f"{prefix}/prediction-log"
    with LocalServer(models, "unused", python=SERVING_PYTHON,
                     extra_args=("--prediction_log_uri", log_uri, "--prediction_log_sample_rate", "1")) as server:
        status, answer = call(f"{server.url}/v1/models/penguins:predict", {"instances": rows})
        assert status == 200 and len(answer["predictions"]) == 5, answer
    logged = [json.loads(line) for name in uri_io.list_files(log_uri, recursive=True)
              for line in uri_io.read_text(uri_io.join(log_uri, name)).splitlines()]
    assert len(logged) == 5 and {(e["model"], e["model_version"]) for e in logged} == {("penguins", "1")}
    assert [entry["outputs"]["label"] for entry in logged] == [p["label"] for p in answer["predictions"]]
