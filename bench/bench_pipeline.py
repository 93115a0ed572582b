"""Benchmark: the local training pipeline (ingest -> deploy) end to end; prints a table (not a test).

Same math as the TFX reference in issue 3: the four numeric measurements -> species, one Dense(16)
hidden layer, 20 epochs (no early stop), batch size 32. Per step: wall time from kfp.local's own
task start/finish lines, and the cost of starting a process and importing what that step imports
(measured apart, in a fresh process, the same way the step starts). Peak memory: PSS of the whole
process tree, sampled every 50 ms.
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path

from memory import run_sampled

from loopline import paths

ROOT = paths.ROOT
OUT = ROOT / "bench" / "out"
STEPS = ("ingest", "validate", "train", "evaluate", "infra_validate", "register", "deploy")
MODULES = {step: f"components.{step}.executor" for step in STEPS}
FEATURES = "bill_length_mm,bill_depth_mm,flipper_length_mm,body_mass_g"
TASK_START = re.compile(r"^(\d\d:\d\d:\d\d\.\d+) - INFO - Executing task '(\w+)'")
TASK_END = re.compile(r"^(\d\d:\d\d:\d\d\.\d+) - INFO - Task '(\w+)' finished")


def _import_seconds(step: str) -> float:
    """Process start + `import kfp` + the step's executor module, in a fresh interpreter."""
    started = time.perf_counter()
    subprocess.run([sys.executable, "-c", f"import kfp, {MODULES[step]}"], check=True, capture_output=True)
    return time.perf_counter() - started


def _step_seconds(log: str) -> dict[str, float]:
    """Per task: seconds from kfp.local's 'Executing task' line to its 'finished' line."""
    plain = re.sub(r"\x1b\[[0-9;]*m", "", log)
    started: dict[str, datetime] = {}
    seconds: dict[str, float] = {}
    for line in plain.splitlines():
        for pattern, is_end in ((TASK_START, False), (TASK_END, True)):
            match = pattern.match(line)
            if match:
                moment = datetime.strptime(match.group(1), "%H:%M:%S.%f")
                if is_end:
                    seconds[match.group(2)] = (moment - started[match.group(2)]).total_seconds()
                else:
                    started[match.group(2)] = moment
    return seconds


def _source(rows: int) -> Path:
    if rows == 0:
        return paths.BUNDLED_DATA
    path = OUT / f"penguins_{rows}.csv"
    if not path.exists():
        subprocess.run([sys.executable, "-m", "loopline.cli", "generate", "--rows", str(rows), "--out", str(path),
                        "--seed", "7"], check=True, stdout=subprocess.DEVNULL)
    return path


def _run(source: Path) -> tuple[float, dict[str, float], float]:
    with tempfile.TemporaryDirectory(prefix="loopline-bench-") as tmp:
        started = time.perf_counter()
        log, peak = run_sampled([
            sys.executable, "-m", "loopline.cli", "run", "training", "--source", str(source),
            "--features", FEATURES, "--epochs", "20", "--batch-size", "32", "--patience", "20",
            "--hidden-units", "16", "--hidden-layers", "1", "--on-anomalies", "continue",
            "--pipeline-root", f"{tmp}/root", "--registry", f"{tmp}/registry", "--model-repository", f"{tmp}/models",
        ])
        return time.perf_counter() - started, _step_seconds(log), peak


def main() -> None:
    """Run the pipeline at each size and print per-step and total figures."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, nargs="+", default=[0, 200_000, 1_000_000],
                        help="0 = the bundled penguins (344 rows)")
    args = parser.parse_args()
    OUT.mkdir(parents=True, exist_ok=True)
    imports = {step: _import_seconds(step) for step in STEPS}
    print("| data | " + " | ".join(f"{s} s (imports)" for s in STEPS) + " | total s | peak PSS MB |")
    print("|---|" + "---:|" * (len(STEPS) + 2))
    results = []
    for rows in args.rows:
        total, steps, peak = _run(_source(rows))
        name = "penguins (344)" if rows == 0 else f"{rows:,} rows"
        cells = [f"{steps.get(s, float('nan')):.1f} ({imports[s]:.1f})" for s in STEPS]
        print(f"| {name} | " + " | ".join(cells) + f" | {total:.1f} | {peak:,.0f} |", flush=True)
        results.append({"rows": rows, "total_s": total, "steps_s": steps, "imports_s": imports, "peak_pss_mb": peak})
    (OUT / "bench_pipeline.json").write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
