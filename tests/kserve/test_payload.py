"""Request checking and decoding of the predictor (kserve/loopline_predictor/payload.py), numpy only."""

from __future__ import annotations

import json
import math
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "kserve"))

from components.lib.bundle import Feature, FeatureSpec  # noqa: E402
from loopline_predictor.payload import (  # noqa: E402
    RequestError,
    decode_v1,
    decode_v2,
    encode_v1,
    v2_metadata,
    v2_outputs,
)

FEATURES = [
    Feature("island", "categorical", "string", vocabulary=["Biscoe", "Dream", "Torgersen"]),
    Feature("bill_length_mm", "numeric", "float", min=32.1, max=59.6, mean=43.9, std=5.5),
    Feature("year", "categorical", "int", vocabulary=["2007", "2008", "2009"]),
    Feature("flipper_length_mm", "numeric", "int", min=172, max=231, mean=200.9, std=14.1),
]
CLASSES = ["Adelie", "Chinstrap", "Gentoo"]
SPEC = FeatureSpec(label="species", task="classification", features=FEATURES, classes=CLASSES)
REGRESSION = FeatureSpec(label="body_mass_g", task="regression", features=FEATURES, label_mean=4200.0, label_std=800.0)
MAX = 4
ROW = {"island": "Dream", "bill_length_mm": 39.5, "year": "2008", "flipper_length_mm": 181}


def v1(*rows: Any) -> dict[str, Any]:
    return {"instances": list(rows)}


def with_(**changes: Any) -> dict[str, Any]:
    return {**ROW, **changes}


def without(name: str) -> dict[str, Any]:
    return {k: v for k, v in ROW.items() if k != name}


def v2(columns: dict[str, list[Any]], **overrides: dict[str, Any]) -> list[dict[str, Any]]:
    """V2 inputs for columns, with BYTES for categories and FP32 for numbers; overrides per input name."""
    kinds = {f.name: f.kind for f in FEATURES}
    return [{"name": name, "shape": [len(data)], "datatype": "BYTES" if kinds[name] == "categorical" else "FP32",
             "data": data, **overrides.get(name, {})} for name, data in columns.items()]


COLUMNS = {"island": ["Dream", "Biscoe"], "bill_length_mm": [39.5, 46.1], "year": ["2008", "2009"],
           "flipper_length_mm": [181, 211]}


def refused(call: Any, *fragments: str) -> str:
    with pytest.raises(RequestError) as caught:
        call()
    message = str(caught.value)
    for fragment in fragments:
        assert fragment in message, f"{fragment!r} not in {message!r}"
    return message


# --- V1 -------------------------------------------------------------------------------------------

def test_v1_object_instances_decode_to_typed_columns_in_feature_order() -> None:
    arrays = decode_v1(v1(ROW, with_(island="Biscoe", bill_length_mm=46, year=2009)), SPEC, MAX)
    assert list(arrays) == ["island", "bill_length_mm", "year", "flipper_length_mm"]
    assert arrays["island"].dtype == object and arrays["island"].tolist() == ["Dream", "Biscoe"]
    assert arrays["bill_length_mm"].dtype == np.float32
    np.testing.assert_array_equal(arrays["bill_length_mm"], np.array([39.5, 46.0], np.float32))
    assert arrays["year"].tolist() == ["2008", "2009"]  # an integer for an int-typed category becomes its text
    assert arrays["flipper_length_mm"].tolist() == [181.0, 181.0]


def test_v1_list_instances_equal_object_instances() -> None:
    from_lists = decode_v1(v1(["Dream", 39.5, "2008", 181], [None, None, None, None]), SPEC, MAX)
    from_objects = decode_v1(v1(ROW, dict.fromkeys(ROW)), SPEC, MAX)
    assert from_lists.keys() == from_objects.keys()
    for name in from_lists:
        np.testing.assert_array_equal(from_lists[name], from_objects[name])


def test_v1_null_is_missing_nan_for_numbers_and_empty_for_categories() -> None:
    arrays = decode_v1(v1(with_(island=None, bill_length_mm=None, year=None), ROW), SPEC, MAX)
    assert arrays["island"].tolist() == ["", "Dream"]
    assert arrays["year"].tolist() == ["", "2008"]
    assert math.isnan(arrays["bill_length_mm"][0]) and arrays["bill_length_mm"][1] == np.float32(39.5)


def test_v1_accepts_a_full_batch_and_unseen_categories() -> None:
    arrays = decode_v1(v1(*[with_(island="Atlantis")] * MAX), SPEC, MAX)
    assert arrays["island"].tolist() == ["Atlantis"] * MAX


@pytest.mark.parametrize(("payload", "fragments"), [
    ([ROW], ["request body", "object", "got array"]),
    ({"inputs": [ROW]}, ['missing "instances"']),
    ({"instances": ROW}, ['"instances"', "expected a list", "got object"]),
    (v1(), ["instances", "empty batch"]),
    (v1(*[ROW] * (MAX + 1)), ["batch of 5 rows", "limit of 4"]),
    (v1(ROW, "Dream"), ["instances[1]", "object", "list", "got string"]),
    (v1(["Dream", 39.5, "2008"]),
     ["instances[0]", "needs 4 values", "[island, bill_length_mm, year, flipper_length_mm]", "got 3"]),
    (v1(ROW, ROW, ROW, without("island")), ["instances[3]", "missing feature 'island' (string)"]),
    (v1(without("bill_length_mm")), ["missing feature 'bill_length_mm' (number)"]),
    (v1(without("year")), ["missing feature 'year' (string or integer)"]),
    (v1(with_(sex="male")), ["instances[0]", "unknown feature 'sex'",
                             "known: island, bill_length_mm, year, flipper_length_mm"]),
    (v1({**without("island"), "isle": "Dream"}), ["unknown feature 'isle'", "missing feature 'island'"]),
    (v1(ROW, with_(bill_length_mm=True)), ["instances[1], feature 'bill_length_mm'", "expected number", "got boolean"]),
    (v1(with_(bill_length_mm="39.5")), ["feature 'bill_length_mm'", "expected number", "got string '39.5'"]),
    (v1(with_(flipper_length_mm=[181])), ["feature 'flipper_length_mm'", "got array"]),
    (v1(with_(island=3)), ["feature 'island'", "expected string or null", "got integer 3"]),
    (v1(with_(year=2008.0)), ["feature 'year'", "expected string or integer", "got number 2008.0"]),
    (v1(with_(year=True)), ["feature 'year'", "got boolean"]),
    (v1(ROW, with_(bill_length_mm=float("nan"))), ["instances[1], feature 'bill_length_mm'", "non-finite number nan"]),
    (v1(with_(flipper_length_mm=float("-inf"))), ["feature 'flipper_length_mm'", "non-finite number -inf"]),
    (v1(with_(bill_length_mm=1e39)), ["feature 'bill_length_mm'", "outside the float32 range"]),
    (v1(ROW, with_(bill_length_mm=10**400)), ["instances[1], feature 'bill_length_mm'", "outside the float32 range"]),
])
def test_v1_refusals_name_the_field(payload: object, fragments: list[str]) -> None:
    refused(lambda: decode_v1(payload, SPEC, MAX), *fragments)


def test_request_error_is_a_value_error() -> None:
    assert issubclass(RequestError, ValueError)


def test_v1_refusals_survive_a_json_round_trip() -> None:
    # NaN reaches the server through Python's json, which parses the NaN token.
    body = json.loads('{"instances": [{"island": "Dream", "bill_length_mm": NaN, "year": 2008, '
                      '"flipper_length_mm": 1}]}')
    refused(lambda: decode_v1(body, SPEC, MAX), "instances[0], feature 'bill_length_mm'", "non-finite")


# --- V2 -------------------------------------------------------------------------------------------

def test_v2_decodes_like_v1() -> None:
    arrays = decode_v2(v2(COLUMNS), SPEC, MAX)
    expected = decode_v1(v1(*[dict(zip(COLUMNS, values)) for values in zip(*COLUMNS.values())]), SPEC, MAX)
    assert list(arrays) == list(expected)
    for name in arrays:
        assert arrays[name].dtype == expected[name].dtype
        np.testing.assert_array_equal(arrays[name], expected[name])


def test_v2_accepts_shape_n_by_1_flat_or_nested_numpy_data_and_integer_types() -> None:
    inputs = v2(COLUMNS,
                island={"shape": [2, 1], "data": [b"Dream", "Biscoe"]},
                bill_length_mm={"shape": [2, 1], "data": [[39.5], [46.1]], "datatype": "FP64"},
                year={"data": np.array([b"2008", b"2009"], dtype=object)},
                flipper_length_mm={"datatype": "INT64", "data": np.array([181, 211], np.int64)})
    arrays = decode_v2(inputs, SPEC, MAX)
    assert arrays["island"].tolist() == ["Dream", "Biscoe"]
    np.testing.assert_array_equal(arrays["bill_length_mm"], np.array([39.5, 46.1], np.float32))
    assert arrays["year"].tolist() == ["2008", "2009"]
    assert arrays["flipper_length_mm"].dtype == np.float32 and arrays["flipper_length_mm"].tolist() == [181.0, 211.0]


def test_v2_null_is_missing() -> None:
    arrays = decode_v2(v2({**COLUMNS, "island": [None, "Dream"], "bill_length_mm": [None, 1.0]}), SPEC, MAX)
    assert arrays["island"].tolist() == ["", "Dream"]
    assert math.isnan(arrays["bill_length_mm"][0]) and arrays["bill_length_mm"][1] == 1.0


def test_v2_input_order_does_not_matter() -> None:
    arrays = decode_v2(list(reversed(v2(COLUMNS))), SPEC, MAX)
    assert list(arrays) == SPEC.names and arrays["island"].tolist() == COLUMNS["island"]


@pytest.mark.parametrize(("inputs", "fragments"), [
    ({"inputs": []}, ['"inputs"', "expected a list", "got object"]),
    ([*v2(COLUMNS), "island"], ["inputs[4]", 'string "name"']),
    ([*v2(COLUMNS), v2(COLUMNS)[0]], ["input 'island'", "given twice"]),
    (v2({k: v for k, v in COLUMNS.items() if k != "island"}), ["missing input 'island' (BYTES)"]),
    (v2({k: v for k, v in COLUMNS.items() if k != "bill_length_mm"}), ["missing input 'bill_length_mm' (FP32)"]),
    ([*v2(COLUMNS), {"name": "sex", "shape": [2], "datatype": "BYTES", "data": ["a", "b"]}],
     ["unknown input 'sex'", "known: island, bill_length_mm, year, flipper_length_mm"]),
    (v2(COLUMNS, island={"datatype": "FP32"}), ["input 'island'", "datatype 'FP32'", "expected BYTES"]),
    (v2(COLUMNS, bill_length_mm={"datatype": "BYTES"}), ["input 'bill_length_mm'", "datatype 'BYTES'",
                                                         "expected FP32 or FP64 or INT32 or INT64"]),
    (v2(COLUMNS, year={"datatype": None}), ["input 'year'", "datatype None", "expected BYTES"]),
    (v2(COLUMNS, island={"shape": [2, 2]}), ["input 'island'", "shape [2, 2]", "expected [n] or [n, 1]"]),
    (v2(COLUMNS, island={"shape": [1, 2]}), ["shape [1, 2]", "expected [n] or [n, 1]"]),
    (v2(COLUMNS, island={"shape": "2"}), ["input 'island'", "expected [n] or [n, 1]"]),
    (v2(COLUMNS, island={"shape": [-2]}), ["shape [-2]"]),
    (v2(COLUMNS, year={"shape": [3]}), ["input 'year'", "shape [3] needs 3 values, data has 2"]),
    (v2(COLUMNS, year={"data": [["2008"], ["2009"]]}), ["input 'year'", "nested data needs shape [n, 1]"]),
    (v2(COLUMNS, year={"shape": [2, 1], "data": [["2008", "x"], ["2009"]]}), ["nested data", "one value per row"]),
    (v2(COLUMNS, year={"data": "2008"}), ["input 'year'", "data must be a list", "got string"]),
    (v2({**COLUMNS, "year": ["2008"]}), ["input 'year'", "1 rows", "input 'island' has 2"]),
    (v2({k: [] for k in COLUMNS}), ["input 'island'", "empty batch"]),
    (v2({k: v * 3 for k, v in COLUMNS.items()}), ["batch of 6 rows", "limit of 4"]),
    (v2({**COLUMNS, "bill_length_mm": [1.0, float("inf")]}),
     ["input 'bill_length_mm', data[1]", "non-finite number inf"]),
    (v2({**COLUMNS, "bill_length_mm": [1.0, "2"]}),
     ["input 'bill_length_mm', data[1]", "expected number", "string '2'"]),
    (v2({**COLUMNS, "flipper_length_mm": [181, 2.5]}, flipper_length_mm={"datatype": "INT32"}),
     ["input 'flipper_length_mm', data[1]", "expected integer or null", "got number 2.5"]),
    (v2({**COLUMNS, "island": [b"\xff", "Dream"]}), ["input 'island', data[0]", "not UTF-8"]),
    (v2({**COLUMNS, "island": [1.5, "Dream"]}), ["input 'island', data[0]", "expected string or null", "number 1.5"]),
])
def test_v2_refusals_name_the_field(inputs: Any, fragments: list[str]) -> None:
    refused(lambda: decode_v2(inputs, SPEC, MAX), *fragments)


# --- outputs --------------------------------------------------------------------------------------

PROBABILITIES = np.array([[0.7, 0.2, 0.1], [0.05, 0.15, 0.8]], np.float32)


def test_encode_v1_classification_gives_the_best_label_and_every_probability() -> None:
    body = encode_v1(PROBABILITIES, SPEC)
    assert [p["label"] for p in body["predictions"]] == ["Adelie", "Gentoo"]
    assert list(body["predictions"][1]["probabilities"]) == CLASSES
    assert body["predictions"][1]["probabilities"]["Gentoo"] == pytest.approx(0.8)
    assert json.loads(json.dumps(body)) == body  # plain Python values


def test_encode_v1_regression_from_n_or_n_by_1() -> None:
    assert encode_v1(np.array([4100.5, 3900.0], np.float32), REGRESSION) == {
        "predictions": [{"value": 4100.5}, {"value": 3900.0}]}
    assert encode_v1(np.array([[4100.5]], np.float32), REGRESSION) == {"predictions": [{"value": 4100.5}]}


def test_v2_outputs_classification_label_and_flat_probabilities() -> None:
    label, probabilities = v2_outputs(PROBABILITIES, SPEC)
    assert label == {"name": "label", "datatype": "BYTES", "shape": [2], "data": ["Adelie", "Gentoo"]}
    assert probabilities["name"] == "probabilities" and probabilities["datatype"] == "FP32"
    assert probabilities["shape"] == [2, 3]
    assert probabilities["data"] == pytest.approx([0.7, 0.2, 0.1, 0.05, 0.15, 0.8])
    assert all(type(p) is float for p in probabilities["data"])


def test_v2_outputs_regression() -> None:
    assert v2_outputs(np.array([4100.5, 3900.0], np.float32), REGRESSION) == [
        {"name": "value", "datatype": "FP32", "shape": [2], "data": [4100.5, 3900.0]}]


@pytest.mark.parametrize(("outputs", "spec"), [
    (np.zeros((2, 2), np.float32), SPEC),
    (np.zeros(3, np.float32), SPEC),
    (np.zeros((2, 3), np.float32), REGRESSION),
])
def test_outputs_that_do_not_fit_the_spec_are_a_server_error_not_a_bad_request(outputs: np.ndarray,
                                                                                spec: FeatureSpec) -> None:
    with pytest.raises(ValueError, match="model output of shape") as caught:
        encode_v1(outputs, spec)
    assert not isinstance(caught.value, RequestError)


def test_v2_metadata_classification() -> None:
    meta = v2_metadata(SPEC, "penguins", ["3"])
    assert meta["name"] == "penguins" and meta["versions"] == ["3"]
    assert meta["platform"] == "tensorflow_savedmodel"
    assert meta["inputs"] == [
        {"name": "island", "datatype": "BYTES", "shape": [-1]},
        {"name": "bill_length_mm", "datatype": "FP32", "shape": [-1]},
        {"name": "year", "datatype": "BYTES", "shape": [-1]},
        {"name": "flipper_length_mm", "datatype": "FP32", "shape": [-1]},
    ]
    assert meta["outputs"] == [{"name": "label", "datatype": "BYTES", "shape": [-1]},
                               {"name": "probabilities", "datatype": "FP32", "shape": [-1, 3]}]


def test_v2_metadata_regression_and_metadata_inputs_are_accepted_by_decode_v2() -> None:
    meta = v2_metadata(REGRESSION, "mass", [])
    assert meta["outputs"] == [{"name": "value", "datatype": "FP32", "shape": [-1]}]
    inputs = [{**i, "shape": [2], "data": COLUMNS[i["name"]]} for i in meta["inputs"]]
    assert decode_v2(inputs, REGRESSION, MAX)["year"].tolist() == ["2008", "2009"]
