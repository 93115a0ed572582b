"""ingest's logic, free of KFP: read the source, check it, split it, write two Parquet datasets."""

from __future__ import annotations

import os
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Callable

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from components import keys
from components.errors import SourceError
from components.ingest.reading import read_source
from components.ingest.splitting import eval_mask


@dataclass(frozen=True)
class IngestResult:
    """What ingest wrote and the facts recorded on its output artifacts."""

    rows: dict[str, int]
    columns: dict[str, str]
    content_hash: str
    source_uris: list[str]
    eval_fraction: float
    key_column: str
    label_column: str
    temporal_columns: list[str] = field(default_factory=list)  # dates, times, timestamps: written as ISO text
    paths: dict[str, str] = field(default_factory=dict)

    def metadata(self, split: str) -> dict:
        """The KFP artifact metadata of one split's Dataset."""
        meta = {k: v for k, v in asdict(self).items() if k != "paths"}
        meta.update(split=split, num_rows=self.rows[split])
        return meta


def dates_as_text(table: pa.Table) -> tuple[pa.Table, list[str]]:
    """Date, time and timestamp columns as ISO-8601 text, and their names. TFDV has no such types (its
    statistics fail on them), and text keeps every value as it was; train leaves them out unless asked."""
    temporal = [f.name for f in table.schema
                if pa.types.is_date(f.type) or pa.types.is_time(f.type) or pa.types.is_timestamp(f.type)]
    for name in temporal:
        table = table.set_column(table.schema.get_field_index(name), name, pc.cast(table.column(name), pa.string()))
    return table, temporal


def _write_parquet(table: pa.Table, out_dir: Path) -> Path:
    """Write one split whole: to a temp file, then renamed, so no partial dataset is ever visible."""
    out_dir.mkdir(parents=True, exist_ok=True)
    target = out_dir / keys.DATA_FILE
    tmp = out_dir / f".{keys.DATA_FILE}.tmp-{os.getpid()}"
    pq.write_table(table, tmp)
    tmp.replace(target)
    return target


def ingest(
    source: str,
    label_column: str,
    train_dir: Path,
    eval_dir: Path,
    eval_fraction: float = 0.2,
    key_column: str = "",
    log: Callable[[str], None] = print,
) -> IngestResult:
    """Read `source`, refuse bad data before writing anything, then write train/eval Parquet."""
    data = read_source(source, log=log)
    table, temporal = dates_as_text(data.table)
    if temporal:
        log(f"ingest: dates and times kept as ISO text: {', '.join(temporal)} (train leaves them out unless "
            "its features name them)")
    if label_column not in table.column_names:
        raise SourceError(
            f"label column {label_column!r} is absent from {source}; columns: {table.column_names}"
        )
    mask = eval_mask(table, eval_fraction, key_column)
    splits = {keys.TRAIN: table.filter(pa.array(~mask)), keys.EVAL: table.filter(pa.array(mask))}
    paths = {
        keys.TRAIN: str(_write_parquet(splits[keys.TRAIN], Path(train_dir))),
        keys.EVAL: str(_write_parquet(splits[keys.EVAL], Path(eval_dir))),
    }
    result = IngestResult(
        rows={name: t.num_rows for name, t in splits.items()},
        columns={f.name: str(f.type) for f in table.schema},
        content_hash=data.content_hash,
        source_uris=data.uris,
        eval_fraction=eval_fraction,
        key_column=key_column,
        label_column=label_column,
        temporal_columns=temporal,
        paths=paths,
    )
    log(
        f"ingest: {result.rows[keys.TRAIN]:,} train / {result.rows[keys.EVAL]:,} eval rows, "
        f"data version {result.content_hash[:19]}"
    )
    return result
