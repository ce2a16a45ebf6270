"""Compile a Karel :class:`~envs.dsl.Program` into flat int32 bytecode for the numba kernel.

The kernel in :mod:`envs.karel._kernels` runs this code instead of walking the AST. Layout: one
opcode word followed by its operands; jump targets are absolute word offsets inside the
program's own code. Control flow (:mod:`envs.dsl.bytecode`, shared with Minigrid):

* ``WHILE c( x c) w( B w)``::

      top:  <jump to end if x is false>
            WCHECK node          # fingerprint check (spec §2 steps 2-5); a repeat ends the episode
            B
            JMP top
      end:

* ``REPEAT R=n r( B r)``: ``RSET slot n; top: RDEC slot end; B; JMP top; end:`` with one counter
  slot per REPEAT node (a node is never re-entered while it runs: there is no recursion).
* ``IF`` / ``IFELSE``: a conditional jump over the body, and a ``JMP`` over the ``ELSE`` block.

Conditions that are a perception or ``not`` of a perception compile to one fused
test-and-jump (``JNP``/``JP``), which is everything the search generates. ``True``/``False``,
``and`` and ``or`` (accepted by the parser from model text) compile to a flag register with the
reference's short-circuit evaluation: ``and``/``or`` are Python's, so the right operand is
not evaluated (and costs no call) when the left one decides.
"""

from __future__ import annotations

import numpy as np

from envs.dsl.ast import Perception, Program
from envs.dsl.bytecode import CodeWriter
from envs.errors import ProgramRuntimeError

ACTIONS: dict[str, int] = {
    "move": 0,
    "turnLeft": 1,
    "turnRight": 2,
    "pickMarker": 3,
    "putMarker": 4,
}
PERCEPTIONS: dict[str, int] = {
    "frontIsClear": 0,
    "leftIsClear": 1,
    "rightIsClear": 2,
    "markersPresent": 3,
    "noMarkersPresent": 4,
}


def _action(name: str) -> int:
    index = ACTIONS.get(name)
    if index is None:
        raise ProgramRuntimeError(f"{name!r} is not a Karel action")
    return index


def _perception(p: Perception) -> int:
    index = PERCEPTIONS.get(p.name)
    if index is None or p.arg is not None:
        raise ProgramRuntimeError(f"{p} is not a Karel perception")
    return index


def compile_words(program: Program) -> tuple[list[int], int, int]:
    """Bytecode words of one program, its REPEAT slots and its call-free WHILE nodes.

    A WHILE whose condition always makes a call runs its fingerprint check at most once per
    call; a call-free one (e.g. ``WHILE c( True c)``) at most once per distinct state. The
    evaluator sizes its fingerprint table from this count.

    Raises:
        ProgramRuntimeError: The program uses an action or perception Karel does not have.
    """
    writer = CodeWriter(_action, _perception, "Karel")
    return writer.program(program.body), writer.n_repeat, writer.n_free


def compile_batch(programs: list[Program]) -> tuple[np.ndarray, np.ndarray, int, int]:
    """Concatenated bytecode of many programs.

    Returns:
        ``(code, starts, max_slots, max_free)``: program k occupies
        ``code[starts[k]:starts[k + 1]]`` and its jump targets are relative to ``starts[k]``;
        ``max_slots`` and ``max_free`` are the most REPEAT counters and call-free WHILE nodes
        (see :func:`compile_words`) any one program has.

    Raises:
        ProgramRuntimeError: A program uses an action or perception Karel does not have.
    """
    chunks: list[int] = []
    starts = np.empty(len(programs) + 1, dtype=np.int64)
    max_slots = max_free = 0
    for k, program in enumerate(programs):
        starts[k] = len(chunks)
        words, slots, free = compile_words(program)
        chunks += words
        max_slots = max(max_slots, slots)
        max_free = max(max_free, free)
    starts[len(programs)] = len(chunks)
    return np.asarray(chunks, dtype=np.int32), starts, max_slots, max_free
