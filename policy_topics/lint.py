"""Lint a valid taxonomy: terms that collide, are vetoed, or can never match.

Validation (:func:`~policy_topics.load_taxonomy`) rejects what cannot work;
linting reports what works but is probably not what the author meant. Terms
are compared the way the matcher compares them (tokenised by the pipeline's
tokenizer, inflections and case folded), so ``tariffs`` and ``tariff`` collide.

Example:
    >>> from policy_topics import Taxonomy
    >>> yaml_text = '''
    ... name: t
    ... topics:
    ...   trade: {label: Trade, terms: [tariffs]}
    ...   finance: {label: Finance, terms: [tariff]}
    ... '''
    >>> [f.kind for f in lint_taxonomy(Taxonomy.from_yaml(yaml_text))]
    ['duplicate']
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from typing import Any

import spacy
from spacy.language import Language

from policy_topics.taxonomy import Taxonomy, TermSpec
from policy_topics.terms import Lexicon

__all__ = ["Finding", "lint_taxonomy"]

# Token attributes a blank pipeline never sets: patterns on them match nothing
# without a trained pipeline.
_MODEL_ATTRS = frozenset(["POS", "TAG", "MORPH", "DEP", "LEMMA", "ENT_TYPE"])


@dataclass(frozen=True)
class Finding:
    """One lint finding.

    Attributes:
        kind: ``"duplicate"``, ``"shadowed"`` or ``"never-matches"``.
        path: Path of the term inside the YAML, e.g. ``topics.trade.terms[2]``.
        message: What is wrong and what to do.
    """

    kind: str
    path: str
    message: str

    def __str__(self) -> str:
        return f"{self.path}: [{self.kind}] {self.message}"


@dataclass(frozen=True)
class _Term:
    path: str
    topic: str
    subtopic: str | None
    spec: TermSpec
    parts: tuple[tuple[int, str], ...]


def lint_taxonomy(taxonomy: Taxonomy, nlp: Language | None = None) -> list[Finding]:
    """Find duplicate terms, terms shadowed by exclusions and terms that can never match.

    - **duplicate**: the same term (after inflection and case folding) in two
      topics, so every match counts for both; or twice in one topic, where the
      matcher keeps only one of them (the deeper sub-topic, then the higher
      weight), so the other is never reported.
    - **shadowed**: an exclusion of the term's topic (at its node or above)
      occurs inside the term itself, so every match of the term is vetoed.
    - **never-matches**: a token pattern that needs a trained pipeline
      (``POS``, ``LEMMA``, ...), or that asks for lower-case text in capitals
      or for a token holding a space, which no token has.

    Args:
        taxonomy: A validated taxonomy.
        nlp: The pipeline whose tokenizer splits the terms (default
            ``spacy.blank(taxonomy.language)``).

    Returns:
        The findings, in taxonomy order.

    Example:
        >>> from policy_topics import Taxonomy
        >>> yaml_text = "name: t\\ntopics: {trade: {label: Trade, terms: [trade union law], "
        >>> yaml_text += "exclude: [trade union]}}"
        >>> [(f.kind, f.path) for f in lint_taxonomy(Taxonomy.from_yaml(yaml_text))]
        [('shadowed', 'topics.trade.terms[0]')]
    """
    nlp = nlp or spacy.blank(taxonomy.language)
    lexicon = Lexicon(taxonomy, nlp.make_doc, nlp.vocab)
    terms: list[_Term] = []
    excludes: list[tuple[str, str | None, str, tuple[tuple[int, str], ...]]] = []
    findings: list[Finding] = []
    for topic_id, subtopic, node in taxonomy.iter_topics():
        base = f"topics.{topic_id}" + "".join(
            f".subtopics.{part}" for part in (subtopic.split(".") if subtopic else [])
        )
        for i, spec in enumerate(node.terms):
            path = f"{base}.terms[{i}]"
            if spec.pattern is not None:
                findings.extend(_check_pattern(spec.pattern, path))
                continue
            parts = lexicon._parts(spec.term or "", spec.case_sensitive)
            terms.append(_Term(path, topic_id, subtopic, spec, parts))
        for phrase in node.exclude:
            excludes.append((topic_id, subtopic, phrase, lexicon._parts(phrase, None)))
    findings.extend(_duplicates(terms))
    findings.extend(_shadowed(terms, excludes))
    order = {t.path: i for i, t in enumerate(terms)}
    return sorted(findings, key=lambda f: (order.get(f.path, -1), f.path, f.kind))


def _duplicates(terms: list[_Term]) -> list[Finding]:
    findings: list[Finding] = []
    by_parts: dict[tuple[tuple[int, str], ...], list[_Term]] = defaultdict(list)
    for term in terms:
        if term.parts and not term.spec.near:
            by_parts[term.parts].append(term)
    for group in by_parts.values():
        if len(group) < 2:
            continue
        first = group[0]
        for other in group[1:]:
            if other.topic != first.topic:
                findings.append(
                    Finding(
                        "duplicate",
                        other.path,
                        f"{other.spec.name!r} is also {first.path} ({first.spec.name!r}) in "
                        f"topic {first.topic!r}: every match counts for both topics",
                    )
                )
        by_topic: dict[str, list[_Term]] = defaultdict(list)
        for term in group:
            by_topic[term.topic].append(term)
        for same in by_topic.values():
            if len(same) < 2:
                continue
            winner = min(same, key=_preference)
            for loser in same:
                if loser is not winner:
                    findings.append(
                        Finding(
                            "duplicate",
                            loser.path,
                            f"{loser.spec.name!r} duplicates {winner.path} "
                            f"({winner.spec.name!r}) in the same topic; the matcher always "
                            "keeps that one, so this term is never reported: remove it",
                        )
                    )
    return findings


def _preference(term: _Term) -> tuple[int, float, str]:
    depth = 0 if term.subtopic is None else term.subtopic.count(".") + 1
    return (-depth, -term.spec.weight, term.spec.name)


def _in_scope(scope: str | None, subtopic: str | None) -> bool:
    if scope is None:
        return True
    return subtopic is not None and (subtopic == scope or subtopic.startswith(scope + "."))


def _contains(parts: tuple[Any, ...], inner: tuple[Any, ...]) -> bool:
    n = len(inner)
    return n > 0 and any(parts[i : i + n] == inner for i in range(len(parts) - n + 1))


def _shadowed(
    terms: list[_Term], excludes: list[tuple[str, str | None, str, tuple[tuple[int, str], ...]]]
) -> list[Finding]:
    findings: list[Finding] = []
    for term in terms:
        for topic, scope, phrase, parts in excludes:
            if (
                topic == term.topic
                and _in_scope(scope, term.subtopic)
                and _contains(term.parts, parts)
            ):
                where = f"topics.{topic}" + (f" (sub-topic {scope})" if scope else "")
                findings.append(
                    Finding(
                        "shadowed",
                        term.path,
                        f"{term.spec.name!r} contains the exclusion {phrase!r} of {where}, "
                        "so every match is vetoed: remove the term or the exclusion",
                    )
                )
                break
    return findings


def _check_pattern(pattern: list[dict[str, Any]], path: str) -> list[Finding]:
    findings: list[Finding] = []
    for i, token in enumerate(pattern):
        where = f"{path}.pattern[{i}]"
        needs_model = sorted(_MODEL_ATTRS & set(token))
        if needs_model:
            findings.append(
                Finding(
                    "never-matches",
                    where,
                    f"uses {', '.join(needs_model)}, which a blank pipeline never sets: "
                    "it matches only with a trained spaCy pipeline (Extractor(model=...))",
                )
            )
        for attr, value in token.items():
            values = value.get("IN", []) if isinstance(value, dict) else [value]
            for v in values if isinstance(values, list) else []:
                if not isinstance(v, str):
                    continue
                if attr == "LOWER" and v != v.lower():
                    findings.append(
                        Finding(
                            "never-matches",
                            where,
                            f"LOWER {v!r} has capitals; lower-case text never equals it",
                        )
                    )
                elif attr in ("LOWER", "ORTH", "TEXT", "NORM") and any(c.isspace() for c in v):
                    findings.append(
                        Finding(
                            "never-matches",
                            where,
                            f"{attr} {v!r} holds a space; a token never does: use one "
                            "dict per word",
                        )
                    )
    return findings
