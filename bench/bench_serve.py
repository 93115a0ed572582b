"""Benchmark: the served endpoint vs a typical user's KServe predictor, with wrk; prints a table.

Same 4-16-3 Keras model for both (the four numeric penguin measurements -> species). Floor: the
SavedModel signature called in process (serving env). Each server alone on its port; wrk (2
threads) runs from this machine, so client and server share the 2 cores. Server memory: VmHWM.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from loopline import paths

ROOT = paths.ROOT
SERVING_PYTHON = str(paths.SERVING_PYTHON)
FEATURES = ["bill_length_mm", "bill_depth_mm", "flipper_length_mm", "body_mass_g"]
ROW = {"bill_length_mm": 39.1, "bill_depth_mm": 18.7, "flipper_length_mm": 181.0, "body_mass_g": 3750.0}
DURATION = "8s"
CASES = [("v1", 1, 1), ("v1", 8, 1), ("v1", 64, 1), ("v1", 8, 32), ("v2", 8, 1)]  # protocol, connections, rows
FLOOR = """
import sys, time, numpy as np, tensorflow as tf
sig = tf.saved_model.load(sys.argv[1] + "/saved_model")
fn = sig.signatures["serving_default"]
args = {n: tf.constant(np.array([v], np.float32)) for n, v in %r.items()}
for _ in range(200): fn(**args)
t = time.perf_counter(); n = 3000
for _ in range(n): fn(**args)
print((time.perf_counter() - t) / n * 1e6)
""" % (ROW,)


def small_bundle(out: Path) -> Path:
    """The benchmarks' 4-16-3 model, trained briefly on the bundled penguins under `out`."""
    from components.ingest.executor import ingest
    from components.train.executor import train
    from components.train.model import Hyperparameters
    from components.validate.executor import ValidateOutputs, validate

    ingest(str(paths.BUNDLED_DATA), "species", out / "train", out / "eval", log=lambda _: None)
    v = out / "validate"
    validate(out / "train", out / "eval", ValidateOutputs(v / "s", v / "sc", v / "a", v / "r.html", v / "r.md"),
             log=lambda _: None)
    train(out / "train", out / "eval", v / "sc" / "schema.pbtxt", out / "bundle", "species", features=FEATURES,
          hp=Hyperparameters(epochs=10), log=lambda _: None)
    return out / "bundle"


def _body(protocol: str, rows: int) -> str:
    if protocol == "v1":
        return json.dumps({"instances": [ROW] * rows})
    return json.dumps({"inputs": [{"name": n, "shape": [rows], "datatype": "FP32", "data": [v] * rows}
                                  for n, v in ROW.items()]})


def _wrk(url: str, body: str, connections: int, script_dir: Path, duration: str = DURATION) -> dict:
    """One wrk run (POSTing `body`, --latency): requests/s, p50/p99 ms, requests done, errors (non-2xx + socket)."""
    script = script_dir / "post.lua"
    script.write_text('wrk.method = "POST"\nwrk.headers["Content-Type"] = "application/json"\n'
                      f"wrk.body = {json.dumps(body)}\n")
    command = ["wrk", f"-t{min(2, connections)}", f"-c{connections}", f"-d{duration}", "--latency",
               "-s", str(script), url]
    out = subprocess.run(command,
                         capture_output=True, text=True, check=True).stdout

    def latency(label: str) -> float:
        value, unit = re.search(rf"^\s+{label}\s+([\d.]+)(us|ms|s)\s*$", out, re.MULTILINE).groups()
        return float(value) * {"us": 1e-3, "ms": 1.0, "s": 1e3}[unit]

    non_2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    socket_errors = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    result = {"rps": float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1)), "p50_ms": latency("50%"),
              "p99_ms": latency("99%"), "requests": int(re.search(r"(\d+) requests in ", out).group(1)),
              "non_2xx": int(non_2xx.group(1)) if non_2xx else 0,
              "socket_errors": sum(map(int, socket_errors.groups())) if socket_errors else 0}
    return {**result, "errors": result["non_2xx"] + result["socket_errors"]}


def _peak_rss_mb(pid: int) -> float:
    status = Path(f"/proc/{pid}/status").read_text()
    return int(re.search(r"VmHWM:\s+(\d+)", status).group(1)) / 1024


def main() -> None:
    """Measure the floor, then both servers on every case; print one Markdown table."""
    from components.lib.serving import LocalServer

    if not shutil.which("wrk"):
        sys.exit("bench-serve needs wrk: `make bench-serve` installs it (apt-get install wrk)")
    with tempfile.TemporaryDirectory(prefix="loopline-bench-serve-") as tmp:
        bundle = small_bundle(Path(tmp))
        floor = float(subprocess.run([SERVING_PYTHON, "-c", FLOOR, str(bundle)], capture_output=True, text=True,
                                     check=True, env={"TF_CPP_MIN_LOG_LEVEL": "3", "PATH": "/usr/bin:/bin"}
                                     ).stdout.strip().splitlines()[-1])
        print(f"floor: the signature called in process, 1 row: {floor:.0f} us per call "
              f"({1e6 / floor:,.0f} calls/s on one core)\n")
        print("| server | protocol | connections | rows/request | requests/s | rows/s | p50 ms | p99 ms | errors |")
        print("|---|---|---:|---:|---:|---:|---:|---:|---:|")
        servers = {
            "loopline": (("-m", "loopline_predictor"), ()),
            "loopline, max_latency_ms 2": (("-m", "loopline_predictor"), ("--max_latency_ms", "2")),
            "baseline": ((str(ROOT / "bench" / "baseline_predictor.py"),), ()),
        }
        for name, (program, extra) in servers.items():
            with LocalServer(bundle, "penguins", python=SERVING_PYTHON, program=program, extra_args=extra) as server:
                for protocol, connections, rows in CASES:
                    if name == "baseline" and protocol == "v2":
                        continue  # the typical predictor above speaks V1 only
                    url = (f"{server.url}/v1/models/penguins:predict" if protocol == "v1"
                           else f"{server.url}/v2/models/penguins/infer")
                    r = _wrk(url, _body(protocol, rows), connections, Path(tmp))
                    print(f"| {name} | {protocol} | {connections} | {rows} | {r['rps']:,.0f} | {r['rps'] * rows:,.0f} "
                          f"| {r['p50_ms']:.2f} | {r['p99_ms']:.2f} | {r['errors']} |", flush=True)
                print(f"| {name} | peak RSS | | | | | | | {_peak_rss_mb(server.pid):,.0f} MB |", flush=True)


if __name__ == "__main__":
    main()
