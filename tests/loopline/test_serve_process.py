"""`loopline serve` leaves no predictor behind whatever signal ends it, and listens on loopback only unless opened."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
from pathlib import Path

import pytest

from components.lib.serving import call, free_port, wait_ready
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


def _serve(models: Path, port: int, *extra: str, stderr: int = subprocess.DEVNULL) -> subprocess.Popen:
    """`loopline serve` in its own session (the test's signals stay the test's), ready on `port`."""
    parent = subprocess.Popen(
        [sys.executable, "-m", "loopline.cli", "serve", "--model-repository", str(models), "--port", str(port),
         *extra],
        stdout=subprocess.DEVNULL, stderr=stderr, text=True, start_new_session=True,
        env={**os.environ, "LOOPLINE_SERVING_PYTHON": str(paths.SERVING_PYTHON)})
    wait_ready(parent, f"http://127.0.0.1:{port}/v2/health/ready", 180, "loopline serve", lambda: "",
               interval=0.3, request_timeout=5)
    return parent


@pytest.fixture
def models(penguins_bundle: Path, tmp_path: Path) -> Path:
    shutil.copytree(penguins_bundle, tmp_path / "models" / "penguins")
    return tmp_path / "models"


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT, signal.SIGHUP, signal.SIGKILL],
                         ids=lambda s: signal.Signals(s).name)
def test_no_predictor_outlives_the_command(models: Path, sig: int) -> None:
    parent = _serve(models, free_port())
    try:
        (child,) = _children(parent.pid)
        parent.send_signal(sig)
        code = parent.wait(timeout=60)
        assert code == (-sig if sig == signal.SIGKILL else 128 + sig)
        assert _gone(child), f"the predictor {child} is still running after {signal.Signals(sig).name}"
    finally:
        if parent.poll() is None:
            parent.kill()


def _listening(port: int) -> set[str]:
    """The IPv4 addresses with a socket listening on `port` (/proc/net/tcp: hex address:port, state 0A)."""
    found = set()
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        local, state = line.split()[1], line.split()[3]
        address, hex_port = local.split(":")
        if state == "0A" and int(hex_port, 16) == port:
            found.add(socket.inet_ntoa(bytes.fromhex(address)[::-1]))
    return found


def _own_address() -> str:
    """This machine's address on its default route (not loopback)."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        probe.connect(("192.0.2.254", 9))  # no packet is sent: this only picks the outgoing interface
        return probe.getsockname()[0]


@pytest.mark.parametrize("host", ["", "0.0.0.0"], ids=["default", "open"])
def test_it_listens_on_loopback_only_unless_opened(models: Path, host: str) -> None:
    address, port = _own_address(), free_port()
    assert not address.startswith("127."), "this test needs an address that is not loopback"
    parent = _serve(models, port, *(["--host", host] if host else []), stderr=subprocess.PIPE)  # a few lines
    try:
        assert call(f"http://127.0.0.1:{port}/v2/health/ready")[0] == 200
        if host:
            assert call(f"http://{address}:{port}/v2/health/ready")[0] == 200
        else:  # nothing listens there: the socket is bound to loopback, not answering with a refusal
            with pytest.raises(urllib.error.URLError, match="Connection refused"):
                call(f"http://{address}:{port}/v2/health/ready")
            assert _listening(port) == {"127.0.0.1"}
    finally:
        parent.terminate()
        _, err = parent.communicate(timeout=60)
    assert ("warning: --host 0.0.0.0" in err) == bool(host), err
