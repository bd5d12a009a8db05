"""Evaluation reports: the models :func:`policy_topics.evaluate` returns and their table.

``EvaluationReport.model_dump_json(indent=2)`` is the stable, documented JSON
form (``format_version`` is bumped on any breaking change); ``to_table()`` is
the terminal view.
"""

from __future__ import annotations

import html
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from policy_topics.records import Text
from policy_topics.text import counted, for_terminal

__all__ = [
    "FORMAT_VERSION",
    "MODES",
    "CurvePoint",
    "ErrorCase",
    "EvaluationReport",
    "Level",
    "LevelReport",
    "Mode",
    "ModeReport",
    "Scores",
    "TopicScores",
]

#: Evaluation modes: every tagged topic, or only each unit's top-scoring one.
MODES = ("multi", "primary")
#: Version of the JSON layout of :class:`EvaluationReport`; bumped on any breaking change.
FORMAT_VERSION = 1
#: Decimal places kept in reported scores.
DIGITS = 4

Mode = Literal["multi", "primary"]
Level = Literal["sentence", "document"]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Scores(_Model):
    """Precision, recall and F1 (0 where a ratio is undefined)."""

    precision: float = Field(ge=0, le=1, description="True positives / predicted positives.")
    recall: float = Field(ge=0, le=1, description="True positives / gold positives.")
    f1: float = Field(ge=0, le=1, description="Harmonic mean of precision and recall.")


class TopicScores(Scores):
    """Scores of one topic at one level and mode."""

    topic: str = Field(description="Topic id.")
    label: str = Field(description="Topic label from the taxonomy (the id for gold-only topics).")
    support: int = Field(ge=0, description="Gold units carrying the topic.")
    predicted: int = Field(
        ge=0, description="Units the topic was predicted for (optional excluded)."
    )
    true_positives: int = Field(ge=0, description="Predicted and in the gold.")
    false_positives: int = Field(ge=0, description="Predicted, not in the gold, not optional.")
    false_negatives: int = Field(ge=0, description="In the gold, not predicted.")


class CurvePoint(_Model):
    """Micro and macro scores at one ``min_score`` threshold."""

    min_score: float = Field(ge=0, description="Minimum sentence score for a topic to count.")
    micro: Scores = Field(description="Micro average over the topics with gold support.")
    macro: Scores = Field(description="Macro average over the topics with gold support.")


class ErrorCase(_Model):
    """A false positive or false negative, with what fired, for a taxonomy author."""

    kind: Literal["false_positive", "false_negative"] = Field(description="Kind of error.")
    topic: str = Field(description="Topic wrongly predicted or missed.")
    doc_id: Text = Field(description="Id of the gold document.")
    unit: int = Field(
        ge=0,
        description="Index of the gold sentence in the document (0 for a document-level unit).",
    )
    start: int = Field(ge=0, description="Character offset of `text` in the document.")
    end: int = Field(ge=0, description="Character offset one past the end of `text`.")
    text: Text = Field(
        description="Verbatim document text[start:end]: the gold sentence; for document-level "
        "units the strongest evidence sentence of a false positive, or the opening of the "
        "document for a false negative."
    )
    gold: list[str] = Field(description="Gold topics of the unit.")
    predicted: list[str] = Field(description="Topics predicted for the unit in this mode.")
    scores: dict[str, float] = Field(
        description="Best sentence score of every topic that fired in the unit, thresholds aside."
    )
    terms: dict[str, list[str]] = Field(description="Terms that fired in the unit, per topic.")


class ModeReport(_Model):
    """Scores of one level in one mode."""

    mode: Mode = Field(description="'multi' (every tagged topic) or 'primary' (top topic only).")
    topics: list[TopicScores] = Field(
        description="Per-topic scores, in taxonomy order (other topics after it, by id)."
    )
    averaged_over: list[str] = Field(description="Topics with gold support, used by the averages.")
    micro: Scores = Field(description="Micro average (pooled counts) over `averaged_over`.")
    macro: Scores = Field(description="Mean of per-topic scores over `averaged_over`.")
    curve: list[CurvePoint] = Field(description="Scores over a sweep of `min_score`, ascending.")
    n_false_positives: int = Field(ge=0, description="All false positives at `min_score`.")
    n_false_negatives: int = Field(ge=0, description="All false negatives at `min_score`.")
    false_positives: list[ErrorCase] = Field(
        description="The most confident false positives (up to `max_errors`), topics interleaved."
    )
    false_negatives: list[ErrorCase] = Field(
        description="False negatives (up to `max_errors`), near misses first, topics interleaved."
    )

    def topic(self, topic_id: str) -> TopicScores:
        """Scores of one topic.

        Raises:
            KeyError: the topic is neither in the taxonomy nor in the gold.
        """
        for scores in self.topics:
            if scores.topic == topic_id:
                return scores
        raise KeyError(topic_id)


class LevelReport(_Model):
    """Scores at the sentence or the document level."""

    level: Level = Field(description="'sentence' (gold sentence spans) or 'document'.")
    documents: int = Field(ge=0, description="Gold documents with units at this level.")
    units: int = Field(ge=0, description="Gold units scored (sentences or documents).")
    positive_units: int = Field(ge=0, description="Units with at least one gold topic.")
    modes: list[ModeReport] = Field(description="One report per evaluation mode.")


class EvaluationReport(_Model):
    """Result of :func:`evaluate`; ``model_dump_json(indent=2)`` is its stable JSON form."""

    format_version: int = Field(default=FORMAT_VERSION, description="Version of this layout.")
    gold: str = Field(description="Gold file name, or '<records>' for in-memory gold.")
    predictions: str | None = Field(
        default=None,
        description="Predictions file scored ('<records>' for in-memory ones), or None when "
        "the taxonomy tagged the gold's texts.",
    )
    taxonomy: str = Field(
        description="Name of the taxonomy evaluated (with `predictions`: the one that orders "
        "and labels the topics)."
    )
    taxonomy_version: str = Field(description="Version of that taxonomy.")
    min_score: float = Field(ge=0, description="Minimum sentence score used for the scores.")
    documents: int = Field(ge=0, description="Gold documents read.")
    topic_filter: list[str] | None = Field(
        default=None,
        description="The topics scored when limited to some (the others were ignored, gold "
        "and predicted alike); None: every topic.",
    )
    levels: list[LevelReport] = Field(description="Sentence level, then document level if any.")
    unknown_topics: list[str] = Field(
        default_factory=list,
        description="Gold topic ids the taxonomy does not define (with predictions: that "
        "no prediction names either): never predicted, so they count as misses in the "
        "averages (a typo in the gold shows here).",
    )
    missing_predictions: list[str] = Field(
        default_factory=list,
        description="Ids of gold documents the predictions have no line for: scored as "
        "predicting nothing.",
    )
    unmatched_predictions: list[str] = Field(
        default_factory=list,
        description="Ids of predictions that no gold document has: not scored.",
    )
    unknown_predicted_topics: list[str] = Field(
        default_factory=list,
        description="Topics the predictions name that neither the gold nor the taxonomy "
        "has: every such prediction is a false positive in that topic's row, which the "
        "averages leave out as they run over topics with gold support (a typo in the "
        "predictions shows here).",
    )

    def get(self, level: Level = "sentence", mode: Mode = "multi") -> ModeReport:
        """Scores of one level and mode.

        Raises:
            KeyError: the gold has no such level or the mode was not evaluated.

        Example:
            >>> gold = [{"id": "d", "text": "Oil prices rose.", "topics": ["energy"]}]
            >>> from policy_topics import evaluate
            >>> evaluate(gold).get("document", "primary").topic("energy").recall
            1.0
        """
        for lvl in self.levels:
            if lvl.level == level:
                for report in lvl.modes:
                    if report.mode == mode:
                        return report
        raise KeyError(f"no {level} level in mode {mode} in this report")

    def _repr_mimebundle_(
        self, include: Any = None, exclude: Any = None, **kwargs: Any
    ) -> dict[str, str]:
        """A notebook shows the tables of :meth:`to_table`, not every field."""
        table = self.to_table()
        return {
            "text/plain": table,
            "text/html": f'<pre style="white-space:pre">{html.escape(table)}</pre>',
        }

    def to_table(self, *, max_errors: int = 5) -> str:
        """Human-readable tables: scores per topic, the threshold curve and the worst errors.

        Args:
            max_errors: Errors of each kind shown per mode (the JSON holds all kept ones).

        Example:
            >>> gold = [{"id": "d", "text": "We cut tariffs.", "topics": ["trade"]}]
            >>> from policy_topics import evaluate
            >>> "trade" in evaluate(gold).to_table()
            True
        """
        scored = f"taxonomy {self.taxonomy} {self.taxonomy_version}"
        if self.predictions is not None:
            scored = f"predictions {self.predictions} (topics ordered as in {scored})"
        out = [
            f"gold {self.gold}: {counted(self.documents, 'document')}; {scored}; "
            f"min_score {self.min_score:g}"
        ]
        if self.topic_filter is not None:
            out.append(f"topics scored: {', '.join(self.topic_filter)} (the others are ignored)")
        for ids, what in (
            (self.missing_predictions, "gold documents without predictions (predict nothing)"),
            (self.unmatched_predictions, "predictions not in the gold (not scored)"),
        ):
            if ids:
                out.append(f"{what}: {len(ids)}: {_some(ids)}")
        if self.unknown_topics:
            nor = " nor predicted" if self.predictions is not None else ""
            out.append(
                f"gold topics not in the taxonomy{nor} (scored as missed): "
                f"{', '.join(self.unknown_topics)}"
            )
        if self.unknown_predicted_topics:
            out.append(
                "predicted topics neither in the gold nor in the taxonomy (false positives "
                "of their own rows, not in the averages): "
                + ", ".join(self.unknown_predicted_topics)
            )
        for lvl in self.levels:
            for report in lvl.modes:
                out += ["", _mode_table(lvl, report), "", _curve_table(report)]
                out += _error_lines(report, max_errors)
        # Control characters in quoted gold text are shown, not acted on by a
        # terminal; lone surrogates become U+FFFD, as in the JSON.
        return for_terminal("\n".join(out))


def _some(ids: list[str], limit: int = 10) -> str:
    """The first ids of a list, for a one-line note.

    Example:
        >>> _some(["a", "b", "c"], limit=2)
        'a, b, ... (1 more)'
    """
    more = f", ... ({len(ids) - limit} more)" if len(ids) > limit else ""
    return ", ".join(ids[:limit]) + more


def _mode_table(lvl: LevelReport, report: ModeReport) -> str:
    head = (
        f"{lvl.level} level, mode {report.mode}: {counted(lvl.units, 'unit')}, "
        f"{lvl.positive_units} with a gold topic"
    )
    names = [t.topic if t.support else f"{t.topic} (no gold)" for t in report.topics]
    width = max([24, *(len(name) + 2 for name in names)])  # long topic ids keep the columns
    rows = [head, f"{'topic':<{width}}{'P':>7}{'R':>7}{'F1':>7}{'support':>9}{'predicted':>11}"]
    for name, t in zip(names, report.topics, strict=True):
        rows.append(
            f"{name:<{width}}{t.precision:>7.2f}{t.recall:>7.2f}{t.f1:>7.2f}"
            f"{t.support:>9}{t.predicted:>11}"
        )
    for name, s in (("micro", report.micro), ("macro", report.macro)):
        rows.append(f"{name:<{width}}{s.precision:>7.2f}{s.recall:>7.2f}{s.f1:>7.2f}")
    return "\n".join(rows)


def _curve_table(report: ModeReport) -> str:
    rows = [f"{'min_score':>9}{'micro P':>9}{'micro R':>9}{'micro F1':>10}{'macro F1':>10}"]
    for p in report.curve:
        rows.append(
            f"{p.min_score:>9.3f}{p.micro.precision:>9.2f}{p.micro.recall:>9.2f}"
            f"{p.micro.f1:>10.2f}{p.macro.f1:>10.2f}"
        )
    return "\n".join(rows)


def _error_lines(report: ModeReport, limit: int) -> list[str]:
    lines: list[str] = []
    for title, cases, total in (
        ("false positives", report.false_positives, report.n_false_positives),
        ("false negatives", report.false_negatives, report.n_false_negatives),
    ):
        shown = cases[: max(0, limit)]
        if not shown:
            continue
        lines += ["", f"{title} ({len(shown)} of {total} shown):"]
        for case in shown:
            fired = "; ".join(f"{t}: {', '.join(ts)}" for t, ts in case.terms.items()) or "-"
            text = " ".join(case.text.split())
            text = text if len(text) <= 100 else text[:99] + "…"
            lines.append(f"  {case.topic:<14} {case.doc_id}#{case.unit}  [{fired}]  {text}")
    return lines
