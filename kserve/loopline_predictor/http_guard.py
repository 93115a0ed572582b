"""ASGI middleware in front of KServe's REST app: bounded request bodies, and V2 JSON sent without a Content-Type.

- A body over `max_body_bytes` is refused with 413 before anything parses it: at once when its
  Content-Length says so, else as soon as a chunked body passes the limit (nothing beyond the limit
  is read or kept), so an oversized request costs the server at most the limit in memory.
- A POST with no Content-Type and no binary-data header (`inference-header-content-length`) is
  JSON: tritonclient's JSON mode sends V2 requests that way, and KServe would otherwise take the
  body for the binary tensor extension and refuse it. The binary extension is unchanged.
"""

from __future__ import annotations

import json
from typing import Any, Awaitable, Callable

Scope = dict[str, Any]
Message = dict[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
App = Callable[[Scope, Receive, Send], Awaitable[None]]

BINARY_HEADER = b"inference-header-content-length"


class HttpGuard:
    """Wraps an ASGI app (see the module docstring)."""

    def __init__(self, app: App, max_body_bytes: int) -> None:
        self.app, self.max_body_bytes = app, max_body_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] not in ("POST", "PUT"):
            return await self.app(scope, receive, send)
        headers = {name.lower(): value for name, value in scope["headers"]}
        declared = headers.get(b"content-length", b"").decode("latin-1")
        if declared.isdigit() and int(declared) > self.max_body_bytes:
            return await self._too_large(send)
        chunks, size, more = [], 0, True
        while more:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            chunks.append(message.get("body", b""))
            size += len(chunks[-1])
            if size > self.max_body_bytes:
                return await self._too_large(send)
            more = message.get("more_body", False)
        if b"content-type" not in headers and BINARY_HEADER not in headers:
            scope = {**scope, "headers": [*scope["headers"], (b"content-type", b"application/json")]}
        replay = iter([{"type": "http.request", "body": b"".join(chunks), "more_body": False}])

        async def replayed() -> Message:
            return next(replay, None) or await receive()

        await self.app(scope, replayed, send)

    async def _too_large(self, send: Send) -> None:
        body = json.dumps({"error": f"request body over {self.max_body_bytes:,} bytes, the server's limit "
                                    "(--max_body_bytes): send fewer rows per request"}).encode()
        await send({"type": "http.response.start", "status": 413,
                    "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()),
                                (b"connection", b"close")]})
        await send({"type": "http.response.body", "body": body})
