"""policy_topics._gc: pausing the cyclic collector, across threads and forks."""

from __future__ import annotations

import gc
import os
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from policy_topics import _gc
from policy_topics._gc import caller_collects, collector_paused, each_made_paused, made_paused


@pytest.fixture()
def collecting() -> Iterator[None]:
    """Whatever a test does to the collector, it is on again after it."""
    try:
        yield
    finally:
        gc.enable()


@pytest.mark.usefixtures("collecting")
@pytest.mark.parametrize("was_on", [True, False])
def test_pauses_in_several_threads_leave_the_collector_as_it_was(was_on: bool) -> None:
    # Each pause used to read the switch, turn it off and put back what it read:
    # two threads interleaved could leave it off for good (3 of 3 runs like this
    # one with the collector on).
    if not was_on:
        gc.disable()
    stop = time.monotonic() + 0.5

    def made() -> Iterator[int]:
        while time.monotonic() < stop:
            yield sum(range(50))

    def caller() -> None:
        for _ in each_made_paused(made()):
            sum(range(20))  # the caller's own code, between two items

    def loader() -> None:
        while time.monotonic() < stop:
            with collector_paused():
                sum(range(50))

    interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-5)  # switch threads as often as possible
    try:
        threads = [threading.Thread(target=f) for f in (caller, caller, loader)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    finally:
        sys.setswitchinterval(interval)
    assert gc.isenabled() is was_on
    assert _gc._pauses == 0


@pytest.mark.usefixtures("collecting")
def test_each_made_paused_restores_the_collector_however_it_ends() -> None:
    def made() -> Iterator[bool]:
        yield gc.isenabled()
        yield gc.isenabled()
        raise ValueError("bad item")

    items = each_made_paused(made())
    assert next(items) is False and gc.isenabled() and caller_collects()
    with collector_paused():  # the caller stops early, itself paused
        items.close()
        assert not gc.isenabled() and caller_collects()
    assert gc.isenabled() and _gc._pauses == 0
    with pytest.raises(ValueError, match="bad item"):
        list(each_made_paused(made()))
    assert gc.isenabled() and _gc._pauses == 0
    gc.disable()  # the caller's choice stands
    assert list(each_made_paused(iter([1, 2]))) == [1, 2]
    assert not gc.isenabled() and not caller_collects() and _gc._pauses == 0


class _Linked:
    """An object that points to itself: garbage only the collector frees."""

    def __init__(self) -> None:
        self.me = self


@pytest.mark.usefixtures("collecting")
@pytest.mark.parametrize("how", ["made_paused", "each_made_paused"])
def test_a_collection_that_came_due_in_a_pause_starts_when_it_ends(how: str) -> None:
    # Objects made in a pause count towards the next collection, but none can
    # start then. Once the pause ended, a caller that made no object of its own
    # never let one start, and cyclic garbage piled up for as long as it ran.
    def litter() -> bool:
        for _ in range(3 * gc.get_threshold()[0]):
            _Linked()
        return True

    started: list[int] = []

    def note(phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            started.append(info["generation"])

    gc.collect()
    gc.callbacks.append(note)
    try:
        if how == "made_paused":
            made_paused(litter)
        else:

            def made() -> Iterator[bool]:
                yield litter()

            items = each_made_paused(made())
            next(items)  # kept open: what its end does is not counted
        collections = len(started)  # an int: makes no object the collector counts
    finally:
        gc.callbacks.remove(note)
    assert collections >= 1
    assert gc.isenabled() and _gc._pauses == 0


@pytest.mark.usefixtures("collecting")
def test_a_pause_begun_and_ended_as_the_last_one_ends_leaves_the_collector_on(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # From Python 3.12 a collection that came due may start as soon as the
    # collector is back on, before the last pause is counted out; a finalizer it
    # runs may pause and end its pause in between, and the collector stayed off.
    enable = gc.enable

    def enable_then_a_finalizer_pauses() -> None:
        enable()
        monkeypatch.setattr(gc, "enable", enable)  # once
        made_paused(int)

    monkeypatch.setattr(gc, "enable", enable_then_a_finalizer_pauses)
    made_paused(int)
    assert gc.isenabled() and _gc._pauses == 0


@pytest.mark.usefixtures("collecting")
@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork")
@pytest.mark.parametrize("was_on", [True, False])
def test_a_process_forked_in_a_pause_collects_as_the_caller_did(was_on: bool) -> None:
    if not was_on:
        gc.disable()
    read, write = os.pipe()
    with collector_paused():
        pid = os.fork()
        if pid == 0:
            inside = f"{int(gc.isenabled())}{_gc._pauses}"
    if pid == 0:  # the child, out of the pause it was forked in: report, then leave
        after = f"{int(gc.isenabled())}{_gc._pauses}"
        os.write(write, f"{inside} {after}".encode())
        os._exit(0)  # not pytest's exit
    os.close(write)
    _, status = os.waitpid(pid, 0)
    reported = os.read(read, 16)
    os.close(read)
    assert status == 0
    assert reported == (b"10 10" if was_on else b"00 00")
    assert gc.isenabled() is was_on and _gc._pauses == 0


@pytest.mark.usefixtures("collecting")
def test_building_an_extractor_leaves_a_collector_that_was_off_off(tmp_path: Path) -> None:
    # srsly's msgpack loader, with which spaCy loads a pipeline and the fast
    # path copies the tokenizer, turns the collector on when it ends, whatever
    # it was: a caller who turned it off must find it off.
    import spacy

    from policy_topics import Extractor

    spacy.blank("en").to_disk(tmp_path / "pipeline")
    gc.disable()
    Extractor()
    assert not gc.isenabled()
    Extractor(model=tmp_path / "pipeline")
    assert not gc.isenabled()


@pytest.mark.usefixtures("collecting")
@pytest.mark.parametrize("was_on", [True, False])
def test_the_fast_paths_tokenizer_renewed_mid_stream_keeps_the_pause(
    monkeypatch: pytest.MonkeyPatch, was_on: bool
) -> None:
    # The fast path copies the tokenizer again once its vocabulary is large,
    # in the middle of a run, inside the pause of a document: the pause must
    # last to its end, and the caller's setting come back after it.
    import srsly

    from policy_topics import DocumentResult, Extractor, fastpath

    loads, seen = [], []
    real_loads = srsly.msgpack_loads

    def counted(*args: Any, **kwargs: Any) -> Any:
        loads.append(1)
        return real_loads(*args, **kwargs)

    class Probe(Extractor):
        def extract(self, text: str, **options: Any) -> DocumentResult:
            result = super().extract(text, **options)
            seen.append(gc.isenabled())  # still inside the document's pause
            return result

    extractor = Probe()
    monkeypatch.setattr(fastpath, "_VOCAB_LIMIT", 30)
    monkeypatch.setattr(srsly, "msgpack_loads", counted)
    texts = []
    for n in range(3):  # new words in each, so each needs the tokenizer
        words = " ".join(f"tariff{n}x{k} trade{n}x{k}" for k in range(40))
        texts.append(f"We cut tariffs on {words}. Solar power and {words} grew.")
    if not was_on:
        gc.disable()
    results = list(extractor.extract_many(texts))
    assert len(loads) >= 3  # the tokenizer was copied again in each document
    assert seen == [False, False, False]
    assert gc.isenabled() is was_on
    assert [a.topic for a in results[0].areas] == ["trade", "energy"]


@pytest.mark.usefixtures("collecting")
def test_a_load_while_another_threads_pause_ends_leaves_the_collector_on(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Building an Extractor while another thread is in a pause: that pause
    # ends while srsly loads, and the load must not switch the collector off
    # for good (found by a review of the first guard, which read the switch
    # alone, outside the count of pauses).
    import srsly

    from policy_topics import Extractor

    entered, go, done = threading.Event(), threading.Event(), threading.Event()

    def other() -> None:
        with collector_paused():
            entered.set()
            go.wait(10)
        done.set()

    real_loads = srsly.msgpack_loads

    def slow(*args: Any, **kwargs: Any) -> Any:
        go.set()  # the other pause ends while this load runs
        done.wait(10)
        return real_loads(*args, **kwargs)

    monkeypatch.setattr(srsly, "msgpack_loads", slow)
    thread = threading.Thread(target=other)
    thread.start()
    entered.wait(10)
    Extractor()
    thread.join(10)
    assert done.is_set() and _gc._pauses == 0
    assert gc.isenabled()


@pytest.mark.usefixtures("collecting")
def test_a_model_that_fails_to_load_leaves_the_collector_on(tmp_path: Path) -> None:
    # srsly's loader switches the collector off first and, when the data is
    # broken, never on again.
    import spacy

    from policy_topics import Extractor

    spacy.blank("en").to_disk(tmp_path / "pipeline")
    (tmp_path / "pipeline" / "tokenizer").write_bytes(b"\xc1")  # never valid msgpack
    with pytest.raises(ValueError):  # srsly's FormatError
        Extractor(model=tmp_path / "pipeline")
    assert gc.isenabled()
