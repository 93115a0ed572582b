"""Benchmark: the local training pipeline (ingest -> deploy) end to end; prints a table (not a test).

Same math as the TFX reference in issue 3: the four numeric measurements -> species, one Dense(16)
hidden layer, 20 epochs (no early stop), batch size 32. Per step: wall time from kfp.local's own
task start/finish (the line `loopline run` prints per step), and the cost of starting a process and
importing what that step imports (measured apart, in a fresh process, the same way the step
starts). The train step's cost per source row, and per optimizer step (the median epoch's seconds
over its steps, from the run's full log). Peak memory: PSS of the whole process tree, sampled
every 50 ms, overall and while each step ran. The baseline within the run: the same pipeline with
`--trainer keras` (model.fit) at the smaller sizes. (infra-validate imports TensorFlow only after
it has started the predictor, so its imports figure leaves TensorFlow out.)
"""

from __future__ import annotations

import argparse
import json
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from memory import run_traced

from loopline import paths

ROOT = paths.ROOT
OUT = ROOT / "bench" / "out"
STEPS = ("ingest", "validate", "train", "evaluate", "infra-validate", "register", "deploy")
FEATURES = "bill_length_mm,bill_depth_mm,flipper_length_mm,body_mass_g"
BATCH = 32
STEP_LINE = re.compile(r"^  ([a-z-]+)\s+([\d.]+) s  ")
FULL_LOG = re.compile(r"^loopline: full log: (\S+)$", re.M)
TRAIN_ROWS = re.compile(r"^  ingest .* ([\d,]+) train / ", re.M)
EPOCH = re.compile(r"train: epoch (\d+)/\d+ .*\(([\d.]+) s\)")


def _import_seconds(step: str) -> float:
    """Process start + `import kfp` + the step's executor module, in a fresh interpreter."""
    started = time.perf_counter()
    module = f"components.{step.replace('-', '_')}.executor"
    subprocess.run([sys.executable, "-c", f"import kfp, {module}"], check=True, capture_output=True)
    return time.perf_counter() - started


def _steps(lines: list[tuple[float, str]], samples: list[tuple[float, float]]) -> dict[str, tuple[float, float]]:
    """Per step: its seconds from its line in `loopline run`'s compact output (kfp.local's task start to
    finish), and the peak PSS (MB) sampled while it ran (steps run one at a time, each ending at its line)."""
    steps = {}
    for arrived, line in lines:
        match = STEP_LINE.match(line)
        if match:
            seconds = float(match.group(2))
            during = [mb for at, mb in samples if arrived - seconds <= at <= arrived]
            steps[match.group(1)] = (seconds, max(during, default=float("nan")))
    return steps


def _microseconds_per_step(run_log: str, train_rows: int) -> tuple[float, float]:
    """The train step's optimizer steps: microseconds per step in the median epoch (compiled, steady state),
    and the first epoch's seconds (which hold the XLA compilation, or Keras's tracing)."""
    epochs = [float(seconds) for _, seconds in EPOCH.findall(run_log)]
    median = statistics.median(epochs)
    # Epoch lines show hundredths of a second: shorter epochs (penguins: 9 steps) cannot be timed this way.
    return (median / -(-train_rows // BATCH) * 1e6 if median >= 0.05 else float("nan")), epochs[0]


def _source(rows: int) -> Path:
    if rows == 0:
        return paths.BUNDLED_DATA
    path = OUT / f"penguins_{rows}.csv"
    if not path.exists():
        subprocess.run([sys.executable, "-m", "loopline.cli", "generate", "--rows", str(rows), "--out", str(path),
                        "--seed", "7"], check=True, stdout=subprocess.DEVNULL)
    return path


def _run(source: Path, trainer: str) -> dict:
    with tempfile.TemporaryDirectory(prefix="loopline-bench-") as tmp:
        started = time.perf_counter()
        lines, samples = run_traced([
            sys.executable, "-m", "loopline.cli", "run", "training", "--source", str(source),
            "--features", FEATURES, "--epochs", "20", "--batch-size", str(BATCH), "--patience", "20",
            "--hidden-units", "16", "--hidden-layers", "1", "--on-anomalies", "continue", "--trainer", trainer,
            "--pipeline-root", f"{tmp}/root", "--registry", f"{tmp}/registry", "--model-repository", f"{tmp}/models",
        ])
        total = time.perf_counter() - started
        output = "\n".join(line for _, line in lines)
        train_rows = int(TRAIN_ROWS.search(output).group(1).replace(",", ""))
        step_us, first_epoch = _microseconds_per_step(Path(FULL_LOG.search(output).group(1)).read_text(), train_rows)
    steps = _steps(lines, samples)
    return {"total_s": total, "steps_s": {k: s for k, (s, _) in steps.items()},
            "steps_peak_pss_mb": {k: mb for k, (_, mb) in steps.items()},
            "peak_pss_mb": max(mb for _, mb in samples), "us_per_step": step_us, "first_epoch_s": first_epoch}


def main() -> None:
    """Run the pipeline at each size and print per-step and total figures."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, nargs="+", default=[0, 200_000, 1_000_000, 10_000_000],
                        help="0 = the bundled penguins (344 rows)")
    parser.add_argument("--keras-rows", type=int, nargs="*", default=[0, 200_000],
                        help="sizes also run with --trainer keras, the baseline within this run")
    args = parser.parse_args()
    OUT.mkdir(parents=True, exist_ok=True)
    imports = {step: _import_seconds(step) for step in STEPS}
    cases = [(rows, "fused") for rows in args.rows] + [(rows, "keras") for rows in args.keras_rows]
    results = [{"rows": rows, "trainer": trainer, "imports_s": imports, **_run(_source(rows), trainer)}
               for rows, trainer in cases]
    (OUT / "bench_pipeline.json").write_text(json.dumps(results, indent=2))

    def name(result: dict) -> str:
        return ("penguins (344)" if result["rows"] == 0 else f"{result['rows']:,} rows") + f", {result['trainer']}"

    print("| data, trainer | " + " | ".join(f"{s} s (imports)" for s in STEPS)
          + " | total s | train step us/row | us per optimizer step | peak PSS MB |")
    print("|---|" + "---:|" * (len(STEPS) + 4))
    for result in results:
        steps = result["steps_s"]
        per_row = steps.get("train", float("nan")) / (result["rows"] or 344) * 1e6
        cells = [f"{steps.get(s, float('nan')):.1f} ({imports[s]:.1f})" for s in STEPS]
        print(f"| {name(result)} | " + " | ".join(cells) + f" | {result['total_s']:.1f} | {per_row:.2f} | "
              f"{result['us_per_step']:.1f} | {result['peak_pss_mb']:,.0f} |")
    by_case = {(r["rows"], r["trainer"]): r for r in results}
    for rows in args.keras_rows:
        fused, keras = by_case.get((rows, "fused")), by_case[(rows, "keras")]
        if fused:
            print(f"\n{name(fused)} vs keras: train step {fused['steps_s']['train']:.1f} s vs "
                  f"{keras['steps_s']['train']:.1f} s ({keras['steps_s']['train'] / fused['steps_s']['train']:.1f}x), "
                  f"total {fused['total_s']:.1f} s vs {keras['total_s']:.1f} s "
                  f"({keras['total_s'] / fused['total_s']:.1f}x)")
    print("\npeak PSS MB while each step ran (the whole process tree: the CLI, kfp.local, the step):\n")
    print("| data, trainer | " + " | ".join(STEPS) + " |")
    print("|---|" + "---:|" * len(STEPS))
    for result in results:
        peaks = result["steps_peak_pss_mb"]
        print(f"| {name(result)} | " + " | ".join(f"{peaks.get(s, float('nan')):,.0f}" for s in STEPS) + " |")


if __name__ == "__main__":
    main()
