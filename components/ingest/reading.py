"""Read CSV or Parquet files into one Arrow table, refusing anything a user would not mean."""

from __future__ import annotations

import csv
import hashlib
import io
from dataclasses import dataclass
from typing import Callable

import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from components.errors import SourceError
from components.lib import uri as uri_io

PARQUET_MAGIC = b"PAR1"
# What counts as a missing value in CSV (pandas' defaults, which R's "NA" in penguins.csv needs).
CSV_NULLS = ["", "NA", "N/A", "NaN", "nan", "NULL", "null", "#N/A"]


@dataclass(frozen=True)
class SourceData:
    """The rows of every file of a source, with the data version and where they came from."""

    table: pa.Table
    content_hash: str
    uris: list[str]


def _duplicates(names: list[str]) -> list[str]:
    seen: set[str] = set()
    return sorted({n for n in names if n in seen or seen.add(n)})


def _csv_header(data: bytes, uri: str) -> list[str]:
    try:
        first_line = data.split(b"\n", 1)[0].decode("utf-8").rstrip("\r")
    except UnicodeDecodeError as err:
        raise SourceError(f"{uri}: cannot be parsed: not UTF-8 text nor Parquet ({err})") from err
    return next(csv.reader([first_line]), [])


def _read_csv(data: bytes, uri: str) -> pa.Table:
    header = _csv_header(data, uri)
    dups = _duplicates(header)
    if dups:
        raise SourceError(f"{uri}: duplicated column names: {', '.join(dups)}")
    try:
        return pacsv.read_csv(
            io.BytesIO(data),
            convert_options=pacsv.ConvertOptions(null_values=CSV_NULLS, strings_can_be_null=True),
        )
    except pa.ArrowInvalid as err:
        raise SourceError(f"{uri}: cannot be parsed as CSV: {err}") from err


def _read_parquet(data: bytes, uri: str) -> pa.Table:
    try:
        parquet = pq.ParquetFile(io.BytesIO(data))
        dups = _duplicates(parquet.schema_arrow.names)
        if dups:
            raise SourceError(f"{uri}: duplicated column names: {', '.join(dups)}")
        return parquet.read()
    except (pa.ArrowInvalid, OSError) as err:
        raise SourceError(f"{uri}: cannot be parsed as Parquet: {err}") from err


def read_file(data: bytes, uri: str) -> pa.Table:
    """Parse one file's bytes (Parquet by its magic number, CSV otherwise) into a table with rows."""
    if not data.strip():
        raise SourceError(f"{uri}: the file is empty")
    is_parquet = data[:4] == PARQUET_MAGIC
    table = _read_parquet(data, uri) if is_parquet else _read_csv(data, uri)
    if table.num_columns == 0:
        raise SourceError(f"{uri}: no columns found")
    if table.num_rows == 0:
        raise SourceError(f"{uri}: has a header but zero rows")
    return table


def _combine(tables: list[pa.Table], uris: list[str]) -> pa.Table:
    first = tables[0].column_names
    for table, uri in zip(tables[1:], uris[1:]):
        if table.column_names != first:
            raise SourceError(
                f"{uri}: columns {table.column_names} differ from {uris[0]}: {first}"
            )
    try:
        return pa.concat_tables(tables, promote=True)
    except pa.ArrowInvalid as err:
        raise SourceError(f"column types differ between the files of the source: {err}") from err


def read_source(source: str, log: Callable[[str], None] = print) -> SourceData:
    """Read every file a source URI names (file, folder or glob), in name order, into one table."""
    uris = uri_io.expand(source)
    if not uris:
        raise SourceError(f"source not found: no file matches {source!r}")
    digest = hashlib.sha256()
    tables = []
    for uri in uris:
        data = uri_io.read_bytes(uri)
        digest.update(len(data).to_bytes(8, "big"))
        digest.update(data)
        table = read_file(data, uri)
        log(f"ingest: read {table.num_rows:,} rows x {table.num_columns} columns from {uri}")
        tables.append(table)
    return SourceData(_combine(tables, uris), f"sha256:{digest.hexdigest()}", uris)
