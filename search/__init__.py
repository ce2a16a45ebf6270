"""Programmatic search: search space, hill climbing, Scheduled HC and the LLM-GS loop.

The public API:

- :func:`random_program`, :func:`neighbours`, :func:`neighbour`: the reference's search space
  (spec/benchmark.md §6.1-6.3) on our tuple AST.
- :func:`k_schedule`: Scheduled HC's neighbourhood size (§6.5).
- :func:`mosaic_search` (the default of ``solve()``), :func:`hill_climbing`,
  :func:`scheduled_hill_climbing`, :func:`llmgs_search`, :func:`random_search` (and the
  generic :func:`search`): each returns a frozen :class:`SearchResult` with the paper's
  evaluation count, the unique count, the curve and the held-out return.
- :class:`Evaluator`: the evaluation ledger (paper counting, exact budget, cache), which
  ``solve()`` scores the model's proposals on and hands to the search (``ledger=``).
- :class:`SearchConfig`: every setting of a run; :func:`run_many` / :class:`SearchJob` /
  :func:`run_job`: many independent searches on a process pool or Ray.
- :func:`as_completed`, :func:`map_ordered`, :func:`check_executor`, :func:`stop_on_ctrl_c`:
  the executor that runs many independent jobs (searches, the cells of an evals suite, the
  efficiency benchmark's runs) on processes or Ray.
- :func:`heldout_return`: a program's mean return on instances the search never saw.

``search`` never imports an LLM library.
"""

from search.budget import Evaluator
from search.config import METHODS, SearchConfig, parse_count
from search.engine import heldout_return
from search.executor import (
    EXECUTORS,
    Executor,
    as_completed,
    check_executor,
    map_ordered,
    stop_on_ctrl_c,
)
from search.methods import (
    hill_climbing,
    llmgs_search,
    mosaic_search,
    random_search,
    scheduled_hill_climbing,
    search,
)
from search.parallel import SearchJob, run_job, run_many
from search.results import SearchResult, SkippedSeed
from search.schedule import k_schedule
from search.space import neighbour, neighbours, random_program, within_limits

__all__ = [
    "EXECUTORS", "METHODS", "Evaluator", "Executor", "SearchConfig", "SearchJob", "SearchResult",
    "SkippedSeed", "as_completed", "check_executor", "heldout_return", "hill_climbing",
    "parse_count",
    "k_schedule", "llmgs_search", "map_ordered", "mosaic_search", "neighbour", "neighbours",
    "random_program", "random_search", "run_job", "run_many", "scheduled_hill_climbing", "search",
    "stop_on_ctrl_c", "within_limits",
]  # fmt: skip
