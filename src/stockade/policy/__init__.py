"""The decision engine: pure, synchronous, no I/O beyond the injected path resolver."""
