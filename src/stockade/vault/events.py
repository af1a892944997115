"""The audit events of the vault: names and metadata, never a value or a key.

=====================  ==========================================================
kind                   payload
=====================  ==========================================================
``secret.added``       ``name``, ``replaced`` (bool), ``by``
``secret.removed``     ``name``, ``by``
``secret.key_rotated`` ``old_key_id``, ``new_key_id`` (keyed fingerprints, not
                       keys), ``secrets`` (count), ``source``, ``by``
``secret.resolved``    ``handles`` (``secret://NAME``), ``vars`` they went into,
                       ``for`` (who gets the values), ``why``
=====================  ==========================================================

The actor is who asked (``cli``, ``api``) or, for a resolution, ``for``.
"""

from __future__ import annotations

from stockade.audit import AuditEvent


def added(name: str, replaced: bool, by: str) -> AuditEvent:
    return AuditEvent("secret.added", by, None, {"name": name, "replaced": replaced, "by": by})


def removed(name: str, by: str) -> AuditEvent:
    return AuditEvent("secret.removed", by, None, {"name": name, "by": by})


def key_rotated(old: str | None, new: str, count: int, source: str, by: str) -> AuditEvent:
    payload = {"old_key_id": old, "new_key_id": new, "secrets": count, "source": source, "by": by}
    return AuditEvent("secret.key_rotated", by, None, payload)


def resolved(handles: list[str], variables: list[str], for_whom: str, why: str) -> AuditEvent:
    payload = {"handles": handles, "vars": variables, "for": for_whom, "why": why}
    return AuditEvent("secret.resolved", for_whom, None, payload)
