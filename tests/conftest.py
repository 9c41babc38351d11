"""Shared test set-up."""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def _private_user_cache(tmp_path_factory, monkeypatch):
    """The default metadata cache is the user cache directory; every test gets its own,
    so no test reads or writes the real one (tests that need a cache set
    CITEFLOW_CACHE_DIR themselves)."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path_factory.mktemp("user-cache")))
