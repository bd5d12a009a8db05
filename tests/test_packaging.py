"""An installed wheel finds its packaged taxonomies outside the repository."""

from __future__ import annotations

import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from tests.conftest import ROOT


def _build_wheel(tmp_path: Path, **env: str) -> Path:
    pytest.importorskip("hatchling", reason="hatchling (dev extra) builds the wheel")
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            str(ROOT),
            "--no-deps",
            "--no-build-isolation",
            "--quiet",
            "-w",
            str(tmp_path / "dist"),
        ],
        check=True,
        capture_output=True,
        env={**os.environ, **env},
    )
    (wheel,) = (tmp_path / "dist").glob("policy_topics-*.whl")
    return wheel


def test_a_wheel_built_pure_holds_no_extension_and_fits_every_platform(tmp_path: Path) -> None:
    wheel = _build_wheel(tmp_path, POLICY_TOPICS_PURE_BUILD="1")
    assert wheel.name.endswith("-py3-none-any.whl")
    names = zipfile.ZipFile(wheel).namelist()
    assert not [n for n in names if n.endswith((".so", ".pyd", "_compiled.json"))]
    assert "policy_topics/text.py" in names


def test_wheel_ships_taxonomies_and_finds_them_when_installed(tmp_path: Path) -> None:
    # Compiled where a C compiler is at hand; CI requires it (POLICY_TOPICS_COMPILE).
    wheel = _build_wheel(tmp_path)
    names = zipfile.ZipFile(wheel).namelist()
    shipped = {Path(n).name for n in names if n.startswith("policy_topics/taxonomies/")}
    assert shipped == {p.name for p in (ROOT / "taxonomies").glob("*.yaml")}
    assert "policy_topics/py.typed" in names
    # The script starts where nothing slow is imported yet (Ctrl-C while loading).
    (entry_points,) = (n for n in names if n.endswith(".dist-info/entry_points.txt"))
    scripts = zipfile.ZipFile(wheel).read(entry_points).decode()
    assert "policy-topics = policy_topics.__main__:main" in scripts.splitlines()

    target = tmp_path / "site"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "--no-deps",
            "--quiet",
            "--target",
            str(target),
            str(wheel),
        ],
        check=True,
        capture_output=True,
    )
    script = (
        "import policy_topics, policy_topics.taxonomy as t;"
        "print(t.packaged_taxonomies()['default']);"
        "print(policy_topics.load_taxonomy('default').name);"
        "print(len(policy_topics.COMPILED))"
    )
    env = {**os.environ, "PYTHONPATH": str(target)}
    done = subprocess.run(
        [sys.executable, "-c", script],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    path, name, compiled = done.stdout.split()
    assert Path(path).is_relative_to(target)
    assert name == "default"
    if os.environ.get("POLICY_TOPICS_COMPILE") == "require":
        assert "policy_topics/_compiled.json" in names
        assert int(compiled) > 0
        assert "-py3-none-any" not in wheel.name


def test_the_package_imports_spacy_only_when_a_name_needs_it() -> None:
    # The command line loads through it: until spaCy is imported, Ctrl-C can still
    # be told quietly. The submodule evaluate must not hide the function evaluate.
    script = (
        "import sys, policy_topics\n"
        "assert 'spacy' not in sys.modules, 'spacy imported'\n"
        "assert policy_topics.TaxonomyError.__module__ == 'policy_topics.errors'\n"
        "import policy_topics.evaluate\n"
        "from policy_topics import Extractor, evaluate\n"
        "from policy_topics.evaluate import evaluate as function\n"
        "assert evaluate is function and policy_topics.evaluate is function\n"
        "assert Extractor.__module__ == 'policy_topics.extract'\n"
        "assert set(policy_topics.__all__) <= set(dir(policy_topics))\n"
        "ns = {}\n"
        "exec('from policy_topics import *', ns)\n"
        "assert {n for n in ns if n != '__builtins__'} == set(policy_topics.__all__)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stderr
