"""Resuming a run into a JSON Lines file: skipping the documents it already holds.

A run over an archive that stops (killed, out of memory, a reboot) leaves its
JSON Lines output with one complete line per finished document, and at worst
half a line after them. Run it again on the same input through
:func:`resume`, writing with ``write_results(..., append=True)``: the
documents whose records the file holds are skipped, the half line is cut, and
the records of the others are added at the end. The same call brings the
output of a growing archive up to date.

Documents are matched by id (a file's id is its path as it was named, so
name the files the same way each time). Every input needs an id, and a
failed document counts as done: its record says why it failed.
:func:`drop_failed` removes the records of failed documents, so that the
next resume tries them again (a file fixed since, a worker that ran out of
memory).

Example:
    >>> import pathlib, tempfile
    >>> from policy_topics import Extractor
    >>> from policy_topics.io import write_results
    >>> out = pathlib.Path(tempfile.mkdtemp()) / "out.jsonl"
    >>> docs = [{"id": "a", "text": "We cut tariffs."}, {"id": "b", "text": "Grids grew."}]
    >>> write_results(Extractor().extract_many(docs[:1]), out)
    1
    >>> [doc["id"] for doc in resume(docs, out)]
    ['b']
    >>> write_results(Extractor().extract_many(resume(docs, out)), out, append=True)
    1
    >>> sorted(done_ids(out))
    ['a', 'b']
"""

from __future__ import annotations

import codecs
import json
import os
import stat
import warnings
from collections import Counter
from collections.abc import Collection, Iterable, Iterator, Mapping
from typing import Any

from pydantic import ValidationError

from policy_topics.records import DocumentResult
from policy_topics.text import replace_surrogates
from policy_topics.writers import is_json_object, open_output

__all__ = ["done_counts", "done_ids", "drop_failed", "resume", "skip_done"]

#: How every record that ``write_results`` and the command line write begins.
_RECORD_START = b'{"doc_id":'
#: How the record of a document that did not fail ends: ``error`` is its last field.
_NO_ERROR_END = b',"error":null}'
#: Bytes of a line decoded to read its id; a longer id decodes the whole line.
_ID_BYTES = 4096
_DECODER = json.JSONDecoder()


def done_ids(path: str | os.PathLike[str]) -> set[str]:
    """The ids of the documents whose records a JSON Lines output holds.

    Only complete lines count: half a line left by a run that was killed is
    not a record (``write_results(..., append=True)`` cuts it). A last line
    without newline that cannot be the start of a record is no half line,
    but a sign the file is another program's.

    Args:
        path: A JSON Lines file written by ``write_results`` or ``policy-topics
            extract``; a missing or empty file holds none, nor does a device
            or a named pipe (which is not read).

    Returns:
        The ``doc_id`` of every complete record.

    Raises:
        ValueError: a line that is no record of policy-topics, or a record
            without an id (its file, line and the fix are named).
    """
    return set(done_counts(path))


def done_counts(path: str | os.PathLike[str]) -> Counter[str]:
    """How many records of each id a JSON Lines output holds: :func:`done_ids`, counted.

    Documents that share an id (a JSON Lines input whose ids repeat) have a
    record each; :func:`resume` skips as many of them as there are records.

    Args:
        path: A JSON Lines file, as :func:`done_ids` takes it.

    Returns:
        The number of complete records of each ``doc_id``.

    Raises:
        ValueError: as :func:`done_ids`.
    """
    return _read_records(path, find_failed=False)[0]


def _read_records(path: str | os.PathLike[str], *, find_failed: bool) -> tuple[Counter[str], bool]:
    """:func:`done_counts`, and with ``find_failed`` whether a failed document's record is there."""
    name = os.fspath(path)
    try:
        if not stat.S_ISREG(os.stat(path).st_mode):
            # A device or a named pipe (/dev/null, a FIFO) keeps no records, and
            # opening a pipe to read would wait for a writer.
            return Counter(), False
        stream = open(path, "rb")  # noqa: SIM115 (closed below; a missing file holds none)
    except FileNotFoundError:
        return Counter(), False
    ids: Counter[str] = Counter()
    failed = False
    with stream:
        for number, line in enumerate(stream, 1):
            if number == 1:
                line = line.removeprefix(codecs.BOM_UTF8)  # an editor may have saved one
            if not line.endswith(b"\n") and not is_json_object(line):
                _check_half(name, number, line)
                break  # half a line: the record of a document that was not finished
            if not line.strip():
                continue
            if not ids:
                _check_first(name, number, line)
            ids[_record_id(name, number, line)] += 1
            if find_failed and not failed:
                failed = _failed(line)
    return ids, failed


def drop_failed(path: str | os.PathLike[str]) -> int:
    """Remove the records of failed documents from a JSON Lines output, to try them again.

    :func:`resume` counts a failed document as done, as its record says why
    it failed. Once the cause is gone (a file fixed or made readable, a
    worker that ran out of memory), drop those records and resume: the
    documents are tagged again and their new records added at the end. The
    file is rewritten through a temporary file that replaces it whole, so an
    interruption leaves it as it was; a file without failed records is left
    untouched.

    Args:
        path: A JSON Lines file written by ``write_results`` or ``policy-topics
            extract``; a missing file, a device or a named pipe holds none.

    Returns:
        The number of records removed.

    Raises:
        ValueError: a line that is no record of policy-topics, as :func:`done_ids`
            refuses it (the file is left as it was).

    Example:
        >>> import pathlib, tempfile
        >>> from policy_topics import Extractor
        >>> from policy_topics.io import write_results
        >>> out = pathlib.Path(tempfile.mkdtemp()) / "out.jsonl"
        >>> docs = [{"id": "a", "text": "We cut tariffs."}, {"id": "b", "text": None}]
        >>> write_results(Extractor().extract_many(docs), out)
        2
        >>> [doc["id"] for doc in resume(docs, out)]
        []
        >>> drop_failed(out)
        1
        >>> [doc["id"] for doc in resume(docs, out)]
        ['b']
    """
    return _drop_failed(path)[0]


def _drop_failed(path: str | os.PathLike[str]) -> tuple[int, Counter[str]]:
    """:func:`drop_failed`, and :func:`done_counts` of the file it leaves.

    The file is read once when no record failed (it is then left untouched),
    twice when some did: once to check and count, once to write the rest.
    """
    # The first read refuses a file that is not ours before anything changes.
    counts, any_failed = _read_records(path, find_failed=True)
    if not any_failed:
        return 0, counts
    name = os.fspath(path)
    failed = 0
    with open(path, "rb") as source, open_output(path) as target:
        for number, line in enumerate(source, 1):
            if number == 1:
                line = line.removeprefix(codecs.BOM_UTF8)
            if not line.endswith(b"\n"):
                if not is_json_object(line):
                    break  # half a record, which appending would cut anyway
                line += b"\n"  # a whole record (another program's last line)
            if _failed(line):
                failed += 1
                counts[_record_id(name, number, line)] -= 1
            else:
                target.buffer.write(line)  # as it was, byte for byte
    return failed, +counts


def _failed(line: bytes) -> bool:
    """Whether a complete line is the record of a document that failed."""
    body = line.rstrip(b"\r\n")
    if not body.endswith(b"}") or body.endswith(_NO_ERROR_END):
        return False
    try:
        record = json.loads(body)
    except ValueError:
        return False
    return isinstance(record, dict) and record.get("error") is not None


def matched_phrase(held: int) -> str:
    """The records a resumed file holds, as "none of the documents matched ..." names them.

    Example:
        >>> matched_phrase(1), matched_phrase(3)
        ('the record', 'any of the 3 records')
    """
    return "the record" if held == 1 else f"any of the {held} records"


def resume(items: Iterable[Any], output: str | os.PathLike[str]) -> Iterator[Any]:
    """The documents of ``items`` whose records ``output`` does not hold yet, lazily.

    ``output`` is read when this is called: a file that is not ours is
    refused before ``write_results(..., append=True)`` opens it (and cuts
    what looks like half a line at its end).

    Args:
        items: Documents as :meth:`Extractor.extract_many
            <policy_topics.Extractor.extract_many>` takes them, each with an
            id: mappings with ``id`` (what :func:`~policy_topics.io.read_documents`
            yields), or a pandas Series (its index labels are the ids).
        output: The JSON Lines file the run writes to (with ``append=True``).

    Yields:
        The documents not done yet, in input order, as they came.

    Raises:
        ValueError: ``output`` is no JSON Lines output of policy-topics (see
            :func:`done_ids`), at once; a document has no id, so it could never
            be matched (raised when it is reached: the documents before it came out).
        TypeError: at once for one str or a DataFrame in place of documents,
            as ``extract_many`` refuses them.

    Warns:
        UserWarning: ``output`` holds records but none matched a document: the
            ids changed (files named by another path?), or it is another run's file.
    """
    return skip_done(items, done_counts(output), os.fspath(output))


def skip_done(items: Iterable[Any], done: Collection[str], output: str) -> Iterator[Any]:
    """The documents of ``items`` whose ids are not in ``done``: :func:`resume` with its ids read.

    Args:
        items: Documents, each with an id, as :func:`resume` takes them.
        done: The ids to skip, from :func:`done_ids`; or how many records each
            id has, from :func:`done_counts`: then only as many documents with
            an id are skipped, the first ones (documents that share an id).
        output: The file they were read from, for the messages.

    Raises:
        ValueError, TypeError: as :func:`resume`.
    """
    # Imported here: the command line reads outputs without loading spaCy.
    from policy_topics.extract import _check_documents, _is_series, _labelled

    _check_documents(items)
    if _is_series(items):
        series: Any = items
        items = (_labelled(label, item) for label, item in series.items())
    return _skipping(items, done, output)


def _skipping(items: Iterable[Any], done: Collection[str], output: str) -> Iterator[Any]:
    from policy_topics.extract import _coerce

    left = Counter(done) if isinstance(done, Mapping) else None
    matched = 0
    for position, item in enumerate(items):
        # The id extract_many gives it, in its record too when it cannot tag it.
        doc_id = _coerce(item).doc_id
        if doc_id is None:
            raise ValueError(
                f"document #{position} has no id: resume matches documents to the "
                f"records of {output} by id; give every document an 'id'"
            )
        # As the record holds it: JSON has no lone surrogates (a file name that is
        # not UTF-8 has them), so U+FFFD stands for each.
        key = replace_surrogates(doc_id)
        if left is None and key in done:
            matched += 1
            continue
        if left is not None and left[key] > 0:
            left[key] -= 1
            matched += 1
            continue
        yield item
    if done and not matched:
        held = sum(done.values()) if isinstance(done, Mapping) else len(done)
        warnings.warn(
            f"resume: none of the documents matched {matched_phrase(held)} of "
            f"{output}, so none was skipped; a file's id is its path as "
            "named: name the files as the run that wrote it did",
            UserWarning,
            stacklevel=2,
        )


def _check_first(name: str, number: int, line: bytes) -> None:
    """Refuse a file whose first record is no DocumentResult: resuming would append to it."""
    try:
        DocumentResult.model_validate_json(line)
    except ValidationError as exc:  # for JSON that does not parse too
        raise ValueError(
            f"{name}:{number}: not a record of policy-topics ({exc.errors()[0]['msg']}); "
            "resume only into a JSON Lines file that write_results or "
            "'policy-topics extract' wrote"
        ) from None


def _check_half(name: str, number: int, line: bytes) -> None:
    """Refuse a last line without newline that cannot be half a record: cutting it loses it.

    A run that was killed leaves the start of a record; a power cut may
    leave NUL bytes where the last lines were to be.
    """
    left = line.strip(b"\0 \t\r")
    if not (left.startswith(_RECORD_START) or _RECORD_START.startswith(left)):
        raise ValueError(_not_ours(name, number))


def _record_id(name: str, number: int, line: bytes) -> str:
    """The ``doc_id`` of one record, read from the start of its line."""
    if not line.startswith(_RECORD_START):
        raise ValueError(_not_ours(name, number))
    start = len(_RECORD_START)
    while line[start : start + 1] in (b" ", b"\t"):  # json.dumps puts a space after the colon
        start += 1
    try:
        value, _ = _DECODER.raw_decode(line[:_ID_BYTES].decode("utf-8", "ignore"), start)
    except ValueError:  # an id longer than the bytes decoded: decode the line
        try:
            value, _ = _DECODER.raw_decode(line.decode("utf-8", "replace"), start)
        except ValueError:
            value = _NO_ID
    if value is _NO_ID or not isinstance(value, str):
        raise ValueError(
            f"{name}:{number}: a record without a doc_id: resume matches documents "
            "by id; give every document an id, then run the whole input again into "
            "a new file"
        )
    return value


_NO_ID = object()


def _not_ours(name: str, number: int) -> str:
    return (
        f"{name}:{number}: not a record of policy-topics (records begin with "
        "'{\"doc_id\":'); resume only into a JSON Lines file that write_results "
        "or 'policy-topics extract' wrote"
    )
