"""The web page in a real headless browser (Debian's chromium driven by Playwright).

The page submits a task, shows its events as they arrive, then the program, its return and
the GIF of its rollout. In CI (``$CI`` set) a missing browser is a failure; elsewhere the test
is skipped with the reason printed.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

pytest.importorskip("fastapi", reason="the service needs the 'serve' extra")

from service_live import Live, live_service  # noqa: E402

import envs  # noqa: E402

CHROMIUM = os.environ.get("LLMGS_CHROMIUM", "/usr/bin/chromium")
ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]  # fmt: skip


def _browser_missing() -> str | None:
    try:
        import playwright.sync_api  # noqa: F401
    except ModuleNotFoundError:
        return "playwright is not installed (pip install 'llmgs[test]')"
    if shutil.which(CHROMIUM) is None and not Path(CHROMIUM).exists():
        return f"no chromium at {CHROMIUM} (run .ci/install-browser)"
    return None


@pytest.fixture(scope="module")
def page_service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Live]:
    missing = _browser_missing()
    if missing is not None:
        if os.environ.get("CI"):
            pytest.fail(f"browser test cannot run in CI: {missing}")
        print(f"skipping the browser test: {missing}")
        pytest.skip(missing)
    db = tmp_path_factory.mktemp("page") / "jobs.sqlite3"
    with live_service(db, token="page-token") as svc:
        yield svc


def test_page_submits_and_shows_the_job_live(page_service: Live) -> None:
    from playwright.sync_api import expect, sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
        try:
            page = browser.new_page()
            errors: list[str] = []
            page.on("pageerror", lambda exc: errors.append(str(exc)))
            page.goto(page_service.url + "/", timeout=30_000)
            # The server wants a token: the page says so until one is given.
            expect(page.locator("#message")).to_contain_text("bearer token")
            page.click("summary")
            page.fill("#token", "page-token")
            page.press("#token", "Tab")
            expect(page.locator("#task option[value='karel/DoorKey']")).to_have_count(1)
            page.fill("#description", "pick up the key and open the door")
            page.fill("#budget", "400")
            page.click("#submit")
            # Live: events appear while the job runs, before the final result is shown.
            expect(page.locator("#events li[data-event='job_started']")).to_have_count(1)
            expect(page.locator("#events li[data-event='best_updated']").first).to_be_visible(
                timeout=120_000
            )
            expect(page.locator("#status")).to_have_text("succeeded", timeout=120_000)
            expect(page.locator("#gif")).to_be_visible(timeout=30_000)
            job_id = page.locator("#job-id").inner_text()
            program = page.locator("#program").inner_text()
            shown_return = float(page.locator("#result-return").inner_text())
            gif_width = page.eval_on_selector("#gif", "img => img.naturalWidth")
        finally:
            browser.close()
    with page_service.client() as http:
        job = http.get(f"/v1/jobs/{job_id}").json()
    assert errors == []
    assert job["status"] == "succeeded" and job["request"]["model"] is None
    assert program == job["result"]["program"]
    assert shown_return == job["result"]["reward"] == envs.make("karel/DoorKey").evaluate(program)
    assert gif_width > 0
