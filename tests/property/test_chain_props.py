"""Any single-byte flip in any stored field of any log is caught, at the right seq."""

from __future__ import annotations

import sqlite3
import tempfile
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from stockade.audit import AuditEvent, SqliteAuditStore, verify_database

TEXT_FIELDS = ("ts", "kind", "actor", "session", "payload", "prev_hash", "hash")

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=4), inner),
    max_leaves=6,
)
events = st.builds(
    AuditEvent,
    kind=st.sampled_from(["decision", "prompt.screened", "daemon.started"]),
    actor=st.text(min_size=1, max_size=12),
    session=st.none() | st.text(max_size=12),
    payload=st.dictionaries(st.text(max_size=6), json_values, max_size=4),
)


def build(path: Path, log: list[AuditEvent]) -> None:
    store = SqliteAuditStore(path)
    store.open()
    for item in log:
        store.append_blocking(item)
    store.close()


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(log=st.lists(events, min_size=1, max_size=6), data=st.data())
def test_any_byte_flip_is_detected(log: list[AuditEvent], data: st.DataObject) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "audit.db"
        build(path, log)
        seq = data.draw(st.integers(1, len(log)), label="seq")
        field = data.draw(st.sampled_from(TEXT_FIELDS), label="field")
        with sqlite3.connect(path) as conn:
            (raw,) = conn.execute(
                f"SELECT CAST({field} AS BLOB) FROM events WHERE seq = ?",  # noqa: S608
                (seq,),
            ).fetchone()
            assume(raw)  # an absent or empty session has no byte to flip
            index = data.draw(st.integers(0, len(raw) - 1), label="index")
            mask = data.draw(st.integers(1, 255), label="mask")
            flipped = bytearray(raw)
            flipped[index] ^= mask
            conn.execute(
                f"UPDATE events SET {field} = CAST(? AS TEXT) WHERE seq = ?",  # noqa: S608
                (bytes(flipped), seq),
            )
        report = verify_database(path)
        assert not report.ok
        assert report.first_bad_seq == seq, report.problem
        assert report.checked == seq - 1


@settings(max_examples=30, deadline=None)
@given(count=st.integers(2, 6), data=st.data())
def test_moving_an_event_to_another_seq_is_detected(count: int, data: st.DataObject) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "audit.db"
        build(path, [AuditEvent("decision", "a", None, {"i": i}) for i in range(count)])
        seq = data.draw(st.integers(1, count), label="seq")
        target = data.draw(
            st.integers(-5, count + 5).filter(lambda s: not 1 <= s <= count), label="target"
        )
        with sqlite3.connect(path) as conn:
            conn.execute("UPDATE events SET seq = ? WHERE seq = ?", (target, seq))
        report = verify_database(path)
        assert not report.ok
        expected: Any = target if target < 1 else seq
        assert report.first_bad_seq == expected, report.problem
