"""The FastAPI application of ``llmgs serve``: the HTTP API, its OpenAPI schema and the web page.

Example:
    >>> from agent.service import ServiceConfig, create_app
    >>> app = create_app(ServiceConfig(db_path="jobs.sqlite3"))  # doctest: +SKIP
    >>> # uvicorn.run(app, host="127.0.0.1", port=8000)
"""

from __future__ import annotations

import importlib.util
import os
import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from importlib import metadata, resources
from typing import Annotated, Any

from fastapi import APIRouter, Depends, FastAPI, Header, HTTPException, Path, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse, JSONResponse, Response, StreamingResponse
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException

from agent.service.auth import require_token
from agent.service.guard import MAX_BODY_BYTES, RequestGuard
from agent.service.jobs import DEFAULT_JOB_FUNCTION, JobManager, NotCancellable, QueueFull
from agent.service.schemas import (
    ErrorBody,
    Health,
    JobList,
    JobStatus,
    JobView,
    SolveRequest,
    TaskList,
)
from agent.service.sse import job_events
from agent.service.store import JobRecord, JobStore
from agent.service.validation import check_request
from envs.errors import ConfigError, TaskNotFound

JobId = Annotated[str, Path(min_length=1, max_length=64, description="A job id.")]

#: Largest event id a client may resume from (event ids are per-job counters; SQLite holds
#: signed 64-bit integers, so an unbounded number could not even be looked up).
MAX_EVENT_ID = 10**18 - 1
_EVENT_ID = re.compile(r"[0-9]{1,18}")


@dataclass(frozen=True)
class ServiceConfig:
    """Settings of one service instance.

    Attributes:
        db_path: SQLite file of jobs, events and GIFs (kept across restarts).
        token: Bearer token required on ``/v1`` routes; None leaves the API open (it binds to
            loopback by default).
        max_workers: Jobs running at once; None means one per two cores.
        max_queued: Jobs waiting at most (beyond: 429).
        max_budget: Largest budget a request may ask for.
        max_body_bytes: Largest request body (beyond: 413, and no more of it is read).
        job_function: ``"module:function"`` each job runs (``agent.solve`` by default).
        start_method: multiprocessing start method of the workers.
        sse_poll_s: Seconds between event-store reads of an open event stream.
        runs_dir: Where jobs save their run directories (``$LLMGS_RUNS_DIR`` of the
            workers); None leaves the solver's default.
        cache_dir: Completion cache shared by every job (``$LLMGS_CACHE_DIR`` of the
            workers); None leaves the gateway's default.
        solve_options: Settings added to every job's arguments, e.g. ``{"cache": "replay"}``
            for a server that answers only from recorded completions.
    """

    db_path: str
    token: str | None = field(default=None, repr=False)  # never printed with the config
    max_workers: int | None = None
    max_queued: int = 100
    max_budget: int = 1_000_000
    max_body_bytes: int = MAX_BODY_BYTES
    job_function: str = DEFAULT_JOB_FUNCTION
    start_method: str = "forkserver"
    sse_poll_s: float = 0.2
    runs_dir: str | None = None
    cache_dir: str | None = None
    solve_options: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        """Refuse limits that would let the server start and then fail every job.

        Raises:
            ConfigError: ``max_workers``, ``max_budget`` or ``max_body_bytes`` below 1,
                ``max_queued`` below 0, or a ``job_function`` that is not ``module:function``
                of a module that exists.
        """
        if self.max_workers is not None and self.max_workers < 1:
            raise ConfigError(f"--workers must be >= 1, got {self.max_workers}")
        if self.max_body_bytes < 1:
            raise ConfigError(f"--max-body-bytes must be >= 1, got {self.max_body_bytes}")
        if self.max_budget < 1:
            raise ConfigError(f"--max-budget must be >= 1, got {self.max_budget}")
        if self.max_queued < 0:
            raise ConfigError(f"--max-queued must be >= 0, got {self.max_queued}")
        module, sep, name = self.job_function.partition(":")
        if not (module and sep and name):
            raise ConfigError(f"--job-function must be module:function, got {self.job_function!r}")
        try:
            found = importlib.util.find_spec(module) is not None
        except (ImportError, ValueError):  # a parent package that is missing, or a bad name
            found = False
        if not found:
            raise ConfigError(f"--job-function {self.job_function!r}: no module {module!r}")

    def worker_env(self) -> dict[str, str]:
        """Environment variables the workers get."""
        env = {"LLMGS_RUNS_DIR": self.runs_dir, "LLMGS_CACHE_DIR": self.cache_dir}
        return {k: v for k, v in env.items() if v is not None}


_ERRORS: dict[int | str, dict[str, Any]] = {
    401: {"model": ErrorBody, "description": "Missing or wrong bearer token"},
    422: {"model": ErrorBody, "description": "Invalid request"},
}
_NOT_FOUND: dict[int | str, dict[str, Any]] = {404: {"model": ErrorBody, "description": "No job"}}


def _content(media_type: str, schema: dict[str, str]) -> dict[str, Any]:
    return {"content": {media_type: {"schema": schema}}, "description": "OK"}


def _view(job: JobRecord, store: JobStore) -> JobView:
    base = f"/v1/jobs/{job.id}"
    has_gif = job.status == "succeeded" and "rollout.gif" in store.artifact_names(job.id)
    return JobView.model_validate(
        {
            **job.__dict__,
            "has_gif": has_gif,
            "links": {"self": base, "events": base + "/events", "gif": base + "/rollout.gif"},
        }
    )


def _error_handlers(app: FastAPI) -> None:
    @app.exception_handler(RequestValidationError)
    async def invalid(_: Request, exc: RequestValidationError) -> JSONResponse:
        errors = [
            {
                "loc": [str(p) for p in e.get("loc", ())],
                "msg": str(e.get("msg", "")),
                "type": str(e.get("type", "")),
            }
            for e in exc.errors()
        ]
        message = "; ".join(f"{'.'.join(e['loc'])}: {e['msg']}" for e in errors)
        return JSONResponse({"detail": message or "invalid request", "errors": errors}, 422)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        return JSONResponse({"detail": str(exc.detail)}, exc.status_code, headers=exc.headers)


def _api(config: ServiceConfig, store: JobStore, manager: JobManager) -> APIRouter:
    deps = [Depends(require_token(config.token))] if config.token is not None else []
    api = APIRouter(prefix="/v1", dependencies=deps, responses=_ERRORS)

    @api.get("/tasks", response_model=TaskList, summary="List the tasks")
    def list_tasks() -> TaskList:
        import envs

        return TaskList.model_validate({"tasks": [t.to_dict() for t in envs.tasks()]})

    @api.post(
        "/solve",
        status_code=202,
        response_model=JobView,
        summary="Submit a task to solve",
        responses={
            400: {"model": ErrorBody, "description": "Body is not valid JSON text"},
            413: {"model": ErrorBody, "description": "Body over the server's size limit"},
            429: {"model": ErrorBody, "description": "Too many queued jobs"},
        },
    )
    def submit(body: SolveRequest, response: Response) -> JobView:
        try:
            kwargs = {**config.solve_options, **check_request(body, max_budget=config.max_budget)}
            job = manager.submit(kwargs)
        except (ConfigError, TaskNotFound) as exc:
            raise HTTPException(422, str(exc)) from exc
        except QueueFull as exc:
            raise HTTPException(429, str(exc), headers={"Retry-After": "10"}) from exc
        response.headers["Location"] = f"/v1/jobs/{job.id}"
        return _view(job, store)

    @api.get("/jobs", response_model=JobList, summary="List recent jobs")
    def list_jobs(
        limit: Annotated[int, Query(ge=1, le=500)] = 50, status: JobStatus | None = None
    ) -> JobList:
        return JobList(jobs=[_view(j, store) for j in store.list(limit, status)])

    @api.get("/jobs/{job_id}", response_model=JobView, responses=_NOT_FOUND, summary="A job")
    def get_job(job_id: JobId) -> JobView:
        return _view(_job(store, job_id), store)

    @api.delete(
        "/jobs/{job_id}",
        response_model=JobView,
        summary="Cancel a job",
        responses={**_NOT_FOUND, 409: {"model": ErrorBody, "description": "Already ended"}},
    )
    def cancel_job(job_id: JobId) -> JobView:
        try:
            job = manager.cancel(job_id)
        except NotCancellable as exc:
            raise HTTPException(409, str(exc)) from exc
        if job is None:
            raise HTTPException(404, f"no job {job_id!r}")
        return _view(job, store)

    @api.get(
        "/jobs/{job_id}/events",
        summary="Stream a job's events (server-sent events)",
        response_class=StreamingResponse,
        responses={
            **_NOT_FOUND,
            200: _content("text/event-stream", {"type": "string"}),
            400: {"model": ErrorBody, "description": "Last-Event-ID is not an event id"},
        },
    )
    def stream_events(
        job_id: JobId,
        after: Annotated[int, Query(ge=0, le=MAX_EVENT_ID, description="Last event id seen")] = 0,
        last_event_id: Annotated[
            str | None,
            Header(
                description="Last event id seen (1 to 18 ASCII digits), as EventSource sends "
                "it on a reconnect; anything else is a 400",
                json_schema_extra={"pattern": "^[0-9]{1,18}$"},
            ),
        ] = None,
    ) -> StreamingResponse:
        if last_event_id is not None:
            # Only ids this server sent are valid: never int() of arbitrary text (which
            # accepts '²' and unbounded digit strings).
            if _EVENT_ID.fullmatch(last_event_id) is None:
                shown = last_event_id if len(last_event_id) <= 40 else last_event_id[:40] + "..."
                raise HTTPException(
                    400,
                    f"Last-Event-ID must be an event id of this stream (1 to 18 ASCII digits), "
                    f"got {shown!r}",
                )
            after = max(after, int(last_event_id))
        _job(store, job_id)
        stream = job_events(store, job_id, after, poll_s=config.sse_poll_s)
        headers = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}
        return StreamingResponse(stream, media_type="text/event-stream", headers=headers)

    @api.get(
        "/jobs/{job_id}/rollout.gif",
        summary="GIF of the result on its worst instance",
        response_class=Response,
        responses={
            **_NOT_FOUND,
            200: _content("image/gif", {"type": "string", "format": "binary"}),
        },
    )
    def rollout_gif(job_id: JobId) -> Response:
        _job(store, job_id)
        content = store.artifact(job_id, "rollout.gif")
        if content is None:
            raise HTTPException(404, f"job {job_id} has no rollout GIF (yet)")
        return Response(content, media_type="image/gif")

    return api


def _job(store: JobStore, job_id: str) -> JobRecord:
    job = store.get(job_id)
    if job is None:
        raise HTTPException(404, f"no job {job_id!r}")
    return job


def create_app(config: ServiceConfig, manager: JobManager | None = None) -> FastAPI:
    """Build the service: API, schema, web page, and the job manager's lifecycle.

    Args:
        config: Service settings.
        manager: A job manager to use (tests inject one); built from ``config`` when None.

    Raises:
        ConfigError: ``config.db_path`` is not a usable job database (see
            :class:`~agent.service.store.JobStore`).
    """
    store = manager.store if manager is not None else JobStore(config.db_path, check=True)
    if manager is None:
        manager = JobManager(
            store,
            config.job_function,
            max_workers=config.max_workers,
            max_queued=config.max_queued,
            start_method=config.start_method,
            worker_env=config.worker_env(),
        )

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        manager.start()
        try:
            yield
        finally:
            manager.shutdown()

    app = FastAPI(
        title="llmgs",
        version=_version(),
        summary="Natural-language tasks in, programmatic policies out (LLM-GS).",
        lifespan=lifespan,
    )
    app.state.manager = manager
    # Outermost: the token and the body limit are checked before anything reads the body.
    app.add_middleware(RequestGuard, token=config.token, max_body_bytes=config.max_body_bytes)
    _error_handlers(app)
    app.include_router(_api(config, store, manager))
    static = resources.files("agent.service") / "static"

    @app.get("/healthz", response_model=Health, summary="Liveness and queue state")
    def health() -> Health:
        return Health(
            status="ok",
            version=_version(),
            workers=manager.max_workers,
            running=manager.running_count,
            queued=store.count("queued"),
        )

    @app.get("/", include_in_schema=False)
    def index() -> FileResponse:
        return FileResponse(os.fspath(static / "index.html"), media_type="text/html")

    app.mount("/static", StaticFiles(directory=os.fspath(static)), name="static")
    return app


def _version() -> str:
    try:
        return metadata.version("llmgs")
    except metadata.PackageNotFoundError:
        return "0+unknown"
