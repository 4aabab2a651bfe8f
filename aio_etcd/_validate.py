"""Argument checks, run before anything is sent.

Each check names the argument as the caller spelled it, raises :class:`TypeError` for a
wrong type and :class:`~aio_etcd.EtcdValueError` for a wrong value.
"""

from __future__ import annotations

import functools
import math

from ._exceptions import EtcdValueError
from ._types import NotGiven, Timeout

MAX_TTL = 100 * 365 * 24 * 3600
"""A century. etcd keeps the expiry as int64 nanoseconds since 1970, which end in 2262; a TTL
reaching past that silently makes the key permanent."""


def key(value: object, name: str = "key") -> str:
    """The key with a leading ``/``; refuses what etcd would redirect or split."""
    if not isinstance(value, str):
        raise TypeError(f"{name} must be a str, not {type(value).__name__}")
    return _key(value, name)


@functools.lru_cache(maxsize=4096)
def _key(value: str, name: str) -> str:
    # Cached: programs use the same keys again and again.
    path = value if value.startswith("/") else "/" + value
    _no_surrogates(value, name)
    if path != "/":
        inner = path[1:-1] if path.endswith("/") else path[1:]
        for segment in inner.split("/"):
            if not segment:
                raise EtcdValueError(f"{name} {value!r} has an empty segment ('//')")
            if segment in (".", ".."):
                raise EtcdValueError(f"{name} {value!r} has a {segment!r} segment")
    return path


def queue_name(value: object, name: str) -> str:
    """The name of a lock or election: one key segment or several (``jobs/nightly``),
    placed below a prefix, so none may be empty, ``.`` or ``..``."""
    if not isinstance(value, str):
        raise TypeError(f"{name} must be a str, not {type(value).__name__}")
    _no_surrogates(value, name)
    for segment in value.split("/"):
        if segment in ("", ".", ".."):
            raise EtcdValueError(
                f"{name} must be a name, or names joined by '/', without empty, '.' or "
                f"'..' parts, not {value!r}"
            )
    return value


def _no_surrogates(value: str, name: str) -> None:
    # A lone surrogate (e.g. from os.fsdecode) has no UTF-8 form, so it could never be sent.
    try:
        value.encode()
    except UnicodeEncodeError as exc:
        raise EtcdValueError(
            f"{name} has a lone surrogate {value[exc.start]!r} at position {exc.start},"
            " which UTF-8 cannot encode"
        ) from None


def url_path(value: object, name: str) -> str:
    """A path on the server, such as an API prefix."""
    if not isinstance(value, str):
        raise TypeError(f"{name} must be a str, not {type(value).__name__}")
    if not value.startswith("/") or any(c in value for c in "?# "):
        raise EtcdValueError(f"{name} must be a path starting with '/', not {value!r}")
    return value


def text(value: object, name: str) -> str | None:
    """A value to store or compare: text as given, numbers as their text."""
    if value is None:
        return None
    if isinstance(value, str):
        _no_surrogates(value, name)
        return value
    if isinstance(value, int | float):
        return str(value)
    hint = (
        "; etcd stores text, so decode or base64-encode bytes first"
        if isinstance(value, bytes | bytearray | memoryview)
        else ""
    )
    raise TypeError(f"{name} must be a str, int or float, not {type(value).__name__}{hint}")


def ttl(value: object, name: str = "ttl") -> int | None:
    """Seconds to live: a whole number from 0 to :data:`MAX_TTL`, or ``None``."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{name} must be an int number of seconds, not {type(value).__name__}")
    if not 0 <= value <= MAX_TTL:
        raise EtcdValueError(f"{name} must be between 0 and {MAX_TTL} seconds, not {value}")
    return value


def index(value: object, name: str) -> int | None:
    """An etcd index (1 or more), or ``None``."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{name} must be an int, not {type(value).__name__}")
    if value < 1:
        raise EtcdValueError(f"{name} must be 1 or more (etcd indexes start at 1), not {value}")
    return value


def flag(value: object, name: str) -> bool:
    """A yes/no option; ``None`` means no, as older clients allowed."""
    if value is True or value is False:  # first: every call checks several
        return value
    return tristate(value, name) is True


def tristate(value: object, name: str) -> bool | None:
    """``True``, ``False``, or ``None`` for "no condition"."""
    if value is None or isinstance(value, bool):
        return value
    raise TypeError(f"{name} must be True, False or None, not {type(value).__name__}")


def timeout(value: Timeout, default: float | None, name: str = "timeout") -> float | None:
    """Seconds (more than 0), ``None`` for no limit, or :data:`NOT_GIVEN` for ``default``."""
    if isinstance(value, NotGiven):
        return default
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise TypeError(f"{name} must be a number of seconds or None, not {type(value).__name__}")
    if not (value > 0 and math.isfinite(value)):
        raise EtcdValueError(f"{name} must be more than 0 seconds, or None to wait forever")
    return float(value)
