"""Regression guard: the default taxonomy's scores on the dev corpora must not fall.

Runs when ``../shared/corpora`` exists next to the repository (skips otherwise).
Every figure committed in ``tests/accuracy_baseline.json`` may drop by at most
``TOLERANCE``. After a deliberate improvement, re-measure and commit the new
figures with::

    python tests/test_accuracy.py
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from policy_topics import Extractor, evaluate
from policy_topics.evaluate import EvaluationReport

BASELINE = Path(__file__).resolve().parent / "accuracy_baseline.json"
CORPORA = ["cap-sotu-dev.jsonl", "manifesto-trade-dev.jsonl"]
TOLERANCE = 0.02


def figures(name: str, report: EvaluationReport) -> dict[str, float]:
    """Flat ``corpus/level/mode/topic/metric -> value`` for every scored figure."""
    out: dict[str, float] = {}
    for level in report.levels:
        for mode in level.modes:
            prefix = f"{name}/{level.level}/{mode.mode}"
            for avg, scores in (("micro", mode.micro), ("macro", mode.macro)):
                for metric in ("precision", "recall", "f1"):
                    out[f"{prefix}/{avg}/{metric}"] = getattr(scores, metric)
            for topic in mode.topics:
                if topic.support:
                    for metric in ("precision", "recall", "f1"):
                        out[f"{prefix}/{topic.topic}/{metric}"] = getattr(topic, metric)
    return out


def measure(corpora: Path) -> dict[str, EvaluationReport]:
    extractor = Extractor(max_quotes=None)
    return {name: evaluate(corpora / name, extractor) for name in CORPORA}


@pytest.fixture(scope="module")
def reports(corpora: Path) -> dict[str, EvaluationReport]:
    return measure(corpora)


def test_no_committed_figure_drops(reports: dict[str, EvaluationReport]) -> None:
    committed = json.loads(BASELINE.read_text(encoding="utf-8"))["figures"]
    measured: dict[str, float] = {}
    for name, report in reports.items():
        measured.update(figures(name, report))
    missing = sorted(set(committed) - set(measured))
    assert not missing, f"figures no longer measured: {missing}"
    drops = [
        f"{key}: {measured[key]:.4f} < committed {value:.4f} - {TOLERANCE}"
        for key, value in sorted(committed.items())
        if measured[key] < value - TOLERANCE
    ]
    assert not drops, "scores fell:\n" + "\n".join(drops)


def test_issue_targets(reports: dict[str, EvaluationReport]) -> None:
    cap = reports["cap-sotu-dev.jsonl"]
    best = max(cap.get("sentence", mode).macro.f1 for mode in ("multi", "primary"))
    assert best >= 0.50
    manifesto = reports["manifesto-trade-dev.jsonl"]
    assert manifesto.get("sentence", "multi").topic("trade").f1 >= 0.75


def test_baseline_file_is_well_formed() -> None:
    data = json.loads(BASELINE.read_text(encoding="utf-8"))
    assert data["tolerance"] == TOLERANCE
    assert data["figures"]
    assert all(0 <= v <= 1 for v in data["figures"].values())
    assert {key.split("/")[0] for key in data["figures"]} == set(CORPORA)


def _write_baseline(corpora: Path) -> None:
    found: dict[str, float] = {}
    for name, report in measure(corpora).items():
        found.update(figures(name, report))
    data = {
        "about": "Scores of the default taxonomy with the default Extractor and min_score 0 "
        "on ../shared/corpora; tests/test_accuracy.py fails if one drops by more than "
        "the tolerance. Regenerate with: python tests/test_accuracy.py",
        "tolerance": TOLERANCE,
        "figures": found,
    }
    BASELINE.write_text(json.dumps(data, indent=2, sort_keys=True) + "\n", encoding="utf-8")


if __name__ == "__main__":
    root = Path(__file__).resolve().parent.parent
    _write_baseline(Path(sys.argv[1]) if len(sys.argv) > 1 else root.parent / "shared" / "corpora")
