"""Reading PDFs as a person (or a text extractor) would: text, where text sits, metadata."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

from pypdf import PdfReader


def pdf_text(path: Path) -> str:
    """The text layer as pypdf extracts it, pages joined by newlines."""
    return "\n".join(page.extract_text() for page in PdfReader(path).pages)


def page_texts(path: Path) -> list[str]:
    return [page.extract_text() for page in PdfReader(path).pages]


def pdftotext(path: Path) -> str | None:
    """The text poppler's pdftotext gives, or None when poppler is not installed."""
    if shutil.which("pdftotext") is None:
        return None
    return subprocess.run(["pdftotext", "-enc", "UTF-8", str(path), "-"], capture_output=True,
                          check=True).stdout.decode("utf-8")


def text_runs(path: Path) -> list[list[tuple[float, float, str]]]:
    """For each page, every piece of text with the point it starts at (x, y in points)."""
    pages = []
    for page in PdfReader(path).pages:
        runs: list[tuple[float, float, str]] = []

        def visit(text, cm, tm, font, size, runs=runs):
            if text.strip():
                x = cm[4] + tm[4] * cm[0] + tm[5] * cm[2]
                y = cm[5] + tm[4] * cm[1] + tm[5] * cm[3]
                runs.append((x, y, text))

        page.extract_text(visitor_text=visit)
        pages.append(runs)
    return pages


def overprinted(path: Path) -> list[tuple[int, str, str]]:
    """Pieces of text printed on top of other text: (page, text, the text under it) for
    every two different pieces that start at the same point (within half a point)."""
    found = []
    for number, runs in enumerate(text_runs(path), start=1):
        seen: dict[tuple[int, int], str] = {}
        for x, y, text in runs:
            spot = (round(x * 2), round(y * 2))
            if spot in seen and seen[spot].strip() != text.strip():
                found.append((number, text.strip(), seen[spot].strip()))
            seen[spot] = text
    return found


def xmp(path: Path) -> str:
    """The XMP metadata packet of the PDF."""
    root = PdfReader(path).trailer["/Root"]
    return root["/Metadata"].get_object().get_data().decode("utf-8")


def conformance(path: Path) -> dict[str, str]:
    """The PDF/A and PDF/UA claims of the XMP metadata: {"pdfaid:part": "2", ...}."""
    return dict(re.findall(r"<(pdf(?:a|ua)id:\w+)>([^<]*)<", xmp(path)))
