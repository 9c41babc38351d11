"""Identifiers as writers type them: every spelling of one work compares equal, junk is caught."""

from __future__ import annotations

import re
from urllib.parse import quote

import pytest
from hypothesis import given
from hypothesis import strategies as st

from citeflow.references.identifiers import (
    DOI_PATTERN,
    Identifier,
    InvalidIdentifier,
    find_dois,
    normalize_arxiv,
    normalize_doi,
    normalize_isbn,
    normalize_pmcid,
    normalize_pmid,
    parse_identifier,
)


@pytest.mark.parametrize(
    "text",
    [
        "10.1016/S0140-6736(97)11096-0",
        "doi:10.1016/S0140-6736(97)11096-0",
        "DOI: 10.1016/s0140-6736(97)11096-0",
        "https://doi.org/10.1016/S0140-6736(97)11096-0",
        "http://dx.doi.org/10.1016/S0140-6736(97)11096-0",
        "https://doi.org/10.1016%2FS0140-6736%2897%2911096-0",
        "10.1016/S0140-6736(97)11096-0.",
        "10.1016/S0140-6736(97)11096-0),",
        "<https://doi.org/10.1016/S0140-6736(97)11096-0>",
        "doi.org/10.1016/S0140-6736(97)11096-0",
        "https://www.doi.org/10.1016/s0140-6736(97)11096-0;",
    ],
)
def test_every_spelling_of_a_doi_normalises_to_the_same_value(text):
    assert normalize_doi(text) == "10.1016/s0140-6736(97)11096-0"


def test_balanced_brackets_and_semicolons_inside_a_sici_doi_are_kept():
    sici = "10.1890/0012-9658(2006)87[2832:TIOPMA]2.0.CO;2"
    assert normalize_doi(sici) == sici.lower()
    assert normalize_doi(f"({sici})") == sici.lower()


@pytest.mark.parametrize("text", ["10.1234", "11.1234/abc", "doi:", "10.12/abc", "hello", ""])
def test_malformed_dois_are_rejected(text):
    assert normalize_doi(text) is None


def test_parse_identifier_says_why_a_doi_is_malformed():
    with pytest.raises(InvalidIdentifier) as info:
        parse_identifier("doi:10.1056NEJMoa1610020")
    assert "'/'" in info.value.reason
    with pytest.raises(InvalidIdentifier, match="short DOI"):
        parse_identifier("doi:10/")
    # Manubot writes short DOIs; doi.org resolves them.
    assert parse_identifier("doi:10/98p") == Identifier("doi", "10/98p")


def test_doi_pattern_finds_dois_in_prose_without_trailing_punctuation():
    text = "As shown (https://doi.org/10.1056/NEJMoa1610020), and in 10.1186/s13742-015-0103-4."
    assert [d for _, _, d in find_dois(text)] == ["10.1056/nejmoa1610020", "10.1186/s13742-015-0103-4"]
    start, end, _ = find_dois(text)[1]
    assert text[start:end] == "10.1186/s13742-015-0103-4"
    assert re.search(DOI_PATTERN, "see 10.7554/eLife.01567") is not None


@pytest.mark.parametrize(
    "text, expected",
    [("27690741", "27690741"), ("PMID: 27690741", "27690741"), ("pmid:0027690741", "27690741"),
     ("https://pubmed.ncbi.nlm.nih.gov/27690741/", "27690741"), ("0", None), ("12a", None),
     ("1234567890", None)],
)
def test_pmids(text, expected):
    assert normalize_pmid(text) == expected


@pytest.mark.parametrize(
    "text, expected",
    [("PMC5122160", "PMC5122160"), ("pmc5122160", "PMC5122160"), ("pmcid:PMC5122160.2", "PMC5122160"),
     ("https://www.ncbi.nlm.nih.gov/pmc/articles/PMC5122160/", "PMC5122160"), ("PMC", None), ("PMCX1", None)],
)
def test_pmcids(text, expected):
    assert normalize_pmcid(text) == expected


@pytest.mark.parametrize(
    "text, expected",
    [("arXiv:1706.03762", "1706.03762"), ("https://arxiv.org/abs/1706.03762v5", "1706.03762v5"),
     ("hep-th/9901001", "hep-th/9901001"), ("math.AG/0601001", "math.AG/0601001"),
     ("1713.03762", None), ("arXiv:abc", None)],
)
def test_arxiv_ids(text, expected):
    assert normalize_arxiv(text) == expected


@pytest.mark.parametrize(
    "text, expected",
    [("978-0-306-40615-7", "9780306406157"), ("ISBN 0-306-40615-2", "9780306406157"),
     ("isbn:080442957X", "9780804429573"), ("978-0-306-40615-8", None), ("0-306-40615-3", None),
     ("123-4-567-89012-3", None)],
)
def test_isbns_are_checked_and_given_as_isbn13(text, expected):
    assert normalize_isbn(text) == expected


def test_isbn_check_digit_error_is_named():
    with pytest.raises(InvalidIdentifier, match="check digit"):
        parse_identifier("isbn:978-0-306-40615-8")


@pytest.mark.parametrize(
    "text, kind, value",
    [("doi:10.7554/eLife.01567", "doi", "10.7554/elife.01567"),
     ("10.7554/eLife.01567", "doi", "10.7554/elife.01567"),
     ("doi.org/10.7554/eLife.01567", "doi", "10.7554/elife.01567"),
     ("pmid:20495566", "pmid", "20495566"),
     ("20495566", "pmid", "20495566"),
     ("PMC2883744", "pmcid", "PMC2883744"),
     ("arXiv:1706.03762", "arxiv", "1706.03762"),
     ("isbn:9780306406157", "isbn", "9780306406157")],
)
def test_parse_identifier_guesses_the_kind(text, kind, value):
    assert parse_identifier(text) == Identifier(kind, value)


def test_forced_kind_and_unknown_text():
    assert parse_identifier("2883744", kind="pmcid") == Identifier("pmcid", "PMC2883744")
    with pytest.raises(InvalidIdentifier, match="not a DOI"):
        parse_identifier("see above")
    with pytest.raises(InvalidIdentifier, match="PMID"):
        parse_identifier("pmid:abc")
    with pytest.raises(InvalidIdentifier):
        parse_identifier("   ")


def test_identifiers_are_hashable_and_print_as_prefixed_text():
    a = parse_identifier("https://doi.org/10.1056/NEJMoa1610020")
    b = parse_identifier("doi:10.1056/nejmoa1610020")
    assert a == b and len({a, b}) == 1
    assert str(a) == "doi:10.1056/nejmoa1610020"


_suffix = st.text(alphabet="abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-._;()/:", min_size=1,
                  max_size=30).filter(lambda s: s[-1] not in ".;:" and s.count("(") == s.count(")"))


@given(prefix=st.integers(min_value=1000, max_value=999999999), suffix=_suffix)
def test_any_doi_survives_urls_encoding_and_prose_around_it(prefix, suffix):
    doi = f"10.{prefix}/{suffix}"
    expected = doi.lower()
    assert normalize_doi(doi) == expected
    assert normalize_doi(f"https://doi.org/{quote(doi, safe='')}") == expected
    assert normalize_doi(f"doi: {doi}.") == expected
    assert [d for _, _, d in find_dois(f"as shown ({doi}), later")] == [expected]


@given(st.lists(st.integers(min_value=0, max_value=9), min_size=9, max_size=9))
def test_every_isbn10_becomes_a_valid_isbn13(digits):
    body = "".join(map(str, digits))
    check = (11 - sum((10 - i) * d for i, d in enumerate(digits)) % 11) % 11
    isbn10 = body + ("X" if check == 10 else str(check))
    isbn13 = normalize_isbn(isbn10)
    assert isbn13 is not None and isbn13.startswith("978") and isbn13[3:12] == body
    assert normalize_isbn(isbn13) == isbn13
