"""Racing writers on one registry, each its own process, locally and on gs:// (the emulator, with GCS's upload
preconditions): registrations get distinct versions and an intact audit log; promotions and rollbacks take
turns, so the aliases and the audit log agree afterwards."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections import Counter
from datetime import timedelta
from pathlib import Path

import pytest

from components import keys
from components.lib import registry_audit as audit
from components.lib import uri as uri_io
from components.lib.registry import ALIASES_DIR, PREVIOUS, PRODUCTION, Registry
from components.lib.registry_lock import LOCK_FILE, STALE_SECONDS, locked
from components.lib.registry_records import RegistryError, iso, now
from loopline import paths
from support.gcs_emulator import local_or_gcs_root

MODEL = "racing"
RACER = paths.ROOT / "tests" / "support" / "registry_race.py"


@pytest.fixture(params=["local", "gcs"])
def root(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A fresh registry root: a local folder, or a fresh prefix in the session emulator's bucket."""
    return local_or_gcs_root(request, tmp_path / "registry", "races")


@pytest.fixture
def evaluation(tmp_path: Path) -> Path:
    """An evaluate step's output folder, as register reads it."""
    folder = tmp_path / "evaluation"
    folder.mkdir()
    (folder / keys.EVALUATION_FILE).write_text(json.dumps({
        "candidate": {"accuracy": 0.95}, "production_version": None,
        "decision": {"approved": True, "reason": "first model"}}))
    return folder


def _race(root: str, roles: list[tuple[str, int]], count: int, *files: Path) -> list[dict]:
    """Start one process per (role, seed), all released at one moment; what each did."""
    start_at = time.time() + 6.0  # after every racer has imported (about 2 s each on 2 cores)
    procs = [subprocess.Popen([sys.executable, str(RACER), root, MODEL, role, str(count), str(start_at), str(seed),
                               *map(str, files)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                              env={**os.environ, "PYTHONPATH": str(paths.ROOT)}) for role, seed in roles]
    results = []
    for proc in procs:
        out, err = proc.communicate(timeout=300)
        assert proc.returncode == 0, err[-3000:]
        results.append(json.loads(out.strip().splitlines()[-1]))
    return results


def test_racing_registrations_get_distinct_versions_and_an_intact_audit_log(
        root: str, penguins_bundle: Path, evaluation: Path) -> None:
    count, racers = 3, 3
    results = _race(root, [("register", seed) for seed in range(racers)], count, penguins_bundle, evaluation)

    numbers = sorted(n for r in results for n in r["versions"])
    assert numbers == list(range(1, count * racers + 1))
    registry = Registry(root)
    versions = registry.versions(MODEL)
    assert [v.number for v in versions] == numbers
    for version in versions:  # each number holds what its own run registered, whole
        assert version.run.startswith("register-")
        assert sorted(uri_io.list_files(version.uri, recursive=True)) == sorted(
            [*(f["path"] for f in registry.registration(MODEL, version.number)["files"]), "registration.json",
             "_CLAIM", "_COMPLETE"])
    events = registry.events(MODEL)
    per_version = Counter((e.version, e.event) for e in events)
    assert per_version == Counter({(n, event): 1 for n in numbers
                                   for event in (audit.REGISTERED, audit.EVALUATED, audit.APPROVED)})
    runs = {v.number: v.run for v in versions}
    assert all(e.run == runs[e.version] for e in events)


def _check_alias_chain(registry: Registry) -> int:
    """Every promotion and rollback, in audit order, started from the production the one before left; the
    aliases hold what the last one did. The number of alias events."""
    production = None
    changes = [e for e in registry.events(MODEL) if e.event in (audit.PROMOTED, audit.ROLLED_BACK)]
    for event in changes:
        if event.event == audit.ROLLED_BACK:
            assert event.details["from"] == production, event
        elif event.details.get("unchanged"):
            assert event.version == production, event
        else:
            assert event.details["previous"] == production, event
        production = event.version
    aliases = registry.aliases(MODEL)
    assert aliases[PRODUCTION]["version"] == production
    history = aliases[PRODUCTION]["history"]
    assert aliases.get(PREVIOUS, {}).get("version") == (history[0] if history else None)
    assert production not in history and len(set(history)) == len(history)
    return len(changes)


def test_racing_promotions_and_rollbacks_leave_consistent_aliases(root: str, tmp_path: Path) -> None:
    registry = Registry(root)
    for i in range(4):
        bundle = tmp_path / f"bundle-{i}"
        bundle.mkdir()
        (bundle / "weights.bin").write_bytes(bytes([i]) * 64)
        registry.register(MODEL, bundle, run=f"setup-{i}", info={})
    for number in (1, 2, 3):
        registry.promote(MODEL, number, run="setup", reason="setup")

    count = 8
    results = _race(root, [("promote", 1), ("promote", 2), ("rollback", 3)], count)

    assert sum(len(r["versions"]) + r["refused"] for r in results) == 3 * count
    assert _check_alias_chain(registry) == 3 + sum(len(r["versions"]) for r in results)
    assert not uri_io.exists(uri_io.join(registry.root, MODEL, ALIASES_DIR, LOCK_FILE))


def test_a_held_lock_makes_the_other_wait_then_fail_naming_the_holder(tmp_path: Path) -> None:
    lock = str(tmp_path / LOCK_FILE)
    with locked(lock, "run-a", "the aliases of model 'm'"):
        with pytest.raises(RegistryError, match=r"the aliases of model 'm' are locked by run 'run-a' \(0 s ago\)"):
            with locked(lock, "run-b", "the aliases of model 'm'", wait_seconds=0.3):
                pass
    assert not Path(lock).exists()
    with locked(lock, "run-b", "the aliases of model 'm'", wait_seconds=0.3):  # released: free again
        assert json.loads(Path(lock).read_text())["run"] == "run-b"


def test_a_lock_left_by_a_dead_process_is_broken_once_stale(tmp_path: Path) -> None:
    lock = tmp_path / LOCK_FILE
    lock.write_text(json.dumps({"run": "died", "time": iso(now() - timedelta(seconds=STALE_SECONDS + 1))}))
    with locked(str(lock), "run-c", "the aliases of model 'm'", wait_seconds=5):
        assert json.loads(lock.read_text())["run"] == "run-c"
    assert not lock.exists()
