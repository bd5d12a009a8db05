"""Resuming a run into a JSON Lines file: policy_topics.resume and write_results(append=True)."""

from __future__ import annotations

import json
import os
import threading
from collections import Counter
from pathlib import Path

import pytest

from policy_topics import Extractor
from policy_topics.io import (
    done_ids,
    drop_failed,
    open_output,
    read_documents,
    resume,
    write_results,
)
from policy_topics.resume import _drop_failed, done_counts

DOCS = [
    {"id": "a", "text": "We cut tariffs on steel."},
    {"id": "b", "text": "The grid needs investment in solar power."},
    {"id": "c", "text": "Nothing to see here."},
    {"id": "d", "text": "Both sides agree to cooperate on semiconductors."},
]


@pytest.fixture(scope="module")
def extractor() -> Extractor:
    return Extractor()


def _records(path: Path) -> list[dict[str, object]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def test_a_resumed_run_equals_one_run_that_was_never_stopped(
    tmp_path: Path, extractor: Extractor
) -> None:
    whole, resumed = tmp_path / "whole.jsonl", tmp_path / "resumed.jsonl"
    write_results(extractor.extract_many(DOCS), whole)
    write_results(extractor.extract_many(DOCS[:2]), resumed)
    # A run killed while writing its third record leaves half a line.
    with resumed.open("a", encoding="utf-8") as stream:
        stream.write('{"doc_id":"c","metadata":{},"taxo')
    assert done_ids(resumed) == {"a", "b"}
    left = list(resume(DOCS, resumed))
    assert [doc["id"] for doc in left] == ["c", "d"]
    assert write_results(extractor.extract_many(left), resumed, append=True) == 2
    assert resumed.read_bytes() == whole.read_bytes()


def test_resume_skips_every_document_done_and_only_those(
    tmp_path: Path, extractor: Extractor
) -> None:
    out = tmp_path / "out.jsonl"
    write_results(extractor.extract_many([DOCS[1], DOCS[3]]), out)
    assert [doc["id"] for doc in resume(DOCS, out)] == ["a", "c"]
    # Everything done: nothing left, and appending nothing changes nothing.
    write_results(extractor.extract_many(resume(DOCS, out)), out, append=True)
    before = out.read_bytes()
    assert list(resume(DOCS, out)) == []
    assert write_results(extractor.extract_many(resume(DOCS, out)), out, append=True) == 0
    assert out.read_bytes() == before
    assert sorted(r["doc_id"] for r in _records(out)) == ["a", "b", "c", "d"]  # type: ignore[type-var]


def test_resume_without_an_output_file_keeps_every_document(tmp_path: Path) -> None:
    out = tmp_path / "not-yet.jsonl"
    assert done_ids(out) == set()
    assert list(resume(DOCS, out)) == DOCS
    (out).write_bytes(b"")
    assert list(resume(DOCS, out)) == DOCS


def test_a_failed_document_counts_as_done(tmp_path: Path, extractor: Extractor) -> None:
    out = tmp_path / "out.jsonl"
    docs = [{"id": "x", "error": "cannot read it"}, DOCS[0]]
    write_results(extractor.extract_many(docs), out)
    assert _records(out)[0]["error"] is not None
    assert list(resume([*docs, DOCS[1]], out)) == [DOCS[1]]


def test_drop_failed_lets_resume_try_failed_documents_again(
    tmp_path: Path, extractor: Extractor
) -> None:
    whole, out = tmp_path / "whole.jsonl", tmp_path / "out.jsonl"
    write_results(extractor.extract_many(DOCS), whole)
    # b and d failed (unreadable then); a killed run left half of c's record.
    failed = [{"id": d["id"], "error": "cannot read it"} if d["id"] in "bd" else d for d in DOCS]
    write_results(extractor.extract_many(failed[:2] + failed[3:]), out)
    with out.open("a", encoding="utf-8") as stream:
        stream.write('{"doc_id":"c","metadata":{},"taxo')
    assert [r["doc_id"] for r in _records_before_half_line(out) if r["error"]] == ["b", "d"]
    inode = out.stat().st_ino
    assert drop_failed(out) == 2
    assert out.stat().st_ino != inode  # replaced whole, never rewritten in place
    assert done_ids(out) == {"a"}
    left = list(resume(DOCS, out))
    assert [doc["id"] for doc in left] == ["b", "c", "d"]
    write_results(extractor.extract_many(left), out, append=True)
    assert out.read_bytes() == whole.read_bytes()
    # Nothing failed: the file is left as it is, not even rewritten.
    before = out.stat()
    assert drop_failed(out) == 0
    assert (out.stat().st_ino, out.stat().st_mtime_ns) == (before.st_ino, before.st_mtime_ns)
    assert drop_failed(tmp_path / "missing.jsonl") == 0


def test_drop_failed_keeps_the_other_lines_byte_for_byte(
    tmp_path: Path, extractor: Extractor
) -> None:
    out = tmp_path / "out.jsonl"
    docs = [
        {"id": "a", "text": 'A quote holding "error":{"type":"X"} and ,"error":null} text.'},
        {"id": "b", "error": "cannot read it"},
        {"id": "c", "text": "Tariffs \ud800 fell.", "meta": {"error": {"type": "X"}}},
    ]
    write_results(extractor.extract_many(docs), out)
    lines = out.read_bytes().splitlines(keepends=True)
    os.chmod(out, 0o640)
    assert drop_failed(out) == 1
    assert out.read_bytes() == lines[0] + lines[2]
    assert out.stat().st_mode & 0o777 == 0o640


def test_drop_failed_counts_what_it_leaves_as_done_counts_reads_it(
    tmp_path: Path, extractor: Extractor
) -> None:
    """The command line resumes from these counts rather than reading the file again."""
    out = tmp_path / "out.jsonl"
    docs = [
        {"id": "a", "text": "We cut tariffs."},
        {"id": "a", "error": "cannot read it"},  # ids repeat in a JSON Lines input
        {"id": "b", "error": "cannot read it"},
        {"id": "c", "text": "Grids grew."},
        {"id": "a", "text": "Solar grew."},
    ]
    write_results(extractor.extract_many(docs), out)
    assert done_counts(out) == Counter({"a": 3, "b": 1, "c": 1})
    dropped, counts = _drop_failed(out)
    assert (dropped, counts) == (2, done_counts(out))
    assert counts == Counter({"a": 2, "c": 1})
    assert _drop_failed(out) == (0, counts)  # nothing failed: read once, counted alike


def test_drop_failed_refuses_a_file_that_is_not_ours_and_leaves_it(tmp_path: Path) -> None:
    other = tmp_path / "other.jsonl"
    content = '{"id": "a", "error": {"type": "X"}}\n'
    other.write_text(content, encoding="utf-8")
    with pytest.raises(ValueError, match=r"other.jsonl:1: not a record of policy-topics"):
        drop_failed(other)
    assert other.read_text(encoding="utf-8") == content


def _records_before_half_line(path: Path) -> list[dict[str, object]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()[:-1]]


def test_resume_matches_the_ids_of_files_as_read_documents_names_them(
    tmp_path: Path, extractor: Extractor
) -> None:
    folder = tmp_path / "archive"
    folder.mkdir()
    for name, doc in zip("pqr", DOCS, strict=False):
        (folder / f"{name}.html").write_text(f"<p>{doc['text']}</p>", encoding="utf-8")
    out = tmp_path / "out.jsonl"
    first = list(read_documents(folder))[:2]
    write_results(extractor.extract_many(first), out)
    left = list(resume(read_documents(folder, defer=True), out))
    assert [doc["id"] for doc in left] == [str(folder / "r.html")]
    assert "text" not in left[0]  # deferred: skipping needs no file read


def test_a_series_is_matched_by_its_index_labels(tmp_path: Path, extractor: Extractor) -> None:
    pandas = pytest.importorskip("pandas")
    series = pandas.Series([d["text"] for d in DOCS], index=[10, 11, 12, 13])
    out = tmp_path / "out.jsonl"
    write_results(extractor.extract_many(series.iloc[:3]), out)
    assert done_ids(out) == {"10", "11", "12"}
    left = list(resume(series, out))
    assert [r.doc_id for r in extractor.extract_many(left)] == ["13"]


def test_a_document_without_an_id_is_refused_by_name(tmp_path: Path, extractor: Extractor) -> None:
    out = tmp_path / "out.jsonl"
    write_results(extractor.extract_many(DOCS[:1]), out)
    left = resume([DOCS[0], DOCS[1], "no id here", DOCS[2]], out)
    assert next(left) == DOCS[1]
    with pytest.raises(ValueError, match=r"document #2 has no id: .*give every document an 'id'"):
        next(left)


def test_an_output_of_another_program_is_refused_with_file_and_line(tmp_path: Path) -> None:
    out = tmp_path / "other.jsonl"
    out.write_text('{"id": "a", "text": "We cut tariffs."}\n', encoding="utf-8")
    with pytest.raises(ValueError, match=r"other\.jsonl:1: not a record of policy-topics"):
        done_ids(out)
    with pytest.raises(ValueError, match=r"other\.jsonl:1: not a record"):
        list(resume(DOCS, out))


def test_a_later_line_that_is_no_record_is_named(tmp_path: Path, extractor: Extractor) -> None:
    out = tmp_path / "out.jsonl"
    write_results(extractor.extract_many(DOCS[:2]), out)
    with out.open("a", encoding="utf-8") as stream:
        stream.write('{"doc_id":null,"areas":[]}\n["not", "a", "record"]\n')
    with pytest.raises(ValueError, match=r"out\.jsonl:3: a record without a doc_id"):
        done_ids(out)
    lines = out.read_text(encoding="utf-8").splitlines()
    out.write_text("\n".join([*lines[:2], lines[3]]) + "\n", encoding="utf-8")
    with pytest.raises(ValueError, match=r"out\.jsonl:3: not a record of policy-topics"):
        done_ids(out)


def test_long_and_escaped_ids_are_read_whole(tmp_path: Path, extractor: Extractor) -> None:
    ids = ["é" * 5000, 'quote " and \\ back', "line\nbreak", "ünïcödé ✓"]
    docs = [{"id": i, "text": "We cut tariffs."} for i in ids]
    out = tmp_path / "out.jsonl"
    write_results(extractor.extract_many(docs), out)
    assert done_ids(out) == set(ids)


def test_no_match_at_all_warns_that_the_ids_changed(tmp_path: Path, extractor: Extractor) -> None:
    out = tmp_path / "out.jsonl"
    write_results(extractor.extract_many(DOCS[:2]), out)
    renamed = [{**doc, "id": f"./{doc['id']}"} for doc in DOCS]
    with pytest.warns(UserWarning, match=r"none of the documents matched any of the 2 records of "):
        assert list(resume(renamed, out)) == renamed


def test_append_is_for_json_lines_files_only(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="append=True adds to a JSON Lines file"):
        write_results([], tmp_path / "out.csv", append=True)
    with pytest.raises(ValueError, match="append=True adds to a JSON Lines file"):
        write_results([], tmp_path / "out.jsonl", format="json", append=True)
    with (
        pytest.raises(ValueError, match="append=True writes in place"),
        open_output(tmp_path / "out.jsonl", append=True),
    ):
        pass


def test_a_failed_append_cuts_back_no_further_than_where_it_began(tmp_path: Path) -> None:
    target = tmp_path / "out.jsonl"
    target.write_text('{"a": 1}\n{"b": "half', encoding="utf-8")
    with (
        pytest.raises(OSError, match="No space"),
        open_output(target, atomic=False, append=True) as stream,
    ):
        stream.write('{"c": 3}\n{"d": "half a li')
        stream.flush()
        raise OSError(28, "No space left on device")
    assert target.read_text(encoding="utf-8") == '{"a": 1}\n{"c": 3}\n'
    # A first line that did not end leaves the file as it was before this run.
    target.write_text('{"a": 1}\n', encoding="utf-8")
    with (
        pytest.raises(OSError),
        open_output(target, atomic=False, append=True) as stream,
    ):
        stream.write("x" * 200_000)
        stream.flush()
        raise OSError(28, "No space left on device")
    assert target.read_text(encoding="utf-8") == '{"a": 1}\n'


def test_a_file_whose_name_is_not_utf8_is_matched_as_its_record_names_it(
    tmp_path: Path, extractor: Extractor
) -> None:
    folder = tmp_path / "archive"
    folder.mkdir()
    # A Latin-1 name: Python gives it lone surrogates, the record U+FFFD for each.
    (folder / "caf\udce9.txt").write_text("We cut tariffs.", encoding="utf-8")
    (folder / "plain.txt").write_text("Grids grew.", encoding="utf-8")
    out = tmp_path / "out.jsonl"
    write_results(extractor.extract_many(list(read_documents(folder))[:1]), out)
    assert done_ids(out) == {str(folder / "caf\ufffd.txt")}
    assert [doc["id"] for doc in resume(read_documents(folder), out)] == [str(folder / "plain.txt")]


def test_documents_that_share_an_id_are_skipped_as_often_as_the_file_holds_it(
    tmp_path: Path, extractor: Extractor
) -> None:
    # 1, "1" and 1.0 are one id to the writer: three documents with the id "1".
    docs = [
        {"id": 1, "text": "We cut tariffs."},
        {"id": "1", "text": "Grids grew."},
        {"id": "b", "text": "Solar power."},
        {"id": 1.0, "text": "Chips."},
    ]
    whole, out = tmp_path / "whole.jsonl", tmp_path / "out.jsonl"
    write_results(extractor.extract_many(docs), whole)
    write_results(extractor.extract_many(docs[:1]), out)  # stopped after the first
    assert list(resume(docs, out)) == docs[1:]
    write_results(extractor.extract_many(docs[1:3]), out, append=True)  # and again
    assert list(resume(docs, out)) == docs[3:]
    write_results(extractor.extract_many(resume(docs, out)), out, append=True)
    assert out.read_bytes() == whole.read_bytes()


def test_a_file_that_is_not_ours_is_refused_before_write_results_touches_it(
    tmp_path: Path, extractor: Extractor
) -> None:
    # The input named as the output by mistake; its last line has no newline.
    corpus = tmp_path / "corpus.jsonl"
    body = '{"id": "a", "text": "We cut tariffs."}\n{"id": "b", "text": "Grids grew."}'
    corpus.write_text(body, encoding="utf-8")
    docs = list(read_documents(corpus))
    with pytest.raises(ValueError, match=r"corpus\.jsonl:1: not a record of policy-topics"):
        write_results(extractor.extract_many(resume(docs, corpus)), corpus, append=True)
    assert corpus.read_text(encoding="utf-8") == body


@pytest.mark.parametrize(
    "tail",
    [b'{"doc_id":"c","metadata":{},"taxo', b'{"do', b"\0" * 4096, b'{"doc_id":"c"\0\0\0', b" \r"],
)
def test_what_a_killed_run_or_a_power_cut_leaves_is_half_a_line(
    tmp_path: Path, extractor: Extractor, tail: bytes
) -> None:
    out = tmp_path / "out.jsonl"
    write_results(extractor.extract_many(DOCS[:2]), out)
    with out.open("ab") as stream:
        stream.write(tail)
    assert done_ids(out) == {"a", "b"}


@pytest.mark.parametrize("held", [1, 2, 3])
def test_records_written_by_json_dumps_without_a_last_newline_are_all_kept(
    tmp_path: Path, extractor: Extractor, held: int
) -> None:
    # The README's Dask example writes json.dumps lines with to_textfiles, which
    # ends no file with a newline: its last record was cut as half a line when
    # appending, and "doc_id": with a space was "a record without a doc_id".
    docs = [*DOCS[:2], {"id": "x", "text": None}]  # the last one fails
    out = tmp_path / "tagged-0.jsonl"
    results = list(extractor.extract_many(docs[:held]))
    out.write_text("\n".join(json.dumps(r.model_dump(mode="json")) for r in results))
    ids = [str(d["id"]) for d in docs[:held]]
    assert done_ids(out) == set(ids)
    assert [d["id"] for d in resume(DOCS, out)] == [d["id"] for d in DOCS if d["id"] not in ids]
    assert drop_failed(out) == (1 if held == 3 else 0)
    kept = ids[:2]
    assert [r["doc_id"] for r in _records(out)] == kept
    write_results(extractor.extract_many(DOCS[3:]), out, append=True)
    assert [r["doc_id"] for r in _records(out)] == [*kept, "d"]


@pytest.mark.parametrize("held", [0, 2])
def test_a_last_line_without_newline_that_is_no_record_is_refused(
    tmp_path: Path, extractor: Extractor, held: int
) -> None:
    # Cutting it as half a record would lose another program's line.
    notes = tmp_path / "notes.jsonl"
    write_results(extractor.extract_many(DOCS[:held]), notes)
    with notes.open("ab") as stream:
        stream.write(b'{"id": "a", "text": "my notes"}')
    line = held + 1
    with pytest.raises(ValueError, match=rf"notes\.jsonl:{line}: not a record of policy-topics"):
        resume(DOCS, notes)


def test_a_named_pipe_or_a_device_holds_no_records_and_is_not_read(tmp_path: Path) -> None:
    # Opening a pipe to read waits for a writer: --resume -o pipe waited for ever.
    pipe = tmp_path / "pipe.jsonl"
    os.mkfifo(pipe)
    found: list[set[str]] = []
    reader = threading.Thread(target=lambda: found.append(done_ids(pipe)), daemon=True)
    reader.start()
    reader.join(timeout=10)
    assert found == [set()]
    assert done_ids(os.devnull) == set()


def test_an_output_an_editor_saved_with_a_bom_and_crlf_is_still_ours(
    tmp_path: Path, extractor: Extractor
) -> None:
    # Deleting a failed line to try it again, in an editor that adds both.
    whole, out = tmp_path / "whole.jsonl", tmp_path / "out.jsonl"
    write_results(extractor.extract_many(DOCS), whole)
    lines = whole.read_bytes().splitlines()
    out.write_bytes(b"\xef\xbb\xbf" + b"".join(line + b"\r\n" for line in lines[:3:2]))
    assert done_ids(out) == {"a", "c"}
    left = resume(DOCS, out)
    assert write_results(extractor.extract_many(left), out, append=True) == 2
    records = [json.loads(line) for line in out.read_text(encoding="utf-8-sig").splitlines()]
    assert sorted(records, key=lambda r: str(r["doc_id"])) == _records(whole)


def test_a_document_extract_many_cannot_use_is_matched_by_the_id_of_its_record(
    tmp_path: Path, extractor: Extractor
) -> None:
    docs = [{"id": "x", "text": "We cut tariffs.", "meta": "not a mapping"}, *DOCS[:2]]
    out = tmp_path / "out.jsonl"
    write_results(extractor.extract_many(docs[:1]), out)
    assert _records(out)[0]["doc_id"] == "x"  # an error record, with the document's id
    assert list(resume(docs, out)) == DOCS[:2]


def test_a_dataframe_is_refused_at_once_as_extract_many_refuses_it(tmp_path: Path) -> None:
    pandas = pytest.importorskip("pandas")
    frame = pandas.DataFrame(DOCS)
    with pytest.raises(TypeError, match=r"not a DataFrame .*frame\.to_dict\('records'\)"):
        resume(frame, tmp_path / "out.jsonl")
    assert [doc["id"] for doc in resume(frame.to_dict("records"), tmp_path / "out.jsonl")] == [
        "a",
        "b",
        "c",
        "d",
    ]


def test_the_first_record_is_checked_after_blank_lines_too(tmp_path: Path) -> None:
    # Another tool's records, keyed by doc_id, that happen to begin as ours do.
    other = tmp_path / "other.jsonl"
    other.write_text('\n{"doc_id":"a","topics":["trade"]}\n', encoding="utf-8")
    with pytest.raises(ValueError, match=r"other\.jsonl:2: not a record of policy-topics"):
        done_ids(other)
