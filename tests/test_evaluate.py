"""Metrics of policy_topics.evaluate on hand-made gold, where every count is known."""

from __future__ import annotations

import json
import math
from functools import cache
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import BaseModel, ValidationError

from policy_topics import Extractor, Taxonomy, evaluate
from policy_topics.evaluate import (
    CurvePoint,
    ErrorCase,
    EvaluationReport,
    GoldError,
    LevelReport,
    ModeReport,
    PredictionError,
    Scores,
    TopicScores,
    UnknownTopicError,
    read_gold,
)
from policy_topics.records import ErrorInfo

TAXONOMY = """
name: toy
version: "2"
cues: [cooperation]
topics:
  trade:
    label: Trade
    terms: [tariff, export, free trade]
  energy:
    label: Energy
    terms: [oil, gas]
  finance:
    label: Finance
    terms: [bank, loan]
"""
ONE = round(1 - math.exp(-1), 6)  # sentence score of one plain term
TWO = round(1 - math.exp(-2), 6)  # two distinct terms


@cache
def toy_extractor() -> Extractor:
    return Extractor(Taxonomy.from_yaml(TAXONOMY), max_quotes=None)


@pytest.fixture(scope="module")
def extractor() -> Extractor:
    return toy_extractor()


def doc(doc_id: str, *units: tuple[str, list[str]] | tuple[str, list[str], list[str]]) -> dict:
    """A sentence-level gold record: units joined by one space, offsets computed."""
    text, sentences, cursor = "", [], 0
    for unit in units:
        piece, topics = unit[0], unit[1]
        if text:
            text += " "
            cursor += 1
        sentence: dict[str, Any] = {"start": cursor, "end": cursor + len(piece), "topics": topics}
        if len(unit) == 3:
            sentence["optional"] = unit[2]
        sentences.append(sentence)
        text += piece
        cursor += len(piece)
    return {"id": doc_id, "text": text, "sentences": sentences}


def counts(report: EvaluationReport, level: str, mode: str) -> dict[str, tuple[int, ...]]:
    scores = report.get(level, mode)  # type: ignore[arg-type]
    return {
        t.topic: (t.true_positives, t.false_positives, t.false_negatives, t.support)
        for t in scores.topics
    }


GOLD = [
    doc(
        "d1",
        ("Tariffs rose.", ["trade"]),  # TP trade
        ("Oil fell.", ["trade"]),  # FP energy, FN trade
        ("Banks closed.", ["finance"]),  # TP finance
        ("Cats sleep.", ["energy"]),  # FN energy
    ),
    doc(
        "d2",
        ("Exports of gas grew.", ["trade", "energy"]),  # TP trade, TP energy
        ("A loan for oil.", ["energy"], ["finance"]),  # TP energy; finance optional
        ("Nothing here.", [], ["trade"]),  # optional trade, not predicted: no FN
    ),
]


def test_counts_precision_recall_f1(extractor: Extractor) -> None:
    report = evaluate(GOLD, extractor, modes=["multi"])
    assert counts(report, "sentence", "multi") == {
        "trade": (2, 0, 1, 3),
        "energy": (2, 1, 1, 3),
        "finance": (1, 0, 0, 1),
    }
    scores = report.get("sentence", "multi")
    energy = scores.topic("energy")
    assert (energy.precision, energy.recall) == (round(2 / 3, 4), round(2 / 3, 4))
    assert energy.f1 == round(2 / 3, 4)
    assert energy.predicted == 3
    trade = scores.topic("trade")
    assert (trade.precision, trade.recall, trade.f1) == (1.0, round(2 / 3, 4), 0.8)
    # micro pools counts: tp 5, fp 1, fn 2
    assert scores.micro.precision == round(5 / 6, 4)
    assert scores.micro.recall == round(5 / 7, 4)
    assert scores.micro.f1 == round(2 * 5 / (2 * 5 + 1 + 2), 4)
    # macro averages per-topic scores
    assert scores.macro.f1 == round((0.8 + 2 / 3 + 1.0) / 3, 4)
    assert scores.averaged_over == ["trade", "energy", "finance"]
    assert scores.n_false_positives == 1
    assert scores.n_false_negatives == 2


def test_optional_topics_count_neither_way(extractor: Extractor) -> None:
    gold = [
        doc("a", ("A bank loan.", ["trade"], ["finance"])),  # finance predicted but optional
        doc("b", ("Nothing.", [], ["energy"])),  # energy optional, not predicted
    ]
    report = evaluate(gold, extractor, modes=["multi"])
    assert counts(report, "sentence", "multi") == {
        "trade": (0, 0, 1, 1),
        "energy": (0, 0, 0, 0),
        "finance": (0, 0, 0, 0),
    }
    scores = report.get("sentence", "multi")
    assert scores.averaged_over == ["trade"]
    assert scores.false_positives == []
    assert [(e.topic, e.doc_id) for e in scores.false_negatives] == [("trade", "a")]


def test_documents_without_topics(extractor: Extractor) -> None:
    gold = [
        doc("neg", ("Oil and gas.", []), ("Cats.", [])),
        {"id": "neg-doc", "text": "Tariffs everywhere.", "topics": []},
    ]
    report = evaluate(gold, extractor)
    for level in ("sentence", "document"):
        for mode in ("multi", "primary"):
            scores = report.get(level, mode)  # type: ignore[arg-type]
            assert scores.averaged_over == []
            assert scores.micro.f1 == scores.macro.f1 == 0.0
    sentence = report.get("sentence", "multi")
    assert sentence.topic("energy").false_positives == 1
    assert sentence.topic("energy").support == 0
    document = report.get("document", "multi")
    assert document.topic("trade").false_positives == 1
    assert report.levels[0].positive_units == 0
    assert (report.levels[0].units, report.levels[1].units) == (2, 1)


def test_document_level_gold(extractor: Extractor) -> None:
    gold = [
        {"id": "a", "text": "Oil prices. Gas prices. Oil and gas. A bank.", "topics": ["energy"]},
        {"id": "b", "text": "Tariffs. Export rules.", "topics": ["trade", "finance"]},
        {"id": "c", "text": "A loan.", "topics": [], "optional": ["finance"]},
    ]
    report = evaluate(gold, extractor)
    assert [lvl.level for lvl in report.levels] == ["document"]
    assert counts(report, "document", "multi") == {
        "trade": (1, 0, 0, 1),
        "energy": (1, 0, 0, 1),
        "finance": (0, 1, 1, 1),
    }
    # primary keeps each document's highest-scoring area: energy for a, trade for b
    assert counts(report, "document", "primary") == {
        "trade": (1, 0, 0, 1),
        "energy": (1, 0, 0, 1),
        "finance": (0, 0, 1, 1),
    }
    (fp,) = report.get("document", "multi").false_positives
    assert (fp.doc_id, fp.topic, fp.text) == ("a", "finance", "A bank.")
    assert gold[0]["text"][fp.start : fp.end] == fp.text


def test_primary_keeps_top_topic_and_breaks_ties_by_taxonomy_order(extractor: Extractor) -> None:
    gold = [
        # finance has two distinct terms, energy one: finance wins
        doc("a", ("A bank loan for oil.", ["finance"])),
        # one term each: trade comes first in the taxonomy
        doc("b", ("Tariffs on oil.", ["energy"])),
    ]
    report = evaluate(gold, extractor)
    assert counts(report, "sentence", "primary") == {
        "trade": (0, 1, 0, 0),
        "energy": (0, 0, 1, 1),
        "finance": (1, 0, 0, 1),
    }
    assert counts(report, "sentence", "multi")["energy"] == (1, 1, 0, 1)
    (fn,) = report.get("sentence", "primary").false_negatives
    assert fn.predicted == ["trade"]
    assert fn.scores == {"trade": ONE, "energy": ONE}
    assert fn.terms == {"trade": ["tariff"], "energy": ["oil"]}


def test_match_counts_for_the_unit_holding_its_start(extractor: Extractor) -> None:
    text = "We back free trade; oil too."
    cut = text.index("trade")
    gold = [
        {
            "id": "x",
            "text": text,
            "sentences": [
                {"start": 0, "end": cut, "topics": ["trade"]},
                {"start": cut, "end": len(text), "topics": ["energy"]},
            ],
        }
    ]
    report = evaluate(gold, extractor, modes=["multi"])
    assert counts(report, "sentence", "multi") == {
        "trade": (1, 0, 0, 1),
        "energy": (1, 0, 0, 1),
        "finance": (0, 0, 0, 0),
    }


def test_min_score_and_curve(extractor: Extractor) -> None:
    gold = [doc("a", ("Tariffs and exports.", ["trade"]), ("Oil.", ["energy"]), ("Gas.", []))]
    loose = evaluate(gold, extractor, modes=["multi"])
    strict = evaluate(gold, extractor, modes=["multi"], min_score=0.7)
    assert counts(loose, "sentence", "multi")["energy"] == (1, 1, 0, 1)
    assert counts(strict, "sentence", "multi")["energy"] == (0, 0, 1, 1)
    assert counts(strict, "sentence", "multi")["trade"] == (1, 0, 0, 1)
    curve = loose.get("sentence", "multi").curve
    assert [p.min_score for p in curve] == [0.0, ONE, TWO]
    assert curve[0].micro == loose.get("sentence", "multi").micro
    assert curve[-1].micro == strict.get("sentence", "multi").micro
    assert [p.micro.recall for p in curve] == [1.0, 1.0, 0.5]
    custom = evaluate(gold, extractor, modes=["multi"], thresholds=[0.9], min_score=0.5)
    assert [p.min_score for p in custom.get("sentence", "multi").curve] == [0.0, 0.5, 0.9]


def test_error_cases_carry_text_terms_and_offsets(extractor: Extractor) -> None:
    report = evaluate(GOLD, extractor, modes=["multi"])
    scores = report.get("sentence", "multi")
    (fp,) = scores.false_positives
    assert fp.model_dump(exclude={"start", "end"}) == {
        "kind": "false_positive",
        "topic": "energy",
        "doc_id": "d1",
        "unit": 1,
        "text": "Oil fell.",
        "gold": ["trade"],
        "predicted": ["energy"],
        "scores": {"energy": ONE},
        "terms": {"energy": ["oil"]},
    }
    texts = {g["id"]: g["text"] for g in GOLD}
    for case in scores.false_positives + scores.false_negatives:
        assert texts[case.doc_id][case.start : case.end] == case.text
    # neither missed topic fired at all, so they come in taxonomy order, interleaved
    assert [(e.topic, e.text) for e in scores.false_negatives] == [
        ("trade", "Oil fell."),
        ("energy", "Cats sleep."),
    ]
    capped = evaluate(GOLD, extractor, modes=["multi"], max_errors=1).get("sentence", "multi")
    assert len(capped.false_negatives) == 1
    assert capped.n_false_negatives == 2


def test_errors_interleave_topics_most_confident_first(extractor: Extractor) -> None:
    gold = [
        doc(
            "a",
            ("Oil.", []),
            ("Oil and gas.", []),
            ("Bank.", []),
            ("Tariff.", []),
        )
    ]
    fps = evaluate(gold, extractor, modes=["multi"], max_errors=3).get("sentence", "multi")
    assert [(e.topic, e.text) for e in fps.false_positives] == [
        ("trade", "Tariff."),
        ("energy", "Oil and gas."),
        ("finance", "Bank."),
    ]


def test_file_and_records_give_the_same_scores(extractor: Extractor, tmp_path: Path) -> None:
    path = tmp_path / "gold.jsonl"
    path.write_text("\n".join(json.dumps(g) for g in GOLD) + "\n\n", encoding="utf-8")
    from_file = evaluate(path, extractor)
    from_records = evaluate(GOLD, extractor)
    assert from_file.gold == "gold.jsonl"
    assert from_records.gold == "<records>"
    assert from_file.levels == from_records.levels
    assert evaluate(str(path), extractor).levels == from_file.levels
    assert [r["id"] for r in read_gold(path)] == ["d1", "d2"]


def test_report_json_is_stable_and_self_describing(extractor: Extractor) -> None:
    report = evaluate(GOLD, extractor)
    data = json.loads(report.model_dump_json(indent=2))
    assert data["format_version"] == 1
    assert (data["taxonomy"], data["taxonomy_version"]) == ("toy", "2")
    assert EvaluationReport.model_validate_json(report.model_dump_json()) == report
    with pytest.raises(ValidationError):
        EvaluationReport.model_validate({**data, "surprise": 1})
    with pytest.raises(ValidationError):
        report.min_score = 0.5  # type: ignore[misc]

    def described(model: type[BaseModel]) -> None:
        for name, info in model.model_fields.items():
            assert info.description, f"{model.__name__}.{name} has no description"

    schema = EvaluationReport.model_json_schema()
    assert {"Scores", "TopicScores", "CurvePoint", "ErrorCase", "ModeReport", "LevelReport"} <= set(
        schema["$defs"]
    )
    models = (Scores, TopicScores, CurvePoint, ErrorCase, ModeReport, LevelReport, EvaluationReport)
    for model in models:
        described(model)


def test_to_table(extractor: Extractor) -> None:
    table = evaluate(GOLD, extractor).to_table()
    assert "sentence level, mode multi: 7 units, 6 with a gold topic" in table
    assert "sentence level, mode primary" in table
    energy_row = next(line for line in table.splitlines() if line.startswith("energy "))
    assert energy_row.split() == ["energy", "0.67", "0.67", "0.67", "3", "3"]
    assert "false positives (1 of 1 shown):" in table
    assert "Oil fell." in table
    assert "false negatives" not in evaluate(GOLD, extractor).to_table(max_errors=0)


def test_the_tables_show_control_characters_of_the_gold(extractor: Extractor) -> None:
    # A missed sentence is quoted: its escape sequences went to the terminal.
    report = evaluate([doc("a", ("Oil \x1b[2J\x9bfell.", ["trade"]))], extractor)
    table = report.to_table()
    assert "Oil \u241b[2J\ufffdfell." in table
    assert "\x1b" not in table and "\x9b" not in table


def test_a_notebook_shows_the_tables(extractor: Extractor) -> None:
    report = evaluate(GOLD, extractor)
    bundle = report._repr_mimebundle_()
    assert bundle["text/plain"] == report.to_table()
    assert bundle["text/html"].startswith("<pre") and "energy " in bundle["text/html"]
    # A missed sentence is quoted in the tables, escaped in the HTML.
    report = evaluate([doc("a", ("We like <cats> & dogs.", ["trade"]))], extractor)
    assert "We like <cats> & dogs." in report.to_table()
    assert "We like &lt;cats&gt; &amp; dogs." in report._repr_mimebundle_()["text/html"]


def test_gold_built_with_numpy_scores_as_plain_gold(extractor: Extractor) -> None:
    np = pytest.importorskip("numpy")
    numpied = [
        {
            **record,
            "sentences": [
                {
                    **s,
                    "start": np.int64(s["start"]),
                    "end": np.int32(s["end"]),
                    "topics": np.array(s["topics"], dtype=object),
                }
                for s in record["sentences"]
            ],
        }
        for record in GOLD
    ]
    assert evaluate(numpied, extractor) == evaluate(GOLD, extractor)


def test_default_extractor_is_used_when_none_is_given() -> None:
    report = evaluate([doc("a", ("Both sides agreed to cut tariffs.", ["trade"]))])
    assert report.taxonomy == "default"
    assert report.get("sentence", "primary").topic("trade").recall == 1.0


def test_gold_topics_outside_the_taxonomy_are_scored(extractor: Extractor) -> None:
    report = evaluate([doc("a", ("Tariffs.", ["trade", "health"]))], extractor, modes=["multi"])
    scores = report.get("sentence", "multi")
    assert [t.topic for t in scores.topics] == ["trade", "energy", "finance", "health"]
    assert scores.topic("health").false_negatives == 1
    assert scores.averaged_over == ["trade", "health"]
    with pytest.raises(KeyError):
        scores.topic("nope")
    with pytest.raises(KeyError):
        report.get("document", "multi")


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("not json", "gold.jsonl:1: not JSON"),
        ('[\n  {"id": "a", "text": "x", "topics": []}\n]', "gold.jsonl:1: not JSON Lines"),
        ('["a list"]', "gold.jsonl:1: expected a JSON object"),
        ('{"id": "a", "sentences": []}', "'text' must be a string"),
        ('{"id": "a", "text": "x"}', "give 'sentences'"),
        ('{"id": "a", "text": "xy", "sentences": [{"start": 0, "end": 2}]}', "'topics' is missing"),
        (
            '{"id": "a", "text": "xy", "sentences": [{"start": 0, "end": 9, "topics": []}]}',
            "0 <= start < end <= 2",
        ),
        # JSON's false and true were taken as offsets 0 and 1.
        (
            '{"id": "a", "text": "xy", "sentences": [{"start": false, "end": true, "topics": []}]}',
            "must be integers with 0 <= start < end <= 2 (the text length), got False/True",
        ),
        (
            '{"id": "a", "text": "xyz", "sentences": [{"start": 0, "end": 2, "topics": []}, '
            '{"start": 1, "end": 3, "topics": []}]}',
            "sentences[1]: starts at 1, before the end of sentences[0]",
        ),
        ('{"id": "a", "text": "x", "topics": "trade"}', "topics must be a list"),
        (
            '{"id": "a", "text": "x", "topics": ["trade"], "optional": ["trade"]}',
            "trade is in both topics and optional",
        ),
    ],
)
def test_malformed_gold_names_line_and_problem(tmp_path: Path, line: str, message: str) -> None:
    path = tmp_path / "gold.jsonl"
    path.write_text(line + "\n", encoding="utf-8")
    with pytest.raises(GoldError) as info:
        evaluate(path, Extractor(Taxonomy.from_yaml(TAXONOMY)))
    assert message.replace("gold.jsonl", str(path)) in str(info.value)
    # The file as it was named, so that an editor or a terminal opens it.
    assert str(info.value).startswith(f"{path}:1")


@pytest.mark.parametrize(
    ("data", "where"),
    [
        (b'{"id": "a", "text": "caf\xe9", "topics": []}\n', "gold.jsonl:1: not UTF-8"),
        ('{"id": "a", "text": "x", "topics": []}\n'.encode("utf-16"), "gold.jsonl:1: not UTF-8"),
        (b'{"id": "a", "text": "x", "topics": []}\n{"id": "b", "text": "\xff"}\n', "gold.jsonl:2"),
    ],
)
def test_gold_that_is_not_utf8_names_the_line(tmp_path: Path, data: bytes, where: str) -> None:
    path = tmp_path / "gold.jsonl"
    path.write_bytes(data)
    with pytest.raises(GoldError, match="save the gold file as UTF-8") as info:
        evaluate(path, Extractor(Taxonomy.from_yaml(TAXONOMY)))
    assert str(info.value).startswith(where.replace("gold.jsonl", str(path)))


def test_gold_topics_the_taxonomy_lacks_are_named() -> None:
    gold = [
        {"id": "a", "text": "We cut tariffs.", "topics": ["trdae"]},
        {"id": "b", "text": "Oil prices rose.", "topics": ["energy"], "optional": ["climate"]},
    ]
    report = evaluate(gold, Extractor(Taxonomy.from_yaml(TAXONOMY)))
    # "climate" is only optional: never scored, so not "scored as missed".
    assert report.unknown_topics == ["trdae"]
    assert "gold topics not in the taxonomy (scored as missed): trdae\n" in report.to_table()
    assert all(row.topic != "climate" for row in report.get("document").topics)
    known = [{"id": "c", "text": "Oil prices rose.", "topics": ["energy"]}]
    clean = evaluate(known, Extractor(Taxonomy.from_yaml(TAXONOMY)))
    assert clean.unknown_topics == []
    assert "not in the taxonomy" not in clean.to_table()


def test_gold_with_a_number_too_long_to_read_is_a_gold_error(tmp_path: Path) -> None:
    # Python converts integers of at most 4,300 digits: a longer one raised a
    # plain ValueError, a traceback from the command line.
    path = tmp_path / "gold.jsonl"
    path.write_text('{"id": "a", "text": "x", "topics": [], "n": 1' + "0" * 5000 + "}\n")
    with pytest.raises(GoldError, match=r"gold.jsonl:1: not JSON: a number too long to read"):
        evaluate(path, Extractor(Taxonomy.from_yaml(TAXONOMY)))


def test_gold_nested_too_deeply_is_a_gold_error(tmp_path: Path) -> None:
    path = tmp_path / "gold.jsonl"
    path.write_text("[" * 100_000 + "\n", encoding="utf-8")
    with pytest.raises(GoldError, match=r"gold.jsonl:1: not JSON: nested too deeply"):
        evaluate(path, Extractor(Taxonomy.from_yaml(TAXONOMY)))


def test_lone_surrogates_in_gold_text_are_reported(extractor: Extractor) -> None:
    # A JSON "\ud83d" escape: text cut in the middle of an emoji pair.
    gold = [
        {
            "id": "s1",
            "text": "We cut tariffs \ud83d here. Cats.",
            "sentences": [
                {"start": 0, "end": 22, "topics": []},
                {"start": 23, "end": 28, "topics": ["trade"]},
            ],
        }
    ]
    report = evaluate(gold, extractor)
    assert "\ufffd" in report.to_table()
    back = type(report).model_validate_json(report.model_dump_json())
    cases = [*back.get().false_positives, *back.get().false_negatives]
    assert any("\ufffd" in case.text for case in cases)


@pytest.mark.parametrize("data", ["", "\n  \n"])
def test_an_empty_gold_file_is_an_error(tmp_path: Path, data: str) -> None:
    path = tmp_path / "gold.jsonl"
    path.write_text(data, encoding="utf-8")
    with pytest.raises(GoldError) as info:
        evaluate(path, Extractor(Taxonomy.from_yaml(TAXONOMY)))
    assert str(info.value) == f"{path}: no gold records (the file is empty or blank)"


def test_gold_may_start_with_a_byte_order_mark(tmp_path: Path) -> None:
    path = tmp_path / "gold.jsonl"
    path.write_text('{"id": "a", "text": "We cut tariffs.", "topics": ["trade"]}\n', "utf-8-sig")
    report = evaluate(path, Extractor(Taxonomy.from_yaml(TAXONOMY)))
    assert report.documents == 1
    assert ": 1 document; taxonomy" in report.to_table()
    assert "mode multi: 1 unit, 1 with a gold topic" in report.to_table()


def test_bad_arguments(extractor: Extractor, tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="modes"):
        evaluate(GOLD, extractor, modes=["single"])
    for score in (-0.1, 1.5):
        with pytest.raises(ValueError, match="min_score must be between 0 and 1"):
            evaluate(GOLD, extractor, min_score=score)
    with pytest.raises(ValueError, match="max_errors must not be negative"):
        evaluate(GOLD, extractor, max_errors=-1)
    with pytest.raises(GoldError, match="cannot read gold file"):
        evaluate(tmp_path / "missing.jsonl", extractor)


WORDS = ["Tariffs.", "Oil.", "Bank.", "Cats.", "Oil and bank.", "Export gas."]
TOPICS = ["trade", "energy", "finance"]


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.sampled_from(WORDS),
            st.sets(st.sampled_from(TOPICS)),
            st.sets(st.sampled_from(TOPICS)),
        ),
        min_size=1,
        max_size=8,
    ),
    st.sampled_from([0.0, 0.5, 0.7]),
)
def test_counts_are_consistent_on_any_gold(
    units: list[tuple[str, set[str], set[str]]], min_score: float
) -> None:
    extractor = toy_extractor()
    gold = doc("g", *[(w, sorted(t), sorted(o - t)) for w, t, o in units])
    report = evaluate([gold], extractor, min_score=min_score)
    for mode in ("multi", "primary"):
        scores = report.get("sentence", mode)  # type: ignore[arg-type]
        for t in scores.topics:
            assert t.true_positives + t.false_negatives == t.support
            assert t.true_positives + t.false_positives == t.predicted
            assert 0 <= t.precision <= 1 and 0 <= t.recall <= 1 and 0 <= t.f1 <= 1
            assert t.support == sum(1 for _, topics, _ in units if t.topic in topics)
        assert scores.n_false_positives == sum(t.false_positives for t in scores.topics)
        assert len(scores.false_positives) == min(20, scores.n_false_positives)
        for point in scores.curve:
            if point.min_score == min_score:
                assert point.micro == scores.micro and point.macro == scores.macro
    primary = report.get("sentence", "primary")
    multi = report.get("sentence", "multi")
    for p, m in zip(primary.topics, multi.topics, strict=True):
        assert p.true_positives <= m.true_positives
        assert p.predicted <= m.predicted


# --- a topic filter -----------------------------------------------------------------------


def test_a_topic_filter_ignores_the_other_topics(extractor: Extractor) -> None:
    report = evaluate(GOLD, extractor, topics=["finance", "energy"])
    assert report.topic_filter == ["finance", "energy"]
    multi = report.get("sentence", "multi")
    # trade labels and predictions are gone: no row, no count, no error case
    assert counts(report, "sentence", "multi") == {"energy": (2, 1, 1, 3), "finance": (1, 0, 0, 1)}
    assert multi.averaged_over == ["energy", "finance"]
    # micro pools tp 3, fp 1, fn 1; macro is the mean of energy's 2/3 and finance's 1
    assert (multi.micro.precision, multi.micro.recall, multi.micro.f1) == (0.75, 0.75, 0.75)
    assert multi.macro.f1 == round((2 / 3 + 1) / 2, 4)
    (fp,) = multi.false_positives
    assert (fp.text, fp.topic, fp.gold) == ("Oil fell.", "energy", [])
    assert [e.topic for e in multi.false_negatives] == ["energy"]
    # units are all scored; positive units are those with a chosen gold topic
    assert (report.levels[0].units, report.levels[0].positive_units) == (7, 4)
    assert report.unknown_topics == []
    assert "topics scored: finance, energy (the others are ignored)" in report.to_table()
    assert evaluate(GOLD, extractor).topic_filter is None


def test_primary_with_a_filter_keeps_the_top_topic_among_the_chosen(
    extractor: Extractor,
) -> None:
    gold = [
        doc("a", ("A bank loan for oil.", ["energy"])),  # finance scores higher, energy is chosen
        doc("b", ("Tariffs on oil.", ["energy"])),  # a tie that trade wins on taxonomy order
    ]
    everything = evaluate(gold, extractor, modes=["primary"])
    assert counts(everything, "sentence", "primary")["energy"] == (0, 0, 2, 2)
    chosen = evaluate(gold, extractor, modes=["primary"], topics=["energy", "trade"])
    assert counts(chosen, "sentence", "primary") == {"trade": (0, 1, 0, 0), "energy": (1, 0, 1, 2)}
    only = evaluate(gold, extractor, modes=["primary"], topics=["energy"])
    energy = only.get("sentence", "primary").topic("energy")
    assert (energy.precision, energy.recall, energy.f1) == (1.0, 1.0, 1.0)


@pytest.mark.parametrize(
    ("topics", "message"),
    [
        (
            ["trade", "health"],
            "'health' is not a topic of taxonomy 'toy'; choose from: trade, energy, finance",
        ),
        (["Trade", "x"], "'Trade', 'x' are not topics of taxonomy 'toy'; choose from: trade"),
        ([], "topics must name at least one topic"),
        ("trade", "topics must be a list of topic ids, e.g. ['trade']"),
    ],
)
def test_a_filter_with_an_unknown_topic_is_an_error(
    extractor: Extractor, topics: Any, message: str
) -> None:
    with pytest.raises(ValueError) as info:
        evaluate(GOLD, extractor, topics=topics)
    assert message in str(info.value)


# --- another tool's predictions -----------------------------------------------------------

# 0-13 "Tariffs rose.", 14-23 "Oil fell.", 24-37 "Banks closed.", 38-49 "Cats sleep."
SPAN_GOLD = [
    doc(
        "e",
        ("Tariffs rose.", ["trade"]),
        ("Oil fell.", ["energy"]),
        ("Banks closed.", []),
        ("Cats sleep.", ["finance"]),
    )
]
SPANS = {
    "id": "e",
    "sentences": [
        {"start": 0, "end": 7, "topics": ["trade"], "scores": {"trade": 0.9}},
        {
            "start": 14,
            "end": 17,
            "topics": ["energy", "finance"],
            "scores": {"energy": 0.4, "finance": 0.6},
        },
        # straddles the boundary: counts for the unit holding its start
        {"start": 20, "end": 30, "topics": ["trade"], "scores": {"trade": 0.2}},
        {"start": 24, "end": 29, "topics": ["finance"], "scores": {"finance": 0.8}},
    ],
}


def test_sentence_level_predictions_are_scored_by_hand(tmp_path: Path) -> None:
    path = tmp_path / "pred.jsonl"
    path.write_text(json.dumps(SPANS) + "\n", encoding="utf-8")
    report = evaluate(SPAN_GOLD, predictions=path)
    assert (report.predictions, report.gold) == ("pred.jsonl", "<records>")
    # topics in the default taxonomy's order; only those in gold or predictions
    assert counts(report, "sentence", "multi") == {
        "trade": (1, 1, 0, 1),
        "energy": (1, 0, 0, 1),
        "finance": (0, 2, 1, 1),
    }
    multi = report.get("sentence", "multi")
    trade = multi.topic("trade")
    assert (trade.precision, trade.recall, trade.f1) == (0.5, 1.0, round(2 / 3, 4))
    # micro: tp 2, fp 3, fn 1
    assert (multi.micro.precision, multi.micro.recall, multi.micro.f1) == (0.4, 0.6667, 0.5)
    assert multi.macro.f1 == round((2 / 3 + 1 + 0) / 3, 4)
    # primary: finance (0.6) beats energy (0.4) and trade (0.2) in the second unit
    assert counts(report, "sentence", "primary") == {
        "trade": (1, 0, 0, 1),
        "energy": (0, 0, 1, 1),
        "finance": (0, 2, 1, 1),
    }
    assert [p.min_score for p in multi.curve] == [0.0, 0.2, 0.4, 0.6, 0.8, 0.9]
    at_half = evaluate(SPAN_GOLD, predictions=path, min_score=0.5, modes=["multi"])
    assert counts(at_half, "sentence", "multi") == {
        "trade": (1, 0, 0, 1),
        "energy": (0, 0, 1, 1),
        "finance": (0, 2, 1, 1),
    }
    (miss,) = at_half.get("sentence", "multi").false_negatives[:1]
    assert (miss.topic, miss.text, miss.scores, miss.terms) == (
        "energy",
        "Oil fell.",
        {"energy": 0.4, "finance": 0.6, "trade": 0.2},
        {},
    )


def test_predictions_with_a_topic_filter() -> None:
    report = evaluate(SPAN_GOLD, predictions=[SPANS], topics=["energy", "trade"])
    # finance (0.6) is ignored: energy (0.4) now beats trade (0.2) in the second unit
    assert counts(report, "sentence", "primary") == {"trade": (1, 0, 0, 1), "energy": (1, 0, 0, 1)}
    assert counts(report, "sentence", "multi") == {"trade": (1, 1, 0, 1), "energy": (1, 0, 0, 1)}
    with pytest.raises(UnknownTopicError) as info:  # a ValueError, and the library's own
        evaluate(SPAN_GOLD, predictions=[SPANS], topics=["digital"])
    assert str(info.value) == (
        "'digital' is not a topic of the gold or the predictions; "
        "choose from: energy, finance, trade"
    )


DOC_GOLD = [
    {"id": "a", "text": "Oil and tariffs.", "topics": ["energy"]},
    {"id": "b", "text": "Tariffs and banks.", "topics": ["trade", "finance"]},
    {"id": "c", "text": "Cats.", "topics": []},
]


def test_document_level_predictions(tmp_path: Path) -> None:
    lines = [
        {"id": "a", "topics": ["trade", "energy"], "scores": {"energy": 0.7, "trade": 0.3}},
        {"id": "b", "topics": ["trade"]},  # one topic: no scores needed, even in primary mode
        {"id": "z", "topics": ["digital"]},  # not in the gold
    ]
    path = tmp_path / "pred.jsonl"
    path.write_text("".join(json.dumps(line) + "\n" for line in lines), encoding="utf-8")
    report = evaluate(DOC_GOLD, predictions=path)
    assert [lvl.level for lvl in report.levels] == ["document"]
    assert counts(report, "document", "multi") == {
        "trade": (1, 1, 0, 1),
        "energy": (1, 0, 0, 1),
        "finance": (0, 0, 1, 1),
    }
    assert counts(report, "document", "primary") == {
        "trade": (1, 0, 0, 1),
        "energy": (1, 0, 0, 1),
        "finance": (0, 0, 1, 1),
    }
    multi = report.get("document", "multi")
    assert (multi.micro.precision, multi.micro.recall) == (round(2 / 3, 4), round(2 / 3, 4))
    (fp,) = multi.false_positives
    assert (fp.doc_id, fp.topic, fp.text) == ("a", "trade", "Oil and tariffs.")
    assert report.missing_predictions == ["c"]
    assert report.unmatched_predictions == ["z"]
    table = report.to_table()
    assert "gold documents without predictions (predict nothing): 1: c" in table
    assert "predictions not in the gold (not scored): 1: z" in table


def test_predicted_topics_nothing_else_names_are_reported() -> None:
    # A misspelled topic in another tool's output ("trde") was only a row with no
    # gold support: it counts as a false positive, and now the report names it.
    gold = [
        {"id": "a", "text": "Oil and tariffs.", "topics": ["energy"], "optional": ["finance"]},
        {"id": "b", "text": "Tariffs.", "topics": ["trade"]},
    ]
    lines = [
        {"id": "a", "topics": ["energy", "trde", "finance", "digital"]},
        {"id": "b", "topics": ["trade", "Trade"]},
    ]
    report = evaluate(gold, predictions=lines, modes=["multi"])
    # finance is the gold's (optional), digital the taxonomy's: neither is a stray
    assert report.unknown_predicted_topics == ["Trade", "trde"]
    assert counts(report, "document", "multi")["trde"] == (0, 1, 0, 0)
    assert "(false positives of their own rows, not in the averages): Trade, trde" in (
        report.to_table()
    )
    energy_only = evaluate(gold, predictions=lines, topics=["energy"], modes=["multi"])
    # The others are ignored, but a typo among them is still named: "Trade" may
    # be meant for a topic that is scored.
    assert energy_only.unknown_predicted_topics == ["Trade", "trde"]


def test_document_gold_takes_the_topics_of_predicted_spans() -> None:
    spans = {
        "id": "a",
        "sentences": [
            {"start": 0, "end": 3, "topics": ["energy"], "scores": {"energy": 0.5}},
            {"start": 8, "end": 15, "topics": ["trade"], "scores": {"trade": 0.9}},
        ],
    }
    report = evaluate(DOC_GOLD[:1], predictions=[spans])
    assert counts(report, "document", "multi") == {"trade": (0, 1, 0, 0), "energy": (1, 0, 0, 1)}
    assert counts(report, "document", "primary") == {"trade": (0, 1, 0, 0), "energy": (0, 0, 1, 1)}
    (fp,) = report.get("document", "multi").false_positives
    assert fp.text == "tariffs"  # the predicted span is the evidence


def test_primary_mode_refuses_to_guess_without_scores() -> None:
    unscored = {"id": "e", "sentences": [{"start": 0, "end": 7, "topics": ["trade", "energy"]}]}
    with pytest.raises(PredictionError) as info:
        evaluate(SPAN_GOLD, predictions=[unscored])
    assert str(info.value) == (
        "record 1: primary mode needs scores to choose among trade, energy for sentences[0] "
        "of gold 'e'; give 'scores', or evaluate mode multi only (modes=['multi'], --mode multi)"
    )
    multi = evaluate(SPAN_GOLD, predictions=[unscored], modes=["multi"])
    assert counts(multi, "sentence", "multi")["energy"] == (0, 1, 1, 1)
    # unscored topics count at every threshold
    assert [p.min_score for p in multi.get("sentence", "multi").curve] == [0.0, 1.0]
    assert multi.get("sentence", "multi").curve[-1].micro.precision == 0.5
    # one of the two topics filtered out: nothing to choose between
    only = evaluate(SPAN_GOLD, predictions=[unscored], topics=["trade"])
    assert counts(only, "sentence", "primary") == {"trade": (1, 0, 0, 1)}


def test_our_own_extract_output_scores_as_evaluate_does(
    extractor: Extractor, tmp_path: Path
) -> None:
    from policy_topics.io import write_results  # what `policy-topics extract -f jsonl` writes

    path = tmp_path / "ours.jsonl"
    with path.open("w", encoding="utf-8") as stream:
        records = [{"id": g["id"], "text": g["text"]} for g in GOLD]
        write_results(extractor.extract_many(records), stream, format="jsonl")
    direct = evaluate(GOLD, extractor)
    scored = evaluate(GOLD, extractor, predictions=path)
    assert scored.levels == direct.levels
    assert (scored.predictions, scored.taxonomy) == ("ours.jsonl", "toy")
    assert evaluate(GOLD, extractor, predictions=path, topics=["energy"]).levels == (
        evaluate(GOLD, extractor, topics=["energy"]).levels
    )
    # DocumentResult objects are taken as they are, and document-level gold too
    results = list(extractor.extract_many([{"id": g["id"], "text": g["text"]} for g in DOC_GOLD]))
    assert evaluate(DOC_GOLD, extractor, predictions=results).levels == (
        evaluate(DOC_GOLD, extractor).levels
    )


def same_figures(direct: EvaluationReport, scored: EvaluationReport) -> None:
    """Equal figures; rows of topics that neither gold nor predictions name are left out."""
    assert len(direct.levels) == len(scored.levels)
    for mine, theirs in zip(direct.levels, scored.levels, strict=True):
        assert mine.model_dump(exclude={"modes"}) == theirs.model_dump(exclude={"modes"})
        for a, b in zip(mine.modes, theirs.modes, strict=True):
            assert a.model_dump(exclude={"topics"}) == b.model_dump(exclude={"topics"})
            kept = {t.topic for t in b.topics}
            assert [t for t in a.topics if t.topic in kept] == b.topics
            assert all(t.support == t.predicted == 0 for t in a.topics if t.topic not in kept)


def test_our_own_output_on_real_gold_scores_as_evaluate_does(corpora: Path) -> None:
    from itertools import islice

    gold = list(islice(read_gold(corpora / "cap-sotu-dev.jsonl"), 3))
    extractor = Extractor(max_quotes=5)  # extract's default: quotes do not matter here
    results = [json.loads(r.model_dump_json()) for r in extractor.extract_many(gold)]
    direct = evaluate(gold, Extractor(max_quotes=None))
    scored = evaluate(gold, extractor, predictions=results)
    same_figures(direct, scored)
    assert sum(t.predicted for t in direct.get("sentence", "primary").topics) > 10


@pytest.mark.parametrize(
    ("lines", "message"),
    [
        (["not json"], "pred.jsonl:1: not JSON"),
        (['["e"]'], "pred.jsonl:1: expected a JSON object, got list"),
        (['{"sentences": []}'], "pred.jsonl:1: 'id' is missing: give the gold document's id"),
        (['{"id": "e"}'], "pred.jsonl:1: give 'sentences' (spans with topics) or 'topics'"),
        (['{"id": "e", "topic": ["trade"]}'], "pred.jsonl:1: unknown field 'topic'"),
        (
            ['{"id": "e", "sentences": [{"start": 5, "end": 2, "topics": []}]}'],
            "pred.jsonl:1 sentences[0]: start/end must be integers with 0 <= start < end, got 5/2",
        ),
        (
            ['{"id": "e", "sentences": [{"start": 0, "end": 99, "topics": []}]}'],
            "pred.jsonl:1 sentences[0]: end 99 is past the end of gold 'e' (49 characters)",
        ),
        (
            ['{"id": "e", "sentences": [{"start": 0, "end": 2}]}'],
            "pred.jsonl:1 sentences[0]: 'topics' is missing",
        ),
        (
            ['{"id": "e", "sentences": [{"start": 0, "end": 2, "topics": "trade"}]}'],
            "pred.jsonl:1 sentences[0]: topics must be a list of topic ids",
        ),
        (
            ['{"id": "e", "topics": ["trade"], "scores": {"trade": 1.5}}'],
            "pred.jsonl:1: scores['trade'] must be a number between 0 and 1, got 1.5",
        ),
        (
            ['{"id": "e", "topics": ["trade"], "scores": {"trade": 0.5, "energy": 0.1}}'],
            "pred.jsonl:1: scores has 'energy', which is not in topics",
        ),
        (
            ['{"id": "e", "topics": ["trade", "energy"], "scores": {"trade": 0.5}}'],
            "pred.jsonl:1: scores gives no score for 'energy'",
        ),
        (
            ['{"id": "e", "topics": []}', '{"id": "e", "topics": []}'],
            "pred.jsonl:2: id 'e' again (first on pred.jsonl:1); give each document one line",
        ),
        (
            ['{"id": "e", "topics": ["trade"]}'],
            "pred.jsonl:1: gold 'e' is labelled by sentence, but this line gives only document "
            "'topics'",
        ),
        (
            ['{"doc_id": "e", "taxonomy": "toy"}'],
            "pred.jsonl:1 taxonomy_version: Field required (and 4 more) (read as policy-topics "
            "extract output",
        ),
        ([""], "pred.jsonl: no predictions records (the file is empty or blank)"),
        # extract -f json writes an array, one record a line: "not JSON" read as nonsense
        (
            ["[", '{"id": "e", "topics": []}', "]"],
            "pred.jsonl:1: not JSON Lines: the file holds a JSON array; write one JSON object "
            "per line (policy-topics extract -f jsonl, or jq -c '.[]')",
        ),
    ],
)
def test_malformed_predictions_name_the_line_and_field(
    tmp_path: Path, lines: list[str], message: str
) -> None:
    path = tmp_path / "pred.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    with pytest.raises(PredictionError) as info:
        evaluate(SPAN_GOLD, predictions=path)
    assert str(info.value).startswith(message.replace("pred.jsonl", str(path)))


def test_our_own_records_must_fit_the_gold(extractor: Extractor) -> None:
    other_text = extractor.extract("Tariffs rose, much.", doc_id="e")
    with pytest.raises(PredictionError) as info:
        evaluate(SPAN_GOLD, extractor, predictions=[other_text])
    assert str(info.value) == (
        "record 1: n_chars is 19, but gold 'e' has 49 characters: extract the gold's own texts"
    )
    failed = other_text.model_copy(update={"error": ErrorInfo(type="ReadError", message="gone")})
    with pytest.raises(PredictionError) as info:
        evaluate(SPAN_GOLD, extractor, predictions=[failed])
    assert str(info.value) == (
        "record 1: document 'e' failed in extraction (ReadError: gone); "
        "extract it again or drop the line"
    )
    nameless = extractor.extract(SPAN_GOLD[0]["text"])
    with pytest.raises(PredictionError, match="record 1: doc_id is null"):
        evaluate(SPAN_GOLD, extractor, predictions=[nameless])


def test_gold_ids_must_be_unique_to_join_predictions() -> None:
    twice = [DOC_GOLD[0], DOC_GOLD[0]]
    with pytest.raises(GoldError, match=r"record 2: id 'a' again \(first on record 1\)"):
        evaluate(twice, predictions=[{"id": "a", "topics": []}])
    assert evaluate(twice).documents == 2  # without predictions, as before


def test_float_ids_as_pandas_writes_them_join_across_gold_extract_and_predictions(
    extractor: Extractor, tmp_path: Path
) -> None:
    # df.to_json(lines=True) writes an integer column with a gap as 2.0: every
    # reader names that document "2", as extract_many does.
    from policy_topics.io import read_documents, write_results

    gold = tmp_path / "gold.jsonl"
    lines = [{**g, "id": float(i)} for i, g in enumerate(GOLD, 1)]
    gold.write_text("".join(json.dumps(g) + "\n" for g in lines), encoding="utf-8")
    docs = list(read_documents(gold))
    assert [d["id"] for d in docs] == [str(i) for i in range(1, len(GOLD) + 1)]
    ours = tmp_path / "ours.jsonl"
    with ours.open("w", encoding="utf-8") as stream:
        write_results(extractor.extract_many(docs), stream, format="jsonl")
    scored = evaluate(gold, extractor, predictions=ours)
    assert (scored.missing_predictions, scored.unmatched_predictions) == ([], [])
    assert scored.levels == evaluate(gold, extractor).levels
    spans = [{"id": 1.0, "sentences": []}]
    spans += [{"id": i, "sentences": []} for i in range(2, len(GOLD) + 1)]
    assert evaluate(gold, extractor, predictions=spans).missing_predictions == []
    for missing in (float("nan"), None):
        with pytest.raises(PredictionError, match=r"'id' is missing: give the gold document's id"):
            evaluate(gold, extractor, predictions=[{"id": missing, "sentences": []}])
    nan_line = tmp_path / "nan.jsonl"
    nan_line.write_text('{"id": NaN, "sentences": []}\n', encoding="utf-8")
    with pytest.raises(PredictionError, match=r"nan.jsonl:1: 'id' is missing"):
        evaluate(gold, extractor, predictions=nan_line)


@pytest.mark.parametrize("bad", [True, [1], {"a": 1}])
def test_a_gold_id_that_is_no_string_or_number_is_refused(bad: Any) -> None:
    # It became the document "True", which no reader or prediction names so.
    with pytest.raises(GoldError, match=r"record 1: 'id' must be a string or a number, got "):
        list(read_gold([{"id": bad, "text": "x", "topics": []}]))


def test_predictions_are_ordered_by_the_taxonomy_they_were_tagged_with(
    extractor: Extractor,
) -> None:
    # Scored against the default taxonomy's order, records tagged with another
    # broke ties in mode primary the other way, and its topics looked like typos.
    results = list(extractor.extract_many([{"id": g["id"], "text": g["text"]} for g in GOLD]))
    assert {r.taxonomy for r in results} == {"toy"}
    with pytest.raises(PredictionError, match=r"tagged with taxonomy 'toy' .* by taxonomy 'def"):
        evaluate(GOLD, predictions=results)
    assert evaluate(GOLD, extractor, predictions=results).levels == evaluate(GOLD, extractor).levels
    # Records of a packaged taxonomy are ordered by it without being told.
    packaged = Extractor("cooperation-extended")
    tagged = list(packaged.extract_many([{"id": g["id"], "text": g["text"]} for g in GOLD]))
    report = evaluate(GOLD, predictions=tagged)
    assert report.taxonomy == "cooperation-extended"


def test_gold_typos_are_named_with_predictions_and_with_a_topic_filter() -> None:
    # With predictions, or --topic, a gold label the taxonomy lacks went unnamed.
    gold = [
        {"id": "a", "text": "We cut tariffs.", "topics": ["Trade"]},
        {"id": "b", "text": "Oil prices rose.", "topics": ["energy", "climate"]},
    ]
    lines = [{"id": "a", "topics": ["trade"]}, {"id": "b", "topics": ["energy", "climate"]}]
    # "climate" is predicted too: another tool's own topic, not a typo.
    assert evaluate(gold, predictions=lines, modes=["multi"]).unknown_topics == ["Trade"]
    assert evaluate(gold, topics=["trade"]).unknown_topics == ["Trade", "climate"]


def test_gold_without_ids_joins_extract_output_of_a_path_elsewhere(
    extractor: Extractor, tmp_path: Path
) -> None:
    # Gold records without an id are named 'gold.jsonl:LINE'; `policy-topics extract
    # data/gold.jsonl` names them 'data/gold.jsonl:LINE': the same documents.
    from policy_topics.io import read_documents, write_results

    folder = tmp_path / "data"
    folder.mkdir()
    gold = folder / "gold.jsonl"
    lines = [{k: v for k, v in g.items() if k != "id"} for g in GOLD]
    # pandas writes a missing id as null: no id either (it was joined by nothing).
    lines[0]["id"] = None
    gold.write_text("".join(json.dumps(g) + "\n" for g in lines), encoding="utf-8")
    ours = tmp_path / "ours.jsonl"
    with ours.open("w", encoding="utf-8") as stream:
        write_results(extractor.extract_many(read_documents(gold)), stream, format="jsonl")
    scored = evaluate(gold, extractor, predictions=ours)
    assert (scored.missing_predictions, scored.unmatched_predictions) == ([], [])
    assert scored.levels == evaluate(gold, extractor).levels
    # a gold id of its own is matched as it is, never by its line
    named = folder / "named.jsonl"
    named.write_text(json.dumps({**lines[0], "id": "x"}) + "\n", encoding="utf-8")
    other = [{"id": f"{folder / 'named.jsonl'}:1", "sentences": []}]
    report = evaluate(named, extractor, predictions=other)
    assert report.missing_predictions == ["x"]
    assert report.unmatched_predictions == [other[0]["id"]]
