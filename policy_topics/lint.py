"""Lint a valid taxonomy: terms that collide, are vetoed, can never match, or are regexes.

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

import re
from collections import defaultdict
from dataclasses import dataclass
from typing import Any

import spacy
from spacy.language import Language

from policy_topics.taxonomy import Taxonomy, TermSpec, Topic
from policy_topics.terms import _CASE, _KEY, _PREFIX, Lexicon, _hyphen_variants, inflection_key

__all__ = ["Finding", "lint_taxonomy"]

# Token attributes a blank pipeline never sets: patterns on them match nothing
# without a trained pipeline.
_MODEL_ATTRS = frozenset(["POS", "TAG", "MORPH", "DEP", "LEMMA", "ENT_TYPE"])

# Regular-expression syntax that words and names do not hold: an alternation;
# ".*", ".+" or ".?"; a class of letters after a letter ("Emission[en]") or a
# range ("[A-Z]"); a class escape or an escaped metacharacter; a quantifier
# after a group, or "?" after a letter ("(schutz)?", "colou?r", "grids?",
# "{0,10}"); an inline flag; "^" or "$" at an end; "(s)" after a word. Names
# and citations have none of it: "Regulation (EU) 2019/452", "Article 5[1]",
# "U.S.", "U.S.*" (a wildcard), "Erasmus+", "C++", "manufactur*".
_REGEX_SYNTAX = re.compile(
    r"\||\.[*+?]|(?<=[^\W\d_])\[[^\W\d_]+\]|\[[^\W\d_]{2,}\](?=[^\W\d_])|\[\w-\w\]"
    r"|\\[bBdDwWsS.()\[\]|*+?{}]"
    r"|\)[*+?{]|(?<=[^\W\d_])\?|(?<=[\w.)\]])\{\d*,?\d*\}|\(\?|^\^|(?<=[a-z)])\$$|(?<=\w)\(s\)"
)
# A word with an inflection written as an optional regular expression suffix:
# "tariff(s)", "customs?", "export(s|ed)".
_INFLECTION_SUFFIX = re.compile(
    r"^(.*[^\W\d_])(?:\((?:e?s|e?d|ing)(?:\|(?:e?s|e?d|ing))*\)\??|e?s\?)$"
)
# A wildcard after an abbreviation ("U.S.*"): a prefix, as "manufactur*" is.
_ABBREVIATION_WILDCARD = re.compile(r"(?:^|\s)(?:[^\W\d_]\.)+\*$")


@dataclass(frozen=True)
class Finding:
    """One lint finding.

    Attributes:
        kind: ``"duplicate"``, ``"shadowed"``, ``"never-matches"``,
            ``"matches-everything"``, ``"regex"`` or ``"joined-items"``.
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
    words: tuple[str, ...]  # the term's words as written, lower-cased


def lint_taxonomy(taxonomy: Taxonomy, nlp: Language | None = None) -> list[Finding]:
    """Find terms that collide, are vetoed, never match, match anything or are regexes.

    - **duplicate**: the same term (after inflection and case folding) in two
      topics, so every match counts for both; or twice in one topic, where the
      matcher keeps only one of them (the deeper sub-topic, then the higher
      weight), so the other is never reported.
      A term that a prefix wildcard (``tariffs`` beside ``tariff*``) or a
      term without capitals (``Tariffs`` beside ``tariff``) always matches too
      is reported the same way when the matcher keeps the other term of the
      same topic; in another topic, every match counts for both.
    - **shadowed**: an exclusion of the term's topic (at its node or above)
      occurs inside the term itself, so every match of the term is vetoed
      (an exclusion without capitals vetoes every spelling: ``eu`` vetoes
      ``EU deal``).
    - **never-matches**: a token pattern that needs a trained pipeline
      (``POS``, ``LEMMA``, ...), or that asks for lower-case text in capitals
      or for a token holding a space, which no token has; a topic or
      sub-topic with no term at or below it.
    - **matches-everything**: a token pattern none of whose required tokens
      tests anything (``[{}]``, ``[{OP: "*"}]``), so it tags every sentence.
    - **regex**: a term, exclusion, context term (``near``) or cue written as
      a regular expression (``Klima(schutz|wandel)``, ``Energie.*``,
      ``Emission[en]``, ``colou?r``, ``\\bEU\\b``): it is matched literally,
      so it finds that very text and not the words it describes.
    - **joined-items**: a term, exclusion, context term or cue holding
      `` - ``: most often two list items YAML read as one, the second
      indented further than the first (``green bond - blue bond``).

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
    order: dict[str, int] = {}  # every path met, in taxonomy order
    for i, cue in enumerate(taxonomy.cues):
        order[f"cues[{i}]"] = len(order)
        findings.extend(_check_regex(cue, f"cues[{i}]", term=False))
    for topic_id, subtopic, node in taxonomy.iter_topics():
        base = f"topics.{topic_id}" + "".join(
            f".subtopics.{part}" for part in (subtopic.split(".") if subtopic else [])
        )
        for path in [
            base,
            *(f"{base}.terms[{i}]" for i in range(len(node.terms))),
            *(f"{base}.exclude[{j}]" for j in range(len(node.exclude))),
        ]:
            order[path] = len(order)
        if not _has_terms(node):
            findings.append(
                Finding(
                    "never-matches",
                    base,
                    f"{'sub-topic' if subtopic else 'topic'} {node.label!r} has no term, "
                    "and no sub-topic below it has one, so it is never found: add terms "
                    "or remove it",
                )
            )
        for i, spec in enumerate(node.terms):
            path = f"{base}.terms[{i}]"
            for j, near in enumerate(spec.near):
                findings.extend(_check_regex(near, f"{path}.near[{j}]", term=False))
            if spec.pattern is not None:
                findings.extend(_check_pattern(spec.pattern, path))
                continue
            # The first spelling: a word with a second key (inflection_keys) adds others.
            # A term typed with ’ or U+2010 is the one typed with ' or '-'.
            typed = _typed(spec.term or "")
            parts = next(iter(lexicon._parts(typed, spec.case_sensitive)), ())
            words = tuple(t.lower_ for t in nlp.make_doc(typed.rstrip("*")) if not t.is_space)
            terms.append(_Term(path, topic_id, subtopic, spec, parts, words))
            findings.extend(_check_regex(spec.term or "", path, term=True))
        for j, phrase in enumerate(node.exclude):
            findings.extend(_check_regex(phrase, f"{base}.exclude[{j}]", term=False))
            excludes.append(
                (topic_id, subtopic, phrase, next(iter(lexicon._parts(_typed(phrase), None)), ()))
            )
    findings.extend(_duplicates(terms))
    findings.extend(_covered_by_wildcards(terms))
    findings.extend(_shadowed(terms, excludes))
    return sorted(findings, key=lambda f: (_rank(f.path, order), f.path, f.kind))


def _rank(path: str, order: dict[str, int]) -> int:
    """The place of ``path``, or of the nearest parent that has one (``terms[2].near[0]``)."""
    while path not in order:
        cut = max(path.rfind("."), path.rfind("["))
        if cut <= 0:
            return -1
        path = path[:cut]
    return order[path]


def _typed(phrase: str) -> str:
    """``phrase`` as typed: ' for ’ and '-' for U+2010 and U+2011, which the matcher reads alike.

    Example:
        >>> _typed("People\u2019s anti\u2010dumping")
        "People's anti-dumping"
    """
    return _hyphen_variants(phrase)[0].replace("\u2019", "'")


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


def _covered_by_wildcards(terms: list[_Term]) -> list[Finding]:
    """Terms that a prefix wildcard, or a term blind to case, matches wherever they match."""
    findings: list[Finding] = []
    wildcards = [t for t in terms if t.parts and t.parts[-1][0] == _PREFIX and not t.spec.near]
    # A term without capitals matches every capitalisation of its words: "tariff"
    # matches all that "Tariffs" (exact, as written with a capital) matches.
    blind = [
        t for t in terms if t.parts and not t.spec.near and all(kind == _KEY for kind, _ in t.parts)
    ]
    for term in terms:
        if not term.parts or term.spec.near or term in wildcards:
            continue
        exact = any(kind == _CASE for kind, _ in term.parts)
        for outer in [*wildcards, *(blind if exact else [])]:
            if len(outer.parts) != len(term.parts) or len(term.words) != len(term.parts):
                continue
            # The wildcard's prefix is compared with the term's word as written:
            # the term also matches other forms of it ('tarif' for 'tariffs').
            if not all(
                _covers(w, t) if w[0] != _PREFIX else word.startswith(w[1])
                for w, t, word in zip(outer.parts, term.parts, term.words, strict=True)
            ):
                continue
            what = (
                f"the wildcard {outer.path} ({outer.spec.name!r})"
                if outer in wildcards
                else f"{outer.path} ({outer.spec.name!r}), which matches every capitalisation,"
            )
            if outer.topic != term.topic:
                findings.append(
                    Finding(
                        "duplicate",
                        term.path,
                        f"{term.spec.name!r} is also matched by {what} in topic "
                        f"{outer.topic!r}: every match counts for both topics",
                    )
                )
            elif min(term, outer, key=_preference) is outer:
                findings.append(
                    Finding(
                        "duplicate",
                        term.path,
                        f"{term.spec.name!r} is also matched by {what} in the same topic; the "
                        "matcher keeps that one, so this term is reported only for forms "
                        "it does not cover: remove it",
                    )
                )
            else:
                continue
            break
    return findings


def _covers(outer: tuple[int, str], inner: tuple[int, str]) -> bool:
    """Whether every token the part ``inner`` matches is matched by the part ``outer``.

    A key (an inflection key of a lower-case word) is the start of every word
    that has it, except that ``y`` stands for the ``ies``/``ied`` of
    ``policies``; capitals-exact parts hold the word itself.
    """
    kind, value = outer
    inner_kind, inner_value = inner
    if kind == _KEY:
        if inner_kind == _KEY:
            return inner_value == value
        return inner_kind == _CASE and inflection_key(inner_value.lower()) == value
    if kind == _CASE:
        return inner_kind == _CASE and inner_value == value
    # A prefix: the inner part's words must all start with it.
    if inner_kind == _PREFIX:
        return inner_value.startswith(value)
    if inner_kind == _CASE:
        return inner_value.lower().startswith(value)
    stem = inner_value[:-1] if inner_value.endswith("y") else inner_value
    return stem.startswith(value)


def _preference(term: _Term) -> tuple[int, float, str]:
    depth = 0 if term.subtopic is None else term.subtopic.count(".") + 1
    return (-depth, -term.spec.weight, term.spec.name)


def _in_scope(scope: str | None, subtopic: str | None) -> bool:
    if scope is None:
        return True
    return subtopic is not None and (subtopic == scope or subtopic.startswith(scope + "."))


def _contains(parts: tuple[Any, ...], inner: tuple[Any, ...]) -> bool:
    """Whether ``inner`` matches wherever some run of ``parts`` does."""
    n = len(inner)
    return n > 0 and any(
        all(_covers(x, t) for x, t in zip(inner, parts[i : i + n], strict=True))
        for i in range(len(parts) - n + 1)
    )


def _tests(token: dict[str, Any]) -> bool:
    """Whether a pattern token tests the token (``{OP: "!"}`` alone matches nothing).

    A test every token passes tests nothing: no token is shorter than one character.

    Example:
        >>> _tests({"LENGTH": {">=": 0}}), _tests({"LENGTH": {">=": 2}})
        (False, True)
    """
    keys = set(token) - {"OP"}
    passed_by_all = all(key == "LENGTH" and _any_length(token[key]) for key in keys)
    return (bool(keys) and not passed_by_all) or token.get("OP") == "!"


def _any_length(test: Any) -> bool:
    """Whether a LENGTH test holds for every length of a token (1 and more)."""
    passes = {">=": lambda n: n <= 1, ">": lambda n: n < 1, "!=": lambda n: n < 1}
    return (
        isinstance(test, dict)
        and bool(test)
        and all(
            op in passes and isinstance(n, int) and not isinstance(n, bool) and passes[op](n)
            for op, n in test.items()
        )
    )


def _only_excludes(token: dict[str, Any]) -> bool:
    """Whether a pattern token says only what a token is not: ``OP: "!"``, or NOT_IN alone."""
    tests = [value for key, value in token.items() if key != "OP"]
    if not tests:
        return False  # {OP: "!"} alone matches no token
    excluding = all(isinstance(v, dict) and set(v) == {"NOT_IN"} for v in tests)
    # Negated, NOT_IN says what the token is.
    return not excluding if token.get("OP") == "!" else excluding


def _has_terms(node: Topic) -> bool:
    return bool(node.terms) or any(_has_terms(sub) for sub in node.subtopics.values())


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


def _regex_syntax(phrase: str) -> str | None:
    """The first piece of ``phrase`` that reads as regular-expression syntax, or None.

    Example:
        >>> _regex_syntax("Klima(schutz|wandel)"), _regex_syntax("Regulation (EU) 2019/452")
        ('|', None)
        >>> _regex_syntax("Erasmus+"), _regex_syntax("U.S.*"), _regex_syntax("stakeholder(s)")
        (None, None, '(s)')
    """
    if _ABBREVIATION_WILDCARD.search(phrase):
        return None
    found = _REGEX_SYNTAX.search(phrase)
    return found.group() if found else None


# Two list items YAML read as one: the second was indented further than the
# first, so its line continued the first's text ("green bond - blue bond").
_JOINED_ITEMS = re.compile(r"\S \- \S")


def _check_joined(phrase: str, path: str) -> list[Finding]:
    if _JOINED_ITEMS.search(phrase) is None:
        return []
    return [
        Finding(
            "joined-items",
            path,
            f"{phrase!r} holds ' - ': a list item indented further than the one above it "
            "is read as more of that item's text; indent each '- ' alike (if the dash "
            "belongs to the phrase, write it without spaces, as a hyphen matches a dash "
            "with spaces too)",
        )
    ]


def _check_regex(phrase: str, path: str, *, term: bool) -> list[Finding]:
    findings = _check_joined(phrase, path)
    piece = _regex_syntax(phrase)
    if piece is None:
        return findings
    # Validation allows '*' (a prefix wildcard) and token patterns only in terms.
    suffix = _INFLECTION_SUFFIX.match(phrase)
    fix = (
        f"write {suffix.group(1)!r} alone, as a term finds its inflections (plural, -ed, "
        "-ing) already"
        if suffix
        else "list each spelling as a term of its own, end a word with '*' for a prefix "
        "wildcard (as in manufactur*), or write a token pattern with an IN list of the "
        "spellings ({LOWER: {IN: [...]}}; REGEX is not allowed in patterns)"
        if term
        else "list each spelling on its own"
    )
    return [
        *findings,
        Finding(
            "regex",
            path,
            f"{phrase!r} looks like a regular expression ({piece!r}), but terms are matched "
            f"literally, so it does not find the words it describes: {fix}",
        ),
    ]


def _check_pattern(pattern: list[dict[str, Any]], path: str) -> list[Finding]:
    findings: list[Finding] = []
    required = [token for token in pattern if token.get("OP") not in ("?", "*")]
    # With required tokens, one that tests something is enough; without, any
    # optional token that tests nothing can match a token on its own.
    if (not any(map(_tests, required))) if required else (not all(map(_tests, pattern))):
        findings.append(
            Finding(
                "matches-everything",
                path,
                "no required token of this pattern tests anything (each is {}, only an "
                "OP, or a LENGTH every token has), so it matches any token and tags every "
                "sentence: give a token LOWER, ORTH or another attribute",
            )
        )
    elif required and all(_only_excludes(t) or not _tests(t) for t in required):
        findings.append(
            Finding(
                "matches-everything",
                path,
                "each required token of this pattern says only what a token is not (OP '!', "
                "or NOT_IN), so it matches nearly any token and tags nearly every sentence: "
                "give a token LOWER, ORTH or an IN list of what it is",
            )
        )
    for i, token in enumerate(pattern):
        where = f"{path}.pattern[{i}]"
        if token == {"OP": "!"}:
            findings.append(
                Finding(
                    "never-matches",
                    where,
                    "{OP: '!'} negates a token that tests nothing, so it matches no token "
                    "and neither does the pattern: give it what the token must not be",
                )
            )
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
            if isinstance(value, dict) and value.get("IN") == []:
                findings.append(
                    Finding(
                        "never-matches", where, f"{attr} has an empty IN list: no token is in it"
                    )
                )
            elif attr in ("LOWER", "ORTH", "TEXT", "NORM") and value == "":
                findings.append(
                    Finding("never-matches", where, f"{attr} is empty; a token never is")
                )
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
