"""policy-topics: which areas of cooperation a policy paper commits to, with evidence.

Example:
    >>> from policy_topics import Extractor
    >>> result = Extractor().extract("The two sides will expand trade and energy cooperation.")
    >>> sorted(area.topic for area in result.areas)
    ['energy', 'trade']
"""

from __future__ import annotations

import hashlib
import importlib
import importlib.abc
import importlib.machinery
import importlib.util
import json
import logging
import os
import sys
import types
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from policy_topics.errors import PolicyTopicsError, TaxonomyError, WorkerStartError

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
    "WorkerStartError",
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


class _SourcesFirst(importlib.abc.MetaPathFinder):
    """Imports the named modules of this package from their sources, not their extensions."""

    def __init__(self, folder: Path, names: Sequence[str]) -> None:
        self._sources = {f"{__name__}.{name}": folder / f"{name}.py" for name in names}

    def find_spec(
        self, fullname: str, path: Sequence[str] | None, target: types.ModuleType | None = None
    ) -> importlib.machinery.ModuleSpec | None:
        source = self._sources.get(fullname)
        return None if source is None else importlib.util.spec_from_file_location(fullname, source)


def _compiled_modules() -> tuple[str, ...]:
    """The modules that load compiled by mypyc (see ``hatch_build.py``); () for pure Python.

    A build records a digest of each source of the package. Once one has
    changed (an edit in a checkout installed with ``pip install -e``), the
    extensions would run stale code: then every compiled module loads from its
    source, with a warning, since compiled modules call one another directly.
    ``POLICY_TOPICS_PURE=1`` loads them from their sources on purpose.
    """
    folder = Path(__file__).parent
    try:
        record = json.loads((folder / "_compiled.json").read_text())
        names: list[str] = list(record["modules"])
        sources: dict[str, str] = dict(record["sources"])
    except (OSError, ValueError, KeyError, TypeError):
        # No record of a build: extensions left by one cannot be trusted.
        names = [
            path.name.split(".", 1)[0]
            for suffix in importlib.machinery.EXTENSION_SUFFIXES
            for path in folder.glob(f"*{suffix}")
            if (folder / f"{path.name.split('.', 1)[0]}.py").is_file()
        ]
        if not names:
            return ()
        sources = dict.fromkeys(names, "")
    if os.environ.get("POLICY_TOPICS_PURE", "") in ("", "0"):
        changed = []
        for name, digest in sources.items():
            try:
                source = (folder / f"{name}.py").read_bytes()
            except OSError:  # a wheel built without its sources
                continue
            if hashlib.sha256(source).hexdigest() != digest:
                changed.append(name)
        if not changed:
            return tuple(names)
        warnings.warn(
            "policy_topics: the compiled modules do not match their sources "
            f"({', '.join(f'{name}.py' for name in changed)} changed); using the sources, "
            "slower. Install the package again (make install) to compile them.",
            stacklevel=2,
        )
    sys.meta_path.insert(0, _SourcesFirst(folder, names))
    return ()


#: The modules of this package in use as mypyc-compiled extensions.
COMPILED: tuple[str, ...] = _compiled_modules()

logging.getLogger("policy_topics").addHandler(logging.NullHandler())
