"""Container images the components run in: named once here, tagged from the package version.

Built from components/Dockerfile (pipeline env) and kserve/Dockerfile (serving env), both of
which install from the same lock files as the local environments. Overrides are compile-time
settings, read only by `Images.from_env` where compiling starts: LOOPLINE_REGISTRY, LOOPLINE_TAG,
or whole names in LOOPLINE_PIPELINE_IMAGE / LOOPLINE_SERVING_IMAGE.
`python -m components._image` prints the names (the Makefile builds and pushes those).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Mapping

from components.version import VERSION

DEFAULT_REGISTRY = "ghcr.io/loopline"
PIPELINE_REPOSITORY = "loopline-pipeline"
SERVING_REPOSITORY = "loopline-serving"


def image_name(repository: str, registry: str = DEFAULT_REGISTRY, tag: str = VERSION) -> str:
    """`<registry>/<repository>:<tag>`."""
    return f"{registry}/{repository}:{tag}"


@dataclass(frozen=True)
class Images:
    """The two images: `pipeline` for every component but infra-validate, `serving` for it."""

    pipeline: str = image_name(PIPELINE_REPOSITORY)
    serving: str = image_name(SERVING_REPOSITORY)

    @classmethod
    def from_env(cls, environ: Mapping[str, str]) -> Images:
        """The images the compile-time environment names (unset or empty: the defaults)."""
        registry = environ.get("LOOPLINE_REGISTRY") or DEFAULT_REGISTRY
        tag = environ.get("LOOPLINE_TAG") or VERSION
        return cls(pipeline=environ.get("LOOPLINE_PIPELINE_IMAGE") or image_name(PIPELINE_REPOSITORY, registry, tag),
                   serving=environ.get("LOOPLINE_SERVING_IMAGE") or image_name(SERVING_REPOSITORY, registry, tag))


if __name__ == "__main__":
    images = Images.from_env(os.environ)
    print(f"VERSION={VERSION} PIPELINE_IMAGE={images.pipeline} SERVING_IMAGE={images.serving}")
