"""Harness adapters: each harness's hook wire format in, its own answer format out.

Nothing here imports more than the standard library and :mod:`stockade.request`: the
hook shim loads an adapter on every tool call.
"""

from stockade.adapters.base import ADAPTERS, EventKind, HarnessAdapter, load_adapter

__all__ = ["ADAPTERS", "EventKind", "HarnessAdapter", "load_adapter"]
