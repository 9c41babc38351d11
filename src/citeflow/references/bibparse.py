"""Reading BibTeX: pybtex's parser, with shortcuts for entries and names of the usual shape.

pybtex reads BibTeX token by token in Python and splits every name with its general TeX
splitter; a library of 50,000 entries (32 MB) takes it about 13 seconds. Almost every entry a
reference manager writes has one regular shape, ``@type{key, name = {value}, ...}``, and
almost every name is plain words. :class:`Parser` is pybtex's parser with two shortcuts that
give the same result as pybtex for those and leave everything else to pybtex:

* **entries**: an entry whose fields are braced, quoted, numeric or ``@string`` values (joined
  with ``#`` or not, braces nested at most :data:`BRACE_DEPTH` deep) is read by one regular
  expression and handed on as the tuple pybtex's tokenizer yields for it. Every token of the
  expression is possessive, so it reads an entry the one way pybtex's greedy tokenizer does
  or not at all. ``@string``, ``@preamble`` and ``@comment``, entries in parentheses, deeper
  braces, undefined macros and anything malformed go through pybtex's tokenizer, so its
  messages and line numbers are pybtex's own.
* **names**: a name with no braces, backslashes or ties is split into first, middle, von,
  last and Jr parts by pybtex's rules (:class:`pybtex.database.Person`), which for plain
  words come down to string splits and the case of each word's first letter. Other names
  are parsed by pybtex.

``tests/test_bibparse.py`` compares both with pybtex on generated text and on real files.

    >>> parser = Parser()
    >>> data = parser.parse_string('@article{smith2020, author = {Smith, John and '
    ...                            'van der Berg, Anna}, title = {On {IL-4}}, year = 2020}')
    >>> entry = data.entries["smith2020"]
    >>> entry.fields["title"], entry.fields["year"]
    ('On {IL-4}', '2020')
    >>> [(p.prelast_names, p.last_names, p.first_names) for p in entry.persons["author"]]
    [([], ['Smith'], ['John']), (['van', 'der'], ['Berg'], ['Anna'])]
"""

from __future__ import annotations

import re
from string import digits

from pybtex.bibtex.utils import split_name_list
from pybtex.database import Person
from pybtex.database.input import bibtex as pybtex_bibtex
from pybtex.textutils import normalize_whitespace

#: How deep braces may nest in a value read by the shortcut (the value's own braces
#: included); deeper values are read by pybtex.
BRACE_DEPTH = 4

_NAME_CHARS = re.escape(pybtex_bibtex.NAME_CHARS)
# pybtex's NAME token, possessive
_NAME = rf"[{_NAME_CHARS}][{_NAME_CHARS}{digits}]*+"


def _braced(depth: int) -> str:
    """What may stand between a pair of braces, with braces nested ``depth`` more levels."""
    if depth == 0:
        return r"[^{}]*+"
    return r"[^{}]*+(?:\{" + _braced(depth - 1) + r"\}[^{}]*+)*+"


# A value part, as pybtex's parse_value_part reads one: a quoted string (at its own level
# only quotes and braces count; an unmatched closing brace is pybtex's error), a braced
# string, a number or a macro name.
_QUOTED = r'"[^"{}]*+(?:\{' + _braced(BRACE_DEPTH - 2) + r'\}[^"{}]*+)*+"'
_BRACED = r"\{" + _braced(BRACE_DEPTH - 1) + r"\}"
_PART = rf"(?>{_QUOTED}|{_BRACED}|[{digits}]++|{_NAME})"
_VALUE = rf"{_PART}(?:\s*+\#\s*+{_PART})*+"
_FIELD = rf"{_NAME}\s*+=\s*+{_VALUE}"

# An entry from just after its "@": the command, the key (pybtex's KEY_BRACE) and the
# fields, each optional around its commas as pybtex's parse_entry_fields takes them.
_ENTRY = re.compile(
    rf"\s*+(?P<command>{_NAME})\s*+\{{\s*+(?P<key>[^\s,}}]++)"
    rf"(?P<fields>(?:\s*+{_FIELD})?+(?:\s*+,(?:\s*+{_FIELD})?+)*+)\s*+\}}"
)
# One field of an entry matched by _ENTRY: its name, its first value part, the rest.
_FIELD_PARTS = re.compile(rf"\s*+,?\s*+({_NAME})\s*+=\s*+({_PART})((?:\s*+\#\s*+{_PART})*+)")
_REST_PART = re.compile(rf"\s*+\#\s*+({_PART})")
_COMMANDS_FOR_PYBTEX = frozenset({"string", "preamble", "comment"})


class _Tokenizer(pybtex_bibtex.LowLevelParser):
    """pybtex's tokenizer, with entries of the usual shape read at once."""

    def parse_command(self):
        found = self._entry()
        return found if found is not None else super().parse_command()

    def _entry(self) -> tuple[str, tuple[str, list[tuple[str, list[str]]]]] | None:
        """The ``(command, (key, fields))`` of the entry at the scanner's position, as
        pybtex's ``parse_command`` gives it, with the position and line moved past it; None
        (and nothing moved) when the entry is not of the shape read here."""
        if self.keyless_entries:
            return None
        text: str = self.text
        start: int = self.pos  # type: ignore[has-type]  # pybtex is untyped
        match = _ENTRY.match(text, start)
        if match is None or match["command"].lower() in _COMMANDS_FOR_PYBTEX:
            return None
        key = match["key"]
        if not self.want_entry(key):
            return None
        macros = self.macros
        fields: list[tuple[str, list[str]]] = []
        for name, first, rest in _FIELD_PARTS.findall(text, match.start("fields"), match.end("fields")):
            parts = [first]
            if rest:
                parts += _REST_PART.findall(rest)
            values = []
            for part in parts:
                if part[0] in '{"':
                    values.append(part[1:-1])
                elif part[0] in digits:
                    values.append(part)
                else:
                    try:
                        values.append(macros[part])
                    except KeyError:  # an undefined macro: pybtex reports it where it stands
                        return None
            fields.append((name, values))
        consumed = text[start:match.end()]
        self.lineno += consumed.count("\n") + consumed.count("\r") - consumed.count("\r\n")
        self.pos = match.end()
        return match["command"], (key, fields)


class _NotPlain(Exception):
    """A name the shortcut does not split: pybtex does."""


def _is_von(word: str) -> bool:
    """pybtex's test of a von part ("van", "de la"): the case of the word's first letter.
    A word opening on anything but a letter is tested here only without braces or
    backslashes (a letter inside braces or a control sequence counts differently)."""
    first = word[0]
    if first.isupper():
        return False
    if first.islower():
        return True
    if "{" in word or "\\" in word:
        raise _NotPlain
    for char in word:
        if char.isalpha():
            return char.islower()
    return False


def _von_last(words: list[str]) -> tuple[list[str], list[str]]:
    """The von and last parts of the words before a name's first comma (the last word is
    always last; before it, the von part runs up to the last word that is one)."""
    last = words[:-1]
    for index in range(len(last) - 1, -1, -1):
        if _is_von(last[index]):
            return last[:index + 1], last[index + 1:] + words[-1:]
    return [], words


# A name pybtex splits as plain text would be split at commas and white space: at its own
# level no tie ("~", pybtex's space), no backslash-space and no double backslash (pybtex
# reads its second backslash and a space after it as a space), no unmatched brace, and braces
# (two levels at most) holding neither white space nor commas, which pybtex does not split at.
_PLAIN_NAME = re.compile(r"[^{}~\\]*+(?:(?:\\[^\s{}~\\]|\{[^{}\s,]*+(?:\{[^{}\s,]*+\}[^{}\s,]*+)*+\})[^{}~\\]*+)*+")
# A brace group (two levels at most), and text whose braces are such groups.
_GROUP = r"\{[^{}]*+(?:\{[^{}]*+\}[^{}]*+)*+\}"
_ONE_GROUP = re.compile(_GROUP)
_GROUPS_ONLY = re.compile(rf"[^{{}}]*+(?:{_GROUP}[^{{}}]*+)*+")


def person(name: str) -> Person:
    """``Person(name)``, split without pybtex's TeX splitter when plain splitting gives the
    same words."""
    name = name.strip()
    parts = split_plain(name)
    if parts is not None:
        return _person(*parts)
    if _ONE_GROUP.fullmatch(name):  # {World Health Organization}: one word, the last name
        return _person([], [], [], [name], [])
    return Person(name)


def split_plain(name: str) -> tuple[list[str], list[str], list[str], list[str], list[str]] | None:
    """The first, middle, von, last and Jr words of ``name`` (stripped) as pybtex splits
    them, when plain splitting gives them; None when only pybtex's splitter can."""
    if not _PLAIN_NAME.fullmatch(name):
        return None
    parts = [part.strip() for part in name.split(",")]
    if len(parts) > 3:  # pybtex reports it and joins the rest
        return None
    try:
        if len(parts) == 1:
            words = name.split()
            cut = next((i for i, word in enumerate(words) if _is_von(word)), len(words))
            first_middle, von_last = words[:cut], words[cut:]
            if not von_last and first_middle:
                von_last = [first_middle.pop()]
            lineage: list[str] = []
        else:
            von_last = parts[0].split()
            lineage = parts[1].split() if len(parts) == 3 else []
            first_middle = parts[-1].split()
        von, last = _von_last(von_last) if von_last else ([], [])
    except _NotPlain:
        return None
    return first_middle[:1], first_middle[1:], von, last, lineage


def _person(first: list[str], middle: list[str], von: list[str], last: list[str],
            lineage: list[str]) -> Person:
    result = Person.__new__(Person)  # Person() would split five empty strings
    result.first_names = first
    result.middle_names = middle
    result.prelast_names = von
    result.last_names = last
    result.lineage_names = lineage
    return result


_AND = re.compile(" [Aa][Nn][Dd] ")


def names(value: str) -> list[str]:
    """``split_name_list(value)``: the names of a person field, split at " and "."""
    if not value:
        return []
    # split plainly only where no " and " stands inside braces
    if ("{" in value or "}" in value) and (not _GROUPS_ONLY.fullmatch(value)
                                           or any(map(_AND.search, _ONE_GROUP.findall(value)))):
        return split_name_list(value)
    return [name.strip() for name in _AND.split(value)]


def _normalize_whitespace(value: str) -> str:
    """pybtex's ``normalize_whitespace``; a value whose only white space is single inner
    spaces (printable text holds no other) is returned as it is."""
    if value.isprintable() and "  " not in value and value[:1] != " " and value[-1:] != " ":
        return value
    return normalize_whitespace(value)


class Entry:
    """One entry as :class:`Parser` keeps it: pybtex's :class:`~pybtex.database.Entry` in a
    lighter form. Field names and person roles are lower-cased (they name the same field in
    any case, as in pybtex), and the fields and roles are plain dictionaries. A person is
    the name as written, to be split with :func:`person` when it is read, or, for a name
    pybtex would complain about while splitting (three commas or more), the
    :class:`~pybtex.database.Person` it was split into while reading. A library of 50,000
    entries takes about a fifth of the memory pybtex's entries take."""

    __slots__ = ("fields", "key", "original_type", "persons", "type")

    def __init__(self, type_: str) -> None:
        self.type = type_.lower()
        self.original_type = type_
        self.fields: dict[str, str] = {}
        self.persons: dict[str, list[str | Person]] = {}
        self.key: str | None = None


def as_person(name: str | Person) -> Person:
    """A person of an :class:`Entry` (a name as written, or already a Person) as a Person."""
    return person(name) if isinstance(name, str) else name


class Parser(pybtex_bibtex.Parser):
    """pybtex's BibTeX parser with the shortcuts of this module, keeping :class:`Entry`
    objects; the same data results."""

    def parse_string(self, text):
        self.unnamed_entry_counter = 1
        self.command_start = 0
        tokenizer = _Tokenizer(text, keyless_entries=self.keyless_entries, handle_error=self.handle_error,
                               want_entry=self.data.want_entry, filename=self.filename, macros=self.macros)
        for command, body in tokenizer:
            kind = command.lower()
            if kind == "preamble":
                self.process_preamble(*body)
            elif kind != "string":
                self.process_entry(command, *body)
        return self.data

    def process_entry(self, entry_type, key, fields):
        entry = Entry(entry_type)
        if key is None:
            key = f"unnamed-{self.unnamed_entry_counter}"
            self.unnamed_entry_counter += 1
        seen: set[str] = set()
        for name, parts in fields:
            lowered = name.lower()
            if lowered in seen:
                self.handle_error(pybtex_bibtex.DuplicateField(key, name))
                continue
            seen.add(lowered)
            value = _normalize_whitespace("".join(parts))
            if name in self.person_fields:
                # names pybtex reports a problem with (more than three parts) split now,
                # while its problems are collected; the others when read
                people: list[str | Person] = [
                    one if one.count(",") < 3 else Person(one) for one in names(value)
                ]
                if people:  # as pybtex, no role for a field without names
                    entry.persons[lowered] = people
            else:
                entry.fields[lowered] = value
        self.data.add_entry(key, entry)


__all__ = ["BRACE_DEPTH", "Entry", "Parser", "as_person", "names", "person", "split_plain"]
