"""The model bundle: a SavedModel plus its input contract and provenance, one folder.

Light on purpose (json only): the registry, the evaluate step and the predictor in the serving
environment all read bundles without TensorFlow Data Validation or kfp.
"""

from __future__ import annotations

import dataclasses
import json
import re
import types
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, get_args, get_origin, get_type_hints

from components.errors import LooplineInputError

SAVED_MODEL_DIR = "saved_model"
FEATURE_SPEC_FILE = "feature_spec.json"
METADATA_FILE = "metadata.json"
SIGNATURE = "serving_default"
# Explanations: raw features -> the encoded vector the dense layers see, and that vector -> output.
ENCODE_SIGNATURE = "encode"
HEAD_SIGNATURE = "head"
ENCODED = "encoded"
CLASSIFICATION = "classification"
REGRESSION = "regression"
NUMERIC = "numeric"
CATEGORICAL = "categorical"
TASKS = (CLASSIFICATION, REGRESSION)
KINDS = (NUMERIC, CATEGORICAL)
DTYPES = ("float", "int", "string")


SAFE_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_]{0,63}")


def input_names(names: list[str]) -> list[str]:
    """Tensor names for columns in order: a name that is a safe identifier stays; any other (spaces, `/`, dots,
    brackets, a leading digit, non-ASCII) becomes its ASCII letters and digits with `_` and its position, unique.
    Keras and TensorFlow refuse such characters in input and scope names; the columns keep their own names."""
    kept = {name for name in names if SAFE_NAME.fullmatch(name)}
    chosen, taken = [], set(kept)
    for index, name in enumerate(names):
        if name in kept:
            chosen.append(name)
            continue
        stem = re.sub(r"[^A-Za-z0-9]+", "_", name).strip("_")[:48]
        candidate = f"{stem if stem[:1].isalpha() else 'f_' + stem}_{index}".replace("__", "_")
        while candidate in taken:
            candidate += "_"
        taken.add(candidate)
        chosen.append(candidate)
    return chosen


@dataclass(frozen=True)
class Feature:
    """One model input: its kind and what the training data said about it."""

    name: str
    kind: str  # NUMERIC (float32 input) or CATEGORICAL (string input)
    dtype: str  # the column's type in the data: "float", "int" or "string"
    min: float | None = None
    max: float | None = None
    mean: float | None = None
    std: float | None = None
    vocabulary: list[str] = field(default_factory=list)
    missing_fraction: float = 0.0
    # The model's tensor name for this feature (`input_names`): the column name when it is a safe identifier,
    # else one derived from it. "" in bundles made before the field: the column name.
    input_name: str = ""

    @property
    def tensor_name(self) -> str:
        """The name the SavedModel's signatures take this feature under."""
        return self.input_name or self.name


@dataclass(frozen=True)
class FeatureSpec:
    """The input contract of a model: features in input order, label, task and label classes."""

    label: str
    task: str
    features: list[Feature]
    classes: list[str] = field(default_factory=list)
    label_mean: float | None = None  # regression: the model predicts in these units
    label_std: float | None = None

    @property
    def names(self) -> list[str]:
        """Feature names in input order."""
        return [f.name for f in self.features]

    def by_tensor_name(self, columns: dict[str, Any]) -> dict[str, Any]:
        """Per-feature values keyed by column name -> keyed by the model's tensor names (the signatures' keys)."""
        return {f.tensor_name: columns[f.name] for f in self.features}

    def to_json(self) -> str:
        """The feature_spec.json text."""
        return json.dumps(asdict(self), indent=2, sort_keys=False)

    @classmethod
    def from_json(cls, text: str | bytes, source: str = FEATURE_SPEC_FILE) -> "FeatureSpec":
        """Parse feature_spec.json; anything malformed is a LooplineInputError naming `source` and the field."""
        raw = _fields(cls, _parse(text, source), "", source, {"task": TASKS})
        features = [Feature(**_fields(Feature, item, f"features[{i}]", source, {"kind": KINDS, "dtype": DTYPES}))
                    for i, item in enumerate(raw["features"])]
        return cls(**{**raw, "features": features})


def _parse(data: str | bytes, source: str) -> Any:
    """The JSON value of a bundle file's content; unparseable content is a LooplineInputError naming the file."""
    try:
        return json.loads(data)
    except ValueError as err:  # JSONDecodeError, or bytes that are not UTF-8
        raise LooplineInputError(f"{source}: not valid JSON: {err}") from err


def _fields(cls: type, raw: Any, where: str, source: str, allowed: dict[str, tuple[str, ...]]) -> dict[str, Any]:
    """`raw` checked as the fields of dataclass `cls`: a JSON object with its required fields and no others, each
    value of its field's type (a nested dataclass: an object, checked by the caller) and one of `allowed` if listed."""
    scope, at = (f"{source}: {where}", f"{source}: {where}.") if where else (f"{source}: the file", f"{source}: ")
    if not isinstance(raw, dict):
        raise LooplineInputError(f"{scope} must be a JSON object, not {type(raw).__name__}")
    known = {f.name: f for f in dataclasses.fields(cls)}
    unknown = [name for name in raw if name not in known]
    if unknown:
        raise LooplineInputError(f"{scope} has unknown field(s) {', '.join(unknown)}; known: {', '.join(known)}")
    missing = [name for name, f in known.items() if name not in raw
               and f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING]
    if missing:
        raise LooplineInputError(f"{scope} lacks required field(s) {', '.join(missing)}")
    hints = get_type_hints(cls)
    for name, value in raw.items():
        if not _is_a(value, hints[name]):
            hint = hints[name]
            expected = hint.__name__ if isinstance(hint, type) else str(hint).replace(f"{__name__}.", "")
            raise LooplineInputError(f"{at}{name} must be {expected}, not {value!r}")
        if name in allowed and value not in allowed[name]:
            raise LooplineInputError(f"{at}{name} is {value!r}; allowed: {', '.join(allowed[name])}")
    return raw


def _is_a(value: Any, hint: Any) -> bool:
    """Whether a JSON value fits a field's type: a number is a float, list items are checked, unions are any."""
    if hint is float:
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    if isinstance(hint, types.UnionType):
        return any(_is_a(value, h) for h in get_args(hint))
    if get_origin(hint) is list:
        return isinstance(value, list) and all(_is_a(v, get_args(hint)[0]) for v in value)
    return isinstance(value, dict if dataclasses.is_dataclass(hint) else hint)


def write_bundle_files(bundle_dir: Path, spec: FeatureSpec, metadata: dict[str, Any]) -> None:
    """Write feature_spec.json and metadata.json beside the SavedModel."""
    bundle_dir.mkdir(parents=True, exist_ok=True)
    (bundle_dir / FEATURE_SPEC_FILE).write_text(spec.to_json())
    (bundle_dir / METADATA_FILE).write_text(json.dumps(metadata, indent=2, sort_keys=True, default=str))


def read_bundle(bundle_dir: Path) -> tuple[FeatureSpec, dict[str, Any]]:
    """The feature spec and metadata of a bundle; refuses a folder that is not a whole bundle, or a malformed file."""
    bundle_dir = Path(bundle_dir)
    missing = [n for n in (SAVED_MODEL_DIR, FEATURE_SPEC_FILE, METADATA_FILE) if not (bundle_dir / n).exists()]
    if missing:
        raise LooplineInputError(f"{bundle_dir} is not a model bundle: missing {', '.join(missing)}")
    spec_file, metadata_file = bundle_dir / FEATURE_SPEC_FILE, bundle_dir / METADATA_FILE
    metadata = _parse(metadata_file.read_bytes(), str(metadata_file))
    if not isinstance(metadata, dict):
        raise LooplineInputError(f"{metadata_file}: the file must be a JSON object, not {type(metadata).__name__}")
    return FeatureSpec.from_json(spec_file.read_bytes(), str(spec_file)), metadata
