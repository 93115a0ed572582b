"""The Parquet files of a Dataset artifact folder (light: every step imports it, few need TFDV)."""

from __future__ import annotations

from pathlib import Path

from components.errors import LooplineInputError


def parquet_files(dataset_dir: Path) -> list[str]:
    """The Parquet files of an ingest Dataset folder, in name order."""
    files = sorted(str(p) for p in Path(dataset_dir).glob("*.parquet"))
    if not files:
        raise LooplineInputError(f"no Parquet files in dataset {dataset_dir}")
    return files
