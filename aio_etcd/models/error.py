"""What etcd says when a request fails."""

from __future__ import annotations

from pydantic import Field

from ._base import EtcdModel


class ErrorPayload(EtcdModel):
    """An error body from etcd, in any of the shapes it uses.

    The keys API sends ``{"errorCode", "message", "cause", "index"}``; the members, auth and
    stats endpoints send only ``{"message"}``; routers answer in plain text, which is kept in
    ``message`` with ``error_code`` left ``None``.
    """

    error_code: int | None = Field(None, alias="errorCode")
    """The v2 error code (100 = key not found, ...), or ``None`` when the reply had none."""
    message: str = ""
    """etcd's description of the error."""
    cause: str | None = None
    """What the error is about, usually the key."""
    index: int | None = None
    """The store index when the error happened (``0`` for validation and auth errors)."""
