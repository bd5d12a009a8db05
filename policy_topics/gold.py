"""Gold records for :func:`~policy_topics.evaluate.evaluate`: reading and checking them.

Gold is JSON Lines, one document per line, with sentence spans, document
topics or both (format in :mod:`policy_topics.evaluate`). Every problem is a
:class:`GoldError` that names the line (or record number) and the field.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from policy_topics.errors import PolicyTopicsError
from policy_topics.jsonl import labelled_records
from policy_topics.plain import plain_id

__all__ = ["GoldDoc", "GoldError", "GoldUnit", "gold_records", "parse_gold", "read_gold"]


class GoldError(PolicyTopicsError, ValueError):
    """The gold file or records are malformed; the message names the line and field."""


@dataclass(frozen=True)
class GoldUnit:
    """A labelled unit: a sentence span, or a whole document (``start == end == 0``)."""

    start: int
    end: int
    topics: frozenset[str]
    optional: frozenset[str]


@dataclass(frozen=True)
class GoldDoc:
    """A gold record, checked: its sentence units, its document unit, or both."""

    doc_id: str
    text: str
    sentences: tuple[GoldUnit, ...] | None
    document: GoldUnit | None
    #: Named by its file and line (``gold.jsonl:3``): no id, or a missing one (null, NaN).
    named_by_line: bool = False


def read_gold(source: str | Path | Iterable[Mapping[str, Any]]) -> Iterator[dict[str, Any]]:
    """Read gold records from a JSON Lines file (or pass records through), checking each.

    Args:
        source: Path of a ``.jsonl`` file, or an iterable of records (mappings).

    Yields:
        Each record as a dict, after its format was checked.

    Raises:
        GoldError: naming the line (or record number) and the problem.

    Example:
        >>> [r["id"] for r in read_gold([{"id": "a", "text": "x", "topics": []}])]
        ['a']
    """
    for where, record in gold_records(source):
        parse_gold(record, where)
        yield dict(record)


def line_id(where: str) -> str:
    """The id of a gold record without one: its file's name and line, ``gold.jsonl:3``.

    The file's name without its folder, so that predictions made from the
    file wherever it was named (``policy-topics extract data/gold.jsonl``) join
    it (see ``evaluate._by_line``); any other name as it is: ``record 3`` for a
    record passed in Python.

    Example:
        >>> line_id("data/gold.jsonl:3"), line_id("record 3")
        ('gold.jsonl:3', 'record 3')
    """
    path, colon, line = where.rpartition(":")
    return f"{Path(path).name}:{line}" if colon and path and line.isdecimal() else where


def gold_records(source: str | Path | Iterable[Mapping[str, Any]]) -> Iterator[tuple[str, Any]]:
    """Each gold record with where it is (``"data/gold.jsonl:3"``), unchecked."""
    return labelled_records(source, GoldError, "gold")


def _topic_set(value: Any, where: str, name: str) -> frozenset[str]:
    if value is None:
        return frozenset()
    if not isinstance(value, list) or not all(isinstance(t, str) for t in value):
        raise GoldError(f"{where}: {name} must be a list of topic ids, got {value!r}")
    return frozenset(value)


def _unit(raw: Any, where: str, text_length: int | None) -> GoldUnit:
    if not isinstance(raw, Mapping):
        raise GoldError(f"{where}: expected an object, got {raw!r}")
    if "topics" not in raw:
        raise GoldError(f"{where}: 'topics' is missing (use [] for a unit with no topic)")
    topics = _topic_set(raw["topics"], where, "topics")
    optional = _topic_set(raw.get("optional"), where, "optional")
    if topics & optional:
        both = ", ".join(sorted(topics & optional))
        raise GoldError(f"{where}: {both} is in both topics and optional; keep one")
    if text_length is None:
        return GoldUnit(0, 0, topics, optional)
    start, end = raw.get("start"), raw.get("end")
    if not (
        isinstance(start, int)
        and isinstance(end, int)
        and not isinstance(start, bool)  # JSON's true and false are no offsets
        and not isinstance(end, bool)
        and 0 <= start < end <= text_length
    ):
        raise GoldError(
            f"{where}: start/end must be integers with 0 <= start < end <= {text_length} "
            f"(the text length), got {start!r}/{end!r}"
        )
    return GoldUnit(start, end, topics, optional)


def parse_gold(record: Any, where: str) -> GoldDoc:
    """Check one gold record; ``where`` names it in every :class:`GoldError`."""
    if not isinstance(record, Mapping):
        raise GoldError(f"{where}: expected a JSON object, got {type(record).__name__}")
    text = record.get("text")
    if not isinstance(text, str):
        raise GoldError(f"{where}: 'text' must be a string")
    raw_id = record.get("id")
    if isinstance(raw_id, bool | list | dict):
        # The reader makes such a line an error record: it could join nothing.
        raise GoldError(f"{where}: 'id' must be a string or a number, got {raw_id!r}")
    named = plain_id(raw_id)  # as the reader names documents: 2.0 is "2"
    doc_id = line_id(where) if named is None else named
    raw_sentences = record.get("sentences")
    if raw_sentences is None and "topics" not in record:
        raise GoldError(f"{where}: give 'sentences' (sentence-level) or 'topics' (document-level)")
    sentences: tuple[GoldUnit, ...] | None = None
    if raw_sentences is not None:
        if not isinstance(raw_sentences, list):
            raise GoldError(f"{where}: 'sentences' must be a list")
        units = [
            _unit(raw, f"{where} sentences[{i}]", len(text)) for i, raw in enumerate(raw_sentences)
        ]
        for i in range(1, len(units)):
            if units[i].start < units[i - 1].end:
                raise GoldError(
                    f"{where} sentences[{i}]: starts at {units[i].start}, before the end of "
                    f"sentences[{i - 1}] ({units[i - 1].end}); sort them and remove overlaps"
                )
        sentences = tuple(units)
    document = _unit(record, where, None) if "topics" in record else None
    return GoldDoc(doc_id, text, sentences, document, named_by_line=named is None)
