"""Micro-batching: concurrent requests that arrive within `max_latency_ms` share one model call.

Requests queue their decoded columns; the first one arms a timer, and the batch goes to the model
(in a worker thread, off the event loop) when the timer fires or `max_rows` rows are waiting. Each
request gets its own slice of the outputs back; a failure reaches every request of that batch.
"""

from __future__ import annotations

import asyncio
from typing import Callable

import numpy as np

Columns = dict[str, np.ndarray]


class MicroBatcher:
    """Coalesces concurrent calls of `call(columns) -> outputs` (row-aligned) into one."""

    def __init__(self, call: Callable[[Columns], np.ndarray], max_latency_ms: float, max_rows: int) -> None:
        self.call, self.max_latency, self.max_rows = call, max_latency_ms / 1000.0, max_rows
        self._pending: list[tuple[Columns, asyncio.Future]] = []
        self._rows = 0
        self._timer: asyncio.TimerHandle | None = None

    async def submit(self, columns: Columns) -> np.ndarray:
        """Queue one request's rows; returns its outputs once its batch has run."""
        loop = asyncio.get_running_loop()
        future: asyncio.Future = loop.create_future()
        self._pending.append((columns, future))
        self._rows += len(next(iter(columns.values())))
        if self._rows >= self.max_rows:
            self._flush()
        elif self._timer is None:
            self._timer = loop.call_later(self.max_latency, self._flush)
        return await future

    def _flush(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        batch, self._pending, self._rows = self._pending, [], 0
        if not batch:
            return
        merged = {name: np.concatenate([columns[name] for columns, _ in batch]) for name in batch[0][0]}
        sizes = [len(next(iter(columns.values()))) for columns, _ in batch]
        task = asyncio.ensure_future(asyncio.to_thread(self.call, merged))
        task.add_done_callback(lambda done: self._deliver(done, batch, sizes))

    @staticmethod
    def _deliver(done: asyncio.Future, batch: list[tuple[Columns, asyncio.Future]], sizes: list[int]) -> None:
        error = done.exception()
        start = 0
        for (_, future), size in zip(batch, sizes):
            if not future.done():
                if error is not None:
                    future.set_exception(error)
                else:
                    future.set_result(done.result()[start:start + size])
            start += size
