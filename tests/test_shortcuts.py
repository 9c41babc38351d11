"""Every speed shortcut gives exactly what its plain twin gives (property tests).

The scanners skip work in several places: literal pre-scans before a regular expression,
case-sensitive copies of case-insensitive expressions for lower-cased ASCII text, BM25
weights precomputed into postings, concept matches of a sentence taken from its paragraph.
Each test below runs the shortcut and the plain computation on generated text (built from
words of real medical prose and the phrases the expressions look for) and wants the same
answer.
"""

from __future__ import annotations

import re
import unicodedata

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from rank_bm25 import BM25Okapi

from citeflow.claims import detect
from citeflow.claims import suggest as sg
from citeflow.claims.documents import Documents
from citeflow.document import placeholders as ph
from citeflow.document import sentences
from citeflow.references.bibliography import Reference

# Words and phrases from the seed draft and the sample review, and pieces the expressions
# look for (concept phrases, placeholder markers, disclaimers, self-references).
PIECES = [
    "dupilumab", "joint pain", "arthralgia", "atopic dermatitis", "eczema", "asthma", "il-4",
    "IL-13", "interleukin 4", "interleukin-13", "th17", "enthesitis", "arthritis", "psoriasis",
    "nasal polyps", "adverse event", "side effect", "placebo", "trial", "patients", "ad",
    "ad patients", "conjunctivitis", "type 2 inflammation", "rheumatoid", "the", "of", "and",
    "studies", "often", "mention", "citations would be inserted here", "references will be added",
    "sources to be provided", "be", "[citation needed]", "(ref)", "[@?]", "TODO: cite this",
    "XXX ref", "(todo ref here)", "[TODO: cite the trial]", "this article", "in this review",
    "we", "you should", "consult your doctor", "not medical advice", "to reduce", "aims to",
    "é", "ü", "’", "α", "β", "İ", ".", ",", ";", "(", ")", "[", "]", "-", " ", "  ", "\n", "3", "50%",
    # cue lookbehinds and open questions
    "reduces", "help", "to", "ways to lower", "increased", "not a", "common", "never", "rare",
    "limited", "evidence suggests", "it is unclear whether", "further research is needed",
    "will provide evidence", "can contribute to",
]
TEXT = st.lists(st.sampled_from(PIECES), max_size=30).map(" ".join)
ASCII_LOWER = TEXT.map(lambda t: t.lower()).filter(str.isascii)
FAST = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _plain_normalise(text: str) -> str:
    folded = unicodedata.normalize("NFKD", text)
    folded = "".join(c for c in folded if not unicodedata.combining(c)).lower()
    folded = folded.replace("’", "'").replace("α", "a").replace("β", "b")
    return sg._MEDIATOR.sub(r"\1\2", folded)


@FAST
@given(TEXT)
def test_ascii_normalisation_equals_the_unicode_path(text):
    assert sg.normalise(text) == _plain_normalise(text)


@FAST
@given(TEXT.map(sg.normalise))
def test_concepts_from_literal_starts_equal_a_full_scan(norm):
    plain = [(m.start(), m.end(), "~" + name, m.group(0), index)
             for index, (name, pattern, _) in enumerate(sg._COMPILED_CONCEPTS)
             for m in pattern.finditer(norm)]
    assert sg._concepts(norm) == plain


@FAST
@given(st.lists(TEXT, min_size=1, max_size=4), st.data())
def test_a_sentence_analysed_from_its_paragraph_equals_the_sentence_alone(sentences, data):
    paragraph = ". ".join(sentences)
    sentence = data.draw(st.sampled_from(sentences))
    sg._PART_ANALYSES.clear()
    assert sg._analyse_part(sentence, paragraph) == sg._analyse(sentence)


REFERENCES = [
    Reference(key="jay2022review", title="Dupilumab-associated arthritis and enthesitis: a review",
              keywords=["arthralgia", "IL-4"]),
    Reference(key="simpson2016two", title="Two phase 3 trials of dupilumab versus placebo in atopic dermatitis"),
    Reference(key="castro2018dupilumab", title="Dupilumab efficacy and safety in moderate-to-severe uncontrolled asthma"),
    Reference(key="woodbury2023dupilumab", title="Dupilumab-associated arthritis, enthesitis and IL-17",
              abstract="Joint pain and enthesitis in patients treated for atopic dermatitis."),
    Reference(key="bachert2019efficacy", title="Efficacy and safety of dupilumab in chronic rhinosinusitis with nasal polyps"),
    Reference(key="olbrich2023dupilumab", title="Dupilumab in inflammatory skin diseases: a systematic review"),
] + [Reference(key=f"filler{i:02d}", title=f"Trial {i} of placebo in asthma patients") for i in range(20)]


@pytest.fixture(scope="module")
def suggester():
    return sg.Suggester(REFERENCES)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(sentence=TEXT, paragraph=TEXT)
def test_ranking_from_postings_equals_plain_bm25(suggester, sentence, paragraph):
    query = suggester._query(sentence, paragraph)
    plain = np.zeros(len(REFERENCES))
    bm25 = BM25Okapi(suggester._analysis.lists(), k1=sg.BM25_K1, b=sg.BM25_B, epsilon=sg.BM25_EPSILON)
    for token, weight in query.weights.items():
        plain += weight * bm25.get_scores([token])
    ranked = suggester.rank(sentence, paragraph, k=3)
    hits = [i for i in range(len(REFERENCES)) if plain[i] > 1e-12]
    expected = sorted(hits, key=lambda i: (-round(plain[i], 9), suggester.keys[i]))[:3]
    assert [s.key for s in ranked] == [suggester.keys[i] for i in expected]
    assert [s.score for s in ranked] == [round(float(plain[i]), 2) for i in expected]
    # The matched terms: every query term the reference has, in the order of all the terms.
    every = sg._ordered(list(query.weights), query)
    for found in ranked:
        have = suggester.terms_of(found.key)
        assert list(found.terms) == [sg._label(query, t) for t in every if t in have]


@settings(max_examples=300, deadline=None)
@given(st.lists(TEXT | st.sampled_from(["ad", " patients", "AD", "il", "-4", "\x00", "joint", "pain", ""]),
                max_size=12))
def test_texts_analysed_together_equal_each_analysed_alone(texts):
    """Joined texts: no concept, mediator or word runs across from one text into the next
    ("ad" then " patients", "il" then "-4"), and each text's tokens keep their order."""
    assert sg.tokens_many(texts) == [sg.tokens(text) for text in texts]


@settings(max_examples=150, deadline=None)
@given(st.lists(st.tuples(TEXT, TEXT, TEXT, st.sampled_from(["", "Journal of Allergy", "Arthritis Care & Research",
                                                            "J Am Acad Dermatol"])), max_size=12))
def test_any_references_analysed_together_equal_each_analysed_alone(texts):
    references = [Reference(key=f"r{i}", title=title, keywords=[keywords] if keywords else [], abstract=abstract,
                            container=container) for i, (title, keywords, abstract, container) in enumerate(texts)]
    together = sg.Suggester._analysed([sg.Suggester._texts(ref) for ref in references])
    alone = Documents.of([sg.Suggester._document(ref) for ref in references])
    assert together.terms == alone.terms
    assert together.ids.tolist() == alone.ids.tolist() and together.lengths.tolist() == alone.lengths.tolist()


def test_a_bibliography_analysed_together_equals_each_reference_alone():
    texts = [sg.Suggester._texts(ref) for ref in REFERENCES]
    together = sg.Suggester._analysed(texts)
    alone = Documents.of([sg.Suggester._document(ref) for ref in REFERENCES])
    assert together.terms == alone.terms  # numbered in the same order
    assert together.ids.tolist() == alone.ids.tolist() and together.lengths.tolist() == alone.lengths.tolist()


DOCUMENTS = st.lists(st.lists(st.sampled_from(["dupilumab", "arthralgia", "~joint-disorder", "asthma",
                                               "trial", "placebo", "il4", "skin", "a", "b"]),
                               max_size=25), max_size=40)


@settings(max_examples=300, deadline=None)
@given(DOCUMENTS, st.sampled_from([1, 2, 7, sg._CHUNK]))
def test_the_bm25_table_holds_rank_bm25s_own_numbers(documents, chunk):
    """Every term's documents and weights, bit for bit, as rank_bm25 works them out one
    dictionary per document; terms in the order they first appear; none without weight.
    Whatever the slices the arrays are worked on in (a large bibliography's are many)."""
    saved, sg._CHUNK = sg._CHUNK, chunk
    try:
        table, frequency = sg.bm25_postings(Documents.of(documents))
    finally:
        sg._CHUNK = saved
    if not any(documents):
        assert table.ids == {} and frequency == {}
        return
    bm25 = BM25Okapi(documents, k1=sg.BM25_K1, b=sg.BM25_B, epsilon=sg.BM25_EPSILON)
    expected = {}
    for index, (freqs, length) in enumerate(zip(bm25.doc_freqs, bm25.doc_len)):
        norm = bm25.k1 * (1 - bm25.b + bm25.b * length / bm25.avgdl)
        for term, tf in freqs.items():
            weight = bm25.idf[term] * (tf * (bm25.k1 + 1) / (tf + norm))
            if weight > 0:
                expected.setdefault(term, []).append((index, weight))
    assert list(table.ids) == list(expected)
    for term, number in table.ids.items():
        start, end = table.starts[number], table.starts[number + 1]
        got = list(zip(table.documents[start:end].tolist(), table.weights[start:end].tolist()))
        assert got == expected[term] and frequency[term] == len(expected[term])
        # and the sum rank_bm25 gives for the term alone
        scores = bm25.get_scores([term])
        assert all(scores[i] == w for i, w in got)


@FAST
@given(TEXT)
def test_literal_prescans_never_hide_a_placeholder(text):
    for pattern, needs in ph._FREETEXT_NEEDS:
        if needs is not None and pattern.search(text):
            assert any(literal in text for literal in needs), pattern.pattern
    if ph._WILL_BE_ADDED.search(text):
        assert ph._may_say_added(text)


@FAST
@given(ASCII_LOWER)
def test_case_sensitive_copies_agree_on_lower_case_ascii(low):
    for fast, plain in [(detect._DISCLAIMER_ASCII, detect._DISCLAIMER),
                        (detect._YOU_ADVICE_ASCII, detect._YOU_ADVICE),
                        (detect._SELF_REFERENCE_ASCII, detect._SELF_REFERENCE)]:
        assert bool(fast.search(low)) == bool(plain.search(low)), plain.pattern
    assert bool(detect._INTENTION_ASCII.match(low)) == bool(detect._INTENTION.match(low))
    assert bool(detect._OPEN_QUESTION_ASCII.search(low)) == bool(detect._OPEN_QUESTION.search(low))


# Each cue pattern as written, and as the cue set compiles it (word boundary tested before
# the lookbehinds, parts grouped).
_CUE_PARTS = [(kind, re.compile(detect._lower_pattern(part)), part)
              for kind, parts in detect._DEFAULT_CUES.items() if kind != "statistic"
              for part in parts]


@FAST
@given(TEXT.map(str.lower))
def test_cues_with_the_boundary_first_match_as_written(low):
    for _kind, plain, part in _CUE_PARTS:
        hoisted = re.compile(detect._lower_pattern(detect._boundary_first(part)))
        found, expected = hoisted.search(low), plain.search(low)
        assert (found and found.span()) == (expected and expected.span()), part
    for kind in detect.CUE_KINDS:
        if kind == "statistic":
            continue
        plain = re.compile("|".join(f"(?:{detect._lower_pattern(p)})" for p in detect._DEFAULT_CUES[kind]))
        found, expected = detect.default_cues().patterns[kind][0].search(low), plain.search(low)
        assert (found and found.span()) == (expected and expected.span()), kind


@pytest.fixture(scope="module")
def claim_model():
    from citeflow.claims.model import default_model

    return default_model()


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_reasons_from_stored_weights_equal_a_lookup_by_name(claim_model, data):
    from citeflow.claims.model import Verdict

    known = sorted(claim_model.weights)[::50]
    names = tuple(dict.fromkeys(data.draw(st.lists(st.sampled_from([*known, "unknown:x"]), max_size=40))))
    fast = claim_model.score_features(names)
    plain = Verdict(fast.probability, names, claim_model.weights)
    for n in (1, 3):
        for positive in (True, False):
            assert fast.reasons(n, positive) == plain.reasons(n, positive)


def test_the_generated_text_reaches_the_expressions():
    """The pieces above do exercise every shortcut (otherwise the properties prove little)."""
    joined = " ".join(PIECES)
    assert any(p.search(joined) for p, _ in ph._FREETEXT_NEEDS)
    assert ph._WILL_BE_ADDED.search(joined)
    low = joined.lower()
    assert detect._SELF_REFERENCE.search(low) and detect._DISCLAIMER.search(low)
    assert detect._OPEN_QUESTION.search(low)
    assert any(detect._LOOKBEHINDS_THEN_BOUNDARY.match(part) and plain.search(low)
               for _, plain, part in _CUE_PARTS)
    assert sg._concepts(sg.normalise(joined))
    assert re.search(r"[^\x00-\x7f]", joined)


@FAST
@given(TEXT, TEXT)
def test_shared_words_from_cached_terms_equal_a_fresh_analysis(sentence, other):
    terms = {token for token, _ in sg._analyse(other)}
    plain = {stem for token, word in sg._analyse(sentence) if token in terms
             for stem, _ in sg._words(sg.normalise(word))}
    assert sg.shared_words(sentence, terms) == plain


# The open-question exclusion as first written: ``(?:\W*\w+\W+){0,3}?`` backtracks
# polynomially on long runs of punctuation (40,000 backticks took over a minute); the shipped
# expression reads ``^(?:\W*(?:\w+\W+){1,3}?)?``, which accepts the same texts.
_OPEN_QUESTION_AS_WRITTEN = re.compile(
    r"^(?:\W*\w+\W+){0,3}?it (?:is|remains) (?:still )?(?:unclear|unknown|uncertain|not (?:yet )?"
    r"(?:clear|known)) (?:if|whether|how|why|what|which)\b"
    r"|^(?:\W*\w+\W+){0,3}?(?:further|more|additional|future|larger) (?:\w+ )?(?:research|studies|"
    r"work|trials|investigations?|data) (?:is|are|will be|would be) (?:still )?(?:needed|required|"
    r"warranted|necessary)\b"
    r"|\b(?:will|would) (?:provide|offer|yield|give) (?:\w+ )?(?:evidence|insights?|answers?|data)\b",
    re.I,
)
OPEN_QUESTION_PIECES = ["it is unclear whether", "it remains unknown how", "further research is needed",
                        "more studies are required", "will provide evidence", "however,", "(", ")",
                        "`", "$", "the", "data", "1.", "--", "It is not yet clear if",
                        "Larger trials would be necessary"]


@FAST
@given(st.lists(st.tuples(st.sampled_from(OPEN_QUESTION_PIECES), st.sampled_from(["", " ", ", "])),
                max_size=12).map(lambda parts: "".join(a + b for a, b in parts)))
def test_the_linear_open_question_expression_equals_the_one_written_first(text):
    assert bool(detect._OPEN_QUESTION.search(text)) == bool(_OPEN_QUESTION_AS_WRITTEN.search(text))
    low = text.lower()
    if low.isascii():
        assert bool(detect._OPEN_QUESTION_ASCII.search(low)) == bool(_OPEN_QUESTION_AS_WRITTEN.search(low))


# -- RE2 screening of the cue expressions (citeflow.claims.screen) ---------------------

# Characters on which Python's classes and RE2's differ: no-break and other Unicode spaces,
# digits of other scripts, letters outside ASCII, and capitals whose lower case is longer.
SCREEN_TEXT = st.lists(st.sampled_from([*PIECES, "\xa0", "\u2009", "\x1c", "\x0b", "٣", "²", "Ⅻ",
                                        "ß", "K", "ſ", "ı", "you can get relıef", "ıf you have",
                                        "it is ımportant to consult", "you muſt",
                                        "studies\xa0show", "12 %", "p < 0.05",
                                        "n=٣٤", "n = 1,234", "95% CI", "most", "best", "safer",
                                        "twice as likely", "caused by", "linked to", "effective",
                                        "research suggests", "experts say", "as everyone knows"]),
                      max_size=30).map(" ".join)
EXTRA_CUES = {"attribution": ["as everyone knows"], "statistic": ["twice as likely"],
              "not_claim": ["in our experience"]}
EXTRA_CUE_SET = detect.CueSet.build(EXTRA_CUES)


SHORTHANDS = [re.compile(p, flags) for p, flags in [
    (r"\w+\s\d", 0), (r"[^\w\s]", 0), (r"\S+\s+\S", 0), (r"[\d.]+\s*%", 0), (r"(?<!\w)most\b", re.I),
    (r"\bSTUDIES\s+SHOW\b", re.I), (r"(?i:k)\W", 0), (r"^\W*[A-Z]\w+", 0), (r"(?=\d)\d{2,}", 0)]]


def _shorthand_screen():
    from citeflow.claims.screen import Screen

    return Screen(SHORTHANDS)


_SHORTHAND_SCREEN = _shorthand_screen()


def _unscreened(cues):
    """The same cue set with the screen switched off (every pattern searched)."""
    import dataclasses

    class _Off:
        def possible(self, text, low):
            return None

    plain = dataclasses.replace(cues)
    plain.__dict__["screen"] = _Off()
    return plain


@FAST
@given(SCREEN_TEXT)
def test_screened_cue_search_equals_a_search_of_every_pattern(text):
    for cues in (detect.default_cues(), EXTRA_CUE_SET):
        plain = _unscreened(cues)
        assert detect.find_cues(text, cues) == detect.find_cues(text, plain)
        assert detect.find_cues(text, cues, first=True) == detect.find_cues(text, plain, first=True)


@FAST
@given(SCREEN_TEXT)
def test_the_screen_never_rules_out_a_pattern_that_matches(text):

    cues = EXTRA_CUE_SET
    low = text.lower()
    possible = cues.screen.possible(text, low)
    assert possible is not None  # google-re2 is a dependency: the screen is on
    for kind, patterns in cues.patterns.items():
        subject = text if kind == "statistic" else low
        for index, pattern in enumerate(patterns):
            if pattern.search(subject):
                assert (kind, index) in possible, (kind, text)
    # Python's own class shorthands, case-insensitive matching and lookarounds.
    found = _SHORTHAND_SCREEN.possible(text)
    assert found is not None
    for index, pattern in enumerate(SHORTHANDS):
        if pattern.search(text):
            assert index in found, (pattern.pattern, text)


def test_the_screen_rules_out_patterns_and_keeps_what_it_cannot_translate():
    from citeflow.claims.screen import Screen, relaxed

    assert relaxed(re.compile(r"(a)\1")) is None  # a back reference has no RE2 form
    screen = Screen([re.compile(r"\bstudies show\b"), re.compile(r"(a)\1"), re.compile(r"\d+%")])
    assert screen.possible("the weather was fine") == {1}
    assert screen.possible("studies show 5% more") == {0, 1, 2}


@FAST
@given(SCREEN_TEXT)
def test_exclusions_screened_by_re2_equal_the_plain_tests(text):
    class _Off:
        def possible(self, text):
            return None

    screened = detect.not_claim_reason(text)
    saved, detect._EXCLUSIONS = detect._EXCLUSIONS, _Off()
    try:
        assert screened == detect.not_claim_reason(text)
    finally:
        detect._EXCLUSIONS = saved
    low = text.strip().strip("*_").strip().lower()
    possible = detect._EXCLUSIONS.possible(low)
    for index, pattern in enumerate([detect._DISCLAIMER, detect._YOU_ADVICE, detect._SELF_REFERENCE,
                                     detect._INTENTION, detect._OPEN_QUESTION]):
        if pattern.search(low):
            assert index in possible, (pattern.pattern, low)


LETTER_NAME_TEXT = st.lists(st.sampled_from(
    [*PIECES, "vitamin C.", "Vitamin C.", "hepatitis B.", "type A.", "Post-infection", "Smith", "J.",
     "2019;12:45-67.", "(2019). Title.", "1. Smith J,", "12(3):45", "[3] Doe AB"]), max_size=25).map(" ".join)


def _plain_blank(text, spans):
    chars = list(text)
    for start, end in spans:
        end = min(end, len(chars))
        if start < end:
            chars[start:end] = " " * (end - start)
    return "".join(chars)


@FAST
@given(LETTER_NAME_TEXT, st.lists(st.tuples(st.integers(0, 200), st.integers(0, 200)), max_size=8))
def test_blanking_merged_spans_equals_blanking_each_span(text, spans):
    assert detect._blank(text, spans) == _plain_blank(text, spans)


@FAST
@given(LETTER_NAME_TEXT)
def test_screened_sentence_repairs_and_reference_entries_equal_the_plain_ones(text):
    spans = [(0, len(text))] if text else []
    plain = []
    for start, end in spans:
        piece, origin = text[start:end], start  # offsets in the piece count from its start
        for match in sentences._LETTER_NAME_END.finditer(piece):
            cut = origin + match.end()
            plain.append(sentences._trim(text, start, cut))
            start = sentences._trim(text, cut, end)[0]
        plain.append((start, end))
    assert sentences._split_after_letter_names(text, spans) == plain
    assert detect._is_reference_entry(text) == bool(detect._REFERENCE_ENTRY.search(text))


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(sentence=TEXT, paragraph=TEXT, floor=st.sampled_from([0.5, 1.0, 2.0, 4.0]))
def test_ranking_above_a_floor_equals_the_full_ranking_cut_at_it(suggester, sentence, paragraph, floor):
    full = suggester.rank(sentence, paragraph, k=3)
    assert suggester.rank(sentence, paragraph, k=3, floor=floor) == [s for s in full if s.score >= floor]
    assert suggester.confident(sentence, paragraph) == [s for s in full if suggester.is_confident(s, sentence)]


@FAST
@given(SCREEN_TEXT)
def test_tokens_test_for_numbers_only_where_a_digit_starts_them(text):
    from citeflow.claims import model

    plain = []
    for token in model._TOKEN.findall(text.lower()):
        if token.isdigit() and len(token) == 4 and model._YEAR.fullmatch(token):
            plain.append("<year>")
        elif model._NUMBER.fullmatch(token):
            plain.append("<num>")
        else:
            plain.append(token)
    assert model.tokens(text) == plain


def test_text_that_is_no_utf_8_is_searched_unscreened():
    """A lone surrogate (possible in text handed to the API) cannot go to RE2: every pattern
    is searched as written, with the same answer."""
    text = "Studies show \ud800 that 45% of patients improve."
    assert detect.default_cues().screen.possible(text, text.lower()) is None
    plain = _unscreened(detect.default_cues())
    assert detect.find_cues(text) == detect.find_cues(text, plain) != []
    assert detect.not_claim_reason(text) is None


QUERIES = st.lists(st.tuples(TEXT, TEXT), max_size=12)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(queries=QUERIES, postings=st.sampled_from([1, 7, 50, sg.BATCH_POSTINGS]),
       cells=st.sampled_from([1, 60, sg.BATCH_CELLS]))
def test_ranking_claims_together_equals_one_at_a_time(suggester, queries, postings, cells):
    # Sentences of one paragraph share its terms: use some paragraphs several times.
    queries += [(sentence, queries[0][1]) for sentence, _ in queries[1:4]]
    saved = sg.BATCH_POSTINGS, sg.BATCH_CELLS
    sg.BATCH_POSTINGS, sg.BATCH_CELLS = postings, cells  # small groups and blocks too
    try:
        together = suggester.confident_many(queries, k=3)
        scores = suggester._batch_scores([suggester._query(s, p) for s, p in queries])
    finally:
        sg.BATCH_POSTINGS, sg.BATCH_CELLS = saved
    assert together == [suggester.confident(s, p, k=3) for s, p in queries]
    for row, (sentence, paragraph) in enumerate(queries):
        plain = suggester._scores(suggester._query(sentence, paragraph))
        assert scores[row].tobytes() == plain.tobytes()  # the same numbers, bit for bit


def test_claims_ranked_together_include_confident_candidates(suggester):
    """The generated queries above do reach confident candidates (the property is not empty)."""
    found = suggester.confident_many(
        [("Dupilumab-associated arthritis and enthesitis with joint pain and IL-4", ""),
         ("the", "")], k=3)
    assert [s.key for s in found[0]][:1] == ["jay2022review"] and found[1] == []


# Pieces of text the identifier marks, masked spans and letter names are made of.
MARK_PIECES = ["doi", "DOI", "PMID", "pmc", "arXiv", "PII", "https://", "http://x.org/a", "www.",
               ".org/", "[@key]", "-@key", "x@key", "\\@x", "@{doi:10.1/x}", "[^1]", "[doi: 10.1/x]",
               "(pmid: 123)", "10.1016/j.x", "a10.1016/j", "\\label{fig:1}", "](a b.png)", "[", "]",
               "(", ")", "@", "-", "1", "0", ".", " ", "word", "vitamin C.", "hepatitis B.",
               "Post-infection", "The", "J. Smith", "type A", "İ", "é", "ſ"]
MARK_TEXT = st.lists(st.sampled_from(MARK_PIECES), max_size=30).map("".join) | TEXT


@FAST
@given(MARK_TEXT)
def test_identifier_marks_found_in_lower_case_equal_the_case_insensitive_search(text):
    assert ph._may_hold_identifier(text) == bool(ph._HOLDS_IDENTIFIER.search(text))


# The maskable spans as first written, each alternative opening on a test of the character
# before it (detect._MASKABLE_PARTS writes them opening on a literal character).
_MASKABLE_AS_WRITTEN = re.compile(
    r"\[[^\[\]@]*+@[^\[\]]*+\]|\[\^[^\]\s]+\]|\[\s*(?:doi|pmid|pmcid|arxiv|isbn)\s*:[^\]]*\]"
    r"|\(\s*(?:doi|pmid|pmcid)\s*:[^)]*\)"
    r"|(?<![\w\\])-?@[\w{][^\s,;\]]*|https?://\S+|\b10\.\d{4,9}(?:\.\d+)*/\S+"
    r"|\\[a-za-z]+\*?(?:\{[^{}]*\})?|\]\([^()]*\.(?:png|jpe?g|gif|svg|pdf|tiff?)\)")


@FAST
@given(MARK_TEXT.map(str.lower).filter(str.isascii))
def test_masked_spans_with_a_literal_first_equal_the_expression_as_written(low):
    assert ([m.span() for m in detect._MASKABLE_ALL_ASCII.finditer(low)]
            == [m.span() for m in _MASKABLE_AS_WRITTEN.finditer(low)])


@FAST
@given(MARK_TEXT)
def test_masked_spans_in_any_text_equal_the_expression_as_written(text):
    assert ([m.span() for m in detect._MASKABLE_ALL.finditer(text)]
            == [m.span() for m in re.compile(_MASKABLE_AS_WRITTEN.pattern, re.I).finditer(text)])


@FAST
@given(MARK_TEXT)
def test_the_letter_name_prescan_never_hides_a_name(text):
    if sentences._LETTER_NAME_END.search(text):
        assert sentences._CAPITAL_THEN_SENTENCE.search(text)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(TEXT, min_size=1, max_size=5), st.data())
def test_scores_from_cached_sentence_weights_equal_scoring_every_feature(claim_model, texts, data):
    from citeflow.claims.model import SentenceContext, features

    index = data.draw(st.integers(0, len(texts) - 1))
    context = SentenceContext(texts[index], texts[index - 1] if index else "",
                              texts[index + 1] if index + 1 < len(texts) else "",
                              data.draw(st.sampled_from(["", "Results", "Adverse events"])),
                              index, len(texts), data.draw(st.sampled_from(["paragraph", "list_item"])))
    for _ in range(2):  # the second time from the cache
        fast = claim_model.score(context)
        plain = claim_model.score_features(features(context))
        assert fast.probability == plain.probability
        assert fast.contributions == plain.contributions
        assert fast.reasons(3) == plain.reasons(3)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(sentence=TEXT.filter(bool), other=TEXT)
def test_confidence_from_cached_sentence_words_equals_the_word_counts(suggester, sentence, other):
    terms = {token for token, _ in sg._analyse(other)}
    key = "jay2022review"
    kept = suggester.terms_of(key)
    suggester._term_sets[key] = terms
    try:
        plain = (len(sg.shared_words(sentence, terms)) >= suggester.confident_terms
                 and len(suggester.material_words(sentence, terms)) >= suggester.confident_material)
        assert suggester._confident(key, suggester.confident_score, sentence) == plain
    finally:
        suggester._term_sets[key] = kept


@FAST
@given(MARK_TEXT.map(str.lower) | TEXT.map(str.lower))
def test_the_mediator_prescan_never_hides_a_mediator(low):
    low = low + " il-4 th 17 cd4"[: len(low) % 16]
    if sg._MEDIATOR.search(low):
        assert sg._MEDIATOR_HINT.search(low)


@FAST
@given(MARK_TEXT)
def test_citation_keys_found_from_a_literal_first_equal_the_expression_as_written(text):
    from citeflow.document import citations

    as_written = re.compile(r"(?<![\w\\@])(?P<minus>-?)@" + citations._KEY)
    assert ([(m.span(), m.group("key"), m.group("bkey"), bool(m.group("minus")))
             for m in as_written.finditer(text)]
            == [(m.span(), m.group("key"), m.group("bkey"), m.group().startswith("-"))
                for m in citations._AT_KEY.finditer(text)])


LATEX_PIECES = ["a", "B", "1", " ", "\n", "{", "}", "{IL-4}", "\\%", "\\&", "\\_", "\\#", "\\$", "-",
                "--", "---", "~", "%", "'", "''", "`", "é", "\\\"u", "\\'e", "{\\o}", "\\emph{x}",
                "\\\\", "$", "^", ",", ".", "(", ")", "\\textendash", "\\", "95\\% CI, 1.2--3.4", "``",
                "!", "?", "<", ">", "\u00a0", "}{", "$^2$", "$-$", "$^{TM}$", "kg/m$^2$", "$^3$"]


@settings(max_examples=1500, deadline=None)
@given(st.lists(st.sampled_from(LATEX_PIECES), max_size=20).map("".join))
def test_field_values_decoded_without_the_latex_parser_equal_the_parsed_ones(text):
    from citeflow.references import bibtex

    assert bibtex.decode_latex.__wrapped__(text) == bibtex._decode_latex_fully(text)


@pytest.mark.skipif(sentences._blingfire is None, reason="Bling Fire is not installed")
@FAST
@given(st.one_of(TEXT, st.text(max_size=200),
                 st.lists(TEXT, min_size=1, max_size=4).map(lambda parts: "\n".join(parts) * 400)))
def test_bling_fire_called_directly_answers_as_its_wrapper(text):
    """The sentences of any text (words of real prose, any Unicode, NUL bytes, texts longer
    than the kept buffer), as ``blingfire.text_to_sentences`` gives them."""
    if any(0xD800 <= ord(c) <= 0xDFFF for c in text):
        with pytest.raises(UnicodeEncodeError):
            sentences._sentences_text(text)
        return
    assert sentences._sentences_text(text) == sentences._blingfire.text_to_sentences(text)
