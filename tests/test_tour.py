"""The README's tour, line by line, in a fresh copy of the project.

Every command of the tour runs as a user would type it (a new process, in the copy's root).
The two works the sample draft's bibliography lacks are fetched from a local server that
answers with real Crossref and PubMed records (tests/data/tour); nothing reaches the
internet. `citeflow preview` is started, asked for its page and stopped with Ctrl-C.
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import signal
import subprocess
import sys
from pathlib import Path
from urllib.parse import parse_qs

import pytest
import requests
from werkzeug import Response

from citeflow.references.bibliography import load_bibliography

ROOT = Path(__file__).resolve().parents[1]
DATA = Path(__file__).parent / "data" / "tour"
CHAPTER = "10.1007/978-3-662-46370-3_13"


def tour_lines() -> list[str]:
    """The commands of the README's tour, comments dropped."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("## A tour of the commands", 1)[1]
    block = re.search(r"```sh\n(.*?)```", section, re.S).group(1)
    lines = [re.sub(r"\s+#.*$", "", line).strip() for line in block.splitlines()]
    return [line for line in lines if line]


def fresh_copy(target: Path) -> Path:
    """The project's files as a clone has them (tracked, plus new files not ignored)."""
    listed = subprocess.run(["git", "ls-files", "--cached", "--others", "--exclude-standard",
                             "-z"], cwd=ROOT, capture_output=True, check=True).stdout
    for name in filter(None, listed.decode().split("\0")):
        source = ROOT / name
        if source.is_file():
            (target / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target / name)
    return target


@pytest.fixture()
def registry(httpserver):
    httpserver.expect_request(f"/crossref/works/{CHAPTER}").respond_with_data(
        (DATA / "crossref" / "10.1007_978-3-662-46370-3_13.json").read_bytes(),
        content_type="application/json")

    def efetch(request):
        ids = parse_qs(request.query_string.decode()).get("id", [""])[0] or \
            request.form.get("id", "")
        record = DATA / "pubmed" / f"{ids}.efetch.xml"
        if not record.exists():
            return Response("<eFetchResult><ERROR>not found</ERROR></eFetchResult>", 400)
        return Response(record.read_bytes(), 200, content_type="text/xml")

    httpserver.expect_request("/eutils/efetch.fcgi").respond_with_handler(efetch)
    return httpserver


def test_the_readme_tour_runs_line_by_line(tmp_path, registry):
    project = fresh_copy(tmp_path / "citeflow")
    env = {k: v for k, v in os.environ.items() if not k.startswith("CITEFLOW_")}
    env.update({"CITEFLOW_CACHE_DIR": str(tmp_path / "cache"),
                "CITEFLOW_CROSSREF_URL": registry.url_for("/crossref"),
                "CITEFLOW_DOI_URL": registry.url_for("/doi"),
                "CITEFLOW_EUTILS_URL": registry.url_for("/eutils"),
                "CITEFLOW_IDCONV_URL": registry.url_for("/idconv")})
    lines = tour_lines()
    assert lines[0].startswith("citeflow import ")
    said: dict[str, subprocess.CompletedProcess] = {}
    for line in lines:
        words = shlex.split(line)
        assert words[0] == "citeflow", line
        command = [sys.executable, "-m", "citeflow", *words[1:]]
        if words[1] == "preview":
            said[line] = _preview(command, project, env)
            continue
        done = subprocess.run(command, cwd=project, env=env, capture_output=True, text=True,
                              timeout=600)
        assert done.returncode == 0, f"{line}\n{done.stdout[-2000:]}\n{done.stderr[-2000:]}"
        assert "Traceback" not in done.stderr, line
        said[line] = done

    draft = project / "manuscripts" / "dupilumab-arthralgia-draft.md"
    # The preview of resolve shows fetched and bibliography entries alike; --write applies it.
    preview = said["citeflow resolve manuscripts/dupilumab-arthralgia-draft.md"]
    assert "+In two phase 3 trials" in preview.stdout and "[@simpson2016two]" in preview.stdout
    assert "would add 2 entries" in preview.stderr
    text = draft.read_text(encoding="utf-8")
    assert "[doi:" not in text and "[pmid:" not in text and "[pmcid:" not in text
    bib = load_bibliography([project / "references" / "dupilumab.bib"])
    chapter, review = bib.by_doi(CHAPTER), bib.by_pmid("29915538")
    assert chapter is not None and review is not None
    assert f"[@{chapter.key}]" in text and f"[@{review.key}]" in text
    # import wrote the draft, check --fix left it no safe fix, render and build wrote outputs.
    assert (project / "manuscripts" / "draft.md").is_file()
    assert "4 built, 0 up to date, 0 failed" in said["citeflow build"].stdout
    for name in ("dupilumab-arthralgia-review.docx", "dupixent-joint-pain.review.pdf",
                 "dupilumab-arthralgia-draft.pdf", "draft.html"):
        assert (project / "build" / name).is_file(), name
    assert "skipped" in said["citeflow cite 10.1056/NEJMoa1610020 pmid:31876900"].stderr
    assert (tmp_path / "my-article" / "citeflow.toml").is_file()
    # Only the two missing works were asked for, once each (the second resolve used the cache).
    asked = sorted(request.path for request, _ in registry.log)
    assert asked == ["/crossref/works/" + CHAPTER, "/eutils/efetch.fcgi"]


def _preview(command: list[str], project: Path, env: dict) -> subprocess.CompletedProcess:
    process = subprocess.Popen([*command, "--port", "0"], cwd=project, env=env,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        first = process.stdout.readline()
        url = first.split(" at ")[1].split()[0]
        page = requests.get(url, timeout=60)
        assert page.status_code == 200 and "What the Evidence Shows" in page.text
    finally:
        process.send_signal(signal.SIGINT)
        code = process.wait(timeout=60)
    assert code == 0
    return subprocess.CompletedProcess(command, code, first, process.stderr.read())
