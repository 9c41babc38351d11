"""Untrusted manuscripts: nothing read outside the project, nothing fetched, no script let
through, no half-written outputs. Real Pandoc, real Typst, a real HTTP server on 127.0.0.1.

The project under attack lives in ``tmp/proj`` (it has a citeflow.toml); the attacker's
targets live next to it in ``tmp/outside``. Every test asserts what reached the outputs
(or did not), the exit code and the message.
"""

from __future__ import annotations

import socket
import struct
import subprocess
import sys
import zipfile
import zlib
from html.parser import HTMLParser
from pathlib import Path

import pytest
from click.testing import CliRunner
from pypdf import PdfReader
from pytest_httpserver import HTTPServer

from citeflow.cli import main

MARKER = "Zq7-OUTSIDE-SECRET-4711"
LEAKED_KEY = "leaked2020secret"
ROOT = Path(__file__).resolve().parents[1]
BIB = (ROOT / "tests" / "data" / "render" / "dupilumab.bib").read_text(encoding="utf-8")


def png(rgb: tuple[int, int, int]) -> bytes:
    """A real 1x1 PNG of one colour."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    header = struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header)
            + chunk(b"IDAT", zlib.compress(bytes([0, *rgb]))) + chunk(b"IEND", b""))


SECRET_PNG = png((255, 0, 0))
FIGURE_PNG = png((0, 0, 255))


@pytest.fixture()
def proj(tmp_path, monkeypatch):
    """tmp/proj (citeflow.toml, manuscripts/, refs.bib, figure.png) and tmp/outside."""
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.txt").write_text(f"{MARKER}\n", encoding="utf-8")
    (outside / "secret.png").write_bytes(SECRET_PNG)
    (outside / "x.bib").write_text(f"@article{{{LEAKED_KEY},\n  title = {{{MARKER} title}},\n"
                                   "  author = {Doe, Jane},\n  journal = {J},\n  year = {2020}\n}\n",
                                   encoding="utf-8")
    (outside / "evil.csl").write_text((ROOT / "tests" / "data" / "render" / "broken-style.csl")
                                      .read_text(encoding="utf-8"), encoding="utf-8")
    project = tmp_path / "proj"
    (project / "manuscripts").mkdir(parents=True)
    (project / "citeflow.toml").write_text('output = "build"\n', encoding="utf-8")
    (project / "refs.bib").write_text(BIB, encoding="utf-8")
    (project / "manuscripts" / "figure.png").write_bytes(FIGURE_PNG)
    monkeypatch.chdir(project)
    monkeypatch.setenv("CITEFLOW_OFFLINE", "1")
    return project


def write(project: Path, text: str, name: str = "m.md") -> Path:
    path = project / "manuscripts" / name
    path.write_text(text, encoding="utf-8")
    return path


def cli(*args: str):
    return CliRunner().invoke(main, [str(a) for a in args])


def one_error(result, *needles: str) -> str:
    """The single error line of a refused run (exit 2, no traceback)."""
    assert result.exit_code == 2, result.output
    lines = [l for l in result.stderr.splitlines() if l.startswith("citeflow: error: ")]
    assert len(lines) == 1 and "Traceback" not in result.output, result.output
    for needle in needles:
        assert needle in lines[0], (needle, lines[0])
    return lines[0]


def warnings_of(result) -> list[str]:
    return [l for l in result.stderr.splitlines() if l.startswith("citeflow: warning: ")]


def pdf_text(path: Path) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(path).pages)


def pdf_images(path: Path) -> int:
    """How many image objects the PDF holds (however deep in form objects)."""
    seen, count = set(), 0
    stack = [page.get("/Resources") for page in PdfReader(path).pages]
    while stack:
        resources = stack.pop()
        resources = resources.get_object() if resources is not None else None
        if not resources or "/XObject" not in resources:
            continue
        for ref in resources["/XObject"].get_object().values():
            obj = ref.get_object()
            if id(obj) in seen:
                continue
            seen.add(id(obj))
            if obj.get("/Subtype") == "/Image":
                count += 1
            elif "/Resources" in obj:
                stack.append(obj["/Resources"])
    return count


def docx_media(path: Path) -> list[bytes]:
    with zipfile.ZipFile(path) as docx:
        return [docx.read(n) for n in docx.namelist() if n.startswith("word/media/")]


def docx_bytes(path: Path) -> bytes:
    with zipfile.ZipFile(path) as docx:
        return b"".join(docx.read(n) for n in docx.namelist())


# -- images: read only inside the project, never fetched -------------------------------------


def test_images_outside_the_project_or_remote_reach_no_output(proj, httpserver: HTTPServer):
    httpserver.expect_request("/x.png").respond_with_data(SECRET_PNG, content_type="image/png")
    remote = httpserver.url_for("/x.png")
    write(proj, f"---\ntitle: Images\n---\n\nA figure ![ours](figure.png) here.\n\n"
                f"![passwd](/etc/passwd) ![secret](../../outside/secret.png) "
                f"![absolute]({proj.parent / 'outside' / 'secret.png'}) ![remote]({remote})\n")
    result = cli("render", "manuscripts/m.md", "--to", "html,pdf,docx", "-o", "out")
    assert result.exit_code == 0, result.output

    docx = proj / "out" / "m.docx"
    assert docx_media(docx) == [FIGURE_PNG]  # only the project's own figure is embedded
    everything = docx_bytes(docx)
    assert SECRET_PNG not in everything and Path("/etc/passwd").read_bytes() not in everything
    assert pdf_images(proj / "out" / "m.pdf") == 1
    assert httpserver.log == []  # nothing was fetched
    html = (proj / "out" / "m.html").read_text(encoding="utf-8")
    assert "outside/secret.png" not in html and "/etc/passwd" not in html
    assert f'src="{remote}"' in html  # the reader's browser may load it; citeflow did not

    warned = "\n".join(warnings_of(result))
    assert "m.md:7: image /etc/passwd lies outside the project root" in warned
    assert "m.md:7: image ../../outside/secret.png lies outside the project root" in warned
    assert f"image {remote} is not fetched" in warned and "[remote-image]" in warned


def test_an_image_symlinked_out_of_the_project_is_not_embedded(proj):
    (proj / "manuscripts" / "chart.png").symlink_to(proj.parent / "outside" / "secret.png")
    write(proj, "---\ntitle: Link\n---\n\n![chart](chart.png) and ![ours](figure.png)\n")
    result = cli("render", "manuscripts/m.md", "--to", "docx,pdf", "-o", "out")
    assert result.exit_code == 0, result.output
    assert docx_media(proj / "out" / "m.docx") == [FIGURE_PNG]
    assert pdf_images(proj / "out" / "m.pdf") == 1
    assert any("image chart.png is a symbolic link to" in w and "[image]" in w
               for w in warnings_of(result))


# -- Typst: a private root, no symlinks out of the project ----------------------------------

READ_PW = "---\ntitle: Typst\n---\n\nBefore the block.\n\n```{=typst}\n#read(\"pw.txt\")\n```\n"


@pytest.fixture()
def pw_link(proj):
    (proj / "manuscripts" / "pw.txt").symlink_to(proj.parent / "outside" / "secret.txt")
    return write(proj, READ_PW)


@pytest.mark.parametrize("command", ["render", "build"])
def test_raw_typst_reading_a_symlink_out_of_the_project_leaks_nothing(pw_link, proj, command):
    args = ["manuscripts/m.md", "-o", "out"] + (["--to", "pdf"] if command == "render" else ["-j", "1"])
    untrusted = cli(command, *args)
    assert untrusted.exit_code == 0, untrusted.output
    assert "Before the block." in pdf_text(proj / "out" / "m.pdf")
    assert MARKER not in pdf_text(proj / "out" / "m.pdf")
    assert any("raw Typst dropped" in w and "[raw-typst]" in w and "m.md:8:" in w
               for w in warnings_of(untrusted))

    (proj / "out" / "m.pdf").unlink()
    trusted = cli(command, *args, "--trusted", *(["--force"] if command == "build" else []))
    one_error(trusted, "m.md", "raw Typst reads pw.txt", "symbolic link", "outside the project root")
    assert not (proj / "out" / "m.pdf").exists()


def test_trusted_raw_typst_sees_only_the_files_it_names_inside_the_project(proj):
    (proj / "manuscripts" / "pw.txt").symlink_to(proj.parent / "outside" / "secret.txt")
    (proj / "data.txt").write_text("IN-PROJECT-DATA\n", encoding="utf-8")
    (proj / "manuscripts" / "linked.txt").symlink_to(proj / "data.txt")  # a link inside is fine
    write(proj, '---\ntitle: T\n---\n\n```{=typst}\n#read("../data.txt") #read("linked.txt")\n```\n')
    result = cli("render", "manuscripts/m.md", "--to", "pdf", "-o", "out", "--trusted")
    assert result.exit_code == 0, result.output
    assert pdf_text(proj / "out" / "m.pdf").count("IN-PROJECT-DATA") == 2
    # A path Typst computes is not handed over: Typst's root holds nothing else.
    write(proj, '---\ntitle: T\n---\n\n```{=typst}\n#read("p" + "w.txt")\n```\n')
    computed = cli("render", "manuscripts/m.md", "--to", "pdf", "-o", "out2", "--trusted")
    one_error(computed, "Typst could not compile the PDF", "file not found")
    assert MARKER not in computed.output


def test_trusted_raw_typst_may_not_import_a_package(proj, monkeypatch):
    connections = _no_connections(monkeypatch)
    write(proj, '---\ntitle: T\n---\n\n```{=typst}\n#import "@preview/cetz:0.3.4"\n```\n')
    result = cli("render", "manuscripts/m.md", "--to", "pdf", "-o", "out", "--trusted")
    one_error(result, "@preview/cetz:0.3.4", "no network connection")
    assert connections == []


# -- no network ------------------------------------------------------------------------------


def _no_connections(monkeypatch) -> list:
    """Record (and refuse) every outgoing connection this process tries."""
    attempts: list = []

    def refuse(self, address, *args, **kwargs):
        attempts.append(address)
        raise OSError("network use in a test of an offline command")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket.socket, "connect_ex", refuse)
    return attempts


def test_render_check_and_build_open_no_connection(proj, httpserver: HTTPServer, monkeypatch):
    base = httpserver.url_for("").rstrip("/")
    write(proj, f"---\ntitle: Offline\nbibliography: ../refs.bib\ncss: {base}/style.css\n"
                f"citation-abbreviations: {base}/abbreviations.json\n---\n\n"
                f"Dupilumab improved atopic dermatitis [@simpson2016two] [doi:10.1056/NEJMoa1610020].\n\n"
                f"![remote]({base}/figure.png) <img src=\"{base}/pixel.png\">\n\n"
                f"[link]({base}/page) and <iframe src=\"{base}/frame\"></iframe>\n")
    connections = _no_connections(monkeypatch)
    for args in (["render", "manuscripts/m.md", "--to", "html,pdf,docx", "-o", "out"],
                 ["render", "manuscripts/m.md", "--review", "-o", "out"],
                 ["check", "manuscripts/m.md", "--format", "json"],
                 ["build", "manuscripts/m.md", "-o", "site", "-j", "1"]):
        result = cli(*args)
        assert result.exit_code in (0, 1), (args, result.output)
    assert connections == [] and httpserver.log == []


# -- raw HTML, scripts, includes ---------------------------------------------------------------

HOSTILE = """---
title: Hostile
bibliography: ../refs.bib
header-includes: |
  <script>alert("header")</script>
include-before: |
  <script>alert("before")</script>
include-after: |
  <script>alert("after")</script>
---

Studies show that dupilumab works <img src=x onerror="alert('inline')"> [@simpson2016two].

<script>
alert("block")
</script>

A [span]{onclick="alert('span')"} and a [link](javascript:alert('link')) and a
[data link](data:text/html,<script>alert('data')</script>).

<!-- citeflow keeps quiet about comments -->
"""


class _ActiveContent(HTMLParser):
    """Tags and attributes of a page that run (or load) something: what a script needs."""

    def __init__(self) -> None:
        super().__init__()
        self.found: list[str] = []

    def handle_starttag(self, tag, attrs):
        if tag in ("script", "iframe", "object", "embed", "base"):
            self.found.append(f"<{tag}>")
        for name, value in attrs:
            target = "".join((value or "").split()).lower()
            if name.lower().startswith("on") or target.startswith(("javascript:", "vbscript:",
                                                                    "data:text")):
                self.found.append(f"<{tag} {name}={value}>")


def _scripts(html: str) -> list[str]:
    parser = _ActiveContent()
    parser.feed(html)
    return parser.found


def test_html_and_review_html_carry_no_script_from_an_untrusted_manuscript(proj):
    write(proj, HOSTILE)
    result = cli("render", "manuscripts/m.md", "--to", "html", "-o", "out")
    assert result.exit_code == 0, result.output
    html = (proj / "out" / "m.html").read_text(encoding="utf-8")
    assert _scripts(html) == []
    assert "Studies show that dupilumab works" in html and "span" in html
    kinds = "\n".join(warnings_of(result))
    for kind in ("[raw-html]", "[metadata]", "[attribute]", "[script-link]"):
        assert kind in kinds, kind
    assert "front matter header-includes, include-before, include-after dropped" in kinds
    assert "m.md:12: raw HTML dropped (2 pieces, the first on this line)" in kinds
    assert "m.md:18: script attribute onclick dropped" in kinds
    assert "m.md:18: script link javascript:alert('link'), data:" in kinds
    assert "comments" not in kinds

    review = cli("render", "manuscripts/m.md", "--review", "-o", "out")
    assert review.exit_code == 0, review.output
    page = (proj / "out" / "m.review.html").read_text(encoding="utf-8")
    assert _scripts(page) == []
    assert '<mark class="cf-finding cf-warning"' in page and "CF302" in page  # its own markup stays


def test_yaml_escapes_cannot_smuggle_raw_html(proj):
    # No "<" in the file: YAML decodes \x3C into one, and Pandoc reads the title as HTML.
    write(proj, '---\ntitle: "T \\x3Cscript\\x3Ealert(1)\\x3C/script\\x3E"\n---\n\nPlain text.\n')
    result = cli("render", "manuscripts/m.md", "--to", "html", "-o", "out")
    assert result.exit_code == 0, result.output
    assert _scripts((proj / "out" / "m.html").read_text(encoding="utf-8")) == []
    assert any("[raw-html]" in w for w in warnings_of(result))


def test_trusted_project_keeps_raw_html_and_typst(proj):
    write(proj, HOSTILE + "\n```{=typst}\n#text[RAW-TYPST-KEPT]\n```\n")
    result = cli("render", "manuscripts/m.md", "--to", "html,pdf", "-o", "out", "--trusted")
    assert result.exit_code == 0, result.output
    assert warnings_of(result) == []
    html = (proj / "out" / "m.html").read_text(encoding="utf-8")
    assert 'alert("header")' in html and 'alert("block")' in html
    assert set(_scripts(html)) >= {"<script>", "<span onclick=alert('span')>"}
    assert "RAW-TYPST-KEPT" in pdf_text(proj / "out" / "m.pdf")

    # The same from citeflow.toml, for build (the review included).
    (proj / "citeflow.toml").write_text('output = "build"\n[render]\ntrusted = true\n', encoding="utf-8")
    built = cli("build", "manuscripts/m.md", "-j", "1")
    assert built.exit_code == 0, built.output
    assert 'alert("block")' in (proj / "build" / "m.review.html").read_text(encoding="utf-8")
    assert "RAW-TYPST-KEPT" in pdf_text(proj / "build" / "m.pdf")


def test_render_trusted_must_be_true_or_false(proj):
    (proj / "citeflow.toml").write_text('[render]\ntrusted = "yes"\n', encoding="utf-8")
    write(proj, "---\ntitle: T\n---\n\nText.\n")
    one_error(cli("render", "manuscripts/m.md", "-o", "out"), "citeflow.toml",
              "[render] trusted must be true or false")


# -- bibliographies: inside the project, named as such, there ------------------------------


@pytest.mark.parametrize("command", ["check", "render", "build"])
@pytest.mark.parametrize("value, message", [
    ("5", "bibliography: must be a file name or a list of file names, not a number (5)"),
    ("{a: b.bib}", "bibliography: must be a file name or a list of file names, not a mapping"),
    ("[refs.bib, 7]", "not a list holding something other than file names"),
])
def test_a_bibliography_that_is_not_a_file_name(proj, command, value, message):
    write(proj, f"---\ntitle: T\nbibliography: {value}\n---\n\nText [@simpson2016two].\n")
    extra = {"check": [], "render": ["-o", "out"], "build": ["-j", "1"]}[command]
    one_error(cli(command, "manuscripts/m.md", *extra), "manuscripts/m.md:3: ", message)


@pytest.mark.parametrize("command", ["check", "render"])
def test_a_bibliography_outside_the_project_is_refused_not_read(proj, command):
    write(proj, f"---\ntitle: T\nbibliography: ../../outside/x.bib\n---\n\nText [@{LEAKED_KEY}].\n")
    args = ["--format", "sarif"] if command == "check" else ["--to", "html,pdf,docx", "-o", "out"]
    result = cli(command, "manuscripts/m.md", *args)
    one_error(result, "manuscripts/m.md:3: ", "bibliography", "outside/x.bib",
              "lies outside the project root")
    assert MARKER not in result.output and not (proj / "out").exists()
    if command == "check":
        assert result.stdout == ""  # no report at all, so no entry key in SARIF


def test_etc_passwd_as_bibliography_is_named_as_outside_not_as_missing(proj):
    write(proj, "---\ntitle: T\nbibliography: /etc/passwd\n---\n\nText [@root].\n")
    for args in (["check"], ["render", "-o", "out"]):
        result = cli(args[0], "manuscripts/m.md", *args[1:])
        line = one_error(result, "m.md:3: ", "bibliography /etc/passwd lies outside the project root")
        assert "no bibliography is configured" not in result.output, line


def test_a_bibliography_symlinked_out_of_the_project_is_refused(proj):
    (proj / "linked.bib").symlink_to(proj.parent / "outside" / "x.bib")
    write(proj, f"---\ntitle: T\nbibliography: ../linked.bib\n---\n\nText [@{LEAKED_KEY}].\n")
    for args in (["check", "--format", "json"], ["render", "-o", "out"],
                 ["resolve", "--offline"]):
        result = cli(args[0], "manuscripts/m.md", *args[1:])
        one_error(result, "m.md:3: ", "linked.bib is a symbolic link to", "outside the project root")
        assert MARKER not in result.output and LEAKED_KEY not in result.stdout


def test_a_file_that_is_not_named_as_a_bibliography_is_refused(proj):
    (proj / "notes.txt").write_text("@article{a, title={A}}\n", encoding="utf-8")
    write(proj, "---\ntitle: T\nbibliography: ../notes.txt\n---\n\nText [@a].\n")
    for command in ("check", "render"):
        one_error(cli(command, "manuscripts/m.md"), "m.md:3: ", "notes.txt is not a bibliography file",
                  ".bib")


def test_a_missing_bibliography_is_the_same_error_for_check_and_render(proj):
    write(proj, "---\ntitle: T\nbibliography: gone.bib\n---\n\nText [@a].\n")
    lines = {command: one_error(cli(command, "manuscripts/m.md"), "m.md:3: ",
                                "bibliography file not found", "gone.bib")
             for command in ("check", "render")}
    assert lines["check"] == lines["render"]


def test_a_bibliography_in_citeflow_toml_outside_the_project_names_the_config(proj):
    (proj / "citeflow.toml").write_text('bibliography = ["../outside/x.bib"]\n', encoding="utf-8")
    write(proj, f"---\ntitle: T\n---\n\nText [@{LEAKED_KEY}].\n")
    for command in ("check", "render"):
        result = cli(command, "manuscripts/m.md")
        one_error(result, "citeflow.toml: ", "lies outside the project root")
        assert MARKER not in result.output


def test_a_csl_style_in_citeflow_toml_outside_the_project_is_refused(proj):
    (proj / "citeflow.toml").write_text('style = "../outside/evil.csl"\n', encoding="utf-8")
    write(proj, "---\ntitle: T\n---\n\nText.\n")
    one_error(cli("render", "manuscripts/m.md", "-o", "out"), "citeflow.toml: ",
              "CSL style", "evil.csl lies outside the project root")


def test_a_later_metadata_block_cannot_name_a_bibliography(proj):
    write(proj, f"---\ntitle: T\n---\n\nText [@{LEAKED_KEY}].\n\n---\nbibliography: "
                f"{proj.parent / 'outside' / 'x.bib'}\n---\n")
    result = cli("render", "manuscripts/m.md", "--to", "html", "--allow-missing", "-o", "out")
    assert result.exit_code == 0, result.output
    assert MARKER not in (proj / "out" / "m.html").read_text(encoding="utf-8")


def test_citation_abbreviations_are_not_read(proj):
    write(proj, "---\ntitle: T\nbibliography: ../refs.bib\ncitation-abbreviations: /etc/passwd\n"
                "---\n\nText [@simpson2016two].\n")
    result = cli("render", "manuscripts/m.md", "--to", "html", "-o", "out")
    assert result.exit_code == 0, result.output
    assert [w for w in warnings_of(result) if "citation-abbreviations" in w] == [
        "citeflow: warning: manuscripts/m.md:4: front matter citation-abbreviations dropped: "
        "citeproc reads only the bibliographies and style citeflow has checked [metadata]"]


def test_a_csl_style_outside_the_project_is_refused(proj):
    write(proj, "---\ntitle: T\ncsl: ../../outside/evil.csl\n---\n\nText.\n")
    one_error(cli("render", "manuscripts/m.md", "-o", "out"), "m.md:3: ",
              "CSL style", "evil.csl lies outside the project root")
    # Given on the command line, it is the operator's choice: read (and here, broken).
    write(proj, "---\ntitle: T\n---\n\nText.\n")
    one_error(cli("render", "manuscripts/m.md", "-o", "out", "--csl",
                  proj.parent / "outside" / "evil.csl"), "Pandoc failed")


def test_a_manuscript_symlinked_out_of_the_project_is_not_built(proj):
    (proj / "manuscripts" / "evil.md").symlink_to(proj.parent / "outside" / "secret.txt")
    write(proj, "---\ntitle: Fine\n---\n\nText.\n", "fine.md")
    built = cli("build", "-j", "1")
    assert built.exit_code == 2
    assert "evil.md is a symbolic link to" in built.stderr and MARKER not in built.output
    assert (proj / "build" / "fine.html").exists() and not (proj / "build" / "evil.html").exists()
    checked = cli("check", "manuscripts", "--format", "json")
    one_error(checked, "evil.md is a symbolic link to")
    assert MARKER not in checked.output


# -- a full disk: all outputs replaced, or none ---------------------------------------------

FULL_DISK = """
import resource, signal, sys
signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
limit = int(sys.argv[1])
resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))
from citeflow.cli import main
sys.argv = ["citeflow", *sys.argv[2:]]
main()
"""


def test_a_full_disk_leaves_every_old_output_as_it_was(proj):
    write(proj, "---\ntitle: Disk\nbibliography: ../refs.bib\n---\n\n"
                "Dupilumab improved atopic dermatitis [@simpson2016two].\n")
    assert cli("render", "manuscripts/m.md", "--to", "html,pdf", "-o", "fresh").exit_code == 0
    html_size = (proj / "fresh" / "m.html").stat().st_size
    pdf_size = (proj / "fresh" / "m.pdf").stat().st_size
    assert html_size < pdf_size
    out = proj / "out"
    out.mkdir()
    (out / "m.html").write_text("old html\n", encoding="utf-8")
    (out / "m.pdf").write_text("old pdf\n", encoding="utf-8")
    # The file system takes the HTML but not the PDF, written after it (and the copy of the
    # bibliography citeproc reads, written before both).
    limit = max((html_size + pdf_size) // 2, len(BIB.encode("utf-8")) + 1024)
    assert html_size < limit < pdf_size
    result = subprocess.run([sys.executable, "-c", FULL_DISK, str(limit), "render",
                             "manuscripts/m.md", "--to", "html,pdf", "-o", str(out)],
                            capture_output=True, text=True)
    assert result.returncode == 2, result.stderr
    assert result.stderr.startswith("citeflow: error: ") and "Traceback" not in result.stderr
    assert "cannot write outputs (m.html, m.pdf)" in result.stderr and "none was changed" in result.stderr
    assert sorted(p.name for p in out.iterdir()) == ["m.html", "m.pdf"]  # no temporary file left
    assert (out / "m.html").read_text(encoding="utf-8") == "old html\n"
    assert (out / "m.pdf").read_text(encoding="utf-8") == "old pdf\n"
