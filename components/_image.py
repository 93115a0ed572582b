"""Container images the components run in: one place, tagged from the package version.

Built from components/Dockerfile (pipeline env) and kserve/Dockerfile (serving env), both of
which install from the same lock files as the local environments.
"""

from components.version import VERSION

REGISTRY = "ghcr.io/loopline"
PIPELINE_IMAGE = f"{REGISTRY}/loopline-pipeline:{VERSION}"
SERVING_IMAGE = f"{REGISTRY}/loopline-serving:{VERSION}"
