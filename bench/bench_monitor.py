"""Benchmark: the monitor step on 100k, 1M and 5M logged rows against a 200k-row training baseline; prints tables
(not a test).

Data, made once per size under out/bench/monitor/ a chunk at a time: training and served rows are drawn
from the profile fitted to data/penguins.csv (different seeds, 1% missing cells, so no drift). The
baseline is frozen from the 200k training rows by make_baseline, as train does; no model is trained:
the prediction is a fixed stand-in rule on the inputs (see _stand_in). The served rows are written as
the predictor writes its log: JSONL files of 500-10,000 rows, requests of 1-16 rows, over 24 hours,
under <log>/penguins/<UTC day>/<time>-<hex>.jsonl.

Part 1, the drift computation alone, the rows already in memory:
  loopline   - version_drift (bins, the four measures, their noise floors, the new check) on the
               served columns as read_served returns them
  evidently  - Report(metrics=[DataDriftPreset(method="psi")]) on the same rows and columns as pandas
               DataFrames, reference = the 200k training rows; its own venv (bench/evidently_psi.py)
Part 2, end to end from the log files:
  loopline   - read_served over the window, then version_drift of every version in it
  pyarrow    - the floor: pyarrow.json.read_json of each file
Each case runs in a fresh process. Wall time excludes process start and imports (shown apart, timed
from the launch) and, in part 1, reading the rows into memory. Memory: the process's own peak RSS
(VmHWM), and its peak PSS sampled every 50 ms.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
import uuid
from dataclasses import asdict
from datetime import datetime, timedelta, timezone
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
from memory import run_sampled

from components.lib.baseline import BASELINE_DIR, BINS_FILE, PREDICTION, feature_bins, make_baseline, predicted_labels
from components.lib.bundle import CATEGORICAL, CLASSIFICATION, NUMERIC, Feature, FeatureSpec
from components.monitor.log_reading import Window
from loopline import paths, synthetic

BENCH = Path(__file__).resolve().parent
OUT = paths.ROOT / "out" / "bench" / "monitor"
REQUIREMENTS = BENCH / "requirements-evidently.txt"
SIZES = "100000,1000000,5000000"
TRAIN_ROWS = 200_000
TRAIN_SEED, SERVED_SEED = 1, 2
PROBLEMS = synthetic.Problems(missing_rate=0.01)
MODEL = "penguins"
START = datetime(2026, 12, 1, 12, tzinfo=timezone.utc)
WINDOW = Window(START, START + timedelta(hours=24))
FILE_ROWS = (500, 10_000)
REQUEST_ROWS = (1, 16)
CHUNK_ROWS = 200_000
STAND_IN = ("prediction: a fixed stand-in rule on the inputs, no trained model (flipper_length_mm >= 206 -> Gentoo, "
            "else bill_length_mm >= 44 -> Chinstrap, else Adelie; probability 0.9 to that class)")
PART_1 = ("loopline-drift", "evidently")
PART_2 = ("loopline-e2e", "pyarrow-json")


def _spec(profile: synthetic.Profile) -> FeatureSpec:
    """The penguin model's contract as train infers it: island and sex categorical, the other columns numeric."""
    def vocabulary(column: str) -> list[str]:
        return sorted({str(v) for s in profile.species.values() for v in s.categories[column]})

    features = [Feature(c, CATEGORICAL, "string", vocabulary=vocabulary(c)) if c in synthetic.STRINGS
                else Feature(c, NUMERIC, "int" if synthetic.DECIMALS[c] == 0 else "float")
                for c in synthetic.COLUMNS if c != synthetic.LABEL]
    return FeatureSpec(synthetic.LABEL, CLASSIFICATION, features, classes=sorted(profile.species))


def _stand_in(table: pa.Table) -> np.ndarray:
    """Class probabilities (n, 3) from the rule in STAND_IN: deterministic, and shaped like a model's output."""
    def floats(name: str) -> np.ndarray:
        return np.asarray(pc.cast(table.column(name), pa.float64()).to_numpy(), dtype=np.float64)

    with np.errstate(invalid="ignore"):
        chosen = np.where(floats("flipper_length_mm") >= 206, 2, np.where(floats("bill_length_mm") >= 44, 1, 0))
    probabilities = np.full((len(chosen), 3), 0.05)
    probabilities[np.arange(len(chosen)), chosen] = 0.9
    return probabilities


def _training(profile: synthetic.Profile, spec: FeatureSpec) -> Path:
    """The 200k training rows with their stand-in prediction (Evidently's reference, returned) and the baseline
    frozen from them (out/bench/monitor/bundle/baseline/bins.json), made once."""
    reference, bins = OUT / "reference.parquet", OUT / "bundle" / BASELINE_DIR / BINS_FILE
    if reference.exists() and bins.exists():
        return reference
    from components.lib.arrays import feature_arrays

    generated = OUT / "train-generated.parquet"
    synthetic.generate(profile, TRAIN_ROWS, generated, "parquet", seed=TRAIN_SEED, problems=PROBLEMS)
    table = pq.read_table(generated, columns=spec.names)
    probabilities = _stand_in(table)
    baseline = make_baseline(spec, feature_bins(spec, feature_arrays(table, spec)), table.num_rows, probabilities)
    bins.parent.mkdir(parents=True, exist_ok=True)
    bins.write_text(json.dumps(asdict(baseline), indent=1))
    labels = pa.array(predicted_labels(spec, probabilities), pa.string())
    pq.write_table(table.append_column(PREDICTION, labels), reference)
    generated.unlink()
    return reference


def _log_lines(table: pa.Table, labels: np.ndarray, probabilities: np.ndarray, first: int, total: int,
               classes: list[str], rng: np.random.Generator) -> list[tuple[str, str]]:
    """One chunk of served rows as (time, JSON line) in the predictor's log format, in requests of 1-16 rows whose
    times spread the `total` rows evenly over the window."""
    span_ms = int((WINDOW.until - WINDOW.since) / timedelta(milliseconds=1))
    inputs = table.to_pylist()
    lines, row = [], 0
    while row < len(inputs):
        size = min(int(rng.integers(REQUEST_ROWS[0], REQUEST_ROWS[1] + 1)), len(inputs) - row)
        at = START + timedelta(milliseconds=(first + row) * span_ms // total)
        stamp, request = at.isoformat(timespec="milliseconds"), str(uuid.UUID(bytes=rng.bytes(16), version=4))
        for index in range(size):
            entry = {"time": stamp, "model": MODEL, "model_version": "1", "request_id": request,
                     "inference_id": f"{request}:{index}", "sample_rate": 1.0, "inputs": inputs[row + index],
                     "outputs": {"label": labels[row + index],
                                 "probabilities": dict(zip(classes, probabilities[row + index].tolist()))}}
            lines.append((stamp, json.dumps(entry)))
        row += size
    return lines


def _write_files(log: Path, lines: list[tuple[str, str]], rng: np.random.Generator) -> None:
    """Lines as files of 500-10,000 rows, each in its first row's day folder and named by its time, as the
    predictor names them."""
    begin = 0
    while begin < len(lines):
        end = begin + int(rng.integers(FILE_ROWS[0], FILE_ROWS[1] + 1))
        stamp = lines[begin][0]
        path = log / MODEL / stamp[:10] / f"{stamp.replace(':', '')}-{rng.bytes(4).hex()}.jsonl"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("".join(line + "\n" for _, line in lines[begin:end]))
        begin = end


def _served(profile: synthetic.Profile, spec: FeatureSpec, rows: int) -> Path:
    """out/bench/monitor/served-N/: the served rows as Parquet (features + prediction: part 1's input) and as the
    prediction log (log/: part 2's), made once, 200k rows at a time."""
    folder = OUT / f"served-{rows}"
    if (folder / "done").exists():
        return folder
    started = time.perf_counter()
    shutil.rmtree(folder, ignore_errors=True)
    generated = folder / "generated.parquet"
    synthetic.generate(profile, rows, generated, "parquet", seed=SERVED_SEED, problems=PROBLEMS)
    rng = np.random.default_rng(rows)
    source = pq.ParquetFile(generated)
    schema = pa.schema([*(source.schema_arrow.field(n) for n in spec.names), pa.field(PREDICTION, pa.string())])
    with pq.ParquetWriter(folder / "served.parquet", schema) as parquet:
        first = 0
        for batch in source.iter_batches(batch_size=CHUNK_ROWS, columns=spec.names):
            table = pa.Table.from_batches([batch])
            probabilities = _stand_in(table)
            labels = predicted_labels(spec, probabilities)
            parquet.write_table(table.append_column(PREDICTION, pa.array(labels, pa.string())))
            _write_files(folder / "log", _log_lines(table, labels, probabilities, first, rows, spec.classes, rng), rng)
            first += table.num_rows
    generated.unlink()
    (folder / "done").touch()
    print(f"data: {rows:,} served rows made in {time.perf_counter() - started:.0f} s: {folder}", flush=True)
    return folder


def _evidently_python(uv: str) -> Path:
    """The Evidently venv's python, made with uv from the pinned requirements (again when the pins change)."""
    venv = OUT / "evidently-venv"
    stamp, pins = venv / ".requirements", REQUIREMENTS.read_text()
    if not stamp.exists() or stamp.read_text() != pins:
        env = {**os.environ, "UV_PYTHON_DOWNLOADS": "never"}
        subprocess.run([uv, "venv", "--quiet", "--clear", "--python", "3.11", str(venv)], check=True, env=env)
        subprocess.run([uv, "pip", "sync", "--quiet", "--compile-bytecode", "--python", str(venv / "bin" / "python"),
                        str(REQUIREMENTS)], check=True, env=env)
        stamp.write_text(pins)
    return venv / "bin" / "python"


def _loopline_drift(folder: Path, started: float) -> dict:
    """Part 1, loopline: version_drift on the served columns read into memory first (as read_served returns them)."""
    from components.lib.baseline import baseline_at
    from components.monitor.drift import THRESHOLDS, version_drift
    from components.monitor.log_reading import values_of

    imported = time.perf_counter()
    baseline = baseline_at(str(OUT / "bundle"))
    table = pq.read_table(folder / "served.parquet")
    columns = {b.name: values_of(table.column(b.name), b.kind, b.name) for b in [*baseline.features,
                                                                                   baseline.prediction]}
    loaded = time.perf_counter()
    drift = version_drift(baseline, columns, THRESHOLDS)
    done = time.perf_counter()
    return {"rows": table.num_rows, "import_s": imported - started, "load_s": loaded - imported,
            "work_s": done - loaded, "drifted": [d.name for d in drift if d.drifted]}


def _loopline_e2e(folder: Path, started: float) -> dict:
    """Part 2, loopline: the monitor's reading of the window from the log files, then every version's drift."""
    from components.lib.baseline import baseline_at
    from components.monitor.drift import THRESHOLDS, version_drift
    from components.monitor.log_reading import read_served

    imported = time.perf_counter()
    baseline = baseline_at(str(OUT / "bundle"))
    served = read_served(str(folder / "log"), MODEL, WINDOW, baseline)
    read = time.perf_counter()
    drift = [d for rows in served.values()
             for d in version_drift(baseline, {n: rows.column(n) for n in rows.values}, THRESHOLDS)]
    done = time.perf_counter()
    return {"rows": sum(rows.rows for rows in served.values()), "import_s": imported - started,
            "read_s": read - imported, "drift_s": done - read, "work_s": done - imported,
            "drifted": [d.name for d in drift if d.drifted]}


def _pyarrow_json(folder: Path, started: float) -> dict:
    """Part 2, the floor: pyarrow's JSON reader over the same files, one after another."""
    import pyarrow.json as pajson

    imported = time.perf_counter()
    rows = sum(pajson.read_json(str(path)).num_rows for path in sorted((folder / "log").rglob("*.jsonl")))
    return {"rows": rows, "import_s": imported - started, "work_s": time.perf_counter() - imported}


CASES = {"loopline-drift": _loopline_drift, "loopline-e2e": _loopline_e2e, "pyarrow-json": _pyarrow_json}


def _run(case: str, folder: Path, evidently: Path) -> dict:
    """One case in a fresh process, with its memory sampled; its figures. The child is handed its launch time
    (perf_counter is CLOCK_MONOTONIC, one clock for every process), so its imports are timed from process start."""
    launched = str(time.perf_counter())
    command = ([str(evidently), str(BENCH / "evidently_psi.py"), str(OUT / "reference.parquet"),
                str(folder / "served.parquet"), launched] if case == "evidently"
               else [sys.executable, __file__, "--child", case, str(folder), launched])
    out, peak = run_sampled(command)
    figures = json.loads([line for line in out.splitlines() if line.startswith("{")][-1])
    return {**figures, "case": case, "tree_pss_mb": peak}


def _child(case: str, folder: str, launched: str) -> None:
    """Run one loopline or pyarrow case in this process and print its figures as a JSON line (peak RSS: VmHWM, this
    process's own; ru_maxrss would carry the parent's from before exec)."""
    figures = CASES[case](Path(folder), float(launched))
    status = Path("/proc/self/status").read_text()
    peak = next(int(line.split()[1]) for line in status.splitlines() if line.startswith("VmHWM:"))
    print(json.dumps({**figures, "peak_rss_mb": peak / 1024}))


def _result(figures: dict) -> str:
    """What a case decided: the drifted columns, or none."""
    if "drifted" not in figures:
        return ""
    return ", ".join(figures["drifted"]) or "no drift"


def _row(size: int, f: dict, ratio: str, extra: str = "") -> str:
    """One table line of a case's figures."""
    return (f"| {size:,} | {f['case']} | {f['work_s']:.2f} | {size / f['work_s']:,.0f} | {f['import_s']:.1f} |{extra}"
            f" {f['peak_rss_mb']:,.0f} | {f['tree_pss_mb']:,.0f} | {ratio} | {_result(f)} |")


def main() -> None:
    """Make the data, run both parts at every size, print the tables and the targets."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", default=SIZES, help="served rows per size, comma-separated (default %(default)s)")
    parser.add_argument("--uv", default=str(paths.ROOT / ".tools" / "bin" / "uv"), help="uv, to make Evidently's venv")
    parser.add_argument("--child", nargs=3, metavar=("CASE", "FOLDER", "LAUNCHED"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        _child(*args.child)
        return
    sizes = [int(size) for size in args.rows.split(",")]
    OUT.mkdir(parents=True, exist_ok=True)
    profile = synthetic.fit_profile(paths.BUNDLED_DATA)
    spec = _spec(profile)
    evidently = _evidently_python(args.uv)
    _training(profile, spec)
    folders = {size: _served(profile, spec, size) for size in sizes}
    print(f"\nbaseline: {TRAIN_ROWS:,} generated training rows; served rows from the same profile (no drift)")
    print(f"{STAND_IN}\n")
    results: dict[int, dict[str, dict]] = {size: {} for size in sizes}
    print("Part 1: drift alone, rows in memory (Evidently: DataFrames; its report vs loopline's version_drift)\n")
    print("| rows | case | work s | rows/s | start + imports s | peak RSS MB | peak PSS MB | vs loopline | result |")
    print("|---:|---|---:|---:|---:|---:|---:|---:|---|")
    for size in sizes:
        for case in PART_1:
            f = results[size][case] = _run(case, folders[size], evidently)
            ratio = f"{f['work_s'] / results[size]['loopline-drift']['work_s']:.1f}x"
            print(_row(size, f, ratio), flush=True)
    print("\nPart 2: end to end from the log files (loopline: read_served + drift; pyarrow: read_json per file)\n")
    print("| rows | case | work s | rows/s | start + imports s | read s | drift s | peak RSS MB | peak PSS MB "
          "| vs pyarrow | result |")
    print("|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---|")
    for size in sizes:
        floor = results[size]["pyarrow-json"] = _run("pyarrow-json", folders[size], evidently)
        f = results[size]["loopline-e2e"] = _run("loopline-e2e", folders[size], evidently)
        for case, figures in (("loopline-e2e", f), ("pyarrow-json", floor)):
            split = (f" {figures['read_s']:.2f} | {figures['drift_s']:.2f} |" if case == "loopline-e2e" else " | |")
            print(_row(size, figures, f"{figures['work_s'] / floor['work_s']:.1f}x", split), flush=True)
    print("\nTargets: Evidently / loopline drift >= 10x at 1M; loopline end to end / pyarrow read <= 3x; "
          "the monitor's peak RSS < 2,000 MB at 5M\n")
    print("| rows | Evidently / loopline drift | end to end / pyarrow read | monitor peak RSS MB "
          "| Evidently start + imports s |")
    print("|---:|---:|---:|---:|---:|")
    for size, r in results.items():
        print(f"| {size:,} | {r['evidently']['work_s'] / r['loopline-drift']['work_s']:.1f}x "
              f"| {r['loopline-e2e']['work_s'] / r['pyarrow-json']['work_s']:.1f}x "
              f"| {r['loopline-e2e']['peak_rss_mb']:,.0f} | {r['evidently']['import_s']:.1f} |")
    (OUT / "bench_monitor.json").write_text(json.dumps({str(s): r for s, r in results.items()}, indent=2))


if __name__ == "__main__":
    main()
