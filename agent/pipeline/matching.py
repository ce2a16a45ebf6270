"""Task matching: which registered task a plain-words description means.

Offline first: every registered task carries a description and synonyms
(:class:`envs.TaskInfo`), and a description is scored against them by content-word overlap, so
matching needs no model at all. When a model is given, it can be asked to pick among the best
offline candidates (it never sees, and cannot choose, a task outside that list).

Example:
    >>> match_task("pick up the key and open the door").task
    'karel/DoorKey'
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from agent.llm.types import LLM, SamplingSettings
from agent.pipeline.results import MatchResult
from envs.errors import TaskNotFound
from envs.registry import TaskInfo

#: Below this score nothing matches and the description is rejected with the list of tasks.
MIN_SCORE = 0.2
#: Candidates shown to the model (and returned as alternatives).
TOP_K = 5
#: Offline matches at or above this confidence are not sent to the model for confirmation.
CONFIRM_BELOW = 0.75
_VARIANT_WORDS = frozenset({"sparse", "dense"})
_STOP = frozenset(
    "a an the and or to of in on at for with from into onto by as is are be it its all every "
    "each that this then them their there your you my me i we please want agent robot karel "
    "program policy task write find make get up do so can should will must one".split()
)


def _words(text: str) -> list[str]:
    # Split CamelCase task names ("DoorKey" -> "door key") before lower-casing.
    spaced = re.sub(r"(?<=[a-z])(?=[A-Z])", " ", text)
    return re.findall(r"[a-z0-9]+", spaced.lower())


def _stem(word: str) -> str:
    for suffix in ("ing", "ers", "er", "es", "ed", "s"):
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            return word[: -len(suffix)]
    return word


def content_words(text: str) -> frozenset[str]:
    """The stemmed content words of ``text`` (stop words dropped)."""
    return frozenset(_stem(w) for w in _words(text) if w not in _STOP)


def _dice(a: frozenset[str], b: frozenset[str]) -> float:
    if not a or not b:
        return 0.0
    return 2 * len(a & b) / (len(a) + len(b))


def score_task(description: str, info: TaskInfo, variant: bool = False) -> float:
    """How well ``description`` fits the task, in 0..1 (1.0 for an exact synonym or name).

    ``variant`` marks an unused dense/sparse twin of a benchmark task: it scores lower unless
    the description names the variant, so "climb the stairs" means the paper's task.
    """
    norm = " ".join(_words(description))
    phrases = [*info.synonyms, info.name, " ".join(_words(info.name))]
    query = content_words(description)
    if norm in {" ".join(_words(p)) for p in phrases} or norm == info.id.lower():
        score = 1.0
    elif not query:
        return 0.0
    else:
        phrase = max(_dice(query, content_words(p)) for p in phrases)
        cover = len(query & content_words(info.description)) / len(query)
        score = min(0.7 * phrase + 0.3 * cover, 0.99)
    # The unused dense/sparse variants only win when the user names the variant.
    if variant and not (_VARIANT_WORDS & set(_words(description))):
        score *= 0.85
    return score


def rank_tasks(description: str, infos: Sequence[TaskInfo]) -> list[tuple[str, float]]:
    """Every task with its score, best first (ties keep registration order)."""
    benchmark = {i.id for i in infos if i.benchmark}

    def variant(info: TaskInfo) -> bool:
        twins = (info.id + "Sparse", info.id.removesuffix("Sparse"))
        return not info.benchmark and any(t in benchmark for t in twins)

    scored = [(i.id, round(score_task(description, i, variant(i)), 4)) for i in infos]
    return sorted(scored, key=lambda kv: -kv[1])


def _listing(infos: Sequence[TaskInfo]) -> str:
    return "\n".join(f"  {i.id}: {i.description[:90]}" for i in infos)


def _ask_model(
    llm: LLM, description: str, candidates: list[tuple[str, float]], infos: dict[str, TaskInfo]
) -> str | None:
    lines = [f"- {tid}: {infos[tid].description}" for tid, _ in candidates]
    prompt = (
        "A user described a grid-world task in their own words:\n"
        f'"{description}"\n\nWhich of these tasks do they mean?\n'
        + "\n".join(lines)
        + "\n\nAnswer with the task id only (for example "
        + f"{candidates[0][0]}), or NONE if none fits."
    )
    reply = llm.complete(
        [{"role": "user", "content": prompt}],
        SamplingSettings(n=1, temperature=0.0, max_tokens=32, seed=0),
    ).texts[0]
    lowered = reply.lower()
    # The earliest mentioned candidate wins; a bare name ("DoorKey") counts too.
    hits: list[tuple[int, str]] = []
    for tid, _ in candidates:
        for needle in (tid.lower(), infos[tid].name.lower()):
            pos = lowered.find(needle)
            if pos >= 0:
                hits.append((pos, tid))
                break
    return min(hits)[1] if hits else None


def match_task(
    description: str,
    *,
    task: str | None = None,
    llm: LLM | None = None,
    confirm: bool | None = None,
    infos: Sequence[TaskInfo] | None = None,
) -> MatchResult:
    """Find the registered task a description means.

    Args:
        description: The task in the user's words, e.g. ``"pick up the key and open the door"``.
        task: A task id that overrides matching (``"karel/DoorKey"`` or a unique bare name).
        llm: A model that may be asked to choose among the best offline candidates.
        confirm: Ask the model (True), never (False), or only when the offline confidence is
            below :data:`CONFIRM_BELOW` (None).
        infos: The tasks to choose from; every registered task when None.

    Returns:
        The task id, a confidence in 0..1, how it was chosen and the alternatives.

    Raises:
        TaskNotFound: ``task`` is unknown, or nothing fits the description; the message lists
            the tasks.
    """
    import envs  # light: the registry imports no numba until a task is built

    if task is not None:
        return MatchResult(envs.info(task).id, 1.0, "override")
    pool = list(infos) if infos is not None else envs.tasks()
    ranked = rank_tasks(description, pool)
    if not ranked or ranked[0][1] < MIN_SCORE:
        raise TaskNotFound(
            f"no task matches {description!r}; describe it differently or pass task=/--task "
            f"with one of:\n{_listing(pool)}"
        )
    best, confidence = ranked[0]
    alternatives = tuple(kv for kv in ranked[1:TOP_K] if kv[1] > 0)
    ask = confirm if confirm is not None else confidence < CONFIRM_BELOW
    if llm is None or not ask:
        return MatchResult(best, confidence, "keywords", alternatives)
    candidates = [kv for kv in ranked[:TOP_K] if kv[1] > 0]
    by_id = {i.id: i for i in pool}
    choice = _ask_model(llm, description, candidates, by_id)
    if choice is None:
        return MatchResult(best, confidence, "keywords", alternatives)
    if choice == best:
        return MatchResult(best, max(confidence, 0.9), "model", alternatives)
    others = tuple(kv for kv in candidates if kv[0] != choice)
    return MatchResult(choice, 0.6, "model", others)
