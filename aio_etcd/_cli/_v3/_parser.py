"""The v3 grammar as etcdctl 3.5 parses it (cobra and pflag): global flags with their
``ETCDCTL_*`` variables, a command of one or two words, its flags anywhere on the line."""

from __future__ import annotations

import contextlib
import os
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Final
from urllib.parse import urlsplit

from ..._constants import DEFAULT_PORT
from ..._v3._client import Etcd3Client
from .._errors import CliError
from .._settings import secret
from ._command import Command, Flag, FlagError, Registry, Usage
from ._errors import EXIT_BAD_FEATURE

DEFAULT_ENDPOINT: Final = "127.0.0.1:2379"

GLOBAL_FLAGS: Final = (
    Flag(
        "cacert",
        "string",
        "",
        "verify certificates of TLS-enabled secure servers using this CA bundle",
    ),
    Flag("cert", "string", "", "identify secure client using this TLS certificate file"),
    Flag(
        "command-timeout",
        "duration",
        5.0,
        "timeout for short running command (excluding dial timeout)",
    ),
    Flag("debug", "bool", False, "accepted; the client logs through Python's logging"),
    Flag("dial-timeout", "duration", 2.0, "dial timeout for client connections"),
    Flag(
        "discovery-srv",
        "string",
        "",
        "domain name to query for SRV records describing cluster endpoints",
        "d",
    ),
    Flag("discovery-srv-name", "string", "", "not supported (service names in SRV records)"),
    Flag(
        "endpoints",
        "strings",
        [DEFAULT_ENDPOINT],
        "comma-separated client URLs (host:port or http(s)://host:port)",
    ),
    Flag("hex", "bool", False, "print byte strings as hex encoded strings"),
    Flag(
        "insecure-discovery",
        "bool",
        True,
        "accept insecure SRV records describing cluster endpoints",
    ),
    Flag("insecure-skip-tls-verify", "bool", False, "skip server certificate verification"),
    Flag("insecure-transport", "bool", True, "disable transport security for client connections"),
    Flag("keepalive-time", "duration", 2.0, "accepted, unused: no gRPC keepalives over HTTP/1.1"),
    Flag(
        "keepalive-timeout", "duration", 6.0, "accepted, unused: no gRPC keepalives over HTTP/1.1"
    ),
    Flag("key", "string", "", "identify secure client using this TLS key file"),
    Flag("password", "string", "", "password for authentication (then --user has no password)"),
    Flag(
        "user",
        "string",
        "",
        "username[:password] for authentication (prompt if password is not supplied)",
    ),
    Flag(
        "write-out", "string", "simple", "set the output format (fields, json, simple, table)", "w"
    ),
)
"""etcdctl 3.5's global flags (``ctlv3/ctl.go``), in its order; defaults in seconds."""

V2_ONLY: Final = frozenset(
    {
        "set",
        "mk",
        "mkdir",
        "rm",
        "rmdir",
        "ls",
        "update",
        "updatedir",
        "setdir",
        "exec-watch",
        "cluster-health",
        "backup",
        "import",
    }
)
"""Commands of the v2 command line with no v3 command of the same name."""

_TRUE: Final = ("1", "t", "T", "TRUE", "true", "True")
_FALSE: Final = ("0", "f", "F", "FALSE", "false", "False")
_DURATION = re.compile(r"([0-9]*(?:\.[0-9]*)?)(ns|us|µs|μs|ms|s|m|h)")
_UNITS: Final = {
    "ns": 1e-9,
    "us": 1e-6,
    "µs": 1e-6,
    "μs": 1e-6,
    "ms": 1e-3,
    "s": 1.0,
    "m": 60.0,
    "h": 3600.0,
}


def go_duration(text: str) -> float:
    """Seconds from a Go duration (``5s``, ``1m30s``, ``500ms``, ``0``), as
    ``time.ParseDuration``; raises ValueError with Go's message."""
    error = ValueError(f'time: invalid duration "{text}"')
    body = text
    sign = 1.0
    if body[:1] in "+-" and body:
        sign = -1.0 if body[0] == "-" else 1.0
        body = body[1:]
    if body == "0":
        return 0.0
    if not body:
        raise error
    total, at = 0.0, 0
    for match in _DURATION.finditer(body):
        number = match.group(1)
        if match.start() != at or number in ("", "."):
            raise error
        total += float(number) * _UNITS[match.group(2)]
        at = match.end()
    if at != len(body):
        if not _DURATION.search(body) and re.fullmatch(r"[0-9.]+", body):
            raise ValueError(f'time: missing unit in duration "{text}"')
        raise error
    return sign * total


def _value(flag: Flag, text: str, shown: str) -> object:
    """``text`` as the value of ``flag`` (shown as ``shown``), or pflag's error."""

    def bad(reason: str) -> FlagError:
        return FlagError(f'invalid argument "{text}" for "{shown}" flag: {reason}')

    if flag.kind == "bool":
        if text in _TRUE:
            return True
        if text in _FALSE:
            return False
        raise bad(f'strconv.ParseBool: parsing "{text}": invalid syntax')
    if flag.kind in ("int", "uint"):
        parse = "ParseInt" if flag.kind == "int" else "ParseUint"
        try:
            number = int(text, 0)
        except ValueError:
            raise bad(f'strconv.{parse}: parsing "{text}": invalid syntax') from None
        if flag.kind == "uint" and number < 0:
            raise bad(f'strconv.ParseUint: parsing "{text}": invalid syntax')
        low, high = (0, 2**64) if flag.kind == "uint" else (-(2**63), 2**63)
        if not low <= number < high:
            raise bad(f'strconv.{parse}: parsing "{text}": value out of range')
        return number
    if flag.kind == "duration":
        try:
            return go_duration(text)
        except ValueError as exc:
            raise bad(str(exc)) from None
    if flag.kind == "strings":
        return list(text.split(","))
    return text


@dataclass
class Parsed:
    """A command line taken apart."""

    command: Command | None
    """``None`` for ``aio-etcd`` alone (the tour) or a bare group (help)."""
    words: tuple[str, ...]
    args: list[str]
    flags: dict[str, object]
    given: set[str]
    """The flags given on the command line (not from defaults nor the environment)."""
    dash: int | None
    help: bool = False


def parse(argv: Sequence[str], registry: Registry, environ: Mapping[str, str]) -> Parsed:
    """The command, its arguments and every flag's value (flag, then ``ETCDCTL_*``, then
    default), or :class:`FlagError`/:class:`Usage` as etcdctl reports them."""
    words = _command_words(argv, registry)
    command = registry.commands.get(words)
    flags = list(GLOBAL_FLAGS) + list(command.flags if command else ())
    flags.append(Flag("help", "bool", False, "help", "h"))
    values, given, positional, dash = parse_flags(argv, flags)
    if values["help"]:
        return Parsed(command, words, [], values, given, dash, help=True)
    _from_environment(values, given, environ)
    # The command's words are the first positional arguments (flags may precede them).
    args = positional[len(words) :]
    if dash is not None:
        dash = max(dash - len(words), 0)
    if command is None and words:
        return Parsed(None, words, args, values, given, dash, help=True)
    if command is not None and command.check is not None:
        command.check(args, values)
    return Parsed(command, words, args, values, given, dash)


def parse_flags(
    argv: Sequence[str], flags: Sequence[Flag]
) -> tuple[dict[str, object], set[str], list[str], int | None]:
    """Flags as pflag reads them (``--name value``, ``--name=value``, ``-w json``,
    ``-wjson``, bools without a value, ``--`` ending the flags): every flag's value (the
    default when not given), the names given, the other arguments, and how many of those
    came before ``--`` (``None`` without one)."""
    by_name = {f.name: f for f in flags}
    by_short = {f.short: f for f in flags if f.short}
    values: dict[str, object] = {f.name: f.default for f in flags}
    given: set[str] = set()
    positional: list[str] = []
    dash: int | None = None
    tokens = list(argv)
    i = 0

    def store(flag: Flag, text: str, shown: str) -> None:
        value = _value(flag, text, shown)
        if flag.kind == "strings" and flag.name in given:
            assert isinstance(value, list)
            current = values[flag.name]
            assert isinstance(current, list)
            value = current + value
        values[flag.name] = value
        given.add(flag.name)

    while i < len(tokens):
        token = tokens[i]
        i += 1
        if token == "--":
            dash = len(positional)
            positional.extend(tokens[i:])
            break
        if token.startswith("--") and len(token) > 2:
            name, equals, text = token[2:].partition("=")
            flag = by_name.get(name)
            if flag is None:
                raise FlagError(f"unknown flag: --{name}")
            if equals:
                store(flag, text, f"--{name}")
            elif flag.kind == "bool":
                store(flag, "true", f"--{name}")
            elif i < len(tokens):
                store(flag, tokens[i], f"--{name}")
                i += 1
            else:
                raise FlagError(f"flag needs an argument: --{name}")
        elif token.startswith("-") and len(token) > 1:
            shorts = token[1:]
            while shorts:
                letter, shorts = shorts[0], shorts[1:]
                flag = by_short.get(letter)
                if flag is None:
                    raise FlagError(f"unknown shorthand flag: {letter!r} in {token}")
                shown = f"-{letter}"
                if shorts.startswith("="):
                    store(flag, shorts[1:], shown)
                    shorts = ""
                elif flag.kind == "bool":
                    store(flag, "true", shown)
                elif shorts:
                    store(flag, shorts, shown)
                    shorts = ""
                elif i < len(tokens):
                    store(flag, tokens[i], shown)
                    i += 1
                else:
                    raise FlagError(f"flag needs an argument: {letter!r} in {token}")
        else:
            positional.append(token)
    return values, given, positional, dash


def _command_words(argv: Sequence[str], registry: Registry) -> tuple[str, ...]:
    """The words naming the command, found as cobra finds them (``stripFlags``): the
    arguments that are not flags, where a flag without ``=`` that is not a known boolean
    takes the next argument as its value, even an unknown flag's."""
    booleans = {f"--{f.name}" for f in GLOBAL_FLAGS if f.kind == "bool"} | {"--help"}
    booleans |= {f"-{f.short}" for f in GLOBAL_FLAGS if f.short and f.kind == "bool"} | {"-h"}
    found: list[str] = []
    rest = list(argv)
    while rest and len(found) < 2:
        token = rest.pop(0)
        if token == "--":
            break
        if (
            "=" not in token
            and token not in booleans
            and (token.startswith("--") or (token.startswith("-") and len(token) == 2))
        ):
            if len(rest) <= 1:
                break
            rest.pop(0)
            continue
        if token.startswith("-") or not token:
            continue
        found.append(token)
        if len(found) == 1 and token not in registry.groups:
            break
    if not found:
        return ()
    first = found[0]
    if first in registry.groups:
        if len(found) > 1 and (first, found[1]) in registry.commands:
            return (first, found[1])
        return (first,)
    if (first,) in registry.commands:
        return (first,)
    if first in V2_ONLY:
        raise Usage(
            f'"{first}" is a command of the v2 API: pass --api 2 or set ETCDCTL_API=2 to use it'
        )
    raise FlagError(f'unknown command "{first}" for "aio-etcd"')


def _from_environment(
    values: dict[str, object], given: set[str], environ: Mapping[str, str]
) -> None:
    """Fill the global flags not given from ``ETCDCTL_<FLAG>`` (etcdctl refuses both; the
    flag wins here)."""
    for flag in GLOBAL_FLAGS:
        variable = "ETCDCTL_" + flag.name.upper().replace("-", "_")
        text = environ.get(variable)
        if flag.name in given or text is None:
            continue
        with contextlib.suppress(FlagError):  # etcdctl ignores a value it cannot read
            values[flag.name] = _value(flag, text, variable)


@dataclass(frozen=True)
class Globals:
    """The global flags a command runs with."""

    endpoints: tuple[str, ...]
    write_out: str
    hex: bool
    dial_timeout: float
    command_timeout: float
    cacert: str | None
    cert: str | None
    key: str | None
    user: str | None
    password: str | None
    insecure_skip_tls_verify: bool
    insecure_transport: bool
    discovery_srv: str | None
    discovery_srv_name: str | None

    def client(self) -> Etcd3Client:
        """A client as etcdctl's: the endpoints as given (no member discovery), every call
        limited to ``--command-timeout``."""
        tls = bool(self.cacert or self.cert or not self.insecure_transport)
        hosts: list[tuple[str, int]] = []
        for endpoint in self.endpoints:
            url = urlsplit(endpoint if "://" in endpoint else f"//{endpoint}")
            if url.scheme == "https" or url.scheme == "unixs":
                tls = True
            try:
                port = url.port or DEFAULT_PORT
            except ValueError:
                raise Usage(f"invalid endpoint {endpoint!r}: bad port") from None
            if not url.hostname or url.scheme not in ("", "http", "https"):
                raise Usage(f"invalid endpoint {endpoint!r}: give host:port or http(s)://host:port")
            hosts.append((url.hostname, port))
        username, password = self.credentials()
        cert = (self.cert, self.key) if self.cert and self.key else self.cert
        srv = self.discovery_srv
        if self.discovery_srv_name:
            raise CliError("--discovery-srv-name is not supported", EXIT_BAD_FEATURE)
        return Etcd3Client(
            hosts if srv is None else "127.0.0.1",
            srv_domain=srv,
            protocol="https" if tls else "http",
            read_timeout=self.command_timeout,
            ca_cert=self.cacert if tls else None,
            cert=cert if tls else None,
            ssl_verify=not self.insecure_skip_tls_verify,
            username=username,
            password=password,
            use_proxies=len(hosts) > 1,
        )

    def credentials(self) -> tuple[str | None, str | None]:
        if not self.user:
            return None, None
        if self.password is not None:
            if ":" in self.user:
                raise Usage("the --user flag includes a password when --password is given")
            return self.user, self.password
        name, colon, password = self.user.partition(":")
        if not colon:
            password = secret("Password: ", hint="give --user name:password or --password")
        return name, password


def globals_from(values: Mapping[str, object]) -> Globals:
    def text(name: str) -> str | None:
        value = values[name]
        assert isinstance(value, str)
        return value or None

    def seconds(name: str) -> float:
        value = values[name]
        assert isinstance(value, float | int)
        return float(value)

    endpoints = values["endpoints"]
    assert isinstance(endpoints, list)
    output = str(values["write-out"])
    return Globals(
        endpoints=tuple(e.strip() for e in endpoints if e.strip()) or (DEFAULT_ENDPOINT,),
        write_out=output,
        hex=bool(values["hex"]),
        dial_timeout=seconds("dial-timeout"),
        command_timeout=seconds("command-timeout"),
        cacert=text("cacert"),
        cert=text("cert"),
        key=text("key"),
        user=text("user"),
        password=text("password"),
        insecure_skip_tls_verify=bool(values["insecure-skip-tls-verify"]),
        insecure_transport=bool(values["insecure-transport"]),
        discovery_srv=text("discovery-srv"),
        discovery_srv_name=text("discovery-srv-name"),
    )


def environ_default() -> Mapping[str, str]:
    return os.environ
