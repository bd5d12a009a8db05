"""The benchmark script runs and reports every field it documents (timings are not checked)."""

from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent


def _finite(value: object) -> bool:
    return isinstance(value, (int, float)) and math.isfinite(value)


def _bench(corpus: Path, texts: list[str], *args: str) -> dict[str, Any]:
    """Run the benchmark script on ``texts`` (written to ``corpus``) and parse its JSON."""
    corpus.write_text("".join(json.dumps({"text": t}) + "\n" for t in texts), encoding="utf-8")
    run = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "run.py"), *args, str(corpus)],
        capture_output=True,
        text=True,
        check=True,
        timeout=300,
    )
    report: dict[str, Any] = json.loads(run.stdout)
    return report


def test_overhead_reports_parts_floor_and_shapes(tmp_path: Path) -> None:
    corpus = tmp_path / "docs.jsonl"
    texts = [
        "We will cut tariffs on steel.",
        "Energy security matters.",
        "The parties agree to cooperate on trade. They will open markets for solar panels.\n\n"
        "A second paragraph on digital services follows.",
    ]
    report = _bench(corpus, texts, "--only", "overhead", "--rounds", "2")
    assert report["corpus"]["documents"] == 3
    overhead = report["overhead"]
    assert len(overhead["rounds"]) == 2
    assert set(overhead["parts"]) == {"to_array", "finding", "writing"}
    assert all(_finite(v) for v in overhead["parts"].values())
    assert _finite(overhead["floor"])
    references = {
        "sentencizer",
        "span_ruler_phrases",
        "sentencizer_span_ruler_phrases",
        "span_ruler_taxonomy",
    }
    assert set(overhead["reference"]) == references
    assert all(_finite(v) for v in overhead["reference"].values())
    shapes = overhead["by_shape"]
    assert shapes["one_sentence"]["documents"] == 2
    assert shapes["several_sentences"]["documents"] == 1
    for shape in shapes.values():
        assert shape["tokenize_us_per_doc"] > 0
        assert _finite(shape["component_us_per_doc"])
        assert _finite(shape["overhead"])
        assert set(shape["reference"]) == references
    assert overhead["met"] == (overhead["overhead"] <= 0.30)


def test_parallel_reports_both_inputs_and_the_references(tmp_path: Path) -> None:
    corpus = tmp_path / "docs.jsonl"
    texts = ["We will cut tariffs on steel.", "Energy security matters. Solar panels too."]
    parallel = _bench(corpus, texts, "--only", "parallel", "--parallel-mb", "0.01")["parallel"]
    assert parallel["corpus_repeated"]["mb"] >= 0.01
    for name in ("corpus_repeated", "varied", "corpus_repeated_warm"):
        assert _finite(parallel[name]["speedup"])
    for name in ("tokenize", "component"):
        assert _finite(parallel["spacy_pipe"][name]["speedup"])
    assert parallel["met"] == {
        name: parallel[name]["speedup"] >= 1.7 for name in ("corpus_repeated", "varied")
    }
