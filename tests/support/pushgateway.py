"""A real Prometheus Pushgateway on a free loopback port, for tests of what the monitor step pushes.

The binary is Debian's `prometheus-pushgateway` (`make tools` installs it; a missing binary fails
the test, naming the package). It keeps nothing on disk: Debian's build defaults
`--persistence.file` to /var/lib/prometheus/pushgateway.data, so the option is given empty. The
admin API is on (loopback only), so a test can start from nothing with `PUT /api/v1/admin/wipe`.
One process serves the whole session: push under a job or grouping key of the test's own.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path
from typing import Iterator

import pytest

from components.lib.serving import free_port, wait_ready

PACKAGE = "prometheus-pushgateway"  # Debian's package; it installs /usr/bin/prometheus-pushgateway
BINARY = "prometheus-pushgateway"


def binary() -> str:
    """The Pushgateway binary on PATH; a test failure naming the package when it is not installed."""
    found = shutil.which(BINARY)
    if found is None:
        pytest.fail(f"{BINARY} is not installed: install the Debian package {PACKAGE!r} "
                    "(`make tools` does, and `make test` runs it)")
    return found


class Pushgateway:
    """One Pushgateway process on 127.0.0.1:<port>, its output in `log`."""

    def __init__(self, log: Path, ready_timeout: float = 30.0) -> None:
        self.port, self.log, self.ready_timeout = free_port(), log, ready_timeout
        self.url = f"http://127.0.0.1:{self.port}"
        self._proc: subprocess.Popen[bytes] | None = None

    def log_tail(self, chars: int = 2000) -> str:
        """The end of the process's output (for failure messages)."""
        return self.log.read_text(errors="replace")[-chars:] if self.log.exists() else ""

    def start(self) -> "Pushgateway":
        """Start it and wait until /-/ready answers 200; RuntimeError with its output if not."""
        with self.log.open("wb") as out:
            self._proc = subprocess.Popen(
                [binary(), f"--web.listen-address=127.0.0.1:{self.port}", "--persistence.file=",
                 "--web.enable-admin-api", "--log.level=warn"],
                stdout=out, stderr=subprocess.STDOUT)
        try:
            wait_ready(self._proc, f"{self.url}/-/ready", self.ready_timeout, BINARY, self.log_tail)
        except RuntimeError:
            self.stop()
            raise
        return self

    def stop(self) -> None:
        """Terminate it; kill it if it has not stopped within 10 s."""
        if self._proc is not None and self._proc.poll() is None:
            self._proc.terminate()
            try:
                self._proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self._proc.kill()
                self._proc.wait()


@pytest.fixture(scope="session")
def pushgateway(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A real Pushgateway for the session, persistence off; yields its base URL (http://127.0.0.1:<port>)."""
    server = Pushgateway(tmp_path_factory.mktemp("pushgateway") / "pushgateway.log").start()
    try:
        yield server.url
    finally:
        server.stop()
