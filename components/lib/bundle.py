"""The model bundle: a SavedModel plus its input contract and provenance, one folder.

Light on purpose (json only): the registry, the evaluate step and the predictor in the serving
environment all read bundles without TensorFlow Data Validation or kfp.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

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

    def to_json(self) -> str:
        """The feature_spec.json text."""
        return json.dumps(asdict(self), indent=2, sort_keys=False)

    @classmethod
    def from_json(cls, text: str) -> "FeatureSpec":
        """Parse feature_spec.json."""
        raw = json.loads(text)
        return cls(
            label=raw["label"],
            task=raw["task"],
            features=[Feature(**f) for f in raw["features"]],
            classes=list(raw.get("classes", [])),
            label_mean=raw.get("label_mean"),
            label_std=raw.get("label_std"),
        )


def write_bundle_files(bundle_dir: Path, spec: FeatureSpec, metadata: dict[str, Any]) -> None:
    """Write feature_spec.json and metadata.json beside the SavedModel."""
    bundle_dir.mkdir(parents=True, exist_ok=True)
    (bundle_dir / FEATURE_SPEC_FILE).write_text(spec.to_json())
    (bundle_dir / METADATA_FILE).write_text(json.dumps(metadata, indent=2, sort_keys=True, default=str))


def read_bundle(bundle_dir: Path) -> tuple[FeatureSpec, dict[str, Any]]:
    """The feature spec and metadata of a bundle; refuses a folder that is not a whole bundle."""
    bundle_dir = Path(bundle_dir)
    missing = [n for n in (SAVED_MODEL_DIR, FEATURE_SPEC_FILE, METADATA_FILE) if not (bundle_dir / n).exists()]
    if missing:
        raise LooplineInputError(f"{bundle_dir} is not a model bundle: missing {', '.join(missing)}")
    spec = FeatureSpec.from_json((bundle_dir / FEATURE_SPEC_FILE).read_text())
    return spec, json.loads((bundle_dir / METADATA_FILE).read_text())
