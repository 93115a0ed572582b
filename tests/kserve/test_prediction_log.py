"""Prediction logging on a real server: every sampled row reaches the log once, with its inference id, through
a broken folder, a full queue and a storage outage; and a broken log fails no request."""

from __future__ import annotations

import itertools
import json
import threading
import time
import urllib.request
from collections import Counter
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from components.lib import uri as uri_io
from components.lib.serving import LocalServer, fetch_text
from loopline import paths
from support.gcs_emulator import OUTAGE_BUCKET, Emulator

SERVING_PYTHON = str(paths.SERVING_PYTHON)
BUCKET = OUTAGE_BUCKET

pytestmark = pytest.mark.serving


def _rows(penguins_splits: dict[str, Path], count: int = 5) -> list[dict]:
    return pq.read_table(next(penguins_splits["eval"].glob("*.parquet"))).drop(["species"]).to_pylist()[:count]


def _post(url: str, body: dict, headers: dict[str, str] | None = None) -> tuple[int, dict, dict[str, str]]:
    """POST JSON with headers; the status, the JSON answer and the response headers (lower-case names)."""
    request = urllib.request.Request(url, data=json.dumps(body).encode(),
                                     headers={"Content-Type": "application/json", **(headers or {})})
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, json.loads(response.read()), {k.lower(): v for k, v in response.headers.items()}
    except urllib.error.HTTPError as err:
        return err.code, json.loads(err.read() or b"null"), {k.lower(): v for k, v in err.headers.items()}


def _metric(metrics: str, name: str) -> float:
    values = [float(line.rsplit(" ", 1)[1]) for line in metrics.splitlines() if line.startswith(name + " ")]
    assert values, f"{name} not in /metrics"
    return values[0]


def _logged(folder: Path) -> list[dict]:
    return [json.loads(line) for f in sorted(folder.rglob("*.jsonl")) for line in f.read_text().splitlines()]


def _server(bundle: Path, log: str, spool: Path, *more: str) -> LocalServer:
    return LocalServer(bundle, "penguins", python=SERVING_PYTHON,
                       extra_args=("--prediction_log_uri", log, "--prediction_log_sample_rate", "1",
                                   "--prediction_log_spool", str(spool), *more))


def _v2(rows: list[dict], request_id: str | None = None) -> dict:
    columns = {name: [row[name] for row in rows] for name in rows[0]}
    inputs = [{"name": name, "shape": [len(values)],
               "datatype": "BYTES" if isinstance(values[0], str) else "FP64", "data": values}
              for name, values in columns.items()]
    return {"inputs": inputs, **({"id": request_id} if request_id else {})}


def test_every_row_is_logged_once_with_its_inference_id_and_the_caller_gets_the_id_back(
    penguins_bundle: Path, penguins_splits: dict[str, Path], tmp_path: Path
) -> None:
    rows = _rows(penguins_splits)
    log_dir = tmp_path / "predictions"
    with _server(penguins_bundle, str(log_dir), tmp_path / "spool") as server:
        v1 = f"{server.url}/v1/models/penguins:predict"
        status, answer, headers = _post(v1, {"instances": rows}, {"x-request-id": "from-header"})
        assert status == 200 and answer["id"] == "from-header" and headers["x-request-id"] == "from-header"
        status, answer, headers = _post(v1, {"instances": rows})
        minted = answer["id"]
        assert status == 200 and len(minted) == 36 and headers["x-request-id"] == minted
        status, answer, headers = _post(f"{server.url}/v2/models/penguins/infer", _v2(rows, "v2-own-id"),
                                        {"x-request-id": "loses-to-the-body"})
        assert status == 200 and answer["id"] == "v2-own-id" and headers["x-request-id"] == "v2-own-id"
    records = _logged(log_dir)
    assert sorted(r["inference_id"] for r in records) == sorted(
        f"{request}:{row}" for request in ("from-header", minted, "v2-own-id") for row in range(len(rows)))
    first = next(r for r in records if r["inference_id"] == "from-header:0")
    assert first["request_id"] == "from-header" and first["sample_rate"] == 1.0
    assert first["model"] == "penguins" and first["model_version"] and first["time"]
    assert set(first["inputs"]) == set(rows[0]) and first["inputs"]["island"] == rows[0]["island"]
    assert first["outputs"]["label"] in {"Adelie", "Chinstrap", "Gentoo"}
    assert all(p.parent.parent.name == "penguins" for p in log_dir.rglob("*.jsonl"))


def test_a_request_id_that_cannot_be_joined_on_is_refused_naming_it(
    penguins_bundle: Path, penguins_splits: dict[str, Path], tmp_path: Path
) -> None:
    with _server(penguins_bundle, str(tmp_path / "log"), tmp_path / "spool") as server:
        status, answer, _ = _post(f"{server.url}/v1/models/penguins:predict",
                                  {"instances": _rows(penguins_splits)}, {"x-request-id": "x" * 300})
        assert status == 400 and "request id" in answer["error"]
        status, answer, _ = _post(f"{server.url}/v2/models/penguins/infer", _v2(_rows(penguins_splits), "bad\nid"))
        assert status == 400 and "request id" in answer["error"]


def test_a_full_queue_drops_rows_and_counts_every_one(
    penguins_bundle: Path, penguins_splits: dict[str, Path], tmp_path: Path
) -> None:
    rows = _rows(penguins_splits, 10)
    log_dir = tmp_path / "log"
    with _server(penguins_bundle, str(log_dir), tmp_path / "spool", "--prediction_log_queue_rows", "3") as server:
        assert _post(f"{server.url}/v1/models/penguins:predict", {"instances": rows})[0] == 200
        dropped = _metric(fetch_text(f"{server.url}/metrics"), "loopline_prediction_log_dropped_rows_total")
    assert dropped == 7 and len(_logged(log_dir)) == 3


def test_rows_wait_in_the_spool_while_the_folder_is_unwritable_and_arrive_when_it_is_back(
    penguins_bundle: Path, penguins_splits: dict[str, Path], tmp_path: Path
) -> None:
    blocker = tmp_path / "store"
    blocker.write_text("a file where the log's folder should be")
    log_dir = blocker / "log"
    rows = _rows(penguins_splits)
    with _server(penguins_bundle, str(log_dir), tmp_path / "spool") as server:
        url = f"{server.url}/v1/models/penguins:predict"
        statuses = [_post(url, {"instances": rows}, {"x-request-id": f"down-{i}"})[0] for i in range(3)]
        time.sleep(4.5)  # the writer tries, backs off, and spools
        metrics = fetch_text(f"{server.url}/metrics")
        assert statuses == [200, 200, 200]
        assert _metric(metrics, "loopline_prediction_log_failures_total") >= 1
        assert _metric(metrics, "loopline_prediction_log_spooled_rows") == 15
        blocker.unlink()  # the store is back
        assert _post(url, {"instances": rows}, {"x-request-id": "up"})[0] == 200
    ids = Counter(r["inference_id"] for r in _logged(log_dir))
    assert ids == Counter(f"{request}:{row}" for request in ("down-0", "down-1", "down-2", "up")
                          for row in range(len(rows)))
    assert not list((tmp_path / "spool").rglob("*.jsonl"))


def test_every_logged_row_arrives_once_through_a_storage_outage(
    penguins_bundle: Path, penguins_splits: dict[str, Path], tmp_path: Path, emulator: Emulator
) -> None:
    rows = _rows(penguins_splits)
    log = f"gs://{BUCKET}/prediction-log"
    sent: list[str] = []
    with _server(penguins_bundle, log, tmp_path / "spool") as server:
        url = f"{server.url}/v1/models/penguins:predict"

        def send(phase: str, requests: int) -> None:
            for index in range(requests):
                request_id = f"{phase}-{index}"
                assert _post(url, {"instances": rows}, {"x-request-id": request_id})[0] == 200
                sent.extend(f"{request_id}:{row}" for row in range(len(rows)))
                time.sleep(0.1)

        send("before", 10)
        emulator.stop()
        send("during", 20)
        time.sleep(4.5)  # past a flush, its retries and the spooling
        assert _metric(fetch_text(f"{server.url}/metrics"), "loopline_prediction_log_spooled_rows") > 0
        emulator.start()
        send("after", 10)
    base = uri_io.join(log, "penguins")
    logged = Counter(json.loads(line)["inference_id"] for name in uri_io.list_files(base, recursive=True)
                     for line in uri_io.read_text(uri_io.join(base, name)).splitlines())
    assert logged == Counter(sent)


def _load(url: str, rows: list[dict], workers: int,
          stop: threading.Event) -> tuple[set[str], dict[str, float], list[threading.Thread]]:
    """Requests of `rows` from `workers` threads until `stop`: the request ids sent, those answered 200 (with the
    monotonic time of the answer) and the threads. A refused connection (the server is down) is sent, not answered."""
    sent: set[str] = set()
    answered: dict[str, float] = {}

    def client(worker: int) -> None:
        for i in itertools.count():
            if stop.is_set():
                return
            request_id = f"w{worker}-{i}"
            sent.add(request_id)
            try:
                status = _post(url, {"instances": rows}, {"x-request-id": request_id})[0]
            except OSError:
                time.sleep(0.01)
                continue
            if status == 200:
                answered[request_id] = time.monotonic()

    threads = [threading.Thread(target=client, args=(w,)) for w in range(workers)]
    for thread in threads:
        thread.start()
    return sent, answered, threads


def test_a_predictor_killed_under_load_loses_at_most_its_queue_and_a_restart_logs_on(
        penguins_bundle: Path, penguins_splits: dict[str, Path], tmp_path: Path) -> None:
    rows, log, spool = _rows(penguins_splits, 4), tmp_path / "log", tmp_path / "spool"
    first = _server(penguins_bundle, str(log), spool).start()
    stop = threading.Event()
    sent, answered, threads = _load(f"{first.url}/v1/models/penguins:predict", rows, 4, stop)
    time.sleep(5)
    killed_at = time.monotonic()
    first.kill()
    time.sleep(0.5)
    stop.set()
    for thread in threads:
        thread.join(timeout=60)
    first.close()

    logged = _logged(log)  # every file parses whole: a write cut by the kill left no half file
    ids = Counter(r["inference_id"] for r in logged)
    assert ids and max(ids.values()) == 1
    assert {i.rsplit(":", 1)[0] for i in ids} <= sent
    lost = {request for request in answered if any(f"{request}:{row}" not in ids for row in range(len(rows)))}
    served_rows = len(answered) * len(rows)
    # The queue holds what was sampled since the writer last took it (every 2 s or 500 rows): what the kill
    # lost must have been answered in the last seconds, never earlier traffic.
    assert all(answered[request] > killed_at - 2.0 - 2.0 for request in lost), (
        len(lost), sorted(killed_at - answered[r] for r in lost)[-5:])
    print(f"served {served_rows} rows before the kill, lost {len(lost) * len(rows)} from the log")

    with _server(penguins_bundle, str(log), spool) as second:
        assert _post(f"{second.url}/v1/models/penguins:predict", {"instances": rows},
                     {"x-request-id": "after-restart"})[0] == 200
    after = Counter(r["inference_id"] for r in _logged(log))
    assert after - ids == Counter(f"after-restart:{row}" for row in range(len(rows)))
