"""Taxonomy loading, validation messages and the YAML round trip."""

from __future__ import annotations

import unicodedata
from pathlib import Path

import pytest
import yaml

from policy_topics import Taxonomy, TaxonomyError, load_taxonomy
from policy_topics.taxonomy import MAX_TERMS, MAX_YAML_NODES, packaged_taxonomies

MINIMAL = """\
name: mini
version: "2"
topics:
  trade:
    label: Trade
    terms: [tariff]
"""


def problems(text: str, tmp_path: Path, name: str = "my.yaml") -> list[str]:
    """The problems of a taxonomy file, loaded by its name in the current folder."""
    (tmp_path / name).write_text(text, encoding="utf-8")
    with pytest.MonkeyPatch.context() as patch:
        patch.chdir(tmp_path)
        with pytest.raises(TaxonomyError) as info:
            load_taxonomy(name)
    return [str(p) for p in info.value.problems]


def test_problems_name_the_file_by_the_path_given(tmp_path: Path) -> None:
    path = tmp_path / "sub" / "my.yaml"
    path.parent.mkdir()
    path.write_text("name: x\n", encoding="utf-8")
    with pytest.raises(TaxonomyError) as info:
        load_taxonomy(path)
    assert [str(p) for p in info.value.problems] == [f"{path}:1 topics: required field is missing"]


def test_minimal_taxonomy_loads_with_defaults() -> None:
    taxonomy = Taxonomy.from_yaml(MINIMAL)
    assert taxonomy.name == "mini"
    assert taxonomy.version == "2"
    assert taxonomy.language == "en"
    assert taxonomy.topics["trade"].terms[0].term == "tariff"


def test_packaged_default_is_found_by_name() -> None:
    assert "default" in packaged_taxonomies()
    taxonomy = load_taxonomy("default")
    assert set(taxonomy.topics) == {"trade", "energy", "digital", "manufacturing", "finance"}
    assert all(t.subtopics for t in taxonomy.topics.values())


def test_packaged_name_is_not_shadowed_by_a_file_of_that_name(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A stray file called "default" in the working directory must not change
    # what "default" tags with; "./default" or a Path still names the file.
    (tmp_path / "default").write_text(MINIMAL, encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    assert load_taxonomy("default").name == "default"
    assert load_taxonomy("./default").name == "mini"
    assert load_taxonomy(Path("default")).name == "mini"


def test_unknown_name_lists_packaged_names() -> None:
    with pytest.raises(TaxonomyError, match=r"packaged: .*default"):
        load_taxonomy("no-such-taxonomy")


def test_yaml_round_trip_of_default() -> None:
    taxonomy = load_taxonomy("default")
    assert Taxonomy.from_yaml(taxonomy.to_yaml()) == taxonomy


def test_round_trip_keeps_term_options() -> None:
    text = MINIMAL.replace(
        "terms: [tariff]",
        "terms: [tariff, {term: power, near: [grid], window: 3, weight: 0.5}]",
    )
    taxonomy = Taxonomy.from_yaml(text)
    dumped = taxonomy.to_yaml()
    assert "- tariff" in dumped
    assert Taxonomy.from_yaml(dumped) == taxonomy


def test_round_trip_keeps_a_next_line_character() -> None:
    # U+0085 is a line break to YAML: PyYAML wrote it inside single quotes,
    # which read it back as a space, so a label from cp1252 text read as
    # Latin-1 changed through to_yaml, nlp.to_disk and spacy.load.
    taxonomy = Taxonomy.from_yaml(
        MINIMAL.replace("label: Trade", 'label: "Trade\\Npolicy\\N"') + '    description: "x\\Ny"\n'
    )
    assert taxonomy.topics["trade"].label == "Trade\x85policy\x85"
    assert Taxonomy.from_yaml(taxonomy.to_yaml()) == taxonomy


def test_empty_term_names_file_line_and_path(tmp_path: Path) -> None:
    text = MINIMAL.replace("terms: [tariff]", "terms:\n      - tariff\n      - '  '\n")
    assert problems(text, tmp_path) == ["my.yaml:8 topics.trade.terms[1]: empty term"]


def test_every_problem_is_collected(tmp_path: Path) -> None:
    text = """\
name: broken
topics:
  trade:
    label: Trade
    terms:
      - tariff
      - ""
      - {term: dump*ing}
    exclude: [tariff]
  energy:
    lable: Energy
    terms: [oil]
  Bad Id:
    label: X
"""
    found = problems(text, tmp_path)
    assert "my.yaml:7 topics.trade.terms[1]: empty term" in found
    assert any(p.startswith("my.yaml:8 topics.trade.terms[2]: wildcard") for p in found)
    assert any(p.startswith("my.yaml:9 topics.trade.exclude[0]:") and "both" in p for p in found)
    assert any(p.startswith("my.yaml:11 topics.energy.lable: unknown field") for p in found)
    assert any(p.startswith("my.yaml:10 topics.energy.label: required") for p in found)
    assert len(found) >= 5


def test_a_mistake_of_a_value_in_yaml_hides_no_other_problem(tmp_path: Path) -> None:
    # An unquoted version number or date, a tag, a merge key or a key that is
    # not a string stopped the reading: the file's other problems came out
    # one run later. Validation goes on, and says nothing that repeats them.
    text = """\
name: broken
version: 1.10
base: &b {label: Trade}
topics:
  trade:
    <<: *b
    terms: [2020-01-01, "", tariff, tariff, !!binary aGVsbG8=]
  energy:
    [x]: 1
    label: Energy
    terms: [oil, ""]
"""
    assert problems(text, tmp_path) == [
        'my.yaml:2 version: write the version in quotes, e.g. version: "1.10"; unquoted, '
        "YAML reads it as the number 1.1, which keeps no trailing zeros (1.10 would be 1.1)",
        "my.yaml:6 topics.trade.<<: merge keys (<<) are not supported: write the mapping "
        "out in full, then remove 'base'",
        "my.yaml:7 topics.trade.terms[0]: YAML tag 'tag:yaml.org,2002:timestamp' is not "
        "allowed: YAML reads '2020-01-01' as a date: put it in quotes",
        "my.yaml:7 topics.trade.terms[1]: empty term",
        "my.yaml:7 topics.trade.terms[3]: duplicate term 'tariff' (also terms[2]); remove one",
        "my.yaml:7 topics.trade.terms[4]: YAML tag 'tag:yaml.org,2002:binary' is not "
        "allowed: a taxonomy is plain data (strings, numbers, lists, mappings)",
        "my.yaml:9 topics.energy: mapping keys must be plain strings",
        "my.yaml:11 topics.energy.terms[1]: empty term",
    ]
    # A mapping anchored inside the topics is a topic: its problems still count.
    text = MINIMAL.replace("  trade:", "  trade: &t").replace(
        "terms: [tariff]", 'terms: [tariff, ""]\n  energy:\n    <<: *t\n    label: Energy'
    )
    assert problems(text, tmp_path) == [
        "my.yaml:6 topics.trade.terms[1]: empty term",
        "my.yaml:8 topics.energy.<<: merge keys (<<) are not supported: write the mapping "
        "out in full",
    ]
    # Only what repeats a problem is left out: a field the merge does not bring,
    # a field missing beside a key that is no string, a topic beside a tagged one.
    text = """\
name: broken
base: &b {terms: [tariff]}
topics:
  trade:
    <<: *b
  energy:
    [x]: 1
    terms: [oil]
  a: !foo x
  a.b: {label: AB, terms: [""]}
"""
    assert problems(text, tmp_path) == [
        "my.yaml:4 topics.trade.label: required field is missing",
        "my.yaml:5 topics.trade.<<: merge keys (<<) are not supported: write the mapping "
        "out in full, then remove 'base'",
        "my.yaml:6 topics.energy.label: required field is missing",
        "my.yaml:7 topics.energy: mapping keys must be plain strings",
        "my.yaml:9 topics.a: YAML tag '!foo' is not allowed: a taxonomy is plain data "
        "(strings, numbers, lists, mappings)",
        "my.yaml:10 topics.a.b: topic id must be lower-case letters, digits, '_' or '-', "
        "starting with a letter",
        "my.yaml:10 topics.a.b.terms[0]: empty term",
    ]


def test_structural_error_reports_value(tmp_path: Path) -> None:
    text = MINIMAL.replace("terms: [tariff]", "terms: [{term: tariff, weight: -1}]")
    (found,) = problems(text, tmp_path)
    assert found.startswith("my.yaml:6 topics.trade.terms[0].weight:")
    assert "-1" in found


def test_missing_topics(tmp_path: Path) -> None:
    assert problems("name: x\n", tmp_path) == ["my.yaml:1 topics: required field is missing"]


def test_yaml_syntax_error_has_line(tmp_path: Path) -> None:
    (found,) = problems("name: x\ntopics: [\n  a: b\n", tmp_path)
    assert found.startswith("my.yaml:")
    assert "YAML syntax error" in found


def test_duplicate_keys_are_errors(tmp_path: Path) -> None:
    text = MINIMAL + "  trade:\n    label: Again\n"
    (found,) = problems(text, tmp_path)
    assert found.startswith("my.yaml:7 topics.trade: duplicate key 'trade' (first at line 4)")


def test_a_duplicate_key_is_reported_with_every_other_problem(tmp_path: Path) -> None:
    # A duplicate key hid the taxonomy's other problems until it was fixed.
    text = (
        "name: m\ntopics:\n  trade:\n    label: Trade\n    terms: [quota]\n"
        "    terms: [tariff]\n  industry:\n    terms: [subsidy]\n    lable: Industry\n"
    )
    assert problems(text, tmp_path) == [
        "my.yaml:6 topics.trade.terms: duplicate key 'terms' (first at line 5); merge the two "
        "entries",
        "my.yaml:7 topics.industry.label: required field is missing",
        "my.yaml:9 topics.industry.lable: unknown field; remove it or check its spelling",
    ]


def test_python_tags_are_refused(tmp_path: Path) -> None:
    text = MINIMAL.replace("label: Trade", "label: !!python/object/apply:os.system ['true']")
    (found,) = problems(text, tmp_path)
    assert "topics.trade.label" in found
    assert "not allowed" in found


def test_alias_bomb_is_refused_before_it_expands(tmp_path: Path) -> None:
    # 9**10 nodes if expanded: the refusal names the node limit it hit instead.
    lines = ['a0: &a0 ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    for i in range(1, 10):
        prev = f"*a{i - 1}"
        lines.append(f"a{i}: &a{i} [{', '.join([prev] * 9)}]")
    text = "name: bomb\n" + "\n".join(lines) + "\ntopics: {t: {label: T, terms: *a9}}\n"
    found = problems(text, tmp_path)
    assert str(MAX_YAML_NODES) in found[0]


def test_subtopic_ids_must_be_unique_within_a_topic(tmp_path: Path) -> None:
    text = """\
name: x
topics:
  trade:
    label: Trade
    subtopics:
      deals:
        label: Deals
        terms: [trade deal]
        subtopics:
          deals:
            label: Deals again
            terms: [trade pact]
"""
    (found,) = problems(text, tmp_path)
    assert found.startswith("my.yaml:10 topics.trade.subtopics.deals.subtopics.deals:")
    assert "already used" in found


def test_duplicate_terms_within_a_topic(tmp_path: Path) -> None:
    for terms in ("[tariff, 'tariff ']", "[Tariff, {term: Tariff, case_sensitive: true}]"):
        text = MINIMAL.replace("terms: [tariff]", f"terms: {terms}")
        (found,) = problems(text, tmp_path)
        assert "duplicate term" in found and found.endswith("; remove one")
    # Two context rules for one term: the fix is one entry with both lists.
    rules = "[{term: power, near: [plant], window: 2}, {term: power, near: [grid]}]"
    (found,) = problems(MINIMAL.replace("terms: [tariff]", f"terms: {rules}"), tmp_path)
    assert found.endswith(
        "duplicate term 'power' (also terms[0]); a term takes one context rule: keep one "
        "entry, with every context word in its 'near' list"
    )


def test_terms_that_differ_only_in_case_sensitivity_are_not_duplicates() -> None:
    # Each matches other text: "EV" only in capitals, the forced "ev" only in
    # lower case; "Tariff" is covered by "tariff", which lint reports where it matters.
    for terms in ("[EV, {term: ev, case_sensitive: true}]", "[tariff, Tariff]"):
        text = MINIMAL.replace("terms: [tariff]", f"terms: {terms}")
        assert len(Taxonomy.from_yaml(text).topics["trade"].terms) == 2


def test_invalid_token_pattern(tmp_path: Path) -> None:
    text = MINIMAL.replace("terms: [tariff]", "terms: [{pattern: [{LOWR: tariff}]}]")
    found = problems(text, tmp_path)
    assert any("topics.trade.terms[0].pattern[0].LOWR" in p for p in found)


def test_regex_in_token_pattern_is_refused(tmp_path: Path) -> None:
    text = MINIMAL.replace("terms: [tariff]", "terms: [{pattern: [{TEXT: {REGEX: '(a+)+$'}}]}]")
    found = problems(text, tmp_path)
    assert any("REGEX" in p for p in found)


def test_term_and_pattern_together(tmp_path: Path) -> None:
    text = MINIMAL.replace("terms: [tariff]", "terms: [{term: x, pattern: [{LOWER: x}]}]")
    (found,) = problems(text, tmp_path)
    assert "exactly one of 'term' or 'pattern'" in found


def test_window_without_near(tmp_path: Path) -> None:
    text = MINIMAL.replace("terms: [tariff]", "terms: [{term: power, window: 3}]")
    (found,) = problems(text, tmp_path)
    assert "topics.trade.terms[0].window" in found


def test_term_limit(tmp_path: Path) -> None:
    terms = "\n".join(f"      - term{i}" for i in range(MAX_TERMS + 1))
    text = f"name: big\ntopics:\n  t:\n    label: T\n    terms:\n{terms}\n"
    found = problems(text, tmp_path)
    assert any("exceed the limit" in p for p in found)


def test_not_utf8(tmp_path: Path) -> None:
    path = tmp_path / "latin.yaml"
    path.write_bytes(MINIMAL.replace("Trade", "Tr\xe9de").encode("latin-1"))
    line = MINIMAL[: MINIMAL.index("Trade")].count("\n") + 1
    column = MINIMAL.index("Trade") - MINIMAL.rfind("\n", 0, MINIMAL.index("Trade")) + 2
    with pytest.raises(TaxonomyError) as info:
        load_taxonomy(path)
    assert [str(p) for p in info.value.problems] == [
        f"{path}:{line}: not UTF-8 (invalid byte 0xe9 at column {column}); save the file as UTF-8"
    ]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "name: t\ntopics:\n\ttrade:\n    label: Trade\n",
            "my.yaml:3: YAML syntax error: found character '\\t' that cannot start any token; "
            "indent with spaces: YAML does not allow tabs there",
        ),
        # A character YAML does not allow came with a position, no line and no fix.
        (
            "name: t\ntopics:\n  trade:\n    label: Trade\n    terms: [tar\x07iff]\n",
            "my.yaml:5: YAML syntax error: the character U+0007 at column 16 is not allowed in "
            "YAML; delete it, or write it as \\x07 inside double quotes",
        ),
        (
            "name: t\r\ntopics: {}\r\nnote: \ufffe\r\n",
            "my.yaml:3: YAML syntax error: the character U+FFFE at column 7 is not allowed in "
            "YAML; delete it, or write it as \\ufffe inside double quotes",
        ),
        (
            'name: t\ntopics:\n  trade:\n    label: "Trade\n    terms: [tariff]\n',
            # Found at the end of the file (line 6, past the last): the quote's line.
            "my.yaml:4: YAML syntax error: found unexpected end of stream while scanning a "
            "quoted scalar that starts on line 4; close the quote",
        ),
        # An unclosed bracket is found at the end of the file too: the bracket's line.
        (
            "not a taxonomy: [\n",
            "my.yaml:1: YAML syntax error: expected the node content, but found '<stream "
            "end>'; the '[' at column 17 is never closed: end the list with ']'",
        ),
        (
            "name: t\ntopics:\n  trade:\n    label: Trade\n    terms: [tariff, duty\n",
            "my.yaml:5: YAML syntax error: expected ',' or ']', but got '<stream end>'; the "
            "'[' at column 12 is never closed: end the list with ']'",
        ),
        (
            "name: t\ntopics: {trade: {label: T, terms: [tariff, {term: duty}]}\n\n",
            "my.yaml:2: YAML syntax error: expected ',' or '}', but got '<stream end>'; the "
            "'{' at column 9 is never closed: end the mapping with '}'",
        ),
        (
            "name: t\ntopics:\n  trade:\n    label: Trade\n   terms: [tariff]\n",
            "my.yaml:5: YAML syntax error: expected <block end>, but found '<block mapping "
            "start>' while parsing a block mapping that starts on line 3; check the indentation "
            "of this line against the lines above (the keys of one mapping line up, with "
            "spaces), or quote a value that holds ': '",
        ),
        (
            "name: t\ntopics:\n  trade:\n    label: Trade\n    terms:\n      - *dumping\n",
            "my.yaml:6: YAML syntax error: found undefined alias 'dumping'; a value that "
            "starts with '*' is read as a YAML alias: put it in quotes if it is text, and end "
            "a word with '*' for a prefix wildcard (manufactur*)",
        ),
        (
            "name: t\ntopics:\n  trade:\n    label: Trade\n    terms:\n      - tariff\n"
            "      -term: duty\n",
            "my.yaml:7: YAML syntax error: expected <block end>, but found '?' while parsing a "
            "block collection that starts on line 6; put a space after the '-' that starts a "
            "list item ('- term: x')",
        ),
        (
            "name: t\ntopics:\n  trade:\n    label: Trade\n    terms:\n      -term: duty\n"
            "      - tariff\n",
            "my.yaml:7: YAML syntax error: expected <block end>, but found '-' while parsing a "
            "block mapping that starts on line 6; put a space after the '-' that starts a "
            "list item ('- term: x')",
        ),
        (
            "name: t\ntopics:\n  trade:\n    label: Trade\n    terms:\n      - tariff\n"
            "      -duty\n",
            "my.yaml:8: YAML syntax error: could not find expected ':' while scanning a simple "
            "key that starts on line 7; put a space after the '-' that starts a list item "
            "('- term: x')",
        ),
        (
            "name: t\ntopics: {trade: {label: T, terms: [tariff]}}\n---\nname: u\n",
            "my.yaml:3: YAML syntax error: the file holds a second YAML document (after a "
            "'---' line); a taxonomy is one document: remove the line, and merge what follows "
            "it into the first",
        ),
        (
            "name: t\ntopics:\n  - trade:\n      label: T\n      terms: [tariff]\n",
            "my.yaml:2 topics: a mapping is expected, not a list: write each id followed by "
            "':' and what it holds indented under it, with no '- ' before it",
        ),
        (
            "name: t\ntopics:\n  trade:\n    label: T\n    terms: [{term: power, near: [grid], "
            "window: '3'}]\n",
            "my.yaml:5 topics.trade.terms[0].window: Input should be a valid integer "
            "(got '3'): write the number without quotes",
        ),
        (
            "name: t\ntopics:\n  trade:\n    label: T\n    terms: [tariff]\n    exclude:\n"
            "      - Section 301: duties\n",
            "my.yaml:7 topics.trade.exclude[0]: text is expected, not a mapping: YAML reads "
            "text that holds ': ' as one; put it in quotes",
        ),
        (
            "name: t\ntopics:\n  trade:\n    label: [T]\n    terms: [tariff]\n",
            "my.yaml:4 topics.trade.label: text is expected, not a list",
        ),
        (
            # Unquoted, 1e3 is text to YAML (no decimal point): "without quotes" was wrong.
            "name: t\ntopics:\n  trade:\n    label: T\n    terms: [{term: duty, weight: 1e3}]\n",
            "my.yaml:5 topics.trade.terms[0].weight: Input should be a valid number (got "
            "'1e3'): YAML reads 1e3 as text, without a decimal point: write 1000.0",
        ),
        (
            "name: t\ntopics:\n  trade:\n    label: T\n    terms: [{term: duty, near: [x], "
            "window: '3.5'}]\n",
            "my.yaml:5 topics.trade.terms[0].window: Input should be a valid integer (got "
            "'3.5'): a whole number is expected",
        ),
        (
            # The shape of spaCy's Matcher.add, a list of patterns.
            "name: t\ntopics:\n  trade:\n    label: T\n    terms: [{pattern: [[{LOWER: a}]]}]\n",
            "my.yaml:5 topics.trade.terms[0].pattern[0]: a token is a mapping such as {LOWER: "
            "bond}, not a list: a pattern is one list of tokens, so remove one pair of brackets",
        ),
        (
            "name: t\ntopics:\n  f: Finance\n  trade: {label: T, terms: [tariff]}\n",
            "my.yaml:3 topics.f: a topic is a mapping of its fields, not text ('Finance'): "
            "indent its 'label: ...' and 'terms: [...]' under its id",
        ),
        (
            # spaCy's validator said it twice, once for each type the value may
            # have ("-> TokenPatternString -> IN] ... a valid list", "-> str] ...").
            "name: t\ntopics:\n  trade:\n    label: T\n"
            "    terms: [{pattern: [{LOWER: {IN: bond}}]}]\n",
            "my.yaml:5 topics.trade.terms[0].pattern[0].LOWER.IN: invalid token pattern: Input "
            "should be a valid list: write IN: ['bond']",
        ),
        (
            # The first item without its space: the lines read as one string.
            "name: t\ntopics:\n  trade:\n    label: Trade\n    terms:\n      -tariff\n"
            "      - customs\n",
            "my.yaml:5 topics.trade.terms: a list is expected, not one string: put a space "
            "after the '-' that starts a list item (- tariff); without it, YAML reads the "
            "lines as one string, '-tariff - customs'",
        ),
        (
            "name: t\nbase: &b {label: X, terms: [tariff]}\ntopics:\n  trade:\n    <<: *b\n",
            "my.yaml:5 topics.trade.<<: merge keys (<<) are not supported: write the mapping "
            "out in full, then remove 'base'",
        ),
        (
            "name: t\nversion: 2024-01-01\ntopics: {trade: {label: T, terms: [tariff]}}\n",
            "my.yaml:2 version: YAML tag 'tag:yaml.org,2002:timestamp' is not allowed: YAML "
            "reads '2024-01-01' as a date: put it in quotes",
        ),
    ],
)
def test_yaml_mistakes_say_what_to_do(tmp_path: Path, text: str, expected: str) -> None:
    assert problems(text, tmp_path) == [expected]


def test_terms_yaml_reads_as_booleans_or_numbers_say_to_quote_them(tmp_path: Path) -> None:
    text = "name: t\ntopics:\n  trade:\n    label: Trade\n    terms: [tariff, NO, 2030]\n"
    term = "a term is a phrase or a mapping such as {term: bank, near: [central]}"
    assert problems(text, tmp_path) == [
        f"my.yaml:5 topics.trade.terms[1]: {term} (got False); YAML read the value as a "
        "boolean: put it in quotes if it is text",
        f"my.yaml:5 topics.trade.terms[2]: {term} (got 2030); YAML read the value as a "
        "number: put it in quotes if it is text",
    ]


def test_lists_written_in_another_shape_say_how_to_write_them(tmp_path: Path) -> None:
    # pydantic's "Input should be a valid list" and "valid dictionary or
    # instance of TermSpec" named no fix.
    text = (
        "name: t\ntopics:\n  trade:\n    label: Trade\n"
        "    terms:\n      - [tariff, duty]\n      - {pattern: {LOWER: steel}}\n"
        "    exclude: trade union, union dues\n"
        "  energy:\n    label: Energy\n    terms:\n"
    )
    assert problems(text, tmp_path) == [
        "my.yaml:6 topics.trade.terms[0]: a term is a phrase or a mapping such as "
        "{term: bank, near: [central]}, not a list: give each phrase as an item of its own",
        "my.yaml:7 topics.trade.terms[1].pattern: a list is expected, not a mapping: put it "
        "in brackets, [{LOWER: steel}]",
        "my.yaml:8 topics.trade.exclude: a list is expected, not one string: write "
        "[trade union, union dues], or one '- ' item per line",
        "my.yaml:11 topics.energy.terms: a list is expected, and this one is empty: give "
        "its items, or remove the field",
    ]


def test_a_list_written_as_a_string_is_rewritten_as_yaml_reads_it(tmp_path: Path) -> None:
    # The fix named "[tariff, Section 301: duties]", which YAML reads as a term and
    # a mapping, and "[]" for an empty string.
    text = (
        "name: t\ntopics:\n  trade:\n    label: Trade\n"
        '    terms: "tariff, Section 301: duties"\n    exclude: ""\n'
    )
    assert problems(text, tmp_path) == [
        "my.yaml:5 topics.trade.terms: a list is expected, not one string: write "
        "[tariff, 'Section 301: duties'], or one '- ' item per line",
        "my.yaml:6 topics.trade.exclude: a list is expected, and this one is empty: give "
        "its items, or remove the field",
    ]
    assert yaml.safe_load("[tariff, 'Section 301: duties']") == ["tariff", "Section 301: duties"]


def test_nfd_terms_are_normalised_to_nfc() -> None:
    nfd = unicodedata.normalize("NFD", "coopération")
    taxonomy = Taxonomy.from_yaml(MINIMAL.replace("[tariff]", f"[{nfd}]"))
    assert taxonomy.topics["trade"].terms[0].term == unicodedata.normalize("NFC", nfd)


def test_error_message_lists_problems() -> None:
    with pytest.raises(TaxonomyError) as info:
        Taxonomy.from_yaml("name: x\ntopics:\n  t: {label: T, terms: ['', ' ']}\n", source="s.yaml")
    message = str(info.value)
    assert message.startswith("invalid taxonomy (2 problems):")
    assert "s.yaml:3 topics.t.terms[0]: empty term" in message
    assert "s.yaml:3 topics.t.terms[1]: empty term" in message


def test_iter_topics_and_labels() -> None:
    taxonomy = load_taxonomy("default")
    nodes = list(taxonomy.iter_topics())
    assert ("trade", None) in [(t, s) for t, s, _ in nodes]
    assert ("trade", "tariffs") in [(t, s) for t, s, _ in nodes]
    assert taxonomy.label_of("trade", "tariffs") == "Tariffs and trade remedies"


def test_semantic_problems_inside_a_structurally_broken_topic_are_reported(
    tmp_path: Path,
) -> None:
    text = """\
name: mine
topics:
  energy:
    lable: Energy
    terms:
      - oil
      - "  "
      - {term: power, window: 3}
      - {term: gas, weight: -2}
      - oil
"""
    found = problems(text, tmp_path)
    assert found == [
        "my.yaml:3 topics.energy.label: required field is missing",
        "my.yaml:4 topics.energy.lable: unknown field; remove it or check its spelling",
        "my.yaml:7 topics.energy.terms[1]: empty term",
        "my.yaml:8 topics.energy.terms[2].window: window has no effect without 'near' terms",
        "my.yaml:9 topics.energy.terms[3].weight: Input should be greater than 0 (got -2)",
        "my.yaml:10 topics.energy.terms[4]: duplicate term 'oil' (also terms[0]); remove one",
    ]


def test_a_mistyped_pattern_key_or_operator_gets_one_message_with_the_fix(
    tmp_path: Path,
) -> None:
    text = """\
name: t
topics:
  k:
    label: K
    terms:
      - {pattern: [{LOWR: green}, {LOWER: bond}], label: green bonds}
      - {pattern: [{LOWER: green, OP: "x"}], label: bad op}
      - {pattern: [{LOWER: green, OP: "{1,3}"}], label: counted}
"""
    # spaCy's own messages for the same mistakes ("Extra inputs are not
    # permitted", a regular expression of counts) are left out.
    assert problems(text, tmp_path) == [
        "my.yaml:6 topics.k.terms[0].pattern[0].LOWR: unsupported token attribute 'LOWR'; "
        "did you mean 'LOWER'?",
        "my.yaml:7 topics.k.terms[1].pattern[0].OP: 'x' is not an operator: use '?' "
        "(optional), '*' (any number), '+' (one or more), '!' (not) or a count such as "
        "'{2}' or '{1,3}'",
    ]


@pytest.mark.parametrize("field", ["subtopics", "terms"])
def test_a_topic_field_indented_as_a_topic_is_named_as_such(tmp_path: Path, field: str) -> None:
    text = f"""\
name: t
topics:
  k:
    label: K
    terms: [x]
  {field}:
    other:
      label: Other
      terms: [y]
"""
    assert problems(text, tmp_path) == [
        f"my.yaml:6 topics.{field}: '{field}' is a field of a topic, not a topic id: it is "
        "indented as a topic; indent it, and what is under it, two more spaces, under the "
        "topic it belongs to"
    ]


@pytest.mark.parametrize("field", ["exclude", "terms"])
def test_a_topic_field_indented_as_a_sub_topic_is_named_as_such(tmp_path: Path, field: str) -> None:
    # It gave pydantic's "Input should be a valid dictionary or instance of Topic".
    text = f"""\
name: t
topics:
  k:
    label: K
    terms: [x]
    subtopics:
      s:
        label: S
        terms: [y]
      {field}: [z]
"""
    assert problems(text, tmp_path) == [
        f"my.yaml:10 topics.k.subtopics.{field}: '{field}' is a field of a topic, not a "
        "sub-topic id: it is indented as a sub-topic; indent it, and what is under it, two "
        "more spaces, under the sub-topic it belongs to, or two fewer, beside 'subtopics:', "
        "if it belongs to the topic that holds them"
    ]


def test_a_topic_may_be_named_like_a_field_when_it_is_a_topic(tmp_path: Path) -> None:
    text = "name: t\ntopics:\n  label:\n    label: Eco-labels\n    terms: [eco-label]\n"
    (tmp_path / "t.yaml").write_text(text, encoding="utf-8")
    assert list(load_taxonomy(tmp_path / "t.yaml").topics) == ["label"]


def test_a_count_range_that_runs_backwards_is_no_operator(tmp_path: Path) -> None:
    text = (
        "name: t\ntopics:\n  k:\n    label: K\n    terms:\n"
        '      - {pattern: [{LOWER: a}, {LOWER: b, OP: "{3,1}"}], label: ab}\n'
    )
    assert problems(text, tmp_path)[0].startswith(
        "my.yaml:6 topics.k.terms[0].pattern[1].OP: '{3,1}' is not an operator"
    )


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            # The topics written flush with "topics:", so it holds nothing.
            "name: t\ntopics:\nhealth:\n  label: Health\n  terms: [vaccine]\n",
            [
                "my.yaml:2 topics: nothing is indented under 'topics': give each topic id "
                "indented two more spaces than it, with its fields two more",
                "my.yaml:3 health: 'health' is not a field of the taxonomy but looks like a "
                "topic: indent it, and what is under it, two spaces under 'topics:'",
            ],
        ),
        (
            # A sub-topic without "subtopics:" above it, and an empty "subtopics:".
            "name: t\ntopics:\n  health:\n    label: Health\n    terms: [vaccine]\n"
            "    vaccines:\n      label: Vaccines\n      terms: [vaccin*]\n    subtopics:\n",
            [
                "my.yaml:6 topics.health.vaccines: 'vaccines' is not a field of a topic but "
                "looks like a sub-topic: put it, indented two more spaces, under a "
                "'subtopics:' key of the topic",
                "my.yaml:9 topics.health.subtopics: nothing is indented under 'subtopics': "
                "give each sub-topic id indented two more spaces than it, with its fields two "
                "more, or remove it",
            ],
        ),
        (
            # A topic whose fields are flush with its id.
            "name: t\ntopics:\n  health:\n    label: Health\n    terms: [x]\n"
            "    subtopics:\n      vaccines:\n      label: Vaccines\n",
            [
                "my.yaml:7 topics.health.subtopics.vaccines: nothing is indented under "
                "sub-topic 'vaccines': indent its label and terms two more spaces than its id",
                "my.yaml:8 topics.health.subtopics.label: 'label' is a field of a topic, not a "
                "sub-topic id: it is indented as a sub-topic; indent it, and what is under it, "
                "two more spaces, under the sub-topic it belongs to, or two fewer, beside "
                "'subtopics:', if it belongs to the topic that holds them",
            ],
        ),
    ],
)
def test_topics_indented_too_little_say_where_they_belong(
    tmp_path: Path, text: str, expected: list[str]
) -> None:
    # pydantic's "Input should be a valid dictionary (got None)", "unknown field" and
    # "YAML read the value as null: put it in quotes" named no fix, or the wrong one.
    assert problems(text, tmp_path) == expected


def test_a_taxonomy_built_in_python_gets_the_checks_of_a_file() -> None:
    # Taxonomy(...) was used as it was: '*vaccin' and '' passed, and 'x*' then
    # matched the word "x".
    from policy_topics import Extractor

    built = Taxonomy(
        name="t",
        topics={"h": {"label": "H", "terms": [{"term": "*vaccin"}, {"term": "x*"}, {"term": ""}]}},
    )
    with pytest.raises(TaxonomyError) as info:
        Extractor(built)
    assert [str(p) for p in info.value.problems] == [
        "Taxonomy(name='t') topics.h.terms[0]: wildcard '*vaccin': '*' may only end a single "
        "word, e.g. 'manufactur*'",
        "Taxonomy(name='t') topics.h.terms[1]: wildcard 'x*': give at least 3 characters "
        "before '*'",
        "Taxonomy(name='t') topics.h.terms[2]: empty term",
    ]
    # A good one is checked once, NFC-normalised, and then used as it is.
    good = Taxonomy(name="t", topics={"h": {"label": "H", "terms": ["cafe\u0301 trade"]}})
    loaded = load_taxonomy(good)
    assert loaded.topics["h"].terms[0].term == "caf\u00e9 trade"
    assert load_taxonomy(loaded) is loaded
    assert Extractor(good).extract("Caf\u00e9 trade grew.").areas[0].topic == "h"
    # One read from a file is not checked again; a copy with changes is.
    default = load_taxonomy("default")
    assert load_taxonomy(default) is default
    changed = default.model_copy(update={"cues": ["*x"]})
    with pytest.raises(TaxonomyError, match=r"cues\[0\]: '\*' is only allowed in terms"):
        load_taxonomy(changed)


@pytest.mark.parametrize("name", sorted(packaged_taxonomies()))
def test_a_valid_taxonomy_copied_or_dumped_loads_again(name: str) -> None:
    # A renamed copy, or its model_dump read back, was refused: every term had
    # near=[] set (by the NFC step, or by the dump), "empty 'near' list".
    taxonomy = load_taxonomy(name)
    renamed = load_taxonomy(taxonomy.model_copy(update={"name": "renamed"}))
    assert renamed.name == "renamed"
    assert renamed.topics == taxonomy.topics
    assert load_taxonomy(Taxonomy.model_validate(taxonomy.model_dump())) == taxonomy
    assert load_taxonomy(Taxonomy.model_validate_json(taxonomy.model_dump_json())) == taxonomy


def test_a_subclass_built_in_python_keeps_its_class_and_fields_when_loaded() -> None:
    # Checked as a Taxonomy, a subclass's own field was "unknown field", and
    # one without fields came back as a plain Taxonomy.
    class Owned(Taxonomy):
        owner: str = "nobody"

    built = Owned(name="t", owner="trade desk", topics={"h": {"label": "H", "terms": ["tariff"]}})
    loaded = load_taxonomy(built)
    assert isinstance(loaded, Owned) and type(loaded) is Owned
    assert loaded.owner == "trade desk"
    assert load_taxonomy(loaded) is loaded
    bad = Owned(name="t", topics={"h": {"label": "H", "terms": ["x*"]}})
    with pytest.raises(TaxonomyError, match=r"terms\[0\]: wildcard 'x\*'"):
        load_taxonomy(bad)


def test_a_taxonomy_equals_its_dump_read_back_checked_or_not() -> None:
    # Whether the checks of a file ran (a private flag) made equal taxonomies unequal.
    taxonomy = load_taxonomy("default")
    unchecked = Taxonomy.model_validate(taxonomy.model_dump())
    assert unchecked == taxonomy
    assert taxonomy == unchecked
    assert unchecked.model_copy(update={"name": "other"}) != taxonomy
    assert taxonomy != taxonomy.model_dump()
