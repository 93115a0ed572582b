"""A model repository of loopline bundles with hot reload (V2 `POST /v2/repository/models/<name>/load`).

Reloading builds a new model object and loads it in a worker thread while the old one keeps
answering; the swap is one dict assignment, so in-flight requests finish on the model they started
with and no request is dropped.
"""

from __future__ import annotations

import asyncio

import kserve
from components.lib import uri as uri_io
from loopline_predictor.model import LooplineModel
from loopline_predictor.prediction_log import PredictionLogger


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
