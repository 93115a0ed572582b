"""bench-monitor's comparison: Evidently's PSI drift report on the served rows vs the training rows.

Run with the Evidently venv's python (bench_monitor.py makes it from requirements-evidently.txt):
    python evidently_psi.py REFERENCE.parquet CURRENT.parquet LAUNCHED
LAUNCHED is the caller's time.perf_counter() when it started this process (CLOCK_MONOTONIC, one clock
for all processes), so the imports are timed from process start, as bench_monitor's own cases are.
String columns are categorical, the others numerical (as loopline's baseline bins them). Prints one
JSON line: process start + imports, the Parquet read, the report time (the column definitions and
Report.run, the part timed against loopline's drift), peak RSS (VmHWM), and each column's PSI
(drifted: above Evidently's own PSI threshold).
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq


def _definition_columns(schema: pa.Schema) -> tuple[list[str], list[str]]:
    """(numerical, categorical) column names: strings are categories, everything else a number."""
    categorical = [f.name for f in schema if pa.types.is_string(f.type)]
    return [f.name for f in schema if f.name not in categorical], categorical


def _peak_rss_mb() -> float:
    """This process's peak RSS (VmHWM; ru_maxrss would carry the parent's from before exec)."""
    status = Path("/proc/self/status").read_text()
    return next(int(line.split()[1]) for line in status.splitlines() if line.startswith("VmHWM:")) / 1024


def main(reference_path: str, current_path: str, launched: str) -> dict:
    """Import Evidently, read both files into pandas, time the PSI report; the figures as a dict."""
    from evidently import DataDefinition, Dataset, Report
    from evidently.presets import DataDriftPreset

    imported = time.perf_counter()
    reference, current = pq.read_table(reference_path), pq.read_table(current_path)
    numerical, categorical = _definition_columns(reference.schema)
    reference_frame, current_frame = reference.to_pandas(), current.to_pandas()
    loaded = time.perf_counter()
    definition = DataDefinition(numerical_columns=numerical, categorical_columns=categorical)
    snapshot = Report(metrics=[DataDriftPreset(method="psi")]).run(
        Dataset.from_pandas(current_frame, data_definition=definition),
        Dataset.from_pandas(reference_frame, data_definition=definition))
    done = time.perf_counter()
    drifts = [m["config"] | {"value": float(m["value"])} for m in snapshot.dict()["metrics"]
              if m["config"]["type"].endswith("ValueDrift")]
    return {"case": "evidently", "rows": len(current_frame), "import_s": imported - float(launched),
            "load_s": loaded - imported, "work_s": done - loaded,
            "peak_rss_mb": _peak_rss_mb(),
            "drifted": [d["column"] for d in drifts if d["value"] > d["threshold"]],
            "psi": {d["column"]: d["value"] for d in drifts}}


if __name__ == "__main__":
    print(json.dumps(main(*sys.argv[1:4])))
