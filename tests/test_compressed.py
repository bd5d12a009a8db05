"""Compressed input files: .gz, .bz2 and .xz after a supported suffix."""

from __future__ import annotations

import bz2
import gzip
import json
import lzma
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from policy_topics import Extractor
from policy_topics.io import COMPRESSED_SUFFIXES, read_documents

COMPRESS: dict[str, Callable[[bytes], bytes]] = {
    ".gz": gzip.compress,
    ".bz2": bz2.compress,
    ".xz": lzma.compress,
}

FILES = {
    "a.txt": b"We will cut tariffs on steel.\r\nBoth sides back solar power.",
    "b.md": b"# Energy\n\nThe grid needs investment.",
    "c.html": b"<html><body><nav>Menu</nav><p>They will build 5G networks.</p></body></html>",
    "d.jsonl": b"".join(
        json.dumps({"id": f"n{i}", "text": f"Record {i}: tariffs on cars fell."}).encode() + b"\n"
        for i in range(2000)  # compresses to far less than it holds
    ),
}


def _without_ids(docs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{k: v for k, v in doc.items() if k != "id"} for doc in docs]


def test_the_suffixes_are_the_standard_librarys() -> None:
    assert set(COMPRESSED_SUFFIXES) == set(COMPRESS)


@pytest.mark.parametrize("suffix", list(COMPRESS))
@pytest.mark.parametrize("name", list(FILES))
def test_a_compressed_file_reads_as_the_file_itself(tmp_path: Path, name: str, suffix: str) -> None:
    plain, packed = tmp_path / name, tmp_path / f"{name}{suffix}"
    plain.write_bytes(FILES[name])
    packed.write_bytes(COMPRESS[suffix](FILES[name]))
    expected = list(read_documents(plain))
    got = list(read_documents(packed))
    assert _without_ids(got) == _without_ids(expected)
    assert "error" not in got[0]
    if name == "d.jsonl":
        assert len(got) == 2000  # every line, though the file is far smaller than its text
        assert [d["id"] for d in got] == [d["id"] for d in expected]
    else:
        assert got[0]["id"] == str(packed)


def test_deferred_compressed_files_are_read_where_they_are_tagged(tmp_path: Path) -> None:
    (tmp_path / "c.html.gz").write_bytes(gzip.compress(FILES["c.html"]))
    (tmp_path / "a.txt.xz").write_bytes(lzma.compress(FILES["a.txt"]))
    deferred = list(read_documents(tmp_path, defer=True))
    assert [("source" in d, "text" in d) for d in deferred] == [(False, True), (True, False)]
    extractor = Extractor()
    assert list(extractor.extract_many(deferred, n_process=2)) == list(
        extractor.extract_many(read_documents(tmp_path))
    )
    assert deferred[1]["source"].read()["text"] == "They will build 5G networks."


def test_a_jsonl_file_cut_short_gives_its_records_then_an_error(tmp_path: Path) -> None:
    packed = gzip.compress(FILES["d.jsonl"])
    (tmp_path / "cut.jsonl.gz").write_bytes(packed[: len(packed) // 2])
    (tmp_path / "next.txt").write_bytes(b"Tariffs fell.")
    docs = list(read_documents(tmp_path))
    *records, error, after = docs
    assert 0 < len(records) < 2000
    assert [d["id"] for d in records] == [f"n{i}" for i in range(len(records))]
    assert all("error" not in d for d in records)  # no half line read as a record
    assert error["id"] == str(tmp_path / "cut.jsonl.gz")
    assert error["error_type"] == "DecompressionError"
    assert f"after {len(records)} documents read" in error["error"]
    assert "damaged, cut short or not gzip" in error["error"]
    assert after == {"id": str(tmp_path / "next.txt"), "text": "Tariffs fell.", "meta": {}}


@pytest.mark.parametrize("suffix", list(COMPRESS))
def test_a_file_that_is_not_compressed_as_named_is_an_error_document(
    tmp_path: Path, suffix: str
) -> None:
    bad = tmp_path / f"a.txt{suffix}"
    bad.write_bytes(b"We cut tariffs, but this is no compressed file.")
    (doc,) = read_documents(bad)
    assert doc["error_type"] == "DecompressionError"
    assert doc["error"].startswith(f"{bad}: cannot decompress it as {COMPRESSED_SUFFIXES[suffix]}")


@pytest.mark.parametrize("suffix", list(COMPRESS))
@pytest.mark.parametrize("name", ["a.txt", "b.jsonl", "c.pdf", "d.html"])
def test_an_empty_compressed_file_reads_as_the_empty_file(
    tmp_path: Path, name: str, suffix: str
) -> None:
    # Nothing written yet ('policy-topics extract data | xz > data/out.jsonl.xz'
    # creates the file before a byte comes): gzip's reader took it for empty, xz's
    # and bzip2's for cut short, an error record in the run's own output.
    plain, packed = tmp_path / name, tmp_path / f"{name}{suffix}"
    plain.write_bytes(b"")
    packed.write_bytes(b"")

    def read(path: Path, *, defer: bool) -> list[dict[str, Any]]:
        docs = list(read_documents(path, defer=defer))
        docs = [doc["source"].read() if "source" in doc else doc for doc in docs]
        return [
            {k: v.replace(str(path), "F") if isinstance(v, str) else v for k, v in d.items()}
            for d in docs
        ]

    for defer in (False, True):
        assert read(packed, defer=defer) == read(plain, defer=defer)


def test_a_compressed_file_of_another_type_is_left_out_or_named(tmp_path: Path) -> None:
    other = tmp_path / "scans.tar.gz"
    other.write_bytes(gzip.compress(b"\0" * 100))
    (tmp_path / "a.txt.gz").write_bytes(gzip.compress(b"Tariffs fell."))
    unread: list[Path] = []
    docs = list(read_documents(tmp_path, unread=unread.append))
    assert [d["id"] for d in docs] == [str(tmp_path / "a.txt.gz")]
    assert unread == [other]
    (named,) = read_documents(other)
    assert named["error_type"] == "UnsupportedFormat"
    assert "unsupported file type '.tar.gz'" in named["error"]
    assert "each also compressed as .gz, .bz2, .xz" in named["error"]


def test_the_command_line_reads_a_compressed_archive_as_its_plain_file(tmp_path: Path) -> None:
    (tmp_path / "news.jsonl").write_bytes(FILES["d.jsonl"][:20_000])
    (tmp_path / "news.jsonl.bz2").write_bytes(bz2.compress(FILES["d.jsonl"][:20_000]))

    def run(name: str) -> bytes:
        proc = subprocess.run(
            [sys.executable, "-m", "policy_topics", "extract", str(tmp_path / name), "-q"],
            capture_output=True,
            timeout=300,
            check=False,
        )
        assert proc.returncode == 0, proc.stderr
        return proc.stdout

    assert run("news.jsonl.bz2") == run("news.jsonl")


def test_the_command_line_names_compressed_files_it_leaves_out(tmp_path: Path) -> None:
    (tmp_path / "scans.tar.gz").write_bytes(gzip.compress(b"\0" * 100))
    (tmp_path / "a.txt.gz").write_bytes(gzip.compress(b"We cut tariffs."))
    proc = subprocess.run(
        [sys.executable, "-m", "policy_topics", "extract", str(tmp_path), "-q"],
        capture_output=True,
        timeout=300,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    stderr = proc.stderr.decode()
    assert "left out 1 file of types it does not read (.tar.gz 1)" in stderr
    assert "each also compressed as .gz, .bz2, .xz" in stderr
    assert json.loads(proc.stdout)["doc_id"] == str(tmp_path / "a.txt.gz")


def test_an_earlier_output_compressed_in_an_input_folder_is_skipped(tmp_path: Path) -> None:
    # The command tells whoever asks for -o results.jsonl.gz to pipe its output
    # through gzip; a run over the same folder must not then read those records
    # back as documents, each an error, as it skips them uncompressed.
    (tmp_path / "a.txt").write_bytes(b"We will cut tariffs on steel.")

    def run(*args: str) -> subprocess.CompletedProcess[bytes]:
        command = [sys.executable, "-m", "policy_topics", "extract", str(tmp_path), "-q"]
        return subprocess.run([*command, *args], capture_output=True, timeout=300, check=False)

    first = run()
    table = run("-f", "table")
    assert first.returncode == table.returncode == 0, first.stderr + table.stderr
    (tmp_path / "results.jsonl.gz").write_bytes(gzip.compress(first.stdout))
    (tmp_path / "results.txt.xz").write_bytes(lzma.compress(table.stdout))
    again = run()
    assert again.returncode == 0, again.stderr
    assert again.stdout == first.stdout
    stderr = again.stderr.decode()
    for name in ("results.jsonl.gz", "results.txt.xz"):
        assert f"{tmp_path / name}: skipped, it holds policy-topics output" in stderr


def test_gold_and_predictions_are_read_compressed_too(tmp_path: Path) -> None:
    from policy_topics import evaluate
    from policy_topics.errors import PolicyTopicsError
    from policy_topics.io import write_results

    gold = [
        {"id": "a", "text": "We will cut tariffs on steel.", "topics": ["trade"]},
        {"id": "b", "text": "The grid needs solar power.", "topics": ["energy"]},
        {"id": "c", "text": "Nothing here.", "topics": []},
    ]
    lines = "".join(json.dumps(record) + "\n" for record in gold).encode()
    (tmp_path / "gold.jsonl").write_bytes(lines)
    (tmp_path / "gold.jsonl.xz").write_bytes(lzma.compress(lines))
    write_results(Extractor().extract_many(gold), tmp_path / "pred.jsonl")
    (tmp_path / "pred.jsonl.gz").write_bytes(gzip.compress((tmp_path / "pred.jsonl").read_bytes()))

    def scored(gold_name: str, predictions: str | None = None) -> dict[str, Any]:
        found = predictions and tmp_path / predictions
        report = evaluate(tmp_path / gold_name, predictions=found).model_dump()
        report.pop("gold"), report.pop("predictions")
        return report

    assert scored("gold.jsonl.xz") == scored("gold.jsonl")
    assert scored("gold.jsonl.xz", "pred.jsonl.gz") == scored("gold.jsonl", "pred.jsonl")
    (tmp_path / "cut.jsonl.gz").write_bytes(gzip.compress(lines)[:30])
    with pytest.raises(PolicyTopicsError, match=r"cut\.jsonl\.gz: cannot decompress it as gzip"):
        evaluate(tmp_path / "cut.jsonl.gz")
