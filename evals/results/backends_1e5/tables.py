"""Tables of the backends_1e5 results (issue 15): per backend, per task, model vs no model.

Search folders (``--search``) hold the 100,000-evaluation cells; generation folders
(``--generation``) hold cells whose answers were generated fresh (not read from the completion
cache), which give acceptance, tokens, seconds and answers per minute of each (task, backend,
seed). The latest ``ok`` row per cell key is used. The held-out return of every search row's
final program is computed on 64 instances no search has seen (``envs.make(task, n=64,
seed=instances)``, as ``solve()`` does) and cached in ``heldout.json`` beside the rows.
Seconds to 1.0 = the fresh generation seconds of the cell's answers + the search cell's wall
time, for a cell that reached 1.0.

Usage::

    python evals/results/backends_1e5/tables.py --search evals/results/backends_1e5 \
        --generation evals/results/backends_1e5_generation [--model local/qwen2.5-coder-1.5b]
"""

from __future__ import annotations

import argparse
import json
import statistics
from collections import defaultdict
from pathlib import Path
from typing import Any

from evals.compare import judge

Row = dict[str, Any]
NONE = "none"


def latest_rows(folder: Path) -> list[Row]:
    """The latest ``ok`` row of every cell key in ``folder/rows.jsonl``."""
    rows: dict[str, Row] = {}
    with (folder / "rows.jsonl").open(encoding="utf-8") as fh:
        for line in fh:
            row = json.loads(line)
            if row.get("status") == "ok":
                rows[row["key"]] = row
    return list(rows.values())


def add_heldout(folder: Path, rows: list[Row]) -> None:
    """Set ``row['heldout']`` for every row, computing the missing ones (cached on disk)."""
    import envs

    path = folder / "heldout.json"
    cache = json.loads(path.read_text(encoding="utf-8")) if path.exists() else {}
    for row in rows:
        ident = f"{row['key']}|{row['fingerprint']}|{row.get('finished_at')}"
        if ident not in cache:
            program = row.get("program") or ""
            held = envs.make(row["task"], n=64, seed=row["instances"])
            cache[ident] = float(held.evaluate(program)) if program else None
        row["heldout"] = cache[ident]
    path.write_text(json.dumps(cache, indent=1, sort_keys=True) + "\n", encoding="utf-8")


def fmt(value: float | None, digits: int = 3) -> str:
    """A number, or an em dash for None."""
    return "—" if value is None else f"{value:.{digits}f}"


def mean(values: list[float | None]) -> float | None:
    """Mean of the values that are not None."""
    kept = [v for v in values if v is not None]
    return statistics.fmean(kept) if kept else None


def to_solve(row: Row) -> float:
    """Evaluations to 1.0, infinity when the cell did not reach it."""
    value = row.get("evals_to_solve")
    return float("inf") if value is None else float(value)


def evals_text(values: list[float]) -> str:
    """Evaluations to 1.0 of several seeds (``>budget`` for a seed that did not reach it)."""
    return ", ".join(">budget" if v == float("inf") else f"{int(v):,}" for v in values)


def fresh(row: Row) -> bool:
    """Whether the row's answers were generated now (none read from the completion cache)."""
    return row.get("llm_calls", 0) > 0 and row.get("cache_hits", 0) == 0


def generation_index(rows: list[Row]) -> dict[tuple[str, str, int], Row]:
    """(task, backend, seed) -> the row whose answers were generated fresh."""
    return {(r["task"], r["backend"], r["seed"]): r for r in rows if fresh(r)}


def gen_seconds(row: Row) -> float:
    """Seconds spent generating the row's answers."""
    return float(row.get("stage_times", {}).get("generate", 0.0))


def seconds_to_solve(row: Row, gen: dict[tuple[str, str, int], Row]) -> float | None:
    """Fresh generation seconds + the search cell's wall time, for a cell that reached 1.0."""
    if not row.get("solved"):
        return None
    generated = gen.get((row["task"], row["backend"], row["seed"]))
    cached = 0.0 if fresh(row) or generated is None else gen_seconds(generated)
    return float(row["wall_s"]) + cached


def backend_table(rows: list[Row], gen: dict[tuple[str, str, int], Row]) -> list[str]:
    """One line per backend: proposals (from the fresh generations), speed, returns."""
    out = [
        "| backend | search cells | answers | accepted | acceptance | completion tokens/answer "
        "| generate s | answers/min | mean best proposal | reached 1.0 | mean final | "
        "mean held-out |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    groups: dict[str, list[Row]] = defaultdict(list)
    for row in rows:
        groups[row["backend"]].append(row)
    for backend, group in sorted(groups.items()):
        made = [g for k, g in gen.items() if k[1] == backend]
        answers = sum(r.get("answers", 0) for r in made)
        accepted = sum(r.get("accepted", 0) for r in made)
        tokens = sum(r.get("completion_tokens", 0) for r in made)
        gen_s = sum(gen_seconds(r) for r in made)
        out.append(
            f"| {backend} | {len(group)} | {answers or '—'} | {accepted or '—'} | "
            f"{fmt(accepted / answers if answers else None)} | "
            f"{fmt(tokens / answers if answers else None, 1)} | {gen_s:.0f} | "
            f"{fmt(answers / gen_s * 60 if gen_s else None, 2)} | "
            f"{fmt(mean([r.get('pre_search_return') for r in group]))} | "
            f"{sum(bool(r.get('solved')) for r in group)}/{len(group)} | "
            f"{fmt(mean([r.get('final_return') for r in group]))} | "
            f"{fmt(mean([r.get('heldout') for r in group]))} |"
        )
    return out


def task_table(rows: list[Row], gen: dict[tuple[str, str, int], Row]) -> list[str]:
    """One line per task, budget and backend (seeds comma-separated in seed order)."""
    out = [
        "| task | budget | backend | seeds | accepted/answers | tokens/answer | answers/min | "
        "best proposal | evals to 1.0 | s to 1.0 | search s | final | held-out |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    groups: dict[tuple[str, int, str], list[Row]] = defaultdict(list)
    for row in rows:
        groups[(row["task"], row["budget"], row["backend"])].append(row)
    for (task, budget, backend), group in sorted(groups.items()):
        group.sort(key=lambda r: r["seed"])
        made = [gen.get((task, backend, r["seed"])) for r in group]
        acc = ", ".join(f"{m['accepted']}/{m['answers']}" if m else "—" for m in made)
        tok = ", ".join(
            fmt(m["completion_tokens"] / m["answers"], 0) if m and m["answers"] else "—"
            for m in made
        )
        per_min = ", ".join(
            fmt(m["answers"] / gen_seconds(m) * 60, 1) if m and gen_seconds(m) else "—"
            for m in made
        )
        secs = ", ".join(fmt(seconds_to_solve(r, gen), 0) for r in group)
        search_s = ", ".join(f"{r.get('stage_times', {}).get('search', 0):.0f}" for r in group)
        out.append(
            f"| {task} | {budget:,} | {backend} | {','.join(str(r['seed']) for r in group)} | "
            f"{acc} | {tok} | {per_min} | "
            f"{', '.join(fmt(r.get('pre_search_return')) for r in group)} | "
            f"{evals_text([to_solve(r) for r in group])} | {secs} | {search_s} | "
            f"{', '.join(fmt(r.get('final_return')) for r in group)} | "
            f"{', '.join(fmt(r.get('heldout')) for r in group)} |"
        )
    return out


def versus_table(rows: list[Row], model: str) -> list[str]:
    """Model vs no model per task on the seeds both ran: who needs fewer evaluations to 1.0."""
    by: dict[tuple[str, str], dict[int, Row]] = defaultdict(dict)
    for row in rows:
        by[(row["task"], row["backend"])][row["seed"]] = row
    tasks = sorted({r["task"] for r in rows})
    out = [
        f"| task | seeds | evals to 1.0 none | evals to 1.0 {model} | fewer with the model "
        "(median) | final none | final model | model final >= none (every seed) | median "
        "final >= none's | model lower / higher (sign test p) |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    fewer = never_worse = never_worse_median = compared = significant = 0
    per_seed: dict[int, list[int]] = defaultdict(lambda: [0, 0])  # seed -> [fewer, compared]
    for task in tasks:
        base, with_model = by.get((task, NONE), {}), by.get((task, model), {})
        seeds = sorted(set(base) & set(with_model))
        if not seeds:
            continue
        compared += 1
        a = [to_solve(base[s]) for s in seeds]
        b = [to_solve(with_model[s]) for s in seeds]
        verdict = judge([(with_model[s], base[s]) for s in seeds])  # the report's own judgement
        win, ok = verdict.fewer, verdict.never_worse
        fa = [base[s].get("final_return") or 0.0 for s in seeds]
        fb = [with_model[s].get("final_return") or 0.0 for s in seeds]
        for seed, x, y in zip(seeds, a, b, strict=True):
            per_seed[seed][0] += y < x
            per_seed[seed][1] += 1
        fewer += win
        never_worse += ok
        never_worse_median += verdict.never_worse_median
        significant += verdict.significantly_worse
        out.append(
            f"| {task} | {','.join(map(str, seeds))} | {evals_text(a)} | {evals_text(b)} | "
            f"{'yes' if win else 'no'} | {', '.join(fmt(x) for x in fa)} | "
            f"{', '.join(fmt(y) for y in fb)} | {'yes' if ok else 'no'} | "
            f"{'yes' if verdict.never_worse_median else 'no'} | "
            f"{verdict.lower} / {verdict.higher} ({verdict.worse_p:.3g}) |"
        )
    out.append("")
    out.append(
        f"{model} needs fewer evaluations to 1.0 than none on {fewer} of {compared} tasks "
        f"(median over the common seeds); final return never worse on {never_worse} of "
        f"{compared} on every seed, on {never_worse_median} of {compared} by the median over "
        f"the seeds; significantly worse (one-sided sign test, p < 0.05) on {significant} of "
        f"{compared}. Per seed, fewer on: "
        + "; ".join(f"seed {k}: {v[0]} of {v[1]}" for k, v in sorted(per_seed.items()))
        + "."
    )
    return out


def main() -> None:
    """Print the tables for the folders given on the command line."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--search", action="append", type=Path, required=True)
    parser.add_argument("--generation", action="append", type=Path, default=[])
    parser.add_argument("--model", action="append", default=None)
    args = parser.parse_args()
    rows: list[Row] = []
    for folder in args.search:
        found = latest_rows(folder)
        add_heldout(folder, found)
        rows += found
    made: list[Row] = [r for folder in args.generation for r in latest_rows(folder)]
    gen = generation_index(made + rows)
    lines = ["## Per backend", "", *backend_table(rows, gen), "", "## Per task", ""]
    lines += task_table(rows, gen)
    for model in args.model or ["local/qwen2.5-coder-1.5b"]:
        lines += ["", f"## {model} vs none", "", *versus_table(rows, model)]
    print("\n".join(lines))


if __name__ == "__main__":
    main()
