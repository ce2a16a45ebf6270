"""Limits under load and misuse, over real HTTP on loopback: body size, token before body, an
atomic queue limit, strict Last-Event-ID and strictly typed requests.

Body tests talk raw HTTP on a socket, so that a server waiting for a body it should have refused
shows as a socket timeout (the test's bound), not as a hang.
"""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from urllib.parse import urlsplit

import pytest

pytest.importorskip("fastapi", reason="the service needs the 'serve' extra")

from service_live import Live, live_service, read_events  # noqa: E402

from agent.service.store import JobStore, QueueFull  # noqa: E402

JOB = {"description": "pick up the key and open the door", "model": None, "budget": 300}
TOKEN = "s3cret-token"
LIMIT = 4096


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Live]:
    db = tmp_path_factory.mktemp("limits") / "jobs.sqlite3"
    with live_service(db, "service_fakes:instant_job", max_body_bytes=LIMIT) as svc:
        yield svc


@pytest.fixture(scope="module")
def guarded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Live]:
    db = tmp_path_factory.mktemp("guarded") / "jobs.sqlite3"
    with live_service(db, "service_fakes:instant_job", token=TOKEN) as svc:
        yield svc


def _raw(url: str, head: str, body: bytes, timeout: float = 10.0) -> bytes:
    """Send a request head and the start of its body, then read the answer.

    The body sent is incomplete on purpose: a server that waits for the rest before answering
    never answers, and the read times out.
    """
    parts = urlsplit(url)
    with socket.create_connection((parts.hostname, parts.port), timeout=timeout) as sock:
        sock.sendall(head.replace("\n", "\r\n").encode("latin-1") + b"\r\n" + body)
        answer = b""
        while b"\r\n\r\n" not in answer or not answer.rstrip().endswith(b"}"):
            try:
                chunk = sock.recv(65536)
            except ConnectionResetError:  # closed with our unread body: the answer came first
                break
            if not chunk:
                break
            answer += chunk
    return answer


def _head(length: str | None, extra: str = "") -> str:
    lines = ["POST /v1/solve HTTP/1.1", "Host: 127.0.0.1", "Content-Type: application/json"]
    lines.append(f"Content-Length: {length}" if length else "Transfer-Encoding: chunked")
    return "\n".join(lines) + "\n" + extra


def test_token_is_checked_before_the_body_is_read(guarded: Live) -> None:
    # 200 MB announced, 64 KiB sent: the 401 must come without waiting for (or holding) the rest.
    answer = _raw(guarded.url, _head(str(200 * 2**20)), b"{" + b" " * 65536)
    assert answer.startswith(b"HTTP/1.1 401"), answer[:200]
    assert b"missing or wrong bearer token" in answer and TOKEN.encode() not in answer
    wrong = _raw(guarded.url, _head(str(200 * 2**20), "Authorization: Bearer nope\n"), b"{")
    assert wrong.startswith(b"HTTP/1.1 401"), wrong[:200]


def test_token_holder_still_gets_the_body_limit(guarded: Live) -> None:
    head = _head(str(200 * 2**20), f"Authorization: Bearer {TOKEN}\n")
    answer = _raw(guarded.url, head, b"{" + b" " * 1000)
    assert answer.startswith(b"HTTP/1.1 413"), answer[:200]
    assert b"at most 65536 bytes" in answer


@pytest.mark.parametrize("length", [LIMIT + 1, 200 * 2**20, 10**18])
def test_announced_body_over_the_limit_is_413_at_once(live: Live, length: int) -> None:
    answer = _raw(live.url, _head(str(length)), b"{")
    assert answer.startswith(b"HTTP/1.1 413"), answer[:200]
    assert f"at most {LIMIT} bytes".encode() in answer


def test_streamed_body_over_the_limit_is_413_while_it_streams(live: Live) -> None:
    chunk = b" " * 1024
    chunks = b"".join(b"%x\r\n%s\r\n" % (len(chunk), chunk) for _ in range(LIMIT // 1024 + 2))
    answer = _raw(live.url, _head(None), chunks)  # no last chunk: the body never ends
    assert answer.startswith(b"HTTP/1.1 413"), answer[:200]


@pytest.mark.parametrize("length", ["-1", "1e3", "²"])
def test_malformed_content_length_is_refused(live: Live, length: str) -> None:
    head = _head(None).replace("Transfer-Encoding: chunked", f"Content-Length: {length}")
    answer = _raw(live.url, head, b"{}")
    assert answer.startswith(b"HTTP/1.1 400"), answer[:200]


def test_body_under_the_limit_is_served(live: Live) -> None:
    with live.client() as http:
        padded = http.post(
            "/v1/solve",
            content=b'{"description": "pick up the key and open the door", "model": null}'
            + b" " * (LIMIT - 100),
            headers={"content-type": "application/json"},
        )
    assert padded.status_code == 202, padded.text


def test_queue_limit_is_atomic_in_the_store(tmp_path: Path) -> None:
    store = JobStore(tmp_path / "jobs.sqlite3")
    start = threading.Barrier(40)

    def submit(i: int) -> bool:
        start.wait()
        try:
            store.create({"n": i}, max_queued=5)
        except QueueFull:
            return False
        return True

    with ThreadPoolExecutor(40) as pool:
        accepted = sum(pool.map(submit, range(40)))
    assert accepted == 5 and store.count("queued") == 5


def test_queue_limit_holds_under_concurrent_submissions(tmp_path: Path) -> None:
    with live_service(tmp_path / "jobs.sqlite3", "service_fakes:slow_job", max_queued=5) as svc:
        with svc.client() as http, ThreadPoolExecutor(32) as pool:
            codes = list(
                pool.map(lambda _: http.post("/v1/solve", json=JOB).status_code, range(200))
            )
        queued = svc.store.count("queued")
        running = svc.store.count("running")
    assert set(codes) <= {202, 429}
    # At most 5 wait; at most one more was accepted because the single worker took one.
    assert queued <= 5 and codes.count(202) <= 5 + running <= 6
    assert codes.count(202) >= 5


@pytest.mark.parametrize(
    "value", ["²".encode(), str(2**63).encode(), b"-1", b"1.0", b"0x10", b"1" * 19, b"abc"]
)
def test_bad_last_event_id_is_400(live: Live, value: bytes) -> None:
    with live.client() as http:
        job = http.post("/v1/solve", json=JOB).json()
        response = http.get(f"/v1/jobs/{job['id']}/events", headers={"Last-Event-ID": value})
    assert response.status_code == 400, response.text
    assert "Last-Event-ID must be an event id" in response.json()["detail"]


def test_largest_last_event_id_resumes_after_everything(live: Live) -> None:
    with live.client() as http:
        job = http.post("/v1/solve", json=JOB).json()
        read_events(http, job["id"])  # until it ended
        response = http.get(f"/v1/jobs/{job['id']}/events", headers={"Last-Event-ID": "9" * 18})
    assert response.status_code == 200
    assert response.text.rstrip().endswith('data: {"status":"succeeded"}')


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("budget", True),
        ("budget", "100"),
        ("budget", 100.0),
        ("seed", "1"),
        ("seed", False),
        ("samples", "2"),
        ("description", 5),
        ("task", ["karel/DoorKey"]),
        ("model", 1),
    ],
)
def test_requests_are_strictly_typed(live: Live, field: str, value: object) -> None:
    with live.client() as http:
        response = http.post("/v1/solve", json={**JOB, field: value})
    assert response.status_code == 422, response.text
    assert response.json()["detail"].startswith(f"body.{field}:")
