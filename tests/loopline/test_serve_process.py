"""`loopline serve` leaves no predictor behind: its child is stopped and reaped whatever signal ends it."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from components.lib.serving import free_port, wait_ready
from loopline import paths

pytestmark = pytest.mark.serving


def _children(pid: int) -> list[int]:
    found = []
    for task in Path(f"/proc/{pid}/task").glob("*/children"):
        found.extend(int(c) for c in task.read_text().split())
    return found


def _gone(pid: int, timeout: float = 15) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            state = Path(f"/proc/{pid}/stat").read_text().split(")")[-1].split()[0]
        except FileNotFoundError:
            return True
        if state == "Z":  # exited; its parent (this test's reaper, init) collects it
            return True
        time.sleep(0.1)
    return False


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT, signal.SIGHUP, signal.SIGKILL],
                         ids=lambda s: signal.Signals(s).name)
def test_no_predictor_outlives_the_command(penguins_bundle: Path, tmp_path: Path, sig: int) -> None:
    shutil.copytree(penguins_bundle, tmp_path / "models" / "penguins")
    port = free_port()
    parent = subprocess.Popen(
        [sys.executable, "-m", "loopline.cli", "serve", "--model-repository", str(tmp_path / "models"),
         "--port", str(port)],
        stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT, start_new_session=True,
        env={**os.environ, "LOOPLINE_SERVING_PYTHON": str(paths.SERVING_PYTHON)})
    try:
        wait_ready(parent, f"http://127.0.0.1:{port}/v2/health/ready", 180, "loopline serve", lambda: "",
                   interval=0.3, request_timeout=5)
        (child,) = _children(parent.pid)
        parent.send_signal(sig)
        code = parent.wait(timeout=60)
        assert code == (-sig if sig == signal.SIGKILL else 128 + sig)
        assert _gone(child), f"the predictor {child} is still running after {signal.Signals(sig).name}"
    finally:
        if parent.poll() is None:
            parent.kill()
