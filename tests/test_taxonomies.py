"""Every shipped taxonomy validates, round-trips and compiles; the default's context rules hold."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from policy_topics import Extractor, Taxonomy, load_taxonomy
from policy_topics.lint import lint_taxonomy
from policy_topics.taxonomy import packaged_taxonomies

from .conftest import one_term_yaml

SHIPPED = sorted((Path(__file__).resolve().parent.parent / "taxonomies").glob("*.yaml"))
FIVE = ["trade", "energy", "digital", "manufacturing", "finance"]
EXTENDED = [
    "infrastructure",
    "agriculture",
    "climate_environment",
    "science_technology",
    "aerospace",
    "health",
    "education_hr",
    "standards",
    "security",
    "culture_people",
]


def test_the_shipped_taxonomies_are_found() -> None:
    assert [p.stem for p in SHIPPED] == ["cooperation-extended", "default"]
    assert {"default", "cooperation-extended"} <= set(packaged_taxonomies())


@pytest.mark.parametrize("path", SHIPPED, ids=[p.stem for p in SHIPPED])
def test_shipped_taxonomy_validates_and_round_trips(path: Path) -> None:
    taxonomy = load_taxonomy(path)
    assert taxonomy.name == path.stem
    assert load_taxonomy(path.stem) == taxonomy
    assert Taxonomy.from_yaml(taxonomy.to_yaml()) == taxonomy
    for topic_id, subtopic, topic in taxonomy.iter_topics():
        assert topic.label.strip(), (topic_id, subtopic)
        assert topic.terms, f"{topic_id}.{subtopic} has no terms"
        if subtopic is None:
            assert topic.description.strip(), f"{topic_id} has no description"


@pytest.mark.parametrize("path", SHIPPED, ids=[p.stem for p in SHIPPED])
def test_shipped_taxonomy_compiles_and_tags(path: Path) -> None:
    extractor = Extractor(path)
    text = "Both sides agreed to cut tariffs and to build a power plant together."
    result = extractor.extract(text)
    assert {"trade", "energy"} <= {a.topic for a in result.areas}
    for sentence in result.sentences:
        for match in sentence.matches:
            assert text[match.start : match.end] == match.text


@pytest.mark.parametrize("path", SHIPPED, ids=[p.stem for p in SHIPPED])
def test_shipped_taxonomy_has_no_dead_terms(path: Path) -> None:
    """Lint finds only the overlaps the taxonomy means: investment is trade and finance."""
    findings = lint_taxonomy(load_taxonomy(path))
    assert findings, "the intended overlaps should still be reported"
    for finding in findings:
        assert finding.kind == "duplicate", finding
        assert "is also" in finding.message and "investment" in finding.message, finding


def test_extended_reuses_the_five_default_topics_unchanged() -> None:
    default = load_taxonomy("default")
    extended = load_taxonomy("cooperation-extended")
    assert list(default.topics) == FIVE
    assert list(extended.topics) == FIVE + EXTENDED
    for topic_id in FIVE:
        assert extended.topics[topic_id] == default.topics[topic_id], topic_id
    assert extended.cues == default.cues


def test_extended_finds_the_domains_of_the_seed_article(seed_text: str) -> None:
    areas = {a.topic: a for a in Extractor("cooperation-extended").extract(seed_text).areas}
    listed = {
        "infrastructure",
        "agriculture",
        "climate_environment",
        "science_technology",
        "aerospace",
        "education_hr",
        "standards",
    }
    assert set(FIVE) | listed <= set(areas)
    for topic in FIVE:
        assert len({q.text for q in areas[topic].quotes}) >= 2, topic


# General words that mislead, and the context rules and exclusions that handle them.
CASES = [
    ("They put all their energies into the campaign.", "energy", False),
    ("Energy cooperation will deepen.", "energy", True),
    ("No nation may use its nuclear power as a threat.", "energy", False),
    ("The new nuclear power plant will supply the region.", "energy", True),
    ("Real power lies with the voters.", "energy", False),
    ("The power station was connected to the grid.", "energy", True),
    ("The International Atomic Energy Agency inspected the site.", "energy", False),
    ("A hydrogen bomb test was condemned.", "energy", False),
    ("Offshore drilling resumed.", "energy", True),
    ("Offshore drilling resumed.", "trade", False),
    ("Capital flows between the two economies grew.", "finance", True),
    ("The capital city hosted the summit.", "finance", False),
    ("It is in the national interest to act.", "finance", False),
    ("We must invest in our children.", "finance", False),
    ("The budget will repair the public finances.", "finance", False),
    ("Student loans will be easier to repay.", "finance", False),
    ("The development bank will provide concessional loans.", "finance", True),
    ("Health insurance premiums rose.", "finance", False),
    ("Foreign investment in the sector doubled.", "finance", True),
    ("Foreign investment in the sector doubled.", "trade", True),
    ("We will plant trees along the river.", "manufacturing", False),
    ("The new assembly plant will build cars.", "manufacturing", True),
    ("This is a manufactured crisis.", "manufacturing", False),
    ("The trade-off between speed and ambition is real.", "trade", False),
    ("Trade unions will be consulted.", "trade", False),
    ("An emissions trading scheme will start.", "trade", False),
    ("Both sides will expand trade.", "trade", True),
    ("Companies moved jobs overseas.", "trade", True),
    ("Buy British and support our farmers.", "trade", True),
    ("Cheap steel is being dumped on our markets.", "trade", True),
    ("Waste was dumped in the river.", "trade", False),
    ("Computers in every classroom.", "digital", False),
    ("Broadband will reach every village.", "digital", True),
]


@pytest.fixture(scope="module")
def default_extractor() -> Extractor:
    return Extractor()


@pytest.mark.parametrize(("text", "topic", "tagged"), CASES)
def test_default_context_rules(
    default_extractor: Extractor, text: str, topic: str, tagged: bool
) -> None:
    result = default_extractor.extract(text)
    found = [(m.term, m.topic) for s in result.sentences for m in s.matches]
    assert (topic in {t for _, t in found}) is tagged, found


LINT_MORE = """\
name: more
topics:
  trade:
    label: Trade
    terms: [tariff]
  finance:
    label: Finance
    subtopics:
      banking: {label: Banking}
  energy:
    label: Energy
    terms:
      - pattern: [{}]
      - pattern: [{OP: "*"}, {LOWER: grid, OP: "?"}]
      - pattern: [{LOWER: data, OP: "?"}]
      - pattern: [{}, {LOWER: power}]
  other:
    label: Other
    terms: [EU deal, tariffs, Tariffs Act, customs, tariff*]
    exclude: [eu]
  border:
    label: Border
    terms: [customs*]
"""


def test_lint_finds_empty_topics_patterns_that_match_anything_and_wildcard_overlaps() -> None:
    findings = {(f.path, f.kind) for f in lint_taxonomy(Taxonomy.from_yaml(LINT_MORE))}
    assert findings == {
        # No term at or below them: never found.
        ("topics.finance", "never-matches"),
        ("topics.finance.subtopics.banking", "never-matches"),
        # A pattern whose required tokens test nothing matches any token.
        ("topics.energy.terms[0]", "matches-everything"),
        ("topics.energy.terms[1]", "matches-everything"),
        # An exclusion without capitals vetoes 'EU' too.
        ("topics.other.terms[0]", "shadowed"),
        # 'tariffs' is 'tariff' of trade, and tariff* of its own topic wins over it;
        # 'Tariffs Act' has two words, which the one-word wildcard does not cover.
        ("topics.other.terms[1]", "duplicate"),
        # Another topic's wildcard matches these too: both topics count.
        ("topics.other.terms[3]", "duplicate"),
        ("topics.trade.terms[0]", "duplicate"),
    }
    messages = [str(f) for f in lint_taxonomy(Taxonomy.from_yaml(LINT_MORE))]
    assert any("'tariffs' is also matched by the wildcard" in m for m in messages)
    assert any("'customs' is also matched by the wildcard topics.border" in m for m in messages)


@pytest.mark.parametrize(
    ("pattern", "kind", "where"),
    [
        # Each says only what a token is not: every sentence was tagged, and lint was silent.
        ("[{LOWER: trade, OP: '!'}]", "matches-everything", ""),
        ("[{LOWER: {NOT_IN: [trade]}}]", "matches-everything", ""),
        (
            "[{LOWER: {NOT_IN: [a]}, ORTH: {NOT_IN: [b]}}, {LOWER: x, OP: '?'}]",
            "matches-everything",
            "",
        ),
        # Every token is at least one character long: these test nothing.
        ("[{LENGTH: {'>=': 0}}]", "matches-everything", ""),
        ("[{LENGTH: {'>': 0, '!=': -3}}, {LOWER: x, OP: '?'}]", "matches-everything", ""),
        # These match no token at all.
        ("[{LOWER: {IN: []}}]", "never-matches", ".pattern[0]"),
        ("[{LOWER: grid}, {ORTH: ''}]", "never-matches", ".pattern[1]"),
        ("[{LOWER: power}, {OP: '!'}]", "never-matches", ".pattern[1]"),
    ],
)
def test_lint_finds_patterns_that_say_only_what_a_token_is_not_or_match_nothing(
    pattern: str, kind: str, where: str
) -> None:
    text = one_term_yaml(f"{{pattern: {pattern}}}")
    findings = [(f.kind, f.path) for f in lint_taxonomy(Taxonomy.from_yaml(text))]
    assert findings == [(kind, f"topics.e.terms[0]{where}")]


@pytest.mark.parametrize(
    "pattern",
    [
        "[{LOWER: {NOT_IN: [trade]}, OP: '!'}]",
        "[{LOWER: power}, {LOWER: grid, OP: '!'}]",
        "[{LENGTH: {'>=': 2}}]",
        "[{LENGTH: {'>=': 0}, LOWER: grid}]",
    ],
)
def test_lint_leaves_negations_that_still_say_what_a_token_is(pattern: str) -> None:
    text = one_term_yaml(f"{{pattern: {pattern}}}")
    assert [f.kind for f in lint_taxonomy(Taxonomy.from_yaml(text))] == []


def test_lint_finds_a_term_with_capitals_that_a_term_without_them_covers() -> None:
    text = """
name: t
topics:
  t: {label: T, terms: [tariff, Tariff]}
  u: {label: U, terms: [Tariffs, WTO, Tariff Act]}
  w: {label: W, terms: [wto]}
"""
    findings = {(f.path, f.kind) for f in lint_taxonomy(Taxonomy.from_yaml(text))}
    # "Tariffs" and "WTO" are also matched by another topic's term without
    # capitals; "Tariff Act" has two words; in topic t the exact "Tariff" is
    # kept by the matcher (it sorts first), so nothing is lost there.
    assert findings == {("topics.u.terms[0]", "duplicate"), ("topics.u.terms[1]", "duplicate")}
    messages = [str(f) for f in lint_taxonomy(Taxonomy.from_yaml(text))]
    assert any("which matches every capitalisation, in topic 't'" in m for m in messages)


@pytest.mark.parametrize(
    ("phrase", "piece"),
    [
        ("Klima(schutz|wandel)", "|"),
        ("Energie.*", ".*"),
        ("energy.+", ".+"),
        ("Entwicklungs(zusammenarbeit)?", ")?"),
        ("CO2-Emission[en]", "[en]"),
        ("colou?r", "?"),
        ("grids?", "?"),
        (r"\bEU\b", r"\b"),
        ("^EU$", "^"),
        ("(?i)tariff", "(?"),
        ("energ.?", ".?"),
        ("Klima.{0,10}schutz", "{0,10}"),
        ("stakeholder(s)", "(s)"),
        ("[A-Z]+ deal", "[A-Z]"),
        ("[Tt]ariffs", "[Tt]"),
        ("tariff$", "$"),
        (r"trade\s+deal", r"\s"),
        (r"\d+ GW", r"\d"),
        (r"\w+ization", r"\w"),
    ],
)
def test_lint_finds_a_term_written_as_a_regular_expression(phrase: str, piece: str) -> None:
    yaml_text = f"name: t\ntopics: {{t: {{label: T, terms: [tariff, {json.dumps(phrase)}]}}}}"
    findings = lint_taxonomy(Taxonomy.from_yaml(yaml_text))
    assert [(f.path, f.kind) for f in findings] == [("topics.t.terms[1]", "regex")]
    message = findings[0].message
    assert f"({piece!r})" in message and "matched literally" in message
    if phrase in ("grids?", "stakeholder(s)"):  # an inflection: the word alone finds it
        word = phrase.rstrip("?").removesuffix("s").removesuffix("(s)")
        assert message.endswith(
            f"write {word!r} alone, as a term finds its inflections (plural, -ed, -ing) already"
        )
    else:
        assert "each spelling" in message and "'*'" in message and "IN list" in message


def test_lint_finds_regular_expressions_in_exclusions_context_terms_and_cues() -> None:
    yaml_text = """
name: t
cues: [cooperat(e|ion), partnership]
topics:
  t:
    label: T
    terms: [tariff, {term: power, near: ["grids?", plant]}]
    exclude: ["trade unions?"]
"""
    findings = lint_taxonomy(Taxonomy.from_yaml(yaml_text))
    assert {(f.path, f.kind) for f in findings} == {
        ("cues[0]", "regex"),
        ("topics.t.terms[1].near[0]", "regex"),
        ("topics.t.exclude[0]", "regex"),
    }
    fixes = {f.path: f.message.rsplit(": ", 1)[1] for f in findings}
    # Outside terms neither '*' nor token patterns are allowed: only the spellings are.
    assert fixes["cues[0]"] == "list each spelling on its own"
    # An inflection written as a regular expression: the word alone finds it.
    assert fixes["topics.t.terms[1].near[0]"].startswith("write 'grid' alone")
    assert fixes["topics.t.exclude[0]"].startswith("write 'trade union' alone")


def test_lint_finds_list_items_that_yaml_joined_into_one() -> None:
    # The second item is indented one space further, so YAML reads its line as
    # more text of the first: one term 'green bond - blue bond'.
    yaml_text = """
name: t
topics:
  t:
    label: T
    terms:
    - green bond
     - blue bond
    - EU-China trade
    - cross - border
    exclude:
    - green bond fund
     - bond fund
"""
    taxonomy = Taxonomy.from_yaml(yaml_text)
    assert taxonomy.topics["t"].terms[0].term == "green bond - blue bond"
    findings = lint_taxonomy(taxonomy)
    assert {(f.path, f.kind) for f in findings} == {
        ("topics.t.terms[0]", "joined-items"),
        ("topics.t.terms[2]", "joined-items"),
        ("topics.t.exclude[0]", "joined-items"),
    }
    assert "indent each '- ' alike" in findings[0].message


def test_lint_finds_duplicates_typed_with_other_hyphens_or_apostrophes() -> None:
    """The matcher reads ’ as ' and U+2010 or U+2011 as '-': such twins are duplicates."""
    yaml_text = """
name: t
topics:
  health:
    label: Health
    terms: [anti-microbial resistance, "anti\u2010microbial resistance", "People's health",
            "People\u2019s health"]
    exclude: ["health\u2011care"]
  other:
    label: Other
    terms: ["anti\u2011microbial resistance", health-care reform]
    exclude: ["health\u2011care"]
"""
    findings = {(f.path, f.kind) for f in lint_taxonomy(Taxonomy.from_yaml(yaml_text))}
    assert findings == {
        ("topics.health.terms[1]", "duplicate"),
        ("topics.health.terms[3]", "duplicate"),
        ("topics.other.terms[0]", "duplicate"),
        ("topics.other.terms[1]", "shadowed"),
    }


def test_lint_lists_findings_in_taxonomy_order() -> None:
    """Findings on topics, context terms, patterns and exclusions come in their place too."""
    yaml_text = """
name: t
cues: [cooperation, partner(s)]
topics:
  health:
    label: Health
    terms:
      - vaccine
      - vaccines
      - {term: nurse, near: ['shortage|lack']}
      - pattern: [{POS: NOUN}]
    exclude: ['anti-vax(es)?']
  finance:
    label: Finance
    terms: [fund, funds]
  empty:
    label: Empty
"""
    findings = lint_taxonomy(Taxonomy.from_yaml(yaml_text))
    assert [f.path for f in findings] == [
        "cues[1]",
        "topics.health.terms[1]",
        "topics.health.terms[2].near[0]",
        "topics.health.terms[3].pattern[0]",
        "topics.health.exclude[0]",
        "topics.finance.terms[1]",
        "topics.empty",
    ]


@pytest.mark.parametrize(
    "phrase",
    [
        "Regulation (EU) 2019/452",
        "R&D",
        "5G",
        "e-commerce",
        "U.S.",
        "Belt and Road",
        "manufactur*",
        "BRICS+",
        "ASEAN+3",
        "C++",
        "G7+",
        "Mr. Smith",
        "COVID-19",
        "Erasmus+",
        "Euro+ Pact",
        "Disney+",
        "U.S.*",
        "Article 5[1]",
        "[sic]",
        "US$ 5bn",
        "US$",
        "HK$",
    ],
)
def test_lint_leaves_ordinary_text_that_holds_punctuation(phrase: str) -> None:
    yaml_text = f"name: t\ntopics: {{t: {{label: T, terms: [{json.dumps(phrase)}]}}}}"
    assert lint_taxonomy(Taxonomy.from_yaml(yaml_text)) == []
