"""Sentence segmentation and normalisation."""

from __future__ import annotations

import re

import spacy
from hypothesis import given
from hypothesis import strategies as st

from policy_topics.text import (
    _END_RE,
    MAX_SENTENCE_CHARS,
    collapse_whitespace,
    dedup_key,
    normalize_term,
    split_sentences,
)


def sentences(text: str) -> list[str]:
    return [text[s:e] for s, e in split_sentences(text)]


def test_heading_without_punctuation_is_its_own_sentence() -> None:
    text = "Trade, Investment, and Regulatory Alignment\nThe government outlined plans."
    assert sentences(text) == [
        "Trade, Investment, and Regulatory Alignment",
        "The government outlined plans.",
    ]


def test_all_caps_heading() -> None:
    text = "II. ENERGY COOPERATION\nBoth sides will expand solar power."
    assert sentences(text) == ["ENERGY COOPERATION", "Both sides will expand solar power."]


def test_bullets_start_sentences_without_their_markers() -> None:
    text = "Priority areas:\n- trade facilitation\n• energy grids\n1. digital economy\n2) finance"
    assert sentences(text) == [
        "Priority areas:",
        "trade facilitation",
        "energy grids",
        "digital economy",
        "finance",
    ]


def test_soft_line_break_inside_paragraph_is_joined() -> None:
    text = "Both sides support local currency\nsettlements and currency swaps.\n\nNext paragraph."
    assert sentences(text) == [
        "Both sides support local currency\nsettlements and currency swaps.",
        "Next paragraph.",
    ]


def test_wrapped_bullet_continues() -> None:
    text = (
        "- China is reinforcing long-term cooperation with\n"
        "  Latin America despite tariffs.\n- Next"
    )
    assert sentences(text)[0] == (
        "China is reinforcing long-term cooperation with\n  Latin America despite tariffs."
    )


def test_blank_line_breaks_paragraphs_even_without_punctuation() -> None:
    text = "First paragraph without full stop\n\nsecond one in lower case"
    assert sentences(text) == ["First paragraph without full stop", "second one in lower case"]


def test_abbreviations_do_not_end_sentences() -> None:
    text = (
        "The U.S. economy and the E.U. market grew, e.g. in Jan. and Feb. of this year. "
        "Mr. Smith signed Agreement No. 5 with Dr. Lee. Then J. K. Rowling spoke."
    )
    assert sentences(text) == [
        "The U.S. economy and the E.U. market grew, e.g. in Jan. and Feb. of this year.",
        "Mr. Smith signed Agreement No. 5 with Dr. Lee.",
        "Then J. K. Rowling spoke.",
    ]


def test_quotes_and_brackets_stay_with_their_sentence() -> None:
    text = 'He said "we will cut tariffs." (The deal was signed.) "Next," she said. [Note.] Done!'
    assert sentences(text) == [
        'He said "we will cut tariffs."',
        "(The deal was signed.)",
        '"Next," she said.',
        "[Note.]",
        "Done!",
    ]


def test_lower_case_after_full_stop_does_not_split() -> None:
    assert sentences("Costs rose by 3.5 per cent. in real terms, etc. and more.") == [
        "Costs rose by 3.5 per cent. in real terms, etc. and more."
    ]


def test_question_and_exclamation() -> None:
    assert sentences("Will trade grow? Yes! It will.") == ["Will trade grow?", "Yes!", "It will."]


def unspaced(text: str) -> list[str]:
    return [text[s:e] for s, e in split_sentences(text, unspaced=True)]


def test_chinese_and_japanese_sentence_ends() -> None:
    zh = "中美贸易合作。双方将降低关税！会议在北京举行？是的。"
    # Before whitespace, "。！？" end a sentence whatever the tokenizer.
    assert sentences("中美贸易合作。 双方将降低关税。") == ["中美贸易合作。", "双方将降低关税。"]
    assert sentences(zh) == [zh]  # a boundary with no space after it is for word segmenters
    assert unspaced(zh) == ["中美贸易合作。", "双方将降低关税！", "会议在北京举行？", "是的。"]
    # Closing quotes and brackets stay with their sentence.
    assert unspaced("他说：「我们将扩大贸易。」随后双方签署协议。") == [
        "他说：「我们将扩大贸易。」",
        "随后双方签署协议。",
    ]
    assert unspaced("貿易を拡大する（第3条）。次に、エネルギー。") == [
        "貿易を拡大する（第3条）。",
        "次に、エネルギー。",
    ]
    # A comma or enumeration mark after an end starts no sentence.
    assert unspaced("是吗？、不是。") == ["是吗？、不是。"]
    # A line that ends with "。" ends its sentence, as one ending with "." does.
    assert sentences("第一章 贸易合作。\n扩大能源合作。") == ["第一章 贸易合作。", "扩大能源合作。"]
    # "." "!" "?" still need whitespace after them.
    assert unspaced("Tariffs fell.Exports grew! Next.") == ["Tariffs fell.Exports grew!", "Next."]


def test_crlf_and_cr_line_ends() -> None:
    text = "Heading One\r\nThe first sentence.\rThe second sentence."
    assert sentences(text) == ["Heading One", "The first sentence.", "The second sentence."]


def test_long_line_without_punctuation_is_cut_at_whitespace() -> None:
    text = " ".join(["word"] * 2000)
    spans = split_sentences(text)
    assert len(spans) > 1
    assert all(e - s <= MAX_SENTENCE_CHARS for s, e in spans)
    assert " ".join(text[s:e] for s, e in spans) == text


def test_long_token_without_whitespace_is_kept_whole() -> None:
    text = "x" * 5000 + " tail."
    assert sentences(text) == ["x" * 5000, "tail."]


def test_empty_and_blank() -> None:
    assert split_sentences("") == []
    assert split_sentences(" \n\t\n ") == []


def test_seed_style_headings_are_not_merged() -> None:
    text = (
        "China Latin America Industrial Cooperation Focus Areas\n"
        "The policy framework highlights multiple sectors.\n"
        "Energy, Digital Infrastructure, and Manufacturing Synergies\n"
        "China further outlined plans.\n"
        "Share:"
    )
    assert sentences(text) == [
        "China Latin America Industrial Cooperation Focus Areas",
        "The policy framework highlights multiple sectors.",
        "Energy, Digital Infrastructure, and Manufacturing Synergies",
        "China further outlined plans.",
        "Share:",
    ]


@given(st.text(alphabet=st.characters(codec="utf-8"), max_size=400))
def test_segmentation_invariants(text: str) -> None:
    spans = split_sentences(text, max_chars=50)
    previous_end = 0
    for start, end in spans:
        assert previous_end <= start < end <= len(text)
        assert not text[start].isspace() and not text[end - 1].isspace()
        # Boundaries fall on whitespace (or the text's ends), so they align with spaCy tokens.
        assert start == 0 or text[start - 1].isspace()
        assert end == len(text) or text[end].isspace()
        previous_end = end
    covered = "".join(text[s:e] for s, e in spans)
    assert "".join(ch for ch in covered if not ch.isspace()) in "".join(
        ch for ch in text if not ch.isspace()
    )


_NLP = spacy.blank("en")


@given(st.text(alphabet=st.characters(codec="utf-8"), max_size=300))
def test_sentence_boundaries_align_with_spacy_tokens(text: str) -> None:
    doc = _NLP.make_doc(text)
    for start, end in split_sentences(text):
        assert doc.char_span(start, end) is not None


# The sentence-end pattern before it was made linear: the same matches, found in
# quadratic time on a long run of end characters with no space after it.
_BACKTRACKING_END_RE = re.compile(r"[.!?…。｡！？]+[\"'”’»)\]」』）】〕〗〙〛］｝〉》]*(\s+)")


@given(st.text(alphabet=st.sampled_from(list(".!?…。！？」）\"')]”’» \n\taB")), max_size=200))
def test_sentence_end_pattern_finds_what_the_backtracking_one_found(text: str) -> None:
    linear = [(m.span(), m.span("space")) for m in _END_RE.finditer(text)]
    assert linear == [(m.span(), m.span(1)) for m in _BACKTRACKING_END_RE.finditer(text)]


def test_long_runs_of_sentence_end_characters() -> None:
    for mark in ".!?…":
        text = "We agreed to cut tariffs" + mark * 1_000 + "then more. Next one."
        assert sentences(text) == [text[: text.index(" Next")], "Next one."]
        # Longer than MAX_SENTENCE_CHARS: the first sentence is cut at its spaces.
        text = "We agreed to cut tariffs" + mark * 20_000 + "then more. Next one."
        assert sentences(text)[-1] == "Next one."
        assert sentences(text)[-3] == "tariffs" + mark * 20_000 + "then"


def test_normalisation_helpers() -> None:
    assert collapse_whitespace(" a \n\t b ") == "a b"
    assert normalize_term("e\u0301nergie") == "\u00e9nergie"
    assert dedup_key("Trade\u00a0 GROWS.") == dedup_key("trade grows.")


def test_a_line_ending_in_a_broken_word_goes_on() -> None:
    # A short title-case line looks like a heading, but a word broken at its
    # hyphen goes on on the next line.
    text = "We want South-\nSouth cooperation.\nTRADE AND ENERGY-\nCooperation plan."
    assert [text[s:e] for s, e in split_sentences(text)] == [
        "We want South-\nSouth cooperation.",
        "TRADE AND ENERGY-\nCooperation plan.",
    ]
    # A bullet on the next line still starts a sentence.
    assert len(split_sentences("Items of trade-\n- tariffs\n- quotas")) == 3
