"""A model bundle trained on a synthetic table through the project's real ingest, validate and train executors,
for tests that need a model whose truth they chose (which features the label uses, and how)."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pyarrow.csv as pcsv

from components.train.model import Hyperparameters

QUIET = {"log": lambda _: None}


def train_on(table: pa.Table, label: str, root: Path, epochs: int = 8) -> Path:
    """`table` written as CSV under `root`, ingested (splits in root/"train" and root/"eval"), validated and
    trained for `epochs` (no early stop before them); returns the bundle folder, root/"bundle"."""
    from components import keys
    from components.ingest.executor import ingest
    from components.train.executor import train
    from components.validate.executor import ValidateOutputs, validate

    pcsv.write_csv(table, root / "data.csv")
    ingest(str(root / "data.csv"), label, root / "train", root / "eval", **QUIET)
    out = root / "validate"
    validate(root / "train", root / "eval",
             ValidateOutputs(out / "statistics", out / "schema", out / "anomalies", out / "r.html", out / "r.md"),
             **QUIET)
    train(root / "train", root / "eval", out / "schema" / keys.SCHEMA_FILE, root / "bundle", label,
          hp=Hyperparameters(epochs=epochs, early_stopping_patience=epochs), **QUIET)
    return root / "bundle"
