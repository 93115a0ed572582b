"""Run in the serving environment: parse objects with KServe's own SDK models, print them re-serialised.

Usage: kserve_roundtrip.py <model class, e.g. V1beta1InferenceService> <objects.json>. A key the
models do not know is dropped on the way, so comparing input and output catches misspelt or
misplaced fields. Tests call it through the `kserve_roundtrip` fixture (tests/conftest.py).
"""

import json
import sys

import kserve.models
import kubernetes.client.models as kubernetes_models

from kserve import ApiClient


def main() -> None:
    """Round-trip each object of the JSON list through the named kserve model class."""
    model, path = sys.argv[1], sys.argv[2]
    # KServe's models refer to Kubernetes types (V1Container, V1ObjectMeta...) by name, and its
    # ApiClient looks names up in kserve.models only: let it find the Kubernetes ones too.
    for name in dir(kubernetes_models):
        if name.startswith("V1") and not hasattr(kserve.models, name):
            setattr(kserve.models, name, getattr(kubernetes_models, name))
    if not hasattr(kserve.models, model):
        raise SystemExit(f"kserve.models has no {model}")
    api = ApiClient()
    objects = json.loads(open(path).read())
    parsed = [api._ApiClient__deserialize(obj, model) for obj in objects]
    print(json.dumps([api.sanitize_for_serialization(p) for p in parsed]))


if __name__ == "__main__":
    main()
