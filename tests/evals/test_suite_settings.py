"""Method settings (a model behind a server, replay-only cells), held-out returns, seconds to
1.0 and fingerprints that carry the search's code, on a real OpenAI-compatible 127.0.0.1 server.
"""

from __future__ import annotations

import json
import sqlite3
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

import evals.suite as suite_module
from agent.llm import ScriptedLLM
from envs.errors import ConfigError
from evals.cells import run_cell
from evals.compare import Judgement, judge, sign_test, versus_table
from evals.report import load_rows, write_report
from evals.rows import fill_heldout
from evals.runner import pending_cells, run_suite
from evals.store import ResultStore
from evals.suite import Cell, MethodSpec, Suite, code_version, load_suite, suite_from_dict
from tests.agent.loopback_llm import OpenAIAPI, ServerState, serve

ROOT = Path(__file__).resolve().parents[2]
TASK = "karel/StairClimberSparse"
# Solves StairClimberSparse: a proposal at 1.0, so the cell is solved before any search.
PROGRAM = "def run():\n    while noMarkersPresent():\n        turnLeft()\n        move()\n" \
          "        turnRight()\n        move()"  # fmt: skip
ANSWER = f"```python\n{PROGRAM}\n```"
SECRET = "sk-h4-never-written-anywhere"


def _answer(messages: list[dict[str, Any]], seed: Any) -> str:
    return ANSWER


@pytest.fixture
def offline(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A fresh completion cache, loopback never proxied, no provider keys; the cache folder."""
    for name in ("OPENAI_API_KEY", "ANTHROPIC_API_KEY", "LLMGS_API_KEY"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    monkeypatch.setenv("no_proxy", "127.0.0.1,localhost")
    cache = tmp_path / "completions"
    monkeypatch.setenv("LLMGS_CACHE_DIR", str(cache))
    return cache


def _server_suite(url: str, **settings: Any) -> dict[str, Any]:
    method = {"name": "server", "kind": "solve", "samples": 2, "rounds": 0,
              "backends": ["openai/tiny"], "api_base": f"{url}/v1", **settings}  # fmt: skip
    return {"name": "srv", "tasks": [TASK], "seeds": [0], "budgets": [200],
            "methods": [method]}  # fmt: skip


def test_a_method_reaches_a_model_behind_a_server_with_its_settings(
    offline: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LLMGS_API_KEY", SECRET)
    state = ServerState(respond=_answer)
    out = tmp_path / "out"
    with serve(OpenAIAPI, state) as url:
        suite = suite_from_dict(_server_suite(url, temperature=0.5, generation_s=120))
        summary = run_suite(suite, out)
        assert (summary.ok, summary.failed) == (1, 0)
        bodies = state.posts("/v1/chat/completions")
        assert bodies and {b["model"] for b in bodies} == {"tiny"}
        assert {b["temperature"] for b in bodies} == {0.5}  # the method's setting was sent
        assert run_suite(suite, out).ran == 0  # done: a rerun asks the server nothing
        assert len(state.posts("/v1/chat/completions")) == len(bodies)
    (row,) = ResultStore(out).read_rows()
    assert row["status"] == "ok" and row["backend"] == "openai/tiny"
    assert row["settings"] == {"api_base": f"{url}/v1", "generation_s": 120, "temperature": 0.5}
    assert row["answers"] == row["accepted"] == 2 and row["llm_calls"] == 2
    assert row["solved"] and row["heldout_return"] == 1.0
    assert row["seconds_to_solve"] is not None and 0 < row["seconds_to_solve"] <= row["wall_s"]
    report = write_report(out).read_text()
    assert "| StairClimberSparse | server | openai/tiny | 1 |" in report
    # The key went to the server from the environment and was written nowhere.
    for path in out.iterdir():
        assert SECRET not in path.read_bytes().decode("utf-8", "replace"), path.name


def test_replay_cells_answer_from_the_cache_only_and_a_miss_is_an_error(
    offline: Path, tmp_path: Path
) -> None:
    state = ServerState(respond=_answer)
    with serve(OpenAIAPI, state) as url:
        run_suite(suite_from_dict(_server_suite(url)), tmp_path / "fresh")
        sent = len(state.posts("/v1/chat/completions"))
        replay = suite_from_dict(_server_suite(url, cache="replay"))
        # cache is not part of the fingerprint: the rows made with the cache on are current.
        assert run_suite(replay, tmp_path / "fresh").ran == 0
        again = run_suite(replay, tmp_path / "replayed")
        missing = suite_from_dict(_server_suite(url, cache="replay", cache_dir=str(tmp_path)))
        miss = run_suite(missing, tmp_path / "miss")
        assert len(state.posts("/v1/chat/completions")) == sent  # replay never generates
    assert again.ok == 1 and miss.failed == 1
    (fresh,) = ResultStore(tmp_path / "fresh").read_rows()
    (replayed,) = ResultStore(tmp_path / "replayed").read_rows()
    assert replayed["llm_calls"] == 0 and replayed["cache_hits"] == fresh["llm_calls"]
    assert replayed["program"] == fresh["program"] and replayed["curve"] == fresh["curve"]
    (failed,) = ResultStore(tmp_path / "miss").read_rows()
    assert failed["status"] == "failed" and failed["reason"].startswith("CacheMiss")


def test_a_server_method_needs_no_provider_key(offline: Path) -> None:
    cell = suite_from_dict(_server_suite("http://127.0.0.1:9"))  # nothing listens there
    hosted = replace(cell.methods[0], settings=())
    assert run_cell(Cell("t", TASK, hosted, "openai/tiny", 0, 10))["status"] == "skipped"
    row = run_cell(cell.cells()[0])
    assert row["status"] == "failed" and "openai/tiny failed" in row["reason"]


@pytest.mark.parametrize(
    ("method", "message"),
    [
        ({"bogus": 1}, "unknown setting 'bogus'"),
        ({"api_key": "sk-x"}, "'api_key' cannot be set in a suite: API keys are read from"),
        ({"model": "openai/x"}, "unknown setting 'model'"),
        ({"api_base": "http://me:pw@127.0.0.1:1/v1"}, "must not hold credentials"),
        ({"cache": "sometimes"}, "method 'm': cache must be 'on', 'off' or 'replay'"),
        ({"generation_s": -1}, "method 'm': generation_s must be > 0"),
        ({"kind": "search", "api_base": "http://127.0.0.1:1/v1"}, "takes no solve settings"),
        ({"kind": "revision", "revision": "regeneration", "grammar": True}, "fixes grammar"),
        ({"settings": [1]}, "settings must be a mapping"),
    ],
)
def test_bad_method_settings_are_config_errors(method: dict, message: str) -> None:
    data = {"name": "x", "tasks": [TASK], "methods": [{"name": "m", "kind": "solve", **method}]}
    with pytest.raises(ConfigError, match=message.replace("(", r"\(").replace(")", r"\)")):
        suite_from_dict(data)


def test_settings_are_flat_or_nested_and_every_name_is_a_solve_setting() -> None:
    flat = suite_from_dict(
        {
            "name": "x",
            "tasks": [TASK],
            "methods": [{"name": "m", "kind": "solve", "api_base": "http://h/v1", "n_threads": 2}],
        }
    )
    nested = suite_from_dict(
        {
            "name": "x",
            "tasks": [TASK],
            "methods": [
                {
                    "name": "m",
                    "kind": "solve",
                    "settings": {"n_threads": 2, "api_base": "http://h/v1"},
                }
            ],
        }
    )
    assert flat.methods == nested.methods
    assert flat.methods[0].settings == (("api_base", "http://h/v1"), ("n_threads", 2))
    from dataclasses import fields

    from agent import LLMConfig, SolveConfig

    solve_names = {f.name for f in fields(SolveConfig)} | {f.name for f in fields(LLMConfig)}
    assert set(suite_module.SETTINGS) <= solve_names - {"model", "seed", "budget", "instances"}
    options = replace(flat.methods[0], settings=(("gguf_path", "~/m.gguf"),)).solve_options()
    assert options["gguf_path"] == Path.home() / "m.gguf"


def test_fingerprints_of_committed_rows_still_match() -> None:
    # Rows written before rows recorded the code match on their settings alone: reports of the
    # committed folders keep them, and a rerun does not redo them.
    folder = ROOT / "evals/results/backends_1e5_ad66468"  # rows from before rows had a code
    suite = load_suite(str(folder / "suite.yaml"))
    cells = {c.key: c for c in suite.cells()}
    rows = [json.loads(x) for x in (folder / "rows.jsonl").read_text().splitlines()]
    assert rows and all("code" not in r for r in rows)
    assert all(cells[r["key"]].matches(r) for r in rows if r["key"] in cells)
    # A neutral setting (how answers are fetched) leaves the fingerprint as it was.
    cell = suite.cells()[0]
    replayed = replace(cell, method=replace(cell.method, settings=(("cache", "replay"),)))
    assert replayed.settings_fingerprint == cell.settings_fingerprint
    assert replayed.fingerprint == cell.fingerprint
    served = replace(cell, method=replace(cell.method, settings=(("api_base", "http://h/v1"),)))
    assert served.fingerprint != cell.fingerprint


def test_old_rows_and_an_old_sqlite_are_read_and_reported(tmp_path: Path) -> None:
    folder = tmp_path / "old"
    source = ROOT / "evals/results/backends_1e5_ad66468"  # rows from before rows had a code
    folder.mkdir()
    for name in ("rows.jsonl", "suite.yaml", "runs.jsonl"):
        (folder / name).write_bytes((source / name).read_bytes())
    old_columns = "key TEXT PRIMARY KEY, fingerprint TEXT, status TEXT, json TEXT"
    with sqlite3.connect(folder / "results.sqlite") as db:  # a store without the new columns
        db.execute(f"CREATE TABLE rows ({old_columns})")
    rows = load_rows(folder)
    assert len(rows) == len(ResultStore(folder).read_rows())
    report = write_report(folder).read_text()
    assert "held-out return" in report and "answers/min" in report
    assert ResultStore(folder).query("SELECT COUNT(heldout_return) AS n FROM rows") == [{"n": 0}]
    # Held-out returns of the old rows are computed from their programs, as solve() does.
    assert f"stored program for {len(rows)} row(s)" in report
    line = next(x for x in report.splitlines() if x.startswith("| none | none |"))
    assert line.split(" | ")[5] not in ("—", "")


def test_fill_heldout_scores_the_stored_program_as_solve_does() -> None:
    import envs

    program = "DEF run m( turnLeft move m)"
    rows = [
        {"status": "ok", "task": TASK, "instances": 8, "program": program},
        {"status": "ok", "task": "karel/NoSuchTask", "instances": 8, "program": program},
        {"status": "ok", "task": TASK, "instances": 8, "program": ""},
        {"status": "ok", "task": TASK, "instances": 8, "program": program, "heldout_return": 0.5},
        {"status": "failed", "task": TASK, "instances": 8},
    ]
    assert fill_heldout(rows) == 3
    expected = envs.make(TASK, n=64, seed=8).evaluate(program)
    assert [r.get("heldout_return") for r in rows] == [expected, None, None, 0.5, None]


def test_each_model_against_no_model(tmp_path: Path) -> None:
    suite = Suite(
        name="vs", tasks=(TASK, "karel/MazeSparse"), seeds=(0, 1), budgets=(300,),
        backends=("scripted/fake", None), methods=(MethodSpec("llmgs", "solve", samples=2),),
    )  # fmt: skip
    run_suite(suite, tmp_path, llm=ScriptedLLM([ANSWER], cycle=True))
    rows = ResultStore(tmp_path).read_rows()
    none = [r for r in rows if r["task"] == TASK and r["backend"] == "none"]
    assert none and all(r["llm_calls"] == 0 and (r["evals_to_solve"] or 10**9) > 1 for r in none)
    (line,) = versus_table(rows)[2:]
    cells = line.strip("| ").split(" | ")
    assert cells[:3] == ["llmgs", "scripted/fake", "2"]
    # The scripted answer solves StairClimberSparse at its first evaluation; none searches.
    assert "StairClimberSparse" in cells[7].split(", ")
    assert write_report(tmp_path).read_text().count("## Each model against no model") == 1


def test_never_worse_is_judged_on_every_seed_and_by_the_median() -> None:
    def row(final: float, to_solve: int | None) -> dict:
        return {"final_return": final, "evals_to_solve": to_solve}

    # Seed 1: the model ends lower; the medians still favour it.
    pairs = [
        (row(1.0, 10), row(1.0, 500)),
        (row(0.9, None), row(1.0, 900)),
        (row(1.0, 30), row(0.5, None)),
    ]
    verdict = judge(pairs)
    assert verdict == Judgement(fewer=True, never_worse_median=True, lower=1, higher=1)
    assert not verdict.never_worse and verdict.worse_p == 0.75
    assert not verdict.significantly_worse
    lower = [(row(0.5, None), row(1.0, 5)), (row(0.6, None), row(0.7, None))]
    assert judge(lower) == Judgement(fewer=False, never_worse_median=False, lower=2, higher=0)
    assert not judge(lower).never_worse and judge(lower).worse_p == 0.25


def test_the_sign_test_calls_a_loss_real_only_with_enough_seeds() -> None:
    def row(final: float) -> dict:
        return {"final_return": final, "evals_to_solve": None}

    # 3 of 3 seeds lower is 1/8 by chance: not significant.
    three = [(row(0.9), row(1.0))] * 3
    assert judge(three).worse_p == 0.125 and not judge(three).significantly_worse
    # 7 of 8 lower: 9/256 < 0.05.
    eight = [(row(0.9), row(1.0))] * 7 + [(row(1.0), row(0.9))]
    assert judge(eight).worse_p == 9 / 256 and judge(eight).significantly_worse
    # Ties are dropped: 5 lower, 0 higher, 11 equal is 1/32.
    ties = [(row(0.9), row(1.0))] * 5 + [(row(1.0), row(1.0))] * 11
    assert judge(ties).worse_p == 1 / 32
    assert sign_test(0, 0) == 1.0 and sign_test(0, 4) == 1.0
    with pytest.raises(ValueError, match=">= 0"):
        sign_test(-1, 2)


def test_a_row_of_other_search_code_is_redone(tmp_path: Path) -> None:
    suite = Suite(name="t", tasks=(TASK,), seeds=(0,), budgets=(40,),
                  methods=(MethodSpec("shc", "search", "shc"),))  # fmt: skip
    run_suite(suite, tmp_path)
    (row,) = ResultStore(tmp_path).read_rows()
    assert row["code"] == code_version() and row["heldout_return"] is not None
    store = ResultStore(tmp_path)
    store.append({**row, "code": "older", "fingerprint": "0" * 16})
    todo, done = pending_cells(suite, store)
    assert (len(todo), done) == (1, 0)  # recorded with other code: pending
    (shown,) = load_rows(tmp_path)  # still reported, the header says by which code
    assert shown["code"] == "older"
    (tmp_path / "suite.yaml").write_text(
        "name: t\ntasks: [karel/StairClimberSparse]\nbudgets: [40]\n"
        "methods: [{name: shc, kind: search, method: shc}]\n"
    )
    assert len(load_rows(tmp_path)) == 1  # the same cell in the suite file: same settings
    report = write_report(tmp_path).read_text()
    assert "`older` (other code: `llmgs eval run` redoes them) for 1 cell(s)" in report


def test_code_version_ignores_docstrings_and_comments_but_not_code(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    package = tmp_path / "fakesearch"
    package.mkdir()
    (package / "__init__.py").write_text('"""Doc."""\n\ndef f():\n    return 1\n')
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setattr(suite_module, "CODE_PACKAGES", ("fakesearch",))

    def version() -> str:
        code_version.cache_clear()
        return code_version()

    try:
        first = version()
        (package / "__init__.py").write_text(
            '"""Other doc."""\n\n# a comment\ndef f():\n    """Says 1."""\n    return (1)\n'
        )
        assert version() == first
        (package / "__init__.py").write_text('"""Doc."""\n\ndef f():\n    return 2\n')
        assert version() != first
    finally:
        code_version.cache_clear()


def test_held_out_and_seconds_to_solve_in_rows_and_report(tmp_path: Path) -> None:
    suite = Suite(
        name="rep", tasks=(TASK,), seeds=(0,), budgets=(150,), backends=("scripted/fake",),
        methods=(MethodSpec("shc", "search", "shc"), MethodSpec("llmgs", "solve", samples=2),
                 MethodSpec("rev", "revision", revision="regeneration", rounds=1, samples=2)),
    )  # fmt: skip
    assert run_suite(suite, tmp_path, llm=ScriptedLLM([ANSWER], cycle=True)).ok == 3
    rows = {r["method"]: r for r in ResultStore(tmp_path).read_rows()}
    for row in rows.values():
        assert row["heldout_return"] is not None
    assert rows["llmgs"]["solved"] and rows["llmgs"]["heldout_return"] == 1.0
    assert rows["llmgs"]["seconds_to_solve"] <= rows["llmgs"]["wall_s"]
    report = write_report(tmp_path).read_text()
    line = next(x for x in report.splitlines() if x.startswith("| llmgs | scripted/fake |"))
    # method, backend, tasks, cells, mean final, mean held-out
    assert line.split(" | ")[4:6] == ["1.000", "1.000"]


def test_tokens_per_answer_and_answers_per_minute_count_fresh_answers_only() -> None:
    from evals.report import generation_stats

    fresh = {"llm_calls": 4, "cache_hits": 0, "answers": 4, "completion_tokens": 300,
             "stage_times": {"generate": 50.0, "revision_1": 10.0, "search": 99.0}}  # fmt: skip
    replayed = {"llm_calls": 0, "cache_hits": 4, "answers": 4, "completion_tokens": 0,
                "stage_times": {"generate": 0.1}}  # fmt: skip
    stats = generation_stats([fresh, replayed, {"llm_calls": 0, "answers": 0}])
    assert stats == {"tokens_per_answer": 75.0, "answers_per_min": 4.0}
    assert generation_stats([replayed]) == {"tokens_per_answer": None, "answers_per_min": None}
