"""Normalisation and sentence segmentation: pure functions on strings.

Segmentation returns character offsets into the caller's string, never a
modified copy, so quotes can always be cut from the original text. Every
boundary falls on whitespace, which keeps sentences aligned with spaCy tokens
(spaCy's tokenizer never builds a token across whitespace); only for a word
segmenter's text may one fall right after ``。`` (see :func:`split_sentences`).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable

__all__ = [
    "MAX_SENTENCE_CHARS",
    "collapse_whitespace",
    "counted",
    "dedup_key",
    "folded",
    "for_terminal",
    "has_invisible",
    "is_bullet_marker",
    "keep_tokens_whole",
    "normalize_term",
    "replace_surrogates",
    "split_sentences",
    "trim_sentence",
    "trim_span",
    "visible",
]

#: Sentences longer than this are cut at whitespace so one runaway line
#: (a scraped page with no punctuation) cannot become a single huge quote.
MAX_SENTENCE_CHARS = 2000

_WS_RE = re.compile(r"\s+")
#: Characters that show nothing inside a word: the soft hyphen, the zero-width
#: space, the word joiner and the zero-width no-break space. Web pages and PDFs
#: put them inside words (``manu\u00adfacturing``); matching reads past them.
_INVISIBLE = "\u00ad\u200b\u2060\ufeff"
_INVISIBLE_RE = re.compile(f"[{_INVISIBLE}]")
_DROP_INVISIBLE = dict.fromkeys(map(ord, _INVISIBLE))
_SURROGATE_RE = re.compile(r"[\ud800-\udfff]")  # mypyc refuses lone surrogates in literals
_BLANK_LINE_RE = re.compile(r"\n[^\S\n]*\n\s*")
_LINE_RE = re.compile(r"[^\n]+")
_MARKER = r"(?:[-*•▪◦‣●–—]|\d{1,3}(?:\.\d{1,3})*[.)]|[IVXivx]{1,5}[.)]|[a-zA-Z][.)]|\(\w{1,3}\))"
_BULLET_RE = re.compile(_MARKER + r"(?=\s)")
_BULLET_PREFIX_RE = re.compile(_MARKER + r"\s+")
_MARKER_RE = re.compile(_MARKER)
# A sentence end and the whitespace after it (group "space"). It starts only on the
# first character of a run of end characters (the lookbehind after it): otherwise a
# long run of dots with no space after it is rescanned from every dot, in quadratic
# time. Checking after the first character keeps the engine's fast scan for it.
#
# The ideographic full stops and full-width marks of Chinese and Japanese end a
# sentence too. Those texts put no space after them, so there such an end needs
# none (``unspaced``, for word segmenters only: see split_sentences).
_WIDE_ENDS = "。｡！？"
_ENDS = ".!?…" + _WIDE_ENDS
_WIDE_END_SET = frozenset(_WIDE_ENDS)
_CLOSERS = "\"'”’»)\\]」』）】〕〗〙〛］｝〉》"
_END_RE = re.compile(rf"[{_ENDS}](?<![{_ENDS}][{_ENDS}])[{_ENDS}]*[{_CLOSERS}]*(?P<space>\s+)")
_END_UNSPACED_RE = re.compile(
    rf"[{_ENDS}](?<![{_ENDS}][{_ENDS}])[{_ENDS}]*[{_CLOSERS}]*(?P<space>\s*)"
)
_LINE_END_STRONG_RE = re.compile(rf"[{_ENDS}][{_CLOSERS}]*$")
_LINE_END_WEAK_RE = re.compile(rf"[:;：；][{_CLOSERS}]*$")
# A word broken at its hyphen at the end of a line ("South-" / "South cooperation"):
# the line goes on, however short or capitalised it is.
_LINE_END_HYPHEN_RE = re.compile(r"[^\W_][-\u2010\u2011]$")
_OPENERS = "\"'“‘«([{¿¡"
# What cannot follow a Chinese or Japanese end as the first character of a sentence.
_NOT_A_START = _ENDS + _CLOSERS + "、，,;；:：…‥・ー"

_ABBREVIATIONS = frozenset(
    [
        "mr",
        "mrs",
        "ms",
        "dr",
        "prof",
        "st",
        "no",
        "nos",
        "vs",
        "v",
        "etc",
        "e.g",
        "i.e",
        "cf",
        "al",
        "inc",
        "ltd",
        "co",
        "corp",
        "plc",
        "jr",
        "sr",
        "jan",
        "feb",
        "mar",
        "apr",
        "jun",
        "jul",
        "aug",
        "sep",
        "sept",
        "oct",
        "nov",
        "dec",
        "art",
        "arts",
        "sec",
        "para",
        "paras",
        "fig",
        "figs",
        "vol",
        "vols",
        "gen",
        "gov",
        "govt",
        "sen",
        "rep",
        "reps",
        "hon",
        "rev",
        "est",
        "approx",
        "dept",
        "min",
        "max",
        "pp",
        "p",
        "op",
        "ed",
        "eds",
        "u.s",
        "u.k",
        "u.n",
        "e.u",
        "u.s.a",
        "p.r.c",
        "d.c",
        "a.m",
        "p.m",
    ]
)
_MINOR_WORDS = frozenset(
    [
        "a",
        "an",
        "and",
        "as",
        "at",
        "by",
        "for",
        "from",
        "in",
        "of",
        "on",
        "or",
        "the",
        "to",
        "with",
        "vs",
        "via",
    ]
)


def counted(n: int, noun: str) -> str:
    """``n`` and the noun, plural unless ``n`` is 1.

    Example:
        >>> counted(1, "topic"), counted(2, "topic")
        ('1 topic', '2 topics')
    """
    return f"{n} {noun}{'' if n == 1 else 's'}"


def collapse_whitespace(text: str) -> str:
    """Replace every run of whitespace with one space and strip the ends.

    Example:
        >>> collapse_whitespace("local  currency\\nsettlement ")
        'local currency settlement'
    """
    return _WS_RE.sub(" ", text).strip()


def has_invisible(text: str) -> bool:
    """Whether ``text`` holds a soft hyphen, a zero-width space or another invisible mark.

    Example:
        >>> has_invisible("manu\\u00adfacturing"), has_invisible("manufacturing")
        (True, False)
    """
    return not text.isprintable() and _INVISIBLE_RE.search(text) is not None


def visible(word: str) -> str:
    """``word`` without its invisible marks (see :func:`has_invisible`): the word it shows.

    Example:
        >>> visible("manu\\u00adfacturing\\u200b")
        'manufacturing'
    """
    return word.translate(_DROP_INVISIBLE)


def replace_surrogates(text: str) -> str:
    """Replace lone surrogates, which no encoder accepts, with U+FFFD.

    The length is unchanged, so offsets computed on the result are offsets
    into the original string.

    Example:
        >>> replace_surrogates("a\\ud800b") == "a\\ufffdb"
        True
    """
    if text.isascii() or _SURROGATE_RE.search(text) is None:
        return text
    return _SURROGATE_RE.sub("\ufffd", text)


#: What a terminal would act on rather than show (ESC starts its escape sequences,
#: CR returns to the start of the line, BEL rings): the C0 controls but the line
#: feed, and DEL, become their Unicode control pictures; the C1 controls (0x9B
#: starts a sequence too) become U+FFFD.
_TERMINAL_CONTROLS = (
    {c: 0x2400 + c for c in range(32) if c != 10}
    | {0x7F: 0x2421}
    | {c: 0xFFFD for c in range(0x80, 0xA0)}
)


def for_terminal(text: str) -> str:
    """``text`` safe to print to a terminal: control characters shown, not acted on.

    A document's text (or a file's name) may hold escape sequences that clear
    the screen or set a window's title; what is printed shows them instead, as
    the HTML views do. Line feeds are kept; lone surrogates become U+FFFD.

    Example:
        >>> for_terminal("cut \\x1b[2Jtariffs\\r\\n") == "cut \\u241b[2Jtariffs\\u240d\\n"
        True
    """
    return replace_surrogates(text).translate(_TERMINAL_CONTROLS)


def normalize_term(term: str) -> str:
    """Normalise a taxonomy term: Unicode NFC, single spaces, no outer blanks.

    Example:
        >>> normalize_term("  Trade\\tagreement ")
        'Trade agreement'
    """
    return collapse_whitespace(unicodedata.normalize("NFC", term))


def dedup_key(text: str) -> str:
    """Key under which two sentences count as the same quote.

    Compatibility-normalised, case-folded and whitespace-collapsed, so a
    paragraph scraped twice with different line wrapping still matches.

    Example:
        >>> dedup_key("Trade\\u00a0grows.") == dedup_key("trade grows.")
        True
    """
    return collapse_whitespace(unicodedata.normalize("NFKC", text).casefold())


def is_bullet_marker(word: str) -> bool:
    """Whether a run of non-space characters is a bullet marker (``-``, ``1.``, ``(a)``, ``iv.``).

    Example:
        >>> is_bullet_marker("2.1."), is_bullet_marker("We")
        (True, False)
    """
    return _MARKER_RE.fullmatch(word) is not None


def split_sentences(
    text: str, *, max_chars: int = MAX_SENTENCE_CHARS, unspaced: bool = False
) -> list[tuple[int, int]]:
    """Split text into sentences, as ``(start, end)`` offsets into ``text``.

    Handles what real policy text holds: headings without final punctuation,
    bullets (``-``, ``•``, ``1.``), soft line breaks inside a paragraph versus
    blank-line paragraph breaks, abbreviations (``U.S.``, ``e.g.``, ``No.``),
    closing quotes and brackets after the full stop. Bullet markers are left
    out of the sentence; surrounding whitespace is never part of it.
    Chinese and Japanese ends (``。``, ``！``, ``？``, and closing ``」`` after
    them) end a sentence when whitespace follows; with ``unspaced``, also when
    the next sentence follows at once, as such text is written.

    Args:
        text: The document text, unchanged.
        max_chars: Sentences longer than this are cut at the last whitespace
            before the limit.
        unspaced: End sentences at ``。！？`` with no whitespace after them.
            Only for text a word segmenter tokenises (spaCy's Chinese,
            Japanese, Korean or Thai tokenizers), which makes such an end a token
            of its own: a sentence boundary must fall between tokens.

    Returns:
        Offsets in order, non-overlapping, each non-empty, each starting and
        ending on a non-space character.

    Example:
        >>> t = "Trade Policy\\n- Cut tariffs. Expand exports.\\n"
        >>> [t[s:e] for s, e in split_sentences(t)]
        ['Trade Policy', 'Cut tariffs.', 'Expand exports.']
    """
    spans: list[tuple[int, int]] = []
    ends = _END_UNSPACED_RE if unspaced else _END_RE
    if "\n" not in text:  # one line (a common shape: a scraped sentence, a title)
        _split_block(text, 0, len(text), max_chars, spans, ends, one_line=True)
        return spans
    block_start = 0
    for blank in _BLANK_LINE_RE.finditer(text):
        _split_block(text, block_start, blank.start(), max_chars, spans, ends)
        block_start = blank.end()
    _split_block(text, block_start, len(text), max_chars, spans, ends)
    return spans


def _split_block(
    text: str,
    start: int,
    end: int,
    max_chars: int,
    out: list[tuple[int, int]],
    ends: re.Pattern[str],
    *,
    one_line: bool = False,
) -> None:
    if one_line:
        trimmed = trim_span(text, start, end)
        lines = [] if trimmed is None else [trimmed]
    else:
        lines = [
            trimmed
            for m in _LINE_RE.finditer(text, start, end)
            if (trimmed := trim_span(text, m.start(), m.end())) is not None
        ]
    unit_start: int | None = None
    unit_end = start
    for i, (line_start, line_end) in enumerate(lines):
        line = text[line_start:line_end]
        if unit_start is not None and _is_break(text[lines[i - 1][0] : lines[i - 1][1]], line):
            _split_unit(text, unit_start, unit_end, max_chars, out, ends)
            unit_start = None
        if unit_start is None:
            bullet = _BULLET_PREFIX_RE.match(line)
            unit_start = line_start + (bullet.end() if bullet and bullet.end() < len(line) else 0)
        unit_end = line_end
    if unit_start is not None:
        _split_unit(text, unit_start, unit_end, max_chars, out, ends)


def keep_tokens_whole(
    spans: list[tuple[int, int]], token_starts: Iterable[int]
) -> list[tuple[int, int]]:
    """Sentences joined where a boundary with no space would cut a token in two.

    ``split_sentences(..., unspaced=True)`` ends a sentence right after ``。``;
    a tokenizer that keeps ``。`` inside a token makes that no boundary.
    Boundaries at whitespace are kept, as they are with any tokenizer.

    Args:
        spans: Sentences, as from :func:`split_sentences`.
        token_starts: The offset of every token (``Token.idx``), or at least
            of those that start right where the sentence before them ends.

    Example:
        >>> keep_tokens_whole([(0, 3), (3, 5), (5, 8)], [0, 2, 5, 7])
        [(0, 5), (5, 8)]
    """
    starts = set(token_starts)
    kept: list[tuple[int, int]] = []
    for start, end in spans:
        if kept and start == kept[-1][1] and start not in starts:
            kept[-1] = (kept[-1][0], end)
        else:
            kept.append((start, end))
    return kept


def trim_span(text: str, start: int, end: int) -> tuple[int, int] | None:
    """``(start, end)`` narrowed to leave out surrounding whitespace; None if nothing is left.

    Example:
        >>> trim_span(" a b \\n", 0, 6)
        (1, 4)
    """
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return (start, end) if start < end else None


def trim_sentence(text: str, start: int, end: int) -> tuple[int, int] | None:
    """A sentence of someone else's segmentation, trimmed as :func:`split_sentences` trims ours.

    Surrounding whitespace and a leading bullet marker (``-``, ``•``, ``1.``,
    ``a)``) followed by more text are left out; None if nothing is left.

    Example:
        >>> text = "\\n- Free trade grew. "
        >>> start, end = trim_sentence(text, 0, len(text))
        >>> text[start:end]
        'Free trade grew.'
    """
    trimmed = trim_span(text, start, end)
    if trimmed is None:
        return None
    start, end = trimmed
    bullet = _BULLET_PREFIX_RE.match(text, start, end)
    if bullet is not None and bullet.end() < end:
        start = bullet.end()
    return start, end


def _is_break(previous: str, line: str) -> bool:
    """Whether a line break between two lines of one block ends a unit."""
    if _BULLET_RE.match(line):
        return True
    first = line[0]
    if first.isalpha() and _LINE_END_HYPHEN_RE.search(previous):
        return False
    if _LINE_END_STRONG_RE.search(previous):
        return not first.islower()
    if _LINE_END_WEAK_RE.search(previous):
        return first.isupper() or first.isdigit()
    if first.islower():
        return False
    return _looks_like_heading(previous)


def _looks_like_heading(line: str) -> bool:
    words = line.split()
    if len(words) > 14 or len(line) > 120:
        return False
    letters = [c for c in line if c.isalpha()]
    if letters and all(c.isupper() for c in letters):
        return True
    content = [w for w in words if w[0].isalpha() and w.lower() not in _MINOR_WORDS]
    if not content:
        return True
    capitalised = sum(1 for w in content if w[0].isupper())
    return capitalised / len(content) >= 0.6


def _split_unit(
    text: str,
    start: int,
    end: int,
    max_chars: int,
    out: list[tuple[int, int]],
    ends: re.Pattern[str],
) -> None:
    sent_start = start
    for m in ends.finditer(text, start, end):
        cut, nxt = m.span("space")
        if nxt >= end:
            continue
        # "." "!" "?" end a sentence before whitespace and a sentence's start; the
        # wide ends before whitespace, or before any start when unspaced.
        if cut == nxt:
            if text[nxt] in _NOT_A_START or _WIDE_END_SET.isdisjoint(text[m.start() : cut]):
                continue
        elif not _starts_sentence(text[nxt]) and _WIDE_END_SET.isdisjoint(text[m.start() : cut]):
            continue
        if (
            text[m.start()] == "."
            and cut - m.start() == 1
            and _is_abbreviation(text, sent_start, m.start())
        ):
            continue
        _emit(text, sent_start, cut, max_chars, out)
        sent_start = nxt
    _emit(text, sent_start, end, max_chars, out)


def _starts_sentence(char: str) -> bool:
    return (
        char.isupper()
        or char.isdigit()
        or char in _OPENERS
        or (not char.isalpha() and not char.islower())
    )


def _is_abbreviation(text: str, sent_start: int, period: int) -> bool:
    # Walk back over the word before the period: a forward search from the
    # sentence start would make a run of abbreviations quadratic. As before,
    # the word may end just before a line break that precedes the period.
    end = period - 1 if period > sent_start and text[period - 1] == "\n" else period
    start = end
    while start > sent_start and not text[start - 1].isspace():
        start -= 1
    if start == end:
        return False
    word = text[start:end].lstrip(_OPENERS).lower()
    if len(word) == 1 and word.isalpha():
        return True
    return word in _ABBREVIATIONS


def _emit(text: str, start: int, end: int, max_chars: int, out: list[tuple[int, int]]) -> None:
    if end - start <= max_chars and not (text[start].isspace() or text[end - 1].isspace()):
        out.append((start, end))  # the usual case: nothing to trim or cut
        return
    trimmed = trim_span(text, start, end)
    if trimmed is None:
        return
    start, end = trimmed
    while end - start > max_chars:
        cut = _last_space(text, start + 1, start + max_chars)
        if cut is None:
            following = _WS_RE.search(text, start + max_chars, end)
            if following is None:
                break
            cut = following.start()
        piece = trim_span(text, start, cut)
        if piece is not None:
            out.append(piece)
        rest = trim_span(text, cut, end)
        if rest is None:
            return
        start, end = rest
    out.append((start, end))


def _last_space(text: str, lo: int, hi: int) -> int | None:
    for i in range(hi, lo - 1, -1):
        if text[i].isspace():
            return i
    return None


#: A Greek letter, of the Greek and Coptic block or of Greek Extended (polytonic).
_GREEK_RE = re.compile("[\u0370-\u03ff\u1f00-\u1fff]")


def _without_greek_marks(text: str) -> str:
    """``text`` with the marks on its Greek letters taken off: tonos, dialytika, breathings.

    Only Greek letters lose their marks, so a sentence that also holds
    "coopération" folds as its words do one by one.

    Example:
        >>> _without_greek_marks("ἐνέργεια, coopération")
        'ενεργεια, coopération'
    """
    kept: list[str] = []
    greek = False
    for c in unicodedata.normalize("NFD", text):
        if not unicodedata.combining(c):
            greek = _GREEK_RE.match(c) is not None
        elif greek:
            continue
        kept.append(c)
    return unicodedata.normalize("NFC", "".join(kept))


def folded(lower: str) -> str:
    """A lower-case word as terms and tokens are compared: compatibility forms as
    the letters they stand for, ß as ss, and a lower-cased İ as i.

    Typeset PDFs give their ligatures as one character ("ﬁnancial", "tariﬀs"),
    some sources write accents as combining marks, and Asian text may write
    Latin letters full-width: Unicode's compatibility normalisation (NFKC)
    turns each into its plain letters, so ``financial`` finds "ﬁnancial".
    German writes ß as SS in capitals (and Swiss German always as ss), so
    ``außenhandel`` finds "AUSSENHANDEL"; Python lower-cases the Turkish İ to
    i and a combining dot, so ``ihracat`` finds "İhracat". Greek drops its
    accents in capitals, so Greek words are compared without them (as
    Lucene's Greek analyser does): ``ενέργεια`` finds "ΕΝΕΡΓΕΙΑ".

    Example:
        >>> folded("außenhandel"), folded("İhracat".lower()), folded("ﬁnancial")
        ('aussenhandel', 'ihracat', 'financial')
        >>> folded("ενέργεια") == folded("ΕΝΕΡΓΕΙΑ".lower())
        True
    """
    if lower.isascii():
        return lower
    if _GREEK_RE.search(lower) is not None:
        lower = _without_greek_marks(lower)
    if not unicodedata.is_normalized("NFKC", lower):
        # Lower-cased again: NFKC gives capitals for some symbols ("™" is "TM").
        lower = unicodedata.normalize("NFKC", lower).lower()
    if "ß" in lower:
        lower = lower.replace("ß", "ss")
    if "\u0307" in lower:
        lower = lower.replace("i\u0307", "i")
    return lower
