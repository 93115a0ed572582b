"""Standard clients this project does not write, used as their users use them, against the real predictor:
KServe's own InferenceRESTClient, NVIDIA's tritonclient in its JSON and binary-tensor modes, and curl as KServe's
docs show it (`-d @input.json`, which sends a form-encoded Content-Type) and with a JSON Content-Type."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import numpy as np
import pyarrow as pa
import pytest

from components.lib.inference import BundleModel
from loopline import paths

pytestmark = pytest.mark.serving


def _complete(rows: list[dict]) -> list[dict]:
    return [r for r in rows if all(v is not None for v in r.values())]


def _check(probabilities: np.ndarray, labels: list[str], scorer: BundleModel, rows: list[dict]) -> None:
    """The answer is the bundle's own prediction for `rows`: probabilities to 1e-5, labels their argmax."""
    expected = scorer.predict([pa.Table.from_pylist(rows)])
    np.testing.assert_allclose(np.asarray(probabilities, float).reshape(expected.shape), expected, atol=1e-5)
    assert labels == [scorer.spec.classes[i] for i in expected.argmax(axis=1)]


def test_kserves_own_v2_client_works_unmodified(server: str, scorer: BundleModel, eval_rows: list[dict],
                                                tmp_path: Path) -> None:
    rows = _complete(eval_rows)
    inputs = [{"name": f.name, "datatype": "BYTES" if f.kind == "categorical" else "FP32",
               "data": [r[f.name] if f.kind == "categorical" else float(r[f.name]) for r in rows]}
              for f in scorer.spec.features]
    (tmp_path / "inputs.json").write_text(json.dumps(inputs))
    proc = subprocess.run(
        [str(paths.SERVING_PYTHON), str(paths.ROOT / "tests" / "kserve" / "v2_client.py"), server, "penguins",
         str(tmp_path / "inputs.json")],
        capture_output=True, text=True, timeout=120, env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"},
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    outputs = json.loads(proc.stdout.strip().splitlines()[-1])
    _check(np.array(outputs["probabilities"]["data"]), outputs["label"]["data"], scorer, rows)


@pytest.mark.parametrize("binary", [False, True], ids=["json", "binary-tensors"])
def test_tritonclient_works_in_both_modes(server: str, scorer: BundleModel, eval_rows: list[dict],
                                          binary: bool) -> None:
    import tritonclient.http as triton

    rows = eval_rows  # with their missing values: NaN for a number, "" for a category
    client = triton.InferenceServerClient(server.removeprefix("http://"))
    try:
        assert client.is_server_live() and client.is_model_ready("penguins")
        metadata = client.get_model_metadata("penguins")
        assert [i["name"] for i in metadata["inputs"]] == scorer.spec.names
        inputs = []
        for feature in scorer.spec.features:
            values = [r[feature.name] for r in rows]
            if feature.kind == "categorical":
                array, datatype = np.array(["" if v is None else v for v in values], dtype=object), "BYTES"
            else:
                array, datatype = np.array([np.nan if v is None else v for v in values], np.float32), "FP32"
            tensor = triton.InferInput(feature.name, list(array.shape), datatype)
            tensor.set_data_from_numpy(array, binary_data=binary)
            inputs.append(tensor)
        outputs = [triton.InferRequestedOutput(name, binary_data=binary) for name in ("label", "probabilities")]
        result = client.infer("penguins", inputs, outputs=outputs)
    finally:
        client.close()
    labels = [v.decode() if isinstance(v, bytes) else v for v in result.as_numpy("label").tolist()]
    _check(result.as_numpy("probabilities"), labels, scorer, rows)


def _curl(url: str, body_file: Path, *headers: str) -> tuple[int, dict]:
    proc = subprocess.run(["curl", "-sS", "--max-time", "60", "-w", "\n%{http_code}", *headers, "-d",
                           f"@{body_file}", url], capture_output=True, text=True, timeout=90)
    assert proc.returncode == 0, proc.stderr
    body, status = proc.stdout.rsplit("\n", 1)
    return int(status), json.loads(body)


@pytest.mark.parametrize("headers", [(), ("-H", "Content-Type: application/json")], ids=["as-kserve-docs", "json"])
def test_curl_v1_and_v2(server: str, scorer: BundleModel, eval_rows: list[dict], tmp_path: Path,
                        headers: tuple[str, ...]) -> None:
    rows = _complete(eval_rows)
    (tmp_path / "v1.json").write_text(json.dumps({"instances": rows}))
    status, answer = _curl(f"{server}/v1/models/penguins:predict", tmp_path / "v1.json", *headers)
    assert status == 200, answer
    predictions = answer["predictions"]
    _check(np.array([[p["probabilities"][c] for c in scorer.spec.classes] for p in predictions]),
           [p["label"] for p in predictions], scorer, rows)

    inputs = [{"name": f.name, "shape": [len(rows)], "datatype": "BYTES" if f.kind == "categorical" else "FP32",
               "data": [r[f.name] for r in rows]} for f in scorer.spec.features]
    (tmp_path / "v2.json").write_text(json.dumps({"inputs": inputs}))
    status, answer = _curl(f"{server}/v2/models/penguins/infer", tmp_path / "v2.json", *headers)
    assert status == 200, answer
    outputs = {o["name"]: o for o in answer["outputs"]}
    _check(np.array(outputs["probabilities"]["data"]), outputs["label"]["data"], scorer, rows)
