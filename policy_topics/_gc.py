"""Pausing Python's cyclic garbage collector while long-lived objects are built.

CPython's cyclic collector makes a full pass over every object it tracks each
time the objects that survived its younger passes have grown by a quarter
(Python 3.11 to 3.13). Objects that live on (a compiled taxonomy, the records
a caller keeps in a list) make each of those passes longer, and the passes
free nothing: the code that makes records makes no reference cycles
(``tests/test_extract_many.py`` checks that a run leaves no cyclic garbage).
What the pause gains: the README's "Keeping results".

The collector's switch is one for the whole process. Pauses are counted: the
first records whether the collector was on and turns it off, the last turns
it back on if it was, so pauses in several threads, or nested, never leave it
off. While any pause lasts, every thread of the process runs without it. A
process forked during a pause (the workers of ``n_process > 1``) starts with
the collector as the caller had it.
"""

from __future__ import annotations

import gc
import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TypeVar

__all__ = ["caller_collects", "collector_paused", "each_made_paused"]

T = TypeVar("T")

_LOCK = threading.Lock()
_pauses = 0
_resume = False  # whether the collector was on when the first pause began


# No ``with _LOCK``: it makes a bound method, which the collector tracks, and
# making one while the collector is on can start the collection put off.
def _pause() -> None:
    global _pauses, _resume
    _LOCK.acquire()
    try:
        if _pauses == 0:
            _resume = gc.isenabled()
        _pauses += 1
        gc.disable()
    finally:
        _LOCK.release()


def _unpause() -> None:
    global _pauses
    _LOCK.acquire()
    try:
        if _pauses == 0:
            return  # begun before this process was forked (see _forked)
        _pauses -= 1
        if _pauses == 0 and _resume:
            gc.enable()
    finally:
        _LOCK.release()


def _forked() -> None:
    """After a fork during a pause (a pool's workers): no pause, the caller's collector."""
    global _LOCK, _pauses
    _LOCK = threading.Lock()  # another thread of the parent may have held it
    if _pauses:
        _pauses = 0
        if _resume:
            gc.enable()


if hasattr(os, "register_at_fork"):  # not on Windows, which cannot fork
    os.register_at_fork(after_in_child=_forked)


def caller_collects() -> bool:
    """Whether the collector is on outside the pauses: as the caller set it.

    Example:
        >>> with collector_paused():
        ...     caller_collects()
        True
    """
    _LOCK.acquire()
    try:
        return _resume if _pauses else gc.isenabled()
    finally:
        _LOCK.release()


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
    _pause()
    try:
        yield
    finally:
        _unpause()


def each_made_paused(items: Iterator[T]) -> Iterator[T]:
    """The items of ``items``, the cyclic collector paused while each is made.

    Between two items, while the caller's code runs, the collector is as the
    caller left it (unless another thread is in a pause). ``items`` runs
    paused, and so does whatever it reads.

    Args:
        items: The iterator whose items are made paused.

    Yields:
        Its items, one by one.

    Example:
        >>> import gc
        >>> def made():
        ...     yield gc.isenabled()
        >>> [(inside, gc.isenabled()) for inside in each_made_paused(made())]
        [(False, True)]
    """
    while True:
        _pause()
        try:
            item = next(items)
        except StopIteration:
            return
        finally:
            _unpause()
        yield item
