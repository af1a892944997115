"""Agents and signed capability tokens: what a registered agent may do, and proof of it.

An agent registered with ``stockade agents add`` is *capability-restricted*: each of
its calls must be covered by one of its live grants, whatever the policy allows (and
a grant never lifts a policy deny or ask). A grant is a token signed by the daemon's
identity (``docs/adr/0007-capability-tokens.md``). The package reads in this order:

- :mod:`.grant`    what a capability is and its constraints (pure, validated);
- :mod:`.token`    the signed statement: encoding, signing, checking (pure);
- :mod:`.match`    whether an agent's grants cover a call (pure; the engine calls it);
- :mod:`.agents`   the registry of agents, ``$STOCKADE_HOME/agents.json``;
- :mod:`.files`    token files in ``$STOCKADE_HOME/caps/`` and the revocation list;
- :mod:`.ledger`   the agent and capability events of the audit log (read-only);
- :mod:`.book`     the daemon's live view: verified, cached tokens per agent;
- :mod:`.desk`     grant, revoke, add and remove agents, each audited (daemon side);
- :mod:`.routes`   the API routes under ``/api/v1/caps`` and ``/api/v1/agents``;
- :mod:`.reissue`  re-signing live tokens after a key rotation;
- :mod:`.drift`    the ``caps.tokens`` check of ``stockade verify``.
"""
