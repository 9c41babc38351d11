"""Shared test set-up."""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def _private_user_cache(tmp_path_factory, monkeypatch):
    """The default metadata cache is the user cache directory; every test gets its own,
    so no test reads or writes the real one (tests that need a cache set
    CITEFLOW_CACHE_DIR themselves)."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path_factory.mktemp("user-cache")))


@pytest.fixture
def unreachable_sources(tmp_path, monkeypatch):
    """Every metadata source on a closed port of 127.0.0.1, a private cache, and an empty
    citeflow.toml in tmp_path so that no project configuration from above applies."""
    monkeypatch.setenv("CITEFLOW_CACHE_DIR", str(tmp_path / "cache"))
    for name in ("CROSSREF", "DOI", "EUTILS", "IDCONV"):
        monkeypatch.setenv(f"CITEFLOW_{name}_URL", "http://127.0.0.1:9/unreachable")
    monkeypatch.delenv("CITEFLOW_OFFLINE", raising=False)
    (tmp_path / "citeflow.toml").write_text("", encoding="utf-8")
