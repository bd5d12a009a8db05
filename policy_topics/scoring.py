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
from collections import Counter, defaultdict
from collections.abc import Mapping, Sequence
from typing import Any

from policy_topics.records import (
    CooperationArea,
    DocumentResult,
    Match,
    Quote,
    ScoreBreakdown,
    SentenceTags,
    SubtopicCount,
)
from policy_topics.taxonomy import Taxonomy
from policy_topics.terms import Hit, SentenceHits
from policy_topics.text import dedup_key

__all__ = ["CUE_FACTOR", "area_score", "build_result", "sentence_score"]

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


def _round(value: float) -> float:
    return round(value, 6)


def _distinct_weight(hits: Sequence[Hit]) -> float:
    best: dict[str, float] = {}
    for hit in hits:
        best[hit.term] = max(best.get(hit.term, 0.0), hit.weight)
    return sum(best.values())


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
    """Assemble the typed result of one document.

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
    order = {topic: i for i, topic in enumerate(taxonomy.topics)}
    sentences: list[SentenceTags] = []
    per_topic: dict[str, list[tuple[SentenceTags, list[Match], float]]] = defaultdict(list)
    for index in sorted(hits):
        found = hits[index]
        if not found.hits:
            continue
        start, end = spans[index]
        matches = [
            Match(
                term=h.term,
                text=text[h.start : h.end],
                start=h.start,
                end=h.end,
                topic=h.topic,
                subtopic=h.subtopic,
                weight=h.weight,
            )
            for h in found.hits
        ]
        by_topic: dict[str, list[Hit]] = defaultdict(list)
        for h in found.hits:
            by_topic[h.topic].append(h)
        weights = {t: _distinct_weight(hs) for t, hs in by_topic.items()}
        scores = {t: sentence_score(w, cue=bool(found.cues)) for t, w in weights.items()}
        topics = sorted(scores, key=lambda t: (-scores[t], order.get(t, len(order))))
        tags = SentenceTags(
            index=index,
            start=start,
            end=end,
            topics=topics,
            scores={t: scores[t] for t in topics},
            matches=matches,
            cues=list(found.cues),
        )
        sentences.append(tags)
        for topic in topics:
            per_topic[topic].append(
                (tags, [m for m in matches if m.topic == topic], weights[topic])
            )
    n_sentences = len(spans)
    areas = [
        _area(text, topic, entries, taxonomy, n_sentences, max_quotes)
        for topic, entries in per_topic.items()
    ]
    areas = [a for a in areas if a.score >= min_score]
    areas.sort(key=lambda a: (-a.score, order.get(a.topic, len(order))))
    return DocumentResult(
        doc_id=doc_id,
        metadata=dict(metadata or {}),
        taxonomy=taxonomy.name,
        taxonomy_version=taxonomy.version,
        language=language,
        n_sentences=n_sentences,
        n_chars=len(text),
        areas=areas,
        sentences=sentences,
    )


def _area(
    text: str,
    topic: str,
    entries: list[tuple[SentenceTags, list[Match], float]],
    taxonomy: Taxonomy,
    n_sentences: int,
    max_quotes: int | None,
) -> CooperationArea:
    # One slot per distinct sentence text: [tags, matches, occurrences]. Quote
    # models are built only for the slots kept, not for every tagged sentence.
    slots: dict[str, list[Any]] = {}
    evidence = 0.0
    cue_sentences = 0
    term_counts: Counter[str] = Counter()
    sub_counts: Counter[str] = Counter()
    for tags, matches, weight in entries:
        term_counts.update(m.term for m in matches)
        sub_counts.update(m.subtopic for m in matches if m.subtopic)
        key = dedup_key(text[tags.start : tags.end])
        slot = slots.get(key)
        if slot is not None:
            slot[2] += 1
            continue
        slots[key] = [tags, matches, 1]
        evidence += min(1.0, weight) * (CUE_FACTOR if tags.cues else 1.0)
        cue_sentences += bool(tags.cues)
    ranked = sorted(
        slots.values(),
        key=lambda s: (-s[0].scores[topic], -len({m.term for m in s[1]}), s[0].start),
    )
    quotes = [
        Quote(
            text=text[tags.start : tags.end],
            start=tags.start,
            end=tags.end,
            sentence=tags.index,
            score=tags.scores[topic],
            matches=matches,
            cues=tags.cues,
            occurrences=occurrences,
        )
        for tags, matches, occurrences in (ranked if max_quotes is None else ranked[:max_quotes])
    ]
    share = len(entries) / n_sentences if n_sentences else 0.0
    distinct = len(term_counts)
    return CooperationArea(
        topic=topic,
        label=taxonomy.topics[topic].label,
        score=area_score(evidence, distinct, min(1.0, share)),
        mentions=sum(term_counts.values()),
        sentences=len(entries),
        terms=[t for t, _ in sorted(term_counts.items(), key=lambda kv: (-kv[1], kv[0]))],
        subtopics=[
            SubtopicCount(id=s, label=taxonomy.label_of(topic, s), mentions=n)
            for s, n in sorted(sub_counts.items(), key=lambda kv: (-kv[1], kv[0]))
        ],
        quotes=quotes,
        breakdown=ScoreBreakdown(
            evidence=_round(evidence),
            distinct_terms=distinct,
            cue_sentences=cue_sentences,
            sentence_share=_round(min(1.0, share)),
        ),
    )
