"""``get``, ``put``, ``del``, ``txn`` and ``compaction``, as etcdctl 3.5's
(``ctlv3/command/{get,put,del,txn,compaction}_command.go``)."""

from __future__ import annotations

import sys

from ..._types import NOT_GIVEN
from ..._v3._kv import range_request
from ...models.v3 import KeyValue, PutResponse, RangeResponse
from ...models.v3.kv import SortOrder, SortTarget
from ._command import Context, Flag, Registry, Usage
from ._errors import EXIT_BAD_FEATURE


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


def stdin_or(args: list[str], index: int) -> bytes | None:
    """``args[index]``, else all of standard input, else ``None`` when that is empty (as
    etcdctl's ``argOrStdin``)."""
    if len(args) > index:
        return args[index].encode()
    data = sys.stdin.buffer.read() if sys.stdin is not None else b""
    return data or None


def lease_flag(text: str) -> int:
    """A lease id given in hex (``--lease``), as etcdctl reads it."""
    try:
        lease = int(text, 16)
    except ValueError:
        raise Usage(
            f'bad lease ID (strconv.ParseInt: parsing "{text}": invalid syntax), '
            "expecting ID in Hex"
        ) from None
    if not 0 <= lease < 2**63:
        raise Usage(
            f'bad lease ID (strconv.ParseInt: parsing "{text}": value out of range), '
            "expecting ID in Hex"
        )
    return lease


def print_kv(ctx: Context, kv: KeyValue, *, value_only: bool = False) -> None:
    """A key and its value on two lines (the value alone with ``value_only``)."""
    if not value_only:
        ctx.printer.line(ctx.printer.bytes(kv.key))
    ctx.printer.line(ctx.printer.bytes(kv.value))


# put

PUT_FLAGS = (
    Flag("lease", "string", "0", "lease ID (in hexadecimal) to attach to the key"),
    Flag("prev-kv", "bool", False, "return the previous key-value pair before modification"),
    Flag("ignore-value", "bool", False, "updates the key using its current value"),
    Flag("ignore-lease", "bool", False, "updates the key using its current lease"),
)
PUT_NEEDS = "put command needs 1 argument and input from stdin or 2 arguments"


async def put(ctx: Context) -> int:
    if not ctx.args:
        raise Usage(PUT_NEEDS)
    key = ctx.args[0].encode()
    ignore_value = ctx.on("ignore-value")
    if ignore_value and len(ctx.args) > 1:
        raise Usage("put command needs only 1 argument when 'ignore-value' is set")
    value = b""
    if not ignore_value:
        given = stdin_or(ctx.args, 1)
        if given is None:
            raise Usage(PUT_NEEDS)
        value = given
    lease = lease_flag(ctx.text("lease"))
    reply = await ctx.client.put(
        key,
        value,
        lease=lease or None,
        prev_kv=ctx.on("prev-kv"),
        ignore_value=ignore_value,
        ignore_lease=ctx.on("ignore-lease"),
    )
    show_put(ctx, reply)
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
        "print-value-only", "bool", False, 'Only write values when using the "simple" output format'
    ),
)

_TARGETS = {
    "CREATE": SortTarget.CREATE,
    "KEY": SortTarget.KEY,
    "MODIFY": SortTarget.MOD,
    "VALUE": SortTarget.VALUE,
    "VERSION": SortTarget.VERSION,
}


async def get(ctx: Context) -> int:
    args = ctx.args
    if not args:
        raise Usage("get command needs one argument as key and an optional argument as range_end")
    prefix, from_key = ctx.on("prefix"), ctx.on("from-key")
    if prefix and from_key:
        raise Usage("`--prefix` and `--from-key` cannot be set at the same time, choose one")
    consistency = ctx.text("consistency")
    if consistency not in ("l", "s"):
        raise Usage(f'unknown consistency flag "{consistency}"', EXIT_BAD_FEATURE)
    key = args[0].encode()
    range_end = b""
    if len(args) > 1:
        if prefix or from_key:
            raise Usage(
                "too many arguments, only accept one argument when `--prefix` or `--from-key` "
                "is set."
            )
        range_end = args[1].encode()
    order_text = ctx.text("order")
    orders = {"ASCEND": SortOrder.ASCEND, "DESCEND": SortOrder.DESCEND, "": SortOrder.NONE}
    order = orders.get(order_text.upper())
    if order is None:
        raise Usage(f"bad sort order {order_text}", EXIT_BAD_FEATURE)
    target_text = ctx.text("sort-by")
    target = _TARGETS.get(target_text.upper(), SortTarget.KEY if not target_text else None)
    if target is None:
        raise Usage(f"bad sort target {target_text}", EXIT_BAD_FEATURE)
    if target is SortTarget.KEY and order is SortOrder.ASCEND:
        order = SortOrder.NONE  # clientv3's WithSort: keys come in ascending order anyway
    if prefix:
        if key:
            range_end = _prefix_end(key)
        else:
            key, range_end = b"\x00", b"\x00"
    if from_key:
        key = key or b"\x00"
        range_end = b"\x00"
    count_only = ctx.on("count-only")
    request = range_request(
        key,
        range_end,
        {
            "limit": ctx.number("limit") or None,
            "revision": ctx.number("rev") or None,
            "sort_order": order,
            "sort_target": target,
            "serializable": consistency == "s",
            "keys_only": ctx.on("keys-only"),
            "count_only": count_only,
        },
    )
    # The range as given, as etcdctl sends it (the client's own calls refuse an end
    # before the key, which etcd answers with nothing).
    reply = await ctx.client._range(request, NOT_GIVEN)
    if count_only and ctx.printer.format != "fields":
        raise Usage("--count-only is only for `--write-out=fields`")
    value_only = ctx.on("print-value-only")
    if value_only and ctx.printer.format != "simple":
        raise Usage("print-value-only is only for `--write-out=simple`")
    show_get(ctx, reply, value_only=value_only)
    return 0


def _prefix_end(key: bytes) -> bytes:
    """The end of the range of keys starting with ``key`` (clientv3's ``GetPrefixRangeEnd``)."""
    end = bytearray(key)
    while end:
        if end[-1] < 0xFF:
            end[-1] += 1
            return bytes(end)
        end.pop()
    return b"\x00"


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
