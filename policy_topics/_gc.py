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
off. While any pause lasts, every thread of the process runs without it, and
a thread that turns the collector off meanwhile finds it on again when the
last pause ends. A process forked during a pause (the workers of a pool
started again after one died) starts with the collector as the caller had it.

A pause puts collections off; it never skips them. When the last pause ends,
the collector may start at once what came due meanwhile (see
:class:`_Tracked`), so cyclic garbage made by the caller's code, between
results or in a pause, is freed as it would be without the pauses.
"""

from __future__ import annotations

import gc
import os
import threading
from collections.abc import Callable, Generator, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

__all__ = [
    "caller_collects",
    "collector_paused",
    "each_made_paused",
    "loaded",
    "made_paused",
    "unpickled_as_found",
]

T = TypeVar("T")

# Re-entrant: were Ctrl-C to land just after the lock is taken, before the
# ``try`` that gives it back, the main thread (where signals land) could still
# pause again. Taken through bound methods made once: ``with _LOCK`` makes one
# each time, which the collector tracks, and making it while the collector is
# on can start the very collection the pause puts off.
_LOCK = threading.RLock()
_acquire, _release = _LOCK.acquire, _LOCK.release
_pauses = 0
_resume = False  # whether the collector was on when the first pause began


def _pause() -> None:
    global _pauses, _resume
    _acquire()
    try:
        if _pauses == 0:
            _resume = gc.isenabled()
        _pauses += 1
        gc.disable()
    finally:
        _release()


def _unpause() -> None:
    global _pauses
    with _LOCK:  # the collector is off here: making the bound method starts nothing
        if _pauses == 0:
            return  # begun before this process was forked, or never counted (see _pause)
        resumed = _pauses == 1 and _resume
        if resumed:
            gc.enable()  # before the count falls: a fork in between still sees a pause
        _pauses -= 1
        if resumed:
            # Again: from Python 3.12 a collection due may start right after the
            # first, and a finalizer it runs may pause and end its pause meanwhile.
            gc.enable()
    if resumed:
        _Tracked()  # see _Tracked


class _Tracked:
    """An object the collector tracks, made once the last pause ends.

    CPython starts a collection at an allocation, once the objects made since
    the last one, less those freed, outnumber its first threshold; objects
    made during a pause count too, but no collection starts then. Were the
    caller's code between two results to make no object of its own
    (``list(...)``, a loop that counts them), no collection would ever start
    again, and cyclic garbage (from the caller's input, say) would pile up for
    the whole run. Making one object lets the collector start what is due,
    as the caller's next object would, and decide which generations to
    collect by its own rules.
    """


def _forked() -> None:
    """After a fork during a pause (a pool's workers): no pause, the caller's collector."""
    global _LOCK, _acquire, _release, _pauses
    _LOCK = threading.RLock()  # another thread of the parent may have held it
    _acquire, _release = _LOCK.acquire, _LOCK.release
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
    with _LOCK:
        return _resume if _pauses else gc.isenabled()


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
    try:
        _pause()  # inside: an interrupt in it leaves no pause counted for ever
        yield
    finally:
        _unpause()


def made_paused(make: Callable[..., T], *args: Any) -> T:
    """``make(*args)``, the cyclic collector paused while it runs.

    Example:
        >>> import gc
        >>> made_paused(gc.isenabled), gc.isenabled()
        (False, True)
    """
    try:
        _pause()  # inside, as in collector_paused
        return make(*args)
    finally:
        _unpause()


def loaded(make: Callable[..., T], *args: Any) -> T:
    """``make(*args)`` for code that switches the collector itself, inside a pause.

    srsly's msgpack loader, with which spaCy reads its serialised data
    (``spacy.load``, ``from_bytes``), turns the collector off and then on,
    whatever it was, and leaves it off when it fails. Run in a counted pause
    and switched off again before the pause ends, it leaves the collector as
    the pauses decide: as the caller set it, or off while another thread's
    pause lasts.

    Example:
        >>> import gc
        >>> gc.disable()
        >>> loaded(gc.enable), gc.isenabled()
        (None, False)
        >>> gc.enable()
    """
    try:
        _pause()  # inside, as in collector_paused
        return make(*args)
    finally:
        gc.disable()  # still paused here: what the loader left does not count
        _unpause()


def each_made_paused(items: Iterator[T]) -> Generator[T, None, None]:
    """The items of ``items``, the cyclic collector paused while each is made; closes it at the end.

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
    try:
        while True:
            try:
                _pause()  # inside, as in collector_paused
                item = next(items)
            except StopIteration:
                return
            finally:
                _unpause()
            yield item
    finally:
        close = getattr(items, "close", None)
        if close is not None:  # a generator's own clean-up, before the caller's goes on
            close()


def unpickled_as_found(value: Any) -> Any:
    """``value``, wrapped so that unpickling it leaves the collector as it found it.

    A pickled spaCy ``Language`` is read back through srsly's msgpack loader,
    which turns the collector on whatever the caller had set. The wrapper
    pickles as a plain ``__reduce__`` (any pickler writes it, cloudpickle too):
    reading it back first notes whether the collector is on, then reads
    ``value``, then turns the collector off again if it was off.

    Example:
        >>> import gc, pickle
        >>> data = pickle.dumps(unpickled_as_found([1]))
        >>> gc.disable()
        >>> pickle.loads(data), gc.isenabled()
        ([1], False)
        >>> gc.enable()
    """
    return _AsFound(value)


class _AsFound:
    def __init__(self, value: Any) -> None:
        self.value = value

    def __reduce__(self) -> tuple[Any, ...]:
        # The arguments are read in order: the collector's state before the value.
        return (_as_found, (_CollectorOn(), self.value))


class _CollectorOn:
    """Reads back as whether the collector is on at that point of unpickling."""

    def __reduce__(self) -> tuple[Any, ...]:
        return (gc.isenabled, ())


def _as_found(was_on: bool, value: T) -> T:
    if not was_on:
        gc.disable()  # the value's loader turned it on
    return value
