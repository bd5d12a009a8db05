"""Document readers: files, folders, globs and stdin in; documents for extract_many out.

A file that cannot be read becomes a document carrying an ``error``, which
:meth:`Extractor.extract_many` turns into an error record, so one bad file
never stops a batch.
"""

from __future__ import annotations

import bz2
import codecs
import errno
import glob
import gzip
import io
import itertools
import json
import logging
import lzma
import operator
import os
import re
import stat
import sys
import zlib
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from functools import partial
from html.parser import HTMLParser
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any, ClassVar, cast

from policy_topics.errors import PolicyTopicsError
from policy_topics.pages import Pages, check_pages
from policy_topics.plain import plain_id
from policy_topics.text import counted, replace_surrogates

if TYPE_CHECKING:
    pass

__all__ = [
    "COMPRESSED_SUFFIXES",
    "DEFERRED_FORMATS",
    "SUPPORTED_SUFFIXES",
    "Document",
    "ReadError",
    "Source",
    "decode_text",
    "drop_furniture",
    "join_hyphenated",
    "read_documents",
    "reads",
]

#: File suffixes read by :func:`read_documents`, with the format each stands for.
SUPPORTED_SUFFIXES: dict[str, str] = {
    ".txt": "txt",
    ".text": "txt",
    ".md": "md",
    ".markdown": "md",
    ".html": "html",
    ".htm": "html",
    ".jsonl": "jsonl",
    ".pdf": "pdf",
    ".docx": "docx",
}

#: Compressions read as the file is read, by the suffix after the format's
#: (``news.jsonl.gz``, ``paper.txt.xz``): the standard library's gzip, bzip2 and
#: xz. A JSON Lines file is decompressed line by line, so its size does not matter.
COMPRESSED_SUFFIXES: dict[str, str] = {".gz": "gzip", ".bz2": "bzip2", ".xz": "xz"}
#: What the decompressors raise for data that is not theirs, or cut short.
_DECOMPRESSION_ERRORS = (OSError, EOFError, zlib.error, lzma.LZMAError)

#: A document as :func:`read_documents` yields it: ``id``, ``text`` and ``meta``;
#: for a PDF also ``pages``, a ``(page, start)`` pair per page that holds text
#: (:mod:`policy_topics.pages`); for a file left unread, ``source`` in place of
#: ``text``; for one that cannot be read, ``error`` and ``error_type`` in place of both.
Document = dict[str, Any]


class ReadError(PolicyTopicsError, ValueError):
    """A document could not be read or decoded.

    Attributes:
        kind: Name of the underlying problem, e.g. ``"UnicodeDecodeError"``; it
            becomes ``ErrorInfo.type`` of the error record.
    """

    def __init__(self, message: str, kind: str = "ReadError") -> None:
        super().__init__(message)
        self.kind = kind


#: Formats whose text extraction is real work: ``read_documents(defer=True)``
#: leaves these files for the process that tags them. Measured on generated
#: files, reading PDF and DOCX takes about as long as tagging the text or longer
#: (pypdf 2.8 ms a page against 2.5 ms; python-docx 0.7 MB/s of text against
#: 1.5 MB/s tagged); HTML a twenty-fifth as long (32 MB/s against 1.3), still work the
#: main process need not do.
DEFERRED_FORMATS = frozenset({"pdf", "docx", "html"})


@dataclass(frozen=True)
class Source:
    """A file that :func:`read_documents` left unread (``defer=True``).

    :meth:`Extractor.extract_many <policy_topics.Extractor.extract_many>` reads
    it where it tags it: with ``n_process > 1``, in a worker process, so that
    extracting the text of PDFs, which takes about as long as tagging it or
    longer, runs in parallel too.

    Attributes:
        path: The file, as :func:`read_documents` names it (the document's id).
        format: Its format, a value of :data:`SUPPORTED_SUFFIXES`.
        size: Its size in bytes when it was found, to size batches of work.
        location: Where it is read from: its absolute path when it was found,
            so that a process with another working directory finds it too
            (on other machines, only where they see the same file system).
    """

    path: str
    format: str
    size: int = 0
    location: str = ""

    def read(self) -> Document:
        """The document, or its error document, exactly as :func:`read_documents` reads it."""
        compression = _kind_of(Path(self.path))[1]
        try:
            with open(self.location or self.path, "rb") as stream:
                return _read_single(stream, self.path, self.format, compression)
        except OSError as exc:
            return _error_doc(self.path, _os_error(self.path, exc))


# --- decoding ---------------------------------------------------------------------------

_BOMS = (
    # UTF-32 first: its little-endian BOM starts with the UTF-16 one.
    (codecs.BOM_UTF32_LE, "utf-32-le", "UTF-32"),
    (codecs.BOM_UTF32_BE, "utf-32-be", "UTF-32"),
    (codecs.BOM_UTF8, "utf-8", "UTF-8"),
    (codecs.BOM_UTF16_LE, "utf-16-le", "UTF-16"),
    (codecs.BOM_UTF16_BE, "utf-16-be", "UTF-16"),
)


def decode_text(data: bytes, *, source: str = "<bytes>") -> str:
    """Decode document bytes: UTF-8, or UTF-8/UTF-16/UTF-32 with a byte order mark.

    The BOM itself is not part of the text. Anything that is not valid in
    the detected encoding is an error naming the source and the byte offset;
    nothing is guessed or replaced. Without a BOM, NUL bytes are an error too:
    they are valid UTF-8 but mean a binary file or UTF-16 without its BOM.

    Args:
        data: The raw bytes.
        source: Name used in the error message (usually the file path).

    Returns:
        The text.

    Raises:
        ReadError: with ``kind="UnicodeDecodeError"`` when the bytes do not decode,
            ``kind="NotText"`` when they hold NUL bytes.

    Example:
        >>> decode_text("Zoll".encode("utf-16"))
        'Zoll'
        >>> decode_text(b"caf\\xe9", source="a.txt")
        Traceback (most recent call last):
        ...
        policy_topics.readers.ReadError: a.txt: not valid UTF-8: byte 0xe9 at byte offset 3 \
cannot be decoded (save the file as UTF-8, or as UTF-16 with a byte order mark)
    """
    for bom, encoding, label in _BOMS:
        if data.startswith(bom):
            try:
                return data[len(bom) :].decode(encoding)
            except UnicodeDecodeError as exc:
                if bom == codecs.BOM_UTF32_LE:
                    # A UTF-16 LE BOM followed by U+0000 looks like a UTF-32 LE
                    # BOM; when UTF-32 fails, UTF-16 gets its turn.
                    continue
                offset = len(bom) + exc.start
                raise ReadError(
                    f"{source}: not valid {label} ({exc.reason}) at byte offset {offset}",
                    "UnicodeDecodeError",
                ) from None
    if b"\x00" in data:
        # Valid UTF-8, but no text: a binary file, or UTF-16/32 without its BOM.
        raise ReadError(
            f"{source}: holds NUL bytes (first at byte offset {data.index(0)}): a binary "
            "file, or UTF-16/UTF-32 without a byte order mark (save the file as UTF-8)",
            "NotText",
        )
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ReadError(
            f"{source}: not valid UTF-8: byte 0x{data[exc.start]:02x} at byte offset "
            f"{exc.start} cannot be decoded (save the file as UTF-8, or as UTF-16 with a "
            "byte order mark)",
            "UnicodeDecodeError",
        ) from None


# --- readers ----------------------------------------------------------------------------


def read_documents(
    sources: str | os.PathLike[str] | Iterable[str | os.PathLike[str]],
    *,
    text_field: str = "text",
    id_field: str = "id",
    meta_field: str = "meta",
    stdin_format: str = "txt",
    recursive: bool = True,
    exclude: Iterable[str | os.PathLike[str]] = (),
    skip: Callable[[Path], bool] | None = None,
    defer: bool = False,
    unread: Callable[[Path], None] | None = None,
) -> Iterator[Document]:
    """Read documents from files, folders, glob patterns or stdin, lazily.

    Each document is a mapping ``{"id": ..., "text": ..., "meta": {...}}`` that
    :meth:`Extractor.extract_many` accepts. The id of a file is its path; the
    id of a JSON Lines record is its ``id_field`` (or ``path:line`` without one).
    A file or line that cannot be read yields ``{"id": ..., "error": message,
    "error_type": kind}`` instead, so one bad file never stops the batch.

    Formats by suffix: ``.txt``/``.text`` and ``.md``/``.markdown`` (as they
    are), ``.html``/``.htm``
    (visible text only: no scripts, styles, markup or page furniture), ``.jsonl`` (one document
    per line), ``.pdf`` (extra ``pdf``) and ``.docx`` (extra ``docx``); each of
    them also compressed, with ``.gz``, ``.bz2`` or ``.xz`` after its suffix
    (:data:`COMPRESSED_SUFFIXES`; a file that does not decompress is an error
    document, after the records of a JSON Lines file read before the fault). Folders
    are walked in sorted order and only files with these suffixes are read
    (hidden files are skipped); a file named explicitly with another suffix
    is an error. Offsets in results index into the text read here: for HTML,
    PDF and DOCX that is the extracted text, not the file's bytes.

    The text of a PDF is the text of its pages, each stripped, joined by
    blank lines (``"\\n\\n"``); pages without text are left out. Its document
    also has ``pages``: a list of ``(page, start)`` pairs, one per page that
    holds text, ``page`` its physical number (from 1, empty pages counted) and
    ``start`` the offset in ``text`` where its text begins. ``extract_many``
    gives each quote of the document the page its sentence starts on. A JSON
    Lines record's ``pages`` field, in the same form, is read along too.

    Args:
        sources: A path, folder or glob pattern, or several; ``"-"`` is stdin.
        text_field: JSON Lines field holding the text.
        id_field: JSON Lines field holding the id.
        meta_field: JSON Lines field holding a mapping copied into the metadata.
        stdin_format: Format of stdin: ``"txt"``, ``"md"``, ``"html"`` or ``"jsonl"``.
        recursive: Walk sub-folders of folders.
        exclude: Files never to read, e.g. the output file of the same run when
            it lies in an input folder.
        skip: Called with each file a folder or glob pattern finds (not with
            files named as sources); the files for which it returns True are
            left out, e.g. the results of an earlier run in an input folder.
        defer: Leave PDF, DOCX and HTML files (:data:`DEFERRED_FORMATS`) unread:
            their documents carry a :class:`Source` under ``source`` instead of
            a ``text``, which :meth:`Extractor.extract_many` reads where it tags
            the document, in its worker processes with ``n_process > 1``. The
            results are the same; only the extraction of text runs in parallel.
        unread: Called with each file a folder or glob pattern finds that is
            left out for its suffix (``.doc``, ``.rtf``, images; hidden files
            aside), so a caller can say what was not read.

    A JSON Lines file is read as far as it reaches when it is opened, so a
    file written while it is read (results written into an input folder)
    cannot feed on itself; such results are best written elsewhere, or left
    out with ``exclude``.

    Yields:
        One document (or error document) per file, or per line of a ``.jsonl`` file.

    Example:
        >>> import tempfile, pathlib
        >>> folder = pathlib.Path(tempfile.mkdtemp())
        >>> _ = (folder / "a.txt").write_text("Tariffs fell.", encoding="utf-8")
        >>> _ = (folder / "b.txt").write_bytes(b"\\xff")
        >>> [sorted(d) for d in read_documents(folder)]
        [['id', 'meta', 'text'], ['error', 'error_type', 'id']]
    """
    if isinstance(sources, str | os.PathLike):
        sources = [sources]
    options = {"text_field": text_field, "id_field": id_field, "meta_field": meta_field}
    excluded = {_real(Path(p)) for p in exclude}
    # A hard link is the same file under another name: compare identities too.
    excluded_ids = {key for p in exclude if (key := _file_key(Path(p))) is not None}
    if stdin_format not in ("txt", "md", "html", "jsonl"):
        raise ValueError(f"stdin_format must be txt, md, html or jsonl, not {stdin_format!r}")
    for source in sources:
        name = os.fspath(source)
        if name == "-":
            yield from _read_stream(sys.stdin.buffer, "<stdin>", stdin_format, options)
            continue
        named = _named(Path(name))
        for path, problem in _expand(name, recursive, unread):
            if excluded and (_real(path) in excluded or _file_key(path) in excluded_ids):
                continue
            if skip is not None and not named and problem is None and skip(path):
                continue
            if problem is not None:
                yield _error_doc(str(path), problem)
                continue
            fmt, compression = _kind_of(path)
            if fmt is None:
                known = ", ".join(sorted(SUPPORTED_SUFFIXES))
                squeezed = ", ".join(COMPRESSED_SUFFIXES)
                yield _error_doc(
                    str(path),
                    ReadError(
                        f"{path}: unsupported file type {_suffixes(path) or '(none)'!r} "
                        f"(supported: {known}, each also compressed as {squeezed})",
                        "UnsupportedFormat",
                    ),
                )
                continue
            if defer and fmt in DEFERRED_FORMATS:
                where = os.path.abspath(path)
                yield {
                    "id": str(path),
                    "source": Source(str(path), fmt, _size(path), where),
                    "meta": {},
                }
                continue
            try:
                with path.open("rb") as stream:
                    yield from _read_stream(stream, str(path), fmt, options, compression)
            except OSError as exc:
                yield _error_doc(str(path), _os_error(str(path), exc))


def reads(source: str | os.PathLike[str], path: Path, *, recursive: bool = True) -> bool:
    """Whether :func:`read_documents` would read the file ``path`` for ``source``.

    Example:
        >>> import tempfile, pathlib
        >>> folder = pathlib.Path(tempfile.mkdtemp())
        >>> _ = (folder / "a.txt").write_text("Tariffs fell.", encoding="utf-8")
        >>> reads(folder, folder / "a.txt"), reads(folder / "*.md", folder / "a.txt")
        (True, False)
    """
    name = os.fspath(source)
    target = _file_key(path)
    if name == "-" or target is None:
        return False
    return any(_file_key(found) == target for found, _ in _expand(name, recursive))


#: The kinds of error record this module gives that are no exception's name; with
#: the names of exceptions, they are how the command line knows its own table of
#: results when it meets one among its inputs.
ERROR_KINDS = frozenset(
    {
        "DecompressionError",
        "EmptyFile",
        "EncryptedPDF",
        "NoMatch",
        "NoText",
        "NotText",
        "SymlinkLoop",
        "UnsupportedFormat",
        "WrongType",
    }
)


def _real(path: Path) -> Path:
    """The path with its symbolic links followed; a link loop is left as it is.

    ``Path.resolve`` raises RuntimeError on a loop before Python 3.13, which
    stopped the whole run at a loop in an input folder.
    """
    return Path(os.path.realpath(path))


def _file_key(path: Path) -> tuple[int, int] | None:
    """The file's identity (device, inode), which its symbolic and hard links share."""
    try:
        found = path.stat()
    except (OSError, ValueError):
        return None
    return found.st_dev, found.st_ino


def _named(path: Path) -> bool:
    """Whether ``path`` names a file itself, not a folder or a pattern: :func:`_expand` gives it.

    A named pipe counts (``mkfifo``): read once, never looked into first.
    """
    try:
        return path.exists() and not path.is_dir()
    except OSError:
        return False


def _expand(
    name: str, recursive: bool, unread: Callable[[Path], None] | None = None
) -> Iterator[tuple[Path, ReadError | None]]:
    path = Path(name)
    try:
        is_dir = path.is_dir()
        exists = is_dir or path.exists()
    except OSError as exc:
        # A name too long, a folder on the way this process may not enter: Python
        # 3.11 raises for those, which ended the run, blamed on the output.
        yield path, _os_error(name, exc)
        return
    if is_dir:
        shut = _unreadable_folder(path)
        if shut is not None:
            yield path, _os_error(name, shut)
            return
        walk = path.rglob("*") if recursive else path.glob("*")
        found: list[tuple[Path, ReadError | None]] = []
        for p in sorted(walk, key=lambda p: p.relative_to(path).parts):
            if any(part.startswith(".") for part in p.relative_to(path).parts):
                continue
            if recursive and p.is_dir() and not p.is_symlink():
                # The walk passes over a folder it cannot read without a word:
                # its files would go missing unreported.
                shut = _unreadable_folder(p)
                if shut is not None:
                    found.append((p, _os_error(str(p), shut)))
            elif _kind_of(p)[0] is None:
                if unread is not None and p.is_file():
                    unread(p)
            elif p.is_file() or _is_dangling(p):
                found.append((p, _dangling_error(p)))
        if not found:
            known = ", ".join(sorted(SUPPORTED_SUFFIXES))
            yield path, ReadError(f"{name}: no readable file in the folder ({known})", "NoMatch")
        yield from found
    elif exists:
        yield path, None
    elif path.is_symlink():
        yield path, _dangling_error(path)
    elif not glob.has_magic(name):
        yield path, ReadError(f"{name}: no such file or directory", "FileNotFoundError")
    else:
        matches = []
        for p in sorted(map(Path, _glob(name))):
            if _kind_of(p)[0] is None:
                if unread is not None and p.is_file():
                    unread(p)
            elif p.is_file() or _is_dangling(p):
                matches.append(p)
        if not matches:
            yield path, ReadError(f"{name}: no readable file matches the pattern", "NoMatch")
        for match in matches:
            yield match, _dangling_error(match)


def _glob(pattern: str) -> set[str]:
    """``glob.glob(pattern, recursive=True)``, but ``**`` follows no symbolic link to a folder.

    ``glob.glob`` follows them: a link to a folder above (``loop -> ..``) gave
    every file once per trip round the loop, and two such links more paths
    than could ever be listed. A folder's walk (``Path.rglob``) does not follow
    them, nor does ``**`` here; what the pattern names before its ``**`` (a
    folder, a wildcard) is matched as ``glob.glob`` matches it, links or not.

    Example:
        >>> _glob("no-such-folder/**/*.txt")
        set()
    """
    sep = os.sep
    parts = pattern.replace(os.altsep, sep).split(sep) if os.altsep else pattern.split(sep)
    if "**" not in parts:
        return set(glob.glob(pattern, recursive=True))
    at = parts.index("**")
    head, rest = sep.join(parts[:at]), sep.join(parts[at + 1 :])
    # "/**" and "a//**" leave a head that names a folder as it is: "/" and "a/".
    tops = [t for t in glob.glob(head or sep) if os.path.isdir(t)] if at else [""]
    found: set[str] = set()
    for top in tops:
        for folder, folders, files in os.walk(top or os.curdir):
            folders[:] = [f for f in folders if not f.startswith(".")]  # as ** leaves them
            # Named as glob.glob names it: from the pattern's head, "./" kept or left out.
            here = folder if top else os.path.relpath(folder)
            here = "" if here == os.curdir and not top else here
            if rest:
                found.update(_glob(glob.escape(here) + sep + rest if here else rest))
            elif len(parts) > at + 1:  # "folder/**/": the folder and every folder under it
                if here:
                    found.add(os.path.join(here, ""))
            else:  # "folder/**": the folder, and every folder and file under it
                if folder == top:
                    found.add(os.path.join(top, ""))
                found.update(os.path.join(here, n) for n in folders + files if n[:1] != ".")
    return found


def _unreadable_folder(path: Path) -> OSError | None:
    """Why the files of a folder cannot be listed (no permission), or None when they can."""
    try:
        with os.scandir(path):
            return None
    except OSError as exc:
        return exc


def _kind_of(path: Path) -> tuple[str | None, str | None]:
    """A file's format by its suffix (None when unsupported), and its compression or None.

    Example:
        >>> _kind_of(Path("news.JSONL.gz")), _kind_of(Path("a.txt")), _kind_of(Path("a.tar.gz"))
        (('jsonl', 'gzip'), ('txt', None), (None, 'gzip'))
    """
    suffix = path.suffix.lower()
    compression = COMPRESSED_SUFFIXES.get(suffix)
    if compression is None:
        return SUPPORTED_SUFFIXES.get(suffix), None
    return SUPPORTED_SUFFIXES.get(Path(path.stem).suffix.lower()), compression


def _suffixes(path: Path) -> str:
    """The suffix that names a file's type: with its format's, for a compressed file."""
    if path.suffix.lower() in COMPRESSED_SUFFIXES:
        return Path(path.stem).suffix + path.suffix
    return path.suffix


def _is_dangling(path: Path) -> bool:
    """A symbolic link to nothing: reported, not skipped, so no document goes missing."""
    return path.is_symlink() and not path.exists()


def _dangling_error(path: Path) -> ReadError | None:
    if not _is_dangling(path):
        return None
    target = os.readlink(path)
    try:
        os.stat(path)
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            return ReadError(
                f"{path}: symbolic link loop (to {target}, which leads back to it)",
                "SymlinkLoop",
            )
    return ReadError(
        f"{path}: broken symbolic link (to {target}, which does not exist)",
        "FileNotFoundError",
    )


def _os_error(name: str, exc: OSError) -> ReadError:
    if isinstance(exc, FileNotFoundError):
        return ReadError(f"{name}: no such file or directory", "FileNotFoundError")
    return ReadError(f"{name}: cannot read: {exc.strerror or exc}", type(exc).__name__)


def _error_doc(doc_id: str, exc: Exception) -> Document:
    kind = exc.kind if isinstance(exc, ReadError) else type(exc).__name__
    return {"id": doc_id, "error": str(exc) or kind, "error_type": kind}


def _read_stream(
    stream: IO[bytes],
    name: str,
    fmt: str,
    options: dict[str, str],
    compression: str | None = None,
) -> Iterator[Document]:
    if fmt != "jsonl":
        yield _read_single(stream, name, fmt, compression)
    elif compression is None:
        yield from _read_jsonl(stream, name, **options)
    else:
        documents = 0
        try:
            # No end from the file's size: that is the compressed size, and no
            # output that could grow while it is read is ever compressed.
            for document in _read_jsonl(
                _decompressing(stream, compression), name, False, **options
            ):
                documents += 1
                yield document
        except _DECOMPRESSION_ERRORS as exc:
            read = f"after {counted(documents, 'document')} read " if documents else ""
            yield _error_doc(name, _decompression_error(name, compression, exc, read))


def _decompressing(raw: IO[bytes], compression: str) -> IO[bytes]:
    """A stream of ``raw`` decompressed; closing ``raw`` (the caller's file) is enough.

    A file empty when it is opened holds nothing, as gzip's reader has it, for
    every compression: a compressor writing into it has not written yet.
    """
    if _regular_size(raw) == 0:
        return io.BytesIO()
    if compression == "gzip":
        return cast("IO[bytes]", gzip.GzipFile(fileobj=raw, mode="rb"))
    if compression == "bzip2":
        return bz2.BZ2File(raw, mode="rb")
    return lzma.LZMAFile(raw, mode="rb")


def _decompression_error(name: str, compression: str, exc: Exception, where: str = "") -> ReadError:
    return ReadError(
        f"{name}: cannot decompress it as {compression} {where}({exc}): the file is "
        f"damaged, cut short or not {compression}",
        "DecompressionError",
    )


def _read_single(
    stream: IO[bytes], name: str, fmt: str, compression: str | None = None
) -> Document:
    """The one document of a file that is not JSON Lines, or its error document."""
    try:
        data = stream.read()
        if compression is not None and data:  # empty: nothing to decompress, as above
            try:
                data = _decompressing(io.BytesIO(data), compression).read()
            except _DECOMPRESSION_ERRORS as exc:
                raise _decompression_error(name, compression, exc) from None
        _check_kind(data, name, fmt)
        read = _TEXT_READERS[fmt](data, name)
    except (ReadError, ImportError) as exc:
        return _error_doc(name, exc)
    except OSError as exc:
        return _error_doc(name, _os_error(name, exc))
    except Exception as exc:  # a broken PDF or DOCX raises whatever its library raises
        return _error_doc(name, ReadError(f"{name}: cannot read {fmt}: {exc}", type(exc).__name__))
    if isinstance(read, str):
        return {"id": name, "text": read, "meta": {}}
    text, pages = read
    return {"id": name, "text": text, "meta": {}, "pages": pages}


# How files of some types begin, the formats that may begin so, what such a file
# is, and what to do with one. RTF is text, if marked up: it may be read as text.
_KINDS: tuple[tuple[bytes, tuple[str, ...], str, str], ...] = (
    (b"%PDF-", ("pdf",), "a PDF", "rename it to .pdf"),
    (
        b"PK\x03\x04",
        ("docx",),
        "a ZIP archive (as a .docx file is)",
        "rename it to .docx if it is one",
    ),
    (
        b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1",
        (),
        "an old Office file (.doc, .xls or .ppt)",
        "save it as .docx or PDF",
    ),
    (b"{\\rtf", ("txt", "md", "html"), "an RTF document", "save it as .docx or PDF"),
)
_HTML_STARTS = (b"<!doctype html", b"<html")
_EXPECTED = {"pdf": "a PDF", "docx": "a Word .docx file"}


def _check_kind(data: bytes, name: str, fmt: str) -> None:
    """Raise ReadError when a file's first bytes show another type than its suffix says.

    A .docx renamed .pdf gave "Stream has ended unexpectedly", a PDF named
    .html "holds NUL bytes": both hid what the file is.

    Example:
        >>> _check_kind(b"PK\x03\x04...", "brief.pdf", "pdf")
        Traceback (most recent call last):
        ...
        policy_topics.readers.ReadError: brief.pdf: not a PDF: it begins as a ZIP archive \
(as a .docx file is); rename it to .docx if it is one
    """
    if not data and fmt in _EXPECTED:
        # pypdf says "Cannot read an empty file", python-docx "File is not a zip file".
        raise ReadError(
            f"{name}: the file is empty (0 bytes): no {fmt.upper()} to read", "EmptyFile"
        )
    head = data[:64]
    for magic, formats, what, fix in _KINDS:
        if head.startswith(magic):
            if fmt in formats:
                return
            if formats == ("pdf",) and fmt not in _EXPECTED and _plain_text(data):
                return  # a note that begins "%PDF-1.7 is the version ...": no PDF ends so
            expected = _EXPECTED.get(fmt, "text")
            raise ReadError(f"{name}: not {expected}: it begins as {what}; {fix}", "WrongType")
    if fmt in _EXPECTED and head.lstrip().lower().startswith(_HTML_STARTS):
        raise ReadError(
            f"{name}: not {_EXPECTED[fmt]}: it begins as an HTML page; rename it to .html",
            "WrongType",
        )
    if fmt in _EXPECTED and (fmt != "pdf" or not _pdf_in_ascii(data)) and _plain_text(data):
        raise ReadError(
            f"{name}: not {_EXPECTED[fmt]}: it is plain text; rename it to .txt", "WrongType"
        )


#: An object of a PDF: "12 0 obj".
_PDF_OBJECT = re.compile(rb"\d+\s+\d+\s+obj\b")


def _pdf_in_ascii(data: bytes) -> bool:
    r"""Whether plain-text bytes may be a PDF written in ASCII, which pypdf should read.

    Such a PDF may have a few bytes before its ``%PDF-``, and holds objects or
    ends with ``%%EOF``; a text that only speaks of the format has neither.

    Example:
        >>> _pdf_in_ascii(b"%PDF-1.4\n1 0 obj\n<<>>\nendobj\n%%EOF\n")
        True
        >>> _pdf_in_ascii(b"Our notes: %PDF-1.7 is the version the ministry uses.\n")
        False
    """
    return b"%PDF-" in data[:1024] and (b"%%EOF" in data or _PDF_OBJECT.search(data) is not None)


#: How compressed data begins, for a compressed file whose name lost its suffix.
_COMPRESSED_STARTS: tuple[tuple[bytes, str], ...] = (
    (b"\x1f\x8b", ".gz"),
    (b"BZh", ".bz2"),
    (b"\xfd7zXZ\x00", ".xz"),
)


def _foreign_start(head: bytes) -> tuple[str, str] | None:
    """What a JSON Lines file is when its first bytes show a binary file: (what, the fix).

    No JSON line begins so, so nothing that is JSON Lines is refused.
    """
    for magic, _, what, fix in _KINDS:
        if head.startswith(magic):
            return what, fix
    for magic, suffix in _COMPRESSED_STARTS:
        if head.startswith(magic) and (suffix != ".bz2" or head[3:4].isdigit()):
            kind = COMPRESSED_SUFFIXES[suffix]
            return f"{kind}-compressed data", f"add {suffix} to its name to read it"
    return None


def _plain_text(data: bytes) -> bool:
    """Whether data beginning as a PDF reads as text: UTF-8, no NUL, and no PDF's last line."""
    if b"\0" in data or b"%%EOF" in data[-2048:]:
        return False
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:
        return 0  # reading it will say what is wrong


def _regular_size(stream: IO[bytes]) -> int | None:
    """The size of a stream that is a regular file; None for a pipe, a terminal, stdin."""
    try:
        info = os.fstat(stream.fileno())
    except (OSError, ValueError, io.UnsupportedOperation):
        return None
    return info.st_size if stat.S_ISREG(info.st_mode) else None


_ARRAY_HINT = (
    "; the file holds a JSON array of records, and JSON Lines holds one JSON object per "
    "line: write them so (jq -c '.[]' records.json > records.jsonl)"
)


def _jsonl_hint(line: str, lineno: int) -> str:
    """What a line that is no JSON may tell of a file that is no JSON Lines, if anything.

    Example:
        >>> _jsonl_hint('[{"text": "We cut tariffs."},', 1)[:40]
        '; the file holds a JSON array of records'
    """
    if "\r" in line.rstrip("\r\n"):
        return (
            "; its lines end in a carriage return alone (CR, as old Mac files do), so the "
            "whole file reads as one line: make its line ends LF or CR LF"
        )
    if lineno == 1 and line.lstrip().startswith("["):
        return _ARRAY_HINT
    return ""


def _read_jsonl(
    stream: IO[bytes],
    name: str,
    sized: bool = True,
    /,
    *,
    text_field: str,
    id_field: str,
    meta_field: str,
) -> Iterator[Document]:
    # Only the lines a file holds when it is opened: a file written while it is
    # read (the output of write_results in a folder read lazily, '.' say) grew
    # by one record per line read, for ever, until the disk was full.
    end = _regular_size(stream) if sized else None
    offset = 0
    for lineno, raw in enumerate(stream, 1):
        if end is not None and offset >= end:
            return
        start = offset
        offset += len(raw)
        where = f"{name}:{lineno}"
        if lineno == 1:
            if raw.startswith(codecs.BOM_UTF8):
                raw, start = raw[3:], 3
            elif raw.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
                yield _error_doc(
                    name,
                    ReadError(
                        f"{name}: JSON Lines must be UTF-8, found a UTF-16 or UTF-32 byte "
                        "order mark at byte offset 0",
                        "UnicodeDecodeError",
                    ),
                )
                return
            foreign = _foreign_start(raw)
            if foreign is not None:
                # A PDF, a .docx or a compressed file named .jsonl: one record that
                # says what it is, not one "not valid UTF-8" per line of its bytes.
                what, fix = foreign
                message = f"{name}: not JSON Lines: it begins as {what}; {fix}"
                yield _error_doc(name, ReadError(message, "WrongType"))
                return
        if not raw.strip():
            continue
        try:
            line = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            yield _error_doc(
                where,
                ReadError(
                    f"{where}: not valid UTF-8: byte 0x{raw[exc.start]:02x} at byte offset "
                    f"{start + exc.start}",
                    "UnicodeDecodeError",
                ),
            )
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as exc:
            at = start + len(line[: exc.pos].encode("utf-8"))
            hint = _jsonl_hint(line, lineno)
            yield _error_doc(
                where,
                ReadError(
                    f"{where}: invalid JSON at byte offset {at}: {exc.msg}{hint}",
                    "JSONDecodeError",
                ),
            )
            continue
        except RecursionError:
            message = f"{where}: JSON nested too deeply to read"
            yield _error_doc(where, ReadError(message, "JSONDecodeError"))
            continue
        except ValueError as exc:
            # A number of more digits than Python converts (sys.set_int_max_str_digits).
            message = f"{where}: invalid JSON: a number too long to read ({exc})"
            yield _error_doc(where, ReadError(message, "JSONDecodeError"))
            continue
        if not isinstance(record, dict):
            message = f"{where}: expected a JSON object, got {type(record).__name__}"
            if isinstance(record, list) and any(isinstance(item, dict) for item in record):
                message += _ARRAY_HINT
            yield _error_doc(where, ReadError(message, "TypeError"))
            continue
        raw_id = record.get(id_field)
        if isinstance(raw_id, dict | list | bool):
            problem = f"field {id_field!r} is {json.dumps(raw_id)[:80]}, not a string or a number"
            yield _error_doc(where, ReadError(f"{where}: {problem}", "TypeError"))
            continue
        # As extract_many names it: 2.0 (an integer column with a gap, as pandas
        # writes it) is "2", NaN no id.
        named = plain_id(raw_id)
        doc_id = where if named is None else named
        text = record.get(text_field)
        if not isinstance(text, str):
            if text_field in record:
                problem = f"field {text_field!r} is {type(text).__name__}, not a string"
                kind = "TypeError"
            else:
                fields = ", ".join(sorted(record)) or "none"
                problem, kind = f"no field {text_field!r} (fields: {fields})", "KeyError"
            yield _error_doc(doc_id, ReadError(f"{where}: {problem}", kind))
            continue
        meta = record.get(meta_field)
        if meta is not None and not isinstance(meta, dict):
            problem = f"field {meta_field!r} is {type(meta).__name__}, not an object"
            yield _error_doc(doc_id, ReadError(f"{where}: {problem}", "TypeError"))
            continue
        if meta and "\\u" in line:
            # A \ud800 escape that no UTF-8 text can hold: written out, the text
            # and the id show it as U+FFFD, and so does the metadata now.
            try:
                meta = _without_lone_surrogates(meta)
            except RecursionError:
                message = f"{where}: JSON nested too deeply to read"
                yield _error_doc(doc_id, ReadError(message, "JSONDecodeError"))
                continue
        document = {"id": doc_id, "text": text, "meta": meta or {}}
        if record.get("pages") is not None:
            # A PDF's document saved as JSON Lines keeps its pages; checked here too,
            # where the error can name the file and line.
            try:
                check_pages(record["pages"], len(text))
            except ValueError as exc:
                message = f"{where}: field 'pages': {exc}"
                yield _error_doc(doc_id, ReadError(message, "ValueError"))
                continue
            document["pages"] = record["pages"]
        yield document


def _without_lone_surrogates(value: Any) -> Any:
    """A JSON value with lone surrogates in its strings (keys too) replaced by U+FFFD."""
    if isinstance(value, str):
        return replace_surrogates(value)
    if isinstance(value, dict):
        return {replace_surrogates(k): _without_lone_surrogates(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_without_lone_surrogates(item) for item in value]
    return value


def _read_plain(data: bytes, name: str) -> str:
    return decode_text(data, source=name)


def _read_html(data: bytes, name: str) -> str:
    try:
        text = decode_text(data, source=name)
    except ReadError as exc:
        text = _decode_declared(data, name, exc)
    # Browsers read every CR LF and lone CR of a page as LF; in a <pre> they showed.
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    try:
        return _visible_text(_UNKNOWN_SECTION_RE.sub("&lt;![", text) if "<![" in text else text)
    except AssertionError:
        # Python's parser asserts on some markup it does not know ('<![' and a name
        # it does not expect): written as text, such markup loses nothing of the page.
        return _visible_text(text.replace("<![", "&lt;!["))


# The roles of WAI-ARIA 1.2 (the abstract ones left out: no page may use them), of
# ARIA 1.3 drafts that browsers know, and of the DPUB-ARIA 1.1 and Graphics ARIA modules.
# fmt: off
_ARIA_ROLES = frozenset({
    "alert", "alertdialog", "application", "article", "banner", "blockquote", "button",
    "caption", "cell", "checkbox", "code", "columnheader", "combobox", "comment",
    "complementary", "contentinfo", "definition", "deletion", "dialog", "directory",
    "document", "emphasis", "feed", "figure", "form", "generic", "grid", "gridcell",
    "group", "heading", "image", "img", "insertion", "link", "list", "listbox", "listitem",
    "log", "main", "mark", "marquee", "math", "menu", "menubar", "menuitem",
    "menuitemcheckbox", "menuitemradio", "meter", "navigation", "none", "note", "option",
    "paragraph", "presentation", "progressbar", "radio", "radiogroup", "region", "row",
    "rowgroup", "rowheader", "scrollbar", "search", "searchbox", "separator", "slider",
    "spinbutton", "status", "strong", "subscript", "suggestion", "superscript", "switch",
    "tab", "table", "tablist", "tabpanel", "term", "textbox", "time", "timer", "toolbar",
    "tooltip", "tree", "treegrid", "treeitem", "doc-abstract", "doc-acknowledgments",
    "doc-afterword", "doc-appendix", "doc-backlink", "doc-biblioentry", "doc-bibliography",
    "doc-biblioref", "doc-chapter", "doc-colophon", "doc-conclusion", "doc-cover",
    "doc-credit", "doc-credits", "doc-dedication", "doc-endnote", "doc-endnotes",
    "doc-epigraph", "doc-epilogue", "doc-errata", "doc-example", "doc-footnote",
    "doc-foreword", "doc-glossary", "doc-glossref", "doc-index", "doc-introduction",
    "doc-noteref", "doc-notice", "doc-pagebreak", "doc-pagefooter", "doc-pageheader",
    "doc-pagelist", "doc-part", "doc-preface", "doc-prologue", "doc-pullquote", "doc-qna",
    "doc-subtitle", "doc-tip", "doc-toc", "graphics-document", "graphics-object",
    "graphics-symbol",
})
# fmt: on


def _known_role(value: str) -> str | None:
    """The role an element's ``role`` takes: its first token that is a role, lower-cased."""
    return next(
        (token for token in value.lower().split() if token in _ARIA_ROLES),
        None,
    )


def _visible_text(page: str) -> str:
    parser = _VisibleText()
    parser.feed(page)
    parser.close()
    return parser.text()


# '<![' and a name Python's parser stops at: any but the marked sections it knows.
_UNKNOWN_SECTION_RE = re.compile(
    r"<!\[(?!(?:cdata|if|else|endif|temp|ignore|include|rcdata)(?![-_.a-zA-Z0-9]))",
    re.IGNORECASE,
)

# A <meta charset> or http-equiv Content-Type in the first 1,024 bytes, outside
# comments, the whole tag there: where browsers look for it first.
_HEAD_BYTES = 1024
_COMMENT_RE = re.compile(rb"<!--.*?(?:-->|\Z)", re.S)
# Scripts and styles, whose text may spell a <meta> that is none.
_SCRIPT_RE = re.compile(rb"<(script|style)\b.*?(?:</\1\s*>|\Z)", re.S | re.I)
_META_RE = re.compile(rb"<meta\s([^>]*)>", re.I)
_ATTRIBUTE_RE = re.compile(rb"""([^\s"'>/=]+)\s*(?:=\s*("[^"]*"|'[^']*'|[^\s"'>]+))?""")
_CONTENT_CHARSET_RE = re.compile(rb"charset\s*=\s*[\"']?\s*([\w.:-]+)", re.I)
# The encodings of the web (the WHATWG Encoding Standard) by Python's codec
# name, each as browsers decode it: some labels stand for a superset.
_WEB_ENCODINGS = {
    **{
        name: name
        for name in [
            "cp866",
            "iso8859-2",
            "iso8859-3",
            "iso8859-4",
            "iso8859-5",
            "iso8859-6",
            "iso8859-7",
            "iso8859-8",
            "iso8859-10",
            "iso8859-13",
            "iso8859-14",
            "iso8859-15",
            "iso8859-16",
            "koi8-r",
            "koi8-u",
            "mac-roman",
            "mac-cyrillic",
            "cp874",
            "cp1250",
            "cp1251",
            "cp1252",
            "cp1253",
            "cp1254",
            "cp1255",
            "cp1256",
            "cp1257",
            "cp1258",
            "gbk",
            "gb18030",
            "big5hkscs",
            "euc_jp",
            "iso2022_jp",
            "cp932",
            "cp949",
        ]
    },
    "ascii": "cp1252",
    "iso8859-1": "cp1252",
    "iso8859-9": "cp1254",
    "iso8859-11": "cp874",
    "tis-620": "cp874",
    "gb2312": "gbk",
    "big5": "big5hkscs",
    "shift_jis": "cp932",
    "euc_kr": "cp949",
}
_C1_ENCODINGS = frozenset({"cp874", *(f"cp{n}" for n in range(1250, 1259))})
_C1 = "policy_topics.c1"


def _c1_controls(exc: UnicodeError) -> tuple[str, int]:
    """The codec error handler ``policy_topics.c1``: an undefined byte 0x80 to 0x9F reads as
    the C1 control of that number; any other stays an error, as it is in browsers."""
    if not isinstance(exc, UnicodeDecodeError):
        raise exc
    undefined = exc.object[exc.start : exc.end]
    if not all(0x80 <= byte <= 0x9F for byte in undefined):
        raise exc
    return "".join(map(chr, undefined)), exc.end


codecs.register_error(_C1, _c1_controls)

# Web labels Python's codecs do not know by that name.
_WEB_LABELS = {
    "windows-874": "cp874",
    "dos-874": "cp874",
    "x-mac-cyrillic": "mac-cyrillic",
    "x-mac-ukrainian": "mac-cyrillic",
    "x-mac-roman": "mac-roman",
    "mac": "mac-roman",
    "csmacintosh": "mac-roman",
    "iso-8859-8-i": "iso8859-8",
    "logical": "iso8859-8",
    "visual": "iso8859-8",
    "koi": "koi8-r",
    "koi8": "koi8-r",
    "x-sjis": "cp932",
    "windows-31j": "cp932",
    "windows-949": "cp949",
    "x-gbk": "gbk",
    "x-euc-jp": "euc_jp",
    "cn-big5": "big5hkscs",
    "x-x-big5": "big5hkscs",
    "csisolatin9": "iso8859-15",
    "koi8-ru": "koi8-u",
    "sun_eu_greek": "iso8859-7",
    "cseucpkdfmtjapanese": "euc_jp",
    # The HTML prescan reads a declared x-user-defined as windows-1252.
    "x-user-defined": "cp1252",
    **dict.fromkeys(["csgb2312", "gb_2312", "gb_2312-80"], "gbk"),
    **dict.fromkeys(
        ["cseuckr", "csksc56011987", "iso-ir-149", "ks_c_5601-1989", "ksc_5601"], "cp949"
    ),
    **{f"x-cp{n}": f"cp{n}" for n in range(1250, 1259)},
    **dict.fromkeys(
        ["unicode-1-1-utf-8", "unicode11utf8", "unicode20utf8", "x-unicode20utf8"], "utf-8"
    ),
    **dict.fromkeys(
        ["csunicode", "iso-10646-ucs-2", "ucs-2", "unicode", "unicodefeff", "unicodefffe"], "utf-16"
    ),
}
# ISO 8859 labels written without hyphens, or with the -e and -i of ISO 8859-6 and -8.
_ISO_8859_RE = re.compile(r"(?:cs)?iso[-_]?8859[-_]?(\d+)(?:[-_]?[ei])?")
# Declared in a page, these mean UTF-8 (a page that parses its own <meta> is no UTF-16).
_MEANS_UTF8 = frozenset({"utf-8", "utf-16", "utf-16-le", "utf-16-be"})


def _declared_charset(head: bytes) -> str | None:
    """The label of the first ``<meta charset>`` (or Content-Type ``<meta http-equiv>``)."""
    for meta in _META_RE.finditer(head):
        pairs: list[tuple[bytes, bytes]] = _ATTRIBUTE_RE.findall(meta.group(1))
        attributes = {key.lower(): value.strip(b"\"'") for key, value in pairs}
        label = attributes.get(b"charset")
        if label is None and attributes.get(b"http-equiv", b"").lower() == b"content-type":
            found = _CONTENT_CHARSET_RE.search(attributes.get(b"content", b""))
            label = found.group(1) if found else None
        if label:
            return label.decode("ascii", "replace").strip().lower()
    return None


def _decode_declared(data: bytes, name: str, error: ReadError) -> str:
    """The text of an HTML page that is not UTF-8 but declares its encoding, as browsers read it.

    Raises:
        ReadError: ``error`` when the page declares nothing (or UTF-8, or has a
            byte order mark, which browsers let win); otherwise what is wrong
            with the declaration.
    """
    if error.kind != "UnicodeDecodeError" or any(data.startswith(b) for b, _, _ in _BOMS):
        raise error
    label = _declared_charset(_COMMENT_RE.sub(b"", data[:_HEAD_BYTES]))
    if label is None:
        # Browsers that meet a declaration further on (after a long script, say)
        # in a page whose encoding they had to guess read it again in that one.
        label = _declared_charset(_SCRIPT_RE.sub(b"", _COMMENT_RE.sub(b"", data)))
    if label is None:
        raise error
    iso = _ISO_8859_RE.fullmatch(label)
    try:
        codec = _WEB_LABELS.get(label) or codecs.lookup(f"iso8859-{iso[1]}" if iso else label).name
    except LookupError:
        codec = ""
    if codec in _MEANS_UTF8:
        raise error
    encoding = _WEB_ENCODINGS.get(codec)
    if encoding is None:
        raise ReadError(
            f"{name}: not valid UTF-8, and it declares charset {label!r}, which is no encoding "
            "of web pages (save the file as UTF-8)",
            "UnicodeDecodeError",
        )
    # The web's windows-125x and windows-874 give the bytes Python's codecs leave
    # undefined (0x81 and the like) the C1 control of the same number.
    errors = _C1 if encoding in _C1_ENCODINGS else "strict"
    try:
        return data.decode(encoding, errors)
    except UnicodeDecodeError as exc:
        raise ReadError(
            f"{name}: not valid UTF-8, nor {label} as it declares: byte 0x{data[exc.start]:02x} "
            f"at byte offset {exc.start} cannot be decoded (save the file as UTF-8)",
            "UnicodeDecodeError",
        ) from None


def _read_pdf(data: bytes, name: str) -> tuple[str, Pages]:
    """A PDF's text, and where each page starts.

    Its pages' furniture is dropped (:func:`drop_furniture`), words hyphenated at
    a line end joined (:func:`join_hyphenated`), and the pages that hold text
    joined by blank lines, or by a line break where a sentence runs on.

    Returns:
        The text, and a ``(page, start)`` pair per page that holds text: its
        number (from 1, empty pages counted) and the offset of its first
        character in the text.
    """
    try:
        from pypdf import PdfReader
    except ImportError as exc:
        raise ImportError(
            f'{name}: reading PDF needs pypdf: pip install "policy-topics[pdf]"'
        ) from exc
    pypdf_log = logging.getLogger("pypdf")
    if not pypdf_log.handlers:
        # pypdf logs what it repairs or gives up on ("invalid pdf header"); a PDF
        # it cannot read becomes an error record, so without a handler of the
        # caller's these lines would only be noise on stderr.
        pypdf_log.addHandler(logging.NullHandler())
    reader = PdfReader(io.BytesIO(data))
    if reader.is_encrypted and not reader.decrypt(""):
        raise ReadError(
            f"{name}: the PDF needs a password to open; decrypt it first, e.g. "
            "qpdf --decrypt --password=PASSWORD in.pdf out.pdf",
            "EncryptedPDF",
        )
    extracted = [page.extract_text() or "" for page in reader.pages]
    pages = drop_furniture(extracted)
    shown = [(number, page.strip()) for number, page in enumerate(pages, 1) if page.strip()]
    if not shown:
        # A scanned PDF: an empty result would read as "nothing about trade here".
        raise ReadError(
            f"{name}: no text in its {len(pages)} page{'' if len(pages) == 1 else 's'}: "
            "a scanned PDF, or images of text, has no text layer to read (run OCR on it "
            "first, e.g. ocrmypdf)",
            "NoText",
        )
    # The pages joined by blank lines, as join_hyphenated(whole text) would make them,
    # each page joined apart so that where it starts is known.
    texts = _join_pages([text for _, text in shown])
    return _join_continued(list(zip([number for number, _ in shown], texts, strict=True)))


# What stands between the texts of two pages of a PDF, and between two pages
# where a sentence runs on from one to the next.
_PAGE_BREAK = "\n\n"
_RUN_ON = "\n"
# A page that ends without closing its sentence: in a word, a number or a comma,
# or in a word's hyphen (a compound broken after its own hyphen, "cross-").
_OPEN_END = re.compile(r"(?:\w[-\u2010\u00ad]?|[,;(])\Z")
# The first part of a word broken with a hyphen at a page's end (of at most
# _LONGEST_BROKEN characters), and the rest of it that starts the next page.
_BROKEN_END = re.compile(r"\b(\w+)([-\u2010\u00ad])\Z")
_LONGEST_BROKEN = 100
_WORD_START = re.compile(r"\A(\w+)(\S*)[ \t]*\n?")


def _join_continued(pages: list[tuple[int, str]]) -> tuple[str, Pages]:
    """The pages' texts joined, and where each starts.

    Pages are joined by a blank line, except where a sentence runs on: the
    page before ends in a word or a comma, and the next starts with a
    lower-case letter. Then a line break joins them, as lines within a page
    are, so the sentence is one; so too after a compound broken at its own
    hyphen (``cross-`` and ``border``), which the matcher reads as one, as it
    does within a page. A word broken with a hyphen across the two
    pages is joined as :func:`join_hyphenated` joins one within a page: its
    rest moves to the page before, where the word starts (a page that held
    only that rest starts no text, and has no start).
    """
    evidence: tuple[set[str], set[str]] | None = None  # words and compounds, once needed
    numbers, texts = [pages[0][0]], [pages[0][1]]  # the pages kept
    breaks: list[str] = []  # what joins each kept page to the next
    for number, after in pages[1:]:
        before = texts[-1]
        # Only a page's end can hold them: searching the whole page costs its length.
        broken = _BROKEN_END.search(before, max(0, len(before) - _LONGEST_BROKEN))
        rest = _WORD_START.match(after)
        if broken is not None and rest is not None:
            (first, hyphen), (second, tail) = broken.groups(), rest.groups()
            if first[-1].islower() and second[0].islower() and hyphen != "\u00ad":
                if evidence is None:
                    lower = _PAGE_BREAK.join(text for _, text in pages).lower()
                    evidence = (set(re.findall(r"\w+", lower)), _compounds(lower))
                words, compounds = evidence
                whole = f"{first}-{second}".lower() not in compounds
                whole = whole and (first + second).lower() in words
            else:  # a soft hyphen always joins; after a capital or a digit, never
                whole = first[-1].islower() and second[0].islower()
            if whole:
                texts[-1] = before[: broken.start(2)] + second + tail
                after = after[rest.end() :].lstrip()
                if not after:
                    continue  # the page held only the word's end: it starts no text
                breaks.append(_RUN_ON)
                numbers.append(number)
                texts.append(after)
                continue
        run_on = _OPEN_END.search(before[-2:]) is not None and after[:1].islower()
        breaks.append(_RUN_ON if run_on else _PAGE_BREAK)
        numbers.append(number)
        texts.append(after)
    starts: Pages = []
    offset = 0
    for number, text, joiner in zip(numbers, texts, [*breaks, ""], strict=True):
        starts.append((number, offset))
        offset += len(text) + len(joiner)
    return "".join(map(operator.add, texts, [*breaks, ""])), starts


# How many lines at the top and at the bottom of a page may be its furniture.
_EDGE_LINES = 2
# A line of furniture is at most this long, and is no sentence.
_FURNITURE_CHARS = 120
# Page numbers of a front matter: i to lxxxix.
_ROMAN_NUMERAL = re.compile(r"(?i)(?=[ivxl])(?:xc|xl|l?x{0,3})(?:ix|iv|v?i{0,3})")


def drop_furniture(pages: list[str]) -> list[str]:
    """The pages without their running headers, footers and page numbers.

    Among the first two and the last two lines of each page, two kinds of line
    are furniture, where they stand on at least half the pages that hold text,
    and on three or more:

    - a line that differs from one at the top or bottom of the other pages only
      in its numbers: "Joint Statement 2025", "Page 3 of 12", "- 3 -", "iv";
    - a line that begins or ends with the page's number as printed, which
      stays the physical number less the same offset from page to page:
      "Chapter 2: Market access 14" (one such line at the top, one at the
      bottom).

    Numbers in such a line stay the same from page to page (or over runs of
    pages, "Section 2") or follow the page number: "Article 3" and "Article 7"
    at the tops of pages are headings. A
    line ending with a sentence's full stop, question or exclamation mark is
    never furniture, and the second line goes only with the first. Left in, a
    header naming a topic would count as a mention on every page, and a
    sentence running on to the next page would be cut by what stands between.
    Pages whose every line would go are returned as they are: what recurs on
    them is all they say.

    Example:
        >>> drop_furniture([f"Trade Report\\n{line}\\n{n}" for n, line in enumerate(
        ...     ["Tariffs fell.", "So did quotas.", "Exports rose."], 1)])
        ['Tariffs fell.', 'So did quotas.', 'Exports rose.']
    """
    lines = [page.splitlines() for page in pages]
    sides = [_sides(page) for page in lines]
    with_text = sum(1 for top, _ in sides if top)
    if with_text < 3:
        return pages
    least = max(3, (with_text + 1) // 2)
    # Each key's pages, with the numbers its line shows there.
    seen: dict[str, list[tuple[int, tuple[int, ...]]]] = {}
    # By side (top, bottom): how often the page's number less each printed number recurs.
    offsets: tuple[Counter[int], Counter[int]] = (Counter(), Counter())
    for number, (page, ends) in enumerate(zip(lines, sides, strict=True), 1):
        keys = {key: page[j] for end in ends for j in end if (key := _furniture_key(page[j]))}
        for key, line in keys.items():
            seen.setdefault(key, []).append((number, _line_numbers(line)))
        for counter, end in zip(offsets, ends, strict=True):
            counter.update({number - n for j in end for n in _printed_numbers(page[j])})
    furniture = {key for key, on in seen.items() if len(on) >= least and _numbers_run(on)}
    best = [counter.most_common(1)[0] if counter else (0, 0) for counter in offsets]
    numbered = [offset if count >= least else None for offset, count in best]
    if not furniture and numbered == [None, None]:
        return pages
    kept: list[str] = []
    for number, (page, text, ends) in enumerate(zip(lines, pages, sides, strict=True), 1):
        dropped: set[int] = set()
        for end, offset in zip(ends, numbered, strict=True):
            dropped |= _dropped(page, end, furniture, None if offset is None else number - offset)
        kept.append(
            "\n".join(line for j, line in enumerate(page) if j not in dropped) if dropped else text
        )
    if not any(page.strip() for page in kept):
        # Else a PDF of text would read as a scan, with no text to tag.
        return pages
    return kept


def _sides(page: list[str]) -> tuple[list[int], list[int]]:
    """Indices of the first and of the last ``_EDGE_LINES`` lines holding text, outermost first."""
    full = [j for j, line in enumerate(page) if line.strip()]
    return full[:_EDGE_LINES], full[::-1][:_EDGE_LINES]


def _may_be_furniture(line: str) -> bool:
    """Whether a line is short and ends as no sentence does."""
    tail = line.rstrip()
    return bool(tail) and len(line) <= _FURNITURE_CHARS and tail[-1] not in ".!?"


def _furniture_key(line: str) -> str:
    """What a line is as furniture: its words with numbers as ``#``; empty when it cannot be."""
    if not _may_be_furniture(line):
        return ""
    words = line.split()
    return " ".join(
        "#" if _ROMAN_NUMERAL.fullmatch(w) and len(words) == 1 else re.sub(r"\d+", "#", w)
        for w in words
    ).casefold()


def _line_numbers(line: str) -> tuple[int, ...]:
    """The numbers a line shows, in order; a lone roman numeral is one too."""
    words = line.split()
    if len(words) == 1 and _ROMAN_NUMERAL.fullmatch(words[0]):
        return (_roman(words[0]),)
    return tuple(int(n) for n in re.findall(r"\d+", line))


def _roman(numeral: str) -> int:
    """The value of a roman numeral (as ``_ROMAN_NUMERAL`` finds them).

    Example:
        >>> [_roman(n) for n in ("i", "iv", "IX", "xl", "lxxxix")]
        [1, 4, 9, 40, 89]
    """
    values = [{"i": 1, "v": 5, "x": 10, "l": 50, "c": 100}[c] for c in numeral.lower()]
    return sum(-v if v < after else v for v, after in zip(values, [*values[1:], 0], strict=True))


def _numbers_run(on: list[tuple[int, tuple[int, ...]]]) -> bool:
    """Whether a line's numbers, page by page, are furniture's: each the same on every
    page or over runs of pages ("Section 2"), or following the page's number ("Page 3
    of 12"), never a count of its own ("Article 3", "Article 7" at the tops of pages
    are headings).
    """
    width = len(on[0][1])
    if any(len(numbers) != width for _, numbers in on):
        return False
    return all(
        _stays_in_runs([numbers[k] for _, numbers in on])
        or _follows_pages([(page, numbers[k]) for page, numbers in on])
        for k in range(width)
    )


def _stays_in_runs(values: list[int]) -> bool:
    """Whether numbers, page by page, stay the same, or stay in runs of two or more
    pages, each higher than the last: "Section 1" over its pages, then "Section 2".

    Example:
        >>> _stays_in_runs([2025, 2025, 2025]), _stays_in_runs([1, 1, 2, 2, 2])
        (True, True)
        >>> _stays_in_runs([3, 7, 12]), _stays_in_runs([1, 1, 2])
        (False, False)
    """
    runs = [len(list(group)) for _, group in itertools.groupby(values)]
    rising = all(a < b for a, b in itertools.pairwise(dict.fromkeys(values)))
    return len(runs) == 1 or (min(runs) >= 2 and rising and len(runs) == len(set(values)))


def _follows_pages(on: list[tuple[int, int]]) -> bool:
    """Whether numbers, page by page, go up with the pages, in runs of two or more pages
    that may start again lower: front matter "i" to "iv", then "1" from the body on.

    Example:
        >>> _follows_pages([(1, 1), (2, 2), (3, 1), (4, 2), (5, 3)])
        True
        >>> _follows_pages([(1, 3), (2, 7), (3, 12)])
        False
    """
    runs = [1]
    for (page, number), (next_page, next_number) in itertools.pairwise(on):
        if next_number - number == next_page - page:
            runs[-1] += 1
        elif next_number < number:
            runs.append(1)  # numbered again from the start: a new part of the document
        else:
            return False
    return min(runs) >= 2


def _printed_numbers(line: str) -> set[int]:
    """The numbers a line of furniture begins or ends with (its page number, perhaps)."""
    if not _may_be_furniture(line):
        return set()
    words = line.split()
    return {int(w) for w in (words[0], words[-1]) if w.isdigit() and len(w) <= 4}


def _dropped(page: list[str], end: list[int], furniture: set[str], printed: int | None) -> set[int]:
    """The furniture among one side's lines ``end``, outermost first: up to the first that is not.

    One line a side may go for holding the page's printed number, and none
    after a line that went as furniture and showed it: a page prints its number
    once a side.
    """
    dropped: set[int] = set()
    for j in end:
        numbers = _printed_numbers(page[j])
        if _furniture_key(page[j]) in furniture or (printed is not None and printed in numbers):
            dropped.add(j)
            if printed in numbers:
                printed = None
        else:
            break
    return dropped


# A word broken at a line end: its first part and hyphen, the line break, and the
# run of non-space characters that continues it (with the spaces after that run).
# Each pattern starts at a word boundary: tried at every letter of a long word, it
# would be quadratic in the word's length.
_LINE_END_BREAK = re.compile(r"\b(\w+)([-\u2010\u00ad])[ \t]*\n[ \t]*(\w+)(\S*)([ \t]*)")
_HYPHENATED = re.compile(r"\b\w+(?:[-\u2010]\w+)+")


def join_hyphenated(text: str) -> str:
    """Join the words a PDF's typesetting hyphenated at a line end, where the text shows how.

    ``manu-\\nfacturing`` becomes ``manufacturing`` when the document also
    writes ``manufacturing``, and a soft hyphen (U+00AD) at a line end is
    always joined. Other breaks stay as they are: ``cross-\\nborder`` may be
    the compound ``cross-border`` broken after its own hyphen, which the
    matcher already reads as one (a term ``cross-border`` matches it), while
    joining it would make it ``crossborder``; so do breaks after a capital
    letter or a number (``UN-\\nrelated``, ``COVID-\\n19``). The evidence is
    the document's own words, so a compound that is also a word (``re-\\nsign``
    beside ``resign``) is joined. A word joined takes the line break with it
    to after the word; when the word ends its line, that break is dropped,
    so no blank line is made. Only the text of a PDF is changed, as it is text
    this reader extracted, not the caller's.

    Example:
        >>> join_hyphenated("Trade in manu-\\nfacturing grew.\\nManufacturing")
        'Trade in manufacturing\\ngrew.\\nManufacturing'
    """
    return _join_pages([text])[0]


def _join_pages(pages: list[str]) -> list[str]:
    """:func:`join_hyphenated` of the pages joined by blank lines, page by page.

    No break it joins spans a blank line, so each page can be joined apart, with
    the evidence of the whole text: ``"\\n\\n".join(_join_pages(pages))`` is
    ``join_hyphenated("\\n\\n".join(pages))`` for pages that neither begin nor
    end with white space, and where each page begins in it is known.

    Example:
        >>> _join_pages(["Manufacturing", "manu-\\nfacturing grew."])
        ['Manufacturing', 'manufacturing\\ngrew.']
    """
    if not any("\n" in page and any(m in page for m in "-\u2010\u00ad") for page in pages):
        return pages
    # A word broken over three lines needs a second pass: the first join takes
    # the middle line's run, and with it the next break. Each pass reads the
    # evidence anew, with the words the last one joined (at a soft hyphen, say).
    while True:
        lower = "\n\n".join(pages).lower()
        words = set(re.findall(r"\w+", lower))
        compounds = _compounds(lower)
        joined = [
            _LINE_END_BREAK.sub(partial(_join_break, page, words, compounds), page)
            if "\n" in page
            else page
            for page in pages
        ]
        if joined == pages:
            return pages
        pages = joined


def _compounds(lower: str) -> set[str]:
    """The hyphenated compounds of a lower-cased text, each with '-' for its hyphens."""
    return {re.sub("[-\u2010]", "-", c) for c in _HYPHENATED.findall(lower)}


def _join_break(text: str, words: set[str], compounds: set[str], match: re.Match[str]) -> str:
    """The replacement of one break ``_LINE_END_BREAK`` found in ``text``: joined, or as it is."""
    first, hyphen, second, rest, spaces = match.groups()
    whole = match.group()
    if not (first[-1].islower() and second[0].islower()):
        # "COVID-\n19", "EU-\nChina", "UN-\nrelated": a name, an acronym or a
        # number, not a broken word
        return whole
    joined = (first + second).lower()
    if hyphen != "\u00ad" and (f"{first}-{second}".lower() in compounds or joined not in words):
        return whole
    # The line break moves after the word, unless the line ends there anyway.
    end = match.end()
    after = "" if end == len(text) or text[end] == "\n" else "\n"
    return first + second + rest + (spaces if not after else "") + after


def _read_docx(data: bytes, name: str) -> str:
    try:
        import docx
    except ImportError as exc:
        raise ImportError(
            f'{name}: reading DOCX needs python-docx: pip install "policy-topics[docx]"'
        ) from exc
    document = docx.Document(io.BytesIO(data))
    # Each paragraph and each table row is a block of its own, separated from the
    # next by a blank line: no sentence runs from a heading into the next block.
    lines = _docx_lines(document.element.body)
    return "\n\n".join(line for line in lines if line.strip())


def _docx_lines(element: Any) -> list[str]:
    """The text of a body, table cell or content control: a line per paragraph and table row.

    python-docx's ``iter_inner_content`` and ``cell.paragraphs`` skip block-level
    content controls (the fields of many government templates) and tables nested
    in a cell; their text is read here too.
    """
    lines: list[str] = []
    for child in element:
        if child.tag == _WORD_NS + "p":
            lines.append(_paragraph_text(child))
        elif child.tag == _WORD_NS + "tbl":
            lines += _table_rows(child)
        elif child.tag in _SHOWN_BLOCKS and not _placeholder(child):
            lines += _docx_lines(child)
    return lines


def _table_rows(table: Any) -> list[str]:
    """A table's rows, each its cells' text joined by tabs (a merged cell counted once).

    Rows and cells are read from the XML, in content controls too: python-docx's
    ``rows`` and ``cells`` skip a row in a content control (a repeating section of
    a form) and a cell in one. A cell that continues a vertical merge is left
    out: its text is the first cell's, read in its row.
    """
    rows = []
    for row in _docx_children(table, "tr"):
        cells = [
            "\n".join(_docx_lines(cell)).strip()
            for cell in _docx_children(row, "tc")
            if cell.vMerge != "continue"
        ]
        rows.append("\t".join(cells) if any(cells) else "")
    return rows


def _docx_children(element: Any, name: str) -> list[Any]:
    """The children of a table or row with this name, those in content controls included."""
    found: list[Any] = []
    for child in element:
        if child.tag == _WORD_NS + name:
            found.append(child)
        elif child.tag in _SHOWN_BLOCKS and not _placeholder(child):
            found += _docx_children(child, name)
    return found


_WORD_NS = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
# Inline elements whose runs Word shows: tracked insertions and moves (the text in
# w:del and w:moveFrom is shown struck through only with all markup, and is not the
# document's text), links, fields, smart tags, custom XML and content controls.
_SHOWN_INLINE = frozenset(
    _WORD_NS + name
    for name in (
        "ins",
        "moveTo",
        "hyperlink",
        "fldSimple",
        "smartTag",
        "customXml",
        "sdt",
        "sdtContent",
        "dir",
        "bdo",
    )
)


# Block-level elements around paragraphs and tables: content controls and custom XML.
_SHOWN_BLOCKS = frozenset(_WORD_NS + name for name in ("sdt", "sdtContent", "customXml"))


def _paragraph_text(element: Any) -> str:
    """A paragraph's text as Word shows it, tracked insertions accepted.

    python-docx's ``Paragraph.text`` reads only the runs and links right under
    the paragraph, so the words of a tracked insertion were left out of a quote.
    Each run's own ``text`` (python-docx's) turns tabs and breaks into characters.
    """
    parts: list[str] = []
    for child in element:
        if child.tag == _WORD_NS + "r":
            parts.append(child.text)
        elif child.tag in _SHOWN_INLINE and not _placeholder(child):
            parts.append(_paragraph_text(child))
    return "".join(parts)


_PLACEHOLDER = f"{_WORD_NS}sdtPr/{_WORD_NS}showingPlcHdr"


def _placeholder(element: Any) -> bool:
    """Whether a content control shows its placeholder, such as "Click or tap here to enter text."

    Word keeps the placeholder's words in the control while nobody has filled it
    in, marked ``w:showingPlcHdr``; they are the template's, not the document's.
    The mark is an on/off switch: ``w:val="0"`` (or ``false``, ``off``) turns it off.
    """
    if element.tag != _WORD_NS + "sdt":
        return False
    flag = element.find(_PLACEHOLDER)
    return flag is not None and flag.get(_WORD_NS + "val", "1") not in ("0", "false", "off")


# Each format's reader: its text, or for a PDF its text and where its pages start.
_TEXT_READERS: dict[str, Callable[[bytes, str], str | tuple[str, Pages]]] = {
    "txt": _read_plain,
    "md": _read_plain,
    "html": _read_html,
    "pdf": _read_pdf,
    "docx": _read_docx,
}


class _VisibleText(HTMLParser):
    """Collects the text a browser shows: no scripts, styles, hidden elements or markup.

    Page furniture is left out too: menus, sidebars, footers, dialogs and
    cookie banners (see ``_FURNITURE``), which would otherwise be read as part
    of the article.

    Each block (a paragraph, heading, list item, table row, ...) is separated
    from the next by a blank line, so no sentence runs from one block into the
    next; ``<br>`` is a line break inside its block. An element with the
    ``hidden`` attribute or an inline ``display: none`` or ``visibility:
    hidden`` style is left out with its content, up to its end tag. The
    ``<title>`` comes first, unless the page shows it already (as its
    ``<h1>``, say, with or without the site's name), so a headline is not
    counted twice. Where the
    end tag may be left out (``p``, ``li``, ``td``, ...) the element also ends
    at the next block, as a browser ends it; any other element left open hides
    the rest of the page, as it would in a browser, unless the end tag of a
    block around it comes first.
    """

    _HIDDEN = frozenset(
        ["script", "style", "noscript", "template", "svg", "math", "iframe", "object", "canvas"]
    )
    _BLOCKS = frozenset(
        {"address", "article", "aside", "blockquote", "caption", "dd", "details", "div"}
        | {"dl", "dt", "fieldset", "figcaption", "figure", "footer", "form", "h1", "h2", "h3"}
        | {"h4", "h5", "h6", "header", "hr", "legend", "li", "main", "nav", "ol", "p", "pre"}
        | {"section", "summary", "table", "tbody", "thead", "tfoot", "title", "tr", "ul"}
    )
    _CELLS = frozenset(["td", "th"])
    # Controls a browser draws as boxes of their own, apart from the text beside them.
    _BOXES = frozenset(["button", "input", "option", "select", "textarea"])
    # Tags that end a title left open: blocks and what only a page's structure holds.
    _ENDS_TITLE = _BLOCKS | _HIDDEN | _CELLS | {"body", "head", "html", "link", "meta", "base"}
    # End tags that end an element left open inside them.
    _AROUND = _BLOCKS | {"select", "datalist"}
    # Elements that never have content or an end tag.
    _VOID = frozenset(
        {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source"}
        | {"track", "wbr"}
    )
    # Elements whose end tag may be left out, and the start tags that end them (as
    # a browser does); the end tag of a block around them ends them too.
    _TABLE_PARTS = frozenset({"tbody", "thead", "tfoot"})
    _OPTIONAL_END: ClassVar[dict[str, frozenset[str]]] = {
        "p": _BLOCKS | {"p"},
        "li": frozenset({"li"}),
        "dt": frozenset({"dt", "dd"}),
        "dd": frozenset({"dt", "dd"}),
        "tr": _TABLE_PARTS | {"tr"},
        "td": _TABLE_PARTS | {"tr", "td", "th"},
        "th": _TABLE_PARTS | {"tr", "td", "th"},
        "tbody": _TABLE_PARTS,
        "thead": _TABLE_PARTS,
        "tfoot": _TABLE_PARTS,
        "option": frozenset({"option", "optgroup"}),
        "optgroup": frozenset({"optgroup"}),
    }
    # Page furniture a browser shows around the document: menus, sidebars and
    # footers, the ARIA landmarks of those kinds and of a site's masthead, dialogs
    # (cookie banners), and elements whose id or class names a cookie or consent
    # banner. A <header> stays: it often holds the headline.
    _FURNITURE = frozenset({"nav", "aside", "footer"})
    _FURNITURE_ROLES = frozenset(
        {"navigation", "banner", "contentinfo", "complementary", "search", "dialog", "alertdialog"}
    )
    # A cookie or consent banner's id or class: "cookie-banner", "cookieConsent",
    # "onetrust-consent-sdk", "cookie-law-info-bar"; not "cookies" (a privacy
    # policy's heading) or "consent-agenda" (a council's).
    _BANNER_NAME = re.compile(
        r"cookiebot|(?:cookie|consent)[-_]?(?:banner|notice|bar|popup|pop-up|modal|dialog"
        r"|overlay|wall|message|prompt|sdk|consent|law|layer|box|container|window)",
        re.I,
    )
    _NEVER_FURNITURE = frozenset({"html", "body", "main", "article"})
    _SPACES = re.compile(r"[ \t\n\r\f]+")
    _HIDING_STYLE = re.compile(r"(?:^|;)\s*(?:display\s*:\s*none|visibility\s*:\s*hidden)\b", re.I)

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self._parts: list[str] = []
        self._tab = False  # the text so far ends with a cell's tab (and spaces)
        self._title: list[str] | None = None  # while in a <title>: its text
        self._heading = ""  # the page's first <title>: browsers show none, and name the page
        self._titled = False  # a <title> was met
        self._headings: set[str] = set()  # the text of the page's <h1> and <h2>
        self._heading_from: int | None = None  # where the open <h1>/<h2> began in _parts
        self._hidden = 0
        self._pre = 0
        self._quotes = 0  # open <q> elements, whose marks alternate “ and ‘
        self._apart = False  # a control began or ended: set the next text apart
        # The open element hidden by its attributes: its tag, how many elements
        # of that tag are open inside it, itself included, and _open when it began.
        self._hiding: list[Any] = []
        # How many elements of each tag in _AROUND (blocks) are open, for the end
        # tag of one around a hidden element, which ends that element too.
        self._open: Counter[str] = Counter()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in self._ENDS_TITLE:
            self._end_title()  # a title left open ends at the next block
        if tag in self._HIDDEN:
            self._hidden += 1
        elif tag == "pre":
            self._pre += 1
        elif tag == "title" and not self._hidden and not self._hiding:
            self._title = []
        elif tag in ("h1", "h2") and not self._hidden and not self._hiding:
            self._heading_from = len(self._parts)
        if self._hiding and tag in self._OPTIONAL_END.get(self._hiding[0], ()):
            self._hiding = []  # '<p hidden>Note<p>Text': the second <p> ends the first
        if self._hiding:
            if tag == self._hiding[0]:
                self._hiding[1] += 1
        elif tag not in self._VOID and self._hides(tag, attrs):
            self._hiding = [tag, 1, self._open.copy()]
        elif tag == "q" and not self._hidden and self._title is None:
            # Browsers show an inline quotation between quotation marks.
            self._append("\u201c\u2018"[self._quotes % 2])
            self._quotes += 1
        if tag in self._AROUND:
            self._open[tag] += 1
        self._boundary(tag)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in self._ENDS_TITLE:
            self._end_title()
        self._boundary(tag)  # <div/>: no content, nothing to hide or to close

    def handle_endtag(self, tag: str) -> None:
        if tag in self._ENDS_TITLE:
            self._end_title()
        if tag in self._HIDDEN:
            self._hidden = max(0, self._hidden - 1)
        elif tag == "pre":
            self._pre = max(0, self._pre - 1)
        elif tag in ("h1", "h2") and self._heading_from is not None:
            self._headings.add(" ".join("".join(self._parts[self._heading_from :]).split()))
            self._heading_from = None
        if tag == "q" and self._quotes and not self._hiding and not self._hidden:
            self._quotes -= 1
            if self._title is None:
                self._append("\u201d\u2019"[self._quotes % 2])
        if self._hiding and tag == self._hiding[0]:
            self._hiding[1] -= 1
            if self._hiding[1] == 0:
                self._hiding = []
        elif self._hiding and self._hiding[0] in self._OPTIONAL_END and tag in self._AROUND:
            self._hiding = []  # '</ul>' ends a hidden '<li>' left open inside it
        elif (
            self._hiding
            and tag in self._AROUND
            and tag not in self._OPTIONAL_END
            and 0 < self._open[tag] <= self._hiding[2][tag]
        ):
            # '<div><nav>Menu</div>': the end tag of a block open around the hidden
            # element (none of that tag is open inside it) ends it, as in a browser.
            self._hiding = []
        if self._open[tag] > 0:
            self._open[tag] -= 1
        self._boundary(tag, end=True)

    def handle_data(self, data: str) -> None:
        if self._hidden or self._hiding:
            return
        if self._title is not None:
            self._title.append(data)
            return
        if self._apart and data:
            if not data[0].isspace() and self._parts and not self._parts[-1][-1:].isspace():
                self._append(" ")
            self._apart = False
        self._append(data if self._pre else self._SPACES.sub(" ", data))

    def _append(self, part: str) -> None:
        self._parts.append(part)
        if part == "\t":
            self._tab = True
        elif part.strip(" "):
            self._tab = False

    def _end_title(self) -> None:
        if self._title is not None:
            if not self._titled:
                self._heading = " ".join("".join(self._title).split())
            self._title, self._titled = None, True

    def _hides(self, tag: str, attrs: list[tuple[str, str | None]]) -> bool:
        if tag in self._FURNITURE:
            return True
        if tag == "dialog" and all(name != "open" for name, _ in attrs):
            return True  # closed: browsers show it only when a script opens it
        for name, value in attrs:
            if name == "hidden" or (
                name == "style" and value and self._HIDING_STYLE.search(value) is not None
            ):
                return True
            if not value or tag in self._NEVER_FURNITURE:
                continue
            # A role is a list of tokens, the first one a browser knows taking effect:
            # "navigation menu" is a navigation, "nav navigation" too ("nav" is none).
            if name == "role" and _known_role(value) in self._FURNITURE_ROLES:
                return True
            if name in ("id", "class") and any(
                self._BANNER_NAME.search(token) for token in value.split()
            ):
                return True
        return False

    def _boundary(self, tag: str, *, end: bool = False) -> None:
        if self._quotes and tag in self._BLOCKS:
            # A quotation left open ends with its block, with its closing mark.
            while self._quotes:
                self._quotes -= 1
                if not self._hidden and not self._hiding and self._title is None:
                    self._append("\u201d\u2019"[self._quotes % 2])
        if tag == "br":
            self._append("\n")
        elif tag in self._BOXES:
            # '<button>Share</button><button>Print</button>' shows two words: the
            # next text is set apart, unless space stands between them already.
            self._apart = True
        elif tag in self._BLOCKS:
            self._append("\n\n")
        elif tag in self._CELLS and (end or not self._tab):
            # A cell ends at its end tag, or where the next one starts when that
            # tag is left out ('<td>Tariffs<td>fell'): a tab between the two.
            self._append("\t")

    def close(self) -> None:
        super().close()
        self._end_title()

    def text(self) -> str:
        body = self._body()
        if not self._heading:
            return body
        blocks = {" ".join(block.split()) for block in body.split("\n\n")}
        if _shown(self._heading, blocks, self._headings):
            return body
        return f"{self._heading}\n\n{body}" if body else self._heading

    def _body(self) -> str:
        out: list[str] = []
        gap = False
        for raw in "".join(self._parts).split("\n"):
            line = raw.strip(" \t")
            if not line:
                gap = True
                continue
            if out:
                out.append("\n\n" if gap else "\n")
            out.append(line)
            gap = False
        return "".join(out)


# What separates a page's headline from the site's name in its <title>.
_TITLE_SEPARATORS = (" | ", " - ", " – ", " — ", " · ", " :: ", " » ")


def _shown(title: str, blocks: set[str], headings: set[str]) -> bool:
    """Whether a page shows its title: as one of its blocks, or as a heading with the site's name.

    Example:
        >>> _shown("Tariffs rise | World News", {"Tariffs rise", "x"}, {"Tariffs rise"})
        True
        >>> _shown("Tariffs rise | Ministry of Trade", {"Ministry of Trade"}, set())
        False
    """
    if title in blocks:
        return True
    for separator in _TITLE_SEPARATORS:
        # The headline is one part of the title, the site's name and section the others.
        if separator in title and not headings.isdisjoint(title.split(separator)):
            return True
    return False
