"""Term compilation and matching on spaCy tokens.

A :class:`Lexicon` is a taxonomy compiled for one tokenizer. Every phrase
(topic terms, exclusions, context terms, cues) is tokenised with that
tokenizer and indexed by its first word, so one pass over a sentence finds
every hit of every kind; :func:`policy_topics.hits.resolve` then keeps those
that count.

Inflection tolerance comes from :func:`inflection_key`, a light suffix
stripper for English inflections (plural, past, -ing) applied to both the term
and the text. It needs no model and never strips derivational suffixes, so
"general" and "generation" stay apart.
"""

from __future__ import annotations

import itertools
import operator
import re
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import TYPE_CHECKING, Any, cast

from spacy.matcher import Matcher
from spacy.tokens import Doc, Span
from spacy.vocab import Vocab

from policy_topics._gc import collector_paused
from policy_topics.hits import CUE, EXCLUDE, NEAR, TERM, Raw, Rule, SentenceHits, Use, resolve
from policy_topics.patterns import SimplePatterns, compile_pattern
from policy_topics.prefilter import Anchor, Prefilter, segments_words
from policy_topics.taxonomy import Taxonomy, TermSpec
from policy_topics.text import (
    folded,
    has_invisible,
    keep_tokens_whole,
    replace_surrogates,
    split_sentences,
    visible,
)

if TYPE_CHECKING:
    from policy_topics.fastpath import TextMatcher

__all__ = ["Lexicon", "inflection_key", "inflection_keys"]

_JOINERS = frozenset("-‐‑‒–—―/") | {"--", "---"}
_KEEP_S = ("ss", "us", "is", "ous", "'s")
# Plurals with a meaning of their own, which are not the singular's inflections:
# "goods" are not "good", "customs" not "custom", "securities" not "security".
_OWN_PLURALS = frozenset({"goods", "customs", "arms", "securities", "futures", "news"})
_TRAILING_HYPHENS = "-\u2010\u2011"
_VOWELS = frozenset("aeiouy")
# The last of the hyphens that join words into one token, before a last word of letters.
_LAST_FUSED_RE = re.compile(r"(?<=\w)[\u2010\u2011](?=[^\W\d_]+\Z)")

# Part kinds: match the inflection key, the exact text, or a lower-case prefix.
_KEY, _CASE, _PREFIX = 0, 1, 2
# What a sentence may hold, as the prefilter reports it.
# (a simple pattern is matched here; other patterns need spaCy's Matcher on a Doc).
_BY_PHRASE, _BY_PATTERN, _BY_SIMPLE = 1, 2, 4

# Token attributes that spaCy's Matcher needs annotated on the Doc (E155).
_ANNOTATIONS = frozenset({"TAG", "POS", "MORPH", "LEMMA", "DEP"})

# Bound of the memory of token infos (words met, with the phrases they start).
_INFO_CACHE_SIZE = 50_000
# Runs of non-space characters tokenised in one call while a taxonomy compiles.
_RUNS_PER_CALL = 4096
# Characters on each side of a sentence end with no space after it that the
# tokenizer is shown to tell whether a token starts there.
_AROUND = 8


@lru_cache(maxsize=65_536)
def inflection_key(word: str) -> str:
    """Key shared by the inflected forms of a lower-case English word.

    Strips plural ``-s``/``-es``/``-ies``, past ``-ed``/``-ied`` (``-d`` after
    ``ee``) and ``-ing``, undoubles a final consonant other than ``l`` and ``s``
    and drops a final ``e`` (a final ``ie`` becomes ``y``, as ``-ies`` does:
    "movie", "movies"); words shorter than four letters are left alone.
    A few plurals with a meaning of their own ("goods", "customs",
    "securities") keep their ``-s``. In words joined by U+2010 or U+2011
    ("supply\u2010chains"), the last word is inflected.
    The key is a prefix of the word (or, for ``-ie``/``-ies``, ends in ``y``). A
    doubled ``l`` is ambiguous ("installed", "fuelled"): see
    :func:`inflection_keys`.

    Example:
        >>> inflection_key("tariffs") == inflection_key("tariff")
        True
        >>> inflection_key("investing") == inflection_key("invested") == inflection_key("invest")
        True
        >>> inflection_key("manufacturing") == inflection_key("manufacture")
        True
        >>> inflection_key("agreed") == inflection_key("agree")
        True
    """
    w = word
    if len(w) > 1 and w[-1] in _TRAILING_HYPHENS and w[-2].isalnum():
        # "local-" before a line break: a compound broken at its hyphen
        # ("local-\ncurrency") stands for its first word.
        return inflection_key(w.rstrip(_TRAILING_HYPHENS))
    fused = _LAST_FUSED_RE.search(w)
    if fused is not None:
        # "supply\u2010chains": spaCy keeps a word joined by U+2010 or U+2011 in
        # one token; its last word is inflected, as "supply-chains" split is.
        return w[: fused.end()] + inflection_key(w[fused.end() :])
    if len(w) < 4 or not w.isalpha() or w in _OWN_PLURALS:
        return w
    if (w.endswith("ies") and len(w) > 4) or (w.endswith("ied") and len(w) > 4):
        w = w[:-3] + "y"
    elif w.endswith(("sses", "xes", "ches", "shes", "zes")):
        w = w[:-2]
    elif w.endswith("s") and not w.endswith(_KEEP_S):
        w = w[:-1]
    elif w.endswith("ing") and len(w) > 5 and _VOWELS & set(w[:-3]):
        w = w[:-3]
    elif w.endswith("eed") and len(w) > 4:
        w = w[:-1]  # "agreed", "guaranteed": "agree", "guarantee"
    elif w.endswith("ed") and len(w) > 4 and _VOWELS & set(w[:-2]):
        w = w[:-2]
    if w.endswith("eed") and len(w) > 4:
        w = w[:-1]  # "proceeds", "proceeding": as "proceed" is keyed
    if len(w) > 3 and w[-1] == w[-2] and w[-1] not in "aeiouls":
        w = w[:-1]  # "shipped", "planning"
    if len(w) > 3 and w.endswith("ie"):
        w = w[:-2] + "y"  # "movie" as "movies", French "énergie" as "énergies"
    elif len(w) > 3 and w.endswith("e") and not w.endswith("ee"):
        w = w[:-1]
    return w


def inflection_keys(word: str) -> tuple[str, ...]:
    """The keys a lower-case word may have: :func:`inflection_key`, and one more for ``-ll-``.

    An inflected word whose key ends in a doubled ``l`` also gets the key
    without it: "installed" is keyed as "install", British "fuelled" and
    "controlling" also as "fuel" and "control". A word with no suffix keeps its
    double ``l`` ("shall" is not "shale").

    Example:
        >>> inflection_keys("fuelled"), inflection_keys("installs"), inflection_keys("shall")
        (('fuell', 'fuel'), ('install', 'instal'), ('shall',))
    """
    key = inflection_key(word)
    if key.endswith("ll") and len(key) > 3 and len(key) < len(word) and word.isalpha():
        return (key, key[:-1])
    return (key,)


@dataclass(slots=True)
class _Phrase:
    parts: tuple[tuple[int, str], ...]
    uses: list[Use] = field(default_factory=list)
    rest: tuple[tuple[int, str], ...] = ()  # parts after the first
    tail: tuple[tuple[int, str], ...] = ()  # parts after the second
    # Filled in by finish(), once every use is known:
    plain: tuple[Use, ...] = ()  # uses that count whatever else is found (not context)
    near: dict[int, tuple[Use, ...]] = field(default_factory=dict)  # context uses by rule
    term_rules: frozenset[int] = frozenset()  # rules of the term uses (-1: none)

    def __post_init__(self) -> None:
        self.rest = self.parts[1:]
        self.tail = self.parts[2:]

    def finish(self) -> None:
        self.plain = tuple(u for u in self.uses if u.role != NEAR)
        near: dict[int, list[Use]] = defaultdict(list)
        for use in self.uses:
            if use.role == NEAR:
                near[use.rule].append(use)
        self.near = {rule: tuple(uses) for rule, uses in near.items()}
        self.term_rules = frozenset(u.rule for u in self.uses if u.role == TERM)


#: Phrases that start at a token, numbered by their place in the token's
#: candidate list (hits at one token keep that order): those of one word, those
#: whose second word is an inflection key (by that key), and the others.
_Starts = tuple[
    tuple[tuple[int, _Phrase], ...],
    dict[str, tuple[tuple[int, _Phrase], ...]],
    tuple[tuple[int, _Phrase], ...],
]
#: What matching needs of a token, shared by every occurrence of the same word:
#: its keys, lower-case text, text, and the phrases whose first word it matches
#: (None when there are none).
_Info = tuple[tuple[str, ...], str, str, _Starts | None]


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
        self._segments_words = segments_words(tokenizer)
        self._splits_runs: bool | None = None
        self._phrases: dict[tuple[tuple[int, str], ...], _Phrase] = {}
        self._by_key: dict[str, list[_Phrase]] = defaultdict(list)
        self._by_case: dict[str, list[_Phrase]] = defaultdict(list)
        self._by_prefix: dict[str, list[_Phrase]] = defaultdict(list)
        self._rules: list[Rule] = []
        self._vocab = vocab
        # Token patterns for spaCy's Matcher, by the annotations they need that a
        # blank pipeline does not set (POS, LEMMA, ...): those run only on a Doc
        # that has them; spaCy's Matcher refuses other Docs.
        self._matchers: dict[frozenset[str], Matcher] = {}
        self._pattern_uses: dict[str, Use] = {}
        self._simple: SimplePatterns[Use] = SimplePatterns()
        self._requirements: list[tuple[frozenset[Anchor], int]] = []
        self._prefilter_ok = True
        self._infos: dict[tuple[str, str, tuple[str, ...]], _Info] = {}
        self._fast: TextMatcher | None = None
        self._terms = 0
        # The words of each phrase (with offsets), while it compiles: its spelling
        # with spaces is read by _parts and again by _fused_parts.
        self._tokenized: dict[str, list[tuple[str, int]]] = {}
        self._full_stops: dict[str, bool] = {}  # by last run of a phrase (_keeps_full_stop)
        # The tokens of each run of non-space characters, while the taxonomy
        # compiles, when the tokenizer reads each run on its own (_tokens_of).
        self._runs: dict[str, list[tuple[str, int]]] | None = None
        # Whether "free-trade" is the words of "free trade" (English, French), or
        # one word (German, Spanish...): "free\u2010trade" is read alike.
        self._splits_hyphens = not self._keeps_hyphens("policy-paper")
        #: The sentence test of the fast path; None when some term cannot be
        #: reduced to anchors (a token pattern that starts with an optional token).
        self.prefilter: Prefilter | None = None
        with collector_paused():
            self._tokenize_runs(taxonomy)
            self._compile(taxonomy)

    # --- compilation -------------------------------------------------------------------

    def _compile(self, taxonomy: Taxonomy) -> None:
        for topic_id, subtopic, topic in taxonomy.iter_topics():
            for spec in topic.terms:
                self._add_term(spec, topic_id, subtopic)
            for phrase in topic.exclude:
                self._add_phrase(phrase, Use(EXCLUDE, topic_id, subtopic, phrase))
        for cue in taxonomy.cues:
            self._add_phrase(cue, Use(CUE, term=cue))
        self._tokenized.clear()
        self._full_stops.clear()
        self._runs = None
        for compiled in self._phrases.values():
            compiled.finish()
        if self._prefilter_ok:
            self.prefilter = Prefilter(self._requirements, self._tokenizer)

    def _add_term(self, spec: TermSpec, topic: str, subtopic: str | None) -> None:
        rule = -1
        company: list[tuple[tuple[int, str], ...]] = []
        if spec.near:
            rule = len(self._rules)
            self._rules.append(Rule(spec.window))
            for near in spec.near:
                company.extend(self._add_phrase(near, Use(NEAR, topic, subtopic, near, rule=rule)))
        self._terms += 1
        use = Use(TERM, topic, subtopic, spec.shown, spec.weight, rule, self._terms)
        if spec.pattern is not None:
            steps = compile_pattern(spec.pattern, getattr(self._vocab, "lex_attr_getters", {}))
            if steps is not None:
                self._simple.add(steps, use)
                flag = _BY_SIMPLE
            else:
                key = f"policy_topics:{len(self._pattern_uses)}"
                annotations = frozenset(
                    attr for token in spec.pattern for attr in token if attr in _ANNOTATIONS
                )
                matcher = self._matchers.get(annotations)
                if matcher is None:
                    matcher = self._matchers[annotations] = Matcher(self._vocab, validate=True)
                matcher.add(key, [spec.pattern])
                self._pattern_uses[key] = use
                flag = _BY_PATTERN
            needs = _pattern_requirements(spec.pattern)
            if needs is None:
                self._prefilter_ok = False
            else:
                self._requirements.extend((need, flag) for need in needs)
            return
        for parts in self._add_phrase(spec.term or "", use, case_sensitive=spec.case_sensitive):
            self._require(parts, company if spec.near else None)

    def _require(
        self,
        parts: tuple[tuple[int, str], ...],
        company: list[tuple[tuple[int, str], ...]] | None,
    ) -> None:
        """Record what a sentence must contain for this term to be accepted."""
        need = _anchors_of(parts)
        if need is None:
            self._prefilter_ok = False
            return
        # With a context rule, one of the context phrases must be there too;
        # when none of them can ever match, neither can the term.
        for other in company if company is not None else [()]:
            extra = _anchors_of(other) if other else None
            self._requirements.append((need if extra is None else need | extra, _BY_PHRASE))

    def _parts(self, text: str, case_sensitive: bool | None) -> list[tuple[tuple[int, str], ...]]:
        """The parts of a phrase: several when a word has several keys (see inflection_keys)."""
        wildcard = text.endswith("*")
        if wildcard:
            text = text[:-1]
        words = [word for word, _ in self._words(text)]
        return self._combine(words, case_sensitive, wildcard)

    def _words(self, text: str) -> list[tuple[str, int]]:
        """The tokens of ``text`` that are not joiners, with their offsets."""
        words = self._tokenized.get(text)
        if words is None:
            words = self._tokenized[text] = [
                (word, idx) for word, idx in self._tokens_of(text) if not _is_joiner(word)
            ]
        return words

    def _tokens_of(self, text: str) -> list[tuple[str, int]]:
        """The tokens of ``text`` with their offsets, as the tokenizer gives them.

        While the taxonomy compiles, a text of runs between single spaces is
        put together from the tokens of its runs (:meth:`_tokenize_runs`),
        without a call to the tokenizer, each of which builds a Doc. Not where
        a space has no letter or digit on either side: spaCy may match a special
        case of punctuation across it (see :func:`_joined`).
        """
        runs = self._runs
        pieces = text.split(" ")
        if (
            runs is None
            or not all(pieces)
            or len(pieces) != len(text.split())
            or any(
                not before[-1].isalnum() and not after[0].isalnum()
                for before, after in itertools.pairwise(pieces)
            )
        ):
            return [(t.text, t.idx) for t in self._tokenizer(text)]
        missing = [piece for piece in pieces if piece not in runs]
        if missing:
            self._learn_runs(missing)
        tokens: list[tuple[str, int]] = []
        base = 0
        for piece in pieces:
            tokens += [(word, base + idx) for word, idx in runs[piece]]
            base += len(piece) + 1
        return tokens

    def _tokenize_runs(self, taxonomy: Taxonomy) -> None:
        """Tokenise the runs of the taxonomy's phrases in a few calls, for :meth:`_tokens_of`.

        spaCy's rule-based tokenizer reads each run of non-space characters on
        its own, so one call on the runs joined gives the tokens of each: a
        taxonomy of thousands of terms compiles without a call per phrase.
        """
        if self._segments_words or not self.splits_runs:
            return
        texts: dict[str, None] = {}
        for _, _, topic in taxonomy.iter_topics():
            for spec in topic.terms:
                if spec.term is not None:
                    texts[spec.term] = None
                texts.update(dict.fromkeys(spec.near))
            texts.update(dict.fromkeys(topic.exclude))
        texts.update(dict.fromkeys(taxonomy.cues))
        runs: dict[str, None] = {}
        for text in texts:
            for spelling in _apostrophe_variants(_hyphen_variants(visible(text.removesuffix("*")))):
                pieces = spelling.split()
                runs.update(dict.fromkeys(pieces))
                if pieces:
                    runs[f"{pieces[-1]}."] = None  # read by _keeps_full_stop
        self._runs = {}
        self._learn_runs(list(runs))

    def _learn_runs(self, runs: list[str]) -> None:
        """Tokenise ``runs`` (each without whitespace) and remember the tokens of each."""
        assert self._runs is not None
        for first in range(0, len(runs), _RUNS_PER_CALL):
            batch = runs[first : first + _RUNS_PER_CALL]
            found: list[list[tuple[str, int]]] = [[] for _ in batch]
            starts = list(itertools.accumulate((len(run) + 1 for run in batch), initial=0))
            j = 0
            for t in self._tokenizer(_joined(batch)):
                while t.idx >= starts[j + 1]:
                    j += 1
                if t.idx < starts[j + 1] - 1:  # else the line break put after the run
                    found[j].append((t.text, t.idx - starts[j]))
            self._runs.update(zip(batch, found, strict=True))

    def _fused_parts(
        self, text: str, case_sensitive: bool | None
    ) -> list[tuple[tuple[int, str], ...]]:
        """The parts of ``text`` with words joined by U+2010 or U+2011 instead of spaces.

        spaCy's tokenizers keep "free\u2010trade" in one token where they
        split "free-trade" into the words of "free trade". Text from PDFs and
        word processors holds those hyphens, so a phrase typed with spaces is
        also compiled with each space between two words joined, then with all
        of them, where the tokenizer splits '-' from words. The joined words
        are built from the phrase's own tokens rather than by tokenising each
        spelling, which would add four words to the vocabulary for each phrase
        of a large taxonomy.
        """
        tokens = self._words(text)
        joins = [
            i
            for i, ((a, start), (b, idx)) in enumerate(itertools.pairwise(tokens))
            if idx == start + len(a) + 1 and _INNER_SPACE_RE.search(f"{a[-1]} {b[0]}")
        ]
        found = []
        for hyphen in _FUSING_HYPHENS:
            for joined in [[i] for i in joins] + ([joins] if len(joins) > 1 else []):
                words = [[tokens[0][0]]]
                for i, (word, _) in enumerate(tokens[1:]):
                    if i in joined:
                        words[-1].append(word)
                    else:
                        words.append([word])
                for spelled in _fused_spellings(words, hyphen, case_sensitive):
                    found += self._combine(spelled, case_sensitive)
        return found

    def _combine(
        self, words: list[str], case_sensitive: bool | None, wildcard: bool = False
    ) -> list[tuple[tuple[int, str], ...]]:
        """The parts of a phrase of ``words`` (see :meth:`_parts`)."""
        # The capitals rule: a word written with capitals is matched as written;
        # the other words of the phrase are matched in any case, so "erneuerbare
        # Energien" finds "Erneuerbare Energien" at the start of a sentence.
        options = [
            [(_CASE, w)]
            if (case_sensitive if case_sensitive is not None else w != w.lower())
            else [(_KEY, k) for k in inflection_keys(folded(w.lower()))]
            for w in words
        ]
        if wildcard and options:
            options[-1] = [(_PREFIX, folded(words[-1].lower()))]
        return [tuple(parts) for parts in itertools.product(*options)] if options else []

    def _add_phrase(
        self, text: str, use: Use, *, case_sensitive: bool | None = None
    ) -> list[tuple[tuple[int, str], ...]]:
        """Add the phrase of ``text`` and of its other spellings, each used by ``use``.

        Returns:
            The parts whose words a sentence must hold for any of them to match
            (see :meth:`_require`): those of each phrase, or for a compound the
            tokenizer keeps whole, those of its spelling with spaces, whose
            words every other spelling holds too. Fewer, shorter anchors keep
            the prefilter's search small.
        """
        added: list[_Phrase] = []
        spellings = _hyphen_variants(visible(text))
        # spaCy keeps a sentence's full stop inside some words ("5G." is one
        # token): such a word at the end of a sentence is the term too.
        stops = [f"{v}." for v in spellings if self._keeps_full_stop(v)]
        general: list[str] = []
        if self._keeps_hyphens(spellings[0]):
            dashed = _dash_variants(spellings[0])
            general = dashed[:1]  # the spelling with spaces
            # Its last word stands alone ("Hartz IV." keeps its stop where
            # "Hartz-IV." does not); the dashed ones end as the hyphenated one.
            stops += [f"{v}." for v in dashed[1:]] if stops else []
            stops += [f"{dashed[0]}."] if self._keeps_full_stop(dashed[0]) else []
            spellings += dashed
        variants = [
            parts
            for variant in _apostrophe_variants(spellings + stops)
            for parts in self._parts(variant, case_sensitive)
        ]
        if not general and self._splits_hyphens and _INNER_SPACE_RE.search(spellings[0]):
            fused = self._fused_parts(spellings[0], case_sensitive)
            if fused:
                # Every spelling holds the words of the one with spaces.
                general = spellings[:1]
                variants += fused
        for parts in variants:
            if all(parts != phrase.parts for phrase in added):
                added.append(self._add_parts(parts, use))
        if general:
            spaced = _apostrophe_variants(general)
            return [parts for variant in spaced for parts in self._parts(variant, case_sensitive)]
        return [phrase.parts for phrase in added]

    def _keeps_hyphens(self, text: str) -> bool:
        """Whether the tokenizer keeps a hyphen between two words inside one token.

        spaCy's German, French, Spanish, Italian and Dutch tokenizers keep
        "CO2-Emissionen" or "sud-sud" whole, where the English one splits off
        the hyphen, which phrases read past.
        """
        if _INNER_HYPHEN_RE.search(text) is None:
            return False
        return any(_INNER_HYPHEN_RE.search(word) for word, _ in self._tokens_of(text))

    def _keeps_full_stop(self, text: str) -> bool:
        """Whether the tokenizer keeps a full stop after ``text`` in its last token."""
        if not text or text.endswith(("*", ".")) or text[-1].isspace():
            return False
        if not self._segments_words and self.splits_runs:
            # spaCy's rule-based tokenizer reads each run of non-space characters
            # on its own: only the last one matters, and many phrases share it.
            text = text.rsplit(None, 1)[-1]
        kept = self._full_stops.get(text)
        if kept is None:
            last = self._tokens_of(f"{text}.")[-1][0]
            kept = self._full_stops[text] = last != "." and last.endswith(".")
        return kept

    def _add_parts(self, parts: tuple[tuple[int, str], ...], use: Use) -> _Phrase:
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

    def uses_annotations(self, doc: Doc) -> bool:
        """Whether a token pattern needs annotations (POS, LEMMA, ...) that ``doc`` has.

        Such a Doc is matched on its own tokens: tokenising its text again
        would lose them.
        """
        return any(
            annotations and all(doc.has_annotation(attr) for attr in annotations)
            for annotations in self._matchers
        )

    @property
    def segments_words(self) -> bool:
        """Whether the tokenizer is a word segmenter rather than spaCy's rule-based one.

        spaCy's Chinese, Japanese, Korean and Thai tokenizers (and custom ones)
        segment text written without spaces: sentences then end at ``。！？``
        with no space after them (``split_sentences(..., unspaced=True)``).
        """
        return self._segments_words

    def sentences(self, text: str) -> list[tuple[int, int]]:
        """The sentences of a text, as this tokenizer's text needs (see :meth:`segments_words`).

        After a word segmenter, a sentence may end at ``。`` with no space after
        it; each such boundary is kept only where the tokenizer starts a token
        there, asked about the few characters around it (the Doc paths use the
        Doc's own tokens: :func:`~policy_topics.text.keep_tokens_whole`).
        """
        if not self._segments_words:
            return split_sentences(text)
        spans = split_sentences(text, unspaced=True)
        starts = []
        for (first, cut), (start, last) in itertools.pairwise(spans):
            if start == cut:
                lo = max(first, cut - _AROUND)
                window = replace_surrogates(text[lo : min(last, cut + _AROUND)])
                if any(lo + token.idx == cut for token in self._tokenizer(window)):
                    starts.append(cut)
        return keep_tokens_whole(spans, starts)

    @property
    def splits_runs(self) -> bool:
        """Whether the tokenizer tokenises each run of non-space characters on its own.

        The fast path (:mod:`policy_topics.fastpath`) tokenises only such runs.
        A special case holding a space (``add_special_case("free trade", ...)``)
        makes one token across two runs, which only tokenising the whole text
        finds: then the text is tokenised whole.
        """
        if self._splits_runs is None:
            rules = getattr(self._tokenizer, "rules", None) or {}
            self._splits_runs = not any(
                any(c.isspace() for c in key) and not key.isspace() for key in rules
            )
        return self._splits_runs

    def candidate(self, text: str, start: int = 0, end: int | None = None) -> bool:
        """Cheap test: False means ``text[start:end]`` cannot hold any term hit."""
        if self.prefilter is None:
            return True
        piece = text[start:end]
        return bool(self.prefilter.candidates(piece, [(0, len(piece))]))

    @property
    def fast(self) -> TextMatcher:
        """The fast path over this lexicon (:mod:`policy_topics.fastpath`), made on first use."""
        if self._fast is None:
            from policy_topics.fastpath import TextMatcher  # it builds on this module

            self._fast = TextMatcher(self)
        return self._fast

    def match_text(self, text: str, spans: Sequence[tuple[int, int]]) -> dict[int, SentenceHits]:
        """Hits per sentence of a whole text: see :meth:`TextMatcher.match_text`."""
        return self.fast.match_text(text, spans)

    def _info(self, keys: tuple[str, ...], lower: str, orth: str) -> _Info:
        cache_key = (orth, lower, keys)
        info = self._infos.get(cache_key)
        if info is not None:
            return info
        if has_invisible(orth):
            # A soft hyphen or a zero-width space inside a word ("manu\u00adfacturing"):
            # the word is matched as it shows; its offsets stay those of the token.
            lower, orth = visible(lower), visible(orth)
            found = [inflection_keys(visible(k)) if has_invisible(k) else (k,) for k in keys]
            keys = tuple(dict.fromkeys(itertools.chain.from_iterable(found)))
        fold = folded(lower)
        if fold != lower:
            # As terms are keyed (folded): "Außenhandel" as "AUSSENHANDEL" is,
            # "ﬁnancial" as "financial".
            lower = fold
            found = [inflection_keys(lower), *(inflection_keys(folded(k)) for k in keys)]
            keys = tuple(dict.fromkeys(itertools.chain.from_iterable(found)))
        candidates: list[_Phrase] = []
        for key in keys:
            candidates.extend(self._by_key.get(key, ()))
        for form in _case_forms(orth):
            candidates.extend(self._by_case.get(form, ()))
        for phrase in self._by_prefix.get(lower[:3], ()):
            if lower.startswith(phrase.parts[0][1]):
                candidates.append(phrase)
        if len(self._infos) >= _INFO_CACHE_SIZE:
            self._infos.clear()
        info = self._infos[cache_key] = (keys, lower, orth, _starts(candidates))
        return info

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
        infos: list[_Info] = []
        starts: list[int] = []
        ends: list[int] = []
        sequence: list[tuple[str, str]] = []
        indices: list[int] = []
        for t in tokens:
            orth = t.text
            if t.is_space or _is_joiner(orth):
                sequence.append((t.lower_, orth))
                indices.append(-1)
                continue
            sequence.append((t.lower_, orth))
            indices.append(len(infos))
            infos.append(self._info(_keys(t, use_lemmas), t.lower_, orth))
            starts.append(t.idx + base)
            ends.append(t.idx + base + len(orth))
        extra = self._simple_raws(sequence, indices) if self._simple else []
        if self._pattern_uses:
            extra.extend(self._scan_patterns(tokens, starts, ends, base))
        return resolve(
            _raws(self._scan(infos), extra),
            self._rules,
            lambda first, last: (starts[first], ends[last]),
        )

    @staticmethod
    def _scan(infos: list[_Info]) -> list[tuple[_Phrase, int, int]]:
        """Every phrase matched, with its first and last token, in text order."""
        found: list[tuple[_Phrase, int, int]] = []
        n = len(infos)
        for i in itertools.compress(range(n), map(_STARTS_OF, infos)):
            singles, by_next, others = cast(_Starts, infos[i][3])
            # (place in the candidate list, phrase, last token) of each phrase matched here
            matched: list[tuple[int, _Phrase, int]] = [(k, p, i) for k, p in singles]
            if i + 1 < n and (by_next or others):
                following = infos[i + 1]
                for key in following[0]:
                    for k, phrase in by_next.get(key, ()):
                        j = _follow(phrase.tail, infos, i + 1, n)
                        if j >= 0:
                            matched.append((k, phrase, j))
                for k, phrase in others:
                    j = _follow(phrase.rest, infos, i, n)
                    if j >= 0:
                        matched.append((k, phrase, j))
            if len(matched) > 1:
                matched.sort(key=_first)
            for _, phrase, j in matched:
                found.append((phrase, i, j))
        return found

    def _simple_raws(self, sequence: list[tuple[str, str]], indices: list[int]) -> list[Raw]:
        found: list[Raw] = []
        for use, start, end in self._simple.matches(sequence):
            first, last = indices[start], indices[end - 1]
            if first >= 0 and last >= 0:
                found.append(Raw(use, first, last))
        return found

    def _scan_patterns(
        self, tokens: Doc | Span, starts: list[int], ends: list[int], base: int
    ) -> list[Raw]:
        firsts = {s: i for i, s in enumerate(starts)}
        lasts = {e: i for i, e in enumerate(ends)}
        found: list[Raw] = []
        doc = tokens.doc if isinstance(tokens, Span) else tokens
        matches = [
            match
            for annotations, matcher in self._matchers.items()
            if all(doc.has_annotation(attr) for attr in annotations)
            for match in matcher(tokens)
        ]
        for match_id, start, end in matches:
            first_tok, last_tok = tokens[start], tokens[end - 1]
            s, e = first_tok.idx + base, last_tok.idx + len(last_tok.text) + base
            first, last = firsts.get(s), lasts.get(e)
            if first is None or last is None:
                continue
            use = self._pattern_uses[self._vocab.strings[match_id]]
            found.append(Raw(use, first, last))
        return found


def _starts(candidates: Sequence[_Phrase]) -> _Starts | None:
    """Index the phrases that may start at a token by what must follow it."""
    if not candidates:
        return None
    singles: list[tuple[int, _Phrase]] = []
    by_next: dict[str, list[tuple[int, _Phrase]]] = defaultdict(list)
    others: list[tuple[int, _Phrase]] = []
    for k, phrase in enumerate(candidates):
        if not phrase.rest:
            singles.append((k, phrase))
        elif phrase.rest[0][0] == _KEY:
            by_next[phrase.rest[0][1]].append((k, phrase))
        else:
            others.append((k, phrase))
    return tuple(singles), {key: tuple(v) for key, v in by_next.items()}, tuple(others)


def _follow(parts: Sequence[tuple[int, str]], infos: Sequence[_Info], j: int, n: int) -> int:
    """Index of the last token when ``parts`` match the tokens after ``j``, else -1."""
    for part in parts:
        j += 1
        if j >= n or not _matches(part, infos[j]):
            return -1
    return j


def _matches(part: tuple[int, str], info: _Info) -> bool:
    kind, value = part
    if kind == _KEY:
        return value in info[0]
    if kind == _CASE:
        return value in _case_forms(info[2])
    return info[1].startswith(value)


@lru_cache(maxsize=65_536)
def _case_forms(orth: str) -> tuple[str, ...]:
    """What a case-sensitive word may be written as to give the token ``orth``.

    The word itself; its plural in ``-s`` ("EVs"; not ``-S``: "ITS" is no
    "IT"); and, for a token that ends in a hyphen after a letter or digit
    ("South-" before a line break), the word before the hyphen, as
    :func:`inflection_key` reads it.

    Example:
        >>> _case_forms("EVs"), _case_forms("South-"), _case_forms("ITS")
        (('EVs', 'EV'), ('South-', 'South'), ('ITS',))
    """
    if len(orth) > 1 and orth[-1] in _TRAILING_HYPHENS and orth[-2].isalnum():
        return orth, orth.rstrip(_TRAILING_HYPHENS)
    if len(orth) > 1 and orth[-1] == "s":
        return orth, orth[:-1]
    return (orth,)


_STARTS_OF = operator.itemgetter(3)


def _first(item: tuple[int, _Phrase, int]) -> int:
    return item[0]


def _raws(found: list[tuple[_Phrase, int, int]], extra: list[Raw]) -> list[Raw]:
    """Phrase hits as raws, then ``extra`` (pattern hits), leaving out what cannot matter.

    A context word counts only for a term of its rule, and nothing counts
    without a term. Uses keep their order (cues are reported in it).
    """
    rules: set[int] = set()
    for phrase, _, _ in found:
        if phrase.term_rules:
            rules.update(phrase.term_rules)
    if not extra and not rules:
        return []
    for raw in extra:
        rules.add(raw.use.rule)
    raws: list[Raw] = []
    append = raws.append
    for phrase, i, last in found:
        for use in phrase.plain:
            append(Raw(use, i, last))
        near = phrase.near
        if near:
            for rule in rules:
                for use in near.get(rule, ()):
                    append(Raw(use, i, last))
    raws.extend(extra)
    return raws


def _has_term(found: list[tuple[_Phrase, int, int]]) -> bool:
    return any(phrase.term_rules for phrase, _, _ in found)


# A hyphen between two word characters; U+2010 (hyphen) and U+2011 (non-breaking
# hyphen), common in word-processor and PDF text, do not split a word in spaCy's
# tokenizers, so "anti‐dumping" is one token where "anti-dumping" is three.
_INNER_HYPHEN_RE = re.compile(r"(?<=\w)-(?=\w)")
# Most hyphens in a compound whose mixes of hyphens and spaces are all spelled out.
_MOST_MIXED_HYPHENS = 3
_FUSING_HYPHENS = ("\u2010", "\u2011")
_FUSED_HYPHEN_RE = re.compile(r"(?<=\w)[\u2010\u2011](?=\w)")
# One space between two word characters, which U+2010 or U+2011 may stand for.
_INNER_SPACE_RE = re.compile(r"(?<=\w) (?=\w)")


def _dash_variants(text: str) -> list[str]:
    """``text`` with its hyphens between words as spaces, en dashes and em dashes.

    For a tokenizer that keeps a hyphenated compound in one token: the space
    gives the compound's words as separate tokens, which also matches it broken
    after its hyphen at a line end ("CO2-" before "Emissionen").

    Example:
        >>> _dash_variants("CO2-Emissionen") == [
        ...     "CO2 Emissionen", "CO2\u2013Emissionen", "CO2\u2014Emissionen"
        ... ]
        True
    """
    variants = [_INNER_HYPHEN_RE.sub(dash, text) for dash in (" ", "\u2013", "\u2014")]
    pieces = _INNER_HYPHEN_RE.split(text)
    if 2 < len(pieces) <= _MOST_MIXED_HYPHENS + 1:
        # Some hyphens kept, others spaces: "Süd-Süd" before "Kooperation" on the next line.
        for joins in itertools.product("- ", repeat=len(pieces) - 1):
            if len(set(joins)) > 1:
                joined = itertools.chain(*zip(pieces[:-1], joins, strict=True), pieces[-1:])
                variants.append("".join(joined))
    return variants


def _hyphen_variants(text: str) -> list[str]:
    """``text``, and when it holds hyphens, the same with U+2010 and with U+2011 instead.

    A term copied from a PDF or a word processor holds U+2010 or U+2011 where
    it is typed with '-': it is read as typed, so it finds every hyphen.

    Example:
        >>> _hyphen_variants("anti-dumping duty") == [
        ...     "anti-dumping duty", "anti\u2010dumping duty", "anti\u2011dumping duty"
        ... ]
        True
        >>> _hyphen_variants("anti\u2011dumping duty") == _hyphen_variants("anti-dumping duty")
        True
    """
    text = _FUSED_HYPHEN_RE.sub("-", text)
    if "-" not in text or _INNER_HYPHEN_RE.search(text) is None:
        return [text]
    return [text, *(_INNER_HYPHEN_RE.sub(hyphen, text) for hyphen in _FUSING_HYPHENS)]


_APOSTROPHES = ("'", "\u2019")


def _apostrophe_variants(spellings: list[str]) -> list[str]:
    """``spellings``, and for those holding an apostrophe, the same with the other one.

    Typed terms hold a straight apostrophe (') where published text has a
    typographic one (U+2019), or the reverse; spaCy splits both alike
    ("People", "’s"), but the tokens differ.

    Example:
        >>> _apostrophe_variants(["People's Bank", "tariff"]) == [
        ...     "People's Bank", "tariff", "People\u2019s Bank"
        ... ]
        True
    """
    extra = [
        spelling.replace(mark, other)
        for spelling in spellings
        for mark, other in (_APOSTROPHES, _APOSTROPHES[::-1])
        if mark in spelling
    ]
    return spellings + [v for v in dict.fromkeys(extra) if v not in spellings]


def _fused_spellings(
    words: list[list[str]], hyphen: str, case_sensitive: bool | None
) -> list[list[str]]:
    """The words of a phrase, each list of ``words`` fused into one by ``hyphen``.

    A fused word is one token, matched as written when it holds capitals (see
    :meth:`Lexicon._combine`). So when it joins a word written with capitals
    to one without ("EU" and "market"), it is also spelled with the latter
    capitalised and in capitals (plural too, which :func:`_case_forms` does
    not take off capitals): "EU\u2010Market" in a heading is the term "EU
    market", as "EU-Market" is where the tokenizer splits '-' off.

    Example:
        >>> _fused_spellings([["EU", "market"], ["rules"]], "-", None)[1:]
        [['EU-Market', 'rules'], ['EU-MARKET', 'rules'], ['EU-MARKETS', 'rules']]
        >>> _fused_spellings([["free", "trade"]], "-", None)
        [['free-trade']]
    """
    plain = [hyphen.join(parts) for parts in words]
    if case_sensitive is not None:
        return [plain]
    cased = [_cased(parts, hyphen) for parts in words]
    most = max(map(len, cased))
    return [plain] + [
        [
            spelled[k] if k < len(spelled) else word
            for word, spelled in zip(plain, cased, strict=True)
        ]
        for k in range(most)
    ]


def _cased(parts: list[str], hyphen: str) -> list[str]:
    """The other spellings of a fused word that joins words with and without capitals."""
    lower = [w == w.lower() != w.upper() for w in parts]
    if not any(lower) or all(w == w.lower() for w in parts):
        return []  # no word to spell otherwise, or none with capitals: matched in any case
    capitalised = hyphen.join(
        w.capitalize() if low else w for w, low in zip(parts, lower, strict=True)
    )
    upper = hyphen.join(w.upper() if low else w for w, low in zip(parts, lower, strict=True))
    plural = [f"{upper}S"] if lower[-1] and not parts[-1].endswith("s") else []
    return [capitalised, upper, *plural]


def _is_joiner(text: str) -> bool:
    """A token that phrases read past: a hyphen, dash or slash, or invisible marks (with one)."""
    return text in _JOINERS or (has_invisible(text) and (visible(text) or "-") in _JOINERS)


def _joined(pieces: list[str]) -> str:
    """The runs joined into one string that spaCy tokenises as it tokenises each alone.

    A space between runs is not always enough: spaCy matches a few special
    cases of punctuation (``''``) across a space, so ``'`` before ``'em-s``
    would split ``'em``. Where one run ends and the next begins with no letter
    or digit, a line break (a token of its own) keeps them apart.
    """
    parts = [pieces[0]]
    for before, piece in itertools.pairwise(pieces):
        parts.append("\n" if not before[-1].isalnum() and not piece[0].isalnum() else " ")
        parts.append(piece)
    return "".join(parts)


def _keys(token: Any, use_lemmas: bool) -> tuple[str, ...]:
    keys = inflection_keys(token.lower_)
    if use_lemmas:
        lemma = token.lemma_.lower()
        if lemma:
            other = inflection_key(lemma)
            if other not in keys:
                return (*keys, other)
    return keys


def _anchors_of(parts: Sequence[tuple[int, str]]) -> frozenset[Anchor] | None:
    """Anchors a sentence must hold for the phrase to match; None if there are none.

    Every word gives one: a case-sensitive word its text, any other word the
    prefix its lower-cased token must start with (an inflection key ending in
    "y" may come from "-ies"). Short anchors, which occur everywhere, are left
    out when the phrase has a longer one: a subset of the words still makes a
    conservative test.
    """
    found: list[Anchor] = []
    for kind, value in parts:
        if kind == _CASE:
            found.append(("cs", value))
        elif prefix := value[:-1] if kind == _KEY and value.endswith("y") else value:
            found.append(("ci", prefix))
    if not found:
        return None
    strong = [a for a in found if len(a[1]) >= 3]
    if not strong:
        strong = [a for a in found if a[0] == "cs" and len(a[1]) == 2]
    if not strong:
        strong = [max(found, key=lambda a: (len(a[1]), a[0] == "cs", a[1][:1].isalpha()))]
    # The two longest words tell enough; each more anchor costs a search hit.
    strong.sort(key=lambda a: -len(a[1]))
    return frozenset(strong[:2])


def _pattern_requirements(pattern: Sequence[dict[str, Any]]) -> list[frozenset[Anchor]] | None:
    """Alternatives of exact words that a sentence needs for a token pattern to match.

    Uses the (at most two) most telling tokens that every match holds: tokens
    that are not optional and whose ``LOWER``, ``ORTH`` or ``TEXT`` is given.
    None when no token is known.
    """
    known: list[list[str]] = []
    for spec in pattern:
        op = str(spec.get("OP", ""))
        if op in ("?", "*", "!") or (op.startswith("{") and not re.match(r"\{0*[1-9]", op)):
            continue
        for attr in ("LOWER", "ORTH", "TEXT"):
            value = spec.get(attr)
            if isinstance(value, str) and value:
                known.append([value.lower()])
                break
            if isinstance(value, dict) and isinstance(value.get("IN"), list) and value["IN"]:
                words = [str(v).lower() for v in value["IN"]]
                if all(words):
                    known.append(words)
                    break
    if not known:
        return None
    known.sort(key=lambda words: (-min(map(len, words)), len(words)))
    chosen = known[:2] if len(known) > 1 and len(known[0]) * len(known[1]) <= 256 else known[:1]
    return [frozenset(("ce", w) for w in combination) for combination in itertools.product(*chosen)]
