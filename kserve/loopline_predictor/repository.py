"""A model repository of loopline bundles with hot reload (V2 `POST /v2/repository/models/<name>/load`).

Reloading builds a new model object and loads it in a worker thread while the old one keeps
answering; the swap is one dict assignment, so in-flight requests finish on the model they started
with and no request is dropped.
"""

from __future__ import annotations

import asyncio
import logging
import re

from kserve.errors import ModelNotFound, ModelNotReady
from kserve.protocol.model_repository_extension import ModelRepositoryExtension

import kserve
from components.lib import uri as uri_io
from components.lib.bundle import FEATURE_SPEC_FILE
from loopline_predictor.model import LooplineModel
from loopline_predictor.prediction_log import PredictionLogger

MODEL_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,62}")
logger = logging.getLogger(__name__)


class BundleRepository(kserve.ModelRepository):
    """Bundles by name: `<models_dir>/<name>`, or an explicit path per name (single-bundle mode)."""

    def __init__(self, models_dir: str, max_batch_size: int, paths: dict[str, str] | None = None,
                 prediction_log: PredictionLogger | None = None, max_latency_ms: float = 0.0) -> None:
        super().__init__(models_dir)
        self.max_batch_size = max_batch_size
        self.paths = dict(paths or {})
        self.prediction_log = prediction_log
        self.max_latency_ms = max_latency_ms

    def _new(self, name: str) -> LooplineModel:
        return LooplineModel(name, self.bundle_path(name), self.max_batch_size, self.prediction_log,
                             self.max_latency_ms)

    def has_bundle(self, name: str) -> bool:
        """Whether `name` (a plain model name, no path) has a bundle to load."""
        if not MODEL_NAME.fullmatch(name):
            return False
        return uri_io.exists(uri_io.join(self.bundle_path(name), FEATURE_SPEC_FILE))

    def bundle_path(self, name: str) -> str:
        """Where the bundle of `name` is read from (a local folder or gs://)."""
        return self.paths.get(name) or uri_io.join(self.models_dir, name)

    def load_model(self, name: str) -> bool:
        """Load `name` now (start-up) and make it the served one."""
        model = self._new(name)
        model.load()
        self.update(model)
        return model.ready

    async def load(self, name: str) -> bool:
        """Hot reload: load the bundle's current contents beside the served model, then swap."""
        model = self._new(name)
        await asyncio.to_thread(model.load)
        self.update(model)
        return model.ready


class BundleRepositoryExtension(ModelRepositoryExtension):
    """KServe's repository API (load/unload) answering with the model's name only: 404 for a name with no bundle,
    and a failed load's detail (paths, exception types) in the server log, not in the answer."""

    def __init__(self, repository: BundleRepository) -> None:
        super().__init__(model_registry=repository)
        self.repository = repository

    async def load(self, model_name: str) -> None:
        if not self.repository.has_bundle(model_name):
            raise ModelNotFound(model_name)
        try:
            await super().load(model_name)
        except ModelNotReady as err:
            logger.error("loading model %s failed: %s", model_name, err)
            raise ModelNotReady(model_name, "Its bundle could not be loaded; the server log has the detail.") from None
