"""The benchmark script runs and reports every field it documents (timings are not checked)."""

from __future__ import annotations

import importlib.util
import json
import math
import statistics
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from policy_topics import Extractor

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
    # The component's hits lie in as many sentences as the Extractor tags.
    extractor = Extractor()
    assert overhead["sentences_with_hits"] == sum(
        len(extractor.extract(t).sentences) for t in texts
    )
    assert overhead["reference_phrases"] > 600


def test_parallel_reports_both_inputs_and_the_references(tmp_path: Path) -> None:
    corpus = tmp_path / "docs.jsonl"
    texts = ["We will cut tariffs on steel.", "Energy security matters. Solar panels too."]
    parallel = _bench(corpus, texts, "--only", "parallel", "--parallel-mb", "0.01")["parallel"]
    assert parallel["corpus_repeated"]["mb"] >= 0.01
    for name in ("corpus_repeated", "varied", "corpus_repeated_warm"):
        assert _finite(parallel[name]["speedup"])
    for name in ("corpus_repeated", "varied"):
        cpu = parallel[name]["cpu"]
        assert cpu["n_process_1_s"] > 0 and cpu["n_process_2_main_s"] > 0
        assert cpu["n_process_2_workers_s"] > 0  # the ended workers are counted
        assert cpu["cpu_bound"] == pytest.approx(2 / cpu["cpu_ratio"], abs=0.02)
        alone = parallel[name]["alone"]
        assert _finite(alone["speedup"]) and alone["cpu_ratio"] > 0  # its processes counted
    for name in ("tokenize", "component"):
        assert _finite(parallel["spacy_pipe"][name]["speedup"])
    assert parallel["met"] == {
        name: parallel[name]["speedup"] >= 1.7 for name in ("corpus_repeated", "varied")
    }


def test_kept_reports_results_kept_and_dropped(tmp_path: Path) -> None:
    corpus = tmp_path / "docs.jsonl"
    texts = ["We will cut tariffs on steel.", "Energy security matters. Solar panels too."]
    kept = _bench(corpus, texts, "--only", "kept", "--parallel-mb", "0.01")["kept"]
    assert kept["mb"] >= 0.01 and kept["documents"] % 2 == 0
    steps = ("one_kept", "one_dropped", "two_kept", "spacy_kept", "spacy_dropped")
    assert all(_finite(kept[f"{step}_s"]) and kept[f"{step}_s"] >= 0 for step in steps)
    assert set(kept["full_collections"]) == set(steps)
    assert all(type(n) is int and n >= 0 for n in kept["full_collections"].values())
    for name in ("keeping_cost", "spacy_keeping_cost", "ratio_kept", "speedup_kept"):
        assert _finite(kept[name])


def test_files_section_reads_generated_pdfs_both_ways(tmp_path: Path) -> None:
    pytest.importorskip("pypdf")
    corpus = tmp_path / "docs.jsonl"
    files = _bench(corpus, ["We will cut tariffs."], "--only", "files", "--pdfs", "3,2")["files"]
    assert files["files"] == 3 and files["pages"] == 6 and files["text_mb"] > 0
    assert _finite(files["read_ms_per_page"]) and _finite(files["tag_ms_per_page"])
    for name in ("n_process_1", "main_reads", "workers_read"):
        assert len(files[name]["rounds"]) == 3 and _finite(files[name]["seconds"])
    assert _finite(files["main_reads"]["speedup"]) and _finite(files["workers_read"]["speedup"])


def test_quick_reports_the_throughput_ratio_as_ci_prints_it(tmp_path: Path) -> None:
    corpus = tmp_path / "docs.jsonl"
    texts = ["We will cut tariffs on steel.", "Energy security matters. Solar panels too."]
    report = _bench(corpus, texts, "--quick")
    assert report["quick"] is True and set(report) >= {"machine", "corpus", "throughput"}
    throughput = report["throughput"]
    assert len(throughput["rounds"]) == 3
    assert all(_finite(r["ratio"]) and r["ratio"] > 0 for r in throughput["rounds"])
    assert set(throughput["parts_ms"]) == {
        "extract_many",
        "segmenting",
        "matching",
        "assembling",
        "validating",
    }
    assert throughput["met"] == (throughput["ratio"] >= 1.0)


def test_memory_taxonomy_and_long_sections_run_small(tmp_path: Path) -> None:
    sys.path.insert(0, str(ROOT / "bench"))
    try:
        import synth  # the benchmark's text generator: enough words for 10,000 terms
    finally:
        sys.path.pop(0)
    corpus = tmp_path / "docs.jsonl"
    texts = list(synth.documents(3, 300_000))
    report = _bench(
        corpus,
        texts,
        "--only",
        "memory,taxonomy,long",
        "--memory-mb",
        "4",
        "--long-mb",
        "0.05,0.1",
        "--hostile-mb",
        "0.05,0.2",
        "--compile-rounds",
        "1",
    )
    memory = report["memory"]
    assert memory["exit_code"] == 0 and memory["input_mb"] >= 3.9
    assert set(memory["rss_mb_at_input_mb"]) == {"1", "2", "4"}
    assert memory["met"] == (memory["peak_rss_mb"] <= 400 and memory["flat"])
    taxonomy = report["taxonomy"]
    assert taxonomy["sparse"]["terms"] >= 10_000 and taxonomy["sparse"]["matches_large"] > 0
    assert len(taxonomy["sparse"]["load_validate_compile_rounds_s"]) == 1
    long = report["long"]
    assert [p["mb"] for p in long["prose"]] == [0.05, 0.1]
    for point in long["prose"]:  # the median of three timings, the sizes in turn
        assert len(point["rounds_s"]) == 3
        assert point["seconds"] == statistics.median(point["rounds_s"])
    assert set(long["pathological"]) == {
        "no_sentence_ends",
        "one_line",
        "abbreviation_runs",
        "end_runs",
    }
    for shape in long["pathological"].values():
        assert set(shape) == {"seconds_0.05mb", "seconds_0.2mb", "exponent"}
        assert _finite(shape["exponent"])


@pytest.mark.parametrize("option", ["--rounds", "--compile-rounds", "--memory-mb"])
@pytest.mark.parametrize("value", ["0", "-2", "x"])
def test_counting_options_refuse_what_counts_nothing(option: str, value: str) -> None:
    # --compile-rounds 0 used to time one round all the same, and --rounds 0
    # to fail after the corpus was read.
    run = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "run.py"), option, value],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert run.returncode == 2 and run.stdout == ""
    assert f"argument {option}: must be a whole number of 1 or more" in run.stderr


def test_long_times_every_size_in_turn_three_times() -> None:
    # The sizes alternate, so that a slow spell of the machine hits all of them.
    sys.path.insert(0, str(ROOT / "bench"))
    try:
        spec = importlib.util.spec_from_file_location("bench_run", ROOT / "bench" / "run.py")
        assert spec is not None and spec.loader is not None
        bench = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(bench)
    finally:
        sys.path.pop(0)
    calls: list[str] = []

    class Recording:
        def extract(self, text: str) -> None:
            calls.append(text)

    took = bench._alternated(Recording(), ["small", "large"])
    assert calls == ["small", "large"] * 3
    assert [len(times) for times in took] == [3, 3]
    assert all(_finite(t) for times in took for t in times)
