"""``get``, ``put``, ``del``, ``txn`` and ``compaction``, as etcdctl 3.5's
(``ctlv3/command/{get,put,del,txn,compaction}_command.go``).

Requests are sent as the user wrote them (an empty key, a range end before its key): etcd
answers them as it answers etcdctl, rather than the client refusing them first.
"""

from __future__ import annotations

import re
import sys
from typing import TypeVar

from ..._v3._kv import CreateRevision, ModRevision, Value, Version
from ..._v3._kv import LeaseId as LeaseTarget
from ...models.v3 import (
    CompactionRequest,
    CompactionResponse,
    DeleteRangeRequest,
    DeleteRangeResponse,
    KeyValue,
    PutRequest,
    PutResponse,
    RangeRequest,
    RangeResponse,
    TxnRequest,
    TxnResponse,
)
from ...models.v3._base import V3Model, V3Request
from ...models.v3.kv import SortOrder, SortTarget
from ...models.v3.txn import Compare, RequestOp, ResponseOp
from .._errors import CliError
from ._command import Context, Flag, FlagError, Registry, Usage
from ._errors import EXIT_BAD_FEATURE, EXIT_ERROR, EXIT_INVALID_INPUT
from ._parser import parse_flags
from ._printer import go_document, go_json, go_quote

R = TypeVar("R", bound=V3Model)


def register(commands: Registry) -> None:
    commands.add(
        "get",
        get,
        usage="[options] <key> [range_end]",
        help="Gets the key or a range of keys",
        flags=GET_FLAGS,
    )
    commands.add(
        "put",
        put,
        usage="[options] <key> <value> (<value> can also be given from stdin)",
        help="Puts the given key into the store",
        flags=PUT_FLAGS,
    )
    commands.add(
        "del",
        delete,
        usage="[options] <key> [range_end]",
        help="Removes the specified key or range of keys [key, range_end)",
        flags=DEL_FLAGS,
    )
    commands.add(
        "txn",
        txn,
        usage="[options]",
        help="Txn processes all the requests in one transaction",
        flags=(Flag("interactive", "bool", False, "Input transaction in interactive mode", "i"),),
    )
    commands.add(
        "compaction",
        compaction,
        usage="[options] <revision>",
        help="Compacts the event history in etcd",
        flags=(
            Flag(
                "physical",
                "bool",
                False,
                "'true' to wait for compaction to physically remove all old revisions",
            ),
        ),
    )


async def call(
    ctx: Context, path: str, request: V3Request, reply: type[R], *, repeatable: bool
) -> R:
    """``request`` as it is, limited to ``--command-timeout``."""
    gateway = ctx.client._gateway
    return await gateway.call(
        path, request, reply, timeout=ctx.globals.command_timeout, repeatable=repeatable
    )


def stdin_or(args: list[str], index: int) -> bytes | None:
    """``args[index]``, else all of standard input, else ``None`` when that is empty (as
    etcdctl's ``argOrStdin``)."""
    if len(args) > index:
        return args[index].encode()
    data = sys.stdin.buffer.read() if sys.stdin is not None else b""
    return data or None


def hex_id(text: str, what: str) -> int:
    """A lease id given in hex, as etcdctl reads it (``what`` names it in the message)."""
    try:
        number = int(text, 16)
        if text.strip() != text or text.startswith(("0x", "0X", "+", "_")) or "_" in text:
            raise ValueError
    except ValueError:
        raise Usage(
            f'{what} (strconv.ParseInt: parsing "{text}": invalid syntax), expecting ID in Hex'
        ) from None
    if not -(2**63) <= number < 2**63:
        raise Usage(
            f'{what} (strconv.ParseInt: parsing "{text}": value out of range), expecting ID in Hex'
        )
    return number


def print_kv(ctx: Context, kv: KeyValue, *, value_only: bool = False) -> None:
    """A key and its value on two lines (the value alone with ``value_only``)."""
    if not value_only:
        ctx.printer.line(ctx.printer.bytes(kv.key))
    ctx.printer.line(ctx.printer.bytes(kv.value))


def _range_end(key: bytes, args: list[str], prefix: bool, from_key: bool) -> tuple[bytes, bytes]:
    """The range ``get`` and ``del`` act on, as clientv3's ``WithRange``, ``WithPrefix``
    and ``WithFromKey`` make it."""
    range_end = b""
    if len(args) > 1:
        if prefix or from_key:
            raise Usage(
                "too many arguments, only accept one argument when `--prefix` or "
                "`--from-key` is set"
            )
        range_end = args[1].encode()
    if prefix:
        if key:
            range_end = _prefix_end(key)
        else:
            key, range_end = b"\x00", b"\x00"
    if from_key:
        key = key or b"\x00"
        range_end = b"\x00"
    return key, range_end


def _prefix_end(key: bytes) -> bytes:
    """clientv3's ``GetPrefixRangeEnd``: the last byte below 0xff plus one."""
    end = bytearray(key)
    while end:
        if end[-1] < 0xFF:
            end[-1] += 1
            return bytes(end)
        end.pop()
    return b"\x00"


# put

PUT_FLAGS = (
    Flag("lease", "string", "0", "lease ID (in hexadecimal) to attach to the key"),
    Flag("prev-kv", "bool", False, "return the previous key-value pair before modification"),
    Flag("ignore-value", "bool", False, "updates the key using its current value"),
    Flag("ignore-lease", "bool", False, "updates the key using its current lease"),
)
PUT_NEEDS = "put command needs 1 argument and input from stdin or 2 arguments"


def put_request(args: list[str], flags: dict[str, object], *, stdin: bool) -> PutRequest:
    """etcdctl's ``getPutOp``; the value from standard input when ``stdin`` allows it."""
    if not args:
        raise Usage(PUT_NEEDS)
    ignore_value = bool(flags["ignore-value"])
    if ignore_value and len(args) > 1:
        raise Usage("put command needs only 1 argument when 'ignore-value' is set")
    value = b""
    if not ignore_value:
        given = stdin_or(args, 1) if stdin or len(args) > 1 else None
        if given is None:
            raise Usage(PUT_NEEDS)
        value = given
    return PutRequest(
        key=args[0].encode(),
        value=value,
        lease=hex_id(str(flags["lease"]), "bad lease ID"),
        prev_kv=bool(flags["prev-kv"]),
        ignore_value=ignore_value,
        ignore_lease=bool(flags["ignore-lease"]),
    )


async def put(ctx: Context) -> int:
    request = put_request(ctx.args, ctx.flags, stdin=True)
    show_put(ctx, await call(ctx, "kv/put", request, PutResponse, repeatable=False))
    return 0


def show_put(ctx: Context, reply: PutResponse) -> None:
    def simple() -> None:
        ctx.printer.line("OK")
        if reply.prev_kv is not None:
            print_kv(ctx, reply.prev_kv)

    def fields() -> None:
        ctx.printer.header_fields(reply.header)
        if reply.prev_kv is not None:
            ctx.printer.kv_fields(reply.prev_kv, "Prev")

    ctx.printer.show(reply, simple=simple, fields=fields)


# get

GET_FLAGS = (
    Flag("consistency", "string", "l", "Linearizable(l) or Serializable(s)"),
    Flag("order", "string", "", "Order of results; ASCEND or DESCEND (ASCEND by default)"),
    Flag("sort-by", "string", "", "Sort target; CREATE, KEY, MODIFY, VALUE, or VERSION"),
    Flag("limit", "int", 0, "Maximum number of results"),
    Flag("prefix", "bool", False, "Get keys with matching prefix"),
    Flag(
        "from-key",
        "bool",
        False,
        "Get keys that are greater than or equal to the given key using byte compare",
    ),
    Flag("rev", "int", 0, "Specify the kv revision"),
    Flag("keys-only", "bool", False, "Get only the keys"),
    Flag("count-only", "bool", False, "Get only the count"),
    Flag(
        "print-value-only",
        "bool",
        False,
        'Only write values when using the "simple" output format',
    ),
)

_TARGETS = {
    "CREATE": SortTarget.CREATE,
    "KEY": SortTarget.KEY,
    "MODIFY": SortTarget.MOD,
    "VALUE": SortTarget.VALUE,
    "VERSION": SortTarget.VERSION,
}
_ORDERS = {"ASCEND": SortOrder.ASCEND, "DESCEND": SortOrder.DESCEND, "": SortOrder.NONE}


def get_request(args: list[str], flags: dict[str, object]) -> RangeRequest:
    """etcdctl's ``getGetOp``."""
    if not args:
        raise Usage("get command needs one argument as key and an optional argument as range_end")
    prefix, from_key = bool(flags["prefix"]), bool(flags["from-key"])
    if prefix and from_key:
        raise Usage("`--prefix` and `--from-key` cannot be set at the same time, choose one")
    consistency = str(flags["consistency"])
    if consistency not in ("l", "s"):
        raise Usage(f'unknown consistency flag "{consistency}"', EXIT_BAD_FEATURE)
    key, range_end = _range_end(args[0].encode(), args, False, False)
    order_text = str(flags["order"])
    order = _ORDERS.get(order_text.upper())
    if order is None:
        raise Usage(f"bad sort order {order_text}", EXIT_BAD_FEATURE)
    target_text = str(flags["sort-by"])
    target = _TARGETS.get(target_text.upper(), SortTarget.KEY if not target_text else None)
    if target is None:
        raise Usage(f"bad sort target {target_text}", EXIT_BAD_FEATURE)
    if target is SortTarget.KEY and order is SortOrder.ASCEND:
        order = SortOrder.NONE  # clientv3's WithSort: keys come in ascending order anyway
    key, range_end = _range_end(key, args, prefix, from_key)
    limit, revision = flags["limit"], flags["rev"]
    assert isinstance(limit, int) and isinstance(revision, int)
    return RangeRequest(
        key=key,
        range_end=range_end,
        limit=limit,
        revision=max(revision, 0),
        sort_order=order,
        sort_target=target,
        serializable=consistency == "s",
        keys_only=bool(flags["keys-only"]),
        count_only=bool(flags["count-only"]),
    )


async def get(ctx: Context) -> int:
    request = get_request(ctx.args, ctx.flags)
    reply = await call(ctx, "kv/range", request, RangeResponse, repeatable=True)
    if request.count_only and ctx.printer.format != "fields":
        raise Usage("--count-only is only for `--write-out=fields`")
    value_only = ctx.on("print-value-only")
    if value_only and ctx.printer.format != "simple":
        raise Usage("print-value-only is only for `--write-out=simple`")
    show_get(ctx, reply, value_only=value_only)
    return 0


def show_get(ctx: Context, reply: RangeResponse, *, value_only: bool = False) -> None:
    def simple() -> None:
        for kv in reply.kvs:
            print_kv(ctx, kv, value_only=value_only)

    def fields() -> None:
        ctx.printer.header_fields(reply.header)
        for kv in reply.kvs:
            ctx.printer.kv_fields(kv)
        ctx.printer.field("More", reply.more)
        ctx.printer.field("Count", reply.count)

    ctx.printer.show(reply, simple=simple, fields=fields)


# del

DEL_FLAGS = (
    Flag("prefix", "bool", False, "delete keys with matching prefix"),
    Flag("prev-kv", "bool", False, "return deleted key-value pairs"),
    Flag(
        "from-key",
        "bool",
        False,
        "delete keys that are greater than or equal to the given key using byte compare",
    ),
)


def delete_request(args: list[str], flags: dict[str, object]) -> DeleteRangeRequest:
    """etcdctl's ``getDelOp``."""
    if not args or len(args) > 2:
        raise Usage("del command needs one argument as key and an optional argument as range_end")
    prefix, from_key = bool(flags["prefix"]), bool(flags["from-key"])
    if prefix and from_key:
        raise Usage("`--prefix` and `--from-key` cannot be set at the same time, choose one")
    key, range_end = _range_end(args[0].encode(), args, prefix, from_key)
    return DeleteRangeRequest(key=key, range_end=range_end, prev_kv=bool(flags["prev-kv"]))


async def delete(ctx: Context) -> int:
    request = delete_request(ctx.args, ctx.flags)
    reply = await call(ctx, "kv/deleterange", request, DeleteRangeResponse, repeatable=False)
    show_delete(ctx, reply)
    return 0


def show_delete(ctx: Context, reply: DeleteRangeResponse) -> None:
    def simple() -> None:
        ctx.printer.line(str(reply.deleted))
        for kv in reply.prev_kvs:
            print_kv(ctx, kv)

    def fields() -> None:
        ctx.printer.header_fields(reply.header)
        ctx.printer.field("Deleted", reply.deleted)
        for kv in reply.prev_kvs:
            ctx.printer.kv_fields(kv, "Prev")

    ctx.printer.show(reply, simple=simple, fields=fields)


# compaction


async def compaction(ctx: Context) -> int:
    if len(ctx.args) != 1:
        raise Usage("compaction command needs 1 argument")
    text = ctx.args[0]
    if not re.fullmatch(r"[+-]?[0-9]+", text):
        raise CliError(f'strconv.ParseInt: parsing "{text}": invalid syntax', EXIT_ERROR)
    revision = int(text)
    request = CompactionRequest(revision=revision, physical=ctx.on("physical"))
    await call(ctx, "kv/compaction", request, CompactionResponse, repeatable=True)
    ctx.printer.line(f"compacted revision {revision}")
    return 0


# txn


class _Input:
    """Standard input read line by line as Go's ``bufio.Reader.ReadString('\\n')``: a last
    line without its newline is an error (``EOF``), as it is for etcdctl."""

    def __init__(self, data: bytes) -> None:
        self._lines = data.split(b"\n")
        self._at = 0

    def line(self) -> str:
        if self._at >= len(self._lines) - 1:
            raise CliError("EOF", EXIT_INVALID_INPUT)
        line = self._lines[self._at]
        self._at += 1
        return line.decode("utf-8", "surrogateescape").strip()


async def txn(ctx: Context) -> int:
    if ctx.args:
        raise Usage("txn command does not accept argument")
    interactive = ctx.on("interactive")
    data = sys.stdin.buffer.read() if sys.stdin is not None else b""
    lines = _Input(data)

    def prompt(text: str) -> None:
        if interactive:
            ctx.printer.line(text)

    prompt("compares:")
    compares = []
    while line := lines.line():
        compares.append(parse_compare(line))
    prompt("success requests (get, put, del):")
    success = _read_ops(lines)
    prompt("failure requests (get, put, del):")
    failure = _read_ops(lines)
    request = TxnRequest(compare=compares, success=success, failure=failure)
    reply = await call(ctx, "kv/txn", request, TxnResponse, repeatable=False)
    show_txn(ctx, reply)
    return 0


def _read_ops(lines: _Input) -> list[RequestOp]:
    ops = []
    while line := lines.line():
        ops.append(parse_op(line))
    return ops


_ARG = re.compile(r'"(?:[^"\\]|\\.)*"|\'[^\']*\'|[^\'"\t\n\f\r ][^\t\n\f\r ]*[^\'"\t\n\f\r ]?')


def argify(line: str) -> list[str]:
    """A line's words as etcdctl splits them: by spaces, with "Go-quoted" and
    'single-quoted' words (the quotes removed)."""
    words = []
    for word in _ARG.findall(line):
        if word.startswith("'"):
            word = word[1:-1]
        elif word.startswith('"'):
            word = go_unquote(word)
        words.append(word)
    return words


_OPS = {"get": GET_FLAGS, "put": PUT_FLAGS, "del": DEL_FLAGS}


def parse_op(line: str) -> RequestOp:
    """One request of a transaction: ``get``, ``put`` or ``del`` with their flags."""
    words = argify(line)
    if len(words) < 2:
        raise CliError(f"invalid txn compare request: {line}", EXIT_INVALID_INPUT)
    flags = _OPS.get(words[0])
    if flags is None:
        raise CliError(f"invalid txn request: {line}", EXIT_INVALID_INPUT)
    try:
        values, _, args, _ = parse_flags(words[1:], [*flags, Flag("help", "bool", False, "")])
    except FlagError:
        raise CliError(f"invalid txn request: {line}", EXIT_INVALID_INPUT) from None
    if words[0] == "get":
        return RequestOp(request_range=get_request(args, values))
    if words[0] == "put":
        return RequestOp(request_put=put_request(args, values, stdin=False))
    return RequestOp(request_delete_range=delete_request(args, values))


_QUOTED = r'"(?:[^"\\]|\\.)*"|`[^`]*`'


def parse_compare(line: str) -> Compare:
    """One compare, as etcdctl's ``parseCompare``: ``TARGET("key") OP "value"`` with TARGET
    ``ver``/``version``, ``c``/``create``, ``m``/``mod``, ``val``/``value`` or ``lease``."""
    target, paren, rest = line.partition("(")
    if not paren:
        raise CliError(f"malformed comparison: {line}", EXIT_INVALID_INPUT)
    scanned: list[str] = []
    match = re.match(rf"\s*({_QUOTED})", rest)
    if match:
        scanned.append(go_unquote(match.group(1)))
        rest = rest[match.end() :]
        if rest.startswith(")"):
            match = re.match(r"\s*([^\s]+)", rest[1:])
            if match:
                scanned.append(match.group(1))
                rest = rest[1 + match.end() :]
                match = re.match(rf"\s*({_QUOTED})", rest)
                if match:
                    scanned.append(go_unquote(match.group(1)))
    if len(scanned) != 3:
        key, op, value = (*scanned, "", "", "")[:3]
        raise CliError(
            f"malformed comparison: {line}; got {target}({_quote(key)}) {op} {_quote(value)}",
            EXIT_INVALID_INPUT,
        )
    key, op, value = scanned
    operand: object
    result: Value | Version | CreateRevision | ModRevision | LeaseTarget
    if target in ("val", "value"):
        result = Value(key.encode())
        operand = value.encode()
    elif target in ("ver", "version", "c", "create", "m", "mod", "lease"):
        kinds: dict[str, type[Version | CreateRevision | ModRevision | LeaseTarget]]
        kinds = {"ver": Version, "version": Version, "c": CreateRevision, "create": CreateRevision}
        kinds.update({"m": ModRevision, "mod": ModRevision, "lease": LeaseTarget})
        result = kinds[target](key.encode())
        if not re.fullmatch(r"[+-]?[0-9]+", value):
            raise CliError(f"invalid txn compare request: {line}", EXIT_INVALID_INPUT)
        operand = int(value)
    else:
        raise CliError(
            f"malformed comparison: {line} (unknown target {target})", EXIT_INVALID_INPUT
        )
    compares = {
        "=": result.__eq__,
        "!=": result.__ne__,
        ">": result.__gt__,
        "<": result.__lt__,
    }
    if op not in compares:
        raise CliError(f"malformed comparison: {line} (unknown operator {op})", EXIT_INVALID_INPUT)
    compare = compares[op](operand)
    assert isinstance(compare, Compare)
    return compare


def _quote(text: str) -> str:
    return go_quote(text.encode("utf-8", "surrogateescape"))


_ESCAPE = re.compile(
    r"\\(?:[abfnrtv\\'\"]|x[0-9a-fA-F]{2}|[0-7]{3}|u[0-9a-fA-F]{4}|U[0-9a-fA-F]{8})"
)
_SIMPLE_ESCAPES = {
    "a": "\a", "b": "\b", "f": "\f", "n": "\n", "r": "\r", "t": "\t", "v": "\v",
    "\\": "\\", "'": "'", '"': '"',
}  # fmt: skip


def go_unquote(word: str) -> str:
    """A Go string literal's text (``"a\\tb"``, or a raw `` `...` `` one); bytes that are
    not UTF-8 (``\\xff``) are kept as surrogate escapes."""
    if word.startswith("`"):
        return word[1:-1]
    body = word[1:-1]
    if "\\" not in body:
        return body
    out = bytearray()
    at = 0
    for match in _ESCAPE.finditer(body):
        out += body[at : match.start()].encode("utf-8", "surrogateescape")
        escape = match.group()[1:]
        if escape[0] in _SIMPLE_ESCAPES:
            out += _SIMPLE_ESCAPES[escape[0]].encode()
        elif escape[0] == "x":
            out.append(int(escape[1:], 16))
        elif escape[0] in "uU":
            out += chr(int(escape[1:], 16)).encode()
        else:
            out.append(int(escape, 8) & 0xFF)
        at = match.end()
    out += body[at:].encode("utf-8", "surrogateescape")
    return out.decode("utf-8", "surrogateescape")


def show_txn(ctx: Context, reply: TxnResponse) -> None:
    def each(op: ResponseOp) -> None:
        if op.response_put is not None:
            show_put(ctx, op.response_put)
        elif op.response_range is not None:
            show_get(ctx, op.response_range)
        elif op.response_delete_range is not None:
            show_delete(ctx, op.response_delete_range)

    def simple() -> None:
        ctx.printer.line("SUCCESS" if reply.succeeded else "FAILURE")
        for op in reply.responses:
            ctx.printer.line()
            each(op)

    def fields() -> None:
        ctx.printer.header_fields(reply.header)
        ctx.printer.field("Succeeded", reply.succeeded)
        for op in reply.responses:
            each(op)

    def json() -> None:
        # Go marshals the oneof as {"Response": {"response_put": ...}}.
        document = go_document(reply)
        assert isinstance(document, dict)
        if reply.responses:
            document["responses"] = [{"Response": go_document(op)} for op in reply.responses]
        ctx.printer.line(go_json(document))

    ctx.printer.show(reply, simple=simple, fields=fields, json=json)
