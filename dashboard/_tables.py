"""The leaderboard as a table: a row per baseline setting, its variants under it, filters, labels, Pareto front.

Pure pandas, no Streamlit: the pages render what these functions return. Every row of a variant is
read from the ``Report`` the CLI renders, and its text cells (verdict, p, CI, posterior, family) are
worded by ``suite.reports._common`` and ``suite.reports._format``, so a variant reads the same here as
in ``suite compare``. Metric names, units and directions come from ``suite.metric_catalog``.
"""

from __future__ import annotations

import pandas as pd

from suite.metric_catalog import METRIC_CATALOG, metric_info
from suite.reports import _format
from suite.reports._common import family_label, verdict_text
from suite.reports.model import Report, Section, Setting
from suite.verdict import Comparison, default_metric

BASELINE = "baseline"  # the verdict column of a baseline's own row


def metric_label(name: str) -> str:
    return metric_info(name).label


def axis_title(name: str) -> str:
    """``Dice (fraction 0-1)``, ``accuracy (%)``: the metric's label and unit from the catalog."""
    info = metric_info(name)
    return f"{info.label} ({info.unit})"


def default_deltas() -> str:
    """Each metric's default practical margin from the catalog: ``0.5 for accuracy, macro F1; 0.01 for Dice, IoU``."""
    by_delta: dict[float, list[str]] = {}
    for info in METRIC_CATALOG.values():
        if info.default_delta is not None:
            by_delta.setdefault(info.default_delta, []).append(info.label)
    return "; ".join(f"{delta:g} for {', '.join(labels)}" for delta, labels in by_delta.items())


def split_labels(cell: object) -> list[str]:
    """The names in one module or points cell: ``"se+cbam"`` -> se, cbam; ``"dec1,dec2+enc1"`` -> dec1, dec2, enc1."""
    if not isinstance(cell, str):  # a baseline's row, or a missing value
        return []
    return [name for part in cell.split("+") for name in part.split(",") if name]


def _cost(runs: pd.DataFrame) -> dict:
    """A baseline's stored cost: the medians over its finished runs, and the devices they ran on."""
    return {
        "params": runs["params"].median(),
        "gmacs": runs["gmacs"].median(),
        "latency_ms": runs["latency_ms"].median(),
        "latency_device": ", ".join(sorted(runs["device"].dropna().astype(str).unique())),
    }


def _setting_row(section: Section, setting: Setting, runs: pd.DataFrame) -> dict:
    first = setting.comparisons[0]
    own = runs[
        (runs["dataset"] == section.dataset)
        & (runs["spec"] == setting.baseline)
        & (runs["manifest_hash"] == first.manifest_hash)
        & (runs["recipe_hash"] == first.recipe_hash)
    ]
    return {
        "dataset": section.dataset,
        "setting": setting.label,
        "variant": setting.baseline,
        "baseline": setting.baseline,
        "module": "",
        "points": "",
        "metric": section.metric,
        "mean": setting.baseline_mean,
        "sd": setting.baseline_sd,
        "mean_sd": _format.mean_sd(setting.baseline_mean, setting.baseline_sd, section.metric),
        "runs": _format.runs(first),
        "delta": section.delta,
        "verdict": BASELINE,
        "verdict_text": BASELINE,
        **(_cost(own) if not own.empty else {}),
    }


def _variant_row(section: Section, setting: Setting, comp: Comparison) -> dict:
    lo, hi = comp.ci95 if comp.ci95 else (None, None)
    return {
        "dataset": section.dataset,
        "setting": setting.label,
        "variant": comp.variant,
        "baseline": comp.baseline,
        "module": comp.module,
        "points": comp.points,
        "metric": comp.metric,
        "mean": comp.variant_mean,
        "sd": comp.variant_sd,
        "mean_sd": _format.mean_sd(comp.variant_mean, comp.variant_sd, comp.metric),
        "runs": _format.runs(comp),
        "gain": comp.gain,
        "ci95_lo": lo,
        "ci95_hi": hi,
        "ci95": _format.ci(comp.ci95, comp.metric),
        "p": comp.p,
        "p_adjusted": comp.shown_p,
        "p_text": _format.p_value(comp.shown_p),
        "prob_above_delta": comp.prob_above_delta,
        "prob_within_delta": comp.prob_within_delta,
        "prob_below_delta": comp.prob_below_delta,
        "p_gain": _format.probability(comp.prob_above_delta),
        "posterior": _format.posterior(comp),
        "folds_won": _format.folds_won(comp),
        "delta": comp.delta,
        "verdict": comp.verdict,
        "verdict_text": verdict_text(comp),
        "reason": comp.reason,
        "mde": comp.mde,
        "family": comp.family,
        "family_size": comp.family_size,
        "family_text": family_label(comp.family, comp.family_size),
        "se_floored": comp.se_floored,
        "params": comp.params,
        "params_added_pct": comp.params_added_pct,
        "gmacs": comp.gmacs,
        "gmacs_added": comp.gmacs_added,
        "gmacs_added_pct": comp.gmacs_added_pct,
        "latency_ms": comp.latency_ms,
        "latency_added_ms": comp.latency_added_ms,
        "latency_added_pct": comp.latency_added_pct,
        "latency_spread_ms": comp.latency_spread_ms,
        "latency_reliable": comp.latency_reliable,
        "latency_added": _format.latency_added(comp),
        "latency_device": comp.latency_device,
    }


def _lone_baseline_rows(runs: pd.DataFrame, report: Report, chosen: str | None) -> list[dict]:
    """A row per baseline spec and dataset with no variant compared yet: its numbers from its runs."""
    paired = {(c.dataset, c.baseline) for c in report.comparisons}
    rows = []
    for (dataset, spec), group in runs[runs["module"] == ""].groupby(["dataset", "spec"], sort=True):
        metric = chosen or default_metric(group)
        values = group[f"val_{metric}"].dropna() if f"val_{metric}" in group else group["fold"].iloc[:0]
        if (dataset, spec) in paired or values.empty:
            continue
        mean, sd = values.mean(), values.std(ddof=1) if len(values) > 1 else None
        rows.append(
            {
                "dataset": dataset,
                "setting": "",
                "variant": spec,
                "baseline": spec,
                "module": "",
                "points": "",
                "metric": metric,
                "mean": mean,
                "sd": sd,
                "mean_sd": _format.mean_sd(mean, sd, metric),
                "runs": f"{group['k'].iloc[0]}×{group['seed'].nunique()}",
                "verdict": BASELINE,
                "verdict_text": BASELINE,
                **_cost(group),
            }
        )
    return rows


LEADERBOARD_COLUMNS = [
    "dataset", "setting", "variant", "baseline", "module", "points", "metric", "mean", "sd", "mean_sd", "runs",
    "gain", "ci95_lo", "ci95_hi", "ci95", "p", "p_adjusted", "p_text", "prob_above_delta", "prob_within_delta",
    "prob_below_delta", "p_gain", "posterior", "folds_won", "delta", "verdict", "verdict_text", "reason", "mde",
    "family", "family_size", "family_text", "se_floored", "params", "params_added_pct", "gmacs", "gmacs_added",
    "gmacs_added_pct", "latency_ms", "latency_added_ms", "latency_added_pct", "latency_spread_ms",
    "latency_reliable", "latency_added", "latency_device",
]  # fmt: skip


def leaderboard(report: Report, runs: pd.DataFrame, chosen_metric: str | None) -> pd.DataFrame:
    """Per dataset, each baseline setting of ``report`` followed by its variants, best gain first; then the
    baselines that have no variant yet (from ``runs``, on ``chosen_metric`` or each dataset's default)."""
    rows, block = [], 0
    for section in report.sections:
        for setting in section.settings:
            block += 1
            rows.append(_setting_row(section, setting, runs) | {"block": block})
            rows += [_variant_row(section, setting, comp) | {"block": block} for comp in setting.comparisons]
    rows += [row | {"block": block + 1} for row in _lone_baseline_rows(runs, report, chosen_metric)]
    table = pd.DataFrame(rows, columns=[*LEADERBOARD_COLUMNS, "block"])
    table["is_variant"] = table["verdict"] != BASELINE
    table = table.sort_values(
        ["dataset", "block", "is_variant", "gain"], ascending=[True, True, True, False], na_position="last", kind="stable"
    )
    return table.drop(columns=["is_variant", "block"]).reset_index(drop=True)


def filter_rows(
    table: pd.DataFrame,
    datasets: list[str] = (),
    baselines: list[str] = (),
    modules: list[str] = (),
    points: list[str] = (),
    verdicts: list[str] = (),
) -> pd.DataFrame:
    """Rows matching every non-empty filter (a list means any of). Module, point and verdict filters
    select variants; a baseline row stays while any variant of its (dataset, baseline, setting) stays."""
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
    blocks = ["dataset", "baseline", "setting"]
    shown = set(table.loc[variant_keep, blocks].itertuples(index=False, name=None))
    paired = pd.Series([block in shown for block in table[blocks].itertuples(index=False, name=None)], index=table.index)
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


def to_csv(table: pd.DataFrame) -> bytes:
    """The rows as CSV at full precision, with each metric's unit (``suite.metric_catalog``) next to it."""
    units = table["metric"].map(lambda name: metric_info(name).unit)
    return table.assign(metric_unit=units).to_csv(index=False).encode()
