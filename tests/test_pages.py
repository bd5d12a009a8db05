"""Page numbers of quotes: PDF page starts, checked pages, and every path to the records."""

from __future__ import annotations

import csv
import io
import json
import re
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bench import synth
from policy_topics import DocumentResult, Extractor
from policy_topics.io import CSV_COLUMNS, read_documents, to_dataframe, write_results
from policy_topics.pages import PageStarts, check_pages, page_of
from policy_topics.readers import _join_pages, drop_furniture, join_hyphenated

# Three pages, the middle one empty: the third is page 3, not 2. The word broken
# on page 3 is joined on the evidence of page 1 ("Manufacturing").
PAGES = [
    ["Both sides will cut tariffs on steel.", "Manufacturing output grew."],
    [],
    ["We will expand manu-", "facturing and solar power.", "Grid investment will rise."],
]
PAGE_1 = "Both sides will cut tariffs on steel.\nManufacturing output grew."
PAGE_3 = "We will expand manufacturing\nand solar power.\nGrid investment will rise."


@pytest.fixture(scope="module")
def extractor() -> Extractor:
    return Extractor(max_quotes=None)


@pytest.fixture()
def pdf(tmp_path: Path) -> Path:
    pytest.importorskip("pypdf")
    path = tmp_path / "paper.pdf"
    path.write_bytes(synth.pdf(PAGES))
    return path


def quotes(result: DocumentResult) -> list[tuple[str, int | None, str]]:
    return sorted((a.topic, q.page, q.text) for a in result.areas for q in a.quotes)


# --- reading a PDF -----------------------------------------------------------------------


def test_a_pdf_document_says_where_each_page_starts(pdf: Path) -> None:
    (doc,) = read_documents(pdf)
    assert doc["text"] == f"{PAGE_1}\n\n{PAGE_3}"
    # physical numbers: the empty page 2 is counted, and has no start
    assert doc["pages"] == [(1, 0), (3, len(PAGE_1) + 2)]
    for page, start in doc["pages"]:
        assert doc["text"][start:].startswith((PAGE_1, PAGE_3)[page // 2])


def test_quotes_carry_the_page_their_sentence_starts_on(pdf: Path, extractor: Extractor) -> None:
    (doc,) = read_documents(pdf)
    text = doc["text"]
    (result,) = extractor.extract_many(read_documents(pdf))
    assert quotes(result) == [
        ("energy", 3, "Grid investment will rise."),
        ("energy", 3, "We will expand manufacturing\nand solar power."),
        ("manufacturing", 1, "Manufacturing output grew."),
        ("manufacturing", 3, "We will expand manufacturing\nand solar power."),
        ("trade", 1, "Both sides will cut tariffs on steel."),
    ]
    for area in result.areas:
        for quote in area.quotes:
            assert text[quote.start : quote.end] == quote.text
            assert quote.page == (1 if quote.start < len(PAGE_1) else 3)
            for m in quote.matches:
                assert text[m.start : m.end] == m.text


def test_every_page_of_a_longer_pdf_gets_its_quotes(tmp_path: Path, extractor: Extractor) -> None:
    pytest.importorskip("pypdf")
    lines = [
        [f"Both sides will cut tariffs on steel, said page {n}.", "Solar power grew."]
        for n in range(1, 6)
    ]
    lines[3] = []  # page 4 is a figure
    path = tmp_path / "long.pdf"
    path.write_bytes(synth.pdf(lines))
    (result,) = extractor.extract_many(read_documents(path))
    trade = result.area("trade")
    assert trade is not None
    said = {int(re.findall(r"\d", q.text)[0]): q.page for q in trade.quotes}
    assert said == {1: 1, 2: 2, 3: 3, 5: 5}
    # Every tagged sentence has its page, repeats included (a quote has the first's).
    text = result_text(path)
    pages = [(tags.page, text[tags.start : tags.end]) for tags in result.sentences]
    assert pages == [(n, line) for n in (1, 2, 3, 5) for line in lines[n - 1]]


def test_the_text_of_a_multi_page_pdf_is_what_it_was(tmp_path: Path) -> None:
    # Before pages were kept, the text was the stripped non-empty pages joined by
    # blank lines, then join_hyphenated on the whole: still so, to the character,
    # for pages without furniture whose sentences do not run on to the next page.
    pypdf = pytest.importorskip("pypdf")
    pages = [
        ["Semi-", "conductors and cross-", "border trade."],
        [],
        ["Both sides back semiconductors and manu-", "facturing.", "COVID-", "19 hit the EU-"],
        ["China trade.", "Manufacturing and soft\u00ad", "ware."],
    ]
    path = tmp_path / "p.pdf"
    path.write_bytes(synth.pdf(pages))
    reader = pypdf.PdfReader(path)
    texts = [page.extract_text().strip() for page in reader.pages]
    before = _join_hyphenated_before_pages("\n\n".join(t for t in texts if t))
    (doc,) = read_documents(path)
    assert doc["text"] == before
    # joined on the evidence of other pages: page 3's, page 4's
    assert before.startswith("Semiconductors\nand cross-\nborder trade.\n\n")
    assert "semiconductors and manufacturing.\nCOVID-\n19" in before
    assert [page for page, _ in doc["pages"]] == [1, 3, 4]


def _join_hyphenated_before_pages(text: str) -> str:
    """join_hyphenated as it was before PDF page starts were kept, for comparison."""
    if "\n" not in text or not any(mark in text for mark in "-\u2010\u00ad"):
        return text
    line_end_break = re.compile(r"\b(\w+)([-\u2010\u00ad])[ \t]*\n[ \t]*(\w+)(\S*)([ \t]*)")
    hyphenated = re.compile(r"\b\w+(?:[-\u2010]\w+)+")
    words: set[str] = set()
    compounds: set[str] = set()

    def join(match: re.Match[str]) -> str:
        first, hyphen, second, rest, spaces = match.groups()
        whole = match.group()
        if not (first[-1].islower() and second[0].islower()):
            return whole
        joined = (first + second).lower()
        if hyphen != "\u00ad" and (f"{first}-{second}".lower() in compounds or joined not in words):
            return whole
        end = match.end()
        after = "" if end == len(text) or text[end] == "\n" else "\n"
        return first + second + rest + (spaces if not after else "") + after

    while True:
        lower = text.lower()
        words = set(re.findall(r"\w+", lower))
        compounds = {re.sub("[-\u2010]", "-", c) for c in hyphenated.findall(lower)}
        joined = line_end_break.sub(join, text)
        if joined == text:
            return text
        text = joined


_PIECES = ["manu", "facturing", "Manufacturing", "cross", "border", "crossborder", "semi"]
_PIECES += ["conductors", "semiconductors", "COVID", "19", "EU", "soft", "ware", "x"]
_PIECES += ["-", "-", "\u2010", "\u00ad", "\n", "\n", " ", "\t", ".", "\n\n"]
_PAGE = st.lists(st.sampled_from(_PIECES), min_size=1, max_size=14).map("".join)


@given(st.lists(_PAGE, min_size=1, max_size=5))
def test_pages_joined_apart_give_the_text_joined_whole(pages: list[str]) -> None:
    pages = [page.strip() for page in pages if page.strip()]
    whole = "\n\n".join(pages)
    joined = _join_pages(pages)
    assert "\n\n".join(joined) == _join_hyphenated_before_pages(whole) == join_hyphenated(whole)


# --- running headers, footers and sentences that run on ---------------------------------


def test_running_headers_footers_and_page_numbers_are_dropped() -> None:
    pages = [
        f"EU-China Trade Partnership\n{body}\nPage {n} of 4"
        for n, body in enumerate(["Tariffs fell.", "Quotas rose.", "Ports grew.", "Grids too."], 1)
    ]
    assert drop_furniture(pages) == ["Tariffs fell.", "Quotas rose.", "Ports grew.", "Grids too."]
    # Fewer than three pages with text: nothing tells furniture from text.
    assert drop_furniture(pages[:2]) == pages[:2]
    # On half the pages (two of four) is too few with fewer than three.
    assert drop_furniture([*pages[:2], "Ports grew.", "Grids too."])[0] == pages[0]


def test_a_header_holding_the_printed_page_number_is_dropped() -> None:
    # Printed numbers start at 1 on the third sheet; a chapter's first page shows
    # only its number, and its heading, which starts with a number too, stays.
    pages = [
        "Joint Statement",
        "Contents\n1 Trade . . . 1",
        "1\n1 Introduction\nBoth sides will cut tariffs.",
        "Chapter 1: Trade 2\nQuotas will rise.\nMore text here",
        "Chapter 1: Trade 3\nPorts will grow.",
        "4\n2 Energy\nGrids will link.",
    ]
    assert drop_furniture(pages) == [
        "Joint Statement",
        "Contents\n1 Trade . . . 1",
        "1 Introduction\nBoth sides will cut tariffs.",
        "Quotas will rise.\nMore text here",
        "Ports will grow.",
        "2 Energy\nGrids will link.",
    ]


def test_a_page_number_dropped_as_furniture_takes_no_text_line_with_it() -> None:
    # "3" goes as a recurring page number; the line above ends with 3 too, but
    # the page's number was printed already: it is the sentence's, and stays.
    bodies = ["Tariffs fell.", "Quotas rose.", "the tariff on steel falls from 3", "Ports grew."]
    pages = [f"Trade Report\n{body}\n{n}" for n, body in enumerate(bodies, 1)]
    assert drop_furniture(pages) == bodies


def test_pages_that_are_all_furniture_keep_their_text(tmp_path: Path) -> None:
    # Three slides with a title each, and nothing else: no scan to run OCR on.
    pytest.importorskip("pypdf")
    pages = [f"Trade Agreement 2025\n{n}" for n in range(1, 4)]
    assert drop_furniture(pages) == pages
    path = tmp_path / "slides.pdf"
    path.write_bytes(synth.pdf([page.split("\n") for page in pages]))
    (doc,) = read_documents(path)
    assert "error" not in doc, doc["error"]
    assert doc["text"] == "\n\n".join(pages)
    assert doc["pages"] == [(1, 0), (2, 24), (3, 48)]


def test_numbered_headings_that_do_not_follow_the_pages_stay() -> None:
    # Each page of a short treaty begins with an article: headings, not a running head.
    pages = [
        "Article 3\nThe Parties shall reduce tariffs on steel.",
        "Article 7\nEach Party shall open its ports.",
        "Article 12\nThe Parties shall cooperate on energy.",
    ]
    assert drop_furniture(pages) == pages
    # A running head that names its section over the section's pages: dropped.
    body = ["Tariffs fell.", "Quotas rose.", "Ports grew.", "Grids linked."]
    sections = [f"Section {n}\n{line}" for n in (1, 2) for line in body]
    assert drop_furniture(sections) == body * 2
    # Front matter numbered i, ii, iii follows the pages: dropped.
    front = [f"{n}\nText {w} here." for n, w in zip(["i", "ii", "iii"], "abc", strict=True)]
    assert drop_furniture(front) == [f"Text {w} here." for w in "abc"]


def test_page_numbers_that_start_again_after_the_front_matter_are_dropped() -> None:
    # Front matter numbered i to iv, then the body from 1: both are page numbers,
    # but one offset from the pages was asked of all of them, and i to iv stayed.
    numerals = ["i", "ii", "iii", "iv", "1", "2", "3", "4", "5", "6"]
    bodies = [f"Text {n} here." for n in range(len(numerals))]
    pages = [f"{body}\n{numeral}" for body, numeral in zip(bodies, numerals, strict=True)]
    assert drop_furniture(pages) == bodies
    # Headings that start again lower but do not then follow the pages stay.
    articles = ["Article 9", "Article 2", "Article 1"]
    treaty = [f"{a}\nThe Parties agree on text {n}." for n, a in enumerate(articles)]
    assert drop_furniture(treaty) == treaty


def test_only_the_edges_of_a_page_can_be_furniture() -> None:
    pages = [f"Top {w}\nThen {w}\nDraft\nOn {w}\nEnd {w}" for w in ("one", "two", "six")]
    # "Draft" is on every page, but in the middle; repeated sentences stay too.
    assert drop_furniture(pages) == pages
    said = ["Both sides will cut tariffs.\nMore.", "Both sides will cut tariffs.\nLess."] * 2
    assert drop_furniture(said) == said
    # The second line goes only with the first.
    pages = [f"Report\nNot a header {n}\nText {n} here." for n in "abc"]
    assert drop_furniture(pages) == [f"Not a header {n}\nText {n} here." for n in "abc"]


FURNISHED = [
    ["Trade and Energy Partnership", "Both sides will cut tariffs on steel.", "1"],
    ["Trade and Energy Partnership", "Manufacturing output grew, and both sides will", "2"],
    ["Trade and Energy Partnership", "expand solar power. We back manu-", "3"],
    ["Trade and Energy Partnership", "facturing and grid investment.", "4"],
]


def test_a_pdf_reads_without_its_furniture_and_sentences_run_on(
    tmp_path: Path, extractor: Extractor
) -> None:
    pytest.importorskip("pypdf")
    path = tmp_path / "furnished.pdf"
    path.write_bytes(synth.pdf(FURNISHED))
    (doc,) = read_documents(path)
    text = doc["text"]
    assert text == (
        "Both sides will cut tariffs on steel.\n\n"
        "Manufacturing output grew, and both sides will\n"
        "expand solar power. We back manufacturing\n"
        "and grid investment."
    )
    starts = dict(doc["pages"])
    assert text[starts[3] :].startswith("expand solar power.")
    # Page 4's first word went to page 3, where it starts.
    assert text[starts[4] :] == "and grid investment."
    (result,) = extractor.extract_many([doc])
    sentences = [(t.page, text[t.start : t.end]) for t in result.sentences]
    assert sentences == [
        (1, "Both sides will cut tariffs on steel."),
        (2, "Manufacturing output grew, and both sides will\nexpand solar power."),
        (3, "We back manufacturing\nand grid investment."),
    ]
    # The header named trade and energy on every page; now only the text does.
    trade = result.area("trade")
    assert trade is not None and trade.mentions == 1
    for area in result.areas:
        for quote in area.quotes:
            assert text[quote.start : quote.end] == quote.text


def test_a_page_holding_only_the_end_of_a_broken_word_starts_no_text(tmp_path: Path) -> None:
    pytest.importorskip("pypdf")
    path = tmp_path / "fragment.pdf"
    path.write_bytes(synth.pdf([["We back manu-"], ["facturing."], ["Manufacturing grew."]]))
    (doc,) = read_documents(path)
    assert doc["text"] == "We back manufacturing.\n\nManufacturing grew."
    assert doc["pages"] == [(1, 0), (3, len("We back manufacturing.\n\n"))]


def test_a_page_that_starts_a_sentence_stays_apart(tmp_path: Path) -> None:
    pytest.importorskip("pypdf")
    pages = [["We cut tariffs", "on steel"], ["Solar power grew."], ["and so did", "grids."]]
    path = tmp_path / "apart.pdf"
    path.write_bytes(synth.pdf(pages))
    (doc,) = read_documents(path)
    # A capital after an open end is a new block (a heading, a name): kept apart.
    # A lower-case start after a full stop is kept apart too.
    assert doc["text"] == "We cut tariffs\non steel\n\nSolar power grew.\n\nand so did\ngrids."


def test_a_compound_broken_over_a_page_stays_one_sentence(
    tmp_path: Path, extractor: Extractor
) -> None:
    # Broken at its own hyphen, with no "crossborder" to join it into: the
    # sentence still runs on, and the matcher reads the compound as one.
    pytest.importorskip("pypdf")
    pages = [["Both sides will expand cross-"], ["border payments."], ["Solar power grew."]]
    path = tmp_path / "compound.pdf"
    path.write_bytes(synth.pdf(pages))
    (doc,) = read_documents(path)
    text = doc["text"]
    assert text == "Both sides will expand cross-\nborder payments.\n\nSolar power grew."
    assert doc["pages"] == [(1, 0), (2, 30), (3, 48)]
    (result,) = extractor.extract_many([doc])
    assert [(t.page, text[t.start : t.end]) for t in result.sentences] == [
        (1, "Both sides will expand cross-\nborder payments."),
        (3, "Solar power grew."),
    ]
    found = {(q.page, m.term, m.text) for a in result.areas for q in a.quotes for m in q.matches}
    assert (1, "cross-border payment", "cross-\nborder payments") in found


# --- every path to the records --------------------------------------------------------------


@pytest.fixture()
def folder(tmp_path: Path) -> Path:
    pytest.importorskip("pypdf")
    found = tmp_path / "in"
    found.mkdir()
    (found / "a.pdf").write_bytes(synth.pdf(PAGES))
    (found / "b.txt").write_text("Both sides will cut tariffs.", encoding="utf-8")
    (found / "c.pdf").write_bytes(synth.pdf([[], [], ["Solar power grew fast."]]))
    (found / "d.html").write_text("<p>Solar power grew.</p>", encoding="utf-8")
    return found


def test_workers_and_deferred_reading_give_the_same_pages(
    folder: Path, extractor: Extractor
) -> None:
    one = list(extractor.extract_many(read_documents(folder)))
    assert [(r.doc_id, {q.page for a in r.areas for q in a.quotes}) for r in one] == [
        (str(folder / "a.pdf"), {1, 3}),
        (str(folder / "b.txt"), {None}),
        (str(folder / "c.pdf"), {3}),
        (str(folder / "d.html"), {None}),
    ]
    for n_process, defer in [(1, True), (2, False), (2, True)]:
        docs = read_documents(folder, defer=defer)
        assert list(extractor.extract_many(docs, n_process=n_process, batch_size=1)) == one


def result_text(path: Path) -> str:
    (doc,) = read_documents(path)
    return str(doc["text"])


def test_json_csv_and_frames_carry_the_page(folder: Path, extractor: Extractor) -> None:
    results = list(extractor.extract_many(read_documents(folder)))
    out = io.StringIO()
    write_results(results, out, format="jsonl")
    records = [DocumentResult.model_validate_json(line) for line in out.getvalue().splitlines()]
    assert records == results
    assert '"page":3' in out.getvalue() and '"page":null' in out.getvalue()
    out = io.StringIO()
    write_results(results, out, format="csv")
    rows = list(csv.reader(io.StringIO(out.getvalue())))
    # last, after meta: the columns before it keep their places
    assert rows[0] == [*CSV_COLUMNS, "meta", "page"]
    pages = {(row[0].rsplit("/", 1)[-1], row[-1]) for row in rows[1:]}
    assert pages == {("a.pdf", "1"), ("a.pdf", "3"), ("b.txt", ""), ("c.pdf", "3"), ("d.html", "")}
    pytest.importorskip("pandas")
    frame = to_dataframe(results, level="quotes")
    assert str(frame["page"].dtype) == "Int64"
    by_doc = frame.groupby("doc_id")["page"].agg(lambda s: sorted(s.dropna().tolist()))
    assert by_doc[str(folder / "a.pdf")] == [1, 1, 3, 3, 3]
    assert by_doc[str(folder / "b.txt")] == []
    sentences = to_dataframe(results, level="sentences")
    assert str(sentences["page"].dtype) == "Int64"
    want = [t.page for r in results for t in r.sentences for _ in t.topics]
    assert [None if pd_isna(p) else p for p in sentences["page"]] == want
    assert {1, 3, None} <= set(want)


def pd_isna(value: Any) -> bool:
    return bool(pytest.importorskip("pandas").isna(value))


def test_a_pdf_document_saved_as_json_lines_keeps_its_pages(
    pdf: Path, tmp_path: Path, extractor: Extractor
) -> None:
    # A data engineer stores what read_documents gives as JSON Lines and tags it
    # later: the pages came back without a word, and every quote lost its page.
    (doc,) = read_documents(pdf)
    stored = tmp_path / "docs.jsonl"
    stored.write_text(json.dumps(doc) + "\n", encoding="utf-8")
    (again,) = read_documents(stored)
    assert again["pages"] == [[1, 0], [3, len(PAGE_1) + 2]]
    stored_result, read_result = extractor.extract_many([again, doc])
    assert stored_result == read_result
    assert {page for _, page, _ in quotes(stored_result)} == {1, 3}


def test_bad_pages_in_json_lines_name_the_file_line_and_field(
    tmp_path: Path, extractor: Extractor
) -> None:
    # A journalist with hundreds of stored documents got "pages[0]: page 0 is not
    # a whole number >= 1" and no way to tell which file and line held it, where
    # every other bad field of a JSON Lines record names both.
    stored = tmp_path / "docs.jsonl"
    lines = [
        {"id": "ok", "text": "We cut tariffs.", "pages": [[1, 0]]},
        {"id": "zero", "text": "We cut tariffs.", "pages": [[0, 0]]},
        {"id": "string", "text": "We cut tariffs.", "pages": "[[1, 0]]"},
        {"id": "past", "text": "We cut tariffs.", "pages": [[1, 0], [2, 99]]},
    ]
    stored.write_text("".join(json.dumps(line) + "\n" for line in lines), encoding="utf-8")
    docs = list(read_documents(stored))
    assert [d["id"] for d in docs] == ["ok", "zero", "string", "past"]
    assert "error" not in docs[0]
    assert (
        docs[1]["error"]
        == f"{stored}:2: field 'pages': pages[0]: page 0 is not a whole number >= 1"
    )
    assert docs[2]["error"] == (
        f"{stored}:3: field 'pages': pages must be a list of (page, start) pairs, not str"
    )
    assert docs[3]["error"] == (
        f"{stored}:4: field 'pages': pages[1]: start 99 lies outside the text (0 to 15)"
    )
    assert {d["error_type"] for d in docs[1:]} == {"ValueError"}
    results = list(extractor.extract_many(docs))
    assert results[0].ok and results[0].areas[0].quotes[0].page == 1
    assert [r.error.message for r in results[1:] if r.error] == [d["error"] for d in docs[1:]]


def test_the_display_names_the_page(pdf: Path, extractor: Extractor) -> None:
    from policy_topics.display import describe

    (result,) = extractor.extract_many(read_documents(pdf))
    trade = result.area("trade")
    assert trade is not None
    assert "p. 1 · sentence 0" in result._repr_html_()
    assert describe(trade.quotes[0]).startswith("Quote (p. 1, sentence 0, ")
    plain = extractor.extract(PAGE_1)
    assert "sentence 0" in plain._repr_html_() and "p. 1" not in plain._repr_html_()


# --- pages given by the caller -----------------------------------------------------------


def test_extract_takes_pages_of_the_callers_text(extractor: Extractor) -> None:
    text = f"Title.\n\n{PAGE_1}\n\n{PAGE_3}"
    pages = [(4, 8), (5, 8 + len(PAGE_1) + 2)]
    result = extractor.extract(text, pages=pages)
    assert quotes(result) == [
        ("energy", 5, "Grid investment will rise."),
        ("energy", 5, "We will expand manufacturing\nand solar power."),
        ("manufacturing", 4, "Manufacturing output grew."),
        ("manufacturing", 5, "We will expand manufacturing\nand solar power."),
        ("trade", 4, "Both sides will cut tariffs on steel."),
    ]
    # before the first page's start, a sentence has no page
    assert quotes(extractor.extract(text, pages=[(2, len(text))]))[0][1] is None
    assert {q[1] for q in quotes(extractor.extract(text))} == {None}
    tagged = extractor.extract(text, pages=pages).sentences
    assert [(t.page, t.start) for t in tagged] == [
        (4 if t.start < pages[1][1] else 5, t.start) for t in tagged
    ]
    assert {t.page for t in extractor.extract(text).sentences} == {None}
    assert {q[1] for q in quotes(extractor.extract(text, pages=[]))} == {None}


@pytest.mark.parametrize(
    ("pages", "message"),
    [
        ("1,0", "pages must be a list of (page, start) pairs, not str"),
        (5, "pages must be a list of (page, start) pairs, not int"),
        ({1: 0}, "pages must be a list of (page, start) pairs, not dict"),
        ([(1, 0, 3)], "pages[0] is (1, 0, 3), not a (page, start) pair"),
        ([7], "pages[0] is 7, not a (page, start) pair"),
        ([(0, 0)], "pages[0]: page 0 is not a whole number >= 1"),
        ([(True, 0)], "pages[0]: page True is not a whole number >= 1"),
        ([(1, 2.0)], "pages[0]: start 2.0 is not a whole number"),
        ([(1, -1)], "pages[0]: start -1 lies outside the text (0 to 20)"),
        ([(1, 21)], "pages[0]: start 21 lies outside the text (0 to 20)"),
        ([(1, 5), (2, 5)], "pages[1]: start 5 does not come after the start before it (5)"),
        ([(1, 9), (2, 3)], "pages[1]: start 3 does not come after the start before it (9)"),
        ([(2, 5), (1, 10)], "pages[1]: page 1 does not come after the page before it (2)"),
        ([(3, 0), (3, 10)], "pages[1]: page 3 does not come after the page before it (3)"),
    ],
)
def test_bad_pages_are_a_clear_value_error(extractor: Extractor, pages: Any, message: str) -> None:
    with pytest.raises(ValueError, match=re.escape(message)):
        extractor.extract("We cut tariffs here.", pages=pages)


def test_every_problem_of_the_pages_is_named() -> None:
    bad = [(0, 0), (2, 50), (3, 1), (0, 2), (5, 2), (6, "x"), (-1, 9), (8, 8), (9, 10)]
    with pytest.raises(ValueError) as caught:
        check_pages(bad, 40)
    message = str(caught.value)
    assert message == (
        "pages[0]: page 0 is not a whole number >= 1; "
        "pages[1]: start 50 lies outside the text (0 to 40); "
        "pages[3]: page 0 is not a whole number >= 1; "
        "pages[4]: start 2 does not come after the start before it (2); "
        "pages[5]: start 'x' is not a whole number; and 2 more problems"
    )


def test_numpy_pages_are_taken() -> None:
    np = pytest.importorskip("numpy")
    checked = check_pages(np.array([[1, 0], [3, 10]]), 20)
    assert checked == PageStarts([0, 10], [1, 3])
    assert type(checked.starts[1]) is int
    assert [page_of(checked, i) for i in (0, 9, 10, 20)] == [1, 1, 3, 3]


@pytest.mark.parametrize("n_process", [1, 2])
def test_bad_pages_fail_only_their_document(extractor: Extractor, n_process: int) -> None:
    docs = [
        {"id": "good", "text": PAGE_1, "pages": [[2, 0]]},
        {"id": "bad", "text": PAGE_1, "pages": [[1, 0], [2, 999]], "meta": {"k": 1}},
        {"id": "plain", "text": PAGE_1},
        "Solar power grew.",
    ]
    got = list(extractor.extract_many(docs, n_process=n_process, batch_size=1))
    assert [r.doc_id for r in got] == ["good", "bad", "plain", None]
    good, bad, plain, text = got
    assert {q.page for a in good.areas for q in a.quotes} == {2}
    assert bad.error is not None and bad.error.type == "ValueError"
    assert bad.error.message == f"pages[1]: start 999 lies outside the text (0 to {len(PAGE_1)})"
    assert bad.metadata == {"k": 1} and not bad.areas
    assert plain.ok and text.ok
    assert {q.page for r in (plain, text) for a in r.areas for q in a.quotes} == {None}
    with pytest.raises(ValueError, match="start 999"):
        list(extractor.extract_many(docs, n_process=n_process, on_error="raise"))


def test_a_subclass_extract_without_pages_still_works() -> None:
    class Older(Extractor):
        def extract(self, text: str, *, doc_id: Any = None, metadata: Any = None) -> DocumentResult:
            return super().extract(text.upper(), doc_id=doc_id, metadata=metadata)

    class Newer(Extractor):
        def extract(self, text: str, **options: Any) -> DocumentResult:
            return super().extract(text, **options)

    (older,) = Older().extract_many([{"text": "We cut tariffs."}])
    assert older.ok and older.areas[0].quotes[0].text == "WE CUT TARIFFS."
    (newer,) = Newer().extract_many([{"text": "We cut tariffs.", "pages": [(9, 0)]}])
    assert newer.areas[0].quotes[0].page == 9


def test_the_schema_documents_the_page() -> None:
    schema = DocumentResult.model_json_schema()
    page = schema["$defs"]["Quote"]["properties"]["page"]
    assert page["default"] is None
    assert "1-based page of the PDF" in page["description"]
    page = schema["$defs"]["SentenceTags"]["properties"]["page"]
    assert page["default"] is None and "1-based page of the PDF" in page["description"]


def test_a_subclass_extract_without_pages_still_reads_pdfs(pdf: Path) -> None:
    # An override written before pages existed must not fail every PDF's document.
    class Older(Extractor):
        def extract(self, text: str, *, doc_id: Any = None, metadata: Any = None) -> DocumentResult:
            return super().extract(text, doc_id=doc_id, metadata=metadata, pages=None)

    (result,) = Older(max_quotes=None).extract_many(read_documents(pdf))
    assert result.ok, result.error
    (plain,) = Extractor(max_quotes=None).extract_many(read_documents(pdf))
    assert quotes(result) == [(topic, None, text) for topic, _, text in quotes(plain)]
    (paged,) = Older().extract_many([{"text": "We cut tariffs.", "pages": [(9, 0)]}])
    assert paged.ok and paged.areas[0].quotes[0].page is None


@pytest.mark.parametrize("missing", [None, float("nan")])
def test_a_missing_pages_value_means_no_pages(extractor: Extractor, missing: Any) -> None:
    # A table's empty cell, as records of a DataFrame with a pages column hold it.
    (result,) = extractor.extract_many([{"id": "a", "text": "We cut tariffs.", "pages": missing}])
    assert result.ok, result.error
    assert result.areas[0].quotes[0].page is None
    assert extractor.extract("We cut tariffs.", pages=missing).areas[0].quotes[0].page is None
