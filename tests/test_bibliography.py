"""Bibliographies: real, messy BibTeX loads; lookups by any DOI spelling; appends lose nothing."""

from __future__ import annotations

import json
import os
import re
import shutil
from pathlib import Path

import pypandoc
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from citeflow.errors import CiteflowError
from citeflow.references.bibliography import (
    Reference,
    append_references,
    decode_latex,
    load_bibliography,
    make_key,
    reference_from_csl,
    to_bibtex,
)
from citeflow.references.identifiers import Identifier, normalize_doi

DATA = Path(__file__).parent / "data" / "bibtex"
SOURCES = Path(__file__).parent / "data" / "sources"
PANDOC_READABLE = ["jabref_complex.bib", "thesis_gotovos_phd.bib", "zotero_bbt_export_issue901.bib"]


def _plain(title: str) -> str:
    """Pandoc sentence-cases English titles and keeps <i>; compare the words only."""
    title = re.sub(r"<[^>]+>", "", title).replace("\u2019", "'").replace("\u2018", "'")
    return " ".join(title.split()).casefold()


@pytest.mark.parametrize("name", PANDOC_READABLE)
def test_messy_bibtex_reads_like_pandoc_reads_it(name):
    path = DATA / name
    pandoc_items = json.loads(pypandoc.convert_file(str(path), "csljson", format="bibtex"))
    bib = load_bibliography([path])
    assert {item["id"] for item in pandoc_items} == set(bib.keys())
    compared = 0
    for item in pandoc_items:
        ref = bib.get(item["id"])
        assert _plain(ref.title) == _plain(item.get("title", "")), item["id"]
        assert ref.doi == normalize_doi(item.get("DOI")), item["id"]
        compared += 1
    assert compared == len(pandoc_items)


def test_jabref_library_decodes_accents_and_doi_urls():
    bib = load_bibliography([DATA / "jabref_complex.bib"])
    ref = bib.get("1137631")
    assert ref.authors[:3] == ["Boström, Gustav", "Wäyrynen, Jaana", "Bodén, Marine"]
    assert ref.doi == "10.1145/1137627.1137631"  # written as http://doi.acm.org/...
    assert ref.pages == "11-18"
    assert ref.year == 2006
    assert ref.type == "paper-conference"
    assert ref.line == 36
    assert bib.get("deBraga2001").title.startswith("The postcranial anatomy of Procolophon (")
    # lookups accept any spelling of the DOI
    assert bib.by_doi("https://doi.org/10.1007/S00779-005-0347-6").key == "1102917"
    assert bib.find(Identifier("doi", "10.1007/s00779-005-0347-6")).key == "1102917"


def test_string_macros_and_duplicate_keys_in_a_thesis_bibliography():
    bib = load_bibliography([DATA / "thesis_gotovos_phd.bib"])
    ref = bib.get("defreitas01")
    assert ref.container == "Conference on Uncertainty in Artificial Intelligence (UAI)"
    assert ref.authors[1] == "Højen-Sørensen, Pedro"
    duplicate = [w for w in bib.warnings if w.kind == "duplicate_key"]
    assert len(duplicate) == 1 and (duplicate[0].key, duplicate[0].line) == ("iyer13", 493)
    assert "iyer13" in str(duplicate[0]) and "thesis_gotovos_phd.bib:493" in str(duplicate[0])
    assert "iyer13" in bib and len(bib) == 83


def test_string_file_listed_first_defines_the_macros_of_the_next_file():
    alone = load_bibliography([DATA / "plume_slicing.bib"])
    together = load_bibliography([DATA / "plume_bibstring-unabbrev.bib", DATA / "plume_slicing.bib"])
    undefined_alone = [w for w in alone.warnings if w.kind == "undefined_macro"]
    undefined_together = [w for w in together.warnings if w.kind == "undefined_macro"]
    assert len(undefined_together) < len(undefined_alone)
    assert any(w.kind == "dangling_crossref" and "PLDI89" in w.message for w in together.warnings)
    assert all(w.line for w in undefined_alone)


def test_parenthesised_entries_that_pandoc_rejects_still_load():
    path = DATA / "plume_slicing.bib"
    with pytest.raises(RuntimeError):
        pypandoc.convert_file(str(path), "csljson", format="bibtex")
    bib = load_bibliography([path])
    assert "abramsky" in bib
    assert bib.get("abramsky").line == 788


def test_crossref_field_fills_missing_fields(tmp_path):
    bib_path = tmp_path / "x.bib"
    bib_path.write_text(
        "@inproceedings{child, author={Doe, Jane}, title={Child paper}, crossref={parent}}\n"
        "@proceedings{parent, title={Proceedings of Something}, year={1999}, publisher={ACM}}\n",
        encoding="utf-8",
    )
    child = load_bibliography([bib_path]).get("child")
    assert child.container == "Proceedings of Something"
    assert child.year == 1999 and child.publisher == "ACM"


def test_syntax_error_names_file_and_line(tmp_path):
    bad = tmp_path / "bad.bib"
    bad.write_text("@article{a,\n  title = {Fine},\n  year = 2001\n}\n\n@article{b,\n  title = {Unclosed,\n  year = 2002\n", encoding="utf-8")
    with pytest.raises(CiteflowError) as info:
        load_bibliography([bad])
    assert Path(info.value.file) == bad
    assert info.value.line is not None and info.value.line >= 6
    assert "syntax" in info.value.message


def test_missing_file_is_an_error_unless_allowed(tmp_path):
    with pytest.raises(CiteflowError) as info:
        load_bibliography([tmp_path / "nope.bib"])
    assert "nope.bib" in str(info.value)
    assert len(load_bibliography([tmp_path / "nope.bib"], missing_ok=True)) == 0


def test_duplicates_finds_one_work_under_two_keys(tmp_path):
    path = tmp_path / "dup.bib"
    path.write_text(
        "@article{one, title={A}, doi={10.1056/NEJMoa1610020}}\n"
        "@article{two, title={A again}, doi={https://doi.org/10.1056/nejmoa1610020}}\n"
        "@article{three, title={B}, doi={10.1/other-but-malformed}}\n",
        encoding="utf-8",
    )
    bib = load_bibliography([path])
    dups = bib.duplicates()
    assert [(doi, [r.key for r in refs]) for doi, refs in dups] == [("10.1056/nejmoa1610020", ["one", "two"])]


def test_csl_json_bibliography_with_lines(tmp_path):
    items = [json.loads((SOURCES / "cslj" / "10.15497_rda00052.csl.json").read_text(encoding="utf-8")),
             {"id": "smith2020", "type": "article-journal", "title": "T", "PMID": "27690741"}]
    path = tmp_path / "refs.json"
    path.write_text(json.dumps(items, indent=2), encoding="utf-8")
    bib = load_bibliography([path])
    assert bib.by_pmid("PMID: 27690741").key == "smith2020"
    assert bib.get("smith2020").line is not None
    first = bib.references[0]
    assert first.doi == "10.15497/rda00052"
    assert first.authors and "," not in first.authors[0]  # a literal (organisation) author
    broken = tmp_path / "broken.json"
    broken.write_text('[\n {"id": "x",\n', encoding="utf-8")
    with pytest.raises(CiteflowError) as info:
        load_bibliography([broken])
    assert info.value.line == 3


def test_decode_latex_for_matching():
    assert decode_latex(r"Elementary bounds on {P}oincar\'{e} and log-{S}obolev") == \
        "Elementary bounds on Poincaré and log-Sobolev"
    assert decode_latex(r"{The anatomy of \textit{Procolophon}}") == "The anatomy of Procolophon"
    assert decode_latex(r"50\% of {\"U}ber \& co") == "50% of Über & co"


def test_make_key_style_and_collisions():
    ref = Reference(key="", title="The Ileal-lymphoid-nodular hyperplasia", authors=["Wakefield, A. J."], year=1998)
    assert make_key(ref, []) == "wakefield1998ileal"
    assert make_key(ref, ["wakefield1998ileal"]) == "wakefield1998ileala"
    assert make_key(ref, ["Wakefield1998Ileal", "wakefield1998ileala"]) == "wakefield1998ilealb"
    assert make_key(Reference(key="", title="Untitled"), []) == "anonnduntitled"
    assert make_key(Reference(key="", title="Über Ærø", authors=["Sørensen, Øle"], year=2001), []) == "sorensen2001uber"


def test_make_key_for_an_organisation_uses_its_first_significant_word():
    org = Reference(key="", title="Of mice and men", authors=["The Genome Denmark Consortium"], year=2015)
    assert make_key(org, []) == "genome2015mice"


def _sample_refs() -> list[Reference]:
    return [
        Reference(key="", type="article-journal", title="Dupilumab & topical 50% steroids_{x}",
                  authors=["Simpson, Eric L.", "World Health Organization"], year=2016,
                  container="N Engl J Med", volume="375", issue="24", pages="2335-2348",
                  doi="10.1056/nejmoa1610020", pmid="27690741"),
        Reference(key="", type="chapter", title="Second one", authors=["Ås, Peder"], year=2020,
                  doi="10.1007/978-3-662-46370-3_13"),
    ]


def test_append_keeps_every_existing_byte_and_pandoc_reads_the_result(tmp_path):
    path = tmp_path / "library.bib"
    shutil.copy(DATA / "jabref_complex.bib", path)
    before = path.read_bytes()
    written = append_references(path, _sample_refs()).references
    after = path.read_bytes()
    assert after.startswith(before)
    assert [r.key for r in written] == ["simpson2016dupilumab", "as2020second"]
    items = {i["id"]: i for i in json.loads(pypandoc.convert_file(str(path), "csljson", format="bibtex"))}
    assert items["simpson2016dupilumab"]["DOI"] == "10.1056/nejmoa1610020"
    assert _plain(items["simpson2016dupilumab"]["title"]) == _plain("Dupilumab & topical 50% steroids_{x}")
    assert {"literal": "World Health Organization"} in items["simpson2016dupilumab"]["author"]
    reloaded = load_bibliography([path])
    assert reloaded.get("as2020second").line == written[1].line
    assert reloaded.by_doi("10.1056/NEJMoa1610020").pages == "2335-2348"


def test_append_keeps_crlf_and_a_missing_final_newline(tmp_path):
    path = tmp_path / "crlf.bib"
    original = b"@article{old,\r\n  title = {Old}\r\n}"
    path.write_bytes(original)
    append_references(path, _sample_refs()[:1])
    data = path.read_bytes()
    assert data.startswith(original)
    assert b"\n" not in data.replace(b"\r\n", b"")
    assert len(load_bibliography([path])) == 2


def test_append_renames_a_key_the_file_already_uses_and_creates_missing_files(tmp_path):
    path = tmp_path / "new" / "refs.bib"
    path.parent.mkdir()
    first = append_references(path, [Reference(key="smith2020", title="A")]).references
    second = append_references(path, [Reference(key="smith2020", title="B", year=2020)]).references
    assert first[0].key == "smith2020" and second[0].key != "smith2020"
    assert load_bibliography([path]).keys() == ["smith2020", second[0].key]


def test_interrupted_append_leaves_the_old_file_intact(tmp_path, monkeypatch):
    path = tmp_path / "library.bib"
    shutil.copy(DATA / "zotero_bbt_export_issue901.bib", path)
    before = path.read_bytes()

    def broken_replace(src, dst):
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", broken_replace)
    with pytest.raises(OSError):
        append_references(path, _sample_refs())
    assert path.read_bytes() == before
    # no temp file left; the (empty) lock file stays, harmless: the lock is the OS lock on it
    assert sorted(p.name for p in tmp_path.iterdir()) == [".library.bib.lock", "library.bib"]


def test_to_bibtex_round_trips_a_csl_record():
    item = json.loads((SOURCES / "cslj" / "10.3389_fnhum.2013.00291.csl.json").read_text(encoding="utf-8"))
    ref = reference_from_csl(item, key="x")
    text = to_bibtex(ref)
    items = json.loads(pypandoc.convert_text(text, "csljson", format="bibtex"))
    assert items[0]["DOI"].lower() == ref.doi
    assert _plain(items[0]["title"]) == _plain(ref.title)
    assert len(items[0]["author"]) == len(ref.authors)


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(title=st.text(alphabet=st.sampled_from(list("ab {}\\@,=%#_$&\"")), max_size=40),
       journal=st.text(alphabet=st.sampled_from(list("J {}@,=")), max_size=20))
def test_a_written_entry_is_one_entry_whatever_its_text_holds(tmp_path, title, journal):
    # Text read from a draft (a reference list item accepted as written) may hold braces and
    # entry syntax: the entry written stays one entry, with no field the text did not name.
    ref = Reference(key="zhang2021", type="article-journal", title=title or "x",
                    container=journal, authors=["Zhang, L"], year=2021)
    path = tmp_path / "refs.bib"
    path.write_text(to_bibtex(ref), encoding="utf-8")
    bib = load_bibliography([path])
    assert bib.keys() == ["zhang2021"] and not bib.warnings
    read = bib.get("zhang2021")
    assert read is not None and read.year == 2021 and read.authors == ["Zhang, L"]


def test_csl_yaml_bibliography_as_pandoc_writes_it(tmp_path):
    bib = tmp_path / "refs.bib"
    bib.write_text("@article{smith2020, author={Smith, Jane and {World Health Organization}}, title={Déjà vu},"
                   " journal={Lancet}, year=2020, volume=3, doi={10.1016/X}}\n", encoding="utf-8")
    yaml_text = pypandoc.convert_file(str(bib), "markdown", format="bibtex", extra_args=["-s"])
    path = tmp_path / "refs.yaml"
    path.write_text(yaml_text, encoding="utf-8")
    ref = load_bibliography([path]).get("smith2020")
    assert ref is not None, yaml_text
    assert (ref.title, ref.year, ref.volume, ref.doi) == ("Déjà vu", 2020, "3", "10.1016/x")
    assert ref.authors == ["Smith, Jane", "World Health Organization"]
    assert ref.line is not None and yaml_text.splitlines()[ref.line - 1].strip().endswith("smith2020")
    broken = tmp_path / "broken.yaml"
    broken.write_text("references:\n- id: a\n  title: [unclosed\n", encoding="utf-8")
    with pytest.raises(CiteflowError) as info:
        load_bibliography([broken])
    assert info.value.line is not None and Path(info.value.file) == broken
