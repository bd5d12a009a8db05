"""The fast path: matching a text without tokenising the sentences that cannot hold a term.

Most sentences of a policy paper carry no term. :class:`TextMatcher` splits each
sentence into runs of non-space characters, tests each run once against the
taxonomy's :class:`~policy_topics.prefilter.Prefilter`, and tokenises only the
runs of the sentences that pass, with a private copy of the pipeline's
tokenizer; spaCy tokenises such a run the same wherever it occurs, so what it
learns of a run is remembered in bounded caches. Simple token patterns are
matched from the remembered words; a sentence that may hold another token
pattern is tokenised whole and matched by :meth:`Lexicon.match`. The results
are those of :meth:`Lexicon.match` on every sentence of the tokenised text
(``tests/test_fast_path.py``).
"""

from __future__ import annotations

import itertools
import operator
from bisect import bisect_right
from collections.abc import Iterator, Sequence
from typing import Any, cast

from spacy.attrs import IS_SPACE, LOWER
from spacy.tokenizer import Tokenizer
from spacy.vocab import Vocab

from policy_topics._gc import loaded
from policy_topics.hits import NO_HITS, Raw, SentenceHits, resolve
from policy_topics.prefilter import NOTHING, ChunkGroup
from policy_topics.terms import (
    _BY_PATTERN,
    _BY_SIMPLE,
    Lexicon,
    _has_term,
    _Info,
    _is_joiner,
    _joined,
    _raws,
    inflection_keys,
)
from policy_topics.text import replace_surrogates

__all__ = ["TextMatcher"]

# Bounds of the fast path's memory: runs remembered, and distinct words the
# private tokenizer may hold before it is renewed.
_CHUNK_CACHE_SIZE = 50_000
_VOCAB_LIMIT = 50_000
# New runs tokenised in one call.
_BATCH_PIECES = 4096

#: The tokens of one run (joiners left out): info, start, end (relative).
_Chunk = tuple[tuple[_Info, int, int], ...]
#: Every token of such a run: lower-case form, text, index in the _Chunk or -1.
_Pieces = tuple[tuple[str, str, int], ...]
#: What is remembered of a run: its tokens, every token, and the infos of the first.
_Tokens = tuple[_Chunk, _Pieces, tuple[_Info, ...]]


class TextMatcher:
    """The fast path of one :class:`~policy_topics.terms.Lexicon`, with its caches.

    Args:
        lexicon: The compiled taxonomy.
    """

    def __init__(self, lexicon: Lexicon) -> None:
        self._lexicon = lexicon
        # What is remembered of each run of non-space characters: its prefilter
        # group, and its tokens once it was part of a candidate sentence.
        self._groups: dict[str, ChunkGroup] = {}
        self._flags: dict[ChunkGroup | frozenset[ChunkGroup], int] = {}
        self._tokens: dict[str, _Tokens] = {}
        self._chunker = _fresh_tokenizer(lexicon._tokenizer)

    def match_text(self, text: str, spans: Sequence[tuple[int, int]]) -> dict[int, SentenceHits]:
        """Hits per sentence of a whole text, tokenising only the sentences that may hold one.

        Gives what :meth:`Lexicon.match` gives on each sentence of the tokenised text.
        Each run of non-space characters is tested against the prefilter and
        tokenised once, then remembered (a bounded cache): spaCy tokenises such
        a run the same wherever it occurs.

        Args:
            text: The document.
            spans: Its sentences, as ``(start, end)`` offsets in order, each
                starting and ending next to whitespace or the end of the text.

        Returns:
            The hits of every sentence that has some, by sentence index.
        """
        safe = replace_surrogates(text)
        hits: dict[int, SentenceHits] = {}
        window: list[tuple[int, int, int, list[str], int]] = []
        new: dict[str, None] = {}
        tokens = self._tokens
        for candidate in self._candidates(safe, spans):
            window.append(candidate)
            if self._on_pieces(candidate[4]):
                missing = set(candidate[3]).difference(tokens)
                if missing:
                    new.update(dict.fromkeys(missing))
            if len(new) >= _BATCH_PIECES:
                self._match_window(safe, window, self._tokenize_chunks(list(new)), hits)
                window, new = [], {}
        if window:
            self._match_window(safe, window, self._tokenize_chunks(list(new)), hits)
        return hits

    def _candidates(
        self, text: str, spans: Sequence[tuple[int, int]]
    ) -> Iterator[tuple[int, int, int, list[str], int]]:
        """``(index, start, end, pieces, flags)`` of each sentence that may hold a hit."""
        prefilter = self._lexicon.prefilter
        known = self._groups.get
        for k, (start, end) in enumerate(spans):
            pieces = text[start:end].split()
            if prefilter is None:
                yield k, start, end, pieces, _BY_PATTERN | _BY_SIMPLE
                continue
            present = set(map(known, pieces))
            if None in present:
                present = {known(p) or self._learn(p) for p in pieces}
            present.discard(NOTHING)
            if not present:
                continue
            key: ChunkGroup | frozenset[ChunkGroup]
            if len(present) == 1:
                (key,) = cast(set[ChunkGroup], present)  # most sentences: no set to build
            else:
                key = frozenset(cast(set[ChunkGroup], present))
            flags = self._flags.get(key, -1)
            if flags < 0:
                flags = self._combined_flags(key)
            if flags:
                yield k, start, end, pieces, flags

    def _on_pieces(self, flags: int) -> bool:
        """Whether a sentence is matched from its remembered words (else on a Doc).

        Token patterns run on a Doc; a sentence that can hold no pattern match
        is matched from the words alone.
        """
        return self._chunker is not None and not (
            flags & _BY_PATTERN and self._lexicon._pattern_uses
        )

    def _match_window(
        self,
        text: str,
        window: list[tuple[int, int, int, list[str], int]],
        fresh: dict[str, _Tokens],
        hits: dict[int, SentenceHits],
    ) -> None:
        for k, start, end, pieces, flags in window:
            if self._on_pieces(flags):
                found = self._match_pieces(text, start, end, pieces, flags & _BY_SIMPLE, fresh)
            else:
                found = self._lexicon.match(self._lexicon._tokenizer(text[start:end]), offset=start)
            if found.hits:
                hits[k] = found

    def _combined_flags(self, present: ChunkGroup | frozenset[ChunkGroup]) -> int:
        """What a sentence holding these groups may hold (remembered: sets recur)."""
        assert self._lexicon.prefilter is not None
        flags = 0
        ids: set[int] = set()
        for group in present if isinstance(present, frozenset) else (present,):
            flags |= group.flags
            ids.update(group.ids)
        if len(ids) > 1:
            flags |= self._lexicon.prefilter.met(ids)
        if len(self._flags) >= _CHUNK_CACHE_SIZE:
            self._flags.clear()
        self._flags[present] = flags
        return flags

    def _learn(self, piece: str) -> ChunkGroup:
        assert self._lexicon.prefilter is not None
        if len(self._groups) >= _CHUNK_CACHE_SIZE:
            self._groups.clear()
        group = self._groups[piece] = self._lexicon.prefilter.chunk_group(piece)
        return group

    def _match_pieces(
        self,
        text: str,
        start: int,
        end: int,
        pieces: list[str],
        simple: int,
        fresh: dict[str, _Tokens],
    ) -> SentenceHits:
        known = self._tokens.get
        # A word remembered when the window began may have left the full cache since.
        remembered = list(map(known, pieces))
        chunks = (
            cast(list[_Tokens], remembered)
            if None not in remembered
            else [known(p) or fresh.get(p) or self._tokenize_chunks([p])[p] for p in pieces]
        )
        infos = list(itertools.chain.from_iterable(map(_INFOS, chunks)))
        found = self._lexicon._scan(infos)
        if not simple and not _has_term(found):
            return NO_HITS  # without a term nothing counts
        lengths = list(itertools.accumulate(map(len, pieces), initial=0))
        # One whitespace character between runs (the usual case) gives where each
        # run starts by arithmetic; otherwise look for each run in turn.
        spaced = lengths[-1] + len(pieces) - 1 == end - start
        bases = _run_starts(text, start, pieces, lengths, spaced) if simple or not spaced else []
        extra = self._scan_simple(text, pieces, chunks, bases) if simple else []
        firsts = list(itertools.accumulate(map(len, map(_FIRST, chunks)), initial=0))

        def offsets(first: int, last: int) -> tuple[int, int]:
            """Characters of tokens ``first`` to ``last``, worked out only for hits kept."""
            j = bisect_right(firsts, first) - 1
            k = bisect_right(firsts, last) - 1
            base_j = bases[j] if bases else start + lengths[j] + j
            base_k = bases[k] if bases else start + lengths[k] + k
            return (
                base_j + chunks[j][0][first - firsts[j]][1],
                base_k + chunks[k][0][last - firsts[k]][2],
            )

        return resolve(_raws(found, extra), self._lexicon._rules, offsets)

    def _scan_simple(
        self, text: str, pieces: list[str], chunks: list[_Tokens], bases: list[int]
    ) -> list[Raw]:
        sequence: list[tuple[str, str]] = []
        indices: list[int] = []
        offset = 0
        for j, (kept, every, _) in enumerate(chunks):
            if j:
                gap = text[bases[j - 1] + len(pieces[j - 1]) : bases[j]]
                if gap != " ":
                    # spaCy keeps any whitespace but one plain space as a token.
                    space = gap[1:] if gap[0] == " " else gap
                    sequence.append((space.lower(), space))
                    indices.append(-1)
            for lower, orth, local in every:
                sequence.append((lower, orth))
                indices.append(-1 if local < 0 else offset + local)
            offset += len(kept)
        return self._lexicon._simple_raws(sequence, indices)

    def _tokenize_chunks(self, pieces: list[str]) -> dict[str, _Tokens]:
        """Tokenise runs of non-space characters in one call and remember them.

        spaCy tokenises each run on its own, so joining them (:func:`_joined`)
        gives the tokens of each; one call saves the cost of a Doc per run.
        """
        if not pieces:
            return {}
        # The private tokenizer is renewed before its vocabulary, which grows
        # with every new word, uses much memory.
        assert self._chunker is not None
        if len(self._chunker.vocab) >= _VOCAB_LIMIT:
            self._chunker = _fresh_tokenizer(self._lexicon._tokenizer)
            assert self._chunker is not None
        out: dict[str, _Tokens] = {}
        kept: list[tuple[_Info, int, int]] = []
        every: list[tuple[str, str, int]] = []
        j, base = 0, 0
        limit = len(pieces[0])
        for t in self._chunker(_joined(pieces)):
            while t.idx >= limit:
                out[pieces[j]] = _remembered(kept, every)
                kept, every = [], []
                base = limit + 1
                j += 1
                limit = base + len(pieces[j])
            if t.idx < base:
                continue  # the line break put between two runs (see _joined)
            orth, lower = t.text, t.lower_
            if t.is_space or _is_joiner(orth):
                every.append((lower, orth, -1))
                continue
            every.append((lower, orth, len(kept)))
            local = t.idx - base
            info = self._lexicon._info(inflection_keys(lower), lower, orth)
            kept.append((info, local, local + len(orth)))
        out[pieces[j]] = _remembered(kept, every)
        if len(self._tokens) + len(out) > _CHUNK_CACHE_SIZE:
            self._tokens.clear()
        self._tokens.update(itertools.islice(out.items(), _CHUNK_CACHE_SIZE))
        return out


def _run_starts(
    text: str, start: int, pieces: list[str], lengths: list[int], spaced: bool
) -> list[int]:
    """Where each run of a sentence starts (``lengths``: their running total)."""
    if spaced:
        return [start + n + j for j, n in enumerate(lengths[:-1])]
    bases = []
    pos = start
    for piece in pieces:
        pos = text.find(piece, pos)
        bases.append(pos)
        pos += len(piece)
    return bases


def _remembered(kept: list[tuple[_Info, int, int]], every: list[tuple[str, str, int]]) -> _Tokens:
    return tuple(kept), tuple(every), tuple(info for info, _, _ in kept)


def _fresh_tokenizer(tokenizer: Any) -> Tokenizer | None:
    """A copy of a standard spaCy tokenizer with a vocabulary of its own, or None."""
    if type(tokenizer) is not Tokenizer:
        return None
    try:
        config = tokenizer.to_bytes(exclude=["vocab"])
        getters = tokenizer.vocab.lex_attr_getters or {}
        vocab = Vocab(
            # Only what the fast path reads of a token; spaCy's tokenizer itself
            # reads no lexical attribute, and computing the others for every
            # new word was most of what learning a word cost.
            lex_attr_getters={a: getters[a] for a in (LOWER, IS_SPACE) if a in getters},
            writing_system=tokenizer.vocab.writing_system,
        )
        # srsly's msgpack loader, under from_bytes, switches the collector itself;
        # this runs mid-stream too, inside a document's pause.
        copy = loaded(lambda: Tokenizer(vocab).from_bytes(config, exclude=["vocab"]))
    except Exception:  # a custom, unserialisable piece: tokenise sentences with the original
        return None
    return copy if copy.to_bytes(exclude=["vocab"]) == config else None


_FIRST = operator.itemgetter(0)
_INFOS = operator.itemgetter(2)
