"""Scale out on Dask: tag a Dask Bag or DataFrame on every worker of a cluster.

Needs the extra ``dask`` (``pip install "policy-topics[dask]"``). The same code
runs on the local scheduler, a ``distributed.LocalCluster`` or a remote
scheduler: connect a ``distributed.Client`` first and Dask sends the work there.

The taxonomy is loaded and validated once, here, and travels to the workers as
a validated :class:`~policy_topics.Taxonomy` inside the task graph (a single
graph node, so a worker receives it once), never as a path that would have to
exist on the worker. Each worker process builds one :class:`Extractor` per
taxonomy and options, keyed by their content, and reuses it for every
partition it is given (the four most recently used are kept).
"""

from __future__ import annotations

import ast
import hashlib
import inspect
import json
import re
import threading
import warnings
from collections import OrderedDict
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, cast

from policy_topics.extract import Extractor, _is_read_error
from policy_topics.plain import is_missing
from policy_topics.readers import Source
from policy_topics.scoring import check_options
from policy_topics.taxonomy import Taxonomy, load_taxonomy
from policy_topics.writers import DATAFRAME_COLUMNS, _dataframe

if TYPE_CHECKING:
    import dask.bag
    import dask.dataframe
    import pandas

__all__ = ["extract_bag", "extract_dataframe"]

Level = Literal["areas", "quotes", "sentences", "documents"]

#: Columns and dtypes of each level: those of :func:`policy_topics.io.to_dataframe`.
COLUMNS: dict[str, dict[str, str]] = DATAFRAME_COLUMNS


@dataclass(frozen=True)
class _Recipe:
    """What a worker needs to build the Extractor: validated data, and its content key."""

    key: str
    taxonomy: Taxonomy = field(compare=False)
    options: dict[str, Any] = field(compare=False)

    def __dask_tokenize__(self) -> tuple[str, str]:
        # The same taxonomy and options give the same graph key, cheaply.
        return ("policy_topics.dask", self.key)


# One Extractor per worker process and recipe, and a lock each: Dask may run
# several tasks of a process in threads, and an Extractor is not thread-safe.
# The most recently used are kept, so a sweep over options on a long-lived
# cluster does not keep one more Extractor per value for ever.
_EXTRACTORS: OrderedDict[str, tuple[Extractor, threading.Lock]] = OrderedDict()
_MOST_EXTRACTORS = 4
_BUILD_LOCK = threading.Lock()
#: How many Extractors this process has built (tests check it stays at one).
builds = 0


def extract_bag(
    bag: dask.bag.Bag, *, taxonomy: str | Path | Taxonomy = "default", **options: Any
) -> dask.bag.Bag:
    """Tag every element of a Dask Bag; returns a Bag of result dicts.

    Args:
        bag: Elements as :meth:`Extractor.extract_many` takes them: strings,
            ``(text, metadata)`` tuples, or mappings with ``text`` and optional
            ``id`` and ``meta``. Documents of ``read_documents(...,
            defer=True)`` are read on the workers, which must see their files
            at the same absolute paths (else they give error records).
        taxonomy: A Taxonomy, a YAML path or a packaged name, read here on the
            client.
        **options: Keyword arguments of :class:`Extractor` (``max_quotes``,
            ``min_score``, ``fast``, ``model`` as a name or path).

    Returns:
        A Bag with one ``DocumentResult.model_dump(mode="json")`` dict per
        element, in element order; a document that fails gives a dict whose
        ``error`` says why.

    Raises:
        TypeError: ``bag`` is no Dask Bag (a Dask DataFrame or Series, a list).
        ImportError: Dask is not installed.

    Example:
        >>> import dask.bag as db
        >>> bag = db.from_sequence([{"id": "a", "text": "We cut tariffs."}], npartitions=1)
        >>> [(r["doc_id"], [a["topic"] for a in r["areas"]]) for r in extract_bag(bag).compute()]
        [('a', ['trade'])]
    """
    loaded = _import_dask()
    if not isinstance(bag, loaded.bag.Bag):
        kind = type(bag).__name__
        if isinstance(bag, loaded.dataframe.DataFrame | loaded.dataframe.Series):
            fix = "for a Dask DataFrame, use extract_dataframe(ddf, 'text')"
        else:
            fix = "make one with dask.bag.from_sequence(items, npartitions=...)"
        raise TypeError(f"bag must be a Dask Bag, not a {kind}; {fix}")
    recipe = loaded.delayed(_recipe(taxonomy, options), pure=True)
    untyped: Any = bag  # Dask's methods carry no annotations
    return cast("dask.bag.Bag", untyped.map_partitions(_tag_partition, recipe))


def extract_dataframe(
    ddf: dask.dataframe.DataFrame,
    text_column: str,
    *,
    id_column: str | None = None,
    pages_column: str | None = None,
    level: Level = "areas",
    taxonomy: str | Path | Taxonomy = "default",
    **options: Any,
) -> dask.dataframe.DataFrame:
    """Tag a text column of a Dask DataFrame; returns a flat Dask DataFrame.

    Args:
        ddf: The documents, one per row.
        text_column: The column holding the text.
        id_column: The column holding document ids; without it the row's index
            (as a string) is the id. Results join back on it only when the
            index is unique: ``dd.read_csv`` and ``dd.read_parquet`` start the
            index at 0 in every partition, even of one file, so their ids repeat
            (a frame whose divisions are unknown gives a warning). A whole
            number in a float column (an int column with gaps) is written
            without ``.0``; a missing id gives NA.
        pages_column: The column holding where each document's pages begin,
            as ``(page, start)`` pairs (the ``pages`` of a PDF's document from
            ``read_documents``); the quotes level then has each quote's page
            in its ``page`` column. Dask turns a column of lists into strings
            by default (its ``dataframe.convert-string`` setting): a string
            is read back as the list it spells, ``"[(1, 0), (3, 812)]"`` or
            ``"[[1, 0], [3, 812]]"``, or as numpy wrote it (a Parquet column
            read by pandas holds arrays: ``"[array([1, 0]) array([3, 812])]"``).
            A missing value means no pages; pages that are no such pairs fail
            that document, and its row at the documents level says why.
            A frame of ``read_documents``' documents holds the read errors of
            the files it could not read in its ``error`` and ``error_type``
            columns: those rows give error records, as ``extract_many`` gives
            them.
        level: ``"areas"`` (a row per document and area), ``"quotes"`` (a row
            per quote), ``"sentences"`` (a row per tagged sentence and topic)
            or ``"documents"`` (a row per document, failed ones included, with
            the error's type and message).
        taxonomy: A Taxonomy, a YAML path or a packaged name, read here.
        **options: Keyword arguments of :class:`Extractor`.

    Returns:
        A Dask DataFrame with the columns and dtypes of :data:`COLUMNS` for the
        level (strings are pandas ``string``). Documents that fail give no
        rows but at the documents level, and at the areas and quotes levels
        neither do documents without areas (``min_score`` leaves out areas,
        not the tagged sentences).
        Divisions are unknown.

    Raises:
        TypeError: ``ddf`` is no Dask DataFrame (a Dask Series, a pandas DataFrame).
        ValueError: Unknown level or column.
        ImportError: Dask or pandas is not installed.

    Warns:
        UserWarning: Ids come from an index whose divisions are unknown.

    Example:
        >>> import dask.dataframe as dd
        >>> import pandas as pd
        >>> frame = pd.DataFrame({"id": ["a", "b"], "text": ["We cut tariffs.", "Hello."]})
        >>> ddf = dd.from_pandas(frame, npartitions=1)
        >>> extract_dataframe(ddf, "text", id_column="id").compute()[["doc_id", "topic"]]
          doc_id  topic
        0      a  trade
    """
    loaded = _import_dask()
    if not isinstance(ddf, loaded.dataframe.DataFrame):
        kind = type(ddf).__name__
        fix = (
            "pass the frame and name the column: extract_dataframe(ddf, 'text')"
            if kind == "Series"
            else "make one with dask.dataframe.from_pandas(frame, npartitions=...)"
        )
        raise TypeError(f"ddf must be a Dask DataFrame, not a {kind}; {fix}")
    if level not in COLUMNS:
        raise ValueError(f"level must be one of {', '.join(COLUMNS)}, not {level!r}")
    index_name = ddf.index.name
    sources = "source" in ddf.columns
    if text_column is None:
        raise ValueError(f"no column None; name the texts' column, one of {list(ddf.columns)}")
    for column in (text_column, id_column, pages_column):
        if column is None or column in ddf.columns:
            continue
        if column == text_column and sources:
            continue  # read_documents(defer=True) of files only: each is read from its source
        if column == id_column and column == index_name:
            id_column = None  # the ids are the index, which bears that name
            continue
        raise ValueError(f"no column {column!r}; the columns are {list(ddf.columns)}")
    if id_column is None and index_name is None and not ddf.known_divisions:
        # An index that bears a name was set (set_index, a stored index read
        # back), not numbered again in each partition by a reader.
        warnings.warn(
            "extract_dataframe: without id_column the ids are the index, and this frame's "
            "divisions are unknown: dd.read_csv and dd.read_parquet start the index at 0 in "
            "every partition, so ids repeat and results do not join back on them; pass "
            "id_column=, or give the frame a unique index (ddf.set_index)",
            stacklevel=2,
        )
    recipe = loaded.delayed(_recipe(taxonomy, options), pure=True)
    untyped: Any = ddf
    # read_documents' documents: the read errors of the files it could not read,
    # and the files of defer=True to read here.
    documents = all(column in ddf.columns for column in ("error", "error_type"))
    mapped = untyped.map_partitions(
        _frame_partition,
        text_column,
        id_column,
        pages_column,
        level,
        recipe,
        documents,
        sources,
        meta=_empty(level),
        clear_divisions=True,
    )
    return cast("dask.dataframe.DataFrame", mapped)


# --- on the workers -----------------------------------------------------------------


def _tag_partition(items: Iterable[Any], recipe: _Recipe) -> list[dict[str, Any]]:
    extractor, lock = _extractor(recipe)
    with lock:
        return [result.model_dump(mode="json") for result in extractor.extract_many(items)]


def _frame_partition(
    frame: pandas.DataFrame,
    text_column: str,
    id_column: str | None,
    pages_column: str | None,
    level: Level,
    recipe: _Recipe,
    documents: bool,
    sources: bool,
) -> pandas.DataFrame:
    ids = frame[id_column] if id_column is not None else frame.index
    texts = frame[text_column] if text_column in frame.columns else [None] * len(frame)
    items: list[dict[str, Any]] = [
        {"id": i, "text": text} for i, text in zip(ids, texts, strict=True)
    ]
    if documents:
        # read_documents' read errors, which extract_many reports. Only a row
        # with an error type is one: Dask makes a frame's own column of flags
        # or numbers strings ("False"), which would fail their documents.
        pairs = zip(items, frame["error"], frame["error_type"], strict=True)
        for item, error, kind in pairs:
            if isinstance(kind, str) and kind and _is_read_error(error):
                item["error"], item["error_type"] = error, kind
    if sources:  # the files of read_documents(defer=True), read here
        for item, value in zip(items, frame["source"], strict=True):
            source = _source(value)
            if source is not None:
                item["source"] = source
    if pages_column is not None:
        for item, pages in zip(items, frame[pages_column], strict=True):
            if _is_read_error(item.get("error")):
                continue  # the file could not be read: its error stands
            if not isinstance(pages, str):
                if not is_missing(pages):
                    item["pages"] = pages
            elif _SHORTENED_RE.search(pages) and _literal(pages) is pages:
                item["error"], item["error_type"] = _SHORTENED, "ValueError"
            else:
                item["pages"] = _literal(pages)
    extractor, lock = _extractor(recipe)
    with lock:
        results = list(extractor.extract_many(items))
    # Typed as COLUMNS says, also when empty; metadata columns are left out. A
    # partition does not know its rows' place in the whole frame, so a missing
    # id stays NA rather than "#<n>" numbered again from 0 in each partition.
    rows = _dataframe(results, level, number_unnamed=False)
    return rows[list(COLUMNS[level])].reset_index(drop=True)


def _extractor(recipe: _Recipe) -> tuple[Extractor, threading.Lock]:
    global builds
    with _BUILD_LOCK:
        found = _EXTRACTORS.get(recipe.key)
        if found is None:
            found = _EXTRACTORS[recipe.key] = (
                Extractor(recipe.taxonomy, **recipe.options),
                threading.Lock(),
            )
            builds += 1
            while len(_EXTRACTORS) > _MOST_EXTRACTORS:
                _EXTRACTORS.popitem(last=False)  # a task still using it keeps its own reference
        else:
            _EXTRACTORS.move_to_end(recipe.key)
        return found


# --- helpers ------------------------------------------------------------------------


def _recipe(taxonomy: str | Path | Taxonomy, options: dict[str, Any]) -> _Recipe:
    model = options.get("model")
    if model is not None and not isinstance(model, str | Path):
        raise TypeError(
            "model must be a pipeline name or path that every worker can load, "
            f"not {type(model).__name__}"
        )
    loaded = load_taxonomy(taxonomy)
    # Fail here, on the client, rather than on every worker.
    signature = inspect.signature(Extractor)
    unknown = sorted(set(options) - set(signature.parameters))
    if unknown:
        known = ", ".join(p for p in signature.parameters if p != "taxonomy")
        extra = (
            " (each document's failure is its error record; the documents level of "
            "extract_dataframe keeps them)"
            if "on_error" in unknown
            else ""
        )
        raise TypeError(
            f"unknown option(s) {', '.join(map(repr, unknown))}{extra}: the options are "
            f"the Extractor's ({known})"
        )
    bound = signature.bind(loaded, **options)
    bound.apply_defaults()
    check_options(bound.arguments["max_quotes"], bound.arguments["min_score"])
    content = json.dumps(
        {"taxonomy": loaded.to_yaml(), "options": options}, sort_keys=True, default=str
    )
    return _Recipe(hashlib.sha256(content.encode("utf-8")).hexdigest(), loaded, dict(options))


# numpy writes an array of more than 1,000 numbers with "..." in place of the middle.
_SHORTENED_RE = re.compile(r"\.\.\.")
_SHORTENED = (
    "its pages came as numpy's shortened text of an array ('...' in place of most "
    "pairs): Dask's dataframe.convert-string setting turned the array into a string. "
    "Make the pages lists before dd.from_pandas (frame['pages'] = "
    "frame['pages'].map(lambda a: a.tolist())), read the file with dd.read_parquet, "
    "or set dask.config.set({'dataframe.convert-string': False})"
)
# numpy 2 writes its integers as np.int64(3), which no literal spells.
_NUMPY_INT_RE = re.compile(r"np\.u?int\d*\((-?\d+)\)")
# A pair as numpy writes an array of two: [1, 0] in an array of arrays, [ 1  0] in a 2-D one.
_NUMPY_PAIR_RE = re.compile(r"\[\s*(-?\d+)\s*(?:,\s*|\s+)(-?\d+)\s*\]")
# What numpy writes around such pairs.
_NUMPY_REST_RE = re.compile(r"(?:[\[\](),\s]|array|dtype=\w+)*")


def _source(value: Any) -> Source | None:
    """A deferred file of a ``source`` column, also as the string Dask made of it.

    Dask's ``dataframe.convert-string`` setting turns the column's
    :class:`~policy_topics.readers.Source` objects into their text,
    ``Source(path='a.pdf', format='pdf', size=812, location='/data/a.pdf')``,
    which is read back when it holds nothing but such literal fields.

    Example:
        >>> _source("Source(path='a.pdf', format='pdf', size=812, location='/d/a.pdf')")
        Source(path='a.pdf', format='pdf', size=812, location='/d/a.pdf')
        >>> _source("notes") is None
        True
    """
    if isinstance(value, Source):
        return value
    if not isinstance(value, str) or not value.startswith("Source("):
        return None
    try:
        call = ast.parse(value, mode="eval").body
    except (SyntaxError, ValueError, RecursionError):
        return None
    if (
        not isinstance(call, ast.Call)
        or call.args
        or not all(isinstance(k.value, ast.Constant) and k.arg for k in call.keywords)
    ):
        return None
    fields = {k.arg: cast(ast.Constant, k.value).value for k in call.keywords}
    try:
        source = Source(**cast(dict[str, Any], fields))
    except TypeError:  # a field Source does not have
        return None
    if not (isinstance(source.path, str) and isinstance(source.format, str)):
        return None
    return source


def _literal(text: str) -> Any:
    """The list a string of Dask's conversion spells, or the string when it spells none.

    Besides a Python literal, the string may be numpy's text for an array: the
    pages of a Parquet file read by pandas are an array of two-element arrays,
    which Dask's conversion writes as ``[array([1, 0]) array([ 3, 812])]``.

    Example:
        >>> _literal("[(1, 0), (3, 812)]"), _literal("[array([1, 0]) array([ 3, 812])]")
        ([(1, 0), (3, 812)], [(1, 0), (3, 812)])
    """
    plain = _NUMPY_INT_RE.sub(r"\1", text)
    try:
        return ast.literal_eval(plain)
    except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
        pass
    pairs = [(int(page), int(start)) for page, start in _NUMPY_PAIR_RE.findall(plain)]
    if pairs and _NUMPY_REST_RE.fullmatch(_NUMPY_PAIR_RE.sub("", plain)):
        return pairs
    return text  # the document's error record says what is wrong with it


def _empty(level: Level) -> pandas.DataFrame:
    from policy_topics.io import to_dataframe

    return to_dataframe([], level)


def _import_dask() -> Any:
    try:
        import dask
        import dask.bag
        import dask.dataframe
        import pandas  # noqa: F401
    except ImportError as exc:
        raise ImportError(
            'policy_topics.dask needs Dask: pip install "policy-topics[dask]"'
        ) from exc
    return dask
