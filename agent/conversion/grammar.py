"""A GBNF grammar of the Python the converter accepts, for grammar-constrained decoding.

llama.cpp can restrict sampling to a formal grammar (GBNF: its BNF dialect; llama-cpp-python's
``LlamaGrammar`` and the llama.cpp server's ``grammar`` request field). Under this grammar an
embedded model can only write a program that :func:`agent.conversion.python_to_dsl` converts:
``def run():`` followed by lines indented by four spaces per level, each one a call of a
domain action, ``if``/``elif``/``while`` on a (possibly negated) perception, ``else:``, or
``for _ in range(n):`` with ``n`` in 1..19. No prose, no comments, no variables.

The grammar is generated from the domain's grammar data (``envs.dsl.grammar``), never written
per task. It is finite, so decoding always ends: at most :attr:`GrammarLimits.max_lines` body
lines and :attr:`GrammarLimits.max_depth` nested control structures (the search space's own
height limit, ``search.limits.MAX_HEIGHT`` - 1). Each line is one transition of a small state
machine: the state is the stack of open blocks (whether each is an ``if`` body, which may be
followed by ``else:``), whether the last line opened a block (which needs a body), and how many
lines are left. :func:`max_answer_chars` is the length of the longest string the grammar
allows, a true bound on the tokens of an answer (a token is at least one character).

Example:
    >>> text = python_gbnf("karel")
    >>> text.splitlines()[0]
    'root ::= "def run():\\\\n" s0'
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

from envs.dsl.grammar import MAX_REPEAT, Grammar, grammar
from envs.errors import ConfigError

INDENT = "    "


@dataclass(frozen=True)
class GrammarLimits:
    """Bounds that make the grammar's language finite.

    Attributes:
        max_lines: Lines of the body of ``run`` (headers and ``else:`` count).
        max_depth: Control structures nested inside each other.
        max_repeat: Largest ``range(n)``.
    """

    max_lines: int = 20
    max_depth: int = 3
    max_repeat: int = MAX_REPEAT

    def __post_init__(self) -> None:
        if self.max_lines < 1 or self.max_depth < 0 or not 1 <= self.max_repeat <= MAX_REPEAT:
            raise ConfigError(
                f"grammar limits need max_lines >= 1, max_depth >= 0 and max_repeat in "
                f"1..{MAX_REPEAT}, got {self}"
            )


def _literal(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
    return f'"{escaped}"'


def _perceptions(gram: Grammar) -> list[str]:
    calls = []
    for name in gram.perceptions:
        if gram.takes_arg(name):
            calls += [f'{name}("{value}")' for value in gram.perception_args[name]]
        else:
            calls.append(f"{name}()")
    return calls


def _count_rule(max_repeat: int) -> str:
    units = [str(n) for n in range(1, max_repeat + 1)]
    # Longest first: GBNF alternatives are tried in parallel, order only affects readability.
    return " | ".join(_literal(u) for u in sorted(units, key=lambda u: (-len(u), u)))


@dataclass(frozen=True)
class _State:
    stack: tuple[bool, ...]  # per open block: whether it is an `if` body (else may follow)
    need_body: bool
    left: int


class _Builder:
    """Emits one rule per reachable state of the line machine."""

    def __init__(self, limits: GrammarLimits) -> None:
        self.limits = limits
        self.names: dict[_State, str] = {}
        self.rules: list[str] = []

    def name(self, state: _State) -> str:
        if state not in self.names:
            self.names[state] = f"s{len(self.names)}"
            self.rules.append("")  # reserve the slot; filled below (states may recurse)
            slot = len(self.rules) - 1
            self.rules[slot] = f"{self.names[state]} ::= {self.body(state)}"
        return self.names[state]

    def body(self, state: _State) -> str:
        alts: list[str] = []
        depth = len(state.stack)
        levels = [depth] if state.need_body else list(range(depth, -1, -1))
        if state.left < 1:
            levels = []  # no line left: only the end (a state that needs a body is never made)
        left = state.left - 1
        for level in levels:
            kept = state.stack[:level]
            line = f"l{level + 1}"
            alts.append(f"{line}a {self.name(_State(kept, False, left))}")
            if level < self.limits.max_depth and left >= 1:
                alts.append(f"{line}if {self.name(_State((*kept, True), True, left))}")
                alts.append(f"{line}loop {self.name(_State((*kept, False), True, left))}")
            if not state.need_body and level < depth and state.stack[level] and left >= 1:
                alts.append(f"{line}else {self.name(_State((*kept, False), True, left))}")
                # `elif` is the else branch holding one if: the block may take an else again.
                alts.append(f"{line}elif {self.name(_State((*kept, True), True, left))}")
        if not state.need_body:
            alts.append('""')  # the program may end here
        return " | ".join(alts)


def _line_rules(gram: Grammar, limits: GrammarLimits) -> list[str]:
    rules = [
        "act ::= " + " | ".join(_literal(f"{a}()") for a in gram.actions),
        "perc ::= " + " | ".join(_literal(p) for p in _perceptions(gram)),
        'cond ::= "not " perc | perc',
        "count ::= " + _count_rule(limits.max_repeat),
    ]
    for level in range(1, limits.max_depth + 2):
        pad = _literal(INDENT * level)
        rules.append(f'l{level}a ::= {pad} act "\\n"')
        if level <= limits.max_depth:
            rules.append(f'l{level}if ::= {pad} "if " cond ":\\n"')
            rules.append(
                f'l{level}loop ::= {pad} ("while " cond ":\\n" | "for _ in range(" count "):\\n")'
            )
            rules.append(f'l{level}else ::= {pad} "else:\\n"')
            rules.append(f'l{level}elif ::= {pad} "elif " cond ":\\n"')
    return rules


@cache
def python_gbnf(domain: str, limits: GrammarLimits = GrammarLimits()) -> str:
    """The GBNF grammar of programs in ``domain`` (``"karel"`` or ``"minigrid"``).

    Raises:
        ConfigError: Unknown domain or invalid limits.
    """
    gram = grammar(domain)
    builder = _Builder(limits)
    start = builder.name(_State((), True, limits.max_lines))
    lines = [f'root ::= "def run():\\n" {start}', *builder.rules, *_line_rules(gram, limits)]
    return "\n".join(lines) + "\n"


def max_answer_chars(domain: str, limits: GrammarLimits = GrammarLimits()) -> int:
    """Characters of the longest answer the grammar allows (a bound on its tokens).

    Raises:
        ConfigError: Unknown domain or invalid limits.
    """
    gram = grammar(domain)
    longest_call = max(len(c) for c in [*(f"{a}()" for a in gram.actions), *_perceptions(gram)])
    header = max(
        len("while not ") + longest_call + len(":"),
        len(f"for _ in range({limits.max_repeat}):"),
    )
    deepest = len(INDENT) * (limits.max_depth + 1)
    return len("def run():\n") + limits.max_lines * (deepest + header + 1)


__all__ = ["INDENT", "GrammarLimits", "max_answer_chars", "python_gbnf"]
