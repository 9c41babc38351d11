"""The parsed-bibliography cache: a load from the cache gives exactly what a fresh parse gives;
a record that is damaged, forged badly or from elsewhere is ignored and rebuilt."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import zlib
from pathlib import Path

import pytest
from click.testing import CliRunner

from citeflow.cli import main
from citeflow.errors import CiteflowError
from citeflow.references.bibcache import FOLDER, BibliographyCache
from citeflow.references.bibliography import load_bibliography

ROOT = Path(__file__).resolve().parent.parent
DATA = Path(__file__).parent / "data" / "bibtex"
#: Real bibliographies as their authors wrote them (see data/bibtex/PROVENANCE.md), and the
#: sample project's own: @string macros across files, dangling crossrefs, duplicate keys,
#: undefined macros, LaTeX accents, BibLaTeX fields.
SETS = {
    "jabref": [DATA / "jabref_complex.bib"],
    "plume, macros from a second file": [DATA / "plume_bibstring-unabbrev.bib", DATA / "plume_slicing.bib"],
    "plume alone (undefined macros)": [DATA / "plume_slicing.bib"],
    "thesis (duplicate key)": [DATA / "thesis_gotovos_phd.bib"],
    "zotero better bibtex": [DATA / "zotero_bbt_export_issue901.bib"],
    "sample project": [ROOT / "references" / "dupilumab.bib"],
}


def _same(loaded, fresh) -> None:
    assert loaded.references == fresh.references  # every field, file and line
    assert loaded.warnings == fresh.warnings
    assert [str(w) for w in loaded.warnings] == [str(w) for w in fresh.warnings]
    assert loaded.files == fresh.files and loaded.snapshots == fresh.snapshots
    assert loaded.duplicates() == fresh.duplicates()


def _records(cache: BibliographyCache) -> list[Path]:
    return sorted(cache.folder.glob("*.json.z")) if cache.folder.is_dir() else []


def _rewrite(record: Path, change, count=None) -> None:
    """Change a record's content (warnings and references, from its JSON lines) and give it
    a header that matches again (``count``: the number of references it says it holds)."""
    head, _, body = record.read_bytes().partition(b"\n")
    first, *lines = zlib.decompress(body).decode("utf-8").splitlines()
    content = {"warnings": json.loads(first)["warnings"], "references": [json.loads(line) for line in lines]}
    change(content)
    said = len(content["references"]) if count is None else count(len(content["references"]))
    text = "".join(json.dumps(value) + "\n" for value in
                   [{"warnings": content["warnings"], "references": said}, *content["references"]])
    body = zlib.compress(text.encode("utf-8"))
    header = json.loads(head.split(b" ", 1)[1])
    header.update(sha256=hashlib.sha256(body).hexdigest(), length=len(body))
    record.write_bytes(head.split(b" ", 1)[0] + b" " + json.dumps(header).encode() + b"\n" + body)


@pytest.mark.parametrize("name", SETS)
def test_a_load_from_the_cache_equals_a_fresh_parse(name, tmp_path):
    files = []
    for path in SETS[name]:  # copies, so the paths differ from the cached ones below
        files.append(tmp_path / path.name)
        shutil.copy(path, files[-1])
    cache = BibliographyCache(tmp_path / "cache")
    fresh = load_bibliography(files, cache=False)
    assert _records(cache) == []
    first = load_bibliography(files, cache=cache)  # parses and writes the record
    assert len(_records(cache)) == 1
    second = load_bibliography(files, cache=cache)  # reads the record
    for loaded in (first, second):
        _same(loaded, fresh)
    # the same content elsewhere is found too, with the caller's paths
    moved = tmp_path / "moved"
    moved.mkdir()
    elsewhere = [Path(shutil.copy(path, moved / path.name)) for path in files]
    third = load_bibliography(elsewhere, cache=cache)
    assert len(_records(cache)) == 1
    _same(third, load_bibliography(elsewhere, cache=False))
    assert {ref.file for ref in third} <= set(elsewhere)


def test_a_record_that_passes_the_checks_is_what_a_load_returns(tmp_path):
    bib = tmp_path / "refs.bib"
    shutil.copy(ROOT / "references" / "dupilumab.bib", bib)
    cache = BibliographyCache(tmp_path / "cache")
    load_bibliography([bib], cache=cache)
    (record,) = _records(cache)

    def retitle(content):
        content["references"][0]["title"] = "Read from the cache"

    _rewrite(record, retitle)
    assert load_bibliography([bib], cache=cache).references[0].title == "Read from the cache"
    bib.write_bytes(bib.read_bytes() + b"\n")  # other content: another key, a fresh parse
    assert load_bibliography([bib], cache=cache).references[0].title.startswith("Two Phase 3 Trials")
    assert len(_records(cache)) == 2


def _truncate(record: Path) -> None:
    record.write_bytes(record.read_bytes()[:-40])


def _flip_a_byte(record: Path) -> None:
    data = bytearray(record.read_bytes())
    data[-10] ^= 0xFF
    record.write_bytes(bytes(data))


def _pickle(record: Path) -> None:
    import pickle

    record.write_bytes(pickle.dumps({"references": []}))


def _year_as_text(record: Path) -> None:
    def change(content):
        content["references"][0]["year"] = "2016"
    _rewrite(record, change)


def _unknown_field(record: Path) -> None:
    def change(content):
        content["references"][0]["__class__"] = "os.system"
    _rewrite(record, change)


def _file_out_of_range(record: Path) -> None:
    def change(content):
        content["references"][0]["file"] = 7
    _rewrite(record, change)


def _unknown_warning_kind(record: Path) -> None:
    def change(content):
        content["warnings"] = [{"file": 0, "line": 1, "message": "x", "kind": "exploit"}]
    _rewrite(record, change)


def _other_key(record: Path) -> None:
    head, _, body = record.read_bytes().partition(b"\n")
    magic, header = head.split(b" ", 1)
    changed = dict(json.loads(header), key="f" * 64)
    record.write_bytes(magic + b" " + json.dumps(changed).encode() + b"\n" + body)


def _swollen(record: Path) -> None:
    """A valid-looking record that would unpack into far more than its BibTeX (a forger's
    zlib bomb: the checksum proves only that the record is whole)."""
    def change(content):
        content["references"][0]["abstract"] = "x" * 20_000_000
    _rewrite(record, change)


def _one_reference_more_than_it_says(record: Path) -> None:
    _rewrite(record, lambda content: None, count=lambda n: n - 1)


def _a_line_that_is_no_json(record: Path) -> None:
    def change(content):
        content["references"][1] = float("nan")  # written as NaN: JSON has no such value
    _rewrite(record, change)


@pytest.mark.parametrize("damage", [_truncate, _flip_a_byte, _pickle, _year_as_text, _unknown_field,
                                    _file_out_of_range, _unknown_warning_kind, _other_key, _swollen,
                                    _one_reference_more_than_it_says, _a_line_that_is_no_json])
def test_a_damaged_or_forged_record_is_ignored_and_rebuilt(damage, tmp_path):
    bib = tmp_path / "thesis.bib"
    shutil.copy(DATA / "thesis_gotovos_phd.bib", bib)  # has a warning (duplicate key)
    cache = BibliographyCache(tmp_path / "cache")
    fresh = load_bibliography([bib], cache=False)
    load_bibliography([bib], cache=cache)
    (record,) = _records(cache)
    damage(record)
    _same(load_bibliography([bib], cache=cache), fresh)
    _same(load_bibliography([bib], cache=cache), fresh)  # the rewritten record reads back
    assert zlib.decompress(record.read_bytes().partition(b"\n")[2])  # whole again


def test_cache_folder_setting_limit_and_switch(tmp_path, monkeypatch):
    monkeypatch.setenv("CITEFLOW_CACHE_DIR", str(tmp_path / "cache"))
    names = ["jabref_complex.bib", "thesis_gotovos_phd.bib", "zotero_bbt_export_issue901.bib"]
    for name in names:
        load_bibliography([DATA / name])
    folder = tmp_path / "cache" / FOLDER
    assert len(list(folder.glob("*.json.z"))) == 3
    monkeypatch.setenv("CITEFLOW_BIBLIOGRAPHY_CACHE", "2")
    load_bibliography([DATA / "plume_slicing.bib"])
    kept = list(folder.glob("*.json.z"))
    assert len(kept) == 2
    monkeypatch.setenv("CITEFLOW_BIBLIOGRAPHY_CACHE", "0")
    shutil.rmtree(folder)
    load_bibliography([DATA / "jabref_complex.bib"])
    assert not folder.exists()
    monkeypatch.setenv("CITEFLOW_BIBLIOGRAPHY_CACHE", "many")
    with pytest.raises(CiteflowError, match="CITEFLOW_BIBLIOGRAPHY_CACHE must be a number"):
        load_bibliography([DATA / "jabref_complex.bib"])


def test_a_cache_folder_that_cannot_be_written_only_costs_the_parse(tmp_path):
    blocked = tmp_path / "not-a-folder"
    blocked.write_text("a file where the cache folder would go\n", encoding="utf-8")
    bib = load_bibliography([DATA / "jabref_complex.bib"], cache=BibliographyCache(blocked / FOLDER))
    _same(bib, load_bibliography([DATA / "jabref_complex.bib"], cache=False))
    assert blocked.is_file()


def test_the_first_broken_file_is_the_one_named(tmp_path):
    bad = tmp_path / "bad.bib"
    bad.write_text("@article{a,\n  title = {Unclosed,\n", encoding="utf-8")
    latin1 = tmp_path / "latin1.bib"
    latin1.write_bytes("@article{b, title = {Caf\u00e9}}\n".encode("latin-1"))
    with pytest.raises(CiteflowError) as info:
        load_bibliography([bad, latin1])
    assert Path(info.value.file) == bad and "syntax" in info.value.message
    with pytest.raises(CiteflowError) as info:
        load_bibliography([latin1, bad])
    assert Path(info.value.file) == latin1 and "not UTF-8" in info.value.message


def test_check_reads_the_cached_bibliography_and_reports_the_same(tmp_path, monkeypatch):
    monkeypatch.setenv("CITEFLOW_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.chdir(ROOT)
    runner = CliRunner()
    manuscripts = sorted(str(p.relative_to(ROOT)) for p in (ROOT / "manuscripts").glob("*.md"))
    cold = runner.invoke(main, ["check", "--format", "json", *manuscripts])
    records = list((tmp_path / "cache" / FOLDER).glob("*.json.z"))
    warm = runner.invoke(main, ["check", "--format", "json", *manuscripts])
    assert cold.exit_code == warm.exit_code == 0, cold.output
    assert len(records) == 1
    assert warm.output == cold.output and json.loads(warm.output)


def test_the_records_used_longest_ago_are_dropped_first(tmp_path):
    cache = BibliographyCache(tmp_path / "cache", records=2)
    older, newer, third = ([DATA / name] for name in ("jabref_complex.bib", "thesis_gotovos_phd.bib",
                                                       "zotero_bbt_export_issue901.bib"))
    load_bibliography(older, cache=cache)
    (older_record,) = _records(cache)
    load_bibliography(newer, cache=cache)
    (newer_record,) = set(_records(cache)) - {older_record}
    os.utime(older_record, (1_000_000, 1_000_000))  # written long ago ...
    os.utime(newer_record, (2_000_000, 2_000_000))
    load_bibliography(older, cache=cache)  # ... but read just now
    load_bibliography(third, cache=cache)
    assert older_record in _records(cache) and newer_record not in _records(cache)
    assert len(_records(cache)) == 2


@pytest.mark.parametrize("content", [
    {"references": [{"key": "a", "title": "Arthralgia \u2013 a review", "keywords": ["IL-4", "\u00e9"]}]},
    ["lone \ud800 surrogate", {"x": "\udfff"}],  # CSL-JSON may hold them; JSON escapes keep them
    [1, 2.5, None, True, "", [], {}],
])
def test_record_content_reads_back_as_written(content):
    from citeflow.references.bibcache import dump_json, load_json

    assert load_json(dump_json(content)) == content
    # and a record written by the json module reads the same
    assert load_json(json.dumps(content).encode("ascii")) == content
