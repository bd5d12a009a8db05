"""Page numbers of quotes: where each page of a document starts, checked and looked up.

A document read from a PDF knows where each of its pages begins in its text:
:func:`~policy_topics.io.read_documents` gives it ``pages``, a list of
``(page, start)`` pairs, one per page that holds text: the physical page
number (from 1, empty pages counted) and the character offset in the text
where that page's text begins. A quote's ``page`` is the page its sentence
starts on. Callers with a PDF text of their own pass the same pairs as
``Extractor.extract(text, pages=...)`` or as the ``pages`` of a document
given to ``extract_many``.

Example:
    >>> pages = check_pages([(1, 0), (3, 40)], 90)
    >>> page_of(pages, 0), page_of(pages, 39), page_of(pages, 40)
    (1, 1, 3)
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Mapping
from typing import Any, NamedTuple

from policy_topics.plain import is_whole_number

__all__ = ["PageStarts", "Pages", "check_pages", "page_of"]

#: Where pages begin: ``(page, start)`` pairs, page numbers from 1, starts increasing.
Pages = list[tuple[int, int]]

# Problems named in full in the error message; the rest are counted.
_MOST_NAMED = 5


class PageStarts(NamedTuple):
    """Checked pages, as :func:`check_pages` returns them: two lists, for bisection."""

    starts: list[int]
    numbers: list[int]


def check_pages(pages: Any, length: int) -> PageStarts:
    """Check a document's page starts against its text's length.

    Args:
        pages: ``(page, start)`` pairs (lists or tuples): ``page`` a whole
            number >= 1, ``start`` a character offset in ``[0, length]``,
            each page and each start after the one before.
        length: Length of the document's text.

    Returns:
        The pages as plain ints.

    Raises:
        ValueError: ``pages`` is not a list of such pairs; the message names
            every problem (the first five in full) with its place in the list.

    Example:
        >>> check_pages([(1, 0), (2, 50)], 40)
        Traceback (most recent call last):
        ...
        ValueError: pages[1]: start 50 lies outside the text (0 to 40)
    """
    if isinstance(pages, str | bytes | Mapping) or not hasattr(pages, "__iter__"):
        raise ValueError(f"pages must be a list of (page, start) pairs, not {type(pages).__name__}")
    starts: list[int] = []
    page_numbers: list[int] = []
    problems: list[str] = []
    last = -1  # the last start that lies in the text, for the next to come after
    last_page = 0  # the last whole page number, for the next to come after
    for i, entry in enumerate(pages):
        where = f"pages[{i}]"
        try:
            if isinstance(entry, str | bytes | Mapping):
                raise TypeError
            page, start = entry
        except (TypeError, ValueError):
            problems.append(f"{where} is {_shown(entry)}, not a (page, start) pair")
            continue
        if not is_whole_number(page) or page < 1:
            problems.append(f"{where}: page {_shown(page)} is not a whole number >= 1")
        elif page <= last_page:
            # A PDF's pages come in order: pairs out of order are a mistake of the caller's.
            problems.append(
                f"{where}: page {page} does not come after the page before it ({last_page})"
            )
        else:
            last_page = int(page)
        if not is_whole_number(start):
            problems.append(f"{where}: start {_shown(start)} is not a whole number")
            continue
        if not 0 <= start <= length:
            problems.append(f"{where}: start {start} lies outside the text (0 to {length})")
        elif start <= last:
            problems.append(
                f"{where}: start {start} does not come after the start before it ({last})"
            )
        else:
            last = int(start)
        starts.append(int(start))
        page_numbers.append(int(page) if is_whole_number(page) else 0)
    if problems:
        named = "; ".join(problems[:_MOST_NAMED])
        more = len(problems) - _MOST_NAMED
        raise ValueError(named + (f"; and {more} more problems" if more > 0 else ""))
    return PageStarts(starts, page_numbers)


def page_of(pages: PageStarts, offset: int) -> int | None:
    """The page on which ``offset`` lies: the last page starting at or before it.

    Returns:
        The page number; None for an offset before the first page's start.

    Example:
        >>> page_of(PageStarts([5], [2]), 4) is None
        True
    """
    at = bisect_right(pages.starts, offset) - 1
    return pages.numbers[at] if at >= 0 else None


def _shown(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."
