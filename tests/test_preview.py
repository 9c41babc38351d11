"""`citeflow preview`: a real server process, a real HTTP client, and once a real browser."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = Path("/usr/bin/chromium")
#: Upper bound for waits on the server (not a timing assertion: a wait ends early).
PATIENCE = 60.0


@pytest.fixture()
def article(tmp_path, monkeypatch):
    (tmp_path / "references").mkdir()
    shutil.copy(ROOT / "references" / "dupilumab.bib", tmp_path / "references")
    (tmp_path / "citeflow.toml").write_text('bibliography = ["references/dupilumab.bib"]\n')
    (tmp_path / "manuscripts").mkdir()
    shutil.copy(ROOT / "manuscripts" / "dupilumab-arthralgia-review.md",
                tmp_path / "manuscripts" / "review.md")
    return tmp_path / "manuscripts" / "review.md"


@pytest.fixture()
def server(article):
    """`citeflow preview` in its own process; yields (base URL, process)."""
    env = {**os.environ, "CITEFLOW_OFFLINE": "1"}
    process = subprocess.Popen([sys.executable, "-m", "citeflow", "preview", str(article),
                                "--port", "0"], cwd=article.parent, env=env,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    line = process.stdout.readline()
    assert "Previewing" in line, process.stderr.read()
    url = line.split(" at ")[1].split()[0]
    yield url, process
    if process.poll() is None:
        process.kill()
        process.wait()


def wait_for(predicate, what: str):
    deadline = time.monotonic() + PATIENCE
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError(f"gave up waiting for {what}")


def status(url: str) -> dict:
    return requests.get(url + "_citeflow/status", timeout=PATIENCE).json()


def test_page_reloads_on_change_shows_errors_and_stops_on_ctrl_c(article, server):
    url, process = server
    page = requests.get(url, timeout=PATIENCE)
    assert page.status_code == 200 and "text/html" in page.headers["Content-Type"]
    assert "Dupilumab and Joint Pain: What the Evidence Shows" in page.text
    assert "Simpson EL" in page.text  # citations rendered through citeproc
    assert '<script src="/_citeflow/live.js"></script>' in page.text
    assert "EventSource" in requests.get(url + "_citeflow/live.js", timeout=PATIENCE).text

    with requests.get(url + "_citeflow/events", stream=True, timeout=PATIENCE) as events:
        lines = events.iter_lines(chunk_size=1, decode_unicode=True)
        first = next(line for line in lines if line.startswith("data:"))
        text = article.read_text(encoding="utf-8")
        article.write_text(text.replace("# Introduction", "# Background"), encoding="utf-8")
        second = next(line for line in lines if line.startswith("data:"))
        assert second != first  # the page is told a new rendering is ready
    assert ">Background</h1>" in requests.get(url, timeout=PATIENCE).text

    # A bibliography change re-renders too.
    bib = article.parent.parent / "references" / "dupilumab.bib"
    version = status(url)["version"]
    bib.write_text(bib.read_text(encoding="utf-8").replace(
        "Two Phase 3 Trials of Dupilumab", "Two Phase III Trials of Dupilumab"), encoding="utf-8")
    wait_for(lambda: status(url)["version"] > version, "a rendering after the .bib changed")
    assert "Two phase III trials of dupilumab" in requests.get(url, timeout=PATIENCE).text

    # A render error is shown in the page, and the next good save replaces it.
    article.write_text("---\ntitle: [unclosed\n---\n\nText.\n", encoding="utf-8")
    error = wait_for(lambda: status(url)["error"], "the render error")
    assert "review.md" in error
    shown = requests.get(url, timeout=PATIENCE).text
    assert 'id="citeflow-error"' in shown and "review.md" in shown
    article.write_text(text, encoding="utf-8")
    wait_for(lambda: status(url)["error"] is None, "a good rendering again")

    process.send_signal(signal.SIGINT)
    assert process.wait(timeout=PATIENCE) == 0
    said = process.stderr.read()
    assert "preview stopped" in said and "Traceback" not in said


def test_files_outside_the_manuscript_folder_are_not_served(article, server):
    url, _process = server
    (article.parent / "figure.txt").write_text("inside")
    assert requests.get(url + "figure.txt", timeout=PATIENCE).text == "inside"
    outside = requests.get(url + "..%2F..%2Fetc%2Fpasswd", timeout=PATIENCE)
    assert outside.status_code == 404


@pytest.mark.skipif(not CHROMIUM.exists(), reason="needs /usr/bin/chromium (Debian's chromium)")
def test_a_browser_reloads_the_page_after_a_save(article, server, tmp_path):
    url, _process = server
    browser = subprocess.Popen(
        [str(CHROMIUM), "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
         f"--user-data-dir={tmp_path / 'profile'}", "--remote-debugging-port=0", url],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        # The page loaded and its script opened the event stream.
        wait_for(lambda: status(url)["listeners"] >= 1, "the browser's event stream")
        loads = status(url)["page_loads"]
        text = article.read_text(encoding="utf-8")
        article.write_text(text.replace("# Conclusion", "# Conclusions"), encoding="utf-8")
        # The browser reloads the page by itself once the new rendering is announced.
        wait_for(lambda: status(url)["page_loads"] > loads, "the browser to reload the page")
    finally:
        browser.terminate()
        browser.wait(timeout=30)
