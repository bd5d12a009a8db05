"""Another tool's predictions, read for scoring against gold with :func:`evaluate`.

Predictions are JSON Lines, one gold document per line, joined to the gold by ``id``::

    {"id": "d1", "sentences": [{"start": 0, "end": 42, "topics": ["trade"],
                                "scores": {"trade": 0.8}}]}
    {"id": "d2", "topics": ["energy", "trade"], "scores": {"energy": 0.9, "trade": 0.4}}

``start``/``end`` are character offsets into the gold document's ``text``; a
span's topics count for the gold unit in which the span starts, as the
library's own matches do. ``scores`` is optional; when given it holds a number
in [0, 1] for each listed topic and no other. The output of ``policy-topics
extract -f jsonl`` (:class:`DocumentResult` records, joined by ``doc_id``) is
taken as well and scored exactly as :func:`evaluate` scores the library.

Example:
    >>> preds = read_predictions([{"id": "a", "topics": ["trade"]}])
    >>> preds["a"].topics
    ('trade',)
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from policy_topics.errors import PolicyTopicsError
from policy_topics.jsonl import labelled_records
from policy_topics.plain import is_missing, plain_id
from policy_topics.records import DocumentResult

__all__ = ["PredictedSpan", "Prediction", "PredictionError", "fits_text", "read_predictions"]

_LINE_FIELDS = ("id", "sentences", "topics", "scores", "meta")
_SPAN_FIELDS = ("start", "end", "topics", "scores", "text")


class PredictionError(PolicyTopicsError, ValueError):
    """The predictions are malformed or do not fit the gold; the message names line and field."""


@dataclass(frozen=True)
class PredictedSpan:
    """Topics predicted for a span of a gold document's text."""

    start: int
    end: int
    topics: tuple[str, ...]
    scores: Mapping[str, float] | None


@dataclass(frozen=True)
class Prediction:
    """One line of predictions: spans, document topics, or one of the library's own results."""

    doc_id: str
    where: str
    sentences: tuple[PredictedSpan, ...] | None = None
    topics: tuple[str, ...] | None = None
    scores: Mapping[str, float] | None = None
    result: DocumentResult | None = None

    @property
    def all_topics(self) -> set[str]:
        """Every topic this line predicts, at any level."""
        if self.result is not None:
            return {m.topic for s in self.result.sentences for m in s.matches} | {
                a.topic for a in self.result.areas
            }
        found = set(self.topics or ())
        for span in self.sentences or ():
            found.update(span.topics)
        return found


def read_predictions(
    source: str | Path | Iterable[Mapping[str, Any] | DocumentResult],
) -> dict[str, Prediction]:
    """Read and check predictions, by document id.

    Args:
        source: Path of a JSON Lines file, or an iterable of records (mappings
            in the format above, or :class:`DocumentResult` objects).

    Returns:
        Each line's :class:`Prediction`, keyed by its id, in file order.

    Raises:
        PredictionError: naming the line and the field: a line that is not a
            prediction, a bad span or score, a document that failed in
            extraction, or an id given twice.

    Example:
        >>> read_predictions([{"id": 7, "sentences": []}])["7"].sentences
        ()
    """
    found: dict[str, Prediction] = {}
    for where, record in labelled_records(source, PredictionError, "predictions"):
        prediction = _parse(record, where)
        first = found.get(prediction.doc_id)
        if first is not None:
            raise PredictionError(
                f"{where}: id {prediction.doc_id!r} again (first on {first.where}); "
                "give each document one line"
            )
        found[prediction.doc_id] = prediction
    return found


def _parse(record: Any, where: str) -> Prediction:
    if isinstance(record, DocumentResult):
        return _own(record, where)
    if not isinstance(record, Mapping):
        raise PredictionError(f"{where}: expected a JSON object, got {type(record).__name__}")
    if "doc_id" in record and "id" not in record:
        return _own(_validated(record, where), where)
    unknown = [str(k) for k in record if k not in _LINE_FIELDS]
    if unknown:
        raise PredictionError(
            f"{where}: unknown field {unknown[0]!r} (a prediction line has "
            f"{', '.join(_LINE_FIELDS)}; policy-topics extract output has 'doc_id')"
        )
    raw_id = record.get("id")
    doc_id = (
        None
        if isinstance(raw_id, bool) or not isinstance(raw_id, str | int | float)
        else plain_id(raw_id)
    )
    if doc_id is None:
        if is_missing(raw_id):  # None, or NaN (made None in records given as objects)
            raise PredictionError(f"{where}: 'id' is missing: give the gold document's id")
        raise PredictionError(f"{where}: 'id' must be the gold document's id, got {raw_id!r}")
    if "sentences" not in record and "topics" not in record:
        raise PredictionError(
            f"{where}: give 'sentences' (spans with topics) or 'topics' (document-level)"
        )
    spans: tuple[PredictedSpan, ...] | None = None
    if "sentences" in record:
        raw_spans = record["sentences"]
        if not isinstance(raw_spans, list):
            raise PredictionError(f"{where}: 'sentences' must be a list, got {raw_spans!r}")
        spans = tuple(_span(raw, f"{where} sentences[{i}]") for i, raw in enumerate(raw_spans))
    topics: tuple[str, ...] | None = None
    scores: Mapping[str, float] | None = None
    if "topics" in record:
        topics = _topics(record["topics"], where)
        scores = _scores(record.get("scores"), topics, where)
    elif "scores" in record:
        raise PredictionError(
            f"{where}: top-level 'scores' go with top-level 'topics'; "
            "a span's scores go in the span"
        )
    return Prediction(str(doc_id), where, spans, topics, scores)


def _validated(record: Mapping[str, Any], where: str) -> DocumentResult:
    try:
        return DocumentResult.model_validate(record)
    except ValidationError as exc:
        problem = exc.errors()[0]
        field = ".".join(str(part) for part in problem["loc"])
        more = f" (and {exc.error_count() - 1} more)" if exc.error_count() > 1 else ""
        raise PredictionError(
            f"{where} {field}: {problem['msg']}{more} (read as policy-topics extract output, "
            "as it has 'doc_id')"
        ) from None


def _own(result: DocumentResult, where: str) -> Prediction:
    if result.error is not None:
        raise PredictionError(
            f"{where}: document {result.doc_id!r} failed in extraction "
            f"({result.error.type}: {result.error.message}); extract it again or drop the line"
        )
    if result.doc_id is None:
        raise PredictionError(
            f"{where}: doc_id is null; extract the gold file with --id-field naming its id field"
        )
    return Prediction(result.doc_id, where, result=result)


def _topics(value: Any, where: str) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(t, str) for t in value):
        raise PredictionError(f"{where}: topics must be a list of topic ids, got {value!r}")
    return tuple(dict.fromkeys(value))


def _scores(value: Any, topics: tuple[str, ...], where: str) -> Mapping[str, float] | None:
    if value is None:
        return None
    if not isinstance(value, Mapping):
        raise PredictionError(f"{where}: scores must map topic ids to numbers, got {value!r}")
    for topic, score in value.items():
        if topic not in topics:
            raise PredictionError(
                f"{where}: scores has {topic!r}, which is not in topics; list every "
                "predicted topic in topics (min_score thresholds them)"
            )
        number = isinstance(score, numbers.Real) and not isinstance(score, bool)
        if not (number and math.isfinite(float(score)) and 0 <= float(score) <= 1):
            raise PredictionError(
                f"{where}: scores[{topic!r}] must be a number between 0 and 1, got {score!r}"
            )
    missing = [t for t in topics if t not in value]
    if missing:
        raise PredictionError(
            f"{where}: scores gives no score for {', '.join(map(repr, missing))}; "
            "score every listed topic, or leave scores out"
        )
    return {t: float(value[t]) for t in topics}


def _span(raw: Any, where: str) -> PredictedSpan:
    if not isinstance(raw, Mapping):
        raise PredictionError(f"{where}: expected an object, got {raw!r}")
    unknown = [str(k) for k in raw if k not in _SPAN_FIELDS]
    if unknown:
        raise PredictionError(
            f"{where}: unknown field {unknown[0]!r} (a span has {', '.join(_SPAN_FIELDS)})"
        )
    start, end = raw.get("start"), raw.get("end")
    if not (
        isinstance(start, int)
        and isinstance(end, int)
        and not isinstance(start, bool)
        and not isinstance(end, bool)
        and 0 <= start < end
    ):
        raise PredictionError(
            f"{where}: start/end must be integers with 0 <= start < end, got {start!r}/{end!r}"
        )
    if "topics" not in raw:
        raise PredictionError(f"{where}: 'topics' is missing (use [] for a span with no topic)")
    topics = _topics(raw["topics"], where)
    return PredictedSpan(start, end, topics, _scores(raw.get("scores"), topics, where))


def fits_text(prediction: Prediction, text: str, gold_id: str) -> None:
    """Raise PredictionError when the prediction's offsets do not fit the gold text.

    Example:
        >>> line = {"id": "a", "sentences": [{"start": 0, "end": 9, "topics": []}]}
        >>> try:
        ...     fits_text(read_predictions([line])["a"], "short", "a")
        ... except PredictionError as exc:
        ...     print(exc)
        record 1 sentences[0]: end 9 is past the end of gold 'a' (5 characters)
    """
    length = len(text)
    if prediction.result is not None:
        if prediction.result.n_chars != length:
            raise PredictionError(
                f"{prediction.where}: n_chars is {prediction.result.n_chars}, but gold "
                f"{gold_id!r} has {length} characters: extract the gold's own texts"
            )
        return
    for i, span in enumerate(prediction.sentences or ()):
        if span.end > length:
            raise PredictionError(
                f"{prediction.where} sentences[{i}]: end {span.end} is past the end of gold "
                f"{gold_id!r} ({length} characters)"
            )
