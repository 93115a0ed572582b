"""A FAKE of the KFP v2beta1 REST API, for tests: this is not Kubeflow Pipelines.

It serves, from memory, only the endpoints kfp.Client 2.13 calls for `loopline upload`,
`submit`, `schedule` and `runs`: healthz; pipelines list/get, upload and upload_version
(multipart); pipeline versions list/get; experiments create/list/get; runs create/get/list;
recurring runs create/list/get/:enable/:disable/delete. It records every request (method,
path, query, headers, body) so tests can check what the client sent, answers in KFP's JSON
shape (snake_case, int64 as strings, grpc-gateway error bodies) and can demand a bearer
token: 401 without it or with an unknown one, 403 for `forbidden_token`; with
`login_redirect`, a 302 to a login page when no token is sent, as an auth proxy answers.
Runs advance one state per GET through `run_states`. Nothing runs; no validation beyond
what is written here.
"""

from __future__ import annotations

import email.parser
import email.policy
import json
import re
import threading
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timezone
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Callable
from urllib.parse import parse_qs, urlsplit

import yaml

PREFIX = "/apis/v2beta1"
GRPC_CODES = {400: 3, 401: 16, 403: 7, 404: 5, 409: 6}


@dataclass
class Recorded:
    """One request as the fake received it."""

    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)

    def arg(self, name: str) -> str | None:
        return self.query.get(name, [None])[0]


class FakeError(Exception):
    """An error answer: HTTP status and message."""

    def __init__(self, status: int, message: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status, self.headers = status, headers or {}


@dataclass
class FakeKFP:
    """The fake's state; `start()` serves it on a free loopback port."""

    multi_user: bool = False
    token: str | None = None
    forbidden_token: str | None = None
    login_redirect: str | None = None
    run_states: list[str] = field(default_factory=lambda: ["PENDING", "RUNNING", "SUCCEEDED"])
    run_error: str = "task 'train' failed: exit code 1"
    requests: list[Recorded] = field(default_factory=list)
    pipelines: dict[str, dict] = field(default_factory=dict)
    versions: dict[str, dict] = field(default_factory=dict)
    experiments: dict[str, dict] = field(default_factory=dict)
    runs: dict[str, dict] = field(default_factory=dict)
    recurring: dict[str, dict] = field(default_factory=dict)
    _polls: dict[str, int] = field(default_factory=dict)
    _server: ThreadingHTTPServer | None = None

    # -- serving ---------------------------------------------------------------------------
    def start(self) -> str:
        """Serve in a daemon thread; returns the base URL."""
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:  # keep test output clean
                pass

            def _any(self) -> None:
                fake._handle(self)

            do_GET = do_POST = do_DELETE = _any

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def stop(self) -> None:
        if self._server:
            self._server.shutdown()
            self._server.server_close()

    def calls(self, method: str, path_regex: str) -> list[Recorded]:
        """Recorded requests whose method matches and whose path matches the regex fully."""
        return [r for r in self.requests if r.method == method and re.fullmatch(path_regex, r.path)]

    def _handle(self, handler: BaseHTTPRequestHandler) -> None:
        url, headers = urlsplit(handler.path), {}
        length = int(handler.headers.get("Content-Length") or 0)
        request = Recorded(handler.command, url.path, parse_qs(url.query, keep_blank_values=True),
                           {k.lower(): v for k, v in handler.headers.items()}, handler.rfile.read(length))
        self.requests.append(request)
        try:
            self._authorize(request)
            status, answer = HTTPStatus.OK, self._route(request)
        except FakeError as exc:
            status, message, headers = exc.status, str(exc), exc.headers
        except Exception as exc:  # a bug in the fake or an unexpected body: answer, don't hang up
            status, message = 500, f"fake KFP: {type(exc).__name__}: {exc}"
        if status != HTTPStatus.OK:
            answer = {"error": message, "code": GRPC_CODES.get(status, 2), "message": message, "details": []}
        data = json.dumps(answer).encode()
        handler.send_response(status)
        handler.send_header("Content-Type", "application/json")
        handler.send_header("Content-Length", str(len(data)))
        for name, value in headers.items():
            handler.send_header(name, value)
        handler.end_headers()
        handler.wfile.write(data)

    def _authorize(self, request: Recorded) -> None:
        if self.token is None:
            return
        sent = request.headers.get("authorization", "")
        if self.login_redirect and not sent:
            raise FakeError(302, "Found", {"Location": self.login_redirect})
        if self.forbidden_token and sent == f"Bearer {self.forbidden_token}":
            raise FakeError(403, "Failed to authorize with API: PermissionDenied: not allowed in this namespace")
        if sent != f"Bearer {self.token}":
            raise FakeError(401, "Failed to authenticate: no valid bearer token")

    def _route(self, request: Recorded) -> Any:
        routes: list[tuple[str, str, Callable[..., Any]]] = [
            ("GET", r"/healthz", lambda r: {"multi_user": self.multi_user}),
            ("GET", r"/pipelines", self._list_pipelines),
            ("POST", r"/pipelines/upload", self._upload),
            ("POST", r"/pipelines/upload_version", self._upload_version),
            ("GET", r"/pipelines/([^/]+)/versions", self._list_versions),
            ("GET", r"/pipelines/([^/]+)/versions/([^/]+)", self._get_version),
            ("GET", r"/pipelines/([^/:]+)", lambda r, pid: self._get(self.pipelines, pid, "pipeline")),
            ("POST", r"/experiments", self._create_experiment),
            ("GET", r"/experiments", self._list_experiments),
            ("GET", r"/experiments/([^/:]+)", lambda r, eid: self._get(self.experiments, eid, "experiment")),
            ("POST", r"/runs", self._create_run),
            ("GET", r"/runs", self._list_runs),
            ("GET", r"/runs/([^/:]+)", self._get_run),
            ("POST", r"/recurringruns", self._create_recurring),
            ("GET", r"/recurringruns", self._list_recurring),
            ("GET", r"/recurringruns/([^/:]+)", lambda r, rid: self._get(self.recurring, rid, "recurring run")),
            ("POST", r"/recurringruns/([^/:]+):enable", lambda r, rid: self._set_mode(rid, True)),
            ("POST", r"/recurringruns/([^/:]+):disable", lambda r, rid: self._set_mode(rid, False)),
            ("DELETE", r"/recurringruns/([^/:]+)", self._delete_recurring),
        ]
        for method, pattern, action in routes:
            match = re.fullmatch(PREFIX + pattern, request.path)
            if method == request.method and match:
                return action(request, *match.groups())
        raise FakeError(404, f"fake KFP: no endpoint {request.method} {request.path}")

    # -- helpers ---------------------------------------------------------------------------
    @staticmethod
    def _now() -> str:
        return datetime.now(timezone.utc).isoformat(timespec="microseconds").replace("+00:00", "Z")

    @staticmethod
    def _get(store: dict[str, dict], key: str, kind: str) -> dict:
        if key not in store:
            raise FakeError(404, f"{kind} {key} not found")
        return store[key]

    @staticmethod
    def _page(request: Recorded, items: list[dict], key: str) -> dict:
        """Filter (display_name EQUALS), sort (created_at [desc]) and page a list answer."""
        raw = request.arg("filter")
        if raw:
            for predicate in json.loads(raw)["predicates"]:
                value = predicate.get("stringValue", predicate.get("string_value"))
                if predicate.get("key") != "display_name" or predicate.get("operation") not in ("EQUALS", 1):
                    raise FakeError(400, f"fake KFP: unsupported filter {predicate}")
                items = [item for item in items if item.get("display_name") == value]
        sort_by = request.arg("sort_by") or ""
        if sort_by:
            if sort_by.split()[0] != "created_at":
                raise FakeError(400, f"fake KFP: unsupported sort_by {sort_by!r}")
            items = sorted(items, key=lambda item: item["created_at"], reverse=sort_by.endswith(" desc"))
        offset, size = int(request.arg("page_token") or 0), int(request.arg("page_size") or 20)
        page = items[offset:offset + size]
        answer: dict[str, Any] = {"total_size": len(items)}
        if page:
            answer[key] = page
        if offset + size < len(items):
            answer["next_page_token"] = str(offset + size)
        return answer

    def _namespaced(self, request: Recorded, items: list[dict]) -> list[dict]:
        namespace = request.arg("namespace")
        if self.multi_user and not namespace and not request.arg("experiment_id"):
            raise FakeError(400, "Invalid input error: in multi-user mode a namespace is required")
        return [item for item in items if namespace is None or item.get("namespace", "") == namespace]

    # -- pipelines -------------------------------------------------------------------------
    def _list_pipelines(self, request: Recorded) -> dict:
        namespace = request.arg("namespace") or ""
        return self._page(request, [p for p in self.pipelines.values() if p["namespace"] == namespace], "pipelines")

    @staticmethod
    def _uploaded(request: Recorded) -> dict:
        message = email.parser.BytesParser(policy=email.policy.default).parsebytes(
            f"Content-Type: {request.headers['content-type']}\r\n\r\n".encode() + request.body)
        files = [part for part in message.iter_parts() if part.get_param("name", header="content-disposition")
                 == "uploadfile"]
        if not files:
            raise FakeError(400, "Failed to read pipeline from file")
        return next(yaml.safe_load_all(files[0].get_payload(decode=True)))

    def _new_version(self, pipeline_id: str, name: str, description: str, spec: dict) -> dict:
        version = {"pipeline_id": pipeline_id, "pipeline_version_id": str(uuid.uuid4()), "display_name": name,
                   "description": description, "created_at": self._now(), "pipeline_spec": spec}
        self.versions[version["pipeline_version_id"]] = version
        return version

    def _upload(self, request: Recorded) -> dict:
        spec, name = self._uploaded(request), request.arg("name") or ""
        namespace = request.arg("namespace") or ""
        if self.multi_user and not namespace:
            raise FakeError(400, "Invalid input error: in multi-user mode a namespace is required")
        if any(p["display_name"] == name and p["namespace"] == namespace for p in self.pipelines.values()):
            raise FakeError(409, "Failed to create a pipeline and a pipeline version")
        pipeline = {"pipeline_id": str(uuid.uuid4()), "display_name": name, "description": request.arg("description")
                    or "", "created_at": self._now(), "namespace": namespace}
        self.pipelines[pipeline["pipeline_id"]] = pipeline
        self._new_version(pipeline["pipeline_id"], name, pipeline["description"], spec)
        return pipeline

    def _upload_version(self, request: Recorded) -> dict:
        spec, pipeline_id = self._uploaded(request), request.arg("pipelineid") or ""
        self._get(self.pipelines, pipeline_id, "pipeline")
        name = request.arg("name") or ""
        if any(v["display_name"] == name and v["pipeline_id"] == pipeline_id for v in self.versions.values()):
            raise FakeError(409, "Failed to create a pipeline version")
        return self._new_version(pipeline_id, name, request.arg("description") or "", spec)

    def _list_versions(self, request: Recorded, pipeline_id: str) -> dict:
        self._get(self.pipelines, pipeline_id, "pipeline")
        versions = [v for v in self.versions.values() if v["pipeline_id"] == pipeline_id]
        return self._page(request, versions, "pipeline_versions")

    def _get_version(self, request: Recorded, pipeline_id: str, version_id: str) -> dict:
        version = self._get(self.versions, version_id, "pipeline version")
        if version["pipeline_id"] != pipeline_id:
            raise FakeError(404, f"pipeline version {version_id} not found")
        return version

    # -- experiments -----------------------------------------------------------------------
    def _create_experiment(self, request: Recorded) -> dict:
        body = request.json()
        namespace = body.get("namespace") or ""
        if self.multi_user and not namespace:
            raise FakeError(400, "Invalid input error: in multi-user mode a namespace is required")
        if any(e["display_name"] == body["display_name"] and e["namespace"] == namespace
               for e in self.experiments.values()):
            raise FakeError(409, f"experiment {body['display_name']} already exists")
        experiment = {"experiment_id": str(uuid.uuid4()), "display_name": body["display_name"],
                      "description": body.get("description") or "", "created_at": self._now(),
                      "namespace": namespace, "storage_state": "AVAILABLE"}
        self.experiments[experiment["experiment_id"]] = experiment
        return experiment

    def _list_experiments(self, request: Recorded) -> dict:
        return self._page(request, self._namespaced(request, list(self.experiments.values())), "experiments")

    # -- runs ------------------------------------------------------------------------------
    def _reference(self, body: dict) -> None:
        reference = body.get("pipeline_version_reference") or {}
        version = self._get(self.versions, reference.get("pipeline_version_id", ""), "pipeline version")
        if version["pipeline_id"] != reference.get("pipeline_id"):
            raise FakeError(404, "pipeline version does not belong to the pipeline")

    def _create_run(self, request: Recorded) -> dict:
        body = request.json()
        experiment = self._get(self.experiments, body.get("experiment_id", ""), "experiment")
        self._reference(body)
        run = {**body, "run_id": str(uuid.uuid4()), "created_at": self._now(), "state": self.run_states[0],
               "storage_state": "AVAILABLE", "namespace": experiment["namespace"]}
        self.runs[run["run_id"]] = run
        self._polls[run["run_id"]] = 0
        return self._public(run)

    @staticmethod
    def _public(run: dict) -> dict:
        return {k: v for k, v in run.items() if k != "namespace"}

    def _get_run(self, request: Recorded, run_id: str) -> dict:
        run = self._get(self.runs, run_id, "run")
        self._polls[run_id] = step = min(self._polls[run_id] + 1, len(self.run_states) - 1)
        run["state"] = self.run_states[step]
        if step == len(self.run_states) - 1:
            run.setdefault("finished_at", self._now())
            if run["state"] == "FAILED":
                run["error"] = {"code": 2, "message": self.run_error}
        return self._public(run)

    def _list_runs(self, request: Recorded) -> dict:
        runs = list(self.runs.values())
        if request.arg("experiment_id"):
            runs = [r for r in runs if r["experiment_id"] == request.arg("experiment_id")]
        runs = [self._public(r) for r in self._namespaced(request, runs)]
        return self._page(request, runs, "runs")

    # -- recurring runs --------------------------------------------------------------------
    def _create_recurring(self, request: Recorded) -> dict:
        body = request.json()
        experiment = self._get(self.experiments, body.get("experiment_id", ""), "experiment")
        self._reference(body)
        if not 1 <= int(body.get("max_concurrency") or 0) <= 10:
            raise FakeError(400, "Invalid input error: max concurrency of a recurring run must be in [1, 10]")
        trigger = body.get("trigger") or {}
        if not trigger.get("cron_schedule") and not int((trigger.get("periodic_schedule") or {})
                                                        .get("interval_second") or 0) > 0:
            raise FakeError(400, "Invalid input error: a trigger needs a cron or a positive interval")
        if "periodic_schedule" in trigger:
            trigger["periodic_schedule"]["interval_second"] = str(trigger["periodic_schedule"]["interval_second"])
        recurring = {**body, "recurring_run_id": str(uuid.uuid4()), "created_at": self._now(), "updated_at":
                     self._now(), "namespace": experiment["namespace"], "max_concurrency": str(body["max_concurrency"]),
                     "status": "ENABLED" if body.get("mode") == "ENABLE" else "DISABLED"}
        self.recurring[recurring["recurring_run_id"]] = recurring
        return recurring

    def _list_recurring(self, request: Recorded) -> dict:
        items = list(self.recurring.values())
        if request.arg("experiment_id"):
            items = [r for r in items if r["experiment_id"] == request.arg("experiment_id")]
        return self._page(request, self._namespaced(request, items), "recurringRuns")

    def _set_mode(self, recurring_id: str, enabled: bool) -> dict:
        recurring = self._get(self.recurring, recurring_id, "recurring run")
        recurring.update(mode="ENABLE" if enabled else "DISABLE", status="ENABLED" if enabled else "DISABLED",
                         updated_at=self._now())
        return {}

    def _delete_recurring(self, request: Recorded, recurring_id: str) -> dict:
        self._get(self.recurring, recurring_id, "recurring run")
        del self.recurring[recurring_id]
        return {}
