"""Safe YAML: plain data with the line of every node, and no way to blow up.

Only the standard tags are accepted (nothing that builds objects), duplicate
keys are errors (PyYAML alone keeps the last silently), alias expansion and
nesting are bounded, and every problem names the source, line and path.

Example:
    >>> data, lines = load_yaml("a:\\n  b: [1, 2]\\n", "x.yaml")
    >>> data, lines["a.b[1]"]
    ({'a': {'b': [1, 2]}}, 2)
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import yaml
from yaml.constructor import SafeConstructor

from policy_topics.errors import Problem, TaxonomyError

__all__ = ["MAX_TAXONOMY_BYTES", "MAX_YAML_DEPTH", "MAX_YAML_NODES", "Covering", "load_yaml"]

#: Largest taxonomy file accepted, in bytes.
MAX_TAXONOMY_BYTES = 20_000_000
#: Most YAML nodes a taxonomy may expand to (guards against alias bombs).
MAX_YAML_NODES = 1_000_000
#: Deepest nesting of YAML collections accepted.
MAX_YAML_DEPTH = 50

_STANDARD_TAGS = frozenset(
    f"tag:yaml.org,2002:{t}" for t in ("str", "int", "float", "bool", "null", "seq", "map")
)


@dataclass(frozen=True)
class Covering(Problem):
    """A problem whose value was left out or replaced so that validation could go on.

    What validation then finds at a path of ``covers`` repeats this problem
    (the value left out is None: nothing lies below it); at a path of
    ``missing``, only that the field is missing (a key the merged mapping
    holds).
    """

    covers: tuple[str, ...] = ()
    missing: tuple[str, ...] = ()

    def repeated_by(self, problem: Problem, missing_field: str) -> bool:
        """Whether ``problem``, found by validation, repeats this one.

        ``missing_field`` is the message validation gives a missing field.
        """
        if problem.message == missing_field and problem.path in self.missing:
            return True
        return problem.path in self.covers


class _NodeBudget:
    def __init__(self, limit: int) -> None:
        self.left = limit
        #: The first path of each collection node: an alias shares its anchor's node.
        self.paths: dict[int, str] = {}


def load_yaml(
    text: str, source: str, *, kept: list[Problem] | None = None
) -> tuple[Any, dict[str, int]]:
    """Parse YAML into plain data and a map from each path to its 1-based line.

    Args:
        text: The YAML document.
        source: Name used in error messages.
        kept: Where problems of single values are reported, if given, so that
            the caller can go on and report the taxonomy's other problems with
            them: a duplicate key (its first entry counts), an unquoted version
            number or date (kept as the text written), a merge key or a key
            that is not a string (left out), a value of another tag (None; a
            :class:`Covering` problem says what validation will repeat).

    Returns:
        The data and the line of every path (``topics.energy.terms[3]``).

    Raises:
        TaxonomyError: on a syntax error, a forbidden tag, a duplicate key or a
            limit exceeded (a syntax error or a limit only, with ``kept``); every
            problem found is listed.
    """
    if len(text) > MAX_TAXONOMY_BYTES:
        raise TaxonomyError([Problem(source, None, "", f"larger than {MAX_TAXONOMY_BYTES} bytes")])
    try:
        # compose() builds nodes without constructing objects: aliases stay
        # shared references, so expansion is ours to bound below.
        node = _compose(text)
    except RecursionError:
        raise TaxonomyError([Problem(source, None, "", "YAML nested too deeply")]) from None
    except yaml.reader.ReaderError as exc:
        # A character YAML does not allow anywhere (NUL, a control character):
        # PyYAML gives its position in the text, not a line.
        before = _LINE_BREAK_RE.split(text[: exc.position])
        code = exc.character
        detail = (
            f"the character U+{code:04X} at column {len(before[-1]) + 1} is not allowed in "
            f"YAML; delete it, or write it as {_yaml_escape(code)} inside double quotes"
            if isinstance(code, int)
            else str(exc)
        )
        problem = Problem(source, len(before), "", f"YAML syntax error: {detail}")
        raise TaxonomyError([problem]) from exc
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else None
        detail = _syntax_detail(exc, text)
        opened = _never_closed(exc, text)
        if opened is not None:
            # Found at the end of the file, past the mistake: name where it starts.
            line, detail = opened[0], opened[1] or detail
        raise TaxonomyError([Problem(source, line, "", f"YAML syntax error: {detail}")]) from exc
    if node is None:
        raise TaxonomyError([Problem(source, 1, "", "empty document; expected a mapping")])
    lines: dict[str, int] = {}
    soft: list[Problem] = []
    data = _construct(node, "", lines, source, _NodeBudget(MAX_YAML_NODES), soft)
    if kept is not None:
        kept += soft
    elif soft:
        raise TaxonomyError(sorted(soft, key=lambda p: p.line or 0))
    return data, lines


#: libyaml's loader, which PyYAML's wheels bring, composes the same nodes ten
#: times as fast as the pure-Python one (a 10,000-term taxonomy: 0.1 s, not 1 s).
_FAST_LOADER: Any = getattr(yaml, "CSafeLoader", None)


def _compose(text: str) -> yaml.Node | None:
    """The document's node tree, from libyaml when PyYAML has it.

    A document libyaml refuses is composed again by PyYAML's own loader, whose
    errors the messages here are written for, and which may accept what
    libyaml does not (its errors are the ones that count).
    """
    if _FAST_LOADER is not None:
        try:
            fast: yaml.Node | None = yaml.compose(text, Loader=_FAST_LOADER)
        except yaml.YAMLError:
            pass
        else:
            return fast
    node: yaml.Node | None = yaml.compose(text, Loader=yaml.SafeLoader)
    return node


#: A flow collection's opening bracket: what it holds and its closing bracket.
_BRACKETS = {
    yaml.FlowSequenceStartToken: ("list", "]"),
    yaml.FlowMappingStartToken: ("mapping", "}"),
}


def _never_closed(exc: yaml.YAMLError, text: str) -> tuple[int, str] | None:
    """The line of what the end of the file left open, and its message; None for other errors.

    PyYAML finds an unclosed bracket or quote only at the end of the file,
    and reports that line (past the last one, for a file ending in a line
    break). The innermost bracket still open there, from PyYAML's scanner, or
    else the quote where its context starts, is where to look. The message is
    empty when PyYAML's own says it all.
    """
    problem = getattr(exc, "problem", None) or ""
    if "<stream end>" not in problem and "end of stream" not in problem:
        return None
    opened: list[yaml.Token] = []
    try:
        for token in yaml.scan(text, Loader=yaml.SafeLoader):
            if type(token) in _BRACKETS:
                opened.append(token)
            elif opened and isinstance(token, yaml.FlowSequenceEndToken | yaml.FlowMappingEndToken):
                opened.pop()
    except yaml.YAMLError:
        pass  # the scanner's own error (an unclosed quote) ends the tokens
    if opened:
        token = opened[-1]
        kind, closing = _BRACKETS[type(token)]
        mark = token.start_mark
        # PyYAML's context would name the line of the end, for an empty collection.
        return mark.line + 1, (
            f"{problem}; the {text[mark.index]!r} at column {mark.column + 1} is never "
            f"closed: end the {kind} with {closing!r}"
        )
    context_mark = getattr(exc, "context_mark", None)
    problem_mark = getattr(exc, "problem_mark", None)
    if (
        context_mark is not None
        and problem_mark is not None
        and context_mark.line < problem_mark.line
    ):
        return context_mark.line + 1, ""
    return None


def _yaml_escape(code: int) -> str:
    """How a double-quoted YAML string writes a character: \\x07, \\ufffe, \\U0010ffff."""
    if code <= 0xFF:
        return f"\\x{code:02x}"
    return f"\\u{code:04x}" if code <= 0xFFFF else f"\\U{code:08x}"


def _syntax_detail(exc: yaml.YAMLError, text: str = "") -> str:
    """PyYAML's problem, where it started, and what to do about it."""
    problem = getattr(exc, "problem", None) or str(exc)
    context = getattr(exc, "context", None)
    context_mark = getattr(exc, "context_mark", None)
    mark = getattr(exc, "problem_mark", None)
    detail = problem
    if "found another document" in problem:  # a "---" line after the first document
        return (
            "the file holds a second YAML document (after a '---' line); a taxonomy is one "
            "document: remove the line, and merge what follows it into the first"
        )
    if context and context_mark is not None:
        detail = f"{problem} {context} that starts on line {context_mark.line + 1}"
    if "'\\t'" in problem:  # PyYAML shows a tab as '\t'
        return f"{detail}; indent with spaces: YAML does not allow tabs there"
    if context and "quoted scalar" in context:
        return f"{detail}; close the quote"
    if "undefined alias" in problem or (context and "alias" in context):
        # "- *vaccin": a wildcard at the front of a word reads as a YAML alias.
        return (
            f"{detail}; a value that starts with '*' is read as a YAML alias: put it in "
            "quotes if it is text, and end a word with '*' for a prefix wildcard (manufactur*)"
        )
    rows = _LINE_BREAK_RE.split(text)
    # PyYAML finds a first item "-term: x" wrong only on the line after it, or
    # at the end: the line of what it was parsing then holds the dash.
    marked = [m.line for m in (mark, context_mark) if m is not None and m.line < len(rows)]
    if any(_DASH_WITHOUT_SPACE_RE.match(rows[line]) for line in marked):
        return f"{detail}; put a space after the '-' that starts a list item ('- term: x')"
    if any(
        words in problem
        for words in ("expected <block end>", "did not find expected key", "not allowed here")
    ):
        return (
            f"{detail}; check the indentation of this line against the lines above "
            "(the keys of one mapping line up, with spaces), or quote a value that holds ': '"
        )
    return detail


# A line that starts like a list item but has no space after its dash: "-term: x".
_DASH_WITHOUT_SPACE_RE = re.compile(r"\s*-[^\s-]")


def _merge_problem(
    source: str,
    key_node: yaml.Node,
    value_node: yaml.Node,
    path: str,
    child: str,
    budget: _NodeBudget,
) -> Covering:
    """A merge key (``<<: *base``): refused, with what validation would then repeat.

    The fields the merged mappings hold are missing where the merge stands:
    that repeats this problem, any other field missing does not. A key beside
    the topics that only holds an anchored mapping (``base: &b {...}``) is an
    unknown field: it is named here, to be removed once the mapping is written
    out, rather than said to be a topic to indent.
    """
    merged = value_node.value if isinstance(value_node, yaml.SequenceNode) else [value_node]
    keys = {
        k.value
        for n in merged
        if isinstance(n, yaml.MappingNode)
        for k, _ in n.value
        if isinstance(k, yaml.ScalarNode)
    }
    holders = [budget.paths.get(id(n), ".") for n in merged]
    holders = [at for at in holders if at and not _NESTED_RE.search(at)]
    message = "merge keys (<<) are not supported: write the mapping out in full"
    if holders:
        message += ", then remove " + ", ".join(repr(at) for at in holders)
    return Covering(
        source,
        key_node.start_mark.line + 1,
        child,
        message,
        tuple(holders),
        tuple(f"{path}.{k}" if path else str(k) for k in sorted(keys)),
    )


# A path below the top level.
_NESTED_RE = re.compile(r"[.\[]")
# The line breaks YAML counts lines by.
_LINE_BREAK_RE = re.compile("\r\n|[\n\r\x85\u2028\u2029]")


def _construct(
    node: yaml.Node,
    path: str,
    lines: dict[str, int],
    source: str,
    budget: _NodeBudget,
    soft: list[Problem],
) -> Any:
    budget.left -= 1
    if budget.left < 0:
        raise TaxonomyError(
            [
                Problem(
                    source,
                    node.start_mark.line + 1,
                    path,
                    f"more than {MAX_YAML_NODES} YAML nodes after alias expansion (alias bomb?)",
                )
            ]
        )
    line = node.start_mark.line + 1
    if path.count(".") + path.count("[") > MAX_YAML_DEPTH:
        raise TaxonomyError([Problem(source, line, path[:80], "YAML nested too deeply")])
    lines.setdefault(path, line)
    if not isinstance(node, yaml.ScalarNode):
        budget.paths.setdefault(id(node), path)
    if node.tag not in _STANDARD_TAGS:
        message = f"YAML tag {node.tag!r} is not allowed: "
        if node.tag == "tag:yaml.org,2002:timestamp":
            message += f"YAML reads {node.value!r} as a date: put it in quotes"
            soft.append(Problem(source, line, path, message))
            return node.value  # the text it was meant to be
        message += "a taxonomy is plain data (strings, numbers, lists, mappings)"
        soft.append(Covering(source, line, path, message, (path,)))
        return None
    if isinstance(node, yaml.MappingNode):
        result: dict[Any, Any] = {}
        for key_node, value_node in node.value:
            if not isinstance(key_node, yaml.ScalarNode):
                soft.append(
                    Problem(
                        source,
                        key_node.start_mark.line + 1,
                        path,
                        "mapping keys must be plain strings",
                    )
                )
                continue
            key = key_node.value
            child = f"{path}.{key}" if path else str(key)
            if key_node.tag == "tag:yaml.org,2002:merge":
                soft.append(_merge_problem(source, key_node, value_node, path, child, budget))
                continue
            if key in result:
                soft.append(
                    Problem(
                        source,
                        key_node.start_mark.line + 1,
                        child,
                        f"duplicate key {key!r} (first at line {lines.get(child, '?')}); "
                        "merge the two entries",
                    )
                )
                continue
            lines.setdefault(child, key_node.start_mark.line + 1)
            result[key] = _construct(value_node, child, lines, source, budget, soft)
        return result
    if isinstance(node, yaml.SequenceNode):
        return [
            _construct(item, f"{path}[{i}]", lines, source, budget, soft)
            for i, item in enumerate(node.value)
        ]
    constructor = SafeConstructor()
    value = SafeConstructor.yaml_constructors[node.tag](constructor, node)
    if path == "version" and (
        node.tag == "tag:yaml.org,2002:float"
        or (node.tag == "tag:yaml.org,2002:int" and str(value) != node.value)
    ):
        # YAML reads 1.10 as the number 1.1, and (YAML 1.1) 010 as 8, 0x1F as 31 and
        # 1:30 as 90: name the text as written, and the number YAML made of it
        # (float() cannot read .inf or 1:30.5).
        lost = (
            ", which keeps no trailing zeros (1.10 would be 1.1)"
            if node.tag == "tag:yaml.org,2002:float"
            else ""
        )
        soft.append(
            Problem(
                source,
                line,
                path,
                f'write the version in quotes, e.g. version: "{node.value}"; unquoted, YAML '
                f"reads it as the number {value!r}{lost}",
            )
        )
        return node.value  # the text it was meant to be
    return value
