"""The one-call API: :class:`Extractor`.

Example:
    >>> from policy_topics import Extractor
    >>> result = Extractor().extract("Both sides agreed to cut tariffs on electric vehicles.")
    >>> sorted(area.topic for area in result.areas)
    ['energy', 'trade']
"""

from __future__ import annotations

import logging
import multiprocessing
from collections import deque
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import spacy
from spacy.language import Language

from policy_topics.matching import PolicyTopics
from policy_topics.records import DocumentResult, ErrorInfo
from policy_topics.scoring import build_result
from policy_topics.taxonomy import Taxonomy, load_taxonomy
from policy_topics.terms import SentenceHits
from policy_topics.text import replace_surrogates, split_sentences

__all__ = ["Extractor", "Item"]

logger = logging.getLogger("policy_topics")

#: What :meth:`Extractor.extract_many` accepts per document.
Item = str | tuple[str, Mapping[str, Any]] | Mapping[str, Any]


@dataclass
class _Job:
    text: Any
    doc_id: str | None = None
    metadata: dict[str, Any] = field(default_factory=dict)
    error: ErrorInfo | None = None


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
            identical to the plain path; it only applies to a blank pipeline.

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
        self.taxonomy = load_taxonomy(taxonomy)
        self._model_spec = model
        if model is None:
            nlp = spacy.blank(self.taxonomy.language)
        elif isinstance(model, Language):
            nlp = model
        else:
            nlp = spacy.load(model)
        self.nlp = nlp
        self.max_quotes = max_quotes
        self.min_score = min_score
        self.component = PolicyTopics(
            nlp, taxonomy=self.taxonomy, max_quotes=max_quotes or 0, min_score=min_score
        )
        self._blank = not nlp.pipe_names
        self.fast = fast and self._blank

    def __repr__(self) -> str:
        return (
            f"Extractor(taxonomy={self.taxonomy.name!r}, language={self.nlp.lang!r}, "
            f"pipeline={self.nlp.pipe_names!r})"
        )

    # --- one document ------------------------------------------------------------------

    def extract(
        self,
        text: str,
        *,
        doc_id: str | None = None,
        metadata: Mapping[str, Any] | None = None,
    ) -> DocumentResult:
        """Tag one document.

        Args:
            text: The document text; offsets in the result index into it.
            doc_id: Your id for the document, copied into the result.
            metadata: Your metadata, copied into the result.

        Returns:
            The DocumentResult. Empty or blank text gives a valid empty result.

        Raises:
            TypeError: ``text`` is not a str (bytes must be decoded first).

        Example:
            >>> Extractor().extract("   ").areas
            []
        """
        if not isinstance(text, str):
            raise TypeError(f"text must be str, not {type(text).__name__}; decode bytes first")
        spans, hits = self._match(text)
        return build_result(
            text,
            spans,
            hits,
            self.taxonomy,
            language=self.nlp.lang or "",
            doc_id=doc_id,
            metadata=metadata,
            max_quotes=self.max_quotes,
            min_score=self.min_score,
        )

    def _match(self, text: str) -> tuple[list[tuple[int, int]], dict[int, SentenceHits]]:
        lexicon = self.component.lexicon
        if self.fast:
            spans = split_sentences(text)
            safe = replace_surrogates(text)
            hits: dict[int, SentenceHits] = {}
            make_doc = self.nlp.make_doc
            for i, (start, end) in enumerate(spans):
                if lexicon.candidate(text, start, end):
                    found = lexicon.match(make_doc(safe[start:end]), offset=start)
                    if found.hits:
                        hits[i] = found
            return spans, hits
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
        batch_size: int = 32,
        progress: bool = False,
        on_error: Literal["record", "raise"] = "record",
    ) -> Iterator[DocumentResult]:
        """Tag a stream of documents, lazily, one result per input, in input order.

        Args:
            items: Strings, ``(text, metadata)`` tuples, or mappings with ``text``
                and optional ``id`` and ``meta`` (or ``metadata``).
            n_process: Worker processes; results are identical for any value.
            batch_size: Documents sent to a worker at a time.
            progress: Show a progress bar (tqdm) on stderr.
            on_error: ``"record"`` yields a result whose ``error`` says what went
                wrong and goes on; ``"raise"`` stops at the first failure.

        Yields:
            One DocumentResult per input.

        Example:
            >>> texts = ["Tariffs fell.", {"id": "b", "text": "Grid investment grew."}]
            >>> [r.doc_id for r in Extractor().extract_many(texts)]
            [None, 'b']
        """
        if on_error not in ("record", "raise"):
            raise ValueError(f"on_error must be 'record' or 'raise', not {on_error!r}")
        if n_process < 1:
            raise ValueError(f"n_process must be >= 1, not {n_process}")
        jobs = (_coerce(item) for item in items)
        results = (
            (self._run(job, on_error) for job in jobs)
            if n_process == 1
            else self._run_parallel(jobs, n_process, max(1, batch_size), on_error)
        )
        if progress:
            from tqdm import tqdm  # type: ignore[import-untyped]

            results = iter(tqdm(results, unit="doc", desc="policy-topics"))
        yield from results

    def _run(self, job: _Job, on_error: str) -> DocumentResult:
        if job.error is None:
            try:
                return self.extract(job.text, doc_id=job.doc_id, metadata=job.metadata)
            except Exception as exc:
                if on_error == "raise":
                    raise
                logger.warning("document %s failed: %s", job.doc_id, exc)
                job.error = ErrorInfo(type=type(exc).__name__, message=str(exc))
        elif on_error == "raise":
            raise ValueError(f"document {job.doc_id}: {job.error.message}")
        return _error_result(job, self)

    def _run_parallel(
        self, jobs: Iterator[_Job], n_process: int, batch_size: int, on_error: str
    ) -> Iterator[DocumentResult]:
        methods = multiprocessing.get_all_start_methods()
        context = multiprocessing.get_context("fork" if "fork" in methods else "spawn")
        state = (self.taxonomy, self._model_spec, self.max_quotes, self.min_score, self.fast)
        pending: deque[Any] = deque()
        with context.Pool(n_process, initializer=_init_worker, initargs=(state,)) as pool:
            batch: list[_Job] = []
            for job in jobs:
                batch.append(job)
                if len(batch) >= batch_size:
                    pending.append(pool.apply_async(_work, (batch, on_error)))
                    batch = []
                    # Bounded look-ahead keeps memory flat on endless streams.
                    while len(pending) > 2 * n_process:
                        yield from pending.popleft().get()
            if batch:
                pending.append(pool.apply_async(_work, (batch, on_error)))
            while pending:
                yield from pending.popleft().get()


def _coerce(item: Any) -> _Job:
    if isinstance(item, _Job):
        return item
    if isinstance(item, str):
        return _Job(item)
    if isinstance(item, tuple) and len(item) == 2 and isinstance(item[1], Mapping):
        return _Job(item[0], metadata=dict(item[1]))
    if isinstance(item, Mapping):
        meta = item.get("meta", item.get("metadata")) or {}
        doc_id = item.get("id")
        job = _Job(item.get("text"), None if doc_id is None else str(doc_id), dict(meta))
        if item.get("error"):
            job.error = ErrorInfo(
                type=str(item.get("error_type", "ReadError")), message=str(item["error"])
            )
        elif "text" not in item:
            job.error = ErrorInfo(type="KeyError", message="item has no 'text' field")
        return job
    return _Job(item)


def _error_result(job: _Job, extractor: Extractor) -> DocumentResult:
    return DocumentResult(
        doc_id=job.doc_id,
        metadata=job.metadata,
        taxonomy=extractor.taxonomy.name,
        taxonomy_version=extractor.taxonomy.version,
        language=extractor.nlp.lang or "",
        n_sentences=0,
        areas=[],
        sentences=[],
        error=job.error,
    )


_WORKER: Extractor | None = None


def _init_worker(state: tuple[Any, ...]) -> None:
    global _WORKER
    taxonomy, model, max_quotes, min_score, fast = state
    _WORKER = Extractor(taxonomy, model, max_quotes=max_quotes, min_score=min_score, fast=fast)


def _work(batch: list[_Job], on_error: str) -> list[DocumentResult]:
    assert _WORKER is not None
    return [_WORKER._run(job, on_error) for job in batch]
