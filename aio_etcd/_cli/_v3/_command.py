"""How v3 commands are declared: flags as etcdctl's (Go's pflag) and what a command runs with."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal

from .._errors import EXIT_INTERRUPTED as EXIT_CTRL_C
from .._errors import CliError
from ._errors import EXIT_BAD_ARGS, EXIT_ERROR

if TYPE_CHECKING:
    from ..._v3._client import Etcd3Client
    from ._parser import Globals
    from ._printer import Printer

Kind = Literal["bool", "string", "int", "uint", "duration", "strings"]


@dataclass(frozen=True)
class Flag:
    """One flag: ``--name`` (and ``-short``) of ``kind``, ``default`` when not given."""

    name: str
    kind: Kind
    default: object
    help: str
    short: str | None = None


@dataclass
class Context:
    """What a command runs with: its positional arguments, its flags (global ones included),
    the client and the printer of ``-w``. ``dash`` is how many arguments came before ``--``
    (``None`` without one), as cobra's ``ArgsLenAtDash``."""

    args: list[str]
    flags: dict[str, object]
    globals: Globals
    client: Etcd3Client
    printer: Printer
    dash: int | None = None

    def flag(self, name: str) -> object:
        return self.flags[name]

    def on(self, name: str) -> bool:
        value = self.flags[name]
        assert isinstance(value, bool)
        return value

    def text(self, name: str) -> str:
        value = self.flags[name]
        assert isinstance(value, str)
        return value

    def number(self, name: str) -> int:
        value = self.flags[name]
        assert isinstance(value, int)
        return value


Run = Callable[[Context], Awaitable[int]]
Check = Callable[[list[str], dict[str, object]], None]


@dataclass(frozen=True)
class Command:
    name: str
    """As typed: ``get``, ``lease grant``."""
    run: Run
    usage: str
    """The arguments, as etcdctl's usage line shows them: ``<key> [range_end]``."""
    help: str
    flags: Sequence[Flag] = ()
    check: Check | None = None
    """Validates the arguments before any connection (raise :class:`Usage`)."""
    interrupted: int = EXIT_CTRL_C
    """The exit status after Ctrl-C: 130, as a shell reports a command SIGINT ended."""
    bounded: bool = True
    """Whether ``--command-timeout`` limits the whole command (not watches, locks...)."""


class Usage(CliError):
    """Bad arguments, found before any I/O: ``Error: <message>`` and exit 128, as etcdctl's
    ``ExitBadArgs``."""

    def __init__(self, message: str, code: int = EXIT_BAD_ARGS) -> None:
        super().__init__(message, code)


class FlagError(CliError):
    """A flag the grammar refuses (cobra's flag errors): exit 1."""

    def __init__(self, message: str) -> None:
        super().__init__(message, EXIT_ERROR)


@dataclass
class Registry:
    """Every command, by its words (``("lease", "grant")``); groups are implied."""

    commands: dict[tuple[str, ...], Command] = field(default_factory=dict)
    groups: dict[str, str] = field(default_factory=dict)

    def add(
        self,
        name: str,
        run: Run,
        *,
        usage: str,
        help: str,
        flags: Sequence[Flag] = (),
        check: Check | None = None,
        interrupted: int = EXIT_CTRL_C,
        bounded: bool = True,
    ) -> None:
        """Add ``name`` (one word, or ``"group sub"``)."""
        words = tuple(name.split())
        self.commands[words] = Command(
            name, run, usage, help, tuple(flags), check, interrupted, bounded
        )

    def group(self, name: str, help: str) -> None:
        """Declare a group (``lease``) whose subcommands are added with ``add("lease ...")``."""
        self.groups[name] = help


def exact_args(count: int, message: str) -> Check:
    """A check that there are exactly ``count`` arguments, else ``message``."""

    def check(args: list[str], flags: dict[str, object]) -> None:
        if len(args) != count:
            raise Usage(message)

    return check
