"""End to end: a job submitted over HTTP runs the real ``agent.solve`` and returns its result."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

pytest.importorskip("fastapi", reason="the service needs the 'serve' extra")

from service_live import live_service, read_events, wait_for  # noqa: E402

import envs  # noqa: E402

# Fields that differ between any two runs (wall times, the timestamped run folder).
VOLATILE = ("timings", "total_seconds", "run_dir")


def test_http_job_equals_agent_solve(tmp_path: Path) -> None:
    from agent import solve

    args = {"description": "pick up the key and open the door", "model": None, "budget": 2000}
    with live_service(
        tmp_path / "jobs.sqlite3", "agent.service.runner:solve_job", runs_dir=tmp_path / "runs"
    ) as svc:
        with svc.client() as http:
            job = http.post("/v1/solve", json=args).json()
            names = [name for name, _ in read_events(http, job["id"], timeout=300)]
            done = wait_for(http, job["id"], ("succeeded", "failed"), timeout=30)
    assert done["status"] == "succeeded", done["error"]
    # Compared as JSON, which is what the API serves (tuples become lists).
    direct = json.loads(solve(**args, runs_dir=str(tmp_path / "direct")).to_json())
    served = done["result"]
    assert {k: v for k, v in served.items() if k not in VOLATILE} == {
        k: v for k, v in direct.items() if k not in VOLATILE
    }
    assert served["reward"] == envs.make(served["task"]).evaluate(served["program"])
    assert Path(served["run_dir"]).parent == tmp_path / "runs"
    for name in (
        "solve_started",
        "task_matched",
        "stage_started",
        "best_updated",
        "solve_finished",
    ):
        assert name in names
    assert done["has_gif"]


def test_local_model_job_replays_from_the_shared_cache(tmp_path: Path) -> None:
    """A job on the embedded model, answered from the completion cache every job shares."""
    from agent import solve
    from agent.llm.cache import CachedSample, CompletionCache

    fixture = Path(__file__).parent / "fixtures" / "doorkey_replay.json"
    cache = CompletionCache(tmp_path / "cache")
    for key, value in json.loads(fixture.read_text(encoding="utf-8"))["entries"].items():
        cache.put(key, CachedSample(**value))
    cache.close()
    args = {
        "description": "pick up the key and open the door",
        "model": "local/qwen2.5-coder-0.5b",
        "samples": 2,
        "budget": 300,
    }
    with live_service(
        tmp_path / "jobs.sqlite3",
        "agent.service.runner:solve_job",
        runs_dir=tmp_path / "runs",
        cache_dir=tmp_path / "cache",
        solve_options={"cache": "replay"},  # a miss fails the job instead of running the model
    ) as svc:
        with svc.client() as http:
            job = http.post("/v1/solve", json=args).json()
            done = wait_for(http, job["id"], ("succeeded", "failed"), timeout=300)
    assert done["status"] == "succeeded", done["error"]
    served = done["result"]
    assert served["llm"]["calls"] == 0 and served["llm"]["cache_hits"] == 2
    direct = json.loads(
        solve(**args, cache="replay", cache_dir=tmp_path / "cache", save=False).to_json()
    )
    assert {k: v for k, v in served.items() if k not in VOLATILE} == {
        k: v for k, v in direct.items() if k not in VOLATILE
    }


def test_a_request_without_a_budget_stays_within_the_server_s_limit() -> None:
    from agent.service.schemas import SolveRequest
    from agent.service.validation import check_request

    body = SolveRequest(description="pick up the key and open the door", model=None)
    # solve()'s own default for DoorKey is 100,000; a server that allows 5,000 runs 5,000.
    assert check_request(body, max_budget=5_000)["budget"] == 5_000
    assert "budget" not in check_request(body, max_budget=1_000_000)  # solve()'s default
    asked = SolveRequest(description="pick up the key and open the door", model=None, budget=300)
    assert check_request(asked, max_budget=5_000)["budget"] == 300


@pytest.mark.parametrize(
    ("options", "said"),
    [({"max_budget": -5}, "--max-budget must be >= 1"),
     ({"max_queued": -1}, "--max-queued must be >= 0"),
     ({"job_function": "nosuch_llmgs_module:fn"}, "no module 'nosuch_llmgs_module'"),
     ({"job_function": "agent"}, "module:function")],
)  # fmt: skip
def test_limits_that_would_fail_every_job_are_refused_at_start(
    tmp_path: Path, options: dict, said: str
) -> None:
    from agent.service.app import ServiceConfig
    from envs.errors import ConfigError

    with pytest.raises(ConfigError, match=said):
        ServiceConfig(db_path=str(tmp_path / "jobs.sqlite3"), **options)
