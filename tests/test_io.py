"""Readers, writers and DataFrames of policy_topics.io."""

from __future__ import annotations

import codecs
import csv
import glob
import html
import io
import json
import multiprocessing
import os
import re
import stat
import sys
import threading
from pathlib import Path
from typing import Any, cast

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bench import synth
from policy_topics import DocumentResult, Extractor, readers
from policy_topics.io import (
    CSV_COLUMNS,
    DATAFRAME_COLUMNS,
    CsvWriter,
    JsonlWriter,
    JsonWriter,
    ReadError,
    decode_text,
    open_output,
    quote_rows,
    read_documents,
    record_json,
    to_dataframe,
    write_results,
)
from policy_topics.readers import _visible_text as visible_text
from policy_topics.readers import join_hyphenated

TEXT = "Both sides will cut tariffs on steel. They will expand solar power and grid links."


@pytest.fixture(scope="module")
def extractor() -> Extractor:
    return Extractor()


def by_id(docs: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {d["id"]: d for d in docs}


# --- decoding ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "data",
    [
        TEXT.encode("utf-8"),
        codecs.BOM_UTF8 + TEXT.encode("utf-8"),
        TEXT.encode("utf-16"),  # with a BOM, native byte order
        codecs.BOM_UTF16_LE + TEXT.encode("utf-16-le"),
        codecs.BOM_UTF16_BE + TEXT.encode("utf-16-be"),
        codecs.BOM_UTF32_LE + TEXT.encode("utf-32-le"),
    ],
    ids=["utf8", "utf8-bom", "utf16", "utf16-le", "utf16-be", "utf32-le"],
)
def test_decode_detects_bom_and_drops_it(data: bytes) -> None:
    assert decode_text(data) == TEXT


def test_decode_names_source_and_byte_offset_of_invalid_utf8() -> None:
    data = "Zölle".encode() + b" \xff rest"
    with pytest.raises(ReadError) as info:
        decode_text(data, source="docs/bad.txt")
    message = str(info.value)
    offset = data.index(b"\xff")
    assert "docs/bad.txt" in message
    assert f"byte offset {offset}" in message
    assert "0xff" in message
    assert info.value.kind == "UnicodeDecodeError"


def test_decode_reports_offset_of_broken_utf16_including_bom() -> None:
    data = codecs.BOM_UTF16_LE + "ab".encode("utf-16-le") + b"\x00\xd8"  # lone high surrogate
    with pytest.raises(ReadError, match=r"x\.txt: not valid UTF-16 .* at byte offset 6"):
        decode_text(data, source="x.txt")


def test_latin1_without_bom_is_an_error_not_a_guess() -> None:
    with pytest.raises(ReadError, match="not valid UTF-8"):
        decode_text("Café".encode("latin-1"))


@pytest.mark.parametrize(
    ("head", "body", "encoding"),
    [
        ('<meta charset="windows-1252">', "Café tariffs “rose” by 5 €.", "cp1252"),
        # Browsers read Latin-1 as windows-1252, which has the quotes and the euro.
        (
            '<META HTTP-EQUIV="Content-Type" CONTENT="text/html; charset=ISO-8859-1">',
            "“€”",
            "cp1252",
        ),
        ("<meta charset=gbk>", "关税与贸易", "gbk"),
        ('<meta charset="iso-8859-9">', "Gümrük “vergisi”", "cp1254"),  # as windows-1254
        # Labels of the WHATWG Encoding Standard that Python's codecs do not know.
        ('<meta charset="iso88592">', "Cło", "iso8859-2"),
        ('<meta charset="x-sjis">', "関税", "cp932"),
        ('<meta charset="ks_c_5601-1987">', "관세", "cp949"),
        # The HTML prescan reads x-user-defined as windows-1252 (it was refused).
        ('<meta charset="x-user-defined">', "Café “tariffs”", "cp1252"),
        # Bytes Python's cp1252 leaves undefined are C1 controls, as browsers read them.
        ("<meta charset=windows-1252>", "Café \x81\x8d", "latin-1"),
        # A declaration after the first 1,024 bytes counts too: browsers that meet
        # it read the page again in that encoding.
        ("<!--" + "x" * 1000 + '--><meta charset="windows-1252">', "Café", "cp1252"),
        ("<script>" + "x" * 1200 + '</script><meta charset="windows-1252">', "Café", "cp1252"),
        # A declaration in a comment does not count; the one after it does.
        ('<!-- <meta charset="koi8-r"> --><meta charset=windows-1252>', "Café", "cp1252"),
        # Nor does 'charset=' in another meta's content.
        (
            '<meta name="description" content="charset=koi8-r"><meta charset="windows-1252">',
            "Café",
            "cp1252",
        ),
    ],
)
def test_html_that_is_not_utf8_is_read_in_the_charset_it_declares(
    tmp_path: Path, head: str, body: str, encoding: str
) -> None:
    path = tmp_path / "page.html"
    path.write_bytes(f"<html><head>{head}</head><body><p>{body}</p></body></html>".encode(encoding))
    assert [d["text"] for d in read_documents(path)] == [body]


@pytest.mark.parametrize(
    ("head", "message"),
    [
        ("", "not valid UTF-8: byte 0xe9 at byte offset"),
        ('<meta charset="utf-8">', "not valid UTF-8: byte 0xe9 at byte offset"),
        ('<meta charset="klingon">', "declares charset 'klingon', which is no encoding of web"),
        # Python codecs that no browser knows, which would rewrite the text.
        ('<meta charset="unicode_escape">', "declares charset 'unicode_escape', which is no enc"),
        ('<meta charset="rot13">', "declares charset 'rot13', which is no encoding of web"),
        # Declared in a page, UTF-16 means UTF-8 (browsers); so does a byte order mark.
        ('<meta charset="utf-16">', "not valid UTF-8: byte 0xe9 at byte offset"),
        ('<meta charset="gbk">', "nor gbk as it declares: byte 0xe9"),
        # Past the first 1,024 bytes, a <meta> spelled inside a script is none.
        (
            "<script>" + "x" * 1100 + "var m = '<meta charset=\"windows-1252\">';</script>",
            "not valid UTF-8: byte",
        ),
    ],
)
def test_html_whose_declared_charset_does_not_read_it_is_an_error(
    tmp_path: Path, head: str, message: str
) -> None:
    path = tmp_path / "page.html"
    path.write_bytes(f"<html><head>{head}</head><p>Caf".encode() + b"\xe9 \x81</p>")
    (doc,) = read_documents(path)
    assert doc["error_type"] == "UnicodeDecodeError" and message in doc["error"]


def test_html_bytes_undefined_above_the_c1_range_stay_errors(tmp_path: Path) -> None:
    # windows-1253 leaves 0xD2 undefined, as browsers do: no letter is made up for it.
    path = tmp_path / "page.html"
    path.write_bytes(b'<meta charset="windows-1253"><p>\xe1\x81 \xd2</p>')
    (doc,) = read_documents(path)
    assert "nor windows-1253 as it declares: byte 0xd2" in doc["error"]


def test_html_with_a_byte_order_mark_is_read_in_it_whatever_it_declares(tmp_path: Path) -> None:
    path = tmp_path / "page.html"
    path.write_bytes(codecs.BOM_UTF8 + b'<meta charset="windows-1252"><p>Caf\xe9</p>')
    (doc,) = read_documents(path)
    assert doc["error_type"] == "UnicodeDecodeError" and "not valid UTF-8 (" in doc["error"]


@pytest.mark.parametrize(
    "data",
    ["Tariffs".encode("utf-16-le"), "Tariffs".encode("utf-32-be"), b"PK\x03\x04\x00\x00"],
    ids=["utf16-no-bom", "utf32-no-bom", "binary"],
)
def test_nul_bytes_without_bom_are_not_text(data: bytes) -> None:
    """Valid UTF-8 all the same: read as text, they gave results for garbage."""
    with pytest.raises(ReadError, match=r"x\.txt: holds NUL bytes \(first at byte offset \d+\)"):
        decode_text(data, source="x.txt")


# --- reading files and folders -------------------------------------------------------------


def test_a_folder_without_readable_files_is_an_error_like_an_empty_glob(tmp_path: Path) -> None:
    (tmp_path / "notes.csv").write_text("not read", encoding="utf-8")
    (docs,) = list(read_documents(tmp_path))
    assert docs["error_type"] == "NoMatch"
    assert docs["error"].startswith(f"{tmp_path}: no readable file in the folder (.docx, ")
    (glob_doc,) = list(read_documents(str(tmp_path / "*.txt")))
    assert glob_doc["error_type"] == "NoMatch"


@pytest.mark.parametrize("pattern", ["{folder}", "{folder}/*.txt"])
def test_a_broken_symlink_is_an_error_record_not_skipped(tmp_path: Path, pattern: str) -> None:
    (tmp_path / "a.txt").write_text("We cut tariffs.", encoding="utf-8")
    (tmp_path / "b.txt").symlink_to(tmp_path / "gone.txt")
    docs = list(read_documents(pattern.format(folder=tmp_path)))
    assert [d["id"] for d in docs] == [str(tmp_path / "a.txt"), str(tmp_path / "b.txt")]
    assert docs[0]["text"] == "We cut tariffs."
    assert docs[1]["error_type"] == "FileNotFoundError"
    assert docs[1]["error"] == (
        f"{tmp_path / 'b.txt'}: broken symbolic link (to {tmp_path / 'gone.txt'}, "
        "which does not exist)"
    )


@pytest.mark.parametrize("pattern", ["{folder}", "{folder}/*.txt", "{folder}/loop1.txt"])
def test_a_symlink_loop_is_an_error_record_and_the_run_goes_on(
    tmp_path: Path, pattern: str
) -> None:
    # Path.resolve raised RuntimeError on the loop (Python < 3.13) whenever an
    # output was to be left out, and the run stopped there; a loop named as an
    # input was "no such file".
    (tmp_path / "a.txt").write_text("We cut tariffs.", encoding="utf-8")
    (tmp_path / "loop1.txt").symlink_to("loop2.txt")
    (tmp_path / "loop2.txt").symlink_to("loop1.txt")
    (tmp_path / "z.txt").write_text("Trade grows.", encoding="utf-8")
    out = tmp_path / "out.jsonl"
    out.write_text("", encoding="utf-8")
    docs = list(read_documents(pattern.format(folder=tmp_path), exclude=[out]))
    loops = [d for d in docs if "error" in d]
    assert len(docs) - len(loops) == (0 if pattern.endswith("loop1.txt") else 2)
    assert loops and all(d["error_type"] == "SymlinkLoop" for d in loops)
    assert loops[0]["error"] == (
        f"{tmp_path / 'loop1.txt'}: symbolic link loop (to loop2.txt, which leads back to it)"
    )


def test_a_double_star_does_not_follow_links_to_folders_as_a_folder_walk_does_not(
    tmp_path: Path,
) -> None:
    # glob.glob follows them: a link to the folder above gave the file once per
    # trip round the loop (41 times), and a linked folder's files twice.
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "a.txt").write_text("We cut tariffs.", encoding="utf-8")
    (tmp_path / "sub" / "loop").symlink_to("..")
    (tmp_path / "alias").symlink_to("sub")
    walked = [d["id"] for d in read_documents(tmp_path)]
    assert walked == [str(tmp_path / "sub" / "a.txt")]
    assert [d["id"] for d in read_documents(str(tmp_path / "**" / "*.txt"))] == walked
    # The folders a pattern names before its first wildcard are the caller's.
    assert [d["id"] for d in read_documents(str(tmp_path / "alias" / "**" / "*.txt"))] == [
        str(tmp_path / "alias" / "a.txt")
    ]
    assert [d["id"] for d in read_documents(str(tmp_path / "*" / "a.txt"))] == [
        str(tmp_path / "alias" / "a.txt"),
        str(tmp_path / "sub" / "a.txt"),
    ]


@pytest.mark.parametrize(
    "pattern",
    [
        "**",
        "**/",
        "**/*.txt",
        "a/**",
        "a/**/",
        "*/**/",
        "a/**/*.txt",
        "*/**/*.md",
        "a/**/c/*",
        "**/.h/*",
        "a/**/**/*.txt",
    ],
)
def test_a_double_star_finds_what_glob_finds_where_no_link_leads_to_a_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, pattern: str
) -> None:
    monkeypatch.chdir(tmp_path)
    for name in ("a/x.txt", "a/b/y.md", "a/b/c/z.txt", "a/.h/w.txt", "d/c/v.txt", "t.txt"):
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text("We cut tariffs.", encoding="utf-8")
    (tmp_path / "link.txt").symlink_to("t.txt")  # a link to a file is followed, as before
    for written in (pattern, f"./{pattern}", str(tmp_path / pattern)):
        assert readers._glob(written) == set(glob.glob(written, recursive=True))


def test_an_input_that_cannot_be_looked_at_is_an_error_record(tmp_path: Path) -> None:
    # Path.is_file raised for a name too long (or a folder on the way that may
    # not be entered), which ended the run and was blamed on the output (exit 74).
    (tmp_path / "ok.txt").write_text("We cut tariffs.", encoding="utf-8")
    (tmp_path / "last.txt").write_text("Trade grows.", encoding="utf-8")
    long = str(tmp_path / ("a" * 300 + ".txt"))
    docs = list(read_documents([tmp_path / "ok.txt", long, tmp_path / "last.txt"]))
    assert [d["id"] for d in docs] == [str(tmp_path / "ok.txt"), long, str(tmp_path / "last.txt")]
    assert "text" in docs[0] and "text" in docs[2]
    assert docs[1]["error"] == f"{long}: cannot read: File name too long"


@pytest.mark.parametrize("where", ["sub", "."])
def test_a_folder_that_cannot_be_listed_is_an_error_record(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, where: str
) -> None:
    # The recursive walk passed over such a folder without a word, and its
    # files went missing unreported.
    (tmp_path / "a.txt").write_text("We cut tariffs.", encoding="utf-8")
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "b.txt").write_text("Trade grows.", encoding="utf-8")
    (tmp_path / "z.txt").write_text("Energy grids.", encoding="utf-8")
    shut = (tmp_path / where).resolve()
    scandir = os.scandir

    def refusing(path: Any = ".") -> Any:
        if Path(path).resolve() == shut:
            raise PermissionError(13, "Permission denied", str(path))
        return scandir(path)

    monkeypatch.setattr(os, "scandir", refusing)
    docs = list(read_documents(tmp_path))
    if where == "sub":
        assert [d["id"] for d in docs] == [
            str(tmp_path / "a.txt"),
            str(tmp_path / "sub"),
            str(tmp_path / "z.txt"),
        ]
        assert docs[1]["error"] == f"{tmp_path / 'sub'}: cannot read: Permission denied"
    else:
        assert [(d["id"], d["error_type"]) for d in docs] == [(str(tmp_path), "PermissionError")]


def test_folder_is_read_in_sorted_order_with_supported_files_only(tmp_path: Path) -> None:
    (tmp_path / "b.txt").write_text("Second tariff text.", encoding="utf-8")
    (tmp_path / "a.md").write_text("# Heading\nFirst text on trade.", encoding="utf-8")
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "c.txt").write_text("Nested.", encoding="utf-8")
    (tmp_path / "notes.csv").write_text("ignored", encoding="utf-8")
    (tmp_path / ".hidden.txt").write_text("ignored", encoding="utf-8")
    (tmp_path / ".git").mkdir()
    (tmp_path / ".git" / "x.txt").write_text("ignored", encoding="utf-8")
    docs = list(read_documents(tmp_path))
    assert [d["id"] for d in docs] == [
        str(tmp_path / "a.md"),
        str(tmp_path / "b.txt"),
        str(tmp_path / "sub" / "c.txt"),
    ]
    assert docs[0]["text"] == "# Heading\nFirst text on trade."
    assert docs[0]["meta"] == {}
    assert [d["id"] for d in read_documents(tmp_path, recursive=False)] == [
        str(tmp_path / "a.md"),
        str(tmp_path / "b.txt"),
    ]


def test_bad_files_become_error_documents_naming_the_file(tmp_path: Path) -> None:
    good = tmp_path / "good.txt"
    good.write_text(TEXT, encoding="utf-8")
    bad = tmp_path / "bad.txt"
    bad.write_bytes(b"abc\x80def")
    odd = tmp_path / "data.xyz"
    odd.write_text("x", encoding="utf-8")
    docs = list(read_documents([bad, good, odd, tmp_path / "missing.txt"]))
    assert [d["id"] for d in docs] == [str(bad), str(good), str(odd), str(tmp_path / "missing.txt")]
    assert docs[0]["error_type"] == "UnicodeDecodeError"
    assert str(bad) in docs[0]["error"] and "byte offset 3" in docs[0]["error"]
    assert docs[1]["text"] == TEXT
    assert docs[2]["error_type"] == "UnsupportedFormat" and ".xyz" in docs[2]["error"]
    assert docs[3]["error_type"] == "FileNotFoundError"


def test_excluded_files_are_skipped(tmp_path: Path) -> None:
    (tmp_path / "a.txt").write_text("a", encoding="utf-8")
    (tmp_path / "out.jsonl").write_text('{"text": "old output"}\n', encoding="utf-8")
    docs = list(read_documents(tmp_path, exclude=[tmp_path / "out.jsonl"]))
    assert [d["text"] for d in docs] == ["a"]


def test_glob_patterns_expand_sorted_and_report_no_match(tmp_path: Path) -> None:
    for name in ("b.txt", "a.txt", "c.md"):
        (tmp_path / name).write_text(name, encoding="utf-8")
    docs = list(read_documents(str(tmp_path / "*.txt")))
    assert [d["text"] for d in docs] == ["a.txt", "b.txt"]
    (missing,) = read_documents(str(tmp_path / "*.html"))
    assert missing["error_type"] == "NoMatch"


def test_empty_file_is_a_valid_empty_document(tmp_path: Path) -> None:
    (tmp_path / "empty.txt").write_bytes(b"")
    (doc,) = read_documents(tmp_path)
    assert doc["text"] == ""


def test_stdin_is_read_as_one_document(monkeypatch: pytest.MonkeyPatch) -> None:
    fake = io.TextIOWrapper(io.BytesIO(codecs.BOM_UTF8 + TEXT.encode()), encoding="utf-8")
    monkeypatch.setattr(sys, "stdin", fake)
    assert list(read_documents("-")) == [{"id": "<stdin>", "text": TEXT, "meta": {}}]


def test_stdin_as_jsonl(monkeypatch: pytest.MonkeyPatch) -> None:
    lines = b'{"id": 1, "text": "a"}\n{"id": 2, "text": "b"}\n'
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(lines), encoding="utf-8"))
    assert [d["id"] for d in read_documents("-", stdin_format="jsonl")] == ["1", "2"]
    with pytest.raises(ValueError, match="stdin_format"):
        list(read_documents("-", stdin_format="pdf"))


# --- HTML -------------------------------------------------------------------------------

HTML = """<!DOCTYPE html>
<html><head><title>Joint  statement</title>
<style>p { color: red; } .tariff { x: 1 }</style>
<script>var tariffs = "<p>not text</p>"; alert('x');</script></head>
<body>
<nav>Home</nav>
<h1>Trade &amp; energy</h1>
<p>Both sides will   cut
tariffs&nbsp;on steel.</p>
<noscript>Enable JavaScript</noscript>
<ul><li>Solar power</li><li>Grid links</li></ul>
<table><tr><td>Row</td><td>cell</td></tr></table>
<svg><text>chart label</text></svg>
<pre>  kept   as is</pre>
</body></html>"""


def test_html_controls_next_to_each_other_or_to_text_are_words_apart(tmp_path: Path) -> None:
    # '<button>Share</button><button>Print</button>' read as 'SharePrint'.
    page = (
        "<p>Tariffs fell.</p><button>Share</button><button>Print</button>"
        "<select><option>One</option><option>Two</option></select>"
        "<p>We <button>cut</button> tariffs.</p><p>A<button>B</button>C</p>"
        "<p>Solar<span>power</span></p>"
    )
    path = tmp_path / "controls.html"
    path.write_text(page, encoding="utf-8")
    (doc,) = read_documents(path)
    # No space is doubled, and inline elements other than controls still join.
    assert doc["text"] == (
        "Tariffs fell.\n\nShare Print One Two\n\nWe cut tariffs.\n\nA B C\n\nSolarpower"
    )


@pytest.mark.parametrize(
    ("title", "kept"),
    [
        ("Tariff war escalates", False),
        ("Tariff war escalates | World News", False),
        ("World News - Tariff war escalates", False),
        ("Tariff war escalates - Trade - World News", False),
        ("Tariff war escalates | Ministry of Foreign Affairs of Ruritania", False),
        # Words the page does not show are kept.
        ("Tariffs", True),
        ("Tariff war", True),
        ("Tariff war escalates: what it means", True),
        ("Ministers meet on energy", True),
    ],
)
def test_html_title_comes_first_unless_the_page_shows_it(
    tmp_path: Path, title: str, kept: bool
) -> None:
    path = tmp_path / "page.html"
    path.write_text(
        f"<title>{title}</title><h1>Tariff war escalates</h1><p>Tariffs rose.</p>", "utf-8"
    )
    (doc,) = read_documents(path)
    body = "Tariff war escalates\n\nTariffs rose."
    assert doc["text"] == (f"{title}\n\n{body}" if kept else body)


@pytest.mark.parametrize(
    ("page", "text"),
    [
        # Only the first title counts, as in browsers.
        ("<title>One</title><title>Two</title><p>Body.</p>", "One\n\nBody."),
        # A title left open ends at the next tag: hidden text stays hidden.
        (
            "<title>Trade news</head><body><script>var x = 'script';</script>"
            "<p hidden>Hidden</p><ul><li>Tariffs rose<li>Oil fell</ul>",
            "Trade news\n\nTariffs rose\n\nOil fell",
        ),
        ("<svg><title>chart</title></svg><p>Body.</p>", "Body."),
        ("<title>Only a title</title>", "Only a title"),
        # A later title left open hides nothing after its next tag.
        (
            "<title>Page</title><p>a</p><title>Second<p>Tariffs rose.</p>",
            "Page\n\na\n\nTariffs rose.",
        ),
        # Inline markup in a title stays in it.
        ("<title>Trade <b>policy</b> update</title><p>x</p>", "Trade policy update\n\nx"),
        ("<title>Trade <font>policy</font><br>update</title><p>x</p>", "Trade policyupdate\n\nx"),
        # A block showing only the site's name does not show the headline.
        (
            "<title>Steel tariffs rise | Ministry of Trade</title>"
            "<header>Ministry of Trade</header>",
            "Steel tariffs rise | Ministry of Trade\n\nMinistry of Trade",
        ),
    ],
)
def test_html_title_edge_cases(page: str, text: str) -> None:
    assert visible_text(page) == text


NEWS_PAGE = """<html><head><title>Tariff talks | Daily Post</title></head><body>
<header><a href="/">Daily Post</a><nav><a>Trade</a> <a>Energy</a> <a>Markets</a></nav>
<h1>Tariff talks</h1></header>
<div id="cookie-banner">We use cookies to manage your energy-saving preferences.</div>
<div class="consent modal" role="dialog">Accept trade partners' cookies</div>
<dialog>Subscribe for energy news</dialog>
<dialog open>Shown: grid news.</dialog>
<main><article><p>Both sides will cut tariffs on steel.</p>
<aside>Most read: Oil prices fall</aside>
<footer>Topics: Trade, Energy</footer></article></main>
<div role="navigation">Finance | Tech</div>
<div class="recipe-cookies">Not a banner: solar power grows.</div>
<div class="onetrust-consent-sdk">Allow trade partners to set cookies</div>
<div id="CybotCookiebotDialog">Energy-saving cookie settings</div>
<section id="consent-agenda"><h2 id="cookies">Consent agenda</h2><p>Grid upgrade approved.</p>
</section>
<footer>Trade marks. Privacy settings.</footer>
</body></html>"""


def test_html_leaves_out_page_furniture() -> None:
    # Menus, sidebars, footers and cookie banners gave a football report three
    # areas ("Home Trade Energy Markets", "manage your energy-saving preferences").
    assert visible_text(NEWS_PAGE).split("\n\n") == [
        "Daily Post",
        "Tariff talks",
        "Shown: grid news.",
        "Both sides will cut tariffs on steel.",
        "Not a banner: solar power grows.",
        "Consent agenda",
        "Grid upgrade approved.",
    ]
    # Never the page itself, whatever its class says.
    page = '<body class="cookie-consent-shown"><main class="consent"><p>Tariffs rose.</p></main>'
    assert visible_text(page) == "Tariffs rose."


@pytest.mark.parametrize(
    ("page", "text"),
    [
        # Furniture left open ends with the block around it, as in a browser: the
        # rest of the page, the article itself, was lost.
        ("<div><nav>Home | Trade</div><p>Tariffs rose.</p>", "Tariffs rose."),
        ("<section><aside>Related</section><p>Tariffs rose.</p>", "Tariffs rose."),
        (
            "<article><p>Tariffs rose.<footer>Share</article><p>Exports fell.",
            "Tariffs rose.\n\nExports fell.",
        ),
        ("<ul><li><nav>Menu</ul><p>Tariffs rose.</p>", "Tariffs rose."),
        ("<div><span hidden>gone</div>Tariffs rose.", "Tariffs rose."),
        # Blocks of that tag opened inside it still end first.
        ("<div><nav><div>Menu</div>still menu</nav>Tariffs rose.</div>", "Tariffs rose."),
        # An ARIA role is a list: the first token is the role ("navigation menu").
        ('<div role="navigation menu">Home | Trade</div><p>Tariffs rose.</p>', "Tariffs rose."),
        ('<div role="menu navigation">Home</div><p>Tariffs rose.</p>', "Home\n\nTariffs rose."),
        # Tokens that are no role are passed over, as browsers pass them over.
        ('<div role="nav navigation">Home</div><p>Tariffs rose.</p>', "Tariffs rose."),
        ('<div role="Site-Nav NAVIGATION">Home</div><p>Tariffs rose.</p>', "Tariffs rose."),
        ('<div role="nav doc-toc navigation">Contents</div><p>Tariffs rose.</p>', None),
        # A made-up token of a module's shape is no role either.
        ('<div role="doc-menu navigation">Home</div><p>Tariffs rose.</p>', "Tariffs rose."),
    ],
)
def test_html_furniture_left_open_or_with_several_roles(page: str, text: str | None) -> None:
    # None: the page's text as it stands (the first known role is no furniture).
    assert visible_text(page) == (text or "Contents\n\nTariffs rose.")


def test_html_line_breaks_are_read_as_browsers_read_them(tmp_path: Path) -> None:
    # CR LF and lone CR are LF to a browser; in a <pre> the CRs stayed in the text
    # and in its quotes.
    path = tmp_path / "page.html"
    path.write_bytes(b"<p>Tariffs\r\nrose.</p><pre>We cut\r\ntariffs.\rExports&#13;fell.</pre>")
    (doc,) = read_documents(path)
    assert doc["text"] == "Tariffs rose.\n\nWe cut\ntariffs.\nExports\rfell."


def test_html_inline_quotations_get_the_marks_browsers_show() -> None:
    # '<q>' lost its quotation marks, so "He said we will cut tariffs today."
    # read as the reporter's words rather than the speaker's.
    page = (
        "<p>He said <q>we will <q>cut</q> tariffs</q> today.</p>"
        "<p hidden><q>hidden</q></p><p>After <q>one</q>.</p>"
    )
    assert (
        visible_text(page)
        == "He said \u201cwe will \u2018cut\u2019 tariffs\u201d today.\n\nAfter \u201cone\u201d."
    )
    # One left open ends with its block, as a browser ends it, with its mark.
    unclosed = "<p>He said <q>cut tariffs</p><p>Then <q>one</q>.</p>"
    assert visible_text(unclosed) == "He said \u201ccut tariffs\u201d\n\nThen \u201cone\u201d."


def test_html_gives_visible_text_without_scripts_styles_or_markup(tmp_path: Path) -> None:
    (tmp_path / "page.html").write_text(HTML, encoding="utf-8")
    (doc,) = read_documents(tmp_path / "page.html")
    blocks = doc["text"].split("\n\n")
    assert blocks == [
        "Joint statement",
        "Trade & energy",
        "Both sides will cut tariffs\u00a0on steel.",
        "Solar power",
        "Grid links",
        "Row\tcell",
        "kept   as is",
    ]


def test_html_blocks_are_sentences_of_their_own_and_hidden_elements_are_left_out(
    extractor: Extractor,
) -> None:
    page = (
        "<h2>Energy cooperation</h2><p>The parties discussed football.</p>"
        "<ul><li>Tariff reductions</li><li>Data protection rules</li></ul>"
        "<div hidden>Hidden solar power plant.</div>"
        '<p style="color: red; display: none">Oil pipelines.</p>'
        '<span style="visibility:hidden">Gas.</span>'
        "<p>First line<br>second line</p>"
        "<div hidden><div>nested</div>still hidden</div><p>Shown again.</p><input hidden>"
        "<p>Last.</p>"
    )
    text = visible_text(page)
    assert text.split("\n\n") == [
        "Energy cooperation",
        "The parties discussed football.",
        "Tariff reductions",
        "Data protection rules",
        "First line\nsecond line",
        "Shown again.",
        "Last.",
    ]
    quotes = [q.text for area in extractor.extract(text).areas for q in area.quotes]
    assert sorted(quotes) == ["Data protection rules", "Energy cooperation", "Tariff reductions"]


@pytest.mark.parametrize(
    ("page", "text"),
    [
        # An element whose end tag may be left out ends where a browser ends it,
        # so a hidden one does not hide the rest of the page.
        ("<p hidden>Note<p>Para one.<p>Para two.", "Para one.\n\nPara two."),
        ("<ul><li hidden>gone<li>Shown item</ul><p>After.", "Shown item\n\nAfter."),
        ("<ul><li hidden>gone</ul><p>After.", "After."),
        ("<table><tr hidden><td>a<td>b<tr><td>c</table>", "c"),
        ("<p hidden>Note <b>bold</b> still</p><p>Shown.", "Shown."),
        # Other elements end at their own end tag, nested ones counted.
        ("<div hidden><div>in</div>still in</div>out", "out"),
    ],
)
def test_hidden_elements_left_open_end_where_a_browser_ends_them(page: str, text: str) -> None:
    assert visible_text(page) == text


@pytest.mark.parametrize(
    ("page", "text"),
    [
        ("<table><tr><td>Tariffs</td><td>fell</td></tr></table>", "Tariffs\tfell"),
        # A cell ends where the next starts when its end tag is left out.
        ("<table><tr><td>Tariffs<td>fell</table>", "Tariffs\tfell"),
        (
            "<table><tr><th>Solar<th>panels<tr><td>trade<td>policy</table>",
            "Solar\tpanels\n\ntrade\tpolicy",
        ),
        ("<table>\n <tr>\n  <td>Row</td>\n  <td>cell</td>\n </tr>\n</table>", "Row\t cell"),
        ("<table><tr><td> <td> <td>x<td> </table>", "x"),
    ],
)
def test_html_table_cells_stay_apart(page: str, text: str) -> None:
    assert visible_text(page) == text


@pytest.mark.parametrize(
    ("page", "text"),
    [
        # Python's parser stops at '<![' with no keyword it knows: kept as text.
        ("<p>Tariffs fell.</p><![ x", "Tariffs fell.\n\n<![ x"),
        ("<p>a <![ b</p><p>c</p>", "a <![ b\n\nc"),
        ("<p>a</p><![foo[ b ]]><p>c</p>", "a\n\n<![foo[ b ]]>\n\nc"),
        # A known keyword that goes on as a longer name is no known keyword.
        ("<p>a</p><![if-IE]><p>c</p>", "a\n\n<![if-IE]>\n\nc"),
        ("<p>a</p><![endif.]><p>c</p>", "a\n\n<![endif.]>\n\nc"),
        ("<p>a</p><![ENDIF--><p>c</p>", "a\n\n<![ENDIF-->\n\nc"),
        # Sections it knows are left to it: CDATA hidden, conditional comments.
        ("<p>x</p><![CDATA[ hidden ]]><p>y</p>", "x\n\ny"),
        ("<![if !IE]><p>shown</p><![endif]>", "shown"),
    ],
)
def test_html_marked_sections_never_lose_the_page(tmp_path: Path, page: str, text: str) -> None:
    (tmp_path / "page.html").write_text(page, encoding="utf-8")
    (doc,) = read_documents(tmp_path / "page.html")
    assert doc["text"] == text


def test_html_tags_in_text_stay_text_and_tagging_works(
    tmp_path: Path, extractor: Extractor
) -> None:
    page = "<p>We will cut tariffs on &lt;script&gt;alert(1)&lt;/script&gt; steel.</p>"
    (tmp_path / "x.htm").write_text(page, encoding="utf-8")
    (doc,) = read_documents(tmp_path / "x.htm")
    assert doc["text"] == "We will cut tariffs on <script>alert(1)</script> steel."
    result = extractor.extract(doc["text"])
    assert result.areas[0].topic == "trade"


# --- JSON Lines -------------------------------------------------------------------------


def test_jsonl_fields_are_configurable_and_bad_lines_are_error_records(tmp_path: Path) -> None:
    path = tmp_path / "docs.jsonl"
    lines = [
        json.dumps({"key": "a", "body": "We cut tariffs.", "meta": {"year": 2020}}),
        "",
        '{"key": "b", "body": broken}',
        json.dumps(["not", "an", "object"]),
        json.dumps({"key": "d", "text": "wrong field"}),
        json.dumps({"body": "No id here."}),
        json.dumps({"key": "g", "body": "Meta is no object.", "meta": "x"}),
        json.dumps({"key": {"x": 1}, "body": "The id is an object."}),
        json.dumps({"key": 7, "body": "A number is a fine id."}),
        json.dumps({"key": "n", "body": None}),
    ]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    docs = list(read_documents(path, text_field="body", id_field="key"))
    assert [d["id"] for d in docs] == [
        "a",
        f"{path}:3",
        f"{path}:4",
        "d",
        f"{path}:6",
        "g",
        f"{path}:8",
        "7",
        "n",
    ]
    assert docs[5]["error"] == f"{path}:7: field 'meta' is str, not an object"
    assert docs[6]["error"] == f"{path}:8: field 'key' is {{\"x\": 1}}, not a string or a number"
    assert docs[7]["text"] == "A number is a fine id."
    assert docs[0] == {"id": "a", "text": "We cut tariffs.", "meta": {"year": 2020}}
    offset = len((lines[0] + "\n\n").encode()) + lines[2].index("broken")
    assert docs[1]["error_type"] == "JSONDecodeError"
    assert f"{path}:3: invalid JSON at byte offset {offset}" in docs[1]["error"]
    assert "expected a JSON object" in docs[2]["error"]
    assert "no field 'body'" in docs[3]["error"] and "text" in docs[3]["error"]
    assert docs[3]["error_type"] == "KeyError"
    assert docs[8]["error"] == f"{path}:10: field 'body' is NoneType, not a string"
    assert docs[8]["error_type"] == "TypeError"
    assert docs[4]["text"] == "No id here."


def test_jsonl_that_is_a_json_array_or_has_cr_line_ends_says_so(tmp_path: Path) -> None:
    # The errors named the line and the byte, but not what was wrong with the file.
    records = [{"id": "a", "text": "We cut tariffs."}, {"id": "b", "text": "Solar grew."}]
    pretty = tmp_path / "pretty.jsonl"
    pretty.write_text(json.dumps(records, indent=2), encoding="utf-8")
    one_line = tmp_path / "one-line.jsonl"
    one_line.write_text(json.dumps(records), encoding="utf-8")
    old_mac = tmp_path / "old-mac.jsonl"
    old_mac.write_bytes(b"".join(json.dumps(r).encode() + b"\r" for r in records))
    fix = "JSON Lines holds one JSON object per line: write them so (jq -c '.[]'"
    first = next(read_documents([pretty]))
    assert first["error"].startswith(f"{pretty}:1: invalid JSON at byte offset ")
    assert fix in first["error"]
    (only,) = read_documents([one_line])
    assert only["error"].startswith(f"{one_line}:1: expected a JSON object, got list; ")
    assert fix in only["error"]
    (whole,) = read_documents([old_mac])
    assert "Extra data; its lines end in a carriage return alone" in whole["error"]
    assert "make its line ends LF or CR LF" in whole["error"]
    # An ordinary broken line gets no hint.
    broken = tmp_path / "broken.jsonl"
    broken.write_text('{"id": "a", "text": }\n', encoding="utf-8")
    (bad,) = read_documents([broken])
    assert bad["error"].endswith("Expecting value")


def test_jsonl_ids_are_named_as_extract_many_names_them(tmp_path: Path) -> None:
    path = tmp_path / "docs.jsonl"
    ids = ["2.0", "2.5", "7", '"a"', "NaN", "null", "-0.0"]
    path.write_text("".join(f'{{"id": {i}, "text": "x"}}\n' for i in ids), encoding="utf-8")
    got = [d["id"] for d in read_documents(path)]
    where = f"{path}:"
    assert got == ["2", "2.5", "7", "a", f"{where}5", f"{where}6", "0"]


def test_jsonl_metadata_with_a_lone_surrogate_escape_is_read_as_the_output_shows_it(
    tmp_path: Path,
) -> None:
    # The text and the id keep \ud800 and are written with U+FFFD; in the metadata
    # it failed the document, with a message pointing to a Python function.
    path = tmp_path / "docs.jsonl"
    meta = '{"k": "x\\ud800", "\\udc00": ["\\ud83d\\ude00", {"n": "\\udfff"}], "y": 2020}'
    path.write_text(f'{{"id": "m", "text": "Trade \\ud800.", "meta": {meta}}}\n', encoding="utf-8")
    (doc,) = read_documents(path)
    assert doc["meta"] == {"k": "x\ufffd", "\ufffd": ["\U0001f600", {"n": "\ufffd"}], "y": 2020}
    assert doc["text"] == "Trade \ud800."  # the text as the file spells it: offsets hold
    (result,) = Extractor().extract_many([doc])
    assert result.ok and result.metadata == doc["meta"]
    # Nested deeper than the walk over it can go (two frames a level, where the JSON
    # decoder takes one), it is an error record, and the next line is read.
    deep = '{"a": ' * 700 + '"\\ud800"' + "}" * 700
    path.write_text(f'{{"id": "d", "text": "x", "meta": {deep}}}\n{{"id": "e", "text": "y"}}\n')
    docs = list(read_documents(path))
    assert [d["id"] for d in docs] == ["d", "e"]
    assert docs[0]["error"] == f"{path}:1: JSON nested too deeply to read"


def test_jsonl_number_too_long_to_read_is_that_lines_error(tmp_path: Path) -> None:
    # A plain ValueError (more than 4,300 digits) escaped the reader and
    # stopped the whole file, the good lines after it lost.
    path = tmp_path / "docs.jsonl"
    long = "1" + "0" * 5000
    path.write_text(
        f'{{"id": "a", "text": "x", "meta": {{"n": {long}}}}}\n{{"id": "b", "text": "y"}}\n'
    )
    bad, good = read_documents(path)
    assert bad["id"] == f"{path}:1" and bad["error_type"] == "JSONDecodeError"
    assert bad["error"].startswith(f"{path}:1: invalid JSON: a number too long to read (")
    assert good["text"] == "y"


def test_jsonl_invalid_utf8_line_names_byte_offset_and_others_survive(tmp_path: Path) -> None:
    path = tmp_path / "docs.jsonl"
    first = codecs.BOM_UTF8 + b'{"id": "a", "text": "ok"}\n'
    second = b'{"id": "b", "text": "caf\xe9"}\n'
    path.write_bytes(first + second + b'{"id": "c", "text": "fine"}\n')
    docs = list(read_documents(path))
    assert [d["id"] for d in docs] == ["a", f"{path}:2", "c"]
    offset = len(first) + second.index(b"\xe9")
    assert f"byte offset {offset}" in docs[1]["error"]


def test_jsonl_nested_too_deeply_is_an_error_record_and_others_survive(tmp_path: Path) -> None:
    path = tmp_path / "docs.jsonl"
    path.write_text("[" * 100_000 + '\n{"id": "b", "text": "fine"}\n', encoding="utf-8")
    docs = list(read_documents(path))
    assert [d["id"] for d in docs] == [f"{path}:1", "b"]
    assert docs[0]["error"].endswith("JSON nested too deeply to read")


def test_utf16_jsonl_is_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "docs.jsonl"
    path.write_text('{"text": "x"}\n', encoding="utf-16")
    (doc,) = read_documents(path)
    assert "JSON Lines must be UTF-8" in doc["error"] and "byte offset 0" in doc["error"]


def test_reader_output_feeds_extract_many(tmp_path: Path, extractor: Extractor) -> None:
    (tmp_path / "a.txt").write_text(TEXT, encoding="utf-8")
    (tmp_path / "b.txt").write_bytes(b"\xfe\xfe")
    ok, bad = extractor.extract_many(read_documents(tmp_path))
    assert ok.doc_id == str(tmp_path / "a.txt") and ok.ok
    assert {a.topic for a in ok.areas} == {"trade", "energy"}
    assert bad.doc_id == str(tmp_path / "b.txt")
    assert bad.error is not None and bad.error.type == "UnicodeDecodeError"
    assert "byte offset 0" in bad.error.message


# --- PDF and DOCX -----------------------------------------------------------------------


def make_pdf(lines: list[str]) -> bytes:
    """A minimal valid one-page PDF showing the lines."""
    return synth.pdf([lines])


def test_pdf_text_is_extracted(tmp_path: Path, extractor: Extractor) -> None:
    pytest.importorskip("pypdf")
    path = tmp_path / "paper.pdf"
    path.write_bytes(make_pdf(["Both sides will cut tariffs on steel.", "Solar power grows."]))
    (doc,) = read_documents(path)
    assert "error" not in doc, doc.get("error")
    assert "cut tariffs on steel." in doc["text"] and "Solar power grows." in doc["text"]
    assert {a.topic for a in extractor.extract(doc["text"]).areas} == {"trade", "energy"}


def test_pdf_words_hyphenated_at_a_line_end_are_joined(
    tmp_path: Path, extractor: Extractor
) -> None:
    pytest.importorskip("pypdf")
    path = tmp_path / "paper.pdf"
    lines = [
        "Both sides will expand manu-",
        "facturing and cross-",
        "border payments.",
        "Manufacturing",
    ]
    path.write_bytes(make_pdf(lines))
    (doc,) = read_documents(path)
    text = doc["text"]
    # Joined where the document writes the whole word; the line break moves after it.
    assert "expand manufacturing\nand cross-\nborder payments." in text
    assert text.count("\n") == len(lines) - 1
    result = extractor.extract(text)
    found = {(m.term, m.text) for area in result.areas for q in area.quotes for m in q.matches}
    # the compound broken after its own hyphen is left for the matcher, which reads it as one
    assert {
        ("manufactur*", "manufacturing"),
        ("cross-border payment", "cross-\nborder payments"),
    } <= found
    for area in result.areas:
        for quote in area.quotes:
            assert text[quote.start : quote.end] == quote.text
            for m in quote.matches:
                assert text[m.start : m.end] == m.text


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # the whole word written elsewhere: joined, the rest of the run kept with it
        ("of semi-\nconductors; and semiconductors", "of semiconductors;\nand semiconductors"),
        # the line ends after the joined word: no blank line is made
        ("semi-\nconductors\nsemiconductors", "semiconductors\nsemiconductors"),
        # a soft hyphen marks a break inside a word: always joined
        ("a soft\u00ad\nhyphen here", "a softhyphen\nhere"),
        # a word over three lines
        ("Der Zusammen\u00ad\narbeits\u00ad\nvertrag gilt.", "Der Zusammenarbeitsvertrag\ngilt."),
        # the word ends its line: the break goes, no blank line is made
        ("in manu-\nfacturing.\nManufacturing", "in manufacturing.\nManufacturing"),
        # the only evidence is a word the soft hyphen's join makes
        (
            "Trade in manu-\nfacturing grew. Manu\u00ad\nfacturing jobs rose.",
            "Trade in manufacturing\ngrew. Manufacturing\njobs rose.",
        ),
    ],
)
def test_join_hyphenated(text: str, expected: str) -> None:
    assert join_hyphenated(text) == expected
    assert join_hyphenated(expected) == expected


@pytest.mark.parametrize(
    "text",
    [
        "the manu-\nfacturing base",  # no evidence
        "cross-\nborder and cross-border, crossborder",  # evidence of the compound
        "COVID-\n19 and EU-\nChina, covid19 euchina",  # names and numbers
        "unrelated to UN-\nrelated agencies",  # an acronym
        "manu-\n\nfacturing manufacturing",  # a blank line: a new paragraph or page
        "no break-up here",
    ],
)
def test_join_hyphenated_leaves_other_breaks(text: str) -> None:
    assert join_hyphenated(text) == text


def test_join_hyphenated_on_long_words() -> None:
    # Each search starts at a word boundary; tried at every letter of a word, it was
    # quadratic (20,000 letters took 7 s): this input would take minutes.
    long = "a" * 100_000
    text = f"{long} manu-\n{long}-\nfacturing manufacturing {long}-x"
    assert join_hyphenated(text) == f"{long} manu-\n{long}-\nfacturing manufacturing {long}-x"
    assert join_hyphenated(f"x{long}-\n{long} x{long}{long}") == f"x{long}{long}\nx{long}{long}"


def test_pdf_without_a_text_layer_is_an_error_record(tmp_path: Path) -> None:
    # A scanned PDF (pages of images, no text layer) gave a result of 0 sentences
    # and no areas, exit 0: read as "the paper says nothing about trade", when
    # nothing of it was read at all.
    pytest.importorskip("pypdf")
    path = tmp_path / "scanned.pdf"
    path.write_bytes(synth.pdf([[], []]))
    (doc,) = read_documents(path)
    assert doc["error_type"] == "NoText"
    assert doc["error"].startswith(f"{path}: no text in its 2 pages")
    assert "OCR" in doc["error"]
    # one page with text is enough: the others may be figures
    path.write_bytes(synth.pdf([[], ["Both sides will cut tariffs."]]))
    (doc,) = read_documents(path)
    assert doc["text"] == "Both sides will cut tariffs."


def _encrypted_pdf(path: Path, *, user_password: str, algorithm: str) -> Path:
    """A one-page PDF saying 'Both sides will cut tariffs.', encrypted with pypdf."""
    pypdf = pytest.importorskip("pypdf")
    writer = pypdf.PdfWriter(clone_from=io.BytesIO(make_pdf(["Both sides will cut tariffs."])))
    writer.encrypt(user_password=user_password, owner_password="owner", algorithm=algorithm)
    with path.open("wb") as stream:
        writer.write(stream)
    return path


def test_a_pdf_restricted_with_aes_but_no_password_is_read(tmp_path: Path) -> None:
    # Government PDFs often forbid copying: AES-encrypted with an empty user
    # password. The pdf extra lacked pypdf's crypto dependency, so each one
    # failed with "cryptography>=3.1 is required for AES algorithm".
    path = _encrypted_pdf(tmp_path / "restricted.pdf", user_password="", algorithm="AES-256")
    (doc,) = read_documents(path)
    assert doc.get("text") == "Both sides will cut tariffs.", doc


def test_a_pdf_that_needs_a_password_says_what_to_do(tmp_path: Path) -> None:
    # "the PDF is encrypted" left a journalist guessing: the copy-restricted PDFs
    # beside it were read, so the message has to say this one needs its password.
    path = _encrypted_pdf(tmp_path / "locked.pdf", user_password="secret", algorithm="AES-128")
    (doc,) = read_documents(path)
    assert doc["error_type"] == "EncryptedPDF"
    assert doc["error"].startswith(f"{path}: the PDF needs a password to open")
    assert "qpdf --decrypt" in doc["error"]


def test_broken_pdf_is_an_error_record(tmp_path: Path) -> None:
    pytest.importorskip("pypdf")
    path = tmp_path / "broken.pdf"
    path.write_bytes(b"%PDF-1.4\nthis is not a pdf")
    (doc,) = read_documents(path)
    assert str(path) in doc["error"] and doc["error_type"]


# --- reading deferred to the process that tags --------------------------------------


def mixed_folder(folder: Path) -> Path:
    """Files of every kind, a broken PDF and a missing-file link among them."""
    folder.mkdir()
    (folder / "a.txt").write_text("Both sides will cut tariffs on steel.", encoding="utf-8")
    (folder / "b.html").write_text("<h1>Energy</h1><p>Solar power grows.</p>", encoding="utf-8")
    (folder / "c.jsonl").write_text('{"id": "j", "text": "Grid links."}\n', encoding="utf-8")
    (folder / "d.pdf").write_bytes(make_pdf(["We back cross-", "border payments.", "Steel"]))
    (folder / "e.pdf").write_bytes(b"%PDF-1.4\nthis is not a pdf")
    (folder / "f.html").symlink_to(folder / "nowhere.html")
    return folder


def test_deferred_documents_read_as_read_documents_reads_them(tmp_path: Path) -> None:
    pytest.importorskip("pypdf")
    folder = mixed_folder(tmp_path / "in")
    eager = list(read_documents(folder))
    deferred = list(read_documents(folder, defer=True))
    assert [d["id"] for d in deferred] == [d["id"] for d in eager]
    left = [Path(d["id"]).name for d in deferred if "source" in d]
    assert left == ["b.html", "d.pdf", "e.pdf"]  # read here: text, JSON Lines, the broken link
    loaded = [d["source"].read() if "source" in d else d for d in deferred]
    # The broken link is found when the folder is walked, before any file is read.
    assert loaded == eager
    assert any("error" in d and d["id"].endswith("e.pdf") for d in loaded)
    source = next(d["source"] for d in deferred if d["id"].endswith("d.pdf"))
    assert source.format == "pdf" and source.size == (folder / "d.pdf").stat().st_size


def test_a_deferred_file_gone_before_it_is_read_is_an_error_record(
    tmp_path: Path, extractor: Extractor
) -> None:
    path = tmp_path / "paper.html"
    path.write_text("<p>Tariffs fell.</p>", encoding="utf-8")
    (doc,) = read_documents(path, defer=True)
    path.unlink()
    (result,) = extractor.extract_many([doc])
    assert result.doc_id == str(path) and result.error is not None
    assert result.error.type == "FileNotFoundError" and "no such file" in result.error.message
    with pytest.raises(ValueError, match="no such file"):
        list(extractor.extract_many([doc], on_error="raise"))


@pytest.mark.parametrize("n_process", [1, 2])
def test_deferred_reading_gives_the_same_results(
    tmp_path: Path, extractor: Extractor, n_process: int
) -> None:
    pytest.importorskip("pypdf")
    folder = mixed_folder(tmp_path / "in")
    expected = [r.model_dump_json() for r in extractor.extract_many(read_documents(folder))]
    deferred = read_documents(folder, defer=True)
    got = [r.model_dump_json() for r in extractor.extract_many(deferred, n_process=n_process)]
    assert got == expected
    assert sum('"error":null' not in r for r in got) == 2  # the broken PDF and the link


def test_deferred_files_are_read_from_where_they_were_found(
    tmp_path: Path, extractor: Extractor, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "a.html").write_text("<p>Tariffs fell.</p>", encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    (doc,) = read_documents("in", defer=True)
    monkeypatch.chdir(tmp_path / "in")  # a worker may run in another folder
    (result,) = extractor.extract_many([doc])
    assert result.ok and result.doc_id == os.path.join("in", "a.html")
    assert [a.topic for a in result.areas] == ["trade"]


def test_deferred_files_are_read_by_the_workers(
    tmp_path: Path, extractor: Extractor, monkeypatch: pytest.MonkeyPatch
) -> None:
    pytest.importorskip("pypdf")
    if "fork" not in multiprocessing.get_all_start_methods():
        pytest.skip("the workers see this test's reader only when forked")
    from policy_topics import readers

    parent, real = os.getpid(), readers._TEXT_READERS["pdf"]

    def in_workers_only(data: bytes, name: str) -> str:
        if os.getpid() == parent:
            raise RuntimeError("the main process read a PDF")
        return real(data, name)

    monkeypatch.setitem(readers._TEXT_READERS, "pdf", in_workers_only)
    folder = tmp_path / "in"
    folder.mkdir()
    for i in range(6):
        (folder / f"p{i}.pdf").write_bytes(make_pdf([f"Tariffs on steel fell ({i})."]))
    results = list(extractor.extract_many(read_documents(folder, defer=True), n_process=2))
    assert len(results) == 6 and all(r.ok and r.areas for r in results)
    # Read by the main process, as without defer, every PDF fails.
    eager = list(extractor.extract_many(read_documents(folder), n_process=2))
    assert all(r.error is not None and "main process" in r.error.message for r in eager)


def read_back(document: Any, path: Path) -> str:
    """The text read from a python-docx document saved at ``path``."""
    document.save(str(path))
    (doc,) = read_documents(path)
    text: str = doc["text"]
    return text


def test_docx_paragraphs_and_tables_are_read_in_order(tmp_path: Path) -> None:
    docx = pytest.importorskip("docx")
    document = docx.Document()
    document.add_heading("Trade cooperation", level=1)
    document.add_paragraph("Both sides will cut tariffs on steel.")
    table = document.add_table(rows=1, cols=2)
    table.rows[0].cells[0].text = "Energy"
    table.rows[0].cells[1].text = "Solar power"
    document.add_paragraph("Last paragraph.")
    assert read_back(document, tmp_path / "paper.docx") == (
        "Trade cooperation\n\nBoth sides will cut tariffs on steel.\n\nEnergy\tSolar power\n\n"
        "Last paragraph."
    )


def test_docx_merged_cells_are_read_once(tmp_path: Path) -> None:
    docx = pytest.importorskip("docx")
    document = docx.Document()
    table = document.add_table(rows=3, cols=3)
    table.cell(0, 0).merge(table.cell(0, 1)).text = "Semiconductor supply"
    table.cell(0, 2).text = "2024"
    table.cell(1, 0).merge(table.cell(2, 0)).text = "Energy"
    table.cell(1, 1).text = "Solar"
    table.cell(2, 1).text = "Wind"
    document.add_paragraph("After the table.")
    assert read_back(document, tmp_path / "table.docx") == (
        "Semiconductor supply\t2024\n\nEnergy\tSolar\t\n\nWind\t\n\nAfter the table."
    )


def test_docx_tracked_insertions_are_read_and_deletions_left_out(tmp_path: Path) -> None:
    # A draft with tracked changes: Word shows the inserted words, not the deleted
    # ones. python-docx's paragraph text skips both, which gave the quote "the EU
    # will  soon." for "the EU will cut tariffs soon." (in a paragraph and a cell).
    docx = pytest.importorskip("docx")
    from docx.oxml import parse_xml
    from docx.oxml.ns import nsdecls

    change = 'w:id="{}" w:author="a" w:date="2024-01-01T00:00:00Z"'
    paragraph = (
        f'<w:p {nsdecls("w")}><w:r><w:t xml:space="preserve">the EU will </w:t></w:r>'
        f"<w:ins {change.format(1)}><w:r><w:t>cut tariffs</w:t></w:r></w:ins>"
        f"<w:del {change.format(2)}><w:r><w:delText>raise energy prices</w:delText></w:r>"
        f'</w:del><w:moveTo {change.format(3)}><w:r><w:t xml:space="preserve"> on steel'
        f'</w:t></w:r></w:moveTo><w:r><w:t xml:space="preserve"> soon.</w:t></w:r></w:p>'
    )
    document = docx.Document()
    document.add_paragraph("Before.")
    body = document.element.body
    body.insert(len(body) - 1, parse_xml(paragraph))
    cell = document.add_table(rows=1, cols=2).cell(0, 1)
    cell._tc.remove(cell._tc.p_lst[0])
    cell._tc.append(parse_xml(paragraph))
    assert read_back(document, tmp_path / "draft.docx") == (
        "Before.\n\nthe EU will cut tariffs on steel soon.\n\n"
        "\tthe EU will cut tariffs on steel soon."
    )


def test_docx_content_controls_and_nested_tables_are_read(tmp_path: Path) -> None:
    # Government templates put whole paragraphs in content controls, and tables
    # in table cells; python-docx skips both, so their sentences were lost.
    docx = pytest.importorskip("docx")
    from docx.oxml import parse_xml
    from docx.oxml.ns import nsdecls

    control = (
        f"<w:sdt {nsdecls('w')}><w:sdtPr/><w:sdtContent>"
        "<w:p><w:r><w:t>Inside a content control: tariffs on steel.</w:t></w:r></w:p>"
        "</w:sdtContent></w:sdt>"
    )
    document = docx.Document()
    document.add_paragraph("Before.")
    body = document.element.body
    body.insert(len(body) - 1, parse_xml(control))
    cell = document.add_table(rows=1, cols=2).cell(0, 1)
    cell.paragraphs[0].text = "Outer cell."
    inner = cell.add_table(rows=1, cols=2)
    inner.cell(0, 0).text = "Nested: anti-dumping duties."
    inner.cell(0, 1).text = "Grid links."
    document.add_paragraph("After.")
    assert read_back(document, tmp_path / "template.docx") == (
        "Before.\n\nInside a content control: tariffs on steel.\n\n"
        "\tOuter cell.\nNested: anti-dumping duties.\tGrid links.\n\nAfter."
    )


def test_docx_rows_and_cells_in_content_controls_are_read(tmp_path: Path) -> None:
    # A form's repeating section wraps table rows in a content control, and a
    # cell can be one; python-docx's rows and cells skip both, so their text was
    # lost without an error.
    docx = pytest.importorskip("docx")
    from docx.oxml import parse_xml
    from docx.oxml.ns import nsdecls

    def cell(text: str) -> str:
        return f"<w:tc><w:tcPr/><w:p><w:r><w:t>{text}</w:t></w:r></w:p></w:tc>"

    def control(xml: str) -> str:
        return f"<w:sdt><w:sdtPr/><w:sdtContent>{xml}</w:sdtContent></w:sdt>"

    table = (
        f"<w:tbl {nsdecls('w')}><w:tblPr/><w:tblGrid><w:gridCol/><w:gridCol/></w:tblGrid>"
        f"<w:tr>{cell('Measure')}{cell('Year')}</w:tr>"
        + control(f"<w:tr>{cell('Tariffs on steel')}{cell('2024')}</w:tr>")
        + f"<w:tr>{control(cell('Grid links'))}{cell('2025')}</w:tr></w:tbl>"
    )
    document = docx.Document()
    body = document.element.body
    body.insert(len(body) - 1, parse_xml(table))
    assert (
        read_back(document, tmp_path / "form.docx")
        == "Measure\tYear\n\nTariffs on steel\t2024\n\nGrid links\t2025"
    )


def test_docx_content_controls_showing_their_placeholder_are_left_out(tmp_path: Path) -> None:
    # A template's empty fields hold Word's placeholder ("Click or tap here to
    # enter text."), marked showingPlcHdr: the template's words, not the author's.
    docx = pytest.importorskip("docx")
    from docx.oxml import parse_xml
    from docx.oxml.ns import nsdecls

    def control(xml: str, *, placeholder: bool) -> str:
        shown = "<w:showingPlcHdr/>" if placeholder else ""
        return f"<w:sdt><w:sdtPr>{shown}</w:sdtPr><w:sdtContent>{xml}</w:sdtContent></w:sdt>"

    def run(text: str) -> str:
        return f'<w:r><w:t xml:space="preserve">{text}</w:t></w:r>'

    empty = "Click or tap here to enter text."
    paragraph = (
        f"<w:p {nsdecls('w')}>{run('Partner country: ')}"
        + control(run(empty), placeholder=True)
        + run("; sector: ")
        + control(run("steel"), placeholder=False)
        + "</w:p>"
    )
    block = (
        f"<w:body {nsdecls('w')}>"
        + control(f"<w:p>{run(empty)}</w:p>", placeholder=True)
        + "</w:body>"
    )
    document = docx.Document()
    body = document.element.body
    body.insert(len(body) - 1, parse_xml(paragraph))
    body.insert(len(body) - 1, parse_xml(block)[0])
    cell = document.add_table(rows=1, cols=2).cell(0, 0)
    cell.paragraphs[0].text = "Tariffs"
    cell._tc.append(parse_xml(block)[0])
    assert read_back(document, tmp_path / "form.docx") == (
        "Partner country: ; sector: steel\n\nTariffs\t"
    )


def test_missing_extra_is_an_error_record_naming_the_extra(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "pypdf", None)  # makes `import pypdf` fail
    path = tmp_path / "paper.pdf"
    path.write_bytes(make_pdf(["x"]))
    (doc,) = read_documents(path)
    assert doc["error_type"] == "ImportError"
    assert 'pip install "policy-topics[pdf]"' in doc["error"]


# --- writers ----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def results(extractor: Extractor) -> list[DocumentResult]:
    docs: list[Any] = [
        {"id": "a", "text": TEXT, "meta": {"year": 2020, "tags": ["x"]}},
        {"id": "empty", "text": ""},
        {"id": "bad", "error": "bad.txt: broken", "error_type": "ReadError"},
        {"id": "b", "text": 'Norland will build 5G networks and cut tariffs, "quoted", too.'},
    ]
    return list(extractor.extract_many(docs))


def test_jsonl_round_trip(results: list[DocumentResult]) -> None:
    out = io.StringIO()
    assert write_results(results, out, format="jsonl") == len(results)
    lines = out.getvalue().splitlines()
    assert len(lines) == len(results)
    assert [DocumentResult.model_validate_json(line) for line in lines] == results


def test_json_is_one_array(results: list[DocumentResult], tmp_path: Path) -> None:
    path = tmp_path / "out.json"
    write_results(results, path, format="json")
    data = json.loads(path.read_text(encoding="utf-8"))
    assert [DocumentResult.model_validate(d) for d in data] == results


def test_csv_has_one_row_per_quote_with_exact_offsets(
    results: list[DocumentResult], tmp_path: Path
) -> None:
    path = tmp_path / "out.csv"
    write_results(results, path, format="csv")
    with path.open(encoding="utf-8", newline="") as stream:
        rows = list(csv.DictReader(stream))
    expected = [row for r in results for row in quote_rows(r)]
    assert len(rows) == sum(len(a.quotes) for r in results for a in r.areas) == len(expected) > 2
    # page comes last, after meta, so the columns before it keep their places
    assert tuple(rows[0]) == (*CSV_COLUMNS, "meta", "page")
    assert {row["page"] for row in rows} == {""}  # strings have no pages
    for row in rows:
        if row["doc_id"] == "a":
            assert TEXT[int(row["start"]) : int(row["end"])] == row["text"]
    assert {(r["doc_id"], r["topic"]) for r in rows} >= {("a", "trade"), ("a", "energy")}
    assert [r["text"] for r in rows] == [e["text"] for e in expected]
    assert [float(r["score"]) for r in rows] == [e["score"] for e in expected]


def test_csv_carries_the_metadata_as_json(extractor: Extractor, tmp_path: Path) -> None:
    results = [
        extractor.extract("We cut tariffs.", doc_id="m", metadata={"year": 2020, "src": "é"}),
        extractor.extract("Solar power grew.", doc_id="n"),
    ]
    path = tmp_path / "out.csv"
    write_results(results, path)
    with path.open(encoding="utf-8", newline="") as stream:
        rows = list(csv.DictReader(stream))
    assert [(r["doc_id"], r["meta"]) for r in rows] == [("m", '{"year":2020,"src":"é"}'), ("n", "")]
    assert json.loads(rows[0]["meta"]) == results[0].metadata


def test_quote_rows_join_terms_and_subtopics(extractor: Extractor) -> None:
    result = extractor.extract("We cut tariffs and anti-dumping duties.", doc_id="d")
    (row,) = quote_rows(result)
    assert row["doc_id"] == "d" and row["topic"] == "trade"
    assert row["terms"].split("; ") == [m.term for m in result.areas[0].quotes[0].matches]


def test_empty_json_output_is_an_empty_array() -> None:
    out = io.StringIO()
    assert write_results([], out, format="json") == 0
    assert json.loads(out.getvalue()) == []
    with pytest.raises(ValueError, match="format"):
        write_results([], out, format="xml")  # type: ignore[arg-type]


def test_format_follows_the_suffix_by_default(
    results: list[DocumentResult], tmp_path: Path
) -> None:
    for name, check in [
        ("r.csv", lambda t: t.splitlines()[0] == ",".join((*CSV_COLUMNS, "meta", "page"))),
        ("r.JSON", lambda t: isinstance(json.loads(t), list)),
        ("r.jsonl", lambda t: t.startswith('{"doc_id":')),
    ]:
        assert write_results(results, tmp_path / name) == len(results)
        assert check((tmp_path / name).read_text(encoding="utf-8")), name
    stream = io.StringIO()
    write_results(results, stream)
    assert stream.getvalue().startswith('{"doc_id":')
    with pytest.warns(UserWarning, match=r"the suffix '\.out' names no output format"):
        assert write_results(results, tmp_path / "r.out") == len(results)
    assert (tmp_path / "r.out").read_text(encoding="utf-8").startswith('{"doc_id":')


@pytest.mark.parametrize(("name", "fmt"), [("r.html", "html"), ("r.txt", "table")])
def test_a_suffix_for_people_is_refused_unless_a_format_is_given(
    results: list[DocumentResult], tmp_path: Path, name: str, fmt: str
) -> None:
    with pytest.raises(ValueError, match=f"names the command line's '{fmt}' format"):
        write_results(results, tmp_path / name)
    assert list(tmp_path.iterdir()) == []
    assert write_results(results, tmp_path / name, format="jsonl") == len(results)


def test_lone_surrogates_do_not_break_writers(extractor: Extractor) -> None:
    result = extractor.extract("We cut tariffs \ud800 on steel.", doc_id="s")
    line = record_json(result)
    assert "\ufffd" in line
    assert DocumentResult.model_validate_json(line).areas[0].topic == "trade"
    out = io.StringIO()
    CsvWriter(out).write(result)
    assert "\ufffd" in out.getvalue()
    out.getvalue().encode("utf-8")


def test_jsonl_writer_flushes_each_record(results: list[DocumentResult]) -> None:
    class Counting(io.StringIO):
        flushes = 0

        def flush(self) -> None:
            Counting.flushes += 1
            super().flush()

    stream = Counting()
    writer = JsonlWriter(stream)
    for result in results:
        writer.write(result)
    assert Counting.flushes == len(results)
    JsonWriter(io.StringIO()).close()


# --- atomic output ----------------------------------------------------------------------


def test_atomic_output_leaves_no_file_when_interrupted(tmp_path: Path) -> None:
    target = tmp_path / "out.json"
    with pytest.raises(KeyboardInterrupt), open_output(target) as stream:
        stream.write("[partial")
        raise KeyboardInterrupt
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("atomic", [True, False])
def test_output_to_a_named_pipe_writes_into_it(tmp_path: Path, atomic: bool) -> None:
    import threading

    pipe = tmp_path / "out.json"
    os.mkfifo(pipe)
    received: list[bytes] = []
    reader = threading.Thread(target=lambda: received.append(pipe.read_bytes()))
    reader.start()
    with open_output(pipe, atomic=atomic) as stream:
        stream.write("[]")
    reader.join(timeout=10)
    assert received == [b"[]"]
    assert stat.S_ISFIFO(pipe.stat().st_mode)  # not replaced by a regular file
    assert [p.name for p in tmp_path.iterdir()] == ["out.json"]


@pytest.mark.parametrize("atomic", [True, False])
@pytest.mark.parametrize("form", ["/dev/fd/{fd}", "/proc/self/fd/{fd}", "link"])
def test_output_to_an_open_descriptor_writes_where_it_stands(
    tmp_path: Path, atomic: bool, form: str
) -> None:
    # '/dev/stdout' with stdout redirected to a file: the temporary file was
    # renamed over that file, and what the shell wrote before and after was lost.
    target = tmp_path / "report.txt"
    with target.open("w", encoding="utf-8") as shell:
        shell.write("header\n")
        shell.flush()
        name = form.format(fd=shell.fileno())
        if form == "link":
            (tmp_path / "out.json").symlink_to(f"/dev/fd/{shell.fileno()}")
            name = str(tmp_path / "out.json")
        with open_output(name, atomic=atomic) as stream:
            stream.write("[]\n")
        shell.write("footer\n")
    assert target.read_text(encoding="utf-8") == "header\n[]\nfooter\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        ["report.txt"] + (["out.json"] if form == "link" else [])
    )


def test_atomic_output_keeps_old_file_until_success(tmp_path: Path) -> None:
    target = tmp_path / "out.csv"
    target.write_text("old", encoding="utf-8")
    target.chmod(0o640)
    with pytest.raises(RuntimeError), open_output(target) as stream:
        stream.write("new")
        raise RuntimeError("boom")
    assert target.read_text(encoding="utf-8") == "old"
    with open_output(target) as stream:
        stream.write("new")
    assert target.read_text(encoding="utf-8") == "new"
    assert stat.S_IMODE(target.stat().st_mode) == 0o640
    assert [p.name for p in tmp_path.iterdir()] == ["out.csv"]


@pytest.mark.parametrize("atomic", [True, False])
def test_a_read_only_output_is_refused_not_replaced(tmp_path: Path, atomic: bool) -> None:
    # Renaming over it replaced it, for root writing in place too.
    target = tmp_path / "out.json"
    target.write_text("kept", encoding="utf-8")
    target.chmod(0o444)
    with (
        pytest.raises(PermissionError, match=r"out\.json is read-only: make it writable"),
        open_output(target, atomic=atomic) as stream,
    ):
        stream.write("new")
    assert target.read_text(encoding="utf-8") == "kept"


def test_an_unwritable_jsonl_path_is_refused_before_a_document_is_tagged(
    results: list[DocumentResult], tmp_path: Path
) -> None:
    target = tmp_path / "out.jsonl"
    target.write_text("", encoding="utf-8")
    target.chmod(0o444)
    taken: list[DocumentResult] = []

    def counted() -> Any:
        for result in results:
            taken.append(result)
            yield result

    with pytest.raises(PermissionError, match="read-only"):
        write_results(counted(), target)
    with pytest.raises(IsADirectoryError):
        write_results(counted(), tmp_path, format="jsonl")
    assert taken == []


@pytest.mark.parametrize(
    ("folder", "error"),
    [
        ("no-such-folder", "No such file or directory"),
        ("a-file", "Not a directory"),
        ("read-only", "Permission denied"),
    ],
)
def test_a_jsonl_path_no_file_can_be_made_at_fails_before_a_document_is_tagged(
    results: list[DocumentResult],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    folder: str,
    error: str,
) -> None:
    # Only the folder or the read-only file was checked first: a new file in a
    # folder that does not exist was found out only after a document was tagged.
    (tmp_path / "a-file").write_text("", encoding="utf-8")
    (tmp_path / "read-only").mkdir()
    target = tmp_path / folder / "out.jsonl"
    real_access = os.access

    def access(path: Any, mode: int, **kwargs: Any) -> bool:
        # root may write anywhere: a folder it may not write to stands in as one
        return Path(path).name != "read-only" and real_access(path, mode, **kwargs)

    monkeypatch.setattr(os, "access", access)
    taken: list[DocumentResult] = []

    def counted() -> Any:
        for result in results:
            taken.append(result)
            yield result

    with pytest.raises(OSError, match=error) as raised:
        write_results(counted(), target)
    assert raised.value.filename == str(target)
    assert taken == []
    assert not target.exists()


def test_a_jsonl_file_is_left_as_it_was_when_the_run_fails_before_its_first_result(
    results: list[DocumentResult], tmp_path: Path
) -> None:
    target = tmp_path / "out.jsonl"
    target.write_text('{"old": 1}\n', encoding="utf-8")

    def fail_at_once() -> Any:
        raise ValueError("document 0: broken")
        yield  # a generator

    with pytest.raises(ValueError, match="broken"):
        write_results(fail_at_once(), target)
    assert target.read_text(encoding="utf-8") == '{"old": 1}\n'
    # No results at all: an empty file, as before.
    assert write_results([], target) == 0 and target.read_text(encoding="utf-8") == ""
    assert write_results(iter(results), target) == len(results)
    assert len(target.read_text(encoding="utf-8").splitlines()) == len(results)


def test_new_atomic_file_gets_the_usual_permissions(tmp_path: Path) -> None:
    umask = os.umask(0o022)
    try:
        with open_output(tmp_path / "x.json") as stream:
            stream.write("[]")
    finally:
        os.umask(umask)
    assert stat.S_IMODE((tmp_path / "x.json").stat().st_mode) == 0o644


def test_jsonl_file_keeps_finished_lines_when_interrupted(
    results: list[DocumentResult], tmp_path: Path
) -> None:
    target = tmp_path / "out.jsonl"

    def stream_then_stop() -> Any:
        yield from results[:2]
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        write_results(stream_then_stop(), target, format="jsonl")
    lines = target.read_text(encoding="utf-8").splitlines()
    assert [DocumentResult.model_validate_json(line) for line in lines] == results[:2]


# --- DataFrames -------------------------------------------------------------------------


def test_dataframe_levels(results: list[DocumentResult]) -> None:
    pytest.importorskip("pandas")
    areas = to_dataframe(results, level="areas")
    assert list(areas.columns[:9]) == [
        "doc_id",
        "topic",
        "label",
        "score",
        "mentions",
        "sentences",
        "quotes",
        "terms",
        "subtopics",
    ]
    assert len(areas) == sum(len(r.areas) for r in results)
    assert "meta.year" in areas.columns and "meta.tags" not in areas.columns
    assert set(areas.loc[areas.doc_id == "a", "meta.year"]) == {2020}
    quotes = to_dataframe(results, level="quotes")
    assert tuple(quotes.columns[: len(CSV_COLUMNS) + 1]) == (*CSV_COLUMNS, "page")
    assert quotes["page"].isna().all()
    assert len(quotes) == sum(len(a.quotes) for r in results for a in r.areas)
    sentences = to_dataframe(results, level="sentences")
    assert len(sentences) == sum(len(s.topics) for r in results for s in r.sentences)
    row = sentences.iloc[0]
    assert TEXT[row.start : row.end].startswith("Both sides")


def test_dataframe_documents_level_has_a_row_for_every_result(extractor: Extractor) -> None:
    pytest.importorskip("pandas")
    docs: list[Any] = [
        {"id": "a", "text": "We cut tariffs. Solar power grows.", "meta": {"year": 2020}},
        {"id": "b", "text": None, "meta": {"source": "x"}},  # fails
        {"id": "c", "text": "Hello."},  # no area
        {"id": "d", "text": "Tariffs.", "pages": [(2, 0), (1, 3)]},  # fails: pages out of order
    ]
    results = list(extractor.extract_many(docs))
    frame = to_dataframe(results, level="documents")
    assert frame["doc_id"].tolist() == ["a", "b", "c", "d"]
    assert frame["ok"].tolist() == [True, False, True, False]
    assert frame["error_type"].tolist() == [pd_na(), "TypeError", pd_na(), "ValueError"]
    assert frame.loc[3, "error"] == results[3].error.message  # type: ignore[union-attr]
    assert "pages[1]" in frame.loc[3, "error"]
    assert frame["n_chars"].tolist() == [34, 0, 6, 0]
    assert frame["areas"].tolist() == [len(r.areas) for r in results] == [2, 0, 0, 0]
    assert frame["tagged_sentences"].tolist() == [2, 0, 0, 0]
    assert frame.loc[0, "topics"] == "; ".join(a.topic for a in results[0].areas)
    assert frame.loc[0, "top_score"] == max(a.score for a in results[0].areas)
    assert frame["top_score"].isna().tolist() == [False, True, True, True]
    # Every document's metadata, the failed one's too.
    assert frame.loc[1, "meta.source"] == "x" and frame.loc[0, "meta.year"] == 2020
    # The README's recipe for what failed and why.
    failed = frame[~frame["ok"]][["doc_id", "error_type", "error"]]
    assert failed["doc_id"].tolist() == ["b", "d"]
    assert frame.query("~ok")["doc_id"].tolist() == ["b", "d"]


def test_dataframe_warns_when_results_share_an_id(extractor: Extractor) -> None:
    pytest.importorskip("pandas")
    docs = [{"id": i, "text": "We cut tariffs."} for i in ("a", "b", "a", "c", "a")]
    results = list(extractor.extract_many(docs))
    with pytest.warns(UserWarning, match=r"1 doc_id names more than one result, e.g. 'a' "):
        frame = to_dataframe(results, level="documents")
    assert frame["doc_id"].tolist() == ["a", "b", "a", "c", "a"]  # nothing dropped
    with pytest.warns(UserWarning, match=r"\(results 0, 2, 4\)"):
        to_dataframe(results)
    # Results without ids are numbered, never repeated.
    to_dataframe(list(extractor.extract_many(["We cut tariffs.", "We cut tariffs."])))
    # ... but an id can be such a number: "#1" and the second result without an id.
    named = extractor.extract("We cut tariffs.", doc_id="#1")
    unnamed = extractor.extract("We cut tariffs.")
    with pytest.warns(UserWarning, match=r"e\.g\. '#1' \(results 0, 1\)"):
        frame = to_dataframe([named, unnamed], level="documents")
    assert frame["doc_id"].tolist() == ["#1", "#1"]


def pd_na() -> Any:
    return pytest.importorskip("pandas").NA


def test_dataframe_of_nothing_has_columns() -> None:
    pytest.importorskip("pandas")
    frame = to_dataframe([], level="quotes")
    assert frame.empty and tuple(frame.columns) == (*CSV_COLUMNS, "page")
    assert str(frame["page"].dtype) == "Int64"
    with pytest.raises(ValueError, match="level"):
        to_dataframe([], level="words")  # type: ignore[arg-type]


def test_dataframe_dtypes_do_not_depend_on_the_rows(extractor: Extractor) -> None:
    pd = pytest.importorskip("pandas")
    for level, dtypes in DATAFRAME_COLUMNS.items():
        full = to_dataframe(list(extractor.extract_many(["We cut tariffs."])), level)  # type: ignore[arg-type]
        bare = to_dataframe(list(extractor.extract_many(["Hello.", None])), level)  # type: ignore[arg-type]
        empty = to_dataframe([], level)  # type: ignore[arg-type]
        # Only the documents level has rows for a document without areas or a failed one.
        assert len(full) == 1 and len(bare) == (2 if level == "documents" else 0) and empty.empty
        for frame in (bare, empty, pd.concat([full, bare, empty], ignore_index=True)):
            assert dict(frame.dtypes.astype(str)) == dict(full.dtypes.astype(str)) == dtypes


def test_dataframe_replaces_lone_surrogates_as_the_writers_do(extractor: Extractor) -> None:
    pytest.importorskip("pandas")
    text = "Tariffs \ud800 fell."
    result = extractor.extract(text, doc_id="a\udc00")
    # extract refuses such metadata, but a record can be built by other means.
    result = result.model_copy(update={"metadata": {"note": "x\ud800"}})
    quotes = to_dataframe([result], level="quotes")
    row = quotes.iloc[0]
    assert row["text"] == "Tariffs \ufffd fell." and len(row["text"]) == row["end"] - row["start"]
    assert row["doc_id"] == "a\ufffd" and row["meta.note"] == "x\ufffd"


def test_dataframe_meta_columns_come_from_documents_with_rows(extractor: Extractor) -> None:
    pytest.importorskip("pandas")
    docs = [
        {"id": "a", "text": "We cut tariffs.", "meta": {"year": 2020}},
        {"id": "b", "text": None, "meta": {"source": "x"}},  # fails
        {"id": "c", "text": "Hello.", "meta": {"batch": 7}},  # no area
    ]
    frame = to_dataframe(list(extractor.extract_many(docs)), level="areas")
    assert [c for c in frame.columns if c.startswith("meta.")] == ["meta.year"]


def test_dataframe_numbers_documents_without_an_id(extractor: Extractor) -> None:
    pytest.importorskip("pandas")
    texts: list[Any] = ["We cut tariffs.", "Hello.", None, "Solar power and tariffs.", "Banks."]
    results = list(extractor.extract_many(texts))
    assert [r.doc_id for r in results] == [None] * 5
    areas = to_dataframe(results, level="areas")
    # The README's recipe: a NA doc_id would leave the pivot empty.
    pivot = areas.pivot_table(index="doc_id", columns="topic", values="score", fill_value=0)
    assert pivot.index.tolist() == ["#0", "#3", "#4"]
    assert areas.groupby("doc_id").size().sum() == len(areas)
    for level in ("quotes", "sentences"):
        frame = to_dataframe(results, level=level)  # type: ignore[arg-type]
        assert set(frame["doc_id"]) == {"#0", "#3", "#4"}
    named = [results[0].model_copy(update={"doc_id": "a"}), results[3]]
    assert to_dataframe(named)["doc_id"].unique().tolist() == ["a", "#1"]


def test_dataframe_without_pandas_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "pandas", None)
    with pytest.raises(ImportError, match=r"policy-topics\[pandas\]"):
        to_dataframe([])


# --- properties -------------------------------------------------------------------------

_ASCII_SPACE = re.compile(r"[ \t\n\r\f]+")


@given(st.text().filter(lambda t: not t.startswith("\ufeff")))
def test_decode_round_trips_every_supported_encoding(text: str) -> None:
    for encoding in ("utf-8", "utf-8-sig", "utf-16", "utf-32"):
        if encoding == "utf-16" and text.startswith("\x00"):
            # FF FE 00 00 is a UTF-32 LE BOM as much as a UTF-16 one followed by
            # U+0000: when the rest also decodes as UTF-32, nothing can tell.
            continue
        if encoding == "utf-8" and "\x00" in text:
            # Without a BOM a NUL byte means binary data or UTF-16/32 without its BOM.
            with pytest.raises(ReadError, match="holds NUL bytes"):
                decode_text(text.encode(encoding))
            continue
        assert decode_text(text.encode(encoding)) == text


@given(st.text())
def test_escaped_text_in_html_reads_back_as_the_text(text: str) -> None:
    page = f"<html><body><p>{html.escape(text)}</p><script>{html.escape(text)}</script></body>"
    assert visible_text(page) == _ASCII_SPACE.sub(" ", text).strip(" ")


def test_utf16_text_starting_with_nul_falls_back_from_utf32() -> None:
    text = "\x00 tariffs"
    assert decode_text(text.encode("utf-16-le").join([b"\xff\xfe", b""])) == text


def test_failed_write_cuts_jsonl_back_to_its_last_complete_line(tmp_path: Path) -> None:
    target = tmp_path / "out.jsonl"
    with pytest.raises(OSError, match="No space"), open_output(target, atomic=False) as stream:
        stream.write('{"a": 1}\n{"b": 2}\n')
        stream.flush()
        stream.write('{"c": "half a li')
        stream.flush()
        raise OSError(28, "No space left on device")
    assert target.read_text(encoding="utf-8") == '{"a": 1}\n{"b": 2}\n'


def test_failed_write_before_any_line_leaves_an_empty_file(tmp_path: Path) -> None:
    target = tmp_path / "out.jsonl"
    with pytest.raises(OSError), open_output(target, atomic=False) as stream:
        stream.write("x" * 200_000)  # longer than one chunk read back
        stream.flush()
        raise OSError(28, "No space left on device")
    assert target.read_bytes() == b""


@pytest.mark.parametrize("fmt", ["json", "jsonl", "csv"])
def test_a_path_ending_with_a_slash_names_a_folder_not_a_file(tmp_path: Path, fmt: str) -> None:
    results = list(Extractor().extract_many(["We cut tariffs."]))
    dest = f"{tmp_path}/out/"
    with pytest.raises(IsADirectoryError, match=r"out/: names a folder; give the file to write"):
        write_results(results, dest, format=cast(Any, fmt))
    assert list(tmp_path.iterdir()) == []


def test_files_left_out_for_their_type_are_told(tmp_path: Path) -> None:
    # A folder of a.doc, b.rtf and one .html gave the .html's record alone and
    # not a word about the others.
    folder = tmp_path / "news"
    (folder / "sub").mkdir(parents=True)
    (folder / "a.txt").write_text("Tariffs rose.", encoding="utf-8")
    (folder / "b.doc").write_bytes(b"\xd0\xcf\x11\xe0")
    (folder / "sub" / "c.rtf").write_text("{\\rtf1 tariffs}", encoding="utf-8")
    (folder / ".d.doc").write_bytes(b"hidden")
    left: list[Path] = []
    docs = list(read_documents(folder, unread=left.append))
    assert [d["id"] for d in docs] == [str(folder / "a.txt")]
    assert left == [folder / "b.doc", folder / "sub" / "c.rtf"]
    left.clear()
    docs = list(read_documents(str(folder / "*"), unread=left.append))
    assert [d["id"] for d in docs] == [str(folder / "a.txt")]
    assert left == [folder / "b.doc"]  # 'sub' is a folder, not a file left out


@pytest.mark.parametrize(
    ("data", "suffix", "message"),
    [
        (b"PK\x03\x04rest", ".pdf", "not a PDF: it begins as a ZIP archive (as a .docx file is)"),
        (b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n\x00", ".html", "not text: it begins as a PDF; rename"),
        (b"%PDF-1.7\n", ".docx", "not a Word .docx file: it begins as a PDF; rename it to .pdf"),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1\x00", ".docx", "an old Office file (.doc, .xls"),
        (b"{\\rtf1\\ansi tariffs}", ".pdf", "not a PDF: it begins as an RTF document; save it"),
        (b"<!DOCTYPE html><p>Tariffs.</p>", ".pdf", "begins as an HTML page; rename it to .html"),
        # Plain text gave the PDF or ZIP library's own error ("Stream has ended
        # unexpectedly", "File is not a zip file").
        (b"We will cut tariffs.\n", ".pdf", "not a PDF: it is plain text; rename it to .txt"),
        # A note that speaks of the format gave pypdf's "EOF marker not found".
        (b"Notes: %PDF-1.7 is the version.\n", ".pdf", "not a PDF: it is plain text; rename"),
        ("Zölle senken.".encode(), ".docx", "not a Word .docx file: it is plain text; rename"),
    ],
)
def test_a_file_of_another_type_than_its_suffix_says_is_named(
    tmp_path: Path, data: bytes, suffix: str, message: str
) -> None:
    # A .docx renamed .pdf gave "cannot read pdf: Stream has ended unexpectedly",
    # a PDF named .html "holds NUL bytes ... UTF-16 without a byte order mark".
    path = tmp_path / f"file{suffix}"
    path.write_bytes(data)
    (doc,) = read_documents(path)
    assert doc["error_type"] == "WrongType"
    assert doc["error"].startswith(f"{path}: ") and message in doc["error"]


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"%PDF-1.7\n%\xe2\xe3\n1 0 obj\n", "a PDF; rename it to .pdf"),
        (b"PK\x03\x04\x14\x00\n\x80\xff", "a ZIP archive (as a .docx file is); rename it"),
        (b"{\\rtf1\\ansi tariffs}\n", "an RTF document; save it as .docx or PDF"),
        (b"\x1f\x8b\x08\x00\xff\n\x80", "gzip-compressed data; add .gz to its name"),
        (b"BZh91AY&SY\x80\n\xff", "bzip2-compressed data; add .bz2 to its name"),
        (b"\xfd7zXZ\x00\x00\n\xff", "xz-compressed data; add .xz to its name"),
    ],
)
def test_a_binary_file_named_jsonl_is_one_record_that_names_its_type(
    tmp_path: Path, data: bytes, message: str
) -> None:
    # Each of its "lines" was a record of its own: "brief.jsonl:1: not valid UTF-8".
    path = tmp_path / "brief.jsonl"
    path.write_bytes(data * 50)
    (doc,) = read_documents(path)
    assert doc["error_type"] == "WrongType"
    assert doc["error"].startswith(f"{path}: not JSON Lines: it begins as {message}")
    # A line that merely begins with such letters is JSON Lines' own error.
    path.write_bytes(b'BZh is a word\n{"text": "We cut tariffs."}\n')
    bad, good = read_documents(path)
    assert bad["error_type"] == "JSONDecodeError" and good["text"] == "We cut tariffs."


@pytest.mark.parametrize("suffix", [".pdf", ".docx"])
def test_an_empty_pdf_or_docx_says_it_is_empty(tmp_path: Path, suffix: str) -> None:
    # An empty .docx said "cannot read docx: File is not a zip file".
    path = tmp_path / f"empty{suffix}"
    path.write_bytes(b"")
    (doc,) = read_documents(path)
    assert doc["error_type"] == "EmptyFile"
    assert doc["error"] == f"{path}: the file is empty (0 bytes): no {suffix[1:].upper()} to read"
    # An empty text file is an empty document: nothing in it to tag.
    (tmp_path / "empty.txt").write_bytes(b"")
    assert next(read_documents(tmp_path / "empty.txt"))["text"] == ""


def test_a_text_file_that_begins_as_a_pdf_does_is_read_as_text(tmp_path: Path) -> None:
    # A note on the PDF format was refused: "not text: it begins as a PDF".
    path = tmp_path / "note.txt"
    path.write_bytes(b"%PDF-1.7 is the version the ministry uses. Tariffs rose.\n")
    (doc,) = read_documents(path)
    assert doc["text"] == "%PDF-1.7 is the version the ministry uses. Tariffs rose.\n"
    # A PDF in plain ASCII still ends as one: it is named.
    path.write_bytes(b"%PDF-1.4\n1 0 obj\n<<>>\nendobj\ntrailer\n<<>>\n%%EOF\n")
    (doc,) = read_documents(path)
    assert doc["error_type"] == "WrongType"


def test_an_rtf_file_named_txt_is_read_as_text(tmp_path: Path) -> None:
    path = tmp_path / "note.txt"
    path.write_bytes(b"{\\rtf1 Tariffs rose.}")
    (doc,) = read_documents(path)
    assert doc["text"] == "{\\rtf1 Tariffs rose.}"


@pytest.mark.parametrize("off", ["0", "false", "off"])
def test_docx_content_controls_whose_placeholder_flag_is_off_are_read(
    tmp_path: Path, off: str
) -> None:
    # showingPlcHdr is an on/off switch: w:val="0" says the control shows its content.
    docx = pytest.importorskip("docx")
    from docx.oxml import parse_xml
    from docx.oxml.ns import nsdecls

    flags = {"filled": f'<w:showingPlcHdr w:val="{off}"/>', "empty": '<w:showingPlcHdr w:val="1"/>'}
    paragraph = (
        f"<w:p {nsdecls('w')}>"
        + "".join(
            f"<w:sdt><w:sdtPr>{flag}</w:sdtPr><w:sdtContent>"
            f'<w:r><w:t xml:space="preserve">{name} </w:t></w:r></w:sdtContent></w:sdt>'
            for name, flag in flags.items()
        )
        + "</w:p>"
    )
    document = docx.Document()
    body = document.element.body
    body.insert(len(body) - 1, parse_xml(paragraph))
    assert read_back(document, tmp_path / "form.docx") == "filled "


def test_results_written_into_the_folder_being_read_do_not_feed_on_themselves(
    extractor: Extractor, tmp_path: Path
) -> None:
    # write_results(extract_many(read_documents(".")), "results.jsonl"): the lazy
    # reader came to the output and read each line written as a new document,
    # which wrote a line more, until the disk was full.
    (tmp_path / "in.jsonl").write_text('{"id": "a", "text": "We cut tariffs."}\n')
    out = tmp_path / "results.jsonl"
    seen = 0

    def docs() -> Any:
        nonlocal seen
        for doc in read_documents(tmp_path):
            seen += 1
            assert seen < 100, "the output is read back as input for ever"
            yield doc

    written = write_results(extractor.extract_many(docs()), out)
    assert written == len(out.read_text(encoding="utf-8").splitlines()) <= 2


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no named pipes here")
def test_a_named_pipe_is_read_once_as_a_named_file(tmp_path: Path) -> None:
    # A pipe is no regular file, so it was taken for one a folder finds and
    # handed to ``skip``, which the command line uses to look for an earlier
    # run's output: that read drained the pipe, and reading it again hung.
    fifo = tmp_path / "pipe.txt"
    os.mkfifo(fifo)
    writer = threading.Thread(target=fifo.write_text, args=("We cut tariffs.",), daemon=True)
    writer.start()
    looked: list[Path] = []
    docs = list(read_documents(fifo, skip=lambda path: bool(looked.append(path))))
    writer.join(10)
    assert looked == []
    assert [(d["id"], d["text"]) for d in docs] == [(str(fifo), "We cut tariffs.")]
