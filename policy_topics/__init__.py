"""policy-topics: which areas of cooperation a policy paper commits to, with evidence.

Example:
    >>> from policy_topics import Extractor
    >>> result = Extractor().extract("The two sides will expand trade and energy cooperation.")
    >>> sorted(area.topic for area in result.areas)
    ['energy', 'trade']
"""

from __future__ import annotations

import logging

from policy_topics.errors import PolicyTopicsError, TaxonomyError
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

logging.getLogger("policy_topics").addHandler(logging.NullHandler())
