"""Micro-batching: concurrent requests share one model call, off the event loop.

Opportunistic by default (`max_latency_ms` 0): a request that finds the model idle runs at once,
alone; requests that arrive while a call is running queue up and go together as the next call, as
soon as it ends. With `max_latency_ms` > 0 the first queued request also arms a timer, so a batch
may wait that long for company. A batch never exceeds `max_rows` rows; each request gets its own
slice of the outputs back, and a failure reaches every request of its batch.
"""

from __future__ import annotations

import asyncio
from typing import Callable

import numpy as np

Columns = dict[str, np.ndarray]


def _rows(columns: Columns) -> int:
    return len(next(iter(columns.values())))


class MicroBatcher:
    """Coalesces concurrent calls of `call(columns) -> outputs` (row-aligned) into one."""

    def __init__(self, call: Callable[[Columns], np.ndarray], max_latency_ms: float, max_rows: int) -> None:
        self.call, self.max_latency, self.max_rows = call, max_latency_ms / 1000.0, max_rows
        self._pending: list[tuple[Columns, asyncio.Future]] = []
        self._rows = 0
        self._running = 0
        self._timer: asyncio.TimerHandle | None = None

    async def submit(self, columns: Columns) -> np.ndarray:
        """Queue one request's rows; returns its outputs once its batch has run."""
        loop = asyncio.get_running_loop()
        future: asyncio.Future = loop.create_future()
        if self._rows + _rows(columns) > self.max_rows:
            self._flush()
        self._pending.append((columns, future))
        self._rows += _rows(columns)
        if self._running == 0 and self.max_latency == 0:
            self._flush()
        elif self._timer is None and self.max_latency > 0:
            self._timer = loop.call_later(self.max_latency, self._flush)
        return await future

    def _flush(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        batch, self._pending, self._rows = self._pending, [], 0
        if not batch:
            return
        merged = batch[0][0] if len(batch) == 1 else {
            name: np.concatenate([columns[name] for columns, _ in batch]) for name in batch[0][0]}
        sizes = [_rows(columns) for columns, _ in batch]
        self._running += 1
        # The default executor's thread, without to_thread's context copy (nothing here reads contextvars).
        call = asyncio.get_running_loop().run_in_executor(None, self.call, merged)
        call.add_done_callback(lambda done: self._deliver(done, batch, sizes))

    def _deliver(self, done: asyncio.Future, batch: list[tuple[Columns, asyncio.Future]], sizes: list[int]) -> None:
        self._running -= 1
        error = done.exception()
        start = 0
        for (_, future), size in zip(batch, sizes):
            if not future.done():
                if error is not None:
                    future.set_exception(error)
                else:
                    future.set_result(done.result() if len(batch) == 1 else done.result()[start:start + size])
            start += size
        if self._running == 0 and self._pending and self.max_latency == 0:
            self._flush()  # what queued during this call goes now, together
