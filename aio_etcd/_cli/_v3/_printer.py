"""``-w simple|json|fields|table`` as etcdctl 3.5 prints them (``ctlv3/command/printer*.go``).

A command hands :meth:`Printer.show` its reply and a function per format it supports; JSON
is the same for every reply (Go's ``encoding/json`` of the protobuf message), and a format a
command has no function for is refused as etcdctl refuses it (exit 4).
"""

from __future__ import annotations

import base64
import enum
import json
import sys
from collections.abc import Callable, Sequence
from typing import BinaryIO, Final

from pydantic import BaseModel

from ...models.v3 import KeyValue, ResponseHeader
from .._errors import CliError
from ._errors import EXIT_BAD_FEATURE

ENUMS: Final = {
    "perm_type": ("READ", "WRITE", "READWRITE"),
    "alarm": ("NONE", "NOSPACE", "CORRUPT"),
}
"""Fields that are protobuf enums, by name: Go's JSON gives their number."""

FORMATS: Final = ("simple", "json", "fields", "table", "protobuf")
Show = Callable[[], None]


class Printer:
    """Standard output in etcdctl's formats. Bytes are written as they are (keys and values
    need not be UTF-8), and every line is flushed, so that watches show each event at once."""

    def __init__(self, format: str, hex: bool = False, stream: BinaryIO | None = None) -> None:
        if format not in FORMATS:
            raise CliError("unsupported output format", EXIT_BAD_FEATURE)
        self.format = format
        self.hex = hex
        self._stream = stream

    def write(self, data: bytes) -> None:
        stream = self._stream if self._stream is not None else sys.stdout.buffer
        stream.write(data)
        stream.flush()

    def line(self, text: str | bytes = b"") -> None:
        self.write((text.encode() if isinstance(text, str) else text) + b"\n")

    def bytes(self, data: bytes) -> bytes:
        """Key or value as the simple format shows it: raw, or ``\\x66\\x6f`` with ``--hex``."""
        return "".join(f"\\x{b:02x}" for b in data).encode() if self.hex else data

    def show(
        self,
        reply: object,
        *,
        simple: Show | None = None,
        fields: Show | None = None,
        table: Show | None = None,
        json: Show | None = None,
    ) -> None:
        """Print ``reply`` in the chosen format; JSON by default is :func:`go_json` of it."""
        chosen = {"simple": simple, "fields": fields, "table": table, "json": json}
        show = chosen.get(self.format)
        if self.format == "json" and show is None:
            self.line(go_json(reply))
        elif show is not None:
            show()
        else:
            raise CliError(f"{self.format} not supported as output format", EXIT_BAD_FEATURE)

    # The fields format's pieces (printer_fields.go).
    def header_fields(self, header: ResponseHeader) -> None:
        self.line(f'"ClusterID" : {header.cluster_id}')
        self.line(f'"MemberID" : {header.member_id}')
        self.line(f'"Revision" : {header.revision}')
        self.line(f'"RaftTerm" : {header.raft_term}')

    def kv_fields(self, kv: KeyValue, prefix: str = "") -> None:
        self.line(f'"{prefix}Key" : {go_quote(kv.key)}')
        self.line(f'"{prefix}CreateRevision" : {kv.create_revision}')
        self.line(f'"{prefix}ModRevision" : {kv.mod_revision}')
        self.line(f'"{prefix}Version" : {kv.version}')
        self.line(f'"{prefix}Value" : {go_quote(kv.value)}')
        self.line(f'"{prefix}Lease" : {kv.lease}')

    def field(self, name: str, value: object) -> None:
        """``"Name" : value`` with Go's ``%v`` of a bool or a number."""
        shown = ("true" if value else "false") if isinstance(value, bool) else value
        self.line(f'"{name}" : {shown}')

    def table(
        self, header: Sequence[str], rows: Sequence[Sequence[str]], *, align: str = "right"
    ) -> None:
        """An ASCII table as etcdctl's tablewriter draws it (headers centred, cells
        aligned to ``align``)."""
        self.write(render_table(header, rows, align=align).encode())


def go_quote(data: bytes) -> str:
    """Go's ``%q`` (``strconv.Quote``) of ``data``: printable UTF-8 kept, ``\\n``-style
    escapes, ``\\x..`` for bytes that are not UTF-8."""
    out = ['"']
    i = 0
    while i < len(data):
        char, size = _rune(data, i)
        if char is None:
            out.append(f"\\x{data[i]:02x}")
            i += 1
            continue
        i += size
        if char in ('"', "\\"):
            out.append("\\" + char)
        elif char.isprintable():
            out.append(char)
        elif char in _ESCAPES:
            out.append(_ESCAPES[char])
        elif ord(char) < 0x10000:
            out.append(f"\\x{ord(char):02x}" if ord(char) < 0x80 else f"\\u{ord(char):04x}")
        else:
            out.append(f"\\U{ord(char):08x}")
    out.append('"')
    return "".join(out)


_ESCAPES: Final = {
    "\a": "\\a",
    "\b": "\\b",
    "\f": "\\f",
    "\n": "\\n",
    "\r": "\\r",
    "\t": "\\t",
    "\v": "\\v",
}


_LEADS: Final = ((7, 0), (5, 6), (4, 14), (3, 30))
"""UTF-8's lead bytes: (shift, value) of a sequence of 1, 2, 3 and 4 bytes."""


def _rune(data: bytes, at: int) -> tuple[str | None, int]:
    """The UTF-8 character at ``at`` and its length, or ``(None, 1)`` for a bad byte."""
    first = data[at]
    size = (
        1
        if first < 0x80
        else 2
        if first >> 5 == 6
        else 3
        if first >> 4 == 14
        else 4
        if first >> 3 == 30
        else 0
    )
    if size == 0:
        return None, 1
    try:
        return data[at : at + size].decode("utf-8"), size
    except UnicodeDecodeError:
        return None, 1


def go_document(value: object) -> object:
    """``value`` as Go's ``encoding/json`` marshals the gogo-protobuf struct: the proto field
    names (the gateway's, our aliases) in the message's order, zero values and unset messages
    left out (``omitempty``), bytes in base64, enums as numbers."""
    if isinstance(value, BaseModel):
        document: dict[str, object] = {}
        for name, info in type(value).model_fields.items():
            field = getattr(value, name)
            if isinstance(field, enum.Enum):
                field = list(type(field)).index(field)
            elif name in ENUMS and field in ENUMS[name]:
                field = ENUMS[name].index(field)
            if field is None or field is False or field in (0, b"", "", []):
                continue
            shown = go_document(field)
            if shown == {}:
                continue  # a message left unset, as a reply built here without a header
            document[info.alias or name] = shown
        return document
    if isinstance(value, bytes):
        return base64.b64encode(value).decode()
    if isinstance(value, enum.Enum):
        return list(type(value)).index(value)
    if isinstance(value, list | tuple):
        return [go_document(item) for item in value]
    if isinstance(value, dict):
        return {key: go_document(item) for key, item in value.items()}
    return value


_GO_ESCAPES = str.maketrans(
    {"<": "\\u003c", ">": "\\u003e", "&": "\\u0026", "\u2028": "\\u2028", "\u2029": "\\u2029"}
)
"""What Go's ``json.Marshal`` escapes beyond JSON's own (``encoding/json`` ``HTMLEscape``);
outside strings JSON has none of these characters."""


def go_json(value: object) -> str:
    """:func:`go_document` as compact JSON, escaped as Go escapes it."""
    return json.dumps(go_document(value), separators=(",", ":"), ensure_ascii=False).translate(
        _GO_ESCAPES
    )


def render_table(header: Sequence[str], rows: Sequence[Sequence[str]], *, align: str) -> str:
    widths = [len(h) for h in header]
    for row in rows:
        widths = [max(w, len(cell)) for w, cell in zip(widths, row, strict=True)]
    rule = "+" + "+".join("-" * (w + 2) for w in widths) + "+\n"

    def centred(text: str, width: int) -> str:
        gap = width - len(text)
        return " " * (gap // 2) + text + " " * (gap - gap // 2)

    def aligned(text: str, width: int) -> str:
        return text.rjust(width) if align == "right" else text.ljust(width)

    lines = [rule, "| " + " | ".join(map(centred, header, widths)) + " |\n", rule]
    lines += ["| " + " | ".join(map(aligned, row, widths)) + " |\n" for row in rows]
    if rows:
        lines.append(rule)
    return "".join(lines)
