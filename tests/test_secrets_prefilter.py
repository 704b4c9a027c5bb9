"""The secrets prefilter (hardcheck/audits/secrets/prefilter.py) is an optimisation only:
with it, every detector reports exactly what it reports when asked about every line."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hardcheck.audits.secrets import scan
from hardcheck.audits.secrets.prefilter import required_literals
from hardcheck.audits.secrets.scan import ScanOptions, settings_config

CORPUS = json.loads((Path(__file__).parent / "data" / "secrets" / "detectors.json").read_text())
CASES = [
    (detector, kind, line)
    for detector, cases in CORPUS.items()
    if not detector.startswith("_")
    for kind in ("positive", "negative")
    for line in cases[kind]
]
NOISE = ["import os", "", "    return value  # a comment", "x = 1", "DEBUG = False"]


@pytest.fixture(scope="module")
def pipelines():
    options = ScanOptions()
    scan.init_worker(settings_config(options), b"k" * 32, frozenset(), options)
    return scan._Pipeline(prefilter=True), scan._Pipeline(prefilter=False)


def _found(pipeline, lines: list[str], filename: str = "app/config.py"):
    return sorted(
        (type(plugin).__name__, secret.secret_value or "", secret.line_number)
        for plugin, secret, _ in pipeline.process(list(enumerate(lines, 1)), filename)
    )


def test_every_detector_has_positive_and_negative_cases(pipelines):
    gated, _ = pipelines
    names = {type(p).__name__ for p in gated.plugins}
    assert names <= set(CORPUS), f"detectors without cases: {sorted(names - set(CORPUS))}"
    for name in names:
        assert CORPUS[name]["positive"] and CORPUS[name]["negative"], name


@pytest.mark.parametrize(("detector", "kind", "line"), CASES)
def test_each_case_is_what_the_corpus_says_and_its_line_is_asked(pipelines, detector, kind, line):
    """A positive line is matched by its detector itself (before detect-secrets' filters),
    a negative one is not; wherever the detector matches, its gate marks the line."""
    gated, _ = pipelines
    index = next(i for i, p in enumerate(gated.plugins) if type(p).__name__ == detector)
    plugin = gated.plugins[index]
    matched = plugin.analyze_line(filename="app/config.py", line=line, line_number=1)
    assert bool(matched) == (kind == "positive")
    lines = [*NOISE, line, *NOISE]
    marked = gated.marker.marked(lines)[index]
    if matched:
        assert marked is None or len(NOISE) in marked


@pytest.mark.parametrize("transform", [str, str.upper, str.lower, lambda s: "  é " + s + " ß"])
def test_the_whole_corpus_gives_the_same_findings_with_and_without_the_prefilter(
    pipelines, transform
):
    gated, ungated = pipelines
    lines = [transform(line) for _, _, line in CASES]
    with_prefilter = _found(gated, lines)
    assert with_prefilter == _found(ungated, lines)
    if transform is str:
        assert len(with_prefilter) >= 30  # the corpus does reach the detectors


def test_the_prefilter_asks_about_few_lines_of_ordinary_code(pipelines):
    gated, _ = pipelines
    source = Path(scan.__file__).read_text().splitlines()
    marks = gated.marker.marked([line.rstrip() for line in source])
    asked = sum(len(source) if m is None else len(m) for m in marks)
    assert asked < len(source) * len(marks) / 10


def test_required_literals_are_read_from_the_patterns():
    assert required_literals(re.compile(r"(ghp|gho|ghu)_[A-Za-z0-9_]{36}")) == {
        "ghp_",
        "gho_",
        "ghu_",
    }
    assert required_literals(re.compile(r"api_?key", re.IGNORECASE)) == {"apikey", "api_key"}
    assert required_literals(re.compile(r"\b(AIza[0-9A-Za-z_\-]{35})(?![0-9A-Za-z_\-])")) == {
        "aiza"
    }
    assert required_literals(re.compile(r"[0-9]{8}:[A-Z]{35}")) is None  # no literal: regex gate
    assert required_literals(re.compile(r"ab|cd")) is None  # too short to be worth it


def _denylist_patterns() -> list[re.Pattern[str]]:
    from detect_secrets.settings import default_settings

    with default_settings() as settings_:
        return [
            rx
            for plugin in settings_.plugins
            for rx in getattr(_plugin_class(plugin), "denylist", ())
            if required_literals(rx)
        ]


def _plugin_class(name: str):
    from detect_secrets.core.plugins.util import get_mapping_from_secret_type_to_class

    for cls in get_mapping_from_secret_type_to_class().values():
        if cls.__name__ == name:
            return cls
    return None


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_every_match_of_a_gated_pattern_holds_one_of_its_literals(data):
    patterns = _denylist_patterns()
    assert len(patterns) > 20
    rx = data.draw(st.sampled_from(patterns))
    text = data.draw(st.from_regex(rx))
    match = rx.search(text)
    if match:  # from_regex's text holds a match; the literal must lie inside it
        folded = match.group(0).casefold()
        assert any(lit in folded for lit in required_literals(rx)), (rx.pattern, text)
