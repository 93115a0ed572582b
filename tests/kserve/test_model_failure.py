"""A failure inside the model is HTTP 500 with an error id (no type, no path: the detail is in the server log),
counted by type, and the server serves on.

The failure is real, not injected: the `broken` bundle of the `good_and_broken_models` fixture.
"""

from __future__ import annotations

import re
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from components.lib.serving import LocalServer, call, fetch_text
from loopline import paths

ROOT = paths.ROOT
SERVING_PYTHON = str(paths.SERVING_PYTHON)

pytestmark = pytest.mark.serving


def test_failure_inside_the_model_is_500_with_an_error_id_and_serving_goes_on(
        good_and_broken_models: Path, penguins_splits: dict[str, Path]) -> None:
    row = pq.read_table(next(penguins_splits["eval"].glob("*.parquet"))).drop(["species"]).to_pylist()[0]
    with LocalServer(good_and_broken_models, "unused", python=SERVING_PYTHON) as server:
        for _ in range(2):
            status, answer = call(f"{server.url}/v1/models/broken:predict", {"instances": [{**row, "island": 1.0}]})
            assert status == 500, answer
            assert re.fullmatch(r"model 'broken' failed on this request \(error id [0-9a-f]{12}; the server log "
                                r"has the detail\)", answer["error"]), answer
        error_id = answer["error"].split("error id ")[1][:12]
        logged = server.log_tail(200_000).splitlines()
        assert any(error_id in line and "Error" in line for line in logged), server.log_tail()
        status, answer = call(f"{server.url}/v1/models/good:predict", {"instances": [row]})
        assert status == 200 and answer["predictions"][0]["label"] in {"Adelie", "Chinstrap", "Gentoo"}, answer
        failed = [line for line in fetch_text(f"{server.url}/metrics").splitlines()
                  if line.startswith("loopline_failed_requests_total{") and 'model="broken"' in line]
        assert failed and sum(float(line.rsplit(" ", 1)[1]) for line in failed) == 2, failed
