"""A FAKE of the Kubernetes API for InferenceServices, for tests: this is not Kubernetes.

An HTTP server on a free loopback port that stores InferenceServices in memory (create, get,
JSON merge patch with the resourceVersion as precondition, delete), reports one Ready after a
few reads of a new generation (or never), and records every request. No cluster can run here.
"""

from __future__ import annotations

import json
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from kubernetes import client

PREFIX = "/apis/serving.kserve.io/v1beta1/namespaces/"


def apply_merge_patch(target: object, patch: object) -> object:
    """RFC 7386, as the API server applies application/merge-patch+json."""
    if not isinstance(patch, dict):
        return patch
    result = dict(target) if isinstance(target, dict) else {}
    for key, value in patch.items():
        if value is None:
            result.pop(key, None)
        else:
            result[key] = apply_merge_patch(result.get(key), value)
    return result


class FakeKubernetes:
    """InferenceServices in memory; Ready after `ready_after` reads of a new generation (None: never)."""

    def __init__(self, ready_after: int | None) -> None:
        self.ready_after, self.objects, self.requests, self.reads = ready_after, {}, [], 0
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:
                pass

            def _reply(self, status: int, body: dict) -> None:
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def _handle(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = json.loads(self.rfile.read(length)) if length else None
                fake.requests.append((self.command, self.path, body))
                status, answer = fake.handle(self.command, self.path, body)
                self._reply(status, answer)

            do_GET = do_POST = do_PATCH = do_DELETE = _handle

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"

    def handle(self, method: str, path: str, body: dict | None) -> tuple[int, dict]:
        parts = path[len(PREFIX):].split("/")  # ns / inferenceservices [/ name]
        key = (parts[0], parts[2] if len(parts) > 2 else body["metadata"]["name"])
        current = self.objects.get(key)
        if method == "GET":
            if current is None:
                return 404, {"kind": "Status", "code": 404, "reason": "NotFound"}
            self.reads += 1
            if self.ready_after is not None and self.reads >= self.ready_after:
                current["status"] = {"observedGeneration": current["metadata"]["generation"],
                                     "conditions": [{"type": "Ready", "status": "True"}]}
            return 200, current
        if method == "DELETE":
            self.objects.pop(key, None)
            return 200, {"kind": "Status", "status": "Success"}
        if method == "PATCH":  # a JSON merge patch (RFC 7386) with the resourceVersion as precondition
            if body["metadata"].get("resourceVersion") != current["metadata"]["resourceVersion"]:
                return 409, {"kind": "Status", "code": 409, "reason": "Conflict"}
            body = apply_merge_patch({k: v for k, v in current.items() if k != "status"}, body)
        generation = current["metadata"]["generation"] + 1 if current else 1
        stored = json.loads(json.dumps(body))
        stored["metadata"].update(generation=generation, resourceVersion=str(generation))
        stored["status"] = {"conditions": [{"type": "Ready", "status": "False", "reason": "RevisionMissing"}]}
        self.objects[key], self.reads = stored, 0
        return (201 if method == "POST" else 200), stored

    def api(self) -> client.CustomObjectsApi:
        return client.CustomObjectsApi(client.ApiClient(client.Configuration(host=self.url)))
