"""Rule out, in one pass over a text, the regular expressions that cannot match it.

Python's ``re`` tries a long alternation (a cue kind has dozens of phrases) at every
position of a sentence, which makes looking for cues the costliest step of claim detection.
A :class:`Screen` hands the same expressions, *relaxed*, to RE2 (:mod:`re2`, Google's
linear-time engine), which reads the text once for all of them and says which may match:

* word boundaries, anchors and lookarounds are dropped, possessive and lazy repeats become
  greedy ones, atomic groups plain groups: each change lets the expression match more;
* ``\\w``, ``\\d`` and ``\\s`` are spelled out as the Unicode classes Python gives them
  (RE2's own are ASCII only); an expression that cannot be spelled so (a back reference,
  ``[^\\S]``) is never ruled out.

So an expression the screen rules out has no match, and the caller skips it; every other
one is searched with ``re`` as before, which gives the match. Without the ``google-re2``
package, or for an expression RE2 rejects, nothing is ruled out.
"""

from __future__ import annotations

import re
import re._constants as _c  # type: ignore[import-not-found]
import re._parser as _parser  # type: ignore[import-not-found]
from collections.abc import Sequence

try:
    import re2 as _re2  # type: ignore[import-untyped]
except ImportError:  # pragma: no cover - exercised only where google-re2 is missing
    _re2 = None

# Python's classes for str patterns, as RE2 classes: \w is str.isalnum() or "_" (letters and
# every kind of number), \d the decimal digits, \s what str.isspace() accepts.
_WORD = r"\p{L}\p{N}_"
_DIGIT = r"\p{Nd}"
_SPACE = r"\t\n\x0b\x0c\r\x1c-\x1f \x{85}\x{a0}\x{1680}\x{2000}-\x{200a}\x{2028}\x{2029}\x{202f}\x{205f}\x{3000}"


# Flags that change nothing the translation keeps, or only make Python match less (ASCII).
_FLAGS = re.I | re.U | re.S | re.M | re.X | re.A


class _Untranslatable(Exception):
    pass


def _literal(code: int) -> str:
    char = chr(code)
    return char if char.isascii() and char.isalnum() else f"\\x{{{code:x}}}"


def _class(items) -> str:
    negate = False
    out = []
    for op, arg in items:
        if op is _c.NEGATE:
            negate = True
        elif op is _c.LITERAL:
            out.append(_literal(arg))
        elif op is _c.RANGE:
            out.append(_literal(arg[0]) + "-" + _literal(arg[1]))
        elif op is _c.CATEGORY and arg is _c.CATEGORY_WORD:
            out.append(_WORD)
        elif op is _c.CATEGORY and arg is _c.CATEGORY_DIGIT:
            out.append(_DIGIT)
        elif op is _c.CATEGORY and arg is _c.CATEGORY_SPACE:
            out.append(_SPACE)
        elif op is _c.CATEGORY and not negate and arg is _c.CATEGORY_NOT_WORD:
            out.append(r"\W")  # RE2's \W, \D and \S hold more than Python's: still a superset
        elif op is _c.CATEGORY and not negate and arg is _c.CATEGORY_NOT_DIGIT:
            out.append(r"\D")
        elif op is _c.CATEGORY and not negate and arg is _c.CATEGORY_NOT_SPACE:
            out.append(r"\S")
        else:
            raise _Untranslatable(str(op))
    return "[" + ("^" if negate else "") + "".join(out) + "]"


def _sequence(items) -> str:
    return "".join(_node(op, arg) for op, arg in items)


def _node(op, arg) -> str:
    if op is _c.LITERAL:
        return _literal(arg)
    if op is _c.NOT_LITERAL:
        return "[^" + _literal(arg) + "]"
    if op is _c.IN:
        return _class(arg)
    if op is _c.ANY:
        return "(?s:.)"
    if op in (_c.AT, _c.ASSERT, _c.ASSERT_NOT):
        return ""
    if op is _c.BRANCH:
        return "(?:" + "|".join(_sequence(branch) for branch in arg[1]) + ")"
    if op is _c.SUBPATTERN:
        _, add, remove, items = arg
        inner = _sequence(items)
        if (add | remove) & ~_FLAGS:
            raise _Untranslatable("flags")
        on = "i" if add & re.I else ""
        off = "-i" if remove & re.I else ""
        return f"(?{on}{off}:{inner})"
    if op is getattr(_c, "ATOMIC_GROUP", None):
        return "(?:" + _sequence(arg) + ")"
    if op in (_c.MAX_REPEAT, _c.MIN_REPEAT, getattr(_c, "POSSESSIVE_REPEAT", _c.MAX_REPEAT)):
        low, high, items = arg
        inner = "(?:" + _sequence(items) + ")"
        if high is _c.MAXREPEAT:
            return inner + (f"{{{min(low, 1000)},}}" if low > 1 else "*" if low == 0 else "+")
        if high > 1000:
            return inner + f"{{{min(low, 1000)},}}"
        return inner + f"{{{low},{high}}}"
    raise _Untranslatable(str(op))


def relaxed(pattern: re.Pattern[str]) -> str | None:
    """``pattern`` as an RE2 expression that matches wherever it does (and perhaps more);
    None when it has no such translation."""
    if not isinstance(pattern.pattern, str):
        return None
    try:
        parsed = _parser.parse(pattern.pattern, pattern.flags)
        body = _sequence(parsed)
    except (_Untranslatable, re.error, RecursionError):
        return None
    flags = parsed.state.flags
    if flags & ~_FLAGS:
        return None
    return f"(?i:{body})" if flags & re.I else body


class Screen:
    """Which of ``patterns`` may match a text, all decided in one RE2 pass.

    :meth:`possible` gives the indices of the patterns that may match: every pattern whose
    relaxed form matches, and every pattern that could not be relaxed. ``None`` means no
    screening (RE2 missing): any pattern may match.
    """

    def __init__(self, patterns: Sequence[re.Pattern[str]]) -> None:
        self._set = None
        self._usable = _re2 is not None
        self._indices: list[int] = []  # the pattern behind each expression of the set
        always = []
        if self._usable and patterns:
            options = _re2.Options()
            options.max_mem = 64 << 20
            screen = _re2.Set.SearchSet(options)
            for index, pattern in enumerate(patterns):
                source = relaxed(pattern)
                try:
                    if source is None:
                        raise ValueError(pattern.pattern)
                    screen.Add(source)
                except Exception:  # not translatable, or RE2 rejects it: never ruled out
                    always.append(index)
                    continue
                self._indices.append(index)
            try:
                if self._indices:
                    screen.Compile()
                    self._set = screen
            except Exception:  # pragma: no cover - RE2 ran out of its memory budget
                self._usable = False
        self._always = frozenset(always)
        self._memo: dict[tuple[int, ...], frozenset[int]] = {}  # few distinct answers recur

    def possible(self, text: str) -> frozenset[int] | None:
        if not self._usable:
            return None
        if self._set is None:
            return self._always
        try:
            found = self._set.Match(text)
        except UnicodeEncodeError:  # a lone surrogate: RE2 reads UTF-8 only
            return None
        if not found:
            return self._always
        key = tuple(found)
        result = self._memo.get(key)
        if result is None:
            result = self._memo[key] = self._always.union([self._indices[i] for i in found])
        return result


class CueScreen:
    """The screen of a cue set: which (kind, index) of ``patterns`` may match a sentence,
    the kinds in ``as_written`` being searched in the sentence as written, the others in
    its lower-cased copy (as :func:`~citeflow.claims.detect.find_cues` does)."""

    def __init__(self, patterns, as_written: frozenset[str] = frozenset({"statistic"})) -> None:
        keys = [(kind, index) for kind, group in patterns.items()
                for index in range(len(group))]
        self._written_keys = [key for key in keys if key[0] in as_written]
        self._low_keys = [key for key in keys if key[0] not in as_written]
        self._written = Screen([patterns[k][i] for k, i in self._written_keys])
        self._low = Screen([patterns[k][i] for k, i in self._low_keys])
        self._memo: dict[tuple[frozenset[int], frozenset[int]], frozenset[tuple[str, int]]] = {}

    def possible(self, text: str, low: str) -> frozenset[tuple[str, int]] | None:
        """The (kind, index) pairs that may match; None when nothing is screened."""
        written, lowered = self._written.possible(text), self._low.possible(low)
        if written is None or lowered is None:
            return None
        result = self._memo.get((written, lowered))
        if result is None:
            result = self._memo[(written, lowered)] = frozenset(
                [self._written_keys[i] for i in written] + [self._low_keys[i] for i in lowered])
        return result


__all__ = ["CueScreen", "Screen", "relaxed"]
