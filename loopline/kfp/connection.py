"""Reaching a KFP API server: where it is, which token goes with it, whether it answers, what its failures mean.

The host is --host, else $KF_PIPELINES_ENDPOINT; the token is --token, else the file named by
$KF_PIPELINES_SA_TOKEN_PATH. Every request to KFP runs inside `guarded` (its HTTP and network
failures become one-line ClusterErrors) and `quiet` (kfp.Client's prints and retry logs hidden).
`client.connect` puts these together into a `Cluster`.
"""

from __future__ import annotations

import contextlib
import io
import json
import logging
import os
import re
import warnings
from pathlib import Path
from typing import Any, Iterator

from loopline.kfp.errors import ClusterError, one_line

HOST_ENV = "KF_PIPELINES_ENDPOINT"
TOKEN_PATH_ENV = "KF_PIPELINES_SA_TOKEN_PATH"
CONNECT_TIMEOUT = 10.0


def _server_message(exc: Any) -> str:
    """The `message` of KFP's JSON error body, else the body's text, else the HTTP reason."""
    body = exc.body.decode("utf-8", "replace") if isinstance(exc.body, bytes) else str(exc.body or "")
    try:
        document = json.loads(body)
    except ValueError:
        document = None
    if isinstance(document, dict) and (document.get("message") or document.get("error")):
        body = str(document.get("message") or document.get("error"))
    return one_line(body or str(exc.reason or ""))


def _network_reason(exc: BaseException) -> str:
    """`[Errno 111] Connection refused`-style text from urllib3's nested errors."""
    text = str(getattr(exc, "reason", None) or exc)
    return one_line(re.sub(r"^(<[^>]*>|HTTPS?Connection(Pool)?\([^)]*\)):\s*", "", text))


@contextlib.contextmanager
def guarded(host: str) -> Iterator[None]:
    """Turn HTTP and network failures inside the block into one-line ClusterErrors."""
    import kfp_server_api
    import urllib3

    try:
        yield
    except kfp_server_api.ApiException as exc:
        status = exc.status or 0
        if status in (401, 403):
            raise ClusterError(f"KFP at {host} refused the credentials (HTTP {status}): "
                               f"{_server_message(exc)}") from None
        if 300 <= status < 400:
            location = (exc.headers or {}).get("Location", "?")
            raise ClusterError(f"KFP at {host} redirected to {location} (a login page?): pass --token or set "
                               f"{TOKEN_PATH_ENV}") from None
        if status == 0:
            raise ClusterError(f"cannot reach KFP at {host}: {one_line(str(exc.reason))}") from None
        raise ClusterError(f"KFP at {host} answered HTTP {status}: {_server_message(exc)}") from None
    except (urllib3.exceptions.HTTPError, ConnectionError, TimeoutError) as exc:
        raise ClusterError(f"cannot reach KFP at {host}: {_network_reason(exc)}") from None


@contextlib.contextmanager
def quiet() -> Iterator[None]:
    """Hide kfp.Client's prints ('Run details: ...'), warnings and urllib3 retry logs."""
    urllib3_log = logging.getLogger("urllib3")
    level = urllib3_log.level
    urllib3_log.setLevel(logging.ERROR)
    try:
        with contextlib.redirect_stdout(io.StringIO()), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            yield
    finally:
        urllib3_log.setLevel(level)


def resolve_host(host: str | None) -> str:
    """--host, else $KF_PIPELINES_ENDPOINT; must be an http(s) URL."""
    host = (host or os.environ.get(HOST_ENV) or "").strip().rstrip("/")
    if not host:
        raise ClusterError(f"no KFP host: pass --host or set {HOST_ENV}")
    if not host.startswith(("http://", "https://")):
        raise ClusterError(f"KFP host {host!r} must start with http:// or https://")
    return host


def read_token(path: str) -> str:
    """The bearer token in the file at `path` (named by $KF_PIPELINES_SA_TOKEN_PATH); it must not be empty."""
    try:
        token = Path(path).read_text().strip()
    except OSError as exc:
        raise ClusterError(f"cannot read the KFP token file {path} named by {TOKEN_PATH_ENV}: "
                           f"{exc.strerror or exc}") from None
    if not token:
        raise ClusterError(f"the KFP token file {path} named by {TOKEN_PATH_ENV} is empty")
    return token


def probe(host: str, token: str | None, timeout: float) -> bool:
    """One health check with a timeout, no retries, no redirects; returns KFP's multi_user flag."""
    import kfp_server_api
    import urllib3

    config = kfp_server_api.Configuration(host=host)
    config.retries = urllib3.Retry(total=0, redirect=False)
    if token:
        config.api_key["authorization"], config.api_key_prefix["authorization"] = token, "Bearer"
    api = kfp_server_api.HealthzServiceApi(kfp_server_api.ApiClient(config))
    with guarded(host), quiet():
        response = api.healthz_service_get_healthz(_preload_content=False, _request_timeout=(timeout, timeout))
    try:
        answer = json.loads(response.data)
    except ValueError:
        answer = None
    if not isinstance(answer, dict):
        kind = response.headers.get("Content-Type", "no content type")
        raise ClusterError(f"KFP at {host} answered its health check with {kind}, not JSON: is it the KFP API?")
    return bool(answer.get("multi_user"))
