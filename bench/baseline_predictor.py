"""The baseline for `make bench-serve`: a KServe predictor as a typical user writes one.

It loads the SavedModel in `load()` and, per request, converts the V1 instances to tensors and
calls the serving signature from a synchronous `predict` (so KServe runs it on its event loop).
No request checking, no thread offload, no batching. Run in .venv-serving:
python baseline_predictor.py --model_dir BUNDLE --model_name penguins --http_port P --grpc_port G
"""

import argparse
import json
from pathlib import Path

import numpy as np
import tensorflow as tf

import kserve
from kserve import model_server


class BaselineModel(kserve.Model):
    """Load the SavedModel; predict by calling its signature per request."""

    def __init__(self, name: str, model_dir: str) -> None:
        super().__init__(name)
        self.model_dir = model_dir
        self.ready = False

    def load(self) -> bool:
        spec = json.loads((Path(self.model_dir) / "feature_spec.json").read_text())
        self.features = [(f["name"], f["kind"]) for f in spec["features"]]
        self.classes = spec["classes"]
        self.loaded = tf.saved_model.load(str(Path(self.model_dir) / "saved_model"))
        self.signature = self.loaded.signatures["serving_default"]
        self.ready = True
        return self.ready

    def predict(self, payload: dict, headers: dict | None = None) -> dict:
        rows = payload["instances"]
        tensors = {name: tf.constant([r[name] for r in rows]) if kind == "categorical"
                   else tf.constant(np.array([r[name] for r in rows], np.float32)) for name, kind in self.features}
        probabilities = self.signature(**tensors)["probabilities"].numpy()
        return {"predictions": [{"label": self.classes[int(p.argmax())],
                                 "probabilities": dict(zip(self.classes, p.tolist()))} for p in probabilities]}


if __name__ == "__main__":
    parser = argparse.ArgumentParser(parents=[model_server.parser])
    parser.add_argument("--model_dir", required=True)
    args, _ = parser.parse_known_args()
    model = BaselineModel(args.model_name, args.model_dir)
    model.load()
    kserve.ModelServer().start([model])
