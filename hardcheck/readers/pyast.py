"""Reading Python source statically: parse, never import or execute.

Shared by every audit that reads settings or app code (permissions, secrets, uploads,
logging). All helpers work on `ast` nodes and fail soft: an expression that is not a
literal yields `NOT_LITERAL`, never an exception.
"""

from __future__ import annotations

import ast
import importlib.util
import sys
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

NOT_LITERAL = object()

# CPython before 3.11.8/3.12.1 keeps the AST constructor's recursion depth in state shared
# by all threads; two threads parsing at once can fail with "SystemError: AST constructor
# recursion depth mismatch" (python/cpython#106905). Audits run in threads: every parse
# in this process (bandit's too, when it runs in-process) holds this lock.
PARSE_LOCK = threading.Lock()


PYTHON = f"{sys.version_info.major}.{sys.version_info.minor}"


class SourceError(Exception):
    """The file is not Python hardcheck can parse; the message says why."""


def parse_source(data: bytes, filename: str) -> ast.Module:
    """Decode (honouring a PEP 263 coding cookie) and parse, without executing."""
    try:
        text = importlib.util.decode_source(data)
    except (SyntaxError, UnicodeDecodeError, LookupError) as exc:
        raise SourceError(f"cannot decode: {exc}") from None
    try:
        with PARSE_LOCK:
            return ast.parse(text, filename=filename)
    except SyntaxError as exc:
        # valid code of a newer Python (PEP 758's `except A, B:` in 3.14) fails here too:
        # say which grammar judged it, so a maintainer does not hunt for a bug
        raise SourceError(
            f"syntax error at line {exc.lineno}: {exc.msg} (read as Python {PYTHON}; "
            "code for a newer Python is reported so)"
        ) from None
    except (ValueError, RecursionError, MemoryError) as exc:
        raise SourceError(f"cannot parse: {type(exc).__name__}") from None


def literal(node: ast.AST | None) -> Any:
    """`ast.literal_eval` that returns NOT_LITERAL instead of raising."""
    if node is None:
        return NOT_LITERAL
    try:
        return ast.literal_eval(node)
    except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
        return NOT_LITERAL


@dataclass(frozen=True)
class Assignment:
    name: str
    value: ast.AST
    line: int
    scope: str  # "" for module level, else the enclosing class name


def assignments(tree: ast.Module, *, include_classes: bool = True) -> Iterator[Assignment]:
    """Top-level `NAME = value` (and `NAME: T = value`) assignments, plus those in class
    bodies at top level (Flask-style `class Config: DEBUG = False`)."""

    def from_body(body: list, scope: str) -> Iterator[Assignment]:
        for stmt in body:
            if isinstance(stmt, ast.Assign):
                for target in stmt.targets:
                    if isinstance(target, ast.Name):
                        yield Assignment(target.id, stmt.value, stmt.lineno, scope)
            elif (
                isinstance(stmt, ast.AnnAssign)
                and isinstance(stmt.target, ast.Name)
                and stmt.value is not None
            ):
                yield Assignment(stmt.target.id, stmt.value, stmt.lineno, scope)
            elif isinstance(stmt, ast.ClassDef) and include_classes and not scope:
                yield from from_body(stmt.body, stmt.name)
            elif isinstance(stmt, (ast.If, ast.Try)) and not scope:
                # settings often wrap assignments in `if ENV == ...:` or `try:` blocks
                yield from from_body(stmt.body, scope)
                yield from from_body(stmt.orelse, scope)

    yield from from_body(tree.body, "")


def call_name(node: ast.AST) -> str:
    """`foo.bar.Baz(...)` -> "Baz"; `Baz(...)` -> "Baz"; anything else -> ""."""
    func = node.func if isinstance(node, ast.Call) else node
    if isinstance(func, ast.Name):
        return func.id
    if isinstance(func, ast.Attribute):
        return func.attr
    return ""


def keyword(call: ast.Call, name: str) -> ast.AST | None:
    for kw in call.keywords:
        if kw.arg == name:
            return kw.value
    return None


def string_constants(node: ast.AST) -> Iterator[str]:
    for sub in ast.walk(node):
        if isinstance(sub, ast.Constant) and isinstance(sub.value, str):
            yield sub.value


def env_default(node: ast.AST) -> Any:
    """For a value read from the environment with a fallback — `os.getenv("X", "1")`,
    `os.environ.get("X", True)`, `env.bool("X", default=True)`, `config("X", default=…)` —
    return the fallback literal; NOT_LITERAL when there is none or it is not a literal."""
    if not isinstance(node, ast.Call):
        # `os.getenv("DEBUG", "0") == "1"` and similar comparisons decide on their own
        return NOT_LITERAL
    default = keyword(node, "default")
    if default is not None:
        return literal(default)
    if call_name(node) in ("getenv", "get") and len(node.args) >= 2:
        return literal(node.args[1])
    return NOT_LITERAL


CONVERSIONS: dict[str, Any] = {"int": int, "float": float, "bool": bool, "str": str}


STRING_METHODS = ("lower", "upper", "strip", "casefold")


def value_when_unset(
    node: ast.AST | None, names: Callable[[str], ast.AST | None] | None = None, depth: int = 0
) -> Any:
    """What a settings expression evaluates to when the environment variables it reads are
    not set (their defaults): a literal; `os.environ.get("X", "1")`, `env.bool("X",
    default=True)` and the like; `int(…)`/`bool(…)` of those; `.lower()` and the like of
    those; `… == "1"`/`!=`/`in` of those; a module-level name (`names` looks it up). NOT_LITERAL
    for anything else (a required variable, a computation)."""
    if depth > 10:
        return NOT_LITERAL
    value = literal(node)
    if value is not NOT_LITERAL or node is None:
        return value
    if isinstance(node, ast.Name) and names is not None:
        return value_when_unset(names(node.id), names, depth + 1)
    if isinstance(node, ast.Call) and call_name(node) in ("getenv", "get") and len(node.args) >= 2:
        return value_when_unset(node.args[1], names, depth + 1)  # the default, maybe a name
    fallback = env_default(node)
    if fallback is not NOT_LITERAL:
        return fallback
    declared = _environ_schema_default(node, names)
    if declared is not NOT_LITERAL:
        return declared
    if (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr in STRING_METHODS
        and not node.args
    ):
        inner = value_when_unset(node.func.value, names, depth + 1)
        return getattr(inner, node.func.attr)() if isinstance(inner, str) else NOT_LITERAL
    if isinstance(node, ast.Call) and call_name(node) in CONVERSIONS and len(node.args) == 1:
        inner = value_when_unset(node.args[0], names, depth + 1)
        if inner is NOT_LITERAL:
            return NOT_LITERAL
        try:
            return CONVERSIONS[call_name(node)](inner)
        except (TypeError, ValueError):
            return NOT_LITERAL
    if isinstance(node, ast.BinOp) and isinstance(node.op, (ast.Mult, ast.Add, ast.Sub)):
        left, right = (value_when_unset(n, names, depth + 1) for n in (node.left, node.right))
        numbers = all(isinstance(v, int) and not isinstance(v, bool) for v in (left, right))
        if numbers and abs(left) < 10**12 and abs(right) < 10**12:  # `30 * 24 * 60 * 60`
            if isinstance(node.op, ast.Mult):
                return left * right
            return left + right if isinstance(node.op, ast.Add) else left - right
        return NOT_LITERAL
    if isinstance(node, ast.Compare) and len(node.ops) == 1:
        left, right = value_when_unset(node.left, names, depth + 1), literal(node.comparators[0])
        if left is NOT_LITERAL or right is NOT_LITERAL:
            return NOT_LITERAL
        op = node.ops[0]
        try:
            if isinstance(op, ast.Eq):
                return left == right
            if isinstance(op, ast.NotEq):
                return left != right
            if isinstance(op, ast.In):
                return left in right
            if isinstance(op, ast.NotIn):
                return left not in right
        except TypeError:
            return NOT_LITERAL
    return NOT_LITERAL


def _environ_schema_default(node: ast.AST, names: Callable[[str], ast.AST | None] | None) -> Any:
    """django-environ: `env = environ.Env(DEBUG=(bool, False))`, then `env("DEBUG")` or
    `env.bool("DEBUG")` without a default -> the default the schema declares (False)."""
    if not (isinstance(node, ast.Call) and node.args and names is not None):
        return NOT_LITERAL
    func = node.func
    owner = func.value if isinstance(func, ast.Attribute) else func
    variable = literal(node.args[0])
    if not isinstance(owner, ast.Name) or not isinstance(variable, str):
        return NOT_LITERAL
    schema = names(owner.id)
    if not (isinstance(schema, ast.Call) and call_name(schema) == "Env"):
        return NOT_LITERAL
    declared = keyword(schema, variable)
    if isinstance(declared, ast.Tuple) and len(declared.elts) == 2:
        return literal(declared.elts[1])
    return NOT_LITERAL


def truthy_setting(value: Any) -> bool:
    if isinstance(value, str):
        return value.strip().lower() in ("1", "true", "yes", "on")
    return value is True or (isinstance(value, int) and not isinstance(value, bool) and value != 0)


def inside_main_guard(tree: ast.Module) -> set[int]:
    """Line numbers of statements under `if __name__ == "__main__":`."""
    lines: set[int] = set()
    for stmt in tree.body:
        if (
            isinstance(stmt, ast.If)
            and isinstance(stmt.test, ast.Compare)
            and isinstance(stmt.test.left, ast.Name)
            and stmt.test.left.id == "__name__"
        ):
            for sub in stmt.body:
                for node in ast.walk(sub):
                    if hasattr(node, "lineno"):
                        lines.add(node.lineno)
    return lines


@dataclass(frozen=True)
class Unresolved:
    """A value that is not a literal (a call, a name…): kept as its source text."""

    source: str

    def __str__(self) -> str:
        return f"<{self.source}>"


def partial_literal(node: ast.AST, depth: int = 0) -> Any:
    """Like literal_eval, but containers keep their literal parts and any other
    expression becomes `Unresolved`: `{"filename": os.path.join(B, "x.log")}` ->
    `{"filename": Unresolved("os.path.join(B, 'x.log')")}`."""
    if depth > 50:
        return Unresolved("...")
    if isinstance(node, ast.Dict):
        out = {}
        for k, v in zip(node.keys, node.values):
            key = literal(k) if k is not None else NOT_LITERAL
            if isinstance(key, (str, int)):
                out[key] = partial_literal(v, depth + 1)
        return out
    if isinstance(node, (ast.List, ast.Tuple, ast.Set)):
        return [partial_literal(e, depth + 1) for e in node.elts]
    if isinstance(node, ast.Call) and call_name(node) == "dict" and not node.args:
        return {kw.arg: partial_literal(kw.value, depth + 1) for kw in node.keywords if kw.arg}
    value = literal(node)
    if value is NOT_LITERAL:
        try:
            return Unresolved(ast.unparse(node)[:200])
        except (ValueError, RecursionError):  # pragma: no cover - defensive
            return Unresolved(type(node).__name__)
    return value


_INT_OPS = {
    ast.Add: lambda a, b: a + b,
    ast.Sub: lambda a, b: a - b,
    ast.Mult: lambda a, b: a * b,
    ast.FloorDiv: lambda a, b: a // b if b else None,
    ast.Pow: lambda a, b: a**b if 0 <= b <= 64 else None,
    ast.LShift: lambda a, b: a << b if 0 <= b <= 64 else None,
}


def const_number(node: ast.AST | None, depth: int = 0):
    """Integer arithmetic on literals, as settings write sizes: `5 * 1024 * 1024`,
    `2 ** 20`, `10 << 20`. Returns NOT_LITERAL for anything else (names, calls …); `None`
    literals come back as None."""
    if node is None or depth > 20:
        return NOT_LITERAL
    if isinstance(node, ast.Constant) and (node.value is None or type(node.value) in (int, float)):
        return node.value
    if isinstance(node, ast.BinOp) and type(node.op) in _INT_OPS:
        left, right = const_number(node.left, depth + 1), const_number(node.right, depth + 1)
        if isinstance(left, (int, float)) and isinstance(right, (int, float)):
            result = _INT_OPS[type(node.op)](left, right)
            return NOT_LITERAL if result is None else result
    return NOT_LITERAL
