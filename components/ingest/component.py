"""ingest's KFP contract: typed artifacts in and out, one call into executor.ingest."""

from kfp import dsl


def ingest(
    source: str,
    label_column: str,
    train: dsl.Output[dsl.Dataset],
    eval: dsl.Output[dsl.Dataset],
    eval_fraction: float = 0.2,
    key_column: str = "",
):
    """Read a CSV/Parquet source (path, folder, glob, gs://) and split it into train/eval Parquet.

    The split hashes each row (or `key_column`), so a row lands in the same split on every run.
    Refuses, writing nothing, a missing/empty/unparseable source, zero rows, an absent label
    column and duplicated column names.
    """
    from pathlib import Path

    from components import keys
    from components.ingest.executor import ingest as run_ingest

    result = run_ingest(source, label_column, Path(train.path), Path(eval.path), eval_fraction, key_column)
    train.metadata.update(result.metadata(keys.TRAIN))
    eval.metadata.update(result.metadata(keys.EVAL))
