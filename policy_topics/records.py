"""Result records: frozen Pydantic models with a JSON round trip and JSON Schema.

Every ``start``/``end`` pair is a character offset into the caller's original
string: ``text[start:end] == record.text`` holds for every quote and match.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, PlainSerializer

from policy_topics.text import replace_surrogates

__all__ = [
    "CooperationArea",
    "DocumentResult",
    "ErrorInfo",
    "Match",
    "Quote",
    "ScoreBreakdown",
    "SentenceTags",
    "SubtopicCount",
]


#: A str written to JSON with lone surrogates (which JSON encoders refuse)
#: replaced by U+FFFD; the length is kept, so offsets stay valid in the output.
Text = Annotated[str, PlainSerializer(replace_surrogates, when_used="json")]


class _Record(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class _Displayed:
    """Notebook display hooks; the HTML lives in :mod:`policy_topics.display`."""

    def _repr_html_(self) -> str:
        from policy_topics.display import render

        return render(self)  # type: ignore[arg-type]

    def _repr_mimebundle_(
        self, include: Any = None, exclude: Any = None, **kwargs: Any
    ) -> dict[str, str]:
        from policy_topics.display import mimebundle

        return mimebundle(self, include, exclude)  # type: ignore[arg-type]


class Match(_Record):
    """One accepted occurrence of a taxonomy term."""

    term: str = Field(description="The taxonomy term as written (or a token pattern's label).")
    text: Text = Field(description="The matched text, verbatim: text[start:end].")
    start: int = Field(ge=0, description="Character offset of the first matched character.")
    end: int = Field(ge=0, description="Character offset one past the last matched character.")
    topic: str = Field(description="Id of the top-level topic.")
    subtopic: str | None = Field(
        default=None, description="Dotted id path of the sub-topic, or None for a topic-level term."
    )
    weight: float = Field(default=1.0, description="Weight of the term in the taxonomy.")


class Quote(_Record, _Displayed):
    """A verbatim supporting sentence for one cooperation area."""

    text: Text = Field(description="The sentence, verbatim: text[start:end].")
    start: int = Field(ge=0, description="Character offset of the sentence start.")
    end: int = Field(ge=0, description="Character offset one past the sentence end.")
    sentence: int = Field(ge=0, description="Index of the sentence in the document.")
    score: float = Field(ge=0, le=1, description="Strength of this sentence's evidence, in [0, 1].")
    matches: list[Match] = Field(description="Matches of this area's terms in the sentence.")
    cues: list[str] = Field(default_factory=list, description="Cooperation cue terms found.")
    occurrences: int = Field(
        default=1, ge=1, description="How often this sentence occurs verbatim in the document."
    )
    page: int | None = Field(
        default=None,
        ge=1,
        description="The 1-based page of the PDF the sentence starts on (where it first "
        "occurs, when it occurs more than once); None when the document has no pages: "
        "plain text, HTML, DOCX, strings.",
    )


class SubtopicCount(_Record):
    """Mentions of one sub-topic."""

    id: str = Field(description="Dotted id path of the sub-topic.")
    label: str = Field(description="Label of the sub-topic.")
    mentions: int = Field(ge=0, description="Accepted matches of the sub-topic's terms.")


class ScoreBreakdown(_Record):
    """The inputs of an area's score, so a user can see why it scored what it did."""

    evidence: float = Field(
        ge=0, description="Sum over distinct tagged sentences of min(1, term weights) x cue factor."
    )
    distinct_terms: int = Field(ge=0, description="Number of different terms matched.")
    cue_sentences: int = Field(ge=0, description="Distinct tagged sentences holding a cue.")
    sentence_share: float = Field(
        ge=0, le=1, description="Tagged sentences divided by all sentences of the document."
    )


class CooperationArea(_Record, _Displayed):
    """One cooperation area found in a document, with its evidence."""

    topic: str = Field(description="Stable topic id from the taxonomy.")
    label: str = Field(description="Topic label from the taxonomy.")
    score: float = Field(ge=0, le=1, description="Confidence that the document commits to it.")
    mentions: int = Field(ge=0, description="Accepted matches, repeats included.")
    sentences: int = Field(ge=0, description="Sentences tagged with this topic, repeats included.")
    terms: list[str] = Field(description="Distinct terms matched, most frequent first.")
    subtopics: list[SubtopicCount] = Field(description="Sub-topics found, most mentioned first.")
    quotes: list[Quote] = Field(description="Supporting sentences, best first, deduplicated.")
    breakdown: ScoreBreakdown = Field(description="Inputs of the score.")


class SentenceTags(_Record):
    """A sentence that carries at least one tag, with every accepted match."""

    index: int = Field(ge=0, description="Index of the sentence in the document.")
    start: int = Field(ge=0, description="Character offset of the sentence start.")
    end: int = Field(ge=0, description="Character offset one past the sentence end.")
    topics: list[str] = Field(description="Topics tagged on the sentence, highest score first.")
    scores: dict[str, float] = Field(description="Sentence score per topic, in [0, 1].")
    matches: list[Match] = Field(description="Every accepted match, in text order.")
    cues: list[str] = Field(default_factory=list, description="Cooperation cue terms found.")
    page: int | None = Field(
        default=None,
        ge=1,
        description="The 1-based page of the PDF the sentence starts on; None when the "
        "document has no pages: plain text, HTML, DOCX, strings.",
    )


class ErrorInfo(_Record):
    """Why a document could not be processed."""

    type: Text = Field(description="Exception class name, e.g. 'UnicodeDecodeError'.")
    message: Text = Field(description="Human-readable explanation.")


class DocumentResult(_Record, _Displayed):
    """Everything found in one document."""

    doc_id: Text | None = Field(default=None, description="Caller's id for the document.")
    metadata: dict[str, Any] = Field(
        default_factory=dict,
        description="Caller's metadata, as given (numpy and pandas values as plain ones).",
    )
    taxonomy: str = Field(description="Name of the taxonomy used.")
    taxonomy_version: str = Field(description="Version of the taxonomy used.")
    language: str = Field(description="Language of the pipeline.")
    n_sentences: int = Field(ge=0, description="Number of sentences in the document.")
    n_chars: int = Field(default=0, ge=0, description="Length of the document in characters.")
    areas: list[CooperationArea] = Field(description="Areas found, highest score first.")
    sentences: list[SentenceTags] = Field(description="Every tagged sentence, in text order.")
    error: ErrorInfo | None = Field(
        default=None, description="Set when the document failed; the other fields are then empty."
    )

    @property
    def ok(self) -> bool:
        """True when the document was processed without error."""
        return self.error is None

    def area(self, topic: str) -> CooperationArea | None:
        """The area with this topic id, or None when it was not found."""
        return next((a for a in self.areas if a.topic == topic), None)


class _LineResult(DocumentResult):
    """A record a worker process has already written as its JSON line, for the command line.

    Only ``doc_id``, ``error`` and ``line`` are set (it is built with
    ``model_construct``): the main process of ``extract --n-process N -o
    out.jsonl`` writes ``line`` as it came, and reads the other two for its
    messages, rather than validating every record into models and writing
    it out again, which was most of its work once started.
    """

    line: str


def check_many(results: object, who: str) -> None:
    """Raise TypeError when one result (or a str) is passed where many are expected.

    A pydantic model iterates as its fields, a dict (one of ``extract_bag``'s
    result dicts) and a DataFrame as their keys: each would fail far from the
    mistake, or with advice about the keys.

    Example:
        >>> try:
        ...     check_many({"doc_id": "a", "areas": []}, "to_dataframe")
        ... except TypeError as error:
        ...     print(str(error)[:68])
        to_dataframe takes an iterable of DocumentResults, not one dict; mak
    """
    if isinstance(results, DocumentResult | str):
        fix = "pass a list: [result]"
    elif isinstance(results, Mapping) and any(
        isinstance(value, DocumentResult) for value in results.values()
    ):
        fix = "pass its values: results.values()"
    elif isinstance(results, Mapping):
        fix = (
            "make a result of a result dict with DocumentResult.model_validate(d), "
            "and pass a list: [result]"
        )
    elif hasattr(results, "columns") and hasattr(results, "iloc"):  # a pandas DataFrame
        fix = "pass the results themselves (a DataFrame is what to_dataframe makes of them)"
    else:
        return
    raise TypeError(
        f"{who} takes an iterable of DocumentResults, not one {type(results).__name__}; {fix}"
    )


def checked_results(results: Iterable[object], who: str) -> Iterator[DocumentResult]:
    """The results, each checked as it comes; a TypeError names one that is no DocumentResult.

    A result dict (``extract_bag`` gives them, as does ``json.loads`` of a JSON
    Lines record) would otherwise fail far inside with an ``AttributeError``.

    Example:
        >>> try:
        ...     next(checked_results([{"doc_id": "a"}], "to_dataframe"))
        ... except TypeError as error:
        ...     print(str(error)[:57])
        to_dataframe: results[0] is a dict, not a DocumentResult;
    """
    for position, result in enumerate(results):
        if not isinstance(result, DocumentResult):
            if isinstance(result, Mapping):
                fix = (
                    "; make one of a result dict (extract_bag's, or json.loads of a record) "
                    "with DocumentResult.model_validate(d)"
                )
            elif isinstance(result, str | bytes):
                fix = "; make one of a JSON record with DocumentResult.model_validate_json(line)"
            else:
                fix = ""
            raise TypeError(
                f"{who}: results[{position}] is a {type(result).__name__}, "
                f"not a DocumentResult{fix}"
            )
        yield result


def doc_label(result: DocumentResult, position: int) -> str:
    """A document's name in tables and plots: its ``doc_id``, else ``#<position>``.

    Without a name, a document drops out of anything keyed on its id (a
    pandas pivot or groupby skips NA keys), so it is named by its place.

    Args:
        result: The document's result.
        position: Its place among the results passed in, from 0, counting
            every result (failed ones and ones that show nothing too).

    Returns:
        The ``doc_id`` as it is, or ``"#2"`` for the third result without one.

    Example:
        >>> from policy_topics import Extractor
        >>> results = list(Extractor().extract_many(["Tariffs fell.", "Solar grew."]))
        >>> [doc_label(r, i) for i, r in enumerate(results)]
        ['#0', '#1']
        >>> doc_label(Extractor().extract("Tariffs fell.", doc_id="a"), 0)
        'a'
    """
    return result.doc_id if result.doc_id is not None else f"#{position}"
