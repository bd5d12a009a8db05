"""Exceptions raised by policy-topics.

Every error the library raises on purpose derives from :class:`PolicyTopicsError`,
so a pipeline can catch one type.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

__all__ = ["PolicyTopicsError", "Problem", "TaxonomyError", "WorkerStartError"]


class PolicyTopicsError(Exception):
    """Base class of the errors policy-topics raises."""


@dataclass(frozen=True)
class Problem:
    """One problem found in a taxonomy file.

    Attributes:
        source: File name (or ``<string>``) the taxonomy came from.
        line: 1-based line of the offending node, or None when unknown.
        path: Dotted path inside the YAML, e.g. ``topics.energy.terms[3]``.
        message: What is wrong and what would be valid.
    """

    source: str
    line: int | None
    path: str
    message: str

    def __str__(self) -> str:
        where = f"{self.source}:{self.line}" if self.line is not None else self.source
        return f"{where} {self.path}: {self.message}" if self.path else f"{where}: {self.message}"


class WorkerStartError(PolicyTopicsError, RuntimeError):
    """Worker processes (``n_process > 1``) could not be started, or died before any work."""


class TaxonomyError(PolicyTopicsError, ValueError):
    """A taxonomy could not be read or is invalid; ``problems`` lists every problem."""

    def __init__(self, problems: Sequence[Problem]) -> None:
        self.problems = list(problems)
        count = len(self.problems)
        head = f"invalid taxonomy ({count} problem{'s' if count != 1 else ''}):"
        super().__init__("\n".join([head, *(f"  {p}" for p in self.problems)]))
