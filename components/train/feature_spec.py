"""Derive a model's input contract from the TFDV schema and one streaming pass over the train split."""

from __future__ import annotations

import dataclasses
import math
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Sequence

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
from google.protobuf import text_format
from tensorflow_metadata.proto.v0 import schema_pb2

from components.errors import LooplineInputError
from components.lib.bundle import CATEGORICAL, CLASSIFICATION, NUMERIC, REGRESSION, Feature, FeatureSpec, input_names

TASKS = ("auto", CLASSIFICATION, REGRESSION)
MIN_ROWS_FOR_ID = 20  # fewer rows: a column unique per row may just be a small sample
# An integer column unique per row is an id when its values fill at least this share of their range (1..N,
# row numbers, sequences); sparse distinct integers (amounts, timestamps) stay numbers.
ID_RANGE_FILL = 0.5
MAX_VOCABULARY = 1000


def load_schema(path: Path) -> schema_pb2.Schema:
    """The TFDV schema text proto validate wrote."""
    return text_format.Parse(Path(path).read_text(), schema_pb2.Schema())


def _is_categorical(feature: schema_pb2.Feature) -> bool:
    """Text, a boolean domain, or integers a curated schema marks categorical (`int_domain { is_categorical }`)."""
    return (feature.type == schema_pb2.BYTES or feature.HasField("bool_domain")
            or (feature.HasField("int_domain") and feature.int_domain.is_categorical))


def choose_features(
    schema: schema_pb2.Schema, label: str, include: Sequence[str], exclude: Sequence[str],
    categorical: Sequence[str] = (),
) -> list[str]:
    """Feature roles: `include` (default every schema feature) minus `exclude` and the label."""
    names = [f.name for f in schema.feature]
    for role, chosen in (("label", [label]), ("features", include), ("exclude", exclude),
                         ("categorical_features", categorical)):
        unknown = [n for n in chosen if n not in names]
        if unknown:
            raise LooplineInputError(f"{role}: {unknown} not in the schema; schema features: {names}")
    selected = [n for n in (include or names) if n != label and n not in exclude]
    if not selected:
        raise LooplineInputError("no features left to train on after removing the label and exclusions")
    return selected


def choose_task(schema: schema_pb2.Schema, label: str, task: str) -> str:
    """Classification for a categorical/boolean label, regression for a numeric one, unless forced."""
    if task not in TASKS:
        raise LooplineInputError(f"task must be one of {TASKS}, got {task!r}")
    if task != "auto":
        return task
    feature = next(f for f in schema.feature if f.name == label)
    return CLASSIFICATION if _is_categorical(feature) else REGRESSION


@dataclass
class _Running:
    """Streaming count/sum/min/max of a numeric column, or value counts of a categorical one."""

    count: int = 0
    missing: int = 0
    total: float = 0.0
    squares: float = 0.0
    low: float = math.inf
    high: float = -math.inf
    values: Counter = field(default_factory=Counter)
    # An integer column's distinct values per batch, kept while each could still be an id (no repeat seen yet).
    integers: list[np.ndarray] | None = field(default_factory=list)

    def add_numeric(self, column: pa.Array) -> None:
        floats = pc.cast(column, pa.float64())
        valid = pc.drop_null(floats)
        self.missing += len(floats) - len(valid)
        self._track_integers(column)
        if len(valid):
            self.count += len(valid)
            self.total += pc.sum(valid).as_py()
            self.squares += pc.sum(pc.multiply(valid, valid)).as_py()
            self.low = min(self.low, pc.min(valid).as_py())
            self.high = max(self.high, pc.max(valid).as_py())

    def _track_integers(self, column: pa.Array) -> None:
        """Keep the batch's integers while no value has repeated (within a batch; across batches at the end)."""
        if self.integers is None:
            return
        if not pa.types.is_integer(column.type):
            self.integers = None
            return
        valid = column.drop_null()
        if len(pc.unique(valid)) < len(valid):
            self.integers = None
        else:
            self.integers.append(valid.to_numpy(zero_copy_only=False).astype(np.int64))

    def an_id(self) -> float | None:
        """For integers all different (rows >= MIN_ROWS_FOR_ID): the share of their range they fill; else None."""
        if not self.integers or self.count < MIN_ROWS_FOR_ID:
            return None
        if len(np.unique(np.concatenate(self.integers))) < self.count:
            return None
        return self.count / (self.high - self.low + 1)

    def add_categorical(self, column: pa.Array) -> None:
        self.missing += column.null_count
        for item in pc.value_counts(pc.drop_null(pc.cast(column, pa.string()))).to_pylist():
            self.values[item["values"]] += item["counts"]
        self.count += len(column) - column.null_count


def _left_out(categorical: bool, running: _Running) -> str | None:
    """Why a column is left out of the model when no features are named: it is constant (one value at most), or it
    is an id: text with a different value on every row, or integers all different that fill most of their range
    (ID_RANGE_FILL); None to keep it."""
    if categorical:
        if len(running.values) <= 1:
            return "constant"
        if running.count >= MIN_ROWS_FOR_ID and len(running.values) == running.count:
            return "a different value on every row (an id)"
    elif running.count and running.low == running.high:
        return "constant"
    elif (fill := running.an_id()) is not None and fill >= ID_RANGE_FILL:
        return f"whole numbers, a different one on every row, filling {fill:.0%} of their range (an id)"
    return None


def _dtype(arrow_type: pa.DataType) -> str:
    if pa.types.is_integer(arrow_type) or pa.types.is_boolean(arrow_type):
        return "int"
    return "float" if pa.types.is_floating(arrow_type) else "string"


def build_feature_spec(
    schema: schema_pb2.Schema,
    train_files: Sequence[str],
    label: str,
    include: Sequence[str] = (),
    exclude: Sequence[str] = (),
    task: str = "auto",
    log: Callable[[str], None] = lambda _: None,
    categorical_features: Sequence[str] = (),
) -> tuple[FeatureSpec, dict[str, str]]:
    """The input contract: kinds from the schema (and `categorical_features`: integer-coded categories),
    ranges/mean/std/vocabularies from the train split; and the columns left out, with why.

    Vocabularies come from the schema's string domain when it has one (a curated schema fixes
    them), otherwise from the train data (most frequent first, at most 1000 values). Unless `include`
    names the features, constant columns and ids are left out, each named in a `log` line.
    """
    names = choose_features(schema, label, include, exclude, categorical_features)
    task = choose_task(schema, label, task)
    by_name = {f.name: f for f in schema.feature}
    categorical = {n for n in names if _is_categorical(by_name[n]) or n in categorical_features}
    if task == CLASSIFICATION:
        categorical.add(label)
    running = {n: _Running() for n in [*names, label]}
    dtypes: dict[str, str] = {}
    rows = 0
    for path in train_files:
        parquet = pq.ParquetFile(path)
        absent = [n for n in running if n not in parquet.schema_arrow.names]
        if absent:
            raise LooplineInputError(f"{path}: columns {absent} of the schema are not in the data")
        for batch in parquet.iter_batches(columns=list(running)):
            rows += batch.num_rows
            for name in running:
                column = batch.column(name)
                dtypes[name] = _dtype(column.type)
                if name in categorical:
                    running[name].add_categorical(column)
                elif pa.types.is_string(column.type) or pa.types.is_binary(column.type):
                    raise LooplineInputError(f"numeric feature {name!r} holds text in {path}")
                else:
                    running[name].add_numeric(column)
    if rows == 0:
        raise LooplineInputError(f"the train split has no rows: {list(train_files)}")
    left_out: dict[str, str] = {}
    if not include:
        reasons = {n: _left_out(n in categorical, running[n]) for n in names}
        left_out = {name: reason for name, reason in reasons.items() if reason}
        for name, reason in left_out.items():
            log(f"train: left out {name!r}: {reason} (name it in features to keep it)")
        names = [n for n in names if n not in left_out]
        if not names:
            raise LooplineInputError(f"no feature left: every column is constant or an id ({reasons}); name the "
                                     "features to keep")
    features = [dataclasses.replace(_feature(n, n in categorical, dtypes[n], running[n], by_name[n], schema, rows),
                                    input_name=tensor)
                for n, tensor in zip(names, input_names(names))]
    if task == REGRESSION:
        target = _feature(label, False, dtypes[label], running[label], by_name[label], schema, rows)
        return FeatureSpec(label, task, features, label_mean=target.mean, label_std=target.std), left_out
    classes = _classes(running[label], by_name[label], schema)
    if len(classes) < 2:
        raise LooplineInputError(f"label {label!r} has {len(classes)} class(es) in the train split; need 2 or more")
    return FeatureSpec(label=label, task=task, features=features, classes=classes), left_out


def _domain(feature: schema_pb2.Feature, schema: schema_pb2.Schema) -> list[str]:
    if feature.HasField("string_domain"):
        return list(feature.string_domain.value)
    if feature.HasField("domain"):
        domain = next((d for d in schema.string_domain if d.name == feature.domain), None)
        return list(domain.value) if domain else []
    return []


def _classes(running: _Running, feature: schema_pb2.Feature, schema: schema_pb2.Schema) -> list[str]:
    """Label classes in a stable order: the schema's domain, else sorted values seen in train."""
    return _domain(feature, schema) or sorted(running.values)


def _feature(
    name: str, categorical: bool, dtype: str, running: _Running, schema_feature: schema_pb2.Feature,
    schema: schema_pb2.Schema, rows: int,
) -> Feature:
    missing = running.missing / rows
    if categorical:
        vocabulary = _domain(schema_feature, schema) or [v for v, _ in running.values.most_common(MAX_VOCABULARY)]
        return Feature(name=name, kind=CATEGORICAL, dtype=dtype, vocabulary=vocabulary, missing_fraction=missing)
    if running.count == 0:
        raise LooplineInputError(f"numeric feature {name!r} has no values in the train split")
    mean = running.total / running.count
    variance = max(running.squares / running.count - mean * mean, 0.0)
    return Feature(
        name=name, kind=NUMERIC, dtype=dtype, min=running.low, max=running.high, mean=mean,
        std=math.sqrt(variance), missing_fraction=missing,
    )
