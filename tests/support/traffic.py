"""Served traffic for monitoring tests: rows drawn from a table (optionally shifted), predicted by a real
bundle and written as one prediction-log batch in the predictor's format (its own writer is tested in
tests/kserve/test_prediction_log.py)."""

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


def write_log(log_uri: str, rows: pa.Table, scorer: BundleModel, at: datetime, version: str = "1",
              model: str = "penguins") -> None:
    """Write `rows` as one prediction-log batch at time `at`, as the predictor writes it."""
    probabilities = scorer.predict([rows])
    stamp = at.isoformat(timespec="milliseconds")
    request_id = f"{stamp}-{version}"
    entries = [{"time": stamp, "model": model, "model_version": version, "request_id": request_id,
                "inference_id": f"{request_id}:{row}", "sample_rate": 1.0, "inputs": inputs,
                "outputs": {"label": scorer.spec.classes[int(np.argmax(p))],
                            "probabilities": dict(zip(scorer.spec.classes, map(float, p)))}}
               for row, (inputs, p) in enumerate(zip(rows.to_pylist(), probabilities))]
    name = f"{stamp.replace(':', '')}-{version}.jsonl"
    uri_io.write_text(uri_io.join(log_uri, model, stamp[:10], name), "".join(json.dumps(e) + "\n" for e in entries))
