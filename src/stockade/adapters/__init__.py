"""Harness adapters: each harness's hook wire format in, its own answer format out.

Nothing here imports more than :mod:`json` and :mod:`stockade.errors`: the hook shim
loads an adapter on every tool call (see :mod:`stockade.adapters.base`).
"""

from stockade.adapters.base import ADAPTERS, ENDPOINTS, load_adapter

__all__ = ["ADAPTERS", "ENDPOINTS", "load_adapter"]
