"""The limits that keep every program finite and every walker within Python's stack.

The reference (spec/benchmark.md) has no limit on how deeply a program may nest and none on
work that costs no call, so a legal program can exhaust Python's recursion limit or run for
hours. Both limits live here, one place for every engine and every text path; docs/pythonic-dsl.md
("Limits") states them for users.

* :data:`MAX_NESTING` is checked once, where programs enter (``envs.dsl.parse`` and the
  converters in ``agent.conversion``); everything after that boundary (rollout, compiling,
  printing, traces, feedback, rendering) may then recurse freely.
* :func:`max_free_steps` bounds the steps of an episode that cost no call (see below) in every
  engine: the compiled Karel kernel, the Python Karel interpreter and the Minigrid executor.
"""

from __future__ import annotations

MAX_NESTING = 100
"""Most brackets open at once in a program's canonical text (``DEF run m(`` counts as one).

Every control structure adds one level for its body (``w(``, ``i(``, ``e(``, ``r(``) and one
for its condition (``c(``); ``not``, ``and`` and ``or`` add one per level of their operands,
and a Minigrid argument (``h(``) one. The search's programs nest at most 6 deep; the limit only
stops text that nests absurdly (or a flat ``a and b and ...`` chain of about 100 operands).
Python's default recursion limit (1000 frames) leaves room for every walker at this depth
below a caller that already uses 300 frames (``tests/envs/test_limits.py`` checks it).
"""

FREE_STEPS_PER_CALL = 100
"""Call-free steps an episode may take per call of its budget (see :func:`max_free_steps`)."""


def max_free_steps(max_calls: int) -> int:
    """Most call-free steps in one episode; one more crashes it like the call budget.

    ``FREE_STEPS_PER_CALL`` per call of the episode's budget (at least one call's worth): one
    million for Karel's 10,000 calls, 100,000 for Minigrid's 1,000, so that the cap costs about
    as much time as the call budget itself.

    A *free step* is one of: starting a ``REPEAT`` statement, starting one of its iterations,
    and evaluating a ``True``/``False`` literal. Everything else an episode does is either a
    call (bounded by ``max_calls``) or happens between two counted events, so this bounds an
    episode's total work. The reference has no such bound: a loop that makes no call (six
    nested ``REPEAT R=19`` around ``IF c( False c)``: 19**6 iterations) keeps running, for
    minutes or years. Results agree with the reference on every episode within the cap; beyond
    it the reference would go on and could still act afterwards, here the episode ends as a
    crash (no reward after it; ``penalize_crash`` applies as for the call budget). Programs of
    the search space have no literals and at most three nested control structures: at most 761
    free steps pass between two calls and a few dozen per call inside any loop (87,442 random
    search programs on four Karel tasks took at most 4,145 in an episode).
    """
    return FREE_STEPS_PER_CALL * max(int(max_calls), 1)
