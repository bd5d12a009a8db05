"""Collection of the doctests in the package's modules.

A module compiled by mypyc (see ``hatch_build.py``) cannot be collected from its
source by pytest; ``tests/test_compiled.py`` runs its doctests from the source.
"""

from __future__ import annotations

from pathlib import Path

import policy_topics


def pytest_ignore_collect(collection_path: Path) -> bool | None:
    if collection_path.parent.name == "policy_topics" and collection_path.suffix == ".py":
        return collection_path.stem in policy_topics.COMPILED or None
    return None
