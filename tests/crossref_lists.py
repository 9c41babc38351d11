"""Crossref's list endpoint, ``/works?filter=doi:A,doi:B,...``, played from single-work records.

The answer is assembled from the recorded ``/works/{doi}`` records (their ``message``) in the
envelope of Crossref's recorded list answer (tests/data/sources/crossref/
updates_10.1016_s0140-6736(97)11096-0.worklist.json): ``message-type`` ``work-list``,
``message.items`` holding the works found, in the order asked; a DOI the test does not know is
left out, as Crossref leaves out a DOI it does not hold.
"""

from __future__ import annotations

import json
from typing import Any

from werkzeug import Request
from werkzeug import Response as WResponse


def list_answer(items: list[dict[str, Any]], rows: int) -> dict[str, Any]:
    return {"status": "ok", "message-type": "work-list", "message-version": "1.0.0",
            "message": {"facets": {}, "total-results": len(items), "items": items,
                        "items-per-page": rows, "query": {"start-index": 0, "search-terms": None}}}


def filter_dois(request: Request) -> list[str]:
    """The DOIs of a ``filter=doi:A,doi:B`` query, lower-cased."""
    value = request.args.get("filter", "")
    return [part[4:].lower() for part in value.split(",") if part.startswith("doi:")]


def serve_crossref_lists(server, works: dict[str, dict[str, Any]] | None = None,
                         prefix: str = "/crossref") -> dict[str, dict[str, Any]]:
    """Answer ``{prefix}/works?filter=...`` from ``works`` (DOI -> Crossref work), a dict the
    caller may keep filling; returned."""
    works = {} if works is None else works

    def answer(request: Request) -> WResponse:
        items = [works[doi] for doi in filter_dois(request) if doi in works]
        body = list_answer(items, int(request.args.get("rows", 20)))
        return WResponse(json.dumps(body), content_type="application/json")

    server.expect_request(f"{prefix}/works").respond_with_handler(answer)
    return works
