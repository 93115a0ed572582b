"""TFDV's schema check of served rows (components/monitor/served_schema.py), with real TFDV on the penguins bundle."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from components.lib.baseline import baseline_at
from components.lib.datasets import parquet_files
from components.monitor import served_schema
from components.monitor.log_reading import values_of
from components.monitor.served_schema import bundle_schema, served_anomalies, served_batch


@pytest.fixture(scope="module")
def served(penguins_bundle: Path, penguins_splits: dict[str, Path]) -> dict[str, np.ndarray]:
    """The eval split's features as the log reader hands them over (floats with NaN, strings with "")."""
    table = pq.read_table(parquet_files(penguins_splits["eval"])[0])
    return {bins.name: values_of(table.column(bins.name), bins.kind, bins.name)
            for bins in baseline_at(str(penguins_bundle)).features}


def test_rows_like_the_training_data_have_no_anomalies(penguins_bundle: Path, served: dict[str, np.ndarray]) -> None:
    schema = bundle_schema(str(penguins_bundle))
    assert schema is not None and "species" in {f.name for f in schema.feature}  # the label is in the schema
    assert served_anomalies(schema, served, len(served["island"])) == []  # ... and not expected in served rows


def test_unseen_values_a_type_change_and_a_dropped_feature_are_named(
    penguins_bundle: Path, served: dict[str, np.ndarray]
) -> None:
    rows = len(served["island"])
    bad = dict(served)
    bad["island"] = np.where(np.arange(rows) < 5, "Atlantis", served["island"]).astype(object)
    mass = served["body_mass_g"].astype(object)
    mass[:2] = "heavy"
    bad["body_mass_g"] = mass
    bad["sex"] = np.full(rows, "", dtype=object)
    found = {(a.feature, a.short) for a in served_anomalies(bundle_schema(str(penguins_bundle)), bad, rows)}
    assert found == {("island", "Unexpected string values"), ("body_mass_g", "Unexpected data type"),
                     ("sex", "Column dropped")}


def test_columns_reach_tfdv_as_the_schema_types_them(penguins_bundle: Path, served: dict[str, np.ndarray]) -> None:
    batch = served_batch(bundle_schema(str(penguins_bundle)), served, len(served["island"]))
    types = dict(zip(batch.schema.names, batch.schema.types))
    assert types["year"] == pa.int64() and types["body_mass_g"] == pa.int64()  # INT in the schema: "2007" -> 2007
    assert types["bill_length_mm"] == pa.float64() and types["island"] == pa.string()
    assert "species" not in types and batch.column(batch.schema.names.index("sex")).null_count == int(
        (served["sex"] == "").sum())


def test_large_windows_are_checked_on_a_seeded_sample(
    penguins_bundle: Path, served: dict[str, np.ndarray], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(served_schema, "SAMPLE_ROWS", 10)
    schema = bundle_schema(str(penguins_bundle))
    first = served_batch(schema, served, len(served["island"]))
    assert first.num_rows == 10 and first.equals(served_batch(schema, served, len(served["island"])))
