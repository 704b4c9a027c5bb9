"""The secrets engine: detect-secrets as a library, run in worker processes.

Each worker configures detect-secrets' process-global settings once (they are not
thread-safe), reads every file of its chunk exactly once, and returns only locations,
detector names, severities and keyed-hash prefixes. Secret values never leave this module:
not in return values, not in exceptions, not in logs (detect-secrets' own logger prints
values at debug level, so it is silenced).

What hardcheck adds to a plain `scan_file`: files that are not UTF-8 are decoded as
Latin-1 instead of being skipped whole; `.env` files are parsed here (one `%` makes
detect-secrets' config transformer drop the whole file); Python files are also read
through the AST for hard-coded framework secrets; verification over the network is never
enabled.
"""

from __future__ import annotations

import ast
import dataclasses
import io
import logging
import os
import re
import stat
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

from ...cache import digest_bytes
from ...inventory import is_binary, utf16_text
from ...readers import yamlsafe
from ...readers.pyast import PARSE_LOCK
from ...redact import keyed_id
from .prefilter import LineMarker, plugin_gate

if TYPE_CHECKING:
    from detect_secrets.types import NamedIO

PLUGIN_FILE = Path(__file__).with_name("plugins.py")
FILTER_FILE = Path(__file__).with_name("filters.py")
INLINE_COMMENT = re.compile(r"\s*(#|//|--|;)\s*hardcheck:\s*ignore\[[^\]]*\].*$")
VERIFICATION_FILTER = "detect_secrets.filters.common.is_ignored_due_to_verification_policies"
HARDCHECK_PLUGINS = (
    "StripeAnyKeyDetector",
    "GoogleApiKeyDetector",
    "OpenAIProjectKeyDetector",
    "GitHubFineGrainedTokenDetector",
    "AccessTokenAssignmentDetector",
)
CRITICAL_PLUGINS = {
    "AWSKeyDetector",
    "AzureStorageKeyDetector",
    "PrivateKeyDetector",
    "GitHubTokenDetector",
    "GitHubFineGrainedTokenDetector",
    "GitLabTokenDetector",
    "SlackDetector",
    "StripeDetector",
    "StripeAnyKeyDetector",
    "GoogleApiKeyDetector",
    "OpenAIDetector",
    "OpenAIProjectKeyDetector",
    "TwilioKeyDetector",
    "SendGridDetector",
    "MailchimpDetector",
    "NpmDetector",
    "PypiTokenDetector",
    "TelegramBotTokenDetector",
    "DiscordBotTokenDetector",
    "ArtifactoryDetector",
    "CloudantDetector",
    "IbmCloudIamDetector",
    "IbmCosHmacDetector",
    "SoftlayerDetector",
    "SquareOAuthDetector",
}
MEDIUM_PLUGINS = {"Base64HighEntropyString", "HexHighEntropyString"}
INFO_PLUGINS = {"IPPublicDetector"}
SEVERITY_RANK = {"info": 0, "low": 1, "medium": 2, "high": 3, "critical": 4}

ENV_SECRET_KEY = re.compile(
    r"(?i)(secret|passw|pwd|token|api_?key|private_?key|credential|auth|dsn|access_?key|signing)"
)
ENV_LINE = re.compile(r"^\s*(?:export\s+)?([A-Za-z_][A-Za-z0-9_.\-]*)\s*=\s*(.*?)\s*$")
URL_PASSWORD = re.compile(
    r"\b[a-z][a-z0-9+.\-]*://[^:/\s@'\"]+:([^@\s/'\"]+)@[^\s'\"]+", re.IGNORECASE
)
PROVIDER_KEY = re.compile(
    r"(?i)(aws|azure|gcp|google|stripe|github|gitlab|slack|openai|twilio|sendgrid|mailchimp|npm|pypi)"
)
PY_MARKERS = (
    "SECRET",
    "secret",
    "PASSWORD",
    "jwt",
    "JWT",
    "://",
    "_KEY",
    "Fernet",
    "AES",
    "ChaCha",
)
SECRET_NAME = re.compile(r"^(?:[A-Z0-9]+_)*(?:SECRET|SECRET_KEY|SIGNING_KEY|JWT_SECRET(?:_KEY)?)$")
# symmetric encryption keys: whoever holds one reads everything it encrypted, like a private key
ENCRYPTION_KEY_NAME = re.compile(r"^(?:[A-Z0-9]+_)*(?:ENCRYPTION|FERNET|AES|CIPHER|CRYPT)_KEY$")
ENCRYPTION_CALLS = {"Fernet", "AESGCM", "ChaCha20Poly1305", "AESCCM", "AESSIV", "AESOCB3"}
ENV_READERS = {"getenv", "get", "env", "config", "str", "bool", "int"}


@dataclass
class Hit:
    rel: str
    line: int
    rule: str  # SEC001 (detector) or SEC003 (framework secret in code)
    detectors: list[str]
    severity: str
    kid: str  # keyed-hash prefix
    ds_hash: str = ""  # detect-secrets' own SHA-1, kept only to match a baseline; never reported
    what: str = ""
    commit: str = ""
    repeats: int = 0  # further lines of the same file holding the same value


@dataclass
class ChunkResult:
    hits: list[Hit] = field(default_factory=list)
    skipped: list[tuple[str, str, str]] = field(default_factory=list)  # (rel, kind, why)
    errors: list[tuple[str, str]] = field(default_factory=list)  # (rel, why)
    counts: dict[str, int] = field(default_factory=dict)

    def count(self, key: str, n: int = 1) -> None:
        self.counts[key] = self.counts.get(key, 0) + n


@dataclass(frozen=True)
class ScanOptions:
    plugins: tuple[str, ...] = ()  # empty: all of detect-secrets' plus hardcheck's
    disable_plugins: tuple[str, ...] = ()
    patterns: tuple[tuple[str, str], ...] = ()  # (name, regex with one group)
    keywords: tuple[str, ...] = ()
    max_file_size: int = 2 * 1024 * 1024


_STATE: dict[str, Any] = {}


def settings_config(options: ScanOptions) -> dict:
    """A baseline-shaped settings dict: detect-secrets' defaults, hardcheck's plugins and
    filters, and never the verification filter (no network)."""
    from detect_secrets.settings import default_settings

    with default_settings() as settings:
        defaults = settings.json()
    # once hardcheck's plugins are registered in a process, detect-secrets' defaults list them
    # too (without their path): leave them to the line below so every call gives one list
    plugins = [
        p
        for p in defaults["plugins_used"]
        if p["name"] not in options.disable_plugins and p["name"] not in HARDCHECK_PLUGINS
    ]
    plugins += [
        {"name": name, "path": PLUGIN_FILE.as_uri()}
        for name in HARDCHECK_PLUGINS
        if name not in options.disable_plugins
    ]
    if options.plugins:
        plugins = [p for p in plugins if p["name"] in options.plugins]
    filters = [f for f in defaults["filters_used"] if f["path"] != VERIFICATION_FILTER]
    filters += [
        {"path": f"{FILTER_FILE.as_uri()}::is_placeholder"},
        {"path": f"{FILTER_FILE.as_uri()}::is_keyless_private_key"},
        {"path": f"{FILTER_FILE.as_uri()}::is_digest_or_revision"},
    ]
    return {"plugins_used": plugins, "filters_used": filters}


def init_worker(config: dict, key: bytes, false_positives: frozenset, options: ScanOptions) -> None:
    """Configure this process once. Also used in-process for small trees."""
    ds_log = logging.getLogger("detect-secrets")
    ds_log.setLevel(logging.CRITICAL + 1)
    ds_log.propagate = False
    from detect_secrets.core.plugins.util import get_mapping_from_secret_type_to_class
    from detect_secrets.settings import configure_settings_from_baseline, get_settings

    get_mapping_from_secret_type_to_class.cache_clear()
    configure_settings_from_baseline(config)
    assert VERIFICATION_FILTER not in get_settings().filters  # never send secrets anywhere
    _STATE.pop("pipeline", None)
    _STATE.update(
        key=key,
        false_positives=false_positives,
        options=options,
        patterns=[(name, re.compile(rx)) for name, rx in options.patterns]
        + [
            (
                f"keyword {kw}",
                re.compile(rf"(?i)\b{re.escape(kw)}\b\s*[:=]\s*[\"']?([^\s\"',;]{{6,}})"),
            )
            for kw in options.keywords
        ],
    )


def _severity(plugin: str, value: str) -> str:
    if plugin in CRITICAL_PLUGINS:
        if value.startswith(("sk_test_", "rk_test_")):
            return "medium"  # test-mode keys reach test data only
        return "critical"
    if plugin in MEDIUM_PLUGINS:
        return "medium"
    if plugin in INFO_PLUGINS:
        return "info"
    return "high"


def _allowlisted(lines: list[str], index: int) -> bool:
    line = lines[index]
    if "pragma: allowlist secret" in line:
        return True
    return index > 0 and "pragma: allowlist nextline secret" in lines[index - 1]


class _Collector:
    """One hit per secret value per file (as detect-secrets' collection de-duplicates):
    the first line, every detector that saw it, the worst severity, and a repeat count."""

    def __init__(self, rel: str, result: ChunkResult):
        self.rel = rel
        self.result = result
        self.by_key: dict[str, Hit] = {}
        self._values: dict[str, str] = {}  # kid -> value, in this worker's memory only

    def _overlapping(self, line: int, value: str) -> Hit | None:
        """A hit on the same line whose value contains this one or is contained in it:
        two detectors matching different spans of one token (Stripe's 24-char match)."""
        for kid, hit in self.by_key.items():
            other = self._values[kid]
            if hit.line == line and (value in other or other in value):
                return hit
        return None

    def add(
        self,
        line: int,
        plugin: str,
        value: str,
        rule: str = "SEC001",
        what: str = "",
        ds_hash: str = "",
        severity: str = "",
    ) -> None:
        fps = _STATE["false_positives"]
        if ds_hash and (self.rel, ds_hash) in fps:
            self.result.count("baseline_false_positives")
            return
        kid = keyed_id(value, _STATE["key"])
        severity = severity or _severity(plugin, value)
        hit = self.by_key.get(kid) or self._overlapping(line, value)
        if hit is None:
            self.by_key[kid] = Hit(self.rel, line, rule, [plugin], severity, kid, ds_hash, what)
            self._values[kid] = value
            return
        if hit.kid != kid and len(value) > len(self._values[hit.kid]):
            # name the merged hit by the longer (whole) value
            del self.by_key[hit.kid]
            self._values.pop(hit.kid)
            hit.kid = kid
            self.by_key[kid] = hit
            self._values[kid] = value
        if line != hit.line and plugin == hit.detectors[0]:
            hit.repeats += 1
        hit.line = min(hit.line, line)
        if plugin not in hit.detectors:
            hit.detectors.append(plugin)
        if rule == "SEC003":
            hit.rule, hit.what = rule, what  # the framework finding says how to fix it
        if SEVERITY_RANK[severity] > SEVERITY_RANK[hit.severity]:
            hit.severity = severity

    def has_line(self, line: int) -> bool:
        return any(hit.line == line for hit in self.by_key.values())

    def done(self) -> None:
        self.result.hits.extend(sorted(self.by_key.values(), key=lambda h: (h.line, h.kid)))


class _Pipeline:
    """detect-secrets' `_process_line_based_plugins`, with its arguments bound once.

    Upstream resolves every plugin's and filter's parameters through `inspect` on each call
    (`call_function_with_arguments`): measured, that is three quarters of its scan time.
    Here each filter's injectable names are looked up once per process; plugins are called
    with the four arguments their `analyze_line` takes. Order and semantics are upstream's:
    line filters, then each plugin, then secret filters, then context filters.
    """

    def __init__(self, prefilter: bool = True) -> None:
        from detect_secrets.core.scan import get_filters_with_parameter
        from detect_secrets.settings import get_plugins

        def bound(*required: str) -> list[tuple[Any, tuple[str, ...]]]:
            return [
                (f, tuple(f.injectable_variables)) for f in get_filters_with_parameter(*required)
            ]

        # detect-secrets' order follows its settings' registration, which differs between
        # the first configuration in a process and later ones: a hit's detectors (and the
        # first of them, its upstream id) would too. Sorted, every run names them alike.
        self.plugins = sorted(get_plugins(), key=lambda p: type(p).__name__)
        self.use_gates(prefilter)
        self.line_filters = bound("line")
        self.secret_filters = bound("secret")
        self.context_filters = bound("context")

    def use_gates(self, prefilter: bool) -> None:
        """With `prefilter` off every plugin is asked about every line, as upstream does."""
        gates = [plugin_gate(p) if prefilter else None for p in self.plugins]
        self.marker = LineMarker(gates)

    @staticmethod
    def _filtered(filters: list[tuple[Any, tuple[str, ...]]], kwargs: dict[str, Any]) -> bool:
        for fn, names in filters:
            try:
                if fn(**{k: kwargs[k] for k in names if k in kwargs}):
                    return True
            except TypeError:
                pass  # upstream skips filters whose parameters are not all available
        return False

    def process(self, lines: list[tuple[int, str]], filename: str):
        """Upstream's per-line pipeline, asking each plugin only about the lines its
        prefilter gate marks (see prefilter.py); the same results as asking about all."""
        from detect_secrets.util.code_snippet import get_code_snippet

        content = [text for _, text in lines]
        stripped = [text.rstrip() for text in content]
        asked: dict[int, list[Any]] = {}
        for plugin, marked in zip(self.plugins, self.marker.marked(stripped)):
            for index in range(len(lines)) if marked is None else marked:
                asked.setdefault(index, []).append(plugin)
        for index in sorted(asked):
            number, line = lines[index][0], stripped[index]
            snippet = get_code_snippet(lines=content, line_number=number)
            candidates = [
                (plugin, secret)
                for plugin in asked[index]
                for secret in plugin.analyze_line(
                    filename=filename, line=line, line_number=number, context=snippet
                )
                or ()
            ]
            # Line filters are pure functions of the line, as plugins are: asking them only
            # about lines that have candidates gives upstream's result at a fraction of the cost.
            # The filters judge the line without a trailing `# hardcheck: ignore[…] reason`:
            # "…: ignore[SEC001]" reads as an indirect reference (`x = y[…]`) to
            # detect-secrets, which dropped the secret before the inline-ignore rules (a
            # reason required, listed as suppressed) could apply.
            judged = INLINE_COMMENT.sub("", line)
            if not candidates or self._filtered(
                self.line_filters, {"filename": filename, "line": judged, "context": snippet}
            ):
                continue
            for plugin, secret in candidates:
                args = {
                    "filename": secret.filename,
                    "secret": secret.secret_value,
                    "plugin": plugin,
                    "line": line,
                }
                if self._filtered(self.secret_filters, args):
                    continue
                if self._filtered(self.context_filters, {**args, "context": snippet}):
                    continue
                yield plugin, secret, line


def _pipeline() -> _Pipeline:
    if "pipeline" not in _STATE:
        _STATE["pipeline"] = _Pipeline()
    return _STATE["pipeline"]


def _full_value(plugin: Any, value: str, line: str) -> str:
    """Some upstream regexes capture only a prefix (GitHub's `(ghp|gho|…)_…` yields "ghp"):
    name the secret by the whole match that holds the fragment, so two tokens differ."""
    for rx in getattr(plugin, "denylist", ()):
        for m in rx.finditer(line):
            if (
                value in m.groups()
                and m.group(0).startswith(value)
                and len(m.group(0)) > len(value)
            ):
                return m.group(0)
    return value


COMMENT_START = ("#", "//", "-- ", ";", "/*", "<!--", "rem ", "REM ")  # not "-----BEGIN"
SEVERITY_BELOW = {"critical": "high", "high": "medium", "medium": "low", "low": "info"}


def _detect_secrets_lines(abs_path: str, lines: list[tuple[int, str]], out: _Collector) -> bool:
    found = False
    for plugin, secret, line in _pipeline().process(lines, abs_path):
        found = True
        value = _full_value(plugin, secret.secret_value or "", line)
        if value != secret.secret_value and _is_placeholder(value):
            continue  # upstream's filters saw only a prefix ("ghp"); the whole token is a placeholder
        name = type(plugin).__name__
        if line.lstrip().startswith(COMMENT_START):
            # commented out: maybe stale, maybe still valid; a step lower, and said so
            out.add(
                secret.line_number, name, value, what="in a comment",
                ds_hash=secret.secret_hash, severity=SEVERITY_BELOW[_severity(name, value)],
            )  # fmt: skip
        else:
            out.add(secret.line_number, name, value, ds_hash=secret.secret_hash)
    return found


YAML_VALUE_LIMIT = 50_000
_YAML_SEPARATORS = ",:-[]{}\n"


def yaml_too_large(text: str) -> bool:
    """True for YAML that makes more than YAML_VALUE_LIMIT values, aliases expanded (a
    "billion laughs" file, or a 150,000-item list). detect-secrets' YAML transformer is
    pure Python and walks every alias as if expanded: 9 levels of 9 references took it
    50 s, a 150,000-item list 5 s. Such a file is scanned line by line instead. Without
    aliases a document has no more values than separators, so most files are not parsed."""
    if "*" not in text and sum(text.count(c) for c in _YAML_SEPARATORS) < YAML_VALUE_LIMIT:
        return False
    return yamlsafe.expands_past(text, YAML_VALUE_LIMIT)


def _scan_with_detect_secrets(abs_path: str, text: str, raw_only: bool, out: _Collector) -> None:
    """detect-secrets' scan_file, on text hardcheck has already read: filename filters,
    then the transformed lines, then (if nothing was found) the eager transformers."""
    from detect_secrets.core.scan import _is_filtered_out
    from detect_secrets.transformers import get_transformed_file

    if _is_filtered_out(required_filter_parameters=["filename"], filename=abs_path):
        return
    raw = text.splitlines(keepends=True)
    if raw_only:
        _detect_secrets_lines(abs_path, list(enumerate(raw, 1)), out)
        return
    handle = io.StringIO(text)
    handle.name = abs_path  # transformers choose by file extension
    try:
        lines = get_transformed_file(cast("NamedIO", handle)) or raw
    except Exception:
        lines = raw
    if _detect_secrets_lines(abs_path, list(enumerate(lines, 1)), out):
        return
    handle.seek(0)
    try:
        eager = get_transformed_file(cast("NamedIO", handle), use_eager_transformers=True)
    except Exception:
        eager = None
    if eager:
        _detect_secrets_lines(abs_path, list(enumerate(eager, 1)), out)


def _patterns(lines: list[str], out: _Collector) -> None:
    for name, rx in _STATE["patterns"]:
        for i, line in enumerate(lines):
            for m in rx.finditer(line):
                value = m.group(1) if m.groups() else m.group(0)
                if value and not _allowlisted(lines, i) and not _is_placeholder(value):
                    out.add(i + 1, f"pattern:{name}", value)


def _is_placeholder(value: str) -> bool:
    from importlib import util

    cached = _STATE.get("placeholder")
    if cached is None:
        spec = util.spec_from_file_location("_hardcheck_secret_filters", FILTER_FILE)
        assert spec is not None and spec.loader is not None  # a file of this package
        module = util.module_from_spec(spec)
        spec.loader.exec_module(module)
        cached = _STATE["placeholder"] = module.is_placeholder
    return cached(value)


def parse_dotenv(lines: list[str], out: _Collector) -> None:
    """KEY=VALUE lines whose key names a credential, and URLs with inline passwords."""
    for i, line in enumerate(lines):
        m = ENV_LINE.match(line)
        if not m or line.lstrip().startswith("#") or _allowlisted(lines, i):
            continue
        key, value = m.group(1), m.group(2)
        if value[:1] in "\"'" and value[-1:] == value[:1] and len(value) >= 2:
            value = value[1:-1]
        else:
            value = value.split(" #", 1)[0].strip()
        if out.has_line(i + 1):
            continue  # a detect-secrets plugin already reported this line
        url = URL_PASSWORD.search(value)
        if url and not _is_placeholder(url.group(1)):
            out.add(i + 1, "DotenvSecret", url.group(1), what=f"password in the URL of {key}")
        elif ENV_SECRET_KEY.search(key) and len(value) >= 4 and not _is_placeholder(value):
            severity = "critical" if PROVIDER_KEY.search(key) else "high"
            out.add(i + 1, "DotenvSecret", value, what=key, severity=severity)


# --- hard-coded framework secrets (SEC003) -----------------------------------------------
def _literal_str(node: ast.AST) -> str | None:
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    return None


def _env_fallback(node: ast.AST) -> str | None:
    """`os.getenv("K", "x")`, `os.environ.get("K", "x")`, `env("K", default="x")`."""
    if not isinstance(node, ast.Call):
        return None
    func = node.func
    name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
    if name not in ENV_READERS:
        return None
    for kw in node.keywords:
        if kw.arg == "default":
            return _literal_str(kw.value)
    if name in ("getenv", "get") and len(node.args) >= 2:
        return _literal_str(node.args[1])
    return None


def _secret_value(node: ast.AST) -> tuple[str | None, bool]:
    """(value, is_fallback): a literal, or the literal default of an environment read."""
    value = _literal_str(node)
    if value is not None:
        return value, False
    if isinstance(node, ast.BoolOp) and isinstance(node.op, ast.Or) and len(node.values) > 1:
        # os.environ.get("SECRET_KEY") or "you-will-never-guess": the literal is what
        # production runs with when the variable is unset (the Flask tutorial's idiom)
        *first, last = node.values
        fallback = _literal_str(last)
        if fallback is not None and any(_is_env_read(v) for v in first):
            return fallback, True
    return _env_fallback(node), True


def _is_env_read(node: ast.AST) -> bool:
    """os.getenv("K"), os.environ.get("K"), env("K"), os.environ["K"]."""
    if isinstance(node, ast.Subscript):
        return ast.unparse(node.value) in ("environ", "os.environ")
    if not isinstance(node, ast.Call):
        return False
    func = node.func
    name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
    return name in ENV_READERS


class _CodeSecrets(ast.NodeVisitor):
    def __init__(self, out: _Collector):
        self.out = out

    def report(
        self,
        node: ast.expr | ast.stmt,
        value: str | None,
        fallback: bool,
        what: str,
        signing_key: bool = True,
        kind: str = "FrameworkSecret",
        severities: tuple[str, str] = ("high", "medium"),  # (a literal, an env fallback)
        min_length: int = 4,
    ) -> None:
        """`signing_key`: a key the framework signs with (SECRET_KEY, secret_key, a JWT
        key), where a placeholder is not noise in an example but the key in use, and the
        worst kind: it is public. Passwords and URLs keep the placeholder filter."""
        if not value:
            return
        weak = signing_key and weak_signing_key(value, _is_placeholder(value))
        if not weak and (len(value) < min_length or _is_placeholder(value)):
            return
        hard_coded = "a weak hard-coded value" if weak else "a hard-coded value"
        literal = f"a weak key in use ({weak})" if weak else "a literal"
        label = f"{what} falls back to {hard_coded}" if fallback else f"{what} is {literal}"
        self.out.add(
            node.lineno, kind, value, rule="SEC003", what=label, severity=severities[fallback]
        )

    def encryption_key(self, node: ast.expr, what: str) -> None:
        """A symmetric key in the source: whoever reads it decrypts everything it
        protects, as with a private key (critical; high as an environment fallback)."""
        value, fallback = _secret_value(node)
        if value is None and isinstance(node, ast.Constant) and isinstance(node.value, bytes):
            value, fallback = node.value.decode("latin-1"), False
        self.report(
            node, value, fallback, what, signing_key=False, kind="EncryptionKey",
            severities=("critical", "high"), min_length=16,
        )  # fmt: skip

    def visit_Assign(self, node: ast.Assign) -> None:
        for target in node.targets:
            if isinstance(target, ast.Name) and ENCRYPTION_KEY_NAME.match(target.id):
                self.encryption_key(node.value, f"encryption key {target.id}")
            elif isinstance(target, ast.Name) and SECRET_NAME.match(target.id):
                self.report(node, *_secret_value(node.value), target.id)
            elif isinstance(target, ast.Attribute) and target.attr in ("secret_key", "SECRET_KEY"):
                self.report(node, *_secret_value(node.value), f"app.{target.attr}")
            elif isinstance(target, ast.Subscript):
                key = _literal_str(target.slice)
                if key and SECRET_NAME.match(key):
                    self.report(node, *_secret_value(node.value), f"config[{key!r}]")
            if isinstance(target, ast.Name) and target.id == "DATABASES":
                self.databases(node.value)
        self.generic_visit(node)

    def databases(self, node: ast.AST) -> None:
        for sub in ast.walk(node):
            if isinstance(sub, ast.Dict):
                for k, v in zip(sub.keys, sub.values):
                    if k is not None and _literal_str(k) == "PASSWORD":
                        self.report(v, *_secret_value(v), "DATABASES PASSWORD", False)

    def visit_Call(self, node: ast.Call) -> None:
        func = node.func
        name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
        owner = getattr(getattr(func, "value", None), "id", "")
        if name in ENCRYPTION_CALLS and node.args:
            self.encryption_key(node.args[0], f"the key of {name}(…)")
        if owner == "jwt" and name in ("encode", "decode") and len(node.args) >= 2:
            self.report(node, *_secret_value(node.args[1]), f"jwt.{name} key")
        for kw in node.keywords:
            if kw.arg and SECRET_NAME.match(kw.arg):
                self.report(node, *_secret_value(kw.value), kw.arg)
        self.generic_visit(node)

    def visit_Constant(self, node: ast.Constant) -> None:
        if isinstance(node.value, str) and "://" in node.value:
            m = URL_PASSWORD.search(node.value)
            if m:
                self.report(node, m.group(1), False, "database URL password", False)


WEAK_KEY_LENGTH = 32  # shorter than 32 characters: guessable, or written by hand
WEAK_KEY_DISTINCT = 5  # Django's W009: fewer than 5 distinct characters


def weak_signing_key(value: str, placeholder: bool) -> str:
    """Why a framework signing key is weak ('' if it is not)."""
    if placeholder:
        return "a placeholder"
    if value.startswith("django-insecure-"):
        return "Django's generated development key"
    if len(set(value)) < WEAK_KEY_DISTINCT:
        return f"{len(set(value))} distinct characters"
    if len(value) < WEAK_KEY_LENGTH:
        return f"{len(value)} characters"
    return ""


def _code_secrets(text: str, out: _Collector) -> str | None:
    if not any(marker in text for marker in PY_MARKERS):
        return None
    try:
        with PARSE_LOCK:
            tree = ast.parse(text)
    except (SyntaxError, ValueError, RecursionError, MemoryError) as exc:
        return f"cannot parse for hard-coded secrets: {type(exc).__name__}"
    _CodeSecrets(out).visit(tree)
    return None


# --- reading and scanning files ------------------------------------------------------------
def _read(abs_path: str, max_size: int) -> bytes:
    flags = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0)
    fd = os.open(abs_path, flags)
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise OSError("not a regular file")
        with os.fdopen(fd, "rb", closefd=False) as fh:
            return fh.read(max_size + 1)
    finally:
        os.close(fd)


def is_dotenv(rel: str) -> bool:
    base = os.path.basename(rel)
    return base == ".env" or base.startswith(".env.") or base.endswith(".env")


def scan_one(root: str, rel: str, result: ChunkResult) -> str | None:
    """Scan one file into `result`; the digest of the bytes scanned (None if not read)."""
    opts: ScanOptions = _STATE["options"]
    abs_path = os.path.join(root, rel)
    try:
        data = _read(abs_path, opts.max_file_size)
    except OSError as exc:
        result.errors.append((rel, f"cannot read: {exc.strerror or exc}"))
        return None
    if len(data) > opts.max_file_size:
        result.skipped.append(
            (rel, "too-large", f"larger than max-file-size ({opts.max_file_size} bytes)")
        )
        result.count("skipped_too_large")
        return None
    wide = utf16_text(data) if b"\0" in data[:8192] else None
    if wide is not None:
        text = wide  # detect-secrets would take it for binary
        result.count("decoded_utf16")
    elif is_binary(data):
        result.count("skipped_binary")
        return digest_bytes(data)
    else:
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError:
            text = data.decode("latin-1")  # detect-secrets would skip the whole file silently
            result.count("decoded_latin1")
    result.count("files_scanned")
    result.count("bytes_scanned", len(data))
    out = _Collector(rel, result)
    dotenv = is_dotenv(rel)
    huge_yaml = rel.endswith((".yaml", ".yml")) and yaml_too_large(text)
    if huge_yaml:
        result.count("yaml_read_as_lines")
    _scan_with_detect_secrets(abs_path, text, raw_only=dotenv or huge_yaml, out=out)
    lines = text.splitlines()
    if dotenv:
        parse_dotenv(lines, out)
    if _STATE["patterns"]:
        _patterns(lines, out)
    if rel.endswith(".py"):
        problem = _code_secrets(text, out)
        if problem:
            result.skipped.append((rel, "unparsable", problem))
    out.done()
    return digest_bytes(data)


def scan_chunk(root: str, rels: list[str]) -> list[tuple[str, str | None, ChunkResult]]:
    """Each file's own result (and the digest of what was read), for the result cache."""
    out = []
    for rel in rels:
        result = ChunkResult()
        out.append((rel, scan_one(root, rel, result), result))
    return out


def encode_result(result: ChunkResult) -> dict[str, Any]:
    """A file's result as cache JSON, without detect-secrets' SHA-1 of each value (a
    guessable hash; it only matched the baseline, which the cache key already covers)."""
    return {
        "hits": [{**dataclasses.asdict(h), "ds_hash": ""} for h in result.hits],
        "skipped": result.skipped,
        "errors": result.errors,
        "counts": result.counts,
    }


def decode_result(data: dict[str, Any]) -> ChunkResult:
    return ChunkResult(
        hits=[Hit(**h) for h in data["hits"]],
        skipped=[(str(a), str(b), str(c)) for a, b, c in data["skipped"]],
        errors=[(str(a), str(b)) for a, b in data["errors"]],
        counts={str(k): int(v) for k, v in data["counts"].items()},
    )


def merge(results: list[ChunkResult]) -> ChunkResult:
    merged = ChunkResult()
    for part in results:
        merged.hits += part.hits
        merged.skipped += part.skipped
        merged.errors += part.errors
        for k, v in part.counts.items():
            merged.count(k, v)
    return merged


# --- git history (SEC004) ------------------------------------------------------------------
def parse_git_log(text: str) -> list[tuple[str, str, list[tuple[int, str]]]]:
    """`git log -p --unified=0` output -> [(commit, path, [(new line number, added text)])]."""
    out: list[tuple[str, str, list[tuple[int, str]]]] = []
    commit = path = ""
    lines: list[tuple[int, str]] = []
    number = 0

    def flush() -> None:
        if commit and path and lines:
            out.append((commit, path, list(lines)))

    for raw in text.split("\n"):
        if raw.startswith("\x00commit "):
            flush()
            commit, path, lines = raw.split()[1], "", []
        elif raw.startswith("+++ "):
            flush()
            target = raw[4:]
            path = target[2:] if target.startswith("b/") else ""
            lines = []
        elif raw.startswith("@@"):
            m = re.search(r"\+(\d+)", raw)
            number = int(m.group(1)) if m else 0
        elif raw.startswith("+") and path:
            lines.append((number, raw[1:]))
            number += 1
    flush()
    return out


def scan_history(root: str, depth: int) -> ChunkResult:
    import subprocess

    result = ChunkResult()
    proc = subprocess.run(
        [
            "git", "-C", root, "log", f"-n{depth}", "-p", "--unified=0", "--no-color",
            "--no-ext-diff", "--no-renames", "--format=%x00commit %H",
        ],
        capture_output=True,
        timeout=300,
        check=False,
        env={**os.environ, "GIT_OPTIONAL_LOCKS": "0"},
    )  # fmt: skip
    if proc.returncode != 0:
        why = proc.stderr.decode("utf-8", "replace").strip().splitlines()
        result.errors.append((".", f"git log failed: {why[0] if why else proc.returncode}"))
        return result
    for commit, path, lines in parse_git_log(proc.stdout.decode("utf-8", "replace")):
        result.count("history_lines", len(lines))
        before = len(result.hits)
        scan_lines(path, lines, result, dotenv=is_dotenv(path))
        for hit in result.hits[before:]:
            hit.commit = commit
    return result


def scan_lines(label: str, lines: list[tuple[int, str]], result: ChunkResult, dotenv: bool) -> None:
    """Lines that are not a file of the tree (a commit's added lines, an image's Env or
    build history) through the same detectors; `dotenv`: read them as KEY=VALUE too."""
    out = _Collector(label, result)
    for plugin, secret, line in _pipeline().process(lines, label):
        value = _full_value(plugin, secret.secret_value or "", line)
        out.add(secret.line_number, type(plugin).__name__, value, ds_hash=secret.secret_hash)
    if dotenv:
        parse_dotenv([text for _, text in lines], out)
    out.done()


# --- an image's config and removed files (SEC005-SEC007) -----------------------------------
IMAGE_CONFIG = "image config"
IMAGE_HISTORY = "image history"
# what the image's Env names a credential by, beyond the dotenv reader's names
ENV_NAME_SECRET = re.compile(r"(?i)(_KEY$|^KEY$)")
BUILD_ASSIGNMENT = re.compile(r"""(?<![\w-])([A-Za-z_][A-Za-z0-9_]*)=("[^"]*"|'[^']*'|[^\s"']+)""")


def scan_image_config(
    env: list[tuple[str, str]], history: list[tuple[int, str]]
) -> tuple[ChunkResult, ChunkResult]:
    """The image's Env (one KEY=VALUE line per variable, line = its position) and its
    build history (each step's `created_by`, line = the step, with every KEY=VALUE it
    holds, where ARG and ENV values end up, read as a dotenv line of its own)."""
    env_result = ChunkResult()
    env_lines = [(i, f"{k}={v}") for i, (k, v) in enumerate(env, 1)]
    scan_lines(IMAGE_CONFIG, env_lines, env_result, dotenv=True)
    named = {h.line for h in env_result.hits}
    out = _Collector(IMAGE_CONFIG, env_result)
    for i, (key, value) in enumerate(env, 1):
        plausible = ENV_NAME_SECRET.search(key) and len(value) >= 4
        if i not in named and plausible and not _is_placeholder(value):
            out.add(i, "DotenvSecret", value, what=key)
    out.done()
    env_result.count("env_variables", len(env))
    history_result = ChunkResult()
    for step, created_by in history:
        lines = [(step, created_by)]
        scan_lines(IMAGE_HISTORY, lines, history_result, dotenv=False)
        assignments = [
            (step, f"{m.group(1)}={m.group(2)}") for m in BUILD_ASSIGNMENT.finditer(created_by)
        ]
        if assignments:
            seen = {h.kid for h in history_result.hits}
            part = ChunkResult()
            scan_lines(IMAGE_HISTORY, assignments, part, dotenv=True)
            for hit in part.hits:
                hit.line = step  # the dotenv reader numbers its own lines
            history_result.hits.extend(h for h in part.hits if h.kid not in seen)
    history_result.count("history_steps", len(history))
    return env_result, history_result
