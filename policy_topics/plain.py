"""Ids and metadata from numpy and pandas, as plain Python values.

Documents often come from a DataFrame: their ids and metadata then hold numpy
scalars (``np.int64``), pandas' missing values (``pd.NA``, ``pd.NaT``) and
timestamps. Results hold plain values that JSON can write, whatever the input
(:func:`plain_id`, :func:`plain_value`). pandas is never imported here:
its missing values are recognised only when the caller has imported it.
"""

from __future__ import annotations

import math
import numbers
import operator
import sys
from collections.abc import Mapping
from datetime import date, datetime, timedelta
from typing import Any

import numpy

__all__ = ["is_missing", "is_whole_number", "plain_id", "plain_value"]

_PLAIN = frozenset({str, bool, int, float})


def is_whole_number(value: Any) -> bool:
    """Whether a value is a whole number: an int or a numpy integer, but no bool.

    Example:
        >>> is_whole_number(3), is_whole_number(numpy.int64(3)), is_whole_number(True)
        (True, True, False)
    """
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)


def is_missing(value: Any) -> bool:
    """Whether a value is a missing value: None, NaN, ``pd.NA`` or ``pd.NaT``.

    Example:
        >>> [is_missing(v) for v in (None, float("nan"), 0, "")]
        [True, True, False, False]
    """
    if value is None:
        return True
    if isinstance(value, float | numpy.floating):
        return math.isnan(value)
    if isinstance(value, numpy.datetime64 | numpy.timedelta64):
        return bool(numpy.isnat(value))
    pandas = sys.modules.get("pandas")
    return pandas is not None and (value is pandas.NA or value is pandas.NaT)


def plain_id(value: Any) -> str | None:
    """A document id as a string; None for a missing one.

    A whole number stored as a float (an integer column of pandas with a gap)
    gives ``"2"``, not ``"2.0"``. numpy values give what pandas hands over for
    them: ``np.float32(0.1)`` the float ``0.10000000149011612``, a
    ``datetime64`` or ``timedelta64`` a ``Timestamp`` or ``Timedelta`` (to the
    nanosecond; without pandas, numpy's own text where a microsecond would
    lose some).

    Example:
        >>> [plain_id(v) for v in ("a", 7, 2.0, 2.5, float("nan"), None)]
        ['a', '7', '2', '2.5', None, None]
    """
    if isinstance(value, str):
        return value
    if isinstance(value, numpy.ndarray) and value.ndim == 0:
        value = plain_value(value)  # a 0-d array, np.ma.masked
    if is_missing(value):
        return None
    if isinstance(value, numpy.datetime64 | numpy.timedelta64):
        return _time_id(value)
    if isinstance(value, numpy.generic):
        # As pandas hands it over: np.float32(0.1) as the float 0.1000000015, so
        # every way in gives a document the same id.
        value = plain_value(value)
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _time_id(value: numpy.datetime64 | numpy.timedelta64) -> str:
    """A datetime64 or timedelta64 id, written as pandas writes its Timestamp or Timedelta."""
    pandas = sys.modules.get("pandas")
    if pandas is not None:
        kind = pandas.Timestamp if isinstance(value, numpy.datetime64) else pandas.Timedelta
        try:
            return str(kind(value))
        except (OverflowError, ValueError):  # beyond pandas' range of dates
            pass
    plain = plain_value(value)
    unit = "datetime64[us]" if isinstance(value, numpy.datetime64) else "timedelta64[us]"
    if isinstance(plain, str) or value.astype(unit) != value:
        return str(value)  # numpy's own: keeps what a microsecond would lose
    return str(plain)


def plain_value(value: Any) -> Any:
    """A metadata value with numpy and pandas values made plain Python ones.

    numpy scalars become Python numbers, ``datetime64`` a ``datetime`` (to
    the microsecond; its ISO string outside Python's range of dates), arrays
    lists (masked items None), a pandas ``Timestamp`` a ``datetime``, a
    pandas array, Series or Index a list, and missing values (NaN, ``pd.NA``,
    ``pd.NaT``) None, as JSON writes them;
    mappings, lists and tuples are converted item by item, into new mappings
    and lists (a tuple whose items all stay as they are is kept). Any other
    value is returned as it is.

    Raises:
        RecursionError: a container that holds itself.

    Example:
        >>> plain_value({"n": numpy.int64(3), "xs": numpy.array([1.5, 2.0])})
        {'n': 3, 'xs': [1.5, 2.0]}
    """
    if value is None or type(value) in _PLAIN:
        # NaN, a table's empty cell, is missing as pd.NA is: JSON writes it as null.
        return None if type(value) is float and math.isnan(value) else value
    if isinstance(value, numpy.generic):
        if isinstance(value, numpy.datetime64 | numpy.timedelta64):
            if numpy.isnat(value):
                return None
            unit = "datetime64[us]" if isinstance(value, numpy.datetime64) else "timedelta64[us]"
            plain = value.astype(unit).item()
            # Outside the range of Python's datetime numpy gives an int: keep the date.
            return plain if isinstance(plain, date | timedelta) else str(value)
        item = value.item()
        return None if isinstance(item, float) and math.isnan(item) else item
    if isinstance(value, numpy.ma.MaskedArray):
        return _unmasked(value)
    if isinstance(value, numpy.ndarray):
        if value.ndim == 0:
            return plain_value(value[()])
        return [plain_value(item) for item in value]
    if is_missing(value):
        return None
    pandas = sys.modules.get("pandas")
    if pandas is not None and isinstance(
        value, pandas.api.extensions.ExtensionArray | pandas.Series | pandas.Index
    ):
        return [plain_value(item) for item in value]  # e.g. an Int64 array with NA
    if isinstance(value, datetime) and hasattr(value, "to_pydatetime"):
        return value.to_pydatetime(warn=False)  # a pandas Timestamp, to the microsecond
    if isinstance(value, timedelta) and hasattr(value, "to_pytimedelta"):
        return value.to_pytimedelta()  # a pandas Timedelta
    if isinstance(value, Mapping):
        return {key: plain_value(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        items = [plain_value(item) for item in value]
        # A tuple of values kept as they are is kept; a list is always a new one,
        # as a mapping is: a record must not share the caller's list, which the
        # caller may change after (a buffer reused for the next document).
        if isinstance(value, tuple) and all(map(operator.is_, items, value)):
            return value
        return items
    return value


def _unmasked(value: numpy.ma.MaskedArray[Any, Any]) -> Any:
    """A masked array as plain values, None where masked."""
    mask: Any = numpy.ma.getmaskarray(value)
    data = numpy.asarray(value.data)
    if data.ndim == 0:
        if data.dtype.names:  # a record: masked field by field
            return tuple(
                None if mask[name] else plain_value(data[name][()]) for name in data.dtype.names
            )
        return None if mask else plain_value(data[()])
    return [_unmasked(numpy.ma.MaskedArray(d, mask=m)) for d, m in zip(data, mask, strict=True)]
