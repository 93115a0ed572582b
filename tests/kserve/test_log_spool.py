"""The prediction log's spool (kserve/loopline_predictor/log_spool.py): batches kept in order, written once."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "kserve"))

from loopline_predictor.log_spool import Spool  # noqa: E402

LOG = "gs://bucket/prediction-log"


def _batch(rows: int, tag: str) -> str:
    return "".join(f'{{"inference_id": "{tag}:{row}"}}\n' for row in range(rows))


def test_batches_drain_oldest_first_under_their_store_names_and_leave_the_spool(tmp_path: Path) -> None:
    spool = Spool(tmp_path, LOG)
    spool.put("penguins/2026-12-02/2026-12-02T101500.000+0000-b.jsonl", _batch(2, "late"))
    spool.put("penguins/2026-12-01/2026-12-01T235959.000+0000-a.jsonl", _batch(3, "early"))
    assert spool.rows == 5
    written: list[tuple[str, str]] = []
    assert spool.drain(lambda name, text: written.append((name, text))) == 5
    assert [name for name, _ in written] == ["penguins/2026-12-01/2026-12-01T235959.000+0000-a.jsonl",
                                             "penguins/2026-12-02/2026-12-02T101500.000+0000-b.jsonl"]
    assert written[0][1] == _batch(3, "early")
    assert spool.rows == 0 and spool.pending() == []


def test_a_failed_drain_keeps_the_failed_batch_and_every_later_one(tmp_path: Path) -> None:
    spool = Spool(tmp_path, LOG)
    for index in range(3):
        spool.put(f"penguins/2026-12-02/t{index}.jsonl", _batch(1, str(index)))
    written: list[str] = []

    def write(name: str, text: str) -> None:
        if name.endswith("t1.jsonl"):
            raise ConnectionError("store down")
        written.append(name)

    with pytest.raises(ConnectionError):
        spool.drain(write)
    assert written == ["penguins/2026-12-02/t0.jsonl"]
    assert [p.name for p in spool.pending()] == ["t1.jsonl", "t2.jsonl"] and spool.rows == 2


def test_a_new_spool_finds_what_an_earlier_one_kept_for_the_same_log_only(tmp_path: Path) -> None:
    Spool(tmp_path, LOG).put("penguins/2026-12-02/t.jsonl", _batch(4, "kept"))
    assert Spool(tmp_path, LOG).rows == 4
    assert Spool(tmp_path, "gs://bucket/another-log").pending() == []


def test_a_batch_still_being_written_is_not_read_back(tmp_path: Path) -> None:
    spool = Spool(tmp_path, LOG)
    partial = spool.folder / "penguins" / "2026-12-02" / ".spooling-x.jsonl"
    partial.parent.mkdir(parents=True)
    partial.write_text('{"inference_id": "half')
    assert spool.pending() == []
