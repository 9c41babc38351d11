"""Sentence segmentation with source spans, and claim detection measured on labelled data."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from citeflow.claims.detect import (
    CueSet,
    block_sentences,
    find_claims,
    is_claim,
    not_claim_reason,
    segment,
    sentences,
)
from citeflow.document.manuscript import parse_manuscript, read_manuscript

DATA = Path(__file__).parent / "data" / "check"

# Floors set from the measured figures (seed: P 1.00 / R 0.875; ClaimBuster: P 0.863 /
# R 0.558; PMOA-CITE sample: P 0.18 / R 0.18), a little below each.
SEED_FLOORS = (0.95, 0.85)
CLAIMBUSTER_FLOORS = (0.83, 0.52)
PMOA_FLOORS = (0.15, 0.15)


def _split(text: str) -> list[str]:
    return [text[a:b] for a, b in segment(text)]


# --------------------------------------------------------------------------------------
# Segmentation


def test_segmenter_keeps_abbreviations_numbers_and_citations_inside_sentences():
    text = (
        "Simpson et al. reported a 27.1% reduction (n = 123,940) vs. placebo, e.g. in Fig. 2 "
        "of the trial [@simpson2016two]. Joint pain was rare. See Eq. 4 for the model."
    )
    assert _split(text) == [
        "Simpson et al. reported a 27.1% reduction (n = 123,940) vs. placebo, e.g. in Fig. 2 "
        "of the trial [@simpson2016two].",
        "Joint pain was rare.",
        "See Eq. 4 for the model.",
    ]


def test_citation_after_et_al_stays_with_its_sentence():
    text = "As shown by Simpson et al. [@simpson2016two]. The next sentence follows."
    assert _split(text) == ["As shown by Simpson et al. [@simpson2016two].",
                            "The next sentence follows."]


def test_sentence_spans_point_at_source_in_lists_footnotes_and_after_front_matter():
    text = (
        "---\ntitle: A test\nbibliography: refs.bib\n---\n\n"
        "Intro line one.\n"
        "Second sentence wraps\n  onto the next line.\n\n"
        "- First item. Studies show it works.\n"
        "  Continued item text.\n\n"
        "> Quoted claim reduces pain by 30%.\n\n"
        "Text with a note.[^1]\n\n"
        "[^1]: Footnote sentence one. Footnote says 12% improved.\n"
    )
    m = parse_manuscript(text, "x.md")
    found = {s.text: s for s in sentences(m)}
    for sentence_text, expected_line, expected_col in [
        ("Intro line one.", 6, 1),
        ("Second sentence wraps onto the next line.", 7, 1),
        ("Studies show it works.", 10, 15),
        ("Quoted claim reduces pain by 30%.", 13, 3),
        ("Footnote says 12% improved.", 17, 30),
    ]:
        s = found[sentence_text]
        assert m.line_col(s.start) == (expected_line, expected_col)
        # the source slice holds the sentence's words, whatever line breaks sit in between
        assert " ".join(m.text[s.start:s.end].split()) == sentence_text
    assert found["Footnote says 12% improved."].block.kind == "footnote"


def test_crlf_and_bom_do_not_shift_columns():
    text = "\ufeffFirst sentence here.\r\nStudies show 45% gain.\r\n"
    m = parse_manuscript(text, "x.md")
    s = next(x for x in sentences(m) if x.text.startswith("Studies"))
    assert m.line_col(s.start) == (2, 1)
    assert m.text[s.start:s.end] == "Studies show 45% gain."


# --------------------------------------------------------------------------------------
# Claim detection


@pytest.mark.parametrize(
    "sentence, kind",
    [
        ("Dupixent has revolutionized the treatment of atopic dermatitis.", "superlative"),
        ("It is the most widely prescribed biologic for eczema.", "superlative"),
        ("Studies show that joint pain is common.", "attribution"),
        ("According to many online sources, the drug is dangerous.", "attribution"),
        ("Experts say the benefit outweighs the risk.", "attribution"),
        ("Arthralgia occurred in 3.2% of patients.", "statistic"),
        ("The trial enrolled 1,379 adults.", "statistic"),
        ("Smoking causes lung cancer.", "causal"),
        ("Dupilumab reduces inflammation.", "causal"),
        ("Dupilumab was more effective than placebo.", "comparative"),
        ("The drug is well tolerated in children.", "efficacy"),
    ],
)
def test_claims_are_detected_with_the_cue_that_explains_them(sentence, kind):
    cue = is_claim(sentence)
    assert cue is not None and cue.kind == kind
    assert cue.text.lower() in sentence.lower()


@pytest.mark.parametrize(
    "sentence, reason",
    [
        ("Why does dupixent cause joint pain?", "question"),
        ("Understanding Dupixent's Mechanism of Action:", "heading"),
        ("Talk to your doctor before stopping treatment.", "advice"),
        ("Don't discontinue treatment without consulting your doctor: stopping reduces control.",
         "advice"),
        ("Inform your doctor immediately if pain increases.", "advice"),
        ("This article explores the reasons why Dupixent might cause joint pain.",
         "about the article"),
        ("This information is for educational purposes and should not be considered medical "
         "advice.", "disclaimer"),
    ],
)
def test_non_claims_are_recognised(sentence, reason):
    assert not_claim_reason(sentence) == reason
    assert is_claim(sentence) is None


def test_numbers_inside_names_and_citation_keys_are_not_statistics():
    assert is_claim("Dupilumab binds IL-4Rα and blocks IL-13 signalling in type 2 disease.").kind \
        == "causal"
    assert is_claim("Results are summarised in Figure 2 and Table 1.") is None
    assert is_claim("Patients were treated as described [@smith2020].") is None


def test_configured_cues_extend_detection():
    cues = CueSet.build({"attribution": ["word on the street"], "not_claim": ["in our view"]})
    assert is_claim("Word on the street is that it helps.", cues).kind == "attribution"
    assert is_claim("In our view, dupilumab reduces itch.", cues) is None
    with pytest.raises(ValueError, match="unknown cue kind"):
        CueSet.build({"vibes": ["x"]})


def test_a_citation_or_identifier_placeholder_supports_a_claim():
    m = parse_manuscript(
        "Dupilumab reduces itch [@simpson2016two]. Dupilumab improves sleep [doi:10.1056/x1]. "
        "Dupilumab reduces flares.\n",
        "x.md",
    )
    claims = find_claims(m)
    assert [(c.text.split()[1], c.supported) for c in claims] == [
        ("reduces", True), ("improves", True), ("reduces", False)]
    assert claims[0].keys == ["simpson2016two"]


# --------------------------------------------------------------------------------------
# Measured quality


def _precision_recall(pairs):
    tp = sum(1 for y, p in pairs if y and p)
    fp = sum(1 for y, p in pairs if p and not y)
    fn = sum(1 for y, p in pairs if y and not p)
    return tp / (tp + fp), tp / (tp + fn)


def _seed_labels() -> dict[str, int]:
    labels = {}
    for line in (DATA / "dupixent-joint-pain.labels.tsv").read_text(encoding="utf-8").splitlines():
        if line.startswith("#") or not line.strip():
            continue
        label, text = line.split("\t")[:2]
        labels[text] = int(label)
    return labels


def _label_of(text: str, labels: dict[str, int]) -> int:
    """The label of a found sentence; where segmenters differ, of the labelled ones it
    overlaps (a claim if any of them is)."""
    if text in labels:
        return labels[text]
    return max((y for t, y in labels.items() if t in text or text in t), default=0)


def test_sample_draft_precision_and_recall():
    manuscript = read_manuscript(DATA / "dupixent-joint-pain.txt")
    labels = _seed_labels()
    found = sentences(manuscript)
    # the segmenter finds the labelled sentences (exactly, for all but a few)
    exact = sum(1 for s in found if s.text in labels)
    assert exact >= 0.9 * len(labels), (exact, len(labels))
    pairs = [(_label_of(s.text, labels), is_claim(s) is not None) for s in found]
    precision, recall = _precision_recall(pairs)
    assert precision >= SEED_FLOORS[0], precision
    assert recall >= SEED_FLOORS[1], recall


def test_sample_draft_flags_the_named_claims_and_no_advice():
    manuscript = read_manuscript(DATA / "dupixent-joint-pain.txt")
    claims = {s.text: is_claim(s) for s in sentences(manuscript)}

    def cue_of(fragment):
        return next(c for t, c in claims.items() if fragment in t)

    assert cue_of("studies on ScienceDirect").kind == "attribution"
    assert cue_of("often mention joint pain").kind == "attribution"
    assert cue_of("has revolutionized the treatment") is not None
    assert cue_of("emerging research suggests").kind == "attribution"
    for advice in ("Don't discontinue treatment", "Inform your doctor immediately",
                   "Maintain open communication", "Consider lifestyle changes",
                   "Always consult with your healthcare provider"):
        assert cue_of(advice) is None, advice


def _corpus(name):
    if name.endswith(".json"):
        return [(d["label"], d["text"]) for d in json.loads((DATA / name).read_text())]
    return [(d["label"], d["text"]) for d in
            map(json.loads, (DATA / name).read_text().splitlines()) if d]


@pytest.mark.parametrize("name, floors", [
    ("claimbuster_two_class_test.json", CLAIMBUSTER_FLOORS),
    ("pmoa-cite_acl-arc_samples.jsonl", PMOA_FLOORS),
])
def test_corpus_precision_and_recall(name, floors):
    items = _corpus(name)
    assert len(items) >= 100
    precision, recall = _precision_recall([(y, is_claim(t) is not None) for y, t in items])
    assert precision >= floors[0], precision
    assert recall >= floors[1], recall


def test_block_sentences_of_heading_are_not_claims():
    m = parse_manuscript("# Dupilumab reduces inflammation by 50%\n\nBody text.\n", "x.md")
    heading = m.blocks[0]
    assert heading.kind == "heading"
    assert block_sentences(heading)
    assert all(is_claim(s) is None for s in block_sentences(heading))


def test_list_items_without_full_stop_can_be_claims_but_short_lines_are_headings():
    m = parse_manuscript(
        "Key results\n\n- Dupilumab reduced EASI by 27.1% at week 16\n- Talk to your doctor\n",
        "x.md")
    decisions = {s.text: is_claim(s) for s in sentences(m)}
    assert decisions["Key results"] is None
    assert decisions["Dupilumab reduced EASI by 27.1% at week 16"] is not None
    assert decisions["Talk to your doctor"] is None


@pytest.mark.parametrize("text, advice", [
    # askvity.info, "How do you use petroleum jelly in your nose"
    ("To use petroleum jelly in your nose, apply a very small amount to the inside lining "
     "using your finger.", True),
    # drugs.com, Lifecycle Milk Thistle capsules leaflet
    ("For adults and elderly: Take 1 capsule 2 times daily.", True),
    # consumer.healthday.com, "Winter Nosebleeds": a claim after an opening clause
    ("If you're susceptible to nosebleeds, the dry winter air may bring them on more frequently, "
     "according to the Medical College of Wisconsin.", False),
    # the verb read as a noun after the opening clause
    ("For most adults, use of a humidifier lowers the number of nosebleeds in winter.", False),
    # a public diabetes explainer (code search, index file 57917468312): "exercise" is the subject
    ("For older adults, exercise brings extra benefits.", False),
    ("After surgery, rest reduces complications by half.", False),
])
def test_an_imperative_after_an_opening_clause_is_advice(text, advice):
    m = parse_manuscript(text + "\n", "x.md")
    (sentence,) = sentences(m)
    assert (not_claim_reason(sentence.text) == "advice") is advice
