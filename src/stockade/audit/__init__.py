"""The audit log: append-only, hash-chained, durable before a decision is answered."""

from stockade.audit.events import AuditEvent, ChainHead, StoredEvent
from stockade.audit.sqlite import PurgeResult, SqliteAuditStore
from stockade.audit.verify import VerifyReport, verify_database

__all__ = [
    "AuditEvent",
    "ChainHead",
    "PurgeResult",
    "SqliteAuditStore",
    "StoredEvent",
    "VerifyReport",
    "verify_database",
]
