"""The global flags and their environment variables: where etcd is, and how to talk to it."""

from __future__ import annotations

import argparse
import getpass
import os
import re
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Final
from urllib.parse import urlsplit

from .._client import Client
from .._constants import DEFAULT_PORT
from .._http11 import proxy_for
from .._security import Cert, tls_context
from .._transport import AiohttpTransport, Transport
from ._errors import CliError

DEFAULT_ENDPOINTS: Final = "http://127.0.0.1:2379"
DEFAULT_TIMEOUT: Final = "5s"
PASSWORD_ENV: Final = "ETCDCTL_PASSWORD"
ENDPOINT_ENVS: Final = ("ETCDCTL_ENDPOINTS", "ETCDCTL_ENDPOINT", "ETCDCTL_PEERS")
"""Read in this order when no endpoint flag is given, as etcdctl does."""
OUTPUTS: Final = ("simple", "json", "extended")

_DURATION = re.compile(r"(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|ms|s|m|h)")
_UNITS: Final = {
    "ns": 1e-9,
    "us": 1e-6,
    "µs": 1e-6,
    "ms": 1e-3,
    "s": 1.0,
    "m": 60.0,
    "h": 3600.0,
}


def duration(text: str) -> float:
    """Seconds, from ``2.5`` or a Go duration as etcdctl takes (``2s``, ``500ms``, ``1m30s``)."""
    value = text.strip()
    try:
        seconds = float(value)
    except ValueError:
        parts = _DURATION.findall(value)
        if not parts or "".join(number + unit for number, unit in parts) != value:
            raise argparse.ArgumentTypeError(
                f"invalid duration {text!r}: give seconds (2.5) or a duration (2s, 500ms, 1m)"
            ) from None
        seconds = sum(float(number) * _UNITS[unit] for number, unit in parts)
    if not seconds > 0 or seconds == float("inf"):
        raise argparse.ArgumentTypeError(f"invalid duration {text!r}: it must be positive")
    return seconds


def add_global_options(parser: argparse.ArgumentParser) -> None:
    """The flags every command takes, before or after its name.

    Defaults are suppressed here, so that a flag given before the command is not reset
    by the command's own copy of it; :func:`settings_from` fills them in.
    """
    group = parser.add_argument_group("global options")
    hide = argparse.SUPPRESS
    group.add_argument(
        "--endpoints",
        "--endpoint",
        "--peers",
        "-C",
        dest="endpoints",
        default=hide,
        metavar="URLS",
        help="comma-separated client URLs of the cluster "
        f"(env ETCDCTL_ENDPOINTS; default {DEFAULT_ENDPOINTS})",
    )
    group.add_argument(
        "--discovery-srv",
        "-D",
        dest="discovery_srv",
        default=hide,
        metavar="DOMAIN",
        help="find the endpoints in this domain's DNS SRV records (env ETCDCTL_DISCOVERY_SRV)",
    )
    group.add_argument(
        "--no-sync",
        dest="no_sync",
        action="store_true",
        default=hide,
        help="talk to the given endpoints only, never to other members the cluster reports",
    )
    group.add_argument(
        "--ca-file",
        dest="ca_file",
        default=hide,
        metavar="FILE",
        help="verify https servers with this CA bundle (env ETCDCTL_CA_FILE)",
    )
    group.add_argument(
        "--cert-file",
        dest="cert_file",
        default=hide,
        metavar="FILE",
        help="identify to https servers with this certificate (env ETCDCTL_CERT_FILE)",
    )
    group.add_argument(
        "--key-file",
        dest="key_file",
        default=hide,
        metavar="FILE",
        help="the key of --cert-file (env ETCDCTL_KEY_FILE)",
    )
    group.add_argument(
        "--username",
        "-u",
        dest="username",
        default=hide,
        metavar="USER[:PASSWORD]",
        help=f"authenticate as USER (env ETCDCTL_USERNAME); the password comes from "
        f"${PASSWORD_ENV}, else a prompt",
    )
    group.add_argument(
        "--output",
        "-o",
        dest="output",
        choices=OUTPUTS,
        default=hide,
        help="output format: simple (default), json or extended",
    )
    group.add_argument(
        "--timeout",
        dest="timeout",
        type=duration,
        default=hide,
        metavar="DURATION",
        help=f"limit of each request, retries included: seconds or 2s, 500ms... "
        f"(default {DEFAULT_TIMEOUT})",
    )
    group.add_argument(
        "--total-timeout",
        dest="total_timeout",
        type=duration,
        default=hide,
        metavar="DURATION",
        help="limit of the whole command, except watches, exec-watch and lock (default: none)",
    )


@dataclass(frozen=True)
class Settings:
    """Everything needed to make clients, resolved from flags and environment."""

    endpoints: tuple[str, ...]
    protocol: str
    srv_domain: str | None = None
    no_sync: bool = False
    ca_file: str | None = None
    cert: Cert | None = None
    username: str | None = None
    password: str | None = field(default=None, repr=False)
    timeout: float = 5.0
    total_timeout: float | None = None
    output: str = "simple"

    def client(self, endpoint: str | None = None) -> Client:
        """A client of the cluster, or of the one member at ``endpoint`` when given."""
        if endpoint is not None:
            protocol, hosts = _parse_endpoints([endpoint])
            return self._make(hosts, protocol, allow_reconnect=False)
        if self.srv_domain is not None:
            return self._make([], self.protocol, srv_domain=self.srv_domain)
        protocol, hosts = _parse_endpoints(self.endpoints)
        return self._make(hosts, protocol, use_proxies=self.no_sync and len(hosts) > 1)

    def _make(
        self,
        hosts: list[tuple[str, int]],
        protocol: str,
        *,
        srv_domain: str | None = None,
        allow_reconnect: bool | None = None,
        use_proxies: bool = False,
    ) -> Client:
        tls = protocol == "https"  # etcdctl ignores TLS files for http endpoints; so do we
        host: str | list[tuple[str, int]] = hosts
        port = DEFAULT_PORT
        if len(hosts) == 1:
            ((host, port),) = hosts
        elif not hosts:
            host = "127.0.0.1"  # unused: the SRV records name the members
        transport: Transport | None = None
        if any(proxy_for(protocol, name) for name, _ in hosts):
            # etcdctl goes through the environment's proxies; the default transport does not.
            context = None
            if tls:
                context = tls_context(
                    ca_cert=self.ca_file, cert=self.cert, ssl_verify=True, ssl_context=None
                )
            transport = AiohttpTransport(trust_env=True, ssl_context=context)
        return Client(
            host,
            port,
            srv_domain=srv_domain,
            protocol=protocol,
            ca_cert=self.ca_file if tls else None,
            cert=self.cert if tls else None,
            username=self.username,
            password=self.password,
            read_timeout=self.timeout,
            allow_reconnect=allow_reconnect,
            use_proxies=use_proxies,
            transport=transport,
        )


def settings_from(args: argparse.Namespace, environ: Mapping[str, str] = os.environ) -> Settings:
    """The settings the flags (first) and environment variables (then) give."""
    endpoints_text = getattr(args, "endpoints", None) or next(
        (environ[name] for name in ENDPOINT_ENVS if environ.get(name)), DEFAULT_ENDPOINTS
    )
    endpoints = tuple(e.strip() for e in endpoints_text.split(",") if e.strip())
    srv_domain = (
        getattr(args, "discovery_srv", None) or environ.get("ETCDCTL_DISCOVERY_SRV") or None
    )
    ca_file = getattr(args, "ca_file", None) or environ.get("ETCDCTL_CA_FILE") or None
    cert_file = getattr(args, "cert_file", None) or environ.get("ETCDCTL_CERT_FILE") or None
    key_file = getattr(args, "key_file", None) or environ.get("ETCDCTL_KEY_FILE") or None
    if srv_domain is not None:
        protocol = "https" if ca_file or cert_file else "http"
    else:
        protocol, _ = _parse_endpoints(endpoints)
    cert: Cert | None = None
    if key_file and not cert_file:
        raise CliError("--key-file needs --cert-file")
    if cert_file:
        cert = (cert_file, key_file) if key_file else cert_file
    username_flag = getattr(args, "username", None) or environ.get("ETCDCTL_USERNAME") or None
    username, password = None, None
    if username_flag is not None:
        username, password = credentials(username_flag, environ)
    timeout: float = getattr(args, "timeout", None) or duration(DEFAULT_TIMEOUT)
    return Settings(
        endpoints=endpoints,
        protocol=protocol,
        srv_domain=srv_domain,
        no_sync=bool(getattr(args, "no_sync", False)),
        ca_file=ca_file,
        cert=cert,
        username=username,
        password=password,
        timeout=timeout,
        total_timeout=getattr(args, "total_timeout", None),
        output=getattr(args, "output", None) or "simple",
    )


def credentials(flag: str, environ: Mapping[str, str]) -> tuple[str, str]:
    """``user:password``, or ``user`` with the password from ``$ETCDCTL_PASSWORD`` or a
    prompt on the terminal (never echoed)."""
    username, colon, password = flag.partition(":")
    if not username:
        raise CliError("--username needs a user name")
    if colon:
        return username, password
    if environ.get(PASSWORD_ENV):
        return username, environ[PASSWORD_ENV]
    return username, secret("Password: ", hint=f"set {PASSWORD_ENV}")


def secret(prompt: str, *, hint: str) -> str:
    """A password typed at the terminal, not echoed; without a terminal, a clear error
    rather than a wait (``hint`` says what to do instead)."""
    if sys.stdin is None or not sys.stdin.isatty():
        raise CliError(f"no terminal to ask for the password: {hint}")
    try:
        return getpass.getpass(prompt)
    except EOFError:
        raise CliError("no password given") from None


def _parse_endpoints(endpoints: tuple[str, ...] | list[str]) -> tuple[str, list[tuple[str, int]]]:
    """The scheme the endpoints share and their ``(host, port)``; a URL without a scheme is
    http, without a port on etcd's client port."""
    if not endpoints:
        raise CliError("no endpoints given")
    schemes, hosts = set(), []
    for endpoint in endpoints:
        url = urlsplit(endpoint if "://" in endpoint else f"http://{endpoint}")
        try:
            port = url.port or DEFAULT_PORT
        except ValueError:
            raise CliError(f"invalid endpoint {endpoint!r}: bad port") from None
        if url.scheme not in ("http", "https") or not url.hostname or url.path not in ("", "/"):
            raise CliError(f"invalid endpoint {endpoint!r}: give http(s)://host:port")
        schemes.add(url.scheme)
        hosts.append((url.hostname, port))
    if len(schemes) > 1:
        raise CliError("the endpoints must all be http:// or all https://")
    return schemes.pop(), hosts
