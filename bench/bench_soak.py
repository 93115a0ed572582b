"""Benchmark (soak, not a test): the predictor under steady load for minutes, hot reloaded as it goes; prints a table.

A short benchmark cannot show what goes wrong slowly: memory that creeps up with requests or with reloads, a
reload that fails or stalls the requests in flight, a prediction log that loses rows over time. One predictor
(serving env) serves the benchmarks' small model from a model repository under bench/out/soak/, logging a
sample of its rows (--sample-rate) to a local folder there. wrk (2 threads, --connections) sends V1 requests
of --rows rows in one-minute windows. From the second window on (or in the only one), each window has a hot
reload at its middle: a fresh copy of the bundle as a new version (its registration.json), swapped in by
rename, then `POST /v2/repository/models/penguins/load`; that window's errors and p99 include the reload.
Per window: requests/s, p99, errors (non-2xx + socket errors), the server's VmRSS at the window's end. After a
graceful stop (the log's writer flushes its queue), the rows logged against the rows served times the sample
rate, within the binomial sampling error. Client and server share this machine's cores.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import re
import shutil
import sys
import threading
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from bench_serve import _body, _wrk, small_bundle

from components.lib.registry_versions import REGISTRATION_FILE
from components.lib.serving import LocalServer, call, fetch_text
from loopline import paths

OUT = Path(__file__).resolve().parent / "out" / "soak"
MODEL = "penguins"
WINDOW_SECONDS = 60


@dataclass
class Reload:
    """One hot reload: the load call's status and how long it took."""

    version: str
    status: int
    seconds: float


@dataclass
class Window:
    """One wrk window: its length, wrk's figures, the server's RSS at its end and the reloads inside it."""

    seconds: int
    wrk: dict
    rss_mb: float
    reloads: list[Reload]


def windows(minutes: float) -> list[int]:
    """The soak's wrk windows in seconds: whole minutes, then the rest (at least 1 s) as a shorter one."""
    total = round(minutes * WINDOW_SECONDS)
    full, rest = divmod(total, WINDOW_SECONDS)
    return [WINDOW_SECONDS] * full + ([rest] if rest else [])


def rss_mb(pid: int) -> float:
    """The process's resident memory now (VmRSS), in MB."""
    return int(re.search(r"VmRSS:\s+(\d+)", Path(f"/proc/{pid}/status").read_text()).group(1)) / 1024


def place(bundle: Path, repository: Path, version: str) -> None:
    """Put a copy of `bundle` at <repository>/MODEL as `version`: staged beside it, swapped in by rename."""
    staged, outgoing, target = (repository / f".{MODEL}.incoming", repository / f".{MODEL}.outgoing",
                                repository / MODEL)
    shutil.copytree(bundle, staged)
    (staged / REGISTRATION_FILE).write_text(json.dumps({"version": version}))
    if target.exists():
        target.rename(outgoing)
    staged.rename(target)
    shutil.rmtree(outgoing, ignore_errors=True)


def hot_reload(server: LocalServer, bundle: Path, repository: Path, version: str) -> Reload:
    """Place a new version and ask the running server to load it (the V2 repository API)."""
    started = time.monotonic()
    place(bundle, repository, version)
    try:
        status = call(f"{server.url}/v2/repository/models/{MODEL}/load", {}, timeout=300)[0]
    except OSError:  # no answer at all (counted as status 0)
        status = 0
    return Reload(version, status, time.monotonic() - started)


def run_window(server: LocalServer, body: str, connections: int, seconds: int,
               reload_version: str | None, bundle: Path, repository: Path) -> Window:
    """One wrk window; with `reload_version`, a hot reload in another thread at the window's middle."""
    reloads: list[Reload] = []
    timer = threading.Timer(seconds / 2, lambda: reloads.append(hot_reload(server, bundle, repository,
                                                                            reload_version)))
    if reload_version:
        timer.start()
    result = _wrk(f"{server.url}/v1/models/{MODEL}:predict", body, connections, OUT, duration=f"{seconds}s")
    if reload_version:
        timer.join()
    return Window(seconds, result, rss_mb(server.pid), reloads)


def metric_total(metrics: str, name: str) -> float:
    """The sum of a metric's samples over all its label sets, from a /metrics page."""
    return sum(float(line.rsplit(" ", 1)[1]) for line in metrics.splitlines()
               if line.startswith((name + " ", name + "{")))


def logged_rows(folder: Path) -> tuple[Counter, int]:
    """The logged rows per model version, and how many inference ids appear more than once."""
    versions: Counter = Counter()
    ids: Counter = Counter()
    for file in folder.rglob("*.jsonl"):
        for line in file.read_text().splitlines():
            row = json.loads(line)
            versions[row["model_version"]] += 1
            ids[row["inference_id"]] += 1
    return versions, sum(1 for count in ids.values() if count > 1)


def row_line(index: int, window: Window) -> str:
    """The table row of one window."""
    reloads = ", ".join(f"{r.status} in {r.seconds:.1f} s" for r in window.reloads)
    minute = f"{index}" if window.seconds == WINDOW_SECONDS else f"{index} ({window.seconds} s)"
    return (f"| {minute} | {window.wrk['rps']:,.0f} | {window.wrk['p99_ms']:.1f} | {window.wrk['errors']} "
            f"| {window.rss_mb:,.0f} | {len(window.reloads)}{f' ({reloads})' if reloads else ''} |")


def summary(done: list[Window], rows: int, rate: float, server_rows: float, dropped: float, logged: Counter,
            duplicates: int, spooled: int) -> list[str]:
    """The lines after the table: rows served and logged (with the sampling error), memory, errors."""
    requests = sum(w.wrk["requests"] for w in done)
    expected = server_rows * rate
    sigma = math.sqrt(server_rows * rate * (1 - rate))
    actual = sum(logged.values())
    first, last = done[0].rss_mb, done[-1].rss_mb
    change = max((w.rss_mb - first for w in done), key=abs) / first * 100
    reloads = [r for w in done for r in w.reloads]
    non_2xx, sockets = sum(w.wrk["non_2xx"] for w in done), sum(w.wrk["socket_errors"] for w in done)
    took = f", {min(r.seconds for r in reloads):.1f} to {max(r.seconds for r in reloads):.1f} s each" if reloads else ""
    return [
        f"- served rows: {requests * rows:,} (wrk: {requests:,} requests x {rows} rows); "
        f"the server counted {server_rows:,.0f}",
        f"- logged rows: expected {expected:,.0f} ± {sigma:,.0f} (server's rows x {rate}, binomial sqrt(n p (1-p))), "
        f"actual {actual:,} ({(actual - expected) / sigma:+.1f} σ); dropped by the logger {dropped:,.0f}, "
        f"left in the spool {spooled:,}, inference ids logged twice {duplicates:,}",
        "- logged rows by model version: " + ", ".join(f"{v} {n:,}" for v, n in sorted(logged.items())),
        f"- RSS: {first:,.0f} → {last:,.0f} MB, largest change from the first minute {change:+.1f}% "
        "(target: flat within 10%)",
        f"- errors: {non_2xx + sockets:,} (non-2xx {non_2xx:,}, socket {sockets:,}; target 0); reloads: "
        f"{len(reloads)}, statuses {dict(Counter(r.status for r in reloads))}"
        + took,
    ]


def parse_args() -> argparse.Namespace:
    """The soak's options."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=10, help="how long to drive the server (0.5: one 30 s window)")
    parser.add_argument("--connections", type=int, default=64, help="wrk's concurrent connections")
    parser.add_argument("--sample-rate", type=float, default=0.1, help="the prediction log's sample rate")
    parser.add_argument("--rows", type=int, default=4, help="rows per V1 request")
    return parser.parse_args()


def main() -> None:
    """Train, serve with logging, soak with reloads, stop gracefully, count the log; print the table and summary."""
    args = parse_args()
    if not shutil.which("wrk"):
        sys.exit("the soak needs wrk: `make soak` installs it (apt-get install wrk)")
    plan = windows(args.minutes)
    if not plan:
        sys.exit("--minutes must be at least one second")
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # training here: TensorFlow's start-up lines off (as in make)
    shutil.rmtree(OUT, ignore_errors=True)
    repository, log_dir = OUT / "models", OUT / "predictions"
    repository.mkdir(parents=True)
    bundle = small_bundle(OUT / "train")
    place(bundle, repository, "soak-0")
    server = LocalServer(repository, MODEL, python=str(paths.SERVING_PYTHON),
                         extra_args=("--prediction_log_uri", str(log_dir),
                                     "--prediction_log_sample_rate", str(args.sample_rate),
                                     "--prediction_log_spool", str(OUT / "spool")))
    print(f"soak: {len(plan)} window(s), {args.connections} connections, V1 requests of {args.rows} rows, "
          f"sample rate {args.sample_rate}\n")
    print("| minute | req/s | p99 ms | errors | RSS MB | reloads |")
    print("|---:|---:|---:|---:|---:|---|")
    done: list[Window] = []
    with server:
        body = _body("v1", args.rows)
        for index, seconds in enumerate(plan):
            reload = index > 0 or len(plan) == 1
            version = f"soak-{sum(len(w.reloads) for w in done) + 1}" if reload else None
            done.append(run_window(server, body, args.connections, seconds, version, bundle, repository))
            print(row_line(index + 1, done[-1]), flush=True)
        metrics = fetch_text(f"{server.url}/metrics")
        server.stop()  # SIGTERM: KServe stops the model, the log's writer writes what it holds
        logged, duplicates = logged_rows(log_dir)
        if any(w.wrk["errors"] or any(r.status != 200 for r in w.reloads) for w in done):
            print("\nthe server log's end:\n" + server.log_tail(1500))
    spooled = sum(len(f.read_text().splitlines()) for f in (OUT / "spool").rglob("*.jsonl"))
    print()
    print("\n".join(summary(done, args.rows, args.sample_rate, metric_total(metrics, "loopline_predictions_total"),
                            metric_total(metrics, "loopline_prediction_log_dropped_rows_total"), logged,
                            duplicates, spooled)))


if __name__ == "__main__":
    main()
