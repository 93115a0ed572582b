"""Start the loopline predictor as a local process and talk to it over HTTP (stdlib only).

Used by infra validation, `loopline serve`, and the tests: one way to run a real server here.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any, Callable

SERVING_PYTHON_ENV = "LOOPLINE_SERVING_PYTHON"


def serving_python() -> str:
    """The interpreter that has the predictor: $LOOPLINE_SERVING_PYTHON (set by `loopline run` to
    .venv-serving), else this one (in the serving image the predictor is installed beside us)."""
    return os.environ.get(SERVING_PYTHON_ENV) or sys.executable


def free_port() -> int:
    """A free TCP port on the loopback interface."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def call(url: str, body: Any = None, raw: bytes | None = None, timeout: float = 30) -> tuple[int, Any]:
    """POST JSON (GET without a body); the status and the decoded JSON answer (None if not JSON)."""
    data = raw if raw is not None else (None if body is None else json.dumps(body).encode())
    request = urllib.request.Request(url, data=data, headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            status, payload = response.status, response.read()
    except urllib.error.HTTPError as err:
        status, payload = err.code, err.read()
    try:
        return status, json.loads(payload or b"null")
    except json.JSONDecodeError:
        return status, None


def fetch_text(url: str, timeout: float = 30) -> str:
    """GET a text page (for example /metrics)."""
    with urllib.request.urlopen(url, timeout=timeout) as response:
        return response.read().decode()


def wait_ready(proc: subprocess.Popen, url: str, timeout: float, what: str, tail: Callable[[], str],
               interval: float = 0.1, request_timeout: float = 2) -> None:
    """Poll `url` until it answers 200; RuntimeError naming `what`, with its output's tail (`tail()`), when the
    process exits first or `timeout` seconds pass."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"{what} exited with code {proc.returncode}: {tail()}")
        try:
            if call(url, timeout=request_timeout)[0] == 200:
                return
        except OSError:
            pass  # not listening yet
        time.sleep(interval)
    raise RuntimeError(f"{what} was not ready within {timeout:.0f} s: {tail()}")


class LocalServer:
    """`python -m loopline_predictor` (or another `program` taking the same options) on free loopback
    ports, ready or failed with its log's tail."""

    def __init__(self, model_dir: Path | str, model_name: str, max_batch_size: int = 1024,
                 python: str | None = None, ready_timeout: float = 180, extra_args: tuple[str, ...] = (),
                 program: tuple[str, ...] = ("-m", "loopline_predictor")) -> None:
        self.model_dir, self.model_name = str(model_dir), model_name  # a folder or gs://
        self.max_batch_size, self.python, self.ready_timeout = max_batch_size, python or serving_python(), ready_timeout
        self.extra_args, self.program = list(extra_args), list(program)
        self.http_port = free_port()
        self.url = f"http://127.0.0.1:{self.http_port}"
        self._proc: subprocess.Popen | None = None
        self._log = tempfile.NamedTemporaryFile(prefix="loopline-predictor-", suffix=".log", delete=False)

    @property
    def pid(self) -> int:
        """The server's process id (for memory readings)."""
        return self._proc.pid if self._proc else 0

    def log_tail(self, chars: int = 2000) -> str:
        """The end of the server's output, for error messages."""
        return Path(self._log.name).read_text(errors="replace")[-chars:]

    def start(self) -> "LocalServer":
        """Start and wait until /v2/health/ready answers 200; RuntimeError with the log if not."""
        return self.launch().wait_ready()

    def launch(self) -> "LocalServer":
        """Start the process without waiting: it boots while the caller does other work (then `wait_ready`)."""
        self._proc = subprocess.Popen(
            [self.python, *self.program, "--model_dir", self.model_dir,
             "--model_name", self.model_name, "--http_port", str(self.http_port),
             "--grpc_port", str(free_port()), "--max_batch_size", str(self.max_batch_size), *self.extra_args],
            stdout=self._log, stderr=subprocess.STDOUT, env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"},
        )
        return self

    def wait_ready(self) -> "LocalServer":
        """Wait until /v2/health/ready answers 200; RuntimeError with the log (and the process stopped) if not."""
        assert self._proc is not None, "launch() first"
        try:
            wait_ready(self._proc, f"{self.url}/v2/health/ready", self.ready_timeout, "the predictor", self.log_tail,
                       interval=0.3, request_timeout=5)
        except RuntimeError:
            self.stop()
            raise
        return self

    def stop(self) -> None:
        """Terminate the server (kill it if it does not stop within 30 s)."""
        if self._proc and self._proc.poll() is None:
            self._proc.terminate()
            try:
                self._proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self._proc.kill()
                self._proc.wait()

    def kill(self) -> None:
        """SIGKILL the server and reap it: a crash, for fault tests and benchmarks."""
        if self._proc and self._proc.poll() is None:
            self._proc.kill()
            self._proc.wait()

    def close(self) -> None:
        """Stop the server and remove its log."""
        self.stop()
        Path(self._log.name).unlink(missing_ok=True)

    def __enter__(self) -> "LocalServer":
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()
