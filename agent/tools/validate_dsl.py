"""The ``validate_dsl`` tool: parse a DSL program and explain any error so a model can fix it."""

from __future__ import annotations

from dataclasses import dataclass

from envs.dsl.ast import height, token_count
from envs.dsl.parser import parse
from envs.errors import DSLSyntaxError


@dataclass(frozen=True)
class DSLValidation:
    """The verdict on one DSL program.

    Attributes:
        ok: Whether the program parses.
        program: The canonical text when ``ok``, else None.
        message: A one-paragraph explanation: the verdict, or the offending token, its position,
            what was expected there and the program with a caret under the token.
        token: The offending token ("" at the end of the program or when ``ok``).
        position: Token index of the error (-1 at the end or when ``ok``).
        column: Character column of the error (-1 when ``ok``).
        expected: What the parser expected there ("" when ``ok``).
    """

    ok: bool
    program: str | None
    message: str
    token: str = ""
    position: int = -1
    column: int = -1
    expected: str = ""

    def __str__(self) -> str:
        return self.message


def validate_dsl(text: str, domain: str = "karel") -> DSLValidation:
    """Parse ``text`` as a DSL program of ``domain`` and report in words a model can act on.

    Args:
        text: The program, e.g. ``"DEF run m( move m)"``; whitespace between tokens is free.
        domain: ``"karel"`` or ``"minigrid"``.

    Returns:
        A :class:`DSLValidation`; ``str()`` of it is the message. It never raises for bad
        programs: an invalid program is a normal answer of a validator.

    Raises:
        ConfigError: Unknown domain.
    """
    try:
        program = parse(text, domain)
    except DSLSyntaxError as err:
        shown, column = _one_line(text if isinstance(text, str) else "", err.column)
        where = f"token {err.position} {err.token!r}" if err.token else "the end of the program"
        message = (
            f"invalid {domain} DSL program: at {where} (column {err.column}) expected "
            f"{err.expected or 'something else'}.\n{shown}\n{' ' * column}^"
        )
        return DSLValidation(
            False, None, message, err.token, err.position, err.column, err.expected
        )
    canonical = str(program)
    message = (
        f"valid {domain} DSL program ({token_count(program)} tokens, height {height(program)}): "
        f"{canonical}"
    )
    return DSLValidation(True, canonical, message)


def _one_line(text: str, column: int) -> tuple[str, int]:
    # Show the program on one line (models write it across lines) and move the caret with it.
    flat = " ".join(text.split())
    if column < 0 or column >= len(text.rstrip()):
        return flat, len(flat) + 1 if flat else 0
    before = text[:column].split()
    return flat, len(" ".join(before)) + (1 if before else 0)
