"""The model registry on a local folder and on gs:// (a real gcp-storage-emulator): versions, aliases, audit log."""

from __future__ import annotations

import json
import threading
import uuid
from pathlib import Path

import pytest

from components.errors import LooplineInputError
from components.lib import registry as reg
from components.lib import registry_audit as audit
from components.lib import uri as uri_io
from components.lib.registry import Registry
from components.lib.registry_records import RegistryError
from components.lib.registry_versions import COMPLETE_FILE

MODEL = "penguins"


def make_bundle(folder: Path, tag: str) -> Path:
    """A SavedModel-shaped bundle whose file contents carry `tag`, with an empty assets/ folder."""
    (folder / "variables").mkdir(parents=True)
    (folder / "assets").mkdir()
    (folder / "saved_model.pb").write_bytes(b"\x08\x01graph-" + tag.encode())
    (folder / "variables" / "variables.index").write_bytes(b"index-" + tag.encode())
    (folder / "variables" / "variables.data-00000-of-00001").write_bytes(bytes(range(256)) * 4 + tag.encode())
    (folder / "feature_spec.json").write_text(json.dumps({"features": ["bill_length_mm"], "tag": tag}))
    (folder / "metadata.json").write_text(json.dumps({"tag": tag}))
    return folder


def tree(folder: Path) -> dict[str, bytes | None]:
    """Every file (content) and folder (None) under a folder, by relative name."""
    return {p.relative_to(folder).as_posix(): (p.read_bytes() if p.is_file() else None)
            for p in sorted(folder.rglob("*"))}


@pytest.fixture()
def registry(tmp_path: Path) -> Registry:
    return Registry(str(tmp_path / "registry"))


@pytest.fixture()
def bundles(tmp_path: Path) -> list[Path]:
    return [make_bundle(tmp_path / f"bundle{i}", f"v{i}") for i in range(1, 4)]


def _info(accuracy: float) -> dict:
    return {"metrics": {"accuracy": accuracy}, "data_hash": "sha256:abc"}


def _fail_after_first_file(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Make the bundle copy raise after one file has been written (an interrupted registration)."""
    real, written = uri_io.upload_file, []

    def flaky(path: Path, target: str) -> None:
        if written:
            raise OSError("disk full (simulated)")
        real(path, target)
        written.append(target)

    monkeypatch.setattr(uri_io, "upload_file", flaky)
    return written


# --- versions -----------------------------------------------------------------------------------


def test_register_numbers_from_one_and_copies_the_tree(registry: Registry, bundles: list[Path]) -> None:
    made = [registry.register(MODEL, b, run=f"run-{i}", info=_info(0.9 + i / 100)) for i, b in enumerate(bundles)]

    assert [v.number for v in made] == [1, 2, 3]
    assert registry.versions(MODEL) == made
    second = registry.version(MODEL, 2)
    assert second.run == "run-1" and second.info == _info(0.91)
    assert second.uri == str(Path(registry.root) / MODEL / "versions" / "2")
    copied = tree(Path(second.uri))
    for name, content in tree(bundles[1]).items():
        assert copied[name] == content, name  # every file and folder (assets/ is empty) came across
    registration = json.loads(copied["registration.json"])
    assert (registration["version"], registration["run"], registration["info"]) == (2, "run-1", _info(0.91))
    assert {f["path"] for f in registration["files"]} == {n for n, c in tree(bundles[1]).items() if c is not None}
    assert "_COMPLETE" in copied and "_CLAIM" in copied
    assert registry.models() == [MODEL]


def test_versions_are_immutable(registry: Registry, bundles: list[Path]) -> None:
    first = registry.register(MODEL, bundles[0], run="r1", info={})
    original = tree(Path(first.uri))
    (bundles[0] / "saved_model.pb").write_bytes(b"retrained")  # the same folder, new content
    second = registry.register(MODEL, bundles[0], run="r2", info={})

    assert second.number == 2
    assert tree(Path(first.uri)) == original
    assert (Path(second.uri) / "saved_model.pb").read_bytes() == b"retrained"
    assert registry.version(MODEL, 1) == first


@pytest.mark.parametrize("step", ["copy", "marker"])
def test_interrupted_write_leaves_no_visible_version(registry: Registry, bundles: list[Path],
                                                     monkeypatch: pytest.MonkeyPatch, step: str) -> None:
    registry.register(MODEL, bundles[0], run="good", info={})
    if step == "copy":
        written = _fail_after_first_file(monkeypatch)
    else:
        real_write = uri_io.write_text

        def no_marker(target: str, text: str) -> None:
            if target.endswith(COMPLETE_FILE):
                raise KeyboardInterrupt  # killed just before publishing
            real_write(target, text)

        monkeypatch.setattr(uri_io, "write_text", no_marker)

    with pytest.raises(OSError if step == "copy" else KeyboardInterrupt):
        registry.register(MODEL, bundles[1], run="broken", info={})
    monkeypatch.undo()

    if step == "copy":
        assert len(written) == 1
    assert [v.number for v in registry.versions(MODEL)] == [1]
    with pytest.raises(RegistryError, match=r"version 2 of model 'penguins' is incomplete"):
        registry.version(MODEL, 2)
    assert sorted(p.name for p in (Path(registry.root) / MODEL / "versions" / "2").iterdir()) == ["_CLAIM"]
    assert [(e.event, e.version) for e in registry.events(MODEL)] == [("registered", 1)]
    third = registry.register(MODEL, bundles[2], run="retry", info={})
    assert third.number == 3  # the burnt number is never reused
    assert [v.number for v in registry.versions(MODEL)] == [1, 3]


def test_claimed_but_incomplete_version_is_invisible(registry: Registry, bundles: list[Path]) -> None:
    registry.register(MODEL, bundles[0], run="r1", info={})
    crashed = Path(registry.root) / MODEL / "versions" / "2"  # a registration killed mid-copy: no cleanup ran
    crashed.mkdir()
    (crashed / "_CLAIM").write_text("{}")
    (crashed / "saved_model.pb").write_bytes(b"half")
    (crashed / "registration.json").write_text(json.dumps({"model": MODEL, "version": 2, "time": "t", "run": "x"}))

    assert [v.number for v in registry.versions(MODEL)] == [1]
    with pytest.raises(RegistryError, match="incomplete"):
        registry.promote(MODEL, 2, run="r", reason="try")
    with pytest.raises(RegistryError, match="incomplete"):
        registry.download(MODEL, 2, Path(registry.root).parent / "dl")
    assert registry.alias(MODEL, reg.PRODUCTION) is None
    assert registry.register(MODEL, bundles[1], run="r3", info={}).number == 3
    assert (crashed / "saved_model.pb").read_bytes() == b"half"  # never overwritten


def test_concurrent_registrations_get_distinct_numbers(registry: Registry, tmp_path: Path,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    count = 8
    sources = [make_bundle(tmp_path / f"c{i}", f"thread-{i}") for i in range(count)]
    listed, results, errors, lost_claims = threading.Barrier(count), {}, [], []
    real_list, real_claim = Registry._claimed_numbers, Registry._try_claim

    def list_then_wait(self: Registry, model_uri: str) -> list[int]:
        numbers = real_list(self, model_uri)
        listed.wait(timeout=30)  # every thread has listed before any claims: all start at the same number
        return numbers

    def counting_claim(self: Registry, version_uri: str, claim: bytes) -> bool:
        won = real_claim(self, version_uri, claim)
        if not won:
            lost_claims.append(version_uri)
        return won

    monkeypatch.setattr(Registry, "_claimed_numbers", list_then_wait)
    monkeypatch.setattr(Registry, "_try_claim", counting_claim)

    def worker(i: int) -> None:
        try:
            results[i] = registry.register(MODEL, sources[i], run=f"thread-{i}", info={"i": i})
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(count)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)

    monkeypatch.undo()

    assert errors == []
    assert lost_claims  # the threads really collided on the same numbers
    assert sorted(v.number for v in results.values()) == list(range(1, count + 1))
    for i, version in results.items():  # each number holds the files of the thread that claimed it
        assert json.loads((Path(version.uri) / "metadata.json").read_text()) == {"tag": f"thread-{i}"}
        assert registry.version(MODEL, version.number).run == f"thread-{i}"


def test_a_stale_listing_cannot_reuse_a_claimed_number(registry: Registry, bundles: list[Path],
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    registry.register(MODEL, bundles[0], run="r1", info={})
    registry.register(MODEL, bundles[1], run="r2", info={})
    # Another registrar listed the folder before these two claimed: it starts at 1 and must skip.
    monkeypatch.setattr(Registry, "_claimed_numbers", lambda self, model_uri: [])
    third = registry.register(MODEL, bundles[2], run="late", info={})
    monkeypatch.undo()

    assert third.number == 3
    assert [v.run for v in registry.versions(MODEL)] == ["r1", "r2", "late"]


@pytest.mark.parametrize("bad", ["Penguins", "../etc", "", "a/b", "-x", ".hidden", "a" * 64, "pen guins"])
def test_bad_model_names_are_refused(registry: Registry, bundles: list[Path], bad: str) -> None:
    with pytest.raises(LooplineInputError, match="invalid model name") as caught:
        registry.register(bad, bundles[0], run="r", info={})
    assert repr(bad) in str(caught.value)
    assert isinstance(caught.value, ValueError)
    with pytest.raises(RegistryError, match="invalid model name"):
        registry.versions(bad)
    assert not Path(registry.root).exists()  # nothing written, nothing claimed


def test_bad_bundles_and_info_are_refused_before_claiming(registry: Registry, bundles: list[Path],
                                                          tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    with pytest.raises(RegistryError, match="bundle folder not found"):
        registry.register(MODEL, tmp_path / "nope", run="r", info={})
    with pytest.raises(RegistryError, match="has no files"):
        registry.register(MODEL, tmp_path / "empty", run="r", info={})
    (bundles[0] / "_COMPLETE").write_text("forged")
    with pytest.raises(RegistryError, match="_COMPLETE"):
        registry.register(MODEL, bundles[0], run="r", info={})
    with pytest.raises(RegistryError, match="JSON-serialisable"):
        registry.register(MODEL, bundles[1], run="r", info={"when": object()})
    with pytest.raises(RegistryError, match="invalid alias name 'Prod!'"):
        registry.alias(MODEL, "Prod!")
    assert registry.register(MODEL, bundles[1], run="r", info={}).number == 1


def test_unknown_version_error_names_model_and_number(registry: Registry, bundles: list[Path]) -> None:
    registry.register(MODEL, bundles[0], run="r", info={})
    with pytest.raises(RegistryError, match=r"model 'penguins' has no version 7 \(its versions: 1\)"):
        registry.version(MODEL, 7)
    with pytest.raises(RegistryError, match=r"model 'other' has no version 1 \(it has no versions\)"):
        registry.version("other", 1)
    with pytest.raises(RegistryError, match="invalid version 0"):
        registry.version(MODEL, 0)


# --- aliases ------------------------------------------------------------------------------------


def _numbers(registry: Registry) -> tuple[int | None, int | None]:
    production, previous = registry.alias(MODEL, reg.PRODUCTION), registry.alias(MODEL, reg.PREVIOUS)
    return (production and production.number, previous and previous.number)


def test_promote_and_rollback_walk_back_without_ping_pong(registry: Registry, bundles: list[Path]) -> None:
    for b in bundles:
        registry.register(MODEL, b, run="train", info={})
    with pytest.raises(RegistryError, match="no production version to roll back from"):
        registry.rollback(MODEL, run="ops", reason="nothing deployed")

    registry.promote(MODEL, 1, run="ops", reason="first")
    assert _numbers(registry) == (1, None)
    with pytest.raises(RegistryError, match=r"no previous version to roll back to \(production is version 1\)"):
        registry.rollback(MODEL, run="ops", reason="too early")
    registry.promote(MODEL, 2, run="ops", reason="better")
    registry.promote(MODEL, 3, run="ops", reason="best")
    assert _numbers(registry) == (3, 2)

    assert registry.rollback(MODEL, run="ops", reason="3 misbehaves").number == 2
    assert _numbers(registry) == (2, 1)
    assert registry.rollback(MODEL, run="ops", reason="2 misbehaves too").number == 1  # not back to 3
    assert _numbers(registry) == (1, None)
    with pytest.raises(RegistryError, match="no previous version to roll back to"):
        registry.rollback(MODEL, run="ops", reason="again")
    assert _numbers(registry) == (1, None)

    registry.promote(MODEL, 3, run="ops", reason="fixed config")  # rolled-back-from versions left the history
    assert _numbers(registry) == (3, 1)
    production = registry.aliases(MODEL)[reg.PRODUCTION]
    assert (production["version"], production["run"], production["reason"], production["history"]) == (
        3, "ops", "fixed config", [1])


def test_promote_refuses_unknown_versions_and_blank_reasons(registry: Registry, bundles: list[Path]) -> None:
    registry.register(MODEL, bundles[0], run="train", info={})
    registry.promote(MODEL, 1, run="ops", reason="first")
    with pytest.raises(RegistryError, match=r"model 'penguins' has no version 9"):
        registry.promote(MODEL, 9, run="ops", reason="typo")
    with pytest.raises(RegistryError, match="needs a reason"):
        registry.promote(MODEL, 1, run="ops", reason="  ")
    assert _numbers(registry) == (1, None)

    registry.promote(MODEL, 1, run="ops", reason="again")  # already production: no alias change, still audited
    assert _numbers(registry) == (1, None)
    last = registry.events(MODEL)[-1]
    assert (last.event, last.version, last.reason, last.details) == ("promoted", 1, "again",
                                                                     {"previous": None, "unchanged": True})


# --- audit log ----------------------------------------------------------------------------------


def test_audit_log_is_append_only_and_ordered(registry: Registry, bundles: list[Path]) -> None:
    registry.register(MODEL, bundles[0], run="train-1", info={})
    registry.record(MODEL, audit.EVALUATED, 1, run="train-1", reason="eval set", details={"accuracy": 0.97})
    registry.record(MODEL, audit.APPROVED, 1, run="train-1", reason="beats production by 0.02")
    registry.promote(MODEL, 1, run="train-1", reason="approved")
    registry.record(MODEL, audit.DEPLOYED, 1, run="train-1", reason="kserve", details={"endpoint": "http://x"})
    registry.register(MODEL, bundles[1], run="train-2", info={})
    registry.record(MODEL, audit.REJECTED, 2, run="train-2", reason="accuracy 0.80 < 0.97")
    registry.record(MODEL, audit.SKIPPED, 2, run="train-2", reason="not approved")

    events = Registry(registry.root).events(MODEL)  # a fresh instance reads the same log
    assert [(e.event, e.version, e.run) for e in events] == [
        ("registered", 1, "train-1"), ("evaluated", 1, "train-1"), ("approved", 1, "train-1"),
        ("promoted", 1, "train-1"), ("deployed", 1, "train-1"), ("registered", 2, "train-2"),
        ("rejected", 2, "train-2"), ("skipped", 2, "train-2")]
    assert events[1].details == {"accuracy": 0.97} and events[6].reason == "accuracy 0.80 < 0.97"
    assert [e.time for e in events] == sorted(e.time for e in events)
    assert len({e.time for e in events}) == len(events)
    files = sorted((Path(registry.root) / MODEL / "audit").iterdir())
    assert len(files) == len(events)  # one immutable file per event
    assert json.loads(files[0].read_text())["event"] == "registered"

    with pytest.raises(RegistryError, match="unknown event 'blessed'"):
        registry.record(MODEL, "blessed", 1, run="r", reason="x")
    with pytest.raises(RegistryError, match="no version 5"):
        registry.record(MODEL, audit.DEPLOYED, 5, run="r", reason="x")
    assert len(registry.events(MODEL)) == len(events)


# --- download -----------------------------------------------------------------------------------


def test_download_round_trips_the_files(registry: Registry, bundles: list[Path], tmp_path: Path) -> None:
    registry.register(MODEL, bundles[0], run="r", info={})
    registry.register(MODEL, bundles[1], run="r", info={"k": 1})
    dest = registry.download(MODEL, 2, tmp_path / "dl" / "model")

    got = tree(dest)
    assert json.loads(got.pop("registration.json"))["info"] == {"k": 1}
    assert got == tree(bundles[1])
    with pytest.raises(RegistryError, match="not an empty folder"):
        registry.download(MODEL, 1, dest)
    assert tree(dest)["metadata.json"] == b'{"tag": "v2"}'


# --- gs:// ----------------------------------------------------------------------------------------


@pytest.fixture()
def gcs_registry(gcs_bucket: str) -> Registry:
    return Registry(f"gs://{gcs_bucket}/registry-{uuid.uuid4().hex[:8]}/")


@pytest.mark.gcs
def test_gcs_register_promote_rollback_download(gcs_registry: Registry, bundles: list[Path],
                                                tmp_path: Path) -> None:
    made = [gcs_registry.register(MODEL, b, run=f"run-{i}", info=_info(0.9)) for i, b in enumerate(bundles)]

    assert [v.number for v in made] == [1, 2, 3]
    assert made[1].uri == f"{gcs_registry.root}/{MODEL}/versions/2"
    assert gcs_registry.versions(MODEL) == made
    assert gcs_registry.models() == [MODEL]
    stored = uri_io.list_files(made[1].uri, recursive=True)
    assert stored == sorted(["_CLAIM", "_COMPLETE", "registration.json", "feature_spec.json", "metadata.json",
                             "saved_model.pb", "variables/variables.data-00000-of-00001",
                             "variables/variables.index"])

    gcs_registry.promote(MODEL, 2, run="ops", reason="first")
    gcs_registry.promote(MODEL, 3, run="ops", reason="second")
    assert gcs_registry.rollback(MODEL, run="ops", reason="bad").number == 2
    assert gcs_registry.alias(MODEL, reg.PREVIOUS) is None
    assert sorted(gcs_registry.aliases(MODEL)) == [reg.PRODUCTION]
    assert [e.event for e in gcs_registry.events(MODEL)] == ["registered"] * 3 + ["promoted"] * 2 + ["rolled_back"]

    dest = gcs_registry.download(MODEL, 2, tmp_path / "from-gcs")
    got = tree(dest)
    del got["registration.json"]
    assert got == tree(bundles[1])  # including the empty assets/ folder, which GCS cannot hold


@pytest.mark.gcs
def test_gcs_interrupted_write_and_taken_numbers(gcs_registry: Registry, bundles: list[Path],
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    gcs_registry.register(MODEL, bundles[0], run="good", info={})
    _fail_after_first_file(monkeypatch)
    with pytest.raises(OSError, match="simulated"):
        gcs_registry.register(MODEL, bundles[1], run="broken", info={})
    monkeypatch.undo()

    assert [v.number for v in gcs_registry.versions(MODEL)] == [1]
    assert uri_io.list_files(f"{gcs_registry.root}/{MODEL}/versions/2", recursive=True) == ["_CLAIM"]
    with pytest.raises(RegistryError, match="version 2 of model 'penguins' is incomplete"):
        gcs_registry.version(MODEL, 2)
    # A claim another registrar holds (listing was stale): skipped, not overwritten.
    uri_io.write_text(f"{gcs_registry.root}/{MODEL}/versions/3/_CLAIM", "someone else")
    monkeypatch.setattr(Registry, "_claimed_numbers", lambda self, model_uri: [1])
    assert gcs_registry.register(MODEL, bundles[2], run="retry", info={}).number == 4
    monkeypatch.undo()
    assert uri_io.read_text(f"{gcs_registry.root}/{MODEL}/versions/3/_CLAIM") == "someone else"
    assert [v.number for v in gcs_registry.versions(MODEL)] == [1, 4]


@pytest.mark.gcs
def test_gcs_create_if_absent_never_overwrites(gcs_bucket: str) -> None:
    target = f"gs://{gcs_bucket}/create-{uuid.uuid4().hex[:8]}/marker"
    assert uri_io.create_if_absent(target, b"first") is True
    assert uri_io.create_if_absent(target, b"second") is False
    assert uri_io.read_bytes(target) == b"first"
    assert uri_io.read_bytes_if_exists(target + "-absent") is None
