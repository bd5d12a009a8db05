"""Extractor.extract_many: lazy, ordered, one output per input, errors as records, parallel."""

from __future__ import annotations

import contextlib
import datetime
import gc
import itertools
import json
import logging
import multiprocessing
import os
import pickle
import re
import signal
import subprocess
import sys
import threading
import time
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psutil
import pytest

from policy_topics import DocumentResult, Extractor, WorkerStartError, cpus, extract
from policy_topics.io import read_documents
from policy_topics.readers import Document, Source

TEXTS = [
    "Both sides will cut tariffs on steel.",
    "Solar power and grid links will expand.",
    "Nothing to see here.",
    "The central bank will open a currency swap line.",
]


@pytest.fixture(scope="module")
def extractor() -> Extractor:
    return Extractor()


class Killer(Extractor):
    """Dies (like a worker killed by the OOM killer) on the text ``KILL``."""

    def extract(self, text: str, **kwargs: Any) -> DocumentResult:
        if text == "KILL":
            os._exit(3)
        return super().extract(text, **kwargs)


class Stamper(Extractor):
    """Writes the id of the process that tagged each document into its metadata."""

    def extract(self, text: str, **kwargs: Any) -> DocumentResult:
        result = super().extract(text, **kwargs)
        return result.model_copy(update={"metadata": {"pid": os.getpid()}})


def _broken_work(*args: Any) -> Any:
    raise RuntimeError("the worker failed")


def dumps(results: Iterator[DocumentResult]) -> list[str]:
    return [r.model_dump_json() for r in results]


def test_accepts_strings_tuples_and_mappings(extractor: Extractor) -> None:
    items: list[Any] = [
        TEXTS[0],
        (TEXTS[1], {"source": "x"}),
        {"id": 7, "text": TEXTS[2], "meta": {"year": 2020}},
        {"id": "m", "text": TEXTS[3], "metadata": {"k": "v"}},
    ]
    results = list(extractor.extract_many(items))
    assert [r.doc_id for r in results] == [None, None, "7", "m"]
    assert [r.metadata for r in results] == [{}, {"source": "x"}, {"year": 2020}, {"k": "v"}]
    assert [[a.topic for a in r.areas] for r in results] == [
        ["trade"],
        ["energy"],
        [],
        ["finance"],
    ]
    assert results[0] == extractor.extract(TEXTS[0])


@pytest.mark.parametrize("n_process", [1, 2])
def test_every_bad_input_gives_exactly_one_error_record(
    extractor: Extractor, n_process: int
) -> None:
    items: list[Any] = [
        TEXTS[0],
        None,
        b"bytes are not text",
        42,
        {"id": "no-text"},
        {"id": "read-error", "error": "a.txt: not valid UTF-8 at byte offset 3"},
        {"id": "bad-meta", "text": TEXTS[1], "meta": "not a mapping"},
        {"id": "int-keys", "text": TEXTS[1], "meta": {1: "x"}},
        ("text", "not a mapping"),
        TEXTS[1],
    ]
    results = list(extractor.extract_many(items, n_process=n_process, batch_size=3))
    assert len(results) == len(items)
    assert [r.ok for r in results] == [True] + [False] * 8 + [True]
    errors = [r.error for r in results if r.error is not None]
    assert [e.type for e in errors] == [
        "TypeError",
        "TypeError",
        "TypeError",
        "KeyError",
        "ReadError",
        "TypeError",
        "TypeError",  # a metadata key that is no string: named, not pydantic's report
        "TypeError",
    ]
    assert "NoneType" in errors[0].message and "bytes" in errors[1].message
    assert errors[6].message.startswith("metadata key 1 is int, not a string")
    assert errors[5].message == "unusable input item: field 'meta' is str, not a mapping"
    assert errors[4].message == "a.txt: not valid UTF-8 at byte offset 3"
    assert [r.doc_id for r in results][4:7] == ["no-text", "read-error", "bad-meta"]
    assert results[-1].areas[0].topic == "energy"


@pytest.mark.parametrize("n_process", [1, 2])
def test_on_error_raise_yields_what_came_before_then_raises(
    extractor: Extractor, n_process: int
) -> None:
    items: list[Any] = [TEXTS[0], TEXTS[1], b"bytes", TEXTS[2]]
    seen: list[DocumentResult] = []
    with pytest.raises(TypeError, match="bytes"):
        for result in extractor.extract_many(
            items, n_process=n_process, batch_size=4, on_error="raise"
        ):
            seen.append(result)
    assert [r.areas[0].topic for r in seen] == ["trade", "energy"]
    with pytest.raises(ValueError, match=r"document x: a\.txt: broken"):
        list(extractor.extract_many([{"id": "x", "error": "a.txt: broken"}], on_error="raise"))
    # Without an id, the document is named by its place, as tables name it.
    unnamed: list[Any] = ["We cut tariffs.", {"error": "b.txt: broken"}]
    with pytest.raises(ValueError, match=r"^document #1: b\.txt: broken$"):
        list(extractor.extract_many(unnamed, n_process=n_process, on_error="raise"))


def test_a_failed_document_without_an_id_is_logged_by_its_place(
    extractor: Extractor, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level("WARNING", logger="policy_topics"):
        list(extractor.extract_many(["Fine.", "Also fine.", {"text": "x", "meta": {1: 2}}]))
    assert "document #2 failed" in caplog.text


def test_a_metadata_key_that_is_no_string_is_named(extractor: Extractor) -> None:
    (result,) = extractor.extract_many([{"id": "a", "text": "We cut tariffs.", "meta": {1: 2}}])
    assert result.error is not None and result.error.type == "TypeError"
    assert result.error.message == (
        "metadata key 1 is int, not a string: the keys of a JSON object are strings; "
        "write it as '1'"
    )


@pytest.mark.parametrize("n_process", [1, 2])
def test_a_failing_input_gives_every_document_before_it_then_raises(
    extractor: Extractor, n_process: int
) -> None:
    # A database cursor that loses its connection: with two processes the
    # documents already sent to the workers were dropped, 15 of these 50.
    def rows() -> Iterator[dict[str, str]]:
        for i in range(50):
            yield {"id": str(i), "text": TEXTS[i % len(TEXTS)]}
        raise OSError("connection lost")

    seen: list[str | None] = []
    with pytest.raises(OSError, match="connection lost"):
        for result in extractor.extract_many(rows(), n_process=n_process, batch_size=5):
            seen.append(result.doc_id)
    assert seen == [str(i) for i in range(50)]


def test_bad_arguments_fail_at_once(extractor: Extractor) -> None:
    with pytest.raises(ValueError, match="on_error"):
        extractor.extract_many([], on_error="ignore")  # type: ignore[arg-type]
    for bad in (0, -2):  # -1 alone stands for the CPUs
        with pytest.raises(ValueError, match="n_process"):
            extractor.extract_many([], n_process=bad)
    # A float or a bool used to pass, and fail while iterating, leaving a folder behind.
    for bad in (2.0, True):
        with pytest.raises(
            ValueError, match=rf"n_process must be a whole number >= 1, or -1 .*, not {bad}"
        ):
            extractor.extract_many(TEXTS, n_process=bad)  # type: ignore[arg-type]
    with pytest.raises(
        ValueError, match=r"batch_size must be a whole number >= 1 or None, not 1\.5"
    ):
        extractor.extract_many(TEXTS, n_process=2, batch_size=1.5)  # type: ignore[arg-type]
    # One mapping used to be taken as its keys: two documents, "id" and "text".
    with pytest.raises(TypeError, match=r"not one mapping: pass \[document\]"):
        extractor.extract_many({"id": "a", "text": "We cut tariffs."})  # type: ignore[arg-type]


def test_counts_may_be_numpy_integers(extractor: Extractor) -> None:
    np = pytest.importorskip("numpy")
    results = extractor.extract_many(TEXTS, n_process=np.int64(2), batch_size=np.int32(1))
    assert dumps(results) == dumps(extractor.extract_many(TEXTS))


def test_no_folder_is_left_when_the_pool_cannot_start(
    extractor: Extractor, monkeypatch: pytest.MonkeyPatch
) -> None:
    made: list[str] = []
    mkdtemp = extract.tempfile.mkdtemp

    def recording(*args: Any, **kwargs: Any) -> str:
        made.append(mkdtemp(*args, **kwargs))
        return made[-1]

    def no_pool(*args: Any, **kwargs: Any) -> Any:
        raise OSError("no working semaphores here")

    monkeypatch.setattr(extract.tempfile, "mkdtemp", recording)
    monkeypatch.setattr(extract, "ProcessPoolExecutor", no_pool)
    with pytest.raises(OSError, match="no working semaphores"):
        list(extractor.extract_many(TEXTS, n_process=2, batch_size=1))
    assert made and not any(os.path.exists(path) for path in made)


@pytest.mark.parametrize("n_process", [1, 2])
def test_lazy_on_an_endless_stream(extractor: Extractor, n_process: int) -> None:
    pulled = 0

    def endless() -> Iterator[str]:
        nonlocal pulled
        for i in itertools.count():
            pulled += 1
            yield f"{TEXTS[i % len(TEXTS)]} ({i})"

    batch_size = 4
    results = extractor.extract_many(endless(), n_process=n_process, batch_size=batch_size)
    first = list(itertools.islice(results, 10))
    assert [r.n_chars for r in first] == [len(f"{TEXTS[i % 4]} ({i})") for i in range(10)]
    # Look-ahead is bounded: at most 2 * n_process + 1 batches beyond what was consumed.
    assert pulled <= 10 + (2 * n_process + 1) * batch_size + batch_size
    results.close()  # type: ignore[attr-defined]


def test_parallel_equals_sequential_on_cap_sotu(extractor: Extractor, corpora: Path) -> None:
    with (corpora / "cap-sotu-dev.jsonl").open(encoding="utf-8") as stream:
        docs = [json.loads(line) for line in stream]
    sequential = dumps(extractor.extract_many(docs))
    parallel = dumps(extractor.extract_many(docs, n_process=2, batch_size=2))
    assert len(sequential) == len(docs) == 12
    assert parallel == sequential
    assert sum(len(DocumentResult.model_validate_json(s).areas) for s in sequential) > 0


def test_parallel_records_equal_sequential_ones_however_they_cross(extractor: Extractor) -> None:
    """Workers send plain results as JSON, the others pickled: the records are the same.

    Compared as models, not as JSON, which would hide a value JSON changes (a
    datetime in the metadata, a lone surrogate in the text).
    """
    docs: list[Any] = [
        *TEXTS,
        "We cut tariffs on caf\udce9 imports.",  # a lone surrogate: JSON cannot write it
        ("We cut tariffs.", {"when": datetime.datetime(2024, 5, 1, 12, 30), "n": 1.5}),
        ("Solar power and grid links will expand.", {"pair": (1, "a")}),
    ]
    sequential = list(extractor.extract_many(docs))
    parallel = list(extractor.extract_many(docs, n_process=2, batch_size=2))
    assert parallel == sequential
    assert sequential[4].areas[0].quotes[0].text == "We cut tariffs on caf\udce9 imports."
    assert sequential[5].metadata["when"] == datetime.datetime(2024, 5, 1, 12, 30)


def test_workers_send_plain_results_as_json_and_the_others_pickled(extractor: Extractor) -> None:
    plain = extractor._payload(TEXTS[0], "a", None)
    assert extract._packed(plain).startswith(b"{")
    assert DocumentResult.model_validate_json(extract._packed(plain)) == extractor.extract(
        TEXTS[0], doc_id="a"
    )
    with_metadata = extractor._payload(TEXTS[0], None, {"when": datetime.date(2024, 5, 1)})
    surrogate = extractor._payload("We cut tariffs on caf\udce9 imports.", None, None)
    model = extractor.extract(TEXTS[0])
    for other in (with_metadata, surrogate, model):
        packed = extract._packed(other)
        assert packed.startswith(b"\x80")
        assert pickle.loads(packed) == other


def test_parallel_equals_sequential_with_spawned_workers(extractor: Extractor) -> None:
    # With another thread running, forking is unsafe and the pool spawns its workers.
    docs = [f"{t} ({i})" for i, t in enumerate(TEXTS * 5)]
    stop = threading.Event()
    thread = threading.Thread(target=stop.wait)
    thread.start()
    try:
        parallel = dumps(Extractor(max_quotes=2).extract_many(docs, n_process=2, batch_size=3))
    finally:
        stop.set()
        thread.join()
    assert parallel == dumps(Extractor(max_quotes=2).extract_many(docs))


@pytest.mark.parametrize("spawn", [False, True])
def test_the_workers_do_the_work(spawn: bool) -> None:
    # Results equal to one process's could also come from the main process
    # doing the work itself: the process ids show where it was done.
    docs = [f"{t} ({i})" for i, t in enumerate(TEXTS * 10)]
    stop = threading.Event()
    thread = threading.Thread(target=stop.wait)
    if spawn:
        thread.start()  # with another thread running, the pool spawns its workers
    try:
        results = list(Stamper().extract_many(docs, n_process=2, batch_size=4))
    finally:
        stop.set()
        if spawn:
            thread.join()
    pids = {r.metadata["pid"] for r in results}
    assert len(results) == len(docs) and os.getpid() not in pids


@pytest.mark.parametrize("spawn", [False, True])
def test_what_workers_log_is_logged_here_as_one_process_logs_it(
    spawn: bool, caplog: pytest.LogCaptureFixture
) -> None:
    # A worker logged its failed documents to its own copies of the handlers (forked)
    # or to none (spawned): a handler here got none of them.
    docs: list[Any] = ["We cut tariffs.", None, "Solar grew.", 7, "Grid links."]
    with caplog.at_level("WARNING", logger="policy_topics"):
        list(Extractor().extract_many(docs))
    one = [(r.name, r.levelname, r.getMessage()) for r in caplog.records]
    assert len(one) == 2 and all("failed" in message for _, _, message in one)
    caplog.clear()
    stop = threading.Event()
    thread = threading.Thread(target=stop.wait)
    if spawn:
        thread.start()  # with another thread running, the pool spawns its workers
    try:
        with caplog.at_level("WARNING", logger="policy_topics"):
            list(Extractor().extract_many(docs, n_process=2, batch_size=2))
    finally:
        stop.set()
        if spawn:
            thread.join()
    assert [(r.name, r.levelname, r.getMessage()) for r in caplog.records] == one
    assert all(r.processName != "MainProcess" for r in caplog.records)  # from the workers
    # A level set here holds for what the workers log.
    caplog.clear()
    with caplog.at_level("ERROR", logger="policy_topics"):
        list(Extractor().extract_many(docs, n_process=2, batch_size=2))
    assert caplog.records == []


class Chatty(Extractor):
    """Logs, with an argument and an extra field that do not pickle, for each document."""

    def extract(self, text: str, **kwargs: Any) -> DocumentResult:
        lock = threading.Lock()
        logging.getLogger("policy_topics").warning("tagging %s with %r", text, lock,
                                                   extra={"lock": lock})  # fmt: skip
        return super().extract(text, **kwargs)


def test_a_log_record_that_does_not_pickle_comes_as_its_message(
    caplog: pytest.LogCaptureFixture,
) -> None:
    docs = ["We cut tariffs.", "Solar grew."]
    with caplog.at_level("WARNING", logger="policy_topics"):
        results = list(Chatty().extract_many(docs, n_process=2, batch_size=1))
    assert results == list(Chatty().extract_many(docs))
    messages = [r.getMessage() for r in caplog.records if r.processName != "MainProcess"]
    assert [m.split(" with ")[0] for m in messages] == [f"tagging {d}" for d in docs]
    assert all("<unlocked _thread.lock object" in m for m in messages)


def test_a_failing_pool_is_raised_not_done_here(
    extractor: Extractor, monkeypatch: pytest.MonkeyPatch
) -> None:
    from policy_topics import extract

    monkeypatch.setattr(extract, "_work", _broken_work)
    with pytest.raises(RuntimeError, match="the worker failed"):
        list(extractor.extract_many(TEXTS, n_process=2, batch_size=1))


@pytest.mark.parametrize("n_process", [1, 2])
def test_max_quotes_and_min_score_reach_the_workers(n_process: int) -> None:
    text = " ".join(["We cut tariffs."] * 3 + ["Grid links grow."])
    extractor = Extractor(max_quotes=1, min_score=0.5)
    (result,) = extractor.extract_many([text, text][:1], n_process=n_process)
    assert result == extractor.extract(text)
    assert all(len(a.quotes) <= 1 and a.score >= 0.5 for a in result.areas)


@pytest.mark.parametrize("taken", [1, 4])
def test_stopping_early_drops_the_batches_in_flight(
    extractor: Extractor, monkeypatch: pytest.MonkeyPatch, taken: int
) -> None:
    # Even when the last batch was being handed out (one batch in all), the
    # workers are aborted, not waited for: a batch of unread files can take long.
    from policy_topics import extract

    aborts: list[bool] = []
    close = extract._Workers.close

    def recorded(self: Any, *, abort: bool) -> None:
        aborts.append(abort)
        close(self, abort=abort)

    monkeypatch.setattr(extract._Workers, "close", recorded)
    results = extractor.extract_many(TEXTS * 2, n_process=2)
    assert len(list(itertools.islice(results, taken))) == taken
    results.close()  # type: ignore[attr-defined]
    assert aborts == [True]
    aborts.clear()
    assert len(list(extractor.extract_many(TEXTS * 2, n_process=2))) == 8
    assert aborts == [False]  # run to the end: nothing is left to drop


def test_stopping_early_leaves_no_thread_behind(extractor: Extractor) -> None:
    # A thread left running by the pool would make the next pool spawn its
    # workers (slow to start) instead of forking them.
    before = set(threading.enumerate())
    for _ in range(3):
        results = extractor.extract_many(TEXTS * 2, n_process=2)
        next(results)
        results.close()  # type: ignore[attr-defined]
        assert set(threading.enumerate()) <= before


def test_a_dying_worker_costs_only_its_document() -> None:
    docs = [f"We cut tariffs {i}." for i in range(20)]
    docs[7] = "KILL"
    results = list(Killer().extract_many(docs, n_process=2, batch_size=3))
    assert len(results) == 20
    assert [i for i, r in enumerate(results) if not r.ok] == [7]
    error = results[7].error
    assert error is not None and error.type == "WorkerDied"
    assert [r.n_chars for r in results] == [len(d) if d != "KILL" else 0 for d in docs]


def test_stopping_early_stops_the_workers(extractor: Extractor) -> None:
    me = psutil.Process()
    before = {p.pid for p in me.children()}  # e.g. multiprocessing's resource tracker
    results = extractor.extract_many(TEXTS * 100, n_process=2, batch_size=2)
    assert next(results).ok
    workers = [p for p in me.children() if p.pid not in before]
    assert len(workers) == 2
    results.close()  # type: ignore[attr-defined]
    _, alive = psutil.wait_procs(workers, timeout=10)
    assert alive == []


def test_progress_bar_goes_to_stderr(
    extractor: Extractor, capsys: pytest.CaptureFixture[str]
) -> None:
    list(extractor.extract_many(TEXTS, progress=True))
    captured = capsys.readouterr()
    assert captured.out == ""
    assert "4/4" in captured.err


def test_progress_bar_starts_no_thread_so_workers_can_fork(
    extractor: Extractor, monkeypatch: pytest.MonkeyPatch
) -> None:
    from policy_topics import extract

    threads: list[int] = []
    start = extract._Workers._start

    def spy(self: extract._Workers) -> Any:
        threads.append(threading.active_count())
        return start(self)

    monkeypatch.setattr(extract._Workers, "_start", spy)
    # Other tests may leave threads behind; the progress bar must add none.
    baseline = threading.active_count()
    results = list(extractor.extract_many(TEXTS * 3, n_process=2, batch_size=2, progress=True))
    assert len(results) == 12 and threads == [baseline]


@pytest.fixture()
def sent(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """The sizes of the batches extract_many hands to its workers, in order."""
    from policy_topics import extract

    sizes: list[int] = []
    submit = extract._Workers.submit

    def counting(self: Any, batch: list[Any], on_error: str) -> Any:
        sizes.append(len(batch))
        return submit(self, batch, on_error)

    monkeypatch.setattr(extract._Workers, "submit", counting)
    return sizes


def test_automatic_batches_follow_text_size(
    extractor: Extractor, monkeypatch: pytest.MonkeyPatch, sent: list[int]
) -> None:
    """batch_size=None cuts batches by characters (or documents); results stay in order."""
    from policy_topics import extract as extract_module

    monkeypatch.setattr(extract_module, "_AUTO_BATCH_CHARS", 200)
    monkeypatch.setattr(extract_module, "_AUTO_BATCH_DOCS", 3)
    long = "We cut tariffs on steel and grow grid investment. " * 6  # 300 characters
    docs = [long, *TEXTS, long, None, *TEXTS, "x"]
    parallel = dumps(extractor.extract_many(docs, n_process=2))
    assert parallel == dumps(extractor.extract_many(docs))
    assert sent[0] == 1  # one long document fills a batch
    assert max(sent) == 3 and sum(sent) == len(docs)


def test_small_unread_files_go_to_the_workers_a_few_at_a_time(
    extractor: Extractor, tmp_path: Path, sent: list[int]
) -> None:
    from policy_topics.io import read_documents

    for i in range(10):
        (tmp_path / f"p{i}.html").write_text(f"<p>Tariffs fell ({i}).</p>", encoding="utf-8")
    results = list(extractor.extract_many(read_documents(tmp_path, defer=True), n_process=2))
    assert len(results) == 10 and all(r.ok for r in results)
    # Reading may cost more than tagging: a file counts as a quarter of a batch at least.
    assert sent == [4, 4, 2]


def test_metadata_that_is_no_mapping_is_an_error_record_naming_the_field(
    extractor: Extractor,
) -> None:
    items: list[dict[str, Any]] = [
        {"id": 5, "text": "Tariffs.", "metadata": [1]},
        {"id": "e", "text": "Tariffs.", "meta": []},  # empty, but no mapping all the same
        {"id": "o", "text": "Tariffs.", "meta": None},
        {"id": "m", "text": "Tariffs.", "meta": None, "metadata": {"year": 2020}},
    ]
    results = list(extractor.extract_many(items))
    assert [(r.doc_id, r.error and r.error.message) for r in results] == [
        ("5", "unusable input item: field 'metadata' is list, not a mapping"),
        ("e", "unusable input item: field 'meta' is list, not a mapping"),
        ("o", None),
        ("m", None),
    ]
    assert results[3].metadata == {"year": 2020}
    # An id that is a number becomes its string, as extract_many makes it.
    assert extractor.extract("Tariffs.", doc_id=5).doc_id == "5"


def test_batch_size_must_be_positive(extractor: Extractor) -> None:
    with pytest.raises(ValueError, match="batch_size"):
        extractor.extract_many(TEXTS, batch_size=0)


@pytest.mark.parametrize("n_process", [1, 2])
def test_metadata_json_cannot_hold_is_an_error_record(extractor: Extractor, n_process: int) -> None:
    """A function does not pickle (the batch cannot reach a worker); an object() pickles
    but JSON cannot hold it. Either way that document is reported and the others come out."""
    items: list[Any] = ["We cut tariffs."] * 3
    items += [("Tariffs fell.", {"f": lambda x: x}), ("Solar power.", {"o": object()})]
    items += [("Tariffs rose.", {"ok": [1, "a"]}), "Energy grids."]
    results = list(extractor.extract_many(items, n_process=n_process, batch_size=2))
    assert results == list(extractor.extract_many(items))
    assert [r.ok for r in results] == [True, True, True, False, False, True, True]
    for bad in results[3:5]:
        assert bad.error is not None and bad.error.type == "ValueError"
        assert "cannot be written as JSON" in bad.error.message
        assert bad.metadata == {}
    # The message names the value at fault.
    assert [r.error.message.split(" cannot")[0] for r in results[3:5] if r.error] == [
        "metadata 'f' (function)",
        "metadata 'o' (object)",
    ]
    assert results[5].metadata == {"ok": [1, "a"]}
    assert [DocumentResult.model_validate_json(r.model_dump_json()) for r in results] == results
    with pytest.raises(ValueError, match=r"metadata 'o' \(object\) cannot be written as JSON"):
        extractor.extract("We cut tariffs.", metadata={"o": object()})


def test_a_lone_surrogate_in_metadata_says_how_to_replace_it(extractor: Extractor) -> None:
    # A JSON Lines meta {"src": "caf\udce9"} is a str already; the message said
    # "(str) cannot be written as JSON: ... convert it, e.g. to str".
    metas: list[dict[str, Any]] = [
        {"src": "caf\udce9"},
        {"n": {"deep": ["ok", "\ud800"]}},
        {"caf\udce9": 1},
    ]
    results = list(extractor.extract_many([("We cut tariffs.", meta) for meta in metas]))
    assert [r.error.message.split(" holds")[0] for r in results if r.error] == [
        "metadata 'src'",
        "metadata 'n'",
        "metadata key 'caf\\udce9'",
    ]
    for result in results:
        assert result.error is not None
        assert "convert it, e.g. to str" not in result.error.message
        assert result.error.message.endswith("e.g. with policy_topics.text.replace_surrogates")
    assert "(U+DCE9," in results[0].error.message


def test_a_worker_hands_its_results_over_in_a_file_not_through_the_pipe(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The pool reads results from a pipe shared by the workers: a worker killed
    # (out of memory) in the middle of sending a large result left the pool
    # waiting for the rest of it for ever. Only a file's name goes through now,
    # in one write that a pipe takes whole or not at all.
    monkeypatch.setattr(extract, "_FOLDER", str(tmp_path))
    batch: Any = ([b"x" * 5_000_000], None, [])
    outcome = extract._handed_over(batch)
    assert isinstance(outcome, str) and len(pickle.dumps(outcome)) < 4096
    assert Path(outcome).parent == tmp_path
    assert extract._received(outcome) == batch
    assert list(tmp_path.iterdir()) == []  # read once, then removed
    # Without a folder to write to, the batch goes through the pipe as before.
    monkeypatch.setattr(extract, "_FOLDER", str(tmp_path / "gone"))
    assert extract._handed_over(batch) is batch


def test_the_pools_folder_goes_with_the_pool() -> None:
    folders: list[str] = []
    workers = extract._Workers(Extractor(), 2)
    future = workers.submit([extract._taken(extract._coerce("We cut tariffs."))], "record")
    assert future is not None and workers._folder is not None
    folders.append(workers._folder)
    results, failure, _ = extract._received(future.result())
    assert failure is None and len(results) == 1
    workers.close(abort=False)
    assert not os.path.exists(folders[0])


_ORPHANED = """
import itertools, sys
from policy_topics import Extractor
results = Extractor().extract_many(
    itertools.repeat("We cut tariffs."), n_process=2, batch_size=1
)
next(results)
print("started", flush=True)
sys.stdin.read()
"""


def test_workers_and_their_folder_go_when_the_parent_is_killed(tmp_path: Path) -> None:
    # A parent killed with SIGKILL (or by the out-of-memory killer) never stops
    # its pool: the workers waited for batches for ever and the folder stayed.
    env = {**os.environ, "TMPDIR": str(tmp_path)}
    command = [sys.executable, "-c", _ORPHANED]
    pipe = subprocess.PIPE
    workers: list[psutil.Process] = []
    with psutil.Popen(command, stdin=pipe, stdout=pipe, env=env) as parent:
        try:
            assert parent.stdout.readline() == b"started\n"
            workers = [
                p for p in parent.children() if "resource_tracker" not in " ".join(p.cmdline())
            ]
            assert len(workers) == 2
            folders = list(tmp_path.glob("policy-topics-*"))
            assert len(folders) == 1
            parent.kill()
            parent.wait(10)
            _, alive = psutil.wait_procs(workers, timeout=10)
            assert alive == []
            assert not folders[0].exists()
        finally:  # on a failure, leave nothing behind
            for process in [*workers, parent]:
                with contextlib.suppress(psutil.NoSuchProcess):
                    process.kill()


_SPAWNED = """
import itertools, threading, time
from policy_topics import Extractor
threading.Thread(target=time.sleep, args=(3600,), daemon=True).start()  # the pool spawns
results = Extractor().extract_many(itertools.repeat("We cut tariffs."), n_process=2, batch_size=1)
next(results)
"""
# Spawned workers that take a while to start (slow imports), so that the parent
# is killed before they run their initializer.
_SLOW_START = """
import sys, time
if "--multiprocessing-fork" in sys.argv:
    time.sleep(3)
"""


def test_workers_go_when_the_parent_is_killed_while_they_start(tmp_path: Path) -> None:
    # A worker read its parent's id once started: one spawned while the parent
    # was being killed took its adoptive parent for the parent, and stayed.
    (tmp_path / "sitecustomize.py").write_text(_SLOW_START)
    path = os.pathsep.join([str(tmp_path), os.environ.get("PYTHONPATH", "")])
    env = {**os.environ, "TMPDIR": str(tmp_path), "PYTHONPATH": path}
    workers: list[psutil.Process] = []
    with psutil.Popen([sys.executable, "-c", _SPAWNED], env=env) as parent:
        try:
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline and len(workers) < 2:
                workers = [p for p in parent.children() if "tracker_fd" in " ".join(p.cmdline())]
                time.sleep(0.05)
            assert len(workers) == 2
            folders = list(tmp_path.glob("policy-topics-*"))
            parent.kill()
            parent.wait(10)
            _, alive = psutil.wait_procs(workers, timeout=15)
            assert alive == []
            assert folders and not any(folder.exists() for folder in folders)
        finally:  # on a failure, leave nothing behind
            for process in [*workers, parent]:
                with contextlib.suppress(psutil.NoSuchProcess):
                    process.kill()


_ENDLESS = """
import signal, sys
signal.signal(signal.SIGINT, signal.default_int_handler)  # a background job ignores it
from policy_topics import Extractor
TEXT = "Both sides will cut tariffs on steel and expand solar power. " * 20
if __name__ == "__main__":
    try:
        for n, _ in enumerate(Extractor().extract_many(
            (TEXT + str(i) for i in range(10**9)), n_process=2, batch_size=1000
        )):
            if n == 1500:
                print("running", flush=True)
    except KeyboardInterrupt:
        print("interrupted", flush=True)
"""


def test_ctrl_c_pressed_twice_leaves_no_temporary_folder(tmp_path: Path) -> None:
    # The second Ctrl-C cut short the wait for the workers' batches, and the pool's
    # folder stayed behind with the megabytes of results they had written there.
    env = {**os.environ, "TMPDIR": str(tmp_path)}
    with psutil.Popen(
        [sys.executable, "-c", _ENDLESS], env=env, stdout=subprocess.PIPE, text=True
    ) as parent:
        workers: list[psutil.Process] = []
        try:
            assert parent.stdout is not None
            assert parent.stdout.readline() == "running\n"
            assert list(tmp_path.glob("policy-topics-*"))  # the folder the workers write to
            workers = parent.children()
            for _ in range(2):
                parent.send_signal(signal.SIGINT)
                time.sleep(0.3)
            parent.wait(60)
            _, alive = psutil.wait_procs(workers, timeout=15)
            assert alive == []
            assert list(tmp_path.glob("policy-topics-*")) == []
        finally:  # on a failure, leave nothing behind
            for process in [*workers, parent]:
                with contextlib.suppress(psutil.NoSuchProcess):
                    process.kill()


def test_a_batch_sent_after_a_worker_died_is_done_again() -> None:
    # A worker that died before the next batch was sent made submit raise
    # BrokenProcessPool out of extract_many; the batch is now done again with
    # the batches in flight.
    def docs() -> Iterator[str]:
        yield "KILL"
        time.sleep(2)  # the pool notices the dead worker before the next batch
        yield from ["We cut tariffs."] * 5

    results = list(Killer().extract_many(docs(), n_process=2, batch_size=1))
    assert [(r.ok, r.error.type if r.error else None) for r in results] == [
        (False, "WorkerDied"),
        *([(True, None)] * 5),
    ]


def test_a_worker_the_pool_cannot_start_again_is_a_broken_pool(
    extractor: Extractor, monkeypatch: pytest.MonkeyPatch
) -> None:
    # After a worker died, a spawning pool may fail to start its replacement
    # ("bad value(s) in fds_to_keep") before it knows it is broken: that escaped
    # extract_many. The batch is now done again, as after BrokenProcessPool.
    submit = extract.ProcessPoolExecutor.submit
    calls: list[int] = []

    def failing_once(self: Any, *args: Any, **kwargs: Any) -> Any:
        calls.append(1)
        if len(calls) == 2:
            raise ValueError("bad value(s) in fds_to_keep")
        return submit(self, *args, **kwargs)

    monkeypatch.setattr(extract.ProcessPoolExecutor, "submit", failing_once)
    results = dumps(extractor.extract_many(TEXTS, n_process=2, batch_size=1))
    assert results == dumps(extractor.extract_many(TEXTS)) and len(calls) > 2


def test_workers_the_system_will_not_start_are_said_to_be_refused(
    extractor: Extractor, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Under a limit on processes (a container's), every worker's start failed
    # with BlockingIOError, and the error blamed a main module without an
    # `if __name__ == '__main__':` guard, which only spawned workers need.
    def refused(self: Any, *args: Any, **kwargs: Any) -> Any:
        raise BlockingIOError(11, "Resource temporarily unavailable")

    monkeypatch.setattr(extract.ProcessPoolExecutor, "submit", refused)
    with pytest.raises(WorkerStartError) as caught:
        list(extractor.extract_many(TEXTS, n_process=2))
    message = str(caught.value)
    assert message.startswith(
        "cannot start a worker process: BlockingIOError: [Errno 11] Resource temporarily "
        "unavailable; the system refuses new processes"
    )
    assert message.endswith("ask for fewer worker processes, or for one")
    assert "__main__" not in message
    assert isinstance(caught.value, RuntimeError)  # as before, for callers that catch it
    assert isinstance(caught.value.__cause__, BlockingIOError)


def test_a_document_whose_worker_was_refused_once_is_sent_again(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # After a worker died, the batch is done again one document at a time in a
    # pool of one worker. When the system refused that worker once (a passing
    # limit on processes) and then let the check's worker start, the document
    # that never reached any worker was recorded as having killed one.
    submit = extract.ProcessPoolExecutor.submit
    refused: list[int] = []

    def refusing_once(self: Any, *args: Any, **kwargs: Any) -> Any:
        if self._max_workers == 1 and not refused:  # the first one-worker pool
            refused.append(1)
            raise BlockingIOError(11, "Resource temporarily unavailable")
        return submit(self, *args, **kwargs)

    monkeypatch.setattr(extract.ProcessPoolExecutor, "submit", refusing_once)
    docs = ["We cut tariffs.", "KILL", "We expand solar power."]
    results = list(Killer().extract_many(docs, n_process=2, batch_size=3))
    assert refused
    assert [(r.ok, r.error.type if r.error else None) for r in results] == [
        (True, None),
        (False, "WorkerDied"),
        (True, None),
    ]


def test_a_document_whose_worker_is_always_refused_says_so(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Refused on every attempt, the documents of the broken batch were recorded
    # as having killed their worker, and with on_error="raise" a BrokenProcessPool
    # came out instead of the WorkerStartError extract_many documents. (Only a
    # stand-in reaches this: in practice the worker check_start starts after a
    # refusal takes the next attempt.) The pool of two breaks on KILL; the one-
    # worker pools that re-run its batch are refused.
    submit = extract.ProcessPoolExecutor.submit

    def refusing(self: Any, *args: Any, **kwargs: Any) -> Any:
        if self._max_workers == 1 and args[1]:  # check_start's empty batch goes
            raise BlockingIOError(11, "Resource temporarily unavailable")
        return submit(self, *args, **kwargs)

    monkeypatch.setattr(extract.ProcessPoolExecutor, "submit", refusing)
    docs = ["We cut tariffs.", "KILL", "We expand solar power."]
    results = list(Killer().extract_many(docs, n_process=2, batch_size=2))
    message = (
        "the system would not start a worker process for this document: "
        "BlockingIOError: [Errno 11] Resource temporarily unavailable"
    )
    assert [(r.error.type, r.error.message) if r.error else None for r in results] == [
        ("WorkerStartError", message),
        ("WorkerStartError", message),
        None,
    ]
    with pytest.raises(WorkerStartError, match=f"^document #0: {re.escape(message)}$"):
        list(Killer().extract_many(docs, n_process=2, batch_size=2, on_error="raise"))


_LONG = "We cut tariffs on steel. " * 1_600  # 40,000 characters: two fill a batch


class _Once:
    """Documents with a length that can be gone through only once (as a stream with a count)."""

    def __init__(self, texts: list[str]) -> None:
        self._texts = texts
        self._used = False

    def __len__(self) -> int:
        return len(self._texts)

    def __iter__(self) -> Iterator[str]:
        assert not self._used, "gone through twice"
        self._used = True
        return iter(self._texts)


@pytest.mark.parametrize(
    ("kind", "documents", "batch_size", "started"),
    [
        ("short", 0, None, []),
        ("short", 1, None, [1]),
        ("short", 9, None, [1]),  # one batch of about 64,000 characters holds them all
        ("short", 3, 1, [3]),
        ("short", 9, 1, [4]),
        ("short", 9, 5, [2]),
        ("long", 3, None, [2]),
        ("long", 9, None, [4]),  # five batches
        ("mapped", 9, None, [1]),  # the records of a frame: weighed by their text
        ("paired", 9, None, [1]),
        ("series", 9, None, [1]),
        ("long_series", 5, None, [3]),
        ("long_mapped", 3, None, [2]),
        ("deferred", 9, None, [3]),  # unread files weigh a quarter of a batch at least
        # Not weighed, as it may not be gone through twice: a batch a document.
        ("sized", 9, None, [4]),
    ],
)
@pytest.mark.filterwarnings("ignore:n_process=4:UserWarning")
def test_no_more_workers_start_than_there_are_batches(
    extractor: Extractor,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    kind: str,
    documents: int,
    batch_size: int | None,
    started: list[int],
) -> None:
    # n_process=4 over one document, or over nine short ones that make one batch,
    # started four workers, each holding a pipeline (spawned, in a notebook:
    # seconds each).
    pools: list[int] = []
    executor = extract.ProcessPoolExecutor

    def counted(max_workers: int, **kwargs: Any) -> Any:
        pools.append(max_workers)
        return executor(max_workers, **kwargs)

    monkeypatch.setattr(extract, "ProcessPoolExecutor", counted)
    texts = (TEXTS * 3)[:documents] if "long" not in kind else [_LONG] * documents
    docs: Any = texts
    if kind in ("mapped", "long_mapped"):
        docs = [{"id": str(i), "text": text} for i, text in enumerate(texts)]
    elif kind == "paired":
        docs = [(text, {"n": i}) for i, text in enumerate(texts)]
    elif kind in ("series", "long_series"):
        pandas = pytest.importorskip("pandas")
        docs = pandas.Series(texts, index=[f"d{i}" for i in range(len(texts))])
    elif kind == "deferred":
        from policy_topics.io import read_documents

        for i, text in enumerate(texts):
            page = f"<html><body><p>{text}</p></body></html>"
            (tmp_path / f"{i}.html").write_text(page, encoding="utf-8")
        docs = list(read_documents(tmp_path, defer=True))  # HTML is read where it is tagged
    elif kind == "sized":
        docs = _Once(texts)
    assert len(docs) == documents
    if kind == "sized":  # gone through once: the reference is made from the texts
        expected = dumps(extractor.extract_many(list(texts)))
    else:
        expected = dumps(extractor.extract_many(docs))
    results = dumps(extractor.extract_many(docs, n_process=4, batch_size=batch_size))
    assert results == expected
    assert pools == started


class _Unreadable(dict[str, Any]):
    """A record whose fields cannot be read (a lazy record whose store is gone)."""

    def get(self, key: str, default: Any = None) -> Any:
        raise OSError("the store is gone")


@pytest.mark.parametrize("n_process", [1, 2])
def test_a_record_that_cannot_be_read_is_reported_whatever_the_workers(
    extractor: Extractor, n_process: int
) -> None:
    # A bad document is reported and the others still come out. Its error record
    # read the id of the failed record again, which raised while iterating; and
    # weighing the input to size the pool read its text at the call, which with
    # two processes raised before any result.
    docs = [TEXTS[0], _Unreadable(text="x"), TEXTS[1]]
    results = list(extractor.extract_many(docs, n_process=n_process))
    assert [r.ok for r in results] == [True, False, True]
    assert results[1].error is not None and "the store is gone" in results[1].error.message


def test_one_document_still_goes_to_a_worker() -> None:
    # With the pool sized to the input, one document was tagged in the calling
    # process, and a document that kills its worker killed the caller instead.
    killed = list(Killer().extract_many(["KILL"], n_process=2))
    assert [(r.ok, r.error.type if r.error else None) for r in killed] == [(False, "WorkerDied")]


def test_the_warning_on_too_many_workers_counts_those_that_start(
    extractor: Extractor, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(cpus, "usable_cpus", lambda: 2)
    with pytest.warns(UserWarning, match=r"^n_process=4 over 3 documents asks for 3 worker"):
        list(extractor.extract_many(_Once(TEXTS[:3]), n_process=4))
    seven = [_LONG] * 5 + TEXTS[:2]
    weighed = r"^n_process=4 over 7 documents in batches of about 64,000 characters asks for 3 "
    for docs in (seven, [{"text": text} for text in seven]):
        with pytest.warns(UserWarning, match=weighed):
            list(extractor.extract_many(docs, n_process=4))
    docs = TEXTS * 3
    with pytest.warns(UserWarning, match=r"^n_process=4 over 12 documents in batches of 4 asks "):
        list(extractor.extract_many(docs, n_process=4, batch_size=4))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        list(extractor.extract_many(TEXTS[:2], n_process=4))  # two start: no warning


class _Odd(Exception):
    def __init__(self, a: int, b: int) -> None:
        super().__init__(f"{a}/{b}")

    def __reduce__(self) -> tuple[Any, ...]:
        # One argument for two: unpickling fails. Said outright, it fails also once
        # dask.distributed is imported: its tblib then pickles every exception
        # class known, and rebuilds one with a custom __init__ without calling it.
        return type(self), self.args


class OddRaiser(Extractor):
    """Raises an exception that does not unpickle on the text ``ODD``."""

    def extract(self, text: str, **kwargs: Any) -> DocumentResult:
        if text == "ODD":
            raise _Odd(1, 2)
        return super().extract(text, **kwargs)


def test_an_exception_that_does_not_unpickle_keeps_the_results_before_it() -> None:
    docs = ["We cut tariffs.", "Solar grew.", "ODD", "Never reached."]
    got: list[DocumentResult] = []
    with pytest.raises(RuntimeError, match=r"^_Odd: 1/2$"):
        for result in OddRaiser().extract_many(docs, n_process=2, batch_size=4, on_error="raise"):
            got.append(result)
    assert [r.ok for r in got] == [True, True]


class FailsOn(Extractor):
    """Raises on a text that starts with ``Fail``."""

    def extract(self, text: str, **kwargs: Any) -> DocumentResult:
        if text.startswith("Fail"):
            raise ValueError("refused")
        return super().extract(text, **kwargs)


@pytest.mark.parametrize("n_process", [1, 2])
def test_a_text_that_fails_is_named_by_its_place_whatever_the_workers(
    n_process: int, caplog: pytest.LogCaptureFixture
) -> None:
    # A plain text goes to a worker as itself, not pickled with its place: the
    # worker works its place out from the batch's. Batches of two, each led by
    # a record with metadata, which goes pickled with its place.
    items: list[Any] = [
        {"text": "We cut tariffs.", "meta": {"k": 1}},
        "Fail first.",
        {"text": "Solar grew.", "meta": {"k": 2}},
        "Fail here.",
    ]
    with caplog.at_level("WARNING", logger="policy_topics"):
        results = list(FailsOn().extract_many(items, n_process=n_process, batch_size=2))
    assert [r.ok for r in results] == [True, False, True, False]
    failed = sorted(r.getMessage() for r in caplog.records if "failed" in r.getMessage())
    assert failed == ["document #1 failed: refused", "document #3 failed: refused"]


class _Unloadable(Exception):
    """Pickles, but does not unpickle: its __init__ takes two arguments, its args hold one."""

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(f"{status} {reason}")


def test_metadata_that_pickles_but_does_not_unpickle_fails_only_its_document(
    extractor: Extractor,
) -> None:
    # It used to fail in the worker before any document of the batch was read,
    # and the whole run raised.
    items: list[Any] = [
        {"id": "a", "text": TEXTS[0]},
        {"id": "b", "text": TEXTS[1], "meta": {"fetch": _Unloadable(404, "gone")}},
        {"id": "c", "text": TEXTS[3]},
    ]
    results = list(extractor.extract_many(items, n_process=2, batch_size=3))
    assert results == list(extractor.extract_many(items))
    assert [(r.doc_id, r.ok) for r in results] == [("a", True), ("b", False), ("c", True)]
    assert results[1].error is not None and "cannot be written as JSON" in results[1].error.message


def test_metadata_is_read_as_it_was_when_its_document_was_taken(extractor: Extractor) -> None:
    # A reader that reuses one nested buffer: batches used to be pickled once full,
    # and every document of a batch got the buffer's last state.
    def rows() -> Iterator[dict[str, Any]]:
        shared: dict[str, int] = {}
        for i in range(6):
            shared["row"] = i
            yield {"id": i, "text": TEXTS[i % 4], "meta": {"info": shared}}

    parallel = [r.metadata for r in extractor.extract_many(rows(), n_process=2, batch_size=3)]
    assert parallel == [r.metadata for r in extractor.extract_many(rows())]
    assert parallel == [{"info": {"row": i}} for i in range(6)]


def test_a_record_keeps_no_list_of_its_metadata_that_the_caller_may_change(
    extractor: Extractor,
) -> None:
    # The lists of metadata were kept as the caller's own objects with one process
    # (a copy with two): a buffer reused for every row changed every record.
    def rows() -> Iterator[dict[str, Any]]:
        seen: list[int] = []
        nested: dict[str, list[int]] = {"k": []}
        for i in range(6):
            seen.append(i)
            nested["k"].append(i)
            yield {"id": i, "text": TEXTS[i % 4], "meta": {"seen": seen, "nested": nested,
                                                            "pair": (i, seen)}}  # fmt: skip

    want = [{"seen": list(range(i + 1)), "nested": {"k": list(range(i + 1))},
             "pair": [i, list(range(i + 1))]} for i in range(6)]  # fmt: skip
    assert [r.metadata for r in extractor.extract_many(rows())] == want
    assert [r.metadata for r in extractor.extract_many(rows(), n_process=2, batch_size=3)] == want
    tags = ["trade"]
    record = extractor.extract("We cut tariffs.", metadata={"tags": tags, "kept": ("a", 1)})
    tags.append("later")
    assert record.metadata == {"tags": ["trade"], "kept": ("a", 1)}


class Labelled(Extractor):
    """A subclass with an __init__ of its own and an attribute that may change."""

    def __init__(self, label: str, **options: Any) -> None:
        super().__init__(**options)
        self.label = label

    def extract(self, text: str, **kwargs: Any) -> DocumentResult:
        result = super().extract(text, **kwargs)
        return result.model_copy(update={"metadata": {"label": self.label}})


def test_an_extractor_pickles_as_its_settings_and_its_own_attributes() -> None:
    labelled = Labelled("first", max_quotes=1)
    labelled.label = "changed"
    labelled.min_score = 0.3
    data = pickle.dumps(labelled)
    copy = pickle.loads(data)
    assert type(copy) is Labelled and copy.label == "changed"
    assert (copy.max_quotes, copy.min_score, copy.fast) == (1, 0.3, labelled.fast)
    assert copy.taxonomy == labelled.taxonomy and copy.nlp is not labelled.nlp
    assert [copy.extract(t) for t in TEXTS] == [labelled.extract(t) for t in TEXTS]
    # The pipeline is built again, not sent: the default taxonomy is most of it.
    assert len(data) < 3 * len(pickle.dumps(labelled.taxonomy))


def test_unpickling_an_extractor_of_a_loaded_pipeline_leaves_the_collector_as_it_was() -> None:
    # A loaded Language travels pickled, and srsly's loader under it turned the
    # collector on for the caller who had turned it off.
    import spacy

    cloudpickle = pytest.importorskip("cloudpickle")  # comes with the dask extra
    extractor = Extractor(model=spacy.blank("en"))
    for data in (pickle.dumps(extractor), cloudpickle.dumps(extractor)):
        gc.disable()
        try:
            copy = pickle.loads(data)
            assert not gc.isenabled()
        finally:
            gc.enable()
        assert [copy.extract(t) for t in TEXTS] == [extractor.extract(t) for t in TEXTS]
        pickle.loads(data)
        assert gc.isenabled()


def test_spawned_workers_get_the_extractor_as_it_is() -> None:
    # Spawned workers used to build a new Extractor from its arguments: a
    # subclass lost what was set on it, and one whose __init__ takes other
    # arguments failed to start.
    labelled = Labelled("first", max_quotes=2)
    labelled.label = "changed"
    docs = [f"{t} ({i})" for i, t in enumerate(TEXTS * 2)]
    stop = threading.Event()
    thread = threading.Thread(target=stop.wait)
    thread.start()  # with another thread running, the pool spawns its workers
    try:
        spawned = list(labelled.extract_many(docs, n_process=2, batch_size=3))
        labelled.hook = lambda: None  # type: ignore[attr-defined]
        with pytest.raises(TypeError, match="cannot be sent to them"):
            list(labelled.extract_many(docs, n_process=2))
    finally:
        stop.set()
        thread.join()
    del labelled.hook  # type: ignore[attr-defined]
    assert spawned == list(labelled.extract_many(docs))
    assert {r.metadata["label"] for r in spawned} == {"changed"}


def test_workers_can_hand_back_records_as_the_json_lines_the_cli_writes(
    extractor: Extractor,
) -> None:
    # The command line writing JSON Lines with --n-process asks the workers for the
    # lines themselves, so that its main process need not validate and write out
    # every record again; each line is the one the record gives in one process.
    from policy_topics.records import _LineResult
    from policy_topics.writers import record_json

    docs: list[Any] = [
        {"id": "a", "text": "We cut tariffs on steel."},
        {"id": "b", "error": "cannot read it"},
        {"id": "c", "text": "Tariffs \ud800 fell.", "meta": {"n": 1}},
        "Grids and solar power.",
    ]
    alone = list(extractor.extract_many(docs))
    lined = list(extractor._many(iter(docs), None, 2, 1, False, "record", lines=True))
    assert [type(r) for r in lined] == [_LineResult] * len(docs)
    assert [r.line for r in lined] == [record_json(r) for r in alone]
    assert [(r.doc_id, r.error) for r in lined] == [(r.doc_id, r.error) for r in alone]
    assert lined[1].error is not None and lined[1].error.message == "cannot read it"
    # Without lines, or in one process, the records are whole models as ever.
    assert list(extractor._many(iter(docs), None, 2, 1, False, "record")) == alone


@pytest.mark.parametrize("n_process", [1, 2])
def test_a_text_paired_with_none_has_no_metadata(extractor: Extractor, n_process: int) -> None:
    # extract(metadata=None), a mapping's "meta": None and a Series of (text, None)
    # took None for no metadata; a list of (text, None) gave an error record.
    got = list(extractor.extract_many([("We cut tariffs.", None)], n_process=n_process))
    assert got == [extractor.extract("We cut tariffs.")]


# --- the cyclic garbage collector ------------------------------------------------------


@pytest.mark.parametrize("n_process", [1, 2])
@pytest.mark.parametrize("collecting", [True, False])
def test_the_collector_is_paused_only_while_a_result_is_made(
    extractor: Extractor, n_process: int, collecting: bool
) -> None:
    pulled: list[bool] = []

    def documents() -> Iterator[str]:
        for text in TEXTS * 3:
            pulled.append(gc.isenabled())  # the input is read outside the pause
            yield text

    in_loop: list[bool] = []
    if not collecting:
        gc.disable()
    try:
        for result in extractor.extract_many(documents(), n_process=n_process):
            assert result.ok
            in_loop.append(gc.isenabled())
        after = gc.isenabled()
        # Stopped early, and stopped by an error: the collector is as it was.
        for _ in extractor.extract_many(TEXTS * 3, n_process=n_process):
            break
        stopped_early = gc.isenabled()
        with pytest.raises(TypeError, match="text must be str"):
            list(extractor.extract_many(["Tariffs.", None], n_process=n_process, on_error="raise"))
        after_error = gc.isenabled()
        single = extractor.extract("We cut tariffs.")
        after_extract = gc.isenabled()
    finally:
        gc.enable()
    assert single.areas and pulled == [collecting] * len(TEXTS) * 3
    assert in_loop == [collecting] * len(TEXTS) * 3
    assert after == stopped_early == after_error == after_extract == collecting


class _Node:
    """A node of a tree whose nodes point to their parent: cyclic garbage once dropped."""

    alive = 0

    def __init__(self, parent: _Node | None = None) -> None:
        _Node.alive += 1
        self.parent = parent
        self.children: list[_Node] = []
        if parent is not None:
            parent.children.append(self)

    def __del__(self) -> None:
        _Node.alive -= 1


@pytest.mark.parametrize("n_process", [1, 2])
@pytest.mark.parametrize("keep", [True, False])
def test_cyclic_garbage_of_the_input_is_freed_during_the_run(
    extractor: Extractor, n_process: int, keep: bool
) -> None:
    # A reader that parses each document into a tree with parent links (as an
    # HTML or XML parser does) leaves cyclic garbage. The collector was paused
    # while the input was read and each result made, and a caller whose own code
    # makes no object (list(), a loop that counts) never let it start again:
    # the trees piled up for the whole run (before: all 300 of them alive at
    # the end, 4,000 documents took 1.2 GB).
    documents = 300

    def parsed() -> Iterator[str]:
        for i in range(documents):
            root = _Node()
            for _ in range(100):
                _Node(root)
            yield f"Both sides will cut tariffs on steel, item {i}."
            del root

    gc.collect()
    _Node.alive = 0
    if keep:
        results = list(extractor.extract_many(parsed(), n_process=n_process, batch_size=10))
    else:
        count = 0
        for _ in extractor.extract_many(parsed(), n_process=n_process, batch_size=10):
            count += 1
        results = [None] * count
    trees_alive = _Node.alive / 101  # no gc.collect() here: what the run left
    assert len(results) == documents
    assert trees_alive < documents / 2  # 12 to 20 at the default thresholds


class TreeCounter(Extractor):
    """Writes how many :class:`_Node` trees are alive as it tags a document into its metadata."""

    def extract(self, text: str, **kwargs: Any) -> DocumentResult:
        kwargs["metadata"] = {"trees": _Node.alive // 101}
        return super().extract(text, **kwargs)


@pytest.mark.parametrize("n_process", [1, 2])
def test_the_garbage_of_files_read_in_one_batch_is_freed_between_them(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, n_process: int
) -> None:
    # A reader may leave reference cycles (pypdf's reader does). A worker that
    # paused the collector over a whole batch kept those of every file in it
    # until the batch ended: here all 12, as a batch of 12 PDFs' bytes.
    for i in range(12):
        (tmp_path / f"{i:02}.html").write_text(f"<p>Both sides cut tariffs, item {i}.</p>")
    read = Source.read

    def cyclic(self: Source) -> Document:
        root = _Node()
        for _ in range(100):
            _Node(root)
        return read(self)

    monkeypatch.setattr(Source, "read", cyclic)
    docs = list(read_documents(tmp_path, defer=True))
    gc.collect()
    _Node.alive = 0
    results = list(TreeCounter().extract_many(docs, n_process=n_process, batch_size=12))
    trees = [r.metadata["trees"] for r in results]
    assert len(trees) == 12 and all(r.ok for r in results)
    assert max(trees) <= 6, trees  # 1 to 4 with one process or two


@pytest.mark.parametrize("n_process", [1, 2])
@pytest.mark.parametrize("fast", [True, False])
def test_a_run_leaves_no_cyclic_garbage(
    corpus_texts: list[str], n_process: int, fast: bool
) -> None:
    # The collector is paused while results are made, so any reference cycle
    # made then would wait for the caller's next collection: there must be none,
    # or memory would grow on a long stream.
    texts = corpus_texts[: 600 if fast else 150]
    # Four that fail, and a lone surrogate, which is tagged.
    items: list[Any] = [*texts, None, 5, {"text": "x", "metadata": 3}, "\ud800 tariffs"]
    items.append({"id": "e", "error": "unreadable", "error_type": "OSError"})
    extractor = Extractor(fast=fast)
    list(extractor.extract_many(items[:20], n_process=n_process))  # caches, imports
    gc.collect()
    gc.disable()
    try:
        results = list(extractor.extract_many(items, n_process=n_process))
        cyclic = gc.collect()
    finally:
        gc.enable()
    assert len(results) == len(items) and sum(not r.ok for r in results) == 4
    assert cyclic == 0


@pytest.mark.parametrize("lines", [False, True], ids=["records", "json_lines"])
def test_a_worker_leaves_no_cyclic_garbage(
    corpus_texts: list[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch, lines: bool
) -> None:
    # A worker pauses its collector over each run of a batch's texts, so a
    # reference cycle made there would stay until the run ends, and a worker's
    # memory would grow with its batches: there must be none. The batch as a
    # worker gets it (texts alone, the others pickled), done by the worker's
    # own function here, where the collector can be counted; with the records
    # as plain data and as the JSON lines the command line's workers write.
    items: list[Any] = [*corpus_texts[:300], None, 5, {"text": "x", "metadata": 3}]
    items += ["\ud800 tariffs", {"id": "m", "text": "Tariffs fell.", "metadata": {"k": 1}}]
    items.append({"id": "e", "error": "unreadable", "error_type": "OSError"})
    monkeypatch.setattr(extract, "_WORKER", Extractor())
    monkeypatch.setattr(extract, "_FOLDER", str(tmp_path))  # results go by file, as in a pool
    sent = [extract._taken(extract._coerce(item, k)).sent for k, item in enumerate(items)]
    extract._received(extract._work(sent[:20], "record", lines, 0))  # caches, imports
    gc.collect()
    gc.disable()
    try:
        results, failure, _ = extract._received(extract._work(sent, "record", lines, 0))
        cyclic = gc.collect()
    finally:
        gc.enable()
    assert failure is None and len(results) == len(items) and all(results)
    assert cyclic == 0


_PROBE = """
import gc, json, os, sys, threading
from policy_topics import Extractor, _gc

class Probe(Extractor):
    def extract(self, text, **options):
        options["metadata"] = {
            "collecting": gc.isenabled(),
            "caller": _gc.caller_collects(),
            "pauses": _gc._pauses,
            "pid": os.getpid(),
            "spawned": __name__ == "__mp_main__",
        }
        return super().extract(text, **options)

if __name__ == "__main__":  # spawned workers import this file again
    probe = Probe()
    if sys.argv[1] == "off":  # after loading spaCy: srsly's loader turns the collector on
        gc.disable()
    stop = threading.Event()
    if sys.argv[2] == "spawn":  # with another thread running, the pool spawns its workers
        threading.Thread(target=stop.wait).start()
    texts = ["We cut tariffs.", "Solar power grew.", "Rain.", "Banks lend."]
    results = probe.extract_many(texts, n_process=2, batch_size=1)
    with _gc.collector_paused():  # the pool starts at the first result, inside a pause
        first = next(results)
    made = [first.metadata] + [r.metadata for r in results]
    stop.set()
    print(json.dumps(made + [{"parent": os.getpid()}]))
"""


@pytest.mark.parametrize("start", ["fork", "spawn"])
@pytest.mark.parametrize("setting", ["on", "off"])
def test_workers_started_while_a_result_is_made_collect_as_the_caller(
    setting: str, start: str, tmp_path: Path
) -> None:
    # The pool starts inside the caller's pause; a forked worker must not keep
    # it for life, and a spawned one, which starts with the collector on, must
    # turn it off when the caller did. A fresh process, where no other thread
    # runs unless the probe starts one, so the pool forks or spawns.
    if start not in multiprocessing.get_all_start_methods():
        pytest.skip(f"needs {start}")
    probe = tmp_path / "probe.py"
    probe.write_text(_PROBE, encoding="utf-8")
    proc = subprocess.run(
        [sys.executable, str(probe), setting, start],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    *made, parent = json.loads(proc.stdout)
    assert {m["pid"] for m in made} and parent["parent"] not in {m["pid"] for m in made}
    # Paused while a document is made, as with one process; the worker's own
    # pause only (none kept from the parent), the caller's setting outside it.
    assert [m["collecting"] for m in made] == [False] * 4
    assert [m["pauses"] for m in made] == [1] * 4
    assert [m["caller"] for m in made] == [setting == "on"] * 4
    assert [m["spawned"] for m in made] == [start == "spawn"] * 4
