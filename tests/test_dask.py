"""policy_topics.dask on a real distributed.LocalCluster: the results of one process."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("distributed", reason='needs the extra "dask"')

import dask.bag as db
import dask.dataframe as dd
import pandas as pd
from distributed import Client, LocalCluster

from policy_topics import Extractor, Taxonomy
from policy_topics.dask import COLUMNS, extract_bag, extract_dataframe
from policy_topics.io import to_dataframe


@pytest.fixture(scope="module")
def client() -> Iterator[Client]:
    # ":0", a free port: with None the scheduler still serves HTTP on 8787, and a
    # Dask dashboard already running there made the cluster fail to start.
    with (
        LocalCluster(
            n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0"
        ) as cluster,
        Client(cluster) as client,
    ):
        yield client


@pytest.fixture(scope="module")
def items(corpora: Path) -> list[dict[str, Any]]:
    found = []
    for path in sorted(corpora.glob("*.jsonl")):
        with path.open(encoding="utf-8") as lines:
            for n, line in enumerate(lines):
                record = json.loads(line)
                found.append(
                    {"id": str(record.get("id", f"{path.name}:{n}")), "text": record["text"]}
                )
    return found


def _builds(client: Client) -> dict[str, int]:
    return client.run(lambda: __import__("policy_topics.dask", fromlist=["builds"]).builds)


def test_bag_equals_one_process_and_builds_one_extractor_per_worker(
    client: Client, items: list[dict[str, Any]]
) -> None:
    before = _builds(client)
    got = extract_bag(db.from_sequence(items, npartitions=8)).compute()
    want = [r.model_dump(mode="json") for r in Extractor().extract_many(items)]
    assert len(got) == len(items) > 2000
    assert got == want
    extract_bag(db.from_sequence(items[:50], npartitions=5)).compute()
    after = _builds(client)
    # Thirteen partitions ran on two worker processes; each built one Extractor at most.
    assert len(after) == 2
    assert all(after[w] - before.get(w, 0) <= 1 for w in after)


def test_files_left_unread_are_read_on_the_workers(client: Client, tmp_path: Path) -> None:
    from policy_topics.io import read_documents

    for i in range(4):
        page = f"<h1>Trade</h1><p>Both sides will cut tariffs on steel ({i}).</p>"
        (tmp_path / f"p{i}.html").write_text(page, encoding="utf-8")
    (tmp_path / "gone.html").symlink_to(tmp_path / "nowhere.html")
    docs = list(read_documents(tmp_path, defer=True))
    assert sum("source" in d for d in docs) == 4  # the dead link is an error record already
    got = extract_bag(db.from_sequence(docs, npartitions=3)).compute()
    want = [r.model_dump(mode="json") for r in Extractor().extract_many(read_documents(tmp_path))]
    assert got == want
    assert [r["error"] is None for r in got] == [False, True, True, True, True]


@pytest.mark.parametrize("level", ["areas", "quotes", "sentences", "documents"])
def test_dataframe_equals_one_process(
    client: Client, items: list[dict[str, Any]], level: str
) -> None:
    frame = pd.DataFrame(items)
    ddf = dd.from_pandas(frame, npartitions=4)
    result = extract_dataframe(ddf, "text", id_column="id", level=level)
    assert dict(result.dtypes.astype(str)) == COLUMNS[level]
    got = result.compute().reset_index(drop=True)
    columns = COLUMNS[level]
    want = to_dataframe(Extractor().extract_many(items), level)[list(columns)]
    want = want.astype(columns).reset_index(drop=True)
    assert len(got) > 100
    pd.testing.assert_frame_equal(got, want)


def test_taxonomy_travels_as_data_not_as_a_path(client: Client, tmp_path: Path) -> None:
    path = tmp_path / "mine.yaml"
    path.write_text(
        "name: mine\ntopics:\n  ports: {label: Ports, terms: [harbour]}\n", encoding="utf-8"
    )
    bag = extract_bag(
        db.from_sequence(["A new harbour.", "Nothing."], npartitions=2), taxonomy=path
    )
    path.unlink()  # the workers never read it
    got = bag.compute()
    assert [[a["topic"] for a in r["areas"]] for r in got] == [["ports"], []]
    assert {r["taxonomy"] for r in got} == {"mine"}


def test_options_reach_the_workers(client: Client) -> None:
    text = " ".join(["We cut tariffs."] * 3 + ["Tariffs fell again."] * 3)
    got = extract_bag(db.from_sequence([text], npartitions=1), max_quotes=1).compute()
    assert [len(a["quotes"]) for a in got[0]["areas"]] == [1]


def test_index_is_the_id_without_an_id_column(client: Client) -> None:
    frame = pd.DataFrame({"text": ["Nothing here.", "We cut tariffs."]}, index=[10, 11])
    got = extract_dataframe(dd.from_pandas(frame, npartitions=2), "text").compute()
    assert got[["doc_id", "topic"]].values.tolist() == [["11", "trade"]]


def test_failed_documents_give_error_records_and_no_rows(client: Client) -> None:
    frame = pd.DataFrame({"id": ["a", "b"], "text": ["We cut tariffs.", None]})
    rows = extract_dataframe(dd.from_pandas(frame, npartitions=1), "text", id_column="id")
    assert rows.compute()["doc_id"].tolist() == ["a"]
    records = extract_bag(db.from_sequence([{"id": "b", "text": None}])).compute()
    assert records[0]["error"]["type"] == "TypeError"


def test_failed_documents_have_a_row_with_their_error_at_the_documents_level(
    client: Client,
) -> None:
    frame = pd.DataFrame(
        {
            "id": ["a", "b", "c", "d"],
            "text": ["We cut tariffs.", None, "Hello.", "Tariffs fell."],
            "pages": [None, None, None, "[(2, 0), (1, 5)]"],  # d's pages are out of order
        }
    )
    ddf = dd.from_pandas(frame, npartitions=2)
    rows = extract_dataframe(ddf, "text", id_column="id", pages_column="pages", level="documents")
    assert dict(rows.dtypes.astype(str)) == COLUMNS["documents"]
    got = rows.compute().reset_index(drop=True)
    assert got["doc_id"].tolist() == ["a", "b", "c", "d"]
    assert got["ok"].tolist() == [True, False, True, False]
    assert got.loc[1, "error_type"] == "TypeError"
    assert got.loc[3, "error_type"] == "ValueError" and "pages[1]" in got.loc[3, "error"]
    assert got["topics"].tolist() == ["trade", "", "", ""]
    # The other levels leave them out, as before.
    quotes = extract_dataframe(ddf, "text", id_column="id", pages_column="pages", level="quotes")
    assert quotes.compute()["doc_id"].tolist() == ["a"]


def test_bad_arguments_fail_on_the_client() -> None:
    ddf = dd.from_pandas(pd.DataFrame({"text": ["x"]}), npartitions=1)
    with pytest.raises(ValueError, match="level"):
        extract_dataframe(ddf, "text", level="words")
    with pytest.raises(ValueError, match="no column 'body'"):
        extract_dataframe(ddf, "body")
    with pytest.raises(TypeError, match="max_qoutes"):
        extract_bag(db.from_sequence(["x"]), max_qoutes=2)
    with pytest.raises(TypeError, match="name or path"):
        extract_bag(db.from_sequence(["x"]), model=object())
    with pytest.raises(Exception, match="no such file"):
        extract_bag(db.from_sequence(["x"]), taxonomy="missing.yaml")
    with pytest.raises(ValueError, match="max_quotes must be"):
        extract_bag(db.from_sequence(["x"]), max_quotes=-1)
    with pytest.raises(ValueError, match="min_score must be"):
        extract_dataframe(ddf, "text", min_score=5)
    # These passed the checks and failed on the workers with a bare KeyError.
    with pytest.raises(ValueError, match="no column None"):
        extract_dataframe(ddf, None)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match=r"not a Series; pass the frame and name the column"):
        extract_dataframe(ddf["text"], "text")  # type: ignore[arg-type]
    with pytest.raises(TypeError, match=r"not a DataFrame; make one with dask.dataframe"):
        extract_dataframe(pd.DataFrame({"text": ["x"]}), "text")  # type: ignore[arg-type]


def test_whole_float_ids_lose_their_point() -> None:
    # An int column with a gap becomes float64 in pandas.
    frame = pd.DataFrame({"id": [1, None, 2.5], "text": ["We cut tariffs."] * 3})
    rows = extract_dataframe(dd.from_pandas(frame, npartitions=1), "text", id_column="id")
    ids = rows.compute(scheduler="sync")["doc_id"].tolist()
    assert ids[0] == "1" and ids[2] == "2.5" and pd.isna(ids[1])


def test_a_taxonomy_object_is_accepted() -> None:
    taxonomy = Taxonomy.from_yaml("name: t\ntopics: {x: {label: X, terms: [widget]}}")
    got = extract_bag(db.from_sequence(["A widget."]), taxonomy=taxonomy).compute(scheduler="sync")
    assert got[0]["areas"][0]["topic"] == "x"


def test_a_sweep_over_options_keeps_a_bounded_number_of_extractors() -> None:
    import policy_topics.dask as module

    bag = db.from_sequence(["We cut tariffs."], npartitions=1)
    for i in range(module._MOST_EXTRACTORS + 3):
        got = extract_bag(bag, min_score=i / 100).compute(scheduler="sync")
        assert got[0]["areas"][0]["topic"] == "trade"
    assert len(module._EXTRACTORS) == module._MOST_EXTRACTORS
    # The most recently used stays; using it again builds nothing.
    before = module.builds
    extract_bag(bag, min_score=(module._MOST_EXTRACTORS + 2) / 100).compute(scheduler="sync")
    assert module.builds == before


def test_rows_at_the_sentences_level_ignore_min_score() -> None:
    frame = pd.DataFrame({"id": ["a"], "text": ["We cut tariffs."]})
    ddf = dd.from_pandas(frame, npartitions=1)
    counts = {
        level: len(
            extract_dataframe(ddf, "text", id_column="id", level=level, min_score=0.99).compute(
                scheduler="sync"
            )
        )
        for level in ("areas", "quotes", "sentences")
    }
    assert counts == {"areas": 0, "quotes": 0, "sentences": 1}  # as the docstring says


def test_quotes_of_pdfs_carry_their_pages(client: Client, tmp_path: Path) -> None:
    pytest.importorskip("pypdf")
    from bench import synth
    from policy_topics.io import read_documents

    cut = ["Both sides will cut tariffs on steel."]
    (tmp_path / "a.pdf").write_bytes(synth.pdf([cut, [], ["Solar power grew."], cut]))
    (tmp_path / "b.pdf").write_bytes(synth.pdf([[], ["Grid investment will rise."]]))
    (tmp_path / "c.txt").write_text("We cut tariffs.", encoding="utf-8")
    docs = list(read_documents(tmp_path))
    want = list(Extractor(max_quotes=None).extract_many(docs))
    frame = pd.DataFrame({"id": [d["id"] for d in docs], "text": [d["text"] for d in docs]})
    frame["pages"] = [d.get("pages") for d in docs]
    ddf = dd.from_pandas(frame, npartitions=2)
    rows = extract_dataframe(
        ddf, "text", id_column="id", pages_column="pages", level="quotes", max_quotes=None
    )
    assert str(rows.dtypes["page"]) == "Int64"
    got = rows.compute().reset_index(drop=True)
    pages = {
        (Path(i).name, t, None if pd.isna(p) else p)
        for i, t, p in got[["doc_id", "topic", "page"]].values
    }
    # page 4 repeats page 1's sentence: one quote, of the page it is first on
    assert pages == {
        ("a.pdf", "trade", 1),
        ("a.pdf", "energy", 3),
        ("b.pdf", "energy", 2),
        ("c.txt", "trade", None),
    }
    expected = to_dataframe(want, "quotes")[list(COLUMNS["quotes"])]
    pd.testing.assert_frame_equal(got, expected.astype(COLUMNS["quotes"]))
    # a bag of files left unread: read, with their pages, on the workers
    bag = extract_bag(db.from_sequence(list(read_documents(tmp_path, defer=True)), npartitions=3))
    records = bag.compute()
    assert records == [r.model_dump(mode="json") for r in Extractor().extract_many(docs)]
    found = {(a["topic"], q["page"]) for r in records for a in r["areas"] for q in a["quotes"]}
    assert found == {("trade", 1), ("energy", 3), ("energy", 2), ("trade", None)}


def test_pages_read_from_parquet_by_pandas_keep_their_pages(tmp_path: Path) -> None:
    # pandas reads a Parquet column of (page, start) lists as numpy arrays, which
    # dd.from_pandas turns into numpy's text, '[array([1, 0]) array([ 2, 13])]':
    # no Python literal, so every such document dropped out of the frame.
    pytest.importorskip("pyarrow")
    text = "Intro page.\n\nWe cut tariffs on steel."
    stored = tmp_path / "docs.parquet"
    pd.DataFrame({"id": ["a"], "text": [text], "pages": [[(1, 0), (2, 13)]]}).to_parquet(stored)
    rows = _paged(pd.read_parquet(stored), "quotes")
    assert rows[["doc_id", "start", "page"]].values.tolist() == [["a", 13, 2]]


def _paged(frame: pd.DataFrame, level: str) -> pd.DataFrame:
    """The rows of ``level`` for a frame with text, id and pages, in one partition."""
    ddf = dd.from_pandas(frame, npartitions=1)
    rows = extract_dataframe(ddf, "text", id_column="id", pages_column="pages", level=level)  # type: ignore[arg-type]
    return rows.compute(scheduler="sync")


def test_pages_numpy_wrote_shortened_fail_their_document_saying_why(tmp_path: Path) -> None:
    # numpy writes an array of more than 1,000 numbers with "..." for most of them:
    # the pairs are lost once Dask's conversion has made the array a string.
    pytest.importorskip("pyarrow")
    # An array of 1,001 pairs, as pandas reads the pages of a 1,001-page PDF.
    starts = range(0, 12_000, 12)
    text = "".join("Page text. \n" for _ in starts) + "We cut tariffs on steel."
    long_pages = [(n, start) for n, start in enumerate([*starts, 12_000], start=1)]
    stored = tmp_path / "docs.parquet"
    frame = pd.DataFrame(
        {
            "id": ["long", "short"],
            "text": [text, "We cut tariffs."],
            "pages": [long_pages, [(1, 0)]],
        }
    )
    frame.to_parquet(stored)
    rows = _paged(pd.read_parquet(stored), "documents")
    assert rows["ok"].tolist() == [False, True]
    assert rows["error"].iloc[0].startswith("its pages came as numpy's shortened text")
    assert "dataframe.convert-string" in rows["error"].iloc[0]
    # As lists, the same pages come through whole.
    listed = pd.read_parquet(stored)
    listed["pages"] = listed["pages"].map(lambda a: a.tolist())
    quotes = _paged(listed, "quotes")
    assert quotes[["doc_id", "page"]].values.tolist() == [["long", 1001], ["short", 1]]


def test_the_read_errors_of_a_frame_of_read_documents_stay_their_errors(tmp_path: Path) -> None:
    # The frame's error and error_type columns were left out: a file that could
    # not be read came out as a TypeError about a missing text, hiding why.
    from policy_topics.io import read_documents

    (tmp_path / "a.txt").write_text("We cut tariffs on steel.", encoding="utf-8")
    (tmp_path / "b.pdf").write_bytes(b"%PDF-1.4\nnot really a pdf")
    (tmp_path / "c.docx").write_bytes(b"no zip file")
    frame = pd.DataFrame(list(read_documents(tmp_path)))
    assert frame["error_type"].notna().sum() == 2
    want = list(Extractor().extract_many(frame.to_dict("records")))
    assert [r.error is None for r in want] == [True, False, False]
    ddf = dd.from_pandas(frame, npartitions=2)
    for level in COLUMNS:
        got = extract_dataframe(ddf, "text", id_column="id", level=level)  # type: ignore[arg-type]
        expected = to_dataframe(want, level)[list(COLUMNS[level])].astype(COLUMNS[level])  # type: ignore[arg-type]
        computed = got.compute(scheduler="sync").reset_index(drop=True)
        pd.testing.assert_frame_equal(computed, expected)
    documents = extract_dataframe(ddf, "text", id_column="id", level="documents")
    errors = documents.compute(scheduler="sync")[["doc_id", "error_type"]].values.tolist()
    assert [Path(doc_id).name for doc_id, _ in errors] == ["a.txt", "b.pdf", "c.docx"]
    assert pd.isna(errors[0][1])
    assert [kind for _, kind in errors[1:]] == [r.error.type for r in want[1:] if r.error]
    assert "TypeError" not in {kind for _, kind in errors[1:]}


def test_an_error_column_of_the_frames_own_fails_no_document() -> None:
    # With pages_column given, a number in the frame's own 'error' column (a
    # margin of error) was taken for a read error, and the row's pages dropped.
    frame = pd.DataFrame(
        {
            "id": ["a", "b"],
            "text": ["We cut tariffs on steel.", "We cut tariffs on steel."],
            "error": [0.25, None],
            "pages": [[(3, 0)], [(3, 0)]],
        }
    )
    ddf = dd.from_pandas(frame, npartitions=1)
    got = extract_dataframe(ddf, "text", id_column="id", pages_column="pages", level="quotes")
    quotes = got.compute(scheduler="sync")
    assert quotes[["doc_id", "page"]].values.tolist() == [["a", 3], ["b", 3]]


def test_a_frames_own_error_column_of_flags_fails_no_document() -> None:
    # Dask makes an object column strings ("False", "True"), which were taken
    # for read errors: only read_documents' rows, with an error type, are ones.
    frame = pd.DataFrame(
        {"id": ["a", "b", "c"], "text": ["We cut tariffs."] * 3, "error": [False, True, None]}
    )
    for frame_ in (frame, frame.assign(error_type=[None, None, None])):
        ddf = dd.from_pandas(frame_, npartitions=1)
        rows = extract_dataframe(ddf, "text", id_column="id", level="documents")
        computed = rows.compute(scheduler="sync")
        assert computed["ok"].tolist() == [True, True, True]


@pytest.mark.parametrize("text", [True, False])
def test_a_frame_of_deferred_documents_reads_its_files(tmp_path: Path, text: bool) -> None:
    # The frame's source column was left out, so each file to read came as a
    # missing text ("text must be str, not NAType"); Dask also makes the column's
    # Source objects strings. A folder of files to read only has no text column.
    from policy_topics.io import read_documents

    (tmp_path / "a.html").write_text("<p>We cut tariffs on solar panels.</p>", encoding="utf-8")
    if text:
        (tmp_path / "b.txt").write_text("Grids need investment.", encoding="utf-8")
    frame = pd.DataFrame(list(read_documents(tmp_path, defer=True)))
    assert ("text" in frame.columns) is text
    want = list(Extractor().extract_many(frame.to_dict("records")))
    assert all(r.ok and r.areas for r in want)
    ddf = dd.from_pandas(frame, npartitions=1)
    for level in ("areas", "documents"):
        got = extract_dataframe(ddf, "text", id_column="id", level=level)
        expected = to_dataframe(want, level)[list(COLUMNS[level])].astype(COLUMNS[level])
        pd.testing.assert_frame_equal(got.compute(scheduler="sync"), expected)


def test_an_unknown_option_is_named_with_the_options_there_are() -> None:
    # It was a bare "got an unexpected keyword argument 'on_error'".
    bag = db.from_sequence(["We cut tariffs."])
    with pytest.raises(TypeError, match=r"'on_error' \(each document's failure is its error"):
        extract_bag(bag, on_error="raise")
    ddf = dd.from_pandas(pd.DataFrame({"text": ["x"]}), npartitions=1)
    with pytest.raises(TypeError, match=r"'max_quote': the options are .*max_quotes, min_score"):
        extract_dataframe(ddf, "text", max_quote=2)


def test_extract_many_refuses_a_dask_series_whose_index_it_would_lose() -> None:
    # Iterating one gives its values only: the ids of its index were lost.
    series = dd.from_pandas(pd.Series(["We cut tariffs."], index=["x"]), npartitions=1)
    with pytest.raises(TypeError, match=r"not a Dask Series .* series\.compute\(\)"):
        Extractor().extract_many(series)


def test_extract_bag_names_what_it_was_given_instead_of_a_bag() -> None:
    ddf = dd.from_pandas(pd.DataFrame({"text": ["x"]}), npartitions=1)
    for wrong in (ddf, ddf["text"]):
        with pytest.raises(TypeError, match=r"not a (DataFrame|Series); for a Dask DataFrame"):
            extract_bag(wrong)  # type: ignore[arg-type]
    for wrong in (["We cut tariffs."], pd.Series(["We cut tariffs."])):
        with pytest.raises(TypeError, match=r"Dask Bag, not a (list|Series); make one with"):
            extract_bag(wrong)  # type: ignore[arg-type]


def test_ids_from_an_index_that_restarts_in_each_partition_give_a_warning(
    tmp_path: Path,
) -> None:
    stored = tmp_path / "docs.csv"
    pd.DataFrame({"id": list("abcd"), "text": ["We cut tariffs."] * 4}).to_csv(stored, index=False)
    ddf = dd.read_csv(stored, blocksize=40)  # two partitions of one file
    assert ddf.npartitions == 2 and not ddf.known_divisions
    with pytest.warns(UserWarning, match="ids repeat"):
        rows = extract_dataframe(ddf, "text")
    # What it warns of: the index restarts, so two documents share each id.
    assert rows.compute(scheduler="sync")["doc_id"].tolist() == ["0", "1", "0", "1"]
    # With the ids' column, or an index with known divisions, nothing to warn of.
    extract_dataframe(ddf, "text", id_column="id")
    extract_dataframe(dd.from_pandas(pd.DataFrame({"text": ["x", "y"]}), npartitions=2), "text")
    # Nor with an index that bears a name (set, or stored and read back), which
    # id_column may name: it was "no column 'id'" after a warning that said to.
    ddf = dd.from_pandas(pd.read_csv(stored).set_index("id"), npartitions=2).clear_divisions()
    assert ddf.index.name == "id" and not ddf.known_divisions
    for named in (None, "id"):
        rows = extract_dataframe(ddf, "text", id_column=named)
        assert sorted(rows.compute(scheduler="sync")["doc_id"]) == list("abcd")
