"""Shared fixtures: the shared corpora are optional and tests skip with a reason without them."""

from __future__ import annotations

import json
import signal
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
CORPORA = ROOT.parent / "shared" / "corpora"
SEED = CORPORA / "seed" / "china-lac-industrial-cooperation.txt"
SAMPLE = ROOT / "examples" / "sample-policy-paper.txt"

# The command-line tests press Ctrl-C (SIGINT) on the command line they start.
# A shell starts a background job (`make test &` in a script, a CI runner's
# step) with SIGINT ignored, and every process it starts inherits that; the
# command line then rightly keeps ignoring it, and those tests would fail.
# With a handler here, the processes the tests start get SIGINT's default.
if signal.getsignal(signal.SIGINT) is signal.SIG_IGN:
    signal.signal(signal.SIGINT, signal.default_int_handler)


@pytest.fixture(scope="session")
def corpora() -> Path:
    if not CORPORA.is_dir():
        pytest.skip("../shared/corpora is not present next to the repository")
    return CORPORA


@pytest.fixture(scope="session")
def corpus_texts(corpora: Path) -> list[str]:
    """The texts of the shared corpora's JSON Lines files, in file order."""
    texts = []
    for path in sorted(corpora.glob("*.jsonl")):
        with path.open(encoding="utf-8") as stream:
            texts.extend(json.loads(line)["text"] for line in stream)
    return texts


@pytest.fixture(scope="session")
def seed_text() -> str:
    if not SEED.is_file():
        pytest.skip("../shared/corpora/seed is not present next to the repository")
    return SEED.read_text(encoding="utf-8")


def one_term_yaml(entry: str) -> str:
    """A taxonomy's YAML whose one topic ``e`` has ``entry`` as its only term, on line 6."""
    return f"name: t\ntopics:\n  e:\n    label: E\n    terms:\n      - {entry}\n"
