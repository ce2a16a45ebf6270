"""The model in the search loop: revise from what a stalled search learned (issue 15).

With ``SolveConfig.loop_rounds = k > 0`` the search budget left after the proposals is cut in
``k + 1`` slices. When a slice ends without solving the task, the model is shown the best
program so far, its return on each instance and the trace of its worst instance (the
``execution_trace`` feedback of :mod:`agent.pipeline.revision`, not a second formatter), asked
for different programs on the same sampling path as the first round (grammar for local
models, :meth:`~agent.pipeline.rounds.Rounds.ask`), those are scored on the run's one ledger,
and the search resumes on the next slice (continuing that ledger: its count, cache and k
schedule) seeded with the new answers and the previous best. ``k`` bounds the model rounds, so the
model calls. With ``k = 0`` (default) this is one search with the whole budget, as before.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from agent.pipeline.revision import Feedback, revision_messages
from agent.pipeline.sampling import uses_examples, uses_grammar
from envs.errors import CacheMiss, LLMError
from envs.task import Task
from search.budget import Evaluator

if TYPE_CHECKING:
    from agent.pipeline.solver import _Run

METHOD = "loop"


def loop_feedback(
    prompt: Any, task: Task, best: tuple[str, float], strategy: str, examples: bool,
    constrained: bool,
) -> Feedback:  # fmt: skip
    """The messages of one loop round: trace feedback of ``best`` plus per-instance returns."""
    fb = revision_messages(
        "execution_trace", prompt, task, previous=[], best=best, strategy=strategy,
        examples=examples, constrained=constrained,
    )  # fmt: skip
    returns = task.returns(best[0])
    listing = ", ".join(f"{i}: {r:.4g}" for i, r in enumerate(returns))
    extra = (
        "\n\nA search starting from this program stopped improving it. Its return on each "
        f"instance (instance: return): {listing}.\nWrite a different program, not a small "
        "edit of this one, that does better on the instances where it fails."
    )
    messages = [dict(m) for m in fb.messages]
    messages[-1]["content"] += extra
    return Feedback(messages, messages[-1]["content"], fb.program, fb.value)


def search_with_loop(
    run: _Run, task: Task, inner: Task, prompt: Any, ledger: Evaluator, budget: int
) -> None:
    """Search with the budget left; with ``loop_rounds``, ask the model when a slice stalls.

    Raises:
        CacheMiss: Replay-only mode found a loop answer missing from the cache.
    """
    cfg, proposals = run.cfg, run.proposals
    rounds = cfg.loop_rounds if proposals is not None else 0
    if rounds == 0:
        run.run_search(task, budget - ledger.count)
        return
    new_seeds: list[str] | None = None
    for k in range(rounds + 1):
        # Proposals and search share the ledger's one budget; each slice gets its share.
        left = budget - ledger.count
        run.run_search(task, left // (rounds + 1 - k), seeds=new_seeds)
        if run.stop_reason in ("solved", "cancelled", "rounds") or run.stopped() or k == rounds:
            return
        previous_best = run.best
        if run.llm_failed or previous_best is None or previous_best[1] >= 1.0:
            continue  # nothing to show the model: the next slice searches on
        round_no = cfg.rounds + 1 + k  # sampling seeds apart from the revision rounds'
        try:
            with run.clock.stage(f"loop_{k + 1}"):
                fb = loop_feedback(
                    prompt, inner, previous_best, cfg.strategy, uses_examples(cfg),
                    uses_grammar(cfg),
                )  # fmt: skip
                run.emit(
                    "revision_feedback", round=round_no, method=METHOD, feedback=fb.text,
                    program=fb.program, **{"return": fb.value},
                )  # fmt: skip
                batch = proposals.ask(round_no, METHOD, fb.messages, fb.text, run.stopped)
        except CacheMiss:
            raise
        except LLMError as exc:
            run.model_failed(exc)
            continue
        fresh = [p for p, _ in sorted(batch.scored, key=lambda kv: -kv[1])]
        new_seeds = list(dict.fromkeys([*fresh, previous_best[0]]))
