"""Plumbing of ``solve()``: a cancellable task and stage timing."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from agent.events import StageEmitter
from agent.pipeline.results import StageTiming
from envs.dsl.ast import Program
from envs.task import Rollout, Task


class Cancelled(KeyboardInterrupt):
    """Raised inside the search when ``should_stop()`` says so.

    A KeyboardInterrupt on purpose: the search engine treats it as Ctrl-C and returns the best
    program found so far instead of losing the run.
    """


class CancellableTask(Task):
    """A task that checks ``should_stop`` before each evaluation it computes.

    Args:
        inner: The task evaluated.
        should_stop: Polled before each computed evaluation; True stops the search.
        tick: Called before each computed evaluation (progress heartbeats).
    """

    def __init__(
        self,
        inner: Task,
        should_stop: Callable[[], bool] | None,
        tick: Callable[[], None] | None = None,
    ) -> None:
        self.inner = inner
        self.id, self.domain, self.n = inner.id, inner.domain, inner.n
        self.seed, self.description = inner.seed, inner.description
        self.should_stop = should_stop
        self.tick = tick

    def returns(self, program: Program | str) -> list[float]:
        """The inner task's returns, after the stop check."""
        if self.should_stop is not None and self.should_stop():
            raise Cancelled("solve was cancelled")
        if self.tick is not None:
            self.tick()
        return self.inner.returns(program)

    def rollout(self, program: Program | str, instance: int = 0, trace: bool = True) -> Rollout:
        """The inner task's rollout."""
        return self.inner.rollout(program, instance, trace)

    def __getattr__(self, name: str) -> object:
        # Renderers and world printers reach for task-specific attributes (initial_world, ...).
        return getattr(self.inner, name)


class StageClock:
    """Times stages and announces them on the emitter."""

    def __init__(self, emit: StageEmitter) -> None:
        self.emit = emit
        self.timings: list[StageTiming] = []

    @contextmanager
    def stage(self, name: str) -> Iterator[None]:
        """Run the body as stage ``name``."""
        self.emit.stage = name
        self.emit("stage_started")
        started = time.perf_counter()
        try:
            yield
        finally:
            seconds = time.perf_counter() - started
            self.timings.append(StageTiming(name, seconds))
            self.emit("stage_finished", seconds=round(seconds, 3))
