"""Citation keys as Pandoc reads them, at positions in the original file."""

from __future__ import annotations

import json
from pathlib import Path

import pypandoc

from citeflow.document.citations import cited_keys, find_citations
from citeflow.document.manuscript import parse_manuscript, read_manuscript

DATA = Path(__file__).parent / "data" / "manuscript"
CROSSREF_PREFIXES = ("fig:", "tbl:", "eq:", "sec:", "fig-", "tbl-")


def pandoc_citation_ids(path: Path) -> list[str]:
    """Citation ids in the order Pandoc's own reader finds them."""
    ast = json.loads(pypandoc.convert_file(str(path), "json", format="markdown"))
    ids: list[str] = []

    def walk(node):
        if isinstance(node, dict):
            if node.get("t") == "Cite":
                ids.extend(c["citationId"] for c in node["c"][0])
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(ast["blocks"])
    return ids


def test_real_manuscript_keys_match_pandoc():
    path = DATA / "meta-review_main-text.md"
    expected = [k for k in pandoc_citation_ids(path) if not k.startswith(CROSSREF_PREFIXES)]
    found = [c.key for c in find_citations(read_manuscript(path))]
    assert len(expected) > 100
    assert sorted(set(found)) == sorted(set(expected))


def test_emails_and_escaped_at_are_not_citations():
    keys = cited_keys(read_manuscript(DATA / "pandoc-scholar_article.md"))
    assert keys == ["Upper_writers_1974"]


def test_quarto_crossrefs_are_not_citations():
    keys = cited_keys(read_manuscript(DATA / "quarto-elsevier_template.qmd"))
    assert "Feynman1963118" in keys and "Dirac1953888" in keys
    assert not any(k.startswith(("fig", "tbl")) for k in keys)


def test_bracket_groups_locators_and_positions():
    text = "---\ntitle: x\n---\nText [see @a, p. 3; @b] and @c says [-@d].\n`[@e]` [l](http://x/@f)\n"
    m = parse_manuscript(text)
    cites = find_citations(m)
    assert [c.key for c in cites] == ["a", "b", "c", "d"]
    a, b, c, d = cites
    assert m.text[a.bracket_start:a.bracket_end] == "[see @a, p. 3; @b]"
    assert a.group == b.group != c.group
    assert c.in_text and not a.in_text
    assert d.suppress_author
    assert m.line_col(c.start) == (4, 29)
