"""The daemon: the Unix-socket HTTP API that agents' hooks ask before every tool call.

``lifecycle.serve`` is the entry point; ``pipeline`` is the data path; ``app`` the
routes; ``schemas`` and ``limits`` guard the edge; ``transport`` owns the socket.
Nothing is imported here, so that importing one module does not load the server.
"""
