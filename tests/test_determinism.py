"""Determinism: byte-identical JSON across runs, n_process values and hash seeds."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from pathlib import Path

from policy_topics import Extractor
from tests.conftest import ROOT, SAMPLE

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


def test_results_are_byte_identical_across_runs() -> None:
    text = SAMPLE.read_text(encoding="utf-8")
    first = Extractor().extract(text).model_dump_json()
    second = Extractor().extract(text).model_dump_json()
    assert hashlib.sha256(first.encode()).digest() == hashlib.sha256(second.encode()).digest()


def test_results_are_byte_identical_across_n_process() -> None:
    sample = SAMPLE.read_text(encoding="utf-8")
    texts = [sample.replace("Norland", name) for name in ("Norland", "Estland", "Westmark")] * 4
    one = [r.model_dump_json() for r in Extractor().extract_many(texts, n_process=1)]
    two = [r.model_dump_json() for r in Extractor().extract_many(texts, n_process=2, batch_size=2)]
    assert one == two
