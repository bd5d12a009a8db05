"""Hostile taxonomies: nothing executes, nothing blows up, every problem is named."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

from policy_topics import Taxonomy, TaxonomyError, load_taxonomy

from .conftest import one_term_yaml


def test_taxonomy_cannot_execute_code(tmp_path: Path) -> None:
    marker = tmp_path / "pwned"
    path = tmp_path / "evil.yaml"
    path.write_text(
        f"name: !!python/object/apply:os.system ['touch {marker}']\n"
        "topics: {t: {label: T, terms: [x]}}\n",
        encoding="utf-8",
    )
    with pytest.raises(TaxonomyError, match="not allowed"):
        load_taxonomy(path)
    assert not marker.exists()


def test_yaml_merge_and_custom_tags_are_refused() -> None:
    with pytest.raises(TaxonomyError, match="not allowed"):
        Taxonomy.from_yaml("name: !custom x\ntopics: {t: {label: T, terms: [x]}}\n")


def test_deeply_nested_yaml_is_an_error_not_a_crash() -> None:
    text = "name: x\ntopics: " + "[" * 5000 + "]" * 5000 + "\n"
    with pytest.raises(TaxonomyError):
        Taxonomy.from_yaml(text)


def test_term_in_both_terms_and_exclude() -> None:
    text = (
        "name: x\ntopics:\n  t:\n    label: T\n    terms: [Trade deal]\n"
        "    exclude: [trade  deal]\n"
    )
    with pytest.raises(TaxonomyError, match="both a term"):
        Taxonomy.from_yaml(text)


def test_huge_taxonomy_file_is_refused(tmp_path: Path) -> None:
    from policy_topics.taxonomy import MAX_TAXONOMY_BYTES

    path = tmp_path / "huge.yaml"
    with path.open("w", encoding="utf-8") as handle:
        handle.write("name: x\ndescription: '")
        handle.write("a" * (MAX_TAXONOMY_BYTES + 1))
        handle.write("'\n")
    with pytest.raises(TaxonomyError, match="larger than"):
        load_taxonomy(path)


@pytest.mark.parametrize(
    ("body", "line", "path", "message"),
    [
        ("language: xx_not\n", 2, "language", "spaCy has no language 'xx_not'"),
        ("version: 1.10\n", 2, "version", 'write the version in quotes, e.g. version: "1.10"'),
        # YAML 1.1 reads these as 8, 31, 90 and 1000: every result said so.
        (
            "version: 010\n",
            2,
            "version",
            'quotes, e.g. version: "010"; unquoted, YAML reads it as the number 8',
        ),
        (
            "version: 0x1F\n",
            2,
            "version",
            'version: "0x1F"; unquoted, YAML reads it as the number 31',
        ),
        (
            "version: 1:30\n",
            2,
            "version",
            'version: "1:30"; unquoted, YAML reads it as the number 90',
        ),
        ("version: 1_000\n", 2, "version", 'version: "1_000"; unquoted'),
        # Validation passed, and the Extractor raised an ImportError (PyThaiNLP).
        pytest.param(
            "language: th\n",
            2,
            "language",
            "spaCy cannot make a 'th' pipeline here: The Thai",
            marks=pytest.mark.skipif(
                importlib.util.find_spec("pythainlp") is not None, reason="PyThaiNLP is installed"
            ),
        ),
        ("", 6, "topics.e.terms[1]", "holds a lone surrogate (U+D800)"),
        ("", 6, "topics.e.terms[2].near", "empty 'near' list"),
    ],
)
def test_taxonomy_that_would_fail_later_fails_validation(
    tmp_path: Path, body: str, line: int, path: str, message: str
) -> None:
    """Each of these passed validation and then crashed the Extractor (or lost the version)."""
    source = tmp_path / "t.yaml"
    source.write_text(
        "name: t\n" + (body or "language: en\n") + "topics:\n  e:\n    label: E\n"
        '    terms: [tariff, "trade\\ud800", {term: b, near: []}]\n',
        encoding="utf-8",
    )
    with pytest.raises(TaxonomyError) as info:
        load_taxonomy(source)
    found = [p for p in info.value.problems if p.path == path]
    assert len(found) == 1, info.value.problems
    assert found[0].line == line and found[0].source == str(source)
    assert message in found[0].message


@pytest.mark.parametrize(
    ("version", "number"), [(".inf", "inf"), (".NaN", "nan"), ("1:30.5", "90.5")]
)
def test_a_version_yaml_reads_as_a_special_number_is_named_too(version: str, number: str) -> None:
    # float() reads none of these as YAML does: the check itself crashed.
    with pytest.raises(TaxonomyError) as info:
        Taxonomy.from_yaml(f"name: t\nversion: {version}\ntopics: {{e: {{label: E, terms: [a1]}}}}")
    (problem,) = info.value.problems
    assert problem.path == "version"
    assert f'e.g. version: "{version}"' in problem.message
    assert f"reads it as the number {number}," in problem.message


def test_a_whole_number_version_is_text() -> None:
    taxonomy = Taxonomy.from_yaml("name: t\nversion: 2\ntopics: {e: {label: E, terms: [a1]}}")
    assert taxonomy.version == "2"


def test_a_folder_is_not_a_taxonomy(tmp_path: Path) -> None:
    with pytest.raises(TaxonomyError, match=r"is a folder; give the taxonomy's \.yaml file"):
        load_taxonomy(tmp_path)


@pytest.mark.parametrize("name", ["", "  "])
def test_an_empty_taxonomy_name_says_what_to_give(name: str) -> None:
    with pytest.raises(TaxonomyError) as info:
        load_taxonomy(name)
    (problem,) = info.value.problems
    assert str(problem) == (
        f"{name!r}: no taxonomy named: give a packaged name (cooperation-extended, default) "
        "or a .yaml file"
    )


# --- libyaml and PyYAML's own loader -------------------------------------------------------

_YAMLS = [
    "name: x\nversion: '1'\ntopics:\n  trade:\n    label: Trade\n    terms: [tariff, 'a: b']\n",
    "base: &b\n  label: B\n  terms: [x]\ntopics:\n  a: *b\n  c: {label: C, terms: [\"ü\", '✓']}\n",
    "text: |\n  two\n  lines\nfolded: >\n  one\n  line\n# a comment\n"
    "n: [1, 2.5, .inf, ~, yes, 0x1F]\n",
    "v: 1.10\ndup: 1\ndup: 2\n",
]


@pytest.mark.parametrize("text", [*_YAMLS, "packaged"])
def test_libyaml_gives_what_pyyamls_own_loader_gives(text: str) -> None:
    from policy_topics import safe_yaml

    if text == "packaged":
        text = (Path(__file__).parent.parent / "taxonomies" / "default.yaml").read_text("utf-8")
    assert safe_yaml._FAST_LOADER is not None  # PyYAML's wheels bring libyaml
    found: list[tuple[object, ...]] = []
    for loader in (safe_yaml._FAST_LOADER, None):
        saved, safe_yaml._FAST_LOADER = safe_yaml._FAST_LOADER, loader
        try:
            kept: list[object] = []
            found.append((*safe_yaml.load_yaml(text, "t.yaml", kept=kept), kept))  # type: ignore[arg-type]
        finally:
            safe_yaml._FAST_LOADER = saved
    assert found[0] == found[1]


def test_a_syntax_error_is_told_in_pyyamls_words_and_line() -> None:
    text = "topics:\n  trade:\n\tlabel: Trade\n"
    with pytest.raises(TaxonomyError, match=r"t\.yaml:3.*indent with spaces"):
        Taxonomy.from_yaml(text, source="t.yaml")


@pytest.mark.parametrize(
    "pattern",
    [
        "[{LOWER: trade, OP: '{0,20}'}]",
        "[{LOWER: trade, OP: '+'}, {LOWER: trade, OP: '+'}]",
        "[{LOWER: trade, OP: '+'}, {LOWER: trade}, {LOWER: trade, OP: '*'}]",
        "[{LOWER: trade, OP: '{2,}'}, {LOWER: trade, OP: '{0,10}'}]",
        "[{LOWER: trade, OP: '+'}, {LOWER: trade, OP: '{,6}'}]",
    ],
)
def test_patterns_that_match_in_too_many_ways_are_refused(pattern: str) -> None:
    # On 50 words "trade", '{0,20}' took 12-20 s, and three '+' 185 s on one
    # sentence of 2,000 characters: spaCy's Matcher tries every way to match.
    text = one_term_yaml(f"{{pattern: {pattern}}}")
    with pytest.raises(TaxonomyError) as info:
        Taxonomy.from_yaml(text, source="t.yaml")
    (problem,) = info.value.problems
    assert (problem.line, problem.path) == (6, "topics.e.terms[0].pattern")
    assert problem.message.startswith("too many repeated or optional tokens (")


@pytest.mark.parametrize(
    "pattern",
    [
        "[{LOWER: trade, OP: '{0,10}'}]",
        "[{LOWER: trade, OP: '+'}, {LOWER: free, OP: '{1,6}'}]",
        "[{LOWER: buy}, {LOWER: local, OP: '?'}, {LOWER: goods, OP: '*'}, {LOWER: x, OP: '{3}'}]",
    ],
)
def test_patterns_within_the_bounds_are_kept(pattern: str) -> None:
    text = one_term_yaml(f"{{pattern: {pattern}}}")
    assert Taxonomy.from_yaml(text).topics["e"].terms[0].pattern


@pytest.mark.parametrize(
    ("term", "path", "message"),
    [
        ("{term: trade, weight: true}", "weight", "Input should be a valid number (got True)"),
        (
            "{term: trade, weight: '0.5'}",
            "weight",
            "Input should be a valid number (got '0.5'): write the number without quotes",
        ),
        (
            "{term: trade, near: [steel], window: true}",
            "window",
            "Input should be a valid integer (got True)",
        ),
        (
            "{term: trade, case_sensitive: 'off'}",
            "case_sensitive",
            "Input should be a valid boolean (got 'off')",
        ),
    ],
)
def test_values_of_another_type_are_not_coerced(term: str, path: str, message: str) -> None:
    # pydantic's lax mode made true a weight of 1.0 and 'off' False, without a word.
    text = one_term_yaml(term)
    with pytest.raises(TaxonomyError) as info:
        Taxonomy.from_yaml(text, source="t.yaml")
    assert [str(p) for p in info.value.problems] == [
        f"t.yaml:6 topics.e.terms[0].{path}: {message}"
    ]
    # What YAML writes as a number is one: 2 is the weight 2.0.
    weighted = text.replace(term, "{term: trade, weight: 2, near: [steel], window: 4}")
    (spec,) = Taxonomy.from_yaml(weighted).topics["e"].terms
    assert (spec.weight, spec.window) == (2.0, 4)


def test_a_mapping_for_a_taxonomy_says_how_to_make_one() -> None:
    # pathlib said "expected str, bytes or os.PathLike object, not dict".
    data = {"name": "t", "topics": {"e": {"label": "E", "terms": ["trade"]}}}
    with pytest.raises(TypeError, match=r"not dict: build one with Taxonomy.model_validate"):
        load_taxonomy(data)  # type: ignore[arg-type]
    assert load_taxonomy(Taxonomy.model_validate(data)).topics["e"].terms[0].term == "trade"
