"""The Debian binaries some tests drive (promtool, chromium): found on the PATH, else a failure naming the package.

`make tools` installs them and `make test` runs it, so a missing one is a broken setup, never a skip.
"""

from __future__ import annotations

import shutil

import pytest


def debian_binary(name: str, package: str) -> str:
    """The path of binary `name`; a test failure naming Debian's `package` when it is not installed."""
    found = shutil.which(name)
    if found is None:
        pytest.fail(f"{name} is not installed: install the Debian package {package!r} "
                    "(`make tools` does, and `make test` runs it)")
    return found
