"""Chain hashing, the canonical payload, and verify's verdict on every kind of tampering."""

from __future__ import annotations

import math
import sqlite3
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from stockade.audit import AuditEvent, SqliteAuditStore, verify_database
from stockade.audit.chain import GENESIS_HASH, event_hash
from stockade.audit.events import canonical_payload, format_ts, normalize_ts
from stockade.errors import StockadeError

BASE = ("0" * 64, 7, "2025-01-01T00:00:00.000000Z", "decision", "daemon", "s1", '{"a":1}')


def test_hash_is_hex_sha256_and_deterministic() -> None:
    digest = event_hash(*BASE)
    assert len(digest) == 64 and int(digest, 16) >= 0
    assert digest == event_hash(*BASE)


@pytest.mark.parametrize("index", range(len(BASE)))
def test_every_field_is_covered(index: int) -> None:
    changed: list[Any] = list(BASE)
    changed[index] = changed[index] + 1 if isinstance(changed[index], int) else changed[index] + "x"
    assert event_hash(*changed) != event_hash(*BASE)


def test_field_boundaries_are_unambiguous() -> None:
    prev, seq, ts, _, _, session, payload = BASE
    assert event_hash(prev, seq, ts, "ab", "c", session, payload) != event_hash(
        prev, seq, ts, "a", "bc", session, payload
    )
    no_session = event_hash(prev, seq, ts, "k", "a", None, payload)
    assert no_session != event_hash(prev, seq, ts, "k", "a", "", payload)
    assert no_session != event_hash(prev, seq, ts, "k", "a", "~", payload)


def test_canonical_payload_is_sorted_compact_utf8() -> None:
    assert canonical_payload({"b": 1, "a": {"d": [1, 2], "c": "é"}}) == (
        '{"a":{"c":"é","d":[1,2]},"b":1}'
    )


@pytest.mark.parametrize("bad", [math.nan, math.inf, -math.inf])
def test_canonical_payload_rejects_non_json_numbers(bad: float) -> None:
    with pytest.raises(ValueError):
        canonical_payload({"x": bad})


def test_canonical_payload_rejects_lone_surrogates() -> None:
    with pytest.raises(UnicodeEncodeError):
        canonical_payload({"x": "\ud800"})


def test_timestamps_are_fixed_width_utc() -> None:
    moment = datetime(2025, 3, 4, 5, 6, 7, tzinfo=UTC)
    assert format_ts(moment) == "2025-03-04T05:06:07.000000Z"
    assert format_ts(moment.replace(tzinfo=None)) == format_ts(moment)  # naive is taken as UTC
    assert normalize_ts("2025-03-04T07:06:07+02:00") == "2025-03-04T05:06:07.000000Z"
    assert normalize_ts("2025-03-04T05:06:07Z") == "2025-03-04T05:06:07.000000Z"
    with pytest.raises(ValueError):
        normalize_ts("yesterday")


# -- verify --------------------------------------------------------------------------


def _ticking_clock() -> Iterator[datetime]:
    moment = datetime(2025, 1, 1, tzinfo=UTC)
    while True:
        yield moment
        moment += timedelta(days=1)


def make_log(path: Path, count: int) -> Path:
    ticks = _ticking_clock()
    store = SqliteAuditStore(path, clock=lambda: next(ticks))
    store.open()
    for i in range(count):
        session = None if i % 3 == 0 else f"s{i % 2}"
        store.append_blocking(AuditEvent("decision", "daemon", session, {"i": i, "x": "é"}))
    store.close()
    return path


@pytest.fixture
def log(tmp_path: Path) -> Path:
    return make_log(tmp_path / "audit.db", 6)


def tamper(path: Path, *statements: str) -> None:
    with sqlite3.connect(path) as conn:
        for sql in statements:
            conn.execute(sql)


def test_empty_log_verifies(tmp_path: Path) -> None:
    report = verify_database(make_log(tmp_path / "audit.db", 0))
    assert report.ok and report.checked == 0 and report.head.hash == GENESIS_HASH


def test_intact_log_verifies(log: Path) -> None:
    report = verify_database(log)
    assert (report.ok, report.checked, report.first_bad_seq, report.head.seq) == (True, 6, None, 6)
    assert report.to_json()["head"] == {"seq": 6, "hash": report.head.hash}


@pytest.mark.parametrize(
    "edit",
    [
        'UPDATE events SET payload = \'{"i":99,"x":"é"}\' WHERE seq = 3',
        "UPDATE events SET kind = 'daemon.started' WHERE seq = 3",
        "UPDATE events SET ts = '2020-01-01T00:00:00.000000Z' WHERE seq = 3",
        "UPDATE events SET actor = 'cli' WHERE seq = 3",
        "UPDATE events SET session = 'other' WHERE seq = 3",
        "UPDATE events SET hash = replace(hash, substr(hash, 1, 1), 'f') WHERE seq = 3",
        "UPDATE events SET prev_hash = '" + "1" * 64 + "' WHERE seq = 3",
    ],
    ids=["payload", "kind", "ts", "actor", "session", "hash", "prev_hash"],
)
def test_edited_field_is_found(log: Path, edit: str) -> None:
    tamper(log, edit)
    report = verify_database(log)
    assert (report.ok, report.first_bad_seq, report.checked) == (False, 3, 2)
    assert report.problem is not None and "3" in report.problem


def test_deleted_middle_event_is_found(log: Path) -> None:
    tamper(log, "DELETE FROM events WHERE seq = 3")
    report = verify_database(log)
    assert (report.ok, report.first_bad_seq) == (False, 3)
    assert report.problem == "events 3..3 are missing"


def test_inserted_event_is_found(log: Path) -> None:
    """A forged event with a correct hash, the rest renumbered: the next link breaks."""
    with sqlite3.connect(log) as conn:
        conn.execute("UPDATE events SET seq = -seq WHERE seq >= 3")
        conn.execute("UPDATE events SET seq = 1 - seq WHERE seq < 0")
        (prev,) = conn.execute("SELECT hash FROM events WHERE seq = 2").fetchone()
        ts, payload = "2025-01-02T12:00:00.000000Z", '{"forged":true}'
        digest = event_hash(prev, 3, ts, "decision", "daemon", None, payload)
        conn.execute(
            "INSERT INTO events VALUES (3, ?, 'decision', 'daemon', NULL, ?, ?, ?)",
            (ts, payload, prev, digest),
        )
    report = verify_database(log)
    assert (report.ok, report.first_bad_seq, report.checked) == (False, 4, 3)
    assert report.problem is not None and "does not link" in report.problem


def test_swapped_events_are_found(log: Path) -> None:
    tamper(
        log,
        "CREATE TEMP TABLE t AS SELECT * FROM events WHERE seq IN (3, 4)",
        "UPDATE events SET (ts, kind, actor, session, payload, prev_hash, hash) = "
        "(SELECT ts, kind, actor, session, payload, prev_hash, hash FROM t "
        "WHERE t.seq = 7 - events.seq) WHERE seq IN (3, 4)",
    )
    report = verify_database(log)
    assert (report.ok, report.first_bad_seq) == (False, 3)


def test_prefix_deleted_without_purge_is_found(log: Path) -> None:
    tamper(log, "DELETE FROM events WHERE seq <= 2")
    report = verify_database(log)
    assert (report.ok, report.first_bad_seq, report.checked) == (False, 1, 0)
    assert report.problem == "events 1..2 are missing (no purge recorded)"


def _purge(path: Path, before: str) -> None:
    store = SqliteAuditStore(path)
    store.open()
    store.purge_before(before)
    store.close()


def test_purged_log_verifies(log: Path) -> None:
    _purge(log, "2025-01-03T12:00:00Z")  # events 1..3 are older
    report = verify_database(log)
    assert (report.ok, report.checked, report.head.seq) == (True, 4, 7)


def test_prefix_deleted_after_a_purge_is_found(log: Path) -> None:
    _purge(log, "2025-01-03T12:00:00Z")
    tamper(log, "DELETE FROM events WHERE seq = 4")
    report = verify_database(log)
    assert (report.ok, report.first_bad_seq) == (False, 4)
    assert report.problem == "events 4..4 are missing (the log starts at 4)"


def test_moved_base_without_purge_event_is_found(log: Path) -> None:
    """Deleting a prefix and rewriting meta to match is caught by the purge record."""
    tamper(
        log,
        "DELETE FROM events WHERE seq <= 2",
        "UPDATE meta SET value = '3' WHERE key = 'base_seq'",
        "UPDATE meta SET value = (SELECT prev_hash FROM events WHERE seq = 3) "
        "WHERE key = 'base_hash'",
    )
    report = verify_database(log)
    assert (report.ok, report.first_bad_seq, report.checked) == (False, 3, 4)
    assert report.problem is not None and "no audit.purged event" in report.problem


def test_progress_is_reported(tmp_path: Path) -> None:
    calls: list[tuple[int, int]] = []
    verify_database(make_log(tmp_path / "audit.db", 5), progress=lambda n, t: calls.append((n, t)))
    assert calls == [(5, 5)]


def test_missing_or_foreign_file_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(StockadeError, match="no audit log"):
        verify_database(tmp_path / "absent.db")
    other = tmp_path / "other.db"
    sqlite3.connect(other).close()
    with pytest.raises(StockadeError, match="not a Stockade audit log"):
        verify_database(other)
