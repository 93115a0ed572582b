"""`loopline models ...` through its own argparse wiring, against a local and a gs:// registry."""

from __future__ import annotations

import json
import uuid
from pathlib import Path

import pytest

from components.lib import registry as reg
from components.lib import registry_audit as audit
from components.lib.registry import Registry
from loopline import cli

MODEL = "penguins"


def run_cli(argv: list[str]) -> int:
    """`loopline ARGV` in this process, through main() (which reports errors)."""
    return cli.main(argv)


def _bundle(folder: Path, tag: str) -> Path:
    (folder / "variables").mkdir(parents=True)
    (folder / "saved_model.pb").write_bytes(tag.encode())
    (folder / "variables" / "variables.index").write_bytes(b"i" + tag.encode())
    return folder


def _fill(root: str, tmp_path: Path) -> Registry:
    """Two versions (accuracy 0.9012, 0.95), version 1 in production."""
    registry = Registry(root)
    registry.register(MODEL, _bundle(tmp_path / "b1", "one"), run="train-1", info={"metrics": {"accuracy": 0.9012}})
    registry.register(MODEL, _bundle(tmp_path / "b2", "two"), run="train-2", info={"metrics": {"accuracy": 0.95}})
    registry.record(MODEL, audit.EVALUATED, 2, run="train-2", reason="eval split", details={"accuracy": 0.95})
    registry.promote(MODEL, 1, run="train-1", reason="first model")
    return registry


@pytest.fixture()
def root(tmp_path: Path) -> str:
    root = str(tmp_path / "registry")
    _fill(root, tmp_path)
    return root


def test_list_shows_versions_aliases_and_metric(root: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert run_cli(["models", "list", "--registry", root]) == 0
    lines = capsys.readouterr().out.splitlines()

    assert lines[0].split() == ["MODEL", "VERSION", "TIME", "RUN", "ALIASES", "ACCURACY"]
    first, second = (line.split() for line in lines[1:])
    assert (first[0], first[1], first[4], first[5], first[6]) == (MODEL, "1", "train-1", "production", "0.9012")
    assert (second[1], second[4], second[5], second[6]) == ("2", "train-2", "-", "0.9500")
    assert len(lines) == 3

    assert run_cli(["models", "list", "--registry", root, "--model", MODEL, "--metric", "f1"]) == 0
    assert capsys.readouterr().out.splitlines()[1].split()[-1] == "-"


def test_list_of_an_empty_registry_says_so(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run_cli(["models", "list", "--registry", str(tmp_path / "none")]) == 0
    assert "no models registered" in capsys.readouterr().out


def test_show_by_number_alias_and_default(root: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert run_cli(["models", "show", MODEL, "2", "--registry", root]) == 0
    shown = json.loads(capsys.readouterr().out)
    assert shown["registration"]["version"] == 2
    assert shown["registration"]["info"] == {"metrics": {"accuracy": 0.95}}
    assert shown["registration"]["uri"].endswith("/penguins/versions/2")
    assert shown["aliases"]["production"]["version"] == 1 and shown["points_here"] == []
    assert [(e["event"], e["version"]) for e in shown["events"]] == [("registered", 2), ("evaluated", 2)]

    assert run_cli(["models", "show", MODEL, "production", "--registry", root]) == 0
    by_alias = json.loads(capsys.readouterr().out)
    assert by_alias["registration"]["version"] == 1 and by_alias["points_here"] == ["production"]
    assert [e["event"] for e in by_alias["events"]] == ["registered", "promoted"]
    assert run_cli(["models", "show", MODEL, "--registry", root]) == 0
    assert json.loads(capsys.readouterr().out)["registration"]["version"] == 1


def test_promote_rollback_and_history(root: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert run_cli(["models", "promote", MODEL, "2", "--reason", "better accuracy", "--registry", root]) == 0
    assert "penguins version 2 is production; previous: 1" in capsys.readouterr().out
    registry = Registry(root)
    assert registry.alias(MODEL, reg.PRODUCTION).number == 2
    promoted = registry.events(MODEL)[-1]
    assert (promoted.event, promoted.version, promoted.reason) == ("promoted", 2, "better accuracy")
    assert promoted.run.startswith("cli:") and "@" in promoted.run

    assert run_cli(["models", "rollback", MODEL, "--reason", "errors in prod", "--run", "oncall-42",
                    "--registry", root]) == 0
    assert "rolled back from version 2 to version 1; previous: none" in capsys.readouterr().out
    assert registry.alias(MODEL, reg.PRODUCTION).number == 1
    assert registry.events(MODEL)[-1].run == "oncall-42"

    assert run_cli(["models", "history", MODEL, "--registry", root]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split() == ["TIME", "EVENT", "VERSION", "RUN", "REASON", "DETAILS"]
    assert [line.split()[2:4] for line in lines[1:]] == [
        ["registered", "1"], ["registered", "2"], ["evaluated", "2"], ["promoted", "1"], ["promoted", "2"],
        ["rolled_back", "1"]]
    assert "errors in prod" in lines[-1] and '"from": 2' in lines[-1]


@pytest.mark.parametrize(("argv", "message"), [
    (["promote", MODEL, "7", "--reason", "typo"], "model 'penguins' has no version 7 (its versions: 1, 2)"),
    (["rollback", MODEL, "--reason", "panic"], "no previous version to roll back to (production is version 1)"),
    (["show", MODEL, "staging"], "model 'penguins' has no alias 'staging' (aliases: production)"),
    (["show", MODEL, "9"], "has no version 9"),
    (["list", "--model", "Bad/Name"], "invalid model name 'Bad/Name'"),
    (["history", "unknown"], "model 'unknown' has no events"),
    (["promote", MODEL, "2", "--reason", " "], "promote needs a reason"),
])
def test_errors_are_one_line_and_exit_2(root: str, capsys: pytest.CaptureFixture[str], argv: list[str],
                                        message: str) -> None:
    before = [e.event for e in Registry(root).events(MODEL)]
    assert run_cli(["models", *argv, "--registry", root]) == 2
    out, err = capsys.readouterr()
    assert out == ""
    assert err.count("\n") == 1 and err.startswith("loopline: error: ")
    assert message in err
    assert [e.event for e in Registry(root).events(MODEL)] == before  # nothing changed
    assert Registry(root).alias(MODEL, reg.PRODUCTION).number == 1


def test_promote_needs_a_reason_and_a_number(root: str, capsys: pytest.CaptureFixture[str]) -> None:
    for argv in (["models", "promote", MODEL, "2"], ["models", "promote", MODEL, "two", "--reason", "x"]):
        with pytest.raises(SystemExit) as caught:
            run_cli([*argv, "--registry", root])
        assert caught.value.code == 2
    err = capsys.readouterr().err
    assert "--reason" in err and "not a version number: 'two'" in err


@pytest.mark.gcs
def test_cli_on_a_gcs_registry(gcs_bucket: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    root = f"gs://{gcs_bucket}/cli-{uuid.uuid4().hex[:8]}"
    _fill(root, tmp_path)
    assert run_cli(["models", "promote", MODEL, "2", "--reason", "better", "--registry", root]) == 0
    assert run_cli(["models", "list", "--registry", root]) == 0
    rows = [line.split() for line in capsys.readouterr().out.splitlines() if line.startswith(MODEL)]
    assert [(r[1], r[5]) for r in rows] == [("1", "previous"), ("2", "production")]
    assert run_cli(["models", "rollback", MODEL, "--reason", "bad", "--registry", root]) == 0
    assert Registry(root).alias(MODEL, reg.PRODUCTION).number == 1


@pytest.mark.gcs
def test_cli_storage_errors_are_one_line(gcs_bucket: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert run_cli(["models", "list", "--registry", "gs://no-such-bucket-loopline/registry"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("loopline: error: ")
    assert "no-such-bucket-loopline" in err


def test_promote_and_rollback_can_place_the_bundle_that_is_served(root: str, tmp_path: Path,
                                                                   capsys: pytest.CaptureFixture[str]) -> None:
    """With --model-repository the served bundle follows the aliases (not only the registry)."""
    models = tmp_path / "models"
    assert run_cli(["models", "promote", "--registry", root, MODEL, "2", "--reason", "better",
                    "--model-repository", str(models)]) == 0
    assert (models / MODEL / "saved_model.pb").read_bytes() == b"two"
    assert f"loopline: served: bundle at {models / MODEL}" in capsys.readouterr().out
    assert run_cli(["models", "rollback", "--registry", root, MODEL, "--reason", "v2 misbehaves",
                    "--model-repository", str(models)]) == 0
    assert (models / MODEL / "saved_model.pb").read_bytes() == b"one"
    assert Registry(root).alias(MODEL, reg.PRODUCTION).number == 1


def test_a_rollback_that_cannot_be_served_moves_no_alias(root: str, tmp_path: Path,
                                                         capsys: pytest.CaptureFixture[str]) -> None:
    """No kubeconfig and no cluster: one line, exit 2, production unchanged."""
    assert run_cli(["models", "promote", "--registry", root, MODEL, "2", "--reason", "better"]) == 0
    env = {"KUBECONFIG": str(tmp_path / "absent-kubeconfig")}
    with pytest.MonkeyPatch.context() as patch:
        for key, value in env.items():
            patch.setenv(key, value)
        assert run_cli(["models", "rollback", "--registry", root, MODEL, "--reason", "r",
                        "--kserve-namespace", "ml"]) == 2
    error = capsys.readouterr().err.strip().splitlines()
    assert len(error) == 1 and error[0].startswith("loopline: error: ")
    assert Registry(root).alias(MODEL, reg.PRODUCTION).number == 2
