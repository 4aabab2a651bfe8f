"""What the v3 gateway says when a call fails."""

from __future__ import annotations

from typing import Any

from pydantic import Field

from ..error import ErrorPayload


class GatewayError(ErrorPayload):
    """An error reply of etcd's JSON gateway, whichever of its shapes it came in.

    The shapes (as etcd 3.4.23 and 3.5.1 behave): ``{"error", "code", "message"}`` from a
    unary call on etcd 3.4/3.5; ``{"code", "message", "details"}`` on 3.6;
    ``{"error": {"grpc_code", "http_code", "message", "http_status"}}`` ending a stream on 3.5;
    ``{"error": {"code", "message", "details"}}`` on 3.6; and plain text from the router.
    Being an :class:`~aio_etcd.models.ErrorPayload`, it fills ``message`` the same way;
    ``error_code`` (a v2 code) stays ``None``.
    """

    code: int = 2
    """The gRPC status code (3 InvalidArgument, 5 NotFound, 14 Unavailable, ...); 2 (Unknown)
    when the reply had none."""
    http_status: int = 0
    """The HTTP status the error came with (for an error ending a stream: the one the
    gateway reports in it, else the one its gRPC code maps to)."""
    details: list[Any] = Field(default_factory=list)
    """gRPC status details, as sent (usually empty)."""
