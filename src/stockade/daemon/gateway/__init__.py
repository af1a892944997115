"""The TCP gateway: the socket's API (and the web UI) over HTTP(S), for browsers and remote tools.

The Unix socket trusts whoever can connect (the user); a TCP port is reachable by
every local process and every web page, so nothing on it is trusted by address:

    token.py      the secret (0600 file, constant-time compare, rotation)
    sessions.py   UI sessions behind an HttpOnly cookie
    lockout.py    failed-authentication rate limit per client address
    clients.py    the client address, believing forwarded headers from trusted proxies only
    allowlist.py  Host and Origin allowlists (DNS rebinding, CSRF)
    auth.py       token + sessions + lockout + the ``auth.*`` audit events
    guard.py      the ASGI middleware that applies all of the above to every request
    app.py        guard → API | login routes + UI;  the socket-only rotation route
    endpoint.py   ``HOST:PORT``, loopback or not, binding the socket
    tls.py        TLS files, and the refusal to serve off loopback without them
    protocol.py   uvicorn's HTTP protocol plus a read deadline (slowloris)
    plan.py       from ``[gateway]`` (and ``serve --http``) to what the daemon runs

See ``docs/adr/0005-tcp-gateway.md`` for why it is built this way.
"""
