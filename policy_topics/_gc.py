"""Pausing Python's cyclic garbage collector while long-lived objects are built.

Python's cyclic collector rescans every tracked object each time the heap has
grown by a quarter. Objects that live on (a compiled taxonomy, the records a
caller keeps in a list) make those passes ever longer, and they free nothing:
the code paused here makes no reference cycles (``tests/test_extract_many.py``
checks that a run leaves no cyclic garbage). The caller's own code runs with
the collector as it found it. What the pause gains: the README's "Keeping
results".
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TypeVar

__all__ = ["collector_paused", "each_made_paused"]

T = TypeVar("T")


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


def each_made_paused(items: Iterator[T]) -> Iterator[T]:
    """The items of ``items``, the cyclic collector paused while each is made.

    Between two items, while the caller's code runs, the collector is as the
    caller left it: on, unless it was off already. Pausing costs two calls
    per item, less than a ``with`` block.

    Example:
        >>> import gc
        >>> def made():
        ...     yield gc.isenabled()
        >>> [(inside, gc.isenabled()) for inside in each_made_paused(made())]
        [(False, True)]
    """
    while True:
        collecting = gc.isenabled()
        gc.disable()
        try:
            item = next(items)
        except StopIteration:
            return
        finally:
            if collecting:
                gc.enable()
        yield item
