"""CSL styles by name, offline: listing, dependent -> parent, aliases, paths, unknown names."""

from __future__ import annotations

import shutil

import pytest
from click.testing import CliRunner

from citeflow.cli import main
from citeflow.errors import CiteflowError
from citeflow.output.styles import UnknownStyle, list_styles, resolve_style, styles_dir


def test_listing_shows_titles_and_parents_of_dependent_styles():
    by_name = {info.name: info for info in list_styles()}
    assert len(by_name) > 5000
    assert by_name["american-medical-association"].title == "AMA Manual of Style 11th edition"
    assert by_name["american-medical-association"].parent is None
    assert by_name["jama"].parent == "american-medical-association"
    assert by_name["the-lancet-oncology"].parent == "the-lancet"
    assert by_name["nature"].title == "Nature"


def test_query_matches_name_or_title_case_insensitively():
    names = {info.name for info in list_styles("LANCET oncology")}
    assert "the-lancet-oncology" in names
    assert all("lancet" in (n + " " + t).lower() for n, t, _ in list_styles("lancet"))


def test_dependent_style_resolves_to_its_parent_file():
    path = resolve_style("jama")
    assert path == styles_dir() / "american-medical-association.csl"
    assert resolve_style("the-lancet-oncology").name == "the-lancet.csl"


def test_vancouver_alias_reaches_the_nlm_citation_sequence_style():
    assert resolve_style("vancouver").name == "nlm-citation-sequence.csl"
    assert resolve_style("ama").name == "american-medical-association.csl"
    assert resolve_style("nature.csl").name == "nature.csl"


def test_a_path_to_a_csl_file_is_used_as_is(tmp_path):
    own = tmp_path / "house-style.csl"
    shutil.copy(styles_dir() / "nature.csl", own)
    assert resolve_style(str(own)) == own
    assert resolve_style("house-style.csl", base=tmp_path) == own


def test_a_dependent_style_given_as_a_path_resolves_offline(tmp_path):
    copy = tmp_path / "my-journal.csl"
    shutil.copy(styles_dir() / "dependent" / "jama.csl", copy)
    assert resolve_style(str(copy)) == styles_dir() / "american-medical-association.csl"


def test_unknown_name_fails_with_the_closest_names():
    with pytest.raises(UnknownStyle) as caught:
        resolve_style("american-medical-asociation")
    assert "american-medical-association" in caught.value.closest
    assert "american-medical-association" in str(caught.value)


def test_missing_style_file_is_named(tmp_path):
    with pytest.raises(CiteflowError) as caught:
        resolve_style(str(tmp_path / "gone" / "style.csl"))
    assert "style.csl" in str(caught.value.file)


def test_cli_lists_matching_styles_with_titles():
    result = CliRunner().invoke(main, ["styles", "lancet"])
    assert result.exit_code == 0
    lines = result.output.splitlines()
    oncology = [line for line in lines if line.startswith("the-lancet-oncology ")]
    assert oncology and "The Lancet Oncology" in oncology[0] and "uses the-lancet" in oncology[0]


def test_cli_without_match_exits_2_with_suggestions():
    result = CliRunner().invoke(main, ["styles", "amercan-medical"])
    assert result.exit_code == 2
    assert "american-medical" in result.stderr
    assert "Traceback" not in result.output
