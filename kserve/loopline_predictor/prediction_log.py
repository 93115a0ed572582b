"""Sampled prediction logging for drift monitoring, off the request path.

`record` only samples rows and appends them to a queue (microseconds); a background thread writes
batches as JSONL files under `<uri>/<model>/<UTC date>/` (a local folder or gs://) every
`flush_seconds` or `flush_rows`, and `close` writes what is left at shutdown. A logging failure is
counted and logged, never raised: it must not fail a request.
"""

from __future__ import annotations

import json
import logging
import math
import threading
import uuid
from collections import deque
from datetime import datetime, timezone
from typing import Any

import numpy as np
from prometheus_client import Counter

from components.lib import uri as uri_io

logger = logging.getLogger(__name__)
LOG_FAILURES = Counter("loopline_prediction_log_failures", "Prediction-log batches that could not be written")
LOGGED_ROWS = Counter("loopline_prediction_log_rows", "Rows written to the prediction log")


def _plain(value: Any) -> Any:
    """JSON-ready: numpy scalars to Python, NaN (a missing number) to null."""
    value = value.item() if isinstance(value, np.generic) else value
    return None if isinstance(value, float) and math.isnan(value) else value


class PredictionLogger:
    """Writes a sample of served rows (inputs + outputs + model version + time) as batched JSONL."""

    def __init__(self, uri: str, sample_rate: float, flush_rows: int = 500, flush_seconds: float = 2.0,
                 seed: int | None = None) -> None:
        if not 0.0 < sample_rate <= 1.0:
            raise ValueError(f"prediction log sample rate must be in (0, 1], got {sample_rate}")
        self.uri, self.sample_rate = uri.rstrip("/"), sample_rate
        self.flush_rows, self.flush_seconds = flush_rows, flush_seconds
        self._rng = np.random.default_rng(seed)
        self._queue: deque[tuple[str, dict]] = deque()
        self._wake = threading.Event()
        self._closed = False
        self._thread = threading.Thread(target=self._run, name="prediction-log", daemon=True)
        self._thread.start()

    def record(self, model: str, version: str, columns: dict[str, np.ndarray], outputs: list[dict]) -> None:
        """Queue a sample of this request's rows; never raises."""
        try:
            rows = np.flatnonzero(self._rng.random(len(outputs)) < self.sample_rate)
            now = datetime.now(timezone.utc).isoformat(timespec="milliseconds")
            for row in rows:
                inputs = {name: _plain(values[row]) for name, values in columns.items()}
                self._queue.append((model, {"time": now, "model": model, "model_version": version,
                                            "inputs": inputs, "outputs": outputs[row]}))
            if len(self._queue) >= self.flush_rows:
                self._wake.set()
        except Exception:  # noqa: BLE001 - logging must never fail a request
            LOG_FAILURES.inc()
            logger.exception("prediction log: could not queue rows")

    def _flush(self) -> None:
        batches: dict[str, list[dict]] = {}
        while self._queue:
            model, entry = self._queue.popleft()
            batches.setdefault(model, []).append(entry)
        for model, entries in batches.items():
            day = entries[0]["time"][:10]
            name = f"{self.uri}/{model}/{day}/{entries[0]['time'].replace(':', '')}-{uuid.uuid4().hex[:8]}.jsonl"
            try:
                uri_io.write_text(name, "".join(json.dumps(e) + "\n" for e in entries))
                LOGGED_ROWS.inc(len(entries))
            except Exception:  # noqa: BLE001 - a failed write drops this batch, never a request
                LOG_FAILURES.inc()
                logger.exception("prediction log: could not write %d rows to %s", len(entries), name)

    def _run(self) -> None:
        while not self._closed:
            self._wake.wait(self.flush_seconds)
            self._wake.clear()
            self._flush()

    def close(self) -> None:
        """Stop the writer and write what is queued (at shutdown)."""
        if not self._closed:
            self._closed = True
            self._wake.set()
            self._thread.join(timeout=30)
            self._flush()
