"""A real registry holding stand-in bundles: feature_spec.json and metadata.json, no SavedModel.

Enough for code that reads a served version's contract (its task and classes) and milliseconds to build, where a
trained bundle takes TensorFlow and seconds; not for serving or scoring, which need the real one.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from components.lib.bundle import (
    CATEGORICAL,
    CLASSIFICATION,
    NUMERIC,
    REGRESSION,
    Feature,
    FeatureSpec,
    write_bundle_files,
)
from components.lib.registry import Registry

PENGUIN_CLASSES = ["Adelie", "Chinstrap", "Gentoo"]


def classification(classes: list[str]) -> FeatureSpec:
    """A penguins-like classifier's contract with these classes."""
    return FeatureSpec(label="species", task=CLASSIFICATION, classes=classes,
                       features=[Feature("island", CATEGORICAL, "string", vocabulary=["Biscoe", "Dream"]),
                                 Feature("bill_length_mm", NUMERIC, "float", min=30.0, max=60.0)])


def regression() -> FeatureSpec:
    """A body-mass regressor's contract."""
    return FeatureSpec(label="body_mass_g", task=REGRESSION, label_mean=4200.0, label_std=800.0,
                       features=[Feature("bill_length_mm", NUMERIC, "float", min=30.0, max=60.0)])


def spec_registry(root: str, specs: list[FeatureSpec], model: str = "penguins") -> str:
    """Register one stand-in bundle per spec as versions 1, 2, ... of `model` under `root`; returns `root`."""
    registry = Registry(root)
    for number, spec in enumerate(specs, start=1):
        with tempfile.TemporaryDirectory() as folder:
            write_bundle_files(Path(folder), spec, {"stand_in": True, "version": number})
            registry.register(model, Path(folder), f"run-{number}", {})
    return root
