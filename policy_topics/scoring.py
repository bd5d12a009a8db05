"""From sentence hits to a DocumentResult: the scoring formula lives here.

Sentence score of a topic::

    s = 1 - exp(-W * c)

where ``W`` sums the weights of the distinct terms of the topic in the
sentence and ``c`` is ``CUE_FACTOR`` when the sentence holds a cooperation cue
(1 otherwise).

Area score::

    z = E / 2 + (D - 1) / 4 + 2 * S
    score = 1 - exp(-z)

``E`` (evidence) sums ``min(1, W) * c`` over the distinct tagged sentences (a
paragraph repeated verbatim counts once), ``D`` is the number of distinct
terms, ``S`` the share of the document's sentences tagged with the topic. One
plain mention in a long document scores about 0.4; several sentences with
varied terms and cues approach 1.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Mapping, Sequence
from typing import Any

from policy_topics.hits import Hit, SentenceHits
from policy_topics.pages import PageStarts, page_of
from policy_topics.records import DocumentResult
from policy_topics.taxonomy import Taxonomy
from policy_topics.text import dedup_key

__all__ = [
    "CUE_FACTOR",
    "ResultBuilder",
    "area_score",
    "build_result",
    "check_options",
    "sentence_score",
]

CUE_FACTOR = 1.5


def sentence_score(weight: float, *, cue: bool) -> float:
    """Score of one topic in one sentence from its summed distinct-term weight.

    Example:
        >>> round(sentence_score(1.0, cue=False), 3)
        0.632
    """
    return _round(1.0 - math.exp(-weight * (CUE_FACTOR if cue else 1.0)))


def area_score(evidence: float, distinct_terms: int, sentence_share: float) -> float:
    """Score of a cooperation area (see the module docstring).

    Example:
        >>> round(area_score(1.0, 1, 0.0), 3)
        0.393
    """
    z = evidence / 2 + max(0, distinct_terms - 1) / 4 + 2 * sentence_share
    return _round(1.0 - math.exp(-z))


def check_options(max_quotes: object, min_score: object) -> tuple[int | None, float]:
    """Raise ValueError, naming the fix, when ``max_quotes`` or ``min_score`` is out of range.

    Returns:
        The two as a plain int (or None) and float: numpy's numbers are taken too.

    Example:
        >>> check_options(5, 1.5)
        Traceback (most recent call last):
        ...
        ValueError: min_score must be between 0 and 1 (scores lie in [0, 1]), not 1.5
    """
    if max_quotes is not None and (
        isinstance(max_quotes, bool)
        or not isinstance(max_quotes, numbers.Integral)
        or int(max_quotes) < 0
    ):
        raise ValueError(
            f"max_quotes must be a whole number >= 0, or None to keep every quote, "
            f"not {max_quotes!r}"
        )
    if isinstance(min_score, bool) or not isinstance(min_score, numbers.Real):
        raise ValueError(f"min_score must be a number between 0 and 1, not {min_score!r}")
    if not 0.0 <= float(min_score) <= 1.0:
        raise ValueError(
            f"min_score must be between 0 and 1 (scores lie in [0, 1]), not {min_score!r}"
        )
    return (None if max_quotes is None else int(max_quotes)), float(min_score)


def _round(value: float) -> float:
    return round(value, 6)


def _topic_weights(hits: Sequence[Hit]) -> dict[str, float]:
    """Per topic, the sum over its distinct terms of each term's best weight."""
    if len(hits) == 1:
        return {hits[0].topic: hits[0].weight}
    best: dict[str, dict[str, float]] = {}
    for h in hits:
        terms = best.get(h.topic)
        if terms is None:
            best[h.topic] = {h.term: h.weight}
        elif h.weight > terms.get(h.term, -math.inf):
            terms[h.term] = h.weight
    return {t: sum(terms.values()) for t, terms in best.items()}


class ResultBuilder:
    """Turns sentence hits into DocumentResults for one taxonomy and one set of options.

    What depends only on the taxonomy (topic order, labels) is worked out once.
    The record is assembled as plain data and validated in one call, which
    builds every nested model in pydantic's compiled core.

    Args:
        taxonomy: The taxonomy the hits come from.
        language: Language of the pipeline, reported in the result.
        max_quotes: Most quotes kept per area (None keeps all).
        min_score: Areas scoring below this are left out.
    """

    def __init__(
        self,
        taxonomy: Taxonomy,
        *,
        language: str,
        max_quotes: int | None = 5,
        min_score: float = 0.0,
    ) -> None:
        max_quotes, min_score = check_options(max_quotes, min_score)
        self.taxonomy = taxonomy
        self.language = language
        self.max_quotes = max_quotes
        self.min_score = min_score
        self._order = {topic: i for i, topic in enumerate(taxonomy.topics)}
        self._labels = {topic: node.label for topic, node in taxonomy.topics.items()}
        self._sub_labels: dict[tuple[str, str], str] = {}

    def build(
        self,
        text: str,
        spans: Sequence[tuple[int, int]],
        hits: Mapping[int, SentenceHits],
        *,
        doc_id: str | None = None,
        metadata: Mapping[str, Any] | None = None,
        pages: PageStarts | None = None,
    ) -> DocumentResult:
        """Assemble the typed result of one document.

        Args:
            text: The caller's original text.
            spans: Sentence offsets, in order.
            hits: Accepted hits per sentence index (sentences without hits may be absent).
            doc_id: Caller's id.
            metadata: Caller's metadata, copied into the result.
            pages: Where the document's pages start
                (:func:`~policy_topics.pages.check_pages`), to give each quote
                its page; None leaves every quote's page None.

        Returns:
            The DocumentResult, areas sorted by score (then taxonomy order).
        """
        payload = self.payload(text, spans, hits, doc_id=doc_id, metadata=metadata, pages=pages)
        return DocumentResult.model_validate(payload)

    def payload(
        self,
        text: str,
        spans: Sequence[tuple[int, int]],
        hits: Mapping[int, SentenceHits],
        *,
        doc_id: str | None = None,
        metadata: Mapping[str, Any] | None = None,
        pages: PageStarts | None = None,
    ) -> dict[str, Any]:
        """The result of :meth:`build` as plain data, before validation.

        Plain dicts, lists, strings and numbers pickle far faster than models, so
        worker processes hand this to the parent, which validates it.
        """
        if not hits:  # most documents of a stream: nothing to score
            return self._empty(text, len(spans), doc_id, metadata)
        order = self._order
        last = len(order)
        sentences: list[dict[str, Any]] = []
        per_topic: dict[str, list[tuple[dict[str, Any], list[dict[str, Any]], float]]] = {}
        for index in sorted(hits):
            found = hits[index]
            if not found.hits:
                continue
            start, end = spans[index]
            matches = [
                {
                    "term": h.term,
                    "text": text[h.start : h.end],
                    "start": h.start,
                    "end": h.end,
                    "topic": h.topic,
                    "subtopic": h.subtopic,
                    "weight": h.weight,
                }
                for h in found.hits
            ]
            weights = _topic_weights(found.hits)
            cue = bool(found.cues)
            scores = {t: sentence_score(w, cue=cue) for t, w in weights.items()}
            topics = list(scores)
            if len(topics) > 1:
                topics.sort(key=lambda t: (-scores[t], order.get(t, last)))
            tags = {
                "index": index,
                "start": start,
                "end": end,
                "topics": topics,
                "scores": {t: scores[t] for t in topics},
                "matches": matches,
                "cues": list(found.cues),
            }
            if pages is not None:
                tags["page"] = page_of(pages, start)
            sentences.append(tags)
            for topic in topics:
                own = matches if len(topics) == 1 else [m for m in matches if m["topic"] == topic]
                per_topic.setdefault(topic, []).append((tags, own, weights[topic]))
        n_sentences = len(spans)
        areas = [
            self._area(text, topic, entries, n_sentences) for topic, entries in per_topic.items()
        ]
        areas = [a for a in areas if a["score"] >= self.min_score]
        areas.sort(key=lambda a: (-a["score"], order.get(a["topic"], last)))
        if pages is not None:
            for area in areas:
                for quote in area["quotes"]:
                    quote["page"] = page_of(pages, quote["start"])
        payload = self._empty(text, n_sentences, doc_id, metadata)
        payload["areas"] = areas
        payload["sentences"] = sentences
        return payload

    def _empty(
        self,
        text: str,
        n_sentences: int,
        doc_id: str | None,
        metadata: Mapping[str, Any] | None,
    ) -> dict[str, Any]:
        return {
            "doc_id": doc_id,
            "metadata": dict(metadata or {}),
            "taxonomy": self.taxonomy.name,
            "taxonomy_version": self.taxonomy.version,
            "language": self.language,
            "n_sentences": n_sentences,
            "n_chars": len(text),
            "areas": [],
            "sentences": [],
        }

    def _area(
        self,
        text: str,
        topic: str,
        entries: list[tuple[dict[str, Any], list[dict[str, Any]], float]],
        n_sentences: int,
    ) -> dict[str, Any]:
        # One slot per distinct sentence text: [tags, matches, weight, occurrences].
        slots: list[list[Any]]
        if len(entries) == 1:
            slots = [[*entries[0], 1]]
        else:
            by_key: dict[str, list[Any]] = {}
            for tags, matches, weight in entries:
                key = dedup_key(text[tags["start"] : tags["end"]])
                slot = by_key.get(key)
                if slot is None:
                    by_key[key] = [tags, matches, weight, 1]
                else:
                    slot[3] += 1
            slots = list(by_key.values())
        evidence = 0.0
        cue_sentences = 0
        for tags, _, weight, _ in slots:
            evidence += min(1.0, weight) * (CUE_FACTOR if tags["cues"] else 1.0)
            cue_sentences += bool(tags["cues"])
        term_counts: dict[str, int] = {}
        sub_counts: dict[str, int] = {}
        for _, matches, _ in entries:
            for m in matches:
                term_counts[m["term"]] = term_counts.get(m["term"], 0) + 1
                if m["subtopic"]:
                    sub_counts[m["subtopic"]] = sub_counts.get(m["subtopic"], 0) + 1
        if len(slots) > 1:
            slots.sort(
                key=lambda s: (
                    -s[0]["scores"][topic],
                    -len({m["term"] for m in s[1]}),
                    s[0]["start"],
                )
            )
        kept = slots if self.max_quotes is None else slots[: self.max_quotes]
        quotes = [
            {
                "text": text[tags["start"] : tags["end"]],
                "start": tags["start"],
                "end": tags["end"],
                "sentence": tags["index"],
                "score": tags["scores"][topic],
                "matches": matches,
                "cues": tags["cues"],
                "occurrences": occurrences,
            }
            for tags, matches, _, occurrences in kept
        ]
        share = min(1.0, len(entries) / n_sentences) if n_sentences else 0.0
        distinct = len(term_counts)
        return {
            "topic": topic,
            "label": self._labels.get(topic) or self.taxonomy.label_of(topic),
            "score": area_score(evidence, distinct, share),
            "mentions": sum(term_counts.values()),
            "sentences": len(entries),
            "terms": [t for t, _ in sorted(term_counts.items(), key=lambda kv: (-kv[1], kv[0]))],
            "subtopics": [
                {"id": s, "label": self._sub_label(topic, s), "mentions": n}
                for s, n in sorted(sub_counts.items(), key=lambda kv: (-kv[1], kv[0]))
            ],
            "quotes": quotes,
            "breakdown": {
                "evidence": _round(evidence),
                "distinct_terms": distinct,
                "cue_sentences": cue_sentences,
                "sentence_share": _round(share),
            },
        }

    def _sub_label(self, topic: str, subtopic: str) -> str:
        label = self._sub_labels.get((topic, subtopic))
        if label is None:
            label = self._sub_labels[topic, subtopic] = self.taxonomy.label_of(topic, subtopic)
        return label


def build_result(
    text: str,
    spans: Sequence[tuple[int, int]],
    hits: Mapping[int, SentenceHits],
    taxonomy: Taxonomy,
    *,
    language: str,
    doc_id: str | None = None,
    metadata: Mapping[str, Any] | None = None,
    max_quotes: int | None = 5,
    min_score: float = 0.0,
) -> DocumentResult:
    """Assemble the typed result of one document (see :class:`ResultBuilder`).

    Args:
        text: The caller's original text.
        spans: Sentence offsets, in order.
        hits: Accepted hits per sentence index (sentences without hits may be absent).
        taxonomy: The taxonomy the hits come from.
        language: Language of the pipeline, reported in the result.
        doc_id: Caller's id.
        metadata: Caller's metadata, copied into the result.
        max_quotes: Most quotes kept per area (None keeps all).
        min_score: Areas scoring below this are left out.

    Returns:
        The DocumentResult, areas sorted by score (then taxonomy order).
    """
    builder = ResultBuilder(taxonomy, language=language, max_quotes=max_quotes, min_score=min_score)
    return builder.build(text, spans, hits, doc_id=doc_id, metadata=metadata)
