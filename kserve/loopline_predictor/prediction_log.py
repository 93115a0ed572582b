"""Sampled prediction logging for monitoring, off the request path, losing nothing it took.

`record` only samples rows and appends them to a bounded queue (microseconds); a background thread
writes batches as JSONL files under `<uri>/<model>/<UTC date>/` (a local folder or gs://) every
`flush_seconds` or `flush_rows`, and `close` writes what is left at shutdown. Each row carries its
inference id (`<request id>:<row index>`, what labels are joined on later), the model version and
the sample rate in force.

A failed write is retried with backoff; a batch the store still refuses goes to a local spool
(`log_spool.Spool`) and is written, under the same name, once the store answers again. Rows are
dropped only when the queue is full or the spool cannot be written, and then counted. Nothing here
raises into a request.
"""

from __future__ import annotations

import json
import logging
import math
import threading
import time
import uuid
from collections import deque
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import numpy as np
from prometheus_client import Counter, Gauge

from components.lib import uri as uri_io
from loopline_predictor.log_spool import Spool, default_spool_dir

logger = logging.getLogger(__name__)
LOG_FAILURES = Counter("loopline_prediction_log_failures", "Prediction-log write attempts that failed")
LOGGED_ROWS = Counter("loopline_prediction_log_rows", "Rows written to the prediction log's store")
DROPPED_ROWS = Counter("loopline_prediction_log_dropped_rows",
                       "Sampled rows never logged: the queue was full or the spool could not be written")
SPOOLED_ROWS = Gauge("loopline_prediction_log_spooled_rows", "Rows waiting in the local spool for the store")


def _plain(value: Any) -> Any:
    """JSON-ready: numpy scalars to Python, NaN (a missing number) to null."""
    value = value.item() if isinstance(value, np.generic) else value
    return None if isinstance(value, float) and math.isnan(value) else value


def inference_id(request_id: str, row: int) -> str:
    """The id of one served row: its request's id and its index in the request."""
    return f"{request_id}:{row}"


class PredictionLogger:
    """Writes a sample of served rows (inputs, outputs, ids, model version, sample rate, time) as JSONL batches."""

    def __init__(self, uri: str, sample_rate: float, flush_rows: int = 500, flush_seconds: float = 2.0,
                 seed: int | None = None, spool_dir: Path | None = None, max_queue_rows: int = 100_000,
                 retries: int = 3, backoff_seconds: float = 0.25, attempt_timeout: float = 10.0) -> None:
        if not 0.0 < sample_rate <= 1.0:
            raise ValueError(f"prediction log sample rate must be in (0, 1], got {sample_rate}")
        if max_queue_rows < 1:
            raise ValueError(f"prediction log queue must hold at least one row, got {max_queue_rows}")
        self.uri, self.sample_rate = uri.rstrip("/"), sample_rate
        self.flush_rows, self.flush_seconds = flush_rows, flush_seconds
        self.max_queue_rows, self.retries, self.backoff_seconds = max_queue_rows, retries, backoff_seconds
        self.attempt_timeout = attempt_timeout  # our retries and spool replace the storage client's own
        self.spool = Spool(spool_dir or default_spool_dir(), self.uri)
        SPOOLED_ROWS.set(self.spool.rows)
        self._rng = np.random.default_rng(seed)
        self._queue: deque[tuple[str, dict]] = deque()
        self._wake = threading.Event()
        self._closed = False
        self._thread = threading.Thread(target=self._run, name="prediction-log", daemon=True)
        self._thread.start()

    def record(self, model: str, version: str, request_id: str, columns: dict[str, np.ndarray],
               outputs: list[dict]) -> None:
        """Queue a sample of this request's rows (counting any the full queue refuses); never raises."""
        try:
            rows = np.flatnonzero(self._rng.random(len(outputs)) < self.sample_rate)
            room = max(self.max_queue_rows - len(self._queue), 0)
            if len(rows) > room:
                DROPPED_ROWS.inc(len(rows) - room)
                rows = rows[:room]
            now = datetime.now(timezone.utc).isoformat(timespec="milliseconds")
            for row in rows:
                inputs = {name: _plain(values[row]) for name, values in columns.items()}
                self._queue.append((model, {"time": now, "model": model, "model_version": version,
                                            "request_id": request_id,
                                            "inference_id": inference_id(request_id, int(row)),
                                            "sample_rate": self.sample_rate,
                                            "inputs": inputs, "outputs": outputs[row]}))
            if len(self._queue) >= self.flush_rows:
                self._wake.set()
        except Exception:  # noqa: BLE001 - logging must never fail a request
            DROPPED_ROWS.inc(len(outputs))
            logger.exception("prediction log: could not queue rows")

    def _write(self, name: str, text: str) -> None:
        """One batch to the store under its final name (a rewrite of the same name replaces it)."""
        try:
            uri_io.write_text(uri_io.join(self.uri, name), text, attempt_timeout=self.attempt_timeout)
        except Exception:
            LOG_FAILURES.inc()
            raise
        LOGGED_ROWS.inc(text.count("\n"))

    def _write_with_retries(self, name: str, text: str) -> bool:
        """Try a batch `retries` + 1 times, waiting twice as long each time; False when the store kept refusing."""
        for attempt in range(self.retries + 1):
            try:
                self._write(name, text)
                return True
            except Exception as err:  # noqa: BLE001 - any store failure: retry, then spool
                failure = err
            if attempt < self.retries:
                time.sleep(self.backoff_seconds * 2 ** attempt)
        logger.warning("prediction log: %s refused %s after %d tries (%s); spooling it", self.uri, name,
                       self.retries + 1, failure)
        return False

    def _spool(self, name: str, text: str) -> None:
        """Keep a batch locally for later; if even that fails, count its rows as dropped."""
        try:
            self.spool.put(name, text)
        except OSError:
            DROPPED_ROWS.inc(text.count("\n"))
            logger.exception("prediction log: could not spool %s to %s; its rows are dropped", name,
                             self.spool.folder)

    def _drain_spool(self) -> bool:
        """Write spooled batches oldest first; True when none is left (the store is taking writes)."""
        try:
            written = self.spool.drain(self._write)
            if written:
                logger.info("prediction log: wrote %d spooled rows to %s", written, self.uri)
            return True
        except Exception as err:  # noqa: BLE001 - the store is still down: keep spooling
            logger.debug("prediction log: store still refusing spooled batches (%s)", err)
            return False
        finally:
            SPOOLED_ROWS.set(self.spool.rows)

    def _batches(self) -> list[tuple[str, str]]:
        """Take everything queued, as (name in the store, JSONL text) per model."""
        entries: dict[str, list[dict]] = {}
        while self._queue:
            model, entry = self._queue.popleft()
            entries.setdefault(model, []).append(entry)
        return [(f"{model}/{rows[0]['time'][:10]}/{rows[0]['time'].replace(':', '')}-{uuid.uuid4().hex[:8]}.jsonl",
                 "".join(json.dumps(row) + "\n" for row in rows)) for model, rows in entries.items()]

    def _flush(self) -> None:
        """Spooled batches first (keeping time order); new ones straight to the spool while the store is down."""
        store_up = self._drain_spool()
        for name, text in self._batches():
            store_up = store_up and self._write_with_retries(name, text)
            if not store_up:
                self._spool(name, text)
        SPOOLED_ROWS.set(self.spool.rows)

    def _run(self) -> None:
        while not self._closed:
            self._wake.wait(self.flush_seconds)
            self._wake.clear()
            try:
                self._flush()
            except Exception:  # noqa: BLE001 - the writer thread must outlive any one failure
                logger.exception("prediction log: writer cycle failed")

    def close(self) -> None:
        """Stop the writer and write what is queued (at shutdown); what the store refuses stays spooled."""
        if self._closed:
            return
        self._closed = True
        self._wake.set()
        self._thread.join(timeout=60)
        self._flush()
        if self.spool.rows:
            logger.warning("prediction log: %d rows stay spooled in %s; a predictor with the same spool and log "
                           "writes them when it starts", self.spool.rows, self.spool.folder)
