"""policy-topics: which areas of cooperation a policy paper commits to, with evidence.

Example:
    >>> from policy_topics import Extractor
    >>> result = Extractor().extract("The two sides will expand trade and energy cooperation.")
    >>> sorted(area.topic for area in result.areas)
    ['energy', 'trade']
"""

from __future__ import annotations

import importlib
import logging
import sys
import types
from typing import TYPE_CHECKING, Any

from policy_topics.errors import PolicyTopicsError, TaxonomyError

if TYPE_CHECKING:
    from policy_topics.evaluate import evaluate
    from policy_topics.extract import Extractor
    from policy_topics.records import CooperationArea, DocumentResult, Match, Quote
    from policy_topics.taxonomy import Taxonomy, load_taxonomy

__version__ = "0.1.0"

__all__ = [
    "CooperationArea",
    "DocumentResult",
    "Extractor",
    "Match",
    "PolicyTopicsError",
    "Quote",
    "Taxonomy",
    "TaxonomyError",
    "__version__",
    "evaluate",
    "load_taxonomy",
]

# The module of each name, imported when the name is first used: spaCy takes a
# second or two to import, and the policy-topics command must be able to stop
# quietly at Ctrl-C meanwhile (see policy_topics.__main__).
_LAZY = {
    "CooperationArea": "policy_topics.records",
    "DocumentResult": "policy_topics.records",
    "Extractor": "policy_topics.extract",
    "Match": "policy_topics.records",
    "Quote": "policy_topics.records",
    "Taxonomy": "policy_topics.taxonomy",
    "evaluate": "policy_topics.evaluate",
    "load_taxonomy": "policy_topics.taxonomy",
}


class _Package(types.ModuleType):
    """This package: its names are imported when first used."""

    def __getattr__(self, name: str) -> Any:
        if name not in _LAZY:
            raise AttributeError(f"module {self.__name__!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(_LAZY[name]), name)
        setattr(self, name, value)
        return value

    def __setattr__(self, name: str, value: Any) -> None:
        # Importing the submodule policy_topics.evaluate binds it here, over
        # the function of that name: the function stays.
        if name == "evaluate" and isinstance(value, types.ModuleType):
            value = value.evaluate
        super().__setattr__(name, value)

    def __dir__(self) -> list[str]:
        return sorted({*super().__dir__(), *__all__})


sys.modules[__name__].__class__ = _Package

logging.getLogger("policy_topics").addHandler(logging.NullHandler())
