"""One nested configuration: SolveConfig holds LLMConfig and SearchConfig; the CLI derives."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

import pytest

from agent import LLMConfig, SolveConfig, solve
from agent.cli import build_parser
from agent.commands.options import config_options, given
from agent.commands.solve import config_from_args
from envs.errors import ConfigError
from search.config import SearchConfig


def _solve_args(*argv: str) -> argparse.Namespace:
    return build_parser().parse_args(["solve", "open the door", *argv])


def test_options_not_given_keep_the_dataclass_defaults() -> None:
    args = _solve_args()
    assert config_from_args(args) == SolveConfig()
    # Nothing was filled in by the parser: the dataclasses hold the only defaults.
    for name in ("budget", "seed", "rounds", "cache", "model", "workers", "search_method"):
        assert not hasattr(args, name)


@pytest.mark.parametrize(
    ("argv", "where", "expected"),
    [
        (["--budget", "7"], "budget", 7),
        (["--seed", "3"], "seed", 3),
        (["--rounds", "0"], "rounds", 0),
        (["--search", "none"], "search_method", "none"),
        (["--search", "shc"], "search_method", "shc"),
        (["--no-save"], "save", False),
        (["--no-early-stop"], "early_stop", False),
        (["--grammar"], "grammar", True),
        (["--no-examples"], "examples", False),
        (["--temperature", "0.5"], "temperature", 0.5),
        (["--revision", "execution_trace"], "revision", "execution_trace"),
        (["--cache", "off"], "llm.cache", "off"),
        (["--cache-dir", "/tmp/c"], "llm.cache_dir", Path("/tmp/c")),
        (["--threads", "3"], "llm.n_threads", 3),
        (["--timeout-s", "9"], "llm.timeout_s", 9.0),
        (["--api-base", "http://h:1/v1"], "llm.api_base", "http://h:1/v1"),
        (["--model", "openai/x"], "llm.model", "openai/x"),
        (["--model", "none"], "llm", None),
        (["--workers", "2"], "search.workers", 2),
    ],
)
def test_each_flag_lands_in_its_one_place(argv: list[str], where: str, expected: Any) -> None:
    config: Any = config_from_args(_solve_args(*argv))
    for part in where.split("."):
        config = getattr(config, part)
    assert config == expected


def test_help_names_the_dataclass_defaults() -> None:
    parser = build_parser()
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    text = " ".join(sub.choices["solve"].format_help().split())
    for cls, names in ((SolveConfig, ("rounds", "instances", "seed", "search_method")),
                       (LLMConfig, ("model", "cache"))):  # fmt: skip
        options = config_options(cls)
        for name in names:
            option = options[name]
            assert f"{option.flag}" in text and f"(default {option.default})" in text


def test_search_command_derives_its_options_from_search_config() -> None:
    args = build_parser().parse_args(
        ["search", "--task", "karel/DoorKey", "--start-k", "8", "--no-progress", "--heldout", "0"]
    )
    options = given(args, tuple(config_options(SearchConfig)))
    assert options == {"start_k": 8, "progress": False, "heldout": 0}
    assert SearchConfig(**options).end_k == SearchConfig().end_k


def test_keyword_settings_route_to_the_nested_configs() -> None:
    config = SolveConfig.from_options(model="openai/m", cache="replay", workers=3, rounds=1)
    assert config.llm == LLMConfig(model="openai/m", cache="replay")
    assert config.search.workers == 3 and config.rounds == 1 and config.model == "openai/m"
    pure = config.with_options(model=None)
    assert pure.llm is None and pure.model is None and pure.search.workers == 3
    # A model given where there was none starts from the model settings' defaults.
    assert pure.with_options(model="openai/n").llm == LLMConfig(model="openai/n")
    # The search gets the run's budget and seed, never a bar or a folder of its own.
    search = config.with_options(seed=4).search_config(123)
    assert (search.budget, search.seed, search.workers, search.progress) == (123, 4, 3, False)


@pytest.mark.parametrize(
    ("options", "words"),
    [
        ({"sampels": 3}, ["'sampels'", "samples"]),
        ({"rounds": -1}, ["rounds", ">= 0"]),
        ({"strategy": "prose"}, ["strategy", "pythonic_dsl", "'prose'"]),
        ({"revision": "twice"}, ["revision", "execution_trace"]),
        ({"search_method": "bfs"}, ["search_method", "mosaic, shc, none"]),
        ({"model": "gpt-4o"}, ["provider prefix"]),
        ({"cache": "maybe"}, ["cache", "replay"]),
        ({"workers": 0}, ["workers"]),
        ({"top_p": 0.0}, ["top_p", "(0, 1]"]),
        ({"n_threads": 0}, ["n_threads", ">= 1"]),
        ({"budget": "lots"}, ["budget", "whole number", "'lots'"]),
        ({"seed": "x"}, ["seed", "whole number"]),
        ({"budget": 0}, ["budget", ">= 1"]),
        ({"budget": True}, ["budget", "whole number"]),
        ({"instances": 2.5}, ["instances", "whole number"]),
        ({"seed": -1}, ["seed", ">= 0"]),
    ],
)
def test_a_bad_setting_names_the_field_and_what_is_allowed(
    options: dict[str, Any], words: list[str]
) -> None:
    with pytest.raises(ConfigError) as info:
        SolveConfig.from_options(**options)
    for word in words:
        assert word in str(info.value)


def test_numpy_integers_are_taken_as_ints() -> None:
    import numpy as np

    config = SolveConfig.from_options(budget=np.int64(30), seed=np.int32(2))
    assert (config.budget, config.seed) == (30, 2) and type(config.seed) is int


def test_nested_configs_are_built_directly_too() -> None:
    config = SolveConfig(llm=LLMConfig(model="openai/m", api_base="http://127.0.0.1:9/v1"),
                         search=SearchConfig(workers=2), rounds=0)  # fmt: skip
    assert config.resolved_samples() == 8  # a server on this machine: the local defaults
    assert config.with_options(cache="off").llm == LLMConfig(
        model="openai/m", api_base="http://127.0.0.1:9/v1", cache="off"
    )
    with pytest.raises(ConfigError, match="llm must be an LLMConfig"):
        SolveConfig(llm="openai/m")  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match="search must be a SearchConfig"):
        SolveConfig(search={"workers": 2})  # type: ignore[arg-type]


def test_revision_choices_are_the_pipelines() -> None:
    from agent.pipeline.revision import METHODS

    assert config_options(SolveConfig)["revision"].choices == METHODS


def test_a_base_config_is_kept_where_no_keyword_overrides_it() -> None:
    base = SolveConfig.from_options(model=None, seed=5, budget=40, instances=2, save=False)
    result = solve("harvest all the markers", task="karel/Harvester", config=base)
    assert result.seed == 5 and result.budget == 40 and result.instances == 2
    again = solve("harvest all the markers", task="karel/Harvester", config=base, seed=6)
    assert again.seed == 6 and again.budget == 40
    with pytest.raises(ConfigError, match="unknown solve setting"):
        solve("harvest all the markers", config=base, budgett=10)


def test_cli_rejects_a_bad_choice(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        _solve_args("--search", "bfs")
    assert "--search" in capsys.readouterr().err


def _sample_value(option: Any) -> tuple[list[str], Any]:
    """Command-line words for ``option`` and the value they mean (never the default)."""
    if option.kind is bool:
        value = not option.default if option.default is not None else True
        return [option.flag if value else "--no-" + option.flag[2:]], value
    if option.choices is not None:
        value = next(c for c in option.choices if c != option.default)
        return [option.flag, value], value
    if option.kind is int:
        value = (option.default or 1) + 2
        return [option.flag, str(value)], value
    if option.kind is float:  # halved: temperature and top_p stay in range
        value = (option.default or 3.0) / 2
        return [option.flag, str(value)], value
    text = "openai/x" if option.name == "model" else "/tmp/somewhere"
    return [option.flag, text], option.kind(text)


def test_every_solve_flag_means_what_the_keyword_means() -> None:
    from agent.commands.solve import LLM_OPTIONS, SOLVE_OPTIONS

    options = {**config_options(LLMConfig), **config_options(SolveConfig)}
    options["workers"] = config_options(SearchConfig)["workers"]
    for name in (*LLM_OPTIONS, *SOLVE_OPTIONS, "workers"):
        words, value = _sample_value(options[name])
        from_cli = config_from_args(_solve_args(*words))
        assert from_cli == SolveConfig.from_options(**{name: value}) != SolveConfig(), name


def test_the_service_schema_offers_the_configs_choices_and_defaults() -> None:
    from typing import get_args

    from agent.service.schemas import Revision, SolveRequest, Strategy

    solve_options = config_options(SolveConfig)
    assert get_args(Revision) == solve_options["revision"].choices
    assert get_args(Strategy) == solve_options["strategy"].choices
    assert SolveRequest.model_fields["seed"].default == SolveConfig().seed


def test_cli_refuses_a_run_without_model_and_search(capsys: pytest.CaptureFixture[str]) -> None:
    from agent.cli import main

    argv = ["solve", "--task", "karel/Harvester", "--model", "none", "--search", "none"]
    assert main([*argv, "--no-save"]) == 1
    assert "nothing to run" in capsys.readouterr().err
