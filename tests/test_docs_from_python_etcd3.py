"""The tables of docs/from-python-etcd3.md name only what aio_etcd has.

Every call, attribute and keyword the aio_etcd column cites is looked up on a real
:class:`~aio_etcd.Etcd3Client` (made without I/O) and the objects it hands out, so that a
renamed method or argument fails here rather than in a reader's port.
"""

from __future__ import annotations

import asyncio
import builtins
import inspect
import re
from pathlib import Path
from typing import Any

import pydantic
import pytest

import aio_etcd
import aio_etcd.v3

PAGE = Path(__file__).resolve().parent.parent / "docs" / "from-python-etcd3.md"
CODE = re.compile(r"`([^`]+)`")
STRING = re.compile(r"\"[^\"]*\"|'[^']*'")
CALL = re.compile(r"(?<![\w.])([A-Za-z_][\w.]*)\(([^()]*)\)")
DOTTED = re.compile(r"(?<![\w.)])([A-Za-z_]\w*(?:\.[A-Za-z_]\w*)+)")
KEYWORD = re.compile(r"(?<![=!<>])\b(\w+)=(?!=)")
ALIAS = re.compile(r"\bas (\w+)")

TABLES = {
    "| What | python-etcd3 0.12.0 | aetcd 1.0.0 | aio_etcd |": 3,
    "| python-etcd3 | aio_etcd |": 1,
    "| python-etcd3 (`etcd3.exceptions`) | aetcd | aio_etcd |": 2,
}
"""The header of each table, and the index of its aio_etcd column."""


def our_cells() -> dict[str, list[str]]:
    """The aio_etcd cells of each table, by the table's header."""
    lines = PAGE.read_text().splitlines()
    cells: dict[str, list[str]] = {}
    for header, column in TABLES.items():
        start = lines.index(header)
        rows = []
        for line in lines[start + 2 :]:
            if not line.startswith("|"):
                break
            rows.append(line.strip().strip("|").split(" | ")[column])
        cells[header] = rows
    return cells


def resolve(path: str, namespace: dict[str, Any]) -> Any:
    """The object ``a.b.c`` names; an ``AssertionError`` naming it when there is none."""
    head, *rest = path.split(".")
    if head in namespace:
        found = namespace[head]
    elif hasattr(aio_etcd, head):
        found = getattr(aio_etcd, head)
    else:
        assert hasattr(builtins, head), f"{path}: nothing is called {head!r}"
        found = getattr(builtins, head)
    for part in rest:
        if isinstance(found, type) and issubclass(found, pydantic.BaseModel):
            fields = found.model_fields
            assert part in fields or hasattr(found, part), f"{path}: {found.__name__} has no {part}"
            found = fields[part] if part in fields else getattr(found, part)
            continue
        assert hasattr(found, part), f"{path}: {type(found).__name__} has no {part!r}"
        found = getattr(found, part)
    return found


def check_span(span: str, namespace: dict[str, Any]) -> int:
    """Check one code span; the number of names and keywords it checked."""
    text = STRING.sub('""', span)
    checked = 0
    for alias in ALIAS.findall(text):  # `async with client.lock(name) as lock:`
        assert alias in namespace, f"{span}: {alias!r} is not one of the objects checked"
    for path in DOTTED.findall(text):
        resolve(path, namespace)
        checked += 1
    for path, arguments in CALL.findall(text):
        target = resolve(path, namespace)
        checked += 1
        keywords = KEYWORD.findall(arguments)
        if not keywords:
            continue
        parameters = inspect.signature(target).parameters
        allowed = set(parameters)
        for name, parameter in parameters.items():
            if parameter.kind is inspect.Parameter.VAR_KEYWORD:
                # **options: Unpack[RangeOptions] takes the keys of that TypedDict.
                hint = inspect.get_annotations(target, eval_str=True)[name]
                allowed |= set(hint.__args__[0].__annotations__)
        for keyword in keywords:
            assert keyword in allowed, f"{span}: {path}() takes no {keyword}="
            checked += 1
    return checked


def test_every_name_of_our_column_exists() -> None:
    async def check() -> int:
        client = aio_etcd.Etcd3Client()
        try:
            namespace: dict[str, Any] = {
                "client": client,
                "aio_etcd": aio_etcd,
                "asyncio": asyncio,
                "Etcd3Client": aio_etcd.Etcd3Client,
                "lease": client.lease(10),
                "lock": client.lock("/guide-check"),
                "events": client.watch("/guide-check"),
                **{name: getattr(aio_etcd.v3, name) for name in aio_etcd.v3.__all__},
            }
            checked = 0
            for rows in our_cells().values():
                assert rows, "a table of the guide has no rows"
                for cell in rows:
                    for span in CODE.findall(cell):
                        checked += check_span(span, namespace)
            return checked
        finally:
            await client.close()

    # Most rows cite a call, several with keywords; fewer means the parse went wrong.
    assert asyncio.run(check()) > 100


@pytest.mark.parametrize(
    "wrong",
    [
        "client.get_prefixes(prefix)",
        "client.cluster.member_delete(member_id)",
        "client.put(key, value, ttl=)",
        "client.get_prefix(prefix, sort_by=)",
        "async with client.watch(key) as stream:",
        "KeyValue.revision",
    ],
)
def test_a_wrong_name_is_caught(wrong: str) -> None:
    """The check itself can fail: a misspelled method, attribute, keyword or name."""

    async def check() -> None:
        async with aio_etcd.Etcd3Client() as client:
            check_span(wrong, {"client": client, "KeyValue": aio_etcd.v3.KeyValue})

    with pytest.raises(AssertionError):
        asyncio.run(check())
