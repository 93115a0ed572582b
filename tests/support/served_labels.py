"""Served penguins with their labels, for the performance and exposition tests: a registry whose versions carry eval
metrics and a floor as the register step writes them, rows served by the real bundle, labels in the real store."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import numpy as np
import pyarrow as pa

from components.evaluate.metrics import classification_metrics
from components.lib import labels as label_store
from components.lib.bundle import CLASSIFICATION
from components.lib.inference import BundleModel
from components.lib.registry import Registry
from support.traffic import write_log

MODEL = "penguins"
FLOOR = 0.9


def truth(scorer: BundleModel, rows: pa.Table) -> np.ndarray:
    """The rows' species as class indices."""
    index = {c: i for i, c in enumerate(scorer.spec.classes)}
    return np.array([index[s] for s in rows.column(scorer.spec.label).to_pylist()])


def eval_info(scorer: BundleModel, rows: pa.Table) -> dict:
    """A registry record's info as the register step writes it: eval metrics and the min_accuracy floor's check."""
    found = classification_metrics(truth(scorer, rows), scorer.predict([rows.select(scorer.spec.names)]),
                                   scorer.spec.classes)
    checks = [{"name": "min_accuracy", "value": found["accuracy"], "limit": FLOOR, "passed": True}]
    return {"metrics": {k: found[k] for k in ("accuracy", "macro_f1")}, "decision": {"checks": checks}}


def registry_of(root: str, bundle: Path, info: dict, versions: int = 2) -> str:
    """A registry at `root` holding `bundle` as versions 1..`versions`, v1 in production."""
    registry = Registry(root)
    for number in range(1, versions + 1):
        registry.register(MODEL, bundle, f"run-{number}", info)
    registry.promote(MODEL, 1, "run-1", "first")
    return root


def serve(log_uri: str, rows: pa.Table, scorer: BundleModel, at: datetime, version: str = "1",
          sample_rate: float = 1.0) -> list[str]:
    """Log labelled `rows` (their features) as served by `version` at `at`; their inference ids."""
    return write_log(log_uri, rows.select(scorer.spec.names), scorer, at, version, sample_rate=sample_rate)


def label(log_uri: str, ids: list[str], species: list[str], now: datetime | None = None) -> None:
    """Store labels for served rows, as `loopline feedback` does (arriving `now`, default the clock)."""
    label_store.write_batch(log_uri, MODEL, pa.table({"inference_id": ids, "label": species}), CLASSIFICATION,
                            now=now)


def worse_outputs(scorer: BundleModel, rows: pa.Table, share: float, seed: int) -> list[dict]:
    """A worse model's outputs: the real model's probabilities with the classes rotated on `share` of the rows."""
    probabilities = scorer.predict([rows.select(scorer.spec.names)])
    rotate = np.random.default_rng(seed).random(len(probabilities)) < share
    probabilities[rotate] = np.roll(probabilities[rotate], 1, axis=1)
    return [{"label": scorer.spec.classes[int(np.argmax(p))],
             "probabilities": dict(zip(scorer.spec.classes, map(float, p)))} for p in probabilities]
