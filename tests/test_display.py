"""HTML views: well-formed, escaped, offsets kept, colours stable, text/plain concise."""

from __future__ import annotations

import re
import subprocess
import sys
import xml.etree.ElementTree as ET
from html.parser import HTMLParser
from pathlib import Path

import pytest

from policy_topics import DocumentResult, Extractor
from policy_topics import display as display_module
from policy_topics.display import (
    PALETTE,
    describe,
    highlight,
    highlight_page,
    mimebundle,
    render,
    topic_color,
)
from policy_topics.records import ErrorInfo
from policy_topics.taxonomy import Taxonomy

SAMPLE = Path(__file__).resolve().parent.parent / "examples" / "sample-policy-paper.txt"
HOSTILE = (
    "We will cut tariffs <script>alert('x')</script> on steel & iron.\n"
    'Solar energy <img src=x onerror="alert(1)"> cooperation "quoted" \'single\'.\n'
    "Banks\x00 and\x0c investment\x1b funds ]]> <!-- comment --> <![CDATA[ data ]]>.\n"
)
VOID = {"meta", "br", "img", "hr", "input", "link"}


@pytest.fixture(scope="module")
def extractor() -> Extractor:
    return Extractor()


@pytest.fixture(scope="module")
def sample(extractor: Extractor) -> tuple[str, DocumentResult]:
    text = SAMPLE.read_text(encoding="utf-8")
    return text, extractor.extract(text, doc_id="sample")


def parse(markup: str) -> ET.Element:
    """Parse as XML (stricter than HTML) and check the tags balance as HTML too."""
    root = ET.fromstring(markup if markup.startswith("<!DOCTYPE") else f"<root>{markup}</root>")
    balance = _Balance()
    balance.feed(markup)
    balance.close()
    assert balance.stack == []
    return root


class _Balance(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.stack: list[str] = []

    def handle_starttag(self, tag: str, attrs: object) -> None:
        if tag not in VOID:
            self.stack.append(tag)

    def handle_startendtag(self, tag: str, attrs: object) -> None:
        pass  # <meta ... />: nothing to balance

    def handle_endtag(self, tag: str) -> None:
        assert self.stack and self.stack[-1] == tag, (tag, self.stack[-5:])
        self.stack.pop()


def text_of(element: ET.Element) -> str:
    return "".join(element.itertext())


# --- well-formed -----------------------------------------------------------------------


@pytest.mark.parametrize("standalone", [False, True])
def test_render_is_well_formed(sample: tuple[str, DocumentResult], standalone: bool) -> None:
    _, result = sample
    root = parse(render(result, standalone=standalone))
    rows = root.findall(".//tbody/tr")
    assert len(rows) == len(result.areas) > 0
    assert [text_of(r.findall("td")[0]) for r in rows] == [a.label for a in result.areas]


def test_highlight_is_a_well_formed_page(sample: tuple[str, DocumentResult]) -> None:
    text, result = sample
    page = highlight(text, result=result)
    assert page.startswith("<!DOCTYPE html>")
    root = parse(page)
    assert root.tag == "html" and root.find("head/title") is not None
    parse(highlight(text, result=result, standalone=False))


def test_records_display_hooks(sample: tuple[str, DocumentResult]) -> None:
    _, result = sample
    area = result.areas[0]
    quote = area.quotes[0]
    for record in (result, area, quote):
        bundle = record._repr_mimebundle_()
        assert set(bundle) == {"text/html", "text/plain"}
        assert bundle["text/html"] == record._repr_html_() == render(record)
        assert bundle["text/plain"] == describe(record)
        parse(bundle["text/html"])
    assert set(result._repr_mimebundle_(include=["text/plain"])) == {"text/plain"}
    assert set(mimebundle(result, exclude=["text/plain"])) == {"text/html"}


def test_display_needs_no_ipython() -> None:
    code = (
        "import sys\n"
        "from policy_topics import Extractor\n"
        "r = Extractor().extract('Tariffs fell and solar grew.')\n"
        "r._repr_mimebundle_(); r.areas[0]._repr_html_(); r.areas[0].quotes[0]._repr_html_()\n"
        "assert 'policy_topics.display' in sys.modules\n"
        "assert not any(m.split('.')[0] == 'IPython' for m in sys.modules), 'IPython imported'\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_records_do_not_import_display_at_module_level() -> None:
    code = "import sys, policy_topics.records\nassert 'policy_topics.display' not in sys.modules\n"
    subprocess.run([sys.executable, "-c", code], check=True)


# --- escaping ----------------------------------------------------------------------------


def _hostile_taxonomy() -> Taxonomy:
    return Taxonomy.from_yaml(
        "name: '<b>tax</b>'\n"
        "version: '1\"><script>x</script>'\n"
        "topics:\n"
        "  trade:\n"
        "    label: '<img src=x onerror=alert(1)>'\n"
        "    terms: [tariff]\n"
        "    subtopics:\n"
        "      steel:\n"
        "        label: '</mark><script>alert(2)</script>'\n"
        "        terms: [steel]\n"
        "  energy:\n"
        "    label: 'Energy \" onmouseover=\"alert(3)'\n"
        "    terms: [solar]\n"
    )


def _assert_inert(root: ET.Element) -> None:
    for element in root.iter():
        assert element.tag not in {"script", "img", "iframe", "b"}, element.tag
        assert not any(name.lower().startswith("on") for name in element.attrib), element.attrib


@pytest.mark.parametrize("taxonomy", ["default", "hostile"])
def test_hostile_text_renders_as_text(taxonomy: str) -> None:
    extractor = Extractor(_hostile_taxonomy() if taxonomy == "hostile" else "default")
    result = extractor.extract(HOSTILE, doc_id="<script>alert('id')</script>")
    assert result.areas, "the hostile document must be tagged for the test to mean anything"
    fragment = render(result, max_quotes=1)
    page = highlight(HOSTILE, extractor=extractor, result=result)
    for markup in (fragment, page, render(result, standalone=True)):
        assert "<script" not in markup and "<img" not in markup
        root = parse(markup)
        _assert_inert(root)
        shown = text_of(root)
        assert "<script>alert('id')</script>" in shown
    shown = text_of(parse(page))
    assert "<script>alert('x')</script>" in shown
    assert '<img src=x onerror="alert(1)">' in shown
    assert "<!-- comment --> <![CDATA[ data ]]>" in shown
    # invisible controls are shown as their Unicode control pictures
    assert "Banks\u2400 and\u240c investment\u241b funds" in shown
    if taxonomy == "hostile":
        assert "<img src=x onerror=alert(1)>" in text_of(parse(fragment))
        for area in result.areas:
            for record in (area, *area.quotes):
                _assert_inert(parse(render(record)))


def test_hostile_error_and_surrogates_stay_text(extractor: Extractor) -> None:
    failed = DocumentResult(
        doc_id="bad\udcff<id>",
        taxonomy="default",
        taxonomy_version="1",
        language="en",
        n_sentences=0,
        areas=[],
        sentences=[],
        error=ErrorInfo(type="<Err>", message="<script>boom</script>"),
    )
    html = render(failed, standalone=True)
    html.encode("utf-8")  # lone surrogates replaced, so the page can be written to a file
    root = parse(html)
    _assert_inert(root)
    assert "<script>boom</script>" in text_of(root)
    assert "failed" in describe(failed)


# --- offsets and overlaps ----------------------------------------------------------------


def _marked_ranges(text_div: ET.Element) -> tuple[str, list[tuple[int, int, str]]]:
    """Walk the highlighted text: the full string and the offsets of each <mark>."""
    parts = [text_div.text or ""]
    ranges = []
    for child in text_div:
        assert child.tag == "mark"
        start = sum(map(len, parts))
        parts.append(child.text or "")
        ranges.append((start, start + len(child.text or ""), child.get("data-topic", "")))
        parts.append(child.tail or "")
    return "".join(parts), ranges


def _text_div(page: str) -> ET.Element:
    return parse(page).findall(".//div")[-1]


def test_highlight_walks_the_original_string(sample: tuple[str, DocumentResult]) -> None:
    text, result = sample
    shown, ranges = _marked_ranges(_text_div(highlight(text, result=result)))
    assert shown == text
    covered = {i for s in result.sentences for m in s.matches for i in range(m.start, m.end)}
    assert {i for start, end, _ in ranges for i in range(start, end)} == covered
    for start, end, topics in ranges:
        hits = {m.topic for s in result.sentences for m in s.matches if m.start < end <= m.end}
        assert set(topics.split()) == hits, text[start:end]


def test_highlight_without_an_extractor_makes_the_default_one_once(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    made: list[Extractor] = []

    class Counted(Extractor):
        def __init__(self) -> None:
            super().__init__()
            made.append(self)

    display_module._default_extractor.cache_clear()
    monkeypatch.setattr("policy_topics.extract.Extractor", Counted)
    try:
        pages = [highlight(t) for t in ("We cut tariffs.", "Solar grew.", "We cut tariffs.")]
    finally:
        display_module._default_extractor.cache_clear()
    assert len(made) == 1
    assert pages[0] == pages[2] != pages[1]
    assert pages[0] == highlight("We cut tariffs.", extractor=Extractor())


def test_overlapping_matches_of_different_topics() -> None:
    taxonomy = Taxonomy.from_yaml(
        "name: overlap\n"
        "topics:\n"
        "  energy: {label: Energy, terms: [solar panel]}\n"
        "  manufacturing: {label: Manufacturing, terms: [panel maker]}\n"
        "  digital: {label: Digital, terms: [solar panel maker]}\n"
    )
    text = "The solar panel maker will expand."
    extractor = Extractor(taxonomy)
    result = extractor.extract(text)
    matches = [m for s in result.sentences for m in s.matches]
    assert len({m.topic for m in matches}) == 3, matches
    page = highlight(text, extractor=extractor, result=result)
    shown, ranges = _marked_ranges(_text_div(page))
    assert shown == text
    by_text = {text[s:e]: set(topics.split()) for s, e, topics in ranges}
    assert by_text["solar "] == {"energy", "digital"}
    assert by_text["panel"] == {"energy", "manufacturing", "digital"}
    assert by_text[" maker"] == {"manufacturing", "digital"}
    marks = parse(page).findall(".//mark[@data-topic]")
    assert any("linear-gradient" in m.get("style", "") for m in marks)


def test_hover_titles_give_term_subtopic_and_score(sample: tuple[str, DocumentResult]) -> None:
    text, result = sample
    quote = result.areas[0].quotes[0]
    match = quote.matches[0]
    sub = next(s.label for s in result.areas[0].subtopics if s.id == match.subtopic)
    titles = [m.get("title", "") for m in parse(render(quote)).iter("mark")]
    assert any(f"term: {match.term}" in t and f"score: {quote.score:.2f}" in t for t in titles), (
        titles
    )
    page_titles = [m.get("title", "") for m in _text_div(highlight(text, result=result))]
    assert any(f"term: {match.term}" in t and f"sub-topic: {sub}" in t for t in page_titles)


SAME_ID = """\
name: same-id
topics:
  trade:
    label: Trade
    terms: [tariff]
    subtopics:
      trade: {label: Free trade agreements, terms: [free trade agreement]}
"""


def test_a_sub_topic_with_its_topics_id_keeps_both_labels_apart() -> None:
    # The views looked labels up by id alone: the topic took its sub-topic's
    # label, and a term of the topic itself was titled with a sub-topic.
    text = "They cut tariffs and signed a free trade agreement."
    result = Extractor(Taxonomy.from_yaml(SAME_ID)).extract(text, doc_id="a")
    expected = {
        "term: tariff | sub-topic: (topic level) | topic: Trade | score: 0.86",
        "term: free trade agreement | sub-topic: Free trade agreements | topic: Trade | "
        "score: 0.86",
    }
    for page in (render(result.areas[0]), render(result), highlight(text, result=result)):
        titles = {m.get("title") for m in parse(page).iter("mark")} - {None}  # not the legend's
        assert titles == expected


def test_highlight_of_a_result_shows_its_quotes(sample: tuple[str, DocumentResult]) -> None:
    _, result = sample
    page = highlight(result)
    shown = text_of(parse(page))
    assert "holds no full text" in shown
    for area in result.areas:
        for quote in area.quotes:
            assert quote.text in shown


def test_highlight_refuses_a_result_of_another_text(sample: tuple[str, DocumentResult]) -> None:
    text, result = sample
    with pytest.raises(ValueError, match="does not come from this text"):
        highlight(text.replace("tariffs", "Tariffs"), result=result)
    with pytest.raises(ValueError, match="does not come from this text"):
        highlight(text[:-1], result=result)


def test_highlight_says_why_a_document_failed(extractor: Extractor) -> None:
    docs = [
        {"id": "ok", "text": "We cut tariffs."},
        {"id": "bad", "text": "Solar <energy>.", "meta": {"tags": object()}},  # not JSON
    ]
    results = list(extractor.extract_many(docs))
    failed = results[1]
    assert failed.error is not None and failed.n_chars == 0
    alone = text_of(parse(highlight(failed)))
    assert "Failed: ValueError" in alone and "cannot be written as JSON" in alone
    with_text = text_of(parse(highlight(docs[1]["text"], result=failed)))
    assert "Failed: ValueError" in with_text and "Solar <energy>." in with_text
    # A page of (result, text) pairs still comes out, with every document on it.
    page = text_of(
        parse(highlight_page([(r, d["text"]) for r, d in zip(results, docs, strict=True)]))
    )
    assert "We cut tariffs." in page and "Failed: ValueError" in page


def test_highlight_page_keeps_the_result_of_an_empty_document() -> None:
    taxonomy = Taxonomy.from_yaml(
        'name: mine\nversion: "7"\ntopics: {ports: {label: Ports, terms: [harbour]}}'
    )
    result = Extractor(taxonomy).extract("", doc_id="empty.txt")
    shown = text_of(parse(highlight_page([(result, "")])))
    assert "empty.txt" in shown and "taxonomy mine 7" in shown


def test_quoted_sentences_of_a_long_result_hold_their_own_marks() -> None:
    text = " ".join(f"Tariffs on item {i} fell and solar grew." for i in range(300))
    result = Extractor(max_quotes=None).extract(text)
    root = parse(highlight(result))
    marks = [text_of(m) for m in root.iter("mark")]
    matches = [m.text for s in result.sentences for m in s.matches]
    legend = len(result.areas)  # the legend shows one mark per topic
    assert sorted(marks[legend:]) == sorted(matches)


# --- layout --------------------------------------------------------------------------------


def test_top_k_quotes_then_details(extractor: Extractor) -> None:
    text = " ".join(f"Tariffs on product {i} will fall." for i in range(6))
    result = Extractor(max_quotes=None).extract(text)
    area = result.area("trade")
    assert area is not None and len(area.quotes) == 6
    root = parse(render(result, max_quotes=2))
    details = root.findall(".//details")
    assert len(details) == 1
    assert len(details[0].findall(".//li")) == 4
    assert len(root.findall(".//li")) == 6
    assert "4 more quotes" in text_of(details[0].find("summary"))  # type: ignore[arg-type]
    assert parse(render(result, max_quotes=None)).findall(".//details") == []


def test_topics_filter(extractor: Extractor) -> None:
    result = extractor.extract("Tariffs on steel and solar energy.")
    assert [a.topic for a in result.areas] == ["energy", "trade"]
    # 'digital' is a topic of the taxonomy that this document lacks: no mistake.
    root = parse(render(result, topics=["energy", "digital"]))
    assert [text_of(r.findall("td")[0]) for r in root.findall(".//tbody/tr")] == ["Energy"]


@pytest.mark.parametrize(
    ("topics", "named"),
    [
        (["Trade"], "'Trade' (the label of 'trade') is not a topic id"),
        (["TRADE"], "'TRADE' (the label of 'trade')"),
        (["energy", "nonexistent", "Energy", "Solar power"], "'Energy' (the label of 'energy'), "),
    ],
)
def test_topics_that_cannot_be_topic_ids_are_refused(
    extractor: Extractor, topics: list[str], named: str
) -> None:
    result = extractor.extract("Tariffs on steel and solar energy.")
    with pytest.raises(ValueError, match=r"^render: ") as info:
        render(result, topics=topics)
    message = str(info.value)
    assert named in message and "nonexistent" not in message
    assert message.endswith("the topic ids are trade, energy, digital, manufacturing, finance")


@pytest.mark.parametrize(
    ("topic", "named"),
    [
        ("trde", "'trde' (did you mean 'trade'?) is not a topic id"),
        ("tariffs", "'tariffs' (a sub-topic of 'trade')"),
        ("health", "'health' is not a topic id"),
    ],
)
def test_an_id_the_packaged_taxonomy_lacks_is_warned_about(
    extractor: Extractor, topic: str, named: str
) -> None:
    # Not refused: a copy of the taxonomy that kept its name and version may
    # have a 'health' topic, which this document lacks.
    result = extractor.extract("Tariffs on steel and solar energy.")
    with pytest.warns(UserWarning, match=r"^render: ") as caught:
        page = render(result, topics=["energy", topic])
    message = str(caught[0].message)
    assert named in message and "of the packaged taxonomy 'default'" in message
    assert [text_of(r.findall("td")[0]) for r in parse(page).findall(".//tbody/tr")] == ["Energy"]


def test_topics_as_one_string_are_refused(extractor: Extractor) -> None:
    result = extractor.extract("Tariffs on steel.")
    with pytest.raises(TypeError, match=r"not one str: \['trade'\]"):
        render(result, topics="trade")


def test_topics_of_a_taxonomy_that_is_not_packaged() -> None:
    taxonomy = Taxonomy.from_yaml(
        "name: k\ntopics: {klima: {label: Klima, terms: [klima]}, wasser: {label: Wasser, "
        "terms: [wasser]}}"
    )
    result = Extractor(taxonomy).extract("Klima.")
    # Its ids are known only as far as the result found them: 'wasser' may be one.
    assert "No cooperation area found." in render(result, topics=["wasser"])
    with pytest.raises(ValueError, match=r"'Klima' \(the label of 'klima'\) is not") as info:
        render(result, topics=["Klima"])
    assert str(info.value).endswith(
        "the topic ids found in the result are klima (its taxonomy is not packaged, "
        "so its other ids are not known here)"
    )


def test_empty_result_renders(extractor: Extractor) -> None:
    result = extractor.extract("")
    assert "No cooperation area found." in text_of(parse(render(result)))
    assert "No tagged span." in text_of(parse(highlight("", result=result)))


# --- colours -----------------------------------------------------------------------------


def test_default_topics_have_fixed_distinct_colours() -> None:
    assert set(PALETTE) == {"trade", "energy", "digital", "manufacturing", "finance"}
    assert len(set(PALETTE.values())) == 5
    for topic, colour in PALETTE.items():
        assert topic_color(topic) == colour


def test_fallback_colours_stable_across_processes() -> None:
    ids = ["health", "security", "agriculture", "x", "санкции"]
    code = (
        "from policy_topics.display import topic_color\n"
        f"print(','.join(topic_color(t) for t in {ids!r}))"
    )
    runs = {
        subprocess.run(
            [sys.executable, "-c", code],
            check=True,
            capture_output=True,
            text=True,
            env={"PYTHONHASHSEED": seed, "PYTHONIOENCODING": "utf-8"},
        ).stdout.strip()
        for seed in ("1", "2", "random")
    }
    assert runs == {",".join(topic_color(t) for t in ids)}
    assert all(re.fullmatch("#[0-9a-f]{6}", c) for c in runs.pop().split(","))


def test_colour_marks_the_topic(sample: tuple[str, DocumentResult]) -> None:
    text, result = sample
    for mark in _text_div(highlight(text, result=result)):
        topics = mark.get("data-topic", "").split()
        assert f"solid {topic_color(topics[0])}" in mark.get("style", "")


# --- text/plain ----------------------------------------------------------------------------


def test_text_plain_is_concise(extractor: Extractor) -> None:
    text = SAMPLE.read_text(encoding="utf-8")
    big = extractor.extract(text * 40, doc_id="x" * 500)
    for record in (big, big.areas[0], big.areas[0].quotes[0]):
        line = describe(record)
        assert "\n" not in line and len(line) <= 220, line
    assert describe(big).startswith("DocumentResult 'xxx")
    assert f"{len(big.areas)} areas in {big.n_sentences} sentences" in describe(big)
    assert len(render(big)) < 200_000  # top-k quotes keep a long document readable
