"""Benchmark: oversized request bodies against the predictor's body limit; prints a table (not a test).

Each case is its own predictor (serving env) on the benchmarks' small model. A request is a V1
body of real rows, about BODY_MB MB. With the limit on (the default, 4,096 bytes per row of the
1,024-row batch limit: 4 MiB), the server answers 413 from the headers: the client sends the
headers, then reads the answer. With the limit off (`--max_body_bytes` 1 TB), the
whole body is sent, read and parsed before the row limit refuses it (KServe alone). Server
memory: VmRSS after each request, and VmHWM at the end.
"""

from __future__ import annotations

import json
import socket
import sys
import tempfile
from pathlib import Path

from bench_serve import ROW, small_bundle

from components.lib.serving import LocalServer
from loopline import paths

BODY_MB = 150
CASES = [("limit on (default)", (), 100), ("limit off", ("--max_body_bytes", str(10**12)), 3)]


def _status(server: LocalServer) -> dict[str, float]:
    fields = dict(line.split(":", 1) for line in Path(f"/proc/{server.pid}/status").read_text().splitlines())
    return {name: int(fields[name].split()[0]) / 1024 for name in ("VmRSS", "VmHWM")}


def _send(port: int, body: bytes, whole: bool) -> int:
    """POST `body` (all of it, or only the headers that announce it) and return the answer's status."""
    with socket.create_connection(("127.0.0.1", port), timeout=600) as sock:
        sock.sendall((f"POST /v1/models/penguins:predict HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                      f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\nConnection: close\r\n\r\n"
                      ).encode())
        if whole:
            sock.sendall(body)
        answer = b""
        try:
            while chunk := sock.recv(65536):
                answer += chunk
        except ConnectionResetError:
            pass
    return int(answer.split(b" ", 2)[1]) if answer else 0


def main() -> None:
    """Run each case and print the statuses and the server's memory."""
    row = json.dumps(ROW).encode()
    body = b'{"instances": [' + b",".join([row] * (BODY_MB * 1_000_000 // (len(row) + 1))) + b"]}"
    print(f"| case | requests of {len(body) / 1e6:.0f} MB | statuses | RSS before MB | RSS after MB | growth MB "
          "| peak RSS (VmHWM) MB |")
    print("|---|---:|---|---:|---:|---:|---:|")
    with tempfile.TemporaryDirectory(prefix="loopline-bench-") as tmp:
        bundle = small_bundle(Path(tmp))
        for name, extra, requests in CASES:
            with LocalServer(bundle, "penguins", python=str(paths.SERVING_PYTHON), extra_args=extra) as server:
                before = _status(server)["VmRSS"]
                port = int(server.url.rsplit(":", 1)[1])
                statuses = [_send(port, body, whole=bool(extra)) for _ in range(requests)]
                after = _status(server)
            shown = ", ".join(f"{s} x{statuses.count(s)}" for s in sorted(set(statuses)))
            print(f"| {name} | {requests} | {shown} | {before:,.0f} | {after['VmRSS']:,.0f} | "
                  f"{after['VmRSS'] - before:+,.0f} | {after['VmHWM']:,.0f} |", flush=True)


if __name__ == "__main__":
    sys.exit(main())
