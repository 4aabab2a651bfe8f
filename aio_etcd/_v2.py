"""The v2 HTTP API backend: typed requests to HTTP, and replies to models or exceptions.

The wire rules it follows (etcd 3.4 and 3.5 with ``--enable-v2=true``): parameters are
form-encoded; PUT and POST carry them in the body, every other method in the query string
(etcd ignores a DELETE body); every reserved character of a key or value is
percent-encoded, ``;`` and ``+`` included; and a reply is parsed once, from its bytes.
"""

from __future__ import annotations

import contextlib
import functools
import json
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import replace
from typing import TypeAlias, TypeVar
from urllib.parse import quote, urlencode, urlsplit

from pydantic import ValidationError

from ._backend import AuthReply, EventStream
from ._exceptions import (
    EtcdAPIUnavailable,
    EtcdException,
    EtcdUnexpectedResponse,
    error_for,
)
from ._requests import (
    AuthRequest,
    AuthSwitch,
    DeleteRequest,
    KeysRequest,
    ReadRequest,
    UserCall,
    WriteRequest,
)
from ._transport import HttpResponse, HttpStream, Transport, origin
from .models import (
    AuthStatus,
    ErrorPayload,
    EtcdModel,
    EtcdResult,
    Health,
    LeaderStats,
    Member,
    MemberList,
    Role,
    RoleList,
    SelfStats,
    StoreStats,
    User,
    UserList,
    VersionInfo,
)

_M = TypeVar("_M", bound=EtcdModel)

_FORM_HEADERS = {"Content-Type": "application/x-www-form-urlencoded"}
_JSON_HEADERS = {"Content-Type": "application/json"}
_SNIPPET = 200
"""How much of an unexpected body an error message quotes."""

ReplyCheck = Callable[[str | None, str], None]
"""Called with each reply's ``X-Etcd-Cluster-Id`` and the endpoint; raises to refuse it."""


class V2Backend:
    """Speaks etcd's v2 API through a :class:`Transport`, to whichever endpoint it is given."""

    def __init__(
        self,
        transport: Transport,
        version_prefix: str,
        *,
        check_reply: ReplyCheck | None = None,
        authorization: str | None = None,
    ) -> None:
        """``authorization``: the ``Authorization`` header every request carries."""
        auth = {} if authorization is None else {"Authorization": authorization}
        self._plain_headers = auth or None
        self._form_headers = {**_FORM_HEADERS, **auth}
        self._json_headers = {**_JSON_HEADERS, **auth}
        self._transport = transport
        self._prefix = version_prefix
        self._keys_path = version_prefix + "/keys"
        self._check_reply = check_reply

    async def keys(self, endpoint: str, request: KeysRequest, timeout: float | None) -> EtcdResult:
        method, params = _encode(request)
        url = endpoint + self._keys_path + quote_key(request.key)
        body: bytes | None = None
        if params:
            form = urlencode(params, quote_via=quote, safe="")
            if method in ("PUT", "POST"):
                body = form.encode()
            else:
                url += "?" + form
        elif method in ("PUT", "POST"):
            body = b""
        waits = isinstance(request, ReadRequest) and request.wait
        response = await self._transport.request(
            method,
            url,
            body=body,
            headers=self._form_headers if body is not None else self._plain_headers,
            timeout=timeout,
            long_poll=waits,
        )
        if self._check_reply is not None:
            self._check_reply(response.headers.get("X-Etcd-Cluster-Id"), endpoint)
        if response.status in (200, 201):
            return _result(response, url)
        raise _error(response, url)

    async def version(self, endpoint: str, timeout: float | None) -> VersionInfo:
        return await self._get_model(VersionInfo, endpoint, "/version", timeout)

    async def health(self, endpoint: str, timeout: float | None) -> Health:
        url = endpoint + "/health"
        response = await self._send(endpoint, "GET", url, timeout=timeout)
        if response.status not in (200, 503):  # 503 carries the same body: not healthy
            raise _error(response, url)
        return _model(Health, response, url)

    async def machines(self, endpoint: str, timeout: float | None) -> list[str]:
        url = endpoint + self._prefix + "/machines"
        response = await self._send(endpoint, "GET", url, timeout=timeout)
        if response.status != 200:
            raise _error(response, url)
        text = response.body.decode("utf-8", "replace")
        machines = [machine.strip() for machine in text.split(",") if machine.strip()]
        if not machines or not all(_is_url(machine) for machine in machines):
            raise _unexpected(response, url, "not a list of client URLs")
        return machines

    async def members(self, endpoint: str, timeout: float | None) -> list[Member]:
        path = self._prefix + "/members"
        return (await self._get_model(MemberList, endpoint, path, timeout)).members

    async def leader(self, endpoint: str, timeout: float | None) -> Member:
        return await self._get_model(Member, endpoint, self._prefix + "/members/leader", timeout)

    async def self_stats(self, endpoint: str, timeout: float | None) -> SelfStats:
        return await self._get_model(SelfStats, endpoint, self._prefix + "/stats/self", timeout)

    async def leader_stats(self, endpoint: str, timeout: float | None) -> LeaderStats:
        path = self._prefix + "/stats/leader"
        return await self._get_model(LeaderStats, endpoint, path, timeout)

    async def store_stats(self, endpoint: str, timeout: float | None) -> StoreStats:
        return await self._get_model(StoreStats, endpoint, self._prefix + "/stats/store", timeout)

    async def add_member(
        self, endpoint: str, peer_urls: Sequence[str], timeout: float | None
    ) -> Member:
        url = endpoint + self._prefix + "/members"
        response = await self._send(
            endpoint,
            "POST",
            url,
            body=_peer_urls(peer_urls),
            headers=self._json_headers,
            timeout=timeout,
        )
        if response.status == 500:
            error = _error(response, url)
            error.message = error.args[0] + (
                ": etcd refuses new members until every member has been connected for 5 s "
                "(its strict reconfiguration check); its log says more"
            )
            error.args = (error.message,)
            raise error
        if response.status != 201:
            raise _error(response, url)
        return _model(Member, response, url)

    async def update_member(
        self, endpoint: str, member_id: str, peer_urls: Sequence[str], timeout: float | None
    ) -> None:
        url = endpoint + self._prefix + "/members/" + quote(member_id, safe="")
        body = _peer_urls(peer_urls)
        response = await self._send(
            endpoint, "PUT", url, body=body, headers=self._json_headers, timeout=timeout
        )
        if response.status != 204:
            raise _error(response, url)

    async def remove_member(self, endpoint: str, member_id: str, timeout: float | None) -> None:
        url = endpoint + self._prefix + "/members/" + quote(member_id, safe="")
        response = await self._send(endpoint, "DELETE", url, timeout=timeout)
        if response.status != 204:
            raise _error(response, url)

    @contextlib.asynccontextmanager
    async def watch(
        self,
        endpoint: str,
        key: str,
        *,
        recursive: bool,
        wait_index: int | None,
        timeout: float | None,
        stream: bool = True,
    ) -> AsyncIterator[EventStream]:
        params = {"wait": "true", "stream": "true"} if stream else {"wait": "true"}
        if recursive:
            params["recursive"] = "true"
        if wait_index is not None:
            params["waitIndex"] = str(wait_index)
        url = f"{endpoint}{self._keys_path}{quote_key(key)}?{urlencode(params)}"
        stream_of = self._transport.stream("GET", url, headers=self._plain_headers, timeout=timeout)
        async with stream_of as reply:
            if self._check_reply is not None:
                self._check_reply(reply.headers.get("X-Etcd-Cluster-Id"), endpoint)
            if reply.status != 200:
                raise _error(HttpResponse(reply.status, reply.headers, await reply.read()), url)
            yield _V2EventStream(reply, url, single=not stream)

    async def auth(self, endpoint: str, request: AuthRequest, timeout: float | None) -> AuthReply:
        method, path, document, model = _auth_call(request)
        reply = await self._auth(endpoint, method, path, document, model, timeout)
        return reply if request.reads else None

    async def _auth(
        self,
        endpoint: str,
        method: str,
        path: str,
        document: dict[str, object] | None,
        model: type[_M],
        timeout: float | None,
    ) -> _M | None:
        """A call of the v2 auth API at ``/v2/auth/<path>``; the reply as ``model``, or
        ``None`` when etcd sends no body."""
        url = f"{endpoint}{self._prefix}/auth/{path}"
        body = None if document is None else json.dumps(document).encode()
        response = await self._send(
            endpoint,
            method,
            url,
            body=body,
            headers=self._json_headers if body is not None else None,
            timeout=timeout,
        )
        if response.status not in (200, 201):
            raise _error(response, url)
        return _model(model, response, url) if response.body.strip() else None

    async def aclose(self) -> None:
        await self._transport.aclose()

    async def _get_model(
        self, model: type[_M], endpoint: str, path: str, timeout: float | None
    ) -> _M:
        url = endpoint + path
        response = await self._send(endpoint, "GET", url, timeout=timeout)
        if response.status != 200:
            raise _error(response, url)
        return _model(model, response, url)

    async def _send(
        self,
        endpoint: str,
        method: str,
        url: str,
        *,
        body: bytes | None = None,
        headers: dict[str, str] | None = None,
        timeout: float | None,
        long_poll: bool = False,
    ) -> HttpResponse:
        response = await self._transport.request(
            method,
            url,
            body=body,
            headers=headers or self._plain_headers,
            timeout=timeout,
            long_poll=long_poll,
        )
        if self._check_reply is not None:
            self._check_reply(response.headers.get("X-Etcd-Cluster-Id"), endpoint)
        return response


class _V2EventStream:
    """Events of a ``stream=true`` watch, one JSON object a line; or with ``single``, the one
    event of a plain watch (read to its end, so that its connection can be used again)."""

    def __init__(self, stream: HttpStream, url: str, *, single: bool = False) -> None:
        self._stream = stream
        self._url = url
        self._single = single
        self._empty = HttpResponse(stream.status, stream.headers, b"")
        self.ends_after_history = True
        self.revision_continues = False
        self.progress_index: int | None = None
        try:
            self.etcd_index = _int_header(stream.headers.get("X-Etcd-Index"))
        except ValueError as exc:
            raise _unexpected(self._empty, url, "an index header is not a number") from exc

    async def next_event(self) -> EtcdResult | None:
        if self._single:
            body = await self._stream.read()
            return _result(replace(self._empty, body=body), self._url) if body.strip() else None
        while True:
            line = await self._stream.readline()
            if not line.endswith(b"\n"):
                return None  # the end, or a line cut off by a server going away
            if line.strip():
                return _result(replace(self._empty, body=line), self._url)


_AuthModel: TypeAlias = (
    "type[AuthStatus] | type[User] | type[Role] | type[UserList] | type[RoleList]"
)


def _auth_call(
    request: AuthRequest,
) -> tuple[str, str, dict[str, object] | None, _AuthModel]:
    """The method, path below ``/v2/auth/``, JSON document and reply model of a call."""
    if isinstance(request, AuthSwitch):
        method = {None: "GET", True: "PUT", False: "DELETE"}[request.enable]
        return method, "enable", None, AuthStatus
    if isinstance(request, UserCall):
        path = f"users/{request.name}"
        user: dict[str, object] = {"user": request.name}
        match request.op:
            case "list":
                return "GET", "users", None, UserList
            case "get":
                return "GET", path, None, User
            case "delete":
                return "DELETE", path, None, User
            case "create":
                document = {**user, "password": request.password, "roles": list(request.roles)}
                return "PUT", path, document, User
            case "password":
                return "PUT", path, {**user, "password": request.password}, User
            case "grant" | "revoke":
                return "PUT", path, {**user, request.op: list(request.roles)}, User
    path = f"roles/{request.name}"
    kv = {"kv": {"read": list(request.read), "write": list(request.write)}}
    match request.op:
        case "list":
            return "GET", "roles", None, RoleList
        case "get":
            return "GET", path, None, Role
        case "delete":
            return "DELETE", path, None, Role
        case "create":
            return "PUT", path, {"role": request.name, "permissions": kv}, Role
        case "grant" | "revoke":
            return "PUT", path, {"role": request.name, request.op: kv}, Role


def _is_url(text: str) -> bool:
    parts = urlsplit(text)
    return parts.scheme in ("http", "https") and bool(parts.hostname)


def _peer_urls(peer_urls: Sequence[str]) -> bytes:
    return json.dumps({"peerURLs": list(peer_urls)}).encode()


@functools.lru_cache(maxsize=4096)
def quote_key(key: str) -> str:
    """The URL path of a normalised key: every segment percent-encoded, ``/`` kept.
    Cached: programs use the same keys again and again."""
    return "/".join(quote(segment, safe="") for segment in key.split("/"))


def _encode(request: KeysRequest) -> tuple[str, dict[str, str]]:
    """The HTTP method and the form parameters of a keys request."""
    params: dict[str, str] = {}
    if isinstance(request, WriteRequest):
        if request.value is not None and not request.dir:
            params["value"] = request.value
        if request.ttl is not None:
            params["ttl"] = str(request.ttl)
        if request.dir:
            params["dir"] = "true"
        if request.prev_value is not None:
            params["prevValue"] = request.prev_value
        if request.prev_index is not None:
            params["prevIndex"] = str(request.prev_index)
        if request.prev_exist is not None:
            params["prevExist"] = "true" if request.prev_exist else "false"
        if request.refresh:
            params["refresh"] = "true"
        return ("POST" if request.append else "PUT"), params
    if isinstance(request, ReadRequest):
        for name, on in (
            ("recursive", request.recursive),
            ("sorted", request.sorted),
            ("quorum", request.quorum),
            ("wait", request.wait),
        ):
            if on:
                params[name] = "true"
        if request.wait_index is not None:
            params["waitIndex"] = str(request.wait_index)
        return "GET", params
    if isinstance(request, DeleteRequest):
        if request.recursive:
            params["recursive"] = "true"
        if request.dir:
            params["dir"] = "true"
        if request.prev_value is not None:
            params["prevValue"] = request.prev_value
        if request.prev_index is not None:
            params["prevIndex"] = str(request.prev_index)
        return "DELETE", params
    raise TypeError(f"not a keys request: {request!r}")  # pragma: no cover


def _result(response: HttpResponse, url: str) -> EtcdResult:
    result = _model(EtcdResult, response, url)
    headers = response.headers
    try:
        what_headers_say = {
            "etcd_index": _int_header(headers.get("X-Etcd-Index")),
            "raft_index": _int_header(headers.get("X-Raft-Index")),
            "raft_term": _int_header(headers.get("X-Raft-Term")),
            "cluster_id": headers.get("X-Etcd-Cluster-Id"),
            "new_key": response.status == 201,
        }
    except ValueError as exc:
        raise _unexpected(response, url, "an index header is not a number") from exc
    # Checked values, set straight: pydantic's __setattr__ costs more than the parse.
    vars(result).update(what_headers_say)
    return result


def _int_header(value: str | None) -> int | None:
    return None if value is None else int(value)


def _model(model: type[_M], response: HttpResponse, url: str) -> _M:
    try:
        return model.model_validate_json(response.body)
    except ValidationError as exc:
        raise _unexpected(response, url, f"not a valid {model.__name__}") from exc


def _error(response: HttpResponse, url: str) -> EtcdException:
    """The exception for a reply that is not a success, whichever shape its body has."""
    body = response.body
    if body.lstrip()[:1] == b"{":
        try:
            payload = ErrorPayload.model_validate_json(body)
        except ValidationError:
            payload = None
        if payload is not None and (payload.error_code is not None or payload.message):
            return error_for(payload, response.status)
    if response.status == 401:  # e.g. a proxy's own authentication
        return error_for(_text_payload(body), 401)
    if response.status == 404:  # etcd's v2 API answers every 404 of its own in JSON
        return EtcdAPIUnavailable(
            f"{origin(url)} serves no etcd v2 API at {_path(url)} (HTTP 404): etcd 3.4 and "
            "3.5 serve it only when started with --enable-v2=true, etcd 3.6 not at all; "
            "pass api='v3' to run the same calls on its v3 API (a separate store: keys "
            "written through v2 are not there), or check version_prefix",
            _text_payload(body),
            status=404,
        )
    return _unexpected(response, url, "not an etcd reply")


def _unexpected(response: HttpResponse, url: str, why: str) -> EtcdUnexpectedResponse:
    return EtcdUnexpectedResponse(
        f"{why}: HTTP {response.status} from {origin(url)}, body {response.body[:_SNIPPET]!r}",
        _text_payload(response.body),
        status=response.status,
    )


def _text_payload(body: bytes) -> ErrorPayload:
    return ErrorPayload(message=body[:_SNIPPET].decode("utf-8", "replace"))


def _path(url: str) -> str:
    return "/" + url.partition("://")[2].split("/", 1)[1].split("?", 1)[0]
