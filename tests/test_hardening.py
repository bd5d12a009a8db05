"""Hostile documents and taxonomies: valid results, clear errors, determinism."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from policy_topics import DocumentResult, Extractor, Taxonomy, TaxonomyError, load_taxonomy
from policy_topics.text import MAX_SENTENCE_CHARS
from tests.conftest import ROOT, SAMPLE
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


# --- taxonomies -------------------------------------------------------------------------


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


# --- determinism ------------------------------------------------------------------------

_DIGEST = """
import hashlib, json, pathlib, sys
from policy_topics import Extractor
texts = [pathlib.Path(sys.argv[1]).read_text(encoding="utf-8")]
texts += [json.loads(line)["text"] for line in sys.stdin if line.strip()]
out = "\\n".join(r.model_dump_json() for r in Extractor().extract_many(texts))
print(hashlib.sha256(out.encode()).hexdigest())
"""


def _digest(seed: str, extra: str) -> str:
    env = {**os.environ, "PYTHONHASHSEED": seed}
    done = subprocess.run(
        [sys.executable, "-c", _DIGEST, str(SAMPLE)],
        input=extra,
        capture_output=True,
        text=True,
        env=env,
        cwd=ROOT,
        check=True,
    )
    return done.stdout.strip()


def test_results_are_byte_identical_across_hash_seeds(corpora: Path) -> None:
    extra = (corpora / "cap-sotu-dev.jsonl").read_text(encoding="utf-8")
    assert _digest("0", extra) == _digest("1", extra)


def test_results_are_byte_identical_across_runs(extractor: Extractor) -> None:
    text = SAMPLE.read_text(encoding="utf-8")
    first = Extractor().extract(text).model_dump_json()
    second = Extractor().extract(text).model_dump_json()
    assert hashlib.sha256(first.encode()).digest() == hashlib.sha256(second.encode()).digest()
