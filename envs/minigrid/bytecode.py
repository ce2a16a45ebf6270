"""Compile a Minigrid :class:`~envs.dsl.Program` into flat int64 bytecode for the numba kernel.

The kernel in :mod:`envs.minigrid._kernel` runs this code instead of calling closures that drive
minigrid's world. Layout: one opcode word followed by its operands; jump targets are absolute
word offsets. Control flow is the same as Karel's bytecode (:mod:`envs.karel.bytecode`):

* ``WHILE c( x c) w( B w)``: ``top: <jump to end if x is false>; WCHECK node; B; JMP top``;
* ``REPEAT R=n r( B r)``: ``RSET slot n; top: RDEC slot end; B; JMP top`` (one counter slot per
  REPEAT node; a node never runs inside itself, there is no recursion);
* ``IF`` / ``IFELSE``: a conditional jump over the body, and a ``JMP`` over the ``ELSE`` block.

A perception operand is ``kind * 64 + argument``: the kind is an index of :data:`PERCEPTIONS`,
the argument minigrid's index of the object type or colour named in ``h( ... h)``. The parser
accepts any word there; a word that names no type or colour gets :data:`NO_MATCH`, which no
object has, so the test is false exactly as ``cell.type == "foo"`` is.

Conditions other than a perception or ``not`` of one (``True``/``False``, ``and``, ``or``,
accepted from model text) compile to a flag register with Python's short-circuit evaluation.
"""

from __future__ import annotations

from envs.dsl.ast import Perception, Program
from envs.dsl.bytecode import CodeWriter
from envs.errors import ProgramRuntimeError

#: Action name -> minigrid's ``Actions`` value.
ACTIONS: dict[str, int] = {"left": 0, "right": 1, "forward": 2, "pickup": 3, "drop": 4, "toggle": 5}
#: Perception name -> kind; whether it takes an argument.
PERCEPTIONS: dict[str, tuple[int, bool]] = {
    "front_is_clear": (0, False),
    "front_object_type": (1, True),
    "front_object_color": (2, True),
    "is_carrying_object": (3, False),
}
#: minigrid's ``OBJECT_TO_IDX`` and ``COLOR_TO_IDX`` (minigrid 2.5 and 3.x agree).
OBJECT_TYPES: dict[str, int] = {
    "unseen": 0, "empty": 1, "wall": 2, "floor": 3, "door": 4, "key": 5, "ball": 6, "box": 7,
    "goal": 8, "lava": 9, "agent": 10,
}  # fmt: skip
COLORS: dict[str, int] = {"red": 0, "green": 1, "blue": 2, "purple": 3, "yellow": 4, "grey": 5}
#: Argument code of a word that names no object type or colour.
NO_MATCH = 63


def perception_code(p: Perception) -> int:
    """The operand of perception ``p`` (``kind * 64 + argument``).

    Raises:
        ProgramRuntimeError: ``p`` is not a Minigrid perception, or its argument is missing or
            unexpected.
    """
    entry = PERCEPTIONS.get(p.name)
    if entry is None or entry[1] != (p.arg is not None):
        raise ProgramRuntimeError(f"unknown Minigrid perception {str(p)!r}")
    kind, _ = entry
    if kind == 1:
        return kind * 64 + OBJECT_TYPES.get(p.arg or "", NO_MATCH)
    if kind == 2:
        return kind * 64 + COLORS.get(p.arg or "", NO_MATCH)
    return kind * 64


def _action(name: str) -> int:
    index = ACTIONS.get(name)
    if index is None:
        raise ProgramRuntimeError(f"unknown Minigrid action {name!r}")
    return index


def compile_words(program: Program) -> tuple[list[int], int, int]:
    """Bytecode words of one program, its REPEAT slots and its WHILE nodes.

    Raises:
        ProgramRuntimeError: The program uses an action or perception Minigrid does not have.
    """
    writer = CodeWriter(_action, perception_code, "Minigrid")
    return writer.program(program.body), writer.n_repeat, writer.n_while
