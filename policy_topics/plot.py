"""Corpus view: how topics are spread across documents, with matplotlib (extra ``plot``).

The measure is the share of a document's sentences tagged with a topic
(tagged sentences of the topic / ``n_sentences``), so long and short
documents compare.

Example:
    >>> from policy_topics import Extractor
    >>> results = list(Extractor().extract_many(["Tariffs fell. Rain.", "Solar grew."]))
    >>> topic_shares(results)["trade"]
    [0.5, 0.0]
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from typing import Any, Literal

from policy_topics.display import _packaged_taxonomy, check_topics, topic_color
from policy_topics.records import DocumentResult, check_many, checked_results, doc_label
from policy_topics.text import replace_surrogates

__all__ = ["plot_topics", "topic_shares"]

_FONT_PT = 8.0
_LABEL_CHARS = 32


def topic_shares(
    results: Iterable[DocumentResult], topics: Sequence[str] | None = None
) -> dict[str, list[float]]:
    """Share of each document's sentences tagged with each topic.

    Args:
        results: The documents' results.
        topics: Topic ids to report, in this order (None: every topic tagged
            in any document, most widespread first); a valid id that no
            document has gets 0 everywhere.

    Returns:
        A dict from topic id to one share per document, in input order; a
        failed or empty document has 0 everywhere.

    Raises:
        ValueError: A value of ``topics`` is not a topic id (a label such as
            ``"Trade"``, a typo); see :func:`policy_topics.display.check_topics`.

    Example:
        >>> from policy_topics import Extractor
        >>> topic_shares([Extractor().extract("Tariffs fell. Solar grew.")], ["energy"])
        {'energy': [0.5]}
    """
    check_many(results, "topic_shares")
    docs = list(checked_results(results, "topic_shares"))
    if topics is not None:
        topics = check_topics(docs, topics, "topic_shares")
    return _shares(docs, topics)


def _shares(docs: list[DocumentResult], topics: Sequence[str] | None) -> dict[str, list[float]]:
    """:func:`topic_shares` of topics already checked."""
    counts: list[dict[str, int]] = []
    for result in docs:
        count: dict[str, int] = {}
        for tags in result.sentences:
            for topic in tags.topics:
                count[topic] = count.get(topic, 0) + 1
        counts.append(count)
    if topics is None:
        totals: dict[str, float] = {}
        for result, count in zip(docs, counts, strict=True):
            for topic, n in count.items():
                totals[topic] = totals.get(topic, 0.0) + n / max(1, result.n_sentences)
        topics = sorted(totals, key=lambda t: (-totals[t], t))
    return {
        topic: [
            min(1.0, count.get(topic, 0) / r.n_sentences) if r.n_sentences else 0.0
            for r, count in zip(docs, counts, strict=True)
        ]
        for topic in topics
    }


def _doc_labels(results: Sequence[DocumentResult]) -> list[str]:
    labels = []
    for i, result in enumerate(results):
        label = " ".join(doc_label(result, i).split())
        if len(label) > _LABEL_CHARS:
            label = label[: _LABEL_CHARS - 1] + "…"
        labels.append(_literal(label) + (" (failed)" if result.error is not None else ""))
    return labels


def _topic_labels(results: Sequence[DocumentResult], topics: Sequence[str]) -> list[str]:
    """The topics' labels: from the results' areas, else from their packaged taxonomy, else ids.

    A topic tagged in some sentence may be no document's area (below
    ``min_score``), or asked for by ``topics`` and found nowhere.
    """
    names = {a.topic: a.label for r in results for a in r.areas}
    for result in results:
        if all(t in names for t in topics):
            break
        taxonomy = _packaged_taxonomy(result.taxonomy, result.taxonomy_version)
        if taxonomy is not None:
            for t in topics:
                if t not in names and t in taxonomy.topics:
                    names[t] = taxonomy.topics[t].label
    return [_literal(names.get(t, t)) for t in topics]


def _literal(label: str) -> str:
    """A label matplotlib shows as written: ``$`` would start mathematics.

    A lone surrogate (a file name that is not UTF-8, as a doc id) becomes
    U+FFFD, as in every other output: matplotlib cannot draw one.
    """
    return replace_surrogates(label).replace("$", r"\$")


def _thin(n: int, room_pt: float) -> int:
    """Tick step so that labels of ``_FONT_PT`` points never overlap in ``room_pt``."""
    fits = max(1, math.floor(room_pt / (_FONT_PT * 1.5)))
    return max(1, math.ceil(n / fits))


def plot_topics(
    results: Iterable[DocumentResult],
    kind: Literal["bar", "heatmap"] = "bar",
    *,
    topics: Sequence[str] | None = None,
    title: str | None = None,
) -> Any:
    """Plot the share of sentences per topic for each document.

    ``"bar"`` draws a group of bars per document, in the topics' colours, for
    a handful of documents. ``"heatmap"`` draws documents (rows) by topics
    (columns) and stays readable for hundreds of documents: the figure grows
    with the number of documents up to a cap, and row labels are thinned so
    they never overlap.

    The figure is closed in pyplot, so a notebook shows it once, as the
    cell's value; save it with ``fig.savefig(...)``.

    Args:
        results: The documents' results.
        kind: ``"bar"`` or ``"heatmap"``.
        topics: Topic ids to show, in this order (None: every topic found).
        title: Title of the figure.

    Returns:
        The matplotlib ``Figure``.

    Raises:
        ImportError: matplotlib is missing (``pip install "policy-topics[plot]"``).
        ValueError: No results, no topic to show, an unknown ``kind``, or a
            value of ``topics`` that is not a topic id (a label, a typo).

    Example:
        >>> from policy_topics import Extractor
        >>> results = Extractor().extract_many(["Tariffs fell.", "Solar grew."])
        >>> fig = plot_topics(results, kind="heatmap")
        >>> [t.get_text() for t in fig.axes[0].get_xticklabels()]
        ['Energy', 'Trade']
    """
    if kind not in ("bar", "heatmap"):
        raise ValueError(f"kind must be 'bar' or 'heatmap', not {kind!r}")
    try:
        import matplotlib.pyplot as plt
        from matplotlib.ticker import PercentFormatter
    except ImportError as exc:
        raise ImportError(
            'plot_topics needs matplotlib: pip install "policy-topics[plot]"'
        ) from exc
    check_many(results, "plot_topics")
    docs = list(checked_results(results, "plot_topics"))
    if not docs:
        raise ValueError("no results to plot")
    if topics is not None:
        topics = check_topics(docs, topics, "plot_topics")
        if not topics:
            raise ValueError("no topic to plot: topics is empty; give at least one topic id")
    shares = _shares(docs, topics)  # checked once: one warning, pointing at the caller
    if not shares:
        raise ValueError("no topic to plot: no document has a tagged sentence")
    ids = list(shares)
    names = _topic_labels(docs, ids)
    labels = _doc_labels(docs)
    if kind == "heatmap":
        fig = _heatmap(plt, PercentFormatter, shares, ids, names, labels)
    else:
        fig = _bars(plt, PercentFormatter, shares, ids, names, labels)
    if title:
        fig.suptitle(title)
    plt.close(fig)
    return fig


def _heatmap(
    plt: Any,
    percent: Any,
    shares: dict[str, list[float]],
    ids: list[str],
    names: list[str],
    labels: list[str],
) -> Any:
    n = len(labels)
    height = min(30.0, max(3.0, 0.2 * n + 1.6))
    width = max(5.0, 1.0 * len(ids) + 4.0)
    fig, ax = plt.subplots(figsize=(width, height), layout="constrained")
    grid = [[shares[t][i] for t in ids] for i in range(n)]
    top = max(max(row) for row in grid) or 1.0
    image = ax.imshow(grid, aspect="auto", cmap="Blues", vmin=0.0, vmax=top)
    ax.set_xticks(range(len(ids)), names, rotation=30, ha="right", fontsize=9)
    for tick, topic in zip(ax.get_xticklabels(), ids, strict=True):
        tick.set_color(topic_color(topic))
        tick.set_fontweight("bold")
    step = _thin(n, (height - 1.4) * 72)
    rows = list(range(0, n, step))
    ax.set_yticks(rows, [labels[i] for i in rows], fontsize=_FONT_PT)
    if step > 1:
        ax.set_ylabel(f"documents (one label every {step} rows)")
    if n * len(ids) <= 120:
        for i, row in enumerate(grid):
            for j, value in enumerate(row):
                ink = "white" if value > 0.6 * top else "#1f2328"
                ax.text(j, i, f"{value:.0%}", ha="center", va="center", fontsize=8, color=ink)
    bar = fig.colorbar(image, ax=ax, shrink=min(1.0, 6.0 / height) if height > 6 else 1.0)
    bar.ax.yaxis.set_major_formatter(percent(1.0))
    bar.set_label("share of sentences")
    return fig


def _bars(
    plt: Any,
    percent: Any,
    shares: dict[str, list[float]],
    ids: list[str],
    names: list[str],
    labels: list[str],
) -> Any:
    n, k = len(labels), len(ids)
    width = min(24.0, max(6.0, 1.2 + n * (0.22 * k + 0.35)))
    fig, ax = plt.subplots(figsize=(width, 4.2), layout="constrained")
    bar_width = 0.8 / k
    bars = []
    for j, (topic, name) in enumerate(zip(ids, names, strict=True)):
        xs = [i - 0.4 + bar_width * (j + 0.5) for i in range(n)]
        bars.append(ax.bar(xs, shares[topic], bar_width, label=name, color=topic_color(topic)))
    step = _thin(n, (width - 1.5) * 72 / 1.4)
    ticks = list(range(0, n, step))
    rotate = n > 4 or max(len(label) for label in labels) > 14
    ax.set_xticks(
        ticks,
        [labels[i] for i in ticks],
        rotation=45 if rotate else 0,
        ha="right" if rotate else "center",
        fontsize=_FONT_PT,
    )
    ax.yaxis.set_major_formatter(percent(1.0))
    ax.set_ylabel("share of sentences")
    ax.set_ylim(0, max(0.05, max(max(v) for v in shares.values()) * 1.12))
    ax.spines[["top", "right"]].set_visible(False)
    # Given as they are: a label that starts with "_" would be left out of the legend.
    ax.legend(
        bars,
        names,
        ncols=min(k, 5),
        loc="lower left",
        bbox_to_anchor=(0, 1.0),
        fontsize=8,
        frameon=False,
    )
    return fig
