"""Fixtures of the server tests (tests/kserve/test_server.py, test_standard_clients.py): the penguins bundle
served by a real predictor process per module, and the eval rows they send."""

from __future__ import annotations

from pathlib import Path
from typing import Iterator

import pyarrow.parquet as pq
import pytest

from components.lib.serving import LocalServer
from loopline import paths

MAX_BATCH = 8


@pytest.fixture(scope="module")
def server(penguins_bundle: Path) -> Iterator[str]:
    """`python -m loopline_predictor` from .venv-serving on free loopback ports, batches up to MAX_BATCH rows;
    yields its base URL."""
    with LocalServer(penguins_bundle, "penguins", max_batch_size=MAX_BATCH,
                     python=str(paths.SERVING_PYTHON)) as running:
        yield running.url


@pytest.fixture(scope="module")
def eval_rows(penguins_splits: dict[str, Path]) -> list[dict]:
    """MAX_BATCH eval penguins without their species (some with missing values)."""
    table = pq.read_table(next(penguins_splits["eval"].glob("*.parquet")))
    return table.drop(["species"]).to_pylist()[:MAX_BATCH]
