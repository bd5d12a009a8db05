"""Taxonomies: YAML in, validated Pydantic models out, and back to YAML.

A taxonomy is data written by people, often by colleagues, sometimes hostile.
So it is read with ``yaml.safe_load`` semantics only (no tags that build
objects), duplicate keys and alias bombs are refused, and every problem is
collected and reported with file, line and path before anything is raised.

Example:
    >>> from policy_topics import load_taxonomy
    >>> taxonomy = load_taxonomy("default")
    >>> sorted(taxonomy.topics)[:2]
    ['digital', 'energy']
"""

from __future__ import annotations

import difflib
import functools
import math
import os
import re
from collections.abc import Iterator, Mapping
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, ValidationError, field_validator

from policy_topics._gc import collector_paused
from policy_topics.errors import Problem, TaxonomyError
from policy_topics.safe_yaml import (
    MAX_TAXONOMY_BYTES,
    MAX_YAML_DEPTH,
    MAX_YAML_NODES,
    Covering,
    load_yaml,
)
from policy_topics.text import normalize_term

if TYPE_CHECKING:
    from typing_extensions import Self

__all__ = [
    "MAX_TAXONOMY_BYTES",
    "MAX_TERMS",
    "MAX_YAML_DEPTH",
    "MAX_YAML_NODES",
    "Taxonomy",
    "TermSpec",
    "Topic",
    "line_of",
    "load_taxonomy",
    "packaged_taxonomies",
    "taxonomy_lines",
]

#: Most terms (including exclusions, context terms and cues) in one taxonomy.
MAX_TERMS = 100_000

_ID_RE = re.compile(r"^[a-z][a-z0-9_-]{0,63}$")
_SURROGATE_RE = re.compile("[\ud800-\udfff]")
_ALLOWED_PATTERN_KEYS = frozenset(
    [
        "ORTH",
        "TEXT",
        "LOWER",
        "NORM",
        "LENGTH",
        "IS_ALPHA",
        "IS_ASCII",
        "IS_DIGIT",
        "IS_LOWER",
        "IS_UPPER",
        "IS_TITLE",
        "IS_PUNCT",
        "IS_SPACE",
        "IS_STOP",
        "LIKE_NUM",
        "POS",
        "TAG",
        "MORPH",
        "DEP",
        "LEMMA",
        "SHAPE",
        "ENT_TYPE",
        "OP",
    ]
)


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def _term_from_string(value: Any) -> Any:
    return {"term": value} if isinstance(value, str) else value


class TermSpec(_Model):
    """One term of a topic: a phrase, a prefix wildcard or a token pattern.

    In YAML a plain string is shorthand for ``{term: <string>}``.
    """

    term: str | None = Field(
        default=None,
        description="Word or phrase; a trailing '*' makes it a prefix wildcard. A word "
        "written with capitals matches as written.",
    )
    pattern: list[dict[str, Any]] | None = Field(
        default=None,
        description="spaCy Matcher token pattern, for the rare case a phrase is not enough.",
    )
    label: str | None = Field(
        default=None,
        description="Name shown for the matches (defaults to the term, or to the pattern); "
        "terms with one label count as one distinct term.",
    )
    # strict: YAML's true or '0.5' is no weight, 'off' no switch (lax mode took them).
    weight: float = Field(
        default=1.0, gt=0, le=10, strict=True, description="Evidence weight of one match."
    )
    near: list[str] = Field(
        default_factory=list,
        description="Context terms: the match counts only if one of them occurs in the same "
        "sentence (or within `window` tokens).",
    )
    window: int | None = Field(
        default=None,
        ge=1,
        le=1000,
        strict=True,
        description="Token distance for `near`; None = same sentence.",
    )
    case_sensitive: bool | None = Field(
        default=None, strict=True, description="Override the capitals rule: true or false."
    )

    @property
    def name(self) -> str:
        """The term as written, or the label of a token pattern."""
        if self.term is not None:
            return self.term
        return self.label or yaml.safe_dump(self.pattern, default_flow_style=True).strip()

    @property
    def shown(self) -> str:
        """The name its matches carry: the label, else :attr:`name`."""
        return self.label or self.name


class Topic(_Model):
    """A cooperation area or one of its sub-topics (the same shape, nested)."""

    label: str = Field(description="Human-readable name.")
    description: str = Field(default="", description="What the topic covers.")
    terms: list[TermSpec] = Field(default_factory=list, description="Terms that signal the topic.")
    exclude: list[str] = Field(
        default_factory=list,
        description="Phrases that veto an overlapping match of this topic and its sub-topics.",
    )
    subtopics: dict[str, Topic] = Field(
        default_factory=dict, description="Sub-topics keyed by id, same shape."
    )

    @field_validator("terms", mode="before")
    @classmethod
    def _strings_are_terms(cls, value: Any) -> Any:
        return [_term_from_string(v) for v in value] if isinstance(value, list) else value


class Taxonomy(_Model):
    """A validated taxonomy of cooperation areas."""

    name: str = Field(description="Taxonomy name, reported with every result.")
    version: str = Field(default="1", description="Taxonomy version, reported with every result.")
    language: str = Field(default="en", description="Language code for the blank spaCy pipeline.")
    description: str = Field(default="", description="What the taxonomy is for.")
    cues: list[str] = Field(
        default_factory=list,
        description="Cooperation cues (cooperation, partnership, memorandum, ...) that raise "
        "the score of a sentence that also carries a topic term.",
    )
    topics: dict[str, Topic] = Field(description="Top-level cooperation areas keyed by stable id.")
    # Whether the checks of a taxonomy file ran on it (from_yaml, load_taxonomy):
    # one built in Python gets them when it is loaded.
    _checked: bool = PrivateAttr(default=False)

    def __eq__(self, other: object) -> bool:
        """Taxonomies of one class with equal fields are equal, checked yet or not."""
        if not isinstance(other, BaseModel):
            return NotImplemented
        return type(self) is type(other) and self.__dict__ == other.__dict__

    def model_copy(self, *, update: Mapping[str, Any] | None = None, deep: bool = False) -> Self:
        """A copy; one with fields changed (``update``) is checked again when loaded."""
        copy = super().model_copy(update=update, deep=deep)
        if update:
            copy._checked = False
        return copy

    @field_validator("version", mode="before")
    @classmethod
    def _version_as_text(cls, value: Any) -> Any:
        if isinstance(value, float):
            # YAML reads 1.10 as the number 1.1: the text written is lost.
            raise ValueError(
                f'write the version in quotes, e.g. version: "{value}"; unquoted, YAML '
                f"reads a number and drops trailing zeros (1.10 becomes 1.1), got {value!r}"
            )
        return str(value) if isinstance(value, int) and not isinstance(value, bool) else value

    @classmethod
    def from_yaml(cls, text: str, *, source: str = "<string>") -> Taxonomy:
        """Parse and validate a taxonomy from YAML text.

        Args:
            text: YAML document.
            source: Name used in error messages (usually the file name).

        Returns:
            The validated taxonomy, with every term NFC-normalised.

        Raises:
            TaxonomyError: listing every problem with ``source:line path``.

        Example:
            >>> yaml_text = "name: t\\ntopics: {trade: {label: Trade, terms: [tariff]}}"
            >>> Taxonomy.from_yaml(yaml_text).name
            't'
        """
        kept: list[Problem] = []  # duplicate keys, dates...: reported with every other problem
        with collector_paused():
            data, lines = load_yaml(text, source, kept=kept)
            return _validate(data, lines, source, kept)

    def to_yaml(self) -> str:
        """Serialise to YAML that :meth:`from_yaml` reads back to an equal taxonomy."""
        return yaml.dump(
            _to_plain(self.model_dump(exclude_defaults=True)),
            Dumper=_Dumper,
            sort_keys=False,
            allow_unicode=True,
            width=100,
        )

    def iter_topics(self) -> Iterator[tuple[str, str | None, Topic]]:
        """Yield ``(topic_id, subtopic_path, topic)`` for every node, depth first.

        ``subtopic_path`` is None for a top-level topic and a dotted path of
        sub-topic ids below it (``"tariffs"``, ``"tariffs.antidumping"``).
        """
        for topic_id, topic in self.topics.items():
            yield topic_id, None, topic
            yield from _iter_subtopics(topic_id, None, topic)

    def label_of(self, topic_id: str, subtopic: str | None = None) -> str:
        """Label of a topic or of one of its sub-topics."""
        node = self.topics[topic_id]
        for part in subtopic.split(".") if subtopic else []:
            node = node.subtopics[part]
        return node.label


class _Dumper(yaml.SafeDumper):
    """PyYAML's safe dumper, writing a string that holds U+0085 in double quotes.

    U+0085 (NEXT LINE, met in cp1252 text read as Latin-1) is a line break to
    YAML: in the single quotes PyYAML picks for it, it reads back as a space.
    Double quotes write it as the escape ``\\N``.
    """

    def choose_scalar_style(self) -> str:
        event = self.event
        if isinstance(event, yaml.ScalarEvent) and "\x85" in event.value:
            return '"'
        style: str = super().choose_scalar_style()
        return style


def _iter_subtopics(
    topic_id: str, prefix: str | None, topic: Topic
) -> Iterator[tuple[str, str | None, Topic]]:
    for sub_id, sub in topic.subtopics.items():
        path = f"{prefix}.{sub_id}" if prefix else sub_id
        yield topic_id, path, sub
        yield from _iter_subtopics(topic_id, path, sub)


def _to_plain(value: Any) -> Any:
    """Shorten ``{term: x}`` back to ``x`` so dumped YAML reads like written YAML."""
    if isinstance(value, dict):
        if set(value) == {"term"} and isinstance(value["term"], str):
            return value["term"]
        return {k: _to_plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_to_plain(v) for v in value]
    return value


def packaged_taxonomies() -> dict[str, Path]:
    """Taxonomies shipped with the package, by name (file name without ``.yaml``).

    Example:
        >>> "default" in packaged_taxonomies()
        True
    """
    found: dict[str, Path] = {}
    installed = resources.files("policy_topics") / "taxonomies"
    candidates = [Path(str(installed)), Path(__file__).resolve().parent.parent / "taxonomies"]
    for folder in candidates:
        if folder.is_dir():
            for path in sorted(folder.glob("*.yaml")):
                found.setdefault(path.stem, path)
    return found


def load_taxonomy(source: str | Path | Taxonomy = "default") -> Taxonomy:
    """Load a taxonomy from a YAML file or by the name of a packaged one.

    Args:
        source: A path to a ``.yaml`` file, the name of a packaged taxonomy
            (``"default"``, ``"cooperation-extended"``), or a Taxonomy: one
            read from YAML is returned as it is, one built in Python is
            checked as a file is.

    Returns:
        The validated taxonomy.

    Raises:
        TaxonomyError: the file is missing, unreadable or invalid; the message
            lists every problem with file, line and path.

    Example:
        >>> load_taxonomy("default").name
        'default'
    """
    if not isinstance(source, str | os.PathLike | Taxonomy):
        # A dict gave pathlib's "expected str, bytes or os.PathLike object".
        hint = (
            ": build one with Taxonomy.model_validate(mapping)"
            if isinstance(source, Mapping)
            else ""
        )
        raise TypeError(
            "taxonomy must be a path to a YAML file, the name of a packaged taxonomy or a "
            f"Taxonomy, not {type(source).__name__}{hint}"
        )
    if isinstance(source, Taxonomy):
        if source._checked:
            return source
        # Built in Python (Taxonomy(...), model_validate): the checks of a file,
        # which pydantic's field types alone do not make, and NFC terms. Checked
        # as its to_yaml() would be: a default given (near=[] from a model_dump,
        # or set by a model_copy) is no mistake in Python.
        return _validate(
            source.model_dump(exclude_defaults=True),
            {},
            f"Taxonomy(name={source.name!r})",
            model=type(source),  # a subclass keeps its class and its own fields
        )
    if isinstance(source, str) and not source.strip():
        names = ", ".join(sorted(packaged_taxonomies())) or "none"
        raise TaxonomyError(
            [
                Problem(
                    repr(source),
                    None,
                    "",
                    f"no taxonomy named: give a packaged name ({names}) or a .yaml file",
                )
            ]
        )
    path = _taxonomy_file(source)
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise TaxonomyError([Problem(str(path), None, "", f"cannot read: {exc.strerror}")]) from exc
    if len(raw) > MAX_TAXONOMY_BYTES:
        raise TaxonomyError(
            [Problem(str(path), None, "", f"file is larger than {MAX_TAXONOMY_BYTES} bytes")]
        )
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw.count(b"\n", 0, exc.start) + 1
        column = exc.start - (raw.rfind(b"\n", 0, exc.start) + 1) + 1
        raise TaxonomyError(
            [
                Problem(
                    str(path),
                    line,
                    "",
                    f"not UTF-8 (invalid byte {raw[exc.start]:#04x} at column {column}); "
                    "save the file as UTF-8",
                )
            ]
        ) from exc
    return Taxonomy.from_yaml(text, source=str(path))  # the path as given, for editors to open


# --- validation ---------------------------------------------------------------------------


def _loc_to_path(loc: tuple[int | str, ...]) -> str:
    path = ""
    for part in loc:
        if isinstance(part, int):
            path += f"[{part}]"
        elif part in ("function-after[_strings_are_terms(), list[TermSpec]]",):
            continue
        else:
            path = f"{path}.{part}" if path else str(part)
    return path


def _taxonomy_file(source: str | Path) -> Path:
    """The YAML file a source names: the file itself, or a packaged taxonomy's.

    A packaged name given as text always means the packaged taxonomy, even
    where the working directory holds a file of that name (``"./default"``
    or a ``Path`` names the file): a stray file must not change what
    ``"default"`` tags with.
    """
    if isinstance(source, str):
        packaged = packaged_taxonomies()
        if source in packaged:
            return packaged[source]
    path = Path(source)
    try:
        is_file, is_dir = path.is_file(), path.is_dir()
    except OSError as exc:  # a name too long, a folder on the way that may not be entered
        problem = f"cannot read: {exc.strerror or exc}"
        raise TaxonomyError([Problem(str(source), None, "", problem)]) from exc
    if is_file:
        return path
    packaged = packaged_taxonomies()
    names = ", ".join(sorted(packaged)) or "none"
    problem = (
        "is a folder; give the taxonomy's .yaml file"
        if is_dir
        else f"no such file or packaged taxonomy (packaged: {names})"
    )
    raise TaxonomyError([Problem(str(source), None, "", problem)])


def taxonomy_lines(source: str | Path) -> tuple[Path, dict[str, int]]:
    """The YAML file of a taxonomy (a file, or a packaged name) and the line of each path in it.

    Raises:
        TaxonomyError: the file is missing or not YAML.

    Example:
        >>> path, lines = taxonomy_lines("default")
        >>> path.name, line_of("topics.trade.terms[0]", lines) > lines["topics.trade"]
        ('default.yaml', True)
    """
    path = _taxonomy_file(source)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise TaxonomyError([Problem(str(path), None, "", f"cannot read: {exc}")]) from exc
    return path, load_yaml(text, str(path))[1]


def line_of(path: str, lines: dict[str, int]) -> int | None:
    """The line of a YAML path (``topics.trade.terms[2]``) or of its nearest parent in ``lines``."""
    while path:
        if path in lines:
            return lines[path]
        cut = max(path.rfind("."), path.rfind("["))
        path = path[:cut] if cut > 0 else ""
    return lines.get("")


def _validate(
    data: Any,
    lines: dict[str, int],
    source: str,
    kept: list[Problem] | None = None,
    *,
    model: type[Taxonomy] = Taxonomy,
) -> Taxonomy:
    early = kept or []
    covering = [p for p in early if isinstance(p, Covering)]
    if not isinstance(data, dict):
        problem = Problem(source, 1, "", "expected a mapping with name and topics")
        raise TaxonomyError([*early, *_new([problem], covering)])
    misplaced = _misplaced_fields(data.get("topics"), lines, source)
    try:
        taxonomy = model.model_validate(data)
    except ValidationError as exc:
        problems = [_problem(err, lines, source) for err in exc.errors()]
        # Check what did validate too, so one run reports every problem.
        raw_topics = data.get("topics")
        topics: dict[str, Topic] = {}
        for topic_id, raw in (raw_topics if isinstance(raw_topics, dict) else {}).items():
            salvaged = _salvage(raw)
            if salvaged is not None:
                topics[str(topic_id)] = salvaged
        raw_cues = data.get("cues")
        cues = [c for c in raw_cues if isinstance(c, str)] if isinstance(raw_cues, list) else []
        problems += _check(cues, topics, lines, source, check_empty=False)
        if isinstance(data.get("language"), str):
            problems += _check_language(data["language"], lines, source)
        # What is said inside a misplaced field repeats the one real mistake.
        inside = tuple(p.path for p in misplaced)
        problems = (
            early
            + misplaced
            + [
                p
                for p in _new(problems, covering)
                if not any(p.path == at or p.path.startswith((f"{at}.", f"{at}[")) for at in inside)
            ]
        )
        problems.sort(key=lambda p: (p.line or 0, p.path))
        raise TaxonomyError(problems) from None
    problems = _check(taxonomy.cues, taxonomy.topics, lines, source)
    problems += _check_language(taxonomy.language, lines, source)
    problems = early + misplaced + _new(problems, covering)
    if problems:
        problems.sort(key=lambda p: (p.line or 0, p.path))
        raise TaxonomyError(problems)
    checked = _normalised(taxonomy)
    checked._checked = True
    return checked


def _new(problems: list[Problem], covering: list[Covering]) -> list[Problem]:
    """The problems that repeat none of those the YAML reader found (see :class:`Covering`)."""
    if not covering:
        return problems
    return [p for p in problems if not any(c.repeated_by(p, _MISSING_FIELD) for c in covering)]


def _misplaced_fields(
    raw_topics: Any, lines: dict[str, int], source: str, prefix: str = "topics"
) -> list[Problem]:
    """Topic and sub-topic ids that are a topic's fields ("subtopics:" indented as a topic)."""
    if not isinstance(raw_topics, dict):
        return []
    nested = prefix != "topics"
    problems = []
    for key, value in raw_topics.items():
        path = f"{prefix}.{key}"
        # A topic may be named "label" (eco-labels): it holds a label of its own.
        if str(key) in Topic.model_fields and not (isinstance(value, dict) and "label" in value):
            where = (
                "a sub-topic; indent it, and what is under it, two more spaces, under the "
                "sub-topic it belongs to, or two fewer, beside 'subtopics:', if it belongs "
                "to the topic that holds them"
                if nested
                else "a topic; indent it, and what is under it, two more spaces, under the "
                "topic it belongs to"
            )
            kind = "sub-topic id" if nested else "topic id"
            message = f"{key!r} is a field of a topic, not a {kind}: it is indented as {where}"
            problems.append(Problem(source, line_of(path, lines), path, message))
        elif isinstance(value, dict):
            problems += _misplaced_fields(
                value.get("subtopics"), lines, source, f"{path}.subtopics"
            )
    return problems


def _check_language(language: str, lines: dict[str, int], source: str) -> list[Problem]:
    """The language must be one spaCy can make a blank pipeline for."""
    from spacy.util import get_lang_class

    try:
        get_lang_class(language)
    except ImportError:
        return [
            Problem(
                source,
                line_of("language", lines),
                "language",
                f"spaCy has no language {language!r}; use a code such as 'en', 'de', 'fr', "
                "'es' or 'xx' (multi-language)",
            )
        ]
    missing = _missing_tokenizer_package(language)
    if missing is not None:
        return [
            Problem(
                source,
                line_of("language", lines),
                "language",
                f"spaCy cannot make a {language!r} pipeline here: {missing}",
            )
        ]
    return []


@functools.cache
def _missing_tokenizer_package(language: str) -> str | None:
    """Why spaCy cannot make the language's blank pipeline (a package missing), or None.

    Japanese, Korean, Thai and Vietnamese tokenise with another library
    (SudachiPy, mecab-ko, PyThaiNLP, Pyvi): validation passed, and the
    Extractor then failed with an ImportError. Only a language whose
    tokenizer is not spaCy's rule-based one is built to find out.
    """
    import spacy
    from spacy.util import get_lang_class

    tokenizer = get_lang_class(language).default_config["nlp"]["tokenizer"]
    if tokenizer.get("@tokenizers") == "spacy.Tokenizer.v1":
        return None
    try:
        spacy.blank(language)
    except Exception as exc:  # an ImportError that names the package, mostly
        return str(exc) or type(exc).__name__
    return None


def _salvage(raw: Any) -> Topic | None:
    """A topic with its structurally broken parts neutralised, for semantic checks.

    Structural problems are already reported; what is left is checked too, so
    one run names every problem. Broken term entries become placeholders, so
    the indices in the paths stay those of the file.
    """
    if not isinstance(raw, dict):
        return None
    fields = {k: v for k, v in raw.items() if k in Topic.model_fields}
    if not isinstance(fields.get("label"), str):
        fields["label"] = "?"
    if not isinstance(fields.get("description", ""), str):
        del fields["description"]
    terms = fields.get("terms")
    if isinstance(terms, list):
        fields["terms"] = [_salvage_term(term, i) for i, term in enumerate(terms)]
    else:
        fields.pop("terms", None)
    exclude = fields.get("exclude")
    if isinstance(exclude, list):
        fields["exclude"] = [
            e if isinstance(e, str) else f"placeholder{i}" for i, e in enumerate(exclude)
        ]
    else:
        fields.pop("exclude", None)
    subtopics = fields.get("subtopics")
    if isinstance(subtopics, dict):
        fields["subtopics"] = {
            str(k): sub for k, v in subtopics.items() if (sub := _salvage(v)) is not None
        }
    else:
        fields.pop("subtopics", None)
    try:
        return Topic.model_validate(fields)
    except ValidationError:
        return None


def _salvage_term(term: Any, index: int) -> Any:
    if isinstance(term, str):
        return term
    try:
        TermSpec.model_validate(term)
    except ValidationError:
        return f"placeholder{index}"
    return term


_MISSING_FIELD = "required field is missing"


def _kind(value: Any) -> str:
    """What YAML read a value as, for a message: ``'a list'``, ``'a number'``, ``'null'``."""
    if value is None:
        return "null"
    if isinstance(value, str):
        return "text"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    return "a list" if isinstance(value, list) else f"a {type(value).__name__}"


def _number_fix(text: str, *, whole: bool) -> str:
    """What to write where a number was expected and YAML read ``text``, which reads as one.

    Example:
        >>> _number_fix("3", whole=True), _number_fix("3.5", whole=True)
        ('write the number without quotes', 'a whole number is expected')
        >>> _number_fix("1e3", whole=False)
        'YAML reads 1e3 as text, without a decimal point: write 1000.0'
    """
    if whole and not float(text).is_integer():
        return "a whole number is expected"
    try:
        unquoted = yaml.safe_load(text)
    except yaml.YAMLError:
        unquoted = text
    if isinstance(unquoted, int | float) and not isinstance(unquoted, bool):
        if whole and not isinstance(unquoted, int):
            return f"write it as the whole number {int(float(text))}"
        return "write the number without quotes"
    number = int(float(text)) if whole else float(text)
    return f"YAML reads {text} as text, without a decimal point: write {number!r}"


def _is_number(text: str) -> bool:
    """Whether ``text`` reads as a finite number (as YAML may, without its quotes)."""
    try:
        return math.isfinite(float(text))
    except ValueError:
        return False


def _problem(err: Any, lines: dict[str, int], source: str) -> Problem:
    path = _loc_to_path(tuple(err["loc"]))
    message = err["msg"]
    if err["type"] == "model_type" and "TermSpec" in message:
        message = "a term is a phrase or a mapping such as {term: bank, near: [central]}"
    layout = _layout_fix(err)
    if layout is not None:
        message = layout
    elif err["type"] == "model_type" and message.endswith("instance of Topic"):
        value = err.get("input")
        message = (
            f"a topic is a mapping of its fields, not {_kind(value)}"
            + (f" ({value!r})" if isinstance(value, str | int | float) else "")
            + ": indent its 'label: ...' and 'terms: [...]' under its id"
        )
    elif err["type"] == "extra_forbidden":
        message = "unknown field; remove it or check its spelling"
    elif err["type"] == "missing":
        message = _MISSING_FIELD
    elif err["type"] == "value_error":
        message = str(err["ctx"]["error"])  # our own validators' messages name the fix
    elif err["type"] == "list_type" and isinstance(err.get("input"), str | dict | None):
        message = _list_fix(err["input"])
    elif (
        err["type"] == "model_type"
        and "TermSpec" in err["msg"]
        and isinstance(err.get("input"), list)
    ):
        message += ", not a list: give each phrase as an item of its own"
    elif (
        err["type"] == "dict_type"
        and isinstance(err.get("input"), list)
        and len(err["loc"]) > 1
        and err["loc"][-2] == "pattern"
    ):
        # [[{LOWER: a}]]: the shape of spaCy's Matcher.add, a list of patterns.
        message = (
            "a token is a mapping such as {LOWER: bond}, not a list: a pattern is one list "
            "of tokens, so remove one pair of brackets"
        )
    elif err["type"] == "dict_type" and isinstance(err.get("input"), list):
        message = (
            "a mapping is expected, not a list: write each id followed by ':' and what it "
            "holds indented under it, with no '- ' before it"
        )
    elif err["type"] == "string_type" and isinstance(err.get("input"), dict | list):
        message = (
            "text is expected, not a mapping: YAML reads text that holds ': ' as one; put it "
            "in quotes"
            if isinstance(err["input"], dict)
            else "text is expected, not a list"
        )
    elif (
        err["type"] in ("int_type", "float_type")
        and isinstance(err.get("input"), str)
        and _is_number(err["input"])
    ):
        message = f"{err['msg']} (got {err['input']!r}): " + _number_fix(
            err["input"], whole=err["type"] == "int_type"
        )
    elif "input" in err and not isinstance(err["input"], dict | list):
        value = err["input"]
        message = f"{message} (got {value!r})"
        if err["type"] in ("string_type", "model_type") and (
            isinstance(value, bool | int | float) or value is None
        ):
            # YAML reads no, yes, on, off, 2030, 1.5 and ~ as other things than text.
            message += f"; YAML read the value as {_kind(value)}: put it in quotes if it is text"
    return Problem(source, line_of(path, lines), path, message)


def _layout_fix(err: Any) -> str | None:
    """What to indent where a topic, or what holds topics, is misplaced or left empty.

    A topic indented as a field of the taxonomy (``health:`` beside
    ``topics:``), or a sub-topic as a field of its topic (without
    ``subtopics:``), is an unknown field holding a topic; ``topics:`` or a topic
    id with nothing indented under it is null. None for other problems.
    """
    value = err.get("input")
    loc = tuple(err["loc"])
    parent = str(loc[-2]) if len(loc) > 1 else ""
    if err["type"] == "extra_forbidden" and isinstance(value, dict) and "label" in value:
        if len(loc) == 1:
            return (
                f"{loc[0]!r} is not a field of the taxonomy but looks like a topic: indent it, "
                "and what is under it, two spaces under 'topics:'"
            )
        if len(loc) >= 3 and loc[-3] in ("topics", "subtopics"):
            return (
                f"{loc[-1]!r} is not a field of a topic but looks like a sub-topic: put it, "
                "indented two more spaces, under a 'subtopics:' key of the topic"
            )
    if value is not None or err["type"] not in ("dict_type", "model_type"):
        return None
    if loc[-1] in ("topics", "subtopics"):
        return (
            f"nothing is indented under {loc[-1]!r}: give each "
            f"{'topic' if loc[-1] == 'topics' else 'sub-topic'} id indented two more spaces "
            "than it, with its fields two more"
            + (", or remove it" if loc[-1] == "subtopics" else "")
        )
    if parent in ("topics", "subtopics"):
        return (
            f"nothing is indented under {'topic' if parent == 'topics' else 'sub-topic'} "
            f"{loc[-1]!r}: indent its label and terms two more spaces than its id"
        )
    return None


# A string that starts as a list item without the space after its dash.
_DASH_FIRST_RE = re.compile(r"-[^\s\-]")


def _list_fix(value: str | dict[str, Any] | None) -> str:
    """What to write where a list was expected and YAML read a string, a mapping or nothing.

    Example:
        >>> _list_fix("tariff, customs")
        "a list is expected, not one string: write [tariff, customs], or one '- ' item per line"
        >>> _list_fix({"LOWER": "steel"})
        'a list is expected, not a mapping: put it in brackets, [{LOWER: steel}]'
        >>> _list_fix("-tariff - customs")[36:96]
        "put a space after the '-' that starts a list item (- tariff)"
    """
    items = [item.strip() for item in value.split(",")] if isinstance(value, str) else []
    if value is None or (isinstance(value, str) and not any(items)):
        return "a list is expected, and this one is empty: give its items, or remove the field"
    if isinstance(value, str) and _DASH_FIRST_RE.match(value):
        # "-tariff" on the line under "terms:", and more items under it: one plain string.
        first = value.split(" - ", 1)[0][1:]
        return (
            "a list is expected, not one string: put a space after the '-' that starts a "
            f"list item (- {first}); without it, YAML reads the lines as one string, {value!r}"
        )
    if isinstance(value, str):
        # Quoted where YAML needs it: [Section 301: duties] reads as a mapping.
        flow = yaml.safe_dump(
            [item for item in items if item],
            default_flow_style=True,
            allow_unicode=True,
            width=1 << 16,
        )
        return (
            f"a list is expected, not one string: write {flow.strip()}, or one '- ' item per line"
        )
    flow = yaml.safe_dump(value, default_flow_style=True, allow_unicode=True, width=1 << 16)
    return f"a list is expected, not a mapping: put it in brackets, [{flow.strip()}]"


def _check(
    cues: list[str],
    topics: dict[str, Topic],
    lines: dict[str, int],
    source: str,
    *,
    check_empty: bool = True,
) -> list[Problem]:
    problems: list[Problem] = []

    def add(path: str, message: str) -> None:
        problems.append(Problem(source, line_of(path, lines), path, message))

    total = 0
    for i, cue in enumerate(cues):
        total += 1
        _check_phrase(cue, f"cues[{i}]", add)
    if check_empty and not topics:
        add("topics", "no topics; define at least one")
    for topic_id, topic in topics.items():
        path = f"topics.{topic_id}"
        if not _ID_RE.match(topic_id):
            add(
                path,
                "topic id must be lower-case letters, digits, '_' or '-', starting with a letter",
            )
        seen_ids: dict[str, str] = {}
        total += _check_topic(topic, path, add, seen_ids)
    if total > MAX_TERMS:
        add("topics", f"{total} terms exceed the limit of {MAX_TERMS}; split the taxonomy")
    return problems


def _match_key(text: str, case_sensitive: bool | None) -> tuple[bool, str]:
    """What a term matches: two terms with the same key are the same term.

    A term with capitals (or ``case_sensitive: true``) matches its words with
    capitals as written, one without them every capitalisation: ``EV`` and
    ``ev`` (forced case) differ; ``Tariff`` and ``tariff`` too, though the
    second covers the first (lint reports that where it matters).
    """
    norm = normalize_term(text)
    exact = case_sensitive if case_sensitive is not None else norm != norm.lower()
    return (exact, norm if exact else norm.casefold())


def _check_topic(topic: Topic, path: str, add: Any, seen_ids: dict[str, str]) -> int:
    if not topic.label.strip():
        add(f"{path}.label", "empty label")
    count = 0
    seen_terms: dict[tuple[bool, str], int] = {}
    for i, spec in enumerate(topic.terms):
        term_path = f"{path}.terms[{i}]"
        count += 1 + len(spec.near)
        if (spec.term is None) == (spec.pattern is None):
            add(term_path, "give exactly one of 'term' or 'pattern'")
            continue
        if spec.term is not None:
            _check_phrase(spec.term, term_path, add, wildcard=True)
            key = _match_key(spec.term, spec.case_sensitive)
            if key[1] and key in seen_terms:
                first = topic.terms[seen_terms[key]]
                fix = (
                    "a term takes one context rule: keep one entry, with every context word "
                    "in its 'near' list"
                    if spec.near and first.near
                    else "remove one"
                )
                add(
                    term_path,
                    f"duplicate term {spec.term!r} (also terms[{seen_terms[key]}]); {fix}",
                )
            seen_terms.setdefault(key, i)
        else:
            _check_pattern(spec.pattern or [], term_path, add)
        if spec.window is not None and not spec.near:
            add(f"{term_path}.window", "window has no effect without 'near' terms")
        if "near" in spec.model_fields_set and not spec.near:
            add(f"{term_path}.near", "empty 'near' list; give context terms or remove it")
        for j, near in enumerate(spec.near):
            _check_phrase(near, f"{term_path}.near[{j}]", add)
    for i, phrase in enumerate(topic.exclude):
        count += 1
        exclude_path = f"{path}.exclude[{i}]"
        _check_phrase(phrase, exclude_path, add)
        # An exclusion vetoes the term it equals; one without capitals vetoes
        # every capitalisation of it.
        exact, vetoed = _match_key(phrase, None)
        clash = [
            n
            for (_, term_key), n in seen_terms.items()
            if term_key == vetoed or (not exact and term_key.casefold() == vetoed)
        ]
        if clash:
            add(
                exclude_path,
                f"{phrase!r} is both a term (terms[{clash[0]}]) and an exclusion; keep one",
            )
    for sub_id, sub in topic.subtopics.items():
        sub_path = f"{path}.subtopics.{sub_id}"
        if not _ID_RE.match(sub_id):
            add(
                sub_path,
                "sub-topic id must be lower-case letters, digits, '_' or '-', "
                "starting with a letter",
            )
        if sub_id in seen_ids:
            add(
                sub_path,
                f"sub-topic id {sub_id!r} is already used at {seen_ids[sub_id]}; "
                "ids must be unique within a topic",
            )
        seen_ids.setdefault(sub_id, sub_path)
        count += _check_topic(sub, sub_path, add, seen_ids)
    return count


def _check_phrase(phrase: str, path: str, add: Any, *, wildcard: bool = False) -> None:
    text = normalize_term(phrase)
    if not text:
        add(path, "empty term")
        return
    if "*" in text:
        if not wildcard:
            add(path, f"'*' is only allowed in terms, not here: {phrase!r}")
        elif text.count("*") > 1 or not text.endswith("*") or " " in text:
            add(path, f"wildcard {phrase!r}: '*' may only end a single word, e.g. 'manufactur*'")
        elif len(text) < 4:
            add(path, f"wildcard {phrase!r}: give at least 3 characters before '*'")
    if len(text) > 200:
        add(path, "term longer than 200 characters")
    surrogate = _SURROGATE_RE.search(text)
    if surrogate is not None:
        add(
            path,
            f"term {phrase!r} holds a lone surrogate (U+{ord(surrogate.group()):04X}), "
            "which no text can be encoded with; fix the \\u escape",
        )
    if not any(c.isalnum() for c in text):
        add(path, f"term {phrase!r} has no letter or digit and can never match")


def _check_pattern(pattern: list[dict[str, Any]], path: str, add: Any) -> None:
    from spacy.schemas import validate_token_pattern

    if not pattern:
        add(path, "empty token pattern")
        return
    reported: set[tuple[str, str]] = set()  # (token index, key) already explained
    for i, token in enumerate(pattern):
        for key, value in token.items():
            where = f"{path}.pattern[{i}].{key}"
            if key not in _ALLOWED_PATTERN_KEYS:
                close = difflib.get_close_matches(str(key).upper(), _ALLOWED_PATTERN_KEYS, n=1)
                hint = f"did you mean {close[0]!r}?" if close else "use LOWER, ORTH, TEXT or IN"
                add(where, f"unsupported token attribute {key!r}; {hint}")
                reported.add((str(i), str(key)))
            elif key == "OP" and not _is_operator(value):
                add(
                    where,
                    f"{value!r} is not an operator: use '?' (optional), '*' (any number), "
                    "'+' (one or more), '!' (not) or a count such as '{2}' or '{1,3}'",
                )
                reported.add((str(i), "OP"))
            if isinstance(value, dict) and ({"REGEX", "FUZZY"} & set(value)):
                add(
                    where,
                    "REGEX and FUZZY are not allowed (they can run "
                    "away on hostile text); use IN lists or a prefix wildcard term",
                )
    repeats, optional = _variable_tokens(pattern)
    if repeats > 1 or optional > (_MOST_OPTIONAL_BESIDE_REPEAT if repeats else _MOST_OPTIONAL):
        add(
            f"{path}.pattern",
            f"too many repeated or optional tokens ({repeats} of '+', '*' or '{{n,}}', and "
            f"{optional} optional): on a sentence of one word repeated, spaCy's Matcher tries "
            "every way to match them, which can take minutes; use at most one '+', '*' or "
            f"'{{n,}}' with at most {_MOST_OPTIONAL_BESIDE_REPEAT} optional tokens, or at most "
            f"{_MOST_OPTIONAL} optional tokens without one ('?' is one, '{{1,3}}' two)",
        )
    said: dict[str, str] = {}  # where: what, each place once
    for message in validate_token_pattern(pattern):
        # spaCy's messages start "[pattern -> 0 -> LOWR]"; those explained above are left out.
        about = _SPACY_PATTERN_MESSAGE_RE.match(message)
        if about is not None and (about[1], about[2]) in reported:
            continue
        where, what = _pattern_problem(pattern, message)
        if what:  # else the failure of a type the value was not written as
            said[f"{path}.pattern{where}"] = what
    for where, what in said.items():
        add(where, f"invalid token pattern: {what}")


def _pattern_problem(pattern: list[dict[str, Any]], message: str) -> tuple[str, str]:
    """Where in a pattern one of spaCy's messages points, and what it says, with the fix.

    ``what`` is empty for the failure of a type the value was not written as.

    spaCy's validator tries each type a value may have and reports each
    failure, naming its classes: ``[pattern -> 0 -> LOWER -> TokenPatternString
    -> IN] Input should be a valid list`` and ``[pattern -> 0 -> LOWER -> str]
    Input should be a valid string`` for ``{LOWER: {IN: bond}}``. The failure
    of the type the value was written as is kept, at its place in the pattern;
    each place is said once (see :func:`_check_pattern`).

    Example:
        >>> _pattern_problem(
        ...     [{"LOWER": {"IN": "bond"}}],
        ...     "[pattern -> 0 -> LOWER -> TokenPatternString -> IN] Input should be a valid list",
        ... )
        ('[0].LOWER.IN', "Input should be a valid list: write IN: ['bond']")
    """
    end = message.find("] ")  # the place may hold brackets: "str-enum[...]] Input ..."
    if not message.startswith("[pattern") or end < 0:
        return "", message
    steps, what = message[1:end].split(" -> ")[1:], message[end + 2 :]
    where, mapping = "", True
    value: Any = pattern  # then what lies at each step: a token, a mapping, a value
    for step in steps:
        if step.startswith(("TokenPattern", "str", "int", "float", "bool", "constrained-")):
            # A type tried: a mapping ({IN: [...]}) or a plain value; keep the one written.
            if step.startswith("TokenPattern") != mapping:
                return "", ""
            continue
        where += f"[{step}]" if step.isdigit() else f".{step}"
        try:
            value = value[int(step)] if step.isdigit() else value[step]
        except (KeyError, IndexError, TypeError, ValueError):
            break
        mapping = isinstance(value, dict)
    if what.endswith("valid list") and isinstance(value, str | int | float):
        what += f": write {steps[-1]}: [{value!r}]"
    elif not isinstance(value, dict | list):
        what += f" (got {value!r})"
    return where, what


# What spaCy's token pattern validator says a message is about: token index and key.
_SPACY_PATTERN_MESSAGE_RE = re.compile(r"\[pattern -> (\d+) -> ([^\s\]]+)")
_COUNT_OP_RE = re.compile(r"\{\d+\}|\{\d+,\d*\}|\{\d*,\d+\}")


#: Optional tokens a pattern may hold ('?' is one, '{1,3}' two), without and with a
#: repeated one ('+', '*', '{n,}'). On a 2,000-character sentence of one word
#: repeated, spaCy's Matcher took 0.2 s for '{0,10}', 0.8 s for '+' with '{0,5}',
#: 19 s for '+' with '{0,10}', 2.3 s for two '+' and 185 s for three.
_MOST_OPTIONAL = 10
_MOST_OPTIONAL_BESIDE_REPEAT = 5


def _variable_tokens(pattern: list[dict[str, Any]]) -> tuple[int, int]:
    """How many tokens of a pattern repeat without bound, and how many are optional."""
    repeats = optional = 0
    for token in pattern:
        op = token.get("OP")
        if op in ("+", "*"):
            repeats += 1
        elif op == "?":
            optional += 1
        elif isinstance(op, str) and _is_operator(op) and "," in op:
            low, _, high = op[1:-1].partition(",")
            if high:
                optional += int(high) - int(low or 0)
            else:
                repeats += 1
    return repeats, optional


def _is_operator(value: Any) -> bool:
    """Whether ``value`` is an OP of spaCy's Matcher (a count range ``{n,m}`` with n <= m)."""
    if not isinstance(value, str):
        return False
    if value in ("?", "*", "+", "!"):
        return True
    if _COUNT_OP_RE.fullmatch(value) is None:
        return False
    low, _, high = value[1:-1].partition(",")
    return not (low and high) or int(low) <= int(high)


def _normalised(taxonomy: Taxonomy) -> Taxonomy:
    """NFC-normalise every phrase, so a term typed in NFD still matches NFC text."""

    def topic(t: Topic) -> Topic:
        terms = [
            s.model_copy(
                update={
                    "term": normalize_term(s.term) if s.term is not None else None,
                    "near": [normalize_term(n) for n in s.near],
                }
            )
            for s in t.terms
        ]
        return t.model_copy(
            update={
                "terms": terms,
                "exclude": [normalize_term(e) for e in t.exclude],
                "subtopics": {k: topic(v) for k, v in t.subtopics.items()},
            }
        )

    return taxonomy.model_copy(
        update={
            "cues": [normalize_term(c) for c in taxonomy.cues],
            "topics": {k: topic(v) for k, v in taxonomy.topics.items()},
        }
    )
