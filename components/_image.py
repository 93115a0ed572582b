"""Container images the components run in: named once here, tagged from the package version.

Built from components/Dockerfile (pipeline env) and kserve/Dockerfile (serving env), both of
which install from the same lock files as the local environments. Compile-time overrides (read
when the components are imported, so set them before `loopline compile`): LOOPLINE_REGISTRY,
LOOPLINE_TAG, or whole names in LOOPLINE_PIPELINE_IMAGE / LOOPLINE_SERVING_IMAGE.
`python -m components._image` prints the names (the Makefile builds and pushes those).
"""

import os

from components.version import VERSION

DEFAULT_REGISTRY = "ghcr.io/loopline"
PIPELINE_REPOSITORY = "loopline-pipeline"
SERVING_REPOSITORY = "loopline-serving"

REGISTRY = os.environ.get("LOOPLINE_REGISTRY") or DEFAULT_REGISTRY
TAG = os.environ.get("LOOPLINE_TAG") or VERSION
PIPELINE_IMAGE = os.environ.get("LOOPLINE_PIPELINE_IMAGE") or f"{REGISTRY}/{PIPELINE_REPOSITORY}:{TAG}"
SERVING_IMAGE = os.environ.get("LOOPLINE_SERVING_IMAGE") or f"{REGISTRY}/{SERVING_REPOSITORY}:{TAG}"

if __name__ == "__main__":
    print(f"VERSION={VERSION} PIPELINE_IMAGE={PIPELINE_IMAGE} SERVING_IMAGE={SERVING_IMAGE}")
