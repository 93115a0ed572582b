"""validate's logic, free of KFP: statistics, checks, reports, and the decision with its policy."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Callable, Sequence

from google.protobuf import text_format

from components import keys
from components.errors import DataValidationError, LooplineInputError
from components.lib.datasets import parquet_files
from components.validate import checks, report
from components.validate.statistics import generate_statistics

POLICIES = ("fail", "continue")


@dataclass(frozen=True)
class ValidateOutputs:
    """Where validate writes: three folders (statistics, schema, anomalies) and two report files."""

    statistics_dir: Path
    schema_dir: Path
    anomalies_dir: Path
    html_path: Path
    markdown_path: Path


def _write(outputs: ValidateOutputs, result: checks.ValidationResult) -> None:
    for directory in (outputs.statistics_dir, outputs.schema_dir, outputs.anomalies_dir):
        directory.mkdir(parents=True, exist_ok=True)
    for split in keys.SPLITS:
        stats_file = outputs.statistics_dir / keys.STATS_FILE.format(split=split)
        stats_file.write_bytes(result.statistics[split].SerializeToString())
        anomalies_file = outputs.anomalies_dir / keys.ANOMALIES_FILE.format(split=split)
        anomalies_file.write_text(text_format.MessageToString(result.anomalies[split]))
    (outputs.schema_dir / keys.SCHEMA_FILE).write_text(text_format.MessageToString(result.schema))
    decision = {"data_ok": result.data_ok, "reason": result.reason, "anomalies": len(result.rows),
                "anomaly_rows": [asdict(row) for row in result.rows]}
    (outputs.anomalies_dir / keys.DECISION_FILE).write_text(json.dumps(decision, indent=2))
    outputs.html_path.parent.mkdir(parents=True, exist_ok=True)
    outputs.html_path.write_text(report.render_html(result))
    outputs.markdown_path.parent.mkdir(parents=True, exist_ok=True)
    outputs.markdown_path.write_text(report.render_markdown(result))


def validate(
    train_dir: Path,
    eval_dir: Path,
    outputs: ValidateOutputs,
    schema_uri: str = "",
    baseline_uri: str = "",
    thresholds: checks.Thresholds = checks.Thresholds(),
    engine: str = "auto",
    beam_pipeline_args: Sequence[str] = (),
    on_anomalies: str = "fail",
    log: Callable[[str], None] = print,
) -> checks.ValidationResult:
    """Validate train/eval, write every output, then stop (policy `fail`) or go on when anomalies exist."""
    if on_anomalies not in POLICIES:
        raise LooplineInputError(f"on_anomalies must be one of {POLICIES}, got {on_anomalies!r}")
    schema = checks.load_schema(schema_uri) if schema_uri else None
    baseline = checks.load_baseline(baseline_uri) if baseline_uri else None
    statistics, used_engine = {}, ""
    for split, directory in ((keys.TRAIN, train_dir), (keys.EVAL, eval_dir)):
        statistics[split], used_engine = generate_statistics(
            parquet_files(directory), engine, beam_pipeline_args
        )
        rows = statistics[split].datasets[0].num_examples
        log(f"validate: {split} statistics over {rows:,} rows ({used_engine} engine)")
    used_schema, anomalies, rows = checks.validate(statistics, schema, thresholds, baseline)
    result = checks.ValidationResult(
        statistics=statistics,
        schema=used_schema,
        anomalies=anomalies,
        schema_source=schema_uri or "inferred from train, widened to eval (first use)",
        baseline_uri=baseline_uri,
        engine=used_engine,
        rows=rows,
    )
    _write(outputs, result)
    log(f"validate: {'data OK' if result.data_ok else 'data NOT OK'}: {result.reason}")
    if not result.data_ok and on_anomalies == "fail":
        raise DataValidationError(
            f"data validation failed (policy on_anomalies='fail'): {result.reason}. "
            f"Report: {outputs.markdown_path}"
        )
    return result
