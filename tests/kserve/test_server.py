"""The predictor as a real KServe server process (serving env) called over HTTP: V1, V2, bad requests."""

from __future__ import annotations

import http.client
import json
import shutil
import struct
import subprocess
import sys
from pathlib import Path
from typing import Iterator

import numpy as np
import pytest

from components.lib.inference import BundleModel
from components.lib.serving import LocalServer, call, fetch_text
from loopline import paths
from support.penguin_server import MAX_BATCH

ROOT = paths.ROOT
SERVING_PYTHON = paths.SERVING_PYTHON

pytestmark = pytest.mark.serving


def _expected(bundle: Path, rows: list[dict]) -> np.ndarray:
    import pyarrow as pa

    return BundleModel(bundle).predict([pa.Table.from_pylist(rows)])


def test_v1_predict_matches_the_model(server: str, penguins_bundle: Path, eval_rows: list[dict]) -> None:
    status, answer = call(f"{server}/v1/models/penguins:predict", {"instances": eval_rows})
    assert status == 200, answer
    expected = _expected(penguins_bundle, eval_rows)
    classes = ["Adelie", "Chinstrap", "Gentoo"]
    assert len(answer["predictions"]) == len(eval_rows)
    for prediction, row in zip(answer["predictions"], expected):
        assert prediction["label"] == classes[int(row.argmax())]
        np.testing.assert_allclose([prediction["probabilities"][c] for c in classes], row, atol=1e-5)


def test_v1_accepts_lists_in_feature_order(server: str, penguins_bundle: Path, eval_rows: list[dict]) -> None:
    names = BundleModel(penguins_bundle).spec.names
    status, answer = call(f"{server}/v1/models/penguins:predict",
                           {"instances": [[row[n] for n in names] for row in eval_rows[:2]]})
    assert status == 200, answer
    _, by_name = call(f"{server}/v1/models/penguins:predict", {"instances": eval_rows[:2]})
    assert answer["predictions"] == by_name["predictions"]


def test_v2_infer_and_metadata(server: str, penguins_bundle: Path, eval_rows: list[dict]) -> None:
    spec = BundleModel(penguins_bundle).spec
    rows = [r for r in eval_rows if all(v is not None for v in r.values())]  # JSON has no NaN for FP64
    assert rows
    inputs = [
        {"name": f.name, "shape": [len(rows)], "datatype": "BYTES" if f.kind == "categorical" else "FP64",
         "data": [str(r[f.name]) if f.kind == "categorical" else float(r[f.name]) for r in rows]}
        for f in spec.features
    ]
    status, answer = call(f"{server}/v2/models/penguins/infer", {"inputs": inputs})
    assert status == 200, answer
    outputs = {o["name"]: o for o in answer["outputs"]}
    probabilities = np.array(outputs["probabilities"]["data"]).reshape(outputs["probabilities"]["shape"])
    np.testing.assert_allclose(probabilities, _expected(penguins_bundle, rows), atol=1e-5)
    assert outputs["label"]["data"] == [spec.classes[i] for i in probabilities.argmax(axis=1)]
    status, metadata = call(f"{server}/v2/models/penguins")
    assert status == 200
    assert {i["name"]: i["datatype"] for i in metadata["inputs"]} == {
        f.name: "BYTES" if f.kind == "categorical" else "FP32" for f in spec.features}


def test_health_endpoints(server: str) -> None:
    assert call(f"{server}/v2/health/live")[0] == 200
    assert call(f"{server}/v2/models/penguins/ready")[0] == 200
    assert call(f"{server}/v1/models/penguins")[0] == 200


def test_loading_an_unknown_model_is_404_naming_only_the_model(server: str, penguins_bundle: Path) -> None:
    for name in ("nope", "..", "a%2Fb"):
        status, answer = call(f"{server}/v2/repository/models/{name}/load", {})
        assert status == 404, answer
        text = json.dumps(answer)
        assert str(penguins_bundle.parent) not in text and "Error" not in text and "<class" not in text, text
    status, answer = call(f"{server}/v2/repository/models/penguins/load", {})  # a known one still reloads
    assert status == 200, answer


def test_a_bundle_that_fails_to_load_is_503_without_paths_or_types(server: str, penguins_bundle: Path) -> None:
    broken = penguins_bundle.parent / "broken"
    broken.mkdir(exist_ok=True)
    shutil.copy(penguins_bundle / "feature_spec.json", broken / "feature_spec.json")  # and no SavedModel
    try:
        status, answer = call(f"{server}/v2/repository/models/broken/load", {})
    finally:
        shutil.rmtree(broken)
    assert status == 503, answer
    text = json.dumps(answer)
    assert "broken" in text and str(broken.parent) not in text and "<class" not in text, text
    assert call(f"{server}/v2/models/penguins/ready")[0] == 200  # the served model is untouched


@pytest.mark.parametrize(
    ("change", "words"),
    [
        (lambda rows: [{k: v for k, v in rows[0].items() if k != "island"}], ["island"]),
        (lambda rows: [{**rows[0], "wings": 2}], ["wings"]),
        (lambda rows: [{**rows[0], "bill_length_mm": "long"}], ["bill_length_mm"]),
        (lambda rows: [], ["empty"]),
        (lambda rows: rows[:1] * (MAX_BATCH + 1), [str(MAX_BATCH)]),
    ],
    ids=["missing", "unknown", "mistyped", "empty", "too-many"],
)
def test_bad_requests_get_400_naming_the_problem_and_serving_goes_on(
    server: str, eval_rows: list[dict], change, words: list[str]
) -> None:
    status, answer = call(f"{server}/v1/models/penguins:predict", {"instances": change(eval_rows)})
    assert status == 400, answer
    message = json.dumps(answer)
    assert all(w in message for w in words), message
    assert call(f"{server}/v1/models/penguins:predict", {"instances": eval_rows[:1]})[0] == 200


def test_malformed_json_and_non_finite_numbers_are_400(server: str, eval_rows: list[dict]) -> None:
    assert call(f"{server}/v1/models/penguins:predict", raw=b'{"instances": [')[0] == 400
    body = json.dumps({"instances": [{**eval_rows[0], "body_mass_g": float("inf")}]}).encode()
    status, answer = call(f"{server}/v1/models/penguins:predict", raw=body)
    assert status == 400, answer
    assert call(f"{server}/v1/models/penguins:predict", {"instances": eval_rows[:1]})[0] == 200


@pytest.mark.parametrize("value", [float("nan"), float("inf"), float("-inf")], ids=["NaN", "Infinity", "-Infinity"])
def test_a_nan_literal_is_400_naming_the_row_and_feature(server: str, eval_rows: list[dict], value: float) -> None:
    rows = [eval_rows[0], {**eval_rows[1], "bill_depth_mm": value}]  # json.dumps writes NaN / Infinity
    status, answer = call(f"{server}/v1/models/penguins:predict", raw=json.dumps({"instances": rows}).encode())
    assert status == 400, answer
    assert answer["error"] == (f"instances[1], feature 'bill_depth_mm': {json.dumps(value)} is not valid JSON; "
                               "send null for a missing value")


def test_metrics_count_predictions_by_label_and_rejections_by_reason(server: str, eval_rows: list[dict]) -> None:
    assert call(f"{server}/v1/models/penguins:predict", {"instances": eval_rows[:2]})[0] == 200
    assert call(f"{server}/v1/models/penguins:predict", {"instances": [{**eval_rows[0], "wings": 2}]})[0] == 400
    metrics = fetch_text(f"{server}/metrics")
    predicted = [line for line in metrics.splitlines()
                 if line.startswith('loopline_predictions_total{') and 'model="penguins"' in line]
    assert predicted and sum(float(line.rsplit(" ", 1)[1]) for line in predicted) >= 2
    assert any(line.startswith("loopline_rejected_requests_total{") and 'reason="unknown_feature"' in line
               for line in metrics.splitlines())
    assert "request_predict_seconds" in metrics  # KServe's own histograms are still there


def test_loopline_predict_command_over_v1_and_v2(server: str, eval_rows: list[dict], tmp_path: Path) -> None:
    rows = [r for r in eval_rows if all(v is not None for v in r.values())][:2]
    (tmp_path / "rows.json").write_text(json.dumps(rows))
    for protocol in ("v1", "v2"):
        proc = subprocess.run([sys.executable, "-m", "loopline.cli", "predict", "--url", server, "--json",
                               str(tmp_path / "rows.json"), "--protocol", protocol],
                              capture_output=True, text=True, timeout=120)
        assert proc.returncode == 0, proc.stderr
        answer = json.loads(proc.stdout)
        labels = [p["label"] for p in answer["predictions"]] if protocol == "v1" else next(
            o["data"] for o in answer["outputs"] if o["name"] == "label")
        assert len(labels) == 2 and set(labels) <= {"Adelie", "Chinstrap", "Gentoo"}
    bad = subprocess.run([sys.executable, "-m", "loopline.cli", "predict", "--url", server, "--model", "nope",
                          "--json", str(tmp_path / "rows.json")], capture_output=True, text=True, timeout=120)
    assert bad.returncode == 1 and "answered 404" in bad.stderr


def test_explain_gives_integrated_gradients_per_feature(server: str, penguins_bundle: Path,
                                                       eval_rows: list[dict]) -> None:
    spec = BundleModel(penguins_bundle).spec
    status, answer = call(f"{server}/v1/models/penguins:explain", {"instances": eval_rows[:3]})
    assert status == 200, answer
    assert answer["method"] == "integrated_gradients" and set(answer["baseline"]) == set(spec.names)
    _, predicted = call(f"{server}/v1/models/penguins:predict", {"instances": eval_rows[:3]})
    for explanation, prediction in zip(answer["explanations"], predicted["predictions"]):
        assert set(explanation["attributions"]) == set(spec.names)
        assert explanation["label"] == prediction["label"]
        assert explanation["prediction"] == pytest.approx(prediction["probabilities"][prediction["label"]], abs=1e-5)
        # Completeness: the attributions add up to prediction - baseline prediction.
        assert abs(explanation["completeness_gap"]) < 0.02, explanation
    rows = [r for r in eval_rows if all(v is not None for v in r.values())][:1]
    v2 = {"inputs": [{"name": f.name, "shape": [1], "datatype": "BYTES" if f.kind == "categorical" else "FP64",
                      "data": [r[f.name] for r in rows]} for f in spec.features]}
    status, answer = call(f"{server}/v1/models/penguins:explain", v2)
    assert status == 200 and len(answer["explanations"]) == 1
    assert call(f"{server}/v1/models/penguins:explain", {"instances": [{"wings": 1}]})[0] == 400


def _post(server: str, path: str, body: bytes | Iterator[bytes], headers: dict[str, str]) -> tuple[int, dict]:
    """A raw POST (http.client): no Content-Type unless given, chunked when `body` is an iterator."""
    host, port = server.removeprefix("http://").split(":")
    connection = http.client.HTTPConnection(host, int(port), timeout=60)
    try:
        connection.request("POST", path, body=body, headers=headers, encode_chunked=not isinstance(body, bytes))
        response = connection.getresponse()
        return response.status, json.loads(response.read() or b"null")
    finally:
        connection.close()


def _v2_inputs(rows: list[dict], spec_features: list) -> list[dict]:
    return [{"name": f.name, "shape": [len(rows)], "datatype": "BYTES" if f.kind == "categorical" else "FP32",
             "data": [r[f.name] for r in rows]} for f in spec_features]


def test_v2_json_without_a_content_type_is_json(server: str, penguins_bundle: Path, eval_rows: list[dict]) -> None:
    # tritonclient's JSON mode sends no Content-Type; KServe alone took that for the binary extension (400).
    model = BundleModel(penguins_bundle)
    body = json.dumps({"inputs": _v2_inputs(eval_rows, model.spec.features)}).encode()
    status, answer = _post(server, "/v2/models/penguins/infer", body, {})
    assert status == 200, answer
    probabilities = next(o for o in answer["outputs"] if o["name"] == "probabilities")
    np.testing.assert_allclose(np.array(probabilities["data"]).reshape(len(eval_rows), -1),
                               _expected(penguins_bundle, eval_rows), atol=1e-5)


def test_the_binary_tensor_extension_still_works(server: str, penguins_bundle: Path, eval_rows: list[dict]) -> None:
    model = BundleModel(penguins_bundle)
    header, blobs = {"inputs": []}, []
    for feature in model.spec.features:
        values = [r[feature.name] for r in eval_rows]
        if feature.kind == "categorical":
            blob = b"".join(struct.pack("<I", len(v.encode())) + v.encode() for v in map(str, values))
        else:
            blob = np.array([np.nan if v is None else v for v in values], "<f4").tobytes()
        header["inputs"].append({"name": feature.name, "shape": [len(values)],
                                 "datatype": "BYTES" if feature.kind == "categorical" else "FP32",
                                 "parameters": {"binary_data_size": len(blob)}})
        blobs.append(blob)
    head = json.dumps(header).encode()
    host, port = server.removeprefix("http://").split(":")
    connection = http.client.HTTPConnection(host, int(port), timeout=60)
    connection.request("POST", "/v2/models/penguins/infer", body=head + b"".join(blobs),
                       headers={"Content-Type": "application/octet-stream",
                                "Inference-Header-Content-Length": str(len(head))})
    response = connection.getresponse()
    assert response.status == 200, response.read()[:500]
    connection.close()


@pytest.mark.parametrize("chunked", [False, True], ids=["content-length", "chunked"])
def test_a_body_over_the_limit_is_413_before_parsing(server: str, eval_rows: list[dict], chunked: bool) -> None:
    limit = MAX_BATCH * 4096  # the predictor's default: 4,096 bytes per row of --max_batch_size
    chunk = b" " * 65536
    body = iter([b'{"instances": [', *[chunk] * (limit // len(chunk) + 2), b"]}"]) if chunked else (
        b'{"instances": [' + b" " * (limit + 1) + b"]}")
    status, answer = _post(server, "/v1/models/penguins:predict", body, {"Content-Type": "application/json"})
    assert status == 413 and f"{limit:,} bytes" in answer["error"], answer
    assert call(f"{server}/v1/models/penguins:predict", {"instances": eval_rows[:1]})[0] == 200


def test_the_repository_api_can_be_turned_off(penguins_bundle: Path, eval_rows: list[dict]) -> None:
    with LocalServer(penguins_bundle, "penguins", python=str(SERVING_PYTHON),
                     extra_args=("--no_repository_api",)) as off:
        status, answer = call(f"{off.url}/v2/repository/models/penguins/load", {})
        assert status == 404 and "--no_repository_api" in answer["error"], answer
        assert call(f"{off.url}/v2/repository/index", {})[0] == 404
        assert call(f"{off.url}/v1/models/penguins:predict", {"instances": eval_rows[:1]})[0] == 200
