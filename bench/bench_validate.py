"""Benchmark: statistics + validation at 100k, 1M and 5M rows; prints a table (not a test).

Cases, each in a fresh process on the same Parquet file:
  (a) loopline  - validate's in-memory engine (TFDV combiners over Arrow batches) + schema + anomalies
  (b) tfdv-beam - TFDV's Beam path (tfdv.GenerateStatistics on the DirectRunner, what TFX's
                  StatisticsGen does on one machine) + the same schema + anomalies
  (c) arrow     - the floor: pyarrow reading the same Parquet file into memory
Wall time excludes interpreter start and imports (shown apart); peak RSS is the process's maximum.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time
from pathlib import Path

OUT = Path(__file__).resolve().parent / "out"
SIZES = (100_000, 1_000_000, 5_000_000)
CASES = ("loopline", "tfdv-beam", "arrow")


def _measure(case: str, path: str) -> dict:
    """Run one case in this process and return its figures."""
    start = time.perf_counter()
    import pyarrow.parquet as pq

    if case != "arrow":
        from components import keys
        from components.validate import checks
        from components.validate.statistics import beam_statistics, in_memory_statistics
    imported = time.perf_counter()
    if case == "arrow":
        rows = pq.read_table(path).num_rows
    else:
        compute = in_memory_statistics if case == "loopline" else beam_statistics
        stats = compute([path])
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
    """The generated Parquet file of that size (made once, kept under bench/out/)."""
    path = OUT / f"penguins_{rows}.parquet"
    if not path.exists():
        subprocess.run(
            [sys.executable, "-m", "pipelines.cli", "generate", "--rows", str(rows), "--out", str(path),
             "--seed", "7", "--missing-rate", "0.01"],
            check=True,
        )
    return path


def _child(case: str, path: Path) -> dict:
    started = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, __file__, "--child", case, str(path)], check=True, capture_output=True, text=True
    )
    figures = json.loads(proc.stdout.strip().splitlines()[-1])
    figures["process_s"] = time.perf_counter() - started
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
    header = f"{'rows':>10} {'case':<10} {'work s':>8} {'rows/s':>12} {'imports s':>9} {'peak RSS MB':>11} {'vs arrow':>8}"
    results = []
    print(header)
    for rows in args.sizes:
        path = _data(rows)
        by_case = {case: _child(case, path) for case in CASES}
        floor = by_case["arrow"]["work_s"]
        for case in CASES:
            f = by_case[case]
            results.append({**f, "size": rows})
            print(f"{rows:>10,} {case:<10} {f['work_s']:>8.2f} {rows / f['work_s']:>12,.0f} "
                  f"{f['import_s']:>9.2f} {f['peak_rss_mb']:>11,.0f} {f['work_s'] / floor:>7.1f}x", flush=True)
        speedup = by_case["tfdv-beam"]["work_s"] / by_case["loopline"]["work_s"]
        print(f"{'':>10} loopline is {speedup:.1f}x faster than tfdv-beam and "
              f"{by_case['loopline']['work_s'] / floor:.1f}x the arrow floor at {rows:,} rows", flush=True)
    (OUT / "bench_validate.json").write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
