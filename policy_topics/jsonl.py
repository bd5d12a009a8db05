"""Labelled JSON Lines at the edge: gold and prediction records, each with its place.

Gold (:mod:`policy_topics.evaluate`) and predictions
(:mod:`policy_topics.predictions`) are read the same way, so a problem in either
is named by file and line in the same words.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from policy_topics.errors import PolicyTopicsError
from policy_topics.plain import plain_value
from policy_topics.readers import _DECOMPRESSION_ERRORS, COMPRESSED_SUFFIXES, _decompressing

__all__ = ["labelled_records"]


def labelled_records(
    source: str | Path | Iterable[Mapping[str, Any] | BaseModel],
    error: type[PolicyTopicsError],
    kind: str,
) -> Iterator[tuple[str, Any]]:
    """Records of a JSON Lines file (or of an iterable), each with where it came from.

    Args:
        source: Path of a ``.jsonl`` file (or ``.jsonl.gz``, ``.bz2``, ``.xz``,
            decompressed as it is read), or an iterable of records.
        error: The exception to raise, e.g. ``GoldError``.
        kind: What the file holds, for messages: ``"gold"`` or ``"predictions"``.

    Yields:
        ``("data/gold.jsonl:3", record)`` for a file, named as given (blank
        lines skipped),
        ``("record 3", record)`` for an iterable, with numpy values made plain;
        Pydantic models are passed as they are.

    Raises:
        PolicyTopicsError: of type ``error``, naming the file and line: the file
        cannot be read, a line is not UTF-8 or not JSON, or the file holds no record.

    Example:
        >>> from policy_topics.errors import PolicyTopicsError
        >>> list(labelled_records([{"id": "a"}], PolicyTopicsError, "gold"))
        [('record 1', {'id': 'a'})]
    """
    if isinstance(source, str | Path):
        yield from _file_records(Path(source), error, kind)
        return
    for number, record in enumerate(source, 1):
        # Records built from a DataFrame hold numpy numbers and arrays.
        yield f"record {number}", record if isinstance(record, BaseModel) else plain_value(record)


def _file_records(
    path: Path, error: type[PolicyTopicsError], kind: str
) -> Iterator[tuple[str, Any]]:
    try:
        handle = path.open("rb")
    except OSError as exc:
        raise error(f"{path}: cannot read {kind} file: {exc.strerror}") from exc
    compression = COMPRESSED_SUFFIXES.get(path.suffix.lower())
    with handle:
        if compression is None:
            yield from _lines_records(path, handle, error, kind)
            return
        try:
            yield from _lines_records(path, _decompressing(handle, compression), error, kind)
        except _DECOMPRESSION_ERRORS as exc:
            raise error(
                f"{path}: cannot decompress it as {compression} ({exc}): the {kind} "
                f"file is damaged, cut short or not {compression}"
            ) from exc


def _lines_records(
    path: Path, handle: Iterable[bytes], error: type[PolicyTopicsError], kind: str
) -> Iterator[tuple[str, Any]]:
    found = False
    for number, raw in enumerate(handle, 1):
        try:
            # A byte order mark may start the file (some editors write one).
            line = raw.decode("utf-8-sig" if number == 1 else "utf-8")
        except UnicodeDecodeError as exc:
            raise error(
                f"{path}:{number}: not UTF-8 (byte {exc.start + 1} of the line); "
                f"save the {kind} file as UTF-8"
            ) from exc
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as exc:
            if not found and line.lstrip().startswith("["):
                # What `extract -f json` writes, or a pretty-printed array.
                raise error(
                    f"{path}:{number}: not JSON Lines: the file holds a JSON array; "
                    "write one JSON object per line (policy-topics extract -f jsonl, "
                    "or jq -c '.[]')"
                ) from exc
            raise error(f"{path}:{number}: not JSON: {exc.msg}") from exc
        except RecursionError as exc:
            raise error(f"{path}:{number}: not JSON: nested too deeply") from exc
        except ValueError as exc:  # a number of more digits than Python converts
            message = f"not JSON: a number too long to read ({exc})"
            raise error(f"{path}:{number}: {message}") from exc
        found = True
        yield f"{path}:{number}", record
    if not found:
        # Scoring nothing would report a perfect run on the wrong file.
        raise error(f"{path}: no {kind} records (the file is empty or blank)")
