"""Task matching: which registered task a plain-words description means.

Offline first: every registered task's spec (:class:`envs.TaskSpec`, the one source of its text)
carries a description and synonyms, and benchmark tasks also the prompt's four sentences (map,
start, goal, return). A description is scored against each task by two signals over stemmed
content words, in which common paraphrase words meet ("collect", "grab" and "pick up" are one
term; "rubbish" and "garbage" too): how close it is to one of the task's phrases (its synonyms
and name), and how much of the description's IDF weight the task's whole text covers (a
BM25-style term score, so a word that every task uses, such as "marker", counts little and a
telling one, such as "room" against "stairs", counts much). Matching needs no model at all; when
a model is given, it can be asked to pick among the best offline candidates (it never sees, and
cannot choose, a task outside that list).

Example:
    >>> match_task("pick up the key and open the door").task
    'karel/DoorKey'
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

from agent.llm.types import LLM, SamplingSettings
from agent.pipeline.results import MatchResult
from envs.errors import TaskNotFound
from envs.spec import TaskSpec

#: Below this score nothing matches and the description is rejected with the list of tasks.
MIN_SCORE = 0.2
#: Candidates shown to the model (and returned as alternatives).
TOP_K = 5
#: Offline matches at or above this confidence are not sent to the model for confirmation.
CONFIRM_BELOW = 0.75
#: Weights of the phrase similarity and the IDF-weighted coverage in a score.
PHRASE_WEIGHT = 0.2
COVER_WEIGHT = 0.8
#: Score factor of a task whose world's own words the description lacks, when it has another's.
OTHER_DOMAIN_FACTOR = 0.7
#: BM25's term-frequency saturation and length normalisation.
_K1, _B = 1.2, 0.5
_VARIANT_WORDS = frozenset({"sparse", "dense"})
_STOP = frozenset(
    "a an the and or to of in on at for with from into onto by as is are be it its all every "
    "each that this then them their there your you my me i we please want agent robot karel "
    "program policy task write find make get up do so can should will must one not no don t "
    "any until when where which while without just only also too very how what who out over "
    "off around along through after before first again once more most other than same some "
    "lie lying give cell cells".split()
)
# Words people use for the same grid-world mechanic. Each stem also stands for its class, so a
# paraphrase meets a description that says the same thing in other words.
_CLASSES: dict[str, tuple[str, ...]] = {
    "pick": ("pick", "collect", "gather", "grab", "take", "fetch", "remov"),
    "put": ("put", "place", "drop", "deposit", "plant", "sow", "set", "leav", "add"),
    "garbag": ("garbag", "rubbish", "trash", "junk", "litter", "dirt", "mess"),
    "clean": ("clean", "tidy", "clear"),
    "maze": ("maze", "labyrinth", "corridor", "passag"),
    "stair": ("stair", "staircas", "step", "ascend", "climb"),
    "walk": ("walk", "go", "mov", "travel", "navigat", "head", "pass"),
    "reach": ("reach", "arriv", "hit"),
    "target": ("target", "destination", "goal", "exit"),
    "gap": ("gap", "hole", "opening"),
    "open": ("open", "unlock"),
    "near": ("near", "next", "besid", "adjacent", "clos", "neighbour", "neighbor"),
    "trail": ("trail", "path", "route", "line", "track"),
    "follow": ("follow", "trace"),
    "visit": ("visit", "explor"),
    "ball": ("ball",),
    "box": ("box", "crate", "chest"),
    "eat": ("eat", "food", "consum"),
    "body": ("body", "tail", "yourself"),
    "grow": ("grow", "longer", "length"),
    "two": ("two", "doubl", "second"),
    "corner": ("corner",),
    "room": ("room", "hous"),
    "wall": ("wall", "edg", "border"),
    "marker": ("marker", "seed", "beeper", "token"),
}
_CLASS_OF: dict[str, list[str]] = {}
for _label, _members in _CLASSES.items():
    for _member in _members:
        _CLASS_OF.setdefault(_member, []).append("~" + _label)


def _words(text: str) -> list[str]:
    # Split CamelCase task names ("DoorKey" -> "door key") before lower-casing.
    spaced = re.sub(r"(?<=[a-z])(?=[A-Z])", " ", text)
    return re.findall(r"[a-z0-9]+", spaced.lower())


def _stem(word: str) -> str:
    """A light suffix stripper: enough for "steps/step", "collecting/collect", "boxes/box"."""
    for suffix in ("ing", "ers", "ies", "es", "ed", "er", "ly", "s", "e"):
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            word = word[: -len(suffix)]
            break
    if len(word) > 3 and word[-1] == word[-2] and word[-1] not in "ls":
        word = word[:-1]  # "dropp(ed)" -> "drop", "grabb(ing)" -> "grab"
    return word


def terms(text: str) -> list[str]:
    """Stemmed content words of ``text``, each followed by its paraphrase classes."""
    out: list[str] = []
    for word in _words(text):
        if word in _STOP:
            continue
        stem = _stem(word)
        out.append(stem)
        out.extend(_CLASS_OF.get(stem, ()))
    return out


def content_words(text: str) -> frozenset[str]:
    """The stemmed content words of ``text`` with their classes (stop words dropped)."""
    return frozenset(terms(text))


def _dice(a: frozenset[str], b: frozenset[str], weight: dict[str, float] | None = None) -> float:
    """Dice similarity of two term sets, each term weighted by ``weight`` (default 1)."""
    if not a or not b:
        return 0.0

    def mass(terms: frozenset[str]) -> float:
        return sum(weight.get(t, 1.0) for t in terms) if weight is not None else len(terms)

    return 2 * mass(a & b) / (mass(a) + mass(b))


# The prompt's sentences open with the same words for every task: not evidence for any.
_BOILERPLATE = re.compile(r"\bThe (?:map|goal|return) is\b|\bThe agent starts\b")


def _prompt_text(info: TaskSpec) -> str:
    return _BOILERPLATE.sub(" ", info.prompt.text) if info.prompt is not None else ""


@dataclass(frozen=True)
class _Index:
    """Term statistics of the tasks' texts (description, synonyms, name, prompt sentences)."""

    docs: dict[str, Counter[str]]
    idf: dict[str, float]
    unknown_idf: float
    avg_len: float
    domain_of: dict[str, str]
    only_in: dict[str, tuple[str, float]]  # term -> (its one world, share of that world's tasks)

    @classmethod
    def build(cls, infos: Sequence[TaskSpec]) -> _Index:
        docs = {
            i.id: Counter(terms(" ".join([i.name, i.description, *i.synonyms, _prompt_text(i)])))
            for i in infos
        }
        n = len(docs)
        df: Counter[str] = Counter(t for doc in docs.values() for t in doc)
        idf = {t: math.log(1 + (n - k + 0.5) / (k + 0.5)) for t, k in df.items()}
        avg = sum(sum(d.values()) for d in docs.values()) / max(n, 1)
        domain_of = {i.id: i.domain for i in infos}
        size = Counter(domain_of.values())
        used: dict[str, Counter[str]] = {}
        for task_id, doc in docs.items():
            for t in doc:
                used.setdefault(t, Counter())[domain_of[task_id]] += 1
        # A world's own words (used by no other world's tasks), weighted by the share of the
        # world's tasks that use them: "marker" (every Karel task) says more than "lava".
        only_in = {t: (d, ds[d] / size[d]) for t, ds in used.items() if len(ds) == 1 for d in ds}
        return cls(docs, idf, math.log(1 + (n + 0.5) / 0.5), avg, domain_of, only_in)

    def domains_named(self, query: list[str]) -> set[str]:
        """The worlds whose own words weigh most in the query (empty when it has none)."""
        evidence: Counter[str] = Counter()
        for term in set(query):
            if term in self.only_in:
                domain, share = self.only_in[term]
                evidence[domain] += share
        top = max(evidence.values(), default=0.0)
        return {d for d, v in evidence.items() if v == top and top > 0}

    def coverage(self, query: list[str], task_id: str) -> float:
        """BM25 of ``query`` against the task over the query's total IDF (about 1 when the
        task's text has every query word once)."""
        doc = self.docs[task_id]
        length = sum(doc.values())
        norm = _K1 * (1 - _B + _B * length / self.avg_len)
        got = total = 0.0
        for term in set(query):
            idf = self.idf.get(term, self.unknown_idf)
            total += idf
            tf = doc.get(term, 0)
            got += idf * tf * (_K1 + 1) / (tf + norm)
        return got / total if total else 0.0


def _fit(
    description: str, info: TaskSpec, variant: bool, index: _Index | None
) -> tuple[float, bool]:
    """(fit, exact): 1.0 and True for an exact synonym or name, else a weighted sum that may
    pass 1 when the task's text repeats the description's words (it ranks, it is no
    probability)."""
    norm = " ".join(_words(description))
    phrases = [*info.synonyms, info.name, " ".join(_words(info.name))]
    query = terms(description)
    # The id and name count in lower case too ("doorkey", "karel/doorkey"): _words only splits
    # the CamelCase.
    named = (info.id, info.id.lower(), info.name.lower())
    exact = norm in {" ".join(_words(p)) for p in (*phrases, *named)}
    if exact:
        fit = 1.0
    elif not query:
        return 0.0, False
    else:
        index = index if index is not None else _Index.build([info])
        weight = {t: index.idf.get(t, index.unknown_idf) for t in query}
        for p in phrases:
            weight.update((t, index.idf.get(t, index.unknown_idf)) for t in content_words(p))
        phrase = max(_dice(frozenset(query), content_words(p), weight) for p in phrases)
        fit = PHRASE_WEIGHT * phrase + COVER_WEIGHT * index.coverage(query, info.id)
    # Words only one world uses ("marker" in Karel, "lava" in Minigrid) say which world is
    # meant: a task of another world is unlikely unless the query names its world too.
    if index is not None and query:
        named = index.domains_named(query)
        if named and info.domain not in named:
            fit *= OTHER_DOMAIN_FACTOR
    # The unused dense/sparse variants only win when the user names the variant.
    if variant and not (_VARIANT_WORDS & set(_words(description))):
        fit *= 0.85
    return fit, exact


def score_task(
    description: str, info: TaskSpec, variant: bool = False, index: _Index | None = None
) -> float:
    """How well ``description`` fits the task, in 0..1 (1.0 for an exact synonym or name).

    ``variant`` marks an unused dense/sparse twin of a benchmark task: it scores lower unless
    the description names the variant, so "climb the stairs" means the paper's task.
    ``index`` holds the term statistics of the tasks compared; without it, the task is
    compared on its own (coverage without IDF weighting).
    """
    fit, exact = _fit(description, info, variant, index)
    return fit if exact else min(fit, 0.99)


def rank_tasks(description: str, infos: Sequence[TaskSpec]) -> list[tuple[str, float]]:
    """Every task with its score, best first (ties keep registration order)."""
    benchmark = {i.id for i in infos if i.benchmark}
    index = _Index.build(infos)

    def variant(info: TaskSpec) -> bool:
        twins = (info.id + "Sparse", info.id.removesuffix("Sparse"))
        return not info.benchmark and any(t in benchmark for t in twins)

    fits = [(i.id, *_fit(description, i, variant(i), index)) for i in infos]
    # An exact synonym or name ranks above every partial fit, however high: a partial fit can
    # pass 1 when a task's text repeats the words ("put a marker in each corner" is
    # FourCorners' synonym, yet TopOff's text says "marker" often). An exact match that lost
    # weight (an unnamed dense/sparse variant, a task of a world the words do not name)
    # competes with the partial fits instead. Within each group the unclipped fit orders, so
    # two tasks that both pass the 0.99 cap stay ordered.
    fits.sort(key=lambda row: (not (row[2] and row[1] >= 1.0), -row[1]))
    return [(tid, round(fit if exact else min(fit, 0.99), 4)) for tid, fit, exact in fits]


def _listing(infos: Sequence[TaskSpec]) -> str:
    return "\n".join(f"  {i.id}: {i.description[:90]}" for i in infos)


def _ask_model(
    llm: LLM, description: str, candidates: list[tuple[str, float]], infos: dict[str, TaskSpec]
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
    infos: Sequence[TaskSpec] | None = None,
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
