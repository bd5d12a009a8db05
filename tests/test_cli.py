"""The policy-topics command line, run through a subprocess as users run it."""

from __future__ import annotations

import ast
import contextlib
import csv
import fcntl
import json
import os
import re
import resource
import signal
import struct
import subprocess
import sys
import termios
import time
from pathlib import Path
from typing import BinaryIO

import psutil
import pytest

from policy_topics import COMPILED, DocumentResult, Extractor, readers
from policy_topics.cli import _TABLE_START_RE, _columns
from policy_topics.io import CSV_COLUMNS

from .conftest import SAMPLE

TRADE = "Both sides will launch negotiations on a free trade agreement and cut tariffs."
ENERGY = "Norland will support solar power and modernise the power grid."
DIGITAL = "<html><body><h1>Digital</h1><p>They will build 5G networks.</p>"
DIGITAL += "<script>var trade = 'tariffs';</script></body></html>"


def run(
    *args: str, stdin: bytes | BinaryIO | None = None, cwd: Path | None = None
) -> subprocess.CompletedProcess[bytes]:
    """The command line run with ``args``; ``stdin`` is its input's bytes, or a file to read."""
    fed = isinstance(stdin, bytes | None)
    return subprocess.run(
        [sys.executable, "-m", "policy_topics", *args],
        input=stdin if fed else None,
        stdin=None if fed else stdin,
        capture_output=True,
        cwd=cwd,
        timeout=300,
        check=False,
    )


def text(proc: subprocess.CompletedProcess[bytes]) -> tuple[str, str]:
    return proc.stdout.decode("utf-8"), proc.stderr.decode("utf-8")


@pytest.fixture()
def folder(tmp_path: Path) -> Path:
    """Five documents: three with content, one empty, one invalid UTF-8."""
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "a-trade.txt").write_text(TRADE, encoding="utf-8")
    (docs / "b-energy.md").write_text("# Energy\n" + ENERGY, encoding="utf-8-sig")
    (docs / "c-digital.html").write_text(DIGITAL, encoding="utf-8")
    (docs / "d-empty.txt").write_bytes(b"")
    (docs / "e-bad.txt").write_bytes(b"Tariffs on caf\xe9 imports.")
    return docs


def expected_texts(docs: Path) -> dict[str, str]:
    return {
        str(docs / "a-trade.txt"): TRADE,
        str(docs / "b-energy.md"): "# Energy\n" + ENERGY,
        str(docs / "c-digital.html"): "Digital\n\nThey will build 5G networks.",
        str(docs / "d-empty.txt"): "",
    }


# --- the must-show batch -----------------------------------------------------------------


def test_folder_with_a_bad_and_an_empty_document(folder: Path, tmp_path: Path) -> None:
    out = tmp_path / "out.jsonl"
    proc = run("extract", str(folder), "-o", str(out))
    stdout, stderr = text(proc)
    assert proc.returncode == 1, stderr
    assert stdout == ""
    bad = str(folder / "e-bad.txt")
    assert "1 of 5 documents failed" in stderr
    assert bad in stderr and "byte offset 14" in stderr
    records = [DocumentResult.model_validate_json(line) for line in out.read_text().splitlines()]
    assert len(records) == 5
    good = {r.doc_id: r for r in records if r.ok}
    extractor = Extractor()
    assert good == {
        doc_id: extractor.extract(body, doc_id=doc_id)
        for doc_id, body in expected_texts(folder).items()
    }
    assert [a.topic for a in good[str(folder / "a-trade.txt")].areas] == ["trade"]
    assert [a.topic for a in good[str(folder / "b-energy.md")].areas] == ["energy"]
    assert [a.topic for a in good[str(folder / "c-digital.html")].areas] == ["digital"]
    assert good[str(folder / "d-empty.txt")].areas == []
    (failed,) = [r for r in records if not r.ok]
    assert failed.doc_id == bad
    assert failed.error is not None and failed.error.type == "UnicodeDecodeError"


def test_jsonl_round_trip_on_stdout(folder: Path) -> None:
    proc = run("extract", str(folder / "a-trade.txt"), str(folder / "b-energy.md"))
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.decode("utf-8").splitlines()
    originals = [
        Extractor().extract(body, doc_id=doc_id)
        for doc_id, body in list(expected_texts(folder).items())[:2]
    ]
    assert [DocumentResult.model_validate_json(line) for line in lines] == originals
    assert proc.stderr == b""  # no progress bar: stderr is not a terminal


def test_n_process_gives_identical_output(corpora: Path, tmp_path: Path) -> None:
    source = str(corpora / "cap-sotu-dev.jsonl")
    one = run("extract", source, "--n-process", "1")
    two = run("extract", source, "--n-process", "2")
    assert one.returncode == two.returncode == 0, two.stderr
    assert one.stdout == two.stdout
    assert len(one.stdout.splitlines()) == 12


def test_n_process_reads_files_in_the_workers_with_identical_output(
    folder: Path, tmp_path: Path
) -> None:
    # With --n-process 2 the workers extract the text of PDF and HTML files.
    pytest.importorskip("pypdf")
    from tests.test_io import make_pdf

    (folder / "f-paper.pdf").write_bytes(
        make_pdf(["We will expand manu-", "facturing.", "Manufacturing grows."])
    )
    (folder / "g-broken.pdf").write_bytes(b"%PDF-1.4\nthis is not a pdf")
    one = run("extract", str(folder), "--n-process", "1")
    two = run("extract", str(folder), "--n-process", "2")
    assert one.returncode == two.returncode == 1  # the undecodable text and the broken PDF
    # On one CPU, --n-process 2 adds a note that the second worker adds no speed.
    note = b"policy-topics: note:"
    told = [line for line in two.stderr.splitlines() if not line.startswith(note)]
    assert one.stdout == two.stdout and one.stderr.splitlines() == told
    assert len(one.stdout.splitlines()) == 7
    html_two = run("extract", str(folder), "--n-process", "2", "-f", "html")
    assert html_two.stdout == run("extract", str(folder), "-f", "html").stdout
    assert b"manufacturing" in html_two.stdout  # the page shows the text read


# --- inputs and formats ------------------------------------------------------------------


def test_stdin_text_and_jsonl() -> None:
    proc = run("extract", "-", stdin=TRADE.encode("utf-16"))
    assert proc.returncode == 0, proc.stderr
    (record,) = [DocumentResult.model_validate_json(x) for x in proc.stdout.splitlines()]
    assert record == Extractor().extract(TRADE, doc_id="<stdin>")
    lines = "\n".join(json.dumps({"doc": str(i), "body": t}) for i, t in enumerate([TRADE, ENERGY]))
    proc = run(
        "extract", "-", "--stdin-format", "jsonl", "--text-field", "body", "--id-field", "doc",
        stdin=lines.encode(),
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    records = [DocumentResult.model_validate_json(x) for x in proc.stdout.splitlines()]
    assert [(r.doc_id, r.areas[0].topic) for r in records] == [("0", "trade"), ("1", "energy")]


def test_stdin_named_twice_is_a_usage_error(folder: Path) -> None:
    # Read once, it gave a second, empty record with the same id, and exit 0.
    proc = run("extract", "-", str(folder / "a-trade.txt"), "-", stdin=TRADE.encode())
    assert proc.returncode == 2
    assert text(proc) == (
        "",
        "policy-topics: '-' (stdin) is named 2 times; stdin can be read once: name it once\n",
    )


def test_csv_output_by_suffix_one_row_per_quote(folder: Path, tmp_path: Path) -> None:
    out = tmp_path / "quotes.csv"
    proc = run("extract", str(folder), "-o", str(out), "--max-quotes", "0", "--quiet")
    assert proc.returncode == 1
    _, stderr = text(proc)  # --quiet drops the progress bar, never the failure summary
    assert stderr.startswith("policy-topics: 1 of 5 documents failed:\n")
    assert f"  {folder / 'e-bad.txt'}: not valid UTF-8" in stderr
    with out.open(encoding="utf-8", newline="") as stream:
        rows = list(csv.DictReader(stream))
    assert tuple(rows[0]) == (*CSV_COLUMNS, "meta", "page")
    texts = expected_texts(folder)
    assert {row["doc_id"] for row in rows} == set(list(texts)[:3])
    for row in rows:
        assert texts[row["doc_id"]][int(row["start"]) : int(row["end"])] == row["text"]


def test_json_output_and_options(folder: Path) -> None:
    proc = run(
        "extract", str(folder / "a-trade.txt"), "-f", "json", "--min-score", "0.99",
        "--max-quotes", "1",
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    (record,) = [DocumentResult.model_validate(x) for x in json.loads(proc.stdout)]
    expected = Extractor(max_quotes=1, min_score=0.99).extract(
        TRADE, doc_id=str(folder / "a-trade.txt")
    )
    assert record == expected


def test_table_is_a_readable_summary() -> None:
    proc = run("extract", str(SAMPLE), "--format", "table")
    stdout, _ = text(proc)
    assert proc.returncode == 0
    lines = stdout.splitlines()
    result = Extractor().extract(SAMPLE.read_text(encoding="utf-8"))
    assert lines[0] == f"{SAMPLE}: {result.n_sentences} sentences, {len(result.areas)} areas found"
    labels = [line.split()[0] for line in lines if line.startswith("  ") and line[2] != " "]
    assert labels == [a.label.split()[0] for a in result.areas]
    assert sum(line.startswith("      > ") for line in lines) == sum(
        min(2, len(a.quotes)) for a in result.areas
    )
    # The first line names the file, however long its path; the rest keeps to the width.
    assert all(len(line) <= 100 for line in lines[1:])


def test_table_columns_line_up_for_wide_labels(tmp_path: Path) -> None:
    # Chinese characters take two terminal columns each: padding by characters
    # pushed the scores of wide labels out of line, and long quotes past the width.
    taxonomy = tmp_path / "zh.yaml"
    taxonomy.write_text(
        "name: zh\nlanguage: zh\ntopics:\n"
        "  trade: {label: 国际贸易与投资合作伙伴关系, terms: [贸易]}\n"
        "  energy: {label: Energy, terms: [能源]}\n",
        encoding="utf-8",
    )
    source = tmp_path / "zh.txt"
    source.write_text("中美贸易合作" * 30 + "。双方将加强能源合作。", encoding="utf-8")
    # Named from its folder: the first line holds the path, which the width does not bound.
    proc = run("extract", source.name, "-t", str(taxonomy), "-f", "table", cwd=tmp_path)
    assert proc.returncode == 0, text(proc)[1]
    lines = text(proc)[0].splitlines()
    rows = [line for line in lines if line.startswith("  ") and line[2] != " "]
    assert [row.split()[0] for row in rows] == ["国际贸易与投资合", "Energy"]
    # The score starts in the same terminal column on every row.
    starts = {_columns(row[: row.index(" 0.") + 1]) for row in rows}
    assert starts == {19}
    assert all(_columns(line) <= 100 for line in lines)
    assert any(line.endswith("...") for line in lines)


def test_table_reports_failures_inline(folder: Path) -> None:
    proc = run("extract", str(folder / "e-bad.txt"), "-f", "table")
    stdout, stderr = text(proc)
    assert proc.returncode == 1
    assert "FAILED (UnicodeDecodeError)" in stdout and "e-bad.txt" in stderr


# --- errors and exit codes ---------------------------------------------------------------


def test_taxonomy_errors_exit_2(tmp_path: Path) -> None:
    proc = run("extract", str(SAMPLE), "-t", str(tmp_path / "missing.yaml"))
    assert proc.returncode == 2
    assert "missing.yaml" in text(proc)[1] and proc.stdout == b""
    broken = tmp_path / "broken.yaml"
    broken.write_text("name: x\ntopics:\n  trade:\n    lable: Trade\n", encoding="utf-8")
    proc = run("extract", str(SAMPLE), "-t", str(broken))
    _, stderr = text(proc)
    assert proc.returncode == 2
    assert "invalid taxonomy" in stderr and "broken.yaml:4" in stderr and "lable" in stderr


def test_usage_errors_exit_2() -> None:
    assert run("extract").returncode == 2
    assert run("extract", str(SAMPLE), "--n-process", "0").returncode == 2
    assert run("extract", str(SAMPLE), "-f", "xml").returncode == 2
    assert run("no-such-command").returncode == 2


def test_missing_input_is_a_failed_document(tmp_path: Path) -> None:
    proc = run("extract", str(tmp_path / "nope.txt"), str(SAMPLE))
    stdout, stderr = text(proc)
    assert proc.returncode == 1
    assert "nope.txt: no such file or directory" in stderr
    assert len(stdout.splitlines()) == 2


@pytest.mark.parametrize(
    "command",
    [[], ["extract"], ["evaluate"], ["schema"], ["taxonomy"]]
    + [["taxonomy", name] for name in ("validate", "show", "lint")],
)
def test_help_names_what_an_option_takes_not_a_python_type(command: list[str]) -> None:
    # typer showed <bool> after each flag (--quiet, --version, --help), as if it
    # took a value, and <str> or <list[str]> after options that take text.
    proc = subprocess.run(
        [sys.executable, "-m", "policy_topics", *command, "--help"],
        capture_output=True,
        env={**os.environ, "COLUMNS": "200"},
        timeout=300,
        check=False,
    )
    stdout, stderr = text(proc)
    assert proc.returncode == 0, stderr
    options = [line for line in stdout.splitlines() if re.search(r"(^|[\s,│])-{1,2}\w", line)]
    assert any("--help" in line for line in options)
    assert [line for line in options if re.search(r"<(bool|str|list\[|int|float)", line)] == []
    # Arguments are named in capitals, as options' values are, not by their Python names.
    usage = stdout.splitlines()[0]
    assert usage.startswith("Usage: ") and not re.search(r"[{\[][a-z_]+[}\]]", usage), usage


def test_version_and_schema() -> None:
    proc = run("--version")
    # This process and the command share the install and the environment.
    build = f"compiled: {', '.join(COMPILED)}" if COMPILED else "pure Python, not compiled"
    assert proc.returncode == 0 and text(proc)[0].strip() == f"policy-topics 0.1.0 ({build})"
    schema = json.loads(run("schema").stdout)
    assert schema == DocumentResult.model_json_schema()
    assert "topics" in json.loads(run("schema", "taxonomy").stdout)["properties"]


@pytest.mark.parametrize(
    "args",
    [["--help"], ["--version"], ["extract", "--help"], ["schema"], ["extract", "--nope"]],
    ids=["help", "version", "extract-help", "schema", "usage-error"],
)
def test_answers_that_tag_nothing_come_without_loading_spacy(args: list[str]) -> None:
    # spaCy takes about a second to import: help, the version, the schema and a
    # usage error need none of it.
    script = (
        "import sys\n"
        "from policy_topics.__main__ import main\n"
        f"sys.argv = ['policy-topics', *{args!r}]\n"
        "try:\n"
        "    main()\n"
        "except SystemExit as stop:\n"
        "    code = stop.code\n"
        "print('spacy loaded' if 'spacy' in sys.modules else 'no spacy', file=sys.stderr)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=300, check=False
    )
    assert done.stderr.splitlines()[-1] == "no spacy", done.stderr
    assert done.stdout or "Usage:" in done.stderr


def test_version_says_when_the_modules_are_not_compiled() -> None:
    # A build without a C compiler falls back to pure Python, with a warning pip
    # shows only with -v: the version line is where a user can see it.
    proc = subprocess.run(
        [sys.executable, "-m", "policy_topics", "--version"],
        capture_output=True,
        env={**os.environ, "POLICY_TOPICS_PURE": "1"},
        timeout=300,
        check=False,
    )
    assert proc.returncode == 0
    assert text(proc)[0].strip() == "policy-topics 0.1.0 (pure Python, not compiled)"


# --- taxonomy commands -------------------------------------------------------------------

LINTY = """\
name: linty
topics:
  trade:
    label: Trade
    terms: [tariffs, trade union law, {pattern: [{POS: NOUN}, {LOWER: Port}], label: port}]
    exclude: [trade union]
  finance:
    label: Finance
    terms: [tariff, bank]
"""


def test_taxonomy_validate(tmp_path: Path) -> None:
    good = tmp_path / "linty.yaml"
    good.write_text(LINTY, encoding="utf-8")
    proc = run("taxonomy", "validate", str(good), "default")
    stdout, _ = text(proc)
    assert proc.returncode == 0
    assert f"{good}: ok (2 topics, 5 terms)" in stdout
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: b\ntopics: {trade: {label: Trade, terms: ['']}}\n", encoding="utf-8")
    proc = run("taxonomy", "validate", str(good), str(bad))
    assert proc.returncode == 2
    assert "empty term" in text(proc)[1] and "ok" in text(proc)[0]
    # Two files of one name in different folders: the report says which one failed.
    assert text(proc)[1].startswith(f"{bad}: invalid taxonomy (1 problem):")


def test_taxonomy_show_is_a_tree_with_term_counts() -> None:
    proc = run("taxonomy", "show")
    stdout, _ = text(proc)
    assert proc.returncode == 0
    taxonomy = Extractor().taxonomy
    lines = stdout.splitlines()
    assert lines[0].startswith(f"default {taxonomy.version} (en): 5 topics")
    trade = taxonomy.topics["trade"]
    assert f"├── trade: Trade ({len(trade.terms)} terms," in stdout
    tariffs = trade.subtopics["tariffs"]
    assert f"│   ├── tariffs: {tariffs.label} ({len(tariffs.terms)} terms" in stdout


def test_taxonomy_lint_finds_the_three_kinds(tmp_path: Path) -> None:
    path = tmp_path / "linty.yaml"
    path.write_text(LINTY, encoding="utf-8")
    proc = run("taxonomy", "lint", str(path))
    stdout, stderr = text(proc)
    assert proc.returncode == 1
    # Each finding names the file and line, as validation's problems do.
    assert f"{path}:9 topics.finance.terms[0]: [duplicate] 'tariff'" in stdout
    assert f"{path}:5 topics.trade.terms[1]: [shadowed] 'trade union law'" in stdout
    assert f"{path}:5 topics.trade.terms[2].pattern[0]: [never-matches] uses POS" in stdout
    assert f"{path}:5 topics.trade.terms[2].pattern[1]: [never-matches] LOWER 'Port'" in stdout
    assert "4 findings" in stderr
    # A packaged taxonomy is named by its file, which an editor can open.
    packaged = text(run("taxonomy", "lint", "default"))[0].splitlines()
    assert packaged and all(
        Path(line.split(" ")[0].rsplit(":", 1)[0]).name == "default.yaml"
        and line.split(" ")[0].rsplit(":", 1)[1].isdigit()
        for line in packaged
    )
    clean = tmp_path / "clean.yaml"
    clean.write_text("name: c\ntopics: {trade: {label: Trade, terms: [tariff]}}\n")
    assert run("taxonomy", "lint", str(clean)).returncode == 0


# --- evaluate ----------------------------------------------------------------------------


def test_evaluate_prints_table_or_json(tmp_path: Path) -> None:
    gold = tmp_path / "gold.jsonl"
    body = TRADE + " " + "We like cats."
    record = {
        "id": "g",
        "text": body,
        "sentences": [
            {"start": 0, "end": len(TRADE), "topics": ["trade"]},
            {"start": len(TRADE) + 1, "end": len(body), "topics": []},
        ],
    }
    gold.write_text(json.dumps(record) + "\n", encoding="utf-8")
    proc = run("evaluate", str(gold), "-f", "json")
    assert proc.returncode == 0, proc.stderr
    report = json.loads(proc.stdout)
    assert report["documents"] == 1 and report["taxonomy"] == "default"
    table = run("evaluate", str(gold), "--min-score", "0.2")
    assert table.returncode == 0 and "trade" in text(table)[0]
    gold.write_text('{"id": "g", "text": 3}\n', encoding="utf-8")
    bad = run("evaluate", str(gold))
    assert bad.returncode == 2 and "gold.jsonl" in text(bad)[1]


def cli_gold(tmp_path: Path) -> Path:
    """Two gold documents: TRADE then a negative sentence, and ENERGY alone."""
    body = TRADE + " We like cats."
    records = [
        {
            "id": "g",
            "text": body,
            "sentences": [
                {"start": 0, "end": len(TRADE), "topics": ["trade"]},
                {"start": len(TRADE) + 1, "end": len(body), "topics": []},
            ],
        },
        {
            "id": "h",
            "text": ENERGY,
            "sentences": [{"start": 0, "end": len(ENERGY), "topics": ["energy"]}],
        },
    ]
    gold = tmp_path / "gold.jsonl"
    gold.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    return gold


def test_evaluate_scores_other_predictions_for_chosen_topics(tmp_path: Path) -> None:
    gold = cli_gold(tmp_path)
    cats = len(TRADE) + 1
    lines = [
        # trade right, and a wrong energy span on the cat sentence; no line for "h"
        {"id": "g", "sentences": [{"start": 0, "end": 9, "topics": ["trade"]},
                                  {"start": cats, "end": cats + 2, "topics": ["energy"]}]},
        {"id": "x", "topics": ["trade"]},
    ]  # fmt: skip
    predictions = tmp_path / "pred.jsonl"
    predictions.write_text("".join(json.dumps(r) + "\n" for r in lines), encoding="utf-8")
    proc = run("evaluate", str(gold), "--predictions", str(predictions), "-f", "json")
    assert proc.returncode == 0, proc.stderr
    report = json.loads(proc.stdout)
    assert (report["predictions"], report["missing_predictions"]) == ("pred.jsonl", ["h"])
    assert report["unmatched_predictions"] == ["x"]
    assert report["unknown_predicted_topics"] == []
    multi = report["levels"][0]["modes"][0]
    assert [(t["topic"], t["precision"], t["recall"]) for t in multi["topics"]] == [
        ("trade", 1.0, 1.0),
        ("energy", 0.0, 0.0),  # one false positive (g), one false negative (h)
    ]
    assert multi["micro"] == {"precision": 0.5, "recall": 0.5, "f1": 0.5}
    assert text(proc)[1].splitlines() == [
        "policy-topics: 1 gold document without a line in pred.jsonl, scored as predicting "
        "nothing (the report lists their ids)",
        "policy-topics: 1 prediction for ids not in the gold, not scored (the report lists "
        "their ids)",
    ]
    only = run("evaluate", str(gold), "--predictions", str(predictions), "--topic", "energy",
               "--topic", "energy", "--mode", "multi", "-f", "json")  # fmt: skip
    assert only.returncode == 0, only.stderr
    report = json.loads(only.stdout)
    assert report["topic_filter"] == ["energy"]
    (multi,) = report["levels"][0]["modes"]
    assert [t["topic"] for t in multi["topics"]] == ["energy"]
    assert multi["averaged_over"] == ["energy"]
    assert multi["micro"] == {"precision": 0.0, "recall": 0.0, "f1": 0.0}
    table = run("evaluate", str(gold), "--predictions", str(predictions), "--topic", "trade")
    assert "topics scored: trade (the others are ignored)" in text(table)[0]
    lines[0]["sentences"][1]["topics"] = ["enrgy"]  # type: ignore[index]
    predictions.write_text("".join(json.dumps(r) + "\n" for r in lines), encoding="utf-8")
    typo = run("evaluate", str(gold), "--predictions", str(predictions), "--mode", "multi")
    assert typo.returncode == 0, typo.stderr
    assert (
        "policy-topics: predicted topics neither in the gold nor in taxonomy 'default', "
        "scored as false positives of their own rows (the averages run over topics with "
        "gold support): enrgy (a typo in the predictions?)"
    ) in text(typo)[1]
    assert "predictions pred.jsonl (topics ordered as in taxonomy default" in text(table)[0]


def test_evaluate_scores_our_own_extract_output_as_it_scores_the_taxonomy(
    tmp_path: Path,
) -> None:
    gold = cli_gold(tmp_path)
    ours = tmp_path / "ours.jsonl"
    assert run("extract", str(gold), "-q", "-o", str(ours)).returncode == 0
    direct = run("evaluate", str(gold), "-f", "json")
    scored = run("evaluate", str(gold), "--predictions", str(ours), "-f", "json")
    assert direct.returncode == scored.returncode == 0, scored.stderr
    levels = json.loads(direct.stdout)["levels"]
    for level in levels:  # with predictions, rows are the topics of gold and predictions
        for mode in level["modes"]:
            mode["topics"] = [t for t in mode["topics"] if t["support"] or t["predicted"]]
    assert json.loads(scored.stdout)["levels"] == levels
    assert [t["topic"] for t in levels[0]["modes"][1]["topics"]] == ["trade", "energy"]
    assert levels[0]["modes"][0]["micro"]["f1"] == 1.0


def test_evaluate_errors_name_the_choices_and_the_line(tmp_path: Path) -> None:
    gold = cli_gold(tmp_path)
    proc = run("evaluate", str(gold), "--topic", "trade", "--topic", "health")
    assert proc.returncode == 2
    assert text(proc)[1] == (
        "policy-topics: 'health' is not a topic of taxonomy 'default'; choose from: trade, "
        "energy, digital, manufacturing, finance\n"
    )
    predictions = tmp_path / "pred.jsonl"
    predictions.write_text('{"id": "g", "topics": ["trade"]}\n{"id": "h"}\n', encoding="utf-8")
    bad = run("evaluate", str(gold), "--predictions", str(predictions))
    assert bad.returncode == 2
    assert text(bad)[1].startswith(f"policy-topics: {predictions}:2: give 'sentences'")
    unscored = {"id": "h", "sentences": [{"start": 0, "end": 5, "topics": ["energy", "trade"]}]}
    predictions.write_text(json.dumps(unscored) + "\n", encoding="utf-8")
    guess = run("evaluate", str(gold), "--predictions", str(predictions))
    assert guess.returncode == 2
    assert "pred.jsonl:1: primary mode needs scores" in text(guess)[1]
    multi = run("evaluate", str(gold), "--predictions", str(predictions), "--mode", "multi")
    assert multi.returncode == 0, multi.stderr
    assert "mode primary" not in text(multi)[0]
    foreign = run("evaluate", str(gold), "--predictions", str(predictions), "--topic", "digital")
    assert foreign.returncode == 2
    assert text(foreign)[1] == (
        "policy-topics: 'digital' is not a topic of the gold or the predictions; "
        "choose from: energy, trade\n"
    )


# --- progress bar ------------------------------------------------------------------------


def test_progress_bar_only_on_a_terminal(folder: Path) -> None:
    def stderr_on_tty(*extra: str) -> str:
        master, slave = os.openpty()
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 100, 0, 0))
        try:
            proc = subprocess.run(
                [sys.executable, "-m", "policy_topics", "extract", str(folder / "a-trade.txt"),
                 *extra],
                stdout=subprocess.DEVNULL, stderr=slave, timeout=300, check=False,
            )  # fmt: skip
            assert proc.returncode == 0
            os.close(slave)
            slave = -1
            chunks = []
            while True:
                try:
                    chunk = os.read(master, 4096)
                except OSError:  # EIO once the terminal is drained
                    break
                if not chunk:
                    break
                chunks.append(chunk)
            return b"".join(chunks).decode("utf-8", "replace")
        finally:
            os.close(master)
            if slave >= 0:
                os.close(slave)

    bar = stderr_on_tty()
    assert "policy-topics:" in bar and "1doc" in bar.replace(" ", "")
    assert stderr_on_tty("--quiet") == ""


# --- interruption ------------------------------------------------------------------------


def big_input(tmp_path: Path, n: int = 3000) -> Path:
    body = SAMPLE.read_text(encoding="utf-8")
    path = tmp_path / "big.jsonl"
    with path.open("w", encoding="utf-8") as stream:
        for i in range(n):
            stream.write(json.dumps({"id": f"d{i}", "text": body}) + "\n")
    return path


def start(*args: str) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "policy_topics", "extract", *args],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )


def wait_for(condition: object, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while not condition():  # type: ignore[operator]
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


@pytest.mark.parametrize(("signum", "code"), [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
def test_interrupted_jsonl_keeps_complete_lines(
    tmp_path: Path, signum: signal.Signals, code: int
) -> None:
    source, out = big_input(tmp_path), tmp_path / "out.jsonl"
    proc = start(str(source), "-o", str(out))
    wait_for(lambda: out.exists() and out.stat().st_size > 20_000)
    proc.send_signal(signum)
    _, stderr = proc.communicate(timeout=60)
    assert proc.returncode == code, stderr
    assert f"interrupted by {signum.name}" in stderr.decode()
    data = out.read_bytes()
    assert data.endswith(b"\n")
    lines = data.decode("utf-8").splitlines()
    assert 0 < len(lines) < 3000
    records = [DocumentResult.model_validate_json(line) for line in lines]
    assert [r.doc_id for r in records] == [f"d{i}" for i in range(len(records))]
    assert f"holds the {len(lines)} finished records" in stderr.decode()


@pytest.mark.parametrize("n_process", ["1", "2"])
def test_interrupted_atomic_output_leaves_no_file(tmp_path: Path, n_process: str) -> None:
    source, out = big_input(tmp_path), tmp_path / "out.json"
    proc = start(str(source), "-o", str(out), "--n-process", n_process)
    wait_for(lambda: any(p.stat().st_size > 20_000 for p in tmp_path.glob(".out.json.*.tmp")))
    workers = psutil.Process(proc.pid).children(recursive=True)
    proc.send_signal(signal.SIGTERM)
    _, stderr = proc.communicate(timeout=60)
    assert proc.returncode == 143, stderr
    assert "no output file was written" in stderr.decode()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["big.jsonl"]
    _, alive = psutil.wait_procs(workers, timeout=10)
    assert alive == []


def test_interrupted_atomic_output_keeps_the_old_file(tmp_path: Path) -> None:
    source, out = big_input(tmp_path), tmp_path / "out.csv"
    out.write_text("old results\n", encoding="utf-8")
    proc = start(str(source), "-o", str(out))
    wait_for(lambda: any(p.stat().st_size > 20_000 for p in tmp_path.glob(".out.csv.*.tmp")))
    proc.send_signal(signal.SIGINT)
    proc.communicate(timeout=60)
    assert proc.returncode == 130
    assert out.read_text(encoding="utf-8") == "old results\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["big.jsonl", "out.csv"]


@pytest.mark.parametrize("n_process", ["1", "2"])
def test_ctrl_c_pressed_again_while_stopping_changes_nothing(
    tmp_path: Path, n_process: str
) -> None:
    # A terminal sends SIGINT to the whole process group. Pressed again while the
    # command stopped, it broke into Python's clean-up at exit (joining the workers)
    # with tracebacks, and the process died of the signal instead of exiting 130.
    source, out = big_input(tmp_path), tmp_path / "out.jsonl"
    proc = subprocess.Popen(
        [sys.executable, "-m", "policy_topics", "extract", str(source), "-o", str(out),
         "--n-process", n_process],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True,
    )  # fmt: skip
    wait_for(lambda: out.exists() and out.stat().st_size > 20_000)
    for _ in range(6):
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGINT)
        time.sleep(0.03)
    _, stderr = proc.communicate(timeout=60)
    told = stderr.decode()
    assert proc.returncode == 130, told
    assert told.count("interrupted by SIGINT") == 1, told
    assert "Traceback" not in told and "Exception ignored" not in told, told
    assert out.read_bytes().endswith(b"\n")


_REFUSED = """
import sys
from concurrent.futures import ProcessPoolExecutor

def refused(self, *args, **kwargs):
    raise BlockingIOError(11, "Resource temporarily unavailable")

ProcessPoolExecutor.submit = refused  # as under a limit on processes
from policy_topics.cli import app
sys.exit(app(sys.argv[1:], standalone_mode=False))
"""


def test_workers_the_system_refuses_end_the_run_with_71_and_a_message(tmp_path: Path) -> None:
    # The run ended with a traceback and exit code 1, which says some documents failed.
    source, out = tmp_path / "a.txt", tmp_path / "out.jsonl"
    source.write_text("We cut tariffs on steel.\n", encoding="utf-8")
    args = ["extract", str(source), "--n-process", "2", "-o", str(out)]
    proc = subprocess.run(
        [sys.executable, "-c", _REFUSED, *args],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert proc.returncode == 71, proc.stderr
    told = [line for line in proc.stderr.splitlines() if "note:" not in line]
    assert told == [
        "policy-topics: cannot start a worker process: BlockingIOError: [Errno 11] Resource "
        "temporarily unavailable; the system refuses new processes (a limit on processes or "
        "on memory): ask for fewer worker processes, or for one; no output file was "
        "written (no document was finished)"
    ]
    assert not out.exists()


_IN_PROCESS = """
import os, signal, sys, threading, time
from policy_topics.cli import app

source, out = sys.argv[1], sys.argv[2]
found = signal.getsignal(signal.SIGINT)

def interrupt():
    while not (os.path.exists(out) and os.path.getsize(out) > 20_000):
        time.sleep(0.02)
    os.kill(os.getpid(), signal.SIGINT)

for run in range(2):
    if os.path.exists(out):
        os.remove(out)
    threading.Thread(target=interrupt, daemon=True).start()
    code = app(["extract", source, "-o", out], standalone_mode=False)
    print(run, code, signal.getsignal(signal.SIGINT) is found, flush=True)
"""


def test_a_command_run_in_process_stops_on_a_signal_every_time(tmp_path: Path) -> None:
    # Stopped once, a command run from Python (not as the script, which exits)
    # left SIGINT ignored in that process for good: Ctrl-C no longer reached the
    # caller, and a second command could not be stopped.
    source, out = big_input(tmp_path), tmp_path / "out.jsonl"
    proc = subprocess.run(
        [sys.executable, "-c", _IN_PROCESS, str(source), str(out)],
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.splitlines() == ["0 130 True", "1 130 True"], proc.stderr
    assert proc.stderr.count("interrupted by SIGINT") == 2, proc.stderr


# --- resuming ---------------------------------------------------------------------------


@pytest.mark.parametrize("n_process", ["1", "2"])
def test_a_killed_run_resumed_twice_equals_a_run_never_stopped(
    tmp_path: Path, n_process: str
) -> None:
    source = big_input(tmp_path, n=400)
    whole, out = tmp_path / "whole.jsonl", tmp_path / "out.jsonl"
    proc = run("extract", str(source), "-o", str(whole))
    assert proc.returncode == 0, proc.stderr
    first = start(str(source), "-o", str(out), "--n-process", n_process)
    wait_for(lambda: out.exists() and out.stat().st_size > 20_000)
    first.kill()  # SIGKILL: no clean-up, perhaps half a line at the end
    first.communicate(timeout=60)
    held = out.stat().st_size
    second = start(str(source), "-o", str(out), "--resume", "--n-process", n_process)
    wait_for(lambda: out.stat().st_size > held + 20_000)
    second.send_signal(signal.SIGINT)
    _, stderr = second.communicate(timeout=60)
    assert second.returncode == 130, stderr
    assert "holds its earlier records and the" in stderr.decode()
    assert "run again with --resume" in stderr.decode()
    held = len(out.read_bytes().splitlines())
    proc = run("extract", str(source), "-o", str(out), "--resume", "--n-process", n_process)
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr.decode().endswith(
        f"resumed {out}: {held} documents it held skipped, {400 - held} records added\n"
    )
    assert out.read_bytes() == whole.read_bytes()


def test_resume_counts_documents_that_share_an_id(tmp_path: Path) -> None:
    source = tmp_path / "in.jsonl"
    rows = [{"id": 7, "text": TRADE}, {"id": "7", "text": ENERGY}, {"text": TRADE}]
    source.write_text("".join(json.dumps(row) + "\n" for row in rows), encoding="utf-8")
    whole, out = tmp_path / "whole.jsonl", tmp_path / "out.jsonl"
    assert run("extract", str(source), "-o", str(whole)).returncode == 0
    out.write_bytes(whole.read_bytes().splitlines(keepends=True)[0])  # stopped after one
    proc = run("extract", str(source), "-o", str(out), "--resume")
    assert proc.returncode == 0, proc.stderr
    assert text(proc)[1].endswith(f"resumed {out}: 1 document it held skipped, 2 records added\n")
    assert out.read_bytes() == whole.read_bytes()


def test_resume_reads_only_the_files_not_done(folder: Path, tmp_path: Path) -> None:
    out = tmp_path / "out.jsonl"
    proc = run("extract", str(folder / "a-trade.txt"), str(folder / "b-energy.md"), "-o", str(out))
    assert proc.returncode == 0, proc.stderr
    (folder / "a-trade.txt").write_bytes(b"\xff not read again: it would fail")
    proc = run("extract", str(folder), "-o", str(out), "--resume")
    assert proc.returncode == 1  # e-bad.txt fails, as in any run
    records = [DocumentResult.model_validate_json(line) for line in out.read_text().splitlines()]
    assert [r.doc_id for r in records] == [
        str(folder / name)
        for name in ("a-trade.txt", "b-energy.md", "c-digital.html", "d-empty.txt", "e-bad.txt")
    ]
    assert records[0].ok and [a.topic for a in records[0].areas] == ["trade"]
    assert "resumed" in proc.stderr.decode() and "2 documents it held skipped" in text(proc)[1]


def test_resume_into_an_output_in_the_input_folder_saved_with_a_bom(folder: Path) -> None:
    out = folder / "out.jsonl"
    proc = run("extract", str(folder / "a-trade.txt"), "-o", str(out))
    assert proc.returncode == 0, proc.stderr
    out.write_bytes(b"\xef\xbb\xbf" + out.read_bytes())  # an editor's byte order mark
    (folder / "old.jsonl").write_bytes(out.read_bytes())  # an earlier run's: not an input
    proc = run("extract", str(folder), "-o", str(out), "--resume")
    stderr = text(proc)[1]
    assert proc.returncode == 1, stderr  # e-bad.txt fails, as in any run
    assert f"{folder / 'old.jsonl'}: skipped, it holds policy-topics output" in stderr
    assert f"resumed {out}: 1 document it held skipped, 4 records added" in stderr
    assert len(out.read_text(encoding="utf-8-sig").splitlines()) == 5


def test_resume_says_when_no_document_matched(folder: Path, tmp_path: Path) -> None:
    out = tmp_path / "out.jsonl"
    assert run("extract", str(folder / "a-trade.txt"), "-o", str(out)).returncode == 0
    # The same file named by another path has another id.
    proc = run("extract", "docs/a-trade.txt", "-o", str(out), "--resume", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    stderr = text(proc)[1]
    assert "none of the documents matched the record of" in stderr
    assert "Warning" not in stderr
    assert len(out.read_text().splitlines()) == 2


def test_retry_failed_tags_the_failed_documents_again(folder: Path, tmp_path: Path) -> None:
    whole, out = tmp_path / "whole.jsonl", tmp_path / "out.jsonl"
    later = folder / "f-later.txt"  # missing on the first run
    names = [str(folder / "a-trade.txt"), str(later), str(folder / "b-energy.md")]
    proc = run("extract", *names, "-o", str(out))
    assert proc.returncode == 1  # f-later.txt is missing
    later.write_text(TRADE, encoding="utf-8")
    assert run("extract", *names, "-o", str(whole)).returncode == 0
    proc = run("extract", *names, "-o", str(out), "--resume")
    assert proc.returncode == 0, proc.stderr
    assert "3 documents it held skipped, 0 records added" in text(proc)[1]
    proc = run("extract", *names, "-o", str(out), "--resume", "--retry-failed")
    assert proc.returncode == 0, proc.stderr
    stderr = text(proc)[1]
    assert f"--retry-failed: 1 record of failed documents removed from {out}" in stderr
    assert "2 documents it held skipped, 1 record added" in stderr
    # The retried record comes last; otherwise the file is the one of a run that never failed.
    lines = whole.read_bytes().splitlines(keepends=True)
    assert out.read_bytes() == lines[0] + lines[2] + lines[1]
    proc = run("extract", *names, "-o", str(out), "--retry-failed")
    assert proc.returncode == 2
    assert "--retry-failed goes with --resume" in text(proc)[1]


def test_resume_needs_a_json_lines_output(tmp_path: Path) -> None:
    proc = run("extract", str(SAMPLE), "--resume")
    assert proc.returncode == 2
    assert "--resume needs -o FILE.jsonl" in text(proc)[1]
    proc = run("extract", str(SAMPLE), "-o", str(tmp_path / "out.csv"), "--resume")
    assert proc.returncode == 2
    assert "csv output is written whole" in text(proc)[1]


# A one-line file without a newline is not taken for the half record a killed run leaves.
@pytest.mark.parametrize("content", ['{"id": "a", "text": "Tariffs."}\n', '{"id": "a"}'])
def test_resume_refuses_another_programs_file_and_leaves_it(tmp_path: Path, content: str) -> None:
    other = tmp_path / "other.jsonl"
    other.write_text(content, encoding="utf-8")
    proc = run("extract", str(SAMPLE), "-o", str(other), "--resume")
    assert proc.returncode == 2
    assert f"{other}:1: not a record of policy-topics" in text(proc)[1]
    assert other.read_text(encoding="utf-8") == content


def test_closed_pipe_stops_quietly(tmp_path: Path) -> None:
    source = big_input(tmp_path, n=300)
    with subprocess.Popen(
        [sys.executable, "-m", "policy_topics", "extract", str(source)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    ) as proc:
        assert proc.stdout is not None and proc.stderr is not None
        first = proc.stdout.readline()
        assert DocumentResult.model_validate_json(first).doc_id == "d0"
        proc.stdout.close()
        stderr = proc.stderr.read()
        proc.wait(timeout=60)
    assert proc.returncode == 141
    assert b"Traceback" not in stderr


@pytest.mark.parametrize("name", ["out.json", "out.jsonl"])
def test_unwritable_output_is_a_usage_error(tmp_path: Path, name: str) -> None:
    proc = run("extract", str(SAMPLE), "-o", str(tmp_path / "no-such-folder" / name))
    assert proc.returncode == 2
    assert (
        text(proc)[1] == f"policy-topics: cannot write {tmp_path}/no-such-folder/{name}: "
        "No such file or directory\n"
    )


def _unread(pipe: int) -> int:
    """Bytes written to a pipe that its reader has not read yet."""
    return int(struct.unpack("i", fcntl.ioctl(pipe, termios.FIONREAD, b"\0" * 4))[0])


def test_an_older_jsonl_output_is_kept_until_a_first_result_is_ready(tmp_path: Path) -> None:
    # It was emptied as soon as the run began: stopped before its first result
    # (here still reading stdin), a run left an empty file where results were.
    out = tmp_path / "out.jsonl"
    out.write_text('{"old": 1}\n', encoding="utf-8")
    proc = subprocess.Popen(
        [sys.executable, "-m", "policy_topics", "extract", "-", "-o", str(out), "-q"],
        stdin=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert proc.stdin is not None and proc.stderr is not None
    proc.stdin.write(TRADE.encode())
    proc.stdin.flush()
    wait_for(lambda: _unread(proc.stdin.fileno()) == 0)  # reading its first document
    proc.send_signal(signal.SIGINT)
    proc.wait(timeout=60)
    stderr = proc.stderr.read().decode()
    proc.stdin.close()
    proc.stderr.close()
    assert proc.returncode == 130, stderr
    assert stderr == (
        f"policy-topics: interrupted by SIGINT after 0 documents; {out} was left as it was "
        "(no document was finished)\n"
    )
    assert out.read_text(encoding="utf-8") == '{"old": 1}\n'


def test_an_unwritable_jsonl_output_fails_before_the_first_document(tmp_path: Path) -> None:
    out = tmp_path / "no-such-folder" / "out.jsonl"
    # stdin stays open: a run that waited for its first document never ended.
    proc = subprocess.Popen(
        [sys.executable, "-m", "policy_topics", "extract", "-", "-o", str(out)],
        stdin=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert proc.stdin is not None and proc.stderr is not None
    try:
        proc.wait(timeout=120)
    finally:
        proc.kill()
        proc.stdin.close()
    stderr = proc.stderr.read().decode()
    proc.stderr.close()
    assert proc.returncode == 2, stderr
    assert stderr == f"policy-topics: cannot write {out}: No such file or directory\n"


@pytest.mark.parametrize(("name", "made"), [("out/", False), ("out/", True), ("out", True)])
def test_a_folder_as_output_is_a_usage_error(tmp_path: Path, name: str, made: bool) -> None:
    if made:
        (tmp_path / "out").mkdir()
    proc = run("extract", str(SAMPLE), "-o", name, cwd=tmp_path)
    assert proc.returncode == 2
    stderr = " ".join(text(proc)[1].replace("│", " ").split())
    assert f"'{name}' is a folder; give the file to write, e.g. out/results.jsonl" in stderr
    # Nothing was written: no file named 'out' where no folder was.
    assert [p.name for p in tmp_path.iterdir()] == (["out"] if made else [])
    if made:
        assert not any((tmp_path / "out").iterdir())


@pytest.mark.parametrize("name", ["", " "])
def test_an_empty_output_name_is_a_usage_error(tmp_path: Path, name: str) -> None:
    # It was read as '.', said to name no format, then refused as a folder: two
    # messages that contradict each other.
    proc = run("extract", str(SAMPLE), "-o", name, cwd=tmp_path)
    assert proc.returncode == 2
    stderr = " ".join(text(proc)[1].replace("│", " ").split())
    assert "an empty file name; give the file to write, e.g. results.jsonl" in stderr
    assert "names no output format" not in stderr
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("to_stdout", [False, True])
def test_a_full_disk_keeps_whole_lines_and_exits_74(
    corpora: Path, tmp_path: Path, to_stdout: bool
) -> None:
    # A file size limit stands in for a full disk. A short write left half a
    # record at the end of stdout redirected to a file, and a failed write
    # exited 2, the code of usage errors.
    source = corpora / "manifesto-trade-dev.jsonl"
    out = tmp_path / "out.jsonl"
    limit = 100_000

    def small_files() -> None:
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

    args = [sys.executable, "-m", "policy_topics", "extract", str(source), "-q"]
    with out.open("wb") as stdout:
        proc = subprocess.run(
            args if to_stdout else [*args, "-o", str(out)],
            stdout=stdout if to_stdout else subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            preexec_fn=small_files,
            timeout=300,
            check=False,
        )
    assert proc.returncode == 74, proc.stderr
    assert b"it holds the records written before, as complete lines" in proc.stderr
    lines = out.read_bytes().split(b"\n")
    assert lines[-1] == b"" and len(lines) > 2  # ends with a whole line
    assert all(DocumentResult.model_validate_json(line) for line in lines[:-1])


def test_output_inside_an_input_folder_is_not_read_back(folder: Path) -> None:
    out = folder / "results.jsonl"
    assert run("extract", str(folder), "-o", str(out)).returncode == 1
    before = out.read_bytes()
    assert run("extract", str(folder), "-o", str(out)).returncode == 1
    assert out.read_bytes() == before
    assert len(before.splitlines()) == 5


def test_html_output_highlights_every_document_and_escapes_text(tmp_path: Path) -> None:
    import xml.etree.ElementTree as ET

    (tmp_path / "a.txt").write_text("We will cut tariffs on <script>alert(1)</script> steel.")
    (tmp_path / "b.txt").write_text("Oil & gas prices rose.")
    (tmp_path / "bad.txt").write_bytes(b"caf\xe9 tariffs")
    out = tmp_path / "page.html"
    proc = run("extract", str(tmp_path), "-o", str(out), "--quiet")
    assert proc.returncode == 1
    page = out.read_text(encoding="utf-8")
    assert page.count("<!DOCTYPE html>") == 1
    assert "<script>" not in page and "&lt;script&gt;" in page
    assert "&amp;" in page and " & " not in page
    assert "bad.txt" in page
    ET.fromstring(page.split("\n", 1)[1])  # well-formed after the doctype line


@pytest.mark.parametrize("fmt", ["jsonl", "json", "csv", "table", "html"])
def test_lone_surrogates_in_names_and_texts_stop_no_format(tmp_path: Path, fmt: str) -> None:
    # A file name that is not UTF-8 becomes a lone surrogate in the id and in
    # the error message of a missing file; JSON Lines text may hold one too.
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / os.fsdecode(b"caf\xe9.txt")).write_text("We cut tariffs.", encoding="utf-8")
    lines = tmp_path / "docs.jsonl"
    lines.write_text('{"id": "j", "text": "Tariffs \\ud800 fell."}\n', encoding="utf-8")
    missing = str(tmp_path / os.fsdecode(b"missing-caf\xe9.txt"))
    out = tmp_path / "out"
    proc = run("extract", missing, str(folder), str(lines), "-f", fmt, "-o", str(out), "-q")
    assert proc.returncode == 1, text(proc)[1]
    assert "1 of 3 documents failed" in text(proc)[1]
    written = out.read_text(encoding="utf-8")
    assert "caf\ufffd.txt" in written and "\ufffd fell." in written
    if fmt == "jsonl":
        records = [DocumentResult.model_validate_json(line) for line in written.splitlines()]
        assert [r.ok for r in records] == [False, True, True]


def test_html_output_names_topics_by_their_labels_below_min_score(tmp_path: Path) -> None:
    # The page took labels from the areas alone: a topic tagged below
    # --min-score was shown by its id in the legend and in each match's title.
    taxonomy = tmp_path / "mine.yaml"
    taxonomy.write_text(
        "name: mine\ntopics:\n  tr:\n    label: Trade policy\n    terms: [tariff]\n"
        "    subtopics:\n      du:\n        label: Duties\n        terms: [customs duty]\n"
        "  en:\n    label: Energy policy\n    terms: [solar]\n",
        encoding="utf-8",
    )
    doc = tmp_path / "ms.txt"
    doc.write_text("We cut tariffs. Customs duties fell. Solar grows.", encoding="utf-8")
    proc = run("extract", str(doc), "-t", str(taxonomy), "-f", "html", "--min-score", "0.99")
    page, _ = text(proc)
    assert proc.returncode == 0
    assert ">Trade policy</mark>" in page and ">Energy policy</mark>" in page
    assert "sub-topic: Duties" in page and "topic: Trade policy" in page


def test_html_output_shows_a_document_that_failed_after_it_was_read(tmp_path: Path) -> None:
    data = tmp_path / "in.jsonl"
    # Metadata nested deeper than JSON output allows is read, then fails.
    deep = "{" + '"a": {' * 300 + "}" * 301
    data.write_text(
        '{"id": "ok", "text": "We cut tariffs."}\n'
        f'{{"id": "m1", "text": "Solar grew.", "meta": {{"src": {deep}}}}}\n',
        encoding="utf-8",
    )
    out = tmp_path / "out.html"
    proc = run("extract", str(data), "-o", str(out), "-q")
    assert proc.returncode == 1
    page = out.read_text(encoding="utf-8")
    assert ">ok</strong>" in page and ">m1</strong>" in page and "Solar grew." in page
    assert "Failed: <strong>ValueError</strong>" in page


def test_an_empty_file_in_html_output_keeps_its_name_and_taxonomy(tmp_path: Path) -> None:
    (tmp_path / "empty.txt").write_bytes(b"")
    out = tmp_path / "out.html"
    proc = run(
        "extract", str(tmp_path / "empty.txt"), "-t", "cooperation-extended", "-o", str(out), "-q"
    )
    assert proc.returncode == 0, text(proc)[1]
    page = out.read_text(encoding="utf-8")
    assert "empty.txt" in page and "taxonomy cooperation-extended" in page


def test_a_long_output_name_is_written_atomically(tmp_path: Path) -> None:
    name = "中国拉美合作政策文件" * 8 + ".csv"  # 243 bytes: a temporary ".name.XXXX.tmp" is not
    proc = run("extract", str(SAMPLE), "-o", str(tmp_path / name), "-q")
    assert proc.returncode == 0, text(proc)[1]
    assert [p.name for p in tmp_path.iterdir()] == [name]


# --- output files that must not lose data ------------------------------------------------


@pytest.mark.parametrize("name", ["docs.jsonl", "paper.txt", "summary.csv"])
def test_output_named_as_an_input_is_refused_and_the_input_kept(tmp_path: Path, name: str) -> None:
    source = tmp_path / name
    body = json.dumps({"id": "a", "text": TRADE}) + "\n" if name.endswith(".jsonl") else TRADE
    source.write_text(body, encoding="utf-8")
    link = tmp_path / f"link-to-{name}"
    link.symlink_to(source)
    for output in (source, link):
        proc = run("extract", str(source), "-o", str(output), "-q")
        assert proc.returncode == 2
        assert "is both an input and the output file" in text(proc)[1]
        assert source.read_text(encoding="utf-8") == body


def test_output_that_is_the_file_stdin_reads_is_refused_and_the_input_kept(
    tmp_path: Path,
) -> None:
    # "- < in.jsonl -o in.jsonl" emptied the input, then tagged its own records.
    source = tmp_path / "in.jsonl"
    body = json.dumps({"id": "a", "text": TRADE}) + "\n"
    source.write_text(body, encoding="utf-8")

    def from_stdin(output: Path) -> subprocess.CompletedProcess[bytes]:
        with source.open("rb") as stdin:
            return run(
                "extract", "-", "--stdin-format", "jsonl", "-o", str(output), "-q", stdin=stdin
            )

    proc = from_stdin(source)
    assert proc.returncode == 2
    assert "is both the standard input and the output file" in text(proc)[1]
    assert source.read_text(encoding="utf-8") == body
    # Another file as the output is written as ever.
    other = tmp_path / "out.jsonl"
    assert from_stdin(other).returncode == 0
    assert json.loads(other.read_text(encoding="utf-8"))["doc_id"] == "a"


@pytest.mark.parametrize("pattern", ["{folder}", "{folder}/*.jsonl"])
def test_output_an_input_folder_would_read_is_refused(tmp_path: Path, pattern: str) -> None:
    folder = tmp_path / "in"
    folder.mkdir()
    data = folder / "data.jsonl"
    body = '{"id": "a", "text": "We cut tariffs."}\n{"id": "b", "text": "Solar power."}\n'
    data.write_text(body, encoding="utf-8")
    (folder / "x.txt").write_text(TRADE, encoding="utf-8")
    proc = run("extract", pattern.format(folder=folder), "-o", str(data), "-q")
    assert proc.returncode == 2
    assert "does not hold policy-topics output" in text(proc)[1]
    assert data.read_text(encoding="utf-8") == body


def test_a_hard_link_to_an_input_in_a_folder_is_refused(tmp_path: Path) -> None:
    folder = tmp_path / "in"
    folder.mkdir()
    data = folder / "x.jsonl"
    body = '{"id": "a", "text": "We cut tariffs."}\n'
    data.write_text(body, encoding="utf-8")
    out = tmp_path / "out.jsonl"
    os.link(data, out)  # the same file under another name, outside the folder
    proc = run("extract", str(folder), "-o", str(out), "-q")
    assert proc.returncode == 2
    assert "does not hold policy-topics output" in text(proc)[1]
    assert data.read_text(encoding="utf-8") == body


@pytest.mark.parametrize("first_field", ["doc_id", "id"])
def test_input_records_that_begin_like_ours_are_not_taken_for_output(
    tmp_path: Path, first_field: str
) -> None:
    # pandas' to_json(lines=True) and --id-field doc_id give records that begin
    # '{"doc_id":', as ours do; they are inputs all the same.
    data = tmp_path / "docs.jsonl"
    body = "".join(
        json.dumps({first_field: key, "text": t}) + "\n"
        for key, t in (("a", "We cut tariffs."), ("b", "Energy grids."))
    )
    data.write_text(body, encoding="utf-8")
    (tmp_path / "note.txt").write_text("Solar power.", encoding="utf-8")
    proc = run("extract", str(tmp_path), "--id-field", first_field, "-o", str(data), "-q")
    assert proc.returncode == 2
    assert "does not hold policy-topics output" in text(proc)[1]
    assert data.read_text(encoding="utf-8") == body


@pytest.mark.parametrize("name", ["out.jsonl", "out.json", "out.txt", "out.html", "out.csv"])
def test_an_earlier_output_in_an_input_folder_is_overwritten(folder: Path, name: str) -> None:
    out = folder / name
    assert run("extract", str(folder), "-o", str(out)).returncode == 1
    first = out.read_bytes()
    assert run("extract", str(folder), "-o", str(out)).returncode == 1
    assert out.read_bytes() == first


def test_an_earlier_output_in_an_input_folder_is_skipped_with_a_note(folder: Path) -> None:
    # Results written into the folder by other runs, in each format, are not documents;
    # the table's first document has 1,000 mentions, which widen its column.
    (folder / "0-many.txt").write_text("We cut tariffs. " * 1000)
    earlier = [folder / "a.jsonl", folder / "summary.txt", folder / "page.html"]
    for out, fmt in zip(earlier, ["jsonl", "table", "html"], strict=True):
        run("extract", str(folder), "-o", str(out), "-f", fmt, "-q")
    (folder / "quotes.txt").write_bytes(run("extract", str(folder), "-f", "csv", "-q").stdout)
    earlier.append(folder / "quotes.txt")
    # Documents that merely begin like a summary are read.
    (folder / "minutes.txt").write_text("Amendment 7 (tariffs): FAILED (31 to 45)\nWe cut tariffs.")
    (folder / "motion.txt").write_text("Motion 12 (steel): FAILED (unanimously)\nWe cut tariffs.")
    (folder / "tied.txt").write_text(
        "Motion 4 (steel): FAILED (Tied) on the floor\nWe cut tariffs."
    )
    (folder / "review.md").write_text("Summary: 1 sentence, 1 area found in review\nTariffs.")
    (folder / "notes.md").write_text("Review: 3 sentences, 2 areas found\nWe cut tariffs.")
    proc = run("extract", str(folder), "-q")
    assert proc.returncode == 1  # e-bad.txt
    records = [DocumentResult.model_validate_json(line) for line in proc.stdout.splitlines()]
    assert [r.doc_id for r in records] == sorted(
        str(p) for p in folder.iterdir() if p not in earlier
    )
    stderr = text(proc)[1]
    for out in earlier:
        assert f"{out}: skipped, it holds policy-topics output" in stderr
    assert stderr.count("skipped") == len(earlier)
    # Named, a file is read whatever it holds.
    named = run("extract", str(folder / "summary.txt"), "-q")
    assert [DocumentResult.model_validate_json(named.stdout).doc_id] == [
        str(folder / "summary.txt")
    ]


def test_earlier_json_and_csv_outputs_in_a_folder_are_said_to_be_ours(folder: Path) -> None:
    # Files of types extract does not read: they were counted among the files to
    # convert, as a .doc is, though they hold an earlier run's output.
    for out in ("out.json", "out.csv"):
        assert run("extract", str(folder), "-o", str(folder / out), "-q").returncode == 1
    (folder / "data.csv").write_text("year,tariff\n1990,3.5\n", encoding="utf-8")
    proc = run("extract", str(folder), "-q")
    stderr = " ".join(text(proc)[1].split())
    for out in ("out.json", "out.csv"):
        assert f"{folder / out}: skipped, it holds policy-topics output" in stderr
    assert "left out 1 file of types it does not read (.csv 1)" in stderr


def test_dash_output_is_stdout(tmp_path: Path) -> None:
    proc = run("extract", str(SAMPLE), "-o", "-", "-q", cwd=tmp_path)
    assert proc.returncode == 0
    assert DocumentResult.model_validate_json(text(proc)[0]).areas
    assert list(tmp_path.iterdir()) == []


def test_unknown_output_suffix_is_written_as_jsonl_with_a_warning(tmp_path: Path) -> None:
    out = tmp_path / "out.results"
    proc = run("extract", str(SAMPLE), "-o", str(out), "-q")
    assert proc.returncode == 0
    assert "'.results' names no output format" in text(proc)[1]
    assert DocumentResult.model_validate_json(out.read_text(encoding="utf-8")).areas
    quiet = run("extract", str(SAMPLE), "-o", str(out), "-f", "jsonl", "-q")
    assert text(quiet)[1] == ""


def test_a_table_or_compressed_output_suffix_is_refused_before_tagging(tmp_path: Path) -> None:
    table = run("extract", str(SAMPLE), "-o", str(tmp_path / "out.parquet"), "-q")
    assert table.returncode == 2
    assert "not '.parquet'; write CSV (-o results.csv)" in text(table)[1]
    packed = run("extract", str(SAMPLE), "-o", str(tmp_path / "out.csv.gz"), "-f", "csv", "-q")
    assert packed.returncode == 2
    assert "extract does not compress its output" in text(packed)[1]
    assert "| gzip > " in text(packed)[1]
    xz = run("extract", str(SAMPLE), "-o", str(tmp_path / "out.jsonl.xz"), "-q")
    assert xz.returncode == 2 and "| xz > " in text(xz)[1]
    assert list(tmp_path.iterdir()) == []
    # Asked for by name, a format is written under a table suffix.
    named = run("extract", str(SAMPLE), "-o", str(tmp_path / "out.parquet"), "-f", "jsonl", "-q")
    assert named.returncode == 0 and (tmp_path / "out.parquet").stat().st_size > 0


@pytest.mark.parametrize("fmt", ["csv", "jsonl"])
def test_output_through_a_symlink_keeps_the_link(tmp_path: Path, fmt: str) -> None:
    real, link = tmp_path / f"real.{fmt}", tmp_path / f"link.{fmt}"
    real.write_text("old\n", encoding="utf-8")
    link.symlink_to(real)
    assert run("extract", str(SAMPLE), "-o", str(link), "-q").returncode == 0
    assert link.is_symlink()
    assert real.read_text(encoding="utf-8").startswith("doc_id" if fmt == "csv" else "{")
    assert sorted(p.name for p in tmp_path.iterdir()) == [link.name, real.name]


@pytest.mark.parametrize(
    ("fmt", "message"),
    [
        ("html", "nothing was written to stdout (HTML is written when the run ends)"),
        ("json", "finished records, the JSON array closed after them"),
        ("csv", "finished documents, each row complete"),
    ],
)
def test_interrupted_stdout_says_what_it_holds(tmp_path: Path, fmt: str, message: str) -> None:
    source, out = big_input(tmp_path), tmp_path / "stdout"
    with out.open("wb") as stdout:
        proc = subprocess.Popen(
            [sys.executable, "-m", "policy_topics", "extract", str(source), "-f", fmt, "-q"],
            stdout=stdout,
            stderr=subprocess.PIPE,
        )
        if fmt == "html":  # nothing reaches stdout before the end: wait until it reads
            reading = psutil.Process(proc.pid)
            wait_for(lambda: any(f.path == str(source) for f in reading.open_files()))
        else:
            wait_for(lambda: b"d3" in out.read_bytes())
        proc.send_signal(signal.SIGINT)
        _, stderr = proc.communicate(timeout=60)
    assert proc.returncode == 130, stderr
    assert message in stderr.decode()
    if fmt == "html":
        assert out.read_bytes() == b""
    if fmt == "json":
        # Closed after the finished records: a JSON document, as JSON Lines keeps whole lines.
        records = json.loads(out.read_bytes())
        held = int(re.search(r"holds the (\d+) finished", stderr.decode()).group(1))  # type: ignore[union-attr]
        assert len(records) == held >= 4 and records[3]["doc_id"] == "d3"


def test_ctrl_c_while_the_command_line_loads_stops_quietly(tmp_path: Path) -> None:
    # It printed the traceback of the import it broke off: spaCy's takes a
    # second or two. A stand-in for spaCy that never ends loading holds it there.
    slow = tmp_path / "slow"
    (slow / "spacy").mkdir(parents=True)
    loading = tmp_path / "loading"
    (slow / "spacy" / "__init__.py").write_text(
        "import os, pathlib, time\npathlib.Path(os.environ['LOADING']).touch()\ntime.sleep(300)\n",
        encoding="utf-8",
    )
    path = os.pathsep.join(filter(None, [str(slow), os.environ.get("PYTHONPATH")]))
    proc = subprocess.Popen(
        [sys.executable, "-m", "policy_topics", "extract", str(SAMPLE)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env={**os.environ, "PYTHONPATH": path, "LOADING": str(loading)},
    )
    wait_for(loading.exists)
    proc.send_signal(signal.SIGINT)
    stdout, stderr = proc.communicate(timeout=60)
    assert (proc.returncode, stderr, stdout) == (
        130,
        b"policy-topics: interrupted by SIGINT\n",
        b"",
    )


@pytest.mark.parametrize(("signum", "code"), [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
def test_a_signal_outside_extraction_is_told_in_one_line(
    tmp_path: Path, signum: signal.Signals, code: int
) -> None:
    # typer turned Ctrl-C into a silent exit 130; SIGTERM killed without a word.
    gold = tmp_path / "gold.jsonl"
    os.mkfifo(gold)  # reading it waits for a writer's lines: the command waits there
    proc = subprocess.Popen(
        [sys.executable, "-m", "policy_topics", "evaluate", str(gold)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    writer: list[int] = []

    def reading() -> bool:
        with contextlib.suppress(OSError):  # ENXIO: no reader yet
            writer.append(os.open(gold, os.O_WRONLY | os.O_NONBLOCK))
        return bool(writer)

    try:
        wait_for(reading)
        proc.send_signal(signum)
        stdout, stderr = proc.communicate(timeout=60)
    finally:
        for fd in writer:
            os.close(fd)
    assert proc.returncode == code, stderr
    assert stderr.decode() == f"policy-topics: interrupted by {signum.name}\n"
    assert stdout == b""


def test_ignored_sigint_stays_ignored(tmp_path: Path) -> None:
    source, out = big_input(tmp_path, n=400), tmp_path / "out.jsonl"
    proc = subprocess.Popen(
        [sys.executable, "-m", "policy_topics", "extract", str(source), "-o", str(out), "-q"],
        stderr=subprocess.PIPE,
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_IGN),  # as `cmd &` does
    )
    wait_for(lambda: out.exists() and out.stat().st_size > 20_000)
    proc.send_signal(signal.SIGINT)
    _, stderr = proc.communicate(timeout=300)
    assert proc.returncode == 0, stderr
    assert len(out.read_text(encoding="utf-8").splitlines()) == 400


def test_an_unreadable_pdf_is_reported_once_without_pypdf_noise(tmp_path: Path) -> None:
    pytest.importorskip("pypdf")
    bad = tmp_path / "bad.pdf"
    bad.write_bytes(b"not a pdf at all")
    proc = run("extract", str(bad), "-q")
    assert proc.returncode == 1
    stderr = text(proc)[1]
    assert stderr.startswith("policy-topics: 1 of 1 document failed:\n")
    assert "invalid pdf header" not in stderr and "EOF marker" not in stderr


def test_a_full_disk_never_cuts_what_an_appended_file_held(corpora: Path, tmp_path: Path) -> None:
    # With '>>' the file's position is 0 until the first write: the cut must
    # start at its end, or a failed first write emptied the file.
    source = corpora / "manifesto-trade-dev.jsonl"
    out = tmp_path / "out.jsonl"
    out.write_bytes(b"earlier content without newline")

    def tiny_files() -> None:
        resource.setrlimit(resource.RLIMIT_FSIZE, (40, 40))

    with out.open("ab") as stdout:
        proc = subprocess.run(
            [sys.executable, "-m", "policy_topics", "extract", str(source), "-q"],
            stdout=stdout,
            stderr=subprocess.PIPE,
            preexec_fn=tiny_files,
            timeout=300,
            check=False,
        )
    assert proc.returncode == 74, proc.stderr
    assert out.read_bytes() == b"earlier content without newline"


def _to_full_disk(
    args: list[str], out: Path, limit: int, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[bytes]:
    """Run the command with stdout appended to ``out``, with a file size limit standing in
    for a full disk."""

    def small_files() -> None:
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

    with out.open("ab") as stdout:
        return subprocess.run(
            [sys.executable, "-m", "policy_topics", *args],
            stdout=stdout,
            stderr=subprocess.PIPE,
            preexec_fn=small_files,
            env=env,
            timeout=300,
            check=False,
        )


@pytest.mark.parametrize("unbuffered", ["1", ""])
def test_a_last_record_cut_by_a_full_disk_is_not_kept(tmp_path: Path, unbuffered: str) -> None:
    # With PYTHONUNBUFFERED (usual in containers) stdout has no buffer, and a
    # short write dropped the rest of the record without an error: the run
    # exited 0 with one record cut in half.
    out = tmp_path / "out.jsonl"
    out.write_bytes(b"")
    env = {**os.environ, "PYTHONUNBUFFERED": unbuffered}
    proc = _to_full_disk(["extract", str(SAMPLE), "-q"], out, 4096, env)
    assert proc.returncode == 74, proc.stderr
    assert b"it holds the records written before, as complete lines" in proc.stderr
    assert out.read_bytes() == b""


@pytest.mark.parametrize(
    "args", [["schema"], ["taxonomy", "show", "default"], ["extract", str(SAMPLE), "-f", "json"]]
)
def test_output_that_is_not_in_records_is_taken_back_at_a_full_disk(
    tmp_path: Path, args: list[str]
) -> None:
    # The schema at a full disk ended in a traceback (exit 1), the tree in
    # exit 120; each left half of its output in the file.
    out = tmp_path / "out.txt"
    out.write_bytes(b"earlier")
    proc = _to_full_disk(args, out, 1024)
    assert proc.returncode == 74, proc.stderr
    assert proc.stderr.decode().splitlines() == [
        "policy-topics: cannot write stdout: File too large; what this run wrote to it was removed"
    ]
    assert out.read_bytes() == b"earlier"


def test_files_of_other_types_in_a_folder_are_named_on_stderr(tmp_path: Path) -> None:
    folder = tmp_path / "news"
    folder.mkdir()
    (folder / "a.txt").write_text("Tariffs rose.", encoding="utf-8")
    (folder / "b.doc").write_bytes(b"\xd0\xcf\x11\xe0")
    (folder / "c.doc").write_bytes(b"\xd0\xcf\x11\xe0")
    (folder / "d.rtf").write_text("{\\rtf1 tariffs}", encoding="utf-8")
    proc = run("extract", str(folder), "-q")
    assert proc.returncode == 0
    stdout, stderr = text(proc)
    assert len(stdout.splitlines()) == 1
    assert stderr.startswith(
        "policy-topics: left out 3 files of types it does not read (.doc 2, .rtf 1); it reads "
    )


def test_evaluate_names_a_gold_sub_topic_and_its_topic(tmp_path: Path) -> None:
    # A gold label that is a sub-topic's id was reported as "not in taxonomy
    # ... (a typo in the gold?)", though the taxonomy has it one level down.
    gold = tmp_path / "gold.jsonl"
    rows = [
        {
            "id": "a",
            "text": "We cut tariffs.",
            "sentences": [{"start": 0, "end": 15, "topics": ["tariffs"]}],
        },
        {
            "id": "b",
            "text": "Grids grew.",
            "sentences": [{"start": 0, "end": 11, "topics": ["enrgy"]}],
        },
    ]
    gold.write_text("".join(json.dumps(row) + "\n" for row in rows), encoding="utf-8")
    proc = run("evaluate", str(gold))
    assert proc.returncode == 0, proc.stderr
    assert text(proc)[1].splitlines()[0] == (
        "policy-topics: gold topics not in taxonomy 'default', scored as missed: enrgy, "
        "tariffs ('tariffs' is a sub-topic of 'trade', and gold is scored by top-level topic: "
        "write 'trade'; the others: typos in the gold?)"
    )


@pytest.mark.parametrize("args", [["schema"], ["extract", str(SAMPLE), "-q", "-o", "out.jsonl"]])
def test_a_closed_stdout_is_no_crash(tmp_path: Path, args: list[str]) -> None:
    # Started with stdout closed (a daemon, `>&-`), Python's sys.stdout is None:
    # every command ended in an AttributeError traceback, even one writing to -o.
    proc = subprocess.run(
        [sys.executable, "-m", "policy_topics", *args],
        cwd=tmp_path,
        stderr=subprocess.PIPE,
        preexec_fn=lambda: os.close(1),
        timeout=300,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr == b""
    if "-o" in args:
        assert (tmp_path / "out.jsonl").read_text(encoding="utf-8").count("\n") == 1


@pytest.mark.parametrize("args", [["schema"], ["extract", str(SAMPLE), "-q"]])
def test_a_full_disk_with_stderr_in_the_same_file(tmp_path: Path, args: list[str]) -> None:
    # '> log 2>&1': stderr shares stdout's offset. After stdout's file was cut,
    # the message went past its end: a hole of NUL bytes before it on a full
    # disk, or (past the size limit) an error of its own, a traceback and exit 1.
    log = tmp_path / "log"

    def small_files() -> None:
        resource.setrlimit(resource.RLIMIT_FSIZE, (1024, 1024))

    with log.open("wb") as stream:
        proc = subprocess.run(
            [sys.executable, "-m", "policy_topics", *args],
            stdout=stream,
            stderr=subprocess.STDOUT,
            preexec_fn=small_files,
            timeout=300,
            check=False,
        )
    assert proc.returncode == 74
    written = log.read_bytes()
    assert b"\0" not in written
    assert written.startswith(b"policy-topics: cannot write stdout: File too large")


def test_quotes_of_a_pdf_name_their_page(tmp_path: Path) -> None:
    pytest.importorskip("pypdf")
    from bench import synth

    path = tmp_path / "paper.pdf"
    path.write_bytes(synth.pdf([[TRADE], [], [ENERGY]]))
    proc = run("extract", str(path), "-f", "jsonl")
    assert proc.returncode == 0, proc.stderr
    (record,) = [DocumentResult.model_validate_json(x) for x in proc.stdout.splitlines()]
    assert {(a.topic, q.page) for a in record.areas for q in a.quotes} == {
        ("trade", 1),
        ("energy", 3),
    }
    assert b'"page":1' in proc.stdout and b'"page":3' in proc.stdout
    stdout, _ = text(run("extract", str(path), "-f", "csv"))
    rows = list(csv.reader(stdout.splitlines()))
    assert rows[0] == [*CSV_COLUMNS, "meta", "page"]
    assert sorted((row[1], row[-1]) for row in rows[1:]) == [("energy", "3"), ("trade", "1")]
    stdout, _ = text(run("extract", str(path), "-f", "table"))
    assert f"      > p. 1: {TRADE[:40]}" in stdout and f"      > p. 3: {ENERGY[:40]}" in stdout
    # a text file's quotes have no page
    (tmp_path / "paper.txt").write_text(TRADE, encoding="utf-8")
    stdout, _ = text(run("extract", str(tmp_path / "paper.txt"), "-f", "csv"))
    assert [row[-1] for row in csv.reader(stdout.splitlines())] == ["page", ""]


def test_the_table_shows_control_characters_rather_than_sending_them(tmp_path: Path) -> None:
    # ESC [2J cleared the screen and ESC ]0; ... BEL set the window's title of
    # whoever read the table in a terminal; a file's name went out raw to stderr.
    path = tmp_path / "esc\x1b[31m.txt"
    path.write_text("We cut tariffs \x1b[2J\x1b]0;pwned\x07 today.\r\n\x9b6n", encoding="utf-8")
    proc = run("extract", str(path), "-f", "table")
    stdout, _ = text(proc)
    assert proc.returncode == 0
    assert "\x1b" not in stdout and "\x07" not in stdout and "\x9b" not in stdout
    assert "esc\u241b[31m.txt: 2 sentences, 1 area found" in stdout
    assert "> We cut tariffs \u241b[2J\u241b]0;pwned\u2407 today." in stdout
    proc = run("extract", str(path), "-o", str(tmp_path / "out"), "-q")
    _, stderr = text(proc)
    assert "\x1b" not in stderr and "esc\u241b[31m" not in stderr  # the output's name only
    assert f"{tmp_path / 'out'}: the suffix '(none)' names no output format" in stderr


@pytest.mark.skipif(not Path("/proc/self/fd").is_dir(), reason="the system names no fd's file")
def test_stdout_redirected_to_a_file_is_never_read_as_an_input(tmp_path: Path) -> None:
    # As with -o: "> docs/a.txt" made the run's own output a document of the
    # run (its name sorts before the others), and "app.txt >> app.txt" added
    # the results to the input file.
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "p.txt").write_text(TRADE, encoding="utf-8")

    def into(path: Path, *args: str, mode: str = "wb") -> subprocess.CompletedProcess[bytes]:
        with path.open(mode) as out:
            return subprocess.run(
                [sys.executable, "-m", "policy_topics", "extract", *args],
                stdout=out,
                stderr=subprocess.PIPE,
                timeout=300,
                check=False,
            )

    proc = into(docs / "a.txt", str(docs), "-q", "-f", "table")
    assert proc.returncode == 0
    written = (docs / "a.txt").read_text(encoding="utf-8")
    assert written.startswith(f"{docs / 'p.txt'}: 1 sentence, ") and "a.txt" not in written
    # Of a type no input has, it was counted among the files left out to convert.
    proc = into(docs / "results.csv", str(docs), "-q", "-f", "csv")
    assert proc.returncode == 0 and b"left out" not in proc.stderr
    app = tmp_path / "app.txt"
    app.write_text(TRADE, encoding="utf-8")
    proc = into(app, str(app), mode="ab")
    assert proc.returncode == 2
    stderr = proc.stderr.decode("utf-8")
    assert f"{app} is both an input and the file the standard output goes to" in stderr
    assert app.read_text(encoding="utf-8") == TRADE
    (docs / "b.txt").write_text("notes", encoding="utf-8")
    proc = into(docs / "b.txt", str(docs), mode="ab")
    assert proc.returncode == 2
    assert "the results there would change it: redirect the output to another file" in (
        proc.stderr.decode("utf-8")
    )
    assert (docs / "b.txt").read_text(encoding="utf-8") == "notes"


@pytest.mark.parametrize("fmt", ["csv", "jsonl", "json"])
def test_output_to_dev_stdout_goes_where_stdout_goes(tmp_path: Path, fmt: str) -> None:
    # With stdout redirected to a file, '-o /dev/stdout' renamed its temporary
    # file over that file (or emptied it): the script's own lines were lost.
    (tmp_path / "a.txt").write_text("We cut tariffs.", encoding="utf-8")
    script = (
        "{ echo header; "
        f'"{sys.executable}" -m policy_topics extract a.txt -q -f {fmt} -o /dev/stdout; '
        "echo footer; } > report.txt"
    )
    subprocess.run(["sh", "-c", script], cwd=tmp_path, check=True, timeout=300)
    expected = run("extract", "a.txt", "-q", "-f", fmt, cwd=tmp_path).stdout.decode("utf-8")
    report = (tmp_path / "report.txt").read_bytes().decode("utf-8")  # CSV ends lines with CRLF
    assert report == f"header\n{expected}footer\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.txt", "report.txt"]


def test_an_input_name_too_long_is_a_failed_document_not_an_output_failure(
    tmp_path: Path,
) -> None:
    # The error raised while looking at the name was taken for a failure to
    # write the output: exit 74, "cannot write stdout", the rest untagged.
    (tmp_path / "ok.txt").write_text("We cut tariffs.", encoding="utf-8")
    (tmp_path / "last.txt").write_text("Trade grows.", encoding="utf-8")
    long = "a" * 300 + ".txt"
    proc = run("extract", "ok.txt", long, "last.txt", "-o", "out.jsonl", "-q", cwd=tmp_path)
    _, err = text(proc)
    assert proc.returncode == 1, err
    records = [json.loads(line) for line in (tmp_path / "out.jsonl").read_text().splitlines()]
    assert [r["doc_id"] for r in records] == ["ok.txt", long, "last.txt"]
    assert records[1]["error"]["message"] == f"{long}: cannot read: File name too long"
    assert "cannot write" not in err


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["extract", "a.txt", "-o", "{long}.json"], "policy-topics: cannot write {long}.json: "),
        (["extract", "a.txt", "-t", "{long}.yaml"], "  {long}.yaml: cannot read: "),
        (["taxonomy", "validate", "{long}.yaml"], "  {long}.yaml: cannot read: "),
        (["taxonomy", "lint", "{long}.yaml"], "  {long}.yaml: cannot read: "),
    ],
)
def test_a_path_that_cannot_be_looked_at_is_a_usage_error(
    tmp_path: Path, args: list[str], message: str
) -> None:
    # Path.exists and is_file raise for a name too long: a traceback (exit 1),
    # or, for -t, a message blaming the spaCy pipeline.
    (tmp_path / "a.txt").write_text("We cut tariffs.", encoding="utf-8")
    long = "a" * 300
    proc = run(*(arg.format(long=long) for arg in args), cwd=tmp_path)
    _, err = text(proc)
    assert proc.returncode == 2, err
    assert message.format(long=long) + "File name too long" in err
    assert "Traceback" not in err


def _kinds_given_in(module: Path) -> set[str]:
    """The kinds that ``ReadError(message, "Kind")`` calls in a module's source give."""
    tree = ast.parse(module.read_text(encoding="utf-8"))
    return {
        node.args[1].value
        for node in ast.walk(tree)
        if isinstance(node, ast.Call)
        and isinstance(node.func, ast.Name)
        and node.func.id == "ReadError"
        and len(node.args) > 1
        and isinstance(node.args[1], ast.Constant)
        and isinstance(node.args[1].value, str)
    }


def test_every_kind_of_read_error_marks_a_table_of_ours() -> None:
    # A table whose first document failed as EmptyFile, WrongType or BadZipFile
    # was not known as ours: a run repeated in place was refused (exit 2), and
    # other runs read the table as a document.
    kinds = _kinds_given_in(Path(readers.__file__))
    assert kinds >= {"EmptyFile", "WrongType", "SymlinkLoop"}
    for kind in sorted(kinds | {"BadZipFile", "WorkerDied", "PdfReadError"}):
        assert _TABLE_START_RE.match(f"x.pdf: FAILED ({kind}) it failed\n"), kind
    assert not _TABLE_START_RE.match("Motion 4 (steel): FAILED (Tied) on the floor\n")


def test_a_table_whose_first_document_is_an_empty_pdf_is_repeated_in_place(
    tmp_path: Path,
) -> None:
    (tmp_path / "a.pdf").write_bytes(b"")
    (tmp_path / "b.txt").write_text("We cut tariffs.", encoding="utf-8")
    first = run("extract", ".", "-o", "tab.txt", "-q", cwd=tmp_path)
    assert first.returncode == 1
    assert (tmp_path / "tab.txt").read_text().startswith("a.pdf: FAILED (EmptyFile) ")
    again = run("extract", ".", "-o", "tab.txt", "-q", cwd=tmp_path)
    assert again.returncode == 1, text(again)[1]
    other = run("extract", ".", "-q", cwd=tmp_path)
    assert "tab.txt: skipped, it holds policy-topics output" in text(other)[1]


@pytest.mark.skipif(not os.path.exists("/dev/full"), reason="needs /dev/full")
@pytest.mark.parametrize("fmt", ["jsonl", "json"])
def test_stdout_on_a_full_device_is_told_once(tmp_path: Path, fmt: str) -> None:
    # The buffer left in stdout failed again when Python flushed it at exit, and
    # the same message came twice.
    (tmp_path / "a.txt").write_text("We cut tariffs.", encoding="utf-8")
    with open("/dev/full", "wb") as full:
        proc = subprocess.run(
            [sys.executable, "-m", "policy_topics", "extract", "a.txt", "-q", "-f", fmt],
            stdout=full,
            stderr=subprocess.PIPE,
            cwd=tmp_path,
            timeout=300,
            check=False,
        )
    assert proc.returncode == 74
    assert proc.stderr.decode() == "policy-topics: cannot write stdout: No space left on device\n"


def test_retry_failed_at_a_full_disk_exits_74_and_keeps_the_file(tmp_path: Path) -> None:
    # It exited 2, the code of a usage error, for a failure to write.
    (tmp_path / "a.txt").write_text("We cut tariffs. " * 200, encoding="utf-8")
    first = run("extract", "a.txt", "gone.txt", "-o", "out.jsonl", "-q", cwd=tmp_path)
    assert first.returncode == 1
    out = tmp_path / "out.jsonl"
    held = out.read_bytes()
    assert len(held) > 4096 and b'"error":{' in held

    def small_files() -> None:
        resource.setrlimit(resource.RLIMIT_FSIZE, (1024, 1024))

    proc = subprocess.run(
        [
            *(sys.executable, "-m", "policy_topics", "extract", "a.txt", "gone.txt"),
            *("-o", "out.jsonl", "-q", "--resume", "--retry-failed"),
        ],
        capture_output=True,
        preexec_fn=small_files,
        cwd=tmp_path,
        timeout=300,
        check=False,
    )
    assert proc.returncode == 74, proc.stderr
    assert b"--retry-failed: cannot rewrite out.jsonl: File too large" in proc.stderr
    assert out.read_bytes() == held
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.txt", "out.jsonl"]


def test_n_process_minus_one_is_one_process_per_cpu_and_zero_a_usage_error() -> None:
    one = run("extract", str(SAMPLE))
    every = run("extract", str(SAMPLE), "--n-process", "-1")
    assert one.returncode == every.returncode == 0, text(every)[1]
    assert every.stdout == one.stdout
    assert "note" not in text(every)[1]


@pytest.mark.skipif(not hasattr(os, "sched_setaffinity"), reason="needs CPU affinity (Linux)")
def test_more_workers_than_cpus_get_one_note_and_the_same_output() -> None:
    def one_cpu() -> None:
        os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})

    def extract(n_process: str) -> subprocess.CompletedProcess[bytes]:
        command = [sys.executable, "-m", "policy_topics", "extract", str(SAMPLE)]
        return subprocess.run(
            [*command, "--n-process", n_process],
            capture_output=True,
            preexec_fn=one_cpu,
            timeout=300,
            check=False,
        )

    alone, extra = extract("1"), extract("2")
    assert alone.returncode == extra.returncode == 0, text(extra)[1]
    assert extra.stdout == alone.stdout
    assert text(alone)[1] == ""
    assert text(extra)[1] == (
        "policy-topics: note: --n-process 2 asks for 2 worker processes, more than the 1 CPU "
        "this process may use: each holds a pipeline of its own, so the extra ones add memory "
        "and no speed; -1 starts one per CPU\n"
    )
    zero = run("extract", str(SAMPLE), "--n-process", "0")
    assert zero.returncode == 2
    assert "give 1 or more, or -1 for one per CPU" in text(zero)[1]


def test_a_json_run_to_stdout_stopped_before_its_first_record_left_nothing() -> None:
    # Its "[" goes out with the first record: the message said stdout held "the 0
    # finished records in a JSON array that is not closed".
    from policy_topics.cli import OutputFormat, _what_is_kept

    def kept(count: int) -> str:
        return _what_is_kept(
            "stdout", OutputFormat.json, count, atomic=False, opened=True, finished=False
        )

    assert kept(0) == "nothing was written to stdout"
    assert kept(2) == "stdout holds the 2 finished records, the JSON array closed after them"
