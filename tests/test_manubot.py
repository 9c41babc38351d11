"""Manubot manuscripts as written: `@doi:`, `@pmid:`, `@pmcid:`, `@url:`, `@isbn:` keys and short DOIs
render from the bibliography and the metadata cache without rewriting the manuscript, check reports
the keys neither knows, and `resolve --rewrite-manubot` writes them as bibliography keys."""

from __future__ import annotations

import html as html_lib
import json
import re
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from citeflow.cli import main
from citeflow.fixes.resolve import resolve_manuscript
from citeflow.references.bibliography import load_bibliography
from pdfread import pdf_text

DATA = Path(__file__).parent / "data" / "manubot"
EXAMPLE = DATA / "manubot_example_body.md"
OPEN_ACCESS = DATA / "meta-review_open-access.md"
F1000 = DATA / "10.12688_f1000research.8460.3.csl.json"
CSL_ACCEPT = "application/vnd.citationstyles.csl+json"


def run(*args: str):
    return CliRunner().invoke(main, list(args))


def check_json(name: str) -> list[dict]:
    done = run("check", name, "--output-format", "json")
    assert done.exit_code in (0, 1), done.output
    return json.loads(done.stdout)["findings"]


def visible(path: Path) -> str:
    text = re.sub(r"<style.*?</style>", " ", path.read_text(encoding="utf-8"), flags=re.S)
    return " ".join(html_lib.unescape(re.sub(r"<[^>]+>", " ", text)).split())


def references_section(html: str) -> str:
    return html[html.index('id="refs"'):]


@pytest.fixture
def project(tmp_path, unreachable_sources, monkeypatch):
    """A Manubot project: the manuscript exactly as Manubot's example has it (no front matter),
    the bibliography named in citeflow.toml, every metadata source on a closed port."""
    (tmp_path / "citeflow.toml").write_text('bibliography = ["manubot.bib"]\n', encoding="utf-8")
    shutil.copy(DATA / "manubot.bib", tmp_path / "manubot.bib")
    shutil.copy(EXAMPLE, tmp_path / "body.md")
    monkeypatch.chdir(tmp_path)
    return tmp_path


# --------------------------------------------------------------------------------------
# render: from the bibliography, offline, the manuscript untouched


def test_a_manubot_manuscript_renders_as_written(project):
    done = run("render", "body.md", "--to", "html,pdf", "--allow-missing", "-o", str(project / "out"))
    assert done.exit_code == 0, done.output
    assert (project / "body.md").read_bytes() == EXAMPLE.read_bytes()
    html = (project / "out" / "body.html").read_text(encoding="utf-8")
    refs = references_section(html)
    # The paper cited three ways in one bracket is one reference, numbered once.
    assert refs.count('class="csl-entry"') == 1
    visible_refs = " ".join(html_lib.unescape(re.sub(r"<[^>]+>", " ", refs)).split())
    assert "Simeonov KP, Himmelstein DS. Lung cancer incidence decreases with elevation" in visible_refs
    three_ways = html[html.index("three ways"):html.index("three ways") + 300]
    assert 'href="#ref-simeonov2015lung"' in three_ways and ">1</a></sup>" in three_ways
    assert three_ways.count("doc-biblioref") == 1
    text = " ".join(pdf_text(project / "out" / "body.pdf").split())
    assert "Lung cancer incidence decreases with elevation" in text
    assert "Cite the same paper in three ways.1" in text or "three ways. 1" in text


def test_keys_neither_bibliography_nor_cache_knows_are_named_with_their_line(project):
    done = run("render", "body.md", "--to", "html", "--allow-missing", "-o", str(project / "out"))
    assert done.exit_code == 0, done.output
    warnings = [line for line in done.stderr.splitlines() if "[unknown-key]" in line]
    assert "body.md:9: citation @doi:10.1126/science.aaf5675: neither the bibliography nor the metadata " \
           "cache knows it; `citeflow resolve` fetches it [unknown-key]" in done.stderr
    assert any(line.startswith("citeflow: warning: body.md:13: citation @doi:10/98p:") for line in warnings)
    assert any("@url:http://www.leafscience.org/alexandra-elbakyan: no bibliography entry has this URL (URLs are never fetched)" in line
               for line in warnings)
    assert (project / "body.md").read_bytes() == EXAMPLE.read_bytes()
    # Without --allow-missing, an unknown key stops the render as any unknown key does.
    stopped = run("render", "body.md", "--to", "html", "-o", str(project / "out2"))
    assert stopped.exit_code == 2 and "citation keys are not in the bibliography" in stopped.stderr
    assert "doi:10/98p (line 13)" in stopped.stderr


def test_a_url_key_finds_the_entry_with_that_url(project):
    # The PeerJ article's URL as Manubot's own tests cite it, beside its PMID.
    (project / "url.md").write_text(
        "Cite the same paper in three ways [@pmid:25648772; @url:https://peerj.com/articles/705/].\n",
        encoding="utf-8")
    done = run("render", "url.md", "--to", "html", "-o", str(project / "out"))
    assert done.exit_code == 0, done.output
    html = (project / "out" / "url.html").read_text(encoding="utf-8")
    assert references_section(html).count('class="csl-entry"') == 1
    assert "[unknown-key]" not in done.stderr


def test_check_reports_only_what_neither_knows(project):
    findings = check_json("body.md")
    by_code: dict[str, list[str]] = {}
    for finding in findings:
        by_code.setdefault(finding["code"], []).append(finding["message"])
    assert "CF103" not in by_code
    assert "CF203" not in by_code  # the keys the bibliography has render as written
    assert sorted(m.split(" is ")[0] for m in by_code["CF202"]) == [
        "doi:10.1038/nature.2015.18876", "doi:10.1126/science.aaf5675", "doi:10/98p"]
    url_keys = [m for m in by_code["CF101"] if "url:" in m]
    assert len(url_keys) == 3 and all(m.endswith("(no bibliography entry has this URL)") for m in url_keys)
    # Asked to rewrite them, check offers the rewrite as a safe fix.
    (project / "citeflow.toml").write_text('bibliography = ["manubot.bib"]\n[resolve]\nrewrite_manubot = true\n',
                                           encoding="utf-8")
    findings = check_json("body.md")
    (cf203,) = [f for f in findings if f["code"] == "CF203"]
    assert cf203["fix"]["edits"][0]["new"] == "[@simeonov2015lung]"


def test_a_mistyped_setting_is_an_error(project):
    (project / "citeflow.toml").write_text('[resolve]\nrewrite_manubot = "yes"\n', encoding="utf-8")
    done = run("resolve", "--offline", "body.md")
    assert done.exit_code == 2
    assert "rewrite_manubot" in done.stderr and "true or false" in done.stderr


# --------------------------------------------------------------------------------------
# resolve: keys kept by default, rewritten when asked


def test_resolve_keeps_manubot_keys_unless_asked(project):
    path = project / "body.md"
    kept = run("resolve", "--offline", "--write", "body.md")
    assert kept.exit_code == 1  # three works not in the bibliography, offline
    assert path.read_bytes() == EXAMPLE.read_bytes()
    assert "unresolved @doi:10/98p: offline" in kept.stderr

    done = run("resolve", "--offline", "--rewrite-manubot", "--write", "body.md")
    assert done.exit_code == 1
    expected = EXAMPLE.read_text(encoding="utf-8").replace(
        "[@pmid:25648772; @pmcid:PMC4304851; @doi:10.7717/peerj.705]", "[@simeonov2015lung]")
    assert path.read_text(encoding="utf-8") == expected
    for left in ("@doi:10.1126/science.aaf5675", "@doi:10.1038/nature.2015.18876", "@doi:10/98p"):
        assert f"unresolved {left}: offline" in done.stderr
    again = run("resolve", "--offline", "--rewrite-manubot", "--write", "body.md")
    assert path.read_text(encoding="utf-8") == expected
    assert "would resolve" not in again.stderr or "0 placeholder" in again.stderr


def test_rewriting_a_url_key(project):
    path = project / "url.md"
    text = "Cite the same paper [@url:https://peerj.com/articles/705/] and [@pmid:25648772; @url:https://peerj.com/articles/705/].\n"
    path.write_text(text, encoding="utf-8")
    result = resolve_manuscript(path, write=True, offline=True, rewrite_manubot=True)
    assert path.read_text(encoding="utf-8") == "Cite the same paper [@simeonov2015lung] and [@simeonov2015lung].\n"
    assert result.exit_code == 0
    assert not resolve_manuscript(path, write=True, offline=True, rewrite_manubot=True).changed


def test_a_key_in_braces_is_kept_or_rewritten_whole(project):
    # Pandoc needs braces around a key holding parentheses, as the Lancet's DOIs do.
    (project / "manubot.bib").write_text(
        (project / "manubot.bib").read_text(encoding="utf-8")
        + "\n@article{wakefield1998ileal, title={Ileal-lymphoid-nodular hyperplasia}, "
        "author={Wakefield, A J}, year={1998}, doi={10.1016/S0140-6736(97)11096-0}}\n", encoding="utf-8")
    path = project / "braced.md"
    text = ("A claim [see @{doi:10.1016/S0140-6736(97)11096-0}, p. 3]; "
            "as @{doi:10.1016/S0140-6736(97)11096-0} wrote.\n")
    path.write_text(text, encoding="utf-8")
    kept = resolve_manuscript(path, write=True, offline=True)
    assert path.read_text(encoding="utf-8") == text and kept.exit_code == 0
    assert not [f for f in check_json("braced.md") if f["code"] in ("CF101", "CF202", "CF203")]
    resolve_manuscript(path, write=True, offline=True, rewrite_manubot=True)
    assert path.read_text(encoding="utf-8") == ("A claim [see @wakefield1998ileal, p. 3]; "
                                                "as @wakefield1998ileal wrote.\n")


def test_a_url_key_in_running_text_keeps_the_punctuation_after_it(project):
    path = project / "prose.md"
    path.write_text("As shown by @url:https://peerj.com/articles/705/. Also (@url:https://peerj.com/articles/705/).\n",
                    encoding="utf-8")
    resolve_manuscript(path, write=True, offline=True, rewrite_manubot=True)
    assert path.read_text(encoding="utf-8") == "As shown by @simeonov2015lung. Also (@simeonov2015lung).\n"


def test_a_url_key_keeps_its_locator_and_leaves_no_slash_when_rendered(project):
    (project / "loc.md").write_text(
        "As @url:https://peerj.com/articles/705/ [p. 7] showed, and as @url:https://peerj.com/articles/705/.\n",
        encoding="utf-8")
    done = run("render", "loc.md", "--to", "html", "-o", str(project / "out"))
    assert done.exit_code == 0, done.output
    body = visible(project / "out" / "loc.html")
    assert "p. 7" in body or "p 7" in body
    assert "/." not in body and " /" not in body.split("References")[0]


# --------------------------------------------------------------------------------------
# Online: a key the bibliography lacks is fetched (a real server on 127.0.0.1)


@pytest.fixture
def registry(httpserver, monkeypatch):
    not_found = (DATA / "crossref-404.txt").read_text(encoding="utf-8")
    record = F1000.read_bytes()
    for doi in ("10.12688/f1000research.8460.3", "10/bfxp"):
        httpserver.expect_request(f"/crossref/works/{doi}").respond_with_data(
            not_found, status=404, content_type="text/plain")
        httpserver.expect_request(f"/doi/{doi}", headers={"Accept": CSL_ACCEPT}).respond_with_data(
            record, content_type=CSL_ACCEPT)
    monkeypatch.setenv("CITEFLOW_CROSSREF_URL", httpserver.url_for("/crossref"))
    monkeypatch.setenv("CITEFLOW_DOI_URL", httpserver.url_for("/doi"))
    return httpserver


def test_rewrite_fetches_what_the_bibliography_lacks(project, registry):
    shutil.copy(OPEN_ACCESS, project / "oa.md")
    done = run("resolve", "--rewrite-manubot", "--write", "oa.md")
    assert done.exit_code == 0, done.output
    bib = load_bibliography([project / "manubot.bib"])
    added = bib.by_doi("10.12688/f1000research.8460.3")
    assert added is not None and added.title.startswith("The academic, economic and societal impacts")
    assert (project / "oa.md").read_text(encoding="utf-8") == OPEN_ACCESS.read_text(encoding="utf-8").replace(
        "[@isbn:9780262517638; @doi:10.12688/f1000research.8460.3; @doi:10.7554/eLife.16800]",
        f"[@suber2012open; @{added.key}; @mckiernan2016open]")


def test_kept_keys_still_get_their_works_into_the_bibliography(project, registry):
    shutil.copy(OPEN_ACCESS, project / "oa.md")
    done = run("resolve", "--write", "oa.md")
    assert done.exit_code == 0, done.output
    assert (project / "oa.md").read_bytes() == OPEN_ACCESS.read_bytes()
    assert load_bibliography([project / "manubot.bib"]).by_doi("10.12688/f1000research.8460.3") is not None
    rendered = run("render", "oa.md", "--to", "html", "-o", str(project / "out"))
    assert rendered.exit_code == 0, rendered.output
    refs = visible(project / "out" / "oa.html")
    assert "Tennant JP" in refs and "Suber P. Open Access" in refs and "McKiernan EC" in refs


def test_a_work_only_the_cache_knows_renders_offline(project, registry, monkeypatch):
    fetched = run("cite", "doi:10.12688/f1000research.8460.3")  # fills the metadata cache
    assert fetched.exit_code == 0, fetched.output
    requests = len(registry.log)
    shutil.copy(OPEN_ACCESS, project / "oa.md")
    done = run("render", "oa.md", "--to", "html,pdf", "-o", str(project / "out"))
    assert done.exit_code == 0, done.output
    assert len(registry.log) == requests  # render asked no server
    assert (project / "oa.md").read_bytes() == OPEN_ACCESS.read_bytes()
    refs = visible(project / "out" / "oa.html")
    assert "The academic, economic and societal impacts of Open Access" in refs
    assert "[unknown-key]" not in done.stderr
    text = " ".join(pdf_text(project / "out" / "oa.pdf").split())
    assert "The academic, economic and societal impacts of Open Access" in text
    assert "scholarly articles.1-3" in text.replace("–", "-")
    findings = check_json("oa.md")
    assert [f["code"] for f in findings if f["code"].startswith("CF2") or f["code"] == "CF102"] == ["CF102"]


def test_a_short_doi_the_cache_knows_finds_its_long_form_in_the_bibliography(project, registry):
    # The cache learns the long form of a short DOI from doi.org's answer.
    assert run("cite", "doi:10/bfxp").exit_code == 0
    (project / "manubot.bib").write_text(
        (DATA / "manubot.bib").read_text(encoding="utf-8")
        + "\n@article{tennant2016academic,\n  title = {The academic, economic and societal impacts of Open Access},\n"
          "  author = {Tennant, Jonathan P.},\n  journal = {F1000Research},\n  year = {2016},\n"
          "  doi = {10.12688/f1000research.8460.3}\n}\n", encoding="utf-8")
    (project / "short.md").write_text("Open access [@doi:10/bfxp; @doi:10.12688/f1000research.8460.3].\n",
                                      encoding="utf-8")
    done = run("render", "short.md", "--to", "html", "-o", str(project / "out"))
    assert done.exit_code == 0, done.output
    html = (project / "out" / "short.html").read_text(encoding="utf-8")
    assert references_section(html).count('class="csl-entry"') == 1
    assert 'data-cites="tennant2016academic"' in html
    findings = check_json("short.md")
    assert not [f for f in findings if f["code"] in ("CF101", "CF102", "CF202", "CF203")]
    rewritten = resolve_manuscript(project / "short.md", offline=True, rewrite_manubot=True)
    assert rewritten.text == "Open access [@tennant2016academic].\n"


def test_build_and_review_render_manubot_keys_too(project):
    done = run("build", "body.md", "-o", str(project / "build"))
    assert done.exit_code == 1, done.output  # unknown keys are findings (CF101, CF202)
    assert "body.md:13: citation @doi:10/98p:" in done.stderr
    for name in ("body.html", "body.review.html"):
        html = (project / "build" / name).read_text(encoding="utf-8")
        assert 'href="#ref-simeonov2015lung"' in html, name
        assert "Lung cancer incidence decreases with elevation" in visible(project / "build" / name)
    assert (project / "body.md").read_bytes() == EXAMPLE.read_bytes()


def test_an_arxiv_version_and_a_blog_url_find_their_entries(project):
    shutil.copy(DATA / "meta-review_timestamps.md", project / "ts.md")
    done = run("render", "ts.md", "--to", "html", "--allow-missing", "-o", str(project / "out"))
    assert done.exit_code == 0, done.output
    refs = visible(project / "out" / "ts.html")
    assert "Gipp B, Meuschke N, Gernandt A. Decentralized trusted timestamping using the crypto" in refs
    assert "The most interesting case of scientific irreproducibility?" in refs
    unknown = [line for line in done.stderr.splitlines() if "[unknown-key]" in line]
    assert len(unknown) == 3 and not [line for line in unknown if "arxiv" in line or "irreproducible" in line]
    # check agrees: the arXiv key is in the bibliography, the two URLs it lacks are CF101
    findings = check_json("ts.md")
    assert not [f for f in findings if "1502.04015" in f["message"]]
    assert sorted(f["code"] for f in findings if f["code"] in ("CF101", "CF202")) == ["CF101", "CF101", "CF202"]
