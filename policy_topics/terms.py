"""Term compilation and matching on spaCy tokens.

A :class:`Lexicon` is a taxonomy compiled for one tokenizer. Every phrase
(topic terms, exclusions, context terms, cues) is tokenised with that
tokenizer and indexed by its first word, so one pass over a sentence finds
every hit of every kind. Hits are then filtered: exclusions veto overlapping
term hits of their topic, context rules (``near``) drop terms that lack their
company, and within a topic the longest hit wins.

Inflection tolerance comes from :func:`inflection_key`, a light suffix
stripper for English inflections (plural, past, -ing) applied to both the term
and the text. It needs no model and never strips derivational suffixes, so
"general" and "generation" stay apart.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from spacy.matcher import Matcher
from spacy.tokens import Doc, Span
from spacy.vocab import Vocab

from policy_topics.taxonomy import Taxonomy, TermSpec

__all__ = ["Hit", "Lexicon", "SentenceHits", "inflection_key"]

_JOINERS = frozenset("-‐‑‒–—―/") | {"--", "---"}
_KEEP_S = ("ss", "us", "is", "ous", "'s")
_VOWELS = frozenset("aeiouy")

# Part kinds: match the inflection key, the exact text, or a lower-case prefix.
_KEY, _CASE, _PREFIX = 0, 1, 2
# Phrase roles.
_TERM, _EXCLUDE, _NEAR, _CUE = 0, 1, 2, 3


@lru_cache(maxsize=262_144)
def inflection_key(word: str) -> str:
    """Key shared by the inflected forms of a lower-case English word.

    Strips plural ``-s``/``-es``/``-ies``, past ``-ed``/``-ied`` and ``-ing``,
    undoubles a final consonant and drops a final ``e``; words shorter than
    four letters are left alone.

    Example:
        >>> inflection_key("tariffs") == inflection_key("tariff")
        True
        >>> inflection_key("investing") == inflection_key("invested") == inflection_key("invest")
        True
        >>> inflection_key("manufacturing") == inflection_key("manufacture")
        True
    """
    w = word
    if len(w) < 4 or not w.isalpha():
        return w
    if (w.endswith("ies") and len(w) > 4) or (w.endswith("ied") and len(w) > 4):
        w = w[:-3] + "y"
    elif w.endswith(("sses", "xes", "ches", "shes", "zes")):
        w = w[:-2]
    elif w.endswith("s") and not w.endswith(_KEEP_S):
        w = w[:-1]
    elif w.endswith("ing") and len(w) > 5 and _VOWELS & set(w[:-3]):
        w = w[:-3]
    elif w.endswith("ed") and len(w) > 4 and _VOWELS & set(w[:-2]):
        w = w[:-2]
    if len(w) > 3 and w[-1] == w[-2] and w[-1] not in "aeiouls":
        w = w[:-1]
    if len(w) > 3 and w.endswith("e") and not w.endswith("ee"):
        w = w[:-1]
    return w


@dataclass(frozen=True, slots=True)
class _Use:
    role: int
    topic: str = ""
    subtopic: str | None = None
    term: str = ""
    weight: float = 1.0
    rule: int = -1


@dataclass(slots=True)
class _Phrase:
    parts: tuple[tuple[int, str], ...]
    uses: list[_Use] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class _Rule:
    window: int | None


@dataclass(frozen=True, slots=True)
class Hit:
    """One accepted term match inside a sentence."""

    term: str
    topic: str
    subtopic: str | None
    weight: float
    start: int
    end: int


@dataclass(frozen=True, slots=True)
class SentenceHits:
    """Accepted hits and cue terms of one sentence, offsets absolute."""

    hits: tuple[Hit, ...]
    cues: tuple[str, ...]


@dataclass(slots=True)
class _Token:
    keys: tuple[str, ...]
    lower: str
    orth: str
    start: int
    end: int


@dataclass(slots=True)
class _Raw:
    use: _Use
    first: int
    last: int
    start: int
    end: int


class Lexicon:
    """A taxonomy compiled against one spaCy tokenizer.

    Args:
        taxonomy: The validated taxonomy.
        tokenizer: Callable turning a phrase into a Doc; use the pipeline's own
            tokenizer so phrases split exactly like the text does.
        vocab: Vocabulary for the Matcher that runs token patterns.
    """

    def __init__(self, taxonomy: Taxonomy, tokenizer: Callable[[str], Doc], vocab: Vocab) -> None:
        self.taxonomy = taxonomy
        self._tokenizer = tokenizer
        self._phrases: dict[tuple[tuple[int, str], ...], _Phrase] = {}
        self._by_key: dict[str, list[_Phrase]] = defaultdict(list)
        self._by_case: dict[str, list[_Phrase]] = defaultdict(list)
        self._by_prefix: dict[str, list[_Phrase]] = defaultdict(list)
        self._rules: list[_Rule] = []
        self._vocab = vocab
        self._matcher = Matcher(vocab, validate=True)
        self._pattern_uses: dict[str, _Use] = {}
        self._anchors: set[str] = set()
        self._anchors_complete = True
        for topic_id, subtopic, topic in taxonomy.iter_topics():
            for spec in topic.terms:
                self._add_term(spec, topic_id, subtopic)
            for phrase in topic.exclude:
                self._add_phrase(phrase, _Use(_EXCLUDE, topic_id, subtopic, phrase))
        for cue in taxonomy.cues:
            self._add_phrase(cue, _Use(_CUE, term=cue))
        self.anchor_pattern = _trie_regex(self._anchors) if self._anchors_complete else None

    # --- compilation -------------------------------------------------------------------

    def _add_term(self, spec: TermSpec, topic: str, subtopic: str | None) -> None:
        rule = -1
        if spec.near:
            rule = len(self._rules)
            self._rules.append(_Rule(spec.window))
            for near in spec.near:
                self._add_phrase(near, _Use(_NEAR, topic, subtopic, near, rule=rule))
        use = _Use(_TERM, topic, subtopic, spec.name, spec.weight, rule)
        if spec.pattern is not None:
            key = f"policy_topics:{len(self._pattern_uses)}"
            self._matcher.add(key, [spec.pattern])
            self._pattern_uses[key] = use
            self._anchors_complete &= self._add_pattern_anchor(spec.pattern[0])
            return
        phrase = self._add_phrase(spec.term or "", use, case_sensitive=spec.case_sensitive)
        if phrase is not None:
            kind, value = phrase.parts[0]
            self._anchors.add(value[:-1] if kind == _KEY and value.endswith("y") else value)

    def _add_pattern_anchor(self, first: dict[str, Any]) -> bool:
        if first.get("OP") in ("?", "*", "!"):
            return False
        for attr in ("LOWER", "ORTH", "TEXT"):
            value = first.get(attr)
            if isinstance(value, str) and value:
                self._anchors.add(value)
                return True
            if isinstance(value, dict) and isinstance(value.get("IN"), list) and value["IN"]:
                self._anchors.update(str(v) for v in value["IN"] if str(v))
                return all(str(v) for v in value["IN"])
        return False

    def _parts(self, text: str, case_sensitive: bool | None) -> tuple[tuple[int, str], ...]:
        wildcard = text.endswith("*")
        if wildcard:
            text = text[:-1]
        exact = case_sensitive if case_sensitive is not None else text != text.lower()
        words = [t.text for t in self._tokenizer(text) if not _is_joiner(t.text)]
        parts = [(_CASE, w) if exact else (_KEY, inflection_key(w.lower())) for w in words]
        if wildcard and parts:
            parts[-1] = (_PREFIX, words[-1].lower())
        return tuple(parts)

    def _add_phrase(
        self, text: str, use: _Use, *, case_sensitive: bool | None = None
    ) -> _Phrase | None:
        parts = self._parts(text, case_sensitive)
        if not parts:
            return None
        phrase = self._phrases.get(parts)
        if phrase is None:
            phrase = self._phrases[parts] = _Phrase(parts)
            kind, value = parts[0]
            if kind == _KEY:
                self._by_key[value].append(phrase)
            elif kind == _CASE:
                self._by_case[value].append(phrase)
            else:
                self._by_prefix[value[:3]].append(phrase)
        phrase.uses.append(use)
        return phrase

    @property
    def has_patterns(self) -> bool:
        """Whether the taxonomy holds spaCy token patterns."""
        return bool(self._pattern_uses)

    def candidate(self, text: str, start: int = 0, end: int | None = None) -> bool:
        """Cheap test: False means ``text[start:end]`` cannot hold any term hit."""
        if self.anchor_pattern is None:
            return True
        return (
            self.anchor_pattern.search(text, start, len(text) if end is None else end) is not None
        )

    # --- matching ----------------------------------------------------------------------

    def match(
        self, tokens: Doc | Span, *, offset: int = 0, use_lemmas: bool = False
    ) -> SentenceHits:
        """Find the accepted term hits and the cues in one sentence.

        Args:
            tokens: The sentence as a Span (or a Doc holding just the sentence).
            offset: Added to token offsets, to make them absolute in the caller's text.
            use_lemmas: Also match on the lemmas of a trained pipeline.

        Returns:
            Accepted hits in text order, and the cue terms found.
        """
        base = offset - (tokens.start_char if isinstance(tokens, Span) else 0)
        toks = [
            _Token(_keys(t, use_lemmas), t.lower_, t.text, t.idx + base, t.idx + len(t.text) + base)
            for t in tokens
            if not (t.is_space or _is_joiner(t.text))
        ]
        raws = self._scan(toks)
        if self._pattern_uses:
            raws.extend(self._scan_patterns(tokens, toks, base))
        return _resolve(raws, self._rules)

    def _scan(self, toks: list[_Token]) -> list[_Raw]:
        found: list[_Raw] = []
        by_key, by_case, by_prefix = self._by_key, self._by_case, self._by_prefix
        for i, tok in enumerate(toks):
            candidates: list[_Phrase] = []
            for key in tok.keys:
                candidates.extend(by_key.get(key, ()))
            orth = tok.orth
            candidates.extend(by_case.get(orth, ()))
            if orth.endswith("s") and len(orth) > 1:
                candidates.extend(by_case.get(orth[:-1], ()))
            for phrase in by_prefix.get(tok.lower[:3], ()):
                if tok.lower.startswith(phrase.parts[0][1]):
                    candidates.append(phrase)
            for phrase in candidates:
                last = _extend(phrase.parts, toks, i)
                if last >= 0:
                    found.extend(
                        _Raw(use, i, last, tok.start, toks[last].end) for use in phrase.uses
                    )
        return found

    def _scan_patterns(self, tokens: Doc | Span, toks: list[_Token], base: int) -> list[_Raw]:
        firsts = {t.start: i for i, t in enumerate(toks)}
        lasts = {t.end: i for i, t in enumerate(toks)}
        found: list[_Raw] = []
        for match_id, start, end in self._matcher(tokens):
            first_tok, last_tok = tokens[start], tokens[end - 1]
            s, e = first_tok.idx + base, last_tok.idx + len(last_tok.text) + base
            first, last = firsts.get(s), lasts.get(e)
            if first is None or last is None:
                continue
            use = self._pattern_uses[self._vocab.strings[match_id]]
            found.append(_Raw(use, first, last, s, e))
        return found


def _is_joiner(text: str) -> bool:
    return text in _JOINERS


def _keys(token: Any, use_lemmas: bool) -> tuple[str, ...]:
    key = inflection_key(token.lower_)
    if use_lemmas:
        lemma = token.lemma_.lower()
        if lemma:
            other = inflection_key(lemma)
            if other != key:
                return (key, other)
    return (key,)


def _part_matches(part: tuple[int, str], tok: _Token) -> bool:
    kind, value = part
    if kind == _KEY:
        return value in tok.keys
    if kind == _CASE:
        return tok.orth == value or (tok.orth.endswith("s") and tok.orth[:-1] == value)
    return tok.lower.startswith(value)


def _extend(parts: Sequence[tuple[int, str]], toks: list[_Token], i: int) -> int:
    """Index of the last token of the phrase starting at ``i``, or -1."""
    if not _part_matches(parts[0], toks[i]):
        return -1
    j = i
    for part in parts[1:]:
        j += 1
        if j >= len(toks) or not _part_matches(part, toks[j]):
            return -1
    return j


def _in_scope(scope: str | None, subtopic: str | None) -> bool:
    if scope is None:
        return True
    return subtopic is not None and (subtopic == scope or subtopic.startswith(scope + "."))


def _resolve(raws: Iterable[_Raw], rules: Sequence[_Rule]) -> SentenceHits:
    terms: list[_Raw] = []
    excludes: list[_Raw] = []
    near: dict[int, list[_Raw]] = defaultdict(list)
    cues: dict[str, None] = {}
    for raw in raws:
        role = raw.use.role
        if role == _TERM:
            terms.append(raw)
        elif role == _EXCLUDE:
            excludes.append(raw)
        elif role == _NEAR:
            near[raw.use.rule].append(raw)
        else:
            cues.setdefault(raw.use.term, None)
    accepted: list[_Raw] = []
    for raw in terms:
        use = raw.use
        if any(
            x.use.topic == use.topic
            and x.start < raw.end
            and raw.start < x.end
            and _in_scope(x.use.subtopic, use.subtopic)
            for x in excludes
        ):
            continue
        if use.rule >= 0 and not _near_ok(raw, near.get(use.rule, ()), rules[use.rule].window):
            continue
        accepted.append(raw)
    accepted.sort(
        key=lambda r: (
            r.use.topic,
            r.start,
            -(r.end - r.start),
            -_depth(r.use.subtopic),
            -r.use.weight,
            r.use.term,
        )
    )
    kept: list[Hit] = []
    topic_end: dict[str, int] = {}
    for raw in accepted:
        use = raw.use
        if raw.start < topic_end.get(use.topic, -1):
            continue
        topic_end[use.topic] = raw.end
        kept.append(Hit(use.term, use.topic, use.subtopic, use.weight, raw.start, raw.end))
    kept.sort(key=lambda h: (h.start, h.end, h.topic))
    return SentenceHits(tuple(kept), tuple(cues))


def _depth(subtopic: str | None) -> int:
    return 0 if subtopic is None else subtopic.count(".") + 1


def _near_ok(raw: _Raw, company: Iterable[_Raw], window: int | None) -> bool:
    for other in company:
        if (
            other.start < raw.end
            and raw.start < other.end
            and other.first == raw.first
            and other.last == raw.last
        ):
            continue
        if window is None:
            return True
        gap = other.first - raw.last if other.first > raw.last else raw.first - other.last
        if gap <= window:
            return True
    return False


def _trie_regex(words: Iterable[str]) -> re.Pattern[str] | None:
    """One case-insensitive regex matching any of ``words`` as a substring.

    Built as a trie so matching cost does not grow with the number of words.
    """
    trie: dict[str, Any] = {}
    for word in words:
        node = trie
        for char in word.lower():
            node = node.setdefault(char, {})
        node[""] = {}
    if not trie:
        return None

    def build(node: dict[str, Any]) -> str:
        if "" in node:
            return ""  # a shorter anchor already matches; longer ones add nothing
        branches = [re.escape(char) + build(child) for char, child in sorted(node.items())]
        return branches[0] if len(branches) == 1 else "(?:" + "|".join(branches) + ")"

    return re.compile(build(trie), re.IGNORECASE)
