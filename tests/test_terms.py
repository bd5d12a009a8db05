"""Each matching feature of the term syntax, through the public Extractor."""

from __future__ import annotations

import unicodedata
from pathlib import Path

import pytest
import spacy

from policy_topics import Extractor, Taxonomy
from policy_topics.matching import PolicyTopics
from policy_topics.terms import inflection_key, inflection_keys

TAXONOMY = """\
name: features
version: "1"
cues: [cooperation, memorandum of understanding]
topics:
  trade:
    label: Trade
    terms:
      - tariff
      - free trade agreement
      - WTO
      - trade
    exclude: [trade union, trade-off]
    subtopics:
      remedies:
        label: Remedies
        terms: [anti-dumping]
        exclude: [anti-dumping rhetoric]
  energy:
    label: Energy
    terms:
      - EV
      - {term: power, near: [plant, grid, generation], window: 3}
      - {term: battery, near: [electric]}
    exclude: [political energy]
    subtopics:
      general:
        label: General
        terms: [energy]
  manufacturing:
    label: Manufacturing
    terms: [manufactur*, 5G]
  finance:
    label: Finance
    terms:
      - invest
      - local-currency settlement
      - pattern: [{LOWER: green}, {LOWER: {IN: [bond, bonds]}}]
        label: green bonds
"""


@pytest.fixture(scope="module")
def extractor() -> Extractor:
    return Extractor(Taxonomy.from_yaml(TAXONOMY), max_quotes=None)


def matched(extractor: Extractor, text: str, topic: str | None = None) -> list[str]:
    result = extractor.extract(text)
    found = [m for s in result.sentences for m in s.matches if topic is None or m.topic == topic]
    for m in found:
        assert text[m.start : m.end] == m.text
    return [m.text for m in found]


def test_case_insensitive_phrase(extractor: Extractor) -> None:
    assert matched(extractor, "Both signed a Free Trade Agreement.", "trade") == [
        "Free Trade Agreement"
    ]


def test_capitalised_term_is_case_sensitive(extractor: Extractor) -> None:
    assert matched(extractor, "They joined the WTO and bought EVs.") == ["WTO", "EVs"]
    assert matched(extractor, "the wto and evs") == []


CAPITALS = """\
name: capitals
language: de
topics:
  climate:
    label: Klima
    terms: [erneuerbare Energien, klimaschutz, investment in Africa, klima*, EV, IT, May]
    exclude: [klimaanlage]
  aid:
    label: Aid
    terms: [aid, {term: cap, case_sensitive: true}]
    exclude: [AIDS]
"""


@pytest.mark.parametrize("fast", [True, False])
@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # The words written without capitals match in any case, as at a sentence start.
        ("Erneuerbare Energien sind billig.", ["Erneuerbare Energien"]),
        ("Investments in Africa grew.", ["Investments in Africa"]),
        ("KLIMASCHUTZ und Klimaschutz.", ["KLIMASCHUTZ", "Klimaschutz"]),
        # A word written with capitals matches as written, with a plural in -s.
        ("Zwei EVs.", ["EVs"]),
        # ... and not in other capitalisations: headings in capitals are no acronyms.
        ("ERNEUERBARE ENERGIEN, investment in africa, ev.", []),
        ("THE EU AND ITS MEMBER STATES MAY ACT.", []),
        # Forced case keeps a lower-case word apart from the acronym.
        ("The CAP and the cap.", ["cap"]),
        # An exclusion follows the capitals rule too.
        ("Eine Klimaanlage, eine KLIMAANLAGE, eine klimaanlage.", []),
        ("AIDS relief and aid.", ["aid"]),
        ("Das Klimaziel.", ["Klimaziel"]),
    ],
)
def test_the_capitals_rule_is_word_by_word(fast: bool, text: str, expected: list[str]) -> None:
    extractor = Extractor(Taxonomy.from_yaml(CAPITALS), max_quotes=None, fast=fast)
    assert matched(extractor, text) == expected


#: The ways a text is matched: the Extractor's fast and plain paths, and the
#: component on a Doc without sentences (matched from its tokens) and with them
#: (a sentencizer first: matched from its text, behind the text prefilter).
PATHS = ["fast", "plain", "component", "sentencizer"]


def found_on(path: str, taxonomy: str, language: str, text: str, tmp_path: Path) -> list[str]:
    """The matched texts of ``text`` on one of :data:`PATHS`, their offsets checked."""
    if path in ("component", "sentencizer"):
        (tmp_path / "taxonomy.yaml").write_text(taxonomy, encoding="utf-8")
        nlp = spacy.blank(language)
        if path == "sentencizer":
            nlp.add_pipe("sentencizer")
        nlp.add_pipe("policy_topics", config={"taxonomy": str(tmp_path / "taxonomy.yaml")})
        doc = nlp(text)
        spans = doc.spans["policy_topics"]
        found = [span.text for span in spans]
        assert [text[span.start_char : span.end_char] for span in spans] == found
        assert [m.text for s in doc._.policy_topics.sentences for m in s.matches] == found
        return found
    extractor = Extractor(Taxonomy.from_yaml(taxonomy), max_quotes=None, fast=path == "fast")
    return matched(extractor, text)  # checks text[start:end] too


FOLDED = """
name: folded
language: de
topics:
  trade:
    label: Trade
    terms: [außenhandel, "maßnahme*", ihracat, massengut]
"""


@pytest.mark.parametrize("path", PATHS)
@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # German writes ß as SS in capitals (and Swiss German as ss everywhere): the
        # lower-case term matches in every case, as the README promises.
        ("Der Außenhandel und die Maßnahmen.", ["Außenhandel", "Maßnahmen"]),
        ("AUSSENHANDEL UND MASSNAHMEN.", ["AUSSENHANDEL", "MASSNAHMEN"]),
        ("Der Aussenhandel wächst.", ["Aussenhandel"]),
        ("AUẞENHANDEL.", ["AUẞENHANDEL"]),
        # A term written with ss finds ß too: one spelling stands for both.
        ("Das Maßengut, das MASSENGUT.", ["Maßengut", "MASSENGUT"]),
        # Python lower-cases the Turkish İ to i and a combining dot.
        ("İhracat arttı. İHRACAT.", ["İhracat", "İHRACAT"]),
    ],
)
def test_sharp_s_and_dotted_capital_i_match_in_every_case(
    tmp_path: Path, path: str, text: str, expected: list[str]
) -> None:
    assert found_on(path, FOLDED, "de", text, tmp_path) == expected


COMPATIBLE = """
name: compatible
topics:
  trade:
    label: Trade
    terms: [tariff, "financ*", financial cooperation, coopération, "eﬃciency gains"]
"""


@pytest.mark.parametrize("path", PATHS)
@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # Typeset PDFs give their ligatures as one character.
        ("We expand ﬁnancial cooperation.", ["ﬁnancial cooperation"]),
        ("Tariﬀs fell; ﬁnancing rose.", ["Tariﬀs", "ﬁnancing"]),
        # Full-width Latin letters, as Chinese and Japanese text writes them.
        ("Cut ｔａｒｉｆｆｓ now.", ["ｔａｒｉｆｆｓ"]),
        # An accent written as a combining mark (decomposed, NFD).
        ("La coope\u0301ration avance.", ["coope\u0301ration"]),
        # A term written with a ligature finds the plain letters, and the ligature.
        ("Efficiency gains grew, eﬃciency gains too.", ["Efficiency gains", "eﬃciency gains"]),
        # Without such characters nothing changes.
        ("We expand financial cooperation.", ["financial cooperation"]),
    ],
)
def test_compatibility_forms_match_as_their_plain_letters(
    tmp_path: Path, path: str, text: str, expected: list[str]
) -> None:
    # "ﬁnancial" did not find "financial": the ligature is one character.
    assert found_on(path, COMPATIBLE, "en", text, tmp_path) == expected


GREEK = """
name: greek
language: el
topics:
  energy:
    label: Energy
    terms: [ενέργεια, "ηλεκτρ*", φυσικό αέριο, coopération]
"""


@pytest.mark.parametrize("path", PATHS)
@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Η ενέργεια και το φυσικό αέριο.", ["ενέργεια", "φυσικό αέριο"]),
        # Greek capitals are written without accents.
        ("Η ΕΝΕΡΓΕΙΑ ΚΑΙ ΤΟ ΦΥΣΙΚΟ ΑΕΡΙΟ.", ["ΕΝΕΡΓΕΙΑ", "ΦΥΣΙΚΟ ΑΕΡΙΟ"]),
        (
            "Ηλεκτρική ενέργεια, ΗΛΕΚΤΡΙΚΗ ΕΝΕΡΓΕΙΑ.",
            ["Ηλεκτρική", "ενέργεια", "ΗΛΕΚΤΡΙΚΗ", "ΕΝΕΡΓΕΙΑ"],
        ),
        # ... and so are some lower-case texts, and polytonic ones carry more marks.
        ("Η ενεργεια, ἐνέργεια.", ["ενεργεια", "ἐνέργεια"]),
        # Only Greek letters lose their accents, in a sentence holding both too.
        ("Η coopération προχωρά.", ["coopération"]),
        ("Η cooperation προχωρά.", []),
    ],
)
def test_greek_matches_with_or_without_accents(
    tmp_path: Path, path: str, text: str, expected: list[str]
) -> None:
    # "ενέργεια" did not find "ΕΝΕΡΓΕΙΑ": capitals drop the tonos.
    assert found_on(path, GREEK, "el", text, tmp_path) == expected


HYPHENS = {
    "de": ("CO2-Emissionen, Süd-Süd-Kooperation", "Die {} sinken."),
    "fr": ("coopération sud-sud, zéro-émission", "La {} progresse."),
}


@pytest.mark.parametrize("language", ["de", "fr"])
def test_hyphen_variants_where_the_tokenizer_keeps_compounds_whole(
    language: str, tmp_path: Path
) -> None:
    # spaCy's German and French tokenizers keep "CO2-Emissionen" and "sud-sud"
    # in one token, so only the term's own spelling matched.
    terms, frame = HYPHENS[language]
    taxonomy = Taxonomy.from_yaml(
        f"name: t\nlanguage: {language}\ntopics:\n  k: {{label: K, terms: [{terms}]}}\n"
    )
    path = tmp_path / "t.yaml"
    path.write_text(taxonomy.to_yaml(), encoding="utf-8")
    nlp = spacy.blank(language)
    nlp.add_pipe("policy_topics", config={"taxonomy": str(path)})
    for term in terms.split(", "):
        for join in ("-", " ", "\u2013", "\u2014", "\u2010", "-\n"):
            spelled = term.replace("-", join)
            if language == "fr":
                spelled = spelled.replace("sud", "Sud", 1) if join == "\u2013" else spelled
            text = frame.format(spelled)
            for fast in (True, False):
                assert matched(Extractor(taxonomy, fast=fast), text) == [spelled], (fast, text)
            doc = nlp(text)
            assert [span.text for span in doc.spans["policy_topics"]] == [spelled]
    # The spaced spelling's last word may keep a sentence's full stop where the
    # hyphenated one does not: German "Hartz IV." is two tokens, "IV." one.
    hartz = Taxonomy.from_yaml(
        "name: t\nlanguage: de\ntopics:\n  k: {label: K, terms: [Hartz-IV]}\n"
    )
    for fast in (True, False):
        found = matched(Extractor(hartz, fast=fast), "Wir reformieren Hartz IV.")
        assert found == ["Hartz IV."]
    # A compound broken at its last hyphen only.
    compound = Taxonomy.from_yaml(
        "name: t\nlanguage: de\ntopics:\n  k: {label: K, terms: [Süd-Süd-Kooperation]}\n"
    )
    for fast in (True, False):
        text = "Die Süd-Süd-\nKooperation wächst."
        assert matched(Extractor(compound, fast=fast), text) == ["Süd-Süd-\nKooperation"]


def test_a_capitalised_compound_broken_at_its_hyphen_matches() -> None:
    # A title-case line ending "South-" went on the next line; the line looked
    # like a heading and ended the sentence, and "South-" was no "South".
    taxonomy = Taxonomy.from_yaml(
        "name: t\ntopics:\n  k: {label: K, terms: [south-south cooperation, Cross-Border Trade]}\n"
    )
    for fast in (True, False):
        extractor = Extractor(taxonomy, fast=fast)
        text = "We want South-\nSouth cooperation and Cross-\nBorder Trade."
        assert matched(extractor, text) == ["South-\nSouth cooperation", "Cross-\nBorder Trade"]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("New tariffs were imposed.", ["tariffs"]),
        ("Firms invested and kept investing; investments grew.", ["invested", "investing"]),
        ("They invest.", ["invest"]),
    ],
)
def test_inflections(extractor: Extractor, text: str, expected: list[str]) -> None:
    assert matched(extractor, text, "trade" if "tariff" in text else "finance") == expected


@pytest.mark.parametrize(
    ("singular", "plural"),
    [
        ("movie", "movies"),
        ("cookie", "cookies"),
        ("énergie", "énergies"),
        ("stratégie", "stratégies"),
        ("voie", "voies"),
    ],
)
def test_a_word_in_ie_has_the_key_of_its_plural(singular: str, plural: str) -> None:
    # "-ies" became "-y" but "-ie" lost its "e": "movie" and "movies" (and French
    # "énergie" and "énergies") had different keys and never matched each other.
    assert inflection_keys(singular) == inflection_keys(plural)
    taxonomy = Taxonomy.from_yaml(f"name: t\ntopics:\n  k: {{label: K, terms: [{singular}]}}\n")
    assert matched(Extractor(taxonomy), f"Two {plural} and one {singular}.") == [plural, singular]


def test_inflection_key_keeps_derivations_apart() -> None:
    assert inflection_key("general") != inflection_key("generation")
    assert inflection_key("economies") == inflection_key("economy")
    assert inflection_key("planned") == inflection_key("plan")
    assert inflection_key("taxes") == inflection_key("tax")


@pytest.mark.parametrize(
    ("term", "forms"),
    [
        ("agree", ["agreed", "agrees", "agreeing"]),
        ("guarantee", ["guaranteed", "guarantees"]),
        ("proceed", ["proceeds", "proceeding", "proceeded"]),
        ("control", ["controlled", "controlling", "controls"]),
        ("fuel", ["fuelled", "fuelling", "fueled"]),
        ("label", ["labelled", "labelling", "labels"]),
        ("install", ["installed", "installs"]),
        ("fuelled", ["fuel", "fuels"]),  # a term written inflected matches its other forms too
    ],
)
def test_inflections_after_ee_and_of_a_doubled_l(term: str, forms: list[str]) -> None:
    extractor = Extractor(
        Taxonomy.from_yaml(f"name: t\ntopics:\n  x: {{label: X, terms: [{term}]}}")
    )
    for form in forms:
        text = f"They {form} it."
        found = [m for s in extractor.extract(text).sentences for m in s.matches]
        assert [(m.term, m.text) for m in found] == [(term, form)], text
        assert all(text[m.start : m.end] == m.text for m in found)


def test_a_doubled_l_without_a_suffix_is_kept() -> None:
    # "shall" is not "shale" (which loses its final e): only an inflected word
    # gets the second key.
    assert inflection_keys("shall") == ("shall",)
    assert inflection_key("shale") not in inflection_keys("shall")
    assert inflection_keys("fuelled") == ("fuell", "fuel")
    extractor = Extractor(Taxonomy.from_yaml("name: t\ntopics:\n  x: {label: X, terms: [shale]}"))
    assert not extractor.extract("We shall see.").areas


@pytest.mark.parametrize(
    ("text", "word"),
    [
        ("Both sides will cooperate on 5G.", "5G."),
        ("They signed an MoU.", "MoU."),
        ("We build 5G.\nThen more.", "5G."),
        ("We build 5G networks.", "5G"),
    ],
)
def test_a_term_whose_last_token_keeps_the_full_stop(text: str, word: str, tmp_path: Path) -> None:
    # spaCy tokenises "5G" as "5" + "G" but keeps "5G." whole at a sentence's end.
    path = tmp_path / "t.yaml"
    path.write_text("name: t\ntopics:\n  x: {label: X, terms: [5G, MoU]}\n", encoding="utf-8")
    taxonomy = Taxonomy.from_yaml(path.read_text(encoding="utf-8"))
    nlp = spacy.blank("en")
    nlp.add_pipe("policy_topics", config={"taxonomy": str(path)})
    results = [
        Extractor(taxonomy, fast=True).extract(text),
        Extractor(taxonomy, fast=False).extract(text),
        nlp(text)._.policy_topics,
    ]
    for result in results:
        matches = [m for s in result.sentences for m in s.matches]
        assert [m.text for m in matches] == [word]
        assert all(text[m.start : m.end] == m.text for m in matches)
    assert results[0] == results[1]


def test_prefix_wildcard(extractor: Extractor) -> None:
    text = "Manufacturers raised manufacturing output of manufactured goods."
    assert matched(extractor, text, "manufacturing") == [
        "Manufacturers",
        "manufacturing",
        "manufactured",
    ]


def test_phrase_tolerates_hyphen_dash_space_and_line_break(extractor: Extractor) -> None:
    for text in (
        "We back local currency\nsettlements.",
        "We back local-currency settlement.",
        "We back local–currency settlement.",
        "We back local \u2014 currency settlement.",
    ):
        found = matched(extractor, text, "finance")
        assert len(found) == 1, text
        assert found[0].startswith("local") and found[0].lower().startswith("local")


@pytest.mark.parametrize("hyphen", ["\u2010", "\u2011"])
def test_word_processor_hyphens_match_hyphenated_terms(extractor: Extractor, hyphen: str) -> None:
    """spaCy keeps a word joined by U+2010 or U+2011 as one token; terms are compiled for it."""
    text = f"We back local{hyphen}currency settlement and Anti{hyphen}dumping duties."
    assert matched(extractor, text) == [f"local{hyphen}currency settlement", f"Anti{hyphen}dumping"]
    plain = Extractor(Taxonomy.from_yaml(TAXONOMY), max_quotes=None, fast=False)
    nlp = spacy.blank("en")
    component = PolicyTopics(nlp, taxonomy=extractor.taxonomy, max_quotes=0)
    assert extractor.extract(text) == plain.extract(text)
    tagged = component(nlp.make_doc(text))._.policy_topics
    assert tagged.sentences == extractor.extract(text).sentences
    # The exclusion is compiled the same way, so it still vetoes.
    assert matched(extractor, f"No anti{hyphen}dumping rhetoric.", "trade") == []


@pytest.mark.parametrize("hyphen", ["\u2010", "\u2011"])
def test_word_processor_hyphens_join_the_words_of_spaced_terms(hyphen: str) -> None:
    """'free-trade' is the spaced term "free trade" in English; so is it with U+2010 or U+2011.

    spaCy splits '-' off but keeps U+2010 and U+2011 inside the token, so
    "free\u2010trade" held no word "trade" and nothing matched.
    """
    taxonomy = Taxonomy.from_yaml(
        "name: t\ntopics:\n  k:\n    label: K\n"
        "    terms: [free trade agreement, supply chain, EU market, renewable energy]\n"
        "    exclude: [supply chain rhetoric]\n"
    )
    nlp = spacy.blank("en")
    component = PolicyTopics(nlp, taxonomy=taxonomy, max_quotes=0)
    cases = {
        f"We sign a free{hyphen}trade agreement.": [f"free{hyphen}trade agreement"],
        f"We sign a free trade{hyphen}agreement.": [f"free trade{hyphen}agreement"],
        f"We sign free{hyphen}trade{hyphen}agreements.": [f"free{hyphen}trade{hyphen}agreements"],
        f"Supply{hyphen}chains matter in the EU{hyphen}market.": [
            f"Supply{hyphen}chains",
            f"EU{hyphen}market",
        ],
        f"We fund renewable{hyphen}energy projects.": [f"renewable{hyphen}energy"],
        # "EU" is matched as written, the word beside it in any case, as with '-'.
        f"The EU{hyphen}Market and EU{hyphen}MARKETS grow.": [
            f"EU{hyphen}Market",
            f"EU{hyphen}MARKETS",
        ],
        f"The eu{hyphen}market grows.": [],
        # A joined word is not the term's words: "free-tradeable" is no "free trade".
        f"It is free{hyphen}tradeable and chainless.": [],
    }
    for text, expected in cases.items():
        for fast in (True, False):
            assert matched(Extractor(taxonomy, fast=fast), text) == expected, (fast, text)
        doc = component(nlp.make_doc(text))
        assert [span.text for span in doc.spans["policy_topics"]] == expected, text
    # The exclusion is compiled the same way, so it still vetoes.
    assert matched(Extractor(taxonomy), f"No supply{hyphen}chain rhetoric.") == []
    # spaCy's German tokenizer keeps "erneuerbare-Energien" in one token, which the
    # spaced term does not match: nor does it with U+2010 or U+2011.
    german = Taxonomy.from_yaml(
        "name: t\nlanguage: de\ntopics:\n  k: {label: K, terms: [erneuerbare Energien]}\n"
    )
    for join in (" ", "-", hyphen):
        found = matched(Extractor(german), f"Wir fördern erneuerbare{join}Energien.")
        assert found == ([f"erneuerbare{join}Energien"] if join == " " else []), join


@pytest.mark.parametrize("typed", ["\u2010", "\u2011"])
def test_term_typed_with_word_processor_hyphen_finds_every_hyphen(typed: str) -> None:
    """A term copied from a PDF holds U+2010 or U+2011; it finds '-' as a typed term does."""
    taxonomy = Taxonomy.from_yaml(
        f"name: t\ntopics:\n  k:\n    label: K\n    terms: ['anti{typed}microbial resistance']\n"
        f"    exclude: ['anti{typed}microbial resistance rhetoric']\n"
    )
    nlp = spacy.blank("en")
    component = PolicyTopics(nlp, taxonomy=taxonomy, max_quotes=0)
    for join in ("-", " ", "\u2010", "\u2011", "\u2013", "-\n"):
        text = f"We fight Anti{join}microbial resistance."
        for fast in (True, False):
            assert matched(Extractor(taxonomy, fast=fast), text) == [text[9:-1]], (fast, join)
        doc = component(nlp.make_doc(text))
        assert [span.text for span in doc.spans["policy_topics"]] == [text[9:-1]], join
        vetoed = f"No anti{join}microbial resistance rhetoric."
        assert matched(Extractor(taxonomy), vetoed) == [], join


@pytest.mark.parametrize(
    ("term", "text", "found"),
    [
        ("People's Bank", "The People\u2019s Bank cut rates.", "People\u2019s Bank"),
        ("People\u2019s Bank", "The People's Bank cut rates.", "People's Bank"),
        ("states' rights", "It limits member states\u2019 rights.", "states\u2019 rights"),
        ("Côte d'Ivoire", "Exports to Côte d\u2019Ivoire rose.", "Côte d\u2019Ivoire"),
    ],
)
def test_typographic_apostrophe_matches_a_straight_one(term: str, text: str, found: str) -> None:
    """Published text writes ’ (U+2019) where a term is typed with ' (and the reverse)."""
    taxonomy = Taxonomy.from_yaml(
        f"name: t\ntopics:\n  k:\n    label: K\n    terms: [{term!r}, plan]\n"
        '    exclude: ["people\'s plan"]\n'
    )
    for fast in (True, False):
        assert matched(Extractor(taxonomy, fast=fast), text) == [found], fast
    nlp = spacy.blank("en")
    component = PolicyTopics(nlp, taxonomy=taxonomy, max_quotes=0)
    tagged = component(nlp.make_doc(text))._.policy_topics
    assert tagged.sentences == Extractor(taxonomy).extract(text).sentences
    # An exclusion is compiled the same way, so it vetoes either spelling.
    assert matched(Extractor(taxonomy), "The people\u2019s plan.") == []


@pytest.mark.parametrize(
    ("term", "text", "found"),
    [
        ("goods", "Goods and critical goods move.", ["Goods", "goods"]),
        ("goods", "Dumping waste is never good.", []),
        ("good", "Goods move; a good plan.", ["good"]),
        ("customs", "Customs rules; an old custom.", ["Customs"]),
        ("security", "Energy security and securities markets.", ["security"]),
        ("securities", "Energy security and securities markets.", ["securities"]),
        ("news", "The news is new.", ["news"]),
    ],
)
def test_plurals_with_a_meaning_of_their_own_are_not_inflections(
    term: str, text: str, found: list[str]
) -> None:
    # 'goods' found 'good' ("Dumping toxic waste is never good" was trade, by a
    # context rule near 'goods'), 'securities' found 'security'.
    taxonomy = Taxonomy.from_yaml(f"name: t\ntopics:\n  k:\n    label: K\n    terms: [{term}]\n")
    for fast in (True, False):
        assert matched(Extractor(taxonomy, fast=fast), text) == found, fast
    nlp = spacy.blank("en")
    component = PolicyTopics(nlp, taxonomy=taxonomy, max_quotes=0)
    tagged = component(nlp.make_doc(text))._.policy_topics
    assert tagged.sentences == Extractor(taxonomy).extract(text).sentences


def test_a_terms_label_names_its_matches() -> None:
    # A label on a plain term was accepted and silently ignored; only token
    # patterns showed theirs.
    taxonomy = Taxonomy.from_yaml(
        "name: t\ntopics:\n  trade:\n    label: Trade\n    terms:\n"
        "      - {term: duty, label: duties}\n      - {term: levy, label: duties}\n"
        "      - tariff\n"
    )
    text = "The duty rose. A levy fell. Tariffs too."
    for fast in (True, False):
        (area,) = Extractor(taxonomy, fast=fast).extract(text).areas
        assert [m.term for q in area.quotes for m in q.matches] == ["duties", "duties", "tariff"]
        assert area.terms == ["duties", "tariff"] and area.breakdown.distinct_terms == 2
    nlp = spacy.blank("en")
    component = PolicyTopics(nlp, taxonomy=taxonomy, max_quotes=0)
    tagged = component(nlp.make_doc(text))._.policy_topics
    assert tagged.sentences == Extractor(taxonomy).extract(text).sentences


@pytest.mark.parametrize("gap", ["-\n", "- ", "\u2010\n"])
def test_compound_broken_after_its_hyphen_matches(extractor: Extractor, gap: str) -> None:
    """spaCy keeps "local-" whole before a line break; it stands for "local"."""
    text = f"We back local{gap}currency settlement and anti{gap}dumping duties."
    assert matched(extractor, text) == [
        f"local{gap}currency settlement",
        f"anti{gap}dumping",
    ]
    plain = Extractor(Taxonomy.from_yaml(TAXONOMY), max_quotes=None, fast=False)
    nlp = spacy.blank("en")
    component = PolicyTopics(nlp, taxonomy=extractor.taxonomy, max_quotes=0)
    assert extractor.extract(text) == plain.extract(text)
    assert component(nlp.make_doc(text))._.policy_topics.sentences == (
        extractor.extract(text).sentences
    )


def test_inflection_key_of_a_word_before_a_broken_hyphen() -> None:
    assert inflection_key("tariffs-") == inflection_key("tariff")
    assert inflection_key("-") == "-" and inflection_key("--") == "--"


def test_term_tokenised_like_the_text(extractor: Extractor) -> None:
    assert matched(extractor, "Rollout of 5G networks.", "manufacturing") == ["5G"]


def test_token_pattern(extractor: Extractor) -> None:
    result = extractor.extract("They issued green bonds.")
    (match,) = result.sentences[0].matches
    assert (match.text, match.term, match.topic) == ("green bonds", "green bonds", "finance")


def test_exclusion_vetoes_overlapping_match(extractor: Extractor) -> None:
    assert matched(extractor, "The trade union opposed the trade-off.", "trade") == []
    assert matched(extractor, "The trade unions met.", "trade") == []
    assert matched(extractor, "Trade grew, said the trade union.", "trade") == ["Trade"]


def test_subtopic_exclusion_only_applies_to_its_subtopic(extractor: Extractor) -> None:
    assert matched(extractor, "Anti-dumping rhetoric grew.", "trade") == []
    assert matched(extractor, "Anti-dumping duties rose.", "trade") == ["Anti-dumping"]


def test_topic_exclusion_applies_to_subtopics(extractor: Extractor) -> None:
    assert matched(extractor, "He has political energy.", "energy") == []
    assert matched(extractor, "Energy prices rose.", "energy") == ["Energy"]


def test_context_rule_with_window(extractor: Extractor) -> None:
    assert matched(extractor, "A new power plant opened.", "energy") == ["power"]
    assert matched(extractor, "Power generation rose.", "energy") == ["Power"]
    assert matched(extractor, "Great power rivalry shapes the region.", "energy") == []
    far = "The power of this idea is great, and so is the plant."
    assert matched(extractor, far, "energy") == []


def test_context_rule_within_sentence(extractor: Extractor) -> None:
    assert matched(extractor, "The battery of the electric bus.", "energy") == ["battery"]
    assert matched(extractor, "A battery of tests. The electric bus.", "energy") == []


def test_longest_match_wins_within_a_topic(extractor: Extractor) -> None:
    result = extractor.extract("A free trade agreement was signed.")
    terms = [m.term for s in result.sentences for m in s.matches]
    assert terms == ["free trade agreement"]


def test_match_records_subtopic_and_weight(extractor: Extractor) -> None:
    result = extractor.extract("Energy and anti-dumping.")
    found = {(m.topic, m.subtopic) for s in result.sentences for m in s.matches}
    assert found == {("energy", "general"), ("trade", "remedies")}


def test_cues_are_reported_and_raise_the_score(extractor: Extractor) -> None:
    plain = extractor.extract("Tariffs will fall.")
    cued = extractor.extract("Under the memorandum of understanding, tariffs will fall.")
    assert cued.sentences[0].cues == ["memorandum of understanding"]
    assert cued.areas[0].score > plain.areas[0].score
    assert cued.areas[0].quotes[0].score > plain.areas[0].quotes[0].score


def test_nfd_text_and_terms_match() -> None:
    nfd_term = unicodedata.normalize("NFD", "coopération énergétique")
    taxonomy = Taxonomy.from_yaml(
        f"name: fr\nlanguage: fr\ntopics:\n  energy: {{label: Énergie, terms: ['{nfd_term}']}}\n"
    )
    text = unicodedata.normalize("NFC", "La coopération énergétique progresse.")
    result = Extractor(taxonomy).extract(text)
    assert [m.text for s in result.sentences for m in s.matches] == ["coopération énergétique"]


def test_user_pipeline_lemmas_are_used() -> None:
    import spacy

    nlp = spacy.blank("en")

    @spacy.Language.component("toy_lemmatizer")
    def toy_lemmatizer(doc):  # type: ignore[no-untyped-def]
        for token in doc:
            token.lemma_ = {"mice": "mouse"}.get(token.lower_, token.lower_)
        return doc

    nlp.add_pipe("toy_lemmatizer")
    taxonomy = Taxonomy.from_yaml("name: l\ntopics:\n  digital: {label: D, terms: [mouse]}\n")
    result = Extractor(taxonomy, model=nlp).extract("Computer mice are cheap.")
    assert [m.text for s in result.sentences for m in s.matches] == ["mice"]


# Runs that spaCy's tokenizers split in their own ways: special cases, abbreviations,
# a full stop kept in a word, quotes that match across a space ("''").
_TRICKY_PHRASES = [
    "can't stop",
    "U.S. tariffs",
    "5G.",
    "Hartz-IV.",
    "'em-s ''",
    "a ' 'em-s",
    "'' quoted ''",
    "e.g. trade",
    "CO2-Emissionen",
    "farmers\u2019 markets",
    "anti\u2010dumping duty.",
    "l'Union européenne",
    "1.5°C",
    "(WTO)",
    "---",
]


def _compiled(lexicon: object) -> tuple[object, ...]:
    phrases = sorted(
        (repr(parts), repr(phrase.uses))
        for parts, phrase in lexicon._phrases.items()  # type: ignore[attr-defined]
    )
    return phrases, sorted(map(repr, lexicon._requirements))  # type: ignore[attr-defined]


@pytest.mark.parametrize("lang", ["en", "de", "fr", "es", "it", "nl"])
def test_phrases_are_tokenised_from_their_runs_as_the_tokenizer_does(lang: str) -> None:
    """A phrase put together from the tokens of its runs is what the tokenizer makes of it."""
    from policy_topics.taxonomy import load_taxonomy
    from policy_topics.terms import Lexicon

    nlp = spacy.blank(lang)
    taxonomy = load_taxonomy("cooperation-extended")
    lexicon = Lexicon(taxonomy, nlp.tokenizer, nlp.vocab)
    texts = [*_TRICKY_PHRASES, *(f"{p}." for p in _TRICKY_PHRASES)]
    for _, _, topic in taxonomy.iter_topics():
        for spec in topic.terms:
            texts += [spec.term or "", *spec.near]
        texts += topic.exclude
    texts = [t for t in texts if t.split(" ") == t.split()]
    lexicon._runs = {}
    # All runs in a few calls, each next to others it does not meet in a phrase.
    lexicon._learn_runs(list(dict.fromkeys(run for text in texts for run in text.split())))
    for text in texts:
        assert lexicon._tokens_of(text) == [(t.text, t.idx) for t in nlp.tokenizer(text)], text


@pytest.mark.parametrize("lang", ["en", "de"])
def test_a_taxonomy_compiles_alike_with_its_runs_tokenised_together(
    lang: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from policy_topics.taxonomy import load_taxonomy
    from policy_topics.terms import Lexicon

    taxonomy = load_taxonomy("cooperation-extended")
    nlp = spacy.blank(lang)
    together = _compiled(Lexicon(taxonomy, nlp.tokenizer, nlp.vocab))
    monkeypatch.setattr(Lexicon, "_tokenize_runs", lambda self, taxonomy: None)
    nlp = spacy.blank(lang)
    assert _compiled(Lexicon(taxonomy, nlp.tokenizer, nlp.vocab)) == together
