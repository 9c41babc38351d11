"""The BibTeX shortcuts read exactly what pybtex reads.

:mod:`citeflow.references.bibparse` reads entries of the usual shape with one regular
expression and plain names with string splits, and leaves everything else to pybtex. Each
test below runs it and pybtex's own parser on the same text (generated from BibTeX's tokens,
well formed and not, and the real files of ``tests/data``) and wants the same entries,
fields, names, messages and line numbers.
"""

from __future__ import annotations

import re
from pathlib import Path

import pybtex.errors
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pybtex.bibtex.utils import split_name_list
from pybtex.database import Person
from pybtex.database.input.bibtex import Parser as PybtexParser

from citeflow.references import bibparse
from citeflow.references.bibliography import load_bibliography
from citeflow.references.bibtex import reference_from_bibtex

DATA = Path(__file__).parent / "data"
EXAMPLES = settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])

# Pieces of names: plain words of both cases, von particles, accents written in LaTeX,
# braces with and without spaces, ties, backslash-spaces, commas, " and ", digits, Unicode.
NAME_PIECES = [
    "Smith", "John", "J.", "Lisa A.", "van", "der", "de la", "von", "Jr", "III", "d'Alembert",
    "O'Brien", "Jean-Philippe", "M{\\\"u}ller", "Bostr{\\\"o}m", "Garc{\\'\\i}a", "{\\'E}mile",
    "{van} Beethoven", "{World Health Organization}", "{SOLO 1 and SOLO 2 Investigators}",
    "{\\relax Ch}ristopher", "\\\"uber", "{\\\"U}ber", "Qui\\~{n}onero-Candela", "{{IL-4}}",
    "Michail~Markovitch", "Matsui\\ Fuuka", "{a,b}", "{", "}", "}{", ",", ", ", " ", "  ", "\t",
    "\n", " and ", " AND ", "and", "2nd", "-", "ß", "Éva", "émile", "İ", "\u00a0", "~", "\\", "\\\\",
    "a\\\\ b",
    "\\~", "{x {y z}}", "{x{y}z}",
]
NAME_TEXT = st.lists(st.sampled_from(NAME_PIECES), max_size=10).map("".join)


def _parts(person: Person) -> tuple[list[str], ...]:
    return (person.first_names, person.middle_names, person.prelast_names, person.last_names,
            person.lineage_names)


def _pybtex_person(name: str):
    with pybtex.errors.capture() as captured:
        person = Person(name)
    return _parts(person), [str(error) for error in captured]


@EXAMPLES
@given(NAME_TEXT)
def test_a_name_splits_into_the_parts_pybtex_gives(name):
    with pybtex.errors.capture() as captured:
        person = bibparse.person(name)
    assert (_parts(person), [str(error) for error in captured]) == _pybtex_person(name)


@EXAMPLES
@given(NAME_TEXT)
def test_a_name_list_splits_at_and_as_pybtex_splits_it(value):
    assert bibparse.names(value) == split_name_list(value)


@pytest.mark.parametrize("name, parts", [
    ("van der Berg, Anna Maria", (["Anna"], ["Maria"], ["van", "der"], ["Berg"], [])),
    ("Reagle, Jr., Joseph M.", (["Joseph"], ["M."], [], ["Reagle"], ["Jr."])),
    ("Ludwig van Beethoven", (["Ludwig"], [], ["van"], ["Beethoven"], [])),
    ("M{\\\"u}ller, K{\\\"u}lli", (["K{\\\"u}lli"], [], [], ["M{\\\"u}ller"], [])),
    # pybtex reads the second of two backslashes and the space after it as a space
    ("Jean\\\\ Dupont", (["Jean\\"], [], [], ["Dupont"], [])),
])
def test_names_a_writer_types_come_apart_in_the_usual_places(name, parts):
    assert _parts(bibparse.person(name)) == parts


# -- whole files ---------------------------------------------------------------------------

# BibTeX's tokens and the values and layouts reference managers write, with broken pieces:
# unmatched braces and quotes, parentheses, @string, @preamble, @comment, macros defined
# and not, concatenation, duplicate fields and keys, CR LF line ends and text between entries.
FILE_PIECES = [
    "@article{", "@ARTICLE {", "@book{", "@misc(", "@string{jn = {Journal of Things}}",
    "@STRING{mo = \"May\"}", "@preamble{ \"\\newcommand{\\x}{y}\" }", "@comment{ anything { } }",
    "@incollection{ key2 ,", "key1,", "key1,", "key{odd,", "k,", "author = ", "AUTHOR=",
    "title = ", "year = ", "journal = ", "editor = ", "month = ", "note=", "Title = ",
    "{Smith, John and van der Berg, Anna}", "{M{\\\"u}ller, K. and {World Health Organization}}",
    "{A Title with {IL-4} and {\\'{e}}}", "{deep {a {b {c {d}}}}}", "\"quoted {with} braces\"",
    "\"bad } quote\"", "2020", "{2020}", "jn", "mo", "jan", "undefinedmacro", " # ", "#",
    "{x} # \" y\"", ",", ",\n", "\n", "\r\n", "  ", "\t", "}", "}\n\n", ")", "(", "{", "\"",
    "=", "@", "% a comment line\n", "free text between entries ", "@article{dup, title={A}}\n",
    "@article{dup, title={B}}\n",
]
FILE_TEXT = st.lists(st.sampled_from(FILE_PIECES), max_size=40).map("".join)


def _read(parser_class, text: str):
    """Entries (type, fields, names in order) and reported problems, or the error raised."""
    with pybtex.errors.capture() as captured:
        parser = parser_class()
        try:
            data = parser.parse_string(text)
        except Exception as exc:  # the same exception, with the same line, is wanted
            return ("error", type(exc).__name__, str(exc), getattr(exc, "lineno", None))
    # names compared as split; field names and roles without case (they name the same field)
    entries = [
        (key, entry.type, [(name.lower(), value) for name, value in entry.fields.items()],
         [(role.lower(), [_parts(bibparse.as_person(p)) for p in people]) for role, people in entry.persons.items()])
        for key, entry in data.entries.items()
    ]
    problems = [(type(p).__name__, str(p), getattr(p, "lineno", None)) for p in captured]
    return entries, problems, list(parser.macros.items()), data.preamble_list


SPACE = st.sampled_from(["", " ", "  ", "\n", "\r\n", "\t", " \n  "])
VALUE = st.sampled_from([
    "{Smith, John and van der Berg, Anna}", "{M{\\\"u}ller, K. and {World Health Organization}}",
    "{A Title with {IL-4} and {\\'{e}}}", "{deep {a {b {c {d}}}}}", "{deep {a {b {c}}}}",
    "\"quoted {with} braces\"", "\"quoted \n over lines\"", "2020", "{2020}", "jn", "mo", "jan",
    "undefinedmacro", "{x} # \" y\"", "jn # { 12}", "{}", "\"\"", "{  spaced   out  }",
])
FIELD = st.tuples(st.sampled_from(["author", "AUTHOR", "title", "editor", "year", "journal",
                                   "note", "Title", "bdsk-url-1", "x_1"]), SPACE, SPACE, VALUE)
ENTRY = st.builds(
    lambda command, key, fields, gaps, comma: (
        f"@{command}{{{gaps[0]}{key}{gaps[1]},"
        + ",".join(f"{gaps[2]}{name}{before}={after}{value}" for name, before, after, value in fields)
        + ("," if comma else "") + gaps[3] + "}"),
    st.sampled_from(["article", "Article", "book", "inproceedings", "misc"]),
    st.sampled_from(["smith2020", "k1", "dup", "a:b/c-d", "key{odd"]),
    st.lists(FIELD, max_size=6), st.lists(SPACE, min_size=4, max_size=4), st.booleans(),
)
PREFIX = st.sampled_from(["", "@string{jn = {Journal of Things}}\n", "@STRING{mo = \"May\"}\n",
                          "% comment\n", "text between "])


@st.composite
def _entries_file(draw):
    """Well-formed entries, and now and then one piece of BibTeX dropped in somewhere."""
    text = draw(PREFIX) + "\n".join(draw(st.lists(ENTRY, min_size=1, max_size=5)))
    if draw(st.booleans()):
        at = draw(st.integers(0, len(text)))
        text = text[:at] + draw(st.sampled_from(FILE_PIECES)) + text[at:]
    return text


@EXAMPLES
@given(FILE_TEXT)
def test_a_file_reads_as_pybtex_reads_it(text):
    assert _read(bibparse.Parser, text) == _read(PybtexParser, text)


@EXAMPLES
@given(_entries_file())
def test_entries_read_as_pybtex_reads_them(text):
    assert _read(bibparse.Parser, text) == _read(PybtexParser, text)


@pytest.mark.parametrize("path", sorted(DATA.rglob("*.bib")), ids=lambda p: str(p.relative_to(DATA)))
def test_real_files_read_as_pybtex_reads_them(path):
    text = path.read_text(encoding="utf-8")
    assert _read(bibparse.Parser, text) == _read(PybtexParser, text)
    # and the references made of them are the same
    with pybtex.errors.capture():
        ours, theirs = bibparse.Parser().parse_string(text), PybtexParser().parse_string(text)
    assert [reference_from_bibtex(key, entry) for key, entry in ours.entries.items()] == \
        [reference_from_bibtex(key, entry) for key, entry in theirs.entries.items()]


def test_the_shortcut_reads_the_usual_entries_itself(monkeypatch):
    """Not a test that passes by handing everything to pybtex: entries in the shape reference
    managers write never reach pybtex's tokenizer, and their names never reach Person."""
    slow = []
    monkeypatch.setattr(bibparse.pybtex_bibtex.LowLevelParser, "parse_command",
                        lambda self: slow.append(self.pos) or pytest.fail("pybtex read an entry"))
    monkeypatch.setattr(bibparse, "Person", type("NoPerson", (Person,), {
        "__init__": lambda self, *a, **k: pytest.fail("pybtex split a name")}))
    text = (DATA / "check" / "dupilumab.bib").read_text(encoding="utf-8")
    data = bibparse.Parser().parse_string(text)
    people = [bibparse.as_person(p) for entry in data.entries.values() for p in entry.persons.get("author", [])]
    assert len(data.entries) >= 5 and len(people) >= 5 and not slow


def test_a_syntax_error_after_many_entries_names_its_line(tmp_path):
    good = "".join(f"@article{{k{n},\n  author = {{Doe, Jane}},\n  title = {{T {n}}}\n}}\n\n"
                   for n in range(200))
    path = tmp_path / "refs.bib"
    # 200 entries of five lines, then an entry whose second line lacks its "="
    path.write_text(good + "@article{broken,\n  title {No equals},\n}\n", encoding="utf-8")
    with pytest.raises(Exception) as caught:
        load_bibliography(path)
    assert "refs.bib" in str(caught.value) and getattr(caught.value, "line", None) == 1002


@EXAMPLES
@given(st.lists(st.sampled_from(["@article{a,", "@string{x = 1}", "@book{b ,", "@misc(c,", "\r\n", "\r",
                                 "\n", "x", " ", "@comment{z,"]), max_size=40).map("".join))
def test_entries_are_placed_on_the_line_they_start_on(text):
    """Each line break ("\\r\\n", "\\r" or "\\n") counts once, as editors number lines."""
    from citeflow.references.bibtex import _ENTRY_HEAD, entry_lines

    expected: dict[str, list[int]] = {}
    for match in _ENTRY_HEAD.finditer(text):
        if match.group(1).lower() not in ("string", "preamble", "comment"):
            line = len(re.split(r"\r\n|\r|\n", text[:match.start()]))
            expected.setdefault(match.group(2).lower(), []).append(line)
    assert entry_lines(text) == expected


@EXAMPLES
@given(NAME_TEXT)
def test_a_name_kept_as_written_reads_as_the_name_pybtex_split(name):
    """Names are kept as written and split when a reference is made of the entry: the
    author shown is the one made of pybtex's split."""
    from citeflow.references.bibtex import _person_name

    with pybtex.errors.capture():
        assert _person_name(name) == _person_name(Person(name))
