"""The auth token every v3 request carries.

etcd's gateway takes a token from ``POST /v3/auth/authenticate`` as ``Authorization: <token>``
with no scheme (``Bearer`` only from 3.5.32/3.6.13). Simple tokens slide: each use renews them
and they expire after ``--auth-token-ttl`` idle seconds (as etcd 3.4.23 and 3.5.1 behave).
So the token is fetched on first use, fetched again once when a call says it is missing,
invalid or stale, and dropped when the server says auth is not enabled (3.5.1 still rejects
a stale token after ``auth/disable``).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

from .._exceptions import EtcdException
from ..models.v3.auth import AuthenticateRequest, AuthenticateResponse

Authenticate = Callable[[str, AuthenticateRequest, "float | None"], Awaitable[AuthenticateResponse]]
"""Sends an authenticate request to an endpoint within a timeout (seconds)."""

AUTH_NOT_ENABLED = "authentication is not enabled"


class TokenManager:
    """Holds the token of one user; the password stays here and in no message."""

    def __init__(self, username: str | None, password: str | None) -> None:
        self._request = (
            None
            if username is None
            else AuthenticateRequest(name=username, password=password or "")
        )
        self._token: str | None = None
        self._generation = 0
        """Counts the tokens fetched: a call renews only the token it was refused with."""
        self._lock: asyncio.Lock | None = None
        self._auth_off = False

    @property
    def username(self) -> str | None:
        return None if self._request is None else self._request.name

    @property
    def token(self) -> str | None:
        """The token held now, if any."""
        return self._token

    def headers(self) -> tuple[dict[str, str], int]:
        """The headers that carry the current token, and which token it is."""
        token = self._token
        return ({} if token is None else {"Authorization": token}), self._generation

    async def ready(self, endpoint: str, authenticate: Authenticate, timeout: float | None) -> None:
        """Fetch a token if credentials are given and none is held (nor auth known off)."""
        if self._request is not None and self._token is None and not self._auth_off:
            await self._fetch(endpoint, authenticate, timeout, self._generation)

    async def renew(
        self, endpoint: str, authenticate: Authenticate, timeout: float | None, refused: int
    ) -> bool:
        """After a call with token ``refused`` was refused: fetch a new one (unless another
        call did meanwhile). ``False`` when there are no credentials to do it with."""
        if self._request is None:
            return False
        self._auth_off = False
        await self._fetch(endpoint, authenticate, timeout, refused)
        return True

    async def _fetch(
        self, endpoint: str, authenticate: Authenticate, timeout: float | None, seen: int
    ) -> None:
        assert self._request is not None
        if self._lock is None:
            self._lock = asyncio.Lock()
        async with self._lock:
            if self._generation != seen:
                return  # another call fetched one while this one waited
            try:
                reply = await authenticate(endpoint, self._request, timeout)
            except EtcdException as error:
                if AUTH_NOT_ENABLED in (error.message or ""):
                    self._token = None
                    self._auth_off = True
                    self._generation += 1
                    return
                raise
            self._token = reply.token or None
            self._generation += 1

    def __repr__(self) -> str:
        return f"<TokenManager user={self.username!r} token={'held' if self._token else 'none'}>"
