"""Result writers: JSON, JSON Lines and CSV streams, atomic files, DataFrames."""

from __future__ import annotations

import contextlib
import csv
import errno
import itertools
import json
import math
import os
import re
import stat
import tempfile
import warnings
from collections.abc import Callable, Iterable, Iterator
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, Protocol, TextIO, cast

from pydantic_core import PydanticSerializationError

from policy_topics.records import (
    DocumentResult,
    _LineResult,
    check_many,
    checked_results,
    doc_label,
)
from policy_topics.text import replace_surrogates

if TYPE_CHECKING:
    import pandas

__all__ = [
    "CSV_COLUMNS",
    "DATAFRAME_COLUMNS",
    "CsvWriter",
    "JsonWriter",
    "JsonlWriter",
    "ResultWriter",
    "descriptor_of",
    "foreign_format",
    "open_output",
    "quote_rows",
    "record_json",
    "to_dataframe",
    "write_results",
]

# "Int64" is pandas' nullable integer: a quote's page is NA where the document has none.
_STRING, _INT, _FLOAT, _NULLABLE_INT = "string", "int64", "float64", "Int64"
_BOOL = "bool"

#: Columns and dtypes of each level of :func:`to_dataframe` (and of
#: :func:`policy_topics.dask.extract_dataframe`). Strings are pandas ``string``;
#: a document without an id is ``#<position>`` in :func:`to_dataframe` and NA
#: in the Dask frame, whose partitions do not know their place in the whole.
DATAFRAME_COLUMNS: dict[str, dict[str, str]] = {
    "areas": {
        "doc_id": _STRING,
        "topic": _STRING,
        "label": _STRING,
        "score": _FLOAT,
        "mentions": _INT,
        "sentences": _INT,
        "quotes": _INT,
        "terms": _STRING,
        "subtopics": _STRING,
    },
    "quotes": {
        "doc_id": _STRING,
        "topic": _STRING,
        "subtopic": _STRING,
        "score": _FLOAT,
        "start": _INT,
        "end": _INT,
        "text": _STRING,
        "terms": _STRING,
        "page": _NULLABLE_INT,
    },
    "sentences": {
        "doc_id": _STRING,
        "sentence": _INT,
        "start": _INT,
        "end": _INT,
        "topic": _STRING,
        "score": _FLOAT,
        "terms": _STRING,
        "cues": _STRING,
        "page": _NULLABLE_INT,
    },
    "documents": {
        "doc_id": _STRING,
        "ok": _BOOL,
        "error_type": _STRING,
        "error": _STRING,
        "n_chars": _INT,
        "n_sentences": _INT,
        "tagged_sentences": _INT,
        "areas": _INT,
        "topics": _STRING,
        "top_score": _FLOAT,
    },
}

#: The first columns of the CSV output, one row per quote, and of
#: ``to_dataframe(level="quotes")``. The CSV output adds two last columns:
#: ``meta``, the document's metadata as JSON (empty when it has none), and
#: ``page``, the quote's page (empty when its document has no pages), after
#: ``meta`` so that every column before it keeps its place. The DataFrame has
#: ``page`` next, then a ``meta.<key>`` column per key.
CSV_COLUMNS = tuple(name for name in DATAFRAME_COLUMNS["quotes"] if name != "page")


# --- writers ----------------------------------------------------------------------------


class ResultWriter(Protocol):
    """Writes DocumentResults to a text stream, one at a time."""

    def write(self, result: DocumentResult) -> None:
        """Write one result."""

    def close(self) -> None:
        """Finish the output (closing brackets and the like); the stream stays open."""


class JsonlWriter:
    """JSON Lines: one compact record per line, flushed after each document.

    Each record is written with a single ``write`` call followed by a flush,
    so a reader tailing the file sees whole lines.

    Args:
        stream: Text stream to write to.

    Example:
        >>> import io
        >>> from policy_topics import Extractor
        >>> out = io.StringIO()
        >>> JsonlWriter(out).write(Extractor().extract("Trade grew.", doc_id="x"))
        >>> DocumentResult.model_validate_json(out.getvalue()).doc_id
        'x'
    """

    def __init__(self, stream: TextIO) -> None:
        self._stream = stream

    def write(self, result: DocumentResult) -> None:
        """Write one result as one line and flush."""
        self._stream.write(record_json(result) + "\n")
        self._stream.flush()

    def close(self) -> None:
        """Nothing to finish: every line is complete."""


class JsonWriter:
    """A JSON array of records, streamed one record per line.

    Args:
        stream: Text stream to write to.

    Example:
        >>> import io, json
        >>> out = io.StringIO()
        >>> writer = JsonWriter(out)
        >>> writer.close()
        >>> json.loads(out.getvalue())
        []
    """

    def __init__(self, stream: TextIO) -> None:
        self._stream = stream
        self._count = 0

    def write(self, result: DocumentResult) -> None:
        """Write one result as an element of the array."""
        self._stream.write(("[\n" if self._count == 0 else ",\n") + record_json(result))
        self._count += 1

    def close(self) -> None:
        """Close the array."""
        self._stream.write("[]\n" if self._count == 0 else "\n]\n")
        self._stream.flush()


class CsvWriter:
    """CSV with a header and one row per quote (see :data:`CSV_COLUMNS`), ``meta`` and ``page``.

    The column ``meta`` holds the document's metadata as JSON, or nothing
    when it has none; the last, ``page``, the quote's page, or nothing when
    its document has no pages. Documents without quotes and failed documents
    give no rows. Text is written verbatim, so a cell may start with ``=``;
    spreadsheet programs may treat such a cell as a formula.

    Args:
        stream: Text stream to write to (open files with ``newline=""``).

    Example:
        >>> import io
        >>> from policy_topics import Extractor
        >>> out = io.StringIO()
        >>> writer = CsvWriter(out)
        >>> writer.write(Extractor().extract("We cut tariffs.", doc_id="a"))
        >>> out.getvalue().splitlines()[1]
        'a,trade,tariffs,0.632121,0,15,We cut tariffs.,tariff,,'
    """

    def __init__(self, stream: TextIO) -> None:
        self._stream = stream
        self._writer = csv.writer(stream)
        self._writer.writerow((*CSV_COLUMNS, "meta", "page"))

    def write(self, result: DocumentResult) -> None:
        """Write one row per quote of the result."""
        meta = _metadata_json(result) if result.metadata else ""
        for row in quote_rows(result):
            cells = [
                replace_surrogates(v) if isinstance(v, str) else v
                for v in (row[name] for name in CSV_COLUMNS)
            ]
            self._writer.writerow([*cells, meta, row["page"]])
        self._stream.flush()

    def close(self) -> None:
        """Flush the stream."""
        self._stream.flush()


def record_json(result: DocumentResult) -> str:
    """One result as compact JSON, as ``result.model_dump_json()`` writes it.

    Text holding lone surrogates (which no UTF-8 encoder accepts; they can
    only come from a caller's string) is written with U+FFFD in their place
    instead of failing.

    Example:
        >>> from policy_topics import Extractor
        >>> result = Extractor().extract("Tariffs \\ud800 fell.")
        >>> "\\ufffd" in record_json(result)
        True
    """
    if isinstance(result, _LineResult):
        return result.line  # written by the worker process that tagged it
    try:
        return result.model_dump_json()
    except PydanticSerializationError:
        plain = result.model_dump(mode="json")  # JSON mode writes U+FFFD for lone surrogates
        return json.dumps(plain, ensure_ascii=False, separators=(",", ":"))


def _metadata_json(result: DocumentResult) -> str:
    """A result's metadata as compact JSON, as in its JSON record."""
    plain = result.model_dump(mode="json", include={"metadata"})["metadata"]
    return json.dumps(plain, ensure_ascii=False, separators=(",", ":"))


_WRITERS: dict[str, Callable[[TextIO], ResultWriter]] = {
    "json": JsonWriter,
    "jsonl": JsonlWriter,
    "csv": CsvWriter,
}


def quote_rows(result: DocumentResult) -> Iterator[dict[str, Any]]:
    """Flat rows, one per quote, with the columns of :data:`CSV_COLUMNS` and ``page``.

    ``subtopic`` and ``terms`` join the distinct sub-topics and terms of the
    quote's matches with ``"; "``.

    Args:
        result: One document's result.

    Yields:
        A dict per quote, areas in result order, quotes best first.

    Example:
        >>> from policy_topics import Extractor
        >>> row = next(quote_rows(Extractor().extract("We cut tariffs.", doc_id="a")))
        >>> row["topic"], row["text"], row["terms"]
        ('trade', 'We cut tariffs.', 'tariff')
    """
    for area in result.areas:
        for quote in area.quotes:
            subtopics = dict.fromkeys(m.subtopic for m in quote.matches if m.subtopic)
            yield {
                "doc_id": result.doc_id,
                "topic": area.topic,
                "subtopic": "; ".join(subtopics),
                "score": quote.score,
                "start": quote.start,
                "end": quote.end,
                "text": quote.text,
                "terms": "; ".join(dict.fromkeys(m.term for m in quote.matches)),
                "page": quote.page,
            }


def _check_output(path: str | os.PathLike[str]) -> None:
    """Raise where ``path`` cannot be an output file, as writing it would, but before it.

    A folder; a read-only file, or one this process may not write; a new file
    in a folder that does not exist or that this process may not write to.
    """
    target = Path(path)
    name = os.fspath(path)
    if names_folder(path) or target.is_dir():
        raise IsADirectoryError(_folder_message(name))
    if target.is_file() and not os.stat(target).st_mode & 0o222:
        # Renaming over it (or root's writing) would replace a file its owner
        # protected; a shell's redirection refuses it too.
        raise PermissionError(
            errno.EACCES,
            f"{name} is read-only: make it writable (chmod u+w) or write to another path",
        )
    if target.exists():
        _check_access(target, os.W_OK, name)
        return
    folder = Path(os.path.realpath(target)).parent  # a dangling link's file is made where it points
    if not folder.is_dir():
        code = errno.ENOTDIR if folder.exists() else errno.ENOENT
        raise OSError(code, os.strerror(code), name)
    _check_access(folder, os.W_OK | os.X_OK, name)


def _check_access(place: Path, mode: int, name: str) -> None:
    """Raise the error that writing to (or in) ``place`` would give, where it would give one."""
    if os.access(place, mode):
        return
    try:
        read_only = bool(os.statvfs(place).f_flag & os.ST_RDONLY)
    except OSError:
        read_only = False
    code = errno.EROFS if read_only else errno.EACCES
    raise OSError(code, os.strerror(code), name)


_NOTHING = object()


def _first_ready(
    results: Iterable[DocumentResult], dest: str | os.PathLike[str]
) -> Iterable[DocumentResult]:
    """Check ``dest``, then take the first of ``results``; all of them to be written to ``dest``.

    A file written in place is emptied when it is opened, so it is opened only
    once a first result is at hand (a run that fails before leaves an older
    file as it was); a path that cannot be written fails before any document
    is tagged.
    """
    _check_output(dest)
    pending = iter(results)
    first: Any = next(pending, _NOTHING)
    return [] if first is _NOTHING else itertools.chain([first], pending)


@contextlib.contextmanager
def open_output(
    path: str | os.PathLike[str], *, atomic: bool = True, append: bool = False
) -> Iterator[TextIO]:
    """Open an output file for writing text (UTF-8, no newline translation).

    With ``atomic=True`` the text goes to a temporary file in the same folder,
    which replaces ``path`` only when the block ends without an exception: an
    interrupted run leaves no file (and an older file at ``path`` untouched).
    With ``atomic=False`` the file is written in place, which suits JSON Lines
    written one whole line at a time: what was written before an interruption
    stays, and when a write fails (a full disk) the file is cut back to its
    last complete line. With ``append=True`` (which needs ``atomic=False``)
    the text goes at the end of the file, after cutting half a line that a
    killed run left there; a failed write cuts back no further than where
    this run began. Through a symbolic link, the file it points to is
    written and the link is kept. A path that is not a regular file (a device
    such as ``/dev/null``, a named pipe) is written directly in either case,
    and a path that names a descriptor this process has open (``/dev/stdout``,
    ``/dev/fd/3``: :func:`descriptor_of`) is written through that descriptor,
    where it stands, as the shell's ``>&1`` writes.

    Args:
        path: The output file.
        atomic: Write through a temporary file and rename at the end.
        append: Write at the end of the file rather than emptying it.

    Yields:
        The open text stream.

    Raises:
        ValueError: ``append`` with ``atomic``.

    Example:
        >>> import tempfile, pathlib
        >>> target = pathlib.Path(tempfile.mkdtemp()) / "out.json"
        >>> with open_output(target) as stream:
        ...     _ = stream.write("[]")
        >>> target.read_text()
        '[]'
    """
    if append and atomic:
        raise ValueError("append=True writes in place: pass atomic=False")
    fd = descriptor_of(path)
    if fd is not None:
        # Opening /dev/stdout opens the file behind it anew, emptied, and renaming
        # over it replaced that file: an enclosing script's output before and
        # after was lost. Write where the descriptor writes, as '>&1' would.
        with os.fdopen(os.dup(fd), "a" if append else "w", encoding="utf-8", newline="") as out:
            yield out
        return
    _check_output(path)
    target = Path(path)
    try:
        special = not stat.S_ISREG(os.stat(target).st_mode)
    except OSError:
        special = False  # no such file yet (or one we cannot see: opening it will say why)
    if special:
        # A device, pipe or socket (/dev/null, /dev/stdout, a FIFO): renaming a
        # temporary file over it would replace it with a regular file.
        with target.open("a" if append else "w", encoding="utf-8", newline="") as stream:
            yield stream
        return
    if not atomic:
        floor = 0
        if append and target.is_file():
            # Half a line from a run that was killed; a whole record stays.
            _cut_to_last_line(target, keep_complete=True)
            floor = target.stat().st_size
        try:
            with target.open("a" if append else "w", encoding="utf-8", newline="") as stream:
                yield stream
        except OSError:
            _cut_to_last_line(target, floor=floor)
            raise
        return
    target = Path(os.path.realpath(target))  # replace the file a link points to, not the link
    fd, tmp = tempfile.mkstemp(prefix=_temp_prefix(target.name), suffix=".tmp", dir=target.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as stream:
            yield stream
            stream.flush()
            os.fsync(stream.fileno())
        os.chmod(tmp, _file_mode(target))
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


#: Paths of a descriptor of the process that opens them (/proc/<pid> only for this one).
_DESCRIPTOR_RE = re.compile(r"/dev/fd/(\d+)|/proc/(?:self|thread-self|(\d+))/fd/(\d+)")
_STANDARD_STREAMS = {"/dev/stdin": 0, "/dev/stdout": 1, "/dev/stderr": 2}
#: Symbolic links followed before giving up, as Linux does (ELOOP).
_MOST_LINKS = 40


def descriptor_of(path: str | os.PathLike[str]) -> int | None:
    """The open file descriptor of this process that a path names, or None.

    ``/dev/stdout``, ``/dev/fd/3`` and ``/proc/self/fd/3`` (or a symbolic
    link to one) name a descriptor; None for any other path, and for a
    descriptor that is not open.

    Example:
        >>> descriptor_of("/dev/stdout"), descriptor_of("results.jsonl")
        (1, None)
    """
    name = os.path.abspath(os.fspath(path))
    for _ in range(_MOST_LINKS):
        fd = _STANDARD_STREAMS.get(name)
        if fd is None and (match := _DESCRIPTOR_RE.fullmatch(name)) is not None:
            dev_fd, pid, proc_fd = match.groups()
            if pid is None or int(pid) == os.getpid():
                fd = int(dev_fd or proc_fd)
        if fd is not None:
            try:
                os.fstat(fd)
            except OSError:
                return None
            return fd
        try:
            link = os.readlink(name)
        except (OSError, ValueError):
            return None  # no link: a path like any other
        name = os.path.normpath(os.path.join(os.path.dirname(name), link))
    return None


def names_folder(path: str | os.PathLike[str]) -> bool:
    """Whether a path ends with a separator, so names a folder rather than a file.

    ``Path("out/")`` drops the separator: look at the path as it was given.

    Example:
        >>> names_folder("out/"), names_folder("out/results.jsonl")
        (True, False)
    """
    raw = os.fspath(path)
    return raw.endswith(tuple(sep for sep in (os.sep, os.altsep) if sep))


def _folder_message(raw: str) -> str:
    example = os.path.join(raw, "results.jsonl")
    return f"{raw}: names a folder; give the file to write, e.g. {example}"


# Most bytes of a temporary file's name taken from the target's name: with the
# random part and ".tmp" it stays under the 255 bytes most file systems allow.
_MAX_PREFIX_BYTES = 200


def _temp_prefix(name: str) -> str:
    """``.<name>.`` for the temporary file, the name cut short when it is long."""
    while len(os.fsencode(f".{name}.")) > _MAX_PREFIX_BYTES:
        name = name[: len(name) * 3 // 4]
    return f".{name}."


# Suffixes the command line writes as formats for people, which write_results does not.
_PEOPLE_SUFFIXES = {".txt": "table", ".html": "html", ".htm": "html"}
# Table files pandas writes: the DataFrame method that writes each.
_TABLE_SUFFIXES = {
    ".parquet": "to_parquet",
    ".feather": "to_feather",
    ".xlsx": "to_excel",
    ".xls": "to_excel",
    ".xlsm": "to_excel",
    ".ods": "to_excel",
    ".pkl": "to_pickle",
    ".pickle": "to_pickle",
    ".h5": "to_hdf",
    ".hdf5": "to_hdf",
    ".arrow": "to_feather",
    ".orc": "to_orc",
    ".dta": "to_stata",
}
# Compressed files, which write_results does not write.
_COMPRESSED_SUFFIXES = frozenset(
    {".gz", ".tgz", ".bz2", ".tbz", ".tbz2", ".xz", ".txz", ".lzma", ".lz", ".z"}
    | {".zst", ".zstd", ".zip", ".lz4", ".br", ".7z"}
)


def foreign_format(path: str | os.PathLike[str]) -> tuple[str, str] | None:
    """What a path's suffix names that this library does not write, if anything.

    Returns:
        ``("compressed", "")`` for a compressed file (``.gz``, ``.zip``, ...),
        ``("table", method)`` for a table file pandas writes with ``method``
        (``.parquet``: ``"to_parquet"``), else None.

    Example:
        >>> foreign_format("out.parquet"), foreign_format("out.csv.gz"), foreign_format("a.csv")
        (('table', 'to_parquet'), ('compressed', ''), None)
    """
    suffix = Path(path).suffix.lower()
    if suffix in _COMPRESSED_SUFFIXES:
        return "compressed", ""
    if suffix in _TABLE_SUFFIXES:
        return "table", _TABLE_SUFFIXES[suffix]
    return None


def _format_of(dest: str | os.PathLike[str] | TextIO) -> Literal["json", "jsonl", "csv"]:
    """The format a destination's suffix names (JSON Lines for a stream)."""
    if not isinstance(dest, str | os.PathLike):
        return "jsonl"
    suffix = Path(dest).suffix.lower()
    if suffix[1:] in _WRITERS:
        return cast(Literal["json", "jsonl", "csv"], suffix[1:])
    foreign = foreign_format(dest)
    if foreign is not None and foreign[0] == "table":
        raise ValueError(
            f"{os.fspath(dest)}: write_results writes json, jsonl or csv, not {suffix!r}; "
            f"for a table file use pandas: to_dataframe(results, 'quotes').{foreign[1]}(path), "
            "or pass format= to write JSON, JSON Lines or CSV under this name"
        )
    if suffix in _PEOPLE_SUFFIXES:
        raise ValueError(
            f"{os.fspath(dest)}: write_results writes json, jsonl or csv, and {suffix!r} names "
            f"the command line's {_PEOPLE_SUFFIXES[suffix]!r} format; use "
            f"'policy-topics extract -f {_PEOPLE_SUFFIXES[suffix]}', or pass format= to "
            "write JSON, JSON Lines or CSV under this name"
        )
    warnings.warn(
        f"{os.fspath(dest)}: the suffix {suffix or '(none)'!r} names no output format "
        "(.csv, .json, .jsonl); writing JSON Lines (pass format= to choose)",
        stacklevel=3,
    )
    return "jsonl"


#: The longest last line without newline that appending reads to see whether it is whole.
_LONGEST_KEPT = 1 << 28


def _cut_to_last_line(
    target: Path, chunk: int = 1 << 16, *, floor: int = 0, keep_complete: bool = False
) -> None:
    """Truncate ``target`` just after its last newline: a failed write may have left half a line.

    Nothing before ``floor`` (where this run began writing) is cut. With
    ``keep_complete``, a last line that is a whole JSON object (another
    program's JSON Lines need not end with a newline: Dask's ``to_textfiles``)
    is no half line: it gets its newline instead.
    """
    with contextlib.suppress(OSError), target.open("r+b") as stream:
        size = end = stream.seek(0, os.SEEK_END)
        cut = floor
        while end > floor:
            start = max(floor, end - chunk)
            stream.seek(start)
            newline = stream.read(end - start).rfind(b"\n")
            if newline >= 0:
                cut = start + newline + 1
                break
            end = start
        if cut == size:
            return
        if keep_complete and size - cut <= _LONGEST_KEPT:
            stream.seek(cut)
            if is_json_object(stream.read()):
                stream.write(b"\n")
                return
        stream.truncate(cut)


def is_json_object(line: bytes) -> bool:
    """Whether a line (without its newline) is one whole JSON object.

    Example:
        >>> is_json_object(b'{"doc_id": "a"}'), is_json_object(b'{"doc_id": "a", "ar')
        (True, False)
    """
    try:
        return isinstance(json.loads(line), dict)
    except (ValueError, RecursionError):  # not JSON, not UTF-8, nested too deep
        return False


def _file_mode(target: Path) -> int:
    try:
        return target.stat().st_mode & 0o777
    except OSError:
        umask = os.umask(0)
        os.umask(umask)
        return 0o666 & ~umask


def write_results(
    results: Iterable[DocumentResult],
    dest: str | os.PathLike[str] | TextIO,
    *,
    format: Literal["json", "jsonl", "csv"] | None = None,
    append: bool = False,
) -> int:
    """Write results to a file or a text stream.

    JSON and CSV files are written atomically (temporary file, then rename);
    JSON Lines files are written in place, one whole line per document,
    flushed each time, so an interrupted run keeps every finished document
    (the file is opened, and an older one emptied, once the first result is
    ready). With ``append=True`` a JSON Lines file keeps its records and the
    new ones follow them (with :func:`policy_topics.resume.resume`, a run
    that stopped goes on where it stopped). A read-only file is refused, not
    replaced.

    Args:
        results: The results, e.g. from ``extract_many`` (consumed lazily).
        dest: A path or an open text stream.
        format: ``"json"``, ``"jsonl"`` or ``"csv"``; by default the path's
            suffix (``.json``, ``.jsonl``, ``.csv``), else JSON Lines, with a
            warning. A stream gets JSON Lines.
        append: Add to the end of a JSON Lines file instead of replacing it
            (half a line that a killed run left at its end is cut first).

    Returns:
        Number of results written.

    Raises:
        ValueError: an unknown ``format``; ``append`` for another format or a
            stream; a path whose suffix names a format
            for people that only the command line writes (``.txt``, ``.html``)
            or a table file of pandas (``.parquet``), unless ``format`` is
            given; a compressed file's suffix (``.gz``).

    Example:
        >>> import io
        >>> write_results([], io.StringIO(), format="json")
        0
    """
    check_many(results, "write_results")
    if isinstance(dest, str | os.PathLike) and foreign_format(dest) == ("compressed", ""):
        raise ValueError(
            f"{os.fspath(dest)}: write_results does not compress; write to an open "
            "compressed stream (gzip.open(path, 'wt', encoding='utf-8') with format=), "
            "or compress the file afterwards"
        )
    if format is None:
        format = _format_of(dest)
    if format not in _WRITERS:
        raise ValueError(f"format must be one of {', '.join(_WRITERS)}, not {format!r}")
    if append and (format != "jsonl" or not isinstance(dest, str | os.PathLike)):
        raise ValueError(
            "append=True adds to a JSON Lines file: pass its path with format 'jsonl' "
            "(a JSON array or a CSV file is written whole; a stream is written where it is)"
        )
    if isinstance(dest, str | os.PathLike):
        if format == "jsonl" and not append:  # written in place, emptied when opened
            results = _first_ready(results, dest)
        with open_output(dest, atomic=format != "jsonl", append=append) as stream:
            return write_results(results, stream, format=format)
    writer = _WRITERS[format](dest)
    count = 0
    for result in checked_results(results, "write_results"):
        writer.write(result)
        count += 1
    writer.close()
    return count


# --- DataFrames -------------------------------------------------------------------------


def to_dataframe(
    results: Iterable[DocumentResult],
    level: Literal["areas", "quotes", "sentences", "documents"] = "areas",
) -> pandas.DataFrame:
    """Flatten results into a pandas DataFrame (extra ``pandas``).

    Levels:
        ``"areas"``: one row per document and area (doc_id, topic, label, score,
        mentions, sentences, quotes, terms, subtopics).
        ``"quotes"``: one row per quote, the CSV columns but ``meta``: doc_id,
        topic, subtopic, score, start, end, text, terms, page (nullable
        ``Int64``: NA where the document has no pages).
        ``"sentences"``: one row per tagged sentence and topic (doc_id, sentence,
        start, end, topic, score, terms, cues, page: nullable ``Int64``).
        ``"documents"``: one row per result, failed ones and ones without areas
        included (doc_id, ok, error_type, error, n_chars, n_sentences,
        tagged_sentences, areas, topics, top_score): what was read, what failed
        and why, and what was found, to join the other levels to.

    A document without an id has ``doc_id`` ``"#<n>"``, ``n`` its position
    among ``results`` from 0 (every result counts, also one that gives no
    rows): the label :func:`policy_topics.plot.plot_topics` shows, and a
    pivot or groupby on ``doc_id``, which would drop NA, keeps it.

    Results that share a ``doc_id`` give a ``UserWarning``: their rows could
    not be told apart. At the other levels failed documents give no rows, and
    at the areas and quotes levels neither do documents without areas
    (``min_score`` leaves out areas, not the tagged sentences). Metadata keys
    with scalar values (str, numbers, bools, dates and datetimes), of the
    documents that give rows, become extra columns named ``meta.<key>``. Lone
    surrogates in text become U+FFFD, as in the JSON and CSV output (the
    length is kept, so offsets stay valid).

    Args:
        results: DocumentResults, e.g. a list (an iterator is used up).
        level: ``"areas"``, ``"quotes"``, ``"sentences"`` or ``"documents"``.

    Returns:
        The DataFrame; its columns and their dtypes
        (:data:`DATAFRAME_COLUMNS`) are fixed by ``level``, also when it is
        empty, so frames of several batches concatenate without changing type.

    Raises:
        ImportError: pandas is not installed.

    Example:
        >>> from policy_topics import Extractor
        >>> frame = to_dataframe([Extractor().extract("We cut tariffs.", doc_id="a")])
        >>> frame[["doc_id", "topic", "mentions"]].values.tolist()
        [['a', 'trade', 1]]
        >>> to_dataframe(Extractor().extract_many(["Rain.", "Solar grew."]))["doc_id"].tolist()
        ['#1']
    """
    return _dataframe(results, level, number_unnamed=True)


def _dataframe(
    results: Iterable[DocumentResult],
    level: Literal["areas", "quotes", "sentences", "documents"],
    *,
    number_unnamed: bool,
) -> pandas.DataFrame:
    """:func:`to_dataframe`; ``number_unnamed=False`` leaves a missing doc_id NA."""
    try:
        import pandas as pd
    except ImportError as exc:
        raise ImportError('to_dataframe needs pandas: pip install "policy-topics[pandas]"') from exc
    rows_of: dict[str, Callable[[DocumentResult], Iterator[dict[str, Any]]]] = {
        "areas": _area_rows,
        "quotes": quote_rows,
        "sentences": _sentence_rows,
        "documents": _document_rows,
    }
    if level not in rows_of:
        raise ValueError(
            f"level must be 'areas', 'quotes', 'sentences' or 'documents', not {level!r}"
        )
    check_many(results, "to_dataframe")
    dtypes, make_rows = DATAFRAME_COLUMNS[level], rows_of[level]
    rows: list[dict[str, Any]] = []
    meta_columns: dict[str, None] = {}
    first_at: dict[str, int] = {}  # each id's first result
    repeated: dict[str, list[int]] = {}
    for position, result in enumerate(checked_results(results, "to_dataframe")):
        if number_unnamed:  # a Dask partition sees too few rows to tell
            # By the label its rows get: an id "#3" is the label of the fourth result without one.
            named = doc_label(result, position)
            first = first_at.setdefault(named, position)
            if first != position:
                repeated.setdefault(named, [first]).append(position)
        found = list(make_rows(result))
        if not found:
            continue
        if number_unnamed and result.doc_id is None:
            label = doc_label(result, position)
            found = [{**row, "doc_id": label} for row in found]
        meta = {
            f"meta.{k}": replace_surrogates(v) if isinstance(v, str) else v
            for k, v in result.metadata.items()
            if v is None or isinstance(v, str | int | float | bool | date)
        }
        meta_columns.update(dict.fromkeys(meta))
        rows.extend({**row, **meta} for row in found)
    if repeated:
        doc_id, positions = next(iter(repeated.items()))
        warnings.warn(
            f"{len(repeated)} doc_id{'s name' if len(repeated) > 1 else ' names'} more than "
            f"one result, e.g. {doc_id!r} (results {', '.join(map(str, positions[:5]))}): "
            "their rows share the id, and a pivot or groupby on doc_id merges them; give "
            "each document its own id",
            UserWarning,
            stacklevel=3,
        )
    data: dict[str, Any] = {}
    for name, dtype in dtypes.items():
        values = [row[name] for row in rows]
        if dtype == _STRING:
            values = [replace_surrogates(v) if isinstance(v, str) else v for v in values]
        data[name] = pd.Series(values, dtype=dtype)
    for name in meta_columns:
        data[name] = pd.Series([row.get(name) for row in rows])
    return pd.DataFrame(data, columns=[*dtypes, *meta_columns])


def _area_rows(result: DocumentResult) -> Iterator[dict[str, Any]]:
    for area in result.areas:
        yield {
            "doc_id": result.doc_id,
            "topic": area.topic,
            "label": area.label,
            "score": area.score,
            "mentions": area.mentions,
            "sentences": area.sentences,
            "quotes": len(area.quotes),
            "terms": "; ".join(area.terms),
            "subtopics": "; ".join(s.id for s in area.subtopics),
        }


def _document_rows(result: DocumentResult) -> Iterator[dict[str, Any]]:
    error = result.error
    yield {
        "doc_id": result.doc_id,
        "ok": error is None,
        "error_type": error.type if error is not None else None,
        "error": error.message if error is not None else None,
        "n_chars": result.n_chars,
        "n_sentences": result.n_sentences,
        "tagged_sentences": len(result.sentences),
        "areas": len(result.areas),
        "topics": "; ".join(area.topic for area in result.areas),
        "top_score": result.areas[0].score if result.areas else math.nan,
    }


def _sentence_rows(result: DocumentResult) -> Iterator[dict[str, Any]]:
    for tags in result.sentences:
        for topic in tags.topics:
            yield {
                "doc_id": result.doc_id,
                "sentence": tags.index,
                "start": tags.start,
                "end": tags.end,
                "topic": topic,
                "score": tags.scores[topic],
                "terms": "; ".join(dict.fromkeys(m.term for m in tags.matches if m.topic == topic)),
                "cues": "; ".join(tags.cues),
                "page": tags.page,
            }
