"""How commands are declared and what they are given to run."""

from __future__ import annotations

import argparse
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, NoReturn

from .._client import Client
from ._errors import EXIT_INTERRUPTED, CliError, Style
from ._output import Output
from ._settings import Settings

Subparsers = argparse._SubParsersAction  # the type argparse gives no public name


class Parser(argparse.ArgumentParser):
    """Reports a usage error as etcdctl does (one line, exit 1) instead of exiting 2."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("allow_abbrev", False)  # etcdctl takes no abbreviated flags
        super().__init__(*args, **kwargs)

    def error(self, message: str) -> NoReturn:
        raise CliError(f"{self.prog}: {message} (see {self.prog} --help)")


@dataclass
class Context:
    """What a command runs with."""

    args: argparse.Namespace
    settings: Settings
    client: Client
    out: Output


Run = Callable[[Context], Awaitable[int]]


@dataclass(frozen=True)
class Command:
    name: str
    """As typed, e.g. ``get`` or ``member list``."""
    run: Run
    style: Style = "keys"
    """How failures are reported; see :data:`~aio_etcd._cli._errors.Style`."""
    interrupted: int = EXIT_INTERRUPTED
    """The exit status after Ctrl-C."""
    bounded: bool = True
    """Whether ``--total-timeout`` limits it (not for watches and locks)."""


class Registry:
    """Adds commands (and groups of subcommands, like ``member list``) to a parser."""

    def __init__(
        self,
        subparsers: Subparsers[Parser],
        common: Parser,
        *,
        split: bool = False,
        prefix: str = "",
    ) -> None:
        self._subparsers = subparsers
        self._prefix = prefix
        self.common = common
        self.split = split
        """Parse for a command line cut at ``--``: the command to execute comes after it."""

    def add(
        self,
        name: str,
        run: Run,
        *,
        help: str,
        style: Style = "keys",
        interrupted: int = EXIT_INTERRUPTED,
        bounded: bool = True,
        description: str | None = None,
    ) -> Parser:
        parser: Parser = self._subparsers.add_parser(
            name, help=help, description=description or help, parents=[self.common]
        )
        parser.set_defaults(
            command=Command(
                self._prefix + name, run, style=style, interrupted=interrupted, bounded=bounded
            )
        )
        return parser

    def group(self, name: str, *, help: str) -> Registry:
        parser: Parser = self._subparsers.add_parser(
            name, help=help, description=help, parents=[self.common]
        )
        subparsers = parser.add_subparsers(title="commands", metavar="COMMAND", required=True)
        return Registry(subparsers, self.common, split=self.split, prefix=f"{name} ")
