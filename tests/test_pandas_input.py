"""Documents from pandas and numpy: ids, metadata and the mistakes a DataFrame invites."""

from __future__ import annotations

import datetime
import math
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from policy_topics import DocumentResult, Extractor
from policy_topics.io import read_documents, to_dataframe, write_results
from policy_topics.plot import plot_topics, topic_shares

pd = pytest.importorskip("pandas")


@pytest.fixture(scope="module")
def extractor() -> Extractor:
    return Extractor()


def test_numpy_and_pandas_metadata_become_plain_values(extractor: Extractor) -> None:
    meta = {
        "n": np.int64(3),
        "flag": np.bool_(True),
        "share": np.float32(0.5),
        "missing": pd.NA,
        "no_date": pd.NaT,
        "stamp": pd.Timestamp("2020-01-02 03:04"),
        "d64": np.datetime64("2020-01-02T03:04:05.123456789"),
        "xs": np.array([1, 2]),
        "nested": {"k": [np.int8(1), "a"]},
    }
    result = extractor.extract("We cut tariffs.", metadata=meta)
    assert result.ok and result.areas
    assert result.metadata == {
        "n": 3,
        "flag": True,
        "share": 0.5,
        "missing": None,
        "no_date": None,
        "stamp": datetime.datetime(2020, 1, 2, 3, 4),
        "d64": datetime.datetime(2020, 1, 2, 3, 4, 5, 123456),
        "xs": [1, 2],
        "nested": {"k": [1, "a"]},
    }
    assert all(type(v) in (int, bool, float) for v in list(result.metadata.values())[:3])
    again = DocumentResult.model_validate_json(result.model_dump_json())
    assert again.metadata["stamp"] == "2020-01-02T03:04:00"
    assert again.areas == result.areas


@pytest.mark.parametrize("n_process", [1, 2])
def test_a_dataframe_with_gaps_keeps_every_document(extractor: Extractor, n_process: int) -> None:
    frame = pd.DataFrame(
        {
            "id": [1, None, 3],  # an integer column with a gap is float
            "text": ["We cut tariffs.", "Solar power grows.", "Banks lend."],
            "date": pd.to_datetime(["2020-01-01", None, "2021-05-05"]),
            "n": [1, 2, 3],
        }
    )
    items = (
        {"id": row["id"], "text": row["text"], "meta": {"date": row["date"], "n": row["n"]}}
        for row in frame.to_dict("records")
    )
    results = list(extractor.extract_many(items, n_process=n_process))
    assert [(r.doc_id, r.ok) for r in results] == [("1", True), (None, True), ("3", True)]
    assert [r.metadata["date"] for r in results] == [
        datetime.datetime(2020, 1, 1),
        None,
        datetime.datetime(2021, 5, 5),
    ]
    areas = to_dataframe(results)
    assert str(areas["meta.date"].dtype).startswith("datetime64")
    assert areas["meta.date"].isna().tolist() == [False, True, False]


def test_a_metadata_value_json_cannot_hold_is_named(extractor: Extractor) -> None:
    with pytest.raises(ValueError, match=r"metadata 'when' \(Period\) cannot be written as JSON"):
        extractor.extract("We cut tariffs.", metadata={"when": pd.Period("2020-01")})


def test_a_series_of_texts_gives_its_index_as_ids(extractor: Extractor) -> None:
    texts = pd.Series(["We cut tariffs.", "Solar power grows."], index=["a", 7])
    for n_process in (1, 2):
        results = list(extractor.extract_many(texts, n_process=n_process))
        assert [(r.doc_id, [a.topic for a in r.areas]) for r in results] == [
            ("a", ["trade"]),
            ("7", ["energy"]),
        ]
    frame = to_dataframe(extractor.extract_many(texts))
    assert frame.pivot_table(index="doc_id", columns="topic", values="score").shape == (2, 2)


def test_a_dataframe_or_one_text_in_place_of_documents_is_refused(extractor: Extractor) -> None:
    frame = pd.DataFrame({"id": ["a"], "text": ["We cut tariffs."]})
    with pytest.raises(TypeError, match=r"not a DataFrame .*to_dict\('records'\)"):
        extractor.extract_many(frame)
    with pytest.raises(TypeError, match=r"not one str: pass \[text\]"):
        extractor.extract_many("We cut tariffs.")


def test_metadata_that_is_a_series_and_missing_texts_say_what_to_do(
    extractor: Extractor,
) -> None:
    row = pd.Series({"year": 2020})
    with pytest.raises(TypeError, match=r"metadata is Series, not a mapping; use series.to_dict"):
        extractor.extract("We cut tariffs.", metadata=row)
    results = list(extractor.extract_many([("We cut tariffs.", row), np.nan, None]))
    messages = [r.error.message if r.error else "" for r in results]
    assert "(text, metadata) tuple is Series, not a mapping" in messages[0]
    hint = " (a missing value: drop it, or pass an empty string)"
    assert messages[1:] == [f"text must be str, not {t}{hint}" for t in ("float", "NoneType")]


@pytest.mark.parametrize(
    "doc_id", [np.int64(4), 4.0, np.float64(4.0), "4"], ids=["np.int64", "float", "np", "str"]
)
def test_ids_are_the_same_strings_whatever_the_number_type(
    extractor: Extractor, doc_id: Any
) -> None:
    assert extractor.extract("x", doc_id=doc_id).doc_id == "4"
    assert next(iter(extractor.extract_many([{"id": doc_id, "text": "x"}]))).doc_id == "4"


@pytest.mark.parametrize("n_process", [1, 2])
def test_an_empty_cell_in_metadata_is_none_as_its_json_says(
    extractor: Extractor, n_process: int
) -> None:
    # An empty cell of a float column (or of a CSV's text column) is NaN in
    # frame.to_dict("records"); kept as NaN, the record differed from its own JSON
    # (null) and from a copy of itself.
    frame = pd.DataFrame(
        {
            "text": ["We cut tariffs.", "Solar power grows."],
            "score": [0.5, None],
            "outlet": ["Herald", np.nan],
        }
    )
    items = [
        {
            "text": row["text"],
            "meta": {
                "score": row["score"],
                "outlet": row["outlet"],
                "xs": np.array([1.0, np.nan]),
                "nested": {"n": float("nan"), "keep": [1.5, np.float32("nan")]},
            },
        }
        for row in frame.to_dict("records")
    ]
    results = list(extractor.extract_many(items, n_process=n_process))
    assert [r.metadata["score"] for r in results] == [0.5, None]
    assert [r.metadata["outlet"] for r in results] == ["Herald", None]
    for result in results:
        assert result.metadata["xs"] == [1.0, None]
        assert result.metadata["nested"] == {"n": None, "keep": [1.5, None]}
        assert result == result.model_copy(deep=True)
        assert DocumentResult.model_validate_json(result.model_dump_json()) == result
    assert extractor.extract("x", metadata={"k": np.float64("nan")}).metadata == {"k": None}
    # Infinity is no missing value, and JSON writes it as null: the record would
    # not equal its JSON. Its document fails, naming the key, as a Period does.
    for value in (np.float64("inf"), {"m": [1.0, -math.inf]}):
        (failed,) = extractor.extract_many([{"text": "x", "meta": {"ratio": value}}])
        assert failed.error is not None
        assert failed.error.message.startswith("metadata 'ratio' holds an infinite number")


@pytest.mark.parametrize("missing", [None, np.nan, pd.NA, pd.NaT])
def test_a_missing_id_is_no_id(extractor: Extractor, missing: Any) -> None:
    assert extractor.extract("x", doc_id=missing).doc_id is None


def test_one_result_where_many_are_expected_is_refused(
    extractor: Extractor, tmp_path: Path
) -> None:
    result = extractor.extract("We cut tariffs.")
    for call in (to_dataframe, plot_topics, topic_shares):
        with pytest.raises(TypeError, match=r"not one DocumentResult; pass a list: \[result\]"):
            call(result)
    with pytest.raises(TypeError, match="write_results takes an iterable"):
        write_results(result, tmp_path / "out.jsonl")  # type: ignore[arg-type]
    assert not (tmp_path / "out.jsonl").exists()


def test_result_dicts_where_results_are_expected_say_how_to_make_results(
    extractor: Extractor, tmp_path: Path
) -> None:
    # extract_bag gives result dicts; passed on to to_dataframe they failed with
    # "AttributeError: 'dict' object has no attribute 'areas'".
    result = extractor.extract("We cut tariffs.", doc_id="a")
    record = result.model_dump(mode="json")
    for call in (to_dataframe, plot_topics, topic_shares):
        with pytest.raises(
            TypeError,
            match=r"results\[1\] is a dict, not a DocumentResult; .*"
            r"DocumentResult\.model_validate\(d\)",
        ):
            call([result, record])
    with pytest.raises(TypeError, match=r"results\[0\] is a str, .*model_validate_json"):
        write_results([result.model_dump_json()], tmp_path / "out.json")
    assert not (tmp_path / "out.json").exists()
    assert to_dataframe([DocumentResult.model_validate(record)])["doc_id"].tolist() == ["a"]


def test_one_result_dict_or_a_frame_where_results_are_expected_is_refused(
    extractor: Extractor, tmp_path: Path
) -> None:
    # One dict, or a DataFrame, iterated as its keys: the message called the
    # first key a str and advised model_validate_json, which reads JSON text.
    record = extractor.extract("We cut tariffs.", doc_id="a").model_dump(mode="json")
    frame = to_dataframe([DocumentResult.model_validate(record)])
    for call in (to_dataframe, plot_topics, topic_shares):
        with pytest.raises(
            TypeError,
            match=r"not one dict; make a result of a result dict with "
            r"DocumentResult\.model_validate\(d\), and pass a list: \[result\]",
        ):
            call(record)
        with pytest.raises(TypeError, match=r"not one DataFrame; pass the results themselves"):
            call(frame)
    with pytest.raises(TypeError, match=r"not one dict; .*model_validate\(d\)"):
        write_results(record, tmp_path / "out.jsonl")  # type: ignore[arg-type]
    # A dict of results by id holds results already.
    by_id = {"a": DocumentResult.model_validate(record)}
    with pytest.raises(TypeError, match=r"not one dict; pass its values: results\.values\(\)"):
        to_dataframe(by_id)
    assert not (tmp_path / "out.jsonl").exists()


def test_a_table_suffix_is_refused_with_the_pandas_way(
    extractor: Extractor, tmp_path: Path
) -> None:
    results = [extractor.extract("We cut tariffs.")]
    with pytest.raises(ValueError, match=r"to_dataframe\(results, 'quotes'\)\.to_parquet"):
        write_results(results, tmp_path / "out.parquet")
    assert list(tmp_path.iterdir()) == []
    assert write_results(results, tmp_path / "out.parquet", format="jsonl") == 1


def test_dollar_signs_in_plot_labels_are_not_mathematics(extractor: Extractor) -> None:
    pytest.importorskip("matplotlib")
    results = [extractor.extract("We cut tariffs.", doc_id="US pledges $5bn; EU $3bn")]
    fig = plot_topics(results, "heatmap")
    assert [t.get_text() for t in fig.axes[0].get_yticklabels()] == [r"US pledges \$5bn; EU \$3bn"]
    fig.canvas.draw()  # renders: mathtext would fail on an unbalanced "$"


def test_dataframe_and_plot_name_documents_without_an_id_alike(extractor: Extractor) -> None:
    pytest.importorskip("matplotlib")
    results = list(extractor.extract_many(["Tariffs fell.", "Hello.", "Solar grew."]))
    fig = plot_topics(results, "heatmap")
    plotted = [t.get_text() for t in fig.axes[0].get_yticklabels()]
    assert plotted == ["#0", "#1", "#2"]
    assert to_dataframe(results)["doc_id"].tolist() == ["#0", "#2"]


def test_a_series_of_mappings_or_tuples_keeps_their_ids(extractor: Extractor) -> None:
    frame = pd.DataFrame({"doc": ["A", "B"], "text": ["We cut tariffs.", "Solar."], "y": [1, 2]})
    rows = frame.apply(
        lambda r: {"id": r["doc"], "text": r["text"], "meta": {"year": r["y"]}}, axis=1
    )
    results = list(extractor.extract_many(rows))
    assert [(r.doc_id, r.ok, r.metadata) for r in results] == [
        ("A", True, {"year": 1}),
        ("B", True, {"year": 2}),
    ]
    no_ids = pd.Series([{"text": "We cut tariffs."}], index=["x"])
    assert next(iter(extractor.extract_many(no_ids))).doc_id == "x"
    pairs = pd.Series([("We cut tariffs.", {"year": 1}), ("Solar.", 5)], index=["p", "q"])
    results = list(extractor.extract_many(pairs))
    assert [(r.doc_id, r.ok, r.metadata) for r in results] == [
        ("p", True, {"year": 1}),
        ("q", False, {}),
    ]
    # The message names what the caller passed: a tuple, not a field named 'meta'.
    assert results[1].error is not None
    assert "the metadata of a (text, metadata) tuple is int, not a mapping" in (
        results[1].error.message
    )
    unset = pd.Series([{"id": None, "text": "x"}, {"id": np.nan, "text": "x"}], index=["r", "s"])
    assert [r.doc_id for r in extractor.extract_many(unset)] == ["r", "s"]


@pytest.mark.parametrize("n_process", [1, 2])
def test_metadata_that_cannot_be_read_costs_only_its_document(
    extractor: Extractor, n_process: int
) -> None:
    cyclic: list[Any] = []
    cyclic.append(cyclic)
    odd = {3: np.array(5), 4: np.ma.masked, 5: np.ma.array([1, 2], mask=[0, 1]), 6: cyclic}
    items = [
        {"id": str(i), "text": "Tariffs fell.", "meta": {"k": odd.get(i, i)}} for i in range(8)
    ]
    results = list(extractor.extract_many(items, n_process=n_process, batch_size=2))
    assert [r.doc_id for r in results] == [str(i) for i in range(8)]
    assert [r.metadata.get("k") for r in results if r.ok] == [0, 1, 2, 5, None, [1, None], 7]
    (failed,) = [r for r in results if not r.ok]
    assert failed.doc_id == "6" and failed.error is not None
    assert failed.error.message.startswith("metadata 'k' (list) cannot be read: RecursionError")
    with pytest.raises(ValueError, match=r"metadata 'k' .* RecursionError"):
        extractor.extract("Tariffs fell.", metadata={"k": cyclic})


def test_an_id_is_the_same_whichever_way_it_comes_from_pandas(extractor: Extractor) -> None:
    frame = pd.DataFrame(
        {
            "id": np.array([0.1, 2.0], np.float32),
            "when": pd.to_datetime(["2024-01-01 00:00", "2024-01-02 03:04"]),
            "text": ["We cut tariffs.", "Solar."],
        }
    )
    frame["wait"] = pd.to_timedelta(["1D", "1ns"])
    frame["nanos"] = pd.to_datetime(
        ["2024-01-01 00:00:00.000000001", "2024-01-01 00:00:00.000000002"]
    )
    expected = {
        "id": ["0.10000000149011612", "2"],
        "when": ["2024-01-01 00:00:00", "2024-01-02 03:04:00"],
        "wait": ["1 days 00:00:00", "0 days 00:00:00.000000001"],
        "nanos": ["2024-01-01 00:00:00.000000001", "2024-01-01 00:00:00.000000002"],
    }
    for column, want in expected.items():
        series = frame.set_index(column)["text"]  # the labels, as pandas hands them over
        records = [{"id": row[column], "text": row["text"]} for row in frame.to_dict("records")]
        raw = [
            {"id": i, "text": t}
            for i, t in zip(frame[column].to_numpy(), frame["text"], strict=True)
        ]
        for items in (series, records, raw):
            assert [r.doc_id for r in extractor.extract_many(items)] == want, (column, items)
    odd = [np.array(2.0), np.array(np.nan), np.ma.masked, np.datetime64("10000-01-01")]
    assert [extractor.extract("x", doc_id=i).doc_id for i in odd] == [
        "2",
        None,
        None,
        "10000-01-01 00:00:00",
    ]


def test_masked_and_pandas_arrays_in_metadata(extractor: Extractor) -> None:
    dates = np.array(["2024-01-01", "2024-01-02"], dtype="datetime64[ns]")
    meta = {
        "dates": np.ma.array(dates, mask=[0, 1]),
        "grid": np.ma.array([[1, 2], [3, 4]], mask=[[0, 1], [0, 0]]),
        "counts": pd.array([1, None], dtype="Int64"),
        "kinds": pd.Categorical(["a", "b"]),
        "records": np.ma.masked_array(
            np.array([(1, 2.5), (3, 4.5)], dtype=[("a", "i4"), ("b", "f8")]),
            mask=[(0, 1), (0, 0)],
        ),
        "wait": pd.Timedelta("1D"),
    }
    assert extractor.extract("x", metadata=meta).metadata == {
        "dates": [datetime.datetime(2024, 1, 1), None],
        "grid": [[1, None], [3, 4]],
        "counts": [1, None],
        "kinds": ["a", "b"],
        "records": [(1, None), (3, 4.5)],
        "wait": datetime.timedelta(days=1),
    }


def test_dates_numpy_cannot_make_datetimes_keep_their_value(extractor: Extractor) -> None:
    meta = {
        "far": np.datetime64("10000-01-01"),
        "ns": np.datetime64("2024-01-01T00:00:00.000000001"),
        "stamp": pd.Timestamp("2024-01-01 00:00:00.000000001"),  # no warning, to the microsecond
    }
    assert extractor.extract("x", metadata=meta).metadata == {
        "far": "10000-01-01",
        "ns": datetime.datetime(2024, 1, 1),
        "stamp": datetime.datetime(2024, 1, 1),
    }


@pytest.mark.parametrize("name", ["out.csv.gz", "out.jsonl.bz2", "out.json.zip", "out.JSONL.LZMA"])
def test_a_compressed_suffix_is_refused(extractor: Extractor, tmp_path: Path, name: str) -> None:
    results = [extractor.extract("We cut tariffs.")]
    for form in (None, "csv"):
        with pytest.raises(ValueError, match="write_results does not compress"):
            write_results(results, tmp_path / name, format=form)  # type: ignore[arg-type]
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("missing", [np.nan, pd.NA])
def test_the_records_of_a_frame_of_documents_and_read_errors(
    extractor: Extractor, missing: Any
) -> None:
    # pd.DataFrame(read_documents(...)) holds NaN in 'error' for every file that
    # was read, and in 'meta' for every file that was not.
    rows = [
        {"id": "a.txt", "text": "We cut tariffs.", "meta": {"k": 1}, "error": missing},
        {"id": "b.txt", "text": missing, "meta": missing, "error": "b.txt: not valid UTF-8"},
        {"id": "c.txt", "text": "Solar grew.", "meta": missing, "error": missing},
    ]
    results = list(extractor.extract_many(rows))
    assert [(r.doc_id, r.ok, r.metadata) for r in results] == [
        ("a.txt", True, {"k": 1}),
        ("b.txt", False, {}),
        ("c.txt", True, {}),
    ]
    assert results[1].error is not None
    assert (results[1].error.type, results[1].error.message) == (
        "ReadError",
        "b.txt: not valid UTF-8",
    )


def test_an_error_column_of_the_frames_own_fails_no_document(extractor: Extractor) -> None:
    # A frame with a column named 'error' holding numbers (a poll's margin of
    # error) gave every row with a value a ReadError record named "0.25".
    frame = pd.DataFrame(
        {"id": ["a", "b", "c"], "text": ["We cut tariffs."] * 3, "error": [0.0, 0.25, np.nan]}
    )
    results = list(extractor.extract_many(frame.to_dict("records")))
    assert [(r.doc_id, r.ok, r.error) for r in results] == [
        ("a", True, None),
        ("b", True, None),
        ("c", True, None),
    ]
    assert results[1].areas == extractor.extract("We cut tariffs.").areas


def test_the_records_of_a_frame_of_deferred_documents_read_their_files(
    extractor: Extractor, tmp_path: Path
) -> None:
    # read_documents(defer=True) gives a file to read a 'source' and no 'text':
    # in a frame beside a text file's document, its 'text' is NaN.
    (tmp_path / "a.html").write_text("<p>We cut tariffs.</p>", encoding="utf-8")
    (tmp_path / "b.txt").write_text("Solar power grew.", encoding="utf-8")
    frame = pd.DataFrame(read_documents(tmp_path, defer=True))
    assert frame["text"].isna().tolist() == [True, False]
    results = list(extractor.extract_many(frame.to_dict("records")))
    assert [(r.ok, [a.topic for a in r.areas]) for r in results] == [
        (True, ["trade"]),
        (True, ["energy"]),
    ]


def test_rows_of_a_dataframe_in_place_of_documents_say_what_to_pass(
    extractor: Extractor,
) -> None:
    # extract_many(frame.iterrows()) gave every row "text must be str, not tuple".
    frame = pd.DataFrame({"id": ["a"], "text": ["We cut tariffs."]})
    for rows in (frame.iterrows(), frame.itertuples(), frame.values, [["a", "b", "c"]]):
        (result,) = extractor.extract_many(rows)
        assert result.error is not None
        assert result.error.message.endswith(
            "is no document: pass a str, a (text, metadata) pair or a mapping with 'text'; "
            "for the rows of a DataFrame, frame.to_dict('records')"
        )
    (done,) = extractor.extract_many(frame.to_dict("records"))
    assert done.ok and done.doc_id == "a"
