"""Run a command and sample the memory of its whole process tree (children and forks included)."""

from __future__ import annotations

import subprocess
import threading
import time
from pathlib import Path
from typing import Sequence


def _tree(pid: int) -> list[int]:
    """A process and all its descendants, from /proc."""
    found, todo = [], [pid]
    while todo:
        current = todo.pop()
        found.append(current)
        for task in Path(f"/proc/{current}/task").glob("*/children"):
            try:
                todo.extend(int(c) for c in task.read_text().split())
            except OSError:
                continue
    return found


def tree_pss_mb(pid: int) -> float:
    """Proportional set size of a process tree (shared pages counted once), in MB."""
    total = 0
    for member in _tree(pid):
        try:
            rollup = Path(f"/proc/{member}/smaps_rollup").read_text()
        except OSError:
            continue
        total += next(int(line.split()[1]) for line in rollup.splitlines() if line.startswith("Pss:"))
    return total / 1024


def run_traced(command: Sequence[str], every: float = 0.05
               ) -> tuple[list[tuple[float, str]], list[tuple[float, float]]]:
    """Run `command`; its stdout+stderr lines with the time each arrived, and PSS samples (time, MB) of its
    tree every `every` s (times: seconds since the start)."""
    started = time.monotonic()
    proc = subprocess.Popen(list(command), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    lines: list[tuple[float, str]] = []
    samples: list[tuple[float, float]] = []

    def read() -> None:
        for line in proc.stdout or ():
            lines.append((time.monotonic() - started, line.rstrip("\n")))

    reader = threading.Thread(target=read)
    reader.start()
    while proc.poll() is None:
        samples.append((time.monotonic() - started, tree_pss_mb(proc.pid)))
        time.sleep(every)
    reader.join()
    if proc.returncode:
        tail = "\n".join(line for _, line in lines)[-3000:]
        raise RuntimeError(f"{' '.join(command)} failed with exit code {proc.returncode}:\n{tail}")
    return lines, samples


def run_sampled(command: Sequence[str], every: float = 0.05) -> tuple[str, float]:
    """Run `command`, return its stdout+stderr and the peak PSS (MB) of its tree, sampled every `every` s."""
    lines, samples = run_traced(command, every)
    return "\n".join(line for _, line in lines), max((mb for _, mb in samples), default=0.0)
