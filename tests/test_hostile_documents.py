"""Hostile documents: any str gives a valid result with exact offsets, in linear time."""

from __future__ import annotations

from typing import Any, cast

import pytest
import spacy
from hypothesis import given, settings
from hypothesis import strategies as st

from policy_topics import DocumentResult, Extractor, Taxonomy
from policy_topics.text import MAX_SENTENCE_CHARS
from tests.conftest import SAMPLE
from tests.test_extract import assert_offsets


@pytest.fixture(scope="module")
def extractor() -> Extractor:
    return Extractor(max_quotes=None)


HOSTILE = {
    "nul and controls": "Tariffs\x00 fell\x07 on\x1b oil.\x0c Next\x7f line.",
    "lone surrogates": "Tariffs \ud800fell on \udfffoil.",
    "bidi and zero-width": "\u202eTariffs\u200b fell \u200fon oil\u200d. \u2066energy\u2069 grid.",
    "emoji and combining": "Tariffs 🚢 on oil 🛢️ and e\u0301nergie; 👩\u200d💻 digital.",
    "crlf and cr": "Trade Policy\r\nTariffs fell.\r\rOil rose.\rGrid investment grew.",
    "unicode spaces": "Tariffs\u00a0fell\u2003on\u3000oil\u2009and\u202fgas prices.",
    "only punctuation": "... !!! ??? --- ••• 1. 2) (a)",
    "html with script": (
        "<p> Tariffs fell. </p> <script> alert('oil prices') </script> <img src=x onerror=alert(1)>"
    ),
    "very long word": "tariff" * 10_000 + " oil.",
}


@pytest.mark.parametrize("name", sorted(HOSTILE))
def test_hostile_documents_give_valid_results(extractor: Extractor, name: str) -> None:
    text = HOSTILE[name]
    result = extractor.extract(text)
    assert_offsets(text, result)
    assert result.error is None
    DocumentResult.model_validate_json(result.model_dump_json())


def test_script_text_is_kept_as_plain_text(extractor: Extractor) -> None:
    text = HOSTILE["html with script"]
    result = extractor.extract(text)
    quotes = [q.text for a in result.areas for q in a.quotes]
    assert quotes and all(q in text for q in quotes)


def test_one_megabyte_line_without_punctuation(extractor: Extractor) -> None:
    text = " ".join(["policy", "tariff", "words"] * 60_000)
    result = extractor.extract(text)
    assert_offsets(text, result)
    assert result.n_sentences >= len(text) // MAX_SENTENCE_CHARS
    assert max(s.end - s.start for s in result.sentences) <= MAX_SENTENCE_CHARS
    assert result.area("trade") is not None


@pytest.mark.parametrize("mark", ["\u00ad", "\u200b", "\u2060", "\ufeff"])
def test_invisible_marks_in_words_do_not_hide_terms(mark: str) -> None:
    """A soft hyphen or a zero-width space inside or after a word, as web pages
    and PDFs leave them, is read past by every way of matching; the offsets
    still point into the text as given, marks included.
    """
    text = (
        f"We cut tar{mark}iffs and grow manu{mark}facturing. "
        f"Semiconductors{mark} and free{mark} trade."
    )
    nlp = spacy.blank("en")
    nlp.add_pipe("policy_topics", config={"max_quotes": 0})
    results = [Extractor(max_quotes=None, fast=fast).extract(text) for fast in (True, False)]
    results.append(nlp(text)._.policy_topics)
    for result in results:
        assert_offsets(text, result)
        assert sorted(a.topic for a in result.areas) == ["digital", "manufacturing", "trade"]
        found = {m.text for s in result.sentences for m in s.matches}
        assert {f"tar{mark}iffs", f"manu{mark}facturing", f"free{mark} trade"} <= found
        assert result.sentences == results[0].sentences


@pytest.mark.parametrize(
    ("text", "found"),
    [
        # A token of marks alone, or of marks and a hyphen, lies between the words
        # of a phrase like a space or a hyphen.
        ("A free \u200b trade deal.", [("free trade", "free \u200b trade")]),
        ("A free -\u200b trade deal.", [("free trade", "free -\u200b trade")]),
        # spaCy splits no full stop off after a mark: a word and its stop are one
        # token, which no term matches, and no phrase runs on past the stop.
        ("We cut tariffs\u200b.", []),
        ("A free\u200b. Trade rose.", []),
    ],
)
def test_invisible_marks_alone_or_next_to_a_full_stop(
    text: str, found: list[tuple[str, str]]
) -> None:
    taxonomy = Taxonomy.from_yaml(
        "name: t\ntopics:\n  trade: {label: Trade, terms: [tariff, free trade, WTO]}\n"
    )
    nlp = spacy.blank("en")
    component = nlp.add_pipe("policy_topics", config={"max_quotes": 0})
    cast(Any, component)._set_taxonomy(taxonomy)
    results = [
        Extractor(taxonomy, max_quotes=None, fast=fast).extract(text) for fast in (True, False)
    ]
    results.append(nlp(text)._.policy_topics)
    for result in results:
        assert_offsets(text, result)
        assert [(m.term, m.text) for s in result.sentences for m in s.matches] == found


def test_invisible_marks_in_a_taxonomy_term_are_left_out() -> None:
    taxonomy = Taxonomy.from_yaml(
        "name: t\nversion: '1'\ntopics:\n  digital:\n    label: Digital\n"
        '    terms: ["semi\u00adconductor"]\n'
    )
    result = Extractor(taxonomy).extract("Semiconductors and semi\u00adconductors.")
    assert [m.text for s in result.sentences for m in s.matches] == [
        "Semiconductors",
        "semi\u00adconductors",
    ]


def test_large_document_is_processed() -> None:
    sample = SAMPLE.read_text(encoding="utf-8")
    text = "\n\n".join(sample.replace("Norland", f"Norland{i}") for i in range(2_000))
    assert len(text) > 6_000_000
    result = Extractor(max_quotes=3).extract(text)
    assert result.n_chars == len(text)
    assert result.area("trade") is not None
    assert_offsets(text, result)


@settings(max_examples=150, deadline=None)
@given(st.text(alphabet=st.characters(codec=None, categories=None), max_size=300))
def test_any_unicode_text_never_raises_and_keeps_offsets(text: str) -> None:
    result = _SHARED.extract(text)
    assert_offsets(text, result)
    result.model_dump_json()


_SHARED = Extractor(max_quotes=None)
