"""Mosaic search: hill climbing with structural edits, a fragment library and lexicase restarts.

Scheduled HC stalls on the hard tasks: its only move (regrow one random subtree) rarely makes
the structural change a good program needs, it spends much of its budget re-evaluating
programs it has already seen, and every restart throws its progress away. Mosaic keeps the
climb (first improvement among at most k new neighbours, k on the Scheduled HC schedule) and
changes what surrounds it:

- **Warm-up**: without seed programs, the first climbs are Scheduled HC's own, draw for draw,
  until ``MosaicSettings.warmup`` evaluations; their end points seed the archive. That small
  neighbourhood finds the small programs of the easy tasks fastest.
- **Edits** (:class:`~search.mutate.Mutator`): regrow a statement or a block's tail, insert,
  delete, swap or move a statement, wrap statements in WHILE/IF/IFELSE/REPEAT, unwrap one,
  change a condition, an action or a REPEAT count, and splice fragments of a
  :class:`~search.library.Library` (the seed and library programs the caller gives, and the
  best program of every finished climb). With a small probability two or three edits compound.
- **No repeats**: a program whose text was already evaluated is skipped without being
  evaluated or counted; a climb whose neighbourhood yields nothing new ends.
- **Plateau moves**: a neighbour with the same mean return but different per-instance returns
  (a vector not yet visited in this climb) is accepted, so a climb can drift along a plateau.
- **Parsimony**: an equal-return neighbour with fewer tokens is accepted too, and the archive
  drops the largest of its weakest entries first (lexicographic parsimony pressure, Luke and
  Panait 2002): long fixed-path programs fit the searched instances and fill the size limit.
- **Restarts where it pays**: every climb's end point enters an archive; most restarts pick an
  archive program by lexicase selection on the per-instance returns (a program that is best on
  some instances survives even with a lower mean) and perturb it with 0-3 edits; the rest
  start from random programs of the reference's grammar.
- **Kicks after a stall** (iterated local search, Lourenco, Martin and Stutzle 2003): once
  ``MosaicSettings.stall`` evaluations pass without a better climb end point, half of the
  archive restarts take 4-8 edits instead of 0-3. A climb from a near-solution a few edits
  away mostly falls back into the same local optimum. Nothing changes before the stall, so
  a run shorter than ``stall`` evaluations is the same run without kicks.
- **Seeds** (e.g. a model's answers): climbed from first, but only those no other seed
  dominates on the per-instance returns; the rest enter the archive unclimbed, so a batch of
  weak answers costs restarts where they pay, not one climb each.

Evaluations are the paper's counting over what is actually evaluated, and the budget is exact.
Determinism: all draws come from ``random.Random`` streams derived from the seed; each climb
step seeds its own stream, so evaluating neighbours ahead on worker processes never changes
the result.
"""

from __future__ import annotations

import contextlib
import random
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from envs.dsl.ast import Program
from envs.dsl.parser import ensure_program
from envs.errors import BudgetExceeded
from envs.task import mean_return
from search.archive import Archive, Elite
from search.budget import program_key as _key
from search.library import Library
from search.limits import program_tokens, text_if_fits
from search.mutate import Mutator, local_edits, spots
from search.pool import scored_ahead
from search.space import neighbours, random_program


@dataclass(frozen=True)
class MosaicSettings:
    """Knobs of the mosaic search (their defaults are what the benchmark ran).

    Attributes:
        archive: Climb end points kept for restarts.
        p_random: Probability that a restart starts from a random program.
        max_perturb: Edits applied to an archive program before climbing from it (0..max).
        p_compound: Probability that a neighbour applies two or three edits instead of one.
        plateau: Accept equal-return neighbours whose per-instance returns differ.
        exhaust: A climb step ends after ``exhaust * k`` draws that gave nothing new.
        max_tokens: Size limit of a program in tokens, ``DEF run m( m)`` included. The
            reference's 45 leaves a climbed program (which grows to the limit) almost no
            room for the next edit: near-solutions sat at 57-60 of 60 tokens, where a
            missing statement can only come with a deletion; height (4) and sequence
            length (6) stay the reference's.
        warmup: Without seed programs, the first climbs are Scheduled HC's own (same draws,
            same neighbourhood) until this many evaluations are used; their end points
            then seed the archive. Small programs that solve the easy tasks are found
            fastest by that cheap neighbourhood; 0 turns the warm-up off.
        warmup_share: The warm-up never takes more than this share of the budget.
        parsimony: Lexicographic parsimony pressure: a neighbour with the same mean return
            and fewer tokens is accepted, and the archive drops the largest of its weakest
            entries first. Long programs that walk fixed paths fit the searched instances
            and fill the token limit; preferring the shorter of equals keeps room for the
            next edit and generalises better (Minigrid at 1e5: held-out 0.79 -> 0.95).
        seed_front: With seed programs, climb first only from those no other seed
            dominates on the per-instance returns (at least as good on every instance,
            better on one), one per distinct vector of returns, in the given order; the
            others enter the archive unclimbed (lexicase restarts may pick them) and lend
            their fragments. A model's weak answers then cost one restart each at most
            instead of one climb each (issue 15: fewer evaluations to 1.0 on the easy
            tasks, no seeded run stuck below pure search's final return).
        seed_climbs: At most this many seeds are climbed first (after ``seed_front``);
            0 for no limit.
        seed_archive: Seeds that are not climbed first enter the archive; if False they
            only lend their fragments.
        stall: Evaluations without a better climb end point after which the search counts
            as stalled (0: never). A stalled search kicks its lexicase picks harder
            (iterated local search): a climb from a near-solution with 0-3 edits mostly
            returns to the same local optimum, so long runs sat on one near-solution.
        p_kick: Probability that a restart from the archive, once stalled, applies
            ``max_perturb + 1 .. kick_perturb`` edits instead of ``0 .. max_perturb``.
        kick_perturb: The most edits of a kick.
    """

    archive: int = 48
    p_random: float = 0.3
    max_perturb: int = 3
    p_compound: float = 0.15
    plateau: bool = True
    exhaust: int = 2
    max_tokens: int = 80
    warmup: int = 2000
    warmup_share: float = 0.02
    parsimony: bool = True
    seed_front: bool = True
    seed_climbs: int = 0
    seed_archive: bool = True
    stall: int = 100_000
    p_kick: float = 0.5
    kick_perturb: int = 8


DEFAULT_SETTINGS = MosaicSettings()
"""What :func:`run` uses (the benchmark's settings)."""


class Mosaic:
    """The mosaic search of one run; driven by :func:`run` with a ``SearchRun``.

    Args:
        run: The engine's run (task, config, evaluator, pool, events).
        seeds: Programs to climb from first, best first (like the LLM-GS loop's seeds);
            ``settings.seed_front``/``seed_climbs`` choose which (the others are archived).
        library: Programs whose fragments the edits may splice in (not climbed from).
        settings: Knobs; defaults when None.
    """

    def __init__(
        self,
        run: Any,
        seeds: Sequence[Program],
        library: Sequence[Program],
        settings: MosaicSettings | None = None,
    ) -> None:
        self.run = run
        self.task = run.task
        self.ev = run.ev
        self.settings = settings or MosaicSettings()
        self.rng = random.Random(run.config.seed)
        self.np_rng = np.random.RandomState(self.rng.getrandbits(32))
        self.library = Library(run.domain)
        self.library.extend(library)
        self.library.extend(seeds)
        self.mutator = Mutator(run.domain, self.library)
        self.seeds = list(seeds)
        self.archive = Archive(self.settings.archive, self.settings.parsimony)
        self._seed_elites: dict[str, Elite] = {}
        self._best = float("-inf")
        self._best_at = self.ev.count  # a handed ledger may have counted evaluations already

    def _text_if_fits(self, program: Program) -> str | None:
        """The text of a program within the size limits (``settings.max_tokens``), or None."""
        return text_if_fits(program, self.settings.max_tokens)

    # -- evaluation ------------------------------------------------------------------------
    def score(self, program: Program, text: str, returns: list[float] | None = None) -> tuple:
        """Count one evaluation; returns (mean, per-instance returns).

        Raises:
            BudgetExceeded: The evaluation budget is used up.
        """
        if self.ev.remaining <= 0:
            raise BudgetExceeded(f"evaluation budget of {self.run.config.budget} used up")
        if returns is None:
            returns = self.task.returns(program)
        value = mean_return(returns, self.task.n)
        self.ev.evaluate(program, precomputed=value, text=text)
        return value, tuple(returns)

    def _neighbour(
        self, rng: random.Random, parent: Program, sp: list, spare: int | None = None
    ) -> tuple[Program, str] | None:
        """One random edit (compound with ``p_compound``): (program, text) within limits."""
        mutator = self.mutator
        mutator.spare = (
            self.settings.max_tokens - program_tokens(parent) if spare is None else spare
        )
        child = mutator.mutate(rng, parent, sp)
        if child is not None and rng.random() < self.settings.p_compound:
            for _ in range(rng.randint(1, 2)):
                mutator.spare = self.settings.max_tokens - program_tokens(child)
                nxt = mutator.mutate(rng, child, spots(child))
                child = nxt if nxt is not None else child
        if child is None:
            return None
        text = self._text_if_fits(child)
        return None if text is None else (child, text)

    def _candidates(self, rng: random.Random, parent: Program, limit: int):
        """Yield up to ``limit`` draws: a new program's (program, text) or None."""
        sp = spots(parent)
        seen = self.ev.cache
        key = _key
        spare = self.settings.max_tokens - program_tokens(parent)
        local = local_edits(parent, sp)
        rng.shuffle(local)
        for _ in range(limit):
            if local:
                child = local.pop()()
                text = self._text_if_fits(child)
                cand = None if text is None else (child, text)
            else:
                cand = self._neighbour(rng, parent, sp, spare)
            if cand is None or key(cand[1]) in seen:
                yield None
                continue
            yield cand

    # -- one climb -------------------------------------------------------------------------
    def climb(self, start: Program, k: int, from_seed: bool = False) -> Elite:
        """First-improvement climb with plateau moves; returns its end point.

        The return of a seed start is recorded in ``seed_returns`` (as the LLM-GS loop does).
        A seed the handed ledger already scored (``Evaluator.prescored``, a model's answer
        in ``solve()``) starts from its recorded returns without being counted again.
        """
        run = self.run
        run.climbs += 1
        run.emit("climb_started", climb=run.climbs, k=k, evaluations=self.ev.count)
        text = str(start)
        if from_seed:
            current = self._seed_elites.pop(text, None) or self._seed_elite(start, text)
        else:
            value, rets = self.score(start, text)
            current = Elite(text, start, rets, value)
        visited = {current.returns}
        limit = max(k * self.settings.exhaust, 64)
        for _ in range(run.config.max_climb_steps):
            step_rng = random.Random(self.rng.getrandbits(64))
            moved = self._step(current, k, limit, step_rng, visited)
            if moved is None:
                break
            current = moved
        return current

    def _step(
        self, current: Elite, k: int, limit: int, rng: random.Random, visited: set
    ) -> Elite | None:
        tried = 0
        gen = self._candidates(rng, current.program, limit)
        with contextlib.closing(scored_ahead(gen, self.run.pool)) as batches:
            for batch, computed in batches:
                for cand in batch:
                    if cand is None:
                        continue
                    program, text = cand
                    if _key(text) in self.ev.cache:  # an earlier candidate of this step
                        continue
                    value, rets = self.score(program, text, computed.get(text))
                    tried += 1
                    if self._accepts(current, program, value, rets, visited):
                        visited.add(rets)
                        return Elite(text, program, rets, value)
                    if tried >= k:
                        return None
        return None

    def _accepts(
        self, current: Elite, program: Program, value: float, rets: tuple, visited: set
    ) -> bool:
        """Better; or equal with unvisited per-instance returns (plateau) or fewer tokens."""
        if value > current.score:
            return True
        if value != current.score:
            return False
        if self.settings.plateau and rets not in visited:
            return True
        return self.settings.parsimony and program_tokens(program) < current.tokens

    # -- restarts --------------------------------------------------------------------------
    def remember(self, elite: Elite) -> None:
        """Add a climb's end point to the archive and its fragments to the library."""
        if elite.score > self._best:
            self._best, self._best_at = elite.score, self.ev.count
        if self.archive.add(elite):
            self.library.add(elite.program)

    def next_start(self) -> Program:
        """Where the next climb starts: a seed, a perturbed archive program or a random one."""
        if self.seeds:
            return self.seeds.pop(0)
        if not self.archive or self.rng.random() < self.settings.p_random:
            return random_program(self.run.domain, self.np_rng)
        program = self.archive.lexicase(self.rng).program
        settings = self.settings
        edits = self.rng.randint(0, settings.max_perturb)
        stalled = settings.stall > 0 and self.ev.count - self._best_at >= settings.stall
        if stalled and self.rng.random() < settings.p_kick:
            edits = self.rng.randint(settings.max_perturb + 1, settings.kick_perturb)
        for _ in range(edits):
            edited = self._neighbour(self.rng, program, spots(program))
            program = edited[0] if edited is not None else program
        return program

    # -- warm-up: Scheduled HC's own climbs -------------------------------------------------
    def warm_up(self) -> None:
        """Scheduled HC's climbs, draw for draw, until ``settings.warmup`` evaluations.

        Starts and neighbour streams come from the engine's RNG exactly as in
        :meth:`search.engine.SearchRun.climb`, so a run that ends during the warm-up is
        Scheduled HC's run. Per-instance returns are kept so the end points can enter the
        archive (lexicase needs them).
        """
        run = self.run
        known: dict[str, tuple[float, ...]] = {}
        share = self.settings.warmup_share * run.config.budget
        end = self.ev.count + min(self.settings.warmup, share)
        while self.ev.count < end:
            start, k = run.next_climb()
            run.climbs += 1
            run.emit("climb_started", climb=run.climbs, k=k, evaluations=self.ev.count)
            if run.progress is not None:
                run.progress.note(k=k)
            current = self._reference_score(start, known)
            for _ in range(run.config.max_climb_steps):
                stream = np.random.RandomState(run.rng.randint(2**31 - 1))
                gen = neighbours(current.program, stream, run.domain)
                for _ in range(k):
                    candidate = self._reference_score(next(gen), known)
                    if candidate.score > current.score:
                        current = candidate
                        break
                else:
                    break
            self.remember(current)

    def _reference_score(self, program: Program, known: dict) -> Elite:
        """Count one evaluation like the engine (a repeat is served from the cache)."""
        text = str(program)
        returns = known.get(text)
        if returns is None:
            if self.ev.remaining <= 0:
                raise BudgetExceeded(f"evaluation budget of {self.run.config.budget} used up")
            returns = known[text] = tuple(self.task.returns(program))
        value = mean_return(returns, self.task.n)
        self.ev.evaluate(program, precomputed=value, text=text)
        return Elite(text, program, returns, value)

    def search(self) -> None:
        """Climb until the budget is used or the target reached (both end by exception).

        Raises:
            BudgetExceeded: The evaluation budget is used up (the normal end of a run).
        """
        if not self.seeds and self.settings.warmup > 0:
            self.warm_up()
        settings = self.settings
        if self.seeds and (settings.seed_front or settings.seed_climbs > 0):
            self.sort_out_seeds()
        while True:
            if self.ev.remaining <= 0:
                raise BudgetExceeded(f"evaluation budget of {self.run.config.budget} used up")
            from_seed = bool(self.seeds)
            start = self.next_start()
            k = self.run.config.scheduled_k(self.run.schedule_count())
            self.remember(self.climb(start, k, from_seed))

    def sort_out_seeds(self) -> None:
        """Keep the seeds to climb from first (``seed_front``, ``seed_climbs``).

        Every seed is scored here (a pre-scored one is taken at its recorded returns, as
        :meth:`climb` would) and its return recorded in ``seed_returns``; the kept ones
        start their climbs from these returns, the others enter the archive.
        """
        elites = [self._seed_elite(program, str(program)) for program in self.seeds]
        most = self.settings.seed_climbs or len(elites)
        keep: list[Elite] = []
        for elite in elites:
            if len(keep) < most and not self._covered(elite, elites, keep):
                keep.append(elite)
            elif self.settings.seed_archive:
                self.remember(elite)
        self.seeds = [e.program for e in keep]
        self._seed_elites = {e.text: e for e in keep}

    def _seed_elite(self, program: Program, text: str) -> Elite:
        """A seed at its returns: recorded by the handed ledger (``Evaluator.prescored``, a
        model's answer in ``solve()``) or scored now; either way its return joins
        ``seed_returns`` once, as the LLM-GS loop records it."""
        known = self.run.take_prescored(text)
        value, rets = known if known is not None else self.score(program, text)
        self.run.seed_returns.append(value)
        return Elite(text, program, rets, value)

    def _covered(self, elite: Elite, elites: list[Elite], keep: list[Elite]) -> bool:
        """Whether a kept seed has the same returns, or (``seed_front``) a seed dominates."""
        rets = elite.returns
        if any(e.returns == rets for e in keep):
            return True
        return self.settings.seed_front and any(
            o.returns != rets and all(a >= b for a, b in zip(o.returns, rets, strict=True))
            for o in elites
        )


def run(run: Any, seeds: Sequence[Program | str], library: Sequence[Program | str]) -> None:
    """Run the mosaic search inside an engine run (see :func:`search.engine.execute`).

    Seeds and library programs that do not parse are skipped and reported like the LLM-GS
    loop's (``result.skipped_seeds``; library entries are numbered after the seeds).
    """
    usable_seeds = _parse_all(run, seeds, 0)
    usable_library = _parse_all(run, library, len(seeds))
    if run.init is not None:
        usable_seeds.insert(0, ensure_program(run.init, run.domain))
    Mosaic(run, usable_seeds, usable_library, DEFAULT_SETTINGS).search()


def _parse_all(run: Any, programs: Sequence[Program | str], offset: int) -> list[Program]:
    from search.results import SkippedSeed

    out = []
    for index, program in enumerate(programs, start=offset):
        try:
            out.append(ensure_program(program, run.domain))
        except ValueError as exc:  # DSLSyntaxError and ConfigError are ValueErrors
            run.skipped.append(SkippedSeed(index, str(program)[:200], str(exc)))
            run.emit("seed_skipped", index=index, reason=str(exc))
    return out
