"""Micro-batching on a real server: concurrent requests share model calls and each gets its own answers."""

from __future__ import annotations

import threading
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from components.lib.inference import BundleModel
from components.lib.serving import LocalServer, call
from loopline import paths

ROOT = paths.ROOT
SERVING_PYTHON = str(paths.SERVING_PYTHON)
CLASSES = ("Adelie", "Chinstrap", "Gentoo")

pytestmark = pytest.mark.serving


def test_concurrent_requests_get_their_own_rows_back(penguins_bundle: Path, penguins_splits: dict[str, Path]) -> None:
    rows = pq.read_table(next(penguins_splits["eval"].glob("*.parquet"))).drop(["species"]).to_pylist()[:24]
    requests = [rows[i:i + 1 + i % 3] for i in range(0, 18, 2)]  # 9 requests of 1-3 rows, all different
    answers: dict[int, tuple[int, dict]] = {}
    with LocalServer(penguins_bundle, "penguins", python=SERVING_PYTHON,
                     extra_args=("--max_latency_ms", "20")) as server:
        url = f"{server.url}/v1/models/penguins:predict"

        def send(index: int) -> None:
            answers[index] = call(url, {"instances": requests[index]})

        threads = [threading.Thread(target=send, args=(i,)) for i in range(len(requests))]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
        bad = call(url, {"instances": [{"wings": 1}]})
    model = BundleModel(penguins_bundle)
    for index, request in enumerate(requests):
        status, answer = answers[index]
        assert status == 200, answer
        served = np.array([[p["probabilities"][c] for c in CLASSES] for p in answer["predictions"]])
        np.testing.assert_allclose(served, model.predict([pa.Table.from_pylist(request)]), atol=1e-5)
    assert bad[0] == 400
