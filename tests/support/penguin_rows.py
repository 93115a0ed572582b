"""Session fixtures of the monitor and exposition tests: the real penguins bundle's scorer and the penguins it was
trained on (with and without their species)."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from components.lib.datasets import parquet_files
from components.lib.inference import BundleModel


@pytest.fixture(scope="session")
def scorer(penguins_bundle: Path) -> BundleModel:
    return BundleModel(penguins_bundle)


@pytest.fixture(scope="session")
def labelled_rows(penguins_splits: dict[str, Path], scorer: BundleModel) -> pa.Table:
    """Every penguin of both splits with its species: the population served traffic and its labels come from."""
    return pa.concat_tables([pq.read_table(parquet_files(penguins_splits[split])[0],
                                           columns=[*scorer.spec.names, scorer.spec.label])
                             for split in ("train", "eval")])


@pytest.fixture(scope="session")
def train_rows(labelled_rows: pa.Table, scorer: BundleModel) -> pa.Table:
    """The same penguins without the label: what served traffic of the training distribution is drawn from."""
    return labelled_rows.select(scorer.spec.names)
