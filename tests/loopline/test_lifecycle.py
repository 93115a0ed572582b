"""`loopline lifecycle` (the end of `make run`): calm traffic is ok, a shifted world retrains and redeploys."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from components.lib.registry import PRODUCTION, Registry

pytestmark = [pytest.mark.slow, pytest.mark.serving]


def _loopline(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "loopline.cli", *args], capture_output=True, text=True, timeout=900)


def test_the_whole_loop_after_the_first_deploy(tmp_path: Path) -> None:
    places = ["--registry", str(tmp_path / "registry"), "--model-repository", str(tmp_path / "models"),
              "--pipeline-root", str(tmp_path / "root")]
    trained = _loopline("run", "training", "--epochs", "10", *places)
    assert trained.returncode == 0, trained.stdout[-2000:] + trained.stderr[-2000:]
    proc = _loopline("lifecycle", "--prediction-log", str(tmp_path / "log"), "--rows", "1500", "--epochs", "10",
                     *places)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    stages = {line.split()[2]: line for line in proc.stdout.splitlines() if line.startswith("loopline lifecycle: ")}
    assert "monitor: ok: no drift on 1,500 rows" in stages["traffic"]
    monitored = next(line for line in proc.stdout.splitlines() if line.startswith("  monitor "))
    assert "retrain: drift on 1,500 rows" in monitored and "island (new values" in monitored
    assert "body_mass_g (psi" in monitored and "bill_length_mm" not in monitored
    registry = Registry(str(tmp_path / "registry"))
    assert registry.alias("penguins", PRODUCTION).number == 2
    assert f"v2 is production; bundle at {tmp_path / 'models' / 'penguins'}; server http://" in stages["deploy"]
    assert stages["deploy"].endswith("load: 200"), "the running server was asked to load v2 and did"
    assert stages["redeploy"].endswith("version(s) 2 (its prediction log)")
    labels = [line for line in proc.stdout.splitlines() if line.startswith("loopline lifecycle: labels ")]
    assert len(labels) == 2, labels
    assert "750 true species sent back (loopline feedback) -> v1: realized accuracy " in labels[0]
    assert "100 true species of its answers sent back -> v2: realized accuracy " in labels[1]
    assert all(re.search(r"estimated 0\.\d{3} ± 0\.\d{3} before them \(estimate error [+-]0\.\d{3}\)", line)
               for line in labels), labels
    assert "realized performance within tolerance" in stages["traffic"]
