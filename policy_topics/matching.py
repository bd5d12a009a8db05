"""The spaCy component ``policy_topics`` and its registered factory.

Add it to any pipeline::

    nlp = spacy.blank("en")
    nlp.add_pipe("policy_topics", config={"taxonomy": "default"})
    doc = nlp(text)
    doc.spans["policy_topics"]   # label = topic id, kb_id_ = sub-topic, id_ = term
    doc._.policy_topics          # the DocumentResult

Matching (:meth:`PolicyTopics.match`) and writing to the Doc
(:meth:`PolicyTopics.set_annotations`) are separate steps. When the Doc has no
sentence boundaries yet, the component sets them from its own segmentation;
such a Doc (without lemmas either) is matched from its lexemes by
:class:`~policy_topics.docpath.DocMatcher`, without reading ``doc.text``.

The component writes the sentence hits to ``doc.user_data`` as plain data, so
the Doc serialises (``doc.to_bytes``, ``DocBin``, ``nlp.pipe(n_process=2)``);
``doc._.policy_topics`` builds the DocumentResult from them on first access
and keeps it while the Doc lives. Building it needs a ``policy_topics``
component with the same taxonomy and settings loaded in the process, or one
of the last eight loaded (so Docs outlive the pipeline that tagged them).
"""

from __future__ import annotations

import hashlib
import json
import numbers
import weakref
from bisect import bisect_left
from collections import OrderedDict
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any, cast

import numpy
from spacy.attrs import IDX, IS_SPACE, SENT_START
from spacy.language import Language
from spacy.tokens import Doc, Span
from spacy.util import ensure_path

from policy_topics.docpath import DocMatcher
from policy_topics.hits import Hit, SentenceHits
from policy_topics.records import DocumentResult
from policy_topics.scoring import ResultBuilder, check_options
from policy_topics.taxonomy import Taxonomy, load_taxonomy
from policy_topics.terms import Lexicon
from policy_topics.text import keep_tokens_whole, split_sentences, trim_sentence

__all__ = ["DEFAULT_SPANS_KEY", "PolicyTopics", "make_policy_topics"]

DEFAULT_SPANS_KEY = "policy_topics"
_EXTENSION = "policy_topics"
#: Where the components keep a Doc's hits: by spans key, ``[builder key, sentence
#: spans, hits, number of tokens]``, the component that ran last at the end.
_DATA_KEY = "policy_topics:hits"

#: Result builders of the components alive in this process, by what they build.
#: Several components may build the same results; any one alive will do.
#: Each builder is held here in a one-element frozenset that its component keeps:
#: a builder compiled by mypyc takes no weak reference, a frozenset does.
_BUILDERS: dict[str, weakref.WeakSet[frozenset[ResultBuilder]]] = {}
#: The builders registered last, held even when their component is gone, so
#: Docs outlive the pipeline that tagged them (``list(nlp.pipe(...))`` in a function).
_RECENT: OrderedDict[str, ResultBuilder] = OrderedDict()
_MOST_RECENT = 8
#: Results already built, by spans key, kept while their Doc lives.
_RESULTS: weakref.WeakKeyDictionary[Doc, dict[str, DocumentResult]] = weakref.WeakKeyDictionary()


def _register_extension() -> None:
    if not Doc.has_extension(_EXTENSION):
        Doc.set_extension(_EXTENSION, getter=_result_of)


def _result_of(doc: Doc, spans_key: str | None = None) -> DocumentResult | None:
    """Getter of ``doc._.policy_topics``: the result, built on first access.

    Without ``spans_key``, the result of the component that ran last. None for
    a Doc no component tagged, and for one made of part of a tagged Doc
    (``span.as_doc(copy_user_data=True)``): the hits it carries are the whole
    Doc's.
    """
    stored = doc.user_data.get(_DATA_KEY)
    if not stored:
        return None
    if isinstance(stored, list):  # written by an earlier version: one component's hits
        stored = {DEFAULT_SPANS_KEY: stored}
    if spans_key is None:
        spans_key = next(reversed(stored))
    built = _RESULTS.get(doc)
    if built is not None and spans_key in built:
        return built[spans_key]
    data = stored.get(spans_key)
    if data is None:
        return None
    key, spans, hits, *tokens = data  # earlier versions kept no number of tokens
    if tokens and tokens[0] != len(doc):
        # Not the Doc that was tagged: a copy of part of it (Span.as_doc with
        # copy_user_data), whose offsets the stored hits do not fit.
        return None
    held = next(iter(_BUILDERS.get(key, ())), None)
    builder = next(iter(held)) if held else _RECENT.get(key)
    if builder is None:
        name = key.split("@", 1)[0]
        raise LookupError(
            f"doc._.policy_topics: this Doc was tagged with taxonomy {name!r}, and no "
            "policy_topics component with that taxonomy and the same settings is loaded "
            "in this process (or was among the last "
            f"{_MOST_RECENT} loaded); load the pipeline that tagged it first"
        )
    result = builder.build(doc.text, [(s, e) for s, e in spans], _hits_from_data(hits))
    _RESULTS.setdefault(doc, {})[spans_key] = result
    return result


#: SENT_START values: 1 for the first token and "not a start" (-1) for the others,
#: as uint64; sliced and copied for each Doc, grown when a longer Doc comes.
_NOT_STARTS = numpy.full(1024, -1, dtype="int64").astype("uint64")
_NOT_STARTS[0] = 1


def _sentence_starts(
    doc: Doc, spans: Sequence[tuple[int, int]], idx: numpy.ndarray[Any, Any] | None = None
) -> numpy.ndarray[Any, Any]:
    """The SENT_START column of ``doc`` for ``spans``, for one ``from_array`` call.

    Setting ``is_sent_start`` token by token rescans the Doc. The first sentence
    starts at the first token; each later one at the first token after the
    sentence before it that is not whitespace, so what lies between two of our
    sentences (a bullet marker such as ``-`` or ``1.``) opens the next sentence
    of ``doc.sents`` rather than closing the one before. ``idx`` is the Doc's
    IDX column, when the caller has it.
    """
    global _NOT_STARTS
    n = len(doc)
    if n > len(_NOT_STARTS):
        _NOT_STARTS = numpy.full(2 * n, -1, dtype="int64").astype("uint64")
        _NOT_STARTS[0] = 1
    flags = _NOT_STARTS[:n].copy()
    if len(spans) > 1:
        ends = numpy.fromiter((e for _, e in spans[:-1]), dtype="int64", count=len(spans) - 1)
        after = numpy.searchsorted(doc.to_array(IDX) if idx is None else idx, ends, side="left")
        words = numpy.flatnonzero(doc.to_array(IS_SPACE) == 0)  # tokens that are not whitespace
        first = numpy.searchsorted(words, after, side="left")
        flags[words[first[first < len(words)]]] = 1
    column: numpy.ndarray[Any, Any] = flags.reshape(-1, 1)
    return column


def _hits_from_data(data: Sequence[Any]) -> dict[int, SentenceHits]:
    """Sentence hits from what ``doc.user_data`` holds (lists after a msgpack round trip)."""
    return {
        index: SentenceHits(tuple(Hit(*h) for h in hits), tuple(cues)) for index, hits, cues in data
    }


# Registered on import too, so a Doc read back from bytes shows its hits'
# result, or says which taxonomy it needs, before any component is made.
_register_extension()


@Language.factory(
    "policy_topics",
    default_config={
        "taxonomy": "default",
        "spans_key": DEFAULT_SPANS_KEY,
        "max_quotes": 5,
        "min_score": 0.0,
    },
)
def make_policy_topics(
    nlp: Language, name: str, taxonomy: str, spans_key: str, max_quotes: int, min_score: float
) -> PolicyTopics:
    """Factory of the ``policy_topics`` component (config keys mirror the arguments).

    Args:
        nlp: The pipeline.
        name: Component name.
        taxonomy: Path of a taxonomy YAML file or name of a packaged taxonomy.
        spans_key: Key of ``doc.spans`` to write the matches to.
        max_quotes: Most quotes kept per area.
        min_score: Areas scoring below this are left out of the result.
    """
    return PolicyTopics(
        nlp,
        name,
        taxonomy=taxonomy,
        spans_key=spans_key,
        max_quotes=max_quotes,
        min_score=min_score,
    )


class PolicyTopics:
    """Tags sentences against a taxonomy and stores a DocumentResult on the Doc.

    Args:
        nlp: The pipeline the component belongs to; its tokenizer compiles the terms.
        name: Component name.
        taxonomy: A Taxonomy, a path to a YAML file or a packaged name.
        spans_key: Key of ``doc.spans`` to write to.
        max_quotes: Most quotes kept per area (0 or less keeps all).
        min_score: Areas scoring below this are left out of the result (0 to 1).

    Raises:
        ValueError: ``min_score`` lies outside [0, 1].

    Example:
        >>> import spacy
        >>> nlp = spacy.blank("en")
        >>> _ = nlp.add_pipe("policy_topics")
        >>> doc = nlp("We cut tariffs.")
        >>> [s.label_ for s in doc.spans["policy_topics"]]
        ['trade']
    """

    def __init__(
        self,
        nlp: Language,
        name: str = "policy_topics",
        *,
        taxonomy: str | Path | Taxonomy = "default",
        spans_key: str = DEFAULT_SPANS_KEY,
        max_quotes: int = 5,
        min_score: float = 0.0,
    ) -> None:
        _, min_score = check_options(None, min_score)
        quotes: Any = max_quotes  # typed int, but a config may hold anything
        if isinstance(quotes, bool) or not isinstance(quotes, numbers.Integral):
            raise ValueError(
                f"max_quotes must be a whole number (0 or less keeps all), not {max_quotes!r}"
            )
        _register_extension()
        self.nlp = nlp
        self.name = name
        self.spans_key = spans_key
        self.max_quotes: int | None = int(quotes)  # a numpy integer, say; None keeps all
        self.min_score = min_score
        self._source = taxonomy
        self._lexicon: Lexicon | None = None
        self._doc_matcher: DocMatcher | None = None
        self._doc_reader: DocMatcher | None = None
        self._pending: Exception | None = None
        self._builder: ResultBuilder | None = None
        self._builder_key = ""
        self._builders: dict[str, frozenset[ResultBuilder]] = {}
        try:
            self._set_taxonomy(load_taxonomy(taxonomy))
        except Exception as exc:
            # nlp.from_disk builds the component from its config before restoring
            # the stored taxonomy, whose original path may not exist here.
            self._pending = exc

    def __repr__(self) -> str:
        taxonomy = self._lexicon.taxonomy.name if self._lexicon is not None else self._source
        return (
            f"PolicyTopics(name={self.name!r}, taxonomy={str(taxonomy)!r}, "
            f"spans_key={self.spans_key!r}, max_quotes={self.max_quotes}, "
            f"min_score={self.min_score})"
        )

    def _set_taxonomy(self, taxonomy: Taxonomy) -> None:
        self._lexicon = Lexicon(taxonomy, self.nlp.tokenizer, self.nlp.vocab)
        doc_matcher = DocMatcher(self._lexicon)
        self._doc_matcher = doc_matcher if doc_matcher.usable else None
        self._doc_reader = doc_matcher  # tells whether a Doc's tokens are the tokenizer's
        self._pending = None
        self._builder = None
        self._result_builder()  # Docs read back from bytes can be given their results at once

    def _result_builder(self) -> ResultBuilder:
        """The builder for the current settings, registered for ``doc._.policy_topics``."""
        # None keeps all too, as for an Extractor.
        max_quotes = (
            self.max_quotes if self.max_quotes is not None and self.max_quotes > 0 else None
        )
        builder = self._builder
        if (
            builder is None
            or builder.max_quotes != max_quotes
            or builder.min_score != self.min_score
        ):
            taxonomy = self.taxonomy
            builder = ResultBuilder(
                taxonomy,
                language=self.nlp.lang or "",
                max_quotes=max_quotes,
                min_score=self.min_score,
            )
            digest = hashlib.sha256(taxonomy.model_dump_json().encode("utf-8")).hexdigest()[:16]
            settings = json.dumps([builder.language, max_quotes, self.min_score])
            self._builder_key = f"{taxonomy.name}@{digest}:{settings}"
            # Docs tagged before a change of settings still need the old builder.
            held = self._builders.setdefault(self._builder_key, frozenset((builder,)))
            builder = next(iter(held))
            self._builder = builder
            # Another component with the same taxonomy and settings builds the same
            # results; the set holds each builder while its component keeps it.
            _BUILDERS.setdefault(self._builder_key, weakref.WeakSet()).add(held)
            _RECENT[self._builder_key] = builder
            _RECENT.move_to_end(self._builder_key)
            while len(_RECENT) > _MOST_RECENT:
                _RECENT.popitem(last=False)
        return builder

    @property
    def lexicon(self) -> Lexicon:
        """The compiled taxonomy."""
        if self._lexicon is None:
            assert self._pending is not None
            raise self._pending
        return self._lexicon

    @property
    def taxonomy(self) -> Taxonomy:
        """The taxonomy in use."""
        return self.lexicon.taxonomy

    def __call__(self, doc: Doc) -> Doc:
        found = self._doc_matcher.match(doc) if self._doc_matcher is not None else None
        if found is not None:  # no sentence boundaries or lemmas: matched from the lexemes
            self._annotate(doc, found.spans, found.hits, set_sentences=True, idx=found.idx)
            return doc
        has_sentences = doc.has_annotation("SENT_START")
        # The Doc path declines a Doc without sentences or lemmas only when its
        # tokens may not be this tokenizer's (a word holding a space, another
        # vocabulary): match those tokens, do not tokenise the text again.
        own_tokens = not has_sentences and (
            self._doc_matcher is not None or not self._tokens_are_ours(doc)
        )
        spans, hits = self._match(doc, not own_tokens, has_sentences)
        self._annotate(doc, spans, hits, set_sentences=not has_sentences)
        return doc

    def pipe(self, docs: Iterable[Doc], batch_size: int = 128) -> Iterable[Doc]:
        """Process a stream of Docs (spaCy's ``nlp.pipe`` calls this)."""
        for doc in docs:
            yield self(doc)

    def match(
        self, doc: Doc, *, prefilter: bool = True
    ) -> tuple[list[tuple[int, int]], dict[int, SentenceHits]]:
        """Find sentences and accepted hits without touching the Doc.

        Args:
            doc: The processed Doc.
            prefilter: Skip sentences that cannot hold a term (same result, faster).

        Returns:
            Sentence offsets and the hits per sentence index.
        """
        has_sentences = doc.has_annotation("SENT_START")
        if prefilter and self._doc_matcher is not None and not has_sentences:
            found = self._doc_matcher.match(doc)
            if found is not None:
                return found.spans, found.hits
            prefilter = False  # not this tokenizer's tokens, as in __call__
        elif prefilter and not has_sentences and not self._tokens_are_ours(doc):
            prefilter = False
        return self._match(doc, prefilter, has_sentences)

    def _tokens_are_ours(self, doc: Doc) -> bool:
        return self._doc_reader is None or self._doc_reader.tokens_are_ours(doc)

    def _match(
        self, doc: Doc, prefilter: bool, has_sentences: bool
    ) -> tuple[list[tuple[int, int]], dict[int, SentenceHits]]:
        lexicon = self.lexicon
        text = doc.text  # a join over every token: read it once
        use_lemmas = doc.has_annotation("LEMMA")
        if not has_sentences:
            spans = split_sentences(text, unspaced=lexicon.segments_words)
            if lexicon.segments_words:
                spans = keep_tokens_whole(spans, doc.to_array(IDX).tolist())
            if (
                prefilter
                and not use_lemmas
                and lexicon.splits_runs
                and not lexicon.uses_annotations(doc)
            ):
                # Our boundaries fall on whitespace, so the Doc's tokens are
                # those the fast path gets by tokenising each sentence.
                return spans, lexicon.match_text(text, spans)
        else:
            spans = [
                trimmed
                for s in doc.sents
                if (trimmed := trim_sentence(text, s.start_char, s.end_char)) is not None
            ]
        hits: dict[int, SentenceHits] = {}
        for i, (start, end) in enumerate(spans):
            if prefilter and not use_lemmas and not lexicon.candidate(text, start, end):
                continue
            span = doc.char_span(start, end, alignment_mode="expand")
            if span is None:
                continue
            # The Doc's offsets are the text's; a span widened to a token that
            # runs across the sentence's start starts before ``start``.
            found = lexicon.match(span, offset=span.start_char, use_lemmas=use_lemmas)
            if found.hits:
                hits[i] = found
        return spans, hits

    def result(
        self, doc: Doc, spans: list[tuple[int, int]], hits: dict[int, SentenceHits]
    ) -> DocumentResult:
        """Build the DocumentResult from the output of :meth:`match`."""
        return self._result_builder().build(doc.text, spans, hits)

    def set_annotations(
        self, doc: Doc, spans: list[tuple[int, int]], hits: dict[int, SentenceHits]
    ) -> None:
        """Write the matches to ``doc.spans`` and the result to ``doc._.policy_topics``."""
        self._annotate(doc, spans, hits, set_sentences=not doc.has_annotation("SENT_START"))

    def _annotate(
        self,
        doc: Doc,
        spans: list[tuple[int, int]],
        hits: dict[int, SentenceHits],
        *,
        set_sentences: bool,
        idx: numpy.ndarray[Any, Any] | None = None,
    ) -> None:
        if set_sentences and len(doc):
            doc.from_array([SENT_START], cast(Any, _sentence_starts(doc, spans, idx)))
        group = []
        # With the IDX column at hand, each hit's tokens are found by bisection.
        starts = idx.tolist() if idx is not None and hits else None
        for found in hits.values():
            for hit in found.hits:
                if starts is not None:
                    span: Span | None = Span(
                        doc,
                        bisect_left(starts, hit.start),
                        bisect_left(starts, hit.end),
                        label=hit.topic,
                        kb_id=hit.subtopic or "",
                        span_id=hit.term,
                    )
                else:
                    span = doc.char_span(
                        hit.start,
                        hit.end,
                        label=hit.topic,
                        kb_id=hit.subtopic or "",
                        span_id=hit.term,
                        alignment_mode="expand",
                    )
                if span is not None:
                    group.append(span)
        doc.spans[self.spans_key] = group
        self._result_builder()  # keeps _builder_key in step with changed settings
        data = [(i, h.hits, h.cues) for i, h in hits.items()]
        stored = doc.user_data.get(_DATA_KEY)
        if stored is None:
            doc.user_data[_DATA_KEY] = {self.spans_key: [self._builder_key, spans, data, len(doc)]}
        else:  # another component ran first: this one's result becomes the last
            stored.pop(self.spans_key, None)
            stored[self.spans_key] = [self._builder_key, spans, data, len(doc)]
        if _RESULTS:
            _RESULTS.get(doc, {}).pop(self.spans_key, None)

    def result_of(self, doc: Doc) -> DocumentResult | None:
        """The DocumentResult this component gave ``doc`` (None if it did not tag it).

        ``doc._.policy_topics`` is the result of the component that ran last;
        with several ``policy_topics`` components (each with its own
        ``spans_key``), this gives each one's.
        """
        return _result_of(doc, self.spans_key)

    # --- serialisation -----------------------------------------------------------------

    def _config(self) -> dict[str, Any]:
        return {
            "spans_key": self.spans_key,
            "max_quotes": self.max_quotes,
            "min_score": self.min_score,
        }

    def to_bytes(self, *, exclude: Iterable[str] = ()) -> bytes:
        """Serialise the taxonomy and settings."""
        payload = {"config": self._config(), "taxonomy": self.taxonomy.to_yaml()}
        return json.dumps(payload).encode("utf-8")

    def from_bytes(self, data: bytes, *, exclude: Iterable[str] = ()) -> PolicyTopics:
        """Restore what :meth:`to_bytes` wrote."""
        payload = json.loads(data.decode("utf-8"))
        self._restore(payload["config"], payload["taxonomy"])
        return self

    def to_disk(self, path: str | Path, *, exclude: Iterable[str] = ()) -> None:
        """Write ``taxonomy.yaml`` and ``cfg.json`` into the folder ``path``."""
        folder = ensure_path(path)
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "taxonomy.yaml").write_text(self.taxonomy.to_yaml(), encoding="utf-8")
        (folder / "cfg.json").write_text(json.dumps(self._config()), encoding="utf-8")

    def from_disk(self, path: str | Path, *, exclude: Iterable[str] = ()) -> PolicyTopics:
        """Restore what :meth:`to_disk` wrote."""
        folder = ensure_path(path)
        config = json.loads((folder / "cfg.json").read_text(encoding="utf-8"))
        self._restore(config, (folder / "taxonomy.yaml").read_text(encoding="utf-8"))
        return self

    def _restore(self, config: dict[str, Any], taxonomy_yaml: str) -> None:
        self.spans_key = config["spans_key"]
        self.max_quotes = config["max_quotes"]
        self.min_score = config["min_score"]
        self._set_taxonomy(Taxonomy.from_yaml(taxonomy_yaml, source="taxonomy.yaml"))
