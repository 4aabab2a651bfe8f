"""A griffe extension for the API reference: the package's docstrings use a little
reStructuredText, which this turns into the Markdown that mkdocstrings renders.

- ``:class:`~aio_etcd.Lock```, ``:meth:`refresh```, ``:attr:``, ``:data:``, ``:mod:``, ...
  become cross-references, resolved from the docstring's own class and module outwards (as
  Sphinx does), so a wrong name is an unresolved reference and fails the strict build;
- a paragraph ending in ``::`` followed by an indented block becomes a fenced code block
  (Python when it parses as Python, plain text otherwise).

The docstrings' ``double backticks`` are already code in Markdown.
"""

from __future__ import annotations

import ast
import builtins
import re
import textwrap
from typing import Any

import griffe

ROLE = re.compile(r":(?:py:)?(class|meth|func|attr|data|mod|exc|obj|const):`(~?)([\w.]+)`")
CALLABLE_ROLES = {"meth", "func"}


class RstMarkup(griffe.Extension):
    """Rewrites every docstring of the package once it is loaded."""

    def on_package(self, *, pkg: griffe.Module, loader: griffe.GriffeLoader, **kwargs: Any) -> None:
        for obj in _walk(pkg):
            if obj.docstring is not None:
                text = _literal_blocks(obj.docstring.value)
                obj.docstring.value = ROLE.sub(
                    lambda match, obj=obj: _reference(match, obj, loader), text
                )


def _walk(obj: griffe.Object) -> list[griffe.Object]:
    found = [obj]
    for member in obj.members.values():
        if not member.is_alias:
            assert isinstance(member, griffe.Object)
            found += _walk(member)
    return found


def _reference(match: re.Match[str], obj: griffe.Object, loader: griffe.GriffeLoader) -> str:
    role, short, target = match.groups()
    shown = target.rsplit(".", 1)[-1] if short else target
    if role in CALLABLE_ROLES:
        shown += "()"
    if hasattr(builtins, target):
        return f"`{shown}`"  # TypeError, RuntimeError, ...: Python's own
    return f"[`{shown}`][{_resolve(target, obj, loader)}]"


def _resolve(target: str, obj: griffe.Object, loader: griffe.GriffeLoader) -> str:
    """The canonical path ``target`` names, seen from ``obj``: its class, its module and up,
    then the package's top level. An unknown name is returned as the innermost guess, so
    the build reports it."""
    scopes: list[str] = []
    scope: griffe.Object | None = obj
    while scope is not None:
        if scope.is_class or scope.is_module:
            scopes.append(scope.path)
        scope = scope.parent
    candidates = [target] + [f"{path}.{target}" for path in scopes]
    for candidate in candidates:
        try:
            return str(loader.modules_collection[candidate].canonical_path)
        except (KeyError, griffe.AliasResolutionError):
            continue
    return candidates[1] if len(candidates) > 1 else target


def _literal_blocks(text: str) -> str:
    """``paragraph::`` + an indented block -> ``paragraph:`` + a fenced block."""
    lines = text.split("\n")
    out: list[str] = []
    index = 0
    while index < len(lines):
        line = lines[index]
        if not line.rstrip().endswith("::"):
            out.append(line)
            index += 1
            continue
        start = index + 1
        while start < len(lines) and not lines[start].strip():
            start += 1
        indent = len(line) - len(line.lstrip())
        end = start
        while end < len(lines) and (
            not lines[end].strip() or len(lines[end]) - len(lines[end].lstrip()) > indent
        ):
            end += 1
        while end > start and not lines[end - 1].strip():
            end -= 1
        if end == start:
            out.append(line)
            index += 1
            continue
        lead = line.rstrip()[:-2].rstrip()
        if lead.strip():
            out.append(lead + ":")
            out.append("")
        block = textwrap.dedent("\n".join(lines[start:end]))
        prefix = " " * indent
        out.append(f"{prefix}```{_language(block)}")
        out.extend(prefix + row if row else row for row in block.split("\n"))
        out.append(f"{prefix}```")
        index = end
    return "\n".join(out)


def _language(block: str) -> str:
    try:
        compile(block, "<docstring>", "exec", ast.PyCF_ONLY_AST | ast.PyCF_ALLOW_TOP_LEVEL_AWAIT)
    except SyntaxError:
        return "text"
    return "python"
