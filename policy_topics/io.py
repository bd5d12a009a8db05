"""Input and output at the edges: document readers, result writers, DataFrames.

The readers live in :mod:`policy_topics.readers`, the writers in
:mod:`policy_topics.writers`; this module gathers both.

Readers turn files into documents that :meth:`Extractor.extract_many` takes;
a file that cannot be read becomes a document carrying an ``error``, which
``extract_many`` turns into an error record, so one bad file never stops a
batch. Writers stream :class:`DocumentResult` records as JSON, JSON Lines or
CSV; :func:`resume` lets a run that stopped go on where it stopped.

Example:
    >>> import io
    >>> from policy_topics import Extractor
    >>> docs = [{"id": "a", "text": "We will cut tariffs."}]
    >>> out = io.StringIO()
    >>> write_results(Extractor().extract_many(docs), out, format="jsonl")
    1
    >>> out.getvalue().startswith('{"doc_id":"a"')
    True
"""

from __future__ import annotations

from policy_topics.readers import (
    COMPRESSED_SUFFIXES,
    DEFERRED_FORMATS,
    SUPPORTED_SUFFIXES,
    Document,
    ReadError,
    Source,
    decode_text,
    read_documents,
)
from policy_topics.resume import done_ids, drop_failed, resume
from policy_topics.writers import (
    CSV_COLUMNS,
    DATAFRAME_COLUMNS,
    CsvWriter,
    JsonlWriter,
    JsonWriter,
    ResultWriter,
    open_output,
    quote_rows,
    record_json,
    to_dataframe,
    write_results,
)

__all__ = [
    "COMPRESSED_SUFFIXES",
    "CSV_COLUMNS",
    "DATAFRAME_COLUMNS",
    "DEFERRED_FORMATS",
    "SUPPORTED_SUFFIXES",
    "CsvWriter",
    "Document",
    "JsonWriter",
    "JsonlWriter",
    "ReadError",
    "ResultWriter",
    "Source",
    "decode_text",
    "done_ids",
    "drop_failed",
    "open_output",
    "quote_rows",
    "read_documents",
    "record_json",
    "resume",
    "to_dataframe",
    "write_results",
]
