"""The human approval gate: with approval "manual" a version that passed every gate waits, recorded
`pending_approval`, until a named person approves it (then it is deployed) or rejects it; a version that failed a
gate cannot be approved. On a local registry and on gs:// (the emulator)."""

from __future__ import annotations

from pathlib import Path

import pytest

from components.deploy.approval import ApprovalRefused, approve, held_for_a_person, reject
from components.deploy.executor import DeployResult, deploy
from components.evaluate.executor import EvaluateOutputs, evaluate
from components.lib.bundle import FEATURE_SPEC_FILE
from components.lib.registry import PRODUCTION, Registry
from components.register.executor import register
from loopline.cli import main
from support.gcs_emulator import local_or_gcs_root

QUIET = {"log": lambda _: None}
MODEL = "penguins"


@pytest.fixture(params=["local", "gcs"])
def root(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    return local_or_gcs_root(request, tmp_path / "registry", "approval")


@pytest.fixture(scope="module")
def evaluation_dir(penguins_bundle: Path, penguins_splits: dict[str, Path],
                   tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The real evaluate step's output for the penguins model judged as a first model."""
    out = tmp_path_factory.mktemp("evaluation")
    result = evaluate(penguins_bundle, penguins_splits["eval"], "", MODEL, {"min_accuracy": 0.9},
                      outputs=EvaluateOutputs(out / "evaluation", out / "report.md"), **QUIET)
    assert result.decision.approved, result.decision.reason
    return out / "evaluation"


def _candidate(root: str, bundle: Path, evaluation_dir: Path, run: str) -> int:
    return register(bundle, evaluation_dir, root, MODEL, run, **QUIET).number


def _deploy(root: str, version: int, repository: Path, approval: str = "manual", approved: bool = True,
            infra_ok: bool = True) -> DeployResult:
    return deploy(root, MODEL, version, approved, "approved: accuracy 1 >= floor 0.9", infra_ok,
                  "serves: 16 golden rows" if infra_ok else "does not load", str(repository), "run-train", **QUIET,
                  approval=approval)


@pytest.fixture()
def held(root: str, penguins_bundle: Path, evaluation_dir: Path, tmp_path: Path) -> tuple[Registry, int]:
    """A version that passed every gate under approval "manual": registered, its deploy step waiting."""
    version = _candidate(root, penguins_bundle, evaluation_dir, "run-train")
    result = _deploy(root, version, tmp_path / "models")
    assert not result.deployed and result.reason.startswith("pending approval: v1 passed every gate")
    return Registry(root), version


def _events(registry: Registry, version: int) -> list[str]:
    return [e.event for e in registry.events(MODEL) if e.version == version]


def test_manual_approval_holds_a_version_until_a_person_approves_it(held: tuple[Registry, int],
                                                                    tmp_path: Path) -> None:
    registry, version = held
    assert registry.alias(MODEL, PRODUCTION) is None and not (tmp_path / "models").exists()
    assert _events(registry, version)[-1] == "pending_approval"
    assert "pending approval" in held_for_a_person(registry, MODEL, version)

    released = approve(registry, MODEL, version, "Ada Lovelace", "read the card; slices fine", "cli:test", **QUIET)
    assert released.deployed and registry.alias(MODEL, PRODUCTION).number == version
    assert (tmp_path / "models" / MODEL / FEATURE_SPEC_FILE).is_file()  # placed where the run would have
    events = [e for e in registry.events(MODEL) if e.version == version]
    granted = next(e for e in events if e.event == "approval_granted")
    assert granted.details == {"by": "Ada Lovelace"} and granted.reason == "read the card; slices fine"
    assert [e.event for e in events][-3:] == ["approval_granted", "promoted", "deployed"]
    assert held_for_a_person(registry, MODEL, version) == ""
    with pytest.raises(ApprovalRefused, match="already approved by Ada Lovelace"):
        approve(registry, MODEL, version, "Ada Lovelace", "again", "cli:test", **QUIET)


@pytest.mark.parametrize("approved,infra_ok,gate", [(False, True, "not approved"),
                                                    (True, False, "infra validation failed")])
def test_a_version_that_failed_a_gate_cannot_be_approved(
    root: str, penguins_bundle: Path, evaluation_dir: Path, tmp_path: Path, approved: bool, infra_ok: bool,
    gate: str
) -> None:
    registry = Registry(root)
    version = _candidate(root, penguins_bundle, evaluation_dir, "run-train")
    result = _deploy(root, version, tmp_path / "models", approved=approved, infra_ok=infra_ok)
    assert not result.deployed and result.reason.startswith(gate)
    with pytest.raises(ApprovalRefused, match=f"failed a gate \\({gate}.*only a version that passed every gate"):
        approve(registry, MODEL, version, "Ada", "looks fine to me", "cli:test", **QUIET)
    assert registry.alias(MODEL, PRODUCTION) is None and "approval_granted" not in _events(registry, version)


def test_a_rejected_version_is_never_deployed_by_approval(held: tuple[Registry, int]) -> None:
    registry, version = held
    event = reject(registry, MODEL, version, "Grace", "trained on last year's prices", "cli:test")
    assert event.event == "approval_rejected" and event.details == {"by": "Grace"}
    with pytest.raises(ApprovalRefused, match="rejected by Grace .*: trained on last year's prices"):
        approve(registry, MODEL, version, "Ada", "overrule", "cli:test", **QUIET)
    assert "rejected by Grace" in held_for_a_person(registry, MODEL, version)
    assert registry.alias(MODEL, PRODUCTION) is None


def test_a_version_never_held_or_judged_against_an_old_production_is_refused(
    root: str, penguins_bundle: Path, evaluation_dir: Path, tmp_path: Path
) -> None:
    registry = Registry(root)
    waiting = _candidate(root, penguins_bundle, evaluation_dir, "run-1")
    _deploy(root, waiting, tmp_path / "models")
    automatic = _candidate(root, penguins_bundle, evaluation_dir, "run-2")
    assert _deploy(root, automatic, tmp_path / "models", approval="auto").deployed
    with pytest.raises(ApprovalRefused, match="v2 is not waiting for approval"):
        approve(registry, MODEL, automatic, "Ada", "fine", "cli:test", **QUIET)
    # v1 was judged as a first model; v2 is production now: v1 was never compared with what it would replace.
    with pytest.raises(ApprovalRefused, match="evaluated against no production model, but production is now v2"):
        approve(registry, MODEL, waiting, "Ada", "fine", "cli:test", **QUIET)
    assert registry.alias(MODEL, PRODUCTION).number == automatic


def test_the_cli_refuses_promote_of_a_held_version_and_approves_it(
    held: tuple[Registry, int], tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    registry, version = held
    root = registry.root
    assert main(["models", "promote", MODEL, str(version), "--registry", root, "--reason", "ship it"]) == 2
    assert "is pending approval" in capsys.readouterr().err and registry.alias(MODEL, PRODUCTION) is None
    with pytest.raises(SystemExit):  # who decides is required
        main(["models", "approve", MODEL, str(version), "--registry", root, "--reason", "ship it"])
    assert "--by" in capsys.readouterr().err
    assert main(["models", "approve", MODEL, str(version), "--registry", root, "--by", "Ada", "--reason",
                 "read the card", "--model-repository", str(tmp_path / "elsewhere")]) == 0
    assert "approved by Ada and deployed: v1 is production" in capsys.readouterr().out
    assert (tmp_path / "elsewhere" / MODEL / FEATURE_SPEC_FILE).is_file()
    assert main(["models", "lineage", MODEL, "--served", "--registry", root]) == 0
    text = capsys.readouterr().out
    assert "penguins v1  (production: serving)" in text and "approval_granted by Ada: read the card" in text
