"""The commented starter config written by `hardcheck init`."""

STARTER_CONFIG = """\
# hardcheck configuration. Keys may also live under [tool.hardcheck] in pyproject.toml.
# Reference: `hardcheck schema config`; every rule: `hardcheck rules`, `hardcheck explain ID`.

# Lowest severity that makes `hardcheck audit` exit 1: critical, high, medium, low, info.
fail-on = "high"

# What this tree is deployed as: production, staging or development.
# development downgrades debug-mode findings to info.
environment = "production"

# gitignore-style patterns. Exclusions apply to every audit.
# exclude = ["docs/", "tests/fixtures/"]
# include = []

# Files larger than this are skipped (and reported as skipped) by content audits.
# max-file-size = "2MiB"

# Seconds each audit may run before it is reported as an error.
# timeout = 600

# Who owns what: an audit name or a rule id -> a team. Rule ids win over audit names.
[owners]
# permissions = "platform-team"
# APP001 = "backend-team"

# Lynis-style expected modes for a deployed tree: mode is exact, max-mode a ceiling.
[permissions.expected-modes]
# ".env" = { mode = "0600", owner = "app" }
# "certs/*.key" = { max-mode = "0640", group = "ssl-cert" }

# Suppressions need a reason; an expired one stops suppressing and is reported.
# [[suppress]]
# rule = "APP004"
# path = "public_api/app.py"
# reason = "public read-only API, no cookies or auth"
# expires = 2027-06-30
"""


def as_pyproject(text: str = STARTER_CONFIG) -> str:
    """The same starter as a `[tool.hardcheck]` section: every table header gets the prefix."""
    import re

    body = re.sub(r"^(# )?\[\[([^\]]+)\]\]", r"\1[[tool.hardcheck.\2]]", text, flags=re.M)
    body = re.sub(r"^(# )?\[([^\[\]]+)\]$", r"\1[tool.hardcheck.\2]", body, flags=re.M)
    lines = body.splitlines(keepends=True)
    # keep the leading comment block, then open the section
    after_intro = next(i for i, ln in enumerate(lines) if not ln.strip()) + 1
    return "".join([*lines[:after_intro], "[tool.hardcheck]\n", *lines[after_intro:]])
