"""Prompt templates: every task and strategy renders, and prompt and converter agree."""

from __future__ import annotations

import re

import pytest

from agent.conversion import extract_dsl, python_to_dsl
from agent.conversion.to_python import to_python
from agent.prompting import (
    REVISION_METHODS,
    TaskPrompt,
    conversion_rows,
    example_program,
    fill,
    render_prompt,
    render_revision,
    task_ids,
    task_prompt,
)
from envs.dsl import GRAMMARS, parse
from envs.errors import ConfigError, TaskNotFound

KAREL_TASKS = [
    "StairClimberSparse", "MazeSparse", "FourCorners", "TopOff", "Harvester", "CleanHouse",
    "DoorKey", "OneStroke", "Seeder", "Snake", "PathFollow", "WallAvoider",
]  # fmt: skip
MINIGRID_TASKS = ["LavaGap", "PutNear", "RedBlueDoor"]
ALL = [f"karel/{t}" for t in KAREL_TASKS] + [f"minigrid/{t}" for t in MINIGRID_TASKS]
STRATEGIES = ["pythonic_dsl", "python", "dsl"]


def test_every_benchmark_task_has_a_description() -> None:
    assert set(ALL) <= set(task_ids())
    for task_id in task_ids():
        info = task_prompt(task_id)
        assert info.domain == task_id.split("/")[0]
        assert len(re.findall(r"\.(?:\s|$)", info.description)) >= 4  # map, start, goal, return


@pytest.mark.parametrize("task_id", ALL)
@pytest.mark.parametrize("strategy", STRATEGIES)
def test_prompt_renders(task_id: str, strategy: str) -> None:
    messages = render_prompt(task_id, strategy)
    assert [m["role"] for m in messages] == ["system", "user"]
    system, user = (m["content"] for m in messages)
    assert "$" not in system + user  # no unfilled placeholder
    info = task_prompt(task_id)
    assert user.startswith(f"TASK NAME: {info.name.upper()}\n{info.description}")
    gram = GRAMMARS[info.domain]
    for name in [*gram.actions, *gram.perceptions]:
        assert name in system
    assert ("DEF run m(" in system) == (strategy != "python")
    assert ("```python" in user) == (strategy != "dsl")


def test_descriptions_follow_the_code_not_the_reference() -> None:
    assert "always starts" in task_prompt("karel/MazeSparse").description
    one_stroke = task_prompt("OneStroke").description
    assert "does not end the episode" in one_stroke


def test_free_form_task_and_errors() -> None:
    custom = TaskPrompt("Tidy", "Pick up every marker in the room.", "karel")
    user = render_prompt(custom, n_programs=3)[1]["content"]
    assert "TASK NAME: TIDY" in user and "3 simple and short Python programs" in user
    with pytest.raises(TaskNotFound):
        render_prompt("karel/NoSuchTask")
    with pytest.raises(ConfigError):
        render_prompt("karel/Harvester", "haiku")
    with pytest.raises(ConfigError):
        render_prompt("karel/Harvester", n_programs=0)


def test_missing_template_variable_is_an_error() -> None:
    with pytest.raises(ConfigError, match="task_name"):
        fill("user/task.txt", {"task_description": "x"})
    with pytest.raises(ConfigError):
        fill("user/no_such_template.txt", {})


@pytest.mark.parametrize("domain", ["karel", "minigrid"])
def test_conversion_table_agrees_with_the_converter(domain: str) -> None:
    gram = GRAMMARS[domain]
    first_action = next(iter(gram.actions))
    for python, dsl in conversion_rows(domain):
        if "BODY" in python or "COND" in python:
            continue
        if dsl in gram.actions:
            assert python_to_dsl(python, domain) == f"DEF run m( {dsl} m)"
        else:
            code = f"if {python}:\n    {first_action}()\n"
            expected = f"DEF run m( IF c( {dsl} c) i( {first_action} i) m)"
            assert python_to_dsl(code, domain) == expected
    example = example_program(gram)
    system = render_prompt(next(t for t in ALL if t.startswith(domain)))[0]["content"]
    python_part = system.split("this Python program:\n", 1)[1].split("\nis this DSL", 1)[0]
    assert python_to_dsl(python_part, domain) == example
    assert extract_dsl(system.rsplit("\n", 1)[1], domain) == example


@pytest.mark.parametrize("method", REVISION_METHODS)
def test_revision_prompts_render(method: str) -> None:
    program = "DEF run m( WHILE c( frontIsClear c) w( move w) m)"
    messages = render_revision(
        method,
        "karel/DoorKey",
        programs=[program, program, "DEF run m( turnLeft m)"],
        scored_programs=[(program, 0.5), ("DEF run m( turnLeft m)", -1.0), (program, 0.5)],
        program=program,
        score=0.40625,
        trace="step 1: move()",
    )
    user = messages[1]["content"]
    assert "$" not in user and user.startswith("TASK NAME: DOOR KEY")
    assert user.rstrip().endswith(
        "Convert the Python program to the Karel DSL, in a ``` code block."
    )
    if method == "regeneration":
        assert user.count("Program ") == 2 and "not identical" in user
    elif method == "regeneration_with_reward":
        assert user.index("average return 0.5") < user.index("average return -1")
    else:
        assert "0.4062" in user and "step 1: move()" in user and "while frontIsClear():" in user


def test_revision_inputs_are_checked() -> None:
    with pytest.raises(ConfigError):
        render_revision("execution_trace", "karel/DoorKey", program="DEF run m( move m)")
    with pytest.raises(ConfigError):
        render_revision("regeneration", "karel/DoorKey")
    with pytest.raises(ConfigError):
        render_revision("shout", "karel/DoorKey")


# -- worked examples (leave-one-out) and the grammar-constrained prompt ---------------------
@pytest.mark.parametrize("task_id", task_ids())
def test_worked_examples_never_show_the_task_or_its_twin(task_id: str) -> None:
    from agent.prompting import examples_for, task_family, worked_examples

    info = task_prompt(task_id)
    system = render_prompt(task_id, examples=True, constrained=True)[0]["content"]
    shown = examples_for(task_id)
    assert shown, "every task sees at least one example of another task"
    for example in worked_examples(info.domain):
        code = to_python(example.program, info.domain).rstrip("\n")
        if task_family(example.task_id) == task_family(task_id):
            assert example not in shown
            assert code not in system  # the solved task's own program never appears
            assert f": {task_prompt(example.task_id).name}." not in system
    for k, example in enumerate(shown, 1):
        assert f"Example {k}: {task_prompt(example.task_id).name}." in system
        assert to_python(example.program, info.domain).rstrip("\n") in system


def test_twins_share_a_family_and_user_tasks_see_every_example() -> None:
    from agent.prompting import examples_for, task_family, worked_examples

    assert task_family("karel/StairClimber") == task_family("karel/StairClimberSparse")
    assert task_family("karel/HarvesterSparse") == "karel/Harvester"
    assert task_family("karel/NotATask") == "karel/NotATask"
    assert not any(
        e.task_id.startswith("karel/StairClimber") for e in examples_for("karel/StairClimber")
    )
    custom = TaskPrompt("Tidy", "Pick up every marker in the room.", "karel")
    assert examples_for(custom) == list(worked_examples("karel"))[: len(examples_for(custom))]


@pytest.mark.parametrize("domain", ["karel", "minigrid"])
def test_worked_examples_score_what_they_claim(domain: str) -> None:
    import envs
    from agent.prompting import worked_examples

    examples = worked_examples(domain)
    assert len({e.task_id for e in examples}) >= 2  # leave-one-out leaves at least one
    for example in examples:
        assert str(parse(example.program, domain)) == example.program
        assert envs.make(example.task_id).evaluate(example.program) == example.score


def test_examples_can_be_turned_off_and_constrained_prompt_asks_for_code_only() -> None:
    plain = render_prompt("karel/DoorKey")
    with_examples = render_prompt("karel/DoorKey", examples=True)
    assert "Example 1:" not in plain[0]["content"] and "Example 1:" in with_examples[0]["content"]
    assert with_examples[1] == plain[1]
    constrained = render_prompt("karel/DoorKey", constrained=True)
    system, user = (m["content"] for m in constrained)
    assert "DEF run m(" not in system  # no DSL table: the answer is Python only
    assert "def run():" in user and "code only" in user and "```" not in user
    revision = render_revision(
        "regeneration", "karel/DoorKey", programs=["DEF run m( move m)"], constrained=True,
        examples=True,
    )  # fmt: skip
    assert "code only" in revision[1]["content"] and "Example 1:" in revision[0]["content"]


# -- the prompt text is pinned: model completions are cached by their messages ---------------
PINNED_IDS = [
    "karel/StairClimberSparse", "karel/StairClimber", "karel/MazeSparse", "karel/Maze",
    "karel/FourCorners", "karel/FourCornersSparse", "karel/TopOff", "karel/TopOffSparse",
    "karel/Harvester", "karel/HarvesterSparse", "karel/CleanHouse", "karel/CleanHouseSparse",
    "karel/DoorKey", "karel/OneStroke", "karel/Seeder", "karel/Snake", "karel/PathFollow",
    "karel/WallAvoider", "minigrid/LavaGap", "minigrid/PutNear", "minigrid/RedBlueDoor",
]  # fmt: skip
# sha256 of every prompt below, taken before the task texts moved into the task specs.
PINNED_DIGEST = "207f5e0272837f7dedb79ae851e6ccb83fc9cbc04c8b442a7e233f4e9ddc5536"
DOORKEY_USER = """TASK NAME: DOOR KEY
The map is an 8x8 grid split by a wall in column 4 into a left and a right room, joined by a \
locked door in rows 2 and 3 of that wall; one marker (the key) lies in the left room and one \
marker (the goal) in the right room. The agent starts on a random cell of the left room, facing \
east. The goal is to pick up the key, which opens the door, then go into the right room and put \
a marker on the goal marker so that the goal cell holds two markers. Picking up the key gives \
0.5 and completing the goal gives 0.5 and ends the episode, while putting a marker anywhere \
else or removing the goal marker gives -1 and ends the episode.

1. Write 1 simple and short Python program for this task, using only the actions and \
perceptions above, in a ```python code block, without comments.
2. Convert the Python program to the Karel DSL, in a ``` code block."""


def test_the_prompts_of_the_registered_tasks_do_not_change() -> None:
    import hashlib
    import json

    assert render_prompt("karel/DoorKey")[1]["content"] == DOORKEY_USER
    digest = hashlib.sha256()
    for task_id in PINNED_IDS:
        for strategy in ("pythonic_dsl", "python", "dsl"):
            for examples in (False, True):
                for constrained in (False, True):
                    messages = render_prompt(
                        task_id, strategy, examples=examples, constrained=constrained
                    )
                    digest.update(json.dumps(messages).encode())
    assert digest.hexdigest() == PINNED_DIGEST


def test_a_registered_task_is_stated_from_its_spec() -> None:
    import envs

    sentences = envs.PromptText(
        map="The map is a corridor.", start="The agent starts at its west end.",
        goal="The goal is the marker at the east end.", reward="The return is 1 for it.",
    )  # fmt: skip
    described = envs.TaskSpec("karel/Hall", "karel", "Walk the hall.", factory=lambda **_: None)
    stated = envs.TaskSpec(
        "karel/Corridor2", "karel", "Walk the corridor.", title="Long Corridor",
        prompt=sentences, factory=lambda **_: None,
    )  # fmt: skip
    for spec in (described, stated):
        envs.register(spec, replace=True)
    try:
        user = render_prompt("karel/Corridor2")[1]["content"]
        assert user.startswith("TASK NAME: LONG CORRIDOR\nThe map is a corridor. The agent")
        assert "karel/Corridor2" in task_ids() and "karel/Hall" not in task_ids()
        user = render_prompt("karel/Hall")[1]["content"]
        assert user.startswith("TASK NAME: HALL\nWalk the hall.\n")
    finally:
        envs.unregister("karel/Hall")
        envs.unregister("karel/Corridor2")
