"""Reading manuscripts: front matter, blocks and positions that point at the original file."""

from __future__ import annotations

import pytest

from citeflow.document.manuscript import parse_manuscript, read_manuscript
from citeflow.errors import CiteflowError

SAMPLE = """---
title: "Joint pain"
bibliography: ../references/x.bib
---

# Background

Dupilumab blocks IL-4 signalling [@gandhi2016targeting].
A second line of the same paragraph.

- first item with [citation needed]
  and its continuation
- second item

> quoted claim here

| drug | effect |
|------|--------|
| dupilumab | arthralgia [@jay2022review] |

[^1]: A footnote with a claim.

```
[doi:10.1/not-prose]
```
"""


def position_of(manuscript, needle):
    """Line and column of ``needle`` found through the block contents, not the raw text."""
    for block in manuscript.prose_blocks():
        index = block.content.find(needle)
        if index >= 0:
            return manuscript.line_col(block.source_offset(index))
    raise AssertionError(f"{needle!r} not in any prose block")


def editor_position(text, needle):
    """Where an editor shows ``needle``: 1-based line and column, BOM not counted."""
    lines = text.lstrip("\ufeff").replace("\r\n", "\n").split("\n")
    for number, line in enumerate(lines, 1):
        if needle in line:
            return number, line.index(needle) + 1
    raise AssertionError(needle)


def test_front_matter_and_positions_after_it():
    m = parse_manuscript(SAMPLE, "/tmp/a/ms.md")
    assert m.title == "Joint pain"
    assert [str(p) for p in m.bibliography_paths()] == ["/tmp/a/../references/x.bib"]
    for needle in ("[@gandhi", "[citation needed]", "and its continuation", "quoted claim",
                   "arthralgia", "A footnote", "second item", "Background"):
        assert position_of(m, needle) == editor_position(SAMPLE, needle), needle
    assert position_of(m, "and its continuation") == (12, 3)


def test_block_kinds_and_code_is_not_prose():
    m = parse_manuscript(SAMPLE)
    kinds = [b.kind for b in m.blocks]
    assert kinds == ["heading", "paragraph", "list_item", "list_item", "blockquote", "table",
                     "footnote", "code"]
    assert all("[doi:" not in b.content for b in m.prose_blocks())
    assert m.blocks[2].content == "first item with [citation needed] and its continuation"


def test_crlf_and_bom_keep_columns():
    text = "\ufeff---\r\ntitle: T\r\n---\r\n\r\nWord [@key] here.\r\nNext [ref] line.\r\n"
    m = parse_manuscript(text)
    assert m.title == "T"
    assert position_of(m, "[@key]") == (5, 6) == editor_position(text, "[@key]")
    assert position_of(m, "[ref]") == (6, 6)
    assert m.text == text  # nothing normalised away


def test_bom_without_front_matter_is_not_a_column():
    m = parse_manuscript("\ufeffStudies show X.\n")
    assert position_of(m, "Studies") == (1, 1)


def test_malformed_front_matter_names_the_line(tmp_path):
    path = tmp_path / "bad.md"
    path.write_text("---\ntitle: ok\nbibliography: [unclosed\ncsl: x\n---\n\nText.\n")
    with pytest.raises(CiteflowError) as info:
        read_manuscript(path)
    assert info.value.file == path
    assert info.value.line in (3, 4, 5)
    assert "front matter" in info.value.message


def test_unclosed_front_matter_and_missing_file(tmp_path):
    path = tmp_path / "open.md"
    path.write_text("---\ntitle: never closed\n\nText.\n")
    with pytest.raises(CiteflowError, match="never closed"):
        read_manuscript(path)
    with pytest.raises(CiteflowError, match="not found"):
        read_manuscript(tmp_path / "absent.md")


def test_front_matter_that_is_not_a_mapping(tmp_path):
    path = tmp_path / "list.md"
    path.write_text("---\n- a\n- b\n---\nText.\n")
    with pytest.raises(CiteflowError, match="mapping"):
        read_manuscript(path)


def test_one_span_holding_two_letter_names_is_split_after_each():
    """Two names such as "vitamin C." in one segmenter span: a cut after each, at its place."""
    from citeflow.document.sentences import _split_after_letter_names

    text = "Took vitamin C. Then took vitamin D. Then rested."
    spans = _split_after_letter_names(text, [(0, len(text))])
    assert [text[a:b] for a, b in spans] == ["Took vitamin C.", "Then took vitamin D.", "Then rested."]
