"""Hot reload: a new version is loaded through the V2 repository API while clients keep calling."""

from __future__ import annotations

import shutil
import threading
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from components.lib.inference import BundleModel
from components.lib.serving import LocalServer, call
from components.train.executor import train
from components.train.model import Hyperparameters
from loopline import paths

ROOT = paths.ROOT
SERVING_PYTHON = str(paths.SERVING_PYTHON)
CLIENTS, REQUESTS = 4, 60  # bounded: 240 requests in all, on loopback

pytestmark = pytest.mark.serving


def test_reload_swaps_the_model_without_a_failed_request(
    penguins_bundle: Path, penguins_splits: dict[str, Path], tmp_path: Path
) -> None:
    repository = tmp_path / "models"
    shutil.copytree(penguins_bundle, repository / "penguins")
    retrained = tmp_path / "v2"
    train(penguins_splits["train"], penguins_splits["eval"], penguins_splits["schema"], retrained, "species",
          hp=Hyperparameters(epochs=3, seed=7), log=lambda _: None)
    table = pq.read_table(next(penguins_splits["eval"].glob("*.parquet"))).slice(0, 4)
    rows = table.drop(["species"]).to_pylist()
    statuses: list[int] = []

    with LocalServer(repository, "penguins", python=SERVING_PYTHON) as server:
        url = f"{server.url}/v1/models/penguins:predict"

        def client() -> None:
            for _ in range(REQUESTS):
                statuses.append(call(url, {"instances": rows})[0])

        threads = [threading.Thread(target=client) for _ in range(CLIENTS)]
        for thread in threads:
            thread.start()
        staged = repository / ".penguins.incoming"
        shutil.copytree(retrained, staged)
        (repository / "penguins").rename(repository / ".penguins.outgoing")
        staged.rename(repository / "penguins")
        load_status, load_answer = call(f"{server.url}/v2/repository/models/penguins/load", {})
        for thread in threads:
            thread.join(timeout=120)
        status, after = call(url, {"instances": rows})

    assert load_status == 200, load_answer
    assert len(statuses) == CLIENTS * REQUESTS and set(statuses) == {200}
    assert status == 200
    classes = ("Adelie", "Chinstrap", "Gentoo")
    served = np.array([[p["probabilities"][c] for c in classes] for p in after["predictions"]])
    new = BundleModel(retrained).predict([pa.Table.from_pylist(rows)])
    old = BundleModel(penguins_bundle).predict([pa.Table.from_pylist(rows)])
    np.testing.assert_allclose(served, new, atol=1e-5)
    assert not np.allclose(new, old, atol=1e-3)  # the swap is visible: the two versions differ
