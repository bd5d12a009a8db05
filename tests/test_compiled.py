"""Modules compiled by mypyc give exactly what their sources give.

``hatch_build.py`` compiles the modules extraction spends its time in, where a
C compiler is at hand; ``policy_topics.COMPILED`` names those in use. With
``POLICY_TOPICS_PURE=1`` the package imports every module from its source: the
tests run that in a subprocess and compare.
"""

from __future__ import annotations

import hashlib
import importlib
import importlib.machinery
import importlib.util
import json
import os
import re
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path
from types import ModuleType

import pytest

import policy_topics
from tests.conftest import ROOT

PACKAGE = Path(policy_topics.__file__).parent
EXTENSIONS = tuple(importlib.machinery.EXTENSION_SUFFIXES)

# Records of the shared corpora by the fast path, the plain path and the spaCy
# component, as JSON, from whichever modules this process imports.
RECORDS = """
import json, sys
from pathlib import Path
import spacy
from policy_topics import Extractor
texts = [json.loads(line)["text"] for path in sorted(Path(sys.argv[1]).glob("*.jsonl"))
         for line in path.read_text(encoding="utf-8").splitlines()]
out = {
    "fast": [r.model_dump(mode="json") for r in Extractor(max_quotes=None).extract_many(texts)],
    "plain": [r.model_dump(mode="json")
              for r in Extractor(max_quotes=None, fast=False).extract_many(texts)],
}
nlp = spacy.blank("en")
nlp.add_pipe("policy_topics")
out["component"] = [d._.policy_topics.model_dump(mode="json") for d in nlp.pipe(texts)]
out["compiled"] = list(__import__("policy_topics").COMPILED)
print(json.dumps(out))
"""


def _hook() -> ModuleType:
    spec = importlib.util.spec_from_file_location("hatch_build", ROOT / "hatch_build.py")
    assert spec is not None and spec.loader is not None
    pytest.importorskip("hatchling", reason="hatchling (dev extra) runs the build hook")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _python(code: str, *args: str, pure: bool, **env: str) -> subprocess.CompletedProcess[str]:
    variables = {**os.environ, **env}
    variables.pop("POLICY_TOPICS_PURE", None)
    if pure:
        variables["POLICY_TOPICS_PURE"] = "1"
    return subprocess.run(
        [sys.executable, "-c", code, *args],
        env=variables,
        capture_output=True,
        text=True,
        check=True,
        cwd=env.get("PYTHONPATH", ROOT),
    )


def test_every_listed_module_is_compiled_where_compiling_is_required() -> None:
    if os.environ.get("POLICY_TOPICS_COMPILE") != "require":
        pytest.skip("only POLICY_TOPICS_COMPILE=require (as in CI) makes a failed compile fail")
    assert policy_topics.COMPILED == _hook().COMPILED
    for name in policy_topics.COMPILED:
        module = importlib.import_module(f"policy_topics.{name}")
        assert str(module.__file__).endswith(EXTENSIONS), name


def test_pure_mode_imports_every_module_from_its_source() -> None:
    names = _hook().COMPILED
    code = (
        "import importlib, json, policy_topics;"
        "print(json.dumps([policy_topics.COMPILED, [importlib.import_module("
        f"'policy_topics.' + n).__file__ for n in {names!r}]]))"
    )
    compiled, files = json.loads(_python(code, pure=True).stdout)
    assert compiled == []
    assert [Path(f).name for f in files] == [f"{name}.py" for name in names]


def test_the_sources_are_used_when_they_differ_from_what_was_compiled(tmp_path: Path) -> None:
    """An edit after ``pip install -e`` must not leave stale compiled code running."""
    copy = tmp_path / "policy_topics"
    shutil.copytree(PACKAGE, copy, ignore=shutil.ignore_patterns("__pycache__"))
    digests = {
        path.stem: hashlib.sha256(path.read_bytes()).hexdigest() for path in copy.glob("*.py")
    }
    digests["records"] = "0" * 64  # not compiled, but compiled code may rely on it
    record = {"modules": list(_hook().COMPILED), "sources": digests}
    (copy / "_compiled.json").write_text(json.dumps(record))
    code = (
        "import warnings; warnings.simplefilter('always');"
        "import policy_topics, policy_topics.hits as h, policy_topics.text as t;"
        "print(policy_topics.COMPILED, h.__file__.endswith('.py'), t.__file__.endswith('.py'))"
    )
    done = _python(code, pure=False, PYTHONPATH=str(tmp_path))
    assert done.stdout.split() == ["()", "True", "True"]
    assert "compiled modules do not match their sources (records.py changed)" in done.stderr
    assert "make install" in done.stderr


def test_an_extension_without_a_record_of_its_build_is_not_loaded(tmp_path: Path) -> None:
    copy = tmp_path / "policy_topics"
    shutil.copytree(PACKAGE, copy, ignore=shutil.ignore_patterns("__pycache__"))
    (copy / "_compiled.json").unlink(missing_ok=True)
    # Not an extension at all: loading it would fail.
    (copy / f"text{EXTENSIONS[0]}").write_bytes(b"left by some old build")
    code = (
        "import warnings; warnings.simplefilter('always');"
        "import policy_topics, policy_topics.text as t;"
        "print(policy_topics.COMPILED, t.__file__.endswith('.py'))"
    )
    done = _python(code, pure=False, PYTHONPATH=str(tmp_path))
    assert done.stdout.split() == ["()", "True"]
    assert "compiled modules do not match their sources (" in done.stderr
    assert "text.py" in done.stderr


def test_compiled_and_pure_modules_give_identical_records_on_the_shared_corpora(
    corpora: Path,
) -> None:
    if not policy_topics.COMPILED:
        pytest.skip("this install is pure Python: there is nothing compiled to compare")
    compiled = json.loads(_python(RECORDS, str(corpora), pure=False).stdout)
    pure = json.loads(_python(RECORDS, str(corpora), pure=True).stdout)
    assert compiled.pop("compiled") == list(policy_topics.COMPILED)
    assert pure.pop("compiled") == []
    documents = sum(
        len(path.read_text(encoding="utf-8").splitlines()) for path in corpora.glob("*.jsonl")
    )
    assert len(compiled["fast"]) == documents
    assert sum(len(r["areas"]) for r in compiled["fast"]) > 0
    for way in ("fast", "plain", "component"):
        assert compiled[way] == pure[way], way


def test_doctests_of_compiled_modules_pass_from_their_sources() -> None:
    if not policy_topics.COMPILED:
        pytest.skip("this install is pure Python: pytest collects every doctest itself")
    paths = [str(PACKAGE / f"{name}.py") for name in policy_topics.COMPILED]
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-p", "no:xdist", *paths],
        env={**os.environ, "POLICY_TOPICS_PURE": "1"},
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    assert done.returncode == 0, done.stdout[-3000:]
    # text, prefilter, terms and scoring hold examples.
    passed = re.search(r"(\d+) passed", done.stdout)
    assert passed is not None and int(passed[1]) >= 4, done.stdout[-3000:]


def _built_package(tmp_path: Path, suffix: str) -> tuple[ModuleType, Path, list[Path]]:
    """A copy of the package's sources with stand-ins for extensions and their record."""
    hook = _hook()
    package = tmp_path / "policy_topics"
    package.mkdir()
    for source in PACKAGE.glob("*.py"):
        shutil.copy2(source, package / source.name)
    files = [package / f"{name}{suffix}" for name in (*hook.COMPILED, "_native__mypyc")]
    for path in files:
        path.write_bytes(b"a stand-in")
    (package / "_compiled.json").write_text(json.dumps(hook._record(package, files)))
    return hook, package, files


def test_a_build_of_the_sources_compiled_before_takes_their_extensions(tmp_path: Path) -> None:
    suffix = str(sysconfig.get_config_var("EXT_SUFFIX"))
    hook, package, files = _built_package(tmp_path, suffix)
    reused = hook._reusable(package)
    assert reused is not None
    assert sorted(reused) == sorted([*files, package / "_compiled.json"])


@pytest.mark.parametrize("change", ["source", "hook", "modules", "file", "interpreter"])
def test_a_build_compiles_again_when_anything_the_extensions_came_from_differs(
    tmp_path: Path, change: str
) -> None:
    suffix = str(sysconfig.get_config_var("EXT_SUFFIX"))
    if change == "interpreter":  # built by another Python: another suffix
        suffix = ".cpython-30-x86_64-linux-gnu.so"
    hook, package, files = _built_package(tmp_path, suffix)
    record_path = package / "_compiled.json"
    record = json.loads(record_path.read_text())
    if change == "source":  # edited after the build (the runtime then warns too)
        with (package / "records.py").open("a") as source:
            source.write("\n# edited\n")
    elif change == "hook":  # built by an earlier hook, whose settings may differ
        record["hook"] = "0" * 64
    elif change == "modules":
        record["modules"] = record["modules"][:-1]
    elif change == "file":
        files[0].unlink()
    record_path.write_text(json.dumps(record))
    assert hook._reusable(package) is None


def test_a_record_without_what_reuse_needs_means_compiling(tmp_path: Path) -> None:
    suffix = str(sysconfig.get_config_var("EXT_SUFFIX"))
    hook, package, _ = _built_package(tmp_path, suffix)
    record_path = package / "_compiled.json"
    for record in (
        {"modules": list(hook.COMPILED), "sources": {}},  # written by an earlier hook
        {**json.loads(record_path.read_text()), "files": ["../elsewhere" + suffix]},
        {**json.loads(record_path.read_text()), "files": []},
    ):
        record_path.write_text(json.dumps(record))
        assert hook._reusable(package) is None
    record_path.write_text("{not json")
    assert hook._reusable(package) is None
