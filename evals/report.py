"""Markdown report of a suite's results folder, with its plots.

:func:`write_report` reads the latest row of every cell from ``results.sqlite`` (rebuilt from
``rows.jsonl`` when missing), the suite file copied beside them and ``runs.jsonl`` (commands,
dates, machine), and writes ``report.md``, ``curves.png`` and, for revision cells,
``revision.png``. Every number in the report is computed from the stored rows.
"""

from __future__ import annotations

import json
import math
import statistics
from collections import defaultdict
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from envs import ConfigError
from evals.compare import versus_table
from evals.plots import label, plot_curves, plot_revision, round_bests
from evals.rows import fill_heldout
from evals.store import ROWS_FILE, SUITE_FILE, ResultStore
from evals.suite import Cell

REPORT_FILE = "report.md"
Row = dict[str, Any]


def load_rows(folder: str | Path) -> list[Row]:
    """The latest row of every cell of the folder's suite, via its SQLite store.

    Rows of cells the suite file no longer has (an older budget or seed list), or whose
    settings changed since, are left out so that a report only shows the current suite. Rows
    made by other search code are kept (the header counts them: a rerun redoes them).

    Raises:
        ConfigError: The folder has no rows file.
    """
    if not (Path(folder) / ROWS_FILE).exists():  # before the store, which makes the folder
        raise ConfigError(f"{folder}: no {ROWS_FILE} (run `llmgs eval run` first)")
    store = ResultStore(folder)
    store.sync()  # rows.jsonl is the record; the store mirrors it
    rows = [json.loads(r["json"]) for r in store.query("SELECT json FROM rows ORDER BY rowid")]
    current = _current_cells(Path(folder))
    if current is None:
        return rows
    return [r for r in rows if r["key"] in current and current[r["key"]].matches_settings(r)]


def _current_cells(folder: Path) -> dict[str, Cell] | None:
    """Key -> cell of the suite copied into the folder (None: no copy)."""
    from evals.suite import load_suite

    if not (folder / SUITE_FILE).exists():
        return None
    return {c.key: c for c in load_suite(str(folder / SUITE_FILE)).cells()}


def _fmt(value: float | None, digits: int = 3) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "—"
    return f"{value:.{digits}f}"


def _mean(values: Sequence[float | None]) -> float | None:
    kept = [float(v) for v in values if v is not None]
    return statistics.fmean(kept) if kept else None


def _groups(rows: list[Row], key: Callable[[Row], tuple[str, ...]]) -> dict[tuple, list[Row]]:
    out: dict[tuple, list[Row]] = defaultdict(list)
    for row in rows:
        out[key(row)].append(row)
    return out


def _spread(values: list[float]) -> str:
    if not values:
        return "—"
    std = statistics.pstdev(values) if len(values) > 1 else 0.0
    return f"{statistics.fmean(values):.3f} ± {std:.3f} [{min(values):.2f}, {max(values):.2f}]"


def _stage_text(rows: list[Row]) -> str:
    totals: dict[str, list[float]] = defaultdict(list)
    for row in rows:
        for stage, seconds in (row.get("stage_times") or {}).items():
            totals[stage].append(float(seconds))
    ordered = sorted(totals, key=_stage_order)
    return ", ".join(f"{s} {statistics.fmean(totals[s]):.1f}" for s in ordered) or "—"


def _stage_order(stage: str) -> tuple[int, str]:
    """Stages in pipeline order (revision rounds by number), unknown ones last."""
    order = ("match", "generate", "revision", "agent", "seeds", "search", "verify")
    head, _, number = stage.partition("_")
    rank = order.index(head) if head in order else len(order)
    return rank, number.zfill(4)


def cell_stats(rows: list[Row]) -> dict[str, Any]:
    """Aggregates over the seeds of one (task, method, backend) group of ``ok`` rows."""
    finals = [float(r["final_return"]) for r in rows if r.get("final_return") is not None]
    solved = [r for r in rows if r.get("solved")]
    to_solve = [r["evals_to_solve"] for r in solved if r.get("evals_to_solve") is not None]
    answers = sum(int(r.get("answers") or 0) for r in rows)
    accepted = sum(int(r.get("accepted") or 0) for r in rows)
    tokens = [
        (r.get("prompt_tokens") or 0) + (r.get("completion_tokens") or 0) for r in rows
    ]  # fmt: skip
    seconds = [r["seconds_to_solve"] for r in solved if r.get("seconds_to_solve") is not None]
    return {
        "n": len(rows), "finals": finals, "mean": _mean(finals),
        "heldout": _mean([r.get("heldout_return") for r in rows]),
        "success": len(solved) / len(rows) if rows else None,
        "median_to_solve": statistics.median(to_solve) if to_solve else None,
        "median_s_to_solve": statistics.median(seconds) if seconds else None,
        **generation_stats(rows),
        "pre_search": _mean([r.get("pre_search_return") for r in rows]),
        "acceptance": accepted / answers if answers else None,
        "calls": _mean([r.get("llm_calls") for r in rows]), "tokens": _mean(tokens),
        "hits": _mean([r.get("cache_hits") for r in rows]),
        "cost": sum(float(r.get("cost_usd") or 0.0) for r in rows),
        "evaluations": _mean([r.get("evaluations") for r in rows]),
        "wall": _mean([r.get("wall_s") for r in rows]), "stages": _stage_text(rows),
    }  # fmt: skip


def generation_stats(rows: list[Row]) -> dict[str, float | None]:
    """Completion tokens per answer and answers per minute of the rows whose answers were all
    generated now (model calls and no cache hit): replayed answers cost no tokens and no time.
    Minutes are the generate and revision stages (the prompt included)."""
    fresh = [r for r in rows if (r.get("llm_calls") or 0) > 0 and not r.get("cache_hits")]
    answers = sum(int(r.get("answers") or 0) for r in fresh)
    tokens = sum(int(r.get("completion_tokens") or 0) for r in fresh)
    seconds = sum(
        float(v) for r in fresh for k, v in (r.get("stage_times") or {}).items()
        if k == "generate" or k.startswith("revision")
    )  # fmt: skip
    return {
        "tokens_per_answer": tokens / answers if answers else None,
        "answers_per_min": answers / seconds * 60 if answers and seconds > 0 else None,
    }


def _uses_model(rows: list[Row]) -> bool:
    return any(r.get("backend") not in (None, "none") for r in rows)


def task_table(rows: list[Row]) -> list[str]:
    """Per task, method and backend: return, success, evaluations, LLM use and time."""
    model = _uses_model(rows)
    head = ["task", "method", "backend", "seeds", "final return mean ± std [min, max]",
            "held-out return", "success", "median evals to 1.0", "median s to 1.0",
            "mean evals"]  # fmt: skip
    if model:
        head += ["best LLM program (pre-search)", "acceptance", "LLM calls (cache hits)",
                 "tokens", "tokens/answer", "answers/min", "cost $"]  # fmt: skip
    head += ["mean wall s", "stage s (mean)"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for (task, _, backend), group in _groups(
        rows, lambda r: (r["task"], label(r), r["backend"])
    ).items():
        s = cell_stats(group)
        cells = [task.split("/")[-1], group[0]["method"], backend, str(s["n"]),
                 _spread(s["finals"]), _fmt(s["heldout"]), _fmt(s["success"], 2),
                 _fmt(s["median_to_solve"], 0), _fmt(s["median_s_to_solve"], 1),
                 _fmt(s["evaluations"], 0)]  # fmt: skip
        if model:
            calls = f"{_fmt(s['calls'], 1)} ({_fmt(s['hits'], 1)})"
            cells += [_fmt(s["pre_search"]), _fmt(s["acceptance"], 2), calls,
                      _fmt(s["tokens"], 0), _fmt(s["tokens_per_answer"], 1),
                      _fmt(s["answers_per_min"], 2), _fmt(s["cost"], 4)]  # fmt: skip
        cells += [_fmt(s["wall"], 1), s["stages"]]
        lines.append("| " + " | ".join(cells) + " |")
    return lines


def summary_table(rows: list[Row]) -> list[str]:
    """Per method and backend, over all tasks: mean return, success and cost."""
    head = ["method", "backend", "tasks", "cells", "mean final return", "mean held-out return",
            "success rate", "tasks solved (any seed)", "median evals to 1.0",
            "median s to 1.0", "mean best LLM program (pre-search)", "acceptance",
            "tokens/cell", "tokens/answer", "answers/min", "mean wall s"]  # fmt: skip
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for (_, backend), group in _groups(rows, lambda r: (label(r), r["backend"])).items():
        per_task = _groups(group, lambda r: (r["task"],))
        s = cell_stats(group)
        task_stats = [cell_stats(g) for g in per_task.values()]
        solved_tasks = sum(1 for g in per_task.values() if any(r.get("solved") for r in g))
        # Means over tasks (each task's mean over its seeds), so a task with more seeds
        # weighs no more than the others.
        cells = [group[0]["method"], backend, str(len(per_task)), str(s["n"]),
                 _fmt(_mean([t["mean"] for t in task_stats])),
                 _fmt(_mean([t["heldout"] for t in task_stats])), _fmt(s["success"], 2),
                 str(solved_tasks), _fmt(s["median_to_solve"], 0),
                 _fmt(s["median_s_to_solve"], 1),
                 _fmt(_mean([t["pre_search"] for t in task_stats])), _fmt(s["acceptance"], 2),
                 _fmt(s["tokens"], 0), _fmt(s["tokens_per_answer"], 1),
                 _fmt(s["answers_per_min"], 2), _fmt(s["wall"], 1)]  # fmt: skip
        lines.append("| " + " | ".join(cells) + " |")
    return lines


def revision_table(rows: list[Row]) -> list[str]:
    """Per task, method and backend: mean best-so-far return after each round."""
    rows = [r for r in rows if r.get("kind") == "revision"]
    if not rows:
        return []
    width = max(len(r.get("rounds") or []) for r in rows)
    head = ["task", "method", "backend", "seeds"] + [f"round {i}" for i in range(width)]
    head += ["acceptance", "LLM calls (cache hits)", "tokens/cell"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for (task, _, backend), group in _groups(
        rows, lambda r: (r["task"], label(r), r["backend"])
    ).items():
        series = [round_bests(r) for r in group]
        means = []
        for i in range(width):
            vals = [s[i] for s in series if i < len(s) and not math.isnan(s[i])]
            means.append(_fmt(_mean(vals)))
        s = cell_stats(group)
        cells = [task.split("/")[-1], group[0]["method"], backend, str(len(group)), *means,
                 _fmt(s["acceptance"], 2), f"{_fmt(s['calls'], 1)} ({_fmt(s['hits'], 1)})",
                 _fmt(s["tokens"], 0)]  # fmt: skip
        lines.append("| " + " | ".join(cells) + " |")
    return lines


def _suite_info(folder: Path) -> dict[str, Any]:
    path = folder / SUITE_FILE
    if not path.exists():
        return {}
    import yaml

    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    return data if isinstance(data, dict) else {}


def _runs(folder: Path) -> list[dict[str, Any]]:
    """Invocations that ran cells: finished or interrupted (Ctrl-C) ones, and started ones
    that never ended (killed; their cells' rows are kept and the next invocation resumed them)."""
    path = folder / "runs.jsonl"
    if not path.exists():
        return []
    entries = [json.loads(x) for x in path.read_text(encoding="utf-8").splitlines() if x.strip()]
    finished = {e["run_id"]: e for e in entries if e.get("event") in ("finished", "interrupted")}
    out = []
    for entry in entries:
        if "event" not in entry and entry.get("ran"):  # one line per invocation (older log)
            out.append({**entry, "at": entry.get("finished_at", entry["started_at"])})
        if entry.get("event") != "started":
            continue
        end = finished.get(entry["run_id"])
        if end is None:
            out.append({**entry, "ran": "some", "killed": True})
        elif end.get("ran"):
            out.append({**end, "interrupted": end.get("event") == "interrupted"})
    return out


def header(folder: Path, rows: list[Row]) -> list[str]:
    """Title, command, dates, machine, seeds, budgets and cell counts."""
    info, runs = _suite_info(folder), _runs(folder)
    name = info.get("name") or (rows[0]["suite"] if rows else folder.name)
    worked = [r for r in runs if r.get("ran")]
    status = defaultdict(int)
    for row in rows:
        status[row["status"]] += 1
    # The suite's cells, those not run yet included (rows alone miss a partial run's rest).
    cells = _current_cells(folder)
    keys = {r["key"] for r in rows}
    pending = 0 if cells is None else sum(1 for key in cells if key not in keys)
    if pending:
        status["not run yet"] = pending
    lines = [f"# Eval suite `{name}`", ""]
    if info.get("description"):
        lines += [str(info["description"]).strip(), ""]
    every = (
        [{"task": c.task, "seed": c.seed, "budget": c.budget, "instances": c.instances}
         for c in cells.values()]
        if cells else rows
    )  # fmt: skip
    lines += [
        f"- **Command (the suite file's):** `{info.get('command') or '(not recorded)'}`",
        f"- **Dates (UTC):** {_dates(worked)}",
        f"- **Machine:** {_machine(worked)}",
        f"- **Tasks:** {', '.join(sorted({c['task'] for c in every}))}",
        f"- **Seeds:** {sorted({c['seed'] for c in every})}; **budgets:** "
        f"{sorted({c['budget'] for c in every})} evaluations; **instances:** "
        f"{sorted({c['instances'] for c in every})}",
        f"- **Cells:** {len(rows) + pending} "
        f"({', '.join(f'{k} {v}' for k, v in sorted(status.items()))})",
        f"- **Search code:** {_code_text(rows)}",
    ]
    for r in worked:
        end = " (killed before it finished)" if r.get("killed") else ""
        end = " (interrupted with Ctrl-C)" if r.get("interrupted") else end
        lines.append(f"- **Invocation:** `{_argv(r)}` at {r['started_at']}: ran {r['ran']} "
                     f"cell(s){end}")  # fmt: skip
    return lines + [""]


def _code_text(rows: list[Row]) -> str:
    """Which search code (``evals.suite.code_version``) made the rows, against this checkout's."""
    from evals.suite import code_version

    now = code_version()
    counts: dict[str | None, int] = defaultdict(int)
    for row in rows:
        counts[row.get("code")] += 1
    parts = []
    for code, n in sorted(
        counts.items(), key=lambda kv: (kv[0] != now, kv[0] is None, kv[0] or "")
    ):
        if code == now:
            parts.append(f"`{code}` (this checkout's) for {n} cell(s)")
        elif code is None:
            parts.append(f"not recorded for {n} cell(s) (rows made before rows recorded it)")
        else:
            parts.append(f"`{code}` (other code: `llmgs eval run` redoes them) for {n} cell(s)")
    return "; ".join(parts) or f"`{now}` (this checkout's)"


def _argv(run: dict[str, Any]) -> str:
    argv = list(run.get("argv") or [])
    if argv:
        argv[0] = Path(argv[0]).name  # the venv path says nothing useful
    return " ".join(argv)


def _dates(runs: list[dict[str, Any]]) -> str:
    if not runs:
        return "(no run log)"
    return f"{runs[0]['started_at']} to {runs[-1]['at']} ({len(runs)} invocation(s))"


def _machine(runs: list[dict[str, Any]]) -> str:
    if not runs:
        return "(no run log)"
    last = runs[-1]
    return (
        f"{last.get('cpu_count')} CPU cores (shared), {last.get('machine')}, Python "
        f"{last.get('python')}; {last.get('workers')} worker(s), executor {last.get('executor')}"
    )


def _not_ok(rows: list[Row]) -> list[str]:
    notes = sorted({(r["status"], r["backend"], r.get("reason", "")) for r in rows
                    if r["status"] != "ok"})  # fmt: skip
    if not notes:
        return []
    lines = ["## Cells not run", ""]
    lines += [f"- **{status}** `{backend}`: {reason}" for status, backend, reason in notes]
    return lines + [""]


def write_report(folder: str | Path) -> Path:
    """Write ``report.md`` and the plots of a results folder; returns the report path.

    Raises:
        ConfigError: The folder holds no rows.
    """
    folder = Path(folder)
    rows = load_rows(folder)
    ok = [r for r in rows if r["status"] == "ok"]
    filled = fill_heldout(ok)
    lines = header(folder, rows)
    lines += _not_ok(rows)
    searched = [r for r in ok if r.get("kind") != "revision"]
    if searched:
        lines += ["## Summary by method", "", *summary_table(searched), ""]
        versus = versus_table(searched)
        if versus:
            lines += ["## Each model against no model (same tasks, seeds, budgets, search)", "",
                      *versus, ""]  # fmt: skip
        lines += ["## Per task", "", *task_table(searched), ""]
    revision = revision_table(ok)
    if revision:
        lines += ["## Revision rounds (best return so far, mean over seeds)", "", *revision, ""]
    if plot_curves(ok, folder / "curves.png") is not None:
        lines += ["## Best return vs evaluated programs", "", "![curves](curves.png)", ""]
    if plot_revision(ok, folder / "revision.png") is not None:
        lines += ["## Revision", "", "![revision](revision.png)", ""]
    lines += [
        "Evaluations use the paper's counting (each program on all instances counts 1, repeats "
        'included). Success = final return >= 1.0. "median evals to 1.0" and "median s to 1.0" '
        "(wall seconds from the cell's start to the first program at 1.0, model loading and "
        "generation included) are over solved seeds only. Held-out return: the final program on "
        "64 instances no search saw"
        + (
            f" (computed now from the stored program for {filled} row(s) made before rows "
            "recorded it)"
            if filled
            else ""
        )
        + ". Bands in plots "
        "span the worst to the best seed. LLM calls, tokens and the generate/revision stage "
        "times count fresh model calls only: answers replayed from the completion cache (cache "
        'hits) cost no tokens and almost no time, so "tokens/answer" and "answers/min" are '
        "over the cells whose answers were all generated fresh (— when there are none).",
        "",
    ]
    out = folder / "report.md"
    out.write_text("\n".join(lines), encoding="utf-8")
    return out
