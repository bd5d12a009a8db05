"""Benchmarks of policy-topics: speed, memory, taxonomy size and long documents.

Prints one JSON object per run on stdout (see bench/README.md for every field):

    .venv/bin/python bench/run.py                 # all measurements, on ../shared/corpora
    .venv/bin/python bench/run.py --quick         # the throughput ratio only (CI)
    .venv/bin/python bench/run.py --only parallel,memory my.jsonl folder/

Timings are reported, never asserted: ``met`` says whether a target was reached.
"""

from __future__ import annotations

import argparse
import gc
import json
import math
import multiprocessing
import os
import platform
import re
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterable
from functools import partial
from pathlib import Path
from typing import Any, cast

import pydantic
import spacy
import synth
from spacy import about as spacy_about
from spacy.attrs import SENT_START
from spacy.language import Language
from spacy.tokens import Doc

import policy_topics
from policy_topics import Extractor, Taxonomy, __version__, load_taxonomy
from policy_topics.docpath import _ATTRS, DocMatcher
from policy_topics.extract import _AUTO_BATCH_DOCS, _full
from policy_topics.io import read_documents
from policy_topics.matching import PolicyTopics, _sentence_starts
from policy_topics.terms import Lexicon, inflection_key
from policy_topics.text import split_sentences

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_CORPUS = ROOT.parent / "shared" / "corpora"
MEASUREMENTS = (
    "throughput",
    "overhead",
    "parallel",
    "kept",
    "files",
    "memory",
    "taxonomy",
    "long",
)
MB = 1_000_000


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "corpus",
        nargs="*",
        help="JSONL files, folders or text files (default: ../shared/corpora/*.jsonl)",
    )
    parser.add_argument("--quick", action="store_true", help="throughput ratio only, 3 rounds")
    parser.add_argument("--only", help=f"comma-separated subset of {','.join(MEASUREMENTS)}")
    parser.add_argument("--rounds", type=_count, default=5, help="alternating rounds (default 5)")
    parser.add_argument(
        "--parallel-mb", type=float, default=5.0, help="least text for the parallel section"
    )
    parser.add_argument(
        "--pdfs", default="24,27", help="PDFs generated for the files section, and pages of each"
    )
    parser.add_argument("--memory-mb", type=_count, default=200, help="JSONL streamed by the CLI")
    parser.add_argument(
        "--compile-rounds",
        type=_count,
        default=3,
        help="times the 10,000-term taxonomy is loaded and compiled (the median is reported)",
    )
    parser.add_argument("--long-mb", default="1,5,10,25,50", help="sizes of single documents")
    parser.add_argument(
        "--hostile-mb", default="2,8", help="the two sizes of each hostile document shape"
    )
    parser.add_argument("--indent", type=int, default=None, help="pretty-print the JSON")
    args = parser.parse_args(argv)

    chosen = ["throughput"] if args.quick else (args.only or ",".join(MEASUREMENTS)).split(",")
    unknown = set(chosen) - set(MEASUREMENTS)
    if unknown:
        parser.error(f"unknown measurement(s): {', '.join(sorted(unknown))}")
    rounds = 3 if args.quick else args.rounds

    report: dict[str, Any] = {"benchmark": "policy-topics", "quick": args.quick}
    report["machine"] = machine()
    sources = args.corpus or sorted(str(p) for p in DEFAULT_CORPUS.glob("*.jsonl"))
    if not sources:
        report["skipped"] = f"no corpus given and {DEFAULT_CORPUS} holds no *.jsonl"
        _emit(report, args.indent)
        return 0
    texts = load_texts(sources)
    report["corpus"] = {
        "sources": [_shown(s) for s in sources],
        "documents": len(texts),
        "mb": round(_mb(texts), 3),
        "sentences": sum(len(split_sentences(t)) for t in texts),
    }
    steps: dict[str, Callable[[], dict[str, Any]]] = {
        "throughput": lambda: throughput(texts, rounds),
        "overhead": lambda: component_overhead(texts, rounds),
        "parallel": lambda: parallel(texts, args.parallel_mb),
        "kept": lambda: kept(texts, args.parallel_mb, rounds),
        "files": lambda: files(*(int(n) for n in args.pdfs.split(","))),
        "memory": lambda: memory(args.memory_mb),
        "taxonomy": lambda: taxonomy_size(texts, rounds=3, compile_rounds=args.compile_rounds),
        "long": lambda: long_documents(
            [float(s) for s in args.long_mb.split(",")],
            [float(s) for s in args.hostile_mb.split(",")],
        ),
    }
    for name in MEASUREMENTS:
        if name in chosen:
            report[name] = steps[name]()
    report["machine"]["load_average_end"] = _load()
    _emit(report, args.indent)
    return 0


# --- the machine and the corpus -----------------------------------------------------


def machine() -> dict[str, Any]:
    cpu = platform.processor() or "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    info: dict[str, Any] = {
        "nproc": os.cpu_count(),
        "cpu": cpu,
        "platform": platform.platform(),
        "python": platform.python_version(),
        "spacy": spacy_about.__version__,
        "pydantic": pydantic.__version__,
        "policy_topics": __version__,
        # The modules in use compiled by mypyc; [] when the install is pure Python.
        "compiled": list(policy_topics.COMPILED),
        "load_average_start": _load(),
    }
    try:
        import psutil

        info["memory_gb"] = round(psutil.virtual_memory().total / 1e9, 1)
    except ImportError:
        pass
    return info


def _count(value: str) -> int:
    """A whole number of 1 or more, for the options that count rounds or megabytes."""
    try:
        number = int(value)
    except ValueError:
        number = 0
    if number < 1:
        raise argparse.ArgumentTypeError(f"must be a whole number of 1 or more, not {value!r}")
    return number


def load_texts(sources: Iterable[str]) -> list[str]:
    texts = []
    for doc in read_documents(list(sources)):
        text = doc.get("text")
        if isinstance(text, str) and text.strip():
            texts.append(text)
    return texts


# --- measurements ---------------------------------------------------------------------


def throughput(texts: list[str], rounds: int) -> dict[str, Any]:
    """Full records from ``Extractor().extract_many`` against tokenising only.

    Both run in this process, alternating, on the same texts. The first round
    is cold for both (spaCy's tokenizer cache and ours are empty); later rounds
    are warm, which is the steady state of a long run over a real archive.
    """
    nlp = spacy.blank("en")
    extractor = _cold_extractor()
    size = _mb(texts)
    per_round = []
    for _ in range(rounds):
        tokenize = _timed(lambda: _drain(nlp.pipe(texts)))
        extract = _timed(lambda: _drain(extractor.extract_many(texts)))
        per_round.append(
            {
                "tokenize_mb_s": round(size / tokenize, 3),
                "extract_mb_s": round(size / extract, 3),
                "ratio": round(tokenize / extract, 3),
            }
        )
    warm = per_round[1:] or per_round
    ratio = statistics.median(r["ratio"] for r in warm)
    return {
        "rounds": per_round,
        "tokenize_mb_s": statistics.median(r["tokenize_mb_s"] for r in warm),
        "extract_mb_s": statistics.median(r["extract_mb_s"] for r in warm),
        "ratio": ratio,
        "ratio_cold": per_round[0]["ratio"],
        "parts_ms": _extract_parts(extractor, texts),
        "target": ">= 1.0 (warm rounds)",
        "met": ratio >= 1.0,
    }


def _cold_extractor() -> Extractor:
    """A new Extractor whose caches are all empty, the module-level one of inflections too."""
    inflection_key.cache_clear()
    return Extractor()


def _extract_parts(extractor: Extractor, texts: list[str]) -> dict[str, float]:
    """Warm milliseconds of each step of extraction over ``texts`` (medians of 3)."""
    from policy_topics.records import DocumentResult

    lexicon = extractor.component.lexicon
    builder = extractor._builder()
    spans = [split_sentences(t) for t in texts]
    hits = [lexicon.match_text(t, s) for t, s in zip(texts, spans, strict=True)]
    payloads = [builder.payload(t, s, h) for t, s, h in zip(texts, spans, hits, strict=True)]
    steps: dict[str, Callable[[], object]] = {
        "extract_many": lambda: _drain(extractor.extract_many(texts)),
        "segmenting": lambda: _drain(split_sentences(t) for t in texts),
        "matching": lambda: _drain(
            lexicon.match_text(t, s) for t, s in zip(texts, spans, strict=True)
        ),
        "assembling": lambda: _drain(
            builder.payload(t, s, h) for t, s, h in zip(texts, spans, hits, strict=True)
        ),
        "validating": lambda: _drain(DocumentResult.model_validate(p) for p in payloads),
    }
    return {
        name: round(statistics.median(_timed(step) for _ in range(3)) * 1000, 1)
        for name, step in steps.items()
    }


def component_overhead(texts: list[str], rounds: int) -> dict[str, Any]:
    """``nlp.add_pipe("policy_topics")`` on a blank pipeline against the blank pipeline.

    ``overhead`` is the component's own work: sentence boundaries, ``doc.spans``
    and the hits kept for ``doc._.policy_topics``, whose DocumentResult is built
    on first access; ``overhead_with_results`` also reads it for every Doc.
    ``parts`` splits the component's warm time by running parts of it as
    components of their own, in the same rounds: reading the token columns (one
    ``doc.to_array`` per Doc), finding sentences and hits, and writing them to
    the Doc. ``floor`` is a component that only reads the columns and writes one
    sentence and an empty span group per Doc: the least any component of this
    kind costs. ``by_shape`` repeats the comparison on the documents of one
    sentence and on those of several. ``reference`` times spaCy's own
    components in the same rounds (see :func:`_reference_pipelines`): what a
    sentence splitter and a ruler holding the same terms cost on this corpus.
    """
    plain = spacy.blank("en")
    tagged = spacy.blank("en")
    tagged.add_pipe("policy_topics")
    # The same component matching from the text, as before the Doc path.
    by_text = spacy.blank("en")
    cast(Any, by_text.add_pipe("policy_topics"))._doc_matcher = None
    pipelines = {"tagging": tagged, "text_way": by_text}
    for step in ("reading", "finding", "floor"):
        nlp = pipelines[step] = spacy.blank("en")
        nlp.add_pipe(f"bench_{step}")
    references = _reference_pipelines()
    pipelines.update(references)
    size = _mb(texts)
    per_round = []
    steps: dict[str, list[float]] = {
        step: [] for step in ("reading", "finding", "floor", *references)
    }
    for _ in range(rounds):
        tokenize = _timed(lambda: _drain(plain.pipe(texts)))
        took = {name: _timed(_piping(nlp, texts)) for name, nlp in pipelines.items()}
        reading = _timed(lambda: _drain(d._.policy_topics for d in tagged.pipe(texts)))
        per_round.append(
            {
                "tokenize_mb_s": round(size / tokenize, 3),
                "with_component_mb_s": round(size / took["tagging"], 3),
                "overhead": round(took["tagging"] / tokenize - 1, 3),
                "overhead_with_results": round(reading / tokenize - 1, 3),
                "overhead_text_path": round(took["text_way"] / tokenize - 1, 3),
            }
        )
        for step, times in steps.items():
            times.append(took[step] / tokenize - 1)
    warm = per_round[1:] or per_round
    overhead = statistics.median(r["overhead"] for r in warm)
    part = {step: round(statistics.median(times[1:] or times), 3) for step, times in steps.items()}
    one = [t for t in texts if len(split_sentences(t)) == 1]
    several = [t for t in texts if len(split_sentences(t)) > 1]
    component = cast(PolicyTopics, tagged.get_pipe("policy_topics"))
    hit = sum(len(component.match(doc)[1]) for doc in plain.pipe(texts))
    return {
        "sentences_with_hits": hit,
        "reference_phrases": len(_ruler_patterns_phrases()),
        "rounds": per_round,
        "overhead": overhead,
        "overhead_with_results": statistics.median(r["overhead_with_results"] for r in warm),
        "overhead_text_path": statistics.median(r["overhead_text_path"] for r in warm),
        "parts": {
            "to_array": part["reading"],
            "finding": round(part["finding"] - part["reading"], 3),
            "writing": round(overhead - part["finding"], 3),
        },
        "floor": part["floor"],
        "reference": {name: part[name] for name in references},
        "by_shape": {
            "one_sentence": _shape_overhead(plain, tagged, references, one, rounds),
            "several_sentences": _shape_overhead(plain, tagged, references, several, rounds),
        },
        "target": "<= 0.30 (warm rounds)",
        "met": overhead <= 0.30,
    }


def _shape_overhead(
    plain: Language,
    tagged: Language,
    references: dict[str, Language],
    texts: list[str],
    rounds: int,
) -> dict[str, Any]:
    """Component overhead on some of the texts, with time per document and the references'."""
    if not texts:
        return {"documents": 0}
    pipelines = {"tokenize": plain, "tagging": tagged, **references}
    times: dict[str, list[float]] = {name: [] for name in pipelines}
    for _ in range(rounds):
        for name, nlp in pipelines.items():
            times[name].append(_timed(_piping(nlp, texts)))
    warm = {name: statistics.median(took[1:] or took) for name, took in times.items()}
    tokenize = warm["tokenize"]
    return {
        "documents": len(texts),
        "mb": round(_mb(texts), 3),
        "tokenize_us_per_doc": round(tokenize / len(texts) * 1e6, 1),
        "component_us_per_doc": round((warm["tagging"] - tokenize) / len(texts) * 1e6, 1),
        "overhead": round(warm["tagging"] / tokenize - 1, 3),
        "reference": {name: round(warm[name] / tokenize - 1, 3) for name in references},
    }


def _ruler_patterns_phrases() -> list[dict[str, Any]]:
    """The phrase patterns of the reference span ruler (``span_ruler_phrases``)."""
    patterns = _ruler_patterns(load_taxonomy("default"))
    return [p for p in patterns if isinstance(p["pattern"], str)]


def _reference_pipelines() -> dict[str, Language]:
    """Blank pipelines with spaCy's own components, to compare the component with.

    ``sentencizer``: spaCy's rule-based sentence splitter. ``span_ruler_phrases``:
    a span ruler holding the default taxonomy's phrases, matched on their
    lower-case form by spaCy's compiled PhraseMatcher. ``sentencizer_span_ruler_phrases``:
    both. ``span_ruler_taxonomy``: a span ruler holding all of the taxonomy, its
    token patterns and prefix wildcards too, which spaCy's Matcher runs.
    """
    patterns = _ruler_patterns(load_taxonomy("default"))
    phrases = _ruler_patterns_phrases()
    pipelines: dict[str, Language] = {}
    for name, sentences, ruler in (
        ("sentencizer", True, None),
        ("span_ruler_phrases", False, phrases),
        ("sentencizer_span_ruler_phrases", True, phrases),
        ("span_ruler_taxonomy", False, patterns),
    ):
        nlp = pipelines[name] = spacy.blank("en")
        if sentences:
            nlp.add_pipe("sentencizer")
        if ruler is not None:
            component = nlp.add_pipe("span_ruler", config={"phrase_matcher_attr": "LOWER"})
            cast(Any, component).add_patterns(ruler)
    return pipelines


def _ruler_patterns(taxonomy: Taxonomy) -> list[dict[str, Any]]:
    """The taxonomy's terms, exclusions and context words as span ruler patterns.

    Each phrase matches its lower-case form (no inflections, capitals or
    context rules); a prefix wildcard becomes a token pattern with a regular
    expression on its last word; a token pattern is kept as it is. This is less
    than the component does, so the ruler's time is a lower bound of ours.
    """
    nlp = spacy.blank(taxonomy.language)
    patterns: list[dict[str, Any]] = []

    def phrase(label: str, text: str) -> None:
        if not text.endswith("*"):
            patterns.append({"label": label, "pattern": text.lower()})
            return
        words = [t.lower_ for t in nlp.make_doc(text[:-1])]
        steps: list[dict[str, Any]] = [{"LOWER": w} for w in words[:-1]]
        steps.append({"LOWER": {"REGEX": "^" + re.escape(words[-1])}})
        patterns.append({"label": label, "pattern": steps})

    for topic_id, _, topic in taxonomy.iter_topics():
        for spec in topic.terms:
            if spec.pattern is not None:
                patterns.append({"label": topic_id, "pattern": spec.pattern})
            elif spec.term is not None:
                phrase(topic_id, spec.term)
            for word in spec.near:
                phrase("near", word)
        for word in topic.exclude:
            phrase("exclude", word)
    for word in taxonomy.cues:
        phrase("cue", word)
    return patterns


@Language.factory("bench_reading")
def _reading(nlp: Language, name: str) -> Callable[[Doc], Doc]:
    """Reads the token columns the component reads, and nothing else."""

    def read(doc: Doc) -> Doc:
        doc.to_array(_ATTRS)
        return doc

    return read


@Language.factory("bench_finding")
def _finding(nlp: Language, name: str) -> Callable[[Doc], Doc]:
    """Finds sentences and hits as the component does, and writes nothing."""
    matcher = DocMatcher(Lexicon(load_taxonomy("default"), nlp.tokenizer, nlp.vocab))

    def find(doc: Doc) -> Doc:
        matcher.match(doc)
        return doc

    return find


@Language.factory("bench_floor")
def _floor(nlp: Language, name: str) -> Callable[[Doc], Doc]:
    """Reads the token columns, then writes one sentence and an empty span group."""

    def floor(doc: Doc) -> Doc:
        doc.to_array(_ATTRS)
        if len(doc):
            doc.from_array([SENT_START], cast(Any, _sentence_starts(doc, [(0, 1)])))
        doc.spans["floor"] = []
        return doc

    return floor


def parallel(texts: list[str], min_mb: float = 5.0, rounds: int = 3) -> dict[str, Any]:
    """``extract_many(n_process=2)`` against ``n_process=1``, each on a fresh Extractor.

    Each Extractor is built before its timer starts (building one is the same
    one-off cost for both); its caches start empty. One and two processes
    alternate over ``rounds`` rounds; the figures are medians.

    Two inputs of at least ``min_mb``: the corpus repeated (each worker must
    learn again the words the single process learns once, and short
    documents make the per-document hand-over count), and varied text of the
    same size in which nothing repeats.

    Three references: ``alone`` (in each input) is two forked processes, each
    extracting every other batch of the input (the batches ``extract_many``
    makes) on its own copy of the cold Extractor, records validated there and
    dropped: two processes with no pool, no hand-over and no main process to
    feed them, which bounds what the pool can reach on that input.
    ``corpus_repeated_warm`` is the first input again with
    both Extractors warmed on the corpus before the timers start (the workers,
    forked from a warm process, start with its caches), which isolates what
    learning the words again costs; ``spacy_pipe`` is spaCy's own
    ``nlp.pipe(texts, n_process=2)`` against ``n_process=1`` on the corpus, for
    a blank pipeline and for one with the component: its workers send every
    Doc back serialised.

    ``cpu`` gives, for each input, the CPU seconds one process spends and those
    two spend (the main process and the workers apart), medians: on two cores
    the speed-up can be at most 2 / ``cpu_ratio`` (``cpu_bound``), whatever
    else runs on the machine, while wall-clock times also hold the time the
    machine gave to others.
    """
    work = _repeated(texts, min_mb)
    varied = list(synth.documents(11, int(_mb(work) * MB)))
    out: dict[str, Any] = {}
    for name, docs in (("corpus_repeated", work), ("varied", varied)):
        size = _mb(docs)
        ones, twos = [], []
        cpu: dict[str, list[float]] = {"one": [], "main": [], "workers": [], "alone": []}
        alone: list[float] = []
        for _ in range(rounds):  # alternating, each on fresh Extractors; medians
            single, double = _cold_extractor(), _cold_extractor()
            wall, main, _ = _cpu_timed(partial(_drain_many, single, docs, 1))
            ones.append(wall)
            cpu["one"].append(main)
            wall, main, workers = _cpu_timed(partial(_drain_many, double, docs, 2))
            twos.append(wall)
            cpu["main"].append(main)
            cpu["workers"].append(workers)
            wall, _, both = _cpu_timed(partial(_alone, _cold_extractor(), docs))
            alone.append(wall)
            cpu["alone"].append(both)
        one, two = statistics.median(ones), statistics.median(twos)
        used = {key: statistics.median(values) for key, values in cpu.items()}
        ratio = (used["main"] + used["workers"]) / used["one"]
        out[name] = {
            "mb": round(size, 2),
            "documents": len(docs),
            "rounds": [round(a / b, 2) for a, b in zip(ones, twos, strict=True)],
            "n_process_1_s": round(one, 2),
            "n_process_2_s": round(two, 2),
            "speedup": round(one / two, 2),
            "cpu": {
                "n_process_1_s": round(used["one"], 2),
                "n_process_2_main_s": round(used["main"], 2),
                "n_process_2_workers_s": round(used["workers"], 2),
                "cpu_ratio": round(ratio, 2),
                "cpu_bound": round(2 / ratio, 2),
            },
            "alone": {
                "n_process_2_s": round(statistics.median(alone), 2),
                "speedup": round(one / statistics.median(alone), 2),
                "cpu_ratio": round(used["alone"] / used["one"], 2),
            },
        }
    single, double = Extractor(), Extractor()
    for extractor in (single, double):
        _drain_many(extractor, texts, 1)
    ones, twos = [], []
    for _ in range(rounds):
        ones.append(_timed(partial(_drain_many, single, work, 1)))
        twos.append(_timed(partial(_drain_many, double, work, 2)))
    one, two = statistics.median(ones), statistics.median(twos)
    out["corpus_repeated_warm"] = {
        "n_process_1_s": round(one, 2),
        "n_process_2_s": round(two, 2),
        "speedup": round(one / two, 2),
    }
    out["spacy_pipe"] = {"mb": round(_mb(texts), 3)}
    for name, component in (("tokenize", None), ("component", "policy_topics")):
        took = []
        for n_process in (1, 2):
            nlp = spacy.blank("en")
            if component is not None:
                nlp.add_pipe(component)
            took.append(_timed(partial(_drain_pipe, nlp, texts, n_process)))
        out["spacy_pipe"][name] = {
            "n_process_1_s": round(took[0], 2),
            "n_process_2_s": round(took[1], 2),
            "speedup": round(took[0] / took[1], 2),
        }
    out["target"] = ">= 1.7"
    out["met"] = {name: out[name]["speedup"] >= 1.7 for name in ("corpus_repeated", "varied")}
    return out


def kept(texts: list[str], min_mb: float = 5.0, rounds: int = 3) -> dict[str, Any]:
    """Results kept in a list, as ``list(extract_many(texts))`` keeps them, against results dropped.

    The other sections drop each result once it is made. A caller who keeps
    them grows Python's heap by the objects of every record, and the cyclic
    garbage collector makes a full pass over what it tracks each time the
    objects that survived its younger passes have grown by a quarter.
    On the corpus repeated to at least ``min_mb`` (as ``parallel``), with
    warm Extractors, alternated over ``rounds`` rounds (medians): one process
    keeping its records (``one_kept_s``) and dropping them (``one_dropped_s``),
    two processes keeping them, and spaCy's ``nlp.pipe`` keeping its Docs
    against dropping them. A timing that keeps its results ends with the young
    collection the caller's next allocation may start (``gc.collect(0)``); the
    passes of the older generations that may come later, in the caller's code,
    are not counted. The results are freed after
    the timer. ``full_collections`` counts the collector's full passes in the
    last round of each.
    """
    work = _repeated(texts, min_mb)
    nlp = spacy.blank("en")
    single, double = Extractor(), Extractor()
    for extractor in (single, double):
        _drain_many(extractor, texts, 1)  # the workers fork from a warm process
    _drain(nlp.pipe(texts))
    steps: dict[str, Callable[[], Iterable[object]]] = {
        "one_kept": lambda: single.extract_many(work),
        "one_dropped": lambda: single.extract_many(work),
        "two_kept": lambda: double.extract_many(work, n_process=2),
        "spacy_kept": lambda: nlp.pipe(work),
        "spacy_dropped": lambda: nlp.pipe(work),
    }
    took: dict[str, list[float]] = {name: [] for name in steps}
    full: dict[str, int] = {}
    for _ in range(rounds):
        for name, make in steps.items():
            gc.collect()
            before = gc.get_stats()[2]["collections"]
            started = time.perf_counter()
            if name.endswith("_kept"):
                results = list(make())
                gc.collect(0)
                took[name].append(time.perf_counter() - started)
                del results  # freed after the timer
            else:
                _drain(make())
                took[name].append(time.perf_counter() - started)
            full[name] = gc.get_stats()[2]["collections"] - before
    median = {name: statistics.median(times) for name, times in took.items()}
    return {
        "mb": round(_mb(work), 2),
        "documents": len(work),
        **{f"{name}_s": round(median[name], 3) for name in steps},
        "keeping_cost": round(median["one_kept"] / median["one_dropped"] - 1, 3),
        "spacy_keeping_cost": round(median["spacy_kept"] / median["spacy_dropped"] - 1, 3),
        # The throughput ratio when both keep what they make: records against Docs.
        "ratio_kept": round(median["spacy_kept"] / median["one_kept"], 3),
        "speedup_kept": round(median["one_kept"] / median["two_kept"], 2),
        "full_collections": full,
    }


def files(n_files: int, pages: int, rounds: int = 3) -> dict[str, Any]:
    """``extract_many(n_process=2)`` over a folder of PDFs, reading them in the main process or not.

    ``read_documents(folder)`` reads each PDF in the main process;
    ``read_documents(folder, defer=True)`` leaves them for the workers. Both
    against ``n_process=1``, fresh Extractors, alternated over ``rounds``
    (medians). ``read_ms_per_page`` and ``tag_ms_per_page`` time pypdf and the
    tagging apart, once, in this process.
    """
    try:
        import pypdf  # noqa: F401
    except ImportError:
        return {"skipped": 'needs pypdf: pip install "policy-topics[pdf]"'}
    from policy_topics.readers import _read_pdf

    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        size = synth.write_pdfs(folder, 17, n_files, pages)
        paths = sorted(folder.glob("*.pdf"))
        started = time.perf_counter()
        texts = [_read_pdf(p.read_bytes(), str(p))[0] for p in paths]
        read_s = time.perf_counter() - started
        tag_s = _timed(partial(_drain_many, _cold_extractor(), texts, 1))
        runs: dict[str, list[float]] = {"n_process_1": [], "main_reads": [], "workers_read": []}
        for _ in range(rounds):
            for name, n_process, defer in (
                ("n_process_1", 1, False),
                ("main_reads", 2, False),
                ("workers_read", 2, True),
            ):
                docs = read_documents(folder, defer=defer)
                runs[name].append(_timed(partial(_drain_many, _cold_extractor(), docs, n_process)))
    one = statistics.median(runs["n_process_1"])
    out: dict[str, Any] = {
        "files": n_files,
        "pages": n_files * pages,
        "pdf_mb": round(size / MB, 2),
        "text_mb": round(_mb(texts), 2),
        "read_ms_per_page": round(read_s * 1000 / (n_files * pages), 2),
        "tag_ms_per_page": round(tag_s * 1000 / (n_files * pages), 2),
    }
    for name, took in runs.items():
        out[name] = {
            "seconds": round(statistics.median(took), 2),
            "rounds": [round(t, 2) for t in took],
        }
        if name != "n_process_1":
            out[name]["speedup"] = round(one / statistics.median(took), 2)
    return out


def memory(total_mb: int) -> dict[str, Any]:
    """Peak RSS of the CLI streaming varied JSONL to JSONL, and RSS as input is read."""
    import psutil

    marks = sorted({total_mb // 4, total_mb // 2, total_mb})
    with tempfile.TemporaryDirectory() as tmp:
        source, target = Path(tmp) / "in.jsonl", Path(tmp) / "out.jsonl"
        started = time.perf_counter()
        written = synth.write_jsonl(source, seed=5, total_bytes=total_mb * MB)
        generated = time.perf_counter() - started
        command = [sys.executable, "-m", "policy_topics", "extract", str(source)]
        command += ["-f", "jsonl", "-o", str(target), "--quiet"]
        started = time.perf_counter()
        process = subprocess.Popen(command, stderr=subprocess.PIPE, text=True)
        watched = psutil.Process(process.pid)
        at: dict[str, float] = {}
        peak = 0
        while process.poll() is None:
            try:
                rss = watched.memory_info().rss
                peak = max(peak, _vm_hwm(process.pid) or rss)
                read = next(
                    (f.position for f in watched.open_files() if f.path == str(source)), None
                )
            except (psutil.NoSuchProcess, psutil.AccessDenied, ProcessLookupError):
                break
            for mark in marks:
                if str(mark) not in at and read is not None and read >= mark * MB:
                    at[str(mark)] = round(rss / MB, 1)
            time.sleep(0.05)
        elapsed = time.perf_counter() - started
        _, errors = process.communicate()
        output_mb = target.stat().st_size / MB if target.exists() else 0.0
    end_from_peak = str(total_mb) not in at and bool(peak)
    if end_from_peak:
        at[str(total_mb)] = round(peak / MB, 1)  # the end of input came between samples
    peak_mb = round(peak / MB, 1)
    # Flat: RSS once all input is read at most 15% above RSS after the first quarter.
    first, last = at.get(str(marks[0])), at.get(str(total_mb))
    flat = first is not None and last is not None and last <= 1.15 * first
    return {
        "command": "python -m policy_topics extract in.jsonl -f jsonl -o out.jsonl --quiet",
        "input_mb": round(written / MB, 1),
        "output_mb": round(output_mb, 1),
        "exit_code": process.returncode,
        "stderr_tail": errors[-500:],
        "generate_s": round(generated, 1),
        "seconds": round(elapsed, 1),
        "mb_s": round(written / MB / elapsed, 3),
        "rss_mb_at_input_mb": at,
        "rss_at_end_is_peak": end_from_peak,
        "peak_rss_mb": peak_mb,
        "flat": flat,
        "target": "peak <= 400 MB; flat: RSS after all input <= 1.15x RSS after a quarter",
        "met": process.returncode == 0 and peak_mb <= 400 and flat,
    }


def taxonomy_size(
    texts: list[str], n_terms: int = 10_000, rounds: int = 3, compile_rounds: int = 3
) -> dict[str, Any]:
    """The default taxonomy grown to ``n_terms`` generated terms: load, validate, compile, tag.

    Loading, validating and compiling is timed ``compile_rounds`` times (each
    a new Extractor); the figure is the median, every timing is in ``*_rounds_s``.

    ``sparse`` (the target) adds terms that are rarely met, as in a large
    thesaurus, so it measures what size costs; ``dense`` adds single corpus
    words too, so it also measures tagging most sentences many times over.
    """
    default = Extractor()
    size = _mb(texts)
    out: dict[str, Any] = {}
    for variant in ("sparse", "dense"):
        yaml_text = synth.large_taxonomy(texts, n_terms, seed=7, dense=variant == "dense")
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / "large.yaml"
            path.write_text(yaml_text, encoding="utf-8")
            loads: list[tuple[float, float]] = []
            # One timing moves by a third on a shared machine: the median of several.
            for _ in range(compile_rounds):
                gc.collect()
                started = time.perf_counter()
                taxonomy = load_taxonomy(path)
                loaded = time.perf_counter() - started
                large = Extractor(taxonomy)
                loads.append((loaded, time.perf_counter() - started))
        loaded = statistics.median(a for a, _ in loads)
        total = statistics.median(b for _, b in loads)
        speeds: list[tuple[float, float]] = []
        for _ in range(rounds):
            a = _timed(lambda: _drain(default.extract_many(texts)))
            b = _timed(lambda: _drain(large.extract_many(texts)))  # noqa: B023
            speeds.append((size / a, size / b))
        warm = speeds[1:] or speeds
        default_speed = statistics.median(a for a, _ in warm)
        large_speed = statistics.median(b for _, b in warm)
        out[variant] = {
            "terms": sum(len(topic.terms) for _, _, topic in taxonomy.iter_topics()),
            "yaml_kb": round(len(yaml_text) / 1000),
            "load_validate_s": round(loaded, 2),
            "load_validate_compile_s": round(total, 2),
            "load_validate_compile_rounds_s": [round(b, 2) for _, b in loads],
            "default_mb_s": round(default_speed, 3),
            "large_mb_s": round(large_speed, 3),
            "slowdown": round(default_speed / large_speed, 2),
            "matches_default": _matches(default, texts),
            "matches_large": _matches(large, texts),
        }
    sparse = out["sparse"]
    out["target"] = "sparse: compile <= 3 s, slowdown <= 2x"
    out["met"] = sparse["load_validate_compile_s"] <= 3.0 and sparse["slowdown"] <= 2.0
    return out


def _matches(extractor: Extractor, texts: list[str]) -> int:
    return sum(len(s.matches) for r in extractor.extract_many(texts) for s in r.sentences)


def long_documents(sizes_mb: list[float], hostile_mb: list[float]) -> dict[str, Any]:
    """One document of each size: time must grow linearly, with no quadratic step.

    The prose is timed three times at each of ``sizes_mb``, after 1 MB of other
    prose has warmed the caches, and each hostile shape at the two
    ``hostile_mb`` sizes, after a small text of the same shape; each figure is
    the median of three, and the sizes alternate, so that a slow spell of the
    shared machine slows all of them rather than one size alone. All the prose
    is held at once (91 MB of text at the default sizes, one byte a character),
    little beside what tagging the 50 MB document takes. (One timing of the
    larger size alone decided the exponent before: the 8 MB text without
    sentence ends took 8.3 s in one full run and 5.0 to 7.7 s in nine timings
    after it, exponents 0.79 to 1.29 from the same code; three timings of each
    size, one size after the other, still gave 1.23 in a full run. The prose,
    each size timed once, gave exponents of 1.01, 1.12 and 1.15 in the three
    runs of this section before.)
    """
    extractor = Extractor()
    extractor.extract(_document(1.0, seed=99))  # warm the caches once
    texts = [_document(size, seed=int(size * 10)) for size in sizes_mb]
    took = _alternated(extractor, texts)
    del texts
    prose: list[dict[str, Any]] = [
        {
            "mb": size,
            "seconds": round(statistics.median(times), 2),
            "rounds_s": [round(t, 2) for t in times],
            "s_per_mb": statistics.median(times) / size,
        }
        for size, times in zip(sizes_mb, took, strict=True)
    ]
    exponent = _exponent([(p["mb"], p["seconds"]) for p in prose])
    shapes = {}
    for name, make in _PATHOLOGICAL.items():
        # A small text of the shape first, untimed: the first timing must not pay
        # for words the second then finds cached, which would flatter the exponent.
        extractor.extract(make(min(0.25, hostile_mb[0] / 4)))
        shaped = [make(size) for size in hostile_mb]
        timings = [
            (size, statistics.median(times))
            for size, times in zip(hostile_mb, _alternated(extractor, shaped), strict=True)
        ]
        del shaped
        shapes[name] = {
            **{f"seconds_{size:g}mb": round(t, 2) for size, t in timings},
            "exponent": round(_exponent(timings), 2),
        }
    for p in prose:
        p["s_per_mb"] = round(p["s_per_mb"], 3)
    worst = max([exponent, *(s["exponent"] for s in shapes.values())])
    return {
        "prose": prose,
        "exponent": round(exponent, 2),
        "pathological": shapes,
        "target": "time ~ size^1 (exponent <= 1.15) up to one 50 MB document",
        "met": worst <= 1.15,
    }


def _alternated(extractor: Extractor, texts: list[str], rounds: int = 3) -> list[list[float]]:
    """Seconds ``extractor.extract`` takes on each text, ``rounds`` times, the texts in turn."""
    took: list[list[float]] = [[] for _ in texts]
    for _ in range(rounds):  # a slow spell of the machine hits every size
        for text, times in zip(texts, took, strict=True):
            times.append(_timed(partial(extractor.extract, text)))
    return took


def _document(size_mb: float, seed: int) -> str:
    return "\n\n".join(synth.documents(seed, int(size_mb * MB)))


def _no_punctuation(size_mb: float) -> str:
    text = _document(size_mb, seed=3)
    return text.translate(str.maketrans(".?;\n", "    "))


def _one_line(size_mb: float) -> str:
    return _document(size_mb, seed=4).replace("\n", " ")


def _abbreviations(size_mb: float) -> str:
    unit = "Mr. A. B. Smith of the U.S. Dept. met Gen. C. D. Jones on trade. "
    return unit * int(size_mb * MB / len(unit))


def _end_runs(size_mb: float) -> str:
    unit = "We agreed to cut tariffs" + "." * 10_000 + "then more trade. "
    return unit * int(size_mb * MB / len(unit))


_PATHOLOGICAL: dict[str, Callable[[float], str]] = {
    "no_sentence_ends": _no_punctuation,
    "one_line": _one_line,
    "abbreviation_runs": _abbreviations,
    "end_runs": _end_runs,
}


# --- helpers --------------------------------------------------------------------------


def _timed(work: Callable[[], object]) -> float:
    gc.collect()
    started = time.perf_counter()
    work()
    return time.perf_counter() - started


def _cpu_timed(work: Callable[[], object]) -> tuple[float, float, float]:
    """Wall-clock seconds, this process's CPU seconds and its ended children's.

    Worker processes count once they have ended and been waited for, which
    ``extract_many`` does before its iterator is exhausted.
    """
    gc.collect()
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = time.process_time()
    started = time.perf_counter()
    work()
    wall = time.perf_counter() - started
    cpu = time.process_time() - cpu
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    children = (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)
    return wall, cpu, children


def _piping(nlp: Language, texts: list[str]) -> Callable[[], None]:
    return lambda: _drain(nlp.pipe(texts))


def _drain_many(extractor: Extractor, items: Iterable[Any], n_process: int) -> None:
    _drain(extractor.extract_many(items, n_process=n_process))


def _drain_pipe(nlp: Language, texts: list[str], n_process: int) -> None:
    _drain(nlp.pipe(texts, n_process=n_process))


def _drain(items: Iterable[object]) -> None:
    for _ in items:
        pass


def _alone(extractor: Extractor, docs: list[str]) -> None:
    """Two forked processes, each extracting every other batch of ``docs`` on its own."""
    batches: list[list[str]] = [[]]
    chars = 0
    for text in docs:
        batches[-1].append(text)
        chars += len(text)
        if _full(len(batches[-1]), chars, _AUTO_BATCH_DOCS):
            batches.append([])
            chars = 0
    context = multiprocessing.get_context("fork")
    halves = [[text for batch in batches[k::2] for text in batch] for k in (0, 1)]
    processes = [context.Process(target=_drain_many, args=(extractor, half, 1)) for half in halves]
    for process in processes:
        process.start()
    for process in processes:
        process.join()
        if process.exitcode != 0:
            raise RuntimeError(f"a process working alone ended with {process.exitcode}")


def _repeated(texts: list[str], min_mb: float) -> list[str]:
    """The texts, repeated whole until they hold at least ``min_mb`` MB."""
    work = list(texts)
    while _mb(work) < min_mb:
        work.extend(texts)
    return work


def _mb(texts: Iterable[str]) -> float:
    return sum(len(t.encode("utf-8")) for t in texts) / MB


def _exponent(points: list[tuple[float, float]]) -> float:
    """Slope of log(time) against log(size): 1 is linear, 2 quadratic."""
    xs = [math.log(s) for s, _ in points]
    ys = [math.log(max(t, 1e-9)) for _, t in points]
    mx, my = statistics.fmean(xs), statistics.fmean(ys)
    return sum((x - mx) * (y - my) for x, y in zip(xs, ys, strict=True)) / sum(
        (x - mx) ** 2 for x in xs
    )


def _vm_hwm(pid: int) -> int | None:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    except OSError:
        return None
    return None


def _load() -> list[float] | None:
    try:
        return [round(x, 2) for x in os.getloadavg()]
    except OSError:
        return None


def _shown(source: str) -> str:
    path = Path(source).resolve()
    try:
        return str(path.relative_to(ROOT.parent))
    except ValueError:
        return path.name


def _emit(report: dict[str, Any], indent: int | None) -> None:
    sys.stdout.write(json.dumps(report, indent=indent, ensure_ascii=False) + "\n")
    sys.stdout.flush()


if __name__ == "__main__":
    sys.exit(main())
