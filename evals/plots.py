"""PNG plots of a suite's rows (matplotlib, Agg backend: no display needed).

- :func:`plot_curves`: best return against evaluated programs on a log axis, one panel per
  task, one line per method and backend (mean over seeds) with a band from the worst to the
  best seed, as in the paper's figures.
- :func:`plot_revision`: best return found so far against revision round.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

GRID_POINTS = 200


def _pyplot() -> Any:
    import matplotlib

    matplotlib.use("Agg")  # files only: works on servers and in CI without a display
    import matplotlib.pyplot as plt

    return plt


def label(row: dict[str, Any]) -> str:
    """Legend label of a row: the method, plus the backend when it uses a model."""
    backend = row.get("backend", "none")
    if backend == "none":
        # A solve() cell without a model is pure Scheduled HC: say so in the legend.
        return f"{row['method']} (no model)" if row.get("kind") == "solve" else row["method"]
    return f"{row['method']} ({backend})"


def step_values(curve: Sequence[Sequence[float]], grid: np.ndarray) -> np.ndarray:
    """Best return after ``grid`` evaluations from an improvement curve (NaN before its start).

    The curve holds ``(evaluations, best)`` at each strict improvement; the best stays
    constant after the last point (a solved run stays at 1.0 up to the budget).
    """
    out = np.full(grid.shape, np.nan)
    if not curve:
        return out
    counts = np.array([c for c, _ in curve], dtype=float)
    values = np.array([b for _, b in curve], dtype=float)
    idx = np.searchsorted(counts, grid, side="right") - 1
    valid = idx >= 0
    out[valid] = values[idx[valid]]
    return out


def _colors(rows: list[dict[str, Any]]) -> dict[str, str]:
    """One colour per method/backend line, the same in every panel."""
    names = list(dict.fromkeys(label(r) for r in rows))
    return {name: f"C{i % 10}" for i, name in enumerate(names)}


def _panels(n: int) -> tuple[int, int]:
    cols = min(4, max(1, n))
    return math.ceil(n / cols), cols


def _by_task(rows: list[dict[str, Any]]) -> dict[str, dict[str, list[dict[str, Any]]]]:
    grouped: dict[str, dict[str, list[dict[str, Any]]]] = defaultdict(lambda: defaultdict(list))
    for row in rows:
        if row.get("status") == "ok":
            grouped[row["task"]][label(row)].append(row)
    return grouped


def plot_curves(rows: list[dict[str, Any]], path: str | Path, title: str = "") -> Path | None:
    """Write the best-return-vs-evaluations figure; None when no row has a curve."""
    rows = [r for r in rows if r.get("curve") and r.get("kind") != "revision"]
    grouped = _by_task(rows)
    if not grouped:
        return None
    plt = _pyplot()
    colors = _colors(rows)
    n_rows, n_cols = _panels(len(grouped))
    fig, axes = plt.subplots(
        n_rows, n_cols, figsize=(max(4.2 * n_cols, 7.0), 3.2 * n_rows), squeeze=False
    )
    for ax, (task, lines) in zip(axes.flat, grouped.items(), strict=False):
        top = max(max(r["budget"], r.get("evaluations") or 1) for ls in lines.values() for r in ls)
        grid = np.unique(np.geomspace(1, max(top, 2), GRID_POINTS).round())
        for name, cells in lines.items():
            values = np.vstack([step_values(r["curve"], grid) for r in cells])
            with np.errstate(all="ignore"):
                seen = ~np.all(np.isnan(values), axis=0)
                mean = np.nanmean(values[:, seen], axis=0)
                low, high = np.nanmin(values[:, seen], axis=0), np.nanmax(values[:, seen], axis=0)
            color = colors[name]
            ax.plot(grid[seen], mean, label=name, color=color)
            ax.fill_between(grid[seen], low, high, alpha=0.2, color=color)
        ax.set_xscale("log")
        ax.set_title(task.split("/")[-1], fontsize=10)
        ax.set_xlabel("evaluated programs")
        ax.set_ylabel("best return")
        ax.grid(alpha=0.3)
    for ax in list(axes.flat)[len(grouped) :]:
        ax.axis("off")
    legend: dict[str, Any] = {}
    for ax in axes.flat:  # every line of every panel, once (a panel may lack a method)
        for handle, name in zip(*ax.get_legend_handles_labels(), strict=True):
            legend.setdefault(name, handle)
    handles, labels = list(legend.values()), list(legend)
    fig.legend(handles, labels, loc="lower center", ncol=min(4, len(labels)), fontsize=8)
    fig.suptitle(title or "Best return vs evaluated programs (mean; band: min-max over seeds)")
    fig.tight_layout(rect=(0, 0.06 + 0.02 * (len(labels) // 4), 1, 0.96))
    out = Path(path)
    fig.savefig(out, dpi=110)
    plt.close(fig)
    return out


def round_bests(row: dict[str, Any]) -> list[float]:
    """Best return found so far after each round of a row (NaN while nothing was accepted)."""
    best, out = -math.inf, []
    for rnd in row.get("rounds") or []:
        value = rnd.get("best_return")
        if value is not None:
            best = max(best, float(value))
        out.append(best if best > -math.inf else math.nan)
    return out


def plot_revision(rows: list[dict[str, Any]], path: str | Path, title: str = "") -> Path | None:
    """Write the best-return-vs-round figure of revision cells; None when there are none."""
    grouped = _by_task([r for r in rows if r.get("kind") == "revision" and r.get("rounds")])
    if not grouped:
        return None
    plt = _pyplot()
    n_rows, n_cols = _panels(len(grouped))
    fig, axes = plt.subplots(
        n_rows, n_cols, figsize=(max(5.0 * n_cols, 7.0), 3.6 * n_rows), squeeze=False
    )
    for ax, (task, lines) in zip(axes.flat, grouped.items(), strict=False):
        for name, cells in lines.items():
            series = [round_bests(r) for r in cells]
            width = max(len(s) for s in series)
            values = np.array([s + [s[-1] if s else math.nan] * (width - len(s)) for s in series])
            with np.errstate(all="ignore"):
                mean = np.nanmean(values, axis=0)
                low, high = np.nanmin(values, axis=0), np.nanmax(values, axis=0)
            x = np.arange(width)
            (line,) = ax.plot(x, mean, marker="o", label=f"{name} (seeds: {len(cells)})")
            ax.fill_between(x, low, high, alpha=0.15, color=line.get_color())
        ax.set_xticks(range(max(len(s) for ls in lines.values() for s in map(round_bests, ls))))
        ax.set_title(task.split("/")[-1], fontsize=10)
        ax.set_xlabel("round (0 = first proposals)")
        ax.set_ylabel("best return so far")
        ax.grid(alpha=0.3)
        ax.legend(fontsize=7)
    for ax in list(axes.flat)[len(grouped) :]:
        ax.axis("off")
    fig.suptitle(title or "Revision: best return so far per round (mean; band: min-max)")
    fig.tight_layout()
    out = Path(path)
    fig.savefig(out, dpi=110)
    plt.close(fig)
    return out
