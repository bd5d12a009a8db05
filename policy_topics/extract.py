"""The one-call API: :class:`Extractor`.

Example:
    >>> from policy_topics import Extractor
    >>> result = Extractor().extract("Both sides agreed to cut tariffs on electric vehicles.")
    >>> sorted(area.topic for area in result.areas)
    ['energy', 'trade']
"""

from __future__ import annotations

import contextlib
import functools
import gc
import inspect
import itertools
import logging
import math
import multiprocessing
import os
import pickle
import shutil
import signal
import tempfile
import threading
import time
import warnings
from collections import deque
from collections.abc import Callable, Generator, Iterable, Iterator, Mapping, Sized
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, cast

import spacy
from pydantic_core import PydanticSerializationError, to_json
from spacy.language import Language

from policy_topics._gc import (
    caller_collects,
    collector_paused,
    each_made_paused,
    loaded,
    made_paused,
    unpickled_as_found,
)
from policy_topics.cpus import more_than_usable, resolve_n_process
from policy_topics.errors import WorkerStartError
from policy_topics.hits import SentenceHits
from policy_topics.matching import PolicyTopics
from policy_topics.pages import check_pages
from policy_topics.plain import is_missing, is_whole_number, plain_id, plain_value
from policy_topics.readers import Source
from policy_topics.records import DocumentResult, ErrorInfo, _LineResult
from policy_topics.scoring import ResultBuilder, check_options
from policy_topics.taxonomy import Taxonomy, load_taxonomy
from policy_topics.text import counted, replace_surrogates
from policy_topics.writers import record_json

__all__ = ["Extractor", "Item"]

logger = logging.getLogger("policy_topics")

#: What :meth:`Extractor.extract_many` accepts per document.
Item = str | tuple[str, Mapping[str, Any]] | Mapping[str, Any]

# A document's result as plain data (or its error record), and what a worker returns:
# each document's pickled separately, so the parent unpickles one at a time and its
# short-lived objects die young instead of filling the older GC generations.
_Prepared = dict[str, Any] | DocumentResult
#: A worker's batch: its results, the exception that stopped it (on_error="raise"),
#: and what it logged, as the fields of each log record (see _Relayed).
_Batch = tuple[list[bytes | None], BaseException | None, list[dict[str, Any]]]
#: What a worker sends back: its batch, or the name of the file holding it.
_Outcome = _Batch | str

# How long an aborted pool's workers may take to finish the batches they hold.
_GRACE_SECONDS = 10.0

# How often a worker looks whether the process that started it is still there.
_WATCH_SECONDS = 0.5

# What extract_many(batch_size=None) sends to a worker at a time.
_AUTO_BATCH_CHARS = 64_000
_AUTO_BATCH_DOCS = 1_000

# How many times a re-run document goes again to a worker the system would not start.
# Once is enough in practice: the worker check_start then starts is used again.
_REFUSALS = 1

#: What an Extractor builds from its settings, left out when it is pickled.
_BUILT = frozenset(
    {"taxonomy", "_model_spec", "nlp", "_max_quotes", "_min_score", "component"}
    | {"_blank", "_result_builder", "fast"}
)
_SETTINGS = "__policy_topics_settings__"


@dataclass
class _Job:
    text: Any
    doc_id: str | None = None
    metadata: dict[str, Any] = field(default_factory=dict)
    error: ErrorInfo | None = None
    pages: Any = None
    position: int | None = None  # among extract_many's items, from 0
    #: The job as a worker process receives it, made when it was taken from the
    #: input (:func:`_taken`): its text alone, or it pickled; None when it does
    #: not pickle. Taken then, it holds the metadata as it was then, as one
    #: process would read it, even if the caller changes it later.
    sent: str | bytes | None = None

    @property
    def name(self) -> str:
        """How messages name the document: its id, else ``#<position>`` as tables do."""
        if self.doc_id is not None or self.position is None:
            return str(self.doc_id)
        return f"#{self.position}"


class Extractor:
    """Extract cooperation areas, with verbatim evidence, from documents.

    Args:
        taxonomy: A Taxonomy, a YAML path or a packaged name (default ``"default"``).
        model: None for ``spacy.blank(<taxonomy language>)`` with our own sentence
            segmentation (no download), or a trained pipeline: its name, its
            path or a loaded ``Language``; its lemmas and sentence boundaries
            are then used.
        max_quotes: Most quotes kept per area (None keeps all).
        min_score: Areas scoring below this are left out.
        fast: Tokenise only sentences that can hold a term. The results are
            identical to the plain path; it only applies to a blank pipeline
            whose tokenizer has no special case holding a space.

    Raises:
        ValueError: ``max_quotes`` is negative or ``min_score`` lies outside [0, 1].
        TaxonomyError: The taxonomy cannot be loaded (the message says where and why).

    Example:
        >>> extractor = Extractor(max_quotes=2)
        >>> extractor.extract("We will deepen energy cooperation.").areas[0].label
        'Energy'
    """

    def __init__(
        self,
        taxonomy: str | Path | Taxonomy = "default",
        model: str | Path | Language | None = None,
        *,
        max_quotes: int | None = 5,
        min_score: float = 0.0,
        fast: bool = True,
    ) -> None:
        max_quotes, min_score = check_options(max_quotes, min_score)
        self.taxonomy = load_taxonomy(taxonomy)
        self._model_spec = model
        if model is None:
            nlp = spacy.blank(self.taxonomy.language)
        elif isinstance(model, Language):
            nlp = model
        else:
            nlp = loaded(spacy.load, model)  # srsly switches the collector: see _gc.loaded
        self.nlp = nlp
        self._max_quotes = max_quotes
        self._min_score = min_score
        self.component = PolicyTopics(
            nlp, taxonomy=self.taxonomy, max_quotes=max_quotes or 0, min_score=min_score
        )
        self._blank = not nlp.pipe_names
        self._result_builder: ResultBuilder | None = None
        self.fast = fast and self._blank and self.component.lexicon.splits_runs
        if self.fast:
            # The fast path copies the tokenizer (a tenth of a second): part of
            # building, not of the first document.
            _ = self.component.lexicon.fast

    @property
    def max_quotes(self) -> int | None:
        """Most quotes kept per area (None keeps all); checked when set."""
        return self._max_quotes

    @max_quotes.setter
    def max_quotes(self, value: int | None) -> None:
        self._max_quotes, _ = check_options(value, self._min_score)

    @property
    def min_score(self) -> float:
        """Areas scoring below this are left out (0 to 1); checked when set."""
        return self._min_score

    @min_score.setter
    def min_score(self, value: float) -> None:
        _, self._min_score = check_options(self._max_quotes, value)

    def __repr__(self) -> str:
        return (
            f"Extractor(taxonomy={self.taxonomy.name!r}, language={self.nlp.lang!r}, "
            f"pipeline={self.nlp.pipe_names!r})"
        )

    def __getstate__(self) -> dict[str, Any]:
        """An Extractor pickles as its settings, with what a subclass added; not its pipeline.

        Unpickling builds the pipeline again from the taxonomy and the model
        (a loaded ``Language`` travels with it; a name or path is loaded
        again), as spawned worker processes do. A subclass keeps its own
        attributes and need not take the same arguments.
        """
        state = {k: v for k, v in self.__dict__.items() if k not in _BUILT}
        model = self._model_spec
        state[_SETTINGS] = (
            self.taxonomy,
            # srsly's loader under a Language's unpickling turns the collector on.
            unpickled_as_found(model) if isinstance(model, Language) else model,
            self._max_quotes,
            self._min_score,
            self.fast,
        )
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        state = dict(state)
        taxonomy, model, max_quotes, min_score, fast = state.pop(_SETTINGS)
        Extractor.__init__(
            self, taxonomy, model, max_quotes=max_quotes, min_score=min_score, fast=fast
        )
        self.__dict__.update(state)

    # --- one document ------------------------------------------------------------------

    def extract(
        self,
        text: str,
        *,
        doc_id: str | int | None = None,
        metadata: Mapping[str, Any] | None = None,
        pages: Iterable[tuple[int, int]] | None = None,
    ) -> DocumentResult:
        """Tag one document.

        Args:
            text: The document text; offsets in the result index into it.
            doc_id: Your id for the document, copied into the result (a number
                becomes its string, as in :meth:`extract_many`: ``2.0`` gives
                ``"2"``, NaN or ``pd.NA`` no id).
            metadata: Your metadata, copied into the result; numpy and pandas
                values become plain ones (:func:`~policy_topics.plain.plain_value`).
            pages: Where the pages of a PDF begin in ``text``, as ``(page,
                start)`` pairs (:mod:`policy_topics.pages`): ``page`` a whole
                number from 1, ``start`` a character offset, each page and
                each start after the one before. Each quote's ``page`` is then the page its sentence
                starts on (None before the first start); without ``pages``
                (None, or a missing value such as NaN) every quote's ``page`` is None.

        Returns:
            The DocumentResult. Empty or blank text gives a valid empty result.

        Raises:
            TypeError: ``text`` is not a str (bytes must be decoded first), or
                ``metadata`` is no mapping.
            ValueError: ``metadata`` holds values that cannot be written as JSON;
                ``pages`` are not such pairs, or lie outside the text.

        Example:
            >>> Extractor().extract("   ").areas
            []
            >>> text = "Page one.\\n\\nWe cut tariffs."
            >>> Extractor().extract(text, pages=[(1, 0), (2, 11)]).areas[0].quotes[0].page
            2
        """
        return DocumentResult.model_validate(self._payload(text, plain_id(doc_id), metadata, pages))

    def _payload(
        self,
        text: str,
        doc_id: str | None,
        metadata: Mapping[str, Any] | None,
        pages: Any = None,
    ) -> dict[str, Any]:
        if not isinstance(text, str):
            raise TypeError(f"text must be str, not {type(text).__name__}{_hint(text)}")
        if metadata is not None and not isinstance(metadata, Mapping):
            raise TypeError(_not_a_mapping("metadata", metadata))
        if metadata:
            metadata = _json_metadata(metadata)
        # A table's empty cell (NaN, pd.NA) is no pages, as None is.
        pages = None if is_missing(pages) else check_pages(pages, len(text))
        spans, hits = self._match(text)
        return self._builder().payload(
            text, spans, hits, doc_id=doc_id, metadata=metadata, pages=pages
        )

    def _builder(self) -> ResultBuilder:
        # Rebuilt when the caller changed max_quotes or min_score since the last call.
        builder = self._result_builder
        if (
            builder is None
            or builder.max_quotes != self.max_quotes
            or builder.min_score != self.min_score
        ):
            builder = self._result_builder = ResultBuilder(
                self.taxonomy,
                language=self.nlp.lang or "",
                max_quotes=self.max_quotes,
                min_score=self.min_score,
            )
        return builder

    def _match(self, text: str) -> tuple[list[tuple[int, int]], dict[int, SentenceHits]]:
        if self.fast:
            lexicon = self.component.lexicon
            spans = lexicon.sentences(text)
            return spans, lexicon.match_text(text, spans)
        if self._blank:
            self.nlp.max_length = max(self.nlp.max_length, len(text) + 1)
        doc = self.nlp(replace_surrogates(text))
        return self.component.match(doc, prefilter=False)

    # --- many documents ----------------------------------------------------------------

    def extract_many(
        self,
        items: Iterable[Item],
        *,
        n_process: int = 1,
        batch_size: int | None = None,
        progress: bool = False,
        on_error: Literal["record", "raise"] = "record",
    ) -> Iterator[DocumentResult]:
        """Tag a stream of documents, lazily, one result per input, in input order.

        With ``n_process > 1`` documents go in batches to a pool of worker
        processes; at most ``2 * n_process + 1`` batches are in flight, so memory
        stays flat on endless streams. The results are identical for any
        ``n_process``. A worker that dies (killed, out of memory) costs only the
        document it was working on: the batches it held are re-run one
        document at a time, and that document gets an error record.

        Args:
            items: Strings, ``(text, metadata)`` tuples (metadata None for none),
                or mappings with ``text`` and optional ``id``, ``meta`` (or
                ``metadata``) and ``pages``
                (where the pages of a PDF begin, as :meth:`extract` takes them;
                documents of PDFs from :func:`~policy_topics.io.read_documents`
                have them; ``pages`` that are no such pairs give that
                document an error record; a subclass's own :meth:`extract`
                gets them only if it takes ``pages`` or ``**kwargs``, else its
                quotes have no page). A mapping with an ``error`` message (a
                non-empty string; optional ``error_type``), as
                :func:`policy_topics.io.read_documents` yields for an unreadable
                file, becomes an error record; an ``error`` of another type (a
                frame's own column of numbers) is ignored. A mapping whose
                ``source`` is a :class:`~policy_topics.io.Source` (``read_documents(...,
                defer=True)``) is read where it is tagged: in a worker process
                with ``n_process > 1``. A pandas Series gives each document
                its index label as id (unless a mapping in it has an ``id``).
                Ids become strings and metadata plain values, as in :meth:`extract`.
            n_process: Worker processes; results are identical for any value.
                When ``items`` has a length, no more start than the batches it
                makes, and at least one: its length over ``batch_size``, rounded
                up, when that is given; with ``batch_size=None``, a list, a
                tuple or a Series is weighed by its texts as the batches are
                made (an unread file by its size, at least a quarter of a
                batch), and other inputs count a batch a document.
                -1 starts one per CPU this process may use, as
                ``nlp.pipe(n_process=-1)`` does in spaCy, but counting only the
                CPUs its affinity and the cgroup quotas over it allow (a
                container's, a systemd service's: :func:`~policy_topics.cpus.usable_cpus`).
                More than that warns (``UserWarning``): each worker holds a pipeline.
            batch_size: Documents sent to a worker at a time. None (the default)
                sends about 64,000 characters of text at a time (at most 1,000
                documents), so short and long documents both travel in batches
                worth the cost of the hand-over.
            progress: Show a progress bar (tqdm) on stderr.
            on_error: ``"record"`` yields a result whose ``error`` says what went
                wrong and goes on; ``"raise"`` stops at the first failure, after
                yielding the results before it. A worker process sends its
                exception back pickled: one that does not unpickle (its
                ``__init__`` takes other arguments than its message) comes as a
                RuntimeError that names its type and message.

        Returns:
            A lazy iterator of DocumentResults, one per input. Python's cyclic
            garbage collector is paused while each result is made (not while
            the input is read), so that it makes one pass where it would make
            several over a large record in the making; when a pause ends, it
            starts what came due. Between results, while the caller's code
            runs, it is as the caller left it. A worker process pauses its own
            over each run of a batch's texts, and for each file it reads.

        Raises:
            ValueError: at once for bad arguments; while iterating with
                ``on_error="raise"``, for an input that carries an error.
            TypeError: at once for one str, one mapping or a DataFrame in place of
                documents.
            WorkerStartError: while iterating with ``n_process > 1``, when the
                system refuses to start worker processes, or they die on start-up.

        Example:
            >>> texts = ["Tariffs fell.", {"id": "b", "text": "Grid investment grew."}, None]
            >>> [(r.doc_id, r.ok) for r in Extractor().extract_many(texts)]
            [(None, True), ('b', True), (None, False)]
        """
        if on_error not in ("record", "raise"):
            raise ValueError(f"on_error must be 'record' or 'raise', not {on_error!r}")
        n_process = resolve_n_process(n_process)
        if batch_size is not None and (not is_whole_number(batch_size) or batch_size < 1):
            raise ValueError(f"batch_size must be a whole number >= 1 or None, not {batch_size!r}")
        batch_size = None if batch_size is None else int(batch_size)
        _check_documents(items)
        # What can be gone through twice, to weigh it before it is tagged.
        weighable: Iterable[Any] | None = items if isinstance(items, list | tuple) else None
        if _is_series(items):
            series: Any = items
            items = (_labelled(label, item) for label, item in series.items())
            total: int | None = len(series)
            weighable = series  # its values
        else:
            total = len(items) if isinstance(items, Sized) else None
        workers, given = n_process, f"n_process={n_process}"
        if total is not None and n_process > 1:
            # No more workers than batches: each would start (spawned, in a notebook:
            # seconds), and hold a pipeline, for nothing. One still starts for one
            # document: a worker that dies then costs that document, not the caller.
            if batch_size is None and weighable is not None:
                batches = _auto_batches(weighable, n_process)
                each = f"of about {_AUTO_BATCH_CHARS:,} characters"
            elif batch_size is not None:
                batches, each = -(-total // batch_size), f"of {batch_size}"
            else:
                batches, each = total, ""
            workers = max(1, min(n_process, batches))
            if workers < n_process:
                given += f" over {counted(total, 'document')}"
                if each:
                    given += f" in batches {each}"
        too_many = more_than_usable(workers, given)
        if too_many is not None:
            warnings.warn(too_many, UserWarning, stacklevel=2)
        return self._many(items, total, n_process, batch_size, progress, on_error, workers=workers)

    def _many(
        self,
        items: Iterable[Item],
        total: int | None,
        n_process: int,
        batch_size: int | None,
        progress: bool,
        on_error: Literal["record", "raise"],
        *,
        lines: bool = False,
        workers: int | None = None,
    ) -> Iterator[DocumentResult]:
        """:meth:`extract_many`, its input checked.

        With ``lines`` (the command line writing JSON Lines), the records that
        worker processes make come as :class:`~policy_topics.records._LineResult`:
        written out by the worker, for the main process to write as they came.
        ``workers`` is the size of the pool when ``n_process > 1`` (default
        ``n_process``).
        """
        inner: Generator[DocumentResult, None, None] = (
            self._sequential(items, on_error)
            if n_process == 1
            else self._run_parallel(
                map(_coerce, items, itertools.count()),
                n_process if workers is None else workers,
                batch_size,
                on_error,
                lines,
            )
        )
        results: Iterator[DocumentResult] = inner
        if progress:
            from tqdm import tqdm  # type: ignore[import-untyped]

            class Progress(tqdm):  # type: ignore[misc]
                # No monitor thread: a running thread would make forking workers unsafe.
                monitor_interval = 0

            results = iter(Progress(inner, total=total, unit="doc", desc="policy-topics"))
        try:
            yield from results
        finally:
            inner.close()  # stops the workers at once when the caller stops early

    def _sequential(
        self, items: Iterable[Item], on_error: str
    ) -> Generator[DocumentResult, None, None]:
        # The caller's input is read outside the pause: see _gc._Tracked.
        plain = type(self).extract is Extractor.extract
        for position, item in enumerate(items):
            yield made_paused(self._one, item, position, plain, on_error)

    def _one(self, item: Item, position: int, plain: bool, on_error: str) -> DocumentResult:
        # Plain strings, the usual input, skip the bookkeeping of a job; a failure
        # takes the general path, which turns it into an error record.
        if plain and type(item) is str:
            try:
                return DocumentResult.model_validate(self._payload(item, None, None))
            except Exception:
                pass
        return self._run(_coerce(item, position), on_error)

    def _run(self, job: _Job, on_error: str) -> DocumentResult:
        return self._finish(job, self._prepare(job, on_error), on_error)

    def _prepare(self, job: _Job, on_error: str) -> _Prepared:
        """The first half of a document's work: its result as plain data, or its error record.

        Worker processes run this half and the parent :meth:`_finish`: plain data
        crosses between processes several times faster than models.
        """
        if job.error is None and isinstance(job.text, Source):
            _load(job)
        if job.error is None:
            try:
                own = type(self).extract
                if own is not Extractor.extract:  # a subclass's own extract
                    # pages only to one that takes them: an older override may not
                    taken = job.pages is not None and _takes_pages(own)
                    paged = {"pages": job.pages} if taken else {}
                    return self.extract(job.text, doc_id=job.doc_id, metadata=job.metadata, **paged)
                return self._payload(job.text, job.doc_id, job.metadata, job.pages)
            except Exception as exc:
                if on_error == "raise":
                    raise
                logger.warning("document %s failed: %s", job.name, exc)
                job.error = ErrorInfo(type=type(exc).__name__, message=str(exc))
        elif on_error == "raise":
            raise ValueError(f"document {job.name}: {job.error.message}")
        return _error_result(job, self)

    def _finish(self, job: _Job, prepared: _Prepared | bytes, on_error: str) -> DocumentResult:
        """The second half: validate the plain data (or its JSON) into a DocumentResult."""
        if isinstance(prepared, DocumentResult):
            return prepared
        try:
            if isinstance(prepared, bytes):
                return DocumentResult.model_validate_json(prepared)
            return DocumentResult.model_validate(prepared)
        except Exception as exc:  # e.g. metadata that is no JSON object
            if on_error == "raise":
                raise
            logger.warning("document %s failed: %s", job.name, exc)
            job.error = ErrorInfo(type=type(exc).__name__, message=str(exc))
            return _error_result(job, self)

    def _run_parallel(
        self,
        jobs: Iterator[_Job],
        n_process: int,
        batch_size: int | None,
        on_error: str,
        lines: bool = False,
    ) -> Generator[DocumentResult, None, None]:
        workers = _Workers(self, n_process, lines)
        pending: deque[tuple[list[_Job], Future[_Outcome] | None]] = deque()
        most = batch_size or _AUTO_BATCH_DOCS
        finished = False
        failure: Exception | None = None
        try:
            batch: list[_Job] = []
            chars = 0
            while True:
                try:
                    job = next(jobs)
                except StopIteration:
                    break
                except Exception as exc:
                    # The caller's input failed (a lost connection, a bad file): the
                    # documents before it come out first, as with one process.
                    failure = exc
                    break
                batch.append(_taken(job))
                if batch_size is None:
                    chars += _weight(job.text)
                if _full(len(batch), chars, most):
                    pending.append((batch, workers.submit(batch, on_error)))
                    batch, chars = [], 0
                    while pending and (len(pending) > 2 * n_process or _done(pending[0][1])):
                        yield from each_made_paused(self._collect(pending, workers, on_error))
            if batch:
                pending.append((batch, workers.submit(batch, on_error)))
            while pending:
                yield from each_made_paused(self._collect(pending, workers, on_error))
            finished = True
            if failure is not None:
                raise failure
        finally:
            # Stopped early (closed, interrupted, an error raised): the batches the
            # workers hold are dropped, even the one whose results were being handed
            # out, rather than waited for; a batch of unread files can take long.
            workers.close(abort=not finished)

    def _collect(
        self,
        pending: deque[tuple[list[_Job], Future[_Outcome] | None]],
        workers: _Workers,
        on_error: str,
    ) -> Iterator[DocumentResult]:
        batch, future = pending.popleft()
        if future is None:
            # No document of the batch could be sent (none pickles, as metadata
            # holding a function does not): do it here, as one process would.
            for job in batch:
                yield self._run(job, on_error)
            return
        try:
            results, failure, logged = _received(future.result())
        except BrokenProcessPool:
            # A dead worker breaks the whole pool: find the document that killed
            # it, then hand the other batches in flight to a fresh pool.
            workers.close(abort=True)
            yield from self._isolate(batch, on_error, workers.lines)
            for i, (other, _) in enumerate(pending):
                pending[i] = (other, workers.submit(other, on_error))
            return
        # Any other exception is a failure of the pool itself: it is raised, never
        # hidden by doing the work here instead.
        _relog(logged)
        yield from self._finish_all(batch, results, on_error)
        if failure is not None:
            raise failure

    def _finish_all(
        self, batch: list[_Job], results: list[bytes | None], on_error: str
    ) -> Iterator[DocumentResult]:
        for job, prepared in zip(batch, results, strict=False):
            if prepared is None:  # could not be sent to the worker: done here
                yield self._run(job, on_error)
                continue
            if prepared[:1] == b"{":  # plain data as JSON (see _packed)
                yield self._finish(job, prepared, on_error)
                continue
            loaded = pickle.loads(prepared)
            if type(loaded) is tuple:  # a record the worker wrote as its JSON line
                doc_id, error, line = loaded
                yield _LineResult.model_construct(
                    doc_id=doc_id,
                    error=None if error is None else ErrorInfo.model_construct(**error),
                    line=line,
                )
            else:
                yield self._finish(job, loaded, on_error)

    def _isolate(self, batch: list[_Job], on_error: str, lines: bool) -> Iterator[DocumentResult]:
        """Re-run a batch whose pool broke, one document at a time in one worker."""
        workers = _Workers(self, 1, lines)
        finished = False
        try:
            for job in batch:
                yield from self._alone(job, workers, on_error)
            finished = True
        finally:
            workers.close(abort=not finished)

    def _alone(self, job: _Job, workers: _Workers, on_error: str) -> Iterator[DocumentResult]:
        """One document of :meth:`_isolate`, sent again when its worker was refused."""
        for attempt in range(_REFUSALS + 1):
            future = workers.submit([job], on_error)
            if future is None:  # cannot be sent: do it here
                yield self._run(job, on_error)
                return
            try:
                results, failure, logged = _received(future.result())
            except BrokenProcessPool as exc:
                workers.close(abort=True)
                workers.check_start(exc)
                refused = _refusal(exc)
                if refused is not None and attempt < _REFUSALS:
                    # The system would not start its worker, and now starts one:
                    # the document never ran, so it has killed nothing yet.
                    continue
                if refused is not None:
                    message = (
                        "the system would not start a worker process for this document: "
                        f"{type(refused).__name__}: {refused}"
                    )
                    if on_error == "raise":
                        raise WorkerStartError(f"document {job.name}: {message}") from refused
                    logger.warning("document %s: %s", job.name, message)
                    job.error = ErrorInfo(type=WorkerStartError.__name__, message=message)
                else:
                    if on_error == "raise":
                        raise
                    logger.warning("document %s killed its worker process", job.name)
                    job.error = ErrorInfo(
                        type="WorkerDied",
                        message="the worker process died on this document "
                        "(killed, or out of memory)",
                    )
                yield _error_result(job, self)
                return
            _relog(logged)
            yield from self._finish_all([job], results, on_error)
            if failure is not None:
                raise failure
            return


class _Workers:
    """A process pool, started on first use and again after it was closed."""

    def __init__(self, extractor: Extractor, n_process: int, lines: bool = False) -> None:
        self._extractor = extractor
        self._n_process = n_process
        #: The workers write each record as its JSON line (see Extractor._many).
        self.lines = lines
        self._executor: ProcessPoolExecutor | None = None
        self._folder: str | None = None  # where the workers leave their results

    def _start(self) -> ProcessPoolExecutor:
        extractor = self._extractor
        # fork shares the loaded pipeline for free, but is only safe while this
        # process runs no other thread; spawn unpickles the Extractor, which
        # builds its pipeline anew (Extractor.__getstate__).
        fork = "fork" in multiprocessing.get_all_start_methods() and threading.active_count() == 1
        if not fork:
            try:
                pickle.dumps(extractor, pickle.HIGHEST_PROTOCOL)
            except Exception as exc:
                raise TypeError(
                    f"n_process > 1 spawns worker processes here (another thread is "
                    f"running), and this {type(extractor).__name__} cannot be sent to them: "
                    f"{exc}; give it only attributes that pickle, or use n_process=1"
                ) from exc
        try:
            self._folder = tempfile.mkdtemp(prefix="policy-topics-")
        except OSError:  # no room for it: the results go through the pipe
            self._folder = None
        try:
            return ProcessPoolExecutor(
                self._n_process,
                mp_context=multiprocessing.get_context("fork" if fork else "spawn"),
                initializer=_init_worker,
                # This process's id, not the worker's os.getppid() at start-up: a worker
                # spawned while this process is being killed would watch its new parent.
                # Whether the caller collects: a spawned worker starts with the
                # collector on, a forked one as the caller has it.
                initargs=(extractor, self._folder, os.getpid(), caller_collects()),
            )
        except BaseException:
            # No pool (no working semaphores, say): no folder left behind either.
            if self._folder is not None:
                shutil.rmtree(self._folder, ignore_errors=True)
                self._folder = None
            raise

    def submit(self, batch: list[_Job], on_error: str) -> Future[_Outcome] | None:
        """Send a batch to a worker; None when none of its documents can be sent.

        Each document goes as :func:`_taken` made it (its text alone, or it
        pickled); one that does not pickle, or does not unpickle in the
        worker, comes back as None, and this process does it.
        """
        if batch and all(job.sent is None for job in batch):
            return None
        if self._executor is None:
            self._executor = self._start()
        try:
            # Strings, bytes and None, which always pickle: the pool's feeder thread
            # can send them without another copy made here first. A batch holds
            # documents one after the other: a text alone is known by its place.
            first = batch[0].position if batch else None
            sent = [job.sent for job in batch]
            return self._executor.submit(_work, sent, on_error, self.lines, first)
        except (BrokenProcessPool, OSError, ValueError) as exc:
            # A worker died since the last batch was sent: this batch fails as
            # the batches in flight do, and is done again with them. The pool may
            # also fail to start the dead worker's replacement before it knows
            # it is broken (spawned, "bad value(s) in fds_to_keep"): the same.
            broken = exc if isinstance(exc, BrokenProcessPool) else BrokenProcessPool(str(exc))
            if broken is not exc:
                broken.__cause__ = exc
            failed: Future[_Outcome] = Future()
            failed.set_exception(broken)
            return failed

    def check_start(self, cause: BaseException) -> None:
        """Raise WorkerStartError when a fresh worker cannot start, or dies before any work."""
        future = self.submit([], "record")
        assert future is not None  # an empty batch always pickles
        try:
            _received(future.result())
        except BrokenProcessPool as broken:
            self.close(abort=True)
            refused = _refusal(broken)
            if refused is not None:
                raise WorkerStartError(
                    f"cannot start a worker process: {type(refused).__name__}: {refused}; "
                    "the system refuses new processes (a limit on processes or on "
                    "memory): ask for fewer worker processes, or for one"
                ) from refused
            raise WorkerStartError(
                "worker processes die on start-up; with the 'spawn' start method the "
                "main module must guard its code with `if __name__ == '__main__':`"
            ) from cause

    def close(self, *, abort: bool) -> None:
        """Stop the pool; with ``abort``, drop the batches not started yet.

        The batches the workers hold are allowed to finish (their results are
        dropped); only a worker still busy after ``_GRACE_SECONDS`` is killed.
        The pool's own thread is waited for too: a thread left running would
        make the next pool spawn its workers instead of forking them. The
        results left in the pool's folder go with it.
        """
        executor, self._executor = self._executor, None
        folder, self._folder = self._folder, None
        if executor is None:
            return
        try:
            self._stop(executor, abort)
        finally:
            # Also when a second Ctrl-C cuts the wait for the workers short: their
            # results (megabytes a batch) would stay in the temporary folder.
            if folder is not None:
                shutil.rmtree(folder, ignore_errors=True)

    @staticmethod
    def _stop(executor: ProcessPoolExecutor, abort: bool) -> None:
        # shutdown(wait=False) forgets the thread, and a later shutdown cannot join it.
        manager: threading.Thread | None = getattr(executor, "_executor_manager_thread", None)
        if abort:
            processes = list((getattr(executor, "_processes", None) or {}).values())
            executor.shutdown(wait=False, cancel_futures=True)
            deadline = time.monotonic() + _GRACE_SECONDS
            for process in processes:
                process.join(max(0.0, deadline - time.monotonic()))
            if any(process.is_alive() for process in processes):
                terminate = getattr(executor, "terminate_workers", None)  # Python 3.14+
                if terminate is not None:
                    terminate()
                for process in processes:
                    if process.is_alive():
                        process.terminate()
        executor.shutdown(wait=True, cancel_futures=True)
        if manager is not None:
            manager.join(_GRACE_SECONDS)


def _auto_batches(items: Iterable[Any], most: int) -> int:
    """The batches ``batch_size=None`` makes of ``items``, counted up to ``most``.

    As :meth:`Extractor._run_parallel` makes them (:func:`_full`), each item
    weighed as its job will be (:func:`_item_weight`).
    """
    batches = docs = chars = 0
    for item in items:
        docs += 1
        chars += _item_weight(item)
        if _full(docs, chars, _AUTO_BATCH_DOCS):
            batches, docs, chars = batches + 1, 0, 0
            if batches >= most:
                return batches
    return batches + (docs > 0)


def _full(docs: int, chars: int, most: int) -> bool:
    """Whether a batch of ``docs`` documents weighing ``chars`` goes to a worker now."""
    return docs >= most or chars >= _AUTO_BATCH_CHARS


def _refusal(broken: BrokenProcessPool) -> OSError | None:
    """The system's refusal to start a worker, when that broke the pool (see submit)."""
    cause = broken.__cause__
    return cause if isinstance(cause, OSError) else None


def _done(future: Future[_Outcome] | None) -> bool:
    return future is None or future.done()


def _is_frame(items: Any) -> bool:
    """Whether items are a pandas or Dask DataFrame (or one like them)."""
    return type(items).__name__ == "DataFrame" and hasattr(items, "columns")


def _check_documents(items: Any) -> None:
    """Refuse at once what iterates, but not over documents: one text, one mapping, a DataFrame."""
    if isinstance(items, str | bytes):
        raise TypeError(
            f"items must be an iterable of documents, not one {type(items).__name__}: "
            "pass [text], or call extract(text)"
        )
    if isinstance(items, Mapping):
        # Iterating one would tag its keys ("id", "text") as documents.
        raise TypeError(
            "items must be an iterable of documents, not one mapping: pass [document] "
            "for one document with 'text' (and 'id', 'meta'); for texts keyed by id, "
            "pass pandas.Series(mapping), whose index gives the ids"
        )
    if _is_frame(items):
        raise TypeError(
            "items must be documents, not a DataFrame (iterating one gives its column "
            "names): pass frame.to_dict('records') with 'text' and 'id' columns, or "
            "frame['text'] (its index gives the ids); for a Dask DataFrame, use "
            "policy_topics.dask.extract_dataframe"
        )
    if _is_dask_series(items):
        # Iterating one gives its values without its index: the ids were lost.
        raise TypeError(
            "items must be documents, not a Dask Series (iterating one loses its index, "
            "which gives the ids): use policy_topics.dask.extract_dataframe("
            "series.to_frame(), series.name), or pass series.compute()"
        )


def _is_dask_series(items: Any) -> bool:
    return type(items).__name__ == "Series" and type(items).__module__.startswith("dask")


def _is_series(items: Any) -> bool:
    """Whether items are a pandas Series: their index gives the documents' ids."""
    return (
        type(items).__name__ == "Series"
        and type(items).__module__.startswith("pandas")
        and hasattr(items, "items")
    )


def _labelled(label: Any, item: Any) -> Any:
    """An item of a pandas Series, with the Series' label as id unless it has one."""
    if isinstance(item, Mapping):
        return item if plain_id(item.get("id")) is not None else {**item, "id": label}
    if (
        isinstance(item, tuple)
        and len(item) == 2
        and (isinstance(item[0], str) or isinstance(item[1], Mapping | None))
    ):
        if item[1] is not None and not isinstance(item[1], Mapping):
            job = _coerce(item)  # an error record that names the tuple, not a field
            job.doc_id = plain_id(label)
            return job
        return {"id": label, "text": item[0], "meta": item[1]}  # (text, metadata)
    if isinstance(item, _Job):
        return item
    return {"id": label, "text": item}


def _coerce(item: Any, position: int | None = None) -> _Job:
    job = _coerce_any(item)
    job.position = position
    return job


def _coerce_any(item: Any) -> _Job:
    try:
        return _coerce_item(item)
    except Exception as exc:
        job = _Job(None, _id_if_readable(item))
        job.error = ErrorInfo(type=type(exc).__name__, message=f"unusable input item: {exc}")
        return job


def _id_if_readable(item: Any) -> str | None:
    """The id of an item that failed, when it has one that can be read."""
    try:
        return plain_id(item.get("id")) if isinstance(item, Mapping) else None
    except Exception:  # its fields cannot be read at all: the record has no id
        return None


def _coerce_item(item: Any) -> _Job:
    if isinstance(item, _Job):
        return item
    if isinstance(item, str):
        return _Job(item)
    if isinstance(item, tuple) and len(item) == 2:
        if isinstance(item[1], Mapping):
            return _Job(item[0], metadata=dict(item[1]))
        if item[1] is None and isinstance(item[0], str):  # no metadata, as extract takes it
            return _Job(item[0])
        if isinstance(item[0], str):
            raise TypeError(_not_a_mapping("the metadata of a (text, metadata) tuple", item[1]))
    if isinstance(item, Mapping):
        # The records of a DataFrame hold NaN (or pd.NA) where a column has no
        # value for a row: no metadata, no error, as None is.
        field = "meta" if not is_missing(item.get("meta")) else "metadata"
        meta = item.get(field)
        if is_missing(meta):
            meta = {}
        elif not isinstance(meta, Mapping):  # [] or "" too: they are no metadata
            raise TypeError(_not_a_mapping(f"field {field!r}", meta))
        source = item.get("source")
        text = item.get("text")
        if isinstance(source, Source) and is_missing(text):
            # A frame of deferred documents holds NaN as the text of each file to read.
            text = source
        job = _Job(text, plain_id(item.get("id")), dict(meta), pages=item.get("pages"))
        error = item.get("error")
        if _is_read_error(error):
            kind = item.get("error_type")
            job.error = ErrorInfo(
                type="ReadError" if is_missing(kind) else str(kind), message=str(error)
            )
        elif text is None and "text" not in item:
            job.error = ErrorInfo(type="KeyError", message="item has no 'text' field")
        return job
    if isinstance(item, tuple | list) or (
        type(item).__name__ in ("ndarray", "Series") and getattr(item, "ndim", 0) == 1
    ):
        # frame.iterrows(), frame.itertuples(), frame.values: rows, not documents.
        raise TypeError(
            f"an item of type {type(item).__name__} holding {len(item)} values is no "
            "document: pass a str, a (text, metadata) pair or a mapping with 'text'; for "
            "the rows of a DataFrame, frame.to_dict('records')"
        )
    return _Job(item)


def _is_read_error(error: Any) -> bool:
    """Whether an item's ``error`` field is a read error (``extract_many``, ``policy_topics.dask``).

    Only :func:`~policy_topics.io.read_documents`' message for a file it could not
    read, a non-empty string, is one. Any other value is not: a frame's own
    column of that name (a margin of error, a flag) would fail its documents.
    """
    return isinstance(error, str) and bool(error)


@functools.cache
def _takes_pages(extract: Callable[..., Any]) -> bool:
    """Whether a subclass's own ``extract`` takes ``pages`` (by name, or as ``**options``)."""
    try:
        parameters = inspect.signature(extract).parameters.values()
    except (TypeError, ValueError):  # no signature to read: let the call say
        return True
    return any(p.name == "pages" or p.kind is p.VAR_KEYWORD for p in parameters)


def _load(job: _Job) -> None:
    """Read the file a job's Source names: its text, or the error reading it gave."""
    assert isinstance(job.text, Source)
    document = job.text.read()
    if "error" in document:
        job.text = None
        job.error = ErrorInfo(type=str(document["error_type"]), message=str(document["error"]))
    else:
        job.text = document["text"]
        job.pages = document.get("pages")


def _item_weight(item: Any) -> int:
    """:func:`_weight` of the text :func:`_coerce_item` takes from ``item``, not coercing it.

    An item it turns into an error record (metadata that is no mapping) is
    weighed by its text all the same; one that cannot be read (a mapping
    whose ``get`` raises) weighs nothing here and is reported when its turn
    comes, as with one process.
    """
    try:
        if isinstance(item, _Job):
            return _weight(item.text)
        if isinstance(item, tuple) and len(item) == 2:
            return _weight(item[0])  # (text, metadata)
        if isinstance(item, Mapping):
            text, source = item.get("text"), item.get("source")
            return _weight(source if isinstance(source, Source) and is_missing(text) else text)
        return _weight(item)
    except Exception:
        return 0


def _weight(text: Any) -> int:
    """What a document counts towards a batch's characters.

    A file not yet read counts its bytes, and at least a quarter of a batch:
    reading it (a PDF above all) may take longer than tagging its text, so
    small files too go to the workers a few at a time.
    """
    if isinstance(text, str):
        return len(text)
    return max(text.size, _AUTO_BATCH_CHARS // 4) if isinstance(text, Source) else 0


def _error_result(job: _Job, extractor: Extractor) -> DocumentResult:
    fields: dict[str, Any] = {
        "doc_id": job.doc_id,
        "taxonomy": extractor.taxonomy.name,
        "taxonomy_version": extractor.taxonomy.version,
        "language": extractor.nlp.lang or "",
        "n_sentences": 0,
        "areas": [],
        "sentences": [],
        "error": job.error,
    }
    try:
        return DocumentResult(metadata=_json_metadata(job.metadata), **fields)
    except Exception:
        # The metadata itself may be what failed (keys that are not strings,
        # values JSON cannot hold): the record must still be written.
        return DocumentResult(metadata={}, **fields)


def _json_metadata(metadata: Mapping[str, Any]) -> dict[str, Any]:
    """Metadata with plain values; ValueError unless JSON can write it, as every result is."""
    plain: dict[str, Any] = {}
    for key, value in metadata.items():
        if not isinstance(key, str):
            raise TypeError(
                f"metadata key {key!r} is {type(key).__name__}, not a string: the keys of a "
                f"JSON object are strings; write it as {str(key)!r}"
            )
        try:
            plain[key] = plain_value(value)
        except Exception as error:  # e.g. a container that holds itself
            raise ValueError(
                f"metadata {key!r} ({type(value).__name__}) cannot be read: "
                f"{type(error).__name__}: {error}"
            ) from error
    infinite = next((k for k, v in plain.items() if _infinite_in(v)), None)
    if infinite is not None:
        # pydantic's JSON writes it as null: the record would not equal its JSON.
        raise ValueError(
            f"metadata {infinite!r} holds an infinite number, which JSON cannot write "
            "(it would read back as null): replace it, e.g. with None or a string"
        )
    try:
        to_json(plain)
    except PydanticSerializationError as exc:
        # Name the value at fault (a key that is no string fails only as a whole).
        bad = next((k for k, v in plain.items() if not _writable(v)), None)
        named = bad if bad is not None else next((k for k in plain if _surrogate_in(k)), None)
        surrogate = None if named is None else _surrogate_in(named if bad is None else plain[named])
        if surrogate is not None:
            # A str already: "convert it to str" would not help.
            where = repr(named) if bad is not None else f"key {named!r}"
            raise ValueError(
                f"metadata {where} holds a lone surrogate (U+{ord(surrogate):04X}, from a "
                "broken decode or a JSON '\\u' escape), which UTF-8 cannot write: replace "
                "it, e.g. with policy_topics.text.replace_surrogates"
            ) from exc
        if bad is None:
            raise ValueError(f"metadata cannot be written as JSON: {exc}") from exc
        raise ValueError(
            f"metadata {bad!r} ({type(plain[bad]).__name__}) cannot be written as JSON: "
            f"{exc}; convert it, e.g. to str"
        ) from exc
    return plain


def _infinite_in(value: Any) -> bool:
    """Whether a plain metadata value holds an infinite float (NaN became None)."""
    if type(value) is float:
        return math.isinf(value)
    if isinstance(value, Mapping):
        return any(map(_infinite_in, value.values()))
    if isinstance(value, list | tuple):
        return any(map(_infinite_in, value))
    return False


def _surrogate_in(value: Any) -> str | None:
    """The first lone surrogate in a value's strings (a mapping's keys too), if any."""
    if isinstance(value, str):
        return next((ch for ch in value if "\ud800" <= ch <= "\udfff"), None)
    if isinstance(value, Mapping):
        items: Iterable[Any] = itertools.chain.from_iterable(value.items())
    elif isinstance(value, list | tuple):
        items = value
    else:
        return None
    return next((found for item in items if (found := _surrogate_in(item)) is not None), None)


def _writable(value: Any) -> bool:
    try:
        to_json(value)
    except PydanticSerializationError:
        return False
    return True


def _hint(text: Any) -> str:
    """What a text that is no str may be."""
    if isinstance(text, bytes | bytearray):
        return "; decode bytes first"
    if is_missing(text):
        return " (a missing value: drop it, or pass an empty string)"
    return ""


def _not_a_mapping(what: str, value: Any) -> str:
    hint = "; use series.to_dict()" if type(value).__name__ == "Series" else ""
    return f"{what} is {type(value).__name__}, not a mapping{hint}"


_WORKER: Extractor | None = None
#: The pool's folder, where this worker process leaves its results (see _handed_over).
_FOLDER: str | None = None


def _init_worker(extractor: Extractor, folder: str | None, parent: int, collects: bool) -> None:
    global _WORKER, _FOLDER
    _FOLDER = folder
    if not collects:
        gc.disable()
    # The parent handles Ctrl-C and stops the workers; SIGTERM must kill at once.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    threading.Thread(
        target=_watch_parent,
        args=(parent, folder),
        name="policy-topics-watch",
        daemon=True,
    ).start()
    _WORKER = extractor
    # What this process logs goes to the parent with each batch, which logs it to its
    # own handlers, as one process would: a forked worker's copies of them (a list, a
    # queue, caplog) reach nothing, and a spawned worker has none of them.
    relayed = logging.getLogger("policy_topics")
    relayed.handlers = [_RELAYED]
    relayed.propagate = False
    # What the worker holds now (the pipeline, the taxonomy) lives as long as the
    # process: keep the garbage collector from walking it again and again.
    gc.freeze()


class _Relayed(logging.Handler):
    """Keeps the records a worker logs, for its batch to take to the parent (:func:`_relog`)."""

    def __init__(self) -> None:
        super().__init__()
        self.records: list[dict[str, Any]] = []

    def emit(self, record: logging.LogRecord) -> None:
        # The message as text, and only fields that pickle: its arguments, an
        # exception or an extra field may not, and the whole batch would be lost.
        fields = {key: value for key, value in vars(record).items() if type(value) in _SIMPLE}
        fields["msg"] = record.getMessage()
        self.records.append(fields)

    def taken(self) -> list[dict[str, Any]]:
        records, self.records = self.records, []
        return records


_RELAYED = _Relayed()
_SIMPLE = frozenset({str, int, float, bool, type(None)})


def _relog(logged: list[dict[str, Any]]) -> None:
    """Log in this process what a worker logged, to the handlers configured here."""
    for fields in logged:
        record = logging.makeLogRecord(fields)
        named = logging.getLogger(record.name)
        if named.isEnabledFor(record.levelno):
            named.handle(record)


def _watch_parent(parent: int, folder: str | None) -> None:
    """End this worker, and remove the pool's folder, once its parent process is gone.

    A parent killed outright (SIGKILL, the out-of-memory killer) never stops its
    pool: the workers would wait for batches for ever, each holding a pipeline,
    and the folder would stay. Once the parent is gone, this process is
    adopted by another, so ``os.getppid()`` changes. ``parent`` is the id the
    pool's process gave: one that died while this worker started up (a spawned
    worker takes seconds to import spaCy) is already not the parent here.
    """
    while os.getppid() == parent:
        time.sleep(_WATCH_SECONDS)
    if folder is not None:
        shutil.rmtree(folder, ignore_errors=True)
    os._exit(1)


def _work(
    sent: list[str | bytes | None], on_error: str, lines: bool, first: int | None = None
) -> _Outcome:
    """A batch's documents done in a worker; ``first`` is the place of its first among the input.

    The cyclic collector is paused over each run of documents that are
    already text, and collects what came due at its end: the code that
    tags them makes no reference cycles, and the worker froze what it holds
    when it started. A document read from a file here is made paused on its
    own, as one process makes each document: a reader may leave cycles
    (pypdf's), which must not pile up over a batch of files.
    """
    assert _WORKER is not None
    # One at a time, as each is reached: a batch's texts are not all held twice.
    jobs = (_unpack(packed, None if first is None else first + k) for k, packed in enumerate(sent))
    results: list[bytes | None] = []
    try:
        for reads, run in itertools.groupby(jobs, key=_reads_file):
            if reads:
                for job in run:
                    results.append(made_paused(_worked, job, on_error, lines))
                continue
            with collector_paused():
                for job in run:
                    results.append(_worked(job, on_error, lines))
    except Exception as exc:  # only with on_error="raise": hand back what was done first
        return _handed_over((results, exc, _RELAYED.taken()))
    return _handed_over((results, None, _RELAYED.taken()))


def _reads_file(job: _Job | None) -> bool:
    return job is not None and isinstance(job.text, Source)


def _worked(job: _Job | None, on_error: str, lines: bool) -> bytes | None:
    """One document of :func:`_work`; None for one the parent does, as one process would."""
    assert _WORKER is not None
    if job is None:
        return None
    prepared: object = _WORKER._prepare(job, on_error)
    if lines:
        result = _WORKER._finish(job, cast(_Prepared, prepared), on_error)
        error = None if result.error is None else result.error.model_dump()
        prepared = (result.doc_id, error, record_json(result))
    return _packed(prepared)


def _packed(prepared: object) -> bytes:
    """A worker's result for one document, as :meth:`Extractor._finish_all` unpacks it.

    A result as plain data without metadata goes as JSON, which the parent
    validates in one step (``model_validate_json``), faster than it unpickles
    and validates plain data. Metadata goes pickled: JSON would change some of
    its values (a datetime, a tuple, infinity). So does a text with a lone
    surrogate, which JSON cannot write. A pickle starts with its protocol byte
    (0x80), never with ``{``.
    """
    if type(prepared) is dict and not prepared.get("metadata"):
        with contextlib.suppress(PydanticSerializationError):
            return to_json(prepared)
    return pickle.dumps(prepared, pickle.HIGHEST_PROTOCOL)


def _taken(job: _Job) -> _Job:
    """The job as a worker receives it (``sent``), made when it is taken from the input.

    A document that is only its text (the usual input) goes as that string,
    which the batch's own pickle carries: nothing to pickle, copy or undo for
    it alone. Any other goes pickled now, on its own; ``sent`` stays None
    when it does not pickle (a function in its metadata).
    """
    if (
        type(job.text) is str
        and job.doc_id is None
        and not job.metadata
        and job.error is None
        and job.pages is None
    ):
        job.sent = job.text
        return job
    fields = (job.text, job.doc_id, job.metadata, job.error, job.pages, job.position)
    try:
        job.sent = pickle.dumps(fields, pickle.HIGHEST_PROTOCOL)
    except Exception:
        job.sent = None
    return job


def _unpack(packed: str | bytes | None, position: int | None) -> _Job | None:
    """:func:`_taken`'s job made again, or None when it cannot be here.

    A text alone is the document at ``position``. An object may pickle but
    not unpickle (an exception whose ``__init__`` takes other arguments, in
    the metadata): that document alone goes back to the parent, rather than
    the whole batch failing.
    """
    if type(packed) is str:
        return _Job(packed, position=position)
    if packed is None:
        return None
    try:
        return _Job(*pickle.loads(cast(bytes, packed)))
    except Exception:
        return None


def _handed_over(batch: _Batch) -> _Outcome:
    """The batch written to a file in the pool's folder, whose name goes back instead.

    A worker killed (by the out-of-memory killer, say) while it sends a large
    result through the pool's pipe leaves the pool's reader thread waiting for
    the rest of the message for ever, and the whole run hangs. A file name
    goes in one write of a few hundred bytes, which a pipe takes whole or not
    at all; a file half written by a killed worker is never named, and goes
    with the folder. When the file cannot be written (a full disk), the batch
    goes through the pipe as before.
    """
    if _FOLDER is None:
        return batch
    results, failure, logged = batch
    if failure is not None and not _round_trips(failure):
        # An exception that does not unpickle (an __init__ with other arguments)
        # would lose the results before it: it goes as a RuntimeError naming it.
        failure = RuntimeError(f"{type(failure).__name__}: {failure}")
        batch = results, failure, logged
    path = None
    try:
        fd, path = tempfile.mkstemp(suffix=".pickle", dir=_FOLDER)
        with os.fdopen(fd, "wb") as stream:
            pickle.dump(batch, stream, pickle.HIGHEST_PROTOCOL)
    except Exception:
        if path is not None:
            with contextlib.suppress(OSError):
                os.unlink(path)
        return batch
    return path


def _round_trips(exc: BaseException) -> bool:
    try:
        pickle.loads(pickle.dumps(exc, pickle.HIGHEST_PROTOCOL))
    except Exception:
        return False
    return True


def _received(outcome: _Outcome) -> _Batch:
    """A worker's batch, read from the file it names (then removed), or as it came."""
    if not isinstance(outcome, str):
        return outcome
    try:
        with open(outcome, "rb") as stream:
            batch: _Batch = pickle.load(stream)
    finally:
        with contextlib.suppress(OSError):
            os.unlink(outcome)
    return batch
