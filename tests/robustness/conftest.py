"""The robustness suite: fuzzed parsers, hostile trees, injected faults. It prints one
line at the end with what it exercised. HYPOTHESIS_PROFILE=long runs 20x the examples."""

from __future__ import annotations

import os
from collections import Counter

from hypothesis import HealthCheck, settings

settings.register_profile(
    "ci",
    max_examples=150,
    deadline=2000,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
settings.register_profile(
    "long",
    max_examples=3000,
    deadline=5000,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))

STATS: dict = {"fuzz": Counter(), "trees": 0, "faults": 0, "attacks": 0}
# the regression tests of attacks that once worked (#18): counted when they pass
ATTACK_FILES = ("test_attacks.py", "test_yaml_bombs.py", "test_config_ceilings.py")


def pytest_runtest_logreport(report) -> None:
    if (
        report.when == "call"
        and report.passed
        and report.nodeid.split("::")[0].endswith(ATTACK_FILES)
    ):
        STATS["attacks"] += 1


def pytest_terminal_summary(terminalreporter, exitstatus, config) -> None:
    fuzz = STATS["fuzz"]
    if not (fuzz or STATS["trees"] or STATS["faults"] or STATS["attacks"]):
        return
    parsers = ", ".join(f"{name} {n}" for name, n in sorted(fuzz.items()))
    verdict = "all passing" if exitstatus == 0 else "WITH FAILURES"
    terminalreporter.write_line(
        f"robustness: {sum(fuzz.values())} fuzz examples over {len(fuzz)} parsers ({parsers}); "
        f"{STATS['trees']} hostile trees survived; {STATS['faults']} faults injected; "
        f"{STATS['attacks']} past attacks held — {verdict}"
    )
