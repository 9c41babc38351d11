"""Rule out, in one pass over a text, the regular expressions that cannot match it.

Python's ``re`` tries a long alternation (a cue kind has dozens of phrases) at every
position of a sentence, which makes looking for cues the costliest step of claim detection.
A :class:`Screen` hands the same expressions, *relaxed*, to RE2 (:mod:`re2`, Google's
linear-time engine), which reads the text once for all of them and says which may match:

* anchors and lookarounds are dropped, and word boundaries too except in the spelling for
  ASCII text (where RE2's ASCII boundary is Python's), possessive and lazy repeats become
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
from functools import lru_cache

try:
    import re2 as _re2  # type: ignore[import-untyped]
except ImportError:  # pragma: no cover - exercised only where google-re2 is missing
    _re2 = None

# Python's classes for str patterns, as RE2 classes (word, digit, space): \w is str.isalnum()
# or "_" (letters and every kind of number), \d the decimal digits, \s what str.isspace()
# accepts. On ASCII text the same classes are the ASCII ones, which RE2 compiles far faster.
_UNICODE = (r"\p{L}\p{N}_", r"\p{Nd}",
            r"\t\n\x0b\x0c\r\x1c-\x1f \x{85}\x{a0}\x{1680}\x{2000}-\x{200a}\x{2028}\x{2029}"
            r"\x{202f}\x{205f}\x{3000}")
_ASCII = (r"0-9A-Za-z_", r"0-9", r"\t\n\x0b\x0c\r\x1c-\x1f ")


# Flags that change nothing the translation keeps, or only make Python match less (ASCII).
_FLAGS = re.I | re.U | re.S | re.M | re.X | re.A


class _Untranslatable(Exception):
    pass


# Letters Python's case-insensitive matching takes for an ASCII letter although Unicode's
# simple case folding, which RE2 uses, does not: dotless "ı" for "i", long "ſ" for "s".
_PYTHON_FOLDS = {"i": "\u0131", "s": "\u017f"}


def _literal(code: int) -> str:
    char = chr(code)
    if char.lower() in _PYTHON_FOLDS:  # matching more is allowed: only a superset is asked
        return "[" + char + _escaped(_PYTHON_FOLDS[char.lower()]) + "]"
    return _escaped(char)


def _escaped(char: str) -> str:
    return char if char.isascii() and char.isalnum() else f"\\x{{{ord(char):x}}}"


def _class(items, spell: tuple[str, str, str]) -> str:
    word, digit, space = spell
    negate = False
    out = []
    for op, arg in items:
        if op is _c.NEGATE:
            negate = True
        elif op is _c.LITERAL:
            out.append(_escaped(chr(arg)))
            fold = _PYTHON_FOLDS.get(chr(arg).lower())
            if fold:
                out.append(_escaped(fold))
        elif op is _c.RANGE:
            out.append(_escaped(chr(arg[0])) + "-" + _escaped(chr(arg[1])))
            out += [_escaped(fold) for letter, fold in _PYTHON_FOLDS.items()
                    if arg[0] <= ord(letter) <= arg[1] or arg[0] <= ord(letter.upper()) <= arg[1]]
        elif op is _c.CATEGORY and arg is _c.CATEGORY_WORD:
            out.append(word)
        elif op is _c.CATEGORY and arg is _c.CATEGORY_DIGIT:
            out.append(digit)
        elif op is _c.CATEGORY and arg is _c.CATEGORY_SPACE:
            out.append(space)
        elif op is _c.CATEGORY and not negate and arg is _c.CATEGORY_NOT_WORD:
            out.append(r"\W")  # RE2's \W, \D and \S hold more than Python's: still a superset
        elif op is _c.CATEGORY and not negate and arg is _c.CATEGORY_NOT_DIGIT:
            out.append(r"\D")
        elif op is _c.CATEGORY and not negate and arg is _c.CATEGORY_NOT_SPACE:
            out.append(r"\S")
        else:
            raise _Untranslatable(str(op))
    return "[" + ("^" if negate else "") + "".join(out) + "]"


def _sequence(items, spell: tuple[str, str, str]) -> str:
    return "".join(_node(op, arg, spell) for op, arg in items)


_ASCII_BOUNDARIES = {_c.AT_BOUNDARY: r"\b", _c.AT_NON_BOUNDARY: r"\B"}


def _node(op, arg, spell: tuple[str, str, str]) -> str:
    if op is _c.LITERAL:
        return _literal(arg)
    if op is _c.NOT_LITERAL:
        return "[^" + _literal(arg) + "]"
    if op is _c.IN:
        return _class(arg, spell)
    if op is _c.ANY:
        return "(?s:.)"
    if op is _c.AT and spell is _ASCII and arg in _ASCII_BOUNDARIES:
        # In ASCII text RE2's ASCII word boundary is Python's: kept, it rules out far more
        # (a phrase inside a longer word).
        return _ASCII_BOUNDARIES[arg]
    if op in (_c.AT, _c.ASSERT, _c.ASSERT_NOT):
        return ""
    if op is _c.BRANCH:
        return "(?:" + "|".join(_sequence(branch, spell) for branch in arg[1]) + ")"
    if op is _c.SUBPATTERN:
        _, add, remove, items = arg
        inner = _sequence(items, spell)
        if (add | remove) & ~_FLAGS:
            raise _Untranslatable("flags")
        on = "i" if add & re.I else ""
        off = "-i" if remove & re.I else ""
        return f"(?{on}{off}:{inner})"
    if op is getattr(_c, "ATOMIC_GROUP", None):
        return "(?:" + _sequence(arg, spell) + ")"
    if op in (_c.MAX_REPEAT, _c.MIN_REPEAT, getattr(_c, "POSSESSIVE_REPEAT", _c.MAX_REPEAT)):
        low, high, items = arg
        inner = "(?:" + _sequence(items, spell) + ")"
        if high is _c.MAXREPEAT:
            return inner + (f"{{{min(low, 1000)},}}" if low > 1 else "*" if low == 0 else "+")
        if high > 1000:
            return inner + f"{{{min(low, 1000)},}}"
        return inner + f"{{{low},{high}}}"
    raise _Untranslatable(str(op))


@lru_cache(maxsize=256)
def _parsed(source: str, flags: int):
    """The parse tree of an expression (read once for both spellings of the classes)."""
    return _parser.parse(source, flags)


def relaxed(pattern: re.Pattern[str], ascii_text: bool = False) -> str | None:
    """``pattern`` as an RE2 expression that matches wherever it does (and perhaps more) in
    any text, or with ``ascii_text`` in any ASCII text; None when it has no such translation."""
    if not isinstance(pattern.pattern, str):
        return None
    try:
        parsed = _parsed(pattern.pattern, pattern.flags)
        body = _sequence(parsed, _ASCII if ascii_text else _UNICODE)
    except (_Untranslatable, re.error, RecursionError):
        return None
    flags = parsed.state.flags
    if flags & ~_FLAGS:
        return None
    return f"(?i:{body})" if flags & re.I else body


class _Compiled:
    """One RE2 set of relaxed patterns, and the patterns it could not hold."""

    def __init__(self, patterns: Sequence[re.Pattern[str]], ascii_text: bool) -> None:
        self.set = None
        self.usable = True
        self.indices: list[int] = []  # the pattern behind each expression of the set
        always = []
        options = _re2.Options()
        options.max_mem = 64 << 20
        screen = _re2.Set.SearchSet(options)
        for index, pattern in enumerate(patterns):
            source = relaxed(pattern, ascii_text)
            try:
                if source is None:
                    raise ValueError(pattern.pattern)
                screen.Add(source)
            except Exception:  # not translatable, or RE2 rejects it: never ruled out
                always.append(index)
                continue
            self.indices.append(index)
        try:
            if self.indices:
                screen.Compile()
                self.set = screen
        except Exception:  # pragma: no cover - RE2 ran out of its memory budget
            self.usable = False
        self.always = frozenset(always)
        self.memo: dict[tuple[int, ...], frozenset[int]] = {}  # few distinct answers recur


class Screen:
    """Which of ``patterns`` may match a text, all decided in one RE2 pass.

    :meth:`possible` gives the indices of the patterns that may match: every pattern whose
    relaxed form matches, and every pattern that could not be relaxed. ``None`` means no
    screening (RE2 missing): any pattern may match. ASCII text is read with the ASCII
    spelling of the classes; the Unicode spelling is compiled on the first other text.
    """

    def __init__(self, patterns: Sequence[re.Pattern[str]]) -> None:
        self._patterns = list(patterns)
        self._usable = _re2 is not None
        self._ascii = _Compiled(self._patterns, True) if self._usable and patterns else None
        self._unicode: _Compiled | None = None

    def possible(self, text: str) -> frozenset[int] | None:
        if not self._usable:
            return None
        if not self._patterns:
            return frozenset()
        if text.isascii():
            compiled = self._ascii
        else:
            if self._unicode is None:
                self._unicode = _Compiled(self._patterns, False)
            compiled = self._unicode
        assert compiled is not None
        if not compiled.usable:
            return None
        if compiled.set is None:
            return compiled.always
        try:
            found = compiled.set.Match(text)
        except UnicodeEncodeError:  # a lone surrogate: RE2 reads UTF-8 only
            return None
        if not found:
            return compiled.always
        key = tuple(found)
        result = compiled.memo.get(key)
        if result is None:
            result = compiled.memo[key] = compiled.always.union([compiled.indices[i] for i in found])
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
