"""ASGI middleware in front of KServe's REST app: bounded request bodies, and JSON sent without a JSON Content-Type.

- A body over `max_body_bytes` is refused with 413 before anything parses it: at once when its
  Content-Length says so, else as soon as a chunked body passes the limit (nothing beyond the limit
  is read or kept), so an oversized request costs the server at most the limit in memory.
- A POST with no binary-data header (`inference-header-content-length`) and no Content-Type, or
  the form-encoded one `curl -d` sends by default, is JSON: tritonclient's JSON mode sends V2
  requests without one, KServe's docs show `curl -d @input.json`, and KServe would otherwise take
  the body for raw bytes and refuse it. The binary extension is unchanged.
- With the repository API off, `/v2/repository/...` (load, unload, index) answers 404 saying so.
- A body KServe cannot parse because it holds `NaN` or `Infinity` (Python's `json.dumps` writes
  them for a missing number) gets, instead of the parser's character position, a 400 naming the
  row and feature and saying to send null. Only on that error path is the body looked at again.
- An exception no handler took (KServe's own would answer with its Python type) gets a 500 with an
  error id; the type, message and traceback go to the server log under that id.
"""

from __future__ import annotations

import json
import logging
import math
import secrets
from typing import Any, Awaitable, Callable, Iterator

Scope = dict[str, Any]
Message = dict[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
App = Callable[[Scope, Receive, Send], Awaitable[None]]

BINARY_HEADER = b"inference-header-content-length"
FORM_ENCODED = b"application/x-www-form-urlencoded"  # what `curl -d` sends unless told otherwise
REPOSITORY_API = "/v2/repository/"

logger = logging.getLogger(__name__)


class HttpGuard:
    """Wraps an ASGI app (see the module docstring)."""

    def __init__(self, app: App, max_body_bytes: int, repository_api: bool = True) -> None:
        self.app, self.max_body_bytes, self.repository_api = app, max_body_bytes, repository_api

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and not self.repository_api and scope["path"].startswith(REPOSITORY_API):
            return await _answer(send, 404, "the repository API (load, unload) is off on this server "
                                            "(--no_repository_api)")
        if scope["type"] != "http" or scope["method"] not in ("POST", "PUT"):
            return await self._serve(scope, receive, send)
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
        if _sent_as_json(headers):
            scope = {**scope, "headers": [*((n, v) for n, v in scope["headers"] if n.lower() != b"content-type"),
                                          (b"content-type", b"application/json")]}
        replay = iter([{"type": "http.request", "body": b"".join(chunks), "more_body": False}])

        async def replayed() -> Message:
            return next(replay, None) or await receive()

        await self._serve(scope, replayed, _explaining_non_finite(send, b"".join(chunks)))

    async def _serve(self, scope: Scope, receive: Receive, send: Send) -> None:
        """The wrapped app; an exception it lets out becomes a 500 with an error id, the detail logged."""
        started = False

        async def tracking(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, receive, tracking)
        except Exception:
            if started or scope["type"] != "http":
                raise
            error_id = secrets.token_hex(6)
            logger.exception("unhandled error on %s %s (error id %s)", scope["method"], scope["path"], error_id)
            await _answer(send, 500, f"internal error (error id {error_id}; the server log has the detail)")

    async def _too_large(self, send: Send) -> None:
        await _answer(send, 413, f"request body over {self.max_body_bytes:,} bytes, the server's limit "
                                 "(--max_body_bytes): send fewer rows per request")


def _sent_as_json(headers: dict[bytes, bytes]) -> bool:
    """A body without a binary-data header and with no Content-Type, or curl's `-d` default (form-encoded)."""
    content_type = headers.get(b"content-type", b"").split(b";")[0].strip().lower()
    return BINARY_HEADER not in headers and content_type in (b"", FORM_ENCODED)


async def _answer(send: Send, status: int, error: str) -> None:
    """A JSON error answer, closing the connection (a refused body is not read to its end)."""
    body = json.dumps({"error": error}).encode()
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()),
                            (b"connection", b"close")]})
    await send({"type": "http.response.body", "body": body})


def _non_finite(value: Any, path: str) -> Iterator[tuple[str, float]]:
    """Where a parsed JSON value holds NaN or an infinity: (path, value) in document order."""
    if isinstance(value, float) and not math.isfinite(value):
        yield path, value
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from _non_finite(item, f"{path}, feature {key!r}" if path.startswith("instances[") else key)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _non_finite(item, f"{path}[{index}]")


def non_finite_hint(body: bytes) -> str | None:
    """The 400 message for a body whose only fault is a NaN/Infinity literal, else None."""
    if b"NaN" not in body and b"Infinity" not in body:
        return None
    try:
        found = next(_non_finite(json.loads(body), ""), None)
    except (ValueError, UnicodeDecodeError):
        return None
    if found is None:
        return None
    where, value = found
    return f"{where}: {json.dumps(value)} is not valid JSON; send null for a missing value"


def _explaining_non_finite(send: Send, body: bytes) -> Send:
    """`send`, except that KServe's 400 for an unparseable body becomes `non_finite_hint`'s when there is one."""
    held: list[Message] = []

    async def wrapped(message: Message) -> None:
        if message["type"] == "http.response.start" and message["status"] == 400:
            held.append(message)
            return
        if held:
            start, hint = held.pop(), non_finite_hint(body)
            whole = message["type"] == "http.response.body" and not message.get("more_body")
            if whole and hint and b"Unrecognized request format" in message.get("body", b""):
                text = json.dumps({"error": hint}).encode()
                headers = [(k, v) for k, v in start["headers"] if k.lower() != b"content-length"]
                start = {**start, "headers": [*headers, (b"content-length", str(len(text)).encode())]}
                message = {**message, "body": text}
            await send(start)
        await send(message)

    return wrapped
