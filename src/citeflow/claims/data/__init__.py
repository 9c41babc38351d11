"""Phrase lists that the claims stage reads: cue phrases (``cues.toml``) and medical
synonyms for ranking candidates (``concepts.toml``), kept as data with their own examples."""

from __future__ import annotations

import tomllib
from functools import cache
from importlib import resources
from typing import Any


@cache
def load_data(name: str) -> dict[str, Any]:
    """A TOML data file of this package, parsed (tables keep their order)."""
    with resources.files(__name__).joinpath(name).open("rb") as handle:
        return tomllib.load(handle)
