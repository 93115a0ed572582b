"""The `fake_kfp` fixture: the KFP API fake (fakes/kfp_api.py, a fake) on a free port, with the kfp client pointed at
it alone (no KFP_* variables, no context file of this machine's)."""

from __future__ import annotations

from pathlib import Path
from typing import Iterator

import pytest

from fakes.kfp_api import FakeKFP


@pytest.fixture
def fake_kfp(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[FakeKFP]:
    """A started FakeKFP, its base URL in `.url`; stopped after the test."""
    from kfp.client import client

    for name in ("KF_PIPELINES_ENDPOINT", "KF_PIPELINES_SA_TOKEN_PATH", "KF_PIPELINES_UI_ENDPOINT"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setattr(client.Client, "_LOCAL_KFP_CONTEXT", str(tmp_path / "kfp-context.json"))
    server = FakeKFP()
    server.url = server.start()
    yield server
    server.stop()
