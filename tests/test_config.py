"""Project settings: citeflow.toml or [tool.citeflow] in pyproject.toml, found upwards."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from citeflow.cli import main
from citeflow.config import load_config
from citeflow.errors import CiteflowError


def test_nearest_citeflow_toml_wins_and_paths_are_relative_to_it(tmp_path):
    (tmp_path / "citeflow.toml").write_text('style = "nature"\n')
    project = tmp_path / "paper"
    (project / "manuscripts").mkdir(parents=True)
    (project / "citeflow.toml").write_text(
        'style = "styles/house.csl"\nbibliography = "refs/main.bib"\noutput = "site"\n')
    config = load_config(project / "manuscripts")
    assert config.path == project / "citeflow.toml"
    assert config.style == str(project / "styles" / "house.csl")
    assert config.bibliography == [project / "refs" / "main.bib"]
    assert config.output_dir == project / "site"


def test_tool_citeflow_table_in_pyproject(tmp_path):
    (tmp_path / "pyproject.toml").write_text(
        '[project]\nname = "x"\n\n[tool.citeflow]\nstyle = "vancouver"\n[tool.citeflow.check]\nfail_on = "warning"\n')
    config = load_config(tmp_path)
    assert config.style == "vancouver"
    assert config.section("check") == {"fail_on": "warning"}


def test_pyproject_without_the_table_is_passed_over(tmp_path):
    (tmp_path / "citeflow.toml").write_text('style = "nature"\n')
    inner = tmp_path / "inner"
    inner.mkdir()
    (inner / "pyproject.toml").write_text('[project]\nname = "x"\n')
    assert load_config(inner).style == "nature"


def test_malformed_toml_names_file_and_line(tmp_path):
    (tmp_path / "citeflow.toml").write_text('style = "nature"\n[check\nfail_on = "x"\n')
    with pytest.raises(CiteflowError) as info:
        load_config(tmp_path)
    assert info.value.file == tmp_path / "citeflow.toml"
    assert info.value.line == 2


def test_mailto_from_environment_overrides_the_file(tmp_path, monkeypatch):
    (tmp_path / "citeflow.toml").write_text('mailto = "desk@example.org"\n')
    monkeypatch.delenv("CITEFLOW_MAILTO", raising=False)
    assert load_config(tmp_path).mailto == "desk@example.org"
    monkeypatch.setenv("CITEFLOW_MAILTO", "editor@example.org")
    assert load_config(tmp_path).mailto == "editor@example.org"


def test_broken_config_stops_a_command_with_exit_2(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "citeflow.toml").write_text("style = \n")
    (tmp_path / "a.md").write_text("Text.\n")
    done = CliRunner().invoke(main, ["check", "a.md"])
    assert done.exit_code == 2
    assert "citeflow.toml:1" in done.output


def test_a_mistyped_key_is_named_with_its_line_and_the_closest_key(tmp_path):
    (tmp_path / "citeflow.toml").write_text(
        'style = "nature"\nbibliografy = ["refs.bib"]\n\n[check]\nfail_on = "warning"\n')
    with pytest.raises(CiteflowError) as info:
        load_config(tmp_path)
    assert info.value.line == 2
    assert info.value.message == "unknown key 'bibliografy' (did you mean bibliography?)"


def test_a_value_of_the_wrong_kind_is_named_in_pyproject(tmp_path):
    (tmp_path / "pyproject.toml").write_text(
        '[project]\nname = "x"\n\n[tool.citeflow]\nstyle = "nature"\n\n'
        '[tool.citeflow.render]\ntrusted = "yes"\n')
    with pytest.raises(CiteflowError) as info:
        load_config(tmp_path)
    assert (info.value.file, info.value.line) == (tmp_path / "pyproject.toml", 8)
    assert info.value.message == "[render] trusted must be true or false, not 'yes'"


def test_the_sample_configuration_is_valid():
    root = Path(__file__).resolve().parents[1]
    assert load_config(root).path == root / "citeflow.toml"


def test_environment_variables_come_from_the_schema_and_override_the_file(tmp_path, monkeypatch):
    from citeflow.config import SCHEMA
    from citeflow.sources import SourceSettings

    (tmp_path / "citeflow.toml").write_text(
        "[sources]\ntimeout = 7\ncrossref_url = \"http://file.example\"\noffline = false\n",
        encoding="utf-8")
    config = load_config(tmp_path)
    settings = SourceSettings.from_config(config, env={"CITEFLOW_TIMEOUT": "2.5", "CITEFLOW_OFFLINE": "yes"})
    assert (settings.timeout, settings.crossref_url, settings.offline) == (2.5, "http://file.example", True)
    assert SourceSettings.from_config(config, env={}).timeout == 7
    # every variable the sources read is the `env` of a schema key, so the docs list them all
    named = {spec.env for section in SCHEMA.values() for spec in section.values() if spec.env}
    assert {"CITEFLOW_TIMEOUT", "CITEFLOW_OFFLINE", "CITEFLOW_CACHE_DIR", "NCBI_API_KEY"} <= named


def test_a_bad_environment_value_names_the_variable(tmp_path, monkeypatch):
    (tmp_path / "citeflow.toml").write_text("", encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("CITEFLOW_TIMEOUT", "soon")
    result = CliRunner().invoke(main, ["cite", "--offline", "doi:10.7554/eLife.01567"])
    assert result.exit_code == 2
    assert "CITEFLOW_TIMEOUT must be a number, not 'soon'" in result.output
    assert "Traceback" not in result.output
