"""The train split's baseline bins, streamed: exact below the sample size, every row counted above it."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyarrow.parquet as pq
import pytest

from components.lib.arrays import feature_arrays
from components.lib.baseline import feature_bins
from components.lib.bundle import CATEGORICAL
from components.lib.datasets import parquet_files
from components.train import train_bins
from components.train.feature_spec import build_feature_spec, load_schema


@pytest.fixture
def spec_and_files(penguins_splits: dict[str, Path]):
    files = parquet_files(penguins_splits["train"])
    return build_feature_spec(load_schema(penguins_splits["schema"]), files, "species", (), (), "auto")[0], files


def test_below_the_sample_size_the_bins_are_the_in_memory_ones(spec_and_files) -> None:
    spec, files = spec_and_files
    streamed, rows = train_bins.train_feature_bins(spec, files, seed=1)
    assert rows == 282
    assert streamed == feature_bins(spec, feature_arrays(pq.read_table(files[0]), spec))


def test_above_it_the_edges_come_from_a_sample_and_every_row_is_counted(spec_and_files, monkeypatch) -> None:
    spec, files = spec_and_files
    monkeypatch.setattr(train_bins, "SAMPLE_ROWS", 100)
    monkeypatch.setattr(train_bins, "READ_ROWS", 50)  # several batches per pass
    streamed, rows = train_bins.train_feature_bins(spec, files, seed=1)
    exact = {bins.name: bins for bins in feature_bins(spec, feature_arrays(pq.read_table(files[0]), spec))}
    assert rows == 282 and all(sum(bins.counts) == 282 for bins in streamed)
    numeric = [bins for bins in streamed if spec.features[spec.names.index(bins.name)].kind != CATEGORICAL]
    for bins in streamed:
        if bins not in numeric:
            assert bins == exact[bins.name]  # no edges to sample: the counts are exact
    assert any(bins.edges != exact[bins.name].edges for bins in numeric)  # deciles of a ~100-row sample
    mass = next(bins for bins in numeric if bins.name == "body_mass_g")
    np.testing.assert_allclose(mass.edges[1:-1], exact["body_mass_g"].edges[1:-1], rtol=0.1)
    again, _ = train_bins.train_feature_bins(spec, files, seed=1)
    assert again == streamed  # the sample is seeded
