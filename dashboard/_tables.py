"""The leaderboard as a table: one row per (dataset, variant) plus the baselines, filters, labels, Pareto front.

Pure pandas, no Streamlit: the pages render what these functions return. Metric scale (shared
convention): accuracy and macro F1 in percent (0-100), Dice and IoU as fractions (0-1); higher is
better for all.
"""

from __future__ import annotations

import pandas as pd

from suite.metric_catalog import metric_info
from suite.verdict import default_metric

BASELINE = "baseline"  # the verdict column of a baseline's own row


def metric_label(name: str) -> str:
    return metric_info(name).label


def metric_unit(name: str) -> str:
    """``percent, 0-100`` or ``fraction, 0-1`` (``suite.metric_catalog``), else ``as stored``."""
    return {"%": "percent, 0-100", "fraction 0-1": "fraction, 0-1"}.get(metric_info(name).unit, "as stored")


def split_labels(cell: object) -> list[str]:
    """The names in one module or points cell: ``"se+cbam"`` -> se, cbam; ``"dec1,dec2+enc1"`` -> dec1, dec2, enc1."""
    if not isinstance(cell, str):  # a baseline's row, or a missing value
        return []
    return [name for part in cell.split("+") for name in part.split(",") if name]


def _baseline_rows(runs: pd.DataFrame, comparisons: pd.DataFrame, chosen: str | None) -> list[dict]:
    """A row per baseline spec and dataset: its numbers from its first comparison, else from its runs."""
    rows = []
    for (dataset, spec), group in runs[runs["module"] == ""].groupby(["dataset", "spec"], sort=True):
        paired = comparisons.to_dict("records") if not comparisons.empty else []
        paired = [c for c in paired if c["dataset"] == dataset and c["baseline"] == spec]
        metric = paired[0]["metric"] if paired else chosen or default_metric(group)
        values = group[f"val_{metric}"].dropna() if f"val_{metric}" in group else group["fold"].iloc[:0]
        if values.empty:
            continue
        rows.append(
            {
                "dataset": dataset,
                "variant": spec,
                "baseline": spec,
                "module": "",
                "points": "",
                "metric": metric,
                "mean": paired[0]["baseline_mean"] if paired else values.mean(),
                "sd": paired[0]["baseline_sd"] if paired else values.std(ddof=1),
                "runs": paired[0]["n_folds"] * paired[0]["n_seeds"] if paired else len(values),
                "verdict": BASELINE,
                "params": group["params"].median(),
                "gmacs": group["gmacs"].median(),
                "latency_ms": group["latency_ms"].median(),
                "latency_device": ", ".join(sorted(group["device"].dropna().astype(str).unique())),
            }
        )
    return rows


def _variant_rows(comparisons: pd.DataFrame) -> list[dict]:
    rows = []
    for item in comparisons.to_dict("records"):
        rows.append(
            {
                "dataset": item["dataset"],
                "variant": item["variant"],
                "baseline": item["baseline"],
                "module": item["module"],
                "points": item["points"],
                "metric": item["metric"],
                "mean": item["variant_mean"],
                "sd": item["variant_sd"],
                "runs": item["n_folds"] * item["n_seeds"],
                "gain": item["gain"],
                "ci95_lo": item["ci95_lo"],
                "ci95_hi": item["ci95_hi"],
                "p_shown": item["p_shown"],
                "folds_won": "" if pd.isna(item["folds_won"]) else f"{int(item['folds_won'])}/{item['n_folds']}",
                "delta": item["delta"],
                "verdict": item["verdict"],
                "reason": item["reason"],
                "mde": item["mde"],
                "params": item["params"],
                "params_added_pct": item["params_added_pct"],
                "gmacs": item["gmacs"],
                "gmacs_added": item["gmacs_added"],
                "gmacs_added_pct": item["gmacs_added_pct"],
                "latency_ms": item["latency_ms"],
                "latency_added_pct": item["latency_added_pct"],
                "latency_device": item["latency_device"],
            }
        )
    return rows


LEADERBOARD_COLUMNS = [
    "dataset", "variant", "baseline", "module", "points", "metric", "mean", "sd", "runs", "gain", "ci95_lo",
    "ci95_hi", "p_shown", "folds_won", "delta", "verdict", "reason", "mde", "params", "params_added_pct",
    "gmacs", "gmacs_added", "gmacs_added_pct", "latency_ms", "latency_added_pct", "latency_device",
]  # fmt: skip


def leaderboard(runs: pd.DataFrame, comparisons: pd.DataFrame, chosen_metric: str | None) -> pd.DataFrame:
    """One row per baseline and per (dataset, variant), baselines first within a dataset, best gain first."""
    rows = _baseline_rows(runs, comparisons, chosen_metric) + _variant_rows(comparisons)
    table = pd.DataFrame(rows, columns=LEADERBOARD_COLUMNS)
    table["is_variant"] = table["verdict"] != BASELINE
    table = table.sort_values(["dataset", "baseline", "is_variant", "gain"], ascending=[True, True, True, False])
    return table.drop(columns="is_variant").reset_index(drop=True)


def filter_rows(
    table: pd.DataFrame,
    datasets: list[str] = (),
    baselines: list[str] = (),
    modules: list[str] = (),
    points: list[str] = (),
    verdicts: list[str] = (),
) -> pd.DataFrame:
    """Rows matching every non-empty filter (a list means any of). Module, point and verdict filters
    select variants; a baseline row stays while any variant of its (dataset, baseline) stays."""
    keep = pd.Series(True, index=table.index)
    if datasets:
        keep &= table["dataset"].isin(datasets)
    if baselines:
        keep &= table["baseline"].isin(baselines)
    variant_keep = keep & (table["verdict"] != BASELINE)
    if modules:
        variant_keep &= table["module"].map(lambda cell: bool(set(split_labels(cell)) & set(modules)))
    if points:
        variant_keep &= table["points"].map(lambda cell: bool(set(split_labels(cell)) & set(points)))
    if verdicts:
        variant_keep &= table["verdict"].isin(verdicts)
    if not (modules or points or verdicts):
        return table[keep]
    shown = set(zip(table.loc[variant_keep, "dataset"], table.loc[variant_keep, "baseline"]))
    paired = pd.Series([pair in shown for pair in zip(table["dataset"], table["baseline"])], index=table.index)
    baseline_keep = keep & (table["verdict"] == BASELINE) & paired
    return table[variant_keep | baseline_keep]


def pareto_front(cost: pd.Series, gain: pd.Series) -> pd.Series:
    """True for the points no other point beats: none has lower-or-equal cost and higher-or-equal gain
    with one of them strictly better (equal points are all on the front). Rows with a missing value never are."""
    valid = cost.notna() & gain.notna()
    front = pd.Series(False, index=cost.index)
    best_cheaper = float("-inf")  # the highest gain among the strictly cheaper points
    for _, same_cost in gain[valid].groupby(cost[valid], sort=True):
        top = same_cost.max()
        if top > best_cheaper:
            front[same_cost.index[same_cost == top]] = True
        best_cheaper = max(best_cheaper, top)
    return front


def describe_metric(name: str, delta: float | None) -> str:
    info = metric_info(name)
    shown = info.default_delta if delta is None else delta
    margin = f"δ = ±{shown:g}" if shown is not None else "no default δ"
    return f"{info.label} ({metric_unit(name)}), {info.direction}, {margin}"


def to_csv(table: pd.DataFrame) -> bytes:
    """The rows as CSV at full precision, with each metric's unit spelled out next to it."""
    return table.assign(metric_unit=table["metric"].map(metric_unit)).to_csv(index=False).encode()
