"""A version's lineage from the registry alone (a folder or gs://): data -> validation -> training -> evaluation ->
approval -> deployments -> monitoring windows -> the retraining each started, and from one served answer back."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from components.lib import uri as uri_io
from components.lib.lineage import lineage
from components.lib.registry import Registry
from components.lib.registry_audit import APPROVED, DEPLOYED, EVALUATED, MONITORED, RETRAIN_TRIGGERED
from loopline.cli import main
from loopline.governance import lineage_lines
from support.gcs_emulator import local_or_gcs_root

MODEL = "penguins"
WINDOW = "2026-12-01T00:00:00+00:00 .. 2026-12-01T01:00:00+00:00"
DRIFT = "drift on 1,500 rows: body_mass_g (psi 3.02 > 0.2)"


@pytest.fixture(params=["local", "gcs"])
def root(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    return local_or_gcs_root(request, tmp_path / "store", "lineage")


def _info(production_version: int | None, trigger: dict | None, source: str) -> dict:
    return {"decision": {"approved": True, "reason": "approved: accuracy 0.99 >= production"},
            "production_version": production_version, "trigger": trigger,
            "environment": {"code_version": "0.1.0+gabc"},
            "data": {"source_uris": [source], "data_hash": "sha256:" + source[-1] * 8, "train_rows": 282,
                     "eval_rows": 62, "validation": {"data_ok": True, "reason": "no anomalies", "anomalies": []}}}


def _loop(root: str, tmp_path: Path) -> Registry:
    """v1 trained and deployed; a monitoring window of v1 finds drift and retrains; v2 is deployed."""
    bundle = tmp_path / "bundle"
    bundle.mkdir()
    (bundle / "feature_spec.json").write_text("{}")
    registry = Registry(uri_io.join(root, "registry"))
    for number, run, info in ((1, "train-1", _info(None, None, "data/v1.csv")),
                              (2, "train-2", _info(1, {"monitoring_run": "mon-1", "reason": DRIFT}, "data/v2.csv"))):
        if number == 2:
            registry.record(MODEL, MONITORED, 1, "mon-1", f"retrain: {DRIFT}",
                            {"window": WINDOW, "rows": 1500, "decision": "retrain", "monitoring_run": "mon-1"})
            registry.record(MODEL, RETRAIN_TRIGGERED, None, "mon-1", f"{DRIFT}; training started (local)",
                            {"target": "local", "run": "train-2"})
        registry.register(MODEL, bundle, run, info)
        registry.record(MODEL, EVALUATED, number, run, "evaluated on the eval split")
        registry.record(MODEL, APPROVED, number, run, info["decision"]["reason"])
        registry.promote(MODEL, number, run, "approved")
        registry.record(MODEL, DEPLOYED, number, run, f"v{number} is production")
    return registry


def test_a_retrained_version_names_the_monitoring_window_that_triggered_it(root: str, tmp_path: Path) -> None:
    registry = _loop(root, tmp_path)
    chain = lineage(registry, MODEL, 2)
    assert chain["served"] and chain["data"]["source_uris"] == ["data/v2.csv"]
    assert chain["validation"] == {"run": "train-2", "data_ok": True, "reason": "no anomalies", "anomalies": []}
    assert chain["evaluation"]["against_production_version"] == 1 and chain["evaluation"]["approved"]
    trigger = chain["trigger"]
    assert trigger["monitoring_run"] == "mon-1" and trigger["reason"] == DRIFT
    assert trigger["window"]["version"] == 1 and trigger["window"]["details"]["window"] == WINDOW
    assert trigger["retraining"]["event"] == "retrain_triggered"
    assert trigger["retraining"]["details"]["run"] == "train-2"
    assert [e["event"] for e in chain["deployments"]] == ["promoted", "deployed"]
    text = "\n".join(lineage_lines(chain))
    assert f"trigger     monitoring run mon-1, window {WINDOW} (1,500 rows, v1): {DRIFT}" in text
    assert "against production v1: approved" in text and "approval    auto (no person asked)" in text


def test_a_monitored_version_names_the_retraining_and_the_version_it_produced(root: str, tmp_path: Path) -> None:
    registry = _loop(root, tmp_path)
    registry.rollback(MODEL, "cli:ops", "v2 answers slowly")
    chain = lineage(registry, MODEL, 1)
    assert chain["served"] and chain["trigger"] is None
    [window] = chain["monitoring"]
    assert window["window"]["details"]["window"] == WINDOW and window["produced"] == [2]
    assert window["retraining"]["reason"].endswith("training started (local)")
    assert [(e["event"], e["version"]) for e in chain["deployments"]] == [
        ("promoted", 1), ("deployed", 1), ("promoted", 2), ("rolled_back", 1)]  # deployed, replaced, restored
    assert "replaced    " in "\n".join(lineage_lines(chain)) and ": by v2 (promoted)" in "\n".join(lineage_lines(chain))
    assert [e["event"] for e in lineage(registry, MODEL, 2)["deployments"]][-1] == "rolled_back"  # rolled back from
    assert "-> retrain_triggered: " in "\n".join(lineage_lines(chain)) and "produced v2" in "\n".join(
        lineage_lines(chain))


def test_one_served_answer_leads_to_its_version_s_lineage(root: str, tmp_path: Path,
                                                           capsys: pytest.CaptureFixture) -> None:
    registry = _loop(root, tmp_path)
    log = uri_io.join(root, "log")
    rows = [{"time": "2026-12-01T00:10:00+00:00", "model": MODEL, "model_version": version,
             "request_id": f"req-{version}", "inference_id": f"req-{version}:0", "sample_rate": 1.0,
             "inputs": {"island": "Dream"}, "outputs": {"label": "Adelie"}} for version in ("1", "2")]
    uri_io.write_text(uri_io.join(log, MODEL, "2026-12-01", "2026-12-01T001000.000+0000-ab.jsonl"),
                      "".join(json.dumps(r) + "\n" for r in rows))
    argv = ["models", "lineage", MODEL, "--registry", registry.root, "--prediction-log", log]
    assert main([*argv, "--inference-id", "req-2:0", "--json"]) == 0
    out = capsys.readouterr().out
    assert "req-2:0 was answered at 2026-12-01T00:10:00+00:00 by penguins v2" in out.splitlines()[0]
    chain = json.loads(out.split("\n", 1)[1])
    assert chain["version"] == 2 and chain["trigger"]["window"]["details"]["window"] == WINDOW
    assert main([*argv, "--inference-id", "req-9:0"]) == 2
    assert "inference id 'req-9:0' is not in the prediction log" in capsys.readouterr().err
