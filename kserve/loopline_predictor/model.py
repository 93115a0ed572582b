"""The loopline predictor: a `kserve.Model` serving one model bundle over V1 and V2.

Lifecycle as in KServe: the constructor only stores state; `load()` fetches the bundle (local or
gs://) and loads its SavedModel; `preprocess` checks the request against feature_spec.json (a bad
request is `InvalidInput`, HTTP 400, naming the field); `predict` calls the SavedModel's concrete
signature in a worker thread, so the event loop keeps serving; `postprocess` shapes the answer.

Every request has an id: V2's `id`, else the `x-request-id` header, else a new UUID. The caller gets
it back (V2 `id`; V1 an `id` field; both an `x-request-id` response header) and the prediction log
records `<id>:<row>` per row, so labels that come back later can be joined to what was served.
"""

from __future__ import annotations

import asyncio
import json
import logging
import secrets
import tempfile
import uuid
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np
import tensorflow as tf
from kserve.errors import InferenceError, InvalidInput
from kserve.protocol.infer_type import InferOutput, InferRequest, InferResponse
from prometheus_client import Counter

import kserve
from components.lib import uri as uri_io
from components.lib.attribution import IG_STEPS, integrated_gradients
from components.lib.bundle import (
    CATEGORICAL,
    ENCODE_SIGNATURE,
    HEAD_SIGNATURE,
    SAVED_MODEL_DIR,
    SIGNATURE,
    read_bundle,
)
from components.lib.registry_versions import REGISTRATION_FILE
from loopline_predictor.batching import MicroBatcher
from loopline_predictor.payload import RequestError, decode_v1, decode_v2, encode_v1, v2_metadata, v2_outputs
from loopline_predictor.prediction_log import PredictionLogger

V1, V2 = "v1", "v2"
logger = logging.getLogger(__name__)

REQUEST_ID_HEADER = "x-request-id"
MAX_REQUEST_ID = 256
OUTPUT_KEYS = ("probabilities", "value")
# Served at /metrics beside KServe's own request histograms.
PREDICTIONS = Counter("loopline_predictions", "Rows predicted, by model and predicted label", ["model", "label"])
REJECTED = Counter("loopline_rejected_requests", "Requests refused before the model ran, by model and reason",
                   ["model", "reason"])
FAILED = Counter("loopline_failed_requests",
                 "Requests that failed inside the model (HTTP 500), by model and error type", ["model", "error"])
# The first phrase of a RequestError's message that names its kind, and the reason label it gets.
REASONS = (("missing feature", "missing_feature"), ("missing input", "missing_feature"),
           ("unknown feature", "unknown_feature"), ("unknown input", "unknown_feature"),
           ("non-finite", "non_finite"), ("float32 range", "out_of_range"), ("empty batch", "empty_batch"),
           ("over the limit", "batch_too_large"), ("shape", "shape"), ("datatype", "datatype"),
           ("request id", "request_id"), ("expected", "wrong_type"))


class Decoded(NamedTuple):
    """A checked request: its protocol, one array per feature, and its id."""

    protocol: str
    columns: dict[str, np.ndarray]
    request_id: str


class Predicted(NamedTuple):
    """A request's model outputs, with what the answer needs of the request."""

    protocol: str
    outputs: np.ndarray
    request_id: str


def request_id_of(payload: dict | InferRequest, headers: dict[str, str] | None) -> str:
    """The request's own id (V2 `id`), else its x-request-id header, else a new UUID; an id that cannot be
    logged and joined on (not text, empty, over MAX_REQUEST_ID characters) is refused, never rewritten."""
    own = payload.id if isinstance(payload, InferRequest) else payload.get("id") if isinstance(payload, dict) else None
    found = own if own is not None else (headers or {}).get(REQUEST_ID_HEADER)
    if found is None:
        return str(uuid.uuid4())
    if not isinstance(found, str) or not found or len(found) > MAX_REQUEST_ID or not found.isprintable():
        raise RequestError(f"request id: expected 1 to {MAX_REQUEST_ID} printable characters, got {found!r:.80}")
    return found


def rejection_reason(message: str) -> str:
    """A short, bounded label for why a request was refused (for the rejected-requests counter)."""
    return next((label for phrase, label in REASONS if phrase in message), "invalid")


class LooplineModel(kserve.Model):
    """Serves a loopline model bundle; requests are checked against its feature spec first."""

    def __init__(self, name: str, bundle_uri: str, max_batch_size: int = 1024,
                 prediction_log: PredictionLogger | None = None, max_latency_ms: float = 0.0) -> None:
        super().__init__(name, return_response_headers=True)  # to hand the request id back
        self.bundle_uri = bundle_uri
        self.max_batch_size = max_batch_size
        # Concurrent requests share one model call (opportunistically, or waiting up to max_latency_ms).
        self._batcher = MicroBatcher(self._call, max_latency_ms, max_batch_size)
        self.prediction_log = prediction_log
        self.version = ""
        self.spec = None
        self.metadata: dict[str, Any] = {}
        self._loaded = self._serve = self._encode = self._head = None
        self._tmp: tempfile.TemporaryDirectory | None = None
        self.ready = False

    def load(self) -> bool:
        """Fetch the bundle (a gs:// one into a temp folder) and load its serving signature."""
        local = Path(self.bundle_uri)
        if uri_io.is_gcs(self.bundle_uri):
            self._tmp = tempfile.TemporaryDirectory(prefix=f"loopline-{self.name}-")
            local = Path(self._tmp.name) / "bundle"
            uri_io.download_tree(self.bundle_uri, local)
        self.spec, self.metadata = read_bundle(local)
        registration = local / REGISTRATION_FILE  # present when the bundle came from the registry
        self.version = (str(json.loads(registration.read_text()).get("version", "")) if registration.exists()
                        else self.metadata.get("run") or f"trained {self.metadata.get('time', '')}")
        # Keep the loaded object: its signatures only borrow its variables.
        self._loaded = tf.saved_model.load(str(local / SAVED_MODEL_DIR))
        signatures = self._loaded.signatures
        self._serve = signatures[SIGNATURE]
        self._encode, self._head = signatures.get(ENCODE_SIGNATURE), signatures.get(HEAD_SIGNATURE)
        self.ready = True
        return self.ready

    async def preprocess(self, payload: dict | InferRequest, headers: dict[str, str] | None = None) -> Decoded:
        """Check and decode a V1 body or a V2 InferRequest into one array per feature, and find its id."""
        try:
            request_id = request_id_of(payload, headers)
            if isinstance(payload, InferRequest):
                # Binary-encoded V2 inputs leave `data` empty; their values are in as_numpy().
                inputs = [{"name": i.name, "shape": list(i.shape), "datatype": i.datatype,
                           "data": i.as_numpy() if i.data is None else i.data} for i in payload.inputs]
                return Decoded(V2, decode_v2(inputs, self.spec, self.max_batch_size), request_id)
            if isinstance(payload, dict) and "inputs" in payload and "instances" not in payload:
                # A V2 body on :explain
                return Decoded(V2, decode_v2(payload["inputs"], self.spec, self.max_batch_size), request_id)
            return Decoded(V1, decode_v1(payload, self.spec, self.max_batch_size), request_id)
        except RequestError as err:
            REJECTED.labels(model=self.name, reason=rejection_reason(str(err))).inc()
            raise InvalidInput(str(err)) from err

    def _call(self, columns: dict[str, np.ndarray]) -> np.ndarray:
        feeds = {name: tf.constant(values) for name, values in self.spec.by_tensor_name(columns).items()}
        outputs = self._serve(**feeds)
        key = next(k for k in OUTPUT_KEYS if k in outputs)
        return outputs[key].numpy()

    async def predict(self, payload: Decoded, headers: dict[str, str] | None = None,
                      response_headers: dict[str, str] | None = None) -> Predicted:
        """Run the signature off the event loop; a failure inside the model is an InferenceError (500)."""
        try:
            outputs = await self._batcher.submit(payload.columns)
        except (tf.errors.OpError, ValueError, TypeError) as err:
            raise self._failure(err) from err
        if self.prediction_log is not None:
            self.prediction_log.record(self.name, self.version, payload.request_id, payload.columns,
                                       encode_v1(outputs, self.spec)["predictions"])
        return Predicted(payload.protocol, outputs, payload.request_id)

    async def explain(self, payload: Decoded, headers: dict[str, str] | None = None) -> dict:
        """Per-feature integrated-gradients attributions for each row (see `_explain`)."""
        if self._encode is None or self._head is None:
            raise InvalidInput("this model bundle has no explanation signatures (encode/head); retrain it")
        try:
            return await asyncio.to_thread(self._explain, payload.columns)
        except (tf.errors.OpError, ValueError, TypeError) as err:
            raise self._failure(err) from err

    def _failure(self, err: Exception) -> InferenceError:
        """Count a failure inside the model and turn it into a 500 with an error id; the type and detail
        go to the server log under that id, never into the answer (they can hold paths and tensor names)."""
        FAILED.labels(model=self.name, error=type(err).__name__).inc()
        error_id = secrets.token_hex(6)
        logger.error("model %s failed on a request (error id %s): %s: %s", self.name, error_id, type(err).__name__, err)
        return InferenceError(f"model {self.name!r} failed on this request (error id {error_id}; "
                              "the server log has the detail)")

    def _explain(self, columns: dict[str, np.ndarray]) -> dict:
        """Integrated gradients over the encoded inputs the dense layers see, summed per raw feature
        (components/lib/attribution.py, which evaluate's feature importance shares).

        Baseline: the all-zero encoding, i.e. every number at its train mean (and not missing),
        every category absent. Target: the predicted class's probability (or the value).
        """
        found = integrated_gradients(self._encode, self._head, self.spec, self.metadata["encoding"], columns)
        predictions, bases = found.predictions, found.baseline_predictions
        explanations = []
        for row in range(len(found.outputs)):
            per_feature = found.row(row)
            prediction, base = float(predictions[row]), float(bases[row])
            if found.targets is None:
                described = {"value": prediction}
            else:
                label = self.spec.classes[found.targets[row]]
                described = {"label": label, "target": f"probability of {label}"}
            explanations.append({**described, "prediction": prediction, "baseline_prediction": base,
                                 "attributions": per_feature,
                                 "completeness_gap": prediction - base - sum(per_feature.values())})
        baseline = {f.name: ("(absent: all-zero encoding)" if f.kind == CATEGORICAL else f.mean)
                    for f in self.spec.features}
        return {"explanations": explanations, "method": "integrated_gradients", "steps": IG_STEPS,
                "baseline": baseline}

    async def postprocess(self, result: Predicted | dict, headers: dict[str, str] | None = None,
                          response_headers: dict[str, str] | None = None) -> dict | InferResponse:
        """V1: {"predictions": [...], "id": ...}; V2: an InferResponse with label/probabilities (or value) and the
        request's id; both with an x-request-id header; an explanation (already a dict) as it is."""
        if isinstance(result, dict):
            return result
        protocol, outputs, request_id = result
        if response_headers is not None:
            response_headers[REQUEST_ID_HEADER] = request_id
        if self.spec.classes:
            for index, count in zip(*np.unique(outputs.argmax(axis=1), return_counts=True)):
                PREDICTIONS.labels(model=self.name, label=self.spec.classes[index]).inc(int(count))
        if protocol == V1:
            return {**encode_v1(outputs, self.spec), "id": request_id}
        return InferResponse(
            response_id=request_id, model_name=self.name,
            infer_outputs=[InferOutput(**output) for output in v2_outputs(outputs, self.spec)],
        )

    def stop(self) -> None:
        """At shutdown (KServe unloads every model): write the prediction log's queue."""
        if self.prediction_log is not None:
            self.prediction_log.close()

    def get_input_types(self) -> list[dict]:
        """V2 metadata inputs, from the feature spec."""
        return v2_metadata(self.spec, self.name, [])["inputs"]

    def get_output_types(self) -> list[dict]:
        """V2 metadata outputs, from the feature spec."""
        return v2_metadata(self.spec, self.name, [])["outputs"]
