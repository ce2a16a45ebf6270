"""The event stream of ``agent.solve()``: what the CLI prints, the service streams and runs save.

The events are the search's: one :class:`search.progress.Event` type, emitted by a
:class:`StageEmitter` (the search's :class:`search.progress.EventEmitter` stamping the stage).
Every event reaches its sinks in its JSON form, a ``dict`` with at least ``event`` (its name),
``time`` (Unix seconds) and ``stage`` (the stage running when it was emitted).
``solve(on_event=...)`` receives each one as it happens; the run directory appends them to
``events.jsonl``; the HTTP service forwards them as server-sent events (``event:`` is the name,
``data:`` the dict).

========================  =====================================================================
event                     fields (besides ``event``, ``time``, ``stage``)
========================  =====================================================================
``solve_started``         ``description``, ``task`` (override or None), ``model``, ``budget``,
                          ``seed``, ``samples``, ``revision``, ``rounds``, ``mode``
``task_matched``          ``task``, ``confidence``, ``method``, ``alternatives`` [[id, score]]
``stage_started``         (the new ``stage``: match, generate, revision, search, agent, verify)
``stage_finished``        ``seconds``
``llm_request``           ``round``, ``sample``, ``of``: one model request is about to be sent
``llm_progress``          ``round``, ``sample``, ``of``, ``cached``, ``completion_tokens``,
                          ``seconds``, ``tokens_per_s`` (None when cached)
``candidate``             ``round``, ``sample``, ``accepted``, ``source``, ``program``,
                          ``reason``, ``message``, ``return`` (when accepted)
``acceptance``            ``round``, ``total``, ``accepted``, ``acceptance_rate``, ``by_reason``
``revision_feedback``     ``round``, ``method``, ``feedback`` (the text fed back to the model),
                          ``program`` and ``return`` of the traced program (trace methods)
``revision_round``        ``round``, ``method``, ``programs``, ``best_program``, ``best_return``,
                          ``improved``
``best_updated``          ``evaluations``, ``best_return``, ``program``
``search_progress``       ``evaluations``, ``best_return``, ``climbs``, ``k``
``tool_call``             ``step``, ``tool``, ``arguments``, ``result``; ``reply`` (the model's
                          text, first 500 characters) in the JSON-text loop (agent mode)
``warning``               ``message``, ``kind``: ``llm_failed`` (with ``model``), ``run_dir``,
                          ``generation_time``, ``agent_without_model``
``solve_finished``        ``task``, ``reward``, ``program``, ``evaluations``,
                          ``unique_evaluations``, ``stop_reason``, ``llm``
========================  =====================================================================

Consumers must ignore fields and events they do not know: new ones may be added.
"""

from __future__ import annotations

from collections.abc import Iterable

from search.progress import Event, EventDict, EventEmitter, OnEvent

__all__ = ["Event", "EventDict", "EventEmitter", "OnEvent", "StageEmitter"]


class StageEmitter(EventEmitter):
    """The solve's emitter: every event is stamped with the stage running when it is emitted.

    Args:
        sinks: Callables receiving each event's JSON form (None entries are skipped).
    """

    def __init__(self, sinks: Iterable[OnEvent | None]) -> None:
        super().__init__(sinks, stage="start")

    @property
    def stage(self) -> str:
        """The current stage (``start``, ``match``, ``generate``, ...), stamped on each event."""
        return str(self.stamp["stage"])

    @stage.setter
    def stage(self, name: str) -> None:
        self.stamp["stage"] = name
