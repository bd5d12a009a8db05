"""plot_topics: the share of sentences per topic, as bars or a heatmap that scales."""

from __future__ import annotations

import sys
from itertools import combinations
from pathlib import Path

import pytest

from policy_topics import DocumentResult, Extractor
from policy_topics.display import topic_color
from policy_topics.plot import plot_topics, topic_shares

matplotlib = pytest.importorskip("matplotlib", reason='needs the "plot" extra (matplotlib)')
matplotlib.use("Agg")
from matplotlib.backends.backend_agg import FigureCanvasAgg  # noqa: E402

SENTENCES = [
    "Both sides will cut tariffs on steel.",
    "Solar and wind power will grow.",
    "The parties will cooperate on 5G networks and data flows.",
    "A development bank will provide concessional loans.",
    "Automotive manufacturing plants will be built.",
    "The weather was mild this year.",
]


def corpus(n: int) -> list[DocumentResult]:
    """n documents mixing the sentences above differently, so shares vary."""
    docs = []
    for i in range(n):
        picked = [s for j, s in enumerate(SENTENCES) if (i >> j) & 1 or j == 5]
        docs.append({"id": f"document-{i:04d}", "text": " ".join(picked)})
    return list(Extractor().extract_many(docs))


@pytest.fixture(scope="module")
def few() -> list[DocumentResult]:
    return corpus(4)


def test_shares_are_tagged_sentences_over_all_sentences(few: list[DocumentResult]) -> None:
    shares = topic_shares(few)
    for topic, values in shares.items():
        for result, value in zip(few, values, strict=True):
            tagged = sum(topic in s.topics for s in result.sentences)
            assert value == pytest.approx(tagged / result.n_sentences)
    assert topic_shares(few, ["energy", "finance"]) == {
        "energy": shares.get("energy", [0.0] * 4),
        "finance": [0.0] * 4,
    }


def test_topics_that_are_no_topic_id_are_refused(few: list[DocumentResult]) -> None:
    with pytest.warns(UserWarning, match=r"^topic_shares: 'unknown' is not a topic id of"):
        assert topic_shares(few, ["energy", "unknown"])["unknown"] == [0.0] * len(few)
    with pytest.raises(ValueError, match=r"^plot_topics: 'Energy' \(the label of 'energy'\)"):
        plot_topics(few, topics=["Energy"])
    # No results: nothing to check the ids against, and nothing to show.
    assert topic_shares([], ["trade"]) == {"trade": []}


def test_plot_topics_warns_once_about_an_unknown_id(few: list[DocumentResult]) -> None:
    with pytest.warns(UserWarning) as caught:
        plot_topics(few, topics=["energy", "trde"])
    # One warning, and it points at this file, not at the plotting module.
    assert [(w.filename, str(w.message)[:35]) for w in caught] == [
        (__file__, "plot_topics: 'trde' (did you mean '")
    ]


def test_bar(few: list[DocumentResult]) -> None:
    fig = plot_topics(few, "bar", title="four documents")
    ax = fig.axes[0]
    shares = topic_shares(few)
    assert len(ax.patches) == len(few) * len(shares)
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    labels = {a.topic: a.label for r in few for a in r.areas}
    assert legend == [labels[t] for t in shares]
    colours = {matplotlib.colors.to_hex(p.get_facecolor()) for p in ax.patches}
    assert colours == {topic_color(t) for t in shares}
    heights = sorted(round(p.get_height(), 9) for p in ax.patches)
    assert heights == sorted(round(v, 9) for vs in shares.values() for v in vs)
    assert [t.get_text() for t in ax.get_xticklabels()] == [r.doc_id for r in few]


def test_a_doc_id_holding_a_lone_surrogate_is_drawn(tmp_path: Path) -> None:
    # A file whose name is not UTF-8 has such an id: drawing the figure (saving
    # it, showing it in a notebook) failed in matplotlib's set_text.
    result = Extractor().extract("We cut tariffs.", doc_id="caf\udce9.txt")
    for kind in ("bar", "heatmap"):
        fig = plot_topics([result], kind)  # type: ignore[arg-type]
        fig.savefig(tmp_path / f"{kind}.png")
        labels = fig.axes[0].get_xticklabels() if kind == "bar" else fig.axes[0].get_yticklabels()
        assert [t.get_text() for t in labels] == ["caf\ufffd.txt"]


def test_topics_that_are_no_area_are_named_by_their_labels() -> None:
    # Labels came from the areas alone: a topic tagged below min_score, or
    # asked for and found nowhere, was named by its id.
    extractor = Extractor(min_score=0.9)
    results = [
        extractor.extract("We cut tariffs and trade. Solar grows.", doc_id="a"),
        extractor.extract("Tariffs, trade and customs.", doc_id="b"),
    ]
    assert {a.topic for r in results for a in r.areas} == {"trade"}
    fig = plot_topics(results, "heatmap", topics=["trade", "energy", "digital"])
    assert [t.get_text() for t in fig.axes[0].get_xticklabels()] == ["Trade", "Energy", "Digital"]


def test_a_label_starting_with_an_underscore_is_in_the_legend(tmp_path: Path) -> None:
    # matplotlib leaves such labels out of a legend it gathers itself.
    path = tmp_path / "under.yaml"
    path.write_text(
        "name: under\ntopics:\n  gamma:\n    label: _Gamma (internal)\n"
        "    terms: [tariff]\n  solar:\n    label: Solar\n    terms: [solar]\n",
        encoding="utf-8",
    )
    results = [Extractor(taxonomy=path).extract("Tariffs fell. Solar grew.")]
    legend = plot_topics(results).axes[0].get_legend()
    assert sorted(t.get_text() for t in legend.get_texts()) == ["Solar", "_Gamma (internal)"]


def _overlaps(labels: list[object], renderer: object) -> list[tuple[str, str]]:
    boxes = [(t.get_text(), t.get_window_extent(renderer)) for t in labels]  # type: ignore[attr-defined]
    return [(a, b) for (a, ba), (b, bb) in combinations(boxes, 2) if ba.overlaps(bb)]


@pytest.mark.parametrize("n", [150, 1000])
def test_heatmap_scales_with_readable_labels(n: int) -> None:
    results = corpus(n)
    fig = plot_topics(results, "heatmap")
    ax = fig.axes[0]
    image = ax.get_images()[0]
    assert image.get_array().shape == (n, len(topic_shares(results)))
    assert fig.get_size_inches()[1] <= 30
    canvas = FigureCanvasAgg(fig)  # pyplot closed the figure: give it a canvas to measure
    canvas.draw()
    renderer = canvas.get_renderer()
    rows = [t for t in ax.get_yticklabels() if t.get_text()]
    assert 10 <= len(rows) <= n
    assert _overlaps(rows, renderer) == []
    assert _overlaps(list(ax.get_xticklabels()), renderer) == []
    assert all(t.get_fontsize() >= 7 for t in rows)


def test_heatmap_few_documents_annotates_cells(few: list[DocumentResult]) -> None:
    fig = plot_topics(few, "heatmap")
    ax = fig.axes[0]
    assert [t.get_text() for t in ax.get_yticklabels()] == [r.doc_id for r in few]
    assert len(ax.texts) == len(few) * len(topic_shares(few))


def test_failed_document_is_plotted_as_zero(few: list[DocumentResult]) -> None:
    failed = next(iter(Extractor().extract_many([{"id": "broken"}])))
    assert failed.error is not None
    fig = plot_topics([*few, failed], "heatmap")
    labels = [t.get_text() for t in fig.axes[0].get_yticklabels()]
    assert labels[-1] == "broken (failed)"
    assert list(fig.axes[0].get_images()[0].get_array()[-1]) == [0.0] * len(topic_shares(few))


def test_errors(few: list[DocumentResult]) -> None:
    with pytest.raises(ValueError, match="kind must be"):
        plot_topics(few, "pie")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="no results"):
        plot_topics([])
    with pytest.raises(ValueError, match="no topic to plot: no document has a tagged sentence"):
        plot_topics([Extractor().extract("Nothing here.")])
    # The documents have tagged sentences: the empty list is what is wrong.
    with pytest.raises(ValueError, match="no topic to plot: topics is empty; give at least one"):
        plot_topics(few, topics=[])


def test_missing_matplotlib_names_the_extra(
    few: list[DocumentResult], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "matplotlib.pyplot", None)
    with pytest.raises(ImportError, match=r'pip install "policy-topics\[plot\]"'):
        plot_topics(few)
