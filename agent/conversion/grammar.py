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
from search.limits import MAX_HEIGHT, MAX_SEQUENCE, MAX_TOKENS

INDENT = "    "


@dataclass(frozen=True)
class GrammarLimits:
    """Bounds that make the grammar's language finite; the defaults are the search space's.

    Attributes:
        max_tokens: DSL tokens of the converted body (``DEF run m( m)`` not counted): the
            search's limit of 45 tokens per program (``search.limits.MAX_TOKENS``) less 4.
        max_depth: Control structures nested inside each other (``MAX_HEIGHT`` - 1).
        max_repeat: Largest ``range(n)``.
        max_sequence: Actions in a row in one block (the search's ``MAX_SEQUENCE``; a longer
            run is outside its space, and small models repeat ``move()`` until a bound).
    """

    max_tokens: int = MAX_TOKENS - 4
    max_depth: int = MAX_HEIGHT - 1
    max_repeat: int = MAX_REPEAT
    max_sequence: int = MAX_SEQUENCE

    def __post_init__(self) -> None:
        if (
            min(self.max_tokens, self.max_sequence) < 1
            or self.max_depth < 0
            or not 1 <= self.max_repeat <= MAX_REPEAT
        ):
            raise ConfigError(
                f"grammar limits need max_tokens and max_sequence >= 1, max_depth >= 0 and "
                f"max_repeat in "
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


def _cond_classes(gram: Grammar) -> dict[int, list[str]]:
    """The domain's conditions (GBNF alternatives) by their DSL tokens: a perception is 1
    token, one with an argument (``name h( value h)``) 4, and ``not c( ... c)`` adds 3."""
    plain = [_literal(f"{p}()") for p in gram.perceptions if not gram.takes_arg(p)]
    with_arg = [_literal(p) for p in _perceptions(gram) if "(" in p and not p.endswith("()")]
    classes: dict[int, list[str]] = {1: plain, 4: [f'"not " {c}' for c in plain] + with_arg}
    if with_arg:
        classes[7] = [f'"not " {c}' for c in with_arg]
    return classes


def _count_rule(max_repeat: int) -> str:
    units = [str(n) for n in range(1, max_repeat + 1)]
    # Longest first: GBNF alternatives are tried in parallel, order only affects readability.
    return " | ".join(_literal(u) for u in sorted(units, key=lambda u: (-len(u), u)))


@dataclass(frozen=True)
class _State:
    stack: tuple[bool, ...]  # per open block: whether it is an `if` body (else may follow)
    need_body: bool
    left: int  # DSL tokens left
    run: int = 0  # actions in a row at the end of the current block


class _Builder:
    """Emits one rule per reachable state of the line machine.

    Each line spends the DSL tokens it converts to: an action 1, ``for`` 4 (``REPEAT R=n r(
    r)``), ``if``/``while`` 5 plus its condition, ``else:`` 3, ``elif`` both. A condition is
    charged at the domain's dearest (``not c( p h( v h) c)``: 7), so the bound always holds.
    """

    def __init__(self, limits: GrammarLimits, cond_costs: list[int]) -> None:
        self.limits = limits
        self.names: dict[_State, str] = {}
        self.rules: list[str] = []
        self.cost = {"a": 1, "for": 4, "else": 3}
        self.headers = [("for", False)]  # (line kind, opens an if body)
        for c in cond_costs:
            self.cost.update({f"if{c}": 5 + c, f"while{c}": 5 + c, f"elif{c}": 8 + c})
            self.headers += [(f"if{c}", True), (f"while{c}", False)]
        self.elifs = [f"elif{c}" for c in cond_costs]

    def name(self, state: _State) -> str:
        if state not in self.names:
            self.names[state] = f"s{len(self.names)}"
            self.rules.append("")  # reserve the slot; filled below (states may recurse)
            slot = len(self.rules) - 1
            self.rules[slot] = f"{self.names[state]} ::= {self.body(state)}"
        return self.names[state]

    def _opens(self, kind: str, state: _State) -> bool:
        # A block-opening line needs one more token left for the body's first action.
        return state.left - self.cost[kind] >= 1

    def body(self, state: _State) -> str:
        alts: list[str] = []
        depth = len(state.stack)
        levels = [depth] if state.need_body else list(range(depth, -1, -1))
        if state.left < 1:
            levels = []  # no token left: only the end (a state that needs a body is never made)
        for level in levels:
            kept, line = state.stack[:level], f"l{level + 1}"

            def then(kind: str, stack: tuple[bool, ...], opens: bool, run: int = 0) -> str:
                return self.name(_State(stack, opens, state.left - self.cost[kind], run))

            # A run of actions continues only in the same block (no header, no dedent).
            run = state.run + 1 if level == depth and not state.need_body else 1
            if run <= self.limits.max_sequence:
                alts.append(f"{line}a {then('a', kept, False, run)}")
            if level < self.limits.max_depth:
                for kind, is_if in self.headers:
                    if self._opens(kind, state):
                        alts.append(f"{line}{kind} {then(kind, (*kept, is_if), True)}")
            if not state.need_body and level < depth and state.stack[level]:
                if self._opens("else", state):
                    alts.append(f"{line}else {then('else', (*kept, False), True)}")
                # `elif` is the else branch holding one if: the block may take an else again.
                for kind in self.elifs:
                    if self._opens(kind, state):
                        alts.append(f"{line}{kind} {then(kind, (*kept, True), True)}")
        if not state.need_body:
            alts.append('""')  # the program may end here
        return " | ".join(alts)


def _line_rules(gram: Grammar, limits: GrammarLimits) -> list[str]:
    rules = [
        "act ::= " + " | ".join(_literal(f"{a}()") for a in gram.actions),
        *(f"cond{c} ::= " + " | ".join(alts) for c, alts in _cond_classes(gram).items()),
        "count ::= " + _count_rule(limits.max_repeat),
    ]
    for level in range(1, limits.max_depth + 2):
        pad = _literal(INDENT * level)
        rules.append(f'l{level}a ::= {pad} act "\\n"')
        if level <= limits.max_depth:
            for c in _cond_classes(gram):
                rules.append(f'l{level}if{c} ::= {pad} "if " cond{c} ":\\n"')
                rules.append(f'l{level}while{c} ::= {pad} "while " cond{c} ":\\n"')
                rules.append(f'l{level}elif{c} ::= {pad} "elif " cond{c} ":\\n"')
            rules.append(f'l{level}for ::= {pad} "for _ in range(" count "):\\n"')
            rules.append(f'l{level}else ::= {pad} "else:\\n"')
    return rules


@cache
def _statement_rules(domain: str, limits: GrammarLimits) -> tuple[Grammar, _Builder, str]:
    """The domain's grammar data, the builder holding every statement rule, and the start rule.

    Built once per (domain, limits) and shared by :func:`python_gbnf` and
    :func:`max_answer_chars`, which read the same rules.
    """
    gram = grammar(domain)
    builder = _Builder(limits, list(_cond_classes(gram)))
    return gram, builder, builder.name(_State((), True, limits.max_tokens))


@cache
def python_gbnf(domain: str, limits: GrammarLimits = GrammarLimits()) -> str:
    """The GBNF grammar of programs in ``domain`` (``"karel"`` or ``"minigrid"``).

    Raises:
        ConfigError: Unknown domain or invalid limits.
    """
    gram, builder, start = _statement_rules(domain, limits)
    lines = [f'root ::= "def run():\\n" {start}', *builder.rules, *_line_rules(gram, limits)]
    return "\n".join(lines) + "\n"


@cache
def max_answer_chars(domain: str, limits: GrammarLimits = GrammarLimits()) -> int:
    """Characters of the longest answer the grammar allows (a bound on its tokens).

    Raises:
        ConfigError: Unknown domain or invalid limits.
    """
    gram, builder, _ = _statement_rules(domain, limits)
    perc = max(len(p) for p in _perceptions(gram))
    content = {
        "a": max(len(f"{a}()") for a in gram.actions),
        "for": len(f"for _ in range({limits.max_repeat}):"),
        "else": len("else:"),
    }
    for c in _cond_classes(gram):  # a bound per class: the longest perception, negated
        content.update({f"{k}{c}": len(f"{k} not ") + perc + 1 for k in ("if", "while", "elif")})
    # Longest string from each state, over the rules the builder emitted (the states form a
    # DAG: every line spends at least one token).
    bodies = dict(rule.split(" ::= ", 1) for rule in builder.rules)
    longest: dict[str, int] = {}

    def from_state(name: str) -> int:
        if name not in longest:
            best = 0
            for alt in bodies[name].split(" | "):
                if alt != '""':
                    line, nxt = alt.split(" ")
                    size = len(INDENT) * int(line[1]) + content[line[2:]] + 1
                    best = max(best, size + from_state(nxt))
            longest[name] = best
        return longest[name]

    return len("def run():\n") + from_state("s0")


__all__ = ["INDENT", "GrammarLimits", "max_answer_chars", "python_gbnf"]
