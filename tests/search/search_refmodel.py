"""An independent model of the reference search space, written from spec/benchmark.md §6.

It keeps the reference's own shape (mutable nodes with ``Concatenate`` chains, a pre-order node
list, ``RandomState.choice`` for every draw) so the tests can check that ``search.space``, which
works on tuple blocks, produces the same programs from the same RNG states.
"""

from __future__ import annotations

import copy

import numpy as np

from envs.dsl.grammar import grammar

STMT, BOOL, INT = "stmt", "bool", "int"
CHILDREN = {
    "Program": [STMT], "WHILE": [BOOL, STMT], "REPEAT": [INT, STMT], "IF": [BOOL, STMT],
    "IFELSE": [BOOL, STMT, STMT], "Concatenate": [STMT, STMT], "Not": [BOOL],
}  # fmt: skip
DEPTH = {"Program": 1, "WHILE": 1, "REPEAT": 1, "IF": 1, "IFELSE": 1}


class Node:
    def __init__(self, kind: str, parent: Node | None = None) -> None:
        self.kind = kind
        self.parent = parent
        self.children: list[Node] = []
        self.value: str | int | None = None
        self.arg: str | None = None

    def all_nodes(self) -> list[Node]:
        out = [self]
        for c in self.children:
            out += c.all_nodes()
        return out


def _allowed(parent: str, i: int, kind: str) -> bool:
    if parent == "Concatenate" and i == 0 and kind == "Concatenate":
        return False
    if parent in ("IFELSE", "Not") and i == 0 and kind == "Not":
        return False
    return True


class RefSpace:
    def __init__(self, domain: str, rng: np.random.RandomState) -> None:
        self.g = grammar(domain)
        self.rng = rng

    def _probs(self, slot: str) -> dict[str, float]:
        if slot == STMT:
            return dict(self.g.statement_probs)
        if slot == BOOL:
            return {"Feature": self.g.bool_probs["Feature"], "Not": self.g.bool_probs["Not"]}
        return {"ConstInt": 1.0}

    def _leaf(self, node: Node) -> None:
        g, rng = self.g, self.rng
        if node.kind == "Action":
            node.value = rng.choice(list(g.action_probs), p=list(g.action_probs.values()))
        elif node.kind == "Feature":
            node.value = rng.choice(list(g.perception_probs), p=list(g.perception_probs.values()))
            if node.value in g.perception_args:
                vals = list(g.perception_args[node.value])
                node.arg = rng.choice(vals, p=[1.0 / len(vals)] * len(vals))
        elif node.kind == "ConstInt":
            node.value = int(rng.choice(list(range(20)), p=[1 / 20] * 20))

    def _new(self, slot: str, probs: dict[str, float], parent: Node) -> Node:
        p = list(probs.values()) / np.sum(list(probs.values()))
        return Node(str(self.rng.choice(list(probs), p=p)), parent)

    def fill(self, node: Node, h: int = 1, seq: int = 0) -> None:
        for i, slot in enumerate(CHILDREN[node.kind]):
            probs = self._probs(slot)
            for kind in probs:
                if not _allowed(node.kind, i, kind) or (h >= 4 and DEPTH.get(kind, 0) > 0):
                    probs[kind] = 0.0
            if node.kind == "Concatenate" and seq + 1 >= 6:
                probs["Concatenate"] = 0.0
            child = self._new(slot, probs, node)
            if child.kind in CHILDREN:
                nseq = seq + 1 if node.kind == "Concatenate" else 1
                self.fill(child, h + DEPTH.get(child.kind, 0), nseq)
            else:
                self._leaf(child)
            node.children.append(child)

    def random_program(self) -> Node:
        while True:
            prog = Node("Program")
            self.fill(prog)
            if accepted(prog):
                return prog

    def neighbour(self, prog: Node) -> Node:
        while True:
            mutated = copy.deepcopy(prog)
            nodes = mutated.all_nodes()[1:]
            old = nodes[self.rng.randint(0, len(nodes))]
            parent = old.parent
            i = next(j for j, c in enumerate(parent.children) if c is old)
            probs = self._probs(CHILDREN[parent.kind][i])
            for kind in probs:
                if not _allowed(parent.kind, i, kind):
                    probs[kind] = 0.0
            new = self._new(CHILDREN[parent.kind][i], probs, parent)
            if new.kind in CHILDREN:
                h, up = DEPTH.get(old.kind, 0), old.parent
                while up is not None:
                    h += DEPTH.get(up.kind, 0)
                    up = up.parent
                self.fill(new, h + DEPTH.get(new.kind, 0), 1)
            else:
                self._leaf(new)
            parent.children[i] = new
            if accepted(mutated):
                return mutated


def text(node: Node) -> str:
    k, c = node.kind, node.children
    if k == "Program":
        return f"DEF run m( {text(c[0])} m)"
    if k == "Concatenate":
        return f"{text(c[0])} {text(c[1])}"
    if k == "WHILE":
        return f"WHILE c( {text(c[0])} c) w( {text(c[1])} w)"
    if k == "IF":
        return f"IF c( {text(c[0])} c) i( {text(c[1])} i)"
    if k == "IFELSE":
        return f"IFELSE c( {text(c[0])} c) i( {text(c[1])} i) ELSE e( {text(c[2])} e)"
    if k == "REPEAT":
        return f"REPEAT R={c[0].value} r( {text(c[1])} r)"
    if k == "Not":
        return f"not c( {text(c[0])} c)"
    if node.arg is not None:
        return f"{node.value} h( {node.arg} h)"
    return str(node.value)


def _height(node: Node) -> int:
    return DEPTH.get(node.kind, 0) + max((_height(c) for c in node.children), default=0)


def _sequence(node: Node, cur: int = 1, best: int = 0) -> int:
    cur = cur + 1 if node.kind == "Concatenate" else 1
    best = max(best, cur)
    for c in node.children:
        best = max(best, _sequence(c, cur, best))
    return best


def accepted(prog: Node) -> bool:
    return _height(prog) <= 4 and _sequence(prog) <= 6 and len(text(prog).split(" ")) <= 45


def from_program(program) -> Node:
    """Our tuple-block AST as the reference's tree (blocks become Concatenate chains)."""
    from envs.dsl import ast

    def block(stmts, parent: Node) -> Node:
        if len(stmts) == 1:
            return stmt(stmts[0], parent)
        node = Node("Concatenate", parent)
        node.children = [stmt(stmts[0], node), block(stmts[1:], node)]
        return node

    def cond(c, parent: Node) -> Node:
        if isinstance(c, ast.Not):
            node = Node("Not", parent)
            node.children = [cond(c.cond, node)]
            return node
        node = Node("Feature", parent)
        node.value, node.arg = c.name, c.arg
        return node

    def stmt(s, parent: Node) -> Node:
        if isinstance(s, ast.Action):
            node = Node("Action", parent)
            node.value = s.name
            return node
        kind = {ast.While: "WHILE", ast.If: "IF", ast.IfElse: "IFELSE", ast.Repeat: "REPEAT"}
        node = Node(kind[type(s)], parent)
        if isinstance(s, ast.Repeat):
            first = Node("ConstInt", node)
            first.value = s.n
        else:
            first = cond(s.cond, node)
        node.children = [first, block(s.body, node)]
        if isinstance(s, ast.IfElse):
            node.children.append(block(s.orelse, node))
        return node

    root = Node("Program")
    root.children = [block(program.body, root)]
    return root
