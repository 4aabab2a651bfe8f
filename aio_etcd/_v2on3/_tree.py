"""v3 keys as v2 nodes: one key as a file, a range below ``K/`` folded into a directory.

The layout: a v2 path is the v3 key of its UTF-8 bytes; a key below ``D/`` makes ``D`` a
directory; ``D/`` itself, with an empty value, is the marker of a directory made with
``dir=True`` (its indexes are the directory's). Names starting with ``_`` are hidden from
listings, as etcd's v2 store hides them (``server/etcdserver/api/v2store/node.go``). A key
``D`` with keys below ``D/`` (written by other v3 clients) is a file; what is below it is not
shown.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone

from ..models import EtcdNode
from ..models.v3.kv import KeyValue


def text(data: bytes) -> str:
    """Bytes of the v3 store as v2 text: invalid UTF-8 becomes U+FFFD, as v2 showed it."""
    return data.decode("utf-8", "replace")


def expiry(ttl: int | None) -> tuple[int | None, datetime | None]:
    """A node's ``ttl`` and ``expiration`` from the seconds a lease has left."""
    if ttl is None or ttl < 0:
        return None, None
    return ttl, datetime.now(timezone.utc) + timedelta(seconds=ttl)


def file_node(path: str, kv: KeyValue, ttls: Mapping[int, int]) -> EtcdNode:
    """The node of file ``path`` stored as ``kv``; ``ttls``: seconds left by lease id."""
    ttl, expiration = expiry(ttls.get(kv.lease)) if kv.lease else (None, None)
    return EtcdNode(
        key=path,
        value=text(kv.value),
        ttl=ttl,
        expiration=expiration,
        modified_index=kv.mod_revision,
        created_index=kv.create_revision,
    )


@dataclass
class _Entry:
    file: KeyValue | None = None
    marker: KeyValue | None = None
    children: dict[str, _Entry] = field(default_factory=dict)


def directory(
    path: str,
    below: Sequence[KeyValue],
    *,
    recursive: bool,
    ttls: Mapping[int, int],
) -> EtcdNode:
    """Directory ``path`` from the keys of ``[path/, path0)`` (``below``, any order).

    Without ``recursive``, child directories come without their ``nodes``, as v2 lists them.
    Children are sorted by key (v2 sorts only on request; any order is allowed).
    """
    prefix = b"/" if path == "/" else path.encode() + b"/"
    root = _Entry()
    for kv in below:
        if not kv.key.startswith(prefix):
            continue
        rest = text(kv.key[len(prefix) :])
        is_marker = rest.endswith("/") or rest == ""
        parts = rest.rstrip("/").split("/") if rest else []
        if any(not part for part in parts) or rest.endswith("//"):
            continue  # not a v2 path: an empty segment
        if any(part.startswith("_") for part in parts):
            continue
        entry = root
        for part in parts[:-1] if not is_marker else parts:
            entry = entry.children.setdefault(part, _Entry())
        if is_marker:
            entry.marker = kv
        else:
            entry.children.setdefault(parts[-1], _Entry()).file = kv
    return _dir_node(path, root, depth=0, recursive=recursive, ttls=ttls)


def _dir_node(
    path: str, entry: _Entry, *, depth: int, recursive: bool, ttls: Mapping[int, int]
) -> EtcdNode:
    marker = entry.marker
    nodes: list[EtcdNode] | None = None
    if depth == 0 or recursive:
        base = "" if path == "/" else path
        nodes = []
        for name in sorted(entry.children):
            child = entry.children[name]
            child_path = f"{base}/{name}"
            if child.file is not None:
                nodes.append(file_node(child_path, child.file, ttls))
            else:
                nodes.append(
                    _dir_node(child_path, child, depth=depth + 1, recursive=recursive, ttls=ttls)
                )
    return EtcdNode(
        key=path,
        dir=True,
        modified_index=marker.mod_revision if marker is not None else 0,
        created_index=marker.create_revision if marker is not None else 0,
        nodes=nodes or None,
    )


def leased(node: EtcdNode, below: Sequence[KeyValue], *, recursive: bool) -> set[int]:
    """The lease ids of the files a listing shows (whose TTLs it needs)."""
    prefix = b"/" if node.key == "/" else node.key.encode() + b"/"
    found = set()
    for kv in below:
        if kv.lease and not kv.key.endswith(b"/"):
            rest = kv.key[len(prefix) :]
            if recursive or b"/" not in rest:
                found.add(kv.lease)
    return found
