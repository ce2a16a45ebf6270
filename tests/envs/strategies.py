"""Hypothesis strategies for DSL programs, reusable by any test (``from strategies import``).

``programs(domain, max_depth, logic)`` draws syntactically valid :class:`~envs.dsl.Program`
trees of either domain: blocks of 1-4 statements, control structures nested at most
``max_depth`` deep, REPEAT counts 0..19, conditions that are perceptions or their negation,
plus ``True``/``False``/``and``/``or`` when ``logic`` is set (the parser accepts these from
model text; the search never generates them).
"""

from __future__ import annotations

from hypothesis import strategies as st

from envs.dsl import (
    MAX_REPEAT,
    Action,
    And,
    BoolConst,
    Cond,
    If,
    IfElse,
    Not,
    Or,
    Perception,
    Program,
    Repeat,
    Stmt,
    While,
    grammar,
)


def perceptions(domain: str = "karel") -> st.SearchStrategy[Perception]:
    """A perception of the domain, with an argument where it takes one."""
    gram = grammar(domain)
    options = []
    for name in gram.perceptions:
        if gram.takes_arg(name):
            options.append(st.sampled_from(gram.perception_args[name]).map(
                lambda arg, name=name: Perception(name, arg)))  # fmt: skip
        else:
            options.append(st.just(Perception(name)))
    return st.one_of(options)


def conditions(domain: str = "karel", logic: bool = False) -> st.SearchStrategy[Cond]:
    """A condition: a perception or ``not`` of one; with ``logic`` also constants/and/or."""
    base = perceptions(domain)
    simple = st.one_of(base, base.map(Not))
    if not logic:
        return simple
    leaves = st.one_of(simple, st.booleans().map(BoolConst))
    return st.recursive(
        leaves,
        lambda inner: st.one_of(
            inner.map(Not),
            st.builds(And, inner, inner),
            st.builds(Or, inner, inner),
        ),
        max_leaves=3,
    )


def actions(domain: str = "karel") -> st.SearchStrategy[Action]:
    """A primitive action of the domain."""
    return st.sampled_from(tuple(grammar(domain).actions)).map(Action)


def blocks(
    domain: str = "karel", max_depth: int = 3, logic: bool = False, max_size: int = 4
) -> st.SearchStrategy[tuple[Stmt, ...]]:
    """A non-empty statement block whose control structures nest at most ``max_depth`` deep."""
    return st.lists(statements(domain, max_depth, logic), min_size=1, max_size=max_size).map(tuple)


def statements(
    domain: str = "karel", max_depth: int = 3, logic: bool = False
) -> st.SearchStrategy[Stmt]:
    """One statement (an action, or a control structure when depth remains)."""
    act = actions(domain)
    if max_depth <= 0:
        return act
    cond = conditions(domain, logic)
    body = st.deferred(lambda: blocks(domain, max_depth - 1, logic, max_size=3))
    return st.one_of(
        act,
        act,  # weight actions so that trees stay small
        st.builds(While, cond, body),
        st.builds(If, cond, body),
        st.builds(IfElse, cond, body, body),
        st.builds(Repeat, st.integers(0, MAX_REPEAT), body),
    )


def programs(
    domain: str = "karel", max_depth: int = 3, logic: bool = False
) -> st.SearchStrategy[Program]:
    """A whole program ``DEF run m( ... m)``."""
    return blocks(domain, max_depth, logic).map(Program)
