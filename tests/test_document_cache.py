"""The analysed entries of a large bibliography, kept on disk: candidates ranked from the cache
are the ones ranked afresh; an edited entry, a damaged record or a switched-off cache never
gives stale tokens."""

from __future__ import annotations

import base64
import hashlib
import json
import zlib
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from citeflow.claims import documents as docs
from citeflow.claims import suggest
from citeflow.claims.documents import DocumentCache
from citeflow.claims.suggest import Suggester
from citeflow.references.bibliography import load_bibliography

ROOT = Path(__file__).resolve().parent.parent
DATA = Path(__file__).parent / "data" / "bibtex"
# Real bibliographies (data/bibtex/PROVENANCE.md) and the sample project's own.
FILES = [ROOT / "references" / "dupilumab.bib", DATA / "jabref_complex.bib", DATA / "zotero_bbt_export_issue901.bib"]
# Claims of the sample draft (shared/seed, verbatim), ranked against them.
CLAIMS = [
    ("Dupixent (dupilumab) has revolutionized the treatment of atopic dermatitis (eczema), asthma, "
     "and chronic rhinosinusitis with nasal polyposis.", ""),
    ("However, a noticeable side effect reported by some patients is joint pain.", ""),
    ("Studies often mention joint pain as an adverse event.", ""),
]


@pytest.fixture
def references(monkeypatch):
    monkeypatch.setattr(suggest, "LARGE", 10)  # these bibliographies count as large
    return list(load_bibliography(FILES, cache=False))


def _ranked(suggester: Suggester) -> list:
    return [suggester.rank(sentence, paragraph, k=5) for sentence, paragraph in CLAIMS]


def test_candidates_ranked_from_the_cache_are_those_ranked_afresh(references, tmp_path):
    assert len(references) > 10
    cache = DocumentCache(tmp_path, 8)
    fresh = Suggester(references)
    first = Suggester(references, cache=cache)  # analyses, then stores
    assert len(list(tmp_path.glob("*.json.z"))) == 1
    second = Suggester(references, cache=cache)  # reads the record
    assert second._analysis.lists() == first._analysis.lists() == [fresh._document(ref) for ref in references]
    assert _ranked(second) == _ranked(first) == _ranked(fresh)
    assert any(_ranked(fresh))  # the claims do meet the bibliography


def test_an_edited_entry_is_analysed_again(references, tmp_path):
    cache = DocumentCache(tmp_path, 8)
    Suggester(references, cache=cache)
    edited = list(references)
    edited[0] = replace(edited[0], title="Arthralgia after dupilumab")
    suggester = Suggester(edited, cache=cache)
    assert "arthralgia" in suggester.terms_of(edited[0].key)
    assert len(list(tmp_path.glob("*.json.z"))) == 2  # another key, another record


def _record(tmp_path: Path) -> Path:
    (path,) = tmp_path.glob("*.json.z")
    return path


def _forged(path: Path, documents) -> bytes:
    """A record with a valid header around other documents (same key)."""
    body = zlib.compress(json.dumps(documents).encode())
    key = path.name.removesuffix(".json.z")
    header = {"format": docs.FORMAT, "key": key, "sha256": hashlib.sha256(body).hexdigest(),
              "length": len(body)}
    return b"citeflow-documents " + json.dumps(header).encode() + b"\n" + body


@pytest.mark.parametrize("damage", ["cut off", "flipped byte", "one entry short", "numbers for words",
                                    "a number past the terms", "terms out of order", "a negative number",
                                    "a term twice", "not a record"])
def test_a_damaged_or_forged_record_is_ignored(references, tmp_path, damage):
    cache = DocumentCache(tmp_path, 8)
    fresh = _ranked(Suggester(references, cache=cache))
    path = _record(tmp_path)
    data = path.read_bytes()
    stored = json.loads(zlib.decompress(data.partition(b"\n")[2]))
    ids = np.frombuffer(base64.b64decode(stored["ids"]), dtype="<i4")
    lengths = np.frombuffer(base64.b64decode(stored["lengths"]), dtype="<i4")
    numbers = lambda values: base64.b64encode(np.asarray(values, dtype="<i4").tobytes()).decode()  # noqa: E731
    if damage == "cut off":
        path.write_bytes(data[: len(data) // 2])
    elif damage == "flipped byte":
        path.write_bytes(data[:-5] + bytes([data[-5] ^ 1]) + data[-4:])
    elif damage == "one entry short":
        path.write_bytes(_forged(path, dict(stored, lengths=numbers(lengths[:-1]),
                                            ids=numbers(ids[:len(ids) - lengths[-1]]))))
    elif damage == "numbers for words":
        path.write_bytes(_forged(path, dict(stored, terms=list(range(len(stored["terms"]))))))
    elif damage == "a number past the terms":
        path.write_bytes(_forged(path, dict(stored, ids=numbers(np.append(ids[:-1], len(stored["terms"]))))))
    elif damage == "a negative number":
        path.write_bytes(_forged(path, dict(stored, ids=numbers(np.append(ids[:-1], -1)))))
    elif damage == "a term twice":
        path.write_bytes(_forged(path, dict(stored, terms=stored["terms"][:-1] + stored["terms"][:1])))
    elif damage == "terms out of order":
        path.write_bytes(_forged(path, dict(stored, ids=numbers(ids[::-1]))))
    else:
        path.write_text("hello", encoding="utf-8")
    key = path.name.removesuffix(".json.z")
    assert cache.get(key, len(references), 10**6) is None  # rejected when read
    assert _ranked(Suggester(references, cache=cache)) == fresh  # analysed again
    made_whole = cache.get(key, len(references), 10**6)  # and the record made whole
    assert made_whole is not None and made_whole.lists() == [Suggester._document(ref) for ref in references]


def test_small_bibliographies_and_a_switched_off_cache_write_nothing(references, tmp_path, monkeypatch):
    monkeypatch.setattr(suggest, "LARGE", 10_000)
    Suggester(references, cache=DocumentCache(tmp_path, 8))
    assert not list(tmp_path.iterdir())
    monkeypatch.setenv("CITEFLOW_CACHE_DIR", str(tmp_path / "cache"))
    assert DocumentCache.default() == DocumentCache(tmp_path / "cache" / docs.FOLDER, 8)
    monkeypatch.setenv("CITEFLOW_BIBLIOGRAPHY_CACHE", "0")
    assert DocumentCache.default() is None


def test_only_the_records_used_last_are_kept(references, tmp_path):
    cache = DocumentCache(tmp_path, 2)
    for n in range(4):
        edited = list(references)
        edited[0] = replace(edited[0], title=f"Version {n}")
        Suggester(edited, cache=cache)
    assert len(list(tmp_path.glob("*.json.z"))) == 2


def test_a_check_against_a_large_bibliography_reads_the_record_it_wrote(tmp_path, monkeypatch):
    """The whole check: the second run finds the analysed entries and reports the same."""
    from citeflow.checks.engine import check_manuscript

    monkeypatch.setattr(suggest, "LARGE", 10)
    monkeypatch.setenv("CITEFLOW_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("CITEFLOW_OFFLINE", "1")
    folder = tmp_path / "project"
    folder.mkdir()
    for file in FILES:
        (folder / file.name).write_bytes(file.read_bytes())
    paper = folder / "paper.md"
    paper.write_text("---\nbibliography: [" + ", ".join(f.name for f in FILES) + "]\n---\n\n"
                     + " ".join(sentence for sentence, _ in CLAIMS) + "\n", encoding="utf-8")
    first = check_manuscript(paper)
    assert len(list((tmp_path / "cache" / docs.FOLDER).glob("*.json.z"))) == 1
    def no_analysis(ref):
        raise AssertionError("an entry was analysed again")

    monkeypatch.setattr(Suggester, "_analysed", staticmethod(no_analysis))
    second = check_manuscript(paper)
    assert [(f.code, f.line, f.message) for f in second.findings] == \
        [(f.code, f.line, f.message) for f in first.findings]
    assert any("candidates:" in f.message for f in first.findings)


def test_entries_whose_texts_hold_separator_characters_get_keys_of_their_own():
    """Keywords of CSL-JSON keep control characters: joined texts must not collide."""
    first = [("t1", "eczema\x1f\x1f\x1edupilumab arthritis\x1fenthesitis", "", "")]
    second = [("t1", "eczema", "", ""), ("dupilumab arthritis", "enthesitis", "", "")]
    assert docs.document_key(first)[0] != docs.document_key(second)[0]
    assert docs.document_key([("a\x1f", "b", "", "")])[0] != docs.document_key([("a", "\x1fb", "", "")])[0]


@settings(max_examples=100, deadline=None)
@given(st.lists(st.tuples(*[st.text(alphabet="a\"\\\u00e9\ud800 ,[]\n", max_size=6)] * 4), max_size=12),
       st.integers(1, 5))
def test_the_key_is_the_digest_of_the_whole_list_written_out(texts, size):
    """The key is worked out a slice of entries at a time (the whole list's text is as long
    as the bibliography's): it is the digest of the list's JSON text all the same, so that
    records stored before still match."""
    saved, docs._KEY_SLICE = docs._KEY_SLICE, size
    try:
        key, length = docs.document_key(texts)
    finally:
        docs._KEY_SLICE = saved
    whole = json.dumps(texts, ensure_ascii=False).encode("utf-8", "surrogatepass")
    assert key == hashlib.sha256(docs.analysis_digest().encode() + whole).hexdigest()
    assert length == len(whole)


def test_a_record_that_inflates_past_its_limit_is_not_read(references, tmp_path):
    """A small record that would unpack into far more than the texts it stands for (a forged
    one: the digest in its header proves only that it is whole) is refused, not unpacked."""
    cache = DocumentCache(tmp_path, 8)
    Suggester(references, cache=cache)
    path = _record(tmp_path)
    huge = [["x" * 1000] * 1000 for _ in references]  # about 1 GB of JSON if read
    body = zlib.compress(json.dumps(huge).encode(), 9)
    assert len(body) < 10_000_000
    key = path.name.removesuffix(".json.z")
    header = {"format": docs.FORMAT, "key": key, "sha256": hashlib.sha256(body).hexdigest(),
              "length": len(body)}
    path.write_bytes(b"citeflow-documents " + json.dumps(header).encode() + b"\n" + body)
    texts = [Suggester._texts(ref) for ref in references]
    assert cache.get(key, len(references), docs.document_key(texts)[1]) is None


def test_no_token_holds_white_space_so_records_keep_each_entrys_tokens_apart():
    """Records keep an entry's tokens as one text joined with spaces."""
    assert not any(char.isspace() for name in suggest.CONCEPTS for char in name)
    texts = ["Joint pain\u00a0and arthralgia\tafter IL-4 blockade", "Eczema; atopic\u2003dermatitis"]
    assert all(not any(char.isspace() for char in token) for tokens in suggest.tokens_many(texts)
               for token in tokens)
