"""Run in the serving environment: parse InferenceService JSON with KServe's own v1beta1 models.

Prints the objects re-serialised by the SDK; a key the models do not know is dropped on the way,
so a test comparing input and output catches misspelt or misplaced fields.
"""

import json
import sys

import kserve.models
import kubernetes.client.models as kubernetes_models
from kserve import ApiClient


def main() -> None:
    """Round-trip each object through kserve.V1beta1InferenceService."""
    # KServe's models refer to Kubernetes types (V1ObjectMeta, V1ResourceRequirements...) by name,
    # and its ApiClient looks names up in kserve.models only: let it find the Kubernetes ones too.
    for name in dir(kubernetes_models):
        if name.startswith("V1") and not hasattr(kserve.models, name):
            setattr(kserve.models, name, getattr(kubernetes_models, name))
    api = ApiClient()
    objects = json.loads(open(sys.argv[1]).read())
    parsed = [api._ApiClient__deserialize(obj, "V1beta1InferenceService") for obj in objects]
    print(json.dumps([api.sanitize_for_serialization(p) for p in parsed]))


if __name__ == "__main__":
    main()
