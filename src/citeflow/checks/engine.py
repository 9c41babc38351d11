"""The rule engine: read a manuscript once, run the selected rules, apply suppressions.

``check_manuscript(path)`` is the library entry point behind ``citeflow check`` (and the
review PDF and ``citeflow build``). Rules are plain functions registered with
:func:`~citeflow.checks.base.rule`; each receives a :class:`CheckContext`, which computes
the shared material (citations, placeholders, sentences, claims, suggestions) once and on
demand, and returns :class:`~citeflow.checks.base.Finding` objects built with
:meth:`CheckContext.finding` or :meth:`CheckContext.bib_finding`.

Settings come from ``[check]`` in ``citeflow.toml`` (or ``[tool.citeflow.check]``)::

    [check]
    fail_on = "warning"          # error (default), warning or info
    select = ["CF1", "CF3"]      # codes or prefixes to run (default: all)
    ignore = ["CF106"]           # codes or prefixes to skip
    suggest = true               # attach candidate references to claim findings
    [check.severity]
    CF106 = "warning"
    [check.per_file]             # globs relative to the config file's folder
    "manuscripts/drafts/*.md" = ["CF3"]
    "references/legacy.bib" = ["CF105", "CF106"]
    claim_threshold = 0.75       # claim model probability from which a sentence is a claim
    [check.cues]
    attribution = ["as everyone knows"]
    not_claim = ["in our experience"]
"""

from __future__ import annotations

import dataclasses
import gc
import re
from collections.abc import Iterable, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

from ..claims.detect import Claim, CueSet, Sentence, default_cues, find_claims, sentences
from ..config import Config, load_config
from ..document.citations import Citation, find_citations
from ..document.manuscript import Manuscript, read_manuscript
from ..errors import CiteflowError
from .base import RULES, Finding, Rule, Severity, Suggestion
from .fixes import Applicability, Edit, Fix

FAIL_ON_DEFAULT = Severity.ERROR


# --------------------------------------------------------------------------------------
# Settings


def _codes(value: Any, where: str, path: Path | None) -> list[str]:
    """Rule codes or prefixes from a list or a comma-separated string, upper-cased."""
    if value is None:
        return []
    if isinstance(value, str):
        value = value.split(",")
    if not isinstance(value, (list, tuple)):
        raise CiteflowError(f"{where} must be a list of rule codes", path)
    codes = [str(v).strip().upper() for v in value if str(v).strip()]
    for code in codes:
        if not re.fullmatch(r"CF\d{0,3}", code):
            raise CiteflowError(f"{where}: {code!r} is not a rule code or prefix (e.g. CF301, CF3)", path)
    return codes


def _matches(code: str, patterns: Sequence[str]) -> bool:
    return any(code.startswith(p) for p in patterns)


@dataclass
class CheckSettings:
    """What to run and how: selection, severities, fail level, cue lists."""

    select: list[str] = field(default_factory=list)
    ignore: list[str] = field(default_factory=list)
    severity: dict[str, Severity] = field(default_factory=dict)
    fail_on: Severity = FAIL_ON_DEFAULT
    cues: dict[str, list[str]] = field(default_factory=dict)
    suggest: bool = True
    extra_placeholders: list[str] = field(default_factory=list)
    per_file: dict[str, list[str]] = field(default_factory=dict)
    root: Path | None = None
    claim_threshold: float | None = None  # None: the claim model's own default

    @classmethod
    def from_config(cls, config: Config | None) -> CheckSettings:
        if config is None:
            return cls()
        section = config.section("check")
        path = config.path
        severity: dict[str, Severity] = {}
        raw_severity = section.get("severity", {})
        if not isinstance(raw_severity, dict):
            raise CiteflowError("[check] severity must be a table (CF106 = \"warning\")", path)
        known = load_rules() if raw_severity else RULES
        for code, value in raw_severity.items():
            code = str(code).upper()
            if code not in known:
                raise CiteflowError(f"[check.severity]: unknown rule {code}", path)
            try:
                severity[code] = Severity.parse(str(value))
            except ValueError as exc:
                raise CiteflowError(f"[check.severity] {code}: {exc}", path) from None
        fail_on = FAIL_ON_DEFAULT
        if "fail_on" in section:
            try:
                fail_on = Severity.parse(str(section["fail_on"]))
            except ValueError as exc:
                raise CiteflowError(f"[check] fail_on: {exc}", path) from None
        cues = section.get("cues", {})
        if not isinstance(cues, dict):
            raise CiteflowError("[check] cues must be a table of phrase lists", path)
        try:
            if cues:  # the built-in cues alone need no test (nor building twice)
                CueSet.build(cues)
        except (ValueError, TypeError) as exc:
            raise CiteflowError(f"[check.cues]: {exc}", path) from None
        extra = section.get("placeholders", [])
        if isinstance(extra, str):
            extra = [extra]
        per_file_raw = section.get("per_file", {})
        if not isinstance(per_file_raw, dict):
            raise CiteflowError('[check] per_file must be a table ("glob" = ["CF106"])', path)
        per_file = {str(glob): _codes(codes, f"[check.per_file] {glob}", path)
                    for glob, codes in per_file_raw.items()}
        claim_threshold = section.get("claim_threshold")
        if claim_threshold is not None and not 0.0 < float(claim_threshold) < 1.0:
            raise CiteflowError("[check] claim_threshold must lie between 0 and 1 "
                                f"(got {claim_threshold})", path)
        return cls(
            select=_codes(section.get("select"), "[check] select", path),
            ignore=_codes(section.get("ignore"), "[check] ignore", path),
            severity=severity,
            fail_on=fail_on,
            cues={k: list(v) if not isinstance(v, str) else [v] for k, v in cues.items()},
            suggest=bool(section.get("suggest", True)),
            extra_placeholders=[str(p) for p in extra],
            per_file=per_file,
            root=config.root,
            claim_threshold=float(claim_threshold) if claim_threshold is not None else None,
        )

    def enabled(self, code: str) -> bool:
        if self.select and not _matches(code, self.select):
            return False
        return not _matches(code, self.ignore)

    def severity_of(self, rule: Rule) -> Severity:
        return self.severity.get(rule.code, rule.severity)

    def ignored_for(self, path: Path) -> list[str]:
        """Codes silenced for ``path`` by ``[check.per_file]`` globs (relative to the config)."""
        if not self.per_file:
            return []
        resolved = Path(path).resolve()
        try:
            relative = resolved.relative_to(self.root.resolve()) if self.root else resolved
        except ValueError:
            relative = resolved
        codes: list[str] = []
        for glob, listed in self.per_file.items():
            if relative.match(glob) or resolved.match(glob):
                codes.extend(listed)
        return codes


# --------------------------------------------------------------------------------------
# Suppression comments

_IGNORE = re.compile(
    r"<!--\s*citeflow\s*:\s*ignore(?P<codes>(?:[\s,]+CF\d{0,3})*)"
    r"(?:\s+reason\s*=\s*(?:\"(?P<dq>[^\"]*)\"|'(?P<sq>[^']*)'))?\s*-->",
    re.I | re.S,
)


@dataclass(frozen=True)
class Suppression:
    """An ``ignore`` comment: the codes it silences (empty = all), the reason, the span."""

    codes: tuple[str, ...]
    reason: str
    start: int  # span of the block it silences
    end: int
    comment_line: int

    def covers(self, finding: Finding) -> bool:
        if self.codes and not _matches(finding.code, self.codes):
            return False
        return self.start <= finding.start < self.end or (
            finding.start <= self.start < finding.end
        )


def find_suppressions(manuscript: Manuscript) -> list[Suppression]:
    """``<!-- citeflow: ignore CODE... reason="..." -->`` comments and the block after each."""
    result: list[Suppression] = []
    blocks = manuscript.blocks
    for index, block in enumerate(blocks):
        if block.kind != "comment":
            continue
        match = _IGNORE.search(manuscript.text, block.start, block.end + 1)
        if not match:
            continue
        target = next((b for b in blocks[index + 1:] if b.kind != "comment"), None)
        if target is None:
            continue
        codes = tuple(c.upper() for c in re.findall(r"CF\d{0,3}", match.group("codes"), re.I))
        reason = match.group("dq") or match.group("sq") or "ignored in the manuscript"
        line, _ = manuscript.line_col(block.start)
        result.append(Suppression(codes, reason.strip(), target.start, target.end, line))
    return result


# --------------------------------------------------------------------------------------
# Context handed to rules


class CheckContext:
    """Everything a rule may look at, each piece computed once on first use."""

    def __init__(self, manuscript: Manuscript, bibliography, config: Config | None,
                 settings: CheckSettings, rule: Rule | None = None) -> None:
        self.manuscript = manuscript
        self.bibliography = bibliography
        self.config = config
        self.settings = settings
        self.rule = rule
        self._suggested: dict[tuple[str, str], tuple[Suggestion, ...]] = {}
        self._in_two: Any = None

    # -- shared material ------------------------------------------------------------------
    @cached_property
    def path(self) -> Path:
        return self.manuscript.path or Path("<manuscript>")

    @cached_property
    def citations(self) -> list[Citation]:
        return find_citations(self.manuscript)

    @cached_property
    def placeholders(self) -> list:
        from ..document.placeholders import compile_patterns, extra_patterns_from_config, find_placeholders

        extra = extra_patterns_from_config(self.config)
        extra += compile_patterns(self.settings.extra_placeholders,
                                  self.config.path if self.config else None)
        return find_placeholders(self.manuscript, extra)

    @cached_property
    def cues(self) -> CueSet:
        return CueSet.build(self.settings.cues) if self.settings.cues else default_cues()

    @cached_property
    def sentences(self) -> list[Sentence]:
        return sentences(self.manuscript)

    def start_claims(self) -> None:
        """Begin judging the claims of a long manuscript in a second process meanwhile
        (:mod:`citeflow.checks.parallel`); :attr:`claims` collects them."""
        from .parallel import ClaimsInTwo

        ClaimsInTwo.start(self, self._keep_claims_in_two)

    def _keep_claims_in_two(self, split) -> None:
        self._in_two = split

    def stop_claims(self) -> None:
        """End the second process if the claims were never collected."""
        if self._in_two is not None:
            self._in_two.abandon()

    @cached_property
    def claims(self) -> list[Claim]:
        """The manuscript's claims (:meth:`claims_of`); those of a long manuscript judged in
        two processes, with their candidates ranked (:meth:`start_claims`)."""
        if self._in_two is not None:
            return self._in_two.finish()
        return self.claims_of()

    def claims_of(self, sections: slice | None = None) -> list[Claim]:
        """The claims of the manuscript, or of those of its sections (see
        :func:`~citeflow.claims.detect.find_claims`)."""
        return find_claims(self.manuscript, self.cues, citations=self.citations,
                           placeholders=self.placeholders,
                           threshold=self.settings.claim_threshold, sections=sections)

    @cached_property
    def suggester(self):
        if not self.settings.suggest or self.bibliography is None or not len(self.bibliography):
            return None
        try:
            from ..claims.documents import DocumentCache
            from ..claims.suggest import Suggester
        except ImportError:  # pragma: no cover - suggestions are optional
            return None
        return Suggester(self.bibliography, cache=DocumentCache.default())

    def suggestions(self, sentence: str, paragraph: str = "") -> list[Suggestion]:
        """Confident candidate references for ``sentence`` (best first, at most three).

        Empty without a bibliography, or when no entry reaches the Suggester's confidence
        threshold: a weak match is not worth showing as possible support.
        """
        if self.suggester is None:
            return []
        # Ranked once per text: the placeholders of one sentence share what they stand for.
        found = self._suggested.get((sentence, paragraph))
        if found is None:
            found = self._suggested[(sentence, paragraph)] = tuple(
                self.suggester.confident(sentence, paragraph=paragraph, k=3))
        return list(found)

    def rank_candidates(self, queries: Iterable[tuple[str, str]]) -> None:
        """Rank the candidates of many (sentence, paragraph) pairs at once, so that
        :meth:`suggestions` finds them ready: the same suggestions, one pass for all."""
        wanted = list(dict.fromkeys(q for q in queries if q not in self._suggested))
        if not wanted or self.suggester is None:
            return
        for query, found in zip(wanted, self.suggester.confident_many(wanted, k=3)):
            self._suggested[query] = tuple(found)

    def rank_claims(self, claims: Iterable[Claim]) -> None:
        """:meth:`rank_candidates` for the unsupported ``claims`` that a rule run here
        reports (CF301-CF303), as the rules ask for them, and their explanations written."""
        from .claims import code_for

        reported = [claim for claim in claims
                    if not claim.supported and self.settings.enabled(code_for(claim))]
        self.rank_candidates(claim.candidate_query for claim in reported)
        for claim in reported:
            claim.explanation()

    def ranked(self, query: tuple[str, str]) -> tuple[Suggestion, ...] | None:
        """The candidates ranked so far for a (sentence, paragraph) pair, if any were."""
        return self._suggested.get(query)

    def add_ranked(self, ranked: dict[tuple[str, str], tuple[Suggestion, ...]]) -> None:
        """Candidates ranked elsewhere (by :mod:`citeflow.checks.parallel`'s other process)."""
        for query, found in ranked.items():
            self._suggested.setdefault(query, found)

    @cached_property
    def _cache_hits(self) -> dict:
        """Offline lookups of every identifier placeholder not in the bibliography."""
        wanted = []
        for placeholder in self.placeholders:
            for item in placeholder.items:
                ident = item.identifier
                if ident is None:
                    continue
                if self.bibliography is not None and self.bibliography.find(ident) is not None:
                    continue
                wanted.append(ident)
        if not wanted:
            return {}
        try:
            from ..sources import Fetcher
        except ImportError:  # pragma: no cover - sources are optional for checking
            return {}
        try:
            with Fetcher(self.config, offline=True, workers=1) as fetcher:
                results = fetcher.fetch_many(wanted)
        except Exception:  # a damaged cache must not break a check
            return {}
        return {ident: result.reference if result.status == "ok" else None
                for ident, result in results.items()}

    def cached(self, identifier) -> bool:
        """True when the metadata cache can resolve ``identifier`` (never goes online)."""
        return self._cache_hits.get(identifier) is not None

    def cached_reference(self, identifier):
        """The record the metadata cache holds for ``identifier``, or None (never goes online)."""
        return self._cache_hits.get(identifier)

    @cached_property
    def _manubot_ids(self) -> dict[str, str]:
        """Manubot keys (``doi:10.1/x``) -> the bibliography key of their work, as render finds it."""
        if self.bibliography is None or not any(":" in c.key for c in self.citations):
            return {}
        from ..document.manubot import resolve_manubot_keys

        def cached(identifiers):
            return {i: ref for i in identifiers if (ref := self.cached_reference(i)) is not None}

        found = resolve_manubot_keys(self.manuscript, self.bibliography, cached, self.citations)
        return {key: found_id for key, found_id in found.ids.items() if found_id in self.bibliography}

    def cited_entry(self, key: str):
        """The bibliography entry a cited key names: the entry with that key, or the work of a
        Manubot key (``@doi:10.1/x``, ``@url:...``); None when the bibliography has neither."""
        bib = self.bibliography
        if bib is None:
            return None
        ref = bib.get(key)
        if ref is None and key in self._manubot_ids:
            ref = bib.get(self._manubot_ids[key])
        return ref

    # -- building findings -----------------------------------------------------------------
    def finding(self, start: int, end: int, message: str, *, sentence: str = "",
                cue: str = "", suggestions: Iterable[Suggestion] = (),
                code: str | None = None, fix: Fix | None = None,
                explanation: str = "") -> Finding:
        """A finding at source offsets ``start:end`` of the manuscript."""
        rule = RULES[code] if code else self.rule
        assert rule is not None
        line, column = self.manuscript.line_col(start)
        end_line, end_column = self.manuscript.line_col(max(end, start))
        return Finding(self.path, line, column, end_line, end_column, rule.code,
                       self.settings.severity_of(rule), message, sentence, cue,
                       list(suggestions), None, start, end, fix, explanation)

    def fix(self, message: str, edits: Iterable[tuple[int, int, str]],
            applicability: Applicability = Applicability.SAFE) -> Fix:
        """A fix replacing each ``(start, end)`` span of the manuscript by its new text."""
        text = self.manuscript.text
        placed = []
        for start, end, new in edits:
            line, column = self.manuscript.line_col(start)
            end_line, end_column = self.manuscript.line_col(end)
            placed.append(Edit(start, end, text[start:end], new, line, column, end_line,
                               end_column))
        return Fix(message, tuple(placed), applicability)

    def bib_finding(self, reference, message: str, code: str | None = None) -> Finding:
        """A finding on a bibliography entry: its file and the line the entry starts on."""
        rule = RULES[code] if code else self.rule
        assert rule is not None
        file = Path(reference.file) if getattr(reference, "file", None) else self.path
        line = reference.line or 1
        return Finding(file, line, 1, line, 1, rule.code, self.settings.severity_of(rule),
                       message, "", "", [], None, 0, 0)


# --------------------------------------------------------------------------------------
# Result


@dataclass
class CheckResult:
    """The outcome of checking one manuscript.

    ``findings`` are sorted by file, line and column; suppressed ones are kept with their
    reason in ``Finding.suppressed``. ``claims`` lists every claim sentence with the
    citations that support it (for a claims table).
    """

    path: Path
    manuscript: Manuscript
    bibliography: Any
    findings: list[Finding]
    claims: list[Claim]
    settings: CheckSettings = field(default_factory=CheckSettings)

    def active(self) -> list[Finding]:
        """Findings that are not suppressed."""
        return [f for f in self.findings if not f.suppressed]

    def failing(self, fail_on: Severity | None = None) -> list[Finding]:
        """Unsuppressed findings at or above the fail level."""
        level = fail_on if fail_on is not None else self.settings.fail_on
        return [f for f in self.active() if f.severity >= level]

    def exit_code(self, fail_on: Severity | None = None) -> int:
        return 1 if self.failing(fail_on) else 0

    def summary(self) -> dict[str, Any]:
        return summarize(self.findings, self.claims)


def summarize(findings: Sequence[Finding], claims: Sequence[Claim] = ()) -> dict[str, Any]:
    """Counts by severity and by rule, suppressed findings, and claim support."""
    active = [f for f in findings if not f.suppressed]
    by_severity = {str(s): sum(1 for f in active if f.severity == s)
                   for s in (Severity.ERROR, Severity.WARNING, Severity.INFO)}
    by_rule: dict[str, int] = {}
    for f in active:
        by_rule[f.code] = by_rule.get(f.code, 0) + 1
    supported = sum(1 for c in claims if c.supported)
    return {
        "total": len(active),
        **by_severity,
        "suppressed": len(findings) - len(active),
        "by_rule": dict(sorted(by_rule.items())),
        "claims": len(claims),
        "claims_supported": supported,
        "claims_supported_share": round(supported / len(claims), 3) if claims else None,
    }


# --------------------------------------------------------------------------------------
# Running


def load_rules() -> dict[str, Rule]:
    """Import every rule family in this package so the registry is complete.

    A new family (CF107–CF109, CF304, ...) is a module next to this one that registers its
    rules with :func:`~citeflow.checks.base.rule`; nothing else needs to change.
    """
    import importlib
    import pkgutil

    package = __name__.rsplit(".", 1)[0]
    for info in pkgutil.iter_modules(importlib.import_module(package).__path__):
        if info.name not in ("base", "engine", "fixes"):
            importlib.import_module(f"{package}.{info.name}")
    return RULES


def bibliography_paths(manuscript: Manuscript, config: Config | None) -> list[Path]:
    """The manuscript's own bibliographies (front matter), else the project's; each one
    inside the project root, named as a bibliography and present (:mod:`citeflow.paths`)."""
    from ..paths import bibliography_files

    return bibliography_files(manuscript, config if config is not None else Config())


@contextmanager
def _collector_paused():
    """Python's cyclic garbage collector paused, then restored as it was.

    A check builds hundreds of thousands of small objects (sentences, tokens, features)
    that live until it ends, next to the claim model and the compiled expressions; the
    collector would scan the growing heap over and over (about a sixth of the time of
    checking a long manuscript) and find little to free. Paused, it leaves them to the
    first full collection after the check, which also frees what the check left in cycles.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            if not gc.get_freeze_count():  # nobody else keeps objects frozen
                # What the check made joins the oldest generation unscanned (freezing and
                # thawing moves every object there), to be collected with it.
                gc.freeze()
                gc.unfreeze()
            gc.enable()


@_collector_paused()
def check_manuscript(source: str | Path | Manuscript, config: Config | None = None,
                     select: Iterable[str] | str | None = None,
                     ignore: Iterable[str] | str | None = None,
                     *, bibliography=None, settings: CheckSettings | None = None) -> CheckResult:
    """Check one manuscript (a path or a parsed :class:`Manuscript`) and return its findings,
    claims and summary.

    ``select``/``ignore`` (codes or prefixes) narrow the rules further than the config.
    Raises :class:`CiteflowError` for unreadable input (missing file, malformed BibTeX,
    YAML or config), naming file and line.
    """
    if isinstance(source, Manuscript):
        manuscript = source
        if config is None:
            config = load_config(manuscript.path or manuscript.folder)
    else:
        if config is None:
            config = load_config(Path(source))
        from ..paths import project_root, require_manuscript

        require_manuscript(source, project_root(source, config))
        manuscript = read_manuscript(Path(source))
    path = manuscript.path or Path("<manuscript>")
    settings = dataclasses.replace(settings) if settings else CheckSettings.from_config(config)
    if select:
        settings.select = _codes(select, "--select", None)
    if ignore:
        settings.ignore = settings.ignore + _codes(ignore, "--ignore", None)
    if bibliography is None:
        from ..references.bibliography import load_bibliography

        bibliography = load_bibliography(bibliography_paths(manuscript, config))
    findings: list[Finding] = []
    shared = CheckContext(manuscript, bibliography, config, settings)
    try:
        shared.start_claims()
        rules = load_rules()
        for code in sorted(rules):
            rule = rules[code]
            if rule.run is None or not settings.enabled(code):
                continue
            shared.rule = rule
            findings.extend(rule.run(shared))
        shared.rule = None
        claims = shared.claims
    finally:
        shared.stop_claims()
    apply_suppressions(findings, find_suppressions(manuscript), manuscript.path)
    apply_per_file(findings, settings, config)
    findings.sort(key=lambda f: (str(f.file) != str(path), str(f.file), f.line, f.column, f.code))
    return CheckResult(path, manuscript, bibliography, findings, claims, settings)


def apply_suppressions(findings: list[Finding], suppressions: list[Suppression],
                       path: Path | None) -> None:
    """Mark manuscript findings inside a silenced block with the comment's reason."""
    if not suppressions:
        return
    for finding in findings:
        if path is not None and Path(finding.file) != Path(path):
            continue
        for suppression in suppressions:
            if suppression.covers(finding):
                finding.suppressed = suppression.reason
                break


def apply_per_file(findings: list[Finding], settings: CheckSettings,
                   config: Config | None) -> None:
    """Mark findings in files that ``[check.per_file]`` silences for their code."""
    if not settings.per_file:
        return
    where = config.path.name if config is not None and config.path else "the project config"
    by_file: dict[str, list[str]] = {}
    for finding in findings:
        key = str(finding.file)
        if key not in by_file:
            by_file[key] = settings.ignored_for(Path(finding.file))
        if not finding.suppressed and _matches(finding.code, by_file[key]):
            finding.suppressed = f"per_file in {where}"


def filter_lines(findings: list[Finding], changed: dict[Path, set[int] | None]) -> list[Finding]:
    """Findings that touch a changed line; ``None`` for a file means every line changed.

    Files not in ``changed`` keep no findings.
    """
    resolved = {Path(p).resolve(): lines for p, lines in changed.items()}
    kept = []
    for finding in findings:
        key = Path(finding.file).resolve()
        if key not in resolved:
            continue
        lines = resolved[key]
        if lines is None or any(n in lines for n in range(finding.line, finding.end_line + 1)):
            kept.append(finding)
    return kept


__all__ = [
    "CheckContext", "CheckResult", "CheckSettings", "Suppression", "apply_per_file",
    "apply_suppressions",
    "bibliography_paths", "check_manuscript", "filter_lines", "find_suppressions",
    "load_rules", "summarize",
]
