"""The corpus of realistic model answers: each converts exactly or is rejected for the right reason.

Each file in ``tests/agent/corpus`` has header lines (``domain:``, ``via: python|dsl|answer``,
``expect: <canonical DSL>`` or ``reject: <reason>``, optionally ``source:``), a ``---`` line and
the answer exactly as a model might write it.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from agent.conversion import convert_answer, extract_dsl, python_to_dsl
from envs.dsl import parse
from envs.errors import ConversionError

CORPUS = Path(__file__).parent / "corpus"
FILES = sorted(CORPUS.glob("*.txt"))


def load(path: Path) -> tuple[dict[str, str], str]:
    raw = path.read_bytes().decode("utf-8")
    header, _, body = raw.partition("\n---\n")
    fields = dict(line.split(": ", 1) for line in header.splitlines() if line.strip())
    return fields, body


def test_corpus_is_large_enough() -> None:
    fields = [load(p)[0] for p in FILES]
    assert len(FILES) >= 60
    assert sum("expect" in f for f in fields) >= 30
    assert sum("reject" in f for f in fields) >= 20
    assert sum(f.get("domain") == "minigrid" for f in fields) >= 5


@pytest.mark.parametrize("path", FILES, ids=[p.stem for p in FILES])
def test_corpus_answer(path: Path) -> None:
    fields, body = load(path)
    domain = fields.get("domain", "karel")
    via = fields.get("via", "python")
    if via == "answer":
        outcome = convert_answer(body, domain)
        if "expect" in fields:
            assert outcome.program == fields["expect"], outcome.message
            assert outcome.source == fields.get("source", outcome.source)
        else:
            assert outcome.program is None
            assert outcome.reason == fields["reject"], outcome.message
        return
    convert = python_to_dsl if via == "python" else extract_dsl
    if "expect" in fields:
        expected = fields["expect"]
        assert str(parse(expected, domain)) == expected  # the expectation itself is canonical
        assert convert(body, domain) == expected
    else:
        with pytest.raises(ConversionError) as info:
            convert(body, domain)
        assert info.value.reason == fields["reject"], str(info.value)
        assert str(info.value)


@pytest.mark.parametrize(
    ("name", "task_id", "score"),
    [
        ("k03_maze_elif_chain", "karel/MazeSparse", 1.0),
        ("k33_cleanhouse_wall_follow", "karel/CleanHouse", 0.09090909090909087),
        ("k01_chatty_stairs", "karel/StairClimberSparse", 1.0),
    ],
)
def test_converted_answers_score_the_benchmark_test_vectors(
    name: str, task_id: str, score: float
) -> None:
    import envs  # the spec's test vectors (spec/benchmark.md §4), reached through a model answer

    _, body = load(CORPUS / f"{name}.txt")
    assert envs.make(task_id).evaluate(python_to_dsl(body)) == score
