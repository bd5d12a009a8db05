"""The spaCy component: add_pipe, spans, extension, disk and bytes round trips."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import spacy
from spacy.language import Language

from policy_topics import DocumentResult, Extractor
from policy_topics.matching import PolicyTopics

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


@pytest.mark.parametrize("max_quotes", [2.5, True, None, "3"])
def test_component_refuses_a_max_quotes_that_is_no_whole_number(max_quotes: Any) -> None:
    with pytest.raises(ValueError, match="max_quotes must be a whole number"):
        PolicyTopics(spacy.blank("en"), max_quotes=max_quotes)


def test_component_repr_tells_components_apart(nlp: Language) -> None:
    nlp.add_pipe(
        "policy_topics",
        name="extended",
        config={"taxonomy": "cooperation-extended", "spans_key": "ext", "max_quotes": 2},
    )
    assert [repr(nlp.get_pipe(name)) for name in nlp.pipe_names] == [
        "PolicyTopics(name='policy_topics', taxonomy='default', spans_key='policy_topics', "
        "max_quotes=5, min_score=0.0)",
        "PolicyTopics(name='extended', taxonomy='cooperation-extended', spans_key='ext', "
        "max_quotes=2, min_score=0.0)",
    ]


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


def test_loading_restores_the_saved_settings_which_can_then_be_changed(tmp_path: Path) -> None:
    # As the README says: spacy.load's config overrides give way to what was
    # saved (as for spaCy's entity_ruler); a setting changed on the loaded
    # component applies to the next Doc.
    nlp = spacy.blank("en")
    nlp.add_pipe("policy_topics", config={"max_quotes": 1})
    nlp.to_disk(tmp_path / "pipeline")
    overrides = {"components": {"policy_topics": {"max_quotes": 3}}}
    loaded = spacy.load(tmp_path / "pipeline", config=overrides)
    text = "Tariffs fell. Tariffs rose. Export tariffs stayed."
    assert [len(a.quotes) for a in loaded(text)._.policy_topics.areas] == [1]
    loaded.get_pipe("policy_topics").max_quotes = 3
    assert [len(a.quotes) for a in loaded(text)._.policy_topics.areas] == [3]


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


def test_result_is_built_once_and_kept(nlp: Language) -> None:
    doc = nlp(TEXT)
    first = doc._.policy_topics
    assert first is doc._.policy_topics
    assert spacy.blank("en")("not tagged")._.policy_topics is None


def test_tagged_doc_serialises_with_its_result(nlp: Language) -> None:
    """doc.to_bytes and DocBin with user data keep what doc._.policy_topics needs."""
    from spacy.tokens import Doc, DocBin

    doc = nlp(TEXT)
    restored = Doc(nlp.vocab).from_bytes(doc.to_bytes())
    assert restored._.policy_topics == doc._.policy_topics == Extractor().extract(TEXT)
    data = DocBin(docs=[doc], store_user_data=True).to_bytes()
    (from_bin,) = DocBin().from_bytes(data).get_docs(nlp.vocab)
    assert from_bin._.policy_topics == doc._.policy_topics


def test_result_of_a_doc_tagged_elsewhere_names_the_taxonomy(nlp: Language) -> None:
    from spacy.tokens import Doc

    from policy_topics import matching

    doc = nlp(TEXT)
    restored = Doc(nlp.vocab).from_bytes(doc.to_bytes())
    data = restored.user_data[matching._DATA_KEY]["policy_topics"]
    data[0] = "other-taxonomy@0:" + data[0].split(":", 1)[1]
    with pytest.raises(LookupError, match="other-taxonomy"):
        _ = restored._.policy_topics


def test_changed_settings_give_their_own_results(nlp: Language) -> None:
    component = nlp.get_pipe("policy_topics")
    doc = nlp(TEXT)
    component.max_quotes = 1
    fewer = nlp(TEXT)
    assert max(len(a.quotes) for a in fewer._.policy_topics.areas) == 1
    assert doc._.policy_topics == Extractor(max_quotes=5).extract(TEXT)
    component.max_quotes = None  # keeps all, as for an Extractor (it used to fail)
    assert nlp(TEXT)._.policy_topics == Extractor(max_quotes=None).extract(TEXT)


def test_spacy_pipe_with_two_processes_equals_one(nlp: Language) -> None:
    """spaCy sends Docs between processes as bytes: the component's data must survive."""
    texts = [TEXT, "Grid investment and digital trade rules.", "", "Nothing here."] * 5
    one = [d._.policy_topics for d in nlp.pipe(texts)]
    two = list(nlp.pipe(texts, n_process=2))
    assert [d._.policy_topics for d in two] == one
    assert [[s.text for s in d.sents] for d in two] == [
        [s.text for s in d.sents] for d in nlp.pipe(texts)
    ]


def test_result_survives_the_end_of_an_equal_component() -> None:
    """A Doc's result needs some component with its taxonomy and settings, not the first one."""
    import gc

    first = spacy.blank("en")
    first.add_pipe("policy_topics")
    first("Tariffs fell.")  # registers first's builder
    second = spacy.blank("en")
    second.add_pipe("policy_topics")
    doc = second(TEXT)
    del first
    gc.collect()
    assert doc._.policy_topics == Extractor().extract(TEXT)


def test_docs_outlive_the_pipeline_that_tagged_them() -> None:
    import gc

    from spacy.tokens import Doc

    def tag(texts: list[str]) -> list[Doc]:
        nlp = spacy.blank("en")
        nlp.add_pipe("policy_topics")
        return list(nlp.pipe(texts))

    docs = tag([TEXT])
    gc.collect()
    assert docs[0]._.policy_topics == Extractor().extract(TEXT)


def test_doc_read_back_gets_its_result_once_an_equal_component_exists(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Bytes from another run: a clear error first, the result once the pipeline is loaded."""
    import gc
    from collections import OrderedDict

    from spacy.tokens import Doc

    from policy_topics import matching

    path = tmp_path / "read-back.yaml"
    path.write_text("name: read-back\ntopics:\n  trade: {label: Trade, terms: [tariff]}\n")
    tagger = spacy.blank("en")
    tagger.add_pipe("policy_topics", config={"taxonomy": str(path)})
    tagged = tagger("Tariffs fell.")
    data, expected = tagged.to_bytes(), tagged._.policy_topics
    del tagger, tagged
    gc.collect()
    # As in another run: no builder of this process is known.
    monkeypatch.setattr(matching, "_RECENT", OrderedDict())
    monkeypatch.setattr(matching, "_BUILDERS", {})
    doc = Doc(spacy.blank("en").vocab).from_bytes(data)
    with pytest.raises(LookupError, match="read-back"):
        _ = doc._.policy_topics
    other = spacy.blank("en")
    other.add_pipe("policy_topics", config={"taxonomy": str(path)})
    assert doc._.policy_topics == expected


def test_min_score_out_of_range_is_refused() -> None:
    nlp = spacy.blank("en")
    with pytest.raises(ValueError, match="min_score must be between 0 and 1"):
        nlp.add_pipe("policy_topics", config={"min_score": 2.0})


@pytest.mark.parametrize(
    ("text", "sentences"),
    [
        ("We cut tariffs.\n- Free trade grew.", ["We cut tariffs.\n", "- Free trade grew."]),
        ("1. Tariffs rose.", ["1. Tariffs rose."]),
        (
            "Intro.\n\n  • Solar power.\n• Wind farms.",
            ["Intro.\n\n  ", "• Solar power.\n", "• Wind farms."],
        ),
    ],
)
def test_a_bullet_marker_opens_its_sentence_in_doc_sents(
    nlp: Language, text: str, sentences: list[str]
) -> None:
    assert [s.text for s in nlp(text).sents] == sentences


BULLETS = "We cut tariffs.\n- Free trade grew.\n\n1. Solar power plants.\n2. Oil prices rose."


def test_a_second_component_reads_the_first_ones_sentences_as_the_extractor_would() -> None:
    nlp = spacy.blank("en")
    nlp.add_pipe("policy_topics", name="default", config={"spans_key": "default"})
    nlp.add_pipe(
        "policy_topics",
        name="extended",
        config={"spans_key": "extended", "taxonomy": "cooperation-extended"},
    )
    doc = nlp(BULLETS)
    default = Extractor().extract(BULLETS)
    extended = Extractor("cooperation-extended").extract(BULLETS)
    # Each component's result, and the last one's as doc._.policy_topics.
    assert nlp.get_pipe("default").result_of(doc) == default
    assert nlp.get_pipe("extended").result_of(doc) == extended
    assert doc._.policy_topics == extended
    assert [q.text for a in default.areas for q in a.quotes if q.text.startswith("-")] == []
    # An Extractor on a pipeline that already holds the component gives the same.
    assert Extractor(model=nlp).extract(BULLETS) == default


def test_results_of_two_components_survive_serialisation() -> None:
    from spacy.tokens import Doc

    nlp = spacy.blank("en")
    first = nlp.add_pipe("policy_topics", name="first", config={"spans_key": "first"})
    second = nlp.add_pipe(
        "policy_topics", name="second", config={"spans_key": "second", "max_quotes": 1}
    )
    doc = nlp(BULLETS)
    restored = Doc(nlp.vocab).from_bytes(doc.to_bytes())
    assert first.result_of(restored) == first.result_of(doc) == Extractor().extract(BULLETS)
    assert second.result_of(restored) == Extractor(max_quotes=1).extract(BULLETS)
    assert restored._.policy_topics == second.result_of(doc)
    assert first.result_of(nlp.make_doc(BULLETS)) is None


def test_a_tokenizer_special_case_holding_a_space_turns_the_fast_path_off() -> None:
    nlp = spacy.blank("en")
    nlp.tokenizer.add_special_case("free trade", [{"ORTH": "free trade"}])
    text = "We support free trade. Tariffs fell."
    fast = Extractor(model=nlp)
    assert not fast.fast
    plain = Extractor(model=nlp, fast=False).extract(text)
    assert fast.extract(text) == plain
    assert [m.text for s in plain.sentences for m in s.matches] == ["free trade", "Tariffs"]
    tagger = spacy.blank("en")
    tagger.tokenizer.add_special_case("free trade", [{"ORTH": "free trade"}])
    tagger.add_pipe("policy_topics")
    assert tagger(text)._.policy_topics == plain


@pytest.mark.parametrize(
    ("words", "spaces"),
    [
        (["We", "cut", "tariffs", "."], [True, True, False, False]),
        (["We cut", "tariffs", "."], [True, False, False]),  # a word holding a space
        (["We", "cut", "tariffs."], [True, True, False]),  # tokens the tokenizer would split
    ],
)
def test_a_doc_built_from_words_is_matched_on_its_own_tokens(
    nlp: Language, words: list[str], spaces: list[bool]
) -> None:
    from spacy.tokens import Doc

    component = nlp.get_pipe("policy_topics")
    doc = component(Doc(nlp.vocab, words=words, spaces=spaces))
    result = doc._.policy_topics
    matches = [(m.text, m.start, m.end) for s in result.sentences for m in s.matches]
    spans = [(s.text, s.start_char, s.end_char) for s in doc.spans["policy_topics"]]
    assert spans == matches  # the spans written are the matches reported
    assert matches == ([("tariffs", 7, 14)] if "tariffs" in words else [])
    with_sentences = Doc(
        nlp.vocab, words=words, spaces=spaces, sent_starts=[True] + [False] * (len(words) - 1)
    )
    assert component(with_sentences)._.policy_topics == result


@pytest.mark.parametrize(
    "words",
    [
        ["Trade", "grew.\nEnergy", "tariffs", "rose", "sharply"],  # a token across a start
        ["Trade grew.\nEnergy", "tariffs"],  # the same, and the sentence's first word
    ],
)
def test_a_token_running_across_a_sentence_start_leaves_later_offsets_right(
    nlp: Language, words: list[str]
) -> None:
    # As a tokenizer that splits on spaces only makes them: the sentence starting
    # at "Energy" was matched from the start of its first token, and its hits
    # were shifted by the characters of that token before "Energy".
    from spacy.tokens import Doc

    doc = Doc(nlp.vocab, words=words, spaces=[True] * (len(words) - 1) + [False])
    doc = nlp.get_pipe("policy_topics")(doc)
    text = doc.text
    matches = [m for s in doc._.policy_topics.sentences for m in s.matches]
    assert [(m.term, m.text) for m in matches][-1] == ("tariff", "tariffs")
    assert all(text[m.start : m.end] == m.text for m in matches)
    assert [s.text for s in doc.spans["policy_topics"]] == [m.text for m in matches]


def test_part_of_a_tagged_doc_copied_with_its_user_data_has_no_result(nlp: Language) -> None:
    # Its result was built from the whole Doc's hits on the part's text: quotes
    # with offsets past its end, under the wrong topic.
    doc = nlp("We cut tariffs on steel. Solar energy grows.")
    part = doc[6:].as_doc(copy_user_data=True)
    assert part.text == "Solar energy grows."
    assert part._.policy_topics is None
    assert nlp(part.text)._.policy_topics is not None  # tagged itself, it has one


def test_hits_kept_by_an_earlier_version_still_give_the_result(nlp: Language) -> None:
    from spacy.tokens import Doc

    from policy_topics import matching

    doc = nlp(TEXT)
    restored = Doc(nlp.vocab).from_bytes(doc.to_bytes())
    # Earlier versions kept one component's [builder key, spans, hits] as a list.
    restored.user_data[matching._DATA_KEY] = restored.user_data[matching._DATA_KEY][
        "policy_topics"
    ][:3]
    assert restored._.policy_topics == doc._.policy_topics
    assert nlp.get_pipe("policy_topics").result_of(restored) == doc._.policy_topics


POS_TAXONOMY = (
    "name: t\ntopics: {x: {label: X, terms: [tariff, "
    "{pattern: [{LOWER: big}, {POS: NOUN}], label: big noun}]}}"
)


def test_a_pattern_needing_part_of_speech_matches_nothing_on_a_blank_pipeline() -> None:
    from spacy.tokens import Doc

    from policy_topics import Taxonomy

    taxonomy = Taxonomy.from_yaml(POS_TAXONOMY)
    text = "We cut a big tariff."

    def terms(result: DocumentResult) -> list[tuple[str, str]]:
        return [(m.term, m.text) for s in result.sentences for m in s.matches]

    # spaCy's Matcher refuses a Doc without POS (E155); such a pattern is skipped.
    for fast in (True, False):
        assert terms(Extractor(taxonomy, fast=fast).extract(text)) == [("tariff", "tariff")]
    for pipes in ([], ["sentencizer"]):
        nlp = spacy.blank("en")
        for pipe in pipes:
            nlp.add_pipe(pipe)
        component = nlp.add_pipe("policy_topics")
        component._set_taxonomy(taxonomy)
        assert terms(nlp(text)._.policy_topics) == [("tariff", "tariff")]
    # On a Doc that has part-of-speech tags, it matches, with or without sentences.
    words = ["We", "cut", "a", "big", "tariff", "."]
    tags = ["PRON", "VERB", "DET", "ADJ", "NOUN", "PUNCT"]
    for starts in (None, [True] + [False] * 5):
        doc = Doc(nlp.vocab, words=words, spaces=[True] * 4 + [False, False], pos=tags)
        if starts is not None:
            doc = Doc(
                nlp.vocab,
                words=words,
                spaces=[True] * 4 + [False, False],
                pos=tags,
                sent_starts=starts,
            )
        assert terms(component(doc)._.policy_topics) == [("big noun", "big tariff")]
