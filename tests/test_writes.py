"""No lost writes: locked bibliography appends, refused stale rewrites, one-line write errors.

Concurrent runs are real `citeflow` processes against a real threaded HTTP server on
127.0.0.1 serving recorded Crossref answers; the server holds one answer per run until every
run has asked, so that the runs reach their bibliography appends together.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import re
import shutil
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from click.testing import CliRunner
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from citeflow.checks.engine import check_manuscript
from citeflow.cli import main
from citeflow.references.bibliography import Reference, append_references, load_bibliography

CROSSREF = Path(__file__).parent / "data" / "sources" / "crossref"

#: Recorded Crossref works with authors and a year (brackets and ';' in a DOI would need
#: escaping inside a placeholder, so those records are left out).
WORKS = [
    "10.1007_978-3-0348-8720-5_13", "10.1007_978-3-662-46370-3_13", "10.1038_nnano.2014.279",
    "10.1101_2020.12.01.406702", "10.1145_3184558.3186235", "10.1186_s13742-015-0103-4",
    "10.1371_journal.pone.0033693", "10.1371_journal.ppat.1008184", "10.2903_j.efsa.2018.5239",
    "10.32396_usurj.v1i1.55", "10.3892_ijo_00000353", "10.5194_cp-2020-95", "10.7554_elife.01567",
]
RUNS = 4


def _records() -> dict[str, bytes]:
    """Recorded answers by lower-cased DOI."""
    records = {}
    for name in WORKS:
        data = (CROSSREF / f"{name}.json").read_bytes()
        records[json.loads(data)["message"]["DOI"].lower()] = data
    return records


RECORDS = _records()
DOIS = sorted(RECORDS)


def run(*args: str):
    return CliRunner().invoke(main, list(args))


def _filler_bib(entries: int) -> str:
    """A bibliography of ordinary entries, large enough that reading and writing it takes time."""
    return "".join(
        f"@article{{filler{n},\n  author = {{Doe, Jane and Roe, Richard}},\n"
        f"  title = {{Filler study number {n} of eczema and joint pain}},\n"
        f"  journal = {{Journal of Examples}},\n  year = {{2001}},\n  volume = {{{n}}}\n}}\n\n"
        for n in range(entries))


class GatedCrossref:
    """A threaded server answering ``/crossref/works/DOI`` from the recorded answers.

    The answer for each DOI in ``gates`` is held until every gated DOI has been asked for
    (or a generous wait has passed), so that the runs go on from the same moment.
    """

    def __init__(self) -> None:
        self.server = HTTPServer(host="127.0.0.1", threaded=True)
        self.gates: set[str] = set()
        self.barrier = threading.Barrier(1)
        self.server.expect_request(re.compile(r"^/crossref/works/.+")).respond_with_handler(self._answer)
        self.server.expect_request(re.compile(r"^/doi/.+")).respond_with_data("DOI Not Found", status=404)

    def gate(self, dois: list[str]) -> None:
        self.gates = set(dois)
        self.barrier = threading.Barrier(len(dois))

    def _answer(self, request: Request) -> Response:
        doi = request.path.split("/crossref/works/", 1)[1].lower()
        if doi in self.gates:
            with contextlib.suppress(threading.BrokenBarrierError):
                self.barrier.wait(timeout=20)
        if doi not in RECORDS:
            return Response("Resource not found.", status=404)
        return Response(RECORDS[doi], content_type="application/json")

    def url(self) -> str:
        return self.server.url_for("").rstrip("/")


@pytest.fixture
def crossref():
    server = GatedCrossref()
    server.server.start()
    yield server
    server.server.clear()
    server.server.stop()


def _environment(base: str, cache: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CITEFLOW_")}
    env.update({"CITEFLOW_CROSSREF_URL": f"{base}/crossref", "CITEFLOW_DOI_URL": f"{base}/doi",
                "CITEFLOW_EUTILS_URL": f"{base}/eutils", "CITEFLOW_IDCONV_URL": f"{base}/idconv/",
                "CITEFLOW_CACHE_DIR": str(cache)})
    return env


def _share(dois: list[str]) -> tuple[list[list[str]], list[str]]:
    """Each run's own DOIs, and the DOI every run cites."""
    shared = dois[:1]
    own = dois[1:]
    per_run = len(own) // RUNS
    return [own[i * per_run:(i + 1) * per_run] for i in range(RUNS)], shared


def _manuscript(number: int, dois: list[str]) -> str:
    paragraphs = [f"Finding {i} of run {number} is supported [doi:{doi}]." for i, doi in enumerate(dois)]
    return f"---\ntitle: Run {number}\nbibliography: refs.bib\n---\n\n" + "\n\n".join(paragraphs) + "\n"


@pytest.mark.parametrize("trial", range(3))
def test_concurrent_resolves_sharing_a_bibliography_lose_no_entry(tmp_path, crossref, trial):
    (tmp_path / "citeflow.toml").write_text(
        '[sources]\ntimeout = 30\nretries = 0\nbackoff = 0\nworkers = 8\n', encoding="utf-8")
    bib = tmp_path / "refs.bib"
    bib.write_text(_filler_bib(3000), encoding="utf-8")
    own, shared = _share(DOIS)
    crossref.gate([dois[0] for dois in own])
    manuscripts = []
    for number, dois in enumerate(own):
        path = tmp_path / f"run{number}.md"
        path.write_text(_manuscript(number, dois + shared), encoding="utf-8")
        manuscripts.append(path)
    processes = [
        subprocess.Popen([sys.executable, "-m", "citeflow", "resolve", "--write", path.name], cwd=tmp_path,
                         env=_environment(crossref.url(), tmp_path / f"cache{number}"),
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for number, path in enumerate(manuscripts)
    ]
    outcomes = [(p.wait(timeout=300), p.stderr.read()) for p in processes]
    for process in processes:
        process.stdout.close()
        process.stderr.close()
    for code, stderr in outcomes:
        assert code == 0, stderr
        assert "Traceback" not in stderr

    reloaded = load_bibliography([bib])
    assert reloaded.duplicates() == []  # a work every run cites was added once
    assert not reloaded.warnings  # no key written twice
    cited = shared + [doi for dois in own for doi in dois]
    for doi in cited:
        assert reloaded.by_doi(doi) is not None, f"{doi} was lost"
    assert len(reloaded) == 3000 + len(cited)
    for path in manuscripts:
        text = path.read_text(encoding="utf-8")
        assert "[doi:" not in text
        codes = [f.code for f in check_manuscript(path).findings]
        assert "CF101" not in codes, f"{path.name} cites keys the bibliography lacks"
        assert "CF202" not in codes and "CF102" not in codes


# --------------------------------------------------------------------------------------
# The append itself, against what the file holds now


def test_append_gives_a_key_taken_meanwhile_the_next_suffix_and_skips_a_work_added_meanwhile(tmp_path):
    bib = tmp_path / "refs.bib"
    bib.write_text("@article{old2001,\n  title = {Old},\n  year = {2001}\n}\n", encoding="utf-8")
    known = load_bibliography([bib])  # what a slow run read before the others wrote
    mine = [Reference(key="smith2020dupilumab", title="Dupilumab trial", authors=["Smith, A"], year=2020,
                      doi="10.5555/mine"),
            Reference(key="jones2021eczema", title="Eczema", authors=["Jones, B"], year=2021, doi="10.5555/SHARED")]
    others = [Reference(key="smith2020dupilumab", title="Dupilumab cohort", authors=["Smith, C"], year=2020,
                        doi="10.5555/theirs"),
              Reference(key="jones2021eczemaother", title="Eczema", authors=["Jones, B"], year=2021,
                        doi="10.5555/shared")]
    append_references(bib, others)

    result = append_references(bib, mine, known=known)

    assert [r.key for r in result.references] == ["smith2020dupilumaba", "jones2021eczemaother"]
    assert [r.key for r in result.added] == ["smith2020dupilumaba"]
    reloaded = load_bibliography([bib])
    assert reloaded.keys() == ["old2001", "smith2020dupilumab", "jones2021eczemaother", "smith2020dupilumaba"]
    assert reloaded.get("smith2020dupilumaba").doi == "10.5555/mine"
    assert reloaded.get("smith2020dupilumaba").line == result.added[0].line
    assert reloaded.duplicates() == []


def test_append_reads_a_file_rewritten_meanwhile_in_full(tmp_path):
    bib = tmp_path / "refs.bib"
    bib.write_text("@article{old2001,\n  title = {Old},\n  year = {2001}\n}\n", encoding="utf-8")
    known = load_bibliography([bib])
    # someone else put an entry at the top (the file did not merely grow)
    bib.write_text("@article{top,\n  title = {Top},\n  doi = {https://doi.org/10.5555/TOP}\n}\n\n"
                   + bib.read_text(encoding="utf-8"), encoding="utf-8")
    result = append_references(bib, [Reference(key="x2020top", title="Top", year=2020, doi="10.5555/top")],
                               known=known)
    assert result.added == [] and result.references[0].key == "top" and result.references[0].line == 1
    assert load_bibliography([bib]).keys() == ["top", "old2001"]


def test_cite_waits_for_the_lock_and_gives_up_with_one_line(tmp_path, crossref):
    bib = tmp_path / "refs.bib"
    original = b"@article{old2001,\n  title = {Old},\n  year = {2001}\n}\n"
    bib.write_bytes(original)
    holder = subprocess.Popen(
        [sys.executable, "-c", "import sys, filelock; lock = filelock.FileLock(sys.argv[1]); lock.acquire(); "
                               "print('held', flush=True); sys.stdin.read()", str(tmp_path / ".refs.bib.lock")],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "held"
        env = _environment(crossref.url(), tmp_path / "cache") | {"CITEFLOW_LOCK_TIMEOUT": "0.2"}
        blocked = subprocess.run([sys.executable, "-m", "citeflow", "cite", "--bib", "refs.bib", f"doi:{DOIS[0]}"],
                                 cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120)
    finally:
        holder.stdin.close()
        holder.wait(timeout=60)
        holder.stdout.close()
    assert blocked.returncode == 2
    assert blocked.stderr.startswith("citeflow: error: refs.bib: another process has held the lock .refs.bib.lock")
    assert len(blocked.stderr.strip().splitlines()) == 1
    assert bib.read_bytes() == original
    # the lock file stays behind, empty and harmless: the next run goes ahead
    assert (tmp_path / ".refs.bib.lock").exists()
    after = subprocess.run([sys.executable, "-m", "citeflow", "cite", "--bib", "refs.bib", f"doi:{DOIS[0]}"],
                           cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120)
    assert after.returncode == 0, after.stderr
    assert load_bibliography([bib]).by_doi(DOIS[0]) is not None


# --------------------------------------------------------------------------------------
# A manuscript that changed while resolve worked


@pytest.fixture
def served(tmp_path, httpserver, monkeypatch):
    """Every source pointed at the (single-threaded) test server; a project in tmp_path.
    The server's request log stays out of the command's standard error."""
    werkzeug_log = logging.getLogger("werkzeug")
    monkeypatch.setattr(werkzeug_log, "level", logging.WARNING)
    for name, value in _environment(httpserver.url_for("").rstrip("/"), tmp_path / "cache").items():
        if name.startswith("CITEFLOW_"):
            monkeypatch.setenv(name, value)
    (tmp_path / "citeflow.toml").write_text("[sources]\ntimeout = 5\nretries = 0\n", encoding="utf-8")
    return httpserver


def test_resolve_refuses_to_rewrite_a_manuscript_edited_meanwhile(tmp_path, httpserver, served):
    bib = tmp_path / "refs.bib"
    bib.write_text(_filler_bib(2), encoding="utf-8")
    before_bib = bib.read_bytes()
    manuscript = tmp_path / "draft.md"
    manuscript.write_text(_manuscript(0, [DOIS[0]]), encoding="utf-8")
    edited = _manuscript(0, [DOIS[0]]) + "\nA paragraph the writer saved while resolve waited.\n"

    def answer_after_an_edit(request: Request) -> Response:
        manuscript.write_text(edited, encoding="utf-8")  # the writer saves in the editor
        return Response(RECORDS[DOIS[0]], content_type="application/json")

    httpserver.expect_request(re.compile(r"^/crossref/works/.+")).respond_with_handler(answer_after_an_edit)
    result = run("resolve", "--write", str(manuscript))
    assert result.exit_code == 2
    assert result.stderr == (f"citeflow: error: {manuscript}: the manuscript changed on disk since it was read; "
                             "nothing was rewritten (run resolve again)\n")
    assert manuscript.read_text(encoding="utf-8") == edited
    assert bib.read_bytes() == before_bib


def test_resolve_into_a_bibliography_it_cannot_write_changes_nothing(tmp_path, httpserver, served):
    httpserver.expect_request(re.compile(r"^/crossref/works/.+")).respond_with_data(
        RECORDS[DOIS[0]], content_type="application/json")
    refs = tmp_path / "refs"
    refs.mkdir()
    (refs / "refs.bib").write_text(_filler_bib(2), encoding="utf-8")
    manuscript = tmp_path / "draft.md"
    text = _manuscript(0, [DOIS[0]]).replace("bibliography: refs.bib", "bibliography: refs/refs.bib")
    manuscript.write_text(text, encoding="utf-8")
    with read_only(refs):
        result = run("resolve", "--write", str(manuscript))
    assert result.exit_code == 2
    assert re.fullmatch(r"citeflow: error: \S*refs\.bib: cannot (lock|add entries)[^\n]*\n", result.stderr)
    assert manuscript.read_text(encoding="utf-8") == text
    assert sorted(p.name for p in refs.iterdir()) == ["refs.bib"]


# --------------------------------------------------------------------------------------
# Outputs that cannot be written: one line naming the file, exit 2, nothing half-written


@contextlib.contextmanager
def read_only(folder: Path):
    """Make ``folder`` unwritable, also for root (immutable attribute), or skip the test."""
    os.chmod(folder, 0o555)
    immutable = False
    try:
        probe = folder / ".probe"
        try:
            probe.touch()
        except PermissionError:
            pass
        else:  # root ignores permission bits
            probe.unlink()
            immutable = shutil.which("chattr") is not None and subprocess.run(
                ["chattr", "+i", str(folder)], capture_output=True).returncode == 0
            if not immutable:
                pytest.skip("cannot make a folder read-only here")
        yield folder
    finally:
        if immutable:
            subprocess.run(["chattr", "-i", str(folder)], check=True)
        os.chmod(folder, 0o755)


@pytest.fixture
def manuscript(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "citeflow.toml").write_text("", encoding="utf-8")
    (tmp_path / "refs.bib").write_text(_filler_bib(1), encoding="utf-8")
    path = tmp_path / "draft.md"
    path.write_text("---\ntitle: T\nbibliography: refs.bib\n---\n\nJoint pain rose by 40% [@filler0].\n",
                    encoding="utf-8")
    return path


@pytest.mark.parametrize("command", ["claims", "import"])
def test_output_into_a_read_only_folder_is_one_line_and_exit_2(manuscript, tmp_path, command):
    out = tmp_path / "out"
    out.mkdir()
    draft = tmp_path / "draft.txt"
    draft.write_text("Dupilumab and joint pain\n\nJoint pain is common [citation needed].\n", encoding="utf-8")
    args = ["claims", str(manuscript), "-o", str(out / "claims.csv")] if command == "claims" else \
        ["import", str(draft), "-o", str(out / "draft.md")]
    with read_only(out):
        result = run(*args)
    target = args[-1]
    assert result.exit_code == 2
    assert re.fullmatch(rf"citeflow: error: {re.escape(target)}: cannot write: [^\n]+\n", result.stderr)
    assert list(out.iterdir()) == []


def test_output_below_a_file_is_one_line_and_exit_2(manuscript, tmp_path):
    result = run("claims", str(manuscript), "-o", str(manuscript / "claims.csv"))
    assert result.exit_code == 2
    assert result.stderr == (f"citeflow: error: {manuscript / 'claims.csv'}: cannot create the folder "
                             f"{manuscript}: File exists\n")


# --------------------------------------------------------------------------------------
# Bibliographies: encoding and duplicate keys


def test_a_bibliography_that_is_not_utf8_is_the_same_error_in_check_and_render(manuscript, tmp_path):
    bib = tmp_path / "refs.bib"
    bib.write_bytes(b"@article{filler0,\n  author = {M\xfcller, Hans},\n  title = {Caf\xe9},\n"
                    b"  journal = {J},\n  year = {2020}\n}\n")
    expected = f"citeflow: error: {bib}:2: not UTF-8 text: byte 0xfc at column 14 (save the file as UTF-8)\n"
    checked = run("check", str(manuscript))
    rendered = run("render", str(manuscript), "--to", "html", "-o", str(tmp_path / "build"))
    assert (checked.exit_code, checked.stderr) == (2, expected)
    assert (rendered.exit_code, rendered.stderr) == (2, expected)
    assert not (tmp_path / "build").exists()


def test_duplicate_keys_are_a_finding_naming_both_lines(manuscript, tmp_path):
    (tmp_path / "refs.bib").write_text(
        _filler_bib(2) + "@article{Filler0,\n  title = {Another work},\n  year = {2003}\n}\n", encoding="utf-8")
    (tmp_path / "more.bib").write_text("@book{filler1,\n  title = {A third},\n  year = {2004}\n}\n",
                                       encoding="utf-8")
    manuscript.write_text(manuscript.read_text(encoding="utf-8").replace(
        "bibliography: refs.bib", "bibliography: [refs.bib, more.bib]"), encoding="utf-8")
    result = run("check", str(manuscript), "--format", "json", "--select", "CF113")
    findings = json.loads(result.stdout)["findings"]
    assert [(Path(f["file"]).name, f["line"], f["message"]) for f in findings] == [
        ("more.bib", 1, 'duplicate key "filler1" (also at refs.bib:9): citeflow checks that entry, '
                        "Pandoc may render another"),
        ("refs.bib", 17, 'duplicate key "Filler0" (also at line 1): citeflow checks that entry, '
                         "Pandoc may render another"),
    ]
    assert result.exit_code == 1  # an error by default
    assert "CF113 duplicate-key" in run("rules", "CF113").stdout
