"""The ``policy-topics`` command line: thin commands over the library.

Exit codes: 0 success; 1 some documents failed (or lint findings); 2 usage,
taxonomy or gold-file error; 71 worker processes could not be started; 74 the
output could not be written once begun (a full disk); 130 / 143 interrupted by
SIGINT / SIGTERM.
"""

from __future__ import annotations

import codecs
import contextlib
import errno
import fcntl
import io
import json
import os
import re
import signal
import stat
import sys
import unicodedata
import warnings
from collections import Counter, deque
from collections.abc import Callable, Iterable, Iterator
from enum import Enum
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING, Annotated, Any, NoReturn, Protocol, TextIO

import typer

from policy_topics import COMPILED, __version__
from policy_topics.cpus import more_than_usable, resolve_n_process
from policy_topics.errors import PolicyTopicsError, TaxonomyError, WorkerStartError
from policy_topics.io import (
    CSV_COLUMNS,
    CsvWriter,
    JsonlWriter,
    JsonWriter,
    open_output,
    read_documents,
)
from policy_topics.readers import (
    _DECOMPRESSION_ERRORS,
    COMPRESSED_SUFFIXES,
    ERROR_KINDS,
    SUPPORTED_SUFFIXES,
    _decompressing,
    _file_key,
    _kind_of,
    _suffixes,
    reads,
)
from policy_topics.records import DocumentResult
from policy_topics.resume import _drop_failed, done_counts, matched_phrase, skip_done
from policy_topics.taxonomy import (
    Taxonomy,
    Topic,
    line_of,
    load_taxonomy,
    packaged_taxonomies,
    taxonomy_lines,
)
from policy_topics.text import counted, for_terminal
from policy_topics.writers import (
    _cut_to_last_line,
    _first_ready,
    descriptor_of,
    foreign_format,
    names_folder,
)

if TYPE_CHECKING:
    from policy_topics.extract import Extractor

__all__ = ["app", "main"]

# Plain help and usage errors, as click writes them: typer's boxed help shows
# "<bool>" after every flag (--help included), as if it took a value.
app = typer.Typer(
    name="policy-topics",
    help="Tag policy papers against a YAML taxonomy of cooperation areas, with verbatim quotes.",
    add_completion=False,
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
    context_settings={"help_option_names": ["-h", "--help"]},
)
taxonomy_app = typer.Typer(
    help="Validate, show and lint taxonomies.",
    no_args_is_help=True,
    rich_markup_mode=None,
    context_settings={"help_option_names": ["-h", "--help"]},
)
app.add_typer(taxonomy_app, name="taxonomy")

EXIT_FAILED = 1
EXIT_USAGE = 2
#: Worker processes could not be started (a limit on processes): sysexits' EX_OSERR.
EXIT_WORKERS = 71
#: The output could not be written once begun (a full disk): sysexits' EX_IOERR.
EXIT_WRITE = 74
# Errors that only a write gives: no room on the device, past the file size limit, over quota.
_WRITE_ERRNOS = frozenset({errno.ENOSPC, errno.EFBIG, errno.EDQUOT})
_MAX_LISTED_FAILURES = 20


def main() -> None:
    """Run the command line (the ``policy-topics`` script runs it through ``__main__``)."""
    _buffer_stdout()
    start = _regular_file_position(sys.stdout)
    try:
        try:
            # Signals outside a command's own handling (loading a taxonomy or
            # spaCy, scoring gold) stop it with one line as well, not silently.
            with _Signals(exiting=True):
                app(prog_name="policy-topics")
        finally:  # what is still buffered, while a failure can still be told
            if sys.stdout is not None:  # None: started with stdout closed
                sys.stdout.flush()
    except _Interrupted as exc:
        _tell(f"policy-topics: interrupted by {signal.Signals(exc.signum).name}")
        raise SystemExit(128 + exc.signum) from None
    except OSError as exc:
        if exc.errno not in _WRITE_ERRNOS:
            raise
        # A command's output (a schema, a report) to stdout at a full disk:
        # removed from a file rather than left half written, and nothing more
        # goes to it, or Python would fail again flushing stdout at exit.
        kept = ""
        if start is not None:
            _cut_stdout(start, whole_lines=False)
            kept = "; what this run wrote to it was removed"
        _tell(f"policy-topics: cannot write stdout: {exc.strerror or exc}{kept}")
        raise SystemExit(EXIT_WRITE) from None


def _buffer_stdout() -> None:
    """Give stdout a buffer when Python runs unbuffered (``PYTHONUNBUFFERED``, ``-u``).

    Its text stream then writes straight to the file descriptor, and a short
    write (the last record at a full disk) drops the rest of the text without
    an error. A buffered writer writes the rest or raises. Output still goes
    out line by line: the stream flushes at each newline, and the writers
    after each record.
    """
    stream = sys.stdout
    raw = getattr(stream, "buffer", None)
    if isinstance(stream, io.TextIOWrapper) and isinstance(raw, io.RawIOBase):
        sys.stdout = io.TextIOWrapper(
            io.BufferedWriter(raw),
            encoding=stream.encoding,
            errors=stream.errors,
            line_buffering=True,
        )


def _fail(message: str, code: int = EXIT_USAGE) -> NoReturn:
    _tell(message)
    raise typer.Exit(code)


def _tell(message: str) -> None:
    """Write a message to stderr, which may be on the full disk too: the exit code still tells."""
    with contextlib.suppress(OSError):
        typer.echo(for_terminal(message), err=True)  # a file's name may hold escapes


def _version(value: bool) -> None:
    if value:
        # Whether the build compiled is otherwise seen only with pip's -v.
        build = f"compiled: {', '.join(COMPILED)}" if COMPILED else "pure Python, not compiled"
        typer.echo(f"policy-topics {__version__} ({build})")
        raise typer.Exit()


@app.callback()
def _root(
    version: Annotated[
        bool,
        typer.Option(
            "--version", callback=_version, is_eager=True, help="Show the version and exit."
        ),
    ] = False,
) -> None:
    """Tag policy papers against a YAML taxonomy of cooperation areas, with verbatim quotes."""


# --- output sinks -------------------------------------------------------------------------


class OutputFormat(str, Enum):
    """Formats of ``extract`` output."""

    json = "json"
    jsonl = "jsonl"
    csv = "csv"
    table = "table"
    html = "html"


class _Sink(Protocol):
    def write(self, result: DocumentResult, text: str | None) -> None: ...

    def close(self) -> None: ...


class _RecordSink:
    """Adapts the writers of :mod:`policy_topics.io` (which need no document text)."""

    def __init__(self, writer: JsonWriter | JsonlWriter | CsvWriter) -> None:
        self._writer = writer

    def write(self, result: DocumentResult, text: str | None) -> None:
        self._writer.write(result)

    def close(self) -> None:
        self._writer.close()


class _TableSink:
    """A readable terminal summary: areas with scores, terms and the top quotes."""

    def __init__(self, stream: TextIO, *, quotes: int = 2, width: int = 100) -> None:
        self._stream = stream
        self._quotes = quotes
        self._width = width
        self._count = 0

    def write(self, result: DocumentResult, text: str | None) -> None:
        lines = [] if self._count == 0 else [""]
        self._count += 1
        name = result.doc_id or f"document {self._count}"
        if result.error is not None:
            lines.append(f"{name}: FAILED ({result.error.type}) {result.error.message}")
        else:
            found = len(result.areas)
            lines.append(
                f"{name}: {counted(result.n_sentences, 'sentence')}, {counted(found, 'area')} found"
            )
            for area in result.areas:
                bar = "#" * round(area.score * 10)
                head = (
                    f"  {_fit(area.label, 16)} {area.score:4.2f} {bar:<10} "
                    f"{area.mentions:>3} mention{'s' if area.mentions != 1 else ' '}  "
                )
                terms = _shorten(", ".join(area.terms), max(20, self._width - _columns(head)))
                lines.append(head + terms)
                for quote in area.quotes[: self._quotes]:
                    page = "" if quote.page is None else f"p. {quote.page}: "
                    text = _shorten(quote.text, self._width - 8 - len(page))
                    lines.append(f"      > {page}{text}")
        # A document's control characters are shown, not sent to the terminal; lone
        # surrogates (from a caller's string or a file name) become U+FFFD, as in JSON.
        self._stream.write(for_terminal("\n".join(lines)) + "\n")
        self._stream.flush()

    def close(self) -> None:
        self._stream.flush()


class _HtmlSink:
    """One HTML page with every document's text highlighted (written when the run ends)."""

    def __init__(self, stream: TextIO, extractor: Extractor) -> None:
        self._stream = stream
        self._extractor = extractor  # its taxonomy labels what is no document's area
        self._documents: list[tuple[DocumentResult, str | None]] = []

    def write(self, result: DocumentResult, text: str | None) -> None:
        self._documents.append((result, text))

    def close(self) -> None:
        from policy_topics.display import highlight_page

        self._stream.write(highlight_page(self._documents, extractor=self._extractor))
        self._stream.flush()


def _shorten(text: str, limit: int) -> str:
    """``text`` on one line, cut to ``limit`` terminal columns with an ellipsis."""
    text = " ".join(text.split())
    if _columns(text) <= limit:
        return text
    return _cut(text, limit - 3).rstrip() + "..."


def _fit(text: str, width: int) -> str:
    """``text`` cut or padded to exactly ``width`` terminal columns."""
    text = _cut(text, width)
    return text + " " * (width - _columns(text))


def _cut(text: str, width: int) -> str:
    """The longest start of ``text`` that takes at most ``width`` terminal columns."""
    used = 0
    for i, char in enumerate(text):
        used += _char_columns(char)
        if used > width:
            return text[:i]
    return text


def _columns(text: str) -> int:
    """Terminal columns ``text`` takes: two for wide (CJK) characters, none for marks."""
    if text.isascii():
        return len(text)
    return sum(map(_char_columns, text))


def _char_columns(char: str) -> int:
    if unicodedata.combining(char) or unicodedata.category(char) in ("Mn", "Me", "Cf"):
        return 0
    return 2 if unicodedata.east_asian_width(char) in ("W", "F") else 1


# One entry per format: a factory taking the output stream and the run's extractor.
_SINKS: dict[OutputFormat, Callable[[TextIO, Extractor], _Sink]] = {
    OutputFormat.json: lambda stream, _: _RecordSink(JsonWriter(stream)),
    OutputFormat.jsonl: lambda stream, _: _RecordSink(JsonlWriter(stream)),
    OutputFormat.csv: lambda stream, _: _RecordSink(CsvWriter(stream)),
    OutputFormat.table: lambda stream, _: _TableSink(stream),
    OutputFormat.html: _HtmlSink,
}

_SUFFIX_FORMATS = {
    ".json": "json",
    ".jsonl": "jsonl",
    ".csv": "csv",
    ".txt": "table",
    ".html": "html",
    ".htm": "html",
}


# --- signals ------------------------------------------------------------------------------


class _Interrupted(BaseException):
    """SIGINT or SIGTERM arrived (a BaseException, so no ``except Exception`` eats it)."""

    def __init__(self, signum: int) -> None:
        super().__init__(signum)
        self.signum = signum


class _Signals:
    """Turn SIGINT and SIGTERM into :class:`_Interrupted`, but never halfway through a write.

    The first signal stops the command; the process then only cleans up (its
    worker processes stop, Python joins them at exit) and exits with 128 plus
    the signal's number. Signals after it (Ctrl-C pressed again) are ignored
    until then: they would break into that clean-up with tracebacks and kill
    the process before it exits with its code. ``exiting`` marks the block
    after which the process exits (:func:`main`'s). A command run in a process
    that goes on (``app([...])`` from Python) gets the handlers it found back
    when its outermost block ends, and a later command stops on a signal again.
    """

    #: A signal has stopped a command of this process.
    stopping = False
    #: The blocks open now (main's and the command's).
    _open = 0

    def __init__(self, *, exiting: bool = False) -> None:
        self.received: int | None = None
        self._writing = False
        self._exiting = exiting
        self._previous: dict[int, Any] = {}

    def __enter__(self) -> _Signals:
        for signum in (signal.SIGINT, signal.SIGTERM):
            if signal.getsignal(signum) is signal.SIG_IGN:
                continue  # ignored by whoever started us (``cmd &`` in a script): keep it so
            self._previous[signum] = signal.signal(signum, self._handle)
        _Signals._open += 1
        return self

    def __exit__(self, *exc: object) -> None:
        _Signals._open -= 1
        ignore = _Signals.stopping and (self._exiting or _Signals._open > 0)
        for signum, handler in self._previous.items():
            signal.signal(signum, signal.SIG_IGN if ignore else handler)
        if not _Signals._open:
            _Signals.stopping = False

    def _handle(self, signum: int, frame: FrameType | None) -> None:
        if _Signals.stopping:
            return  # already stopping: see the class
        _Signals.stopping = True
        self.received = signum
        if not self._writing:
            raise _Interrupted(signum)

    @contextlib.contextmanager
    def writing(self) -> Iterator[None]:
        """A block the signals wait for, so each record is written whole."""
        self._writing = True
        try:
            yield
        finally:
            self._writing = False
        if self.received is not None:
            raise _Interrupted(self.received)


# --- extract ------------------------------------------------------------------------------


class StdinFormat(str, Enum):
    """Formats of stdin (``-``)."""

    txt = "txt"
    md = "md"
    html = "html"
    jsonl = "jsonl"


@app.command(short_help="Tag documents; one record per document, or a CSV row per quote.")
def extract(
    paths: Annotated[
        list[str],
        typer.Argument(
            help="Files, folders or glob patterns (.txt .text .md .markdown .html .htm "
            ".jsonl .pdf .docx, each also compressed: .gz .bz2 .xz); "
            "'-' reads stdin.",
            metavar="PATH",
            show_default=False,
        ),
    ],
    taxonomy: Annotated[
        str,
        typer.Option(
            "-t", "--taxonomy", metavar="NAME|FILE", help="Taxonomy YAML file or packaged name."
        ),
    ] = "default",
    output_format: Annotated[
        OutputFormat | None,
        typer.Option(
            "-f",
            "--format",
            help="Output format (default: from the -o suffix, else jsonl).",
            case_sensitive=False,
            show_default=False,
        ),
    ] = None,
    output_name: Annotated[
        str | None,
        typer.Option(
            "-o",
            "--output",
            help="Output file (default: stdout). json/csv/table/html files are written "
            "atomically; jsonl files line by line.",
            metavar="FILE",
            show_default=False,
        ),
    ] = None,
    n_process: Annotated[
        int,
        typer.Option(
            "--n-process",
            callback=_n_process,
            metavar="N",
            help="Worker processes; they also extract the text of PDF, DOCX and HTML files. "
            "-1: one per CPU this process may use.",
        ),
    ] = 1,
    min_score: Annotated[
        float,
        typer.Option(
            "--min-score", min=0.0, max=1.0, metavar="SCORE", help="Leave out weaker areas."
        ),
    ] = 0.0,
    max_quotes: Annotated[
        int,
        typer.Option(
            "--max-quotes", min=0, metavar="N", help="Quotes kept per area (0 keeps all)."
        ),
    ] = 5,
    model: Annotated[
        str | None,
        typer.Option(
            "--model",
            metavar="NAME|PATH",
            help="Trained spaCy pipeline, name or path (default: blank).",
            show_default=False,
        ),
    ] = None,
    text_field: Annotated[
        str, typer.Option(metavar="FIELD", help="JSON Lines field holding the text.")
    ] = "text",
    id_field: Annotated[
        str, typer.Option(metavar="FIELD", help="JSON Lines field holding the id.")
    ] = "id",
    stdin_format: Annotated[
        StdinFormat, typer.Option(help="Format of stdin ('-').", case_sensitive=False)
    ] = StdinFormat.txt,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress bar.")] = False,
    resume_run: Annotated[
        bool,
        typer.Option(
            "--resume",
            help="Skip the documents whose records the -o JSON Lines file holds (matched "
            "by id: name the files as before) and add the others' at its end: a run "
            "that stopped goes on where it stopped.",
        ),
    ] = False,
    retry_failed: Annotated[
        bool,
        typer.Option(
            "--retry-failed",
            help="With --resume: first remove the records of failed documents from the "
            "file, so that they are tagged again (a file fixed since, a worker that ran "
            "out of memory).",
        ),
    ] = False,
) -> None:
    """Tag documents and write one record per document (or one CSV row per quote)."""
    if paths.count("-") > 1:
        # Read once, stdin would give a second, empty document of the same id.
        _fail(
            f"policy-topics: '-' (stdin) is named {paths.count('-')} times; stdin can be "
            "read once: name it once"
        )
    output = _output_path(output_name)
    if output is not None:
        _refuse_foreign_format(output, given=output_format is not None)
    fmt = output_format or _format_of(output)
    # Where the results go: the -o file, or the file stdout is redirected to.
    written_to = output if output is not None else _stdout_file()
    if written_to is not None:
        _refuse_input_as_output(paths, written_to, redirected=output is None)
    if retry_failed and not resume_run:
        _fail("policy-topics: --retry-failed goes with --resume: add --resume")
    done = _resume_point(output, fmt, retry_failed) if resume_run else Counter[str]()
    too_many = more_than_usable(n_process, f"--n-process {n_process}")
    if too_many is not None:
        _tell(f"policy-topics: note: {too_many}")
    extractor = _extractor(taxonomy, model, max_quotes=max_quotes or None, min_score=min_score)
    texts: deque[str | None] = deque()

    unread: Counter[str] = Counter()
    offered = 0  # documents read before --resume skips those done

    def offer(docs: Iterator[dict[str, Any]]) -> Iterator[dict[str, Any]]:
        nonlocal offered
        for doc in docs:
            offered += 1
            yield doc

    written_key = _file_key(written_to) if written_to is not None else None

    def left_out(path: Path) -> None:
        # The file the results go to is no input (stdout redirected there, which
        # exists while the run writes it); an earlier run's CSV or JSON output is
        # no type to convert: it is said so.
        if written_key is not None and _file_key(path) == written_key:
            return
        if not _earlier_output(path):
            unread.update([_suffixes(path).lower() or "(none)"])

    def documents() -> Iterator[dict[str, Any]]:
        docs = offer(
            read_documents(
                paths,
                text_field=text_field,
                id_field=id_field,
                stdin_format=stdin_format.value,
                exclude=[written_to] if written_to is not None else [],
                skip=_earlier_output,
                # Workers extract the text of PDFs (as slow as tagging it) in parallel;
                # the HTML page shows each document's text, so it is read here. With
                # --resume, a file is read only when it is not done yet.
                defer=(n_process > 1 or resume_run) and fmt is not OutputFormat.html,
                unread=left_out,
            )
        )
        for doc in skip_done(docs, done, str(output)) if done else docs:
            texts.append(doc.get("text"))
            yield doc
        if unread:
            _tell(_unread_note(unread))

    progress = not quiet and sys.stderr.isatty()
    # Written as JSON Lines, the records that workers make come as the lines they
    # wrote, which are written as they came: the main process then need not
    # validate every record into models and write it out again.
    lines = fmt is OutputFormat.jsonl and n_process > 1
    results = extractor._many(documents(), None, n_process, None, progress, "record", lines=lines)
    failures: list[DocumentResult] = []
    count = 0
    target = str(output) if output else "stdout"
    started = finished = False
    # Where this run's lines begin on a stdout redirected to a file, to cut a
    # failed write back to its last whole line there as in a file of -o.
    stdout_start = _regular_file_position(sys.stdout) if output is None else None
    try:
        with _Signals() as signals, contextlib.ExitStack() as opened:
            # The CLI says it itself when no document matched a record (below).
            opened.enter_context(warnings.catch_warnings())
            warnings.filterwarnings("ignore", "resume: none", UserWarning)
            records: Iterable[DocumentResult] = results
            if output is not None and fmt is OutputFormat.jsonl and not resume_run:
                # Written in place, as write_results writes it: an older file is
                # emptied only once a first result is ready to go in.
                records = _first_ready(results, output)
            stream = opened.enter_context(_open(output, fmt, append=resume_run))
            started = True
            sink = _SINKS[fmt](stream, extractor)
            if fmt is OutputFormat.json and output is None:

                def close_array(kind: type[BaseException] | None, *_: object) -> None:
                    # Stopped, the array written to stdout is closed after the finished
                    # records: a JSON document, as JSON Lines keeps whole lines (a
                    # later signal waits). Before the stream is let go (pushed after it).
                    stopped = kind is not None and issubclass(kind, _Interrupted | WorkerStartError)
                    if stopped and count:
                        with contextlib.suppress(OSError):
                            sink.close()

                opened.push(close_array)
            for result in records:
                text = texts.popleft()
                with signals.writing():
                    sink.write(result, text)
                    count += 1  # inside: a signal deferred by the write must not skip this
                    if result.error is not None:
                        failures.append(result)
            with signals.writing():
                sink.close()
                opened.close()  # an atomic output is renamed into place here
                finished = True
    except (_Interrupted, WorkerStartError) as exc:
        kept = _what_is_kept(
            target,
            fmt,
            count,
            atomic=output is not None,
            opened=started,
            finished=finished,
            appended=resume_run,
        )
        if isinstance(exc, WorkerStartError):
            _fail(f"policy-topics: {exc}; {kept}", EXIT_WORKERS)
        name = signal.Signals(exc.signum).name
        _tell(f"policy-topics: interrupted by {name} after {count} documents; {kept}")
        raise typer.Exit(128 + exc.signum) from None
    except BrokenPipeError:
        # The reader went away (`| head`): stop quietly, like other Unix tools.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        raise typer.Exit(128 + signal.SIGPIPE) from None
    except OSError as exc:  # the output cannot be created or written (no folder, disk full)
        if not started:  # -o names a place no file can be made: a usage error
            _fail(f"policy-topics: cannot write {target}: {exc.strerror or exc}")
        kept = ""
        lines = fmt is OutputFormat.jsonl
        if stdout_start is not None:
            _cut_stdout(stdout_start, whole_lines=lines)
            kept = "" if lines else "; what this run wrote to it was removed"
        elif output is None:
            # stdout on a device (/dev/full) or a pipe: what is still buffered goes
            # nowhere, or flushing it at exit failed again and said so twice.
            _stop_stdout()
        if lines and (output is not None or stdout_start is not None):
            kept = "; it holds the records written before, as complete lines"
        _fail(f"policy-topics: cannot write {target}: {exc.strerror or exc}{kept}", EXIT_WRITE)
    finally:
        close = getattr(results, "close", None)
        if close is not None:
            close()
    if resume_run:
        _tell_resumed(target, done.total(), offered - count, count)
    if failures:
        _summarise(failures, count)
        raise typer.Exit(EXIT_FAILED)


# The command that compresses a stream into a file of each suffix.
_COMPRESSORS = {".gz": "gzip", ".bz2": "bzip2", ".xz": "xz", ".zst": "zstd", ".lz4": "lz4"}


def _regular_file_position(stream: TextIO | None) -> int | None:
    """Where writing to a stream that is a regular file begins (stdout redirected to one).

    None for another stream, and for none (Python started with stdout closed).
    A file opened to append (``>>``) is written at its end, whatever its
    position says.
    """
    if stream is None:
        return None
    try:
        fd = stream.fileno()
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            return None
        if fcntl.fcntl(fd, fcntl.F_GETFL) & os.O_APPEND:
            return info.st_size
        return os.lseek(fd, 0, os.SEEK_CUR)
    except (OSError, ValueError, io.UnsupportedOperation):
        return None


def _cut_stdout(start: int, *, whole_lines: bool) -> None:
    """Cut stdout's file after its last whole line, or at ``start``; stop writing to it.

    ``start`` is where this run began writing: what was there before is never
    cut. A write that failed at a full disk may have left part of a line in
    the file, so the file is read back, through ``/proc`` where stdout is
    write-only. Output that is not in lines (a JSON document) is cut at
    ``start``: none of it is better than half. What is still buffered goes to
    the null device, so the rest does not come when Python flushes stdout at
    exit.
    """
    with contextlib.suppress(OSError, ValueError):
        path = Path(f"/proc/self/fd/{sys.stdout.fileno()}")
        if whole_lines:
            _cut_to_last_line(path, floor=start)
        else:
            os.truncate(path, start)
        # stderr may share this file and its offset ('> log 2>&1'): its message
        # goes at the new end, not past it after a hole of NUL bytes.
        os.lseek(sys.stdout.fileno(), 0, os.SEEK_END)
    _stop_stdout()


def _stop_stdout() -> None:
    """Send what is still written to stdout, its buffer too, to the null device."""
    with contextlib.suppress(OSError, ValueError):
        fd = sys.stdout.fileno()
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, fd)
        os.close(devnull)


def _n_process(value: int) -> int:
    """``--n-process`` as a number of processes: -1 is one per CPU this process may use."""
    try:
        return resolve_n_process(value)
    except ValueError:
        raise typer.BadParameter(
            f"{value} is not a number of processes: give 1 or more, or -1 for one per CPU"
        ) from None


def _output_path(name: str | None) -> Path | None:
    """The output file named by ``-o``: None for stdout, an error for a folder."""
    if name is None or name == "-":
        return None  # '-' is stdout, as it is stdin for the inputs
    if not name.strip():
        raise typer.BadParameter(
            "an empty file name; give the file to write, e.g. results.jsonl, or leave -o "
            "out to write to stdout",
            param_hint="'-o' / '--output'",
        )
    if descriptor_of(name) == 1:
        return None  # '/dev/stdout': written as '-' is, where the shell put stdout
    if names_folder(name) or os.path.isdir(name):
        example = os.path.join(name, "results.jsonl")
        raise typer.BadParameter(
            f"{name!r} is a folder; give the file to write, e.g. {example}",
            param_hint="'-o' / '--output'",
        )
    return Path(name)


def _refuse_foreign_format(output: Path, *, given: bool) -> None:
    """Stop before tagging when -o names a file this command does not write."""
    foreign = foreign_format(output)
    if foreign is None:
        return
    kind, method = foreign
    if kind == "compressed":
        tool = _COMPRESSORS.get(output.suffix.lower())
        how = f", e.g. 'policy-topics extract ... | {tool} > {output}'" if tool else ""
        _fail(
            f"policy-topics: {output}: extract does not compress its output; write to "
            f"stdout and compress it{how}"
        )
    if not given:
        _fail(
            f"policy-topics: {output}: extract writes jsonl, json, csv, table or html, not "
            f"{output.suffix!r}; write CSV (-o results.csv) and convert it with pandas "
            f"(pd.read_csv(...).{method}(...)), or choose a format with -f"
        )


def _format_of(output: Path | None) -> OutputFormat:
    """The format named by the output file's suffix; JSON Lines when it names none."""
    if output is None:
        return OutputFormat.jsonl
    suffix = output.suffix.lower()
    if suffix not in _SUFFIX_FORMATS:
        known = ", ".join(sorted(_SUFFIX_FORMATS))
        _tell(
            f"policy-topics: {output}: the suffix {suffix or '(none)'!r} names no output "
            f"format ({known}); writing JSON Lines (choose one with -f)"
        )
    return OutputFormat(_SUFFIX_FORMATS.get(suffix, "jsonl"))


def _refuse_input_as_output(paths: list[str], output: Path, *, redirected: bool = False) -> None:
    """Stop before an input file is overwritten by the output.

    A file named as an input is never the output. A folder or glob leaves the
    output file out of its inputs when it holds an earlier run's output (so a
    run can be repeated in place); when it holds anything else, stop.
    ``redirected``: the output is the file stdout is redirected to, not ``-o``.
    """
    fix = "redirect the output to another file" if redirected else "choose another -o"
    role = "the file the standard output goes to" if redirected else "the output file"
    # '>> file' adds to the file rather than replacing it.
    harm = "change" if redirected and _stdout_appends() else "destroy"
    try:
        if not output.exists():
            return
    except OSError:
        return  # a name too long, say: the output check that follows says why
    ours: bool | None = None
    for name in paths:
        if name == "-":
            if _stdin_is(output):  # "- < file -o file"
                _fail(
                    f"policy-topics: {output} is both the standard input and {role}; "
                    f"writing the results there would {harm} the input: {fix}"
                )
            continue
        if Path(name).is_file():
            if os.path.samefile(name, output):
                _fail(
                    f"policy-topics: {output} is both an input and {role}; "
                    f"writing the results there would {harm} the input: {fix}"
                )
            continue
        if ours is None:
            ours = _is_our_output(output)
        if not ours and reads(name, output):
            _fail(
                f"policy-topics: {output}, {role}, would be read as an input from {name} and "
                f"does not hold policy-topics output; writing the results there would {harm} "
                f"it: {fix}"
            )


def _stdout_file() -> Path | None:
    """The file stdout is redirected to (``> out.txt``, ``>> out.txt``), where the system tells.

    Linux names it in ``/proc``; elsewhere, or for a pipe or a terminal, None.
    """
    try:
        fd = sys.stdout.fileno()
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            return None
        path = Path(os.readlink(f"/proc/self/fd/{fd}"))
        same = path.is_absolute() and os.path.samestat(os.stat(path), os.fstat(fd))
    except (OSError, ValueError, AttributeError, io.UnsupportedOperation):
        return None
    return path if same else None


def _stdout_appends() -> bool:
    """Whether stdout was opened to append (``>> file``)."""
    try:
        return bool(fcntl.fcntl(sys.stdout.fileno(), fcntl.F_GETFL) & os.O_APPEND)
    except (OSError, ValueError, AttributeError, io.UnsupportedOperation):
        return False


def _stdin_is(path: Path) -> bool:
    """Whether the standard input is read from the file ``path``."""
    try:
        return os.path.samestat(os.fstat(sys.stdin.fileno()), os.stat(path))
    except (OSError, ValueError, AttributeError):  # no stdin, or no file behind it
        return False


# How each output format begins: an earlier run's output file may be overwritten.
# A failed document's line names its error: an exception (BadZipFile names no
# Error) or a kind of ours, not any word in brackets ("Motion 4: FAILED (Tied)").
_ERROR_TYPE = "|".join(
    [r"\w*Error", r"\w*Exception", "BadZipFile", "WorkerDied", *sorted(ERROR_KINDS)]
)
_TABLE_START_RE = re.compile(
    rf"[^\n]*: (FAILED \(({_ERROR_TYPE})\) "
    r"|\d+ sentences?, 0 areas found(\n|$)"
    r"|\d+ sentences?, \d+ areas? found\n  .{16} \d\.\d\d [# ]{10} +\d+ mention)"
)


# The longest first record read to tell whether a JSON or JSON Lines file is ours.
_MAX_RECORD_BYTES = 64 * 1024 * 1024


def _unknown_note(unknown: list[str], taxonomy: Taxonomy) -> str:
    """The note on gold topics that are not top-level topics of the taxonomy.

    A sub-topic's id is named as such: gold is scored by top-level topic.
    """
    parents: dict[str, str] = {}
    for topic_id, path, _ in taxonomy.iter_topics():
        if path is not None:
            parents.setdefault(path, topic_id)
            parents.setdefault(path.rsplit(".", 1)[-1], topic_id)
    hints = [
        f"{name!r} is a sub-topic of {parents[name]!r}, and gold is scored by top-level "
        f"topic: write {parents[name]!r}"
        for name in unknown
        if name in parents
    ]
    if len(hints) < len(unknown):
        hints.append("the others: typos in the gold?" if hints else "a typo in the gold?")
    return (
        f"policy-topics: gold topics not in taxonomy {taxonomy.name!r}, scored as "
        f"missed: {', '.join(unknown)} ({'; '.join(hints)})"
    )


def _unread_note(unread: Counter[str]) -> str:
    """The note on the files that folders and glob patterns held but that were not read.

    Example:
        >>> _unread_note(Counter({".doc": 2, ".rtf": 1}))[:74]
        'policy-topics: left out 3 files of types it does not read (.doc 2, .rtf 1)'
    """
    kinds = ", ".join(f"{suffix} {count}" for suffix, count in sorted(unread.items()))
    known = ", ".join(sorted(SUPPORTED_SUFFIXES))
    squeezed = ", ".join(COMPRESSED_SUFFIXES)
    files = counted(sum(unread.values()), "file")
    return (
        f"policy-topics: left out {files} of types it does not read ({kinds}); "
        f"it reads {known}, each also compressed as {squeezed}: convert them, "
        "e.g. .doc to .docx"
    )


def _earlier_output(path: Path) -> bool:
    """Whether a file found in an input folder holds an earlier run's output: said, and skipped.

    Tagging results as a document would add a document that repeats the
    others' evidence; and each record of a JSON Lines output would be an error.
    """
    if _kind_of(path)[0] in ("pdf", "docx") or not _is_our_output(path, empty=False):
        return False
    _tell(
        f"policy-topics: {path}: skipped, it holds policy-topics output "
        "(an earlier run's); name the file to read it anyway"
    )
    return True


def _is_our_output(path: Path, *, empty: bool = True) -> bool:
    """Whether ``path`` holds what ``extract`` writes (or nothing, unless ``empty`` is False).

    JSON and JSON Lines count only when their first record is a valid
    DocumentResult: an input whose records merely start with a ``doc_id``
    field is not ours. The other formats are told by how they begin. A file
    compressed as read_documents reads it (``results.jsonl.gz``, as the command
    tells to write one) is told by what it holds.
    """
    compression = _kind_of(path)[1]
    try:
        with path.open("rb") as raw:
            stream = raw if compression is None else _decompressing(raw, compression)
            # A byte order mark, which an editor may add to a file of ours, is skipped.
            head = stream.read(4096).decode("utf-8", "replace").removeprefix("\ufeff")
            if head.startswith(("{", "[")):
                stream.seek(0)
                first = stream.readline(_MAX_RECORD_BYTES).removeprefix(codecs.BOM_UTF8)
                if first.strip() == b"[":
                    first = stream.readline(_MAX_RECORD_BYTES).rstrip().removesuffix(b",")
    except _DECOMPRESSION_ERRORS:  # OSError among them
        return False
    if head.startswith(("{", "[")):
        if first.strip() in (b"[]", b"[", b"]"):
            return empty  # a JSON array with no record
        try:
            DocumentResult.model_validate_json(first)
        except ValueError:  # pydantic's ValidationError, for JSON too
            return False
        return True
    return (
        (empty and not head.strip())
        or head.startswith(",".join(CSV_COLUMNS))
        or (head.startswith("<!DOCTYPE html>") and "<title>policy-topics</title>" in head)
        or _TABLE_START_RE.match(head) is not None
    )


def _what_is_kept(
    target: str,
    fmt: OutputFormat,
    count: int,
    *,
    atomic: bool,
    opened: bool,
    finished: bool,
    appended: bool = False,
) -> str:
    """What an interrupted run leaves behind, for the message on stderr."""
    if finished:
        return f"{target} is complete"
    if atomic and fmt is not OutputFormat.jsonl:
        return f"no output file was written ({fmt.value} output is written atomically)"
    if atomic and not opened:  # a JSON Lines file is opened once its first result is ready
        if os.path.lexists(target):
            return f"{target} was left as it was (no document was finished)"
        return "no output file was written (no document was finished)"
    if appended:
        return (
            f"{target} holds its earlier records and the {count} finished since, as "
            "complete lines: run again with --resume to go on"
        )
    if fmt is OutputFormat.html:
        return f"nothing was written to {target} (HTML is written when the run ends)"
    held = {
        OutputFormat.jsonl: f"the {count} finished records as complete lines",
        OutputFormat.csv: f"the rows of the {count} finished documents, each row complete",
        OutputFormat.table: f"the summaries of the {count} finished documents",
        OutputFormat.json: f"the {count} finished records, the JSON array closed after them",
    }
    if fmt is OutputFormat.json and count == 0:  # its "[" comes with the first record
        return f"nothing was written to {target}"
    return f"{target} holds {held[fmt]}"


def _extractor(
    taxonomy: str | Path, model: str | None, *, max_quotes: int | None, min_score: float
) -> Extractor:
    from policy_topics.extract import Extractor  # spaCy: not for --help or a usage error

    try:
        return Extractor(taxonomy, model, max_quotes=max_quotes, min_score=min_score)
    except TaxonomyError as exc:
        _fail(str(exc))
    except OSError as exc:  # spaCy cannot find or load the model
        _fail(f"policy-topics: cannot load the spaCy pipeline {model!r}: {exc}")


def _resume_point(output: Path | None, fmt: OutputFormat, retry_failed: bool) -> Counter[str]:
    """The ids of the documents ``--resume`` skips, counted: the records ``output`` holds.

    With ``--retry-failed`` the records of failed documents are removed first.
    """
    if output is None:
        _fail("policy-topics: --resume needs -o FILE.jsonl, the output to go on with")
    if fmt is not OutputFormat.jsonl:
        _fail(
            f"policy-topics: --resume adds to a JSON Lines file; {fmt.value} output is "
            "written whole: use -o FILE.jsonl"
        )
    if retry_failed:
        try:
            dropped, done = _drop_failed(output)
        except ValueError as exc:
            _fail(f"policy-topics: --resume: {exc}")
        except OSError as exc:
            # A full disk is a failure to write (74), as for the records themselves;
            # the file is left as it was (open_output renames only when done).
            code = EXIT_WRITE if exc.errno in _WRITE_ERRNOS else EXIT_USAGE
            _fail(
                f"policy-topics: --retry-failed: cannot rewrite {output}: {exc.strerror or exc}",
                code,
            )
        _tell(
            f"policy-topics: --retry-failed: {counted(dropped, 'record')} of failed "
            f"documents removed from {output}"
        )
        return done
    try:
        return done_counts(output)
    except ValueError as exc:
        _fail(f"policy-topics: --resume: {exc}")
    except OSError as exc:
        _fail(f"policy-topics: --resume: cannot read {output}: {exc.strerror or exc}")


def _tell_resumed(target: str, held: int, skipped: int, added: int) -> None:
    """Say what ``--resume`` skipped and added, or that no document matched a record."""
    if held and not skipped:
        _tell(
            f"policy-topics: --resume: none of the documents matched {matched_phrase(held)} "
            f"of {target}, so none was skipped; a file's id is "
            "its path as named: name the files as the run that wrote it did"
        )
    _tell(
        f"policy-topics: resumed {target}: {counted(skipped, 'document')} it held "
        f"skipped, {counted(added, 'record')} added"
    )


@contextlib.contextmanager
def _open(output: Path | None, fmt: OutputFormat, *, append: bool = False) -> Iterator[TextIO]:
    if output is not None:
        atomic = fmt is not OutputFormat.jsonl
        with open_output(output, atomic=atomic, append=append) as stream:
            yield stream
        return
    # UTF-8 whatever the locale, no newline translation; stdout itself stays open.
    stream = io.TextIOWrapper(sys.stdout.buffer, encoding="utf-8", newline="")
    try:
        yield stream
        stream.flush()
    finally:
        with contextlib.suppress(ValueError, OSError):
            stream.detach()


def _summarise(failures: list[DocumentResult], count: int) -> None:
    lines = [f"policy-topics: {len(failures)} of {counted(count, 'document')} failed:"]
    for result in failures[:_MAX_LISTED_FAILURES]:
        error = result.error
        assert error is not None
        # Reader messages already start with the file name.
        named = result.doc_id is not None and error.message.startswith(result.doc_id)
        lines.append(
            f"  {error.message} ({error.type})"
            if named
            else f"  {result.doc_id}: {error.message} ({error.type})"
        )
    if len(failures) > _MAX_LISTED_FAILURES:
        lines.append(f"  ... and {len(failures) - _MAX_LISTED_FAILURES} more")
    _tell("\n".join(lines))


# --- taxonomy -----------------------------------------------------------------------------


def _load(source: str) -> Taxonomy:
    try:
        return load_taxonomy(source)
    except TaxonomyError as exc:
        _fail(str(exc))


def _term_count(topic: Topic) -> int:
    return len(topic.terms) + sum(_term_count(sub) for sub in topic.subtopics.values())


@taxonomy_app.command(
    "validate", short_help="Check taxonomies; each problem with its file, line and path."
)
def taxonomy_validate(
    files: Annotated[
        list[str],
        typer.Argument(help="Taxonomy YAML files (or packaged names).", metavar="FILE"),
    ],
) -> None:
    """Check taxonomies; every problem is listed with file, line and path."""
    bad = 0
    for source in files:
        try:
            taxonomy = load_taxonomy(source)
        except TaxonomyError as exc:
            # Which of the files given this is, before its problems.
            _tell(f"{source}: {exc}")
            bad += 1
            continue
        terms = sum(_term_count(topic) for topic in taxonomy.topics.values())
        typer.echo(
            f"{source}: ok ({counted(len(taxonomy.topics), 'topic')}, {counted(terms, 'term')})"
        )
    if bad:
        raise typer.Exit(EXIT_USAGE)


@taxonomy_app.command("show")
def taxonomy_show(
    name: Annotated[
        str, typer.Argument(help="Packaged taxonomy name or YAML file.", metavar="NAME|FILE")
    ] = "default",
) -> None:
    """Print a taxonomy as a tree with term counts."""
    taxonomy = _load(name)
    total = sum(_term_count(topic) for topic in taxonomy.topics.values())
    lines = [
        f"{taxonomy.name} {taxonomy.version} ({taxonomy.language}): "
        f"{counted(len(taxonomy.topics), 'topic')}, {counted(total, 'term')}, "
        f"{counted(len(taxonomy.cues), 'cue')}"
    ]
    items = list(taxonomy.topics.items())
    for i, (topic_id, topic) in enumerate(items):
        lines.extend(_tree(topic_id, topic, "", i == len(items) - 1))
    if name == "default" or name in packaged_taxonomies():
        lines.append(f"packaged: {', '.join(packaged_taxonomies())}")
    typer.echo("\n".join(lines))


def _tree(node_id: str, topic: Topic, prefix: str, last: bool) -> list[str]:
    own, total = len(topic.terms), _term_count(topic)
    counts = counted(own, "term")
    if total != own:
        counts += f", {total} with sub-topics"
    if topic.exclude:
        counts += f", {counted(len(topic.exclude), 'exclusion')}"
    lines = [f"{prefix}{'└── ' if last else '├── '}{node_id}: {topic.label} ({counts})"]
    child_prefix = prefix + ("    " if last else "│   ")
    subs = list(topic.subtopics.items())
    for i, (sub_id, sub) in enumerate(subs):
        lines.extend(_tree(sub_id, sub, child_prefix, i == len(subs) - 1))
    return lines


@taxonomy_app.command("lint", short_help="Report duplicate, shadowed, dead and regex-like terms.")
def taxonomy_lint(
    file: Annotated[
        str, typer.Argument(help="Taxonomy YAML file (or packaged name).", metavar="FILE")
    ],
) -> None:
    """Report duplicate, shadowed and dead terms, and terms written as regular expressions.

    Exits 1 when there are findings, 2 when the taxonomy is invalid.
    """
    from policy_topics.lint import lint_taxonomy

    findings = lint_taxonomy(_load(file))
    # The file, and the line of each finding, as validation names them; a
    # packaged taxonomy by its file, which an editor can open.
    try:
        path, lines = taxonomy_lines(file)
    except TaxonomyError:  # the file changed since it was loaded: no lines then
        path, lines = Path(file), {}
    for finding in findings:
        line = line_of(finding.path, lines)
        typer.echo(f"{path}:{line} {finding}" if line is not None else f"{path}: {finding}")
    if findings:
        _tell(counted(len(findings), "finding"))
        raise typer.Exit(EXIT_FAILED)
    typer.echo(f"{file}: no findings")


# --- evaluate and schema ------------------------------------------------------------------


class ReportFormat(str, Enum):
    """Formats of the evaluation report."""

    table = "table"
    json = "json"


class EvalMode(str, Enum):
    """Evaluation modes of the command line."""

    multi = "multi"
    primary = "primary"


@app.command(short_help="Score a taxonomy, or other predictions, against gold: P, R, F1.")
def evaluate(
    gold: Annotated[
        Path,
        typer.Argument(help="Gold JSON Lines file.", exists=True, dir_okay=False, metavar="GOLD"),
    ],
    taxonomy: Annotated[
        str | None,
        typer.Option(
            "-t",
            "--taxonomy",
            metavar="NAME|FILE",
            help="Taxonomy YAML file or packaged name [default: default]. With --predictions "
            "it only orders and labels the topics: give the one extract's records were "
            "tagged with (default: the packaged one they name, else default).",
            show_default=False,
        ),
    ] = None,
    predictions: Annotated[
        Path | None,
        typer.Option(
            "--predictions",
            help="Score these predictions (JSON Lines: spans or document topics per gold id, "
            "or extract -f jsonl output) instead of tagging the gold's texts.",
            exists=True,
            dir_okay=False,
            metavar="FILE.jsonl",
            show_default=False,
        ),
    ] = None,
    topic: Annotated[
        list[str] | None,
        typer.Option(
            "--topic",
            metavar="TOPIC",
            help="Score only this topic (repeatable); the others are ignored.",
            show_default=False,
        ),
    ] = None,
    mode: Annotated[
        list[EvalMode] | None,
        typer.Option(
            "--mode",
            case_sensitive=False,
            metavar="<multi|primary>",
            help="Evaluation mode (repeatable; default: multi and primary).",
            show_default=False,
        ),
    ] = None,
    min_score: Annotated[
        float,
        typer.Option(
            "--min-score", min=0.0, max=1.0, metavar="SCORE", help="Minimum sentence score."
        ),
    ] = 0.0,
    report_format: Annotated[
        ReportFormat,
        typer.Option("-f", "--format", case_sensitive=False, help="Format of the report."),
    ] = ReportFormat.table,
) -> None:
    """Score a taxonomy, or another tool's predictions, against labelled gold: P, R and F1."""
    from policy_topics.evaluate import MODES
    from policy_topics.evaluate import evaluate as run_evaluation

    extractor = (
        None
        if taxonomy is None and predictions is not None
        else _extractor(taxonomy or "default", None, max_quotes=None, min_score=0.0)
    )
    modes = list(dict.fromkeys(m.value for m in mode)) if mode else list(MODES)
    try:
        report = run_evaluation(
            gold, extractor, predictions=predictions, topics=topic, min_score=min_score, modes=modes
        )
    except PolicyTopicsError as exc:  # GoldError, PredictionError (line and field), a --topic
        _fail(f"policy-topics: {exc}")
    if report.unknown_topics:
        # With predictions and no -t, evaluate ordered by a packaged taxonomy.
        named = extractor.taxonomy if extractor is not None else load_taxonomy(report.taxonomy)
        _tell(_unknown_note(report.unknown_topics, named))
    if report.missing_predictions:
        _tell(
            f"policy-topics: {counted(len(report.missing_predictions), 'gold document')} "
            f"without a line in {report.predictions}, scored as predicting nothing "
            "(the report lists their ids)"
        )
    if report.unmatched_predictions:
        _tell(
            f"policy-topics: {counted(len(report.unmatched_predictions), 'prediction')} "
            "for ids not in the gold, not scored (the report lists their ids)"
        )
    if report.unknown_predicted_topics:
        _tell(
            "policy-topics: predicted topics neither in the gold nor in taxonomy "
            f"{report.taxonomy!r}, scored as false positives of their own rows (the "
            "averages run over topics with gold support): "
            f"{', '.join(report.unknown_predicted_topics)} (a typo in the predictions?)"
        )
    if report_format is ReportFormat.json:
        typer.echo(report.model_dump_json(indent=2))
    else:
        typer.echo(report.to_table())


class SchemaKind(str, Enum):
    """Which JSON Schema to print."""

    result = "result"
    taxonomy = "taxonomy"


@app.command()
def schema(
    kind: Annotated[
        SchemaKind,
        typer.Argument(
            help="result: the output records; taxonomy: the YAML input.",
            metavar="KIND",
        ),
    ] = SchemaKind.result,
) -> None:
    """Print the JSON Schema of the result records (or of a taxonomy)."""
    model = DocumentResult if kind is SchemaKind.result else Taxonomy
    typer.echo(json.dumps(model.model_json_schema(), indent=2, ensure_ascii=False))
