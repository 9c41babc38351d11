"""Reading the labelled sentence sets for the claim model, each sentence with its context.

Every record is a dict: ``genre`` (review, web, ...), ``doc`` (the document it comes from:
the unit of every split), ``label`` (1 = needs a source), ``text``, ``previous``, ``next``,
``heading``, ``position``, ``count`` (sentences in its paragraph), ``kind`` (block kind) and
``source`` (where it came from).
"""

from __future__ import annotations

import json
from collections import defaultdict
from pathlib import Path
from urllib.parse import urlparse

HERE = Path(__file__).resolve().parent
WEB_FILE = HERE / "data" / "web_health.txt"


def read_manubot(path: Path) -> list[dict]:
    """``sentences.jsonl`` of the Manubot corpus: label = the authors cited the sentence."""
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]
    sizes: dict[tuple, int] = defaultdict(int)
    for row in rows:
        sizes[(row["repo"], row["path"], row["paragraph_index"])] += 1
    records = []
    for row in rows:
        records.append({
            "genre": "review",
            "doc": row["repo"],
            "label": int(bool(row["cited"])),
            "text": row["sentence"],
            "previous": row.get("prev") or "",
            "next": row.get("next") or "",
            "heading": row.get("section") or "",
            "position": int(row["sentence_index"]),
            "count": sizes[(row["repo"], row["path"], row["paragraph_index"])],
            "kind": row.get("block") or "paragraph",
            "source": f"https://github.com/{row['repo']}/blob/{row['commit']}/{row['path']}",
        })
    return records


def read_web(path: Path = WEB_FILE) -> list[dict]:
    """The web health-explainer excerpts (``train/data/web_health.txt``), labelled by hand.

    The document of a sentence is the site it comes from, so that no site is on both sides
    of a split.
    """
    records: list[dict] = []
    url = heading = ""
    paragraph: list[dict] = []
    excerpt: list[dict] = []

    def close_paragraph() -> None:
        for index, record in enumerate(paragraph):
            record["position"] = index
            record["count"] = len(paragraph)
        paragraph.clear()

    def neighbour(other: dict | None, record: dict) -> str:
        """The text of ``other`` when it is in the same section as ``record``."""
        if other is None or other["heading"] != record["heading"]:
            return ""
        return other["text"]

    def close_excerpt() -> None:
        close_paragraph()
        for before, record, after in zip([None, *excerpt], excerpt, [*excerpt[1:], None],
                                         strict=False):
            record["previous"] = neighbour(before, record)
            record["next"] = neighbour(after, record)
        records.extend(excerpt)
        excerpt.clear()

    for line in path.read_text(encoding="utf-8").splitlines():
        if line.startswith("# ") and not url:
            continue  # the file's own header
        if line.startswith("@ "):
            close_excerpt()
            url, heading = line[2:].strip(), ""
        elif line.startswith("# "):
            close_paragraph()
            heading = line[2:].strip()
        elif not line.strip():
            close_paragraph()
        elif line[:2] in ("0\t", "1\t"):
            record = {
                "genre": "web", "doc": urlparse(url).hostname.removeprefix("www."),
                "label": int(line[0]), "text": line[2:].strip(), "heading": heading,
                "kind": "paragraph", "source": url,
            }
            paragraph.append(record)
            excerpt.append(record)
        else:
            raise ValueError(f"{path}: cannot read line {line!r}")
    close_excerpt()
    return records


def read_pairs(path: Path) -> list[dict]:
    """A (label, text) set without context: ClaimBuster JSON, PMOA-CITE JSONL, or the
    project's labelled sample draft (TSV)."""
    name = path.name
    if name.endswith(".tsv"):
        pairs = []
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.startswith("#") or not line.strip():
                continue
            label, text = line.split("\t")[:2]
            pairs.append((int(label), text))
    elif name.endswith(".json"):
        pairs = [(int(d["label"]), d["text"]) for d in json.loads(path.read_text())]
    else:
        pairs = [(int(d["label"]), d["text"]) for d in
                 map(json.loads, path.read_text().splitlines()) if d]
    return [{"genre": name, "doc": name, "label": y, "text": t, "previous": "", "next": "",
             "heading": "", "position": 0, "count": 1, "kind": "paragraph", "source": name}
            for y, t in pairs]
