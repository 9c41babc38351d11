"""Placeholder grammar: what is recognised, where exactly, and what is left alone."""

from __future__ import annotations

import pytest

from citeflow.document.manuscript import parse_manuscript
from citeflow.document.placeholders import find_placeholders
from citeflow.errors import CiteflowError
from citeflow.references.identifiers import Identifier


def found(text: str, **kwargs):
    manuscript = parse_manuscript(text)
    result = find_placeholders(manuscript, **kwargs)
    for placeholder in result:  # offsets point at exactly the placeholder's text
        assert manuscript.text[placeholder.start : placeholder.end] == placeholder.text
    return result


def texts(text: str, **kwargs) -> list[str]:
    return [p.text for p in found(text, **kwargs)]


@pytest.mark.parametrize(
    "written, kind, value",
    [
        ("[doi:10.1056/NEJMoa1610020]", "doi", "10.1056/nejmoa1610020"),
        ("[@doi:10.1056/NEJMoa1610020]", "doi", "10.1056/nejmoa1610020"),
        ("[DOI: 10.1056/NEJMoa1610020]", "doi", "10.1056/nejmoa1610020"),
        ("(doi: 10.1056/NEJMoa1610020)", "doi", "10.1056/nejmoa1610020"),
        ("(PMID 27690741)", "pmid", "27690741"),
        ("[pmid:27690741]", "pmid", "27690741"),
        ("[@pmid:27690741]", "pmid", "27690741"),
        ("[pmcid:PMC6990756]", "pmcid", "PMC6990756"),
        ("[@pmcid:PMC6990756]", "pmcid", "PMC6990756"),
        ("https://doi.org/10.1016/S0140-6736(17)31191-1", "doi", "10.1016/s0140-6736(17)31191-1"),
        ("http://dx.doi.org/10.1038/nrd4624", "doi", "10.1038/nrd4624"),
        ("<https://doi.org/10.1038/nrd4624>", "doi", "10.1038/nrd4624"),
        ("@doi:10.1038/nrd4624", "doi", "10.1038/nrd4624"),
    ],
)
def test_identifier_forms(written, kind, value):
    text = f"Dupilumab blocks IL-4 signalling {written} in adults.\n"
    (placeholder,) = found(text)
    assert placeholder.kind == "identifier"
    assert placeholder.text == written
    assert placeholder.identifiers == [(Identifier(kind, value), "")]
    assert placeholder.malformed is None


def test_prose_punctuation_after_a_pasted_link_is_not_part_of_it():
    text = "As shown (see https://doi.org/10.1038/nrd4624). Then http://doi.org/10.1056/x1234, ok.\n"
    assert texts(text) == ["https://doi.org/10.1038/nrd4624", "http://doi.org/10.1056/x1234"]


def test_several_identifiers_in_one_bracket_with_prefix_and_locators():
    text = "Trials [see doi:10.1056/NEJMoa1610020, p. 3; pmid:28478972; @castro2018dupilumab, fig. 2].\n"
    (placeholder,) = found(text)
    assert placeholder.text == text[7:-2]
    assert placeholder.identifiers == [
        (Identifier("doi", "10.1056/nejmoa1610020"), "p. 3"),
        (Identifier("pmid", "28478972"), ""),
    ]
    assert placeholder.items[0].prefix == "see"
    assert placeholder.items[2].key == "castro2018dupilumab"
    assert placeholder.locator == "p. 3"


def test_sici_doi_with_brackets_and_semicolon_stays_one_identifier():
    doi = "10.1890/0012-9658(2006)87[2832:TIOPMA]2.0.CO;2"
    (placeholder,) = found(f"Ecology [doi:{doi}] matters.\n")
    assert placeholder.identifiers == [(Identifier("doi", doi.lower()), "")]


def test_malformed_identifier_is_a_placeholder_with_a_reason():
    (placeholder,) = found("A claim [doi:11.1056/abc] here.\n")
    assert placeholder.kind == "identifier"
    assert placeholder.identifiers == [("doi:11.1056/abc", "")]
    assert "10." in placeholder.malformed


@pytest.mark.parametrize(
    "written",
    [
        "[citation needed]",
        "[Citation Needed]",
        "[citation]",
        "[CITE]",
        "[ref]",
        "[refs]",
        "(ref)",
        "[@?]",
        "[@CITATION-NEEDED]",
        "[@citation_needed]",
        "[TODO: cite the CHRONOS trial]",
        "TODO: cite the CHRONOS trial",
        "XXX cite Blauvelt",
        "[insert reference here]",
    ],
)
def test_freetext_forms(written):
    text = f"Dupilumab improves eczema in most adults {written}. Next sentence.\n"
    (placeholder,) = found(text)
    assert placeholder.kind == "freetext"
    assert placeholder.text == written
    assert placeholder.sentence() == "Dupilumab improves eczema in most adults ."


def test_note_from_the_sample_article_is_one_placeholder_for_the_paragraph_before_it():
    paragraph = (
        "While dedicated research is limited, studies often mention joint pain as an adverse event. "
        "However, these studies often focus on efficacy. (Note: Specific citations would be inserted "
        "here, referencing relevant studies from ScienceDirect and other reputable journals, providing "
        "proper author attributions and publication details. The exact studies would depend on current "
        "available research.)\n"
    )
    (placeholder,) = found(paragraph)
    assert placeholder.text.startswith("(Note: Specific citations")
    assert placeholder.text.endswith("available research.)")
    assert "joint pain as an adverse event" in placeholder.sentence()
    assert "Note" not in placeholder.sentence()


def test_sentence_saying_citations_will_be_added_is_a_placeholder():
    text = "Joint pain is reported. Citations would be added here in the final version. More text.\n"
    assert texts(text) == ["Citations would be added here in the final version."]


def test_marker_after_full_stop_stands_for_that_sentence():
    text = "First sentence about asthma.[citation needed] Second sentence about eczema.\n"
    (placeholder,) = found(text)
    assert placeholder.sentence() == "First sentence about asthma."


def test_positions_in_lists_tables_footnotes_quotes_and_headings():
    text = (
        "---\ntitle: x\n---\n"
        "# Dupilumab [citation needed]\n\n"
        "- item one [doi:10.1056/NEJMoa1610020]\n"
        "  1. nested [pmid:27690741]\n\n"
        "> quoted [CITE] text\n> more [pmcid:PMC6990756]\n\n"
        "| drug | note |\n|---|---|\n| dupilumab | [ref] |\n\n"
        "Body.[^1]\n\n"
        "[^1]: Footnote text [doi:10.1038/nrd4624].\n"
    )
    manuscript = parse_manuscript(text)
    result = find_placeholders(manuscript)
    assert [p.text for p in result] == [
        "[citation needed]",
        "[doi:10.1056/NEJMoa1610020]",
        "[pmid:27690741]",
        "[CITE]",
        "[pmcid:PMC6990756]",
        "[ref]",
        "[doi:10.1038/nrd4624]",
    ]
    positions = [manuscript.line_col(p.start) for p in result]
    assert positions == [(4, 13), (6, 12), (7, 13), (9, 10), (10, 8), (14, 15), (18, 21)]


def test_code_links_comments_and_math_are_left_alone():
    text = (
        "Code `[doi:10.1056/NEJMoa1610020]` and [a link](https://example.org/about)\n"
        "and ![figure](https://doi.org/10.1038/nrd4624) and\n"
        "<!-- [citation needed] --> and $[ref]$ stay.\n\n"
        "```\n[doi:10.1056/NEJMoa1610020] [citation needed]\n```\n\n"
        "    [pmid:27690741] in an indented code block\n\n"
        "[label]: https://doi.org/10.1056/NEJMoa1610020\n"
    )
    assert found(text) == []


def test_a_link_to_a_work_keeps_its_text_and_whole_link_is_the_placeholder():
    (placeholder,) = found("and [Gandhi et al.](https://doi.org/10.1038/nrd4624) and\n")
    assert placeholder.form == "link"
    assert placeholder.kept_text == "Gandhi et al."
    assert placeholder.items[0].identifier == Identifier("doi", "10.1038/nrd4624")
    # a link whose text is the identifier itself is replaced whole
    (placeholder,) = found("and [https://doi.org/10.1038/nrd4624](https://doi.org/10.1038/nrd4624) and\n")
    assert placeholder.kept_text == ""
    assert placeholder.items[0].identifier == Identifier("doi", "10.1038/nrd4624")


def test_crlf_and_bom_offsets_are_exact():
    text = "\ufeffLine one [CITE].\r\nLine two [doi:10.1038/nrd4624].\r\n"
    manuscript = parse_manuscript(text)
    result = find_placeholders(manuscript)
    assert [manuscript.text[p.start : p.end] for p in result] == ["[CITE]", "[doi:10.1038/nrd4624]"]
    assert [manuscript.line_col(p.start) for p in result] == [(1, 10), (2, 10)]


def test_placeholder_over_a_line_break_keeps_its_source_text():
    text = "Dupilumab (doi:\n10.1056/NEJMoa1610020) works.\n"
    (placeholder,) = found(text)
    assert placeholder.text == "(doi:\n10.1056/NEJMoa1610020)"


def test_extra_patterns_from_config():
    text = "Dupilumab helps {{cite: CHRONOS}} most adults.\n"
    assert texts(text) == []
    assert texts(text, extra_patterns=[r"\{\{cite:[^}]*\}\}"]) == ["{{cite: CHRONOS}}"]


def test_bad_extra_pattern_is_an_input_error():
    with pytest.raises(CiteflowError, match="invalid regular expression"):
        found("Text.\n", extra_patterns=["[unclosed"])


def test_ordinary_citations_and_brackets_are_not_placeholders():
    text = "Known [@simpson2016two; @castro2018dupilumab, p. 4] and [see table 2] and [^1].\n"
    assert found(text) == []
