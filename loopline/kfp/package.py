"""A compiled pipeline package (the YAML `loopline compile` writes) as KFP will know it.

Its `pipelineInfo.name` is the KFP pipeline name; the sha256 of its bytes names a new version and
marks version descriptions, so uploading unchanged content is recognised and skipped.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

import yaml

from components.version import VERSION
from loopline.kfp.errors import ClusterError, one_line


@dataclass(frozen=True)
class Package:
    """A compiled pipeline file: its KFP name, description and content hash."""

    path: Path
    name: str
    description: str
    digest: str

    @property
    def version_name(self) -> str:
        """The name a new KFP version of this content gets: `<loopline version>-<12 hex of sha256>`."""
        return f"{VERSION}-{self.digest[:12]}"

    @property
    def marker(self) -> str:
        """Written into version descriptions; how an upload recognises content already there."""
        return f"sha256 {self.digest}"


def read_package(path: Path) -> Package:
    """Read a compiled pipeline YAML; its pipelineInfo.name is the KFP pipeline name."""
    try:
        data = path.read_bytes()
        document = next(yaml.safe_load_all(data), None)
    except (OSError, yaml.YAMLError) as exc:
        raise ClusterError(f"cannot read pipeline package {path}: {one_line(str(exc))}") from None
    info = document.get("pipelineInfo") if isinstance(document, dict) else None
    if not isinstance(info, dict) or not info.get("name"):
        raise ClusterError(f"{path} is not a compiled KFP pipeline (no pipelineInfo.name)")
    return Package(path, info["name"], info.get("description", ""), hashlib.sha256(data).hexdigest())
