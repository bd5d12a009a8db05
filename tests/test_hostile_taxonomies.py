"""Hostile taxonomies: nothing executes, nothing blows up, every problem is named."""

from __future__ import annotations

from pathlib import Path

import pytest

from policy_topics import Taxonomy, TaxonomyError, load_taxonomy


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
