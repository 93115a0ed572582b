"""Benchmark: statistics + validation at 100k, 1M and 5M rows; prints a table (not a test).

Cases, each in a fresh process, on the same rows:
  (a)  loopline  - validate's in-memory engine (TFDV combiners over Arrow batches of the Parquet
                   file) + schema inference + anomalies
  (b1) beam      - loopline's Beam engine: tfdv.GenerateStatistics on the DirectRunner over the
                   same Parquet file read as Arrow batches (the strongest one-machine Beam path)
  (b2) tfdv-csv  - TFDV's own file API, tfdv.generate_statistics_from_csv (Beam DirectRunner, what
                   TFX's StatisticsGen-style Beam stats cost on one machine) over the same rows as CSV
  (c)  arrow     - the floor: pyarrow reading the same Parquet file into memory
Each of (a), (b1), (b2) ends with the same schema inference + anomaly check.
Wall time excludes interpreter start and imports (shown apart). Memory: the process's own peak
RSS, and the peak PSS of its whole process tree sampled every 50 ms (the in-memory engine forks
one worker per core for large data; PSS counts the pages they share with the parent once).
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time
from pathlib import Path

from memory import run_sampled

OUT = Path(__file__).resolve().parent / "out"
SIZES = (100_000, 1_000_000, 5_000_000)
CASES = ("loopline", "beam", "tfdv-csv", "arrow")


def _measure(case: str, path: str) -> dict:
    """Run one case in this process and return its figures."""
    start = time.perf_counter()
    import pyarrow.dataset  # noqa: F401 - read_table imports it lazily; count it as an import
    import pyarrow.parquet as pq

    if case != "arrow":
        import tensorflow_data_validation as tfdv

        from components import keys
        from components.validate import checks
        from components.validate.statistics import beam_statistics, in_memory_statistics
    imported = time.perf_counter()
    if case == "arrow":
        rows = pq.read_table(path).num_rows
    else:
        if case == "tfdv-csv":
            stats = tfdv.generate_statistics_from_csv(str(Path(path).with_suffix(".csv")))
        else:
            stats = (in_memory_statistics if case == "loopline" else beam_statistics)([path])
        checks.validate({keys.TRAIN: stats, keys.EVAL: stats}, None, checks.Thresholds())
        rows = stats.datasets[0].num_examples
    done = time.perf_counter()
    return {
        "case": case,
        "rows": rows,
        "import_s": imported - start,
        "work_s": done - imported,
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }


def _data(rows: int) -> Path:
    """The generated Parquet file of that size and a CSV of the same rows (made once, under bench/out/)."""
    path = OUT / f"penguins_{rows}.parquet"
    for target in (path, path.with_suffix(".csv")):
        if not target.exists():
            subprocess.run(
                [sys.executable, "-m", "loopline.cli", "generate", "--rows", str(rows), "--out", str(target),
                 "--seed", "7", "--missing-rate", "0.01"],
                check=True, stdout=subprocess.DEVNULL,
            )
    return path


def _child(case: str, path: Path) -> dict:
    """Run one case in a fresh process, sampling its tree's memory (forked workers included)."""
    started = time.perf_counter()
    out, peak = run_sampled([sys.executable, __file__, "--child", case, str(path)])
    figures = json.loads([line for line in out.splitlines() if line.startswith("{")][-1])
    figures["process_s"] = time.perf_counter() - started
    figures["tree_pss_mb"] = peak
    return figures


def main() -> None:
    """Run every case at every size and print the table with the target ratios."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--child", nargs=2, metavar=("CASE", "PATH"), help=argparse.SUPPRESS)
    parser.add_argument("--sizes", type=int, nargs="+", default=list(SIZES))
    args = parser.parse_args()
    if args.child:
        print(json.dumps(_measure(*args.child)))
        return
    OUT.mkdir(parents=True, exist_ok=True)
    print("| rows | case | work s | rows/s | imports s | peak RSS MB | peak PSS MB, with workers | vs arrow |")
    print("|---:|---|---:|---:|---:|---:|---:|---:|")
    results = []
    for rows in args.sizes:
        path = _data(rows)
        by_case = {case: _child(case, path) for case in CASES}
        floor = by_case["arrow"]["work_s"]
        for case in CASES:
            f = by_case[case]
            results.append({**f, "size": rows})
            print(f"| {rows:,} | {case} | {f['work_s']:.2f} | {rows / f['work_s']:,.0f} | {f['import_s']:.1f} "
                  f"| {f['peak_rss_mb']:,.0f} | {f['tree_pss_mb']:,.0f} | {f['work_s'] / floor:.1f}x |", flush=True)
        ours = by_case["loopline"]["work_s"]
        print(f"| {rows:,} | **loopline vs** | beam {by_case['beam']['work_s'] / ours:.1f}x slower, "
              f"tfdv-csv {by_case['tfdv-csv']['work_s'] / ours:.1f}x slower | | | | | "
              f"loopline {ours / floor:.1f}x arrow |", flush=True)
    (OUT / "bench_validate.json").write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
