"""Where a result came from: code version, the environment's installed packages, the time."""

from __future__ import annotations

import hashlib
import subprocess
from datetime import datetime, timezone
from importlib import metadata
from pathlib import Path

from components.version import VERSION


def environment_hash() -> str:
    """sha256 of the sorted `name==version` of every installed package: equal environments, equal hash.

    (The image has no lock file beside the code; what the lock installed is what matters.)
    """
    pins = sorted({f"{d.metadata['Name'].lower()}=={d.version}" for d in metadata.distributions()})
    return "sha256:" + hashlib.sha256("\n".join(pins).encode()).hexdigest()


# The lock files the two environments (and their images) install from, relative to the checkout.
LOCK_FILES = ("requirements/pipeline.lock", "kserve/requirements.lock")


def lock_hashes(root: Path = Path(__file__).resolve().parents[2]) -> dict[str, str]:
    """sha256 of each lock file under the checkout `root` ({} when run from an image, which has none)."""
    return {name: "sha256:" + hashlib.sha256((root / name).read_bytes()).hexdigest()
            for name in LOCK_FILES if (root / name).is_file()}


def code_version() -> str:
    """The package version, plus the git commit when running from a checkout."""
    try:
        commit = subprocess.run(
            ["git", "rev-parse", "--short=12", "HEAD"], cwd=Path(__file__).parent,
            capture_output=True, text=True, timeout=5, check=True,
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return VERSION
    return f"{VERSION}+g{commit}"


def utc_now() -> str:
    """The time as ISO 8601 UTC."""
    return datetime.now(timezone.utc).isoformat(timespec="seconds")
