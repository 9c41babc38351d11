"""Hostile manuscripts: linear time on any input, no crash, resolve changes only its replacements.

Three kinds of tests:

* per-paragraph work is done once: thousands of placeholders in one paragraph split it into
  sentences once and rank candidates once per sentence (counted, not timed);
* inputs reported as denial of service (a line of thousands of spaces, a list nested hundreds
  deep, ``[doi:10.1/`` repeated, a number of 100,000 digits, runs of backticks, unclosed
  comments, YAML aliases) are sized so that the old expressions would need hours. They run
  under a deadline of a minute that only turns such a hang into a failure: what is measured
  is in ``bench/adversarial.py``;
* the linear scanners decide exactly as the regular expressions they replace (kept here as
  the specification, tried on short inputs where backtracking costs nothing), and
  hypothesis-generated Markdown never makes check or resolve raise anything but
  :class:`CiteflowError`, nor resolve change a byte outside its replacements.
"""

from __future__ import annotations

import re
import shutil
import signal
from contextlib import contextmanager
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import citeflow.document.placeholders as placeholders_module
from citeflow.checks.engine import check_manuscript
from citeflow.claims import detect as claims
from citeflow.claims.detect import _is_advice
from citeflow.claims.suggest import Suggester
from citeflow.cli import main
from citeflow.document.manuscript import (
    _is_rule_row,
    _is_table_line,
    _scan_protected,
    _strip_heading_end,
    parse_manuscript,
)
from citeflow.document.placeholders import find_placeholders
from citeflow.errors import CiteflowError
from citeflow.fixes.resolve import resolve_manuscript
from edits import put_back

DATA = Path(__file__).parent / "data" / "resolve"
FRONT = "---\ntitle: Hostile input\nbibliography: refs.bib\n---\n\n"


@pytest.fixture(autouse=True)
def _offline(tmp_path, monkeypatch):
    """No network, a private cache, a project of its own with the sample bibliography."""
    monkeypatch.setenv("CITEFLOW_OFFLINE", "1")
    monkeypatch.setenv("CITEFLOW_CACHE_DIR", str(tmp_path / "cache"))
    for name in ("CROSSREF", "DOI", "EUTILS", "IDCONV"):
        monkeypatch.setenv(f"CITEFLOW_{name}_URL", "http://127.0.0.1:9/unreachable")
    (tmp_path / "citeflow.toml").write_text("", encoding="utf-8")
    shutil.copy(DATA / "dupilumab.bib", tmp_path / "refs.bib")


def write(folder: Path, body: str, front: str = FRONT) -> Path:
    path = folder / "hostile.md"
    path.write_bytes((front + body).encode("utf-8"))
    return path


class Hang(Exception):
    """Raised when a deadline passes (the work did not finish)."""


@contextmanager
def deadline(seconds: int = 60):
    """Turn a hang into a failure. Not a measurement: the work takes well under a second."""
    def expire(*_):
        raise Hang(f"not finished within {seconds} s")

    previous = signal.signal(signal.SIGALRM, expire)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


def codes(result) -> list[str]:
    return [f.code for f in result.findings]


# --------------------------------------------------------------------------------------
# Work per paragraph done once (counted)


@pytest.fixture
def counted_sentences(monkeypatch):
    """Counts the calls to the placeholders' sentence splitter."""
    calls = []
    original = placeholders_module.sentence_spans

    def counting(text):
        calls.append(len(text))
        return original(text)

    monkeypatch.setattr(placeholders_module, "sentence_spans", counting)
    return calls


@pytest.fixture
def counted_rankings(monkeypatch):
    calls = []
    original = Suggester.rank

    def counting(self, sentence, paragraph="", k=3, **options):
        calls.append(sentence)
        return original(self, sentence, paragraph, k, **options)

    monkeypatch.setattr(Suggester, "rank", counting)
    return calls


def test_thousands_of_placeholders_in_one_paragraph_split_it_into_sentences_once(
        tmp_path, counted_sentences, counted_rankings):
    path = write(tmp_path, "Dupilumab reduces joint pain in adults" + " [citation needed]" * 2000 + ".\n")
    with deadline():
        result = check_manuscript(path)
    assert codes(result).count("CF201") == 2000
    # as written and with the placeholders left out: twice for the paragraph, not per placeholder
    assert len(counted_sentences) <= 2
    # every placeholder stands for the same sentence (the other ranking is the claim's own)
    assert counted_rankings.count("Dupilumab reduces joint pain in adults .") == 1
    first = next(f for f in result.findings if f.code == "CF201")
    assert first.sentence.startswith("Dupilumab reduces joint pain in adults [citation needed]")
    assert len(first.sentence) < 2 * placeholders_module.SHOWN_AROUND + 100

    counted_sentences.clear()
    counted_rankings.clear()
    with deadline():
        resolved = resolve_manuscript(path, offline=True)
    assert len(resolved.freetext) == 2000
    assert len(counted_sentences) <= 2 and len(counted_rankings) == 1  # resolve ranks placeholders only
    assert {f.sentence for f in resolved.freetext} == {"Dupilumab reduces joint pain in adults ."}


def test_a_placeholder_per_sentence_in_one_paragraph_still_splits_it_once(
        tmp_path, counted_sentences):
    body = " ".join(f"Claim {n} about eczema [citation needed]." for n in range(600)) + "\n"
    with deadline():
        result = check_manuscript(write(tmp_path, body))
    cf201 = [f for f in result.findings if f.code == "CF201"]
    assert len(cf201) == 600
    assert cf201[300].sentence == "Claim 300 about eczema [citation needed]."
    assert len(counted_sentences) <= 2


def test_a_long_paragraph_ranks_each_sentence_with_the_text_around_it(tmp_path, monkeypatch):
    from citeflow.document.manuscript import PARAGRAPH_CONTEXT

    contexts = []
    original = Suggester._query  # every ranking, one sentence or many at once, builds its queries here
    monkeypatch.setattr(Suggester, "_query", lambda self, sentence, paragraph:
                        contexts.append(paragraph) or original(self, sentence, paragraph))
    body = " ".join(f"Dupilumab reduced itch in trial {n} compared with placebo." for n in range(400))
    with deadline():
        result = check_manuscript(write(tmp_path, body + " [citation needed]\n"))
    assert sum(code.startswith("CF30") for code in codes(result)) == 400
    assert len(contexts) == 401 and max(map(len, contexts)) <= PARAGRAPH_CONTEXT  # not all 24,000


def test_each_note_stands_for_the_text_since_the_previous_one(tmp_path):
    body = ("Dupilumab eases itch. (Note: citations would be inserted here.) "
            "Joint pain was reported. (Note: citations would be inserted here.)\n")
    notes = find_placeholders(parse_manuscript(FRONT + body))
    assert [n.sentence() for n in notes] == ["Dupilumab eases itch.", "Joint pain was reported."]


def test_unknown_keys_cited_thousands_of_times_get_one_message_each(tmp_path, monkeypatch):
    import difflib

    calls = []
    original = difflib.get_close_matches
    monkeypatch.setattr(difflib, "get_close_matches", lambda *a, **k: calls.append(a) or original(*a, **k))
    with deadline():
        result = check_manuscript(write(tmp_path, " ".join(["@simpson2061two @nobody"] * 3000) + "\n"))
    assert codes(result).count("CF101") == 6000
    assert len(calls) == 2
    assert any("did you mean simpson2016two?" in f.message for f in result.findings)


# --------------------------------------------------------------------------------------
# Inputs that took hours (under a deadline that only catches a hang)


def test_a_line_of_twenty_thousand_spaces_after_a_heading(tmp_path):
    path = write(tmp_path, "# Joint pain\n" + " " * 20000 + "x | y\n\n" + " " * 20000 + "|\n")
    with deadline():
        result = check_manuscript(path)
        resolve_manuscript(path, offline=True)
    assert "CF101" not in codes(result)


def test_a_table_row_and_a_heading_padded_with_spaces_read_as_before():
    text = FRONT + "| a |" + " " * 20000 + "b |\n|" + " " * 20000 + "---|\n\n# Title" + " " * 20000 + "##\n"
    with deadline():
        blocks = parse_manuscript(text).blocks
    assert [b.kind for b in blocks] == ["table", "heading"]
    assert blocks[0].content == "a | b"
    assert blocks[1].content == "Title"


def test_a_list_nested_four_hundred_deep(tmp_path):
    body = "".join(f"{'  ' * depth}- Dupilumab reduces itch by {depth}% [citation needed]\n"
                   for depth in range(400))
    with deadline():
        result = check_manuscript(write(tmp_path, body))
    assert codes(result).count("CF201") == 400


@pytest.mark.parametrize("body", [
    "[doi:10.1/" * 30000, "(doi: 10.1/" * 30000, "(Note: citations " * 30000, "[see @a " * 30000,
    "<https://doi.org/10.1234/" * 30000, "x <!-- " * 60000, "[TODO " + "cite " * 60000, "[x " + "@a " * 60000,
])
def test_openings_never_closed_repeated_tens_of_thousands_of_times(tmp_path, body):
    path = write(tmp_path, body + "\n")
    with deadline():
        check_manuscript(path)
        result = resolve_manuscript(path, offline=True)
    assert not result.changed


def test_brackets_nested_fifteen_thousand_deep(tmp_path):
    path = write(tmp_path, "[doi:10.1234/x " * 15000 + "; ;" + "]" * 15000 + "\n")
    with deadline():
        result = resolve_manuscript(path, offline=True)
    assert not result.replacements


def test_a_reference_list_item_of_unclosed_years_read_as_written(tmp_path):
    # "(2020, " repeated: an author-(year) opening that never closes, in a list item that
    # --accept-parsed reads field by field
    path = write(tmp_path, "A claim [1].\n\n## References\n\n1. Zhang L. " + "(2020, " * 40_000 + "x.\n")
    with deadline():
        result = resolve_manuscript(path, offline=True, accept_parsed=True)
    assert result.exit_code in (0, 1)


@pytest.mark.parametrize("body", [
    "1" * 100_000 + ".",  # a number 100,000 digits long
    "x " + "`" * 40_000 + " x",  # a run of backticks that closes nothing
    "Tip: " + "1" * 50_000 + ": talk to your doctor.",
    "see Fig. 2 e.g. A " * 10_000 + "[citation needed].",
])
def test_long_runs_in_one_sentence(tmp_path, body):
    with deadline():
        check_manuscript(write(tmp_path, body + "\n"))


def test_front_matter_aliases_that_expand_exponentially_are_refused(tmp_path):
    aliases = "a0: &a0 [x, x, x, x, x, x, x, x, x]\n" + "".join(
        f"a{n}: &a{n} [*a{n - 1}, *a{n - 1}, *a{n - 1}, *a{n - 1}, *a{n - 1}, *a{n - 1}, *a{n - 1}, "
        f"*a{n - 1}, *a{n - 1}]\n" for n in range(1, 10))
    path = tmp_path / "laughs.md"
    path.write_text(f"---\n{aliases}nocite: *a9\n---\n\nText.\n", encoding="utf-8")
    with deadline():
        done = CliRunner().invoke(main, ["check", str(path)])
    assert done.exit_code == 2
    assert done.output.strip() == (f"citeflow: error: {path}:2: front matter expands to far more data "
                                   "than it holds (YAML aliases)")


# --------------------------------------------------------------------------------------
# The scanners decide as the expressions they replace (short inputs only)

_TABLE_LINE = re.compile(r"^\s*\|.*\|\s*$|^\s*[-+:| ]{3,}\s*$")
_HEADING_END = re.compile(r"[ \t]+#+[ \t]*$|[ \t]*\{[^}]*\}[ \t]*$")
_PROTECTED = re.compile(
    r"(?P<code>(`+)(?:(?!\2).)+?\2)"
    r"|(?P<linkurl>\]\((?:[^()\s]|\([^()]*\))*(?:\s+\"[^\"]*\")?\))"
    r"|(?P<autolink><(?:https?|ftp|mailto):[^>\s]+>)"
    r"|(?P<comment><!--.*?-->)"
    r"|(?P<math>\$\$.+?\$\$|(?<![\\$\w])\$(?=\S)[^$\n]+?(?<=\S)\$(?![\w$]))"
    r"|(?P<tag></?[A-Za-z][A-Za-z0-9-]*(?:\s[^<>]*)?/?>)",
    re.S,
)
_ADVICE = re.compile(
    rf"^(?:[\W\d]*(?:\w+\s+){{0,1}}\w+:\s+)?(?:[*_\"“']*)(?:{claims._ADVICE_VERBS})\b"
    r"(?!\s+(?:is|are|was|were|has|have)\b)",
    re.I,
)


def texts(alphabet: list[str], size: int = 12):
    return st.lists(st.sampled_from(alphabet), max_size=size).map("".join)


@settings(max_examples=400, deadline=None)
@given(line=texts([" ", "\t", "|", "-", "+", ":", "x", "\u00a0", "#", "{", "}", "{a}", " #"]))
def test_line_classifiers_decide_as_the_expressions(line):
    assert _is_table_line(line) == bool(_TABLE_LINE.match(line))
    assert _is_rule_row(line) == bool(re.fullmatch(r"\s*[-+:| ]+\s*", line))
    assert _strip_heading_end(line) == _HEADING_END.sub("", line)


@settings(max_examples=400, deadline=None)
@given(text=texts(["`", "``", "```", "a", " ", "<", ">", "<!--", "-->", "-", "http:", "<http:", "$", "$$",
                   "](", "(", ")", "]", "\"", "<a", "/", "\\", "mailto:"], size=14))
def test_protected_ranges_are_those_of_the_expression(text):
    assert _scan_protected(text) == [m.span() for m in _PROTECTED.finditer(text)]


@settings(max_examples=400, deadline=None)
@given(text=texts(["1", "12", " ", "\t", "a", "Tip", "note", "talk", "consult", "see", ":", ": ", ".", ",",
                   "*", "\"", "_", "-", "x1", "is", "take"], size=10))
def test_advice_is_decided_as_the_expression(text):
    assert _is_advice(text) == bool(_ADVICE.match(text))


_MASKABLE = re.compile(
    r"\[[^\[\]]*@[^\[\]]*\]"
    r"|(?<![\w\\])-?@[\w{][^\s,;\]]*"
    r"|\[\^[^\]\s]+\]"
    r"|\[\s*(?:doi|pmid|pmcid|arxiv|isbn)\s*:[^\]]*\]"
    r"|\(\s*(?:doi|pmid|pmcid)\s*:[^)]*\)"
    r"|https?://\S+"
    r"|\b10\.\d{4,9}/\S+"
    r"|\\[A-Za-z]+\*?(?:\{[^{}]*\})?"
    r"|\]\([^()]*\.(?:png|jpe?g|gif|svg|pdf|tiff?)\)",
    re.I,
)


@settings(max_examples=400, deadline=None)
@given(text=texts(["[", "]", "(", ")", "@", "@a", "-@b", "[^1]", "doi:", "pmid :", " ", "x", "10.1234/x", "http://a",
                   "\\ref{x}", "](a.png)", ",", ";", "É"], size=12))
def test_masked_spans_are_those_of_the_expression(text):
    assert claims._maskable_spans(text, claims._MASKABLE) == [m.span() for m in _MASKABLE.finditer(text)]


# --------------------------------------------------------------------------------------
# Fuzz: no crash, no traceback, resolve changes only its replacements

KNOWN = ["[doi:10.1056/NEJMoa1610020]", "[pmid:28478972]", "(doi: 10.1038/nrd4624)",
         "https://doi.org/10.1016/j.jdcr.2021.12.011", "[@pmcid:PMC6990756, p. 3]",
         "[see doi:10.1056/NEJMoa1804092; @simpson2016two]", "<https://doi.org/10.1038/nrd4624>",
         "@doi:10.1038/nrd4624"]
HOSTILE = ["[doi:10.1/", "(doi: ", "[", "]", "(", ")", "`", "``", "<!--", "-->", "<http:", "$$", "$", "|", "@", "@a",
           "10.1234/x", "https://doi.org/10.1/", "(Note: citations would be inserted here.)", "TODO: cite",
           "[citation needed]", "(ref)", "e.g.", "A.", "1,000", "50%", "\u00a0", "ünï", "{#id}", "\\ref{x}",
           "](x.png)", "[x](", ";", "; ", ", p. 3", "-@", "[^1]", "**", "\"", "’", "\t", " " * 40, "1" * 30]
WORDS = ["Dupilumab", "reduces", "joint", "pain", "studies", "show", "more", "than", "Type", "2", "Fig.", "3"]
PREFIXES = ["", "- ", "  - ", "> ", "> > ", "# ", "## ", "1. ", "| ", "|---|---|", "[^1]: ", "    ", "```", "~~~",
            "<div>", "---", "***", "=== ", "<!-- "]


@st.composite
def markdown(draw):
    newline = draw(st.sampled_from(["\n", "\r\n", "\r"]))
    lines = []
    for _ in range(draw(st.integers(0, 10))):
        tokens = draw(st.lists(st.sampled_from(WORDS + KNOWN + HOSTILE), min_size=1, max_size=10))
        separators = draw(st.lists(st.sampled_from([" ", "", "  ", ", ", ". "]),
                                   min_size=len(tokens), max_size=len(tokens)))
        lines.append(draw(st.sampled_from(PREFIXES)) + "".join(t + s for t, s in zip(tokens, separators)))
        if draw(st.booleans()):
            lines.append("")
    front = draw(st.sampled_from([
        FRONT, "", "---\nbibliography: refs.bib\nnocite: '@*'\n---\n", "---\ntitle: [unclosed\n---\n",
        "---\n- a list\n---\n", "---\ntitle: x\n", "\ufeff" + FRONT]))
    return front.replace("\n", newline) + newline.join(lines) + draw(st.sampled_from(["", newline]))


FUZZ = settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


@FUZZ
@given(text=markdown())
def test_check_never_raises_anything_but_a_citeflow_error(tmp_path, text):
    path = write(tmp_path, text, front="")
    try:
        result = check_manuscript(path)
    except CiteflowError:
        return
    for finding in result.findings:
        assert finding.line >= 1 and finding.column >= 1


@FUZZ
@given(text=markdown())
def test_resolve_changes_nothing_but_its_replacements(tmp_path, text):
    path = write(tmp_path, text, front="")
    try:
        result = resolve_manuscript(path, offline=True, write=True)
    except CiteflowError:
        assert path.read_bytes() == text.encode("utf-8")  # nothing written
        return
    written = path.read_bytes().decode("utf-8")
    assert written == result.text
    position = 0
    for rep in result.replacements:  # disjoint, in order, each the text it says it replaced
        assert position <= rep.start < rep.end and text[rep.start:rep.end] == rep.old
        position = rep.end
    assert put_back(written, result.replacements) == text
