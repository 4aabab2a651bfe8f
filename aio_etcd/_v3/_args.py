"""Argument checks of the v3 API, run before anything is sent.

Each names the argument as the caller spelled it, raises :class:`TypeError` for a wrong type
and :class:`~aio_etcd.EtcdValueError` for a wrong value.
"""

from __future__ import annotations

from .._exceptions import EtcdValueError
from ..models.v3._base import INT64_MAX

KeyLike = bytes | bytearray | memoryview | str
"""A key or value: bytes as they are, or text as its UTF-8 bytes."""


def to_bytes(value: object, name: str) -> bytes:
    """``value`` as bytes: bytes-like as is, ``str`` as UTF-8."""
    if isinstance(value, bytes):
        return value
    if isinstance(value, bytearray | memoryview):
        return bytes(value)
    if isinstance(value, str):
        try:
            return value.encode()
        except UnicodeEncodeError as exc:
            raise EtcdValueError(
                f"{name} has a lone surrogate {value[exc.start]!r} at position {exc.start},"
                " which UTF-8 cannot encode"
            ) from None
    raise TypeError(f"{name} must be bytes or str, not {type(value).__name__}")


def key(value: object, name: str = "key") -> bytes:
    """A non-empty key (etcd refuses an empty one: ``key is not provided``)."""
    data = to_bytes(value, name)
    if not data:
        raise EtcdValueError(f"{name} must not be empty")
    return data


def prefix_end(prefix: bytes) -> bytes:
    """The end of the range of keys starting with ``prefix``: the prefix without its
    trailing 0xff bytes, last byte plus one; ``b"\\x00"`` (no end) when nothing is left
    (etcd-io/etcd ``clientv3/op.go`` ``getPrefix``)."""
    stripped = prefix.rstrip(b"\xff")
    if not stripped:
        return b"\x00"
    return stripped[:-1] + bytes([stripped[-1] + 1])


def integer(value: object, name: str, *, low: int, high: int = INT64_MAX) -> int:
    """An ``int`` (not a bool) from ``low`` to ``high``."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{name} must be an int, not {type(value).__name__}")
    if not low <= value <= high:
        raise EtcdValueError(f"{name} must be from {low} to {high}, not {value}")
    return value


def optional(value: object, name: str, *, low: int) -> int:
    """An optional int: ``None`` is 0 (the wire's "not given")."""
    return 0 if value is None else integer(value, name, low=low)


def flag(value: object, name: str) -> bool:
    """``True`` or ``False``."""
    if value is True or value is False:
        return value
    raise TypeError(f"{name} must be True or False, not {type(value).__name__}")
