"""Measure a taxonomy against labelled gold: precision, recall and F1 per topic.

Gold is JSON Lines, one document per line::

    {"id": "d1", "text": "...", "sentences": [{"start": 0, "end": 42, "topics": ["trade"]}]}
    {"id": "d2", "text": "...", "topics": ["energy"]}             # document-level gold

``start``/``end`` index into ``text``; ``topics: []`` is a real negative; an
``optional`` list (per sentence, or per document for document-level gold) names
topics that count neither right nor wrong.

Scoring convention: a topic is predicted for a gold unit when an accepted match
of the topic starts inside the unit, so the score does not depend on how the
library segments text. Its score in the unit is the best sentence score
(:attr:`SentenceTags.scores`) of the sentences holding such matches, and it
counts only when that score is at least ``min_score``. Mode ``multi`` keeps every
such topic; mode ``primary`` keeps only the unit's top-scoring one (ties broken
by taxonomy order), the convention of single-label gold. Micro and macro
averages run over the topics with gold support.

A topic filter (``topics=["trade", "energy"]``) scores as if the other topics
did not exist: their gold labels and predictions are dropped from every unit
before counting, so mode ``primary`` keeps the unit's top-scoring topic among
the chosen ones, and the averages run over the chosen topics with gold support.

Another tool's predictions (``predictions=``, format in
:mod:`policy_topics.predictions`) are scored with the same convention: a
predicted span's topics count for the gold unit in which it starts, with the
span's ``scores`` as sentence scores. Nothing is tagged then; the topics are
those of the gold and the predictions, ordered (rows, ties in ``primary``) as
in the extractor's taxonomy, then by id. A topic without a score counts at
every threshold (as 1), and mode ``primary`` raises :class:`PredictionError`
rather than guess when it must choose between topics that have no scores.
A gold document with no prediction line predicts nothing, a prediction whose
id is not in the gold is not scored; the report lists both. The library's own
records (``policy-topics extract -f jsonl``) score exactly as :func:`evaluate`
scores the same taxonomy directly.

Example:
    >>> gold = [{"id": "d", "text": "We cut tariffs. We like cats.",
    ...          "sentences": [{"start": 0, "end": 15, "topics": ["trade"]},
    ...                        {"start": 16, "end": 29, "topics": []}]}]
    >>> report = evaluate(gold)
    >>> report.get("sentence", "multi").macro.f1
    1.0
"""

from __future__ import annotations

import bisect
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast

from policy_topics.errors import PolicyTopicsError
from policy_topics.extract import Extractor
from policy_topics.gold import GoldDoc, GoldError, gold_records, line_id, parse_gold, read_gold
from policy_topics.predictions import Prediction, PredictionError, fits_text, read_predictions
from policy_topics.records import DocumentResult
from policy_topics.report import (
    DIGITS,
    MODES,
    CurvePoint,
    ErrorCase,
    EvaluationReport,
    Level,
    LevelReport,
    Mode,
    ModeReport,
    Scores,
    TopicScores,
)
from policy_topics.scoring import check_options
from policy_topics.taxonomy import Taxonomy, load_taxonomy, packaged_taxonomies

__all__ = [
    "MODES",
    "CurvePoint",
    "ErrorCase",
    "EvaluationReport",
    "GoldError",
    "LevelReport",
    "ModeReport",
    "PredictionError",
    "Scores",
    "TopicScores",
    "UnknownTopicError",
    "evaluate",
    "read_gold",
]

_EXCERPT_CHARS = 300


class UnknownTopicError(PolicyTopicsError, ValueError):
    """A topic to score (``topics=``) is not one of those that can be scored."""


# --- observations -------------------------------------------------------------------------


@dataclass
class _Obs:
    """What the tagger (or the predictions) said about one gold unit."""

    doc_id: str
    index: int
    text: str
    start: int
    end: int
    gold: frozenset[str]
    optional: frozenset[str]
    whole_document: bool = False
    source: str | None = None
    scores: dict[str, float] = field(default_factory=dict)
    rank: dict[str, float] = field(default_factory=dict)
    terms: dict[str, list[str]] = field(default_factory=dict)
    evidence: dict[str, tuple[int, int]] = field(default_factory=dict)
    unscored: set[str] = field(default_factory=set)

    def add(
        self, topic: str, score: float | None, term: str | None, span: tuple[int, int] | None
    ) -> None:
        if score is None:  # a prediction without scores counts at every threshold
            self.unscored.add(topic)
            score = 1.0
        if score > self.scores.get(topic, -1.0):
            self.scores[topic] = score
            if span is not None:
                self.evidence[topic] = span
        self.rank[topic] = self.scores[topic]
        if term is not None:
            terms = self.terms.setdefault(topic, [])
            if term not in terms:
                terms.append(term)

    def keep(self, chosen: frozenset[str]) -> None:
        """Forget every topic outside ``chosen``, gold and predicted alike."""
        self.gold &= chosen
        self.optional &= chosen
        self.unscored &= chosen
        for by_topic in (self.scores, self.rank, self.terms, self.evidence):
            for topic in [t for t in by_topic if t not in chosen]:
                del by_topic[topic]

    def predict(self, mode: str, threshold: float, order: Mapping[str, int]) -> list[str]:
        passing = [t for t, s in self.scores.items() if s >= threshold]
        if mode == "primary" and len(passing) > 1:
            if self.unscored & set(passing):
                where = "the document" if self.whole_document else f"sentences[{self.index}]"
                named = ", ".join(sorted(passing, key=lambda t: (order.get(t, len(order)), t)))
                raise PredictionError(
                    f"{self.source}: primary mode needs scores to choose among {named} for "
                    f"{where} of gold {self.doc_id!r}; give 'scores', or evaluate mode "
                    "multi only (modes=['multi'], --mode multi)"
                )
            passing = [min(passing, key=lambda t: (-self.rank[t], order.get(t, len(order)), t))]
        return sorted(passing, key=lambda t: (order.get(t, len(order)), t))


def _blank(doc: GoldDoc, source: str | None = None) -> tuple[list[_Obs], _Obs | None]:
    """The gold document's units, with nothing predicted yet."""
    sentence_obs = [
        _Obs(doc.doc_id, i, doc.text, u.start, u.end, u.topics, u.optional, source=source)
        for i, u in enumerate(doc.sentences or ())
    ]
    document_obs: _Obs | None = None
    if doc.document is not None:
        cut = doc.text.rfind(" ", 0, _EXCERPT_CHARS) if len(doc.text) > _EXCERPT_CHARS else -1
        opening = doc.text[: cut if cut > 0 else _EXCERPT_CHARS].rstrip()
        document_obs = _Obs(
            doc.doc_id,
            0,
            doc.text,
            0,
            len(opening),
            doc.document.topics,
            doc.document.optional,
            whole_document=True,
            source=source,
        )
    return sentence_obs, document_obs


def _unit_at(doc: GoldDoc, starts: Sequence[int], position: int) -> int | None:
    """Index of the gold sentence holding ``position``, or None in a gap between them."""
    assert doc.sentences is not None
    i = bisect.bisect_right(starts, position) - 1
    return i if i >= 0 and position < doc.sentences[i].end else None


def _observe(
    doc: GoldDoc, result: DocumentResult, source: str | None = None
) -> tuple[list[_Obs], _Obs | None]:
    sentence_obs, document_obs = _blank(doc, source)
    if doc.sentences is not None:
        starts = [u.start for u in doc.sentences]
        for tags in result.sentences:
            for match in tags.matches:
                i = _unit_at(doc, starts, match.start)
                if i is not None:
                    span = (tags.start, tags.end)
                    sentence_obs[i].add(match.topic, tags.scores[match.topic], match.term, span)
    if document_obs is not None:
        reported = {area.topic: area for area in result.areas}
        for tags in result.sentences:
            for match in tags.matches:
                if match.topic in reported:
                    score = tags.scores[match.topic]
                    document_obs.add(match.topic, score, match.term, (tags.start, tags.end))
        for topic, area in reported.items():
            document_obs.rank[topic] = area.score
    return sentence_obs, document_obs


def _observe_prediction(doc: GoldDoc, prediction: Prediction) -> tuple[list[_Obs], _Obs | None]:
    if prediction.result is not None:
        return _observe(doc, prediction.result, prediction.where)
    sentence_obs, document_obs = _blank(doc, prediction.where)
    spans = prediction.sentences
    if doc.sentences is not None:
        if spans is None:
            raise PredictionError(
                f"{prediction.where}: gold {doc.doc_id!r} is labelled by sentence, but this "
                "line gives only document 'topics'; give 'sentences' spans"
            )
        starts = [u.start for u in doc.sentences]
        for span in spans:
            i = _unit_at(doc, starts, span.start)
            if i is not None:
                for topic in span.topics:
                    score = span.scores[topic] if span.scores is not None else None
                    sentence_obs[i].add(topic, score, None, (span.start, span.end))
    if document_obs is not None:
        if prediction.topics is not None:
            for topic in prediction.topics:
                scores = prediction.scores
                document_obs.add(topic, scores[topic] if scores is not None else None, None, None)
        else:
            for span in spans or ():
                for topic in span.topics:
                    score = span.scores[topic] if span.scores is not None else None
                    document_obs.add(topic, score, None, (span.start, span.end))
    return sentence_obs, document_obs


# --- counting -----------------------------------------------------------------------------


@dataclass
class _Counts:
    tp: Counter[str] = field(default_factory=Counter)
    fp: Counter[str] = field(default_factory=Counter)
    fn: Counter[str] = field(default_factory=Counter)
    support: Counter[str] = field(default_factory=Counter)


def _count(units: Sequence[_Obs], mode: str, threshold: float, order: Mapping[str, int]) -> _Counts:
    counts = _Counts()
    for unit in units:
        predicted = set(unit.predict(mode, threshold, order))
        counts.support.update(unit.gold)
        for topic in predicted:
            if topic in unit.gold:
                counts.tp[topic] += 1
            elif topic not in unit.optional:
                counts.fp[topic] += 1
        counts.fn.update(unit.gold - predicted)
    return counts


def _ratio(num: int | float, den: int | float) -> float:
    return num / den if den else 0.0


def _scores(tp: float, fp: float, fn: float) -> tuple[float, float, float]:
    p, r = _ratio(tp, tp + fp), _ratio(tp, tp + fn)
    return p, r, _ratio(2 * p * r, p + r)


def _rounded(p: float, r: float, f: float) -> Scores:
    return Scores(precision=round(p, DIGITS), recall=round(r, DIGITS), f1=round(f, DIGITS))


def _averages(counts: _Counts, supported: Sequence[str]) -> tuple[Scores, Scores]:
    tp = sum(counts.tp[t] for t in supported)
    fp = sum(counts.fp[t] for t in supported)
    fn = sum(counts.fn[t] for t in supported)
    micro = _rounded(*_scores(tp, fp, fn))
    per_topic = [_scores(counts.tp[t], counts.fp[t], counts.fn[t]) for t in supported]
    n = len(per_topic)
    macro = _rounded(*(sum(s[k] for s in per_topic) / n if n else 0.0 for k in range(3)))
    return micro, macro


# --- errors -------------------------------------------------------------------------------


def _errors(
    units: Sequence[_Obs],
    mode: str,
    threshold: float,
    order: Mapping[str, int],
    limit: int,
) -> tuple[list[ErrorCase], list[ErrorCase]]:
    fps: dict[str, list[tuple[float, int, ErrorCase]]] = defaultdict(list)
    fns: dict[str, list[tuple[float, int, ErrorCase]]] = defaultdict(list)
    for position, unit in enumerate(units):
        predicted = unit.predict(mode, threshold, order)
        wrong = [t for t in predicted if t not in unit.gold and t not in unit.optional]
        missed = sorted(unit.gold - set(predicted), key=lambda t: (order.get(t, len(order)), t))
        for topic in wrong:
            fps[topic].append((-unit.scores[topic], position, _case(unit, topic, predicted, True)))
        for topic in missed:
            near_miss = -unit.scores.get(topic, -1.0)
            fns[topic].append((near_miss, position, _case(unit, topic, predicted, False)))
    return _interleave(fps, order, limit), _interleave(fns, order, limit)


def _case(unit: _Obs, topic: str, predicted: list[str], positive: bool) -> ErrorCase:
    start, end = unit.start, unit.end
    if positive and unit.whole_document and topic in unit.evidence:
        start, end = unit.evidence[topic]
    return ErrorCase(
        kind="false_positive" if positive else "false_negative",
        topic=topic,
        doc_id=unit.doc_id,
        unit=unit.index,
        start=start,
        end=end,
        text=unit.text[start:end],
        gold=sorted(unit.gold),
        predicted=predicted,
        scores=dict(unit.scores),
        terms={t: list(ts) for t, ts in unit.terms.items()},
    )


def _interleave(
    by_topic: Mapping[str, list[tuple[float, int, ErrorCase]]],
    order: Mapping[str, int],
    limit: int,
) -> list[ErrorCase]:
    queues = [
        sorted(by_topic[t], key=lambda e: (e[0], e[1]))
        for t in sorted(by_topic, key=lambda t: (order.get(t, len(order)), t))
    ]
    out: list[ErrorCase] = []
    depth = 0
    while len(out) < limit and any(depth < len(q) for q in queues):
        out.extend(q[depth][2] for q in queues if depth < len(q))
        depth += 1
    return out[: max(0, limit)]


# --- the entry point ----------------------------------------------------------------------


def evaluate(
    gold: str | Path | Iterable[Mapping[str, Any]],
    extractor: Extractor | None = None,
    *,
    predictions: str | Path | Iterable[Mapping[str, Any] | DocumentResult] | None = None,
    topics: Sequence[str] | None = None,
    min_score: float = 0.0,
    modes: Sequence[str] = MODES,
    thresholds: Sequence[float] | None = None,
    max_errors: int = 20,
) -> EvaluationReport:
    """Score a taxonomy (through an Extractor), or another tool's predictions, against gold.

    Args:
        gold: Path of a JSON Lines gold file, or an iterable of gold records.
        extractor: The Extractor to measure; default ``Extractor(max_quotes=None)``
            with the default taxonomy. Sentence-level scores use every accepted
            match whatever its ``max_quotes``; document-level scores use the
            areas it reports, so its own ``min_score`` applies there. With
            ``predictions`` nothing is tagged: the extractor's taxonomy (default:
            the default taxonomy) only orders and labels the topics, which
            breaks ties in mode ``primary`` as for the library's own tags.
        predictions: Predictions to score instead of tagging the gold's texts:
            path of a JSON Lines file or an iterable of records, in the format
            of :mod:`policy_topics.predictions` or ``policy-topics extract``'s
            records, joined to the gold by id (a gold record without an id,
            named ``gold.jsonl:3``, also to the record that ``policy-topics
            extract data/gold.jsonl`` names ``data/gold.jsonl:3``). A gold
            document without a prediction predicts nothing
            (listed in ``missing_predictions``); a prediction whose id is not in
            the gold is ignored (listed in ``unmatched_predictions``).
        topics: Score only these topic ids: gold labels and predictions of other
            topics are ignored, mode ``primary`` keeps each unit's top-scoring
            topic among these, and the averages run over these (those with gold
            support). Default: every topic. They must be topics of the
            taxonomy, or with ``predictions``, of the gold or the predictions.
        min_score: Minimum sentence score for a match's topic to count.
        modes: Evaluation modes, from ``"multi"`` and ``"primary"``.
        thresholds: ``min_score`` values for the precision/recall curve; default
            every distinct sentence score observed (where the curve can change),
            plus 0 and ``min_score``.
        max_errors: Most false positives, and most false negatives, kept per
            level and mode.

    Returns:
        The EvaluationReport: sentence level when the gold has sentence spans,
        document level when it has top-level ``topics``.

    Raises:
        GoldError: the gold is malformed (the message names the line and field),
            or, with predictions, two gold documents share an id.
        PredictionError: the predictions are malformed or do not fit the gold
            text (the message names the line and field), or mode ``primary``
            must choose between topics that a prediction gave no scores.
        UnknownTopicError: a topic of ``topics`` is unknown (a ValueError too).
        ValueError: an unknown mode, ``min_score`` outside [0, 1] or a negative
            ``max_errors``.

    Example:
        >>> gold = [{"id": "d", "text": "Tariffs rose. Oil fell.",
        ...          "sentences": [{"start": 0, "end": 13, "topics": ["trade"]},
        ...                        {"start": 14, "end": 23, "topics": ["trade"]}]}]
        >>> report = evaluate(gold, modes=["multi"])
        >>> trade = report.get("sentence", "multi").topic("trade")
        >>> (trade.precision, trade.recall, trade.false_negatives)
        (1.0, 0.5, 1)
        >>> other = [{"id": "d", "sentences": [{"start": 14, "end": 17, "topics": ["trade"]}]}]
        >>> trade = evaluate(gold, predictions=other).get("sentence", "multi").topic("trade")
        >>> (trade.precision, trade.recall)
        (1.0, 0.5)
    """
    unknown = [m for m in modes if m not in MODES]
    if unknown or not modes:
        raise ValueError(f"modes must be a non-empty selection of {MODES}, got {list(modes)!r}")
    _, min_score = check_options(None, min_score)
    if max_errors < 0:
        raise ValueError(f"max_errors must not be negative, not {max_errors!r}")
    chosen = _chosen(topics)
    by_id: dict[str, Prediction] | None = None
    by_line: dict[str, Prediction] = {}
    if predictions is None:
        extractor = extractor or Extractor(max_quotes=None)
        taxonomy = extractor.taxonomy
        if chosen is not None:
            _check_chosen(chosen, list(taxonomy.topics), f"taxonomy {taxonomy.name!r}")
    else:
        by_id = read_predictions(predictions)
        by_line = _by_line(by_id)
        taxonomy = _taxonomy_of(by_id, extractor)
    order = {topic: i for i, topic in enumerate(taxonomy.topics)}
    sentence_units: list[_Obs] = []
    document_units: list[_Obs] = []
    docs = {"sentence": 0, "document": 0, "all": 0}
    gold_ids: dict[str, str] = {}
    joined: set[str] = set()
    missing: list[str] = []
    for where, record in gold_records(gold):
        doc = parse_gold(record, where)
        docs["all"] += 1
        if by_id is None:
            assert extractor is not None
            units, whole = _observe(doc, extractor.extract(doc.text, doc_id=doc.doc_id))
        else:
            if doc.doc_id in gold_ids:
                raise GoldError(
                    f"{where}: id {doc.doc_id!r} again (first on {gold_ids[doc.doc_id]}); "
                    "predictions are joined to the gold by id, so gold ids must be unique"
                )
            gold_ids[doc.doc_id] = where
            prediction = by_id.get(doc.doc_id)
            if prediction is None and doc.named_by_line:
                prediction = by_line.get(doc.doc_id)  # its file's name and line
            if prediction is None:
                missing.append(doc.doc_id)
                units, whole = _blank(doc)
            else:
                joined.add(prediction.doc_id)
                fits_text(prediction, doc.text, doc.doc_id)
                units, whole = _observe_prediction(doc, prediction)
        if doc.sentences is not None:
            docs["sentence"] += 1
            sentence_units.extend(units)
        if whole is not None:
            docs["document"] += 1
            document_units.append(whole)
    all_units = (*sentence_units, *document_units)
    # Topics named before --topic filters them: a typo among them is still told.
    gold_scored = {t for u in all_units for t in u.gold}
    gold_named = gold_scored | {t for u in all_units for t in u.optional}
    predicted_named = {t for u in all_units for t in u.scores}
    if chosen is not None:
        if by_id is not None:
            named = {t for u in all_units for t in (*u.gold, *u.optional)}
            named.update(t for p in by_id.values() for t in p.all_topics)
            _check_chosen(chosen, sorted(named), "the gold or the predictions")
        for unit in all_units:
            unit.keep(frozenset(chosen))
    observed = {s for u in all_units for s in u.scores.values()}
    sweep = sorted({0.0, float(min_score), *(thresholds if thresholds is not None else observed)})
    by_level: tuple[tuple[Level, list[_Obs]], ...] = (
        ("sentence", sentence_units),
        ("document", document_units),
    )
    levels = []
    for name, units in by_level:
        if docs[name]:
            present = set(chosen) if chosen is not None else {t for u in units for t in u.gold}
            if chosen is None:
                # Rows: the taxonomy's topics, or with predictions, those predicted.
                present |= set(order) if by_id is None else {t for u in units for t in u.scores}
            listed = sorted(present, key=lambda t: (order.get(t, len(order)), t))
            levels.append(
                _level(
                    name,
                    units,
                    docs[name],
                    taxonomy,
                    listed,
                    order,
                    modes,
                    min_score,
                    sweep,
                    max_errors,
                )
            )
    # Predicted topics that nothing else names: a typo in the predictions, most
    # likely; and gold topics that neither the taxonomy nor (with predictions)
    # any prediction names: a typo in the gold.
    stray = sorted(predicted_named - gold_named - set(order)) if by_id is not None else []
    # Topics only ever optional are never scored: they are not "scored as missed".
    unknown_gold = gold_scored - set(order)
    if by_id is not None:
        unknown_gold -= {t for p in by_id.values() for t in p.all_topics}
    return EvaluationReport(
        gold=_name(gold),
        predictions=None if predictions is None else _name(predictions),
        taxonomy=taxonomy.name,
        taxonomy_version=taxonomy.version,
        min_score=min_score,
        documents=docs["all"],
        topic_filter=chosen,
        levels=levels,
        unknown_topics=sorted(unknown_gold),
        missing_predictions=missing,
        unmatched_predictions=[i for i in (by_id or {}) if i not in joined],
        unknown_predicted_topics=stray,
    )


def _taxonomy_of(by_id: Mapping[str, Prediction], extractor: Extractor | None) -> Taxonomy:
    """The taxonomy that orders and labels the topics of predictions.

    The extractor's; else the packaged taxonomy the library's own records name,
    or the default. Records tagged with another taxonomy than the one in use
    are refused: its order breaks ties in mode ``primary``, so the figures
    would not be those of the run that tagged them.
    """
    tagged = sorted({p.result.taxonomy for p in by_id.values() if p.result is not None})
    if extractor is not None:
        taxonomy = extractor.taxonomy
    elif len(tagged) == 1 and tagged[0] in packaged_taxonomies():
        taxonomy = load_taxonomy(tagged[0])
    else:
        taxonomy = load_taxonomy("default")
    others = [name for name in tagged if name != taxonomy.name]
    if others:
        named = ", ".join(map(repr, others))
        raise PredictionError(
            f"the predictions were tagged with taxonomy {named} (their 'taxonomy' field) "
            f"and the topics would be ordered and labelled by taxonomy {taxonomy.name!r}: "
            "give the taxonomy they were tagged with (-t FILE, or "
            "evaluate(..., extractor=Extractor(FILE))), so that ties in mode 'primary' "
            "break as they did"
        )
    return taxonomy


def _by_line(by_id: Mapping[str, Prediction]) -> dict[str, Prediction]:
    """Predictions by their id without its folder: ``data/gold.jsonl:3`` by ``gold.jsonl:3``.

    A gold record without an id is named so (its file's name and line), and
    ``policy-topics extract data/gold.jsonl`` names the same record by the path
    as typed: the two are joined. A name two paths share joins neither.

    Example:
        >>> list(_by_line({"data/gold.jsonl:3": Prediction("data/gold.jsonl:3", "x")}))
        ['gold.jsonl:3']
    """
    found: dict[str, Prediction | None] = {}
    for doc_id, prediction in by_id.items():
        key = line_id(doc_id)
        found[key] = None if key in found else prediction
    return {key: p for key, p in found.items() if p is not None}


def _name(source: object) -> str:
    return Path(source).name if isinstance(source, str | Path) else "<records>"


def _chosen(topics: Sequence[str] | None) -> list[str] | None:
    if topics is None:
        return None
    if isinstance(topics, str) or not all(isinstance(t, str) for t in topics):
        raise ValueError(f"topics must be a list of topic ids, e.g. ['trade'], not {topics!r}")
    chosen = list(dict.fromkeys(topics))
    if not chosen:
        raise ValueError("topics must name at least one topic (or be None for every topic)")
    return chosen


def _check_chosen(chosen: Sequence[str], valid: Sequence[str], of: str) -> None:
    unknown = [t for t in chosen if t not in valid]
    if unknown:
        names = ", ".join(repr(t) for t in unknown)
        raise UnknownTopicError(
            f"{names} {'is not a topic' if len(unknown) == 1 else 'are not topics'} of {of}; "
            f"choose from: {', '.join(valid) or '(none)'}"
        )


def _level(
    name: Level,
    units: Sequence[_Obs],
    documents: int,
    taxonomy: Taxonomy,
    topics: Sequence[str],
    order: Mapping[str, int],
    modes: Sequence[str],
    min_score: float,
    sweep: Sequence[float],
    max_errors: int,
) -> LevelReport:
    reports = []
    for mode in modes:
        counts = _count(units, mode, min_score, order)
        supported = [t for t in topics if counts.support[t]]
        micro, macro = _averages(counts, supported)
        rows = []
        for t in topics:
            p, r, f = _scores(counts.tp[t], counts.fp[t], counts.fn[t])
            rows.append(
                TopicScores(
                    topic=t,
                    label=taxonomy.topics[t].label if t in taxonomy.topics else t,
                    precision=round(p, DIGITS),
                    recall=round(r, DIGITS),
                    f1=round(f, DIGITS),
                    support=counts.support[t],
                    predicted=counts.tp[t] + counts.fp[t],
                    true_positives=counts.tp[t],
                    false_positives=counts.fp[t],
                    false_negatives=counts.fn[t],
                )
            )
        curve = []
        for threshold in sweep:
            c = _count(units, mode, threshold, order)
            point_micro, point_macro = _averages(c, supported)
            curve.append(CurvePoint(min_score=threshold, micro=point_micro, macro=point_macro))
        fps, fns = _errors(units, mode, min_score, order, max_errors)
        reports.append(
            ModeReport(
                mode=cast(Mode, mode),
                topics=rows,
                averaged_over=supported,
                micro=micro,
                macro=macro,
                curve=curve,
                n_false_positives=sum(counts.fp.values()),
                n_false_negatives=sum(counts.fn.values()),
                false_positives=fps,
                false_negatives=fns,
            )
        )
    return LevelReport(
        level=name,
        documents=documents,
        units=len(units),
        positive_units=sum(1 for u in units if u.gold),
        modes=reports,
    )
