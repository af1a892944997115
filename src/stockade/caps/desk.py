"""Granting, revoking, adding and removing agents: the daemon's side, each change audited.

The order of the steps is chosen for a crash between them:

- **grant**: the ``cap.granted`` event is durable before the token file exists, so a
  file the log does not know about can only come from outside (the drift check says
  so), never from a grant that half happened;
- **revoke**: the id joins the in-memory revocation set and ``caps/revoked.json``
  first (it grants nothing from the next decision on), then the file is deleted, then
  ``cap.revoked`` is appended (should that fail, the revocation holds all the same);
- **remove an agent**: its live grants are revoked first, so that adding the name
  again later does not bring them back.

Mutations run one at a time (a module-level lock, as key rotation does).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from stockade.audit import AuditEvent, SqliteAuditStore
from stockade.audit.checkpoints import Signer
from stockade.caps.agents import Agent, check_agent_name, save_agents
from stockade.caps.book import CapabilityBook
from stockade.caps.files import delete_token, save_revoked, write_token
from stockade.caps.grant import Grant
from stockade.caps.ledger import (
    AGENT_ADDED,
    AGENT_REMOVED,
    GRANTED,
    REJECTED,
    REVOKED,
    read_ledger,
)
from stockade.caps.token import issue, new_token_id
from stockade.daemon.problems import ApiProblem

_changing = asyncio.Lock()


class CapsDesk:
    """The capability operations of one running daemon."""

    def __init__(
        self,
        book: CapabilityBook,
        store: SqliteAuditStore,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.home = book.home
        self.book = book
        self.store = store
        self.clock = clock

    async def add_agent(self, name: str, note: str | None, by: str) -> dict[str, Any]:
        try:
            check_agent_name(name)
        except ValueError as exc:
            raise ApiProblem(422, "invalid_request", str(exc)) from None
        async with _changing:
            agents = self.book.agents
            if name in agents:
                raise ApiProblem(409, "conflict", f"agent {name} is already registered")
            agent = Agent(name, _now(self.clock), by, note)
            seq = await self._append(AGENT_ADDED, by, {"agent": name, "note": note, "by": by})
            agents[name] = agent
            await asyncio.to_thread(save_agents, self.home, agents)
            self.book.set_agents(agents)
        return {"agent": agent.to_json(), "event_seq": seq}

    async def remove_agent(self, name: str, by: str) -> dict[str, Any]:
        async with _changing:
            agents = self.book.agents
            if name not in agents:
                raise _no_agent(name)
            revoked = [
                state.token.id
                for state in self.book.states()
                if state.token is not None
                and state.token.agent == name
                and state.token.id not in self.book.revoked
            ]
            for token_id in revoked:
                await self._revoke(token_id, name, by)
            payload = {"agent": name, "revoked": revoked, "by": by}
            seq = await self._append(AGENT_REMOVED, by, payload)
            del agents[name]
            await asyncio.to_thread(save_agents, self.home, agents)
            self.book.set_agents(agents)
        return {"removed": name, "revoked": revoked, "event_seq": seq}

    def agents(self) -> list[dict[str, Any]]:
        live: dict[str, int] = {}
        for state in self.book.states():
            if state.status == "live" and state.token is not None:
                live[state.token.agent] = live.get(state.token.agent, 0) + 1
        return [
            {**agent.to_json(), "live_grants": live.get(name, 0)}
            for name, agent in sorted(self.book.agents.items())
        ]

    async def grant(
        self, agent: str, grant: Grant, expires_at: datetime | None, by: str
    ) -> dict[str, Any]:
        key = self._key()
        async with _changing:
            if agent not in self.book.agents:
                raise _no_agent(agent)
            token = issue(
                key,
                token_id=new_token_id(),
                agent=agent,
                grant=grant,
                issued_at=self.clock(),
                expires_at=expires_at,
            )
            payload = {
                "cap_id": token.id,
                "agent": agent,
                "capability": grant.capability,
                "constraints": grant.constraints.to_json(),
                "issued_at": token.issued_at,
                "expires_at": token.expires_at,
                "key_fingerprint": token.key_fingerprint,
                "sha256": token.sha256,
                "by": by,
            }
            seq = await self._append(GRANTED, by, payload)
            await asyncio.to_thread(write_token, self.home, token)
            # The record as it is now: this grant, and the keyring (on a first start the key
            # is made after the book loaded).
            await asyncio.to_thread(self.book.refresh)
        return {"token": self.show(token.id), "event_seq": seq}

    async def revoke(self, token_id: str, by: str) -> dict[str, Any]:
        """Revoke a token on file, or one the log granted whose file is gone (drift repair)."""
        async with _changing:
            if token_id in self.book.revoked:
                raise ApiProblem(409, "conflict", f"token {token_id} is already revoked")
            try:
                agent = self._state(token_id).get("agent")
            except ApiProblem:
                ledger = await asyncio.to_thread(read_ledger, self.home.audit_path)
                granted = [e for e in ledger if e.kind == GRANTED and e.token_id == token_id]
                if not granted:
                    raise
                agent = granted[-1].payload.get("agent")
            seq = await self._revoke(token_id, agent, by)
        return {"revoked": token_id, "agent": agent, "event_seq": seq}

    def listing(self, agent: str | None = None) -> list[dict[str, Any]]:
        return [
            state.to_json()
            for state in self.book.states()
            if agent is None or (state.token is not None and state.token.agent == agent)
        ]

    def show(self, token_id: str) -> dict[str, Any]:
        return self._state(token_id)

    async def report_rejections(self) -> None:
        """Audit the tokens found to grant nothing since the last call (each once)."""
        for report in self.book.take_reports():
            await self._append(REJECTED, "daemon", report)

    async def _revoke(self, token_id: str, agent: str | None, by: str) -> int:
        self.book.revoke(token_id)  # from the next decision on
        await asyncio.to_thread(save_revoked, self.home, self.book.revoked)
        await asyncio.to_thread(delete_token, self.home, token_id)
        return await self._append(REVOKED, by, {"cap_id": token_id, "agent": agent, "by": by})

    def _state(self, token_id: str) -> dict[str, Any]:
        for state in self.book.states():
            if state.path.name == f"{token_id}.json":
                return state.to_json()
        raise ApiProblem(
            404, "not_found", f"no capability token {token_id[:40]!r}", "see `stockade caps list`"
        )

    def _key(self) -> Signer:
        signer = self.store.checkpointer
        if signer is None:
            raise ApiProblem(409, "conflict", "this daemon has no identity key to sign grants")
        return signer.signer

    async def _append(self, kind: str, actor: str, payload: dict[str, Any]) -> int:
        stored = await self.store.append(AuditEvent(kind, actor, None, payload))
        return int(stored.seq)


def _now(clock: Callable[[], datetime]) -> str:
    return clock().astimezone(UTC).isoformat(timespec="seconds")


def _no_agent(name: str) -> ApiProblem:
    return ApiProblem(
        404,
        "not_found",
        f"no agent {name[:70]!r} is registered",
        "add it with `stockade agents add NAME` (see `stockade agents list`)",
    )
