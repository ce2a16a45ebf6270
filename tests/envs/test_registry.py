"""The task registry: ids, descriptions, options, user tasks and close-match errors."""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

import envs
from envs.errors import ConfigError, TaskNotFound
from envs.karel.task import KarelTask
from envs.karel.tasks import BENCHMARK_TASKS
from envs.task import Rollout, Task


def test_every_benchmark_task_is_listed_with_a_description() -> None:
    karel = envs.tasks("karel", benchmark_only=True)
    assert [t.id for t in karel] == [f"karel/{name}" for name in BENCHMARK_TASKS]
    for entry in envs.tasks("karel"):
        assert entry.description and entry.synonyms and entry.domain == "karel"
        assert entry.default_budget == 1_000_000 and entry.grid is not None
    assert envs.info("karel/CleanHouse").grid == (14, 22)
    assert envs.info("karel/WallAvoider").grid == (8, 5)
    assert "fixed start" in envs.info("karel/MazeSparse").description
    assert "does not end" in envs.info("karel/OneStroke").description
    assert "pick up the key and open the door" in envs.info("karel/DoorKey").synonyms
    variants = {t.name for t in envs.tasks("karel")} - set(BENCHMARK_TASKS)
    assert variants == {"StairClimber", "Maze", "FourCornersSparse", "TopOffSparse",
                        "HarvesterSparse", "CleanHouseSparse"}  # fmt: skip


def test_make_builds_seeded_tasks_and_passes_options() -> None:
    task = envs.make("karel/Harvester", n=4, seed=2, engine="python", penalize_crash=True)
    assert isinstance(task, KarelTask)
    assert (task.id, task.n, task.seed, task.engine) == ("karel/Harvester", 4, 2, "python")
    assert task.options.penalize_crash and task.description == envs.info(task.id).description
    assert envs.make("doorkey", n=1).id == "karel/DoorKey"  # bare, case-insensitive
    with pytest.raises(ConfigError, match="unknown Karel option"):
        envs.make("karel/Harvester", n=1, crashable_typo=True)


def test_unknown_id_lists_close_matches() -> None:
    with pytest.raises(TaskNotFound, match="karel/DoorKey"):
        envs.make("karel/DoorKy")
    with pytest.raises(TaskNotFound) as err:
        envs.make("nothing-like-it")
    assert "llmgs tasks" in str(err.value)


class _Constant(Task):
    """A user task whose every episode returns the same value."""

    domain = "karel"

    def __init__(self, n: int, seed: int, value: float = 0.5) -> None:
        self.id, self.n, self.seed, self.value = "karel/UserConstant", n, seed, value
        self.description = "always the same"

    def returns(self, program: object) -> list[float]:
        return [self.value] * self.n

    def rollout(self, program: object, instance: int = 0, trace: bool = True) -> Rollout:
        return Rollout(instance, self.value, True, False, 0)


def test_register_user_task() -> None:
    info = envs.TaskInfo(id="karel/UserConstant", domain="karel", description="constant")
    envs.register("karel/UserConstant", _Constant, info, replace=True)
    try:
        task = envs.make("karel/UserConstant", n=3, value=0.25)
        assert task.evaluate("DEF run m( move m)") == 0.25
        assert info in envs.tasks("karel")
        with pytest.raises(ConfigError, match="already registered"):
            envs.register("karel/UserConstant", _Constant, info)
        with pytest.raises(ConfigError):
            envs.register("UserConstant", _Constant, info)
    finally:
        envs.unregister("karel/UserConstant")
    with pytest.raises(TaskNotFound):
        envs.make("karel/UserConstant")


# -- task specs: the one source of a task's text, and tasks of your own ---------------------
def test_every_built_in_task_has_its_prompt_text_in_its_spec() -> None:
    for spec in envs.tasks():
        assert spec.title and spec.prompt is not None and callable(spec.factory)
        assert spec.prompt.text.startswith("The map is ")
        assert spec.prompt_text == spec.prompt.text
    sparse = envs.info("karel/StairClimber")
    assert sparse.variant_of == "karel/StairClimberSparse" and sparse.title == "Stair Climber"
    twin = envs.info(sparse.variant_of).prompt
    assert sparse.prompt is not None and twin is not None
    assert sparse.prompt.map == twin.map and sparse.prompt.reward != twin.reward
    assert envs.info("karel/DoorKey").episode_options == {"engine": "python"}
    assert envs.info("minigrid/LavaGap").to_dict() == {
        "id": "minigrid/LavaGap", "domain": "minigrid",
        "description": envs.info("minigrid/LavaGap").description,
        "synonyms": list(envs.info("minigrid/LavaGap").synonyms), "grid": [6, 6],
        "default_budget": 100_000, "benchmark": True,
    }  # fmt: skip


def test_register_takes_a_spec_or_the_older_three_arguments() -> None:
    spec = envs.TaskSpec("karel/UserConstant", "karel", "constant", factory=_Constant)
    envs.register(spec)
    try:
        assert envs.info("karel/UserConstant") is spec
        assert envs.info("karel/UserConstant").display_name == "UserConstant"
        assert envs.info("karel/UserConstant").prompt_text == "constant"
        with pytest.raises(ConfigError, match="factory inside the spec"):
            envs.register(spec, _Constant, replace=True)
        with pytest.raises(ConfigError, match="needs a factory"):
            envs.register(envs.TaskSpec("karel/NoFactory", "karel", "x"))
        with pytest.raises(ConfigError, match="domain"):
            envs.register(envs.TaskSpec("minigrid/X", "karel", "x", factory=_Constant))
        with pytest.raises(ConfigError, match="needs the factory"):
            envs.register("karel/UserConstant", _Constant, replace=True)
    finally:
        envs.unregister("karel/UserConstant")


EXAMPLE = Path(__file__).parents[2] / "docs" / "examples" / "corridor_task.py"
CORRIDOR = "DEF run m( WHILE c( noMarkersPresent c) w( move w) pickMarker m)"


@pytest.fixture
def corridor(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """docs/examples/corridor_task.py named in LLMGS_TASK_MODULES, as a user would."""
    module = tmp_path / "corridor_task.py"  # a fresh path: a module is loaded once per path
    shutil.copy(EXAMPLE, module)
    monkeypatch.setenv("LLMGS_TASK_MODULES", str(module))
    yield "karel/Corridor"
    envs.unregister("karel/Corridor")


def test_a_user_task_module_is_registered_checked_and_searched(corridor: str) -> None:
    from search import SearchConfig, search

    assert corridor in [spec.id for spec in envs.tasks()]
    envs.check_task(corridor)
    task = envs.make(corridor, n=8)
    assert task.evaluate(CORRIDOR) == 1.0 and task.evaluate("DEF run m( move m)") == 0.0
    result = search(task, "shc", config=SearchConfig(budget=2_000, seed=0))
    assert result.best_return == 1.0 and result.evaluations <= 2_000
    assert envs.make(corridor, n=8).evaluate(result.best_program) == 1.0


def test_a_user_task_is_solved_from_the_command_line(
    corridor: str, capsys: pytest.CaptureFixture[str]
) -> None:
    import json

    from agent.cli import main

    code = main(["solve", "--task", corridor, "--model", "none", "--instances", "8",
                 "--no-save", "--json", "--quiet"])  # fmt: skip
    result = json.loads(capsys.readouterr().out)
    assert code == 0 and result["task"] == corridor and result["reward"] == 1.0
    code = main(["solve", "walk down the corridor and pick up the marker", "--model", "none",
                 "--instances", "8", "--no-save", "--json", "--quiet"])  # fmt: skip
    assert code == 0 and json.loads(capsys.readouterr().out)["task"] == corridor


def test_llmgs_tasks_lists_a_user_task_without_all(
    corridor: str, capsys: pytest.CaptureFixture[str]
) -> None:
    from agent.cli import main

    assert main(["tasks"]) == 0
    listed = capsys.readouterr().out
    assert corridor in listed and "karel/DoorKey" in listed
    assert "karel/StairClimber " not in listed  # an unused dense twin: only with --all


def test_a_task_module_that_fails_to_load_is_a_clear_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LLMGS_TASK_MODULES", "no_such_llmgs_task_module")
    with pytest.raises(ConfigError, match="no_such_llmgs_task_module.*cannot be imported"):
        envs.tasks()
    broken = tmp_path / "broken_tasks.py"
    broken.write_text("def register_tasks(:\n")
    monkeypatch.setenv("LLMGS_TASK_MODULES", str(broken))
    with pytest.raises(ConfigError, match="broken_tasks.py.*invalid syntax"):
        envs.info("karel/DoorKey")
    monkeypatch.setenv("LLMGS_TASK_MODULES", "envs.errors")
    with pytest.raises(ConfigError, match="has no register_tasks"):
        envs.make("karel/DoorKey", n=1)
    monkeypatch.delenv("LLMGS_TASK_MODULES")
    assert envs.make("karel/DoorKey", n=1).id == "karel/DoorKey"


USER_MODULE = """
import dataclasses

import envs

def register_tasks():
    spec = envs.info("karel/DoorKey")
    envs.register(dataclasses.replace(spec, id="karel/HalfDoorKey"))
    {failure}
"""


@pytest.mark.parametrize(
    ("failure", "said"),
    [
        ("raise RuntimeError('the maze file is gone')",
         "failed in register_tasks(): RuntimeError: the maze file is gone (at {path}:9)"),
        ("{}['size']", "failed in register_tasks(): KeyError: 'size' (at {path}:9)"),
        ("envs.register(spec)",  # a duplicate: the registry's own ConfigError, in its words
         "failed in register_tasks(): task 'karel/DoorKey' is already registered (pass "
         "replace=True)"),
    ],
)  # fmt: skip
def test_a_task_module_whose_register_tasks_raises_is_a_config_error_naming_it(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    failure: str,
    said: str,
) -> None:
    from agent.cli import main

    module = tmp_path / "my_tasks.py"
    module.write_text(USER_MODULE.format(failure=failure))
    monkeypatch.setenv("LLMGS_TASK_MODULES", str(module))
    expected = f"task module {str(module)!r} " + said.format(path=module)
    with pytest.raises(ConfigError) as err:
        envs.tasks()
    assert str(err.value) == expected
    # Nothing it registered before failing stays, and the next use tries it again.
    monkeypatch.delenv("LLMGS_TASK_MODULES")
    assert "karel/HalfDoorKey" not in [spec.id for spec in envs.tasks()]
    monkeypatch.setenv("LLMGS_TASK_MODULES", str(module))
    assert main(["tasks"]) == 1
    assert capsys.readouterr().err == f"llmgs tasks: error: {expected}\n"
    monkeypatch.delenv("LLMGS_TASK_MODULES")
    assert envs.make("karel/DoorKey", n=1).id == "karel/DoorKey"


def test_a_task_module_whose_import_raises_is_a_config_error_naming_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    module = tmp_path / "import_fails.py"
    module.write_text("import envs\n\nLIMIT = 1 / 0\n")
    monkeypatch.setenv("LLMGS_TASK_MODULES", str(module))
    with pytest.raises(ConfigError) as err:
        envs.info("karel/DoorKey")
    assert str(err.value) == (
        f"task module {str(module)!r} failed while being imported: "
        f"ZeroDivisionError: division by zero (at {module}:3)"
    )


@pytest.mark.parametrize(
    ("text", "error"),
    [
        ("domain: karel\ntasks: {A: {description: x, colour: red}}\n", "TaskSpec fields"),
        ("domain: karel\ntasks: {A: {synonyms: [a]}}\n", "no description"),
        ("domain: karel\ntasks: {A: {description: x, like: B}}\n", "no base task"),
        ("domain: karel\ntasks: {A: {description: x, prompt: {map: m}}}\n", "exactly"),
        ("tasks: {A: {description: x}}\n", "needs a 'domain'"),
        ("[1, 2]\n", "expected a mapping"),
    ],
)
def test_a_malformed_task_data_file_is_a_config_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, text: str, error: str
) -> None:
    from envs.spec import load_specs

    name = "llmgs_probe_" + re.sub(r"\W", "_", tmp_path.name)  # one package per case
    package = tmp_path / name
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "info.yaml").write_text(text)
    monkeypatch.syspath_prepend(str(tmp_path))
    with pytest.raises(ConfigError, match=error):
        load_specs(name)
    with pytest.raises(ConfigError, match="no task data file"):
        load_specs(name, "missing.yaml")
