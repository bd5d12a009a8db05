"""Shared fixtures: the shared corpora are optional and tests skip with a reason without them."""

from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
CORPORA = ROOT.parent / "shared" / "corpora"
SEED = CORPORA / "seed" / "china-lac-industrial-cooperation.txt"
SAMPLE = ROOT / "examples" / "sample-policy-paper.txt"


@pytest.fixture(scope="session")
def corpora() -> Path:
    if not CORPORA.is_dir():
        pytest.skip("../shared/corpora is not present next to the repository")
    return CORPORA


@pytest.fixture(scope="session")
def seed_text() -> str:
    if not SEED.is_file():
        pytest.skip("../shared/corpora/seed is not present next to the repository")
    return SEED.read_text(encoding="utf-8")


def one_term_yaml(entry: str) -> str:
    """A taxonomy's YAML whose one topic ``e`` has ``entry`` as its only term, on line 6."""
    return f"name: t\ntopics:\n  e:\n    label: E\n    terms:\n      - {entry}\n"
