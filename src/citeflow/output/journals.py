"""NLM journal title abbreviations, as AMA and Vancouver (NLM) reference lists print them.

Both styles print a journal by its NLM abbreviation (MedlineTA, no full stops): "N Engl J
Med", "Lancet", "J Am Acad Dermatol". A bibliography usually holds the full title, written
as the writer found it: "The New England Journal of Medicine", "Journal of Allergy &
Clinical Immunology", "THE LANCET". :func:`abbreviation` finds the NLM form of such a title,
ignoring case, accents, a leading "The", "&" versus "and" and punctuation, and, as a
fallback, the qualifiers the NLM Catalog adds to its titles (" : subtitle", a trailing
"(London, England)").

The table ships with citeflow (``data/journal-abbreviations.tsv.gz``, about 39,000 titles:
sorted lines of normalised title, tab, abbreviation; then a line holding only a form feed and
the titles without their qualifiers) and is read the first time a title is looked up; a
look-up is a binary search, so nothing is built from it. It was built by :func:`build_table` from
the NCBI journal list (NLM Catalog ``Serial/Title`` -> ``MedlineTA``, public-domain data
packaged by the citation-style-language/abbreviations repository, MIT) with JabRef's
``medicus`` and ``entrez`` lists (CC0) filling titles the NCBI list lacks; see
``data/journal-abbreviations.PROVENANCE.md``. A title two journals share with different
abbreviations ("Acta medica") is left out rather than guessed.

To rebuild it from the source files::

    python -m citeflow.output.journals ncbi-abbreviations.json \\
        journal_abbreviations_medicus.csv journal_abbreviations_entrez.csv
"""

from __future__ import annotations

import bisect
import csv
import gzip
import io
import json
import re
import sys
import unicodedata
from collections.abc import Iterable
from functools import lru_cache
from pathlib import Path

DATA_FILE = Path(__file__).parents[1] / "data" / "journal-abbreviations.tsv.gz"
_SECTION = "\f"

_QUALIFIER = re.compile(r"\s+:\s.*$|\s*\([^()]*\)\s*$")
_NOT_WORD = re.compile(r"[^\w]+|_")


def normalise_title(title: str) -> str:
    """The key a title is looked up by: accents and case folded, "&" read as "and",
    punctuation dropped, a leading "the" dropped, single spaces.

    >>> normalise_title("The Journal of Allergy & Clinical Immunology")
    'journal of allergy and clinical immunology'
    """
    folded = unicodedata.normalize("NFKD", title)
    folded = "".join(c for c in folded if not unicodedata.combining(c)).casefold()
    words = _NOT_WORD.sub(" ", folded.replace("&", " and ")).split()
    if len(words) > 1 and words[0] == "the":
        words = words[1:]
    return " ".join(words)


def strip_qualifiers(title: str) -> str:
    """The title without the NLM Catalog's qualifiers: a ``" : subtitle"`` and trailing
    parentheses ("Lancet (London, England)" -> "Lancet")."""
    previous = None
    while previous != title:
        previous, title = title, _QUALIFIER.sub("", title).strip()
    return title or previous


@lru_cache(maxsize=1)
def _table() -> tuple[list[str], list[str]]:
    """The sorted ``key<TAB>abbreviation`` lines: full titles, then qualifier-stripped ones."""
    with gzip.open(DATA_FILE, "rb") as handle:
        text = handle.read().decode("utf-8")
    titles, _, stripped = text.partition(f"\n{_SECTION}\n")
    return titles.split("\n"), stripped.rstrip("\n").split("\n")


def _find(lines: list[str], key: str) -> str | None:
    probe = key + "\t"
    at = bisect.bisect_left(lines, probe)
    if at < len(lines) and lines[at].startswith(probe):
        return lines[at][len(probe):]
    return None


@lru_cache(maxsize=4096)
def abbreviation(title: str) -> str | None:
    """The NLM abbreviation of a journal title, or None when the table does not know it.

    >>> abbreviation("The New England Journal of Medicine")
    'N Engl J Med'
    >>> abbreviation("THE LANCET")
    'Lancet'
    """
    if not title or not title.strip():
        return None
    titles, stripped = _table()
    key = normalise_title(title)
    found = _find(titles, key) or _find(stripped, key)
    if found is None:
        base = normalise_title(strip_qualifiers(title))
        if base != key:
            found = _find(titles, base) or _find(stripped, base)
    return found


# -- building the table ---------------------------------------------------------------------


def _ncbi_pairs(path: Path) -> list[tuple[str, str]]:
    """(title, abbreviation) pairs of the NCBI list, duplicates kept (a plain JSON load
    would keep only the last value of a repeated title)."""
    pairs: list[tuple[str, str]] = []

    def keep(items: list[tuple[str, object]]) -> dict:
        if items and all(isinstance(v, str) for _, v in items):
            pairs.extend((k, v) for k, v in items if isinstance(v, str))
        return dict(items)

    json.loads(path.read_text(encoding="utf-8"), object_pairs_hook=keep)
    return pairs


def _csv_pairs(path: Path) -> list[tuple[str, str]]:
    rows = csv.reader(io.StringIO(path.read_text(encoding="utf-8")))
    pairs = []
    for row in rows:
        if len(row) < 2:
            continue
        # entrez joins alternatives with "|"; keep the first NLM (dotless) one.
        choices = [c.strip() for c in row[1].split("|") if c.strip() and "." not in c]
        if choices:
            pairs.append((row[0], choices[0]))
    return pairs


def _index(pairs: Iterable[tuple[str, str]], key_of) -> tuple[dict[str, str], set[str]]:
    """key -> abbreviation, and the ambiguous keys: those with several different
    abbreviations, unless one of them is the key itself ("BMJ" for "BMJ (Clinical research
    ed.)" and "BMJ (International edition)")."""
    found: dict[str, set[str]] = {}
    for title, abbrev in pairs:
        abbrev = " ".join(abbrev.split())
        if not abbrev:
            continue
        key = key_of(title)
        if key:
            found.setdefault(key, set()).add(abbrev)
    table, ambiguous = {}, set()
    for key, values in found.items():
        plain = [v for v in values if normalise_title(v) == key]
        if len(values) == 1:
            table[key] = next(iter(values))
        elif len(plain) == 1:
            table[key] = plain[0]
        else:
            ambiguous.add(key)
    return table, ambiguous


def build_table(ncbi: Path, fallbacks: Iterable[Path] = ()) -> dict:
    """The table :func:`abbreviation` reads: NCBI titles first, then each fallback list
    (CSV: title, abbreviation) for titles the lists before it lack."""
    sources = [_ncbi_pairs(ncbi)] + [_csv_pairs(path) for path in fallbacks]
    titles: dict[str, str] = {}
    stripped: dict[str, str] = {}
    ambiguous: set[str] = set()  # never guessed, whichever list comes later
    for pairs in sources:
        exact, unsure = _index(pairs, normalise_title)
        ambiguous |= unsure
        for key, value in exact.items():
            if key not in ambiguous:
                titles.setdefault(key, value)
        base, unsure = _index(pairs, lambda t: normalise_title(strip_qualifiers(t)))
        ambiguous |= unsure - set(titles)
        for key, value in base.items():
            if key not in titles and key not in ambiguous:
                stripped.setdefault(key, value)
    return {"titles": titles, "stripped": stripped}


def write_table(table: dict, target: Path = DATA_FILE) -> None:
    def lines(part: dict[str, str]) -> list[str]:
        return sorted(f"{k}\t{v}" for k, v in part.items() if "\t" not in k + v and "\n" not in k + v)

    text = "\n".join([*lines(table["titles"]), _SECTION, *lines(table["stripped"])]) + "\n"
    with gzip.GzipFile(target, "wb", compresslevel=9, mtime=0) as handle:
        handle.write(text.encode("utf-8"))


if __name__ == "__main__":  # pragma: no cover - maintenance
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    write_table(build_table(Path(sys.argv[1]), [Path(p) for p in sys.argv[2:]]))
    print(f"wrote {DATA_FILE}")
