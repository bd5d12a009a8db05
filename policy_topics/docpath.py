"""The Doc path: matching a tokenised Doc from its lexemes, without reading its text.

The component gets Docs that spaCy has already tokenised. Reading ``doc.text``
builds a Python object for every token, which costs a quarter of tokenising,
so :class:`DocMatcher` works from one ``doc.to_array`` call instead. What
matching needs of a word (its phrase starts, whether it holds a full stop, is
whitespace, can start a term) depends on the word alone; it is worked out once
per lexeme and remembered in bounded caches keyed by the ORTH hash.

From those, summed over the Doc, it tells whether the Doc is one sentence (one
line, no sentence end before its last token, no bullet marker): then no text is
read at all. Other Docs are segmented from their text with
:func:`~policy_topics.text.split_sentences`, like every other path. Only
sentences holding a word that starts a term are matched, token by token, as
:meth:`Lexicon.match <policy_topics.terms.Lexicon.match>` matches them; the
results are those of the text path (``tests/test_doc_path.py``).
"""

from __future__ import annotations

import itertools
import operator
from bisect import bisect_left, bisect_right
from collections.abc import Callable, Iterable, Sequence
from typing import Any, NamedTuple, TypeVar, cast

import numpy
from spacy.attrs import IDX, LEMMA, ORTH, SENT_START, SPACY
from spacy.tokens import Doc

from policy_topics.hits import NO_HITS, SentenceHits, resolve
from policy_topics.patterns import _ends
from policy_topics.terms import (
    Lexicon,
    _follow,
    _has_term,
    _Info,
    _is_joiner,
    _Phrase,
    _raws,
    inflection_keys,
)
from policy_topics.text import (
    MAX_SENTENCE_CHARS,
    is_bullet_marker,
    keep_tokens_whole,
    split_sentences,
)

__all__ = ["DocMatch", "DocMatcher"]

_ATTRS = [ORTH, IDX, SPACY, SENT_START, LEMMA]
_ORTH, _IDX, _SPACY, _SENT, _LEMMA = range(5)

# What a word adds to the sums over a Doc: fields of 24 bits counting the words
# that start a term phrase of one word, that start a term phrase whose second
# word must be checked, that start a simple pattern, that start a term phrase of
# a rarer shape (a case-sensitive or prefix part after the first: "New Zealand",
# "3D printing"), that hold a sentence-end character, that are whitespace, and
# that mix whitespace with other characters (only a Doc built from words can have
# those; it goes the text way). A Doc of 2**24 tokens or more could overflow a
# field; it goes the text way.
_FIELD = 24
_MASK = (1 << _FIELD) - 1
_ALWAYS, _NEXT, _SIMPLE, _OTHER, _END, _SPACE, _MIXED = (1 << (_FIELD * k) for k in range(7))
_ALWAYS_FIELD, _NEXT_FIELD, _SIMPLE_FIELD, _OTHER_FIELD, _END_FIELD = (
    _MASK * k for k in (_ALWAYS, _NEXT, _SIMPLE, _OTHER, _END)
)
_STARTS = _ALWAYS_FIELD | _NEXT_FIELD | _SIMPLE_FIELD | _OTHER_FIELD
_MAX_TOKENS = 1 << _FIELD
_END_CHARS = frozenset(".!?…。｡！？")
# Letters of roman numerals, which may begin a bullet marker ("iv.").
_ROMAN = frozenset("IVXivx")

# Bound of each memory of words (by ORTH hash); cleared when full.
_CACHE_SIZE = 100_000

K = TypeVar("K")
V = TypeVar("V")


class _Memo(dict[K, V]):
    """A dict that works out a missing value with ``make`` (bounded: cleared when full).

    Looking up many keys is one C-level ``map(memo.__getitem__, keys)``.
    """

    def __init__(self, make: Callable[[K], V]) -> None:
        super().__init__()
        self._make = make

    def __missing__(self, key: K) -> V:
        if len(self) >= _CACHE_SIZE:
            self.clear()
        value = self[key] = self._make(key)
        return value


class DocMatch(NamedTuple):
    """What :meth:`DocMatcher.match` found in a Doc."""

    spans: list[tuple[int, int]]
    hits: dict[int, SentenceHits]
    idx: numpy.ndarray[Any, Any]  # the IDX column, to set sentence starts


class DocMatcher:
    """Matches tokenised Docs against one :class:`~policy_topics.terms.Lexicon`.

    Args:
        lexicon: The compiled taxonomy; its vocabulary must be the Docs' vocabulary.
    """

    def __init__(self, lexicon: Lexicon) -> None:
        self._lexicon = lexicon
        self._vocab = lexicon._vocab
        self._strings = lexicon._vocab.strings
        # By ORTH hash: the word's info (None for whitespace and joiners) and its
        # (lower-case form, text); what it adds to the sums; its text without and
        # with a following space; the keys a second word may have to complete a
        # term phrase starting here; the term phrases of a rarer shape starting here.
        self._words: _Memo[int, tuple[_Info | None, tuple[str, str]]] = _Memo(self._word)
        self._sums: _Memo[int, int] = _Memo(self._value)
        self._spelled: _Memo[int, tuple[str, str]] = _Memo(self._spell)
        self._following: _Memo[int, frozenset[str]] = _Memo(self._second_keys)
        self._others: _Memo[int, tuple[tuple[_Phrase, ...], int]] = _Memo(self._other_phrases)
        self._mixed: _Memo[int, bool] = _Memo(self._is_mixed)
        simple = lexicon._simple
        #: Token patterns need a Doc for spaCy's Matcher, and a simple pattern
        #: whose first token is optional may start anywhere: both go the text way.
        self.usable = not lexicon._pattern_uses and not simple._anywhere

    def tokens_are_ours(self, doc: Doc) -> bool:
        """Whether the Doc's tokens may be this tokenizer's.

        False for another vocabulary, or a word that mixes whitespace with
        other characters (a Doc built from words): such a Doc is matched on
        its own tokens, never by tokenising its text again.
        """
        if doc.vocab is not self._vocab:
            return False
        return not any(map(self._mixed.__getitem__, doc.to_array(ORTH).tolist()))

    def match(self, doc: Doc) -> DocMatch | None:
        """Sentences and hits of a Doc without sentence boundaries or lemmas.

        Returns:
            The sentences (offsets into ``doc.text``), the hits by sentence index
            and the Doc's IDX column; None when the Doc has sentence boundaries
            or lemmas, or another vocabulary (the component then matches it
            from its text).
        """
        if doc.vocab is not self._vocab:
            return None  # the memories are keyed by this vocabulary's hashes
        n = len(doc)
        if n == 0:
            return DocMatch([], {}, numpy.zeros(0, dtype="uint64"))
        if n >= _MAX_TOKENS:
            return None
        array = doc.to_array(_ATTRS)
        if array[0, _LEMMA] or array[1:, _SENT:].any():
            return None  # has_annotation("SENT_START") or has_annotation("LEMMA")
        orths = array[:, _ORTH].tolist()
        values = list(map(self._sums.__getitem__, orths))
        total = sum(values)
        if total >= _MIXED:
            return None
        spans = self._one_sentence(array, orths, values, total)
        if spans is None:
            text = self._text(orths, array[:, _SPACY].tolist())
            if self._lexicon.segments_words:
                spans = split_sentences(text, unspaced=True)
                spans = keep_tokens_whole(spans, array[:, _IDX].tolist())
            else:
                spans = split_sentences(text)
        hits: dict[int, SentenceHits] = {}
        if total & _STARTS:
            leads = self._leads(orths, values)
            if leads:
                self._match_sentences(array, orths, values, spans, leads, hits)
        return DocMatch(spans, hits, array[:, _IDX])

    def _text(self, orths: list[int], spaces: list[int]) -> str:
        """``doc.text``, joined from remembered words rather than from Token objects."""
        return "".join(map(operator.getitem, map(self._spelled.__getitem__, orths), spaces))

    def _one_sentence(
        self, array: Any, orths: list[int], values: list[int], total: int
    ) -> list[tuple[int, int]] | None:
        """``[(0, len(text))]`` when the token sums show one sentence, else None (look at the text).

        The text is one sentence when it has no whitespace but single spaces
        after tokens (so one line, and a last space is trimmed), no sentence-end
        character before its last token, no bullet marker first, and is at
        most ``MAX_SENTENCE_CHARS`` long.
        """
        if total & (_MASK * _SPACE):
            return None  # whitespace tokens: line breaks, runs of spaces
        ends = (total & _END_FIELD) // _END
        if ends and (ends > 1 or not values[-1] & _END_FIELD):
            return None
        strings = self._strings
        last = strings[orths[-1]]
        length = int(array[-1, _IDX]) + len(last)
        if length > MAX_SENTENCE_CHARS:
            return None
        first = strings[orths[0]]
        if (
            not first[0].isalpha()
            or len(first) == 1
            or first[1] in ".)"
            or _ROMAN.issuperset(first)
        ) and len(orths) > 1:
            # The first run of non-space characters may be a bullet marker.
            run = [first]
            for j in range(len(orths) - 1):
                if array[j, _SPACY]:
                    break
                run.append(strings[orths[j + 1]])
            if is_bullet_marker("".join(run)):
                return None
        return [(0, length)]

    def _leads(self, orths: list[int], values: list[int]) -> list[int]:
        """Tokens at which a term or a simple pattern may start, looking ahead.

        A word that starts a term phrase of one word is a lead; one that starts
        only longer term phrases is a lead when the next word can be their
        second, or when one of those of a rarer shape matches there; one that
        starts a simple pattern is a lead when the pattern matches there.
        """
        words = self._words
        found: list[int] = []
        n = len(orths)
        for i in itertools.compress(range(n), map(_STARTS.__and__, values)):
            value = values[i]
            if value & _ALWAYS_FIELD or (value & _SIMPLE_FIELD and self._simple_at(orths, i)):
                found.append(i)
                continue
            if value & _NEXT_FIELD:
                j = i + 1
                while j < n:
                    info = words[orths[j]][0]
                    if info is not None:
                        if not self._following[orths[i]].isdisjoint(info[0]):
                            found.append(i)
                            value = 0  # found: the rarer shapes need no look
                        break
                    j += 1
            if value & _OTHER_FIELD and self._other_at(orths, i):
                found.append(i)
        return found

    def _other_at(self, orths: list[int], i: int) -> bool:
        """Whether a term phrase of a rarer shape matches from token ``i``.

        As :meth:`Lexicon._scan` matches it, over the words that follow
        (whitespace and joiners left out); a match that runs past the end of the
        sentence only makes its sentence be matched in vain.
        """
        phrases, longest = self._others[orths[i]]
        words = self._words
        infos = [words[orths[i]][0]]
        j, end = i + 1, len(orths)
        while j < end and len(infos) <= longest:  # no slice: a long Doc has many leads
            info = words[orths[j]][0]
            if info is not None:
                infos.append(info)
            j += 1
        n = len(infos)
        return any(_follow(phrase.rest, cast(list[_Info], infos), 0, n) >= 0 for phrase in phrases)

    def _simple_at(self, orths: list[int], i: int) -> bool:
        """Whether a simple pattern matches from token ``i``."""
        lower, text = self._words[orths[i]][1]
        simple = self._lexicon._simple
        entries = simple._by_lower.get(lower, []) + simple._by_text.get(text, [])
        longest = max(len(steps) for steps, _, _ in entries)
        sequence = [word[1] for word in map(self._words.__getitem__, orths[i : i + longest])]
        return any(_ends(steps, sequence, 0, len(sequence)) for steps, _, _ in entries)

    def _match_sentences(
        self,
        array: Any,
        orths: list[int],
        values: list[int],
        spans: Sequence[tuple[int, int]],
        leads: list[int],
        hits: dict[int, SentenceHits],
    ) -> None:
        """Match the sentences that hold a lead."""
        idx = array[:, _IDX].tolist()
        simple: dict[int, bool] = {}  # sentence index: whether a simple pattern may start in it
        if len(spans) == 1:
            simple[0] = any(values[i] & _SIMPLE_FIELD for i in leads)
        else:
            starts = [s for s, _ in spans]
            for i in leads:
                k = bisect_right(starts, idx[i]) - 1
                if k >= 0 and idx[i] < spans[k][1]:
                    simple[k] = simple.get(k, False) or bool(values[i] & _SIMPLE_FIELD)
        for k, has_simple in simple.items():
            first, stop = bisect_left(idx, spans[k][0]), bisect_left(idx, spans[k][1])
            found = self._match_tokens(orths, idx, first, stop, has_simple)
            if found.hits:
                hits[k] = found

    def _match_tokens(
        self, orths: list[int], idx: list[int], first: int, stop: int, simple: bool
    ) -> SentenceHits:
        """:meth:`Lexicon.match` on tokens ``first`` to ``stop`` (a sentence), from memory."""
        lexicon = self._lexicon
        words = list(map(self._words.__getitem__, orths[first:stop]))
        infos = list(map(_INFO, words))
        # Token of each info: whitespace and joiners have none.
        tokens: Sequence[int] = range(first, stop)
        if None in infos:
            tokens = [first + j for j, info in enumerate(infos) if info is not None]
            infos = [info for info in infos if info is not None]
        found = lexicon._scan(cast(list[_Info], infos))
        if not simple and not _has_term(found):
            return NO_HITS
        extra: list[Any] = []
        if simple:
            indices: Iterable[int] = range(len(words))
            if len(tokens) < len(words):
                index = {t: j for j, t in enumerate(tokens)}
                indices = [index.get(first + j, -1) for j in range(len(words))]
            extra = lexicon._simple_raws(list(map(_FORMS, words)), list(indices))

        def offsets(start: int, last: int) -> tuple[int, int]:
            i, j = tokens[start], tokens[last]
            return idx[i], idx[j] + len(words[j - first][1][1])

        return resolve(_raws(found, extra), lexicon._rules, offsets)

    # --- what is remembered of a word --------------------------------------------------

    def _word(self, orth: int) -> tuple[_Info | None, tuple[str, str]]:
        text = self._strings[orth]
        lower = self._vocab[orth].lower_
        info = (
            None
            if text.isspace() or _is_joiner(text)
            else self._lexicon._info(inflection_keys(lower), lower, text)
        )
        return info, (lower, text)

    def _value(self, orth: int) -> int:
        """What one word adds to the sums (see ``_FIELD``)."""
        info, (lower, text) = self._words[orth]
        value = 0
        if info is not None and info[3] is not None:
            singles, by_next, others = info[3]
            if _has_term_phrase(singles):
                value += _ALWAYS
            else:
                if any(map(_has_term_phrase, by_next.values())):
                    value += _NEXT
                if _has_term_phrase(others):
                    value += _OTHER
        simple = self._lexicon._simple
        if simple and (lower in simple._by_lower or text in simple._by_text):
            value += _SIMPLE
        if not _END_CHARS.isdisjoint(text):
            value += _END
        if text.isspace():
            value += _SPACE
        elif any(map(str.isspace, text)):
            value += _MIXED
        return value

    def _is_mixed(self, orth: int) -> bool:
        text = self._strings[orth]
        return not text.isspace() and any(map(str.isspace, text))

    def _spell(self, orth: int) -> tuple[str, str]:
        text = self._strings[orth]
        return text, text + " "

    def _other_phrases(self, orth: int) -> tuple[tuple[_Phrase, ...], int]:
        """The term phrases of a rarer shape that start at a word, and their most parts after it."""
        info = self._words[orth][0]
        assert info is not None and info[3] is not None
        phrases = tuple(phrase for _, phrase in info[3][2] if phrase.term_rules)
        return phrases, max(len(phrase.rest) for phrase in phrases)

    def _second_keys(self, orth: int) -> frozenset[str]:
        """Keys of the second words of the term phrases that start at a word."""
        info = self._words[orth][0]
        assert info is not None and info[3] is not None
        return frozenset(key for key, group in info[3][1].items() if _has_term_phrase(group))


def _has_term_phrase(group: Iterable[tuple[int, Any]]) -> bool:
    return any(phrase.term_rules for _, phrase in group)


_INFO = operator.itemgetter(0)
_FORMS = operator.itemgetter(1)
