"""Served traffic for monitoring and feedback tests: rows drawn from a table (optionally shifted), predicted by a
real bundle (or given outputs) and written as one prediction-log batch in the predictor's format (its own writer is
tested in tests/kserve/test_prediction_log.py)."""

from __future__ import annotations

import json
from datetime import datetime

import numpy as np
import pyarrow as pa

from components.lib import uri as uri_io
from components.lib.inference import BundleModel


def draw(table: pa.Table, rows: int, seed: int, shift: float = 0.0, unseen: float = 0.0) -> pa.Table:
    """`rows` rows drawn from `table`; optionally body_mass_g + `shift` and a share `unseen` of islands replaced."""
    rng = np.random.default_rng(seed)
    drawn = table.take(pa.array(rng.integers(0, table.num_rows, rows)))
    if shift:
        mass = drawn.column("body_mass_g").to_numpy().astype(float) + shift
        drawn = drawn.set_column(drawn.schema.get_field_index("body_mass_g"), "body_mass_g", pa.array(mass))
    if unseen:
        islands = np.asarray(drawn.column("island").to_pylist(), dtype=object)
        islands[rng.random(rows) < unseen] = "Atlantis"
        drawn = drawn.set_column(drawn.schema.get_field_index("island"), "island", pa.array(islands.tolist()))
    return drawn


def write_rows(log_uri: str, inputs: list[dict], outputs: list[dict], at: datetime, version: str = "1",
               model: str = "penguins", sample_rate: float = 1.0) -> list[str]:
    """Write served rows (inputs and outputs) as one prediction-log batch at time `at`, as the predictor writes it
    (one request); returns their inference ids."""
    stamp = at.isoformat(timespec="milliseconds")
    request_id = f"{stamp}-{version}"
    entries = [{"time": stamp, "model": model, "model_version": version, "request_id": request_id,
                "inference_id": f"{request_id}:{row}", "sample_rate": sample_rate, "inputs": row_inputs,
                "outputs": row_outputs}
               for row, (row_inputs, row_outputs) in enumerate(zip(inputs, outputs))]
    name = f"{stamp.replace(':', '')}-{version}.jsonl"
    uri_io.write_text(uri_io.join(log_uri, model, stamp[:10], name), "".join(json.dumps(e) + "\n" for e in entries))
    return [entry["inference_id"] for entry in entries]


def write_log(log_uri: str, rows: pa.Table, scorer: BundleModel, at: datetime, version: str = "1",
              model: str = "penguins", sample_rate: float = 1.0) -> list[str]:
    """Write `rows`, predicted by `scorer`, as one prediction-log batch at time `at`, as the predictor writes it;
    returns their inference ids."""
    outputs = [{"label": scorer.spec.classes[int(np.argmax(p))],
                "probabilities": dict(zip(scorer.spec.classes, map(float, p)))} for p in scorer.predict([rows])]
    return write_rows(log_uri, rows.to_pylist(), outputs, at, version, model, sample_rate)
