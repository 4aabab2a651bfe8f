"""What the commands print: etcdctl v2's simple, extended and json formats."""

from __future__ import annotations

import json
import sys
from datetime import datetime, timezone
from typing import TextIO

from ..models import EtcdNode, EtcdResult

DELETES = ("delete", "compareAndDelete")


class Output:
    """Standard output in the format ``-o`` chose; every line is flushed at once, so that
    watches show each change as it happens, even through a pipe."""

    def __init__(self, format: str = "simple", stream: TextIO | None = None) -> None:
        self.format = format
        self._stream = stream

    def line(self, text: str = "") -> None:
        stream = self._stream if self._stream is not None else sys.stdout
        stream.write(text + "\n")
        stream.flush()

    def json(self, document: object) -> None:
        self.line(dumps(document))


def dumps(document: object) -> str:
    """Compact JSON, UTF-8 kept as it is (as Go's encoder writes it)."""
    return json.dumps(document, separators=(",", ":"), ensure_ascii=False)


def print_result(out: Output, result: EtcdResult) -> None:
    """One key's result, as etcdctl's ``printResponseKey``."""
    node = result.node
    if out.format == "json":
        out.json(result_document(result))
    elif out.format == "extended":
        out.line(f"Key: {node.key}")
        out.line(f"Created-Index: {node.created_index}")
        out.line(f"Modified-Index: {node.modified_index}")
        if result.prev_node is not None:
            out.line(f"PrevNode.Value: {result.prev_node.value or ''}")
        out.line(f"TTL: {node.ttl or 0}")
        out.line(f"Index: {result.etcd_index or 0}")
        if result.action not in DELETES:
            out.line()
            out.line(node.value or "")
    elif result.action in DELETES:
        # etcdctl checks for "delete" only and prints an empty line for a compareAndDelete.
        previous = result.prev_node.value if result.prev_node is not None else None
        out.line(f"PrevNode.Value: {previous or ''}")
    else:
        out.line(node.value or "")


def print_listing(out: Output, result: EtcdResult, *, slash: bool) -> None:
    """``ls``: the keys one a line (directories with a ``/`` when ``slash``), or the whole
    result as JSON or extended."""
    if out.format != "simple":
        print_result(out, result)
        return
    if not result.node.dir:
        out.line(result.node.key)
    for child in result.node.nodes or ():
        _print_tree(out, child, slash)


def _print_tree(out: Output, node: EtcdNode, slash: bool) -> None:
    out.line(f"{node.key}/" if node.dir and slash else node.key)
    for child in node.nodes or ():
        _print_tree(out, child, slash)


def result_document(result: EtcdResult) -> dict[str, object]:
    """The result as etcd's Go client marshals its ``Response``."""
    return {
        "action": result.action,
        "node": node_document(result.node),
        "prevNode": None if result.prev_node is None else node_document(result.prev_node),
    }


def node_document(node: EtcdNode) -> dict[str, object]:
    """A node as etcd's Go client marshals it: ``dir``, ``expiration`` and ``ttl`` only
    when set, ``value`` always."""
    document: dict[str, object] = {"key": node.key}
    if node.dir:
        document["dir"] = True
    document["value"] = node.value or ""
    document["nodes"] = None if node.nodes is None else [node_document(n) for n in node.nodes]
    document["createdIndex"] = node.created_index
    document["modifiedIndex"] = node.modified_index
    if node.expiration is not None:
        document["expiration"] = _rfc3339(node.expiration)
    if node.ttl:
        document["ttl"] = node.ttl
    return document


def _rfc3339(moment: datetime) -> str:
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    text = moment.isoformat()
    return text[:-6] + "Z" if text.endswith("+00:00") else text
