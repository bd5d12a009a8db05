"""What the matches of a sentence resolve to: the accepted hits.

Matching (:mod:`policy_topics.terms` and its two fast paths) finds every
phrase and pattern of the taxonomy in a sentence, as :class:`Raw` uses of a
phrase by token. :func:`resolve` then keeps the hits that count: exclusions
veto overlapping term hits of their topic, context rules (``near``) drop
terms that lack their company, and within a topic the longest hit wins.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import NamedTuple

__all__ = [
    "CUE",
    "EXCLUDE",
    "NEAR",
    "NO_HITS",
    "TERM",
    "Hit",
    "Raw",
    "Rule",
    "SentenceHits",
    "Use",
    "resolve",
]

# Roles of a phrase: a term of a topic, an exclusion, a context word of a rule, a cue.
TERM, EXCLUDE, NEAR, CUE = 0, 1, 2, 3


@dataclass(frozen=True, slots=True)
class Use:
    """One use of a phrase: its role and, for a term, the topic it tags."""

    role: int
    topic: str = ""
    subtopic: str | None = None
    term: str = ""
    weight: float = 1.0
    rule: int = -1
    order: int = 0  # place of the term in the taxonomy, the last tie-breaker
    # Among hits that start and end on the same tokens: the deeper sub-topic, then
    # the heavier term, then the term text and its place win.
    rank: tuple[int, float, str, int] = field(init=False, compare=False)

    def __post_init__(self) -> None:
        depth = 0 if self.subtopic is None else self.subtopic.count(".") + 1
        object.__setattr__(self, "rank", (-depth, -self.weight, self.term, self.order))


@dataclass(frozen=True, slots=True)
class Rule:
    """A context rule: its term counts only with one of its words within ``window`` tokens."""

    window: int | None


class Hit(NamedTuple):
    """One accepted term match inside a sentence."""

    term: str
    topic: str
    subtopic: str | None
    weight: float
    start: int
    end: int


class SentenceHits(NamedTuple):
    """Accepted hits and cue terms of one sentence, offsets absolute."""

    hits: tuple[Hit, ...]
    cues: tuple[str, ...]


NO_HITS = SentenceHits((), ())


@dataclass(slots=True)
class Raw:
    """A phrase or pattern found, by its first and last token in the sentence."""

    use: Use
    first: int
    last: int


def _in_scope(scope: str | None, subtopic: str | None) -> bool:
    if scope is None:
        return True
    return subtopic is not None and (subtopic == scope or subtopic.startswith(scope + "."))


def resolve(
    raws: Iterable[Raw],
    rules: Sequence[Rule],
    offsets: Callable[[int, int], tuple[int, int]],
) -> SentenceHits:
    """Accepted hits of a sentence from what was found in it.

    Tokens do not overlap and come in text order, so hits are compared by token
    indices; ``offsets(first, last)`` gives the characters of the hits kept.
    """
    terms: list[Raw] = []
    excludes: list[Raw] = []
    near: dict[int, list[Raw]] = {}
    cues: dict[str, None] = {}
    for raw in raws:
        role = raw.use.role
        if role == TERM:
            terms.append(raw)
        elif role == EXCLUDE:
            excludes.append(raw)
        elif role == NEAR:
            near.setdefault(raw.use.rule, []).append(raw)
        else:
            cues.setdefault(raw.use.term, None)
    accepted: list[Raw] = []
    for raw in terms:
        use = raw.use
        if excludes and any(
            x.use.topic == use.topic
            and x.first <= raw.last
            and raw.first <= x.last
            and _in_scope(x.use.subtopic, use.subtopic)
            for x in excludes
        ):
            continue
        if use.rule >= 0 and not _near_ok(raw, near.get(use.rule, ()), rules[use.rule].window):
            continue
        accepted.append(raw)
    if len(accepted) > 1:
        accepted.sort(key=lambda r: (r.use.topic, r.first, -r.last, r.use.rank))
    kept: list[Hit] = []
    topic_last: dict[str, int] = {}
    for raw in accepted:
        use = raw.use
        if raw.first <= topic_last.get(use.topic, -1):
            continue
        topic_last[use.topic] = raw.last
        start, end = offsets(raw.first, raw.last)
        kept.append(Hit(use.term, use.topic, use.subtopic, use.weight, start, end))
    if len(kept) > 1:
        kept.sort(key=lambda h: (h.start, h.end, h.topic))
    return SentenceHits(tuple(kept), tuple(cues))


def _near_ok(raw: Raw, company: Iterable[Raw], window: int | None) -> bool:
    for other in company:
        if other.first == raw.first and other.last == raw.last:
            continue
        if window is None:
            return True
        gap = other.first - raw.last if other.first > raw.last else raw.first - other.last
        if gap <= window:
            return True
    return False
