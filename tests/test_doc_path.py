"""The Doc path gives exactly what the plain path gives.

The component matches a tokenised Doc from its lexemes (:mod:`policy_topics.docpath`):
it reads no text for a Doc that its token sums show to be one sentence, and
matches only the sentences holding a word that can start a term. Its sentences
and hits must be those of ``Extractor(fast=False)``, which tokenises the
document whole and matches every sentence of ``split_sentences``.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import spacy
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from spacy.language import Language
from spacy.tokens import Doc

from policy_topics import Extractor, Taxonomy
from policy_topics import docpath as docpath_module
from policy_topics import terms as terms_module
from policy_topics.matching import PolicyTopics
from policy_topics.taxonomy import packaged_taxonomies
from policy_topics.text import MAX_SENTENCE_CHARS, split_sentences
from tests.test_fast_path import EDGE_TAXONOMY, WORDS, _texts, text_strategy

TAXONOMIES = sorted(packaged_taxonomies())


def _setup(taxonomy: str | Taxonomy) -> tuple[Language, PolicyTopics, Extractor]:
    nlp = spacy.blank("en")
    component = PolicyTopics(nlp, taxonomy=taxonomy, max_quotes=0)
    assert component._doc_matcher is not None
    return nlp, component, Extractor(taxonomy, max_quotes=None, fast=False)


def _same(setup: tuple[Language, PolicyTopics, Extractor], text: str) -> None:
    nlp, component, plain = setup
    assert component._doc_matcher is not None
    found = component._doc_matcher.match(nlp.make_doc(text))
    assert found is not None
    assert (found.spans, found.hits) == plain._match(text)


@pytest.fixture(scope="module")
def default() -> tuple[Language, PolicyTopics, Extractor]:
    return _setup("default")


@pytest.fixture(scope="module")
def edges() -> tuple[Language, PolicyTopics, Extractor]:
    return _setup(Taxonomy.from_yaml(EDGE_TAXONOMY))


@pytest.mark.parametrize("taxonomy", TAXONOMIES)
def test_doc_path_equals_plain_on_the_shared_corpora(taxonomy: str, corpora: Path) -> None:
    setup = _setup(taxonomy)
    matcher = setup[1]._doc_matcher
    assert matcher is not None
    checked = one_sentence = 0
    for name, text in _texts():
        doc = setup[0].make_doc(text)
        array = doc.to_array(docpath_module._ATTRS)
        orths = array[:, docpath_module._ORTH].tolist()
        values = [matcher._sums[o] for o in orths]
        if orths and matcher._one_sentence(array, orths, values, sum(values)) is not None:
            one_sentence += 1
        found = matcher.match(doc)
        assert found is not None
        assert (found.spans, found.hits) == setup[2]._match(text), name
        checked += 1
    assert checked > 2000  # every document of the corpora was compared
    # Both ways of finding sentences were taken many times.
    assert 500 < one_sentence < checked - 100


@pytest.mark.parametrize("taxonomy", TAXONOMIES)
def test_component_records_equal_the_extractor_on_the_shared_corpora(
    taxonomy: str, corpora: Path
) -> None:
    nlp = spacy.blank("en")
    nlp.add_pipe("policy_topics", config={"taxonomy": taxonomy, "max_quotes": 5})
    extractor = Extractor(taxonomy, max_quotes=5)
    texts = [text for _, text in _texts()]
    for doc, want in zip(nlp.pipe(texts), extractor.extract_many(texts), strict=True):
        assert doc._.policy_topics == want
        # The sentences set on the Doc: the first starts at the first token, each
        # later one at the first word after the sentence quoted before it, so a
        # bullet marker between two sentences opens the second.
        if len(doc):
            text = doc.text
            ends = [end for _, end in split_sentences(text)[:-1]]
            starts = [0] + [len(text) - len(text[end:].lstrip()) for end in ends]
            assert [s.start_char for s in doc.sents] == starts


@pytest.mark.parametrize(
    "text",
    [
        "",
        "Tariffs",
        "We cut tariffs.",
        "We cut tariffs on U.S. steel.",
        "We cut tariffs. Exports grew.",
        "We cut tariffs! Exports grew?",
        'He said "we cut tariffs." Exports grew.',
        "We cut tariffs.)",
        "We cut tariffs …",
        "We cut tariffs… Exports grew.",
        " We cut tariffs.",
        "We cut tariffs. ",
        "We  cut tariffs.",
        "We cut\ntariffs.",
        "Trade Policy\nWe cut tariffs.",
        "- We cut tariffs.",
        "-We cut tariffs.",
        "• Free trade",
        "1. We cut tariffs.",
        "1.2. We cut tariffs.",
        "12) We cut tariffs.",
        "iv. We cut tariffs.",
        "IV) We cut tariffs.",
        "ix We cut tariffs.",
        "a) We cut tariffs.",
        "B. We cut tariffs.",
        "(a) We cut tariffs.",
        "(12) We cut tariffs.",
        "I cut tariffs.",
        "A free trade deal.",
        "vi",
        "1.",
        "- ",
        "e.g. tariffs",
        "No. 5 tariff",
        "We cut tariffs on\u00a0steel.",
        "free trade" * 300,
        ("We cut tariffs " * 200).strip() + ".",
        ("We cut tariffs " * 134).strip() + ".",
        "Made in China goods and buy local food, foreign firms too.",
        "made - in China, made-in America.",
        # Term phrases whose later words are case-sensitive or prefixes: a lead only
        # where they follow, whitespace and line breaks between them or not.
        "The New Development Bank lends.",
        "The New  Development\nBank lends.",
        "The New Development Fund lends.",
        "The new development bank lends.",
        "New Development. Bank lends.",
        "The Federal Reserve and federal reserves.",
        "Federal",
        "3D printing and 3-D printers, 3 D printed, 3 d printing.",
        "We roll out 5G. 5 G is here, and so are 5 grants.",
    ],
)
def test_doc_path_edge_cases(default: tuple[Language, PolicyTopics, Extractor], text: str) -> None:
    _same(default, text)


def test_one_sentence_shortcut_stops_at_the_length_limit(
    default: tuple[Language, PolicyTopics, Extractor],
) -> None:
    for length in (MAX_SENTENCE_CHARS - 1, MAX_SENTENCE_CHARS, MAX_SENTENCE_CHARS + 1):
        text = "t" * (length - len(" tariffs.")) + " tariffs."
        assert len(text) == length
        _same(default, text)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(text=text_strategy)
def test_doc_path_equals_plain_on_generated_text(
    default: tuple[Language, PolicyTopics, Extractor], text: str
) -> None:
    _same(default, text)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(text=text_strategy)
def test_doc_path_equals_plain_on_edge_taxonomy(
    edges: tuple[Language, PolicyTopics, Extractor], text: str
) -> None:
    _same(edges, text)


@settings(max_examples=200, deadline=None)
@given(
    text=st.lists(
        st.sampled_from(
            ["-", "•", "1.", "2)", "iv.", "(a)", "a)", "I", "X.", " ", "", ".", "Tariffs", "cut"]
        ),
        max_size=6,
    ).map(" ".join)
)
def test_doc_path_equals_plain_on_bullet_like_starts(
    default: tuple[Language, PolicyTopics, Extractor], text: str
) -> None:
    _same(default, text)


@settings(max_examples=150, deadline=None)
@given(text=st.text(alphabet=st.characters(blacklist_categories=["Cs"]), max_size=200))
def test_doc_path_equals_plain_on_arbitrary_unicode(
    default: tuple[Language, PolicyTopics, Extractor], text: str
) -> None:
    _same(default, text)


def test_bounded_caches_give_the_same_results(monkeypatch: pytest.MonkeyPatch) -> None:
    """Emptying the memories of words when they are full changes nothing."""
    monkeypatch.setattr(docpath_module, "_CACHE_SIZE", 5)
    monkeypatch.setattr(terms_module, "_INFO_CACHE_SIZE", 5)
    setup = _setup(Taxonomy.from_yaml(EDGE_TAXONOMY))
    text = " ".join(WORDS) + ". We cannot cut tariffs on EVs and 5G gear. " * 3
    _same(setup, text)
    _same(setup, "Gov Smith made-in-house goods. EVs and AIs. AI winter came.")
    matcher = setup[1]._doc_matcher
    assert matcher is not None
    assert len(matcher._words) <= 5
    assert len(matcher._sums) <= 5


def test_docs_with_sentences_or_lemmas_go_the_text_way() -> None:
    nlp = spacy.blank("en")
    nlp.add_pipe("sentencizer")
    component = nlp.add_pipe("policy_topics")
    assert component._doc_matcher is not None
    doc = nlp("We cut tariffs. Exports grew.")
    assert component._doc_matcher.match(doc) is None
    assert [a.topic for a in doc._.policy_topics.areas] == ["trade"]
    lemmatised = spacy.blank("en").make_doc("We cut tariffs.")
    lemmatised[2].lemma_ = "tariff"
    assert component._doc_matcher.match(lemmatised) is None


def test_taxonomy_with_a_token_pattern_for_spacy_matcher_goes_the_text_way() -> None:
    yaml_text = (
        "name: t\ntopics: {x: {label: X, terms: [tariff, "
        "{pattern: [{LOWER: big}, {POS: NOUN}], label: big noun}]}}"
    )
    nlp = spacy.blank("en")
    component = nlp.add_pipe("policy_topics", config={"taxonomy": "default"})
    component._set_taxonomy(Taxonomy.from_yaml(yaml_text))
    assert component._doc_matcher is None
    assert [a.topic for a in nlp("We cut a tariff.")._.policy_topics.areas] == ["x"]
    # A Doc built from words is matched on its own tokens on this way too.
    for words, found in ((["We cut", "a", "tariff", "."], ["tariff"]), (["a tariff."], [])):
        doc = component(Doc(nlp.vocab, words=words, spaces=[True] * (len(words) - 1) + [False]))
        matches = [
            (m.text, m.start, m.end) for s in doc._.policy_topics.sentences for m in s.matches
        ]
        assert [text for text, _, _ in matches] == found
        assert [(s.text, s.start_char, s.end_char) for s in doc.spans["policy_topics"]] == matches


def test_doc_of_another_vocabulary_goes_the_text_way(
    default: tuple[Language, PolicyTopics, Extractor],
) -> None:
    component = default[1]
    foreign = spacy.blank("en").make_doc("We cut tariffs on zyxwvut imports.")
    assert component._doc_matcher is not None
    assert component._doc_matcher.match(foreign) is None
    assert [h.term for h in component.match(foreign)[1][0].hits] == ["tariff", "import"]


def test_doc_built_from_words_with_whitespace_inside_is_matched_on_its_own_tokens(
    default: tuple[Language, PolicyTopics, Extractor],
) -> None:
    nlp, component, plain = default
    doc = Doc(nlp.vocab, words=["We cut", "tariffs.\nExports", "grew."])
    assert component._doc_matcher is not None
    assert component._doc_matcher.match(doc) is None  # not this tokenizer's tokens
    # 'tariffs.\nExports' is one token, which is not the term 'tariffs': the text
    # is not tokenised again, as it was before (that found 'tariffs').
    result = component(doc)._.policy_topics
    assert result.areas == [] and list(doc.spans["policy_topics"]) == []
    assert result.n_sentences == plain.extract(doc.text).n_sentences == 2
    split = Doc(nlp.vocab, words=["We cut", "tariffs", ".\n", "Exports", "grew."])
    assert [m.text for s in component(split)._.policy_topics.sentences for m in s.matches] == [
        "tariffs",
        "Exports",
    ]
