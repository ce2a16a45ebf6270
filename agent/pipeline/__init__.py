"""The pieces of ``agent.solve()``: matching, the round loop, sampling, revision, results, runs.

- :mod:`~agent.pipeline.solver`: ``solve()``, the pipeline (match, rounds, search, verify).
- :mod:`~agent.pipeline.rounds`: the one round loop (sample, convert, score, revise) on the
  run's evaluation ledger (:class:`search.Evaluator`), which the search then continues.
- :mod:`~agent.pipeline.sampling`: one round's requests and the sampling plan.
- :mod:`~agent.pipeline.revision`: what a revision round feeds back.
- :mod:`~agent.pipeline.loop`: the model inside the search (``loop_rounds``).
- :mod:`~agent.pipeline.config`: the settings, :class:`SolveConfig` (holding an ``LLMConfig``
  and a ``SearchConfig``).
- :mod:`~agent.pipeline.matching`, :mod:`~agent.pipeline.results`,
  :mod:`~agent.pipeline.rundir`, :mod:`~agent.pipeline.support`: matching, the result records,
  the run folder, a cancellable task and stage timing.

Outside ``agent`` only the names ``agent`` exports are used (``solve``, ``SolveConfig``,
``SolveResult``, ``match_task``, ``MatchResult``).
"""
