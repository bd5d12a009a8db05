"""End to end through Extractor: the seed article, the sample, records, bad input, offsets."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from policy_topics import DocumentResult, Extractor, evaluate
from tests.conftest import SAMPLE

FIVE = {"trade", "energy", "digital", "manufacturing", "finance"}


@pytest.fixture(scope="module")
def extractor() -> Extractor:
    return Extractor()


def assert_offsets(text: str, result: DocumentResult) -> None:
    for area in result.areas:
        for quote in area.quotes:
            assert text[quote.start : quote.end] == quote.text
            for match in quote.matches:
                assert text[match.start : match.end] == match.text
                assert quote.start <= match.start < match.end <= quote.end
    for sentence in result.sentences:
        for match in sentence.matches:
            assert text[match.start : match.end] == match.text
            assert sentence.start <= match.start < match.end <= sentence.end


def test_seed_article_end_to_end(extractor: Extractor, seed_text: str) -> None:
    result = extractor.extract(seed_text, doc_id="seed")
    assert_offsets(seed_text, result)
    assert {a.topic for a in result.areas} == FIVE
    for area in result.areas:
        texts = [q.text for q in area.quotes]
        assert len(set(texts)) >= 2, area.topic
        assert len(texts) == len(set(texts)), f"duplicate quote in {area.topic}"
    headings = [
        "Quick Takeaways",
        "China Latin America Industrial Cooperation Focus Areas",
        "Trade, Investment, and Regulatory Alignment",
        "Energy, Digital Infrastructure, and Manufacturing Synergies",
    ]
    sentences = [seed_text[s.start : s.end] for s in result.sentences]
    all_quotes = [q.text for a in result.areas for q in a.quotes]
    for heading in headings:
        for text in sentences + all_quotes:
            assert not (text.startswith(heading) and text != heading), text


def test_seed_repeated_paragraphs_are_deduplicated(extractor: Extractor, seed_text: str) -> None:
    result = extractor.extract(seed_text)
    repeated = [q for a in result.areas for q in a.quotes if q.occurrences > 1]
    assert repeated, "the seed article repeats its paragraphs; quotes should count occurrences"
    for quote in repeated:
        assert seed_text.count(quote.text) == quote.occurrences


def test_sample_policy_paper(extractor: Extractor) -> None:
    text = SAMPLE.read_text(encoding="utf-8")
    result = extractor.extract(text, doc_id="sample")
    assert_offsets(text, result)
    assert {a.topic for a in result.areas} == FIVE
    trade = result.area("trade")
    assert trade is not None
    assert {"tariffs", "agreements", "supply_chains"} <= {s.id for s in trade.subtopics}
    implementation = text.index("The parties note that the trade-off")
    tagged = [s for s in result.sentences if s.start == implementation]
    assert not tagged or all(m.term != "trade" for s in tagged for m in s.matches)


def test_deduplication_counts_occurrences(extractor: Extractor) -> None:
    para = "Both sides will cut tariffs on steel."
    text = f"{para}\n\nOther news.\n\n{para}\n\n{para.upper()}"
    result = extractor.extract(text)
    (trade,) = [a for a in result.areas if a.topic == "trade"]
    assert len(trade.quotes) == 1
    assert trade.quotes[0].occurrences == 3
    assert trade.mentions == 3
    assert trade.sentences == 3
    assert trade.breakdown.evidence == pytest.approx(1.0)
    assert len(result.sentences) == 3


def test_areas_sorted_and_scores_bounded(extractor: Extractor) -> None:
    text = SAMPLE.read_text(encoding="utf-8")
    result = extractor.extract(text)
    scores = [a.score for a in result.areas]
    assert scores == sorted(scores, reverse=True)
    for area in result.areas:
        assert 0 <= area.score <= 1
        quote_scores = [q.score for q in area.quotes]
        assert quote_scores == sorted(quote_scores, reverse=True)
        assert area.mentions >= len(area.quotes)


def test_max_quotes_caps_quotes_but_not_sentences() -> None:
    text = " ".join(f"Tariff cut number {i} was agreed." for i in range(10))
    result = Extractor(max_quotes=2).extract(text)
    assert len(result.areas[0].quotes) == 2
    assert len(result.sentences) == 10
    assert len(Extractor(max_quotes=None).extract(text).areas[0].quotes) == 10


def test_min_score_drops_weak_areas() -> None:
    text = "We discussed many things. " * 30 + "Oil was mentioned once."
    assert Extractor().extract(text).areas
    assert Extractor(min_score=0.9).extract(text).areas == []


def test_doc_id_and_metadata_are_copied(extractor: Extractor) -> None:
    result = extractor.extract("Tariffs.", doc_id="d1", metadata={"year": 2024, "tags": ["a"]})
    assert result.doc_id == "d1"
    assert result.metadata == {"year": 2024, "tags": ["a"]}
    assert result.taxonomy == "default"
    assert result.language == "en"


@pytest.mark.parametrize("text", ["", " ", "\n\t \u00a0\u2003\n"])
def test_empty_text_gives_valid_empty_result(extractor: Extractor, text: str) -> None:
    result = extractor.extract(text)
    assert result.areas == []
    assert result.sentences == []
    assert result.n_sentences == 0
    assert result.error is None


@pytest.mark.parametrize(
    ("value", "name"), [(None, "NoneType"), (b"tariffs", "bytes"), (42, "int"), (["x"], "list")]
)
def test_non_string_gives_type_error_naming_the_type(
    extractor: Extractor, value: Any, name: str
) -> None:
    with pytest.raises(TypeError, match=f"not {name}"):
        extractor.extract(value)


def test_only_bytes_are_told_to_decode(extractor: Extractor) -> None:
    with pytest.raises(TypeError, match="not bytes; decode bytes first"):
        extractor.extract(b"tariffs")  # type: ignore[arg-type]
    with pytest.raises(TypeError, match=r"not int$"):
        extractor.extract(42)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match=r"not NoneType \(a missing value: drop it"):
        extractor.extract(None)  # type: ignore[arg-type]


def test_json_round_trip_and_schema(extractor: Extractor) -> None:
    result = extractor.extract(SAMPLE.read_text(encoding="utf-8"), doc_id="s", metadata={"k": 1})
    assert DocumentResult.model_validate_json(result.model_dump_json()) == result
    schema = DocumentResult.model_json_schema()
    assert schema["properties"]["areas"]["description"]
    for name, model in schema["$defs"].items():
        assert model.get("additionalProperties") is False, name
        for field, spec in model["properties"].items():
            assert spec.get("description"), f"{name}.{field} has no description"
    json.dumps(schema)


def test_records_are_frozen(extractor: Extractor) -> None:
    from pydantic import ValidationError

    result = extractor.extract("Tariffs fell.")
    with pytest.raises(ValidationError):
        result.areas[0].score = 0.5  # type: ignore[misc]


def test_fast_and_plain_paths_agree_on_sample() -> None:
    text = SAMPLE.read_text(encoding="utf-8")
    assert Extractor(fast=True).extract(text) == Extractor(fast=False).extract(text)


NASTY = st.sampled_from(
    [
        "\x00",
        "\x07",
        "\x1b",
        "\ud800",
        "\udfff",
        "\u200b",
        "\u200d",
        "\u200e",
        "\u200f",
        "\u202e",
        "\ufeff",
        "\u00a0",
        "\u2003",
        "\u3000",
        "\r\n",
        "\r",
        "\n\n",
        "\t",
        "e\u0301",
        "\U0001f600",
        "\U0001f469\u200d\U0001f4bb",
        "ﬁ",
        "İ",
        "ß",
        "-",
        "–",
        "•",
        "1.",
        "U.S.",
        "tariff",
        "Tariffs",
        "energy",
        "EV",
        "local-currency",
        "settlement",
        "invest",
        "manufacturing",
        "power plant",
        "trade union",
        "digital",
        "5G",
        "bank",
        "cooperation",
    ]
)
TEXTS = st.lists(st.one_of(NASTY, st.text(max_size=8)), max_size=40).map(" ".join)


@settings(max_examples=200, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(TEXTS)
def test_offsets_invariant_on_hostile_text(extractor: Extractor, text: str) -> None:
    result = extractor.extract(text)
    assert_offsets(text, result)
    restored = DocumentResult.model_validate_json(result.model_dump_json())
    if any("\ud800" <= ch <= "\udfff" for ch in text):
        # Lone surrogates cannot be encoded in JSON: written as U+FFFD, same length.
        assert restored.model_dump(exclude={"areas", "sentences"}) == result.model_dump(
            exclude={"areas", "sentences"}
        )
        assert [len(q.text) for a in restored.areas for q in a.quotes] == [
            len(q.text) for a in result.areas for q in a.quotes
        ]
    else:
        assert restored == result


def test_trained_pipeline_by_path_uses_its_sentence_boundaries(tmp_path: Any) -> None:
    import spacy

    nlp = spacy.blank("en")
    nlp.add_pipe("sentencizer")
    nlp.to_disk(tmp_path / "pipeline")
    text = "Energy Cooperation\nTariffs fell; oil rose. Grids grew."
    by_path = Extractor(model=tmp_path / "pipeline").extract(text)
    by_object = Extractor(model=nlp).extract(text)
    assert by_path == by_object
    # The sentencizer keeps the heading with the next sentence; our segmenter would not.
    assert by_path.n_sentences == 2
    assert Extractor().extract(text).n_sentences == 3
    assert_offsets(text, by_path)


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"max_quotes": -1}, "max_quotes must be a whole number >= 0"),
        ({"max_quotes": 2.5}, "max_quotes must be a whole number >= 0"),
        ({"min_score": 1.5}, "min_score must be between 0 and 1"),
        ({"min_score": -0.1}, "min_score must be between 0 and 1"),
        ({"min_score": "0.5"}, "min_score must be a number"),
    ],
)
def test_out_of_range_options_are_refused(options: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        Extractor(**options)
    extractor = Extractor()
    with pytest.raises(ValueError, match=message):
        for name, value in options.items():
            setattr(extractor, name, value)
    assert (extractor.max_quotes, extractor.min_score) == (5, 0.0)


def test_numpy_numbers_are_taken_as_plain_ones() -> None:
    # Options read from a DataFrame are numpy scalars; np.float32 is no float.
    import numpy

    extractor = Extractor(max_quotes=numpy.int64(2), min_score=numpy.float32(0.5))
    assert (extractor.max_quotes, extractor.min_score) == (2, 0.5)
    assert (type(extractor.max_quotes), type(extractor.min_score)) == (int, float)
    gold = [{"id": "d", "text": "Tariffs rose.", "topics": ["trade"]}]
    assert evaluate(gold, min_score=numpy.float32(0.5)).min_score == 0.5


def test_options_set_later_take_effect() -> None:
    text = "We cut tariffs. Tariffs fell again. Export duties went."
    extractor = Extractor()
    assert len(extractor.extract(text).areas[0].quotes) == 3
    extractor.max_quotes = 1
    assert len(extractor.extract(text).areas[0].quotes) == 1
    extractor.min_score = 1.0
    assert extractor.extract(text).areas == []
