"""Small types shared across the package."""

from __future__ import annotations

from typing import Final, Literal, TypeAlias, final


@final
class NotGiven:
    """The type of :data:`NOT_GIVEN`: "use the default", where ``None`` means something else."""

    _instance: NotGiven | None = None

    def __new__(cls) -> NotGiven:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __bool__(self) -> Literal[False]:
        return False

    def __repr__(self) -> str:
        return "NOT_GIVEN"


NOT_GIVEN: Final = NotGiven()

Value: TypeAlias = "str | int | float"
"""What may be stored: text, or a number, which is stored as its text."""

Timeout: TypeAlias = "float | NotGiven | None"
"""Seconds; ``None`` waits without limit; :data:`NOT_GIVEN` takes the client's default."""
