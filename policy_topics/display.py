"""HTML views of results: notebook display, highlighted full text, stable topic colours.

Every piece of document text (and every taxonomy string) goes through
:func:`html.escape`, and the markup is well-formed XHTML, so a document holding
``<script>`` shows it as text. Styles are inline, so the views look the same in
JupyterLab, VS Code, a browser or an e-mail.

Example:
    >>> from policy_topics import Extractor
    >>> html = render(Extractor().extract("We will cut tariffs on <script>steel</script>."))
    >>> "&lt;script&gt;" in html and "<script>" not in html
    True
"""

from __future__ import annotations

import colorsys
import difflib
import functools
import hashlib
import html
import itertools
import re
import warnings
from bisect import bisect_left
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from policy_topics.records import CooperationArea, DocumentResult, ErrorInfo, Match, Quote
from policy_topics.taxonomy import _ID_RE, Taxonomy, load_taxonomy, packaged_taxonomies

if TYPE_CHECKING:
    from policy_topics.extract import Extractor

__all__ = [
    "PALETTE",
    "check_topics",
    "describe",
    "highlight",
    "highlight_page",
    "mimebundle",
    "render",
    "topic_color",
]

#: Colours of the topics of the default taxonomy; other ids get a hash-based colour.
PALETTE: dict[str, str] = {
    "trade": "#2563eb",
    "energy": "#d97706",
    "digital": "#7c3aed",
    "manufacturing": "#0d9488",
    "finance": "#db2777",
}

#: Labels by (topic id, sub-topic path or None for the topic itself): a sub-topic
#: may share its topic's id, so ids alone do not tell them apart.
_Labels = Mapping[tuple[str, str | None], str]

_FONT = "system-ui,-apple-system,'Segoe UI',Roboto,'Helvetica Neue',Arial,sans-serif"
_INK = "#1f2328"
_MUTED = "#59636e"
_RULE = "#d1d9e0"
# C0 controls other than tab, LF and CR are invalid in XML and invisible in HTML:
# show them as their Unicode control pictures instead.
_CONTROLS = {c: 0x2400 + c for c in range(32) if c not in (9, 10, 13)} | {0x7F: 0x2421}
_UNENCODABLE = re.compile("[\ud800-\udfff\ufffe\uffff]")


def topic_color(topic: str) -> str:
    """The colour of a topic, as ``#rrggbb``; the same for an id on every run.

    The five default topics have fixed colours (:data:`PALETTE`); any other id
    gets a hue from a SHA-256 digest of its name (never the salted ``hash()``).

    Args:
        topic: The topic id.

    Returns:
        A hex colour dark enough for white text and for a score bar.

    Example:
        >>> topic_color("trade")
        '#2563eb'
        >>> topic_color("health") == topic_color("health")
        True
    """
    if topic in PALETTE:
        return PALETTE[topic]
    digest = hashlib.sha256(topic.encode("utf-8", "surrogatepass")).digest()
    hue = int.from_bytes(digest[:2], "big") / 65536
    lightness = 0.36 + digest[2] / 255 * 0.1
    r, g, b = colorsys.hls_to_rgb(hue, lightness, 0.7)
    return f"#{round(r * 255):02x}{round(g * 255):02x}{round(b * 255):02x}"


def _tint(color: str, amount: float = 0.75) -> str:
    channels = (int(color[i : i + 2], 16) for i in (1, 3, 5))
    return "#" + "".join(f"{round(c + (255 - c) * amount):02x}" for c in channels)


def _esc(text: str) -> str:
    return _UNENCODABLE.sub("\ufffd", html.escape(text, quote=True).translate(_CONTROLS))


# --- marking spans in a string ----------------------------------------------------------


@dataclass(frozen=True)
class _Span:
    start: int
    end: int
    topic: str
    title: str


def _mark(text: str, spans: Sequence[_Span]) -> str:
    """Escape ``text`` with every span wrapped in a ``<mark>``.

    The text is cut at every span boundary and each piece is marked with the
    spans covering it, so overlapping spans of different topics never nest
    and never break the markup.
    """
    spans = [s for s in spans if 0 <= s.start < s.end <= len(text)]
    cuts = sorted({0, len(text)} | {s.start for s in spans} | {s.end for s in spans})
    starting: dict[int, list[_Span]] = defaultdict(list)
    for span in spans:
        starting[span.start].append(span)
    active: list[_Span] = []
    out: list[str] = []
    for a, b in itertools.pairwise(cuts):
        active = [s for s in active if s.end > a] + starting.get(a, [])
        piece = _esc(text[a:b])
        if not active:
            out.append(piece)
            continue
        topics = list(dict.fromkeys(s.topic for s in active))
        if len(topics) == 1:
            background = _tint(topic_color(topics[0]))
        else:
            step = 100 / len(topics)
            bands = ",".join(
                f"{_tint(topic_color(t))} {i * step:.0f}% {(i + 1) * step:.0f}%"
                for i, t in enumerate(topics)
            )
            background = f"linear-gradient(to bottom,{bands})"
        title = "&#10;".join(dict.fromkeys(_esc(s.title) for s in active))
        out.append(
            f'<mark class="pt-mark" data-topic="{_esc(" ".join(topics))}" title="{title}" '
            f'style="background:{background};color:{_INK};padding:0 1px;border-radius:2px;'
            f'border-bottom:2px solid {topic_color(topics[0])}">{piece}</mark>'
        )
    return "".join(out)


def _title(term: str, topic: str, subtopic: str, score: float) -> str:
    sub = subtopic or "(topic level)"
    return f"term: {term} | sub-topic: {sub} | topic: {topic} | score: {score:.2f}"


def _match_title(m: Match, labels: _Labels, score: float) -> str:
    """The hover title of a match: its term, the labels of its sub-topic and topic, a score."""
    sub = labels.get((m.topic, m.subtopic), m.subtopic) if m.subtopic else ""
    return _title(m.term, labels.get((m.topic, None), m.topic), sub, score)


def _quote_spans(quote: Quote, labels: _Labels) -> list[_Span]:
    """Spans of a quote's matches, relative to the quote."""
    spans = []
    for m in quote.matches:
        start, end = m.start - quote.start, m.end - quote.start
        if start < 0 or quote.text[start:end] != m.text:
            continue
        spans.append(_Span(start, end, m.topic, _match_title(m, labels, quote.score)))
    return spans


# --- notebook views ------------------------------------------------------------------------


def _box(inner: str) -> str:
    return (
        f'<div class="policy-topics" style="font-family:{_FONT};font-size:14px;color:{_INK};'
        f"background:#ffffff;padding:12px 16px;border:1px solid {_RULE};border-radius:8px;"
        f'max-width:72em;line-height:1.45">{inner}</div>'
    )


def _swatch(topic: str) -> str:
    return (
        f'<span style="display:inline-block;width:.8em;height:.8em;border-radius:2px;'
        f'background:{topic_color(topic)};margin-right:.4em;vertical-align:-1px"></span>'
    )


def _bar(score: float, color: str) -> str:
    width = f"{max(0.0, min(1.0, score)) * 100:.1f}%"
    return (
        f'<span style="display:inline-block;width:6em;height:.6em;background:#eef1f4;'
        f'border-radius:3px;vertical-align:middle;margin-right:.5em">'
        f'<span style="display:block;width:{width};height:100%;background:{color};'
        f'border-radius:3px"></span></span><span style="font-variant-numeric:tabular-nums">'
        f"{score:.2f}</span>"
    )


def _cell(content: str, *, align: str = "left", nowrap: bool = False) -> str:
    wrap = "white-space:nowrap;" if nowrap else ""
    return (
        f'<td style="text-align:{align};vertical-align:top;padding:6px 10px;{wrap}'
        f'border-top:1px solid {_RULE}">{content}</td>'
    )


def _shorten(quote: Quote, limit: int) -> Quote:
    if len(quote.text) <= limit:
        return quote
    cut = quote.text.rfind(" ", 0, limit)
    cut = cut if cut > limit // 2 else limit
    matches = [m for m in quote.matches if m.end - quote.start <= cut]
    return quote.model_copy(update={"text": quote.text[:cut], "matches": matches})


def _area_labels(area: CooperationArea) -> dict[tuple[str, str | None], str]:
    return {(area.topic, None): area.label} | {(area.topic, s.id): s.label for s in area.subtopics}


def _area_row(area: CooperationArea) -> str:
    labels = _area_labels(area)
    subs = ", ".join(f"{_esc(s.label)}&#160;({s.mentions})" for s in area.subtopics[:4])
    if len(area.subtopics) > 4:
        subs += f' <span style="color:{_MUTED}">+{len(area.subtopics) - 4} more</span>'
    top = ""
    if area.quotes:
        short = _shorten(area.quotes[0], 180)
        ellipsis = "…" if len(short.text) < len(area.quotes[0].text) else ""
        top = _mark(short.text, _quote_spans(short, labels)) + ellipsis
    return (
        "<tr>"
        + "".join(
            [
                _cell(_swatch(area.topic) + f"<strong>{_esc(area.label)}</strong>", nowrap=True),
                _cell(_bar(area.score, topic_color(area.topic)), nowrap=True),
                _cell(str(area.mentions), align="right"),
                _cell(subs or f'<span style="color:{_MUTED}">—</span>'),
                _cell(top),
            ]
        )
        + "</tr>"
    )


def _table(areas: Sequence[CooperationArea]) -> str:
    heads = ["Area", "Score", "Mentions", "Sub-topics", "Top quote"]
    head = "".join(
        f'<th style="text-align:{"right" if h == "Mentions" else "left"};padding:6px 10px;'
        f'font-weight:600">{h}</th>'
        for h in heads
    )
    rows = "".join(_area_row(a) for a in areas) or (
        f'<tr><td colspan="5" style="padding:6px 10px;color:{_MUTED}">'
        "No cooperation area found.</td></tr>"
    )
    return (
        '<table style="border-collapse:collapse;width:100%;margin:8px 0 4px 0">'
        f"<thead><tr>{head}</tr></thead><tbody>{rows}</tbody></table>"
    )


def _quote_body(quote: Quote, labels: _Labels) -> str:
    meta = [f"sentence {quote.sentence}", f"score {quote.score:.2f}"]
    if quote.page is not None:
        meta.insert(0, f"p. {quote.page}")
    if quote.cues:
        meta.append("cues: " + ", ".join(_esc(c) for c in quote.cues))
    if quote.occurrences > 1:
        meta.append(f"occurs {quote.occurrences}×")
    return (
        f"{_mark(quote.text, _quote_spans(quote, labels))}"
        f'<div style="color:{_MUTED};font-size:12px">{" · ".join(meta)}</div>'
    )


def _quote_list(quotes: Sequence[Quote], labels: _Labels, start: int) -> str:
    items = "".join(f'<li style="margin:0 0 8px 0">{_quote_body(q, labels)}</li>' for q in quotes)
    return f'<ol start="{start}" style="margin:4px 0;padding-left:2em">{items}</ol>'


def _area_quotes(area: CooperationArea, max_quotes: int | None) -> str:
    labels = _area_labels(area)
    k = len(area.quotes) if max_quotes is None else max(0, max_quotes)
    shown, folded = area.quotes[:k], area.quotes[k:]
    color = topic_color(area.topic)
    body = _quote_list(shown, labels, 1) if shown else ""
    if folded:
        body += (
            f'<details><summary style="cursor:pointer;color:{_MUTED}">{len(folded)} more '
            f"quote{'s' if len(folded) > 1 else ''}</summary>"
            f"{_quote_list(folded, labels, k + 1)}</details>"
        )
    return (
        f'<div style="margin:12px 0 0 0;padding-left:10px;border-left:4px solid {color}">'
        f'<div style="font-weight:600">{_esc(area.label)} '
        f'<span style="font-weight:400;color:{_MUTED};font-size:12px">'
        f"{area.mentions} mentions in {area.sentences} sentences · "
        f"{len(area.quotes)} quote{'' if len(area.quotes) == 1 else 's'} · "
        f"terms: {_esc(', '.join(area.terms[:8]))}"
        f"{'…' if len(area.terms) > 8 else ''}</span></div>{body}</div>"
    )


def _header(result: DocumentResult) -> str:
    tagged = len(result.sentences)
    name = _esc(result.doc_id) if result.doc_id is not None else "Document"
    return (
        f'<div style="margin-bottom:4px"><strong style="font-size:15px">{name}</strong> '
        f'<span style="color:{_MUTED}">· taxonomy {_esc(result.taxonomy)} '
        f"{_esc(result.taxonomy_version)} · {result.n_sentences} sentences, {tagged} tagged · "
        f"{len(result.areas)} area{'' if len(result.areas) == 1 else 's'}</span></div>"
    )


def render(
    result: DocumentResult | CooperationArea | Quote,
    *,
    max_quotes: int | None = 3,
    topics: Iterable[str] | None = None,
    standalone: bool = False,
) -> str:
    """HTML view of a result: a table of areas, then each area's quotes, highlighted.

    The table shows each area's label, a score bar, its mentions, its sub-topics
    and its top quote. Under it, each area lists its quotes with the matched
    terms marked in the topic's colour; hovering a term shows the term, its
    sub-topic and the quote's score. This is what a notebook shows for a
    :class:`~policy_topics.DocumentResult`, a
    :class:`~policy_topics.CooperationArea` or a :class:`~policy_topics.Quote`.

    Args:
        result: The record to show.
        max_quotes: Quotes shown per area; the rest are folded in ``<details>``.
            None shows them all.
        topics: Only these topic ids (None: all areas); a valid id the
            document lacks shows no area. Used for a DocumentResult only.
        standalone: Return a whole HTML page instead of a fragment.

    Returns:
        Well-formed HTML, with every piece of text escaped.

    Raises:
        ValueError: A value of ``topics`` is not a topic id (a label such as
            ``"Trade"``, a typo); see :func:`check_topics`.
        TypeError: ``topics`` is one string, not a list of them.

    Example:
        >>> from policy_topics import Extractor
        >>> result = Extractor().extract("Both sides will cut tariffs and build solar plants.")
        >>> html = render(result, topics=["energy"])
        >>> "Energy" in html and ">Trade<" not in html
        True
    """
    if isinstance(result, Quote):
        body, title, lang = _box(_quote_body(result, {})), f"sentence {result.sentence}", "en"
    elif isinstance(result, CooperationArea):
        body = _box(_table([result]) + _area_quotes(result, max_quotes))
        title, lang = result.label, "en"
    elif isinstance(result, DocumentResult):
        wanted = None if topics is None else set(check_topics([result], topics, "render"))
        areas = [a for a in result.areas if wanted is None or a.topic in wanted]
        if result.error is not None:
            inner = _failure(result.error)
        else:
            inner = _table(areas) + "".join(_area_quotes(a, max_quotes) for a in areas)
        body = _box(_header(result) + inner)
        title, lang = result.doc_id or "policy-topics result", result.language or "en"
    else:
        raise TypeError(f"cannot render a {type(result).__name__}")
    return _page(body, title, lang) if standalone else body


def check_topics(results: Sequence[DocumentResult], topics: Iterable[str], who: str) -> list[str]:
    """``topics`` as a list, each checked to be a topic id of the results' taxonomy.

    A value that cannot be an id (ids are lower-case letters, digits, ``_``
    and ``-``), such as the label ``"Trade"``, is refused. A result holds the
    name and version of its taxonomy, not the taxonomy: when a packaged
    taxonomy has that name and version, an id it lacks ("trde") gets a
    warning, not an error, since a copy of it that kept its name may have
    that id. For another taxonomy only the topics the results found are
    known, and an id none of them found is no mistake.

    Args:
        results: The results the ids choose topics of.
        topics: Topic ids.
        who: The function to name in the message.

    Returns:
        The ids, in the order given.

    Raises:
        TypeError: ``topics`` is one string, not a list of them.
        ValueError: Some value cannot be a topic id. The message names each,
            with the id of the label, or of the sub-topic's topic, or the id
            it is a typo of, and lists the valid ids.

    Warns:
        UserWarning: An id that the packaged taxonomy of the results lacks.

    Example:
        >>> from policy_topics import Extractor
        >>> result = Extractor().extract("We cut tariffs.")
        >>> check_topics([result], ["trade", "digital"], "render")
        ['trade', 'digital']
        >>> check_topics([result], ["Trade", "energy"], "render")  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        ...
        ValueError: render: 'Trade' (the label of 'trade') is not a topic id; the topic ids ...
    """
    if isinstance(topics, str):
        raise TypeError(f"{who}: topics takes a list of topic ids, not one str: [{topics!r}]")
    wanted = list(topics)
    known: dict[str, None] = {}  # an ordered set: the taxonomy's order, then the found ids
    hints: dict[str, str] = {}  # casefolded label, id or sub-topic -> what it stands for
    complete = True
    for result in results:
        taxonomy = _packaged_taxonomy(result.taxonomy, result.taxonomy_version)
        if taxonomy is None:
            complete = False
            continue
        for topic, subtopic, node in taxonomy.iter_topics():
            if subtopic is None:
                known[topic] = None
                _hint(hints, [node.label], f"the label of {topic!r}")
                _hint(hints, [topic], f"did you mean {topic!r}?")
            else:
                names = [subtopic, subtopic.rsplit(".", 1)[-1], node.label]
                _hint(hints, names, f"a sub-topic of {topic!r}")
    for result in results:
        for area in result.areas:
            known[area.topic] = None
            _hint(hints, [area.label], f"the label of {area.topic!r}")
            _hint(hints, [area.topic], f"did you mean {area.topic!r}?")
            for sub in area.subtopics:
                names = [sub.id, sub.id.rsplit(".", 1)[-1], sub.label]
                _hint(hints, names, f"a sub-topic of {area.topic!r}")
        known.update(dict.fromkeys(t for tags in result.sentences for t in tags.topics))
    unknown = [t for t in dict.fromkeys(wanted) if t not in known]
    # A value that cannot be an id (a label such as "Trade") is a mistake; an
    # id unknown to the packaged taxonomy may belong to a copy of it that kept
    # its name and version, so it gets a warning and shows nothing.
    refused = [t for t in unknown if not _ID_RE.match(t)]
    doubtful = [t for t in unknown if _ID_RE.match(t)] if complete and results else []
    if not refused and not doubtful:
        return wanted
    ids = ", ".join(known) or "none"
    if complete:
        listed = f"the topic ids are {ids}"
    else:
        where, its = ("the result", "its") if len(results) == 1 else ("the results", "their")
        listed = (
            f"the topic ids found in {where} are {ids} ({its} taxonomy is not packaged, "
            f"so {its} other ids are not known here)"
        )
    if refused:
        verb = "is not a topic id" if len(refused) == 1 else "are not topic ids"
        raise ValueError(f"{who}: {_named(refused, hints, known)} {verb}; {listed}")
    verb = "is not a topic id" if len(doubtful) == 1 else "are not topic ids"
    warnings.warn(
        f"{who}: {_named(doubtful, hints, known)} {verb} of the packaged taxonomy "
        f"{results[0].taxonomy!r}, so nothing is shown for it; {listed}",
        UserWarning,
        stacklevel=3,
    )
    return wanted


def _named(values: list[str], hints: dict[str, str], known: Iterable[str]) -> str:
    """The values, each with what it may stand for: ``'Trade' (the label of 'trade')``."""
    named = []
    for value in values:
        hint = hints.get(value.casefold())
        if hint is None:
            close = difflib.get_close_matches(value, list(known), n=1)
            hint = f"did you mean {close[0]!r}?" if close else None
        named.append(f"{value!r}" + (f" ({hint})" if hint else ""))
    return ", ".join(named)


def _hint(hints: dict[str, str], names: Iterable[str], hint: str) -> None:
    for name in names:
        hints.setdefault(name.casefold(), hint)


@functools.lru_cache(maxsize=8)
def _packaged_taxonomy(name: str, version: str) -> Taxonomy | None:
    """The packaged taxonomy of this name and version, which made a result that names them."""
    path = packaged_taxonomies().get(name)
    if path is None:
        return None
    taxonomy = load_taxonomy(path)
    return taxonomy if taxonomy.version == version else None


def _failure(error: ErrorInfo) -> str:
    return (
        f'<div style="color:#b42318">Failed: <strong>{_esc(error.type)}</strong>'
        f": {_esc(error.message)}</div>"
    )


def _page(body: str, title: str, lang: str) -> str:
    return (
        f'<!DOCTYPE html>\n<html lang="{_esc(lang)}">\n<head>\n<meta charset="utf-8" />\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1" />\n'
        f"<title>{_esc(title)}</title>\n</head>\n"
        f'<body style="margin:0;padding:24px;background:#f6f8fa">\n{body}\n</body>\n</html>\n'
    )


def _clip(text: str, limit: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def describe(record: DocumentResult | CooperationArea | Quote) -> str:
    """A concise one-line text summary of a record (the ``text/plain`` of its display).

    Args:
        record: The record to summarise.

    Returns:
        One line, at most about 200 characters whatever the document's size.

    Example:
        >>> from policy_topics import Extractor
        >>> describe(Extractor().extract("Tariffs fell.", doc_id="memo"))  # doctest: +ELLIPSIS
        "DocumentResult 'memo': 1 area in 1 sentence (trade 0...)"
    """
    if isinstance(record, Quote):
        terms = list(dict.fromkeys(m.term for m in record.matches))
        more = f" +{len(terms) - 4}" if len(terms) > 4 else ""
        page = "" if record.page is None else f"p. {record.page}, "
        return (
            f"Quote ({page}sentence {record.sentence}, score {record.score:.2f}): "
            f"{_clip(record.text, 80)!r} [{', '.join(_clip(t, 30) for t in terms[:4])}{more}]"
        )
    if isinstance(record, CooperationArea):
        return (
            f"CooperationArea {_clip(record.topic, 40)} ({_clip(record.label, 40)}): "
            f"score {record.score:.2f}, {record.mentions} mentions in {record.sentences} "
            f"sentences, {len(record.quotes)} quotes"
        )
    if isinstance(record, DocumentResult):
        name = "" if record.doc_id is None else f" {_clip(record.doc_id, 40)!r}"
        if record.error is not None:
            error = f"{record.error.type}: {_clip(record.error.message, 80)}"
            return f"DocumentResult{name}: failed, {error}"
        n, s = len(record.areas), record.n_sentences
        areas = ", ".join(f"{_clip(a.topic, 20)} {a.score:.2f}" for a in record.areas[:5])
        more = f", +{n - 5} more" if n > 5 else ""
        return (
            f"DocumentResult{name}: {n} area{'' if n == 1 else 's'} in {s} "
            f"sentence{'' if s == 1 else 's'}" + (f" ({areas}{more})" if n else "")
        )
    raise TypeError(f"cannot describe a {type(record).__name__}")


def mimebundle(
    record: DocumentResult | CooperationArea | Quote,
    include: Iterable[str] | None = None,
    exclude: Iterable[str] | None = None,
) -> dict[str, str]:
    """The ``text/html`` and ``text/plain`` views of a record, for ``_repr_mimebundle_``.

    Args:
        record: The record to show.
        include: Only these MIME types (None: both).
        exclude: Not these MIME types.

    Returns:
        A dict from MIME type to content.

    Example:
        >>> from policy_topics import Extractor
        >>> sorted(mimebundle(Extractor().extract("Tariffs fell."), include=["text/plain"]))
        ['text/plain']
    """
    wanted = {"text/html", "text/plain"}
    if include is not None:
        wanted &= set(include)
    if exclude is not None:
        wanted -= set(exclude)
    bundle = {}
    if "text/plain" in wanted:
        bundle["text/plain"] = describe(record)
    if "text/html" in wanted:
        bundle["text/html"] = render(record)
    return bundle


# --- the full text -------------------------------------------------------------------------


# The full text of a highlighted document: line breaks kept, long words wrapped.
_TEXT_STYLE = (
    "white-space:pre-wrap;overflow-wrap:anywhere;font-family:Georgia,'Times New Roman',"
    "serif;font-size:16px;line-height:1.75;margin-top:12px"
)


@functools.lru_cache(maxsize=1)
def _default_extractor() -> Extractor:
    """The Extractor that tags a text given to :func:`highlight` without one."""
    from policy_topics.extract import Extractor

    return Extractor()


def highlight(
    text_or_result: str | DocumentResult,
    *,
    extractor: Extractor | None = None,
    result: DocumentResult | None = None,
    standalone: bool = True,
    title: str | None = None,
) -> str:
    """The document with every tagged span marked in its topic's colour, like displaCy.

    Given a string, it is tagged (with ``extractor``, or a default
    :class:`~policy_topics.Extractor` made on the first such call and kept)
    unless you pass its ``result``; the page
    then shows the whole text, line breaks kept, built by walking the original
    string with the match offsets. A result alone holds no full text, so the
    page then shows its quoted sentences. Overlapping matches of different
    topics are marked in bands of both colours; hovering a match shows its
    term, sub-topic and sentence score.

    Args:
        text_or_result: The document text, or a result.
        extractor: The extractor to tag the text with, and whose taxonomy
            labels the sub-topics.
        result: The result of ``extractor.extract(text)``, to avoid tagging
            the text again.
        standalone: A whole HTML page (default), e.g. for ``-f html``;
            False gives a fragment for a notebook.
        title: Title of the page (default: the result's doc id).

    Returns:
        Well-formed HTML, with every piece of text escaped.

    Raises:
        ValueError: ``result`` does not come from this text.

    An error record is shown with why it failed, and its text (when given)
    unmarked.

    Example:
        >>> page = highlight("We will cut tariffs on <steel>.")
        >>> page.startswith("<!DOCTYPE html>") and "&lt;steel&gt;" in page
        True
    """
    if isinstance(text_or_result, DocumentResult):
        result, text = text_or_result, None
    else:
        text = text_or_result
        if result is None:
            if extractor is None:
                extractor = _default_extractor()
            result = extractor.extract(text)
        elif result.error is None and (
            result.n_chars != len(text)
            or any(text[m.start : m.end] != m.text for s in result.sentences for m in s.matches)
        ):
            raise ValueError("result does not come from this text: its offsets do not match")
    if result.error is not None:  # an error record: say why, and show the text unmarked
        shown = "" if text is None else f'<div style="{_TEXT_STYLE}">{_mark(text, [])}</div>'
        inner = _header(result) + _failure(result.error) + shown
    else:
        labels = _labels(result, extractor)
        spans = []
        for tags in result.sentences:
            for m in tags.matches:
                title = _match_title(m, labels, tags.scores.get(m.topic, 0.0))
                spans.append(_Span(m.start, m.end, m.topic, title))
        body = _quoted_sentences(result, spans) if text is None else _mark(text, spans)
        inner = (
            _header(result)
            + _legend(result, spans, labels)
            + f'<div style="{_TEXT_STYLE}">{body}</div>'
        )
    page_title = title or result.doc_id or "policy-topics"
    return _page(_box(inner), page_title, result.language or "en") if standalone else _box(inner)


def highlight_page(
    documents: Iterable[tuple[DocumentResult, str | None]],
    *,
    title: str = "policy-topics",
    extractor: Extractor | None = None,
) -> str:
    """One standalone HTML page with the highlighted text of several documents.

    Args:
        documents: ``(result, text)`` pairs; with ``text`` None (a failed or
            unreadable document) the result alone is shown.
        title: Title of the page.
        extractor: The extractor that made the results, whose taxonomy labels
            the topics and sub-topics that are no area of a document.

    Returns:
        Well-formed HTML, every piece of text escaped.

    Example:
        >>> from policy_topics import Extractor
        >>> texts = ["We cut tariffs.", "Oil <b>prices</b> rose."]
        >>> pairs = [(Extractor().extract(t), t) for t in texts]
        >>> page = highlight_page(pairs)
        >>> page.count("<!DOCTYPE html>"), "&lt;b&gt;" in page
        (1, True)
    """
    parts = [
        highlight(result, extractor=extractor, standalone=False)
        if text is None
        else highlight(text, result=result, extractor=extractor, standalone=False)
        for result, text in documents
    ]
    body = '<div style="margin:0 0 24px 0"></div>'.join(parts)
    return _page(body, title, "en")


def _labels(
    result: DocumentResult, extractor: Extractor | None
) -> dict[tuple[str, str | None], str]:
    labels: dict[tuple[str, str | None], str] = {}
    for area in result.areas:
        labels[(area.topic, None)] = area.label
        for sub in area.subtopics:
            labels[(area.topic, sub.id)] = sub.label
    # A match's topic may be no area (below min_score), and a sub-topic be none
    # of its area's: the taxonomy names them, the extractor's or the packaged one.
    taxonomy = (
        extractor.taxonomy
        if extractor is not None
        else _packaged_taxonomy(result.taxonomy, result.taxonomy_version)
    )
    if taxonomy is not None:
        for tags in result.sentences:
            for m in tags.matches:
                for key in ((m.topic, None), (m.topic, m.subtopic)):
                    if key not in labels:
                        try:
                            labels[key] = taxonomy.label_of(*key)
                        except (KeyError, ValueError):
                            continue
    return labels


def _legend(result: DocumentResult, spans: Sequence[_Span], labels: _Labels) -> str:
    counts: dict[str, int] = defaultdict(int)
    for span in spans:
        counts[span.topic] += 1
    items = "".join(
        f'<span style="display:inline-block;margin:2px 14px 2px 0;white-space:nowrap">'
        f'<mark style="background:{_tint(topic_color(t))};color:{_INK};padding:0 4px;'
        f'border-radius:2px;border-bottom:2px solid {topic_color(t)}">'
        f"{_esc(labels.get((t, None), t))}</mark> {n}</span>"
        for t, n in sorted(counts.items(), key=lambda kv: -kv[1])
    )
    if not items:
        items = f'<span style="color:{_MUTED}">No tagged span.</span>'
    return f'<div style="margin:6px 0;font-size:13px">{items}</div>'


def _quoted_sentences(result: DocumentResult, spans: Sequence[_Span]) -> str:
    quotes = {(q.start, q.end): q for a in result.areas for q in a.quotes}
    ordered = sorted(spans, key=lambda s: s.start)
    starts = [s.start for s in ordered]
    parts = []
    for (start, end), quote in sorted(quotes.items()):
        inside = [
            _Span(s.start - start, s.end - start, s.topic, s.title)
            for s in ordered[bisect_left(starts, start) : bisect_left(starts, end)]
            if s.end <= end
        ]
        parts.append(_mark(quote.text, inside))
    shown = len(quotes)
    note = (
        f'<div style="font-family:{_FONT};font-size:12px;color:{_MUTED}">The result holds no '
        f"full text: showing its {shown} quoted sentence{'' if shown == 1 else 's'} of "
        f"{len(result.sentences)} tagged. Pass the text to see them all.</div>"
    )
    return note + "\n…\n".join(parts)
