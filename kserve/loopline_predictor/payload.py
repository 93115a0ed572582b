"""Request checking and decoding for the predictor, against a model's FeatureSpec (numpy only).

Every refusal is a RequestError whose message names the field (`instances[i]`, `input 'x'`, the
feature; indexes 0-based) and what was expected. null means a missing value in both protocols: NaN
for a number, "" for a category. V2 typed tensors have no null, but JSON clients have no other way to
send a missing number, so V2 accepts it too; NaN and Infinity are refused everywhere.
"""

from __future__ import annotations

import math
import sys
from typing import Any, Callable, Mapping, Sequence

import numpy as np

from components.lib.bundle import CATEGORICAL, CLASSIFICATION, NUMERIC, Feature, FeatureSpec

PLATFORM = "tensorflow_savedmodel"
BYTES = "BYTES"
FP32 = "FP32"
# Accepted V2 datatypes per feature kind, the advertised one first; the value says "integers only".
V2_DATATYPES = {CATEGORICAL: {BYTES: False}, NUMERIC: {FP32: False, "FP64": False, "INT32": True, "INT64": True}}
_FLOAT32_MAX = float(np.finfo(np.float32).max)
_NUMBER = frozenset({int, float, type(None)})
_INTEGER = frozenset({int, type(None)})
_TEXT = frozenset({str})
BOOLEAN_TEXT = {"true", "false", ""}  # how a boolean column reads as text (pyarrow cast), and missing
_JSON_TYPES = {type(None): "null", bool: "boolean", int: "integer", float: "number", str: "string",
               bytes: "bytes", list: "array", tuple: "array", dict: "object"}

Where = Callable[[int], str]


class RequestError(ValueError):
    """A bad request; the message names the field and what was expected (the predictor answers 400)."""


def decode_v1(payload: object, spec: FeatureSpec, max_batch_size: int) -> dict[str, np.ndarray]:
    """One 1-D array per feature from a V1 body {"instances": [...]}; each instance is an object
    {feature: value} or a list of values in feature order."""
    if not isinstance(payload, dict):
        raise RequestError(f'request body: expected an object {{"instances": [...]}}, got {_json_type(payload)}')
    if "instances" not in payload:
        raise RequestError('request body: missing "instances" (a list of objects or of value lists)')
    instances = payload["instances"]
    if not isinstance(instances, list):
        raise RequestError(f'"instances": expected a list, got {_json_type(instances)}')
    _check_batch("instances", len(instances), max_batch_size)
    names = spec.names
    known = set(names)
    rows = [_v1_row(index, instance, spec, names, known) for index, instance in enumerate(instances)]
    return {f.name: _column(f, column, _at("instances", f", feature {f.name!r}"), integers_only=False)
            for f, column in zip(spec.features, zip(*rows))}


def decode_v2(inputs: list[dict[str, Any]], spec: FeatureSpec, max_batch_size: int) -> dict[str, np.ndarray]:
    """One 1-D array per feature from Open Inference Protocol inputs {"name", "shape", "datatype", "data"}
    (data: a list, flat or [[v], ...] for shape [n, 1], or a numpy array)."""
    if not isinstance(inputs, list):
        raise RequestError(f'"inputs": expected a list of tensors, got {_json_type(inputs)}')
    by_name: dict[str, dict[str, Any]] = {}
    for index, item in enumerate(inputs):
        if not isinstance(item, dict) or not isinstance(item.get("name"), str):
            raise RequestError(f'inputs[{index}]: expected an object with a string "name"')
        if item["name"] in by_name:
            raise RequestError(f"input {item['name']!r}: given twice")
        by_name[item["name"]] = item
    if by_name.keys() != set(spec.names):
        raise RequestError(_name_problems("inputs", by_name, spec, "input", v2_datatype))
    arrays: dict[str, np.ndarray] = {}
    first, rows = spec.features[0].name, 0
    for feature in spec.features:
        item = by_name[feature.name]
        accepted = _accepted(feature)
        datatype = item.get("datatype")
        if not isinstance(datatype, str) or datatype not in accepted:
            raise RequestError(f"input {feature.name!r}: datatype {datatype!r}, expected {' or '.join(accepted)}")
        values = _v2_values(feature.name, item)
        if feature.name == first:
            _check_batch(f"input {first!r}", len(values), max_batch_size)
            rows = len(values)
        elif len(values) != rows:
            raise RequestError(f"input {feature.name!r}: {len(values)} rows, but input {first!r} has {rows}")
        arrays[feature.name] = _column(feature, values, _at(f"input {feature.name!r}, data", ""), accepted[datatype])
    return arrays


def encode_v1(outputs: np.ndarray, spec: FeatureSpec) -> dict[str, list[dict[str, Any]]]:
    """The V1 response: {"predictions": [{"label", "probabilities": {class: p}}, ...]} or [{"value"}, ...]."""
    if spec.task == CLASSIFICATION:
        labels, probabilities = _classify(outputs, spec)
        return {"predictions": [{"label": label, "probabilities": dict(zip(spec.classes, row))}
                                for label, row in zip(labels, probabilities.tolist())]}
    return {"predictions": [{"value": value} for value in _values(outputs).tolist()]}


def v2_outputs(outputs: np.ndarray, spec: FeatureSpec) -> list[dict[str, Any]]:
    """V2 output tensors: "label" (BYTES [n]) and "probabilities" (FP32 [n, k]), or "value" (FP32 [n])."""
    if spec.task == CLASSIFICATION:
        labels, probabilities = _classify(outputs, spec)
        return [{"name": "label", "datatype": BYTES, "shape": [len(labels)], "data": labels},
                {"name": "probabilities", "datatype": FP32, "shape": list(probabilities.shape),
                 "data": probabilities.ravel().tolist()}]
    values = _values(outputs)
    return [{"name": "value", "datatype": FP32, "shape": [len(values)], "data": values.tolist()}]


def v2_metadata(spec: FeatureSpec, name: str, versions: list[str]) -> dict[str, Any]:
    """V2 model metadata: one input per feature, and the outputs of v2_outputs with a batch dimension of -1."""
    empty = np.zeros((0, len(spec.classes)) if spec.task == CLASSIFICATION else (0,), np.float32)
    return {
        "name": name,
        "versions": list(versions),
        "platform": PLATFORM,
        "inputs": [{"name": f.name, "datatype": v2_datatype(f), "shape": [-1]} for f in spec.features],
        "outputs": [{"name": t["name"], "datatype": t["datatype"], "shape": [-1, *t["shape"][1:]]}
                    for t in v2_outputs(empty, spec)],
    }


def _is_boolean(feature: Feature) -> bool:
    """A feature trained from a boolean column (its categories are Arrow's text for true and false)."""
    return bool(feature.vocabulary) and set(feature.vocabulary) <= BOOLEAN_TEXT


def _accepted(feature: Feature) -> dict[str, bool]:
    """The V2 datatypes an input takes, each with whether it holds integers only: an integer-coded category
    takes INT32/INT64 tensors besides BYTES."""
    if feature.kind == CATEGORICAL and feature.dtype == "int" and not _is_boolean(feature):
        return {**V2_DATATYPES[CATEGORICAL], "INT64": True, "INT32": True}
    return V2_DATATYPES[feature.kind]


def v2_datatype(feature: Feature) -> str:
    """The V2 datatype advertised for a feature: BYTES for a category, FP32 for a number."""
    return next(iter(V2_DATATYPES[feature.kind]))


def _v1_row(index: int, instance: object, spec: FeatureSpec, names: list[str], known: set[str]) -> Sequence[object]:
    """The values of one V1 instance in feature order."""
    if isinstance(instance, dict):
        if instance.keys() != known:
            raise RequestError(_name_problems(f"instances[{index}]", instance, spec, "feature", _expected))
        return [instance[name] for name in names]
    if isinstance(instance, list):
        if len(instance) != len(names):
            raise RequestError(f"instances[{index}]: a list instance needs {len(names)} values in feature order "
                               f"[{', '.join(names)}], got {len(instance)}")
        return instance
    raise RequestError(f"instances[{index}]: expected an object {{feature: value}} or a list of values, "
                       f"got {_json_type(instance)}")


def _v2_values(name: str, item: Mapping[str, Any]) -> list[object]:
    """The flat data of one V2 input; refuses a shape other than [n] or [n, 1] and data that does not fill it."""
    shape = item.get("shape")
    if not (isinstance(shape, (list, tuple)) and len(shape) in (1, 2) and all(type(d) is int for d in shape)
            and shape[0] >= 0 and list(shape[1:]) in ([], [1])):
        raise RequestError(f"input {name!r}: shape {shape!r}, expected [n] or [n, 1]")
    data = item.get("data")
    if isinstance(data, np.ndarray):
        data = data.ravel().tolist()
    elif not isinstance(data, list):
        raise RequestError(f"input {name!r}: data must be a list, got {_json_type(data)}")
    elif data and type(data[0]) is list:  # nested rows, one value each, as the protocol allows for [n, 1]
        if len(shape) != 2 or any(type(row) is not list or len(row) != 1 for row in data):
            raise RequestError(f"input {name!r}: nested data needs shape [n, 1] and one value per row")
        data = [row[0] for row in data]
    if len(data) != shape[0]:
        raise RequestError(f"input {name!r}: shape {list(shape)} needs {shape[0]} values, data has {len(data)}")
    return data


def _check_batch(where: str, size: int, max_batch_size: int) -> None:
    """Refuses an empty batch and one over the limit."""
    if size == 0:
        raise RequestError(f"{where}: empty batch, send at least one row")
    if size > max_batch_size:
        raise RequestError(f"{where}: batch of {size} rows is over the limit of {max_batch_size}")


def _name_problems(where: str, given: Mapping[str, object], spec: FeatureSpec, noun: str,
                   describe: Callable[[Feature], str]) -> str:
    """The message for names that are not the spec's features: the unknown ones, then the missing ones."""
    names = spec.names
    unknown = [repr(name) for name in given if name not in names]
    missing = [f"{noun} {f.name!r} ({describe(f)})" for f in spec.features if f.name not in given]
    parts = [f"unknown {noun} {', '.join(unknown)} (known: {', '.join(names)})"] if unknown else []
    if missing:
        parts.append(f"missing {', '.join(missing)}")
    return f"{where}: {'; '.join(parts)}"


def _column(feature: Feature, values: Sequence[object], where: Where, integers_only: bool) -> np.ndarray:
    """The model input of one feature: float32 for a number, object array of str for a category."""
    if feature.kind == CATEGORICAL:
        if _TEXT.issuperset(map(type, values)):
            return np.array(values, dtype=object)
        return np.array([_category(feature, value, where, index) for index, value in enumerate(values)], dtype=object)
    return _numbers(values, where, integers_only)


def _numbers(values: Sequence[object], where: Where, integers_only: bool) -> np.ndarray:
    """float32 with NaN for null; refuses anything but numbers (bools and numeric strings too) and
    numbers float32 cannot hold."""
    allowed = _INTEGER if integers_only else _NUMBER
    if not allowed.issuperset(map(type, values)):
        index, value = next((i, v) for i, v in enumerate(values) if type(v) not in allowed)
        raise RequestError(f"{where(index)}: expected {'integer' if integers_only else 'number'} or null, "
                           f"got {_show(value)}")
    try:
        wide = np.array(values, dtype=np.float64)  # None -> NaN
    except OverflowError:  # an integer beyond float64
        index = next(i for i, v in enumerate(values) if v is not None and abs(v) > sys.float_info.max)
        raise RequestError(f"{where(index)}: {_show(values[index])} is outside the float32 range") from None
    for index in np.flatnonzero(~(np.abs(wide) <= _FLOAT32_MAX)).tolist():  # NaN, inf, too large
        value = values[index]
        if value is None:
            continue
        if not math.isfinite(value):
            raise RequestError(f"{where(index)}: non-finite number {value!r}; send null for a missing value")
        raise RequestError(f"{where(index)}: {_show(value)} is outside the float32 range")
    return wide.astype(np.float32)


def _category(feature: Feature, value: object, where: Where, index: int) -> str:
    """One category as str: null -> "" (missing), bytes decoded as UTF-8, an integer for an int-typed feature,
    a JSON boolean for a feature trained from a boolean column."""
    if value is None:
        return ""
    if type(value) is str:
        return value
    if type(value) is bytes:
        try:
            return value.decode("utf-8")
        except UnicodeDecodeError:
            raise RequestError(f"{where(index)}: bytes that are not UTF-8") from None
    if _is_boolean(feature):
        if type(value) is bool:
            return "true" if value else "false"  # a boolean column trains on Arrow's text for it
    elif type(value) is int and feature.dtype == "int":
        return str(value)
    raise RequestError(f"{where(index)}: expected {_expected(feature)} or null, got {_show(value)}")


def _classify(outputs: np.ndarray, spec: FeatureSpec) -> tuple[list[str], np.ndarray]:
    """Best class of each row and the (n, classes) float32 probabilities."""
    probabilities = np.asarray(outputs, dtype=np.float32)
    if probabilities.ndim != 2 or probabilities.shape[1] != len(spec.classes):
        raise ValueError(f"model output of shape {probabilities.shape} does not fit {len(spec.classes)} classes")
    return [spec.classes[i] for i in probabilities.argmax(axis=1).tolist()], probabilities


def _values(outputs: np.ndarray) -> np.ndarray:
    """Regression values as a float32 (n,) array, from (n,) or (n, 1)."""
    values = np.asarray(outputs, dtype=np.float32)
    if values.ndim not in (1, 2) or values.shape[1:] not in ((), (1,)):
        raise ValueError(f"model output of shape {values.shape} is not one value per row")
    return values.reshape(-1)


def _expected(feature: Feature) -> str:
    """The JSON type of a feature's values."""
    if feature.kind != CATEGORICAL:
        return "number"
    if _is_boolean(feature):
        return "boolean or string"
    return "string or integer" if feature.dtype == "int" else "string"


def _at(field: str, suffix: str) -> Where:
    """Names element i of a field in messages: field[i]suffix."""
    return lambda index: f"{field}[{index}]{suffix}"


def _json_type(value: object) -> str:
    """The JSON name of a value's type."""
    return _JSON_TYPES.get(type(value), type(value).__name__)


def _show(value: object) -> str:
    """A value's JSON type and short repr, for messages."""
    text = repr(value)
    return f"{_json_type(value)} {text if len(text) <= 40 else text[:37] + '...'}"
