"""The monitoring baseline: frozen bins, how served values fall into them, and its travel with the bundle."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq
import pytest
from hypothesis import given
from hypothesis import strategies as st

from components.errors import LooplineInputError
from components.lib.arrays import feature_arrays
from components.lib.baseline import (
    BASELINE_DIR,
    MISSING,
    OVERFLOW,
    PREDICTION,
    UNDERFLOW,
    UNSEEN,
    bin_counts,
    categorical_bins,
    numeric_bins,
    read_baseline,
)
from components.lib.bundle import read_bundle
from components.lib.datasets import parquet_files
from components.lib.registry import Registry


def test_numeric_bins_are_the_training_deciles_with_outer_and_missing_bins() -> None:
    values = np.concatenate([np.arange(1, 1001, dtype=np.float64), [np.nan] * 10])
    bins = numeric_bins("x", values)
    assert bins.labels[0] == UNDERFLOW and bins.labels[-2:] == [OVERFLOW, MISSING]
    assert bins.edges[0] == 1 and bins.edges[-1] == 1000 and len(bins.edges) == 11
    assert bins.counts[0] == 0 and bins.counts[-2] == 0 and bins.counts[-1] == 10
    assert all(99 <= c <= 101 for c in bins.counts[1:-2]), bins.counts  # a tenth of the rows each
    served = bin_counts(bins, np.array([0.5, 1.0, 1000.0, 1000.5, 2e6, np.nan]))
    assert served[0] == 1 and served[-2] == 2 and served[-1] == 1 and served[1] == 1 and served[-3] == 1


def test_categorical_bins_count_unseen_and_missing_apart() -> None:
    bins = categorical_bins("island", ["Biscoe", "Dream"], np.array(["Biscoe", "Dream", "Dream", ""], dtype=object))
    assert bins.labels == ["Biscoe", "Dream", UNSEEN, MISSING] and bins.counts == [1, 2, 0, 1]
    served = bin_counts(bins, np.array(["Atlantis", "Biscoe", None, "", "Atlantis"], dtype=object))
    assert served.tolist() == [1, 0, 2, 2]


def test_a_constant_and_an_all_missing_feature_still_have_bins() -> None:
    constant = numeric_bins("year", np.full(50, 2008.0))
    assert constant.counts == [0, 50, 0, 0]
    assert bin_counts(constant, np.array([2007.0, 2008.0, 2009.0])).tolist() == [1, 1, 1, 0]
    empty = numeric_bins("void", np.full(5, np.nan))
    assert empty.labels == [UNDERFLOW, OVERFLOW, MISSING] and empty.counts == [0, 0, 5]
    assert bin_counts(empty, np.array([1.0, np.nan])).tolist() == [0, 1, 1]


@given(st.lists(st.floats(allow_nan=True, allow_infinity=False, width=32), min_size=1, max_size=200),
       st.lists(st.floats(allow_nan=True, allow_infinity=True, width=32), max_size=200))
def test_every_served_value_lands_in_exactly_one_bin(train: list[float], served: list[float]) -> None:
    bins = numeric_bins("x", np.array(train, dtype=np.float64))
    assert sum(bins.counts) == len(train)
    assert int(bin_counts(bins, np.array(served, dtype=np.float64)).sum()) == len(served)


def test_the_bundle_carries_bins_that_reproduce_its_training_counts(
    penguins_bundle: Path, penguins_splits: dict[str, Path]
) -> None:
    """Re-binning the train split with the frozen bins gives the frozen counts: nothing was lost on the way."""
    spec, _ = read_bundle(penguins_bundle)
    baseline = read_baseline(penguins_bundle)
    assert [b.name for b in baseline.features] == spec.names
    table = pq.read_table(parquet_files(penguins_splits["train"])[0], columns=spec.names)
    arrays = feature_arrays(table, spec)
    for bins in baseline.features:
        assert bin_counts(bins, arrays[bins.name]).tolist() == bins.counts, bins.name
    assert baseline.train_rows == table.num_rows == sum(baseline.features[0].counts)
    assert baseline.prediction.name == PREDICTION and baseline.prediction.vocabulary == spec.classes
    assert sum(baseline.prediction.counts) == baseline.eval_rows > 0
    assert (penguins_bundle / BASELINE_DIR / "schema.pbtxt").read_text().strip()


def test_a_registered_version_brings_its_baseline_back(penguins_bundle: Path, tmp_path: Path) -> None:
    registry = Registry(str(tmp_path / "registry"))
    version = registry.register("penguins", penguins_bundle, "run-1", {})
    restored = registry.download("penguins", version.number, tmp_path / "restored")
    assert read_baseline(restored) == read_baseline(penguins_bundle)


def test_a_bundle_without_a_baseline_is_refused_naming_the_version(penguins_bundle: Path, tmp_path: Path) -> None:
    old = tmp_path / "old"
    shutil.copytree(penguins_bundle, old, ignore=shutil.ignore_patterns(BASELINE_DIR))
    with pytest.raises(LooplineInputError, match=r"model version 3 \(.*old\) has no monitoring baseline"):
        read_baseline(old, version="3")
    (old / BASELINE_DIR).mkdir()
    (old / BASELINE_DIR / "bins.json").write_text('{"features": []}')
    with pytest.raises(LooplineInputError, match="not a loopline baseline: KeyError"):
        read_baseline(old)
