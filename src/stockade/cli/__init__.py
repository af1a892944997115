"""The ``stockade`` command line: one module per command group, a thin layer over the API.

Commands talk to the daemon through :class:`stockade.client.Client`; the few that must
work with the daemon stopped (``check``, ``policy show``, ``audit verify``, ``doctor``)
fall back to reading the home directly. ``main`` is the console-script entry point.
"""
