"""The HTTP API over real HTTP on loopback: submit, poll, stream, cancel, bad input, auth."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest

pytest.importorskip("fastapi", reason="the service needs the 'serve' extra")

from service_live import Live, live_service, read_events, wait_for  # noqa: E402

import envs  # noqa: E402

DOORKEY = {"description": "pick up the key and open the door", "model": None, "budget": 300}


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Live]:
    with live_service(tmp_path_factory.mktemp("svc") / "jobs.sqlite3", max_budget=50_000) as svc:
        yield svc


@pytest.fixture(scope="module")
def slow(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Live]:
    db = tmp_path_factory.mktemp("slow") / "jobs.sqlite3"
    with live_service(db, "service_fakes:slow_job", max_queued=3) as svc:
        yield svc


def test_submit_stream_and_result(live: Live) -> None:
    with live.client() as http:
        response = http.post("/v1/solve", json=DOORKEY)
        assert response.status_code == 202, response.text
        job = response.json()
        assert response.headers["location"] == f"/v1/jobs/{job['id']}"
        assert job["status"] in ("queued", "running")
        events = read_events(http, job["id"])
        done = http.get(f"/v1/jobs/{job['id']}").json()
        gif = http.get(f"/v1/jobs/{job['id']}/rollout.gif")
    names = [name for name, _ in events]
    assert names[0] == "job_queued" and names[-1] == "end"
    assert names.index("job_started") < names.index("best_updated") < names.index("job_succeeded")
    assert events[-1][1] == {"status": "succeeded"}
    assert done["status"] == "succeeded" and done["error"] is None
    result = done["result"]
    assert result["task"] == "karel/DoorKey" and result["evaluations"] == 300
    # What the API returns is what re-evaluating the program gives.
    assert result["reward"] == envs.make("karel/DoorKey").evaluate(result["program"])
    assert done["progress"]["evaluations"] > 0 and done["progress"]["stage"] == "search"
    assert done["has_gif"] and gif.headers["content-type"] == "image/gif"
    assert gif.content[:4] == b"GIF8"


def test_event_stream_resumes_after_last_event_id(live: Live) -> None:
    with live.client() as http:
        job = http.post("/v1/solve", json={**DOORKEY, "seed": 3}).json()
        everything = read_events(http, job["id"])
        with http.stream(
            "GET", f"/v1/jobs/{job['id']}/events", headers={"Last-Event-ID": "2"}
        ) as response:
            ids = [int(line[4:]) for line in response.iter_lines() if line.startswith("id: ")]
    assert ids[0] == 3 and ids == list(range(3, len(everything)))  # 'end' carries no id


def test_cancel_running_job(slow: Live) -> None:
    with slow.client() as http:
        job = http.post("/v1/solve", json=DOORKEY).json()
        wait_for(http, job["id"], ("running",), timeout=60)
        cancelled = http.delete(f"/v1/jobs/{job['id']}")
        assert cancelled.status_code == 200 and cancelled.json()["status"] == "cancelled"
        deadline = time.monotonic() + 10
        while slow.manager.running_count and time.monotonic() < deadline:
            time.sleep(0.05)
        assert slow.manager.running_count == 0  # the worker process is gone
        again = http.delete(f"/v1/jobs/{job['id']}")
        names = [name for name, _ in read_events(http, job["id"])]
        final = http.get(f"/v1/jobs/{job['id']}").json()
    assert again.status_code == 409 and "already ended (cancelled)" in again.json()["detail"]
    assert names[-2:] == ["job_cancelled", "end"]
    assert final["status"] == "cancelled" and final["result"] is None


def test_cancel_queued_job_and_queue_limit(slow: Live) -> None:
    with slow.client() as http:
        ids = [http.post("/v1/solve", json=DOORKEY).json()["id"]]
        wait_for(http, ids[0], ("running",), timeout=60)
        queued = [http.post("/v1/solve", json=DOORKEY) for _ in range(4)]
        assert [r.status_code for r in queued] == [202, 202, 202, 429]
        assert "queued jobs" in queued[-1].json()["detail"]
        for response in [*queued[:3]]:
            assert http.delete(f"/v1/jobs/{response.json()['id']}").json()["status"] == "cancelled"
        assert http.delete(f"/v1/jobs/{ids[0]}").status_code == 200
        statuses = {http.get(f"/v1/jobs/{r.json()['id']}").json()["status"] for r in queued[:3]}
    assert statuses == {"cancelled"}


@pytest.mark.parametrize(
    ("body", "words"),
    [
        ({"description": ""}, "description"),
        ({"description": "x" * 2001}, "at most 2000"),
        ({**DOORKEY, "budget": 0}, "budget"),
        ({**DOORKEY, "budget": 60_000}, "over this server's limit"),
        ({**DOORKEY, "seed": -1}, "seed"),
        ({**DOORKEY, "task": "karel/DoorKye"}, "did you mean karel/DoorKey"),
        ({**DOORKEY, "model": "local/no-such-model"}, "unknown embedded model"),
        ({**DOORKEY, "model": "gpt"}, "provider prefix"),
        ({**DOORKEY, "revision": "sometimes"}, "revision"),
        ({**DOORKEY, "colour": "red"}, "colour"),
        ({"description": "bake a cake with seven layers", "model": None}, "no task matches"),
        ([1, 2], "valid dictionary"),
    ],
)
def test_bad_input_is_422_with_a_message(live: Live, body: object, words: str) -> None:
    with live.client() as http:
        response = http.post("/v1/solve", json=body)
    assert response.status_code == 422, response.text
    assert words in response.json()["detail"]


def test_malformed_json_and_unknown_ids(live: Live) -> None:
    with live.client() as http:
        bad = http.post(
            "/v1/solve", content=b"{not json", headers={"content-type": "application/json"}
        )
        missing = [
            http.get("/v1/jobs/nope"),
            http.delete("/v1/jobs/nope"),
            http.get("/v1/jobs/nope/events"),
            http.get("/v1/jobs/nope/rollout.gif"),
        ]
    assert bad.status_code == 422 and "JSON" in bad.json()["detail"]
    assert [r.status_code for r in missing] == [404] * 4
    assert all("no job 'nope'" in r.json()["detail"] for r in missing)


def test_failed_job_reports_its_error(tmp_path: Path) -> None:
    with live_service(tmp_path / "jobs.sqlite3", "service_fakes:crash_job") as svc:
        with svc.client() as http:
            job = http.post("/v1/solve", json=DOORKEY).json()
            names = [name for name, _ in read_events(http, job["id"])]
            final = http.get(f"/v1/jobs/{job['id']}").json()
    assert names[-2:] == ["job_failed", "end"]
    assert final["status"] == "failed" and "boom: the fake job failed" in final["error"]
    assert final["interrupted"] is False


def test_bearer_token(tmp_path: Path) -> None:
    secret = "s3cret-token"
    with live_service(tmp_path / "jobs.sqlite3", token=secret) as svc:
        with svc.client(token="") as anonymous, svc.client(token="wrong") as wrong:
            refused = [anonymous.get("/v1/tasks"), wrong.get("/v1/tasks")]
            refused.append(anonymous.post("/v1/solve", json=DOORKEY))
            public = [anonymous.get("/"), anonymous.get("/openapi.json"), anonymous.get("/healthz")]
        with svc.client() as http:
            allowed = http.get("/v1/tasks")
    assert [r.status_code for r in refused] == [401, 401, 401]
    assert refused[0].headers["www-authenticate"] == "Bearer"
    assert all(secret not in r.text for r in refused + public)
    assert [r.status_code for r in public] == [200, 200, 200]
    assert allowed.status_code == 200


def test_tasks_health_and_schema(live: Live) -> None:
    with live.client() as http:
        tasks = http.get("/v1/tasks").json()["tasks"]
        health = http.get("/healthz").json()
        schema = http.get("/openapi.json").json()
        listed = http.get("/v1/jobs", params={"limit": 5}).json()["jobs"]
    assert {t["id"] for t in tasks} >= {"karel/DoorKey", "karel/Harvester"}
    assert health["status"] == "ok" and health["workers"] == 1
    paths = set(schema["paths"])
    assert {"/v1/solve", "/v1/jobs/{job_id}", "/v1/jobs/{job_id}/events", "/v1/tasks"} <= paths
    assert len(listed) <= 5
