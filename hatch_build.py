"""Build hook: compiles the modules extraction spends its time in, with mypyc.

mypyc (part of mypy) compiles these type-checked modules to C extensions. They
are the same source as the pure ones and give the same results, about a third
faster (see the README's "Compiled modules"). Building needs a C compiler;
where none is found, the wheel is pure Python, with a warning. Set
``POLICY_TOPICS_PURE_BUILD=1`` to build pure Python on purpose, or
``POLICY_TOPICS_COMPILE=require`` to fail instead of falling back (CI does).

The extensions are written next to the sources, so an editable install uses
them too; ``policy_topics/_compiled.json`` records a digest of each source of
the package, and the package imports its sources instead of the extensions
once one of them has changed.

A build whose sources and build hook are those the extensions next to them
were compiled from, for this interpreter, takes those extensions instead of
compiling again: installing a checkout again, or building its wheel after
``pip install -e``, costs seconds rather than minutes.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
import sysconfig
import tempfile
from pathlib import Path
from typing import Any

from hatchling.builders.hooks.plugin.interface import BuildHookInterface

#: The modules compiled: text segmentation, the prefilter, matching on text and
#: on Docs, term keys, and record assembly. Not the spaCy component's module
#: (matching.py): compiled, it checks the types of the component's settings
#: with mypyc's own TypeError before the component can say what is wrong.
COMPILED = ("text", "hits", "prefilter", "fastpath", "docpath", "terms", "scoring")
PACKAGE = "policy_topics"
RECORD = "_compiled.json"

_SETUP = """\
from setuptools import setup
from mypyc.build import mypycify

setup(
    name="policy-topics-compiled",
    ext_modules=mypycify(
        ["--ignore-missing-imports", *{paths!r}],
        group_name="policy_topics._native",
    ),
)
"""


class CompileHook(BuildHookInterface):  # type: ignore[type-arg]
    """Compiles :data:`COMPILED` for wheels and editable installs."""

    PLUGIN_NAME = "custom"

    def initialize(self, version: str, build_data: dict[str, Any]) -> None:
        if self.target_name != "wheel":
            return
        package = Path(self.root, PACKAGE)
        editable = version == "editable"
        pure = os.environ.get("POLICY_TOPICS_PURE_BUILD", "") not in ("", "0")
        built = None if pure else _reusable(package)
        if built is not None:
            if not editable:  # an editable install uses them where they lie
                build_data["force_include"].update(
                    {str(path): f"{PACKAGE}/{path.name}" for path in built}
                )
            build_data["pure_python"] = False
            build_data["infer_tag"] = True
            return
        if editable:  # an editable install uses what lies in the package folder
            _remove_compiled(package)
        if pure:
            return
        self._scratch = tempfile.mkdtemp(prefix="policy-topics-build-")
        out = Path(self._scratch, "out")
        try:
            built = _compile(package, Path(self._scratch, "build"), out)
        except (OSError, subprocess.CalledProcessError) as error:
            output = getattr(error, "output", None) or str(error)
            shutil.rmtree(self._scratch, ignore_errors=True)  # finalize may never run
            if os.environ.get("POLICY_TOPICS_COMPILE") == "require":
                raise RuntimeError(f"compiling {PACKAGE} with mypyc failed:\n{output}") from error
            self.app.display_warning(
                f"warning: {PACKAGE} is built as pure Python, which gives the same results, "
                f"slower: compiling it with mypyc failed:\n{output}"
            )
            return
        record = out / RECORD
        record.write_text(json.dumps(_record(package, built), indent=1))
        if editable:
            for path in [*built, record]:
                shutil.copy2(path, package / path.name)
        else:
            build_data["force_include"].update(
                {str(path): f"{PACKAGE}/{path.name}" for path in [*built, record]}
            )
        build_data["pure_python"] = False
        build_data["infer_tag"] = True

    def finalize(self, version: str, build_data: dict[str, Any], artifact_path: str) -> None:
        scratch = getattr(self, "_scratch", None)
        if scratch is not None:
            shutil.rmtree(scratch, ignore_errors=True)

    def clean(self, versions: list[str]) -> None:
        _remove_compiled(Path(self.root, PACKAGE))


def _compile(package: Path, build: Path, out: Path) -> list[Path]:
    """Compile a copy of ``package`` in ``build``; the extensions end in ``out``.

    Nothing is written in the project: mypy's cache and setuptools' files stay
    in ``build``.
    """
    copy = build / PACKAGE
    shutil.copytree(package, copy, ignore=shutil.ignore_patterns("__pycache__", "*.so", "*.pyd"))
    paths = [f"{PACKAGE}/{name}.py" for name in COMPILED]
    (build / "setup.py").write_text(_SETUP.format(paths=paths))
    done = subprocess.run(
        [sys.executable, "setup.py", "build_ext", "--inplace"],
        cwd=build,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    if done.returncode:
        raise subprocess.CalledProcessError(done.returncode, done.args, done.stdout[-4000:])
    built = [*copy.glob("*.so"), *copy.glob("*.pyd")]
    if not built:
        raise OSError("mypyc wrote no extension")
    out.mkdir()
    return [Path(shutil.copy2(path, out / path.name)) for path in built]


def _record(package: Path, built: list[Path]) -> dict[str, Any]:
    """What ``_compiled.json`` holds: the modules, a digest of every source, the build.

    Every source: compiled code may have inlined constants of the others. The
    digest of this hook and the extensions' names tell :func:`_reusable` whether
    they were built by this hook, and for this interpreter.
    """
    return {
        "modules": list(COMPILED),
        "sources": {path.stem: _digest(path) for path in sorted(package.glob("*.py"))},
        "hook": _digest(Path(__file__)),
        "files": sorted(path.name for path in built),
    }


def _reusable(package: Path) -> list[Path] | None:
    """The extensions in ``package`` and their record, if a compile would give the same.

    That is when the record names the modules compiled now, the present digest
    of every source and of this hook, and extensions for this interpreter
    (their suffix) that are all there. None otherwise: compile.
    """
    try:
        record = json.loads((package / RECORD).read_text())
        files = [package / name for name in record["files"]]
    except (OSError, ValueError, KeyError, TypeError):
        return None
    suffix = sysconfig.get_config_var("EXT_SUFFIX") or ".so"
    if (
        files
        and record == _record(package, files)
        and all(
            path.parent == package and path.name.endswith(suffix) and path.is_file()
            for path in files
        )
    ):
        return [*files, package / RECORD]
    return None


def _remove_compiled(package: Path) -> None:
    for path in [*package.glob("*.so"), *package.glob("*.pyd"), package / RECORD]:
        path.unlink(missing_ok=True)


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()
