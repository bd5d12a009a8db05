"""The spaCy component: add_pipe, spans, extension, disk and bytes round trips."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import spacy
from spacy.language import Language

from policy_topics import DocumentResult, Extractor

TEXT = "Energy Cooperation\nBoth sides agreed to cut tariffs on electric vehicles. Trade grew."


@pytest.fixture
def nlp() -> Language:
    nlp = spacy.blank("en")
    nlp.add_pipe("policy_topics", config={"taxonomy": "default"})
    return nlp


def sentence_text(doc: Any, sentence: Any) -> str:
    return str(doc.text[sentence.start : sentence.end])


def test_factory_is_registered_through_entry_point() -> None:
    from importlib.metadata import entry_points

    names = {ep.name for ep in entry_points(group="spacy_factories")}
    assert "policy_topics" in names


def test_component_writes_spans_and_result(nlp: Language) -> None:
    doc = nlp(TEXT)
    spans = doc.spans["policy_topics"]
    found = {(s.text, s.label_, s.kb_id_, s.id_) for s in spans}
    assert ("tariffs", "trade", "tariffs", "tariff") in found
    assert ("electric vehicles", "energy", "vehicles_batteries", "electric vehicle") in found
    result = doc._.policy_topics
    assert isinstance(result, DocumentResult)
    assert {a.topic for a in result.areas} >= {"trade", "energy"}


def test_component_equals_extractor(nlp: Language) -> None:
    assert nlp(TEXT)._.policy_topics == Extractor(max_quotes=5).extract(TEXT)


def test_component_sets_sentences_when_missing(nlp: Language) -> None:
    doc = nlp(TEXT)
    assert [s.text for s in doc.sents] == [
        "Energy Cooperation\n",
        "Both sides agreed to cut tariffs on electric vehicles.",
        "Trade grew.",
    ]


def test_component_respects_existing_sentences() -> None:
    nlp = spacy.blank("en")
    nlp.add_pipe("sentencizer")
    nlp.add_pipe("policy_topics")
    doc = nlp(TEXT)
    result = doc._.policy_topics
    assert result.n_sentences == 2  # the sentencizer does not split at the heading
    for sentence in result.sentences:
        assert doc.text[sentence.start : sentence.end].strip() == sentence_text(doc, sentence)


def test_config_options() -> None:
    nlp = spacy.blank("en")
    nlp.add_pipe("policy_topics", config={"spans_key": "topics", "max_quotes": 1})
    doc = nlp("Tariffs fell. Tariffs rose. Export tariffs stayed.")
    assert "topics" in doc.spans
    assert len(doc._.policy_topics.areas[0].quotes) == 1


def test_disk_round_trip(nlp: Language, tmp_path: Path) -> None:
    nlp.to_disk(tmp_path / "pipeline")
    loaded = spacy.load(tmp_path / "pipeline")
    assert loaded.pipe_names == ["policy_topics"]
    assert loaded(TEXT)._.policy_topics == nlp(TEXT)._.policy_topics
    assert (tmp_path / "pipeline" / "policy_topics" / "taxonomy.yaml").is_file()


def test_disk_round_trip_with_custom_taxonomy_file_that_is_gone(tmp_path: Path) -> None:
    path = tmp_path / "mine.yaml"
    path.write_text("name: mine\ntopics:\n  trade: {label: Trade, terms: [tariff]}\n")
    nlp = spacy.blank("en")
    nlp.add_pipe("policy_topics", config={"taxonomy": str(path)})
    nlp.to_disk(tmp_path / "pipeline")
    path.unlink()
    loaded = spacy.load(tmp_path / "pipeline")
    result = loaded("Tariffs fell.")._.policy_topics
    assert result.taxonomy == "mine"
    assert [a.topic for a in result.areas] == ["trade"]


def test_bytes_round_trip(nlp: Language) -> None:
    other = spacy.blank("en")
    other.add_pipe("policy_topics", config={"taxonomy": "default", "max_quotes": 2})
    other.from_bytes(nlp.to_bytes())
    assert other(TEXT)._.policy_topics == nlp(TEXT)._.policy_topics


def test_spans_serialise_with_docbin(nlp: Language) -> None:
    from spacy.tokens import DocBin

    doc = nlp(TEXT)
    data = DocBin(docs=[doc], store_user_data=False).to_bytes()
    (restored,) = DocBin().from_bytes(data).get_docs(nlp.vocab)
    assert [(s.text, s.label_, s.kb_id_, s.id_) for s in restored.spans["policy_topics"]] == [
        (s.text, s.label_, s.kb_id_, s.id_) for s in doc.spans["policy_topics"]
    ]


def test_bad_taxonomy_in_config_raises_on_use() -> None:
    from policy_topics import TaxonomyError

    nlp = spacy.blank("en")
    nlp.add_pipe("policy_topics", config={"taxonomy": "no-such-taxonomy"})
    with pytest.raises(TaxonomyError):
        nlp("text")
