"""Which sentences can hold a term hit: a conservative test on the raw text.

Tokenising is the costly step, and most sentences of a policy paper carry no
term, so the fast path tokenises only the sentences that pass this test. Each
word of a term becomes an *anchor*, a string the token must start with or be:

- ``("ci", prefix)``: the lower-cased token starts with ``prefix`` (an
  inflection key, a wildcard prefix);
- ``("ce", word)``: the lower-cased token is ``word`` (token patterns);
- ``("cs", word)``: the token is ``word`` or ``word + "s"`` (case-sensitive
  terms; searched without case, which only lets more sentences through).

A requirement is a set of anchors that must all occur in a sentence, each at a
place where a token can start; a sentence passes when some requirement is met.
The test may say yes wrongly, never no wrongly, so results equal those of
tokenising everything.

Where a token can start and end: spaCy's tokenizer splits a run of letters
only inside its special cases ("cannot" -> "can" + "not"). Those are read from
the tokenizer's own rules, so an anchor is skipped right after a letter (and a
whole word right before one) unless a special case can put a token there.
Other tokenizers (the word segmenters of Chinese, Japanese or Thai, or a
custom one) may split anywhere: with them an anchor counts wherever it occurs.

Example:
    >>> import spacy
    >>> tokenizer = spacy.blank("en").tokenizer
    >>> test = Prefilter([(frozenset({("ci", "tarif")}), 1)], tokenizer)
    >>> text = "We met. Tariffs fell. Mostarifs are not words."
    >>> test.candidates(text, [(0, 7), (8, 21), (22, 46)])
    [(1, 1)]
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from spacy.attrs import ORTH
from spacy.tokenizer import Tokenizer

from policy_topics.text import folded, has_invisible

__all__ = ["NOTHING", "Anchor", "ChunkGroup", "Prefilter", "segments_words"]

#: ``(kind, text)`` with kind ``"ci"``, ``"ce"`` or ``"cs"`` (see the module docstring).
Anchor = tuple[str, str]

_LETTER = r"[^\W\d_]"
_LETTER_RE = re.compile(_LETTER)
_NO_LETTER_BEFORE = rf"(?<!{_LETTER})"
_NO_LETTER_AFTER = rf"(?!{_LETTER})"


@dataclass(frozen=True, slots=True)
class _Form:
    """One searched string of an anchor."""

    id: int
    text: str
    whole: bool  # the token must end where the text ends
    free_start: bool  # may start right after a letter
    free_end: bool  # may end right before a letter


class ChunkGroup:
    """What the anchors found in a piece of text say.

    ``flags`` are met by anchors that suffice alone; ``ids`` are the anchors
    that count towards requirements of several anchors. Compared and hashed by
    identity (groups are shared), which keeps sets of them cheap.
    """

    __slots__ = ("flags", "ids")

    def __init__(self, flags: int, ids: frozenset[int]) -> None:
        self.flags = flags
        self.ids = ids

    def __repr__(self) -> str:
        return f"ChunkGroup(flags={self.flags}, ids={set(self.ids) or '{}'})"


#: The group of text that holds no anchor.
NOTHING = ChunkGroup(0, frozenset())


def segments_words(tokenizer: Any) -> bool:
    """Whether a tokenizer is a word segmenter rather than spaCy's rule-based one.

    spaCy's Chinese, Japanese, Korean and Thai tokenizers (and custom ones)
    may start and end a token between any two characters.
    """
    return type(tokenizer) is not Tokenizer


class Prefilter:
    """A conservative sentence test compiled from term requirements.

    Args:
        requirements: ``(anchors, flag)`` pairs; a sentence meets one when all
            its anchors occur in it, and is reported with the flags it meets.
        tokenizer: The spaCy tokenizer the terms were compiled with; its special
            cases say where a token may start or end next to a letter.
    """

    def __init__(
        self, requirements: Iterable[tuple[frozenset[Anchor], int]], tokenizer: Any
    ) -> None:
        after, before = _mid_word_tokens(getattr(tokenizer, "rules", None) or {})
        # Another tokenizer (Chinese, Japanese, Thai: a word segmenter, or a
        # custom one) may start and end a token between any two letters.
        anywhere = segments_words(tokenizer)
        after_lower = {t.lower() for t in after}
        before_lower = {t.lower() for t in before}
        anchors: dict[Anchor, int] = {}
        sufficient: dict[int, int] = {}
        self._all_flags = 0
        self._triggered: dict[int, list[tuple[frozenset[int], int]]] = {}
        for requirement, flag in requirements:
            ids = frozenset(anchors.setdefault(a, len(anchors)) for a in requirement)
            self._all_flags |= flag
            if len(ids) == 1:
                (only,) = ids
                sufficient[only] = sufficient.get(only, 0) | flag
            elif ids:
                self._triggered.setdefault(min(ids), []).append((ids, flag))
        in_alternatives = {i for alts in self._triggered.values() for a, _ in alts for i in a}

        forms: list[_Form] = []
        for (kind, word), i in anchors.items():
            if kind == "ci":
                free_start = any(t.startswith(word) for t in after_lower)
                forms.append(_Form(i, folded(word), False, free_start, True))
                continue
            texts = [word, word + "s"] if kind == "cs" else [word]
            if kind == "cs":
                free_start = any(t in after for t in texts)
                free_end = any(t in before for t in texts)
            else:
                free_start, free_end = word in after_lower, word in before_lower
            # Folded as the text is searched (ß as ss): a pattern's or a case-sensitive
            # term's ß is then found in either spelling, which only lets more through.
            forms.extend(_Form(i, folded(t.lower()), True, free_start, free_end) for t in texts)
        forms = [
            _Form(
                f.id,
                f.text,
                f.whole,
                anywhere or f.free_start or not _LETTER_RE.match(f.text),
                anywhere or f.free_end or not _LETTER_RE.match(f.text[-1]),
            )
            for f in forms
        ]

        def group(matched: str, by_text: dict[str, list[_Form]]) -> ChunkGroup:
            # The forms that may hold where the regex returned ``matched``: the
            # regex returns the longest, so the others are its prefixes.
            prefixes = (by_text.get(matched[:n], ()) for n in range(1, len(matched) + 1))
            ids = {f.id for found in prefixes for f in found if _present(f, matched)}
            flags = 0
            for i in ids:
                flags |= sufficient.get(i, 0)
            kept = ids & in_alternatives
            return ChunkGroup(flags, frozenset(kept)) if flags or kept else NOTHING

        # Anchors that start with a letter and never follow one are searched with
        # a look-behind. If a special case lets one follow a letter (rare), a
        # second branch finds those, and a capture tells the two apart.
        self._split = any(f.free_start and _LETTER_RE.match(f.text) for f in forms)
        bounded = [f for f in forms if _LETTER_RE.match(f.text)]
        others = [f for f in forms if not _LETTER_RE.match(f.text)]
        if self._split:
            others = [f for f in forms if f.free_start]
        self._groups: dict[str, ChunkGroup] = {}
        self._free_groups: dict[str, ChunkGroup] = {}
        branches = []
        if bounded:
            searched = _by_text(bounded)
            self._groups.update((s, group(s, searched)) for s in searched)
            branches.append(_NO_LETTER_BEFORE + _group(_trie_regex(bounded), self._split))
        if others:
            table = self._free_groups if self._split else self._groups
            searched = _by_text(others)
            table.update((s, group(s, searched)) for s in searched)
            branches.append(_group(_trie_regex(others), self._split))
        body = "|".join(branches)
        if branches and _overlap(forms, others):
            # One anchor may start inside another's match ("n't" inside "can" at
            # "can't"): findall would skip it. Look ahead at every place instead,
            # so matches may overlap; the packaged taxonomies have no such pair.
            body = f"(?=({body}))" if not self._split else f"(?=(?:{body}))"
        self._regex = re.compile(body) if branches else None
        self._everything = ChunkGroup(self._all_flags, frozenset())

    def candidates(self, text: str, spans: Sequence[tuple[int, int]]) -> list[tuple[int, int]]:
        """The sentences (``spans`` into ``text``, in order) that may hold a hit.

        Returns:
            ``(index, flags)`` for each such sentence, in order.

        Example:
            >>> import spacy
            >>> tokenizer = spacy.blank("en").tokenizer
            >>> test = Prefilter([(frozenset({("cs", "WTO")}), 1)], tokenizer)
            >>> text = "The WTO ruled. WTOs rule. The wtonian age."
            >>> test.candidates(text, [(0, 14), (15, 25), (26, 42)])
            [(0, 1), (1, 1)]
        """
        if self._regex is None:
            return []
        low = text.lower()
        if len(low) != len(text) or "Σ" in text or has_invisible(text):
            # Lower-casing is not one character for one here (İ, final sigma), or
            # a word holds an invisible mark the anchors do not (a soft hyphen):
            # every sentence is a candidate.
            return [(i, self._all_flags) for i in range(len(spans))]
        findall = self._regex.findall
        groups, free_groups, split = self._groups, self._free_groups, self._split
        everything = self._all_flags
        out: list[tuple[int, int]] = []
        for k, (start, end) in enumerate(spans):
            piece = low[start:end]
            # Folded as the anchors are (no offsets are needed): the piece itself
            # when ASCII or when nothing changes, which is searched in place.
            fold = folded(piece)
            found = findall(fold) if fold != piece else findall(low, start, end)
            if not found:
                continue
            flags = 0
            ids: set[int] = set()
            for matched in set(found):
                if split:
                    bounded, free = matched
                    hit = groups[bounded] if bounded else free_groups[free]
                else:
                    hit = groups[matched]
                flags |= hit.flags
                ids |= hit.ids
            if flags != everything and len(ids) > 1:
                flags |= self.met(ids)
            if flags:
                out.append((k, flags))
        return out

    def chunk_group(self, chunk: str) -> ChunkGroup:
        """The anchors in one run of non-space characters (:data:`NOTHING` if none).

        Example:
            >>> import spacy
            >>> tokenizer = spacy.blank("en").tokenizer
            >>> test = Prefilter([(frozenset({("ci", "tarif")}), 1)], tokenizer)
            >>> test.chunk_group("(tariffs)"), test.chunk_group("mostarifs") is NOTHING
            (ChunkGroup(flags=1, ids={}), True)
        """
        if self._regex is None:
            return NOTHING
        low = chunk.lower()
        if len(low) != len(chunk) or "Σ" in chunk or has_invisible(chunk):
            return self._everything
        low = folded(low)  # as the anchors are
        found = self._regex.findall(low)
        if not found:
            return NOTHING
        groups, free_groups = self._groups, self._free_groups
        if self._split:
            hits = [groups[a] if a else free_groups[b] for a, b in found]
        else:
            hits = [groups[m] for m in found]
        if len(hits) == 1:
            return hits[0]
        flags = 0
        ids: set[int] = set()
        for hit in hits:
            flags |= hit.flags
            ids.update(hit.ids)
        return ChunkGroup(flags, frozenset(ids)) if flags or ids else NOTHING

    def met(self, seen: set[int]) -> int:
        """Flags of the requirements of several anchors that ``seen`` meets."""
        flags = 0
        triggered = self._triggered
        for i in seen:
            for alternative, flag in triggered.get(i, ()):
                if alternative <= seen:
                    flags |= flag
        return flags


def _present(form: _Form, matched: str) -> bool:
    """Whether ``form`` may be a token's start (or whole token) where ``matched`` matched.

    The regex returns the longest searched string at a place, so the others
    there are its prefixes; a whole word that a letter follows is no token.
    """
    if not matched.startswith(form.text):
        return False
    if not form.whole or len(matched) == len(form.text) or form.free_end:
        return True
    return not _LETTER_RE.match(matched, len(form.text))


def _overlap(forms: Sequence[_Form], anywhere: Sequence[_Form]) -> bool:
    """Whether a string of ``anywhere`` may start inside a match of one of ``forms``.

    The regex returns one searched string at each place and goes on after it,
    so a string that starts inside it is not seen. Only the ``anywhere`` forms
    (which need no word boundary before them, such as "n't", which spaCy
    splits off "can't") can start inside a word; the others start after a
    character that is no letter, where the tokenizer does not split a token
    that it keeps whole.
    """
    texts = {f.text for f in forms}
    starts = {f.text[:n] for f in anywhere for n in range(1, len(f.text) + 1)}
    inside = {f.text for f in anywhere}
    longest = max(map(len, inside), default=0)
    for text in texts:
        for at in range(1, len(text)):
            rest = text[at:]
            # rest begins one of them, or one of them begins rest.
            if rest in starts or any(rest[:n] in inside for n in range(1, longest + 1)):
                return True
    return False


def _by_text(forms: Sequence[_Form]) -> dict[str, list[_Form]]:
    """Forms by their searched text: the strings the trie regex of ``forms`` can return."""
    found: dict[str, list[_Form]] = {}
    for form in forms:
        found.setdefault(form.text, []).append(form)
    return found


def _group(body: str, capture: bool) -> str:
    return f"({body})" if capture else f"(?:{body})"


def _trie_regex(forms: Sequence[_Form]) -> str:
    """A regex matching, at any place, the longest of the ``forms`` that occurs there.

    A whole-word form only matches where no letter follows it (unless it may).
    """
    trie: dict[str, Any] = {}
    for form in forms:
        node = trie
        for char in form.text:
            node = node.setdefault(char, {})
        ends = node.setdefault("", set())
        ends.add("end" if form.whole and not form.free_end else "prefix")

    def build(node: dict[str, Any]) -> str:
        branches = [re.escape(c) + build(child) for c, child in sorted(node.items()) if c]
        body = "|".join(branches)
        ends = node.get("", set())
        if "prefix" in ends:
            return f"(?:{body})?" if body else ""
        if "end" in ends:
            return f"(?:{body}|{_NO_LETTER_AFTER})" if body else _NO_LETTER_AFTER
        return body if len(branches) == 1 else f"(?:{body})"

    return build(trie)


def _mid_word_tokens(rules: dict[str, Any]) -> tuple[set[str], set[str]]:
    """Token texts of special cases that start right after, or end right before, a letter."""
    after: set[str] = set()
    before: set[str] = set()
    for string, pieces in rules.items():
        pos = 0
        for piece in (str(p.get(ORTH, p.get("ORTH", ""))) for p in pieces):
            if not piece:
                continue
            if pos and _LETTER_RE.match(string, pos - 1) and _LETTER_RE.match(piece):
                after.add(piece)
            nxt = pos + len(piece)
            if (
                nxt < len(string)
                and _LETTER_RE.match(piece, len(piece) - 1)
                and _LETTER_RE.match(string, nxt)
            ):
                before.add(piece)
            pos = nxt
    return after, before
