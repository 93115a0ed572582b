"""What a local run shows while it runs: one line per finished step; the full kfp.local log in a file.

kfp.local writes everything (its own log lines and each step's streamed output) to `sys.stdout`;
a StepLog stands in for it during the run, keeps every line in the log file, and turns kfp.local's
"Task 'x' finished with status S" lines into a step line with the step's key result, read from the
outputs the step just wrote. A failed step also shows its own last error lines.
"""

from __future__ import annotations

import io
import json
import re
import time
from pathlib import Path
from typing import Any, Callable, TextIO

from components import keys

_ANSI = re.compile(r"\x1b\[[0-9;]*m")
_STARTED = re.compile(r"Executing task '([^']+)'")
_FINISHED = re.compile(r"Task '([^']+)' finished with status (\w+)")
ERROR_LINES = 15
NAME_WIDTH = 15


def strip_ansi(text: str) -> str:
    """Text without kfp.local's colour escapes."""
    return _ANSI.sub("", text)


def _first(outputs: dict[str, Any], artifact: str) -> dict[str, Any]:
    found = outputs.get("artifacts", {}).get(artifact, {}).get("artifacts", [{}])
    return found[0].get("metadata", {}) if found else {}


def _ingest(outputs: dict[str, Any]) -> str:
    rows = _first(outputs, keys.TRAIN).get("rows", {})
    return f"{int(rows.get(keys.TRAIN, 0)):,} train / {int(rows.get(keys.EVAL, 0)):,} eval rows" if rows else ""


def _train(outputs: dict[str, Any]) -> str:
    model, metrics = _first(outputs, keys.MODEL), _first(outputs, "metrics")
    epochs = sum(1 for name in metrics if name.startswith("loss_epoch_"))
    shown = ", ".join(f"{k}={v:.4f}" for k, v in sorted(metrics.items()) if k.startswith("val_") and "_epoch_" not in k)
    return f"{epochs} epochs, best {int(model.get('best_epoch', 0))}: {shown}"


def _decision(flag: str, yes: str, no: str) -> Callable[[dict[str, Any]], str]:
    def shown(outputs: dict[str, Any]) -> str:
        values = outputs.get("parameterValues", {})
        return f"{yes if values.get(flag) else no}: {values.get(keys.REASON, '')}"

    return shown


def _monitor(outputs: dict[str, Any]) -> str:
    values = outputs.get("parameterValues", {})
    return f"{values.get(keys.DECISION)}: {values.get(keys.REASON, '')}"


def _register(outputs: dict[str, Any]) -> str:
    return f"version {outputs.get('parameterValues', {}).get(keys.VERSION)}"


# Each step's key result, from its executor_output.json.
RESULTS: dict[str, Callable[[dict[str, Any]], str]] = {
    "ingest": _ingest,
    "validate": _decision(keys.DATA_OK, "data OK", "data NOT OK"),
    "train": _train,
    "evaluate": _decision(keys.APPROVED, "APPROVED", "NOT APPROVED"),
    "infra-validate": _decision(keys.INFRA_OK, "serves", "does NOT serve"),
    "register": _register,
    "deploy": _decision(keys.DEPLOYED, "DEPLOYED", "NOT DEPLOYED"),
    "monitor": _monitor,
    "retrain": _decision(keys.TRIGGERED, "TRIGGERED", "not triggered"),
}


class StepLog(io.TextIOBase):
    """A stand-in for sys.stdout during a kfp.local run (see the module docstring)."""

    def __init__(self, log: TextIO, terminal: TextIO, verbose: bool, run_dir: Callable[[], Path | None]) -> None:
        self._log, self._terminal, self._verbose, self._run_dir = log, terminal, verbose, run_dir
        self._pending, self._started, self._lines = "", time.monotonic(), []  # type: ignore[var-annotated]

    def writable(self) -> bool:
        return True

    def write(self, text: str) -> int:
        self._log.write(text)
        if self._verbose:
            self._terminal.write(text)
        self._pending += text
        *complete, self._pending = self._pending.split("\n")
        for line in complete:
            self._line(strip_ansi(line))
        return len(text)

    def flush(self) -> None:
        self._log.flush()
        self._terminal.flush()

    def _line(self, line: str) -> None:
        if _STARTED.search(line):
            self._started, self._lines = time.monotonic(), []
            return
        finished = _FINISHED.search(line)
        if not finished:
            self._lines.append(line)
            return
        step, status = finished.groups()
        seconds = time.monotonic() - self._started
        if status == "SUCCESS":
            self._show(f"  {step:<{NAME_WIDTH}} {seconds:5.1f} s  {self._result(step)}".rstrip())
        else:
            self._show(f"  {step:<{NAME_WIDTH}} {seconds:5.1f} s  {status}; its last lines:")
            for own in self._error_lines():
                self._show(f"      {own}")

    def _show(self, text: str) -> None:
        if not self._verbose:
            self._terminal.write(text + "\n")
            self._terminal.flush()

    def _result(self, step: str) -> str:
        run_dir, shown = self._run_dir(), RESULTS.get(step)
        output_file = run_dir / step / "executor_output.json" if run_dir else None
        if shown is None or output_file is None or not output_file.exists():
            return ""
        try:
            return shown(json.loads(output_file.read_text()))
        except (ValueError, KeyError, TypeError):  # a step's own outputs are shown as they are, never fatal
            return ""

    def _error_lines(self) -> list[str]:
        """The failed step's own last lines: from its last traceback on, else its last lines."""
        lines = [line.strip() for line in self._lines if line.strip() and not line.startswith("    [KFP Executor")]
        start = max((i for i, line in enumerate(lines) if line.startswith("Traceback")), default=0)
        return lines[start:][-ERROR_LINES:]
