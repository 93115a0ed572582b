"""The monitoring baseline a bundle carries: frozen bins with their training counts, made with the model.

Numeric feature: edges at the training deciles (between the training min and max), plus an
underflow bin (below the training min), an overflow bin (above the training max) and a missing
bin. Categorical feature: its vocabulary, plus an "unseen" bin and a missing bin. The model's own
predictions on the eval split are frozen the same way (class counts, or value bins), and a
classifier's calibration, fitted on the eval split (components/lib/calibration.py). Served rows
are counted into the same bins by `bin_counts`, so monitoring any version, or a rolled-back one,
needs nothing but its bundle. Files: `baseline/bins.json`, `baseline/schema.pbtxt`, and
`baseline/train.stats.pb` (TFDV statistics of the train split) when the pipeline provides them.
"""

from __future__ import annotations

import json
import shutil
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Iterable

import numpy as np
import pandas as pd

from components.errors import LooplineInputError
from components.lib import uri as uri_io
from components.lib.bundle import CATEGORICAL, CLASSIFICATION, NUMERIC, FeatureSpec
from components.lib.calibration import fit_calibration

BASELINE_DIR = "baseline"
BINS_FILE = "bins.json"
SCHEMA_FILE = "schema.pbtxt"
STATISTICS_FILE = "train.stats.pb"
PREDICTION = "prediction"  # the name the model's own output is binned under
UNDERFLOW, OVERFLOW, UNSEEN, MISSING = "underflow", "overflow", "unseen", "missing"
QUANTILES = np.linspace(0.1, 0.9, 9)  # training deciles


@dataclass(frozen=True)
class Bins:
    """One feature's frozen bins: `labels` in bin order and the training `counts` per bin."""

    name: str
    kind: str  # NUMERIC: edges; CATEGORICAL: vocabulary
    labels: list[str]
    counts: list[int]
    edges: list[float] = field(default_factory=list)
    vocabulary: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Baseline:
    """Every feature's bins and the prediction's, with the row counts they were made from."""

    features: list[Bins]
    prediction: Bins
    train_rows: int
    eval_rows: int
    calibration: dict[str, Any] | None = None  # classification: components/lib/calibration.Calibration's fields

    def by_name(self) -> dict[str, Bins]:
        """The features' bins by feature name."""
        return {bins.name: bins for bins in self.features}


def numeric_bins(name: str, values: np.ndarray) -> Bins:
    """Bins at the deciles of `values` (NaN is missing), with underflow, overflow and missing bins."""
    present = values[~np.isnan(values)]
    if present.size == 0:
        edges: list[float] = []
    else:
        cuts = np.quantile(present, QUANTILES)
        edges = [float(v) for v in np.unique(np.concatenate([[present.min()], cuts, [present.max()]]))]
    last = len(edges) - 2
    inner = [f"[{a:.6g}, {b:.6g}{']' if i == last else ')'}" for i, (a, b) in enumerate(zip(edges, edges[1:]))]
    if len(edges) == 1:
        inner = [f"[{edges[0]:.6g}]"]
    labels = [UNDERFLOW, *inner, OVERFLOW, MISSING]
    empty = Bins(name, NUMERIC, labels, [0] * len(labels), edges=edges)
    return Bins(name, NUMERIC, labels, [int(c) for c in bin_counts(empty, values)], edges=edges)


def categorical_bins(name: str, vocabulary: Iterable[str], values: np.ndarray) -> Bins:
    """Bins for each vocabulary value, then unseen and missing ("" or None)."""
    vocabulary = [str(v) for v in vocabulary]
    labels = [*vocabulary, UNSEEN, MISSING]
    empty = Bins(name, CATEGORICAL, labels, [0] * len(labels), vocabulary=vocabulary)
    return Bins(name, CATEGORICAL, labels, [int(c) for c in bin_counts(empty, values)], vocabulary=vocabulary)


def bin_counts(bins: Bins, values: np.ndarray) -> np.ndarray:
    """Counts per bin of `bins` for raw values: numbers as floats (NaN missing), categories as strings ("" missing)."""
    counts = np.zeros(len(bins.labels), dtype=np.int64)
    if bins.kind == CATEGORICAL:
        # Hash each distinct value once (pandas, in C), then place the few distinct ones in Python.
        codes, distinct = pd.factorize(np.asarray(values, dtype=object))
        index = {value: i for i, value in enumerate(bins.vocabulary)}
        missing_slot = len(counts) - 1
        slots = np.array([missing_slot if str(v) == "" else index.get(str(v), len(index)) for v in distinct] +
                         [missing_slot], dtype=np.int64)  # the last entry: code -1 (None, NaN)
        return np.bincount(slots[codes], minlength=len(counts)).astype(np.int64)
    numbers = np.asarray(values, dtype=np.float64)
    missing = np.isnan(numbers)
    present = numbers[~missing]
    counts[-1] = int(missing.sum())
    if not bins.edges:
        counts[-2] = present.size  # no training values: everything served is outside the (empty) range
        return counts
    low, high = bins.edges[0], bins.edges[-1]
    counts[0] = int((present < low).sum())
    counts[-2] = int((present > high).sum())
    inside = present[(present >= low) & (present <= high)]
    interior = max(len(bins.edges) - 1, 1)
    slot = np.clip(np.searchsorted(bins.edges, inside, side="right") - 1, 0, interior - 1)
    counts[1:1 + interior] = np.bincount(slot, minlength=interior)
    return counts


def feature_bins(spec: FeatureSpec, train_arrays: dict[str, np.ndarray]) -> list[Bins]:
    """Every feature's bins over raw train values in memory (components/train/train_bins.py streams them)."""
    return [numeric_bins(f.name, train_arrays[f.name]) if f.kind == NUMERIC
            else categorical_bins(f.name, f.vocabulary, train_arrays[f.name]) for f in spec.features]


def make_baseline(spec: FeatureSpec, features: list[Bins], train_rows: int, eval_outputs: np.ndarray,
                  eval_labels: np.ndarray | None = None) -> Baseline:
    """The baseline of a model: the train split's feature bins and bins of its eval predictions
    (class probabilities (n, k) -> predicted class counts; values (n,) -> value bins), and for a classifier
    with its eval labels (class indices) the calibration monitoring's estimates use."""
    prediction = prediction_bins(spec, eval_outputs)
    calibration = (fit_calibration(eval_outputs, eval_labels).to_dict()
                   if spec.task == CLASSIFICATION and eval_labels is not None else None)
    return Baseline(features, prediction, train_rows, int(len(eval_outputs)), calibration)


def prediction_bins(spec: FeatureSpec, outputs: np.ndarray) -> Bins:
    """The model's outputs binned: predicted classes for classification, value deciles for regression."""
    if spec.task == CLASSIFICATION:
        return categorical_bins(PREDICTION, spec.classes, predicted_labels(spec, outputs))
    return numeric_bins(PREDICTION, np.asarray(outputs, dtype=np.float64).reshape(-1))


def predicted_labels(spec: FeatureSpec, probabilities: np.ndarray) -> np.ndarray:
    """Class names of the most probable class per row."""
    return np.asarray(spec.classes, dtype=object)[np.argmax(np.asarray(probabilities), axis=1)]


def write_baseline(bundle_dir: Path, baseline: Baseline, schema_path: Path,
                   statistics_path: Path | None = None) -> None:
    """Write `baseline/` into a bundle folder: the bins, the schema, and the train statistics if given."""
    folder = Path(bundle_dir) / BASELINE_DIR
    folder.mkdir(parents=True, exist_ok=True)
    (folder / BINS_FILE).write_text(json.dumps(asdict(baseline), indent=1))
    shutil.copyfile(schema_path, folder / SCHEMA_FILE)
    if statistics_path is not None:
        shutil.copyfile(statistics_path, folder / STATISTICS_FILE)


def read_baseline(bundle_dir: Path, version: str = "") -> Baseline:
    """The baseline of a bundle folder; a bundle made before baselines existed is a clear error naming the version."""
    return baseline_at(str(bundle_dir), version)


def baseline_at(bundle_uri: str, version: str = "") -> Baseline:
    """The baseline of a bundle at a local path or gs:// URI (a registry version's folder), reading only its bins."""
    path = uri_io.join(bundle_uri, BASELINE_DIR, BINS_FILE)
    what = f"model version {version} ({bundle_uri})" if version else f"bundle {bundle_uri}"
    text = uri_io.read_bytes_if_exists(path)
    if text is None:
        raise LooplineInputError(f"{what} has no monitoring baseline ({BASELINE_DIR}/{BINS_FILE}): it was trained "
                                 "before loopline wrote baselines; retrain it to monitor it")
    try:
        raw: dict[str, Any] = json.loads(text)
        return Baseline([Bins(**b) for b in raw["features"]], Bins(**raw["prediction"]), int(raw["train_rows"]),
                        int(raw["eval_rows"]), raw.get("calibration"))
    except (ValueError, KeyError, TypeError) as err:
        raise LooplineInputError(f"{path}: not a loopline baseline: {type(err).__name__}: {err}") from err
