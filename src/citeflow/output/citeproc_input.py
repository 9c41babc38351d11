"""What citeproc reads, prepared so that AMA and Vancouver print references as the journals do.

Pandoc's citeproc reads the bibliographies itself. Two things are settled here first, in a
private folder that lives for one Pandoc run:

* **Journal abbreviations.** Both styles print a journal's NLM abbreviation ("N Engl J
  Med") through CSL's ``container-title-short``. Where an entry has none, citeproc looks
  the full title up in a CSL abbreviations file (``citation-abbreviations``): citeflow
  writes one holding the journals of these bibliographies, each with its NLM abbreviation
  (:mod:`citeflow.output.journals`). An abbreviation the bibliography gives itself wins:
  BibLaTeX ``shortjournal`` and CSL ``container-title-short``/``journalAbbreviation`` are
  read by citeproc directly, and a BibTeX ``journalabbrev`` (``journal-abbrev``,
  ``journal_abbrev``), which citeproc ignores, is handed to it as the entry's
  ``shortjournal``.
* **Name particles.** BibTeX writes "de Jager, Marjolein" with "de" as a *von* part, which
  citeproc (following BibLaTeX's default ``useprefix=false``) treats as a dropping particle:
  AMA printed "Jager M de". NLM and AMA print "de Jager M". citeproc is given a copy of each
  BibTeX file in which every entry that has a name with such a lower-case word, and no
  ``options`` field, gets ``options = {useprefix=true}`` (on its first line, so line numbers
  stay those of the original): the particle becomes part of the printed family name.
  Styles that do not want that (``demote-non-dropping-particle="display-and-sort"``, CSL's
  default) still print "Jager M de". A file that needs neither change is read as it is.

* **Subtitles.** Pandoc's BibTeX reader prints the first word after a colon in a title
  with a capital ("Dupilumab-associated arthritis: A dermatology-rheumatology
  perspective"). AMA and NLM print a subtitle as the rest of the title: "...arthritis: a
  dermatology-rheumatology perspective". For those styles (``lower_subtitles``) the copy
  citeproc reads holds that word in lower case, protected by braces; a word in capitals or
  with a capital inside ("IL-4", "COVID-19", "LIBERTY") or in braces is left as it is.

The journal fields are read with a small scanner rather than a full BibTeX parse: pybtex
takes about 0.25 s for 500 entries, longer than everything else in this step together.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from citeflow.errors import CiteflowError
from citeflow.output.journals import abbreviation
from citeflow.references.bibliography import decode_latex

BIBTEX_SUFFIXES = (".bib", ".bibtex")
USEPREFIX = "options = {useprefix=true}, "

_HEAD = re.compile(r"@[ \t]*([A-Za-z]+)[ \t\r\n]*[{(][ \t\r\n]*[^,\s{}()=\"#%'~]+[ \t\r\n]*,")
_NON_ENTRIES = {"string", "preamble", "comment"}
_FIELD = re.compile(r"(?:^|[,{(\s])([A-Za-z][\w:.+-]*)[ \t\r\n]*=[ \t\r\n]*")
_STRING = re.compile(r"@[ \t]*string[ \t\r\n]*[{(][ \t\r\n]*([A-Za-z][\w:.+-]*)[ \t\r\n]*=[ \t\r\n]*", re.I)
_WANTED = {"journal", "journaltitle", "shortjournal", "journalabbrev", "journal-abbrev",
           "journal_abbrev", "options", "author", "editor"}
#: A lower-case word in a name list ("de Jager, Marjolein"): a particle, unless it is the
#: "and" between names or "others".
_PARTICLE = re.compile(r"(?<![\w{\\-])(?!and\b|others\b)[a-z][a-z'’]*(?=\s)")
_OWN_ABBREVIATION = ("journalabbrev", "journal-abbrev", "journal_abbrev")
_TITLE_FIELD = re.compile(r"(?:^|[,{(\s])title[ \t\r\n]*=[ \t\r\n]*([{\"])", re.I)
_SUBTITLE_WORD = re.compile(r"(:\s+)([A-Za-z][a-z]*)(?=[\s,.;:!?'-]|$)")


@dataclass
class CiteprocInput:
    """The files citeproc reads for one run: the bibliographies (BibTeX ones as prepared
    copies), the abbreviations file (None when no journal needs one), and which copy
    stands for which original (for error messages)."""

    bibliography: list[Path]
    abbreviations: Path | None = None
    originals: dict[str, Path] = field(default_factory=dict)

    def original(self, path: str | Path) -> Path:
        """The bibliography a path Pandoc names stands for."""
        return self.originals.get(str(path), Path(path))


# -- a small BibTeX value scanner -------------------------------------------------------------


def _braced(text: str, start: int, close: str) -> tuple[str, int]:
    """The text of a ``{...}`` or ``"..."`` value starting after its opening character,
    nested braces kept, and the index after the closing character."""
    depth, i = 0, start
    while i < len(text):
        char = text[i]
        if char == "\\":
            i += 2
            continue
        if char == "{":
            depth += 1
        elif char == "}":
            if depth == 0:
                return text[start:i], i + 1  # an unbalanced "}" ends the value
            depth -= 1
        elif char == close and depth == 0:
            return text[start:i], i + 1
        i += 1
    return text[start:], len(text)


def _value(text: str, start: int, macros: dict[str, str]) -> str:
    """A field value: braced or quoted pieces, macros and numbers joined by ``#``."""
    parts, i = [], start
    while i < len(text):
        char = text[i]
        if char == "{":
            piece, i = _braced(text, i + 1, "}")
            parts.append(piece)
        elif char == '"':
            piece, i = _braced(text, i + 1, '"')
            parts.append(piece)
        else:
            word = re.match(r"[\w:.+-]+", text[i:])
            if not word:
                break
            parts.append(macros.get(word.group().lower(), word.group()))
            i += word.end()
        follow = re.match(r"\s*#\s*", text[i:])
        if not follow:
            break
        i += follow.end()
    return "".join(parts)


def _entries(text: str) -> list[tuple[int, int]]:
    """(end of the head "@type{key,", end of the entry) for every entry."""
    heads = [m for m in _HEAD.finditer(text) if m.group(1).lower() not in _NON_ENTRIES]
    return [(m.end(), heads[n + 1].start() if n + 1 < len(heads) else len(text))
            for n, m in enumerate(heads)]


def _fields(text: str, start: int, end: int, macros: dict[str, str]) -> dict[str, str]:
    found: dict[str, str] = {}
    for match in _FIELD.finditer(text, start - 1, end):
        name = match.group(1).lower()
        if name in _WANTED and name not in found:
            found[name] = _value(text[:end], match.end(), macros)
    return found


def _macros(texts: Iterable[str]) -> dict[str, str]:
    macros: dict[str, str] = {}
    for text in texts:
        for match in _STRING.finditer(text):
            macros[match.group(1).lower()] = _value(text, match.end(), macros)
    return macros


# -- containers and their abbreviations ---------------------------------------------------------


def _has_particle(names: str) -> bool:
    return bool(_PARTICLE.search(re.sub(r"\{[^{}]*\}", "", names)))


def _lower_subtitle(text: str, start: int, end: int) -> tuple[int, int, str] | None:
    """(value start, value end, new value) when the entry's title has a subtitle whose first
    word should print in lower case (see module docstring)."""
    match = _TITLE_FIELD.search(text, start - 1, end)
    if match is None:
        return None
    opening = match.group(1)
    value, after = _braced(text[:end], match.end(), "}" if opening == "{" else '"')
    changed = _SUBTITLE_WORD.sub(lambda m: f"{m.group(1)}{{{m.group(2).lower()}}}", value)
    return (match.end(), after - 1, changed) if changed != value else None


def _bibtex_journals(text: str, macros: dict[str, str],
                     lower_subtitles: bool = False) -> tuple[list[str], str | None]:
    """The journal titles of the entries that may need an abbreviation, and the text as
    citeproc gets it (None when it needs no change): ``useprefix`` added to each entry
    with a name particle and without ``options``, and an entry's own ``journalabbrev``
    given to citeproc as its ``shortjournal``."""
    journals: list[str] = []
    out, done = [], 0
    for head_end, entry_end in _entries(text):
        fields = _fields(text, head_end, entry_end, macros)
        names = fields.get("author", "") + " and " + fields.get("editor", "")
        added = USEPREFIX if "options" not in fields and _has_particle(names) else ""
        title = fields.get("journaltitle") or fields.get("journal")
        own = next((fields[n] for n in _OWN_ABBREVIATION if fields.get(n)), None)
        if "shortjournal" not in fields:
            if own:
                added += "shortjournal = {" + own.replace("{", "").replace("}", "") + "}, "
            elif title:
                journals.append(decode_latex(title))
        subtitle = _lower_subtitle(text, head_end, entry_end) if lower_subtitles else None
        if added:
            out += [text[done:head_end], " ", added]
            done = head_end
        if subtitle is not None:
            value_start, value_end, value = subtitle
            out += [text[done:value_start], value]
            done = value_end
    if not out:
        return journals, None
    out.append(text[done:])
    return journals, "".join(out)


def _csl_journals(items: Any) -> list[str]:
    journals: list[str] = []
    for item in items if isinstance(items, list) else []:
        if not isinstance(item, dict):
            continue
        title = item.get("container-title")
        if isinstance(title, list):
            title = title[0] if title else None
        if isinstance(title, str) and title.strip() and not (
                item.get("container-title-short") or item.get("journalAbbreviation")):
            journals.append(" ".join(title.split()))
    return journals


def _csl_items(path: Path, text: str) -> Any:
    try:
        if path.suffix.lower() == ".json":
            return json.loads(text)
        import yaml

        loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
        data = yaml.load(text, Loader=loader)
        return data.get("references") if isinstance(data, dict) else data
    except Exception:  # citeproc reports a broken file with its line; nothing to add here
        return None


def abbreviation_table(journals: Iterable[str]) -> dict[str, str]:
    """Full title -> NLM abbreviation for the CSL abbreviations file; titles already short,
    or unknown, are left out."""
    table: dict[str, str] = {}
    for title in journals:
        if title not in table:
            found = abbreviation(title)
            if found and found != title:
                table[title] = found
    return table


def prepare_citeproc_input(bibliographies: list[Path], texts: dict[Path, str],
                           folder: Path, lower_subtitles: bool = False) -> CiteprocInput:
    """Write what citeproc reads into the empty private ``folder`` (see module docstring).

    ``texts`` holds the text of each bibliography already read (UTF-8 checked); a file
    missing from it is handed to citeproc as it is. A file that cannot be written (a full
    disk) raises :class:`CiteflowError` naming the bibliography.
    """
    macros = _macros(texts[p] for p in bibliographies
                     if p in texts and p.suffix.lower() in BIBTEX_SUFFIXES)
    result = CiteprocInput([])
    journals: list[str] = []
    for number, path in enumerate(bibliographies):
        text = texts.get(path)
        suffix = path.suffix.lower()
        if text is None:
            result.bibliography.append(path)
        elif suffix in BIBTEX_SUFFIXES:
            found, prepared = _bibtex_journals(text, macros, lower_subtitles)
            journals += found
            if prepared is None:
                result.bibliography.append(path)
                continue
            copy = folder / str(number) / path.name
            _write(copy, prepared, path)
            result.bibliography.append(copy)
            result.originals[str(copy)] = path
            result.originals[str(copy.resolve())] = path
        else:
            journals += _csl_journals(_csl_items(path, text))
            result.bibliography.append(path)
    table = abbreviation_table(journals)
    if table:
        result.abbreviations = folder / "journal-abbreviations.json"
        _write(result.abbreviations,
               json.dumps({"default": {"container-title": table}}, ensure_ascii=False),
               bibliographies[0])
    return result


def _write(target: Path, text: str, bibliography: Path) -> None:
    try:
        target.parent.mkdir(exist_ok=True)
        target.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise CiteflowError(f"cannot prepare the bibliography for citeproc: "
                            f"{exc.strerror or exc}", bibliography) from exc
