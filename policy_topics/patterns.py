"""Simple token patterns, matched without building a spaCy Doc.

Most token patterns in a taxonomy only compare a token's lower-case form or
text with a word or a list of words, test a flag such as ``IS_TITLE`` and mark
tokens optional with ``"OP": "?"``. Those are matched here on plain
``(lower, text)`` pairs, which lets the fast path skip tokenising sentences
into a Doc. Anything else (other attributes, other operators) stays with
spaCy's Matcher. The matches are those of spaCy's Matcher: every
``(start, end)`` for which some choice of the optional tokens fits.

Example:
    >>> import spacy
    >>> getters = spacy.blank("en").vocab.lex_attr_getters
    >>> steps = compile_pattern([{"LOWER": "buy"}, {"LOWER": "local", "OP": "?"}], getters)
    >>> patterns = SimplePatterns()
    >>> patterns.add(steps, "buy")
    >>> patterns.matches([("we", "We"), ("buy", "buy"), ("local", "local")])
    [('buy', 1, 2), ('buy', 1, 3)]
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from spacy.attrs import IS_ALPHA, IS_DIGIT, IS_LOWER, IS_TITLE, IS_UPPER

__all__ = ["SimplePatterns", "Step", "compile_pattern"]

T = TypeVar("T")

_FLAGS = {
    "IS_ALPHA": IS_ALPHA,
    "IS_DIGIT": IS_DIGIT,
    "IS_LOWER": IS_LOWER,
    "IS_TITLE": IS_TITLE,
    "IS_UPPER": IS_UPPER,
}


@dataclass(frozen=True, slots=True)
class Step:
    """One token of a simple pattern."""

    optional: bool
    lowers: frozenset[str] | None
    texts: frozenset[str] | None
    flags: tuple[tuple[Callable[[str], Any], bool], ...]

    def fits(self, lower: str, text: str) -> bool:
        """Whether a token with this lower-case form and text fits the step."""
        if self.lowers is not None and lower not in self.lowers:
            return False
        if self.texts is not None and text not in self.texts:
            return False
        return all(bool(getter(text)) == want for getter, want in self.flags)


def compile_pattern(
    pattern: Sequence[Mapping[str, Any]], getters: Mapping[int, Callable[[str], Any]]
) -> tuple[Step, ...] | None:
    """The steps of a simple pattern, or None when spaCy's Matcher must run it.

    Args:
        pattern: A spaCy Matcher token pattern.
        getters: The vocabulary's lexical attribute getters (``IS_TITLE`` and
            the other flags are computed exactly as spaCy computes them).

    Example:
        >>> import spacy
        >>> getters = spacy.blank("en").vocab.lex_attr_getters
        >>> compile_pattern([{"POS": "NOUN"}], getters) is None
        True
    """
    steps: list[Step] = []
    for spec in pattern:
        op = spec.get("OP")
        if op not in (None, "?"):
            return None
        lowers: frozenset[str] | None = None
        texts: frozenset[str] | None = None
        flags: list[tuple[Callable[[str], Any], bool]] = []
        for key, value in spec.items():
            if key == "OP":
                continue
            if key in ("LOWER", "ORTH", "TEXT"):
                words = _words(value)
                if words is None:
                    return None
                if key == "LOWER":
                    lowers = words if lowers is None else lowers & words
                else:
                    texts = words if texts is None else texts & words
            elif key in _FLAGS and isinstance(value, bool) and _FLAGS[key] in getters:
                flags.append((getters[_FLAGS[key]], value))
            else:
                return None
        steps.append(Step(op == "?", lowers, texts, tuple(flags)))
    if all(step.optional for step in steps):
        return None
    return tuple(steps)


def _words(value: Any) -> frozenset[str] | None:
    if isinstance(value, str):
        return frozenset([value])
    if (
        isinstance(value, dict)
        and set(value) == {"IN"}
        and isinstance(value["IN"], list)
        and all(isinstance(v, str) for v in value["IN"])
    ):
        return frozenset(value["IN"])
    return None


class SimplePatterns(Generic[T]):
    """Simple patterns, each with a payload, indexed by the first token they need."""

    def __init__(self) -> None:
        self._by_lower: dict[str, list[_Entry[T]]] = {}
        self._by_text: dict[str, list[_Entry[T]]] = {}
        self._anywhere: list[_Entry[T]] = []
        self._count = 0

    def __bool__(self) -> bool:
        return self._count > 0

    def add(self, steps: tuple[Step, ...], payload: T) -> None:
        """Add a compiled pattern."""
        entry = (steps, payload, self._count)
        self._count += 1
        first = steps[0]
        if first.optional or (first.lowers is None and first.texts is None):
            self._anywhere.append(entry)
        elif first.lowers is not None:
            for word in first.lowers:
                self._by_lower.setdefault(word, []).append(entry)
        else:
            assert first.texts is not None
            for word in first.texts:
                self._by_text.setdefault(word, []).append(entry)

    def matches(self, tokens: Sequence[tuple[str, str]]) -> list[tuple[T, int, int]]:
        """Every ``(payload, start, end)`` match in ``(lower, text)`` tokens.

        Sorted by start, end and the order the patterns were added.
        """
        found: list[tuple[int, int, int, T]] = []
        n = len(tokens)
        by_lower, by_text, anywhere = self._by_lower, self._by_text, self._anywhere
        starts = (
            range(n)
            if anywhere
            else [
                i for i, (lower, text) in enumerate(tokens) if lower in by_lower or text in by_text
            ]
        )
        for i in starts:
            lower, text = tokens[i]
            entries = by_lower.get(lower, []) + by_text.get(text, []) + anywhere
            for steps, payload, rank in entries:
                found.extend((i, end, rank, payload) for end in _ends(steps, tokens, i, n))
        found.sort(key=lambda m: m[:3])
        return [(payload, start, end) for start, end, _, payload in found]


_Entry = tuple[tuple[Step, ...], T, int]


def _ends(steps: Sequence[Step], tokens: Sequence[tuple[str, str]], i: int, n: int) -> set[int]:
    """Ends of the matches of ``steps`` that start at token ``i``."""
    at = {i}
    for step in steps:
        after: set[int] = set()
        for t in at:
            if step.optional:
                after.add(t)
            if t < n and step.fits(*tokens[t]):
                after.add(t + 1)
        if not after:
            return after
        at = after
    at.discard(i)
    return at
