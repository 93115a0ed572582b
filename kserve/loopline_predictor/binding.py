"""KServe's model server with its REST socket bound to an address of our choosing.

KServe hard-codes `0.0.0.0` in its uvicorn configuration (kserve/protocol/rest/server.py, 0.21), so a
predictor on a laptop would listen on every interface. The REST server object exists only once `start()` has
built it, and its socket is bound only when the event loop runs it: `_serve` is the one point between the two.
"""

from __future__ import annotations

import kserve

KSERVE_HOST = "0.0.0.0"  # what KServe binds, and what a pod needs


class BoundModelServer(kserve.ModelServer):
    """A ModelServer whose REST socket binds `http_host` (single-process REST, the only mode this predictor runs)."""

    def __init__(self, http_host: str = KSERVE_HOST, **kwargs: object) -> None:
        super().__init__(**kwargs)
        self.http_host = http_host

    async def _serve(self) -> None:
        if self._rest_server is None:  # KServe's multi-process REST server: not used by this predictor
            raise RuntimeError("the REST server was not built; --workers must stay 1")
        self._rest_server.config.host = self.http_host
        await super()._serve()
