"""Request and response models of the HTTP API (pydantic; they also define the OpenAPI schema).

Every limit a client can hit is declared here, so a bad request is answered with a 422 that
names the field, never with a 500 from deep inside a job. Requests are strict: a JSON value of
the wrong type is refused rather than converted (``true`` is not the budget 1, ``"100"`` is not
100, ``1.5`` is not a seed).
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from agent.conversion.acceptance import Strategy
from agent.prompting import RevisionMethod

JobStatus = Literal["queued", "running", "succeeded", "failed", "cancelled"]
TERMINAL: frozenset[str] = frozenset({"succeeded", "failed", "cancelled"})

#: ``none`` or one of the paper's four revision methods (the solver's own names).
Revision = Literal["none", RevisionMethod]

#: Hard ceiling of a request's budget; a server may set a lower one (``--max-budget``).
BUDGET_CEILING = 10_000_000
MAX_DESCRIPTION = 2000
MAX_SAMPLES = 64


class SolveRequest(BaseModel):
    """A task to solve: what ``agent.solve`` takes, with limits.

    Attributes:
        description: The task in plain words.
        task: A registry id (``karel/DoorKey``) that overrides matching the description.
        model: A litellm model string or an embedded ``local/...`` model; null for pure
            search (no model); omitted for the solver's default model.
        budget: Program evaluations allowed; null uses the solver's default.
        seed: Seed of sampling and search.
        samples: Programs asked of the model per round; null uses the solver's default.
        strategy: Prompt strategy; null uses the solver's default (``pythonic_dsl``).
        revision: Revision method before search; null uses the solver's default.
    """

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, strict=True)

    description: str = Field(min_length=1, max_length=MAX_DESCRIPTION, examples=["open the door"])
    task: str | None = Field(default=None, min_length=1, max_length=100, examples=["karel/DoorKey"])
    model: str | None = Field(
        default=None,
        min_length=3,
        max_length=200,
        description="Omitted: the solver's default (the embedded local model). "
        "null: pure search, no model.",
        examples=["local/qwen2.5-coder-0.5b", None],
    )
    budget: int | None = Field(default=None, ge=1, le=BUDGET_CEILING)
    seed: int = Field(default=0, ge=0, le=2**31 - 1)
    samples: int | None = Field(default=None, ge=1, le=MAX_SAMPLES)
    strategy: Strategy | None = None
    revision: Revision | None = None

    def solve_kwargs(self) -> dict[str, Any]:
        """Keyword arguments for the job function (unset optional settings left out).

        ``model`` is passed whenever the client sent it, null included (pure search); when
        omitted the solver picks its default model.
        """
        out: dict[str, Any] = {"description": self.description, "seed": self.seed}
        if "model" in self.model_fields_set:
            out["model"] = self.model
        for name in ("task", "budget", "samples", "strategy", "revision"):
            value = getattr(self, name)
            if value is not None:
                out[name] = value
        return out


class JobLinks(BaseModel):
    """Where to find more about a job."""

    self: str
    events: str
    gif: str


class JobView(BaseModel):
    """A job as the API shows it.

    Attributes:
        id: Job id.
        status: ``queued``, ``running``, ``succeeded``, ``failed`` or ``cancelled``.
        request: The request as accepted.
        created: Submission time (Unix seconds).
        started: Time a worker started it, if it did.
        finished: Time it ended, if it did.
        progress: The latest progress: ``stage`` and counters such as ``evaluations``,
            ``budget`` and ``best_return`` when the solver reports them.
        result: The solver's result (``SolveResult.to_dict()``) once succeeded.
        error: Why it failed, once failed.
        interrupted: Whether it failed because the server stopped while it ran.
        has_gif: Whether an animation of the result's rollout is available.
        links: URLs of this job, its event stream and its GIF.
    """

    id: str
    status: JobStatus
    request: dict[str, Any]
    created: float
    started: float | None = None
    finished: float | None = None
    progress: dict[str, Any] = Field(default_factory=dict)
    result: dict[str, Any] | None = None
    error: str | None = None
    interrupted: bool = False
    has_gif: bool = False
    links: JobLinks


class JobList(BaseModel):
    """Most recent jobs first."""

    jobs: list[JobView]


class TaskView(BaseModel):
    """A registered task."""

    id: str
    domain: str
    description: str
    synonyms: list[str]
    grid: list[int] | None
    default_budget: int
    benchmark: bool


class TaskList(BaseModel):
    """Every registered task."""

    tasks: list[TaskView]


class ErrorBody(BaseModel):
    """Every error response: a message a person can act on."""

    detail: str
    errors: list[dict[str, Any]] | None = None


class Health(BaseModel):
    """Liveness and queue state."""

    status: Literal["ok"]
    version: str
    workers: int
    running: int
    queued: int
