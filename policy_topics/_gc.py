"""Pausing Python's cyclic garbage collector while long-lived objects are built."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager

__all__ = ["collector_paused"]


@contextmanager
def collector_paused() -> Iterator[None]:
    """Keep the cyclic garbage collector from running inside the block.

    Loading and compiling a taxonomy makes tens of thousands of objects that
    live as long as the taxonomy does: the collector's passes over them free
    nothing, and their cost grows with the taxonomy. Cycles made inside the
    block are collected after it, as usual. A collector that was already off
    stays off.

    Example:
        >>> import gc
        >>> with collector_paused():
        ...     gc.isenabled()
        False
        >>> gc.isenabled()
        True
    """
    collecting = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if collecting:
            gc.enable()
