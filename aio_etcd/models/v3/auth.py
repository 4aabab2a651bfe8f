"""Auth messages of the v3 API (``etcdserverpb`` ``Auth`` service)."""

from __future__ import annotations

from pydantic import Field

from ._base import ResponseHeader, V3Model, V3Request


class AuthenticateRequest(V3Request):
    """``POST /v3/auth/authenticate``: a user's name and password, for a token."""

    name: str = ""
    password: str = Field("", repr=False)
    """Never shown in a repr, a log line or an error message."""


class AuthenticateResponse(V3Model):
    """The token to send as ``Authorization: <token>`` (no scheme) with every request."""

    header: ResponseHeader = ResponseHeader()
    token: str = ""
