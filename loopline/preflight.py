"""What `loopline run` checks before any step runs: a wrong parameter is one line naming it, not a failed step
minutes later. The checks need no data, or only the source's header (a local first file; a gs:// source is
left to the steps, which check it again anyway)."""

from __future__ import annotations

import math
import re
from pathlib import PurePosixPath
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from components.errors import LooplineInputError
from components.evaluate.decision import parse_limits
from components.ingest.reading import CSV_NULLS, PARQUET_MAGIC
from components.lib import uri as uri_io
from components.lib.bundle import CLASSIFICATION, REGRESSION
from components.lib.registry import Registry
from components.lib.registry_records import check_name
from components.train.hyperparameters import Hyperparameters
from components.validate.thresholds import Thresholds

HEADER_BYTES = 1 << 20  # CSV types are inferred from this much of the first file, as a first look
SAMPLE_ROWS = 1 << 16


def model_name_from(source: str) -> str:
    """A model name derived from the source: its file's name without extensions (`data/wine.csv` -> `wine`), or
    its folder's for a folder or glob; a LooplineInputError when nothing valid is left."""
    parts = [p for p in PurePosixPath(source.split("://", 1)[-1]).parts if not any(c in p for c in "*?[")]
    stem = parts[-1].split(".")[0] if parts else ""
    name = re.sub(r"[^a-z0-9._-]+", "-", stem.lower()).strip("-._")[:63]
    if not name:
        raise LooplineInputError(f"no model name can be derived from the source {source!r}: give --model-name")
    return name


def source_sample(source: str) -> pa.RecordBatch | None:
    """The first rows of the source's first local file (CSV: its first MiB, types inferred as ingest would on
    that much; Parquet: its first 65,536 rows), or None when the source is on gs:// or cannot be read here
    (ingest gives the precise error then)."""
    if uri_io.is_gcs(source):
        return None
    files = uri_io.expand(source)
    if not files:
        return None
    try:
        with open(files[0], "rb") as handle:
            if handle.read(4) == PARQUET_MAGIC:
                return next(pq.ParquetFile(files[0]).iter_batches(batch_size=SAMPLE_ROWS), None)
        options = pacsv.ConvertOptions(null_values=CSV_NULLS, strings_can_be_null=True)
        return pacsv.open_csv(files[0], read_options=pacsv.ReadOptions(block_size=HEADER_BYTES),
                              convert_options=options).read_next_batch()
    except (pa.ArrowInvalid, OSError, UnicodeDecodeError, StopIteration):
        return None


def _task(task: str, label: pa.Array | None, curated_schema: bool) -> str | None:
    """The task if it is known before training: given, or clear from the label's values as validate's inferred
    schema will see them: text or booleans -> classification, floats -> regression, integers -> regression when
    they take more than two values (two could be a boolean domain). Unknown with a curated schema."""
    if task != "auto":
        return task
    if label is None or curated_schema:
        return None
    kind = label.type
    if pa.types.is_string(kind) or pa.types.is_large_string(kind) or pa.types.is_boolean(kind):
        return CLASSIFICATION
    if pa.types.is_floating(kind) or (pa.types.is_integer(kind) and len(pc.unique(label.drop_null())) > 2):
        return REGRESSION
    return None


def _flag(name: str) -> str:
    """The `loopline run` option of a pipeline parameter: `window_hours` -> `--window-hours`."""
    return "--" + name.replace("_", "-")


def _check_split(arguments: dict[str, Any]) -> None:
    """The split and the validate thresholds: an eval fraction in (0, 1); each threshold off (<= 0) or at most 1
    (L-infinity and Jensen-Shannon distances never pass 1, so a higher threshold could never fire)."""
    if not 0.0 < arguments["eval_fraction"] < 1.0:
        raise LooplineInputError(f"--eval-fraction must be between 0 and 1, not {arguments['eval_fraction']}")
    for name in Thresholds.__dataclass_fields__:
        if arguments[name] > 1.0:
            raise LooplineInputError(f"{_flag(name)} must be at most 1 (<= 0 turns it off), "
                                     f"not {arguments[name]}")


def _check_columns(arguments: dict[str, Any], named: list[str]) -> pa.RecordBatch | None:
    """The source's first rows, after checking that every column the parameters name is in them."""
    sample = source_sample(arguments["source"])
    if sample is None:
        return None
    key = [arguments["key_column"]] if arguments["key_column"] else []
    unknown = [name for name in [arguments["label_column"], *named, *key] if name not in sample.schema.names]
    if unknown:
        raise LooplineInputError(f"columns {unknown} are not in the source {arguments['source']}; "
                                 f"it has {sample.schema.names}")
    return sample


def check_data_validation(arguments: dict[str, Any]) -> None:
    """Refuse a data-validation run whose parameters are wrong, before it starts."""
    _check_split(arguments)
    _check_columns(arguments, [])


def check_training(arguments: dict[str, Any]) -> None:
    """Refuse a training run whose parameters are wrong, before it starts."""
    check_name(arguments["model_name"])
    _check_split(arguments)
    hp = Hyperparameters(**{name: arguments[name] for name in Hyperparameters.__dataclass_fields__})
    problems = hp.problems()
    if problems:
        raise LooplineInputError("; ".join(problems))
    sample = _check_columns(arguments, [*arguments["features"], *arguments["exclude_features"],
                                        *arguments["categorical_features"]])
    label = arguments["label_column"]
    task = _task(arguments["task"], sample.column(label) if sample is not None else None,
                 bool(arguments["schema_uri"]))
    if task is not None:
        parse_limits(task, arguments["floors"])


def model_in_registry(registry_uri: str) -> str:
    """The registry's only model, the one to monitor when none is named; a LooplineInputError naming the
    models (or their absence) otherwise."""
    models = Registry(registry_uri).models()
    if len(models) != 1:
        held = f"holds the models {', '.join(models)}" if models else "holds no model (train one first)"
        raise LooplineInputError(f"the registry {registry_uri} {held}: give --model-name")
    return models[0]


# Drift measures bounded by 1 (JS in bits, L-infinity, the new-bin share): a threshold above it never fires.
_AT_MOST_ONE = ("js", "linf", "new")


def check_monitoring(arguments: dict[str, Any]) -> None:
    """Refuse a monitoring run whose parameters are wrong, before it starts."""
    from components.monitor.drift import CHECKS as DRIFT_CHECKS  # pandas and the monitor: for this run only
    from components.monitor.log_reading import parse_time

    check_name(arguments["model_name"])
    for check, value in arguments["thresholds"].items():
        if check not in DRIFT_CHECKS:
            raise LooplineInputError(f"--threshold {check}: no such drift check; checks: {', '.join(DRIFT_CHECKS)}")
        if not 0.0 < value <= (1.0 if check in _AT_MOST_ONE else math.inf):
            bound = "in (0, 1]" if check in _AT_MOST_ONE else "above 0"
            raise LooplineInputError(f"--threshold {check} must be {bound}, not {value}")
    if not arguments["since"] and not arguments["window_hours"] > 0:
        raise LooplineInputError(f"--window-hours must be above 0, not {arguments['window_hours']}")
    if not 0.0 <= arguments["performance_tolerance"] <= 1.0:
        raise LooplineInputError(f"--performance-tolerance must be between 0 and 1, "
                                 f"not {arguments['performance_tolerance']}")
    for name in ("min_rows", "min_labels", "maturity_hours", "cooldown_hours"):
        if arguments[name] < 0:
            raise LooplineInputError(f"{_flag(name)} must not be negative, not {arguments[name]}")
    for name in ("since", "until"):
        if arguments[name]:
            try:
                parse_time(arguments[name])
            except LooplineInputError as exc:
                raise LooplineInputError(f"--{name}: {exc}") from None
