"""The phrase lists kept as data (claims/data/*.toml) do what their own examples say."""

from __future__ import annotations

import re

import pytest

from citeflow.claims.data import load_data
from citeflow.claims.detect import CUE_KINDS, find_cues
from citeflow.claims.suggest import CONCEPTS, _concepts, normalise

CUES = load_data("cues.toml")
CONCEPT_DATA = load_data("concepts.toml")


def test_every_cue_kind_is_listed_once_with_examples():
    assert list(CUES) == list(CUE_KINDS)
    for kind, entry in CUES.items():
        assert entry["patterns"] and entry["examples"] and entry["not_examples"], kind
        for pattern in entry["patterns"]:
            re.compile(pattern)


@pytest.mark.parametrize("kind,sentence",
                         [(k, s) for k, e in CUES.items() for s in e["examples"]])
def test_cue_examples_raise_their_kind(kind, sentence):
    assert kind in {cue.kind for cue in find_cues(sentence)}


@pytest.mark.parametrize("kind,sentence",
                         [(k, s) for k, e in CUES.items() for s in e["not_examples"]])
def test_cue_counterexamples_do_not(kind, sentence):
    assert kind not in {cue.kind for cue in find_cues(sentence)}


def test_concepts_come_from_the_data_file():
    assert list(CONCEPTS) == list(CONCEPT_DATA)
    for name, entry in CONCEPT_DATA.items():
        assert CONCEPTS[name] == tuple(entry["phrases"]) and entry["examples"], name


@pytest.mark.parametrize("name,text",
                         [(n, t) for n, e in CONCEPT_DATA.items() for t in e["examples"]])
def test_concept_examples_are_found(name, text):
    found = {token for _, _, token, _, _ in _concepts(normalise(text))}
    assert "~" + name in found
