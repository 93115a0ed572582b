"""Run in the serving environment: load a bundle's SavedModel and print its outputs as JSON.

Usage: python bundle_predict.py BUNDLE_DIR INPUTS_JSON  (inputs: {feature: [values...]}, null = missing)
"""

import json
import sys
from pathlib import Path

import numpy as np
import tensorflow as tf


def main() -> None:
    """Feed the JSON columns to the serving signature, as the predictor will."""
    bundle, inputs_file = Path(sys.argv[1]), Path(sys.argv[2])
    spec = json.loads((bundle / "feature_spec.json").read_text())
    columns = json.loads(inputs_file.read_text())
    tensors = {}
    for feature in spec["features"]:
        values, key = columns[feature["name"]], feature.get("input_name") or feature["name"]  # the tensor's name
        if feature["kind"] == "categorical":
            tensors[key] = tf.constant(["" if v is None else str(v) for v in values])
        else:
            tensors[key] = tf.constant(np.array([np.nan if v is None else v for v in values], np.float32))
    outputs = tf.saved_model.load(str(bundle / "saved_model")).signatures["serving_default"](**tensors)
    print(json.dumps({k: v.numpy().tolist() for k, v in outputs.items()}))


if __name__ == "__main__":
    main()
