"""infra_validate's logic: what TFX's InfraValidator does with Docker, here with a local process.

Start the predictor on the candidate bundle on a free loopback port, send golden V1 requests built
from eval rows, and compare the served answers with the bundle's in-process predictions.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from components.lib.bundle import CLASSIFICATION
from components.lib.datasets import parquet_files
from components.lib.serving import LocalServer, call

MODEL_NAME = "candidate"
TOLERANCE = 1e-4


@dataclass(frozen=True)
class InfraResult:
    """Whether the served candidate loaded and answered like the model itself, and why not."""

    ok: bool
    reason: str


def _served(answer: dict, task: str, classes: list[str]) -> np.ndarray:
    predictions = answer["predictions"]
    if task == CLASSIFICATION:
        return np.array([[p["probabilities"][c] for c in classes] for p in predictions])
    return np.array([p["value"] for p in predictions])


def infra_validate(bundle_dir: Path, eval_dir: Path, rows: int = 16, python: str | None = None,
                   log: Callable[[str], None] = print) -> InfraResult:
    """Serve the bundle, send `rows` eval rows, compare; never raises for a bad candidate. The server boots
    (its own imports and model load) while this process computes the expected answers."""
    server = LocalServer(bundle_dir, MODEL_NAME, python=python).launch()
    try:
        try:
            # Imported only now (TensorFlow, ~3 s): the server's own start overlaps it.
            from components.lib.inference import BundleModel

            model = BundleModel(bundle_dir)
            first = next(pq.ParquetFile(parquet_files(eval_dir)[0]).iter_batches(batch_size=rows))  # read only these
            table = pa.Table.from_batches([first])
            instances = table.select(model.spec.names).to_pylist()
            expected = model.predict([table])
        except Exception as err:  # noqa: BLE001 - any failure to load or run the candidate blocks the deploy
            return InfraResult(False, f"the candidate does not load or run: {type(err).__name__}: {err}"[:2000])
        try:
            server.wait_ready()
            status, answer = call(f"{server.url}/v1/models/{MODEL_NAME}:predict", {"instances": instances})
        except RuntimeError as err:
            return InfraResult(False, f"the predictor could not serve the candidate: {err}")
    finally:
        server.close()
    if status != 200:
        return InfraResult(False, f"the served candidate answered {status} to golden requests: {answer}")
    served = _served(answer, model.spec.task, model.spec.classes)
    gap = float(np.max(np.abs(served - expected))) if served.shape == expected.shape else float("inf")
    if gap > TOLERANCE:
        return InfraResult(False, f"served answers differ from the model's by up to {gap:.3g} (> {TOLERANCE})")
    log(f"infra_validate: served {len(instances)} golden rows, max difference {gap:.2g}")
    return InfraResult(True, f"served {len(instances)} golden rows; answers match within {TOLERANCE}")
