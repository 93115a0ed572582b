"""HttpGuard's own answers, driven as ASGI directly: an exception no handler took is a 500 with an error id and
no Python type or path in the answer, the detail in the log; a request that fails after answering is re-raised."""

from __future__ import annotations

import asyncio
import json
import logging
import re
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "kserve"))
from loopline_predictor.http_guard import HttpGuard  # noqa: E402


async def _failing_app(scope: dict, receive, send) -> None:
    """An app that reads the body, then fails the way an unhandled bug would."""
    await receive()
    raise KeyError("/srv/models/penguins/secret_path")


async def _half_answering_app(scope: dict, receive, send) -> None:
    """An app that starts its answer and then fails."""
    await send({"type": "http.response.start", "status": 200, "headers": []})
    raise RuntimeError("after the start")


def _drive(app, method: str = "POST") -> list[dict]:
    """One request through HttpGuard(app); the messages it sent."""
    sent: list[dict] = []
    body = iter([{"type": "http.request", "body": b'{"instances": []}', "more_body": False}])

    async def receive() -> dict:
        return next(body, {"type": "http.disconnect"})

    async def send(message: dict) -> None:
        sent.append(message)

    scope = {"type": "http", "method": method, "path": "/v1/models/m:predict", "client": ("127.0.0.1", 1),
             "headers": [(b"content-type", b"application/json")]}
    asyncio.run(HttpGuard(app, max_body_bytes=1_000)(scope, receive, send))
    return sent


@pytest.mark.parametrize("method", ["POST", "GET"])
def test_an_unhandled_exception_is_500_with_an_error_id_only(method: str, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.ERROR, logger="loopline_predictor.http_guard"):
        start, body = _drive(_failing_app, method)
    assert start["status"] == 500
    error = json.loads(body["body"])["error"]
    assert re.fullmatch(r"internal error \(error id [0-9a-f]{12}; the server log has the detail\)", error), error
    assert "KeyError" not in error and "/srv" not in error
    logged = caplog.records[-1]
    assert error.split("error id ")[1][:12] in logged.getMessage() and logged.exc_info[0] is KeyError


def test_a_failure_after_the_answer_started_is_not_answered_twice() -> None:
    with pytest.raises(RuntimeError, match="after the start"):
        _drive(_half_answering_app)
