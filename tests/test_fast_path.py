"""The fast path gives exactly what the plain path gives.

``Extractor(fast=True)`` segments with regular expressions, skips sentences the
prefilter rules out and tokenises the rest word by word from a cache;
``Extractor(fast=False)`` tokenises the whole document with spaCy and matches
every sentence. Their results must be identical, on real documents and on
generated text built to hit the edges (special cases, case, Unicode, joiners).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import spacy
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from spacy.language import Language
from spacy.matcher import Matcher
from spacy.tokens import Doc

from policy_topics import Extractor, Taxonomy
from policy_topics import fastpath as fastpath_module
from policy_topics import terms as terms_module
from policy_topics import text as text_module
from policy_topics.matching import PolicyTopics
from policy_topics.patterns import SimplePatterns, compile_pattern
from policy_topics.taxonomy import packaged_taxonomies
from policy_topics.terms import Lexicon
from policy_topics.text import split_sentences
from tests.conftest import CORPORA, SAMPLE, SEED

TAXONOMIES = sorted(packaged_taxonomies())

# Edge cases the packaged taxonomies do not have: terms that start with a digit
# or a hyphen-split letter, case-sensitive words, a term whose word is a piece
# of a tokenizer special case ("not" in "cannot"), one whose piece starts inside
# another term's word ("n't" of "can't" inside "can" of "cannot"), patterns with optional and
# alternative tokens, a wildcard, context rules with and without a window.
EDGE_TAXONOMY = """
name: edges
cues: [cooperation, work together]
topics:
  tech:
    label: Tech
    terms:
      - 5G
      - 3D printing
      - e-commerce
      - AI
      - EV
      - cannot
      - can't
      - term: not
        near: [tariff]
        window: 2
      - cyber*
      - Industry 4.0
      - pattern: [{LOWER: made}, {LOWER: "-", OP: "?"}, {LOWER: {IN: [in, by]}}]
        label: made in
      - pattern: [{ORTH: Gov}, {IS_TITLE: true}]
        label: Gov Title
    exclude: [AI winter]
  trade:
    label: Trade
    terms:
      - tariff
      - term: duty
        near: [customs, import]
      - trade war
      - US
      - term: port
        near: [cargo]
        window: 1
    exclude: [trade union]
"""

# Terms, context words, cues and exclusions of the taxonomies; tokenizer special
# cases and other tricky pieces; then Unicode that changes under lower-casing or
# is not what it looks like.
_VOCABULARY = """
trade trades trading tariff tariffs Tariffs energy energies power plant grid port cargo
shipping customs duty import imports investment invest foreign overseas firms owners buy
American american made in by new South Wales access to markets market free WTO wto WTOs EV
EVs ev AI AIs ai 5G 5g 3D printing 4.0 Industry industry e-commerce ecommerce e commerce
cyber cybersecurity manufacturing manufacturer cooperation co-operation partnership work
together union unions winter war Gov Gov. Federal Trade Commission supply chain chains
capital flows fuel oil gas solar battery batteries semiconductor chips bank finance loan US
U.S. us not note nothing
cannot Cannot can't don't gonna c'mon y'all a.m. p.m. e.g. i.e. etc. Mr. No. 10km $5 5%
(trade) "tariffs" trade's trade’s tariffs, power-grid trade/investment 3D-printed
"""
_UNICODE = (
    "İstanbul ΣΑΣ Straße tarifé tarife\u0301 \u00a0 \u200b 😀 — – … \u2019 Ⅳ ﬁnance"
    " \u00ad tar\u00adiffs Tariffs\u200b free\u2060 \ufefftrade sup\u00adply-chain"
)
WORDS = _VOCABULARY.split() + _UNICODE.split(" ")
SEPARATORS = [
    " ",
    " ",
    " ",
    "",
    "\n",
    "\n\n",
    "-",
    "-\n",
    "- ",
    "/",
    "  ",
    "\t",
    "\r\n",
    ". ",
    "; ",
]


def _texts() -> Iterator[tuple[str, str]]:
    for path in sorted(CORPORA.glob("*.jsonl")):
        with path.open(encoding="utf-8") as lines:
            for n, line in enumerate(lines):
                yield f"{path.name}:{n + 1}", json.loads(line)["text"]
    for path in (SEED, SAMPLE):
        if path.is_file():
            yield path.name, path.read_text(encoding="utf-8")


def _pair(taxonomy: str | Taxonomy) -> tuple[Extractor, Extractor]:
    return (
        Extractor(taxonomy, max_quotes=None, fast=True),
        Extractor(taxonomy, max_quotes=None, fast=False),
    )


def _same(fast: Extractor, plain: Extractor, text: str) -> None:
    got, want = fast._match(text), plain._match(text)
    assert got == want
    assert fast.extract(text) == plain.extract(text)


@pytest.fixture(scope="module")
def default() -> tuple[Extractor, Extractor]:
    return _pair("default")


@pytest.fixture(scope="module")
def edges() -> tuple[Extractor, Extractor]:
    return _pair(Taxonomy.from_yaml(EDGE_TAXONOMY))


@pytest.mark.parametrize("taxonomy", TAXONOMIES)
def test_fast_equals_plain_on_the_shared_corpora(taxonomy: str, corpora: Path) -> None:
    fast, plain = _pair(taxonomy)
    checked = 0
    for name, text in _texts():
        got, want = fast._match(text), plain._match(text)
        assert got == want, name
        checked += 1
    assert checked > 2000  # every document of the corpora was compared


@pytest.mark.parametrize("taxonomy", TAXONOMIES)
def test_fast_equals_plain_records_on_the_shared_corpora(taxonomy: str, corpora: Path) -> None:
    fast, plain = _pair(taxonomy)
    texts = [text for _, text in _texts()]
    assert list(fast.extract_many(texts)) == list(plain.extract_many(texts))


def test_prefilter_skips_most_sentences_of_the_corpora(corpora: Path) -> None:
    """The shortcut must actually skip work: most policy sentences carry no term."""
    lexicon = Extractor().component.lexicon
    assert lexicon.prefilter is not None
    sentences = candidates = 0
    for _, text in _texts():
        spans = split_sentences(text)
        sentences += len(spans)
        candidates += len(lexicon.prefilter.candidates(text, spans))
    assert candidates < 0.5 * sentences


text_strategy = st.lists(
    st.tuples(
        st.sampled_from(WORDS),
        st.sampled_from(["keep", "keep", "upper", "title", "lower"]),
        st.sampled_from(SEPARATORS),
    ),
    max_size=40,
).map(lambda parts: "".join(_case(w, c) + sep for w, c, sep in parts))


def _case(word: str, how: str) -> str:
    return {"keep": word, "upper": word.upper(), "title": word.title(), "lower": word.lower()}[how]


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(text=text_strategy)
def test_fast_equals_plain_on_generated_text(
    default: tuple[Extractor, Extractor], text: str
) -> None:
    _same(*default, text)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(text=text_strategy)
def test_fast_equals_plain_on_edge_taxonomy(edges: tuple[Extractor, Extractor], text: str) -> None:
    _same(*edges, text)


@settings(max_examples=150, deadline=None)
@given(text=st.text(alphabet=st.characters(blacklist_categories=["Cs"]), max_size=200))
def test_fast_equals_plain_on_arbitrary_unicode(
    default: tuple[Extractor, Extractor], text: str
) -> None:
    _same(*default, text)


def test_bounded_caches_give_the_same_results(
    monkeypatch: pytest.MonkeyPatch, edges: tuple[Extractor, Extractor]
) -> None:
    """Renewing the private tokenizer and emptying the caches changes nothing."""
    monkeypatch.setattr(fastpath_module, "_CHUNK_CACHE_SIZE", 7)
    monkeypatch.setattr(terms_module, "_INFO_CACHE_SIZE", 5)
    fast, plain = _pair(Taxonomy.from_yaml(EDGE_TAXONOMY))
    chunker = fast.component.lexicon.fast._chunker
    assert chunker is not None
    # A new tokenizer starts with its special cases as words; allow 40 more.
    monkeypatch.setattr(fastpath_module, "_VOCAB_LIMIT", len(chunker.vocab) + 40)
    # No "İ" or "Σ" here: with them every sentence takes the Doc path.
    words = [w for w in WORDS if len(w.lower()) == len(w) and "Σ" not in w]
    text = " ".join(words) + ". We cannot cut tariffs on EVs and 5G gear. " * 3
    matcher = fast.component.lexicon.fast
    first = matcher._chunker
    _same(fast, plain, text)
    assert matcher._chunker is not first  # it was renewed along the way
    assert len(matcher._tokens) <= 7
    assert len(matcher._groups) <= 7


def test_sentence_test_is_conservative_for_every_hit(edges: tuple[Extractor, Extractor]) -> None:
    """Every sentence that the plain path finds a hit in passes the prefilter."""
    fast, plain = edges
    text = "\n".join(
        [
            "Mostarifs are no tariffs. We cannot agree. They won't go.",
            "5G masts, 3D printing and e-commerce; the US port took cargo.",
            "Gov Smith made-in-house goods. EVs and AIs. AI winter came.",
        ]
    )
    spans, hits = plain._match(text)
    lexicon = fast.component.lexicon
    assert lexicon.prefilter is not None
    passed = {i for i, _ in lexicon.prefilter.candidates(text, spans)}
    assert set(hits) <= passed
    assert hits, "the text was written to hold hits"


def test_a_term_starting_inside_another_terms_word_is_found() -> None:
    # spaCy splits "can't" into "ca" + "n't"; the prefilter's search for "can"
    # (of "cannot") must not hide the "n't" that starts inside it.
    taxonomy = Taxonomy.from_yaml('name: t\ntopics:\n  m: {label: M, terms: ["can\'t", cannot]}')
    fast, plain = _pair(taxonomy)
    for text in ("We can't agree.", "We cannot agree.", "Can't."):
        _same(fast, plain, text)
        assert fast.extract(text).areas, text


def test_runs_tokenised_together_do_not_change_each_other() -> None:
    # spaCy matches the special case '' across a space: the fast path must not
    # put a lone ' before 'em-s when it tokenises runs of several sentences (or
    # documents) in one call, nor remember 'em-s tokenised so.
    taxonomy = Taxonomy.from_yaml('name: t\ntopics:\n  t: {label: T, terms: ["\'em"]}')
    fast, plain = _pair(taxonomy)
    for text in ("x 'em", "'em '\n\n'em-s", "They 'em-s now."):
        _same(fast, plain, text)
    assert [m.text for s in fast.extract("They 'em-s now.").sentences for m in s.matches] == ["'em"]


def test_a_word_segmenter_that_splits_inside_letter_runs_loses_no_term(tmp_path: Path) -> None:
    # spaCy's Chinese tokenizer puts a token between any two characters, which
    # are letters: the prefilter must not wait for a term after a non-letter.
    path = tmp_path / "zh.yaml"
    path.write_text(
        "name: zh\nlanguage: zh\ntopics:\n"
        "  trade: {label: Trade, terms: [贸易, 关税]}\n  energy: {label: Energy, terms: [能源]}\n",
        encoding="utf-8",
    )
    fast, plain = _pair(Taxonomy.from_yaml(path.read_text(encoding="utf-8")))
    nlp = spacy.blank("zh")
    nlp.add_pipe("sentencizer")  # the component's text path, which uses the prefilter too
    nlp.add_pipe("policy_topics", config={"taxonomy": str(path), "max_quotes": 0})
    text = "中美贸易合作。双方将降低关税并加强能源合作。"
    _same(fast, plain, text)
    found = fast.extract(text)
    assert [m.text for s in found.sentences for m in s.matches] == ["贸易", "关税", "能源"]
    # The library's own sentences end at "。" as spaCy's sentencizer's do.
    assert nlp(text)._.policy_topics == found


ZH_TAXONOMY = (
    "name: zh\nlanguage: zh\ntopics:\n"
    "  trade: {label: Trade, terms: [贸易, 关税, 自由贸易区]}\n"
    "  energy: {label: Energy, terms: [能源]}\n"
)


class _GlueTokenizer:
    """A word segmenter that keeps "。" in one token with the character after it."""

    def __init__(self, vocab: Any) -> None:
        self.vocab = vocab

    def __call__(self, text: str) -> Doc:
        words = re.findall(r"。\S|\s+|\S", text)
        return Doc(self.vocab, words=words, spaces=[False] * len(words))


class _SpaceGluedTokenizer(_GlueTokenizer):
    """A word segmenter that puts the whitespace before a character into its token."""

    def __call__(self, text: str) -> Doc:
        words = re.findall(r"\s*\S|\s+$", text)
        return Doc(self.vocab, words=words, spaces=[False] * len(words))


_ZH_TOKENIZERS: dict[str, type[_GlueTokenizer] | None] = {"char": None, "glue": _GlueTokenizer}


def _zh_paths(kind: str) -> tuple[Language, Extractor, Extractor, PolicyTopics]:
    nlp = spacy.blank("zh")  # its default segmenter makes a token of each character
    tokenizer = _ZH_TOKENIZERS[kind]
    if tokenizer is not None:
        nlp.tokenizer = tokenizer(nlp.vocab)
    taxonomy = Taxonomy.from_yaml(ZH_TAXONOMY)
    fast = Extractor(taxonomy, model=nlp, max_quotes=None, fast=True)
    plain = Extractor(taxonomy, model=nlp, max_quotes=None, fast=False)
    assert fast.fast and not plain.fast
    component = PolicyTopics(nlp, taxonomy=taxonomy, max_quotes=0)
    assert component._doc_matcher is not None
    return nlp, fast, plain, component


_ZH_PATHS = {kind: _zh_paths(kind) for kind in _ZH_TOKENIZERS}


def _zh_sentences(kind: str, text: str) -> list[str]:
    nlp, fast, plain, component = _ZH_PATHS[kind]
    want = plain._match(text)
    assert fast._match(text) == want
    # spaCy's tokenizer refuses lone surrogates: the README says to replace them.
    doc = nlp.make_doc(text_module.replace_surrogates(text))
    found = component._doc_matcher.match(doc)  # type: ignore[union-attr]
    assert found is not None and (found.spans, found.hits) == want
    assert fast.extract(text) == plain.extract(text)
    return [text[start:end] for start, end in want[0]]


def test_chinese_sentences_end_at_ideographic_full_stops() -> None:
    text = "中美贸易合作。双方将降低关税！会议在北京举行？是的。"
    assert _zh_sentences("char", text) == [
        "中美贸易合作。",
        "双方将降低关税！",
        "会议在北京举行？",
        "是的。",
    ]
    # A tokenizer that keeps "。" with the next character: no sentence ends inside a token.
    assert _zh_sentences("glue", text) == [
        "中美贸易合作。双方将降低关税！",
        "会议在北京举行？",
        "是的。",
    ]
    quotes = Extractor(Taxonomy.from_yaml(ZH_TAXONOMY)).extract(text).areas[0].quotes
    assert [q.text for q in quotes] == ["中美贸易合作。", "双方将降低关税！"]
    assert all(text[q.start : q.end] == q.text for q in quotes)


_ZH_PIECES = ["贸易", "关税", "能源", "自由贸易区", "合作", "双方", "。", "！", "？", "」", "「"]
_ZH_PIECES += ["、", "，", " ", "\n", "\n\n", "A", ".", "- ", "1. ", "\udc9d"]


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    pieces=st.lists(st.sampled_from(_ZH_PIECES), max_size=40),
    kind=st.sampled_from(sorted(_ZH_TOKENIZERS)),
)
def test_chinese_paths_agree_on_generated_text(pieces: list[str], kind: str) -> None:
    text = "".join(pieces)
    for sentence in _zh_sentences(kind, text):
        assert sentence == sentence.strip()


def test_chinese_sentence_ends_next_to_a_lone_surrogate() -> None:
    text = "中美贸易合作。\udc9d双方将降低关税。"
    assert _zh_sentences("char", text) == ["中美贸易合作。", "\udc9d双方将降低关税。"]


def test_a_boundary_at_whitespace_stays_one_whatever_the_tokens() -> None:
    # A tokenizer that puts whitespace into the next token (spaCy's never do; such
    # a token matches no term on the Doc paths): the sentences are the same.
    nlp = spacy.blank("zh")
    nlp.tokenizer = _SpaceGluedTokenizer(nlp.vocab)
    taxonomy = Taxonomy.from_yaml(ZH_TAXONOMY)
    component = PolicyTopics(nlp, taxonomy=taxonomy, max_quotes=0)
    text = "贸易。 能源。\n\n合作"
    want = [(0, 3), (4, 7), (9, 11)]
    for fast in (True, False):
        assert Extractor(taxonomy, model=nlp, fast=fast)._match(text)[0] == want
    assert component.match(nlp.make_doc(text))[0] == want  # the Doc path goes the text way


def test_packaged_taxonomies_search_without_look_ahead() -> None:
    # Only a taxonomy with overlapping anchors pays for the slower search.
    for name in TAXONOMIES:
        prefilter = Extractor(name).component.lexicon.prefilter
        assert prefilter._regex is not None and not prefilter._regex.pattern.startswith("(?=")


def test_pattern_without_a_known_word_turns_the_prefilter_off() -> None:
    yaml_text = (
        "name: t\ntopics: {x: {label: X, terms: ["
        "{pattern: [{IS_DIGIT: true}, {LOWER: big, OP: '?'}, {LOWER: deal}], label: deal},"
        "{pattern: [{IS_DIGIT: true}, {LOWER: big, OP: '?'}], label: big}]}}"
    )
    nlp = spacy.blank("en")
    lexicon = Lexicon(Taxonomy.from_yaml(yaml_text), nlp.tokenizer, nlp.vocab)
    assert lexicon.prefilter is None
    fast, plain = _pair(Taxonomy.from_yaml(yaml_text))
    _same(fast, plain, "A 5 big deal. A 7 deal. Nothing here. 9 big.")
    assert fast._match("A 5 big deal. A 7 deal. Nothing here. 9 big.")[1]


def test_optional_tokens_are_not_required_by_the_prefilter() -> None:
    yaml_text = (
        "name: t\ntopics: {x: {label: X, terms: ["
        "{pattern: [{LOWER: very, OP: '?'}, {LOWER: big}, {LOWER: {IN: [deal, deals]}}], "
        "label: big deal}]}}"
    )
    fast, plain = _pair(Taxonomy.from_yaml(yaml_text))
    text = "A big deal. A very big deals. Very big. Nothing here."
    _same(fast, plain, text)
    assert sorted(fast._match(text)[1]) == [0, 1]


_BLANK = spacy.blank("en")
PATTERN_WORDS = ["buy", "local", "made", "in", "-", "new", "South", "foreign", "firms", "Gov"]
step_strategy = st.fixed_dictionaries(
    {},
    optional={
        "LOWER": st.one_of(
            st.sampled_from([w.lower() for w in PATTERN_WORDS]),
            st.lists(st.sampled_from(PATTERN_WORDS), min_size=1, max_size=3).map(
                lambda ws: {"IN": ws}
            ),
        ),
        "ORTH": st.sampled_from(PATTERN_WORDS),
        "IS_TITLE": st.booleans(),
        "IS_LOWER": st.booleans(),
        "OP": st.just("?"),
    },
)


@settings(max_examples=300, deadline=None)
@given(
    pattern=st.lists(step_strategy, min_size=1, max_size=4),
    words=st.lists(st.sampled_from([*PATTERN_WORDS, "buy", "\n", "  ", "x"]), max_size=12),
)
def test_simple_patterns_match_like_spacy_matcher(
    pattern: list[dict[str, Any]], words: list[str]
) -> None:
    nlp = _BLANK
    steps = compile_pattern(pattern, nlp.vocab.lex_attr_getters)
    if steps is None:  # all optional: spaCy's Matcher keeps such patterns
        return
    simple: SimplePatterns[str] = SimplePatterns()
    simple.add(steps, "p")
    matcher = Matcher(nlp.vocab)
    matcher.add("p", [pattern])
    doc = nlp.make_doc(" ".join(words))
    want = sorted((start, end) for _, start, end in matcher(doc))
    got = [(start, end) for _, start, end in simple.matches([(t.lower_, t.text) for t in doc])]
    assert got == want


@settings(max_examples=300, deadline=None)
@given(
    text=st.lists(st.sampled_from(["a", "B", ".", " ", "\n", "(", "e.g", "Mr"]), max_size=30).map(
        "".join
    ),
    data=st.data(),
)
def test_abbreviation_walk_finds_the_word_the_old_regex_found(text: str, data: Any) -> None:
    """split_sentences walks back over one word instead of searching from the sentence start."""
    period = data.draw(st.integers(0, len(text)))
    start = data.draw(st.integers(0, period))
    found = re.search(r"(\S+)$", text[start:period])
    word = None if found is None else found.group(1).lstrip(text_module._OPENERS).lower()
    expected = word is not None and (
        (len(word) == 1 and word.isalpha()) or word in text_module._ABBREVIATIONS
    )
    assert text_module._is_abbreviation(text, start, period) == expected
