"""The v2 HTTP API backend: typed requests to HTTP, and replies to models or exceptions.

The wire rules it follows (etcd 3.4 and 3.5 with ``--enable-v2=true``): parameters are
form-encoded; PUT and POST carry them in the body, every other method in the query string
(etcd ignores a DELETE body); every reserved character of a key or value is
percent-encoded, ``;`` and ``+`` included; and a reply is parsed once, from its bytes.
"""

from __future__ import annotations

from typing import TypeVar
from urllib.parse import quote, urlencode

from pydantic import ValidationError

from ._exceptions import (
    EtcdAPIUnavailable,
    EtcdException,
    EtcdTimedOut,
    EtcdUnexpectedResponse,
    EtcdWatchTimedOut,
    error_for,
)
from ._requests import ClusterRequest, DeleteRequest, KeysRequest, ReadRequest, WriteRequest
from ._transport import HttpResponse, Transport, origin
from .models import ErrorPayload, EtcdModel, EtcdResult, Member, VersionInfo

_M = TypeVar("_M", bound=EtcdModel)

_FORM_HEADERS = {"Content-Type": "application/x-www-form-urlencoded"}
_SNIPPET = 200
"""How much of an unexpected body an error message quotes."""


class V2Backend:
    """Speaks etcd's v2 API to one endpoint through a :class:`Transport`."""

    def __init__(self, transport: Transport, base_url: str, version_prefix: str) -> None:
        self._transport = transport
        self._base_url = base_url
        self._api_url = base_url + version_prefix
        self._keys_url = self._api_url + "/keys"

    async def keys(self, request: KeysRequest) -> EtcdResult:
        method, params = _encode(request)
        url = self._keys_url + quote_key(request.key)
        body: bytes | None = None
        if params:
            form = urlencode(params, quote_via=quote, safe="")
            if method in ("PUT", "POST"):
                body = form.encode()
            else:
                url += "?" + form
        elif method in ("PUT", "POST"):
            body = b""
        try:
            response = await self._transport.request(
                method,
                url,
                body=body,
                headers=_FORM_HEADERS if body is not None else None,
                timeout=request.timeout,
            )
        except EtcdTimedOut as exc:
            if isinstance(request, ReadRequest) and request.wait:
                raise EtcdWatchTimedOut(
                    f"no change of {request.key!r} within {request.timeout} s", cause=exc
                ) from exc
            raise
        if response.status in (200, 201):
            return _result(response, url)
        raise _error(response, url)

    async def version(self, request: ClusterRequest) -> VersionInfo:
        url = self._base_url + "/version"
        return _model(VersionInfo, await self._get(url, request), url)

    async def machines(self, request: ClusterRequest) -> list[str]:
        response = await self._get(self._api_url + "/machines", request)
        text = response.body.decode("utf-8", "replace")
        return [machine.strip() for machine in text.split(",") if machine.strip()]

    async def leader(self, request: ClusterRequest) -> Member:
        url = self._api_url + "/members/leader"
        return _model(Member, await self._get(url, request), url)

    async def aclose(self) -> None:
        await self._transport.aclose()

    async def _get(self, url: str, request: ClusterRequest) -> HttpResponse:
        response = await self._transport.request("GET", url, timeout=request.timeout)
        if response.status != 200:
            raise _error(response, url)
        return response


def quote_key(key: str) -> str:
    """The URL path of a normalised key: every segment percent-encoded, ``/`` kept."""
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
        result.etcd_index = _int_header(headers.get("X-Etcd-Index"))
        result.raft_index = _int_header(headers.get("X-Raft-Index"))
        result.raft_term = _int_header(headers.get("X-Raft-Term"))
    except ValueError as exc:
        raise _unexpected(response, url, "an index header is not a number") from exc
    result.cluster_id = headers.get("X-Etcd-Cluster-Id")
    result.new_key = response.status == 201
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
    if response.status == 404 and body.startswith(b"404 page not found"):
        return EtcdAPIUnavailable(
            f"{origin(url)} serves no etcd v2 API at {_path(url)} (HTTP 404): etcd 3.4 and "
            "3.5 serve it only when started with --enable-v2=true, etcd 3.6 not at all; "
            "check version_prefix too",
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
