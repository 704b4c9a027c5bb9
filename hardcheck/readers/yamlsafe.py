"""YAML loaded safely and in bounded memory: an alias bomb (a few lines of `&a [*a, *a…]`
nested nine deep) expands to billions of values when constructed, although its node
graph is tiny. So each document is composed first (aliases stay shared references), its
expanded size is counted over that graph, and it is constructed only when the count is
within `MAX_VALUES`. PyYAML has no such limit of its own.
"""

from __future__ import annotations

from typing import Any

import yaml

try:  # the C loader is much faster; the pure one is the same safe loader
    from yaml import CSafeLoader as Loader
except ImportError:  # pragma: no cover
    from yaml import SafeLoader as Loader  # type: ignore[assignment]

MAX_VALUES = 200_000  # far above any real compose, Kubernetes, logging or advisory file


class TooLarge(yaml.YAMLError):
    """A document whose aliases expand beyond MAX_VALUES."""


def _expanded(node: yaml.Node, limit: int) -> int:
    """How many values constructing `node` makes, counting each alias at every use;
    stops counting once past `limit`. A recursive alias counts once (it is a cycle in
    the constructed value, not a copy)."""
    sizes: dict[int, int] = {}
    open_nodes: set[int] = set()

    def size(n: yaml.Node) -> int:
        key = id(n)
        if key in sizes:
            return sizes[key]
        if key in open_nodes:
            return 1
        open_nodes.add(key)
        total = 1
        if isinstance(n, yaml.SequenceNode):
            children: list[yaml.Node] = list(n.value)
        elif isinstance(n, yaml.MappingNode):
            children = [part for pair in n.value for part in pair]
        else:
            children = []
        for child in children:
            total += size(child)
            if total > limit:
                break
        open_nodes.discard(key)
        sizes[key] = total
        return total

    return size(node)


def expands_past(text: str, limit: int = MAX_VALUES) -> bool:
    """Would constructing this YAML stream make more than `limit` values? (False when it
    does not parse: whoever loads it meets the error.)"""
    total = 0
    try:
        for node in yaml.compose_all(text, Loader=Loader):
            if node is not None:
                total += _expanded(node, limit - total)
                if total > limit:
                    return True
    except yaml.YAMLError:
        return False
    except RecursionError:
        return True
    return False


def load_all(text: str, limit: int = MAX_VALUES) -> list[Any]:
    """Every document of a YAML stream, safely; TooLarge when one would expand past
    `limit` values."""
    try:
        return _load_all(text, limit)
    except RecursionError:
        raise TooLarge("nested too deeply to load") from None


def _load_all(text: str, limit: int) -> list[Any]:
    documents = []
    for node in yaml.compose_all(text, Loader=Loader):
        if node is None:
            continue
        count = _expanded(node, limit)
        if count > limit:
            raise TooLarge(
                f"its aliases expand to more than {limit:,} values (a YAML alias bomb?): not loaded"
            )
        loader = Loader("")
        try:
            documents.append(loader.construct_document(node))
        finally:
            loader.dispose()
    return documents


def load(text: str, limit: int = MAX_VALUES) -> Any:
    """The first document (None for an empty stream), as yaml.safe_load would give it."""
    documents = load_all(text, limit)
    return documents[0] if documents else None
