"""The secrets prefilter: which lines of a file each detector could report on.

detect-secrets asks every plugin about every line, which was most of its time. Here each
plugin gets a *gate*, a necessary condition (never a sufficient one) for it to find a
secret in a line:

- literals, one of which every match of the plugin's regexes contains (read from the
  parsed patterns: `AKIA`, `ghp_`, `-----BEGIN`, the keyword detector's words), found for
  all plugins at once by one Aho-Corasick pass over the file's case-folded text, as gitleaks
  does with its keyword lists;
- otherwise the plugin's own regexes, run once over the whole text (entropy strings: a
  quoted run long enough to pass the entropy limit);
- otherwise none: the plugin is asked about every line.

A plugin is then asked only about the lines its gate marked, so it reports exactly what it
would report if asked about every line. Why a whole-text search marks the lines a per-line
search would: a match inside one line is also a match of the multi-line pattern over the
joined text, because `^`/`$` match at newlines and a newline is a non-word character, as a
line's edge is. Negative lookarounds and `\\A`/`\\Z` can tell the two apart, so such a
pattern is gated by its literals or not at all.
"""

from __future__ import annotations

import math
import re
from bisect import bisect_right
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import ahocorasick

try:  # the parser behind `re`: no library exposes the literals a pattern requires
    from re import _parser as sre_parse  # type: ignore[attr-defined]
except ImportError:  # Python < 3.11
    import sre_parse

# Constructs that see a line's start or end differently from a newline in the whole text.
_LINE_LOCAL = ("(?<!", "(?!", "\\A", "\\Z")
_MIN_LITERAL = 3  # a shorter literal would mark nearly every line
_MAX_VARIANTS = 1024  # `api_?key` is two literals; Cloudant's `(cloudant|cl|clou)(_|-|)…` 648
_IPV4 = re.compile(r"[0-9]{1,3}\.[0-9]{1,3}\.[0-9]{1,3}\.[0-9]")
_REPEATS = ("MAX_REPEAT", "MIN_REPEAT", "POSSESSIVE_REPEAT")


@dataclass
class Gate:
    literals: set[str] = field(default_factory=set)  # case-folded
    regexes: list[re.Pattern[str]] = field(default_factory=list)  # multi-line


def plugin_gate(plugin: Any) -> Gate | None:
    """The gate of one detect-secrets plugin instance, or None (ask about every line)."""
    from detect_secrets.plugins.base import BasePlugin, RegexBasedDetector
    from detect_secrets.plugins.high_entropy_strings import HighEntropyStringsPlugin
    from detect_secrets.plugins.ip_public import IPPublicDetector
    from detect_secrets.plugins.jwt import JwtTokenDetector
    from detect_secrets.plugins.keyword import DENYLIST, KeywordDetector

    cls = type(plugin)
    if cls is KeywordDetector:
        # every one of its regexes holds one of DENYLIST's words (some case-sensitively)
        return _gate([re.compile("|".join(DENYLIST), re.IGNORECASE)])
    if isinstance(plugin, HighEntropyStringsPlugin):
        if (
            cls.analyze_line is not HighEntropyStringsPlugin.analyze_line
            or cls.analyze_string is not HighEntropyStringsPlugin.analyze_string
        ):
            return None
        return Gate(regexes=[_entropy_gate(plugin.charset, plugin.entropy_limit)])
    if cls is JwtTokenDetector:
        return _gate(plugin.denylist)  # it filters its regex's matches
    if cls is IPPublicDetector:
        # its pattern's lookarounds ([\w.] on either side) cannot match a newline, but
        # proving that in general would need the pattern's text back from its parse: every
        # match holds four dotted octets of one to three ASCII digits
        return Gate(regexes=[_IPV4])
    if not (
        isinstance(plugin, RegexBasedDetector)
        and cls.analyze_string is RegexBasedDetector.analyze_string
        and cls.analyze_line is BasePlugin.analyze_line
    ):
        return None
    return _gate(plugin.denylist)


def _gate(denylist: Iterable[re.Pattern[Any]]) -> Gate | None:
    gate = Gate()
    for rx in denylist:
        if not isinstance(rx.pattern, str):
            return None
        literals = required_literals(rx)
        if literals:
            gate.literals.update(literals)
        elif not any(c in rx.pattern for c in _LINE_LOCAL):
            gate.regexes.append(re.compile(rx.pattern, rx.flags | re.MULTILINE))
        else:
            return None  # one ungated regex: every line must be asked
    return gate


def _entropy_gate(charset: str, limit: float) -> re.Pattern[str]:
    """The plugin reports a quoted run of `charset` whose Shannon entropy exceeds `limit`.
    A string of n characters has entropy at most log2(n), so a run shorter than 2**limit
    never does; the floor keeps a run of exactly 2**limit (rounding could tip it over)."""
    shortest = max(1, math.floor(2**limit))
    return re.compile(rf"([\'\"])[{re.escape(charset)}]{{{shortest},}}\1")


def required_literals(rx: re.Pattern[str]) -> set[str] | None:
    """Case-folded literals one of which every match of `rx` contains, or None."""
    try:
        parsed = sre_parse.parse(rx.pattern, rx.flags)
    except Exception:
        return None
    alternatives = _required(parsed)
    if not alternatives or min(len(a) for a in alternatives) < _MIN_LITERAL:
        return None
    return {a.casefold() for a in alternatives}


def _exact(op: str, av: Any) -> list[str] | None:
    """The strings one parsed item matches, when they are few and known; else None."""
    if op == "LITERAL":
        return [chr(av)]
    if op == "IN" and all(str(o) == "LITERAL" for o, _ in av):
        return [chr(v) for _, v in av]
    if op == "SUBPATTERN":
        return _exact_sequence(av[-1])
    if op == "BRANCH":
        out: list[str] = []
        for branch in av[1]:
            strings = _exact_sequence(branch)
            if strings is None:
                return None
            out += strings
        return out if len(out) <= _MAX_VARIANTS else None
    if op in _REPEATS and av[1] <= 2:
        strings = _exact_sequence(av[2])
        if strings is None:
            return None
        out = [""] if av[0] == 0 else []
        for count in range(max(av[0], 1), av[1] + 1):
            out += _products([strings] * count)
        return out if len(out) <= _MAX_VARIANTS else None
    return None


def _exact_sequence(sequence: Iterable[tuple[Any, Any]]) -> list[str] | None:
    parts = []
    for op, av in sequence:
        strings = _exact(str(op), av)
        if strings is None:
            return None
        parts.append(strings)
    product = _products(parts)
    return product if len(product) <= _MAX_VARIANTS else None


def _products(parts: list[list[str]]) -> list[str]:
    out = [""]
    for strings in parts:
        out = [a + b for a in out for b in strings]
        if len(out) > _MAX_VARIANTS:
            return out  # the caller refuses it
    return out


def _required(sequence: Iterable[tuple[Any, Any]]) -> list[str] | None:
    """Alternatives, one of which is in every match of a parsed sequence: the best of its
    runs of exactly-known items (`api_?key`), required groups, repeats and branches."""
    candidates: list[list[str]] = []
    run = [""]

    def close_run() -> None:
        nonlocal run
        if all(run):
            candidates.append(run)
        run = [""]

    for op, av in sequence:
        name = str(op)
        strings = _exact(name, av)
        if strings is not None and len(run) * len(strings) <= _MAX_VARIANTS:
            run = [a + b for a in run for b in strings]
            continue
        close_run()
        sub: list[str] | None = None
        if name == "SUBPATTERN":
            sub = _required(av[-1])
        elif name in _REPEATS and av[0] >= 1:
            sub = _required(av[2])
        elif name == "BRANCH":
            sub = []
            for branch in av[1]:
                found = _required(branch)
                if found is None:
                    sub = None
                    break
                sub += found
        if sub:
            candidates.append(sub)
    close_run()
    if not candidates:
        return None
    return max(candidates, key=lambda alts: (min(len(a) for a in alts), -len(alts)))


class LineMarker:
    """Marks, for each gate of a pipeline, the lines of a text it lets through."""

    def __init__(self, gates: list[Gate | None]):
        self.gates = gates
        self.automaton: Any = None
        owners: dict[str, list[int]] = {}
        for index, gate in enumerate(gates):
            for literal in gate.literals if gate else ():
                owners.setdefault(literal, []).append(index)
        if owners:
            self.automaton = ahocorasick.Automaton()
            for literal, indexes in owners.items():
                self.automaton.add_word(literal, tuple(indexes))
            self.automaton.make_automaton()

    def marked(self, lines: list[str]) -> list[list[int] | None]:
        """For each gate, the sorted indexes of the lines it marks (None: every line)."""
        marks: list[set[int]] = [set() for _ in self.gates]
        whole = "\n".join(lines)
        starts: list[int] = []  # each line's offset in `whole`, computed on the first match
        if self.automaton is not None:
            folded_lines = lines if whole.isascii() else [line.casefold() for line in lines]
            # ASCII lower-casing keeps every offset; case-folding may not, so line by line
            folded = whole.lower() if folded_lines is lines else "\n".join(folded_lines)
            folded_starts: list[int] = []
            for end, indexes in self.automaton.iter(folded):
                folded_starts = folded_starts or _starts(folded_lines)
                line = bisect_right(folded_starts, end) - 1
                for index in indexes:
                    marks[index].add(line)
        for index, gate in enumerate(self.gates):
            for rx in gate.regexes if gate else ():
                for m in rx.finditer(whole):
                    starts = starts or _starts(lines)
                    # every line a match spans: a later match beginning inside this one,
                    # which finditer does not report, starts on one of them
                    first = bisect_right(starts, m.start()) - 1
                    last = bisect_right(starts, max(m.start(), m.end() - 1)) - 1
                    marks[index].update(range(first, last + 1))
        return [None if gate is None else sorted(mark) for gate, mark in zip(self.gates, marks)]


def _starts(lines: list[str]) -> list[int]:
    starts, offset = [], 0
    for text in lines:
        starts.append(offset)
        offset += len(text) + 1
    return starts
